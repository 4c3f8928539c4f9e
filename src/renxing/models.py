"""Imports every domain's tables so metadata and migrations see them all."""

from renxing.apikeys.models import ApiKey
from renxing.auth.models import AuditEntry, AuthSession, User, UserScope
from renxing.care.models import CareAssignment, CarePlan, CareVisit
from renxing.drills.models import Activity, ActivityPartner, ActivityTarget, Attendance
from renxing.evaluation.models import Rating
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
from renxing.partners.models import Organization
from renxing.people.models import Resident
from renxing.sensors.models import SensorDevice, SensorReading, SensorRule, SensorRuleState, SensorTrigger
from renxing.signals.models import OutboxRow
from renxing.space.models import (
    EvacScenario,
    HazardZone,
    MapFeature,
    Passage,
    ReservedLand,
    RiskPoint,
    Road,
    Shelter,
)
from renxing.supplies.models import (
    Agreement,
    AgreementLine,
    AllocationRun,
    Balance,
    ItemNeed,
    MinLevel,
    Movement,
    StockCount,
    StoragePoint,
    SupplyItem,
    Transfer,
)
from renxing.volunteers.models import MemberSkill, ServiceHours, TeamMember, VolunteerTeam
from renxing.warning.models import (
    AlertFeed,
    IncomingAlert,
    IncomingAlertMatch,
    WarningClimb,
    WarningDelivery,
    WarningLevel,
    WarningMessage,
    WarningTarget,
)

__all__ = [
    "Activity",
    "ActivityPartner",
    "ActivityTarget",
    "Agreement",
    "AgreementLine",
    "AlertFeed",
    "AllocationRun",
    "ApiKey",
    "Attendance",
    "AuditEntry",
    "AuthSession",
    "Balance",
    "Building",
    "CareAssignment",
    "CarePlan",
    "CareVisit",
    "EvacScenario",
    "EventCategory",
    "GridUnit",
    "HazardZone",
    "Household",
    "IncomingAlert",
    "IncomingAlertMatch",
    "ItemNeed",
    "MapFeature",
    "MemberSkill",
    "MinLevel",
    "Movement",
    "Notification",
    "NotificationContact",
    "NotificationDelivery",
    "Organization",
    "OutboxRow",
    "Passage",
    "Rating",
    "Report",
    "ReportEvent",
    "ReportFollower",
    "ReportPhoto",
    "ReportState",
    "ReportTransition",
    "ReservedLand",
    "Resident",
    "Responsibility",
    "RiskPoint",
    "Road",
    "RoutingRule",
    "SensorDevice",
    "SensorReading",
    "SensorRule",
    "SensorRuleState",
    "SensorTrigger",
    "ServiceHours",
    "SeverityDeadline",
    "Shelter",
    "StockCount",
    "StoragePoint",
    "SupplyItem",
    "TeamMember",
    "Transfer",
    "User",
    "UserScope",
    "VolunteerTeam",
    "WarningClimb",
    "WarningDelivery",
    "WarningLevel",
    "WarningMessage",
    "WarningTarget",
]
