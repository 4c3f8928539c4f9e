"""Use cases of public evaluation: residents rate the teams and organizations that served them;
scorecards for staff and for each organization; the public satisfaction report of a period."""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.models import User
from renxing.auth.policy import Perm, Role
from renxing.auth.principal import Principal
from renxing.bounds import Id
from renxing.care.models import CarePlan, CareVisit
from renxing.config import get_settings
from renxing.db import utcnow
from renxing.drills.models import Activity, ActivityPartner, Attendance, Status
from renxing.errors import FieldError, Forbidden, Invalid, NotFound
from renxing.evaluation import report as rpt
from renxing.evaluation.models import DIMENSIONS, Rating, TargetKind
from renxing.events.models import Report
from renxing.grid.models import GridUnit, Level
from renxing.grid.scope import community_of
from renxing.i18n import _, _l, in_each_lang
from renxing.partners.models import KIND_LABELS as ORG_KIND_LABELS
from renxing.partners.models import Organization
from renxing.people.models import Resident
from renxing.volunteers.models import TEAM_KIND_LABELS, TeamMember, VolunteerTeam

SERVICE_DAYS = 365  # a service received within the last year can be rated
PERIOD = re.compile(r"^(\d{4})Q([1-4])$")
BASIS_LABELS = {
    "care_visit": _l("上门关怀"),
    "activity": _l("参加活动"),
    "report": _l("事件处置"),
}


class RatingIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    target_kind: str = Field(description="team or organization")
    target_id: Id
    period: str | None = Field(default=None, description='a quarter, "2026Q4"; default the current one')
    variety: int = Field(ge=1, le=5)
    quality: int = Field(ge=1, le=5)
    responsiveness: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=500)


def tz() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def period_of(moment: datetime) -> str:
    local = moment.astimezone(tz())
    return f"{local.year}Q{(local.month - 1) // 3 + 1}"


def period_bounds(period: str) -> tuple[datetime, datetime]:
    """A quarter "2026Q4" or a year "2026" as [start, end) in local time."""
    if re.fullmatch(r"\d{4}", period or ""):
        y = int(period)
        return datetime(y, 1, 1, tzinfo=tz()), datetime(y + 1, 1, 1, tzinfo=tz())
    m = PERIOD.match(period or "")
    if not m:
        raise Invalid(_("期间格式应为 2026Q4 或 2026"), [FieldError("period", "format")])
    y, q = int(m.group(1)), int(m.group(2))
    start = datetime(y, 3 * q - 2, 1, tzinfo=tz())
    end = datetime(y + (q == 4), (3 * q) % 12 + 1, 1, tzinfo=tz())
    return start, end


def periods_in(period: str) -> list[str]:
    if re.fullmatch(r"\d{4}", period or ""):
        return [f"{period}Q{q}" for q in range(1, 5)]
    period_bounds(period)
    return [period]


# ---- targets ----------------------------------------------------------------------------


def _both(label: Any) -> list[str]:
    """The API carries a kind's label as [Chinese, English]."""
    return list(in_each_lang(label).values())


@dataclass
class Target:
    kind: str
    id: int
    name: str
    kind_label: Any  # a label (lazy) or, for an unknown kind, the kind itself
    path: str  # the community's path
    user_id: int | None = None  # organizations: their account


def _target(session: Session, kind: str, target_id: int) -> Target | None:
    if kind == TargetKind.team.value:
        t = session.get(VolunteerTeam, target_id)
        return None if t is None else Target(kind, t.id, t.name, TEAM_KIND_LABELS.get(t.kind, t.kind), t.path)
    if kind == TargetKind.organization.value:
        o = session.get(Organization, target_id)
        if o is None:
            return None
        return Target(kind, o.id, o.name, ORG_KIND_LABELS.get(o.kind, o.kind), o.path, o.user_id)
    raise Invalid(
        "评价对象类型应为 team 或 organization", [FieldError("target_kind", "team | organization", value=kind)]
    )


def community_targets(session: Session, community_path: str) -> list[Target]:
    teams = session.scalars(
        select(VolunteerTeam)
        .where(VolunteerTeam.path == community_path, VolunteerTeam.active.is_(True))
        .order_by(VolunteerTeam.name)
    )
    orgs = session.scalars(
        select(Organization)
        .where(Organization.path == community_path, Organization.active.is_(True))
        .order_by(Organization.kind, Organization.name)
    )
    out = [Target("team", t.id, t.name, TEAM_KIND_LABELS.get(t.kind, t.kind), t.path) for t in teams]
    out += [Target("organization", o.id, o.name, ORG_KIND_LABELS.get(o.kind, o.kind), o.path, o.user_id) for o in orgs]
    return out


