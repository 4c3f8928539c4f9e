"""Use cases of drills and trainings: planning, sign-in (QR, verification, staff, list upload),
attendance and rolling 12-month coverage with the residents not yet reached."""

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import segno
from sqlalchemy import Select, and_, case, column, exists, func, literal, or_, select, table
from sqlalchemy.orm import Session

from renxing import importing as cells
from renxing.auth import audit
from renxing.auth.policy import Field, Perm, Role
from renxing.auth.principal import SYSTEM, Principal
from renxing.config import get_settings
from renxing.db import contains, utcnow
from renxing.drills import coverage as cov
from renxing.drills.models import (
    Activity,
    ActivityKind,
    ActivityPartner,
    ActivityTarget,
    Attendance,
    Hazard,
    Method,
    Status,
)
from renxing.drills.schemas import ActivityIn, ActivityPatch, SelfSignIn
from renxing.errors import Collector, FieldError, Forbidden, Invalid, NotFound
from renxing.grid.models import GridUnit, Household, Level
from renxing.grid.scope import path_ids, scope_clause, subtree_clause
from renxing.i18n import _
from renxing.listing import Page, paginate
from renxing.partners.models import Organization
from renxing.people import vulnerability
from renxing.people.idcard import IdNumberError, parse_id_number
from renxing.people.masking import mask_id_number, mask_name, mask_phone
from renxing.people.models import Resident
from renxing.people.service import normalise_phone, tags_of, years_ago

WINDOW_DAYS = 365
MAX_HOURS = 72  # an activity lasts at most three days
# The volunteer teams' table, named here so that drills do not import the volunteers package.
_teams = table("volunteer_teams", column("id"))


# ---- scope helpers ----------------------------------------------------------------------


def community_of(session: Session, path: str) -> GridUnit | None:
    """The community a path lies in (its ancestor-or-self of level community)."""
    ids = path_ids(path)
    if not ids:
        return None
    return session.scalar(select(GridUnit).where(GridUnit.id.in_(ids), GridUnit.level == Level.community.value))


def visible_clause(col, actor: Principal):
    """Rows kept at a community's path that the actor may see: communities in their scope and the
    community their own (lower) scope lies in. None means everything."""
    if actor.is_global:
        return None
    above: set[str] = set()
    for p in actor.scope_paths:
        above.update(cov.ancestors(p))
    clause = scope_clause(col, actor)
    return or_(clause, col.in_(sorted(above))) if above else clause


def tz() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def aware(value: datetime) -> datetime:
    """A form's or a client's time without a zone is local time."""
    return value.replace(tzinfo=tz()) if value.tzinfo is None else value


# ---- activities -------------------------------------------------------------------------


def _load(session: Session, actor: Principal, activity_id: int) -> Activity:
    actor.require(Perm.drills_read)
    a = session.get(Activity, activity_id)
    if a is None or not (actor.is_global or actor.sees_unit(a.path)):
        raise NotFound(_("活动不存在").format(activity_id=activity_id))
    return a


def _writable(session: Session, actor: Principal, activity_id: int) -> Activity:
    a = _load(session, actor, activity_id)
    actor.require(Perm.drills_write)
    if not actor.covers_path(a.path):
        raise Forbidden(_("不在您的管理范围内"))
    return a


def _check_activity(session: Session, actor: Principal, values: dict[str, Any], community: GridUnit) -> None:
    errors = Collector()
    if values["kind"] not in ActivityKind.__members__:
        errors.add("kind", _("应为").format(join=", ".join(ActivityKind)), value=values["kind"])
    if values["hazard"] not in Hazard.__members__:
        errors.add("hazard", _("应为").format(join=", ".join(Hazard)), value=values["hazard"])
    if values["status"] not in Status.__members__:
        errors.add("status", _("应为").format(join=", ".join(Status)), value=values["status"])
    starts, ends = values["starts_at"], values["ends_at"]
    if ends <= starts:
        errors.add("ends_at", _("结束时间应晚于开始时间"))
    elif ends - starts > timedelta(hours=MAX_HOURS):
        errors.add("ends_at", _("活动最长 {max_hours} 小时").format(max_hours=MAX_HOURS))
    if values["status"] == Status.done.value and starts > utcnow():
        errors.add("status", _("活动尚未开始，不能标为已完成"))
    if values.get("place_unit_id") is not None:
        place = session.get(GridUnit, values["place_unit_id"])
        if place is None or not place.path.startswith(community.path):
            errors.add("place_unit_id", _("地点不在本社区"), value=values["place_unit_id"])
    if (values.get("lon") is None) != (values.get("lat") is None):
        errors.add("lat", _("经纬度需同时填写"))
    team_id = values.get("organizer_team_id")
    if team_id is not None and session.scalar(select(_teams.c.id).where(_teams.c.id == team_id)) is None:
        errors.add("organizer_team_id", _("志愿队不存在"), value=team_id)
    for pid in values.get("partner_ids") or []:
        org = session.get(Organization, pid)
        if org is None or org.path != community.path:
            errors.add("partner_ids", _("合作单位不存在或不属于本社区"), value=pid)
        elif not org.active:
            errors.add("partner_ids", _("合作单位已停用"), value=pid)
    for uid in values.get("target_unit_ids") or []:
        unit = session.get(GridUnit, uid)
        if unit is None or not unit.path.startswith(community.path):
            errors.add("target_unit_ids", _("对象网格不在本社区"), value=uid)
    errors.raise_if_any()


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
    community = session.get(GridUnit, data.unit_id)
    if community is None or community.level != Level.community.value:
        raise Invalid(_("请选择社区"), [FieldError("unit_id", _("不是社区"))])
    if not actor.covers_path(community.path):
        raise Forbidden(_("不在您的管理范围内"))
    values = data.model_dump()
    values["starts_at"], values["ends_at"] = aware(data.starts_at), aware(data.ends_at)
    _check_activity(session, actor, values, community)
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


