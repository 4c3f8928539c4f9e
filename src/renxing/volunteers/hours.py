"""Service hours: recording them, and the sums per month, team and member."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.errors import Collector, FieldError, Invalid
from renxing.grid.scope import visible_clause
from renxing.i18n import _
from renxing.volunteers.members import get_member
from renxing.volunteers.models import ServiceHours, TeamMember, VolunteerTeam
from renxing.volunteers.teams import get_team, writable_team


def record_hours(
    session: Session,
    actor: Principal,
    member_id: int,
    *,
    served_on: date,
    hours: float,
    activity: str | None = None,
) -> ServiceHours:
    m = get_member(session, actor, member_id)
    writable_team(session, actor, m.team_id)
    errors = Collector()
    if not 0 < hours <= 24:
        errors.add("hours", _("时长须在 0–24 小时"), value=hours)
    if served_on > date.today():
        errors.add("served_on", _("服务日期在未来"), value=served_on)
    if activity and len(activity) > 200:
        errors.add("activity", _("内容过长"))
    errors.raise_if_any()
    row = ServiceHours(
        member_id=m.id,
        team_id=m.team_id,
        served_on=served_on,
        hours=round(float(hours), 2),
        activity=(activity or "").strip() or None,
        created_by=actor.user_id,
    )
    session.add(row)
    session.flush()
    audit.record(session, actor, "create", "service_hours", row.id, after=audit.snapshot(row))
    return row


@dataclass
class HoursRow:
    month: str  # "2026-03"
    key: int  # team or member id
    name: str
    hours: float
    entries: int


def hours_by_month(
    session: Session,
    actor: Principal,
    *,
    team_id: int | None = None,
    member_id: int | None = None,
    per: str = "team",
    months: int = 12,
    today: date | None = None,
) -> list[HoursRow]:
    """Service hours per month and per team (or per member) over the last ``months``, newest first."""
    actor.require(Perm.volunteers_read)
    if per not in ("team", "member"):
        raise Invalid(_("汇总方式无效"), [FieldError("per", "team or member", value=per)])
    if not 1 <= months <= 60:
        raise Invalid(_("月数须在 1–60"), [FieldError("months", "1..60", value=months)])
    today = today or date.today()
    start = date(today.year, today.month, 1)
    for _month in range(months - 1):
        start = date(start.year - (start.month == 1), (start.month - 2) % 12 + 1, 1)
    # Columns, not ORM rows: a year of a street's hours is tens of thousands of entries.
    stmt = (
        select(
            ServiceHours.served_on,
            ServiceHours.team_id,
            ServiceHours.member_id,
            ServiceHours.hours,
            TeamMember.name,
            VolunteerTeam.name,
        )
        .join(TeamMember, TeamMember.id == ServiceHours.member_id)
        .join(VolunteerTeam, VolunteerTeam.id == ServiceHours.team_id)
        .where(ServiceHours.served_on >= start, ServiceHours.served_on <= today)
    )
    clause = visible_clause(VolunteerTeam.path, actor)
    if clause is not None:
        stmt = stmt.where(clause)
    if team_id is not None:
        get_team(session, actor, team_id)
        stmt = stmt.where(ServiceHours.team_id == team_id)
    if member_id is not None:
        get_member(session, actor, member_id)
        stmt = stmt.where(ServiceHours.member_id == member_id)
    acc: dict[tuple[str, int], list] = {}
    for served_on, team, member, hours, member_name, team_name in session.execute(stmt):
        key = (served_on.strftime("%Y-%m"), team if per == "team" else member)
        row = acc.setdefault(key, [team_name if per == "team" else member_name, 0.0, 0])
        row[1] += hours
        row[2] += 1
    out = [HoursRow(m, k, v[0], round(v[1], 2), v[2]) for (m, k), v in acc.items()]
    out.sort(key=lambda r: (r.month, -r.hours), reverse=False)
    out.sort(key=lambda r: r.month, reverse=True)
    return out


def member_hours(session: Session, member_ids: list[int], since: date) -> dict[int, float]:
    if not member_ids:
        return {}
    rows = session.execute(
        select(ServiceHours.member_id, func.sum(ServiceHours.hours))
        .where(ServiceHours.member_id.in_(member_ids), ServiceHours.served_on >= since)
        .group_by(ServiceHours.member_id)
    ).all()
    return {mid: round(float(h or 0), 1) for mid, h in rows}