# ---- the service a resident received ----------------------------------------------------


def _by_activity(session: Session, resident_id: int, t: Target, since: datetime):
    """Attendance at an activity the team organized or the organization ran or joined."""
    if t.kind == TargetKind.team.value:
        who = Activity.organizer_team_id == t.id
    else:
        who = Activity.id.in_(select(ActivityPartner.activity_id).where(ActivityPartner.organization_id == t.id))
    return session.scalar(
        select(Attendance.id)
        .join(Activity, Activity.id == Attendance.activity_id)
        .where(
            Attendance.resident_id == resident_id,
            Activity.status != Status.cancelled.value,
            Activity.starts_at >= since,
            who,
        )
        .limit(1)
    )


def _by_report(session: Session, resident_id: int, t: Target, since: datetime):
    """A report the resident filed that the organization handled in the closed loop: routed or
    transferred to it by name (``handler_kind`` partner), or to its account."""
    users = select(User.id).where(User.resident_id == resident_id)
    name_match = or_(Report.handler_label == t.name, Report.handler_label.like(f"{t.name}（%"))
    handled = and_(Report.handler_kind == "partner", name_match)
    if t.user_id is not None:
        handled = or_(handled, Report.handler_user_id == t.user_id)
    return session.scalar(
        select(Report.id).where(Report.reporter_user_id.in_(users), Report.created_at >= since, handled).limit(1)
    )


def _by_care_visit(session: Session, resident_id: int, t: Target, since: datetime):
    """A care visit to the resident by a member of the team."""
    return session.scalar(
        select(CareVisit.id)
        .join(CarePlan, CarePlan.id == CareVisit.plan_id)
        .join(TeamMember, TeamMember.id == CareVisit.member_id)
        .where(CarePlan.resident_id == resident_id, TeamMember.team_id == t.id, CareVisit.visited_at >= since)
        .limit(1)
    )


def service_basis(session: Session, resident_id: int, t: Target, now: datetime | None = None) -> str | None:
    """How the resident was served by the target, or None if they never were (in the last year)."""
    since = (now or utcnow()) - timedelta(days=SERVICE_DAYS)
    if t.kind == TargetKind.team.value and _by_care_visit(session, resident_id, t, since) is not None:
        return "care_visit"
    if _by_activity(session, resident_id, t, since) is not None:
        return "activity"
    if t.kind == TargetKind.organization.value and _by_report(session, resident_id, t, since) is not None:
        return "report"
    return None


# ---- rating -----------------------------------------------------------------------------


def _rater(session: Session, actor: Principal) -> Resident:
    actor.require(Perm.evaluation_rate)
    if actor.resident_id is None:
        raise Forbidden(_("只有居民可以评价"))
    r = session.get(Resident, actor.resident_id)
    if r is None or r.deleted_at is not None:
        raise Forbidden(_("居民档案不存在"))
    return r


def rateable(session: Session, actor: Principal, now: datetime | None = None) -> list[dict[str, Any]]:
    """The teams and organizations of the resident's community that served them, for the form."""
    r = _rater(session, actor)
    community = community_of(session, r.path)
    if community is None:
        return []
    period = period_of(now or utcnow())
    mine = {
        (x.target_kind, x.target_id): x
        for x in session.scalars(select(Rating).where(Rating.resident_id == r.id, Rating.period == period))
    }
    out = []
    for t in community_targets(session, community.path):
        basis = service_basis(session, r.id, t, now)
        if basis is None:
            continue
        done = mine.get((t.kind, t.id))
        out.append(
            {
                "kind": t.kind,
                "id": t.id,
                "name": t.name,
                "kind_label": _both(t.kind_label),
                "basis": basis,
                "period": period,
                "mine": None if done is None else {d: getattr(done, d) for d in (*DIMENSIONS, "comment")},
            }
        )
    return out