def update_activity(session: Session, actor: Principal, activity_id: int, patch: ActivityPatch) -> Activity:
    a = _writable(session, actor, activity_id)
    community = session.get(GridUnit, a.unit_id)
    assert community is not None
    changes = patch.model_dump(exclude_unset=True)
    errors = Collector()
    for key in ("kind", "hazard", "title", "starts_at", "ends_at", "status"):
        if key in changes and changes[key] is None:
            errors.add(key, _("不能为空"))
    errors.raise_if_any()
    for key in ("starts_at", "ends_at"):
        if changes.get(key) is not None:
            changes[key] = aware(changes[key])
    current = {
        "partner_ids": [p.organization_id for p in _partners_of(session, a.id)],
        "target_unit_ids": [t.unit_id for t in _targets_of(session, a.id)],
        **{k: getattr(a, k) for k in ActivityPatch.model_fields if k not in ("partner_ids", "target_unit_ids")},
    }
    merged = {**current, **changes}
    _check_activity(session, actor, merged, community)
    before = audit.snapshot(a)
    for key, value in merged.items():
        if key not in ("partner_ids", "target_unit_ids"):
            setattr(a, key, value)
    session.flush()
    _set_links(session, a, changes.get("partner_ids"), changes.get("target_unit_ids"))
    old, new = audit.changed(before, audit.snapshot(a))
    old.pop("updated_at", None)
    new.pop("updated_at", None)
    for key in ("partner_ids", "target_unit_ids"):
        if key in changes:
            old[key], new[key] = current[key], changes[key]
    if new:
        audit.record(session, actor, "update", "drill_activity", a.id, before=old, after=new)
    return a


def _partners_of(session: Session, activity_id: int) -> list[ActivityPartner]:
    return list(session.scalars(select(ActivityPartner).where(ActivityPartner.activity_id == activity_id)))


def _targets_of(session: Session, activity_id: int) -> list[ActivityTarget]:
    return list(session.scalars(select(ActivityTarget).where(ActivityTarget.activity_id == activity_id)))


@dataclass
class ActivityView:
    activity: Activity
    community: GridUnit
    partners: list[Organization]
    targets: list[GridUnit]
    place_unit: GridUnit | None
    attendance: int
    can_write: bool
    can_attend: bool

    def to_dict(self) -> dict[str, Any]:
        a = self.activity
        return {
            "id": a.id,
            "unit_id": a.unit_id,
            "community": self.community.name,
            "kind": a.kind,
            "hazard": a.hazard,
            "title": a.title,
            "starts_at": a.starts_at.isoformat(),
            "ends_at": a.ends_at.isoformat(),
            "place": a.place,
            "place_unit_id": a.place_unit_id,
            "lon": a.lon,
            "lat": a.lat,
            "organizer_user_id": a.organizer_user_id,
            "organizer_team_id": a.organizer_team_id,
            "status": a.status,
            "notes": a.notes,
            "partners": [{"id": o.id, "name": o.name, "kind": o.kind} for o in self.partners],
            "targets": [{"id": u.id, "name": u.name, "level": u.level} for u in self.targets],
            "attendance": self.attendance,
        }


