"""The residents care is about: who is vulnerable, where they live, and how a row shows them.

Every read of the resident register by the care domain goes through this module.
"""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.policy import Field
from renxing.auth.principal import Principal
from renxing.care import rules
from renxing.grid.models import GridUnit, Household, Level
from renxing.grid.scope import path_ids, scope_clause, subtree_clause
from renxing.people.masking import HIDDEN, mask_phone
from renxing.people.models import Resident
from renxing.people.service import years_ago


def vulnerable_clause(today: date):
    return or_(
        Resident.birth_date <= years_ago(today, 80),
        and_(Resident.living_alone.is_(True), Resident.birth_date <= years_ago(today, 60)),
        Resident.bedridden.is_(True),
        Resident.disability_kind.is_not(None),
        Resident.special_needs.is_not(None),
    )


def kinds_of(r: Resident, today: date | None = None) -> list[str]:
    return rules.care_kinds(
        birth_date=r.birth_date,
        living_alone=r.living_alone,
        bedridden=r.bedridden,
        disability_kind=r.disability_kind,
        special_needs=r.special_needs,
        today=today or date.today(),
    )


def needs_of(r: Resident) -> list[str]:
    return rules.plan_needs(r.special_needs, bedridden=r.bedridden, disability_kind=r.disability_kind)


def vulnerable_residents(session: Session, actor: Principal, unit: GridUnit, today: date) -> list[Resident]:
    stmt = select(Resident).where(
        Resident.deleted_at.is_(None),
        Resident.lives_here.is_(True),
        subtree_clause(Resident.path, unit.path),
        vulnerable_clause(today),
    )
    clause = scope_clause(Resident.path, actor)
    if clause is not None:
        stmt = stmt.where(clause)
    return list(session.scalars(stmt.order_by(Resident.path, Resident.id)))


@dataclass
class Places:
    """Buildings, areas and addresses of households, looked up once per request."""

    households: dict[int, Household] = field(default_factory=dict)
    units: dict[int, GridUnit] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, residents: list[Resident]) -> "Places":
        hh_ids = {r.household_id for r in residents}
        households = (
            {h.id: h for h in session.scalars(select(Household).where(Household.id.in_(hh_ids)))} if hh_ids else {}
        )
        unit_ids = {i for r in residents for i in path_ids(r.path)}
        units = (
            {u.id: u for u in session.scalars(select(GridUnit).where(GridUnit.id.in_(unit_ids)))} if unit_ids else {}
        )
        return cls(households, units)

    def building(self, r: Resident) -> GridUnit | None:
        hh = self.households.get(r.household_id)
        return self.units.get(hh.building_id) if hh else None

    def area(self, r: Resident) -> GridUnit | None:
        for uid in reversed(path_ids(r.path)):
            u = self.units.get(uid)
            if u is not None and u.level == Level.area.value:
                return u
        return None

    def address(self, r: Resident) -> str:
        hh = self.households.get(r.household_id)
        b = self.building(r)
        if hh is None:
            return ""
        return f"{b.name if b else ''} {hh.unit_no}单元{hh.room}"


def present_resident(r: Resident, clear: frozenset[Field], places: Places, today: date) -> dict[str, Any]:
    kinds = kinds_of(r, today)
    health = Field.health in clear
    b = places.building(r)
    a = places.area(r)
    return {
        "id": r.id,
        "name": r.name,
        "household_id": r.household_id,
        "address": places.address(r),
        "building_id": b.id if b else None,
        "building": b.name if b else None,
        "area_id": a.id if a else None,
        "area": a.name if a else None,
        "phone": r.phone if Field.phone in clear else mask_phone(r.phone),
        "kinds": [k for k in kinds if health or k not in rules.HEALTH_KINDS],
        "needs": needs_of(r) if health else ([HIDDEN] if needs_of(r) else []),
        "masked": not health,
    }


def audit_health(session: Session, actor: Principal, residents: list[Resident], clear: frozenset[Field]) -> None:
    """Each resident whose health needs were shown in the clear gets an audit entry."""
    if Field.health not in clear:
        return
    for r in residents:
        if r.bedridden or r.disability_kind or r.special_needs:
            audit.record(session, actor, "read_personal", "resident", r.id, summary="health (care)")


def party_members(session: Session, resident_ids: list[int]) -> set[int]:
    """Which of these residents are party members (a member carer's kind depends on it)."""
    if not resident_ids:
        return set()
    return set(
        session.scalars(select(Resident.id).where(Resident.id.in_(resident_ids), Resident.party_member.is_(True)))
    )


def residents_by_id(session: Session, resident_ids: list[int]) -> dict[int, Resident]:
    """Residents by id, removed ones too (a plan outlives a removal until it is closed)."""
    if not resident_ids:
        return {}
    return {r.id: r for r in session.scalars(select(Resident).where(Resident.id.in_(sorted(set(resident_ids)))))}
