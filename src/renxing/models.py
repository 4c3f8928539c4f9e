"""Imports every domain's tables so metadata and migrations see them all."""

from renxing.auth.models import AuditEntry, AuthSession, User, UserScope
from renxing.grid.models import Building, GridUnit, Household, Responsibility
from renxing.people.models import Resident

__all__ = [
    "AuditEntry",
    "AuthSession",
    "Building",
    "GridUnit",
    "Household",
    "Resident",
    "Responsibility",
    "User",
    "UserScope",
]