def get_activity(session: Session, actor: Principal, activity_id: int) -> ActivityView:
    a = _load(session, actor, activity_id)
    community = session.get(GridUnit, a.unit_id)
    assert community is not None
    partners = list(
        session.scalars(
            select(Organization)
            .join(ActivityPartner, ActivityPartner.organization_id == Organization.id)
            .where(ActivityPartner.activity_id == a.id)
            .order_by(Organization.name)
        )
    )
    targets = list(
        session.scalars(
            select(GridUnit)
            .join(ActivityTarget, ActivityTarget.unit_id == GridUnit.id)
            .where(ActivityTarget.activity_id == a.id)
            .order_by(GridUnit.path)
        )
    )
    count = session.scalar(select(func.count()).where(Attendance.activity_id == a.id)) or 0
    return ActivityView(
        activity=a,
        community=community,
        partners=partners,
        targets=targets,
        place_unit=session.get(GridUnit, a.place_unit_id) if a.place_unit_id else None,
        attendance=count,
        can_write=actor.can(Perm.drills_write) and actor.covers_path(a.path),
        can_attend=actor.can(Perm.drills_attend) and actor.sees_unit(a.path),
    )


SORTS = {"starts_at": Activity.starts_at, "-starts_at": Activity.starts_at.desc(), "title": Activity.title}


def activity_query(
    actor: Principal,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    kind: str | None = None,
    status: str | None = None,
    q: str | None = None,
    unit_path: str | None = None,
) -> Select[tuple[Activity]]:
    actor.require(Perm.drills_read)
    stmt = select(Activity)
    clause = visible_clause(Activity.path, actor)
    if clause is not None:
        stmt = stmt.where(clause)
    if unit_path:
        stmt = stmt.where(subtree_clause(Activity.path, unit_path))
    if since is not None:
        stmt = stmt.where(Activity.starts_at >= since)
    if until is not None:
        stmt = stmt.where(Activity.starts_at < until)
    if kind:
        if kind not in ActivityKind.__members__:
            raise Invalid(_("类型无效"), [FieldError("kind", f"one of {', '.join(ActivityKind)}", value=kind)])
        stmt = stmt.where(Activity.kind == kind)
    if status:
        if status not in Status.__members__:
            raise Invalid(_("状态无效"), [FieldError("status", f"one of {', '.join(Status)}", value=status)])
        stmt = stmt.where(Activity.status == status)
    if q:
        stmt = stmt.where(or_(contains(Activity.title, q.strip()), contains(Activity.place, q.strip())))
    return stmt


def list_activities(
    session: Session, actor: Principal, *, sort: str = "-starts_at", page: int = 1, size: int | None = None, **filters
) -> Page[Activity]:
    if sort not in SORTS:
        raise Invalid(_("排序字段无效"), [FieldError("sort", f"one of {', '.join(SORTS)}")])
    stmt = activity_query(actor, **filters).order_by(SORTS[sort], Activity.id)
    return paginate(session, stmt, page, size)


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
    stmt = activity_query(actor, since=start, until=end).order_by(Activity.starts_at, Activity.id)
    return list(session.scalars(stmt.limit(2000)))


# ---- sign-in ----------------------------------------------------------------------------


