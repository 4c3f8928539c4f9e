"""Duplicates: the open reports near one, and folding one into another.

nearby = merge_candidates(session, actor, report_id)   # open, same category, 50 m and 24 h: offered, never merged
merge(session, actor, report_id, into_report_id=…)     # closes the duplicate; its followers follow the original
"""

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from renxing.auth.principal import Principal
from renxing.db import utcnow
from renxing.errors import Conflict, FieldError, Invalid, NotFound
from renxing.events.access import load_report, visible_clause
from renxing.events.lookups import actor_label
from renxing.events.models import Report, ReportEvent, ReportFollower
from renxing.events.policy import OPEN_STATES, Action, State
from renxing.events.transitions import announce, apply_step, followers_of, note_text, step_for
from renxing.geo import sphere
from renxing.i18n import _, bilingual

MERGE_RADIUS_M = 50.0
MERGE_HOURS = 24


def merge_candidates(
    session: Session,
    actor: Principal,
    report_id: int,
    *,
    radius_m: float = MERGE_RADIUS_M,
    hours: int = MERGE_HOURS,
) -> list[tuple[Report, float | None]]:
    """Open reports of the same category near this one (within ``radius_m``, or at the same
    building when either has no point) filed within ``hours``: offered for merging, never merged."""
    report, _ = load_report(session, actor, report_id)
    since = report.created_at - timedelta(hours=hours)
    stmt = select(Report).where(
        Report.category_code == report.category_code,
        Report.created_at >= since,
        Report.id != report.id,
        Report.state.in_([s.value for s in OPEN_STATES]),
        visible_clause(actor),
    )
    if report.lon is not None and report.lat is not None:
        w, s, e, n = sphere.degree_box(report.lon, report.lat, radius_m)
        near = and_(Report.lon.between(w, e), Report.lat.between(s, n))
        stmt = stmt.where(or_(near, and_(Report.lon.is_(None), Report.unit_id == report.unit_id)))
    else:
        stmt = stmt.where(Report.unit_id == report.unit_id)
    out: list[tuple[Report, float | None]] = []
    for other in session.scalars(stmt.order_by(Report.created_at.desc()).limit(200)):
        if report.lon is not None and other.lon is not None and other.lat is not None and report.lat is not None:
            d = sphere.haversine_m(report.lon, report.lat, other.lon, other.lat)
            if d <= radius_m:
                out.append((other, round(d, 1)))
        else:
            out.append((other, None))
    out.sort(key=lambda x: (x[1] is None, x[1] or 0.0))
    return out


def merge(
    session: Session,
    actor: Principal,
    report_id: int,
    *,
    into_report_id: int | None,
    note: str | None = None,
    now: datetime | None = None,
) -> Report:
    """Fold a duplicate into another open report; its followers follow that one from now on."""
    now = now or utcnow()
    report, kinds = load_report(session, actor, report_id, for_update=True)
    row = step_for(session, actor, report, kinds, Action.merge)
    if into_report_id is None or into_report_id == report.id:
        msg = _("请指定合并到的事件")
        raise Invalid(msg, [FieldError("into_report_id", _("必填"))])
    try:
        target, _target_kinds = load_report(session, actor, into_report_id, for_update=True)
    except NotFound as exc:
        raise Invalid(_("目标事件不存在"), [FieldError("into_report_id", str(exc.message))]) from exc
    if State(target.state) not in OPEN_STATES and target.state != State.resolved.value:
        raise Conflict(_("目标事件已结束，不能并入"))
    report.merged_into_id = target.id
    report.closed_at = now
    told = {"other_report_id": target.id}
    apply_step(
        session, actor, report, row, Action.merge, now, note=note_text(note), data={"into": target.id}, told=told
    )
    moved = [uid for uid in followers_of(session, report.id) if session.get(ReportFollower, (target.id, uid)) is None]
    for uid in moved:
        session.add(ReportFollower(report_id=target.id, user_id=uid, reason="merged", since=now))
    session.add(
        ReportEvent(
            report_id=target.id,
            at=now,
            actor_user_id=actor.user_id,
            actor_label=actor_label(actor),
            action=Action.merged_in.value,
            from_state=target.state,
            to_state=target.state,
            note=bilingual("#{id} 并入", id=report.id),
            data={"from": report.id},
        )
    )
    target.updated_at = now
    session.flush()
    announce(session, actor, target, Action.merged_in.value, target.state, note=None, other_report_id=report.id)
    return report