def rate(session: Session, actor: Principal, data: RatingIn, now: datetime | None = None) -> tuple[Rating, bool]:
    """Create or update the resident's rating of a target for a period; True when created."""
    now = now or utcnow()
    r = _rater(session, actor)
    t = _target(session, data.target_kind, data.target_id)
    community = community_of(session, r.path)
    if t is None or community is None or t.path != community.path:
        raise Invalid(_("评价对象不存在"), [FieldError("target_id", "not found")])
    period = data.period or period_of(now)
    start, _end = period_bounds(period)
    if "Q" not in period:
        raise Invalid(_("请按季度评价"), [FieldError("period", "quarter")])
    if start > now:
        raise Invalid(_("不能评价未来的期间"), [FieldError("period", "future")])
    basis = service_basis(session, r.id, t, now)
    if basis is None:
        raise Invalid(
            _("您未接受过该组织的服务，不能评价"),
            [FieldError("target_id", "no_service_received")],
        )
    values = {d: getattr(data, d) for d in DIMENSIONS} | {"comment": data.comment or None}
    row = session.scalar(
        select(Rating).where(
            Rating.resident_id == r.id,
            Rating.target_kind == t.kind,
            Rating.target_id == t.id,
            Rating.period == period,
        )
    )
    created = row is None
    if row is None:
        row = Rating(
            resident_id=r.id,
            path=r.path,
            target_kind=t.kind,
            target_id=t.id,
            team_id=t.id if t.kind == TargetKind.team.value else None,
            organization_id=t.id if t.kind == TargetKind.organization.value else None,
            period=period,
            basis=basis,
            created_at=now,
            updated_at=now,
            **values,
        )
        session.add(row)
        session.flush()
        audit.record(session, actor, "create", "rating", row.id, after=audit.snapshot(row))
    else:
        before = audit.snapshot(row)
        for k, v in values.items():
            setattr(row, k, v)
        row.basis = basis
        row.updated_at = now
        session.flush()
        old, new = audit.changed(before, audit.snapshot(row))
        audit.record(session, actor, "update", "rating", row.id, before=old, after=new)
    return row, created


# ---- scorecards -------------------------------------------------------------------------


def _readable_target(session: Session, actor: Principal, kind: str, target_id: int) -> Target:
    actor.require(Perm.evaluation_read)
    t = _target(session, kind, target_id)
    if t is None:
        raise NotFound(_("评价对象不存在"))
    if actor.role is Role.partner:
        # A partner reads its own scorecard only.
        if t.kind != TargetKind.organization.value or t.user_id is None or t.user_id != actor.user_id:
            raise NotFound(_("评价对象不存在"))
    elif not (actor.is_global or actor.sees_unit(t.path)):
        raise NotFound(_("评价对象不存在"))
    return t


def scorecard(
    session: Session, actor: Principal, kind: str, target_id: int, period: str | None = None
) -> dict[str, Any]:
    """Means per dimension, the distribution of scores, the monthly trend and the comments
    (anonymous) of one team or organization, over a period or all time."""
    t = _readable_target(session, actor, kind, target_id)
    stmt = select(Rating).where(Rating.target_kind == t.kind, Rating.target_id == t.id)
    if period:
        stmt = stmt.where(Rating.period.in_(periods_in(period)))
    rows = list(session.scalars(stmt.order_by(Rating.updated_at)))
    dist = {d: [0] * 5 for d in DIMENSIONS}
    for x in rows:
        for d in DIMENSIONS:
            dist[d][getattr(x, d) - 1] += 1
    months: dict[str, list[float]] = {}
    for x in rows:
        key = x.updated_at.astimezone(tz()).strftime("%Y-%m")
        months.setdefault(key, []).append(sum(getattr(x, d) for d in DIMENSIONS) / len(DIMENSIONS))
    comments = [
        {"at": x.updated_at.isoformat(), "period": x.period, "comment": x.comment, "overall": _overall(x)}
        for x in sorted(rows, key=lambda x: x.updated_at, reverse=True)
        if x.comment
    ][:50]
    means = {d: rpt.mean([getattr(x, d) for x in rows]) for d in DIMENSIONS}
    return {
        "target": {"kind": t.kind, "id": t.id, "name": t.name, "kind_label": _both(t.kind_label)},
        "period": period,
        "count": len(rows),
        "means": means,
        "overall": rpt.mean([_overall(x) for x in rows]) if rows else None,
        "distribution": dist,
        "trend": [{"month": m, "mean": round(sum(v) / len(v), 2), "count": len(v)} for m, v in sorted(months.items())],
        "comments": comments,
    }


def _overall(x: Rating) -> float:
    return round(sum(getattr(x, d) for d in DIMENSIONS) / len(DIMENSIONS), 2)


