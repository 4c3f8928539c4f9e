"""Attendance of an activity: the time window for recording it, staff sign-in and removal, and
the list of who signed in, restricted to the residents the reader may see."""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import false, func, select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.config import get_settings
from renxing.db import utcnow
from renxing.drills.activities import load
from renxing.drills.models import Activity, Attendance, Method, Status
from renxing.errors import Collector, FieldError, Invalid, NotFound
from renxing.grid.scope import in_scope, scope_clause
from renxing.i18n import _
from renxing.listing import ListQuery, ListSpec, Page, list_page
from renxing.people import directory as people
from renxing.people.masking import mask_name

# People's records are joined here rather than read through the register's functions: the list
# is one page of a join on resident_id, filtered by the reader's scope over the residents' paths.
from renxing.people.models import Resident

CHUNK = 1000  # resident ids per query
ATTENDANCE = ListSpec(sorts={"signed_at": Attendance.signed_at}, default_sort="-signed_at", tiebreaker=Attendance.id)


def check_window(a: Activity, now: datetime, *, by_staff: bool) -> None:
    """Residents sign in from shortly before the start until shortly after the end; staff may
    record attendance for some days after. Nothing is recorded for a cancelled activity."""
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


def record(
    session: Session, actor: Principal, a: Activity, resident_ids: list[int], method: Method, now: datetime
) -> tuple[list[int], list[int]]:
    """Insert the residents not yet signed in; returns (added, already there)."""
    ids = sorted(set(resident_ids))
    present: set[int] = set()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
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


def sign_in_by_staff(
    session: Session, actor: Principal, activity_id: int, resident_ids: list[int], now: datetime | None = None
) -> dict[str, Any]:
    now = now or utcnow()
    a = load(session, actor, activity_id)
    actor.require(Perm.drills_attend)
    check_window(a, now, by_staff=True)
    errors = Collector()
    for rid in resident_ids:
        r = people.living_resident(session, rid)
        if r is None or not in_scope(actor, r.path):
            errors.add("resident_ids", _("居民不存在"), value=rid)
        elif not r.path.startswith(a.path):
            errors.add("resident_ids", _("不是本社区居民"), value=rid)
    errors.raise_if_any()
    added, already = record(session, actor, a, resident_ids, Method.staff, now)
    return {"added": len(added), "already": len(already)}


def remove_attendance(
    session: Session, actor: Principal, activity_id: int, resident_id: int, now: datetime | None = None
) -> None:
    """Remove one sign-in, within the same window in which staff may add one: once the record is
    closed, coverage and ratings built on it must not change behind the figures reported."""
    now = now or utcnow()
    a = load(session, actor, activity_id)
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
    path = people.resident_path(session, resident_id)
    if row is None or path is None or not in_scope(actor, path):
        raise NotFound(_("无此签到"))
    session.delete(row)
    audit.record(
        session, actor, "delete", "drill_attendance", row.id, before={"activity_id": a.id, "resident_id": resident_id}
    )


def shows_names(actor: Principal) -> bool:
    """Roles that work with people face to face see names; analysts see them masked."""
    return bool(actor.clear_fields()) or actor.is_system


def attendance_list(session: Session, actor: Principal, activity_id: int, query: ListQuery) -> tuple[Page[Any], int]:
    """Who signed in, restricted to the residents the actor may see (a resident: themselves); and
    the number of everyone signed in."""
    a = load(session, actor, activity_id)
    total = session.scalar(select(func.count()).where(Attendance.activity_id == a.id)) or 0
    stmt = (
        select(Attendance, Resident)
        .join(Resident, Resident.id == Attendance.resident_id)
        .where(Attendance.activity_id == a.id)
    )
    if actor.household_only:
        stmt = stmt.where(Resident.id == (actor.resident_id or -1))
    elif not actor.can(Perm.residents_read):
        stmt = stmt.where(false())
    else:
        clause = scope_clause(Resident.path, actor)
        if clause is not None:
            stmt = stmt.where(clause)
    return list_page(session, stmt, ATTENDANCE, query, scalars=False), total


def attendance_row(actor: Principal, att: Attendance, r: Resident) -> dict[str, Any]:
    own = r.id == actor.resident_id
    return {
        "resident_id": r.id,
        "name": r.name if (own or shows_names(actor)) else mask_name(r.name),
        "signed_at": att.signed_at.isoformat(),
        "method": att.method,
    }
