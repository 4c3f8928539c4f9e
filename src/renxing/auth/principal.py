"""The acting user as every service function sees it: role, scope, and the checks on them."""

from dataclasses import dataclass

from renxing.auth.policy import GLOBAL_ROLES, HOUSEHOLD_SCOPED, Field, Perm, Role, clear_fields, has_perm, path_in_scope
from renxing.errors import Forbidden


@dataclass(frozen=True)
class Principal:
    user_id: int | None
    username: str
    role: Role
    scope_paths: tuple[str, ...] = ()  # grid paths of the units in scope, e.g. ("/1/2/",)
    household_id: int | None = None  # residents: their own household
    resident_id: int | None = None
    display_name: str = ""
    # Internal jobs (demo builder, CLI imports run by the operator) act with every permission.
    is_system: bool = False

    @property
    def is_global(self) -> bool:
        return self.role in GLOBAL_ROLES

    def can(self, perm: Perm) -> bool:
        return self.is_system or has_perm(self.role, perm)

    def require(self, perm: Perm) -> None:
        if not self.can(perm):
            raise Forbidden(f"角色无此权限 / role {self.role.value} may not {perm.value}")

    def covers_path(self, path: str) -> bool:
        """True when ``path`` (a unit, or a household's building) lies inside the scope."""
        if self.is_global:
            return True
        return path_in_scope(path, self.scope_paths)

    def sees_unit(self, path: str) -> bool:
        """Units inside the scope, and their ancestors so the tree can be walked down to it."""
        if self.covers_path(path):
            return True
        return any(p.startswith(path) for p in self.scope_paths)

    @property
    def household_only(self) -> bool:
        """A resident's scope is their own household, not units; the system acts everywhere."""
        return self.role in HOUSEHOLD_SCOPED and not self.is_system

    def sees_household(self, household_id: int, building_path: str) -> bool:
        if self.household_only:
            return household_id == self.household_id
        return self.covers_path(building_path)

    def clear_fields(self, resident_id: int | None = None) -> frozenset[Field]:
        if self.is_system:
            return frozenset(Field)
        return clear_fields(self.role, own_record=resident_id is not None and resident_id == self.resident_id)


SYSTEM = Principal(user_id=None, username="system", role=Role.sysadmin, display_name="系统", is_system=True)
