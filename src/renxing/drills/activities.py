"""Activities of a community: plan, change, read one, list and the month calendar.

Activities live at their community's path, so a user sees those of the communities in scope and
of the community their own (lower) scope lies in (``grid.scope.visible_clause``); writing needs
the whole community in scope.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.config import get_settings
from renxing.db import utcnow
from renxing.drills.models import Activity, ActivityKind, ActivityPartner, ActivityTarget, Attendance, Hazard, Status
from renxing.drills.schemas import ActivityIn, ActivityPatch
from renxing.errors import Collector, FieldError, Forbidden, Invalid, NotFound
from renxing.grid.models import GridUnit
from renxing.grid.scope import community_in_scope, in_scope, sees, subtree_clause, visible_clause
from renxing.i18n import _
from renxing.listing import Filter, ListQuery, ListSpec, Page, list_page
from renxing.partners import directory as partners
from renxing.volunteers import directory as volunteers

if TYPE_CHECKING:
    from renxing.partners.models import Organization

MAX_HOURS = 72  # an activity lasts at most three days
LINKS = ("partner_ids", "target_unit_ids")  # join-table fields of an activity's input

ACTIVITIES = ListSpec(
    sorts={"starts_at": Activity.starts_at, "title": Activity.title},
    default_sort="-starts_at",
    tiebreaker=Activity.id,
    search=(Activity.title, Activity.place),
    filters={
        "kind": Filter(Activity.kind, parse=lambda v: ActivityKind(v).value),
        "status": Filter(Activity.status, parse=lambda v: Status(v).value),
        "since": Filter(Activity.starts_at, ">="),
        "until": Filter(Activity.starts_at, "<"),
    },
)


def tz() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def aware(value: datetime) -> datetime:
    """A form's or a client's time without a zone is local time."""
    return value.replace(tzinfo=tz()) if value.tzinfo is None else value


def load(session: Session, actor: Principal, activity_id: int) -> Activity:
    """An activity the actor may read; 404 otherwise, as for a record outside the scope."""
    actor.require(Perm.drills_read)
    a = session.get(Activity, activity_id)
    if a is None or not sees(actor, a.path):
        raise NotFound(_("活动 {activity_id} 不存在").format(activity_id=activity_id))
    return a


def _writable(session: Session, actor: Principal, activity_id: int) -> Activity:
    a = load(session, actor, activity_id)
    actor.require(Perm.drills_write)
    if not in_scope(actor, a.path):
        raise Forbidden(_("不在您的管理范围内"))
    return a


# ---- checks -----------------------------------------------------------------------------


def _check_choices(values: dict[str, Any], errors: Collector) -> None:
    for key, choices in (("kind", ActivityKind), ("hazard", Hazard), ("status", Status)):
        if values[key] not in choices.__members__:
            errors.add(key, _("应为 {join} 之一").format(join=", ".join(choices)), value=values[key])


def _check_times(values: dict[str, Any], errors: Collector) -> None:
    starts, ends = values["starts_at"], values["ends_at"]
    if ends <= starts:
        errors.add("ends_at", _("结束时间应晚于开始时间"))
    elif ends - starts > timedelta(hours=MAX_HOURS):
        errors.add("ends_at", _("活动最长 {max_hours} 小时").format(max_hours=MAX_HOURS))
    if values["status"] == Status.done.value and starts > utcnow():
        errors.add("status", _("活动尚未开始，不能标为已完成"))


def _check_place(session: Session, values: dict[str, Any], community: GridUnit, errors: Collector) -> None:
    if values.get("place_unit_id") is not None:
        place = session.get(GridUnit, values["place_unit_id"])
        if place is None or not place.path.startswith(community.path):
            errors.add("place_unit_id", _("地点不在本社区"), value=values["place_unit_id"])
    if (values.get("lon") is None) != (values.get("lat") is None):
        errors.add("lat", _("经纬度需同时填写"))


def _check_links(session: Session, values: dict[str, Any], community: GridUnit, errors: Collector) -> None:
    team_id = values.get("organizer_team_id")
    if team_id is not None and volunteers.team(session, team_id) is None:
        errors.add("organizer_team_id", _("志愿队不存在"), value=team_id)
    for pid in values.get("partner_ids") or []:
        org = partners.organization(session, pid)
        if org is None or org.path != community.path:
            errors.add("partner_ids", _("合作单位不存在或不属于本社区"), value=pid)
        elif not org.active:
            errors.add("partner_ids", _("合作单位已停用"), value=pid)
    for uid in values.get("target_unit_ids") or []:
        unit = session.get(GridUnit, uid)
        if unit is None or not unit.path.startswith(community.path):
            errors.add("target_unit_ids", _("对象网格不在本社区"), value=uid)


def _check_activity(session: Session, values: dict[str, Any], community: GridUnit) -> None:
    """Every field at fault at once, each named."""
    errors = Collector()
    _check_choices(values, errors)
    _check_times(values, errors)
    _check_place(session, values, community, errors)
    _check_links(session, values, community, errors)
    errors.raise_if_any()


# ---- writing ----------------------------------------------------------------------------


def _set_links(session: Session, a: Activity, partner_ids: list[int] | None, target_ids: list[int] | None) -> None:
    if partner_ids is not None:
        session.execute(ActivityPartner.__table__.delete().where(ActivityPartner.activity_id == a.id))
        for pid in sorted(set(partner_ids)):
            session.add(ActivityPartner(activity_id=a.id, organization_id=pid))
    if target_ids is not None:
        session.execute(ActivityTarget.__table__.delete().where(ActivityTarget.activity_id == a.id))
        for uid in sorted(set(target_ids)):
            session.add(ActivityTarget(activity_id=a.id, unit_id=uid))
    session.flush()


def create_activity(session: Session, actor: Principal, data: ActivityIn) -> Activity:
    actor.require(Perm.drills_write)
    community = community_in_scope(session, actor, data.unit_id, write=True)
    values = data.model_dump()
    values["starts_at"], values["ends_at"] = aware(data.starts_at), aware(data.ends_at)
    _check_activity(session, values, community)
    partner_ids, target_ids = values.pop("partner_ids"), values.pop("target_unit_ids")
    a = Activity(**values, path=community.path, organizer_user_id=actor.user_id, created_by=actor.user_id)
    session.add(a)
    session.flush()
    _set_links(session, a, partner_ids, target_ids)
    audit.record(
        session,
        actor,
        "create",
        "drill_activity",
        a.id,
        after={**audit.snapshot(a), "partner_ids": partner_ids, "target_unit_ids": target_ids},
    )
    return a


def _patch_values(patch: ActivityPatch) -> dict[str, Any]:
    """The fields a patch sets, with local times made aware; a required field set to null is a 422."""
    changes = patch.model_dump(exclude_unset=True)
    errors = Collector()
    for key in ("kind", "hazard", "title", "starts_at", "ends_at", "status"):
        if key in changes and changes[key] is None:
            errors.add(key, _("不能为空"))
    errors.raise_if_any()
    for key in ("starts_at", "ends_at"):
        if changes.get(key) is not None:
            changes[key] = aware(changes[key])
    return changes


def _current_values(session: Session, a: Activity) -> dict[str, Any]:
    return {
        "partner_ids": list(
            session.scalars(select(ActivityPartner.organization_id).where(ActivityPartner.activity_id == a.id))
        ),
        "target_unit_ids": list(
            session.scalars(select(ActivityTarget.unit_id).where(ActivityTarget.activity_id == a.id))
        ),
        **{k: getattr(a, k) for k in ActivityPatch.model_fields if k not in LINKS},
    }


def update_activity(session: Session, actor: Principal, activity_id: int, patch: ActivityPatch) -> Activity:
    a = _writable(session, actor, activity_id)
    community = session.get(GridUnit, a.unit_id)
    assert community is not None
    changes = _patch_values(patch)
    current = _current_values(session, a)
    merged = {**current, **changes}
    _check_activity(session, merged, community)
    before = audit.snapshot(a)
    for key, value in merged.items():
        if key not in LINKS:
            setattr(a, key, value)
    session.flush()
    _set_links(session, a, changes.get("partner_ids"), changes.get("target_unit_ids"))
    old, new = audit.changed(before, audit.snapshot(a))
    old.pop("updated_at", None)
    new.pop("updated_at", None)
    for key in LINKS:
        if key in changes:
            old[key], new[key] = current[key], changes[key]
    if new:
        audit.record(session, actor, "update", "drill_activity", a.id, before=old, after=new)
    return a


# ---- reading ----------------------------------------------------------------------------


@dataclass
class ActivityView:
    activity: Activity
    community: GridUnit
    partners: list["Organization"]
    targets: list[GridUnit]
    place_unit: GridUnit | None
    attendance: int
    can_write: bool
    can_attend: bool

    def to_dict(self) -> dict[str, Any]:
        a = self.activity
        return {
            **activity_row(a, self.attendance),
            "community": self.community.name,
            "place_unit_id": a.place_unit_id,
            "lon": a.lon,
            "lat": a.lat,
            "organizer_user_id": a.organizer_user_id,
            "organizer_team_id": a.organizer_team_id,
            "notes": a.notes,
            "partners": [{"id": o.id, "name": o.name, "kind": o.kind} for o in self.partners],
            "targets": [{"id": u.id, "name": u.name, "level": u.level} for u in self.targets],
        }


def get_activity(session: Session, actor: Principal, activity_id: int) -> ActivityView:
    a = load(session, actor, activity_id)
    community = session.get(GridUnit, a.unit_id)
    assert community is not None
    partner_ids = session.scalars(select(ActivityPartner.organization_id).where(ActivityPartner.activity_id == a.id))
    targets = session.scalars(
        select(GridUnit)
        .join(ActivityTarget, ActivityTarget.unit_id == GridUnit.id)
        .where(ActivityTarget.activity_id == a.id)
        .order_by(GridUnit.path)
    )
    return ActivityView(
        activity=a,
        community=community,
        partners=partners.organizations(session, partner_ids),
        targets=list(targets),
        place_unit=session.get(GridUnit, a.place_unit_id) if a.place_unit_id else None,
        attendance=attendance_counts(session, [a.id]).get(a.id, 0),
        can_write=actor.can(Perm.drills_write) and in_scope(actor, a.path),
        can_attend=actor.can(Perm.drills_attend) and sees(actor, a.path),
    )


def activity_row(a: Activity, attendance: int) -> dict[str, Any]:
    """An activity as a list shows it."""
    return {
        "id": a.id,
        "unit_id": a.unit_id,
        "kind": a.kind,
        "hazard": a.hazard,
        "title": a.title,
        "starts_at": a.starts_at.isoformat(),
        "ends_at": a.ends_at.isoformat(),
        "place": a.place,
        "status": a.status,
        "attendance": attendance,
    }


def _visible(actor: Principal, unit_path: str | None = None) -> Select[tuple[Activity]]:
    actor.require(Perm.drills_read)
    stmt = select(Activity)
    clause = visible_clause(Activity.path, actor)
    if clause is not None:
        stmt = stmt.where(clause)
    if unit_path:
        stmt = stmt.where(subtree_clause(Activity.path, unit_path))
    return stmt


def list_activities(
    session: Session, actor: Principal, query: ListQuery, *, unit_path: str | None = None
) -> Page[Activity]:
    """One page of the activities the actor sees (``unit_path``: of one community or the units under it)."""
    return list_page(session, _visible(actor, unit_path), ACTIVITIES, query)


def attendance_counts(session: Session, activity_ids: list[int]) -> dict[int, int]:
    if not activity_ids:
        return {}
    rows = session.execute(
        select(Attendance.activity_id, func.count())
        .where(Attendance.activity_id.in_(activity_ids))
        .group_by(Attendance.activity_id)
    )
    return {aid: n for aid, n in rows}


def month_activities(session: Session, actor: Principal, year: int, month: int) -> list[Activity]:
    """The activities of one calendar month (local time), for the calendar."""
    if not 1 <= month <= 12 or not 2000 <= year <= 2100:
        raise Invalid(_("月份无效"), [FieldError("month", "YYYY-MM")])
    start = datetime(year, month, 1, tzinfo=tz())
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz())
    stmt = _visible(actor).where(Activity.starts_at >= start, Activity.starts_at < end)
    return list(session.scalars(stmt.order_by(Activity.starts_at, Activity.id).limit(2000)))