def _aggregates(session: Session, periods: list[str] | None) -> dict[tuple[str, int], dict]:
    """Count and means per target in one grouped query."""
    stmt = select(
        Rating.target_kind,
        Rating.target_id,
        func.count(Rating.id),
        func.avg(Rating.variety),
        func.avg(Rating.quality),
        func.avg(Rating.responsiveness),
        func.count(func.distinct(Rating.resident_id)),
        func.sum(case((Rating.variety + Rating.quality + Rating.responsiveness >= 12, 1), else_=0)),
    ).group_by(Rating.target_kind, Rating.target_id)
    if periods:
        stmt = stmt.where(Rating.period.in_(periods))
    out = {}
    for kind, tid, n, v, q, r, raters, satisfied in session.execute(stmt):
        out[(kind, tid)] = {
            "count": int(n),
            "variety": round(float(v), 2),
            "quality": round(float(q), 2),
            "responsiveness": round(float(r), 2),
            "raters": int(raters),
            "satisfied": int(satisfied or 0),
        }
    return out


def _community_for(session: Session, actor: Principal, unit_id: int | None) -> GridUnit:
    if unit_id is not None:
        unit = session.get(GridUnit, unit_id)
        if unit is None or unit.level != Level.community.value:
            raise Invalid(_("请选择社区"), [FieldError("unit_id", "not a community")])
        if not (actor.is_global or actor.sees_unit(unit.path)):
            raise NotFound(_("社区不存在"))
        return unit
    path = actor.scope_paths[0] if actor.scope_paths else ""
    unit = community_of(session, path) if path else None
    if unit is None and path:
        # A street-level scope: its first community.
        unit = session.scalar(
            select(GridUnit)
            .where(GridUnit.level == Level.community.value, GridUnit.path.startswith(path))
            .order_by(GridUnit.path)
        )
    if unit is None:
        unit = session.scalar(select(GridUnit).where(GridUnit.level == Level.community.value).order_by(GridUnit.path))
    if unit is None:
        raise NotFound(_("没有社区"))
    return unit


def scorecards(session: Session, actor: Principal, unit_id: int | None = None, period: str | None = None) -> dict:
    """Every team and organization of a community with its figures (partners: their own)."""
    actor.require(Perm.evaluation_read)
    community = _community_for(session, actor, unit_id)
    periods = periods_in(period) if period else None
    targets = community_targets(session, community.path)
    if actor.role is Role.partner:
        targets = [t for t in targets if t.kind == TargetKind.organization.value and t.user_id == actor.user_id]
    agg = _aggregates(session, periods)
    empty = {"count": 0, "variety": None, "quality": None, "responsiveness": None, "raters": 0, "satisfied": 0}
    rows = []
    for t in targets:
        a = agg.get((t.kind, t.id), empty)
        rows.append({"kind": t.kind, "id": t.id, "name": t.name, "kind_label": _both(t.kind_label), **a})
    return {"community": {"id": community.id, "name": community.name}, "period": period, "rows": rows}


def satisfaction_report(session: Session, actor: Principal, unit_id: int | None, period: str) -> rpt.SatisfactionReport:
    """The public report of a community for a quarter or a year: aggregates only, no names."""
    actor.require(Perm.evaluation_report)
    community = _community_for(session, actor, unit_id)
    if actor.role is Role.resident and not (actor.scope_paths and actor.scope_paths[0].startswith(community.path)):
        raise NotFound(_("社区不存在"))
    periods = periods_in(period)
    agg = _aggregates(session, periods)
    rows = []
    total = raters_sum = satisfied = 0
    for t in community_targets(session, community.path):
        a = agg.get((t.kind, t.id))
        if a is None:
            continue
        rows.append(
            rpt.ReportRow(t.name, str(t.kind_label), a["count"], a["variety"], a["quality"], a["responsiveness"])
        )
        total += a["count"]
        satisfied += a["satisfied"]
    raters_sum = (
        session.scalar(
            select(func.count(func.distinct(Rating.resident_id))).where(
                Rating.period.in_(periods),
                Rating.path >= community.path,
                Rating.path < community.path + "\uffff",
            )
        )
        or 0
    )
    rows.sort(key=lambda r: (-(r.overall or 0), r.name))
    return rpt.SatisfactionReport(
        community=community.name,
        period=period,
        generated=utcnow().astimezone(tz()).strftime("%Y-%m-%d %H:%M"),
        rows=rows,
        total_count=total,
        raters=raters_sum,
        share_satisfied=round(satisfied / total, 4) if total else None,
    )


def default_period(now: datetime | None = None) -> str:
    return period_of(now or utcnow())


def previous_periods(n: int = 8, today: date | None = None) -> list[str]:
    today = today or utcnow().astimezone(tz()).date()
    y, q = today.year, (today.month - 1) // 3 + 1
    out = []
    for _quarter in range(n):
        out.append(f"{y}Q{q}")
        y, q = (y, q - 1) if q > 1 else (y - 1, 4)
    return out
