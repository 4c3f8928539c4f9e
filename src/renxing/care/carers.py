"""Carers: team members (``m<id>``) and grid workers (``u<id>``) in one list, with their load."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from renxing.bounds import valid_id
from renxing.care import assignment as opt
from renxing.care.models import CareAssignment, CarePlan, CarerKind
from renxing.care.residents import party_members
from renxing.care.scope import open_assignment
from renxing.grid.models import GridUnit
from renxing.grid.scope import path_ids
from renxing.volunteers import directory as volunteers
from renxing.volunteers.skills import skills_of, valid_skills

if TYPE_CHECKING:  # types only: rows are read through the owning domain's functions
    from renxing.volunteers.models import TeamMember, VolunteerTeam


CARER_KIND_LABELS = opt.KIND_LABELS


def carer_key(member_id: int | None = None, user_id: int | None = None) -> str:
    return f"m{member_id}" if member_id is not None else f"u{user_id}"


def parse_carer_key(key: str) -> tuple[str, int] | None:
    if not key or key[0] not in "mu" or not key[1:].isdigit() or not valid_id(int(key[1:])):
        return None
    return key[0], int(key[1:])


def carer_loads(session: Session, today: date) -> dict[str, int]:
    """Residents each carer looks after now (open assignments of active plans)."""
    rows = session.execute(
        select(CareAssignment.member_id, CareAssignment.user_id, func.count(func.distinct(CareAssignment.plan_id)))
        .join(CarePlan, CarePlan.id == CareAssignment.plan_id)
        .where(CarePlan.status == "active", open_assignment(today))
        .group_by(CareAssignment.member_id, CareAssignment.user_id)
    ).all()
    return {carer_key(m, u): n for m, u, n in rows}


def member_kind(team: VolunteerTeam, party_member: bool) -> str:
    """A member of a party team, or a party member in any team, cares as a party member."""
    if party_member or volunteers.is_party_team(team):
        return CarerKind.party_member
    return CarerKind.volunteer


def service_kind(team: VolunteerTeam | None) -> str:
    return "medical" if team is not None and volunteers.is_medical_team(team) else "visit"


@dataclass
class CarerInfo:
    key: str
    name: str
    kind: str
    team: VolunteerTeam | None
    member: TeamMember | None
    skills: frozenset[str]
    max_care: int
    load: int
    building_id: int | None
    area_id: int | None
    lon: float | None
    lat: float | None

    @property
    def free(self) -> int:
        return max(0, self.max_care - self.load)


def community_carers(session: Session, community: GridUnit, today: date) -> list[CarerInfo]:
    """Active members of the community's active teams, with valid skills and current load."""
    rows = volunteers.active_members_in_community(session, community.path)
    skills = skills_of(session, [m.id for m, _ in rows])
    party = party_members(session, [m.resident_id for m, _ in rows if m.resident_id])
    bld_ids = {m.building_id for m, _ in rows if m.building_id}
    buildings = {u.id: u for u in session.scalars(select(GridUnit).where(GridUnit.id.in_(bld_ids)))} if bld_ids else {}
    loads = carer_loads(session, today)
    out = []
    for m, team in rows:
        b = buildings.get(m.building_id) if m.building_id else None
        area_id = path_ids(b.path)[-2] if b is not None and len(path_ids(b.path)) >= 2 else None
        out.append(
            CarerInfo(
                key=carer_key(member_id=m.id),
                name=m.name,
                kind=member_kind(team, m.resident_id in party),
                team=team,
                member=m,
                skills=valid_skills(skills.get(m.id, []), today),
                max_care=m.max_care,
                load=loads.get(carer_key(member_id=m.id), 0),
                building_id=m.building_id,
                area_id=area_id,
                lon=m.lon,
                lat=m.lat,
            )
        )
    return out