def signin_token(activity_id: int) -> str:
    """The code in the QR of one activity: an HMAC, so a sign-in link cannot be made up."""
    key = get_settings().secret_key.encode()
    digest = hmac.new(key, f"drill-signin:{activity_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def check_token(activity_id: int, token: str | None) -> None:
    if not token or not hmac.compare_digest(signin_token(activity_id), token):
        raise Invalid(_("签到码无效"), [FieldError("token", _("请重新扫码"))])


def _check_window(a: Activity, now: datetime, *, by_staff: bool) -> None:
    s = get_settings()
    if a.status == Status.cancelled.value:
        raise Invalid(_("活动已取消"), [FieldError("activity", "cancelled")])
    opens = a.starts_at - timedelta(minutes=s.drill_signin_open_minutes)
    if now < opens:
        raise Invalid(
            _("活动尚未开始，开始前 {drill_signin_open_minutes} 分钟起可签到").format(
                drill_signin_open_minutes=s.drill_signin_open_minutes
            ),
            [FieldError("activity", "not_started")],
        )
    if by_staff:
        if now > a.ends_at + timedelta(days=s.drill_record_days):
            raise Invalid(
                _("活动结束已超过 {drill_record_days} 天，不能再补录").format(drill_record_days=s.drill_record_days),
                [FieldError("activity", "ended")],
            )
    elif now > a.ends_at + timedelta(minutes=s.drill_signin_close_minutes):
        raise Invalid(_("活动已结束，签到已关闭"), [FieldError("activity", "ended")])


def _add(
    session: Session, actor: Principal, a: Activity, resident_ids: list[int], method: Method, now: datetime
) -> tuple[list[int], list[int]]:
    """Insert the residents not yet signed in; returns (added, already there)."""
    ids = sorted(set(resident_ids))
    present: set[int] = set()
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        present.update(
            session.scalars(
                select(Attendance.resident_id).where(Attendance.activity_id == a.id, Attendance.resident_id.in_(chunk))
            )
        )
    new = [rid for rid in ids if rid not in present]
    for rid in new:
        session.add(
            Attendance(activity_id=a.id, resident_id=rid, signed_at=now, method=method.value, recorded_by=actor.user_id)
        )
    session.flush()
    if new:
        audit.record(
            session,
            actor,
            "sign_in",
            "drill_activity",
            a.id,
            summary=f"{method.value}: {len(new)}",
            after={"resident_ids": new[:200], "count": len(new)},
        )
    return new, sorted(present)


def _community_resident(session: Session, a: Activity, resident_id: int) -> Resident:
    r = session.get(Resident, resident_id)
    if r is None or r.deleted_at is not None or not r.path.startswith(a.path):
        raise Invalid(
            _("不是本社区居民"),
            [FieldError("resident_id", "not_in_community", value=str(resident_id))],
        )
    return r


def _result(a: Activity, r: Resident, added: list[int]) -> dict[str, Any]:
    return {
        "activity_id": a.id,
        "title": a.title,
        "resident": mask_name(r.name),
        "status": "signed" if added else "already",
    }


def sign_in_self(
    session: Session, actor: Principal | None, activity_id: int, data: SelfSignIn, now: datetime | None = None
) -> dict[str, Any]:
    """Sign in by the activity's code: a logged-in resident as themselves; anyone else by name,
    the last four digits of the phone and, if needed, the room. The code proves presence at the
    event, so the lookup cannot be used from home to learn who lives here; the answer shows only
    a masked name."""
    now = now or utcnow()
    a = session.get(Activity, activity_id)
    if a is None:
        raise NotFound(_("活动不存在").format(activity_id=activity_id))
    check_token(a.id, data.token)
    _check_window(a, now, by_staff=False)
    if actor is not None and actor.role is Role.resident and actor.resident_id is not None:
        r = _community_resident(session, a, actor.resident_id)
    else:
        r = _verify(session, a, data)
    added, _skipped = _add(session, actor or SYSTEM, a, [r.id], Method.qr, now)
    return _result(a, r, added)


def _verify(session: Session, a: Activity, data: SelfSignIn) -> Resident:
    errors = Collector()
    name = (data.name or "").strip()
    digits = "".join(ch for ch in (data.phone_last4 or "") if ch.isdigit())
    if not name:
        errors.add("name", _("请填写姓名"))
    if len(digits) != 4:
        errors.add("phone_last4", _("请填写手机号后四位"))
    errors.raise_if_any()
    stmt = select(Resident).where(
        subtree_clause(Resident.path, a.path),
        Resident.deleted_at.is_(None),
        Resident.name == name,
        Resident.phone.like(f"%{digits}"),
    )
    matches = list(session.scalars(stmt.limit(20)))
    no_match = Invalid(
        _("未找到与姓名和手机号相符的本社区居民，请找工作人员登记"),
        [FieldError("name", "not_in_community")],
    )
    if not matches:
        raise no_match
    if len(matches) > 1:
        room = (data.room or "").strip().removesuffix("室")
        if not room:
            raise Invalid(
                _("有多位居民相符，请填写门牌号"),
                [FieldError("room", "required")],
            )
        stmt_rooms = select(Household.id, Household.room).where(Household.id.in_([m.household_id for m in matches]))
        rooms = {hid: number for hid, number in session.execute(stmt_rooms)}
        matches = [m for m in matches if rooms.get(m.household_id) == room]
        if len(matches) != 1:
            raise no_match
    return matches[0]


def sign_in_by_staff(
    session: Session, actor: Principal, activity_id: int, resident_ids: list[int], now: datetime | None = None
) -> dict[str, Any]:
    now = now or utcnow()
    a = _load(session, actor, activity_id)
    actor.require(Perm.drills_attend)
    _check_window(a, now, by_staff=True)
    errors = Collector()
    for rid in resident_ids:
        r = session.get(Resident, rid)
        if r is None or r.deleted_at is not None or not actor.covers_path(r.path):
            errors.add("resident_ids", _("居民不存在"), value=rid)
        elif not r.path.startswith(a.path):
            errors.add("resident_ids", _("不是本社区居民"), value=rid)
    errors.raise_if_any()
    added, already = _add(session, actor, a, resident_ids, Method.staff, now)
    return {"added": len(added), "already": len(already)}


def remove_attendance(
    session: Session, actor: Principal, activity_id: int, resident_id: int, now: datetime | None = None
) -> None:
    """Remove one sign-in, within the same window in which staff may add one: once the record is
    closed, coverage and ratings built on it must not change behind the figures reported."""
    now = now or utcnow()
    a = _load(session, actor, activity_id)
    actor.require(Perm.drills_attend)
    days = get_settings().drill_record_days
    if a.status == Status.cancelled.value:
        raise Invalid(_("活动已取消，签到记录不能更改"), [FieldError("activity", "cancelled")])
    if now > a.ends_at + timedelta(days=days):
        raise Invalid(
            _("活动结束已超过 {days} 天，签到记录已关闭，不能删除").format(days=days),
            [FieldError("activity", "ended")],
        )
    row = session.scalar(
        select(Attendance).where(Attendance.activity_id == a.id, Attendance.resident_id == resident_id)
    )
    r = session.get(Resident, resident_id)
    if row is None or r is None or not actor.covers_path(r.path):
        raise NotFound(_("无此签到"))
    session.delete(row)
    audit.record(
        session, actor, "delete", "drill_attendance", row.id, before={"activity_id": a.id, "resident_id": resident_id}
    )


# ---- list upload ------------------------------------------------------------------------

HEADERS = {
    "name": ("姓名", "name", "名字"),
    "id_number": ("身份证号", "身份证号码", "公民身份号码", "idnumber", "身份证"),
    "phone": ("手机号", "手机号码", "手机", "联系电话", "电话", "phone", "mobile"),
}


def import_attendance(
    session: Session, actor: Principal, activity_id: int, data: bytes, file_name: str, now: datetime | None = None
) -> dict[str, Any]:
    """A sign-in sheet (姓名 with 身份证号 or 手机号): every row checked first, every bad row named,
    nothing written unless all are good."""
    now = now or utcnow()
    a = _writable_attend(session, actor, activity_id)
    _check_window(a, now, by_staff=True)
    try:
        sheet = cells.read_table(data, file_name, max_rows=20_000)
    except cells.SheetError as exc:
        raise Invalid(str(exc), [FieldError("file", str(exc))]) from exc
    where: dict[str, int] = {}
    normal = [cells.normalise_header(h) for h in sheet.headers]
    for key, names in HEADERS.items():
        for i, h in enumerate(normal):
            if h in {cells.normalise_header(n) for n in names}:
                where.setdefault(key, i)
    errors = Collector()
    if "name" not in where:
        errors.add("姓名", "缺少“姓名”列 / the 姓名 (name) column is missing", row=1)
    if "id_number" not in where and "phone" not in where:
        errors.add("身份证号", "需要“身份证号”或“手机号”列 / a 身份证号 or 手机号 column is needed", row=1)
    errors.raise_if_any(_("表头有误"))

    parsed: list[tuple[int, str, str | None, str | None]] = []
    for number, row in sheet.rows:

        def cell(key: str, row=row) -> Any:
            i = where.get(key)
            return row[i] if i is not None and i < len(row) else None

        try:
            name = cells.text(cell("name"), 60)
        except cells.CellError as exc:
            errors.add("姓名", str(exc), number)
            continue
        idn = phone = None
        try:
            idn = cells.id_number_text(cell("id_number"))
            if idn:
                idn = parse_id_number(idn).number
        except (cells.CellError, IdNumberError) as exc:
            errors.add("身份证号", str(exc), number, idn)
        try:
            phone = normalise_phone(cells.code_text(cell("phone"), 20))
        except cells.CellError as exc:
            errors.add("手机号", str(exc), number)
        if not name:
            errors.add("姓名", _("必填"), number)
        elif not idn and not phone:
            errors.add("身份证号", _("身份证号或手机号至少填一项"), number)
        else:
            parsed.append((number, name, idn, phone))

    # The community's residents with these names, in a few queries.
    names = sorted({p[1] for p in parsed})
    found: dict[str, list[Resident]] = {}
    for start in range(0, len(names), 500):
        chunk = names[start : start + 500]
        for r in session.scalars(
            select(Resident).where(
                subtree_clause(Resident.path, a.path), Resident.deleted_at.is_(None), Resident.name.in_(chunk)
            )
        ):
            found.setdefault(r.name, []).append(r)
    chosen: dict[int, int] = {}  # resident id → first row
    for number, name, idn, phone in parsed:
        candidates = found.get(name, [])
        if idn:
            hits = [r for r in candidates if r.id_number == idn]
            column_name = "身份证号"
        else:
            hits = [r for r in candidates if r.phone == phone]
            column_name = "手机号"
        if not hits:
            errors.add(
                column_name,
                _("姓名与号码不符或不是本社区居民"),
                number,
            )
        elif len(hits) > 1:
            errors.add(column_name, _("多位居民相符，请改填身份证号"), number)
        elif hits[0].id in chosen:
            errors.add("姓名", _("与第 {value} 行是同一人").format(value=chosen[hits[0].id]), number)
        else:
            chosen[hits[0].id] = number
    errors.raise_if_any(_("签到名单有误，未导入任何记录"))
    if not chosen:
        raise Invalid(_("名单是空的"), [FieldError("file", "empty")])
    added, already = _add(session, actor, a, list(chosen), Method.list, now)
    return {"rows": len(chosen), "added": len(added), "already": len(already)}


def _writable_attend(session: Session, actor: Principal, activity_id: int) -> Activity:
    a = _load(session, actor, activity_id)
    actor.require(Perm.drills_attend)
    if not actor.covers_path(a.path):
        raise Forbidden(_("名单导入需管理整个社区"))
    return a


def shows_names(actor: Principal) -> bool:
    """Roles that work with people face to face see names; analysts see them masked."""
    return bool(actor.clear_fields()) or actor.is_system


def attendance_list(
    session: Session, actor: Principal, activity_id: int, page: int = 1, size: int | None = None
) -> tuple[Page[Any], int]:
    """Who signed in, restricted to the residents the actor may see; and the total count."""
    a = _load(session, actor, activity_id)
    total = session.scalar(select(func.count()).where(Attendance.activity_id == a.id)) or 0
    stmt = (
        select(Attendance, Resident)
        .join(Resident, Resident.id == Attendance.resident_id)
        .where(Attendance.activity_id == a.id)
        .order_by(Attendance.signed_at.desc(), Attendance.id.desc())
    )
    if actor.role is Role.resident:
        stmt = stmt.where(Resident.id == (actor.resident_id or -1))
    elif not actor.can(Perm.residents_read):
        stmt = stmt.where(literal(False))
    else:
        clause = scope_clause(Resident.path, actor)
        if clause is not None:
            stmt = stmt.where(clause)
    return paginate(session, stmt, page, size, scalars=False), total


def attendance_row(actor: Principal, att: Attendance, r: Resident) -> dict[str, Any]:
    own = r.id == actor.resident_id
    return {
        "resident_id": r.id,
        "name": r.name if (own or shows_names(actor)) else mask_name(r.name),
        "signed_at": att.signed_at.isoformat(),
        "method": att.method,
    }


# ---- coverage ---------------------------------------------------------------------------


def window(now: datetime | None = None) -> tuple[datetime, datetime]:
    now = now or utcnow()
    return now - timedelta(days=WINDOW_DAYS), now


def _live_activities(since: datetime, until: datetime):
    return and_(Activity.starts_at >= since, Activity.starts_at <= until, Activity.status != Status.cancelled.value)


def building_reach(session: Session, root_path: str, since: datetime, until: datetime) -> list[tuple[str, int, int]]:
    """(building path, residents, residents reached) under ``root_path``: one grouped query."""
    in_scope = (subtree_clause(Resident.path, root_path), Resident.deleted_at.is_(None))
    if session.get_bind().dialect.name == "sqlite":
        # SQLite: a correlated EXISTS per resident walks the (resident_id, activity_id) index, a few
        # rows each; building the set of distinct attendees first costs twice as much there.
        attended = (
            select(Attendance.id)
            .join(Activity, Activity.id == Attendance.activity_id)
            .where(Attendance.resident_id == Resident.id, _live_activities(since, until), _concerning(root_path))
            .exists()
        )
        reached_count = func.sum(case((attended, 1), else_=0))
        stmt = select(Resident.path, func.count(Resident.id), reached_count).where(*in_scope).group_by(Resident.path)
    else:
        # PostgreSQL plans a correlated EXISTS in the select list as a subplan per row; the distinct
        # attendees of the live activities (read from the (activity_id, resident_id) unique index),
        # hash-joined to the residents once, are much faster.
        live = select(Activity.id).where(_live_activities(since, until), _concerning(root_path))
        reached = select(Attendance.resident_id).where(Attendance.activity_id.in_(live)).distinct().subquery()
        stmt = (
            select(Resident.path, func.count(Resident.id), func.count(reached.c.resident_id))
            .outerjoin(reached, reached.c.resident_id == Resident.id)
            .where(*in_scope)
            .group_by(Resident.path)
        )
    return [(p, int(n), int(k or 0)) for p, n, k in session.execute(stmt)]


def _concerning(root_path: str):
    """Activities kept at ``root_path``'s community (above it) or at communities inside it."""
    return or_(subtree_clause(Activity.path, root_path), Activity.path.in_(cov.ancestors(root_path)))


def activity_targets(session: Session, root_path: str, since: datetime, until: datetime) -> list[list[str]]:
    """The target paths of each live activity concerning ``root_path`` (its community's path
    when the activity names no target)."""
    stmt = (
        select(Activity.id, Activity.path, GridUnit.path)
        .outerjoin(ActivityTarget, ActivityTarget.activity_id == Activity.id)
        .outerjoin(GridUnit, GridUnit.id == ActivityTarget.unit_id)
        .where(_live_activities(since, until), _concerning(root_path))
    )
    out: dict[int, list[str]] = {}
    for aid, community_path, target_path in session.execute(stmt):
        out.setdefault(aid, []).append(target_path or community_path)
    return list(out.values())


def _root_for(session: Session, actor: Principal, unit_id: int | None) -> GridUnit:
    actor.require(Perm.drills_read)
    if unit_id is not None:
        unit = session.get(GridUnit, unit_id)
        if unit is None:
            raise NotFound(_("网格单元不存在").format(unit_id=unit_id))
        if not (actor.covers_path(unit.path) or (actor.role is Role.resident and _own_community(session, actor, unit))):
            raise Forbidden(_("不在您的网格范围内").format(unit_id=unit_id))
        return unit
    if actor.role is Role.resident or (actor.scope_paths and actor.role in (Role.volunteer, Role.partner)):
        path = actor.scope_paths[0] if actor.scope_paths else ""
        unit = community_of(session, path)
        if unit is None:
            raise NotFound(_("没有所属社区"))
        return unit
    if actor.is_global or not actor.scope_paths:
        unit = session.scalar(select(GridUnit).where(GridUnit.parent_id.is_(None)).order_by(GridUnit.id))
    else:
        unit = session.scalar(select(GridUnit).where(GridUnit.path == actor.scope_paths[0]))
    if unit is None:
        raise NotFound(_("没有网格"))
    return unit


def _own_community(session: Session, actor: Principal, unit: GridUnit) -> bool:
    """Residents see the aggregates of their community and of the units in it."""
    home = community_of(session, actor.scope_paths[0]) if actor.scope_paths else None
    return home is not None and unit.path.startswith(home.path)


@dataclass
class UnitCoverage:
    id: int
    path: str
    name: str
    level: str
    depth: int
    residents: int
    reached: int
    reach: float | None
    needed: int
    activities: int
    standing: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def coverage_report(
    session: Session, actor: Principal, unit_id: int | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """Rolling 12-month coverage of the unit's subtree: each unit's reach against the target, the
    activities held against the yearly target (communities), and the lagging buildings."""
    s = get_settings()
    root = _root_for(session, actor, unit_id)
    since, until = window(now)
    units = list(
        session.execute(
            select(GridUnit.id, GridUnit.path, GridUnit.name, GridUnit.level)
            .where(subtree_clause(GridUnit.path, root.path))
            .order_by(GridUnit.path)
        )
    )
    leaves = building_reach(session, root.path, since, until)
    targets = activity_targets(session, root.path, since, until)
    result = cov.coverage(
        [u.path for u in units],
        [p for p, _, _ in leaves],
        [n for _, n, _ in leaves],
        [k for _, _, k in leaves],
        targets,
        reach_target=s.drill_reach_target,
        lag_ratio=s.drill_lag_ratio,
    )
    base = root.path.count("/")
    rows = [
        UnitCoverage(
            id=u.id,
            path=u.path,
            name=u.name,
            level=u.level,
            depth=u.path.count("/") - base,
            residents=int(result.residents[i]),
            reached=int(result.reached[i]),
            reach=None if result.residents[i] == 0 else round(float(result.reach[i]), 4),
            needed=int(result.needed[i]),
            activities=int(result.activities[i]),
            standing=result.standing[i].value,
        )
        for i, u in enumerate(units)
    ]
    buildings = [r for r in rows if r.level == Level.building.value]
    lagging = sorted(
        (r for r in buildings if r.standing in (cov.Standing.lagging.value, cov.Standing.behind.value)),
        key=lambda r: (r.standing != cov.Standing.lagging.value, r.reach if r.reach is not None else 1, -r.needed),
    )
    communities = [
        {**r.to_dict(), "activity_target": s.drill_activity_target} for r in rows if r.level == Level.community.value
    ]
    return {
        "unit": {"id": root.id, "name": root.name, "level": root.level, "path": root.path},
        "since": since.isoformat(),
        "until": until.isoformat(),
        "reach_target": s.drill_reach_target,
        "activity_target": s.drill_activity_target,
        "lag_ratio": s.drill_lag_ratio,
        "total": rows[0].to_dict() if rows else None,
        "communities": communities,
        "units": [r.to_dict() for r in rows],
        "lagging": [r.to_dict() for r in lagging],
    }


# ---- residents not yet reached ----------------------------------------------------------


def _priority(actor: Principal, today: date):
    """How urgently to invite someone: the vulnerable first. Health-based parts only for roles
    that see health data, so the order cannot reveal what the role may not see."""
    old80, old60, baby = years_ago(today, 80), years_ago(today, 60), years_ago(today, 3)
    score = (
        case((Resident.birth_date <= old80, 3), else_=0)
        + case((Resident.birth_date <= old60, 1), else_=0)
        + case((Resident.living_alone.is_(True), 2), else_=0)
        + case((Resident.birth_date > baby, 1), else_=0)
    )
    if Field.health in actor.clear_fields():
        score = (
            score
            + case((Resident.bedridden.is_(True), 5), else_=0)
            + case((Resident.special_needs.is_not(None), 4), else_=0)
            + case((Resident.disability_kind.is_not(None), 3), else_=0)
            + case((Resident.pregnant.is_(True), 2), else_=0)
            + case((Resident.chronic_illness.is_not(None), 1), else_=0)
        )
    return score


def not_reached_query(session: Session, actor: Principal, unit_id: int | None, now: datetime | None = None):
    actor.require(Perm.drills_attend)
    actor.require(Perm.residents_read)
    root = _root_for(session, actor, unit_id)
    if not actor.covers_path(root.path):
        raise Forbidden(_("不在您的网格范围内"))
    since, until = window(now)
    # Joined rather than "activity_id IN (...)": per resident, SQLite would probe the index once
    # for every live activity.
    attended = (
        select(Attendance.id)
        .join(Activity, Activity.id == Attendance.activity_id)
        .where(Attendance.resident_id == Resident.id, _live_activities(since, until), _concerning(root.path))
    )
    score = _priority(actor, (now or utcnow()).astimezone(tz()).date()).label("priority")
    stmt = (
        select(Resident, score)
        .where(subtree_clause(Resident.path, root.path), Resident.deleted_at.is_(None), ~exists(attended))
        .order_by(score.desc(), Resident.path, Resident.id)
    )
    clause = scope_clause(Resident.path, actor)
    if clause is not None:
        stmt = stmt.where(clause)
    return root, stmt


def not_reached(
    session: Session,
    actor: Principal,
    unit_id: int | None = None,
    page: int = 1,
    size: int | None = None,
    now: datetime | None = None,
) -> tuple[GridUnit, Page[Any]]:
    root, stmt = not_reached_query(session, actor, unit_id, now)
    return root, paginate(session, stmt, page, size, scalars=False)


def _labels(session: Session, residents: list[Resident]) -> dict[int, str]:
    """Building and room of each resident's household, e.g. "1栋 2-201"."""
    hh_ids = sorted({r.household_id for r in residents})
    if not hh_ids:
        return {}
    rows = session.execute(
        select(Household.id, Household.unit_no, Household.room, GridUnit.name)
        .join(GridUnit, GridUnit.id == Household.building_id)
        .where(Household.id.in_(hh_ids))
    )
    return {hid: f"{b} {u}-{room}" for hid, u, room, b in rows}


def invite_rows(session: Session, actor: Principal, residents: list[Resident]) -> list[dict[str, Any]]:
    """Residents to invite, masked as a list is: names only for roles that meet people, phones masked."""
    today = date.today()
    clear_health = Field.health in actor.clear_fields()
    labels = _labels(session, residents)
    out = []
    for r in residents:
        tags = [t for t in tags_of(r, today) if clear_health or t not in vulnerability.HEALTH_TAGS]
        out.append(
            {
                "id": r.id,
                "name": r.name if shows_names(actor) else mask_name(r.name),
                "household": labels.get(r.household_id, ""),
                "age": vulnerability.age_on(r.birth_date, today) if r.birth_date else None,
                "tags": [t.value for t in tags],
                "phone": mask_phone(r.phone),
            }
        )
    return out


def export_not_reached(
    session: Session, actor: Principal, unit_id: int | None = None, now: datetime | None = None
) -> tuple[GridUnit, list[str], list[list[Any]]]:
    """The whole invitation list for roles that may call people (phones in the clear), audited."""
    if Field.phone not in actor.clear_fields():
        raise Forbidden(_("您的角色不能导出联系电话"))
    root, stmt = not_reached_query(session, actor, unit_id, now)
    residents = [r for r, _ in session.execute(stmt.limit(100_000))]
    labels = _labels(session, residents)
    today = date.today()
    clear = actor.clear_fields()
    rows = []
    for r in residents:
        tags = tags_of(r, today)
        shown = [
            str(vulnerability.TAG_LABELS[t])
            for t in tags
            if Field.health in clear or t not in vulnerability.HEALTH_TAGS
        ]
        rows.append(
            [
                r.name,
                labels.get(r.household_id, ""),
                vulnerability.age_on(r.birth_date, today) if r.birth_date else None,
                "、".join(shown),
                r.phone,
                r.id_number if Field.id_number in clear else mask_id_number(r.id_number),
            ]
        )
    audit.record(
        session, actor, "export", "drill_not_reached", root.id, summary=f"{len(rows)} residents, phones in the clear"
    )
    headers = ["姓名", "住址", "年龄", "重点人群", "联系电话", "身份证号"]
    return root, headers, rows


def signin_code(session: Session, actor: Principal, activity_id: int, base_url: str) -> dict[str, Any]:
    """The sign-in link of an activity and its QR code (SVG), for staff to show at the event."""
    a = _load(session, actor, activity_id)
    actor.require(Perm.drills_attend)
    token = signin_token(a.id)
    url = f"{base_url.rstrip('/')}/drills/{a.id}/signin?t={token}"
    svg = segno.make(url, error="m").svg_inline(scale=5, dark="#1f2733", title=_("签到"))
    return {"activity_id": a.id, "token": token, "url": url, "svg": svg}
