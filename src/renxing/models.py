"""Imports every domain's tables so metadata and migrations see them all."""

from renxing.apikeys.models import ApiKey
from renxing.auth.models import AuditEntry, AuthSession, User, UserScope
from renxing.events.models import (
    EventCategory,
    Report,
    ReportEvent,
    ReportFollower,
    ReportPhoto,
    ReportState,
    ReportTransition,
    RoutingRule,
    SeverityDeadline,
)
from renxing.grid.models import Building, GridUnit, Household, Responsibility
from renxing.notify.models import Notification, NotificationContact, NotificationDelivery
from renxing.people.models import Resident

__all__ = [
    "ApiKey",
    "AuditEntry",
    "AuthSession",
    "Building",
    "EventCategory",
    "GridUnit",
    "Household",
    "Notification",
    "NotificationContact",
    "NotificationDelivery",
    "Report",
    "ReportEvent",
    "ReportFollower",
    "ReportPhoto",
    "ReportState",
    "ReportTransition",
    "Resident",
    "Responsibility",
    "RoutingRule",
    "SeverityDeadline",
    "User",
    "UserScope",
]
