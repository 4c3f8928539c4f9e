"""Helpers for the drills, partners and evaluation tests: organizations, teams, activities and
attendance written straight into the test world."""

from datetime import datetime, timedelta

from sqlalchemy import Engine, func, select

from renxing.auth.principal import SYSTEM
from renxing.db import transaction, utcnow
from renxing.drills import activities as drills
from renxing.drills.models import Activity, ActivityPartner, ActivityTarget, Attendance
from renxing.drills.schemas import ActivityIn
from renxing.grid.models import GridUnit
from renxing.partners.models import Organization
from renxing.volunteers.models import TeamMember, VolunteerTeam
from tests.kit.factories import World


def org(
    engine: Engine, w: World, name: str, kind: str = "social_org", community: str = "C1", user: str | None = None
) -> int:
    with transaction(engine) as s:
        c = s.get(GridUnit, w.units[community])
        o = Organization(
            unit_id=c.id, path=c.path, name=name, kind=kind, user_id=w.users[user] if user else None, active=True
        )
        s.add(o)
        s.flush()
        return o.id


def team(engine: Engine, w: World, name: str, community: str = "C1", kind: str = "silver_mutual_aid") -> int:
    with transaction(engine) as s:
        c = s.get(GridUnit, w.units[community])
        t = VolunteerTeam(unit_id=c.id, path=c.path, name=name, kind=kind, active=True)
        s.add(t)
        s.flush()
        return t.id


def member(engine: Engine, team_id: int, name: str, resident_id: int | None = None) -> int:
    with transaction(engine) as s:
        m = TeamMember(team_id=team_id, resident_id=resident_id, name=name, joined_on=utcnow().date())
        s.add(m)
        s.flush()
        return m.id


def activity(
    engine: Engine,
    w: World,
    *,
    community: str = "C1",
    starts: datetime | None = None,
    hours: float = 2,
    status: str = "planned",
    title: str = "消防疏散演练",
    partners: list[int] | None = None,
    team_id: int | None = None,
    targets: list[str] | None = None,
) -> int:
    """An activity written through the service when it is in the future, directly otherwise."""
    starts = starts or utcnow() + timedelta(days=3)
    with transaction(engine) as s:
        if starts > utcnow() and status == "planned":
            a = drills.create_activity(
                s,
                SYSTEM,
                ActivityIn(
                    unit_id=w.units[community],
                    kind="fire_drill",
                    hazard="fire",
                    title=title,
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=hours),
                    place="社区广场",
                    partner_ids=partners or [],
                    organizer_team_id=team_id,
                    target_unit_ids=[w.units[t] for t in targets or []],
                ),
            )
            return a.id
        c = s.get(GridUnit, w.units[community])
        a = Activity(
            unit_id=c.id,
            path=c.path,
            kind="fire_drill",
            hazard="fire",
            title=title,
            starts_at=starts,
            ends_at=starts + timedelta(hours=hours),
            place="社区广场",
            status=status,
            organizer_team_id=team_id,
        )
        s.add(a)
        s.flush()
        for pid in partners or []:
            s.add(ActivityPartner(activity_id=a.id, organization_id=pid))
        if targets:
            for t in targets:
                s.add(ActivityTarget(activity_id=a.id, unit_id=w.units[t]))
        return a.id


def attend(engine: Engine, activity_id: int, *resident_ids: int, at: datetime | None = None) -> None:
    with transaction(engine) as s:
        for rid in resident_ids:
            s.add(Attendance(activity_id=activity_id, resident_id=rid, signed_at=at or utcnow(), method="staff"))


def count_attendance(engine: Engine, activity_id: int) -> int:
    with transaction(engine) as s:
        return s.scalar(select(func.count()).where(Attendance.activity_id == activity_id)) or 0
