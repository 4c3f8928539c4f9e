"""The actions of the closed loop, each a function checked against the transition table.

    assign(session, actor, report_id, to_user_id=…)          transfer(…, reason=…, to_user_id=… | to_label=…)
    accept(…)   check_in(…, lon=…, lat=…, photo=…)   resolve(…, note=…, photo=…)   close(…)
    reject(…, reason=…)   reopen(…)   feedback(…, solved=…, rating=…, comment=…)
    merge(…, into_report_id=…)                              (:mod:`renxing.events.merging`)
    perform(session, actor, report_id, "accept", ActionIn(...))   # any of them by name, for the web layer
    escalate(session, report, now, reason=…)                # one level up the chain (the sweep: many at once)

Each loads the report for the actor (:func:`renxing.events.access.load_report`: NotFound when
they may not see it), takes its step (:mod:`renxing.events.transitions`: Forbidden or Conflict
from the table) and changes the report; nothing is stored when a check fails.
"""

from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from renxing.auth.principal import Principal
from renxing.db import utcnow
from renxing.errors import Collector, Conflict, FieldError, Forbidden, Invalid, NotFound
from renxing.events import deadlines, media
from renxing.events.access import load_report, may_give_feedback
from renxing.events.ladders import ladder
from renxing.events.lookups import actor_label, category_of, invalid_from, minutes_of, report_link, user_label
from renxing.events.merging import merge
from renxing.events.models import Report, ReportEvent, ReportTransition
from renxing.events.policy import FEEDBACK_DAYS, Action, State
from renxing.events.schemas import ActionIn
from renxing.events.transitions import apply_step, note_text, one_photo, required_note, staff_user, step_for
from renxing.geo import sphere
from renxing.i18n import _, bilingual
from renxing.signals.bus import publish
from renxing.signals.catalog import ReportEscalated


def assign(
    session: Session,
    actor: Principal,
    report_id: int,
    *,
    to_user_id: int | None,
    note: str | None = None,
    now: datetime | None = None,
) -> Report:
    """Give an unassigned report a handler."""
    now = now or utcnow()
    report, kinds = load_report(session, actor, report_id, for_update=True)
    row = step_for(session, actor, report, kinds, Action.assign)
    user = staff_user(session, to_user_id)
    report.handler_user_id, report.handler_label, report.handler_kind = user.id, user_label(user), "user"
    report.assigned_at = now
    apply_step(session, actor, report, row, Action.assign, now, note=note_text(note), data={"to": report.handler_label})
    return report


def transfer(
    session: Session,
    actor: Principal,
    report_id: int,
    *,
    reason: str | None,
    to_user_id: int | None = None,
    to_label: str | None = None,
    now: datetime | None = None,
) -> Report:
    """Hand the report to someone else (a user, or an organization by name), with a reason."""
    now = now or utcnow()
    report, kinds = load_report(session, actor, report_id, for_update=True)
    row = step_for(session, actor, report, kinds, Action.transfer)
    reason = required_note(row, reason, "reason")
    label = note_text(to_label)
    if to_user_id is None and not label:
        raise Invalid(_("请指定转办对象"), [FieldError("to_user_id", _("必填"))])
    previous = report.handler_user_id
    if to_user_id is not None:
        user = staff_user(session, to_user_id)
        report.handler_user_id, report.handler_label, report.handler_kind = user.id, user_label(user), "user"
    else:
        report.handler_user_id, report.handler_label, report.handler_kind = None, label, "partner"
    report.assigned_at = now
    apply_step(
        session,
        actor,
        report,
        row,
        Action.transfer,
        now,
        note=reason,
        data={"to": report.handler_label, "from_user_id": previous},
        told={"previous_handler_id": previous},
    )
    return report


def accept(
    session: Session, actor: Principal, report_id: int, *, note: str | None = None, now: datetime | None = None
) -> Report:
    now = now or utcnow()
    report, kinds = load_report(session, actor, report_id, for_update=True)
    row = step_for(session, actor, report, kinds, Action.accept)
    report.accepted_at = now
    if report.handler_user_id is None and actor.user_id is not None:
        report.handler_user_id, report.handler_label = actor.user_id, actor_label(actor)
    apply_step(session, actor, report, row, Action.accept, now, note=note_text(note))
    return report


def check_in(
    session: Session,
    actor: Principal,
    report_id: int,
    *,
    lon: float | None,
    lat: float | None,
    note: str | None = None,
    photo: bytes | None = None,
    now: datetime | None = None,
) -> Report:
    """到场: the handler is on the ground, at a position, with a photo if they took one."""
    now = now or utcnow()
    report, kinds = load_report(session, actor, report_id, for_update=True)
    row = step_for(session, actor, report, kinds, Action.check_in)
    if not sphere.valid_point(lon, lat):
        msg = _("到场须有位置")
        raise Invalid(msg, [FieldError("lat", msg), FieldError("long", msg)])
    cleaned = one_photo(photo)
    distance = (
        round(sphere.haversine_m(lon, lat, report.lon, report.lat), 1)  # type: ignore[arg-type]
        if report.lon is not None and report.lat is not None
        else None
    )
    report.on_site_at = now
    event = apply_step(
        session,
        actor,
        report,
        row,
        Action.check_in,
        now,
        note=note_text(note),
        lon=lon,
        lat=lat,
        data={"distance_m": distance},
    )
    if cleaned:
        media.store_photo(session, report.id, cleaned, "check_in", event.id, now)
    return report


def resolve(
    session: Session,
    actor: Principal,
    report_id: int,
    *,
    note: str | None,
    photo: bytes | None = None,
    now: datetime | None = None,
) -> Report:
    now = now or utcnow()
    report, kinds = load_report(session, actor, report_id, for_update=True)
    row = step_for(session, actor, report, kinds, Action.resolve)
    note = required_note(row, note, "note")
    cleaned = one_photo(photo)
    report.resolved_at = now
    report.resolution_note = note
    event = apply_step(session, actor, report, row, Action.resolve, now, note=note)
    if cleaned:
        media.store_photo(session, report.id, cleaned, "resolve", event.id, now)
    return report


def close(
    session: Session, actor: Principal, report_id: int, *, note: str | None = None, now: datetime | None = None
) -> Report:
    now = now or utcnow()
    report, kinds = load_report(session, actor, report_id, for_update=True)
    row = step_for(session, actor, report, kinds, Action.close)
    report.closed_at, report.close_reason = now, "staff"
    apply_step(session, actor, report, row, Action.close, now, note=note_text(note))
    return report


def reject(
    session: Session, actor: Principal, report_id: int, *, reason: str | None, now: datetime | None = None
) -> Report:
    """退回: not a matter for the platform or not real; the reason is shown to the reporter."""
    now = now or utcnow()
    report, kinds = load_report(session, actor, report_id, for_update=True)
    row = step_for(session, actor, report, kinds, Action.reject)
    reason = required_note(row, reason, "reason")
    report.reject_reason = reason
    report.closed_at = now
    apply_step(session, actor, report, row, Action.reject, now, note=reason)
    return report


def reopen(
    session: Session, actor: Principal, report_id: int, *, reason: str | None = None, now: datetime | None = None
) -> Report:
    """The reporter (or staff) reopens within seven days of resolution."""
    now = now or utcnow()
    report, kinds = load_report(session, actor, report_id, for_update=True)
    row = step_for(session, actor, report, kinds, Action.reopen)
    _reopen(session, actor, report, row, note_text(reason), now)
    return report


def _reopen(
    session: Session, actor: Principal, report: Report, row: ReportTransition, reason: str | None, now: datetime
) -> None:
    if report.resolved_at is None or now - report.resolved_at > timedelta(days=FEEDBACK_DAYS):
        raise Conflict(_("办结已超过{feedback_days}天，不能重新打开").format(feedback_days=FEEDBACK_DAYS))
    report.reopen_count += 1
    report.closed_at = None
    report.close_reason = None
    m = minutes_of(session, report.severity)
    # A new round of deadlines from now: the problem is back.
    report.due_accept, report.due_on_site, report.due_resolve = deadlines.due_times(now, m)
    apply_step(session, actor, report, row, Action.reopen, now, note=reason)


def feedback(
    session: Session,
    actor: Principal,
    report_id: int,
    *,
    solved: bool | None,
    rating: int | None = None,
    comment: str | None = None,
    now: datetime | None = None,
) -> Report:
    """回访: solved → closed; not solved → reopened and escalated one level. The rating is kept either way."""
    now = now or utcnow()
    report, kinds = load_report(session, actor, report_id, for_update=True)
    errors = Collector()
    if solved is None:
        errors.add("solved", _("请说明是否解决"))
    if rating is not None and not 1 <= rating <= 5:
        errors.add("rating", _("评分应为1到5"), value=rating)
    errors.raise_if_any()
    if not may_give_feedback(report, kinds):
        raise Forbidden(_("评价由上报人作出"))
    action = Action.feedback if solved else Action.reopen
    row = step_for(session, actor, report, kinds, action)
    if row.from_state != State.resolved.value:
        raise Conflict(_("只能评价已办结的事件"))
    report.feedback_solved, report.feedback_rating = solved, rating
    report.feedback_comment, report.feedback_at = note_text(comment), now
    data = {"solved": solved, "rating": rating}
    if solved:
        report.closed_at, report.close_reason = now, "feedback"
        told = {"rating": rating}
        apply_step(session, actor, report, row, Action.feedback, now, note=note_text(comment), data=data, told=told)
        return report
    _reopen(session, actor, report, row, note_text(comment) or bilingual("居民反馈未解决"), now)
    escalate(session, report, now, reason=bilingual("居民反馈未解决"))
    return report


def escalate(session: Session, report: Report, now: datetime, *, reason: str) -> bool:
    """Climb one level of the chain for one report (the sweep does the same in bulk)."""
    rung = deadlines.next_rung(ladder(session, report.unit_id, report.household_id), report.escalation_level)
    if rung is None:
        return False
    report.escalation_level = rung.level
    report.escalated_to_user_id, report.escalated_to_label, report.escalated_at = rung.user_id, rung.label, now
    session.add(
        ReportEvent(
            report_id=report.id,
            at=now,
            actor_label="系统",
            action=Action.escalate.value,
            from_state=report.state,
            to_state=report.state,
            note=f"{rung.label}（{reason}）",
            escalation_level=rung.level,
        )
    )
    cat = category_of(session, report.category_code)
    escalated = ReportEscalated(
        report_id=report.id,
        category=cat.name_zh if cat else report.category_code,
        level=rung.level,
        handler_user_id=report.handler_user_id,
        escalated_to_user_id=report.escalated_to_user_id,
        reason=reason,
        link=report_link(report.id),
    )
    publish(session, escalated)
    return True


ACTIONS = {
    a.value
    for a in (
        Action.assign,
        Action.transfer,
        Action.accept,
        Action.check_in,
        Action.resolve,
        Action.close,
        Action.reject,
        Action.merge,
        Action.reopen,
        Action.feedback,
    )
}


def perform(
    session: Session,
    actor: Principal,
    report_id: int,
    action: str,
    data: ActionIn | dict[str, Any] | None = None,
    *,
    photo: bytes | None = None,
    now: datetime | None = None,
) -> Report:
    """Any action by name, its arguments from :class:`ActionIn` (the web layer's entry)."""
    if action not in ACTIONS:
        raise NotFound(_("未知操作：{action}").format(action=action))
    arguments = _action_input(data)
    a = Action(action)
    if photo is not None and a not in (Action.check_in, Action.resolve):
        raise Invalid(_("此操作不带照片"), [FieldError("photo", "unexpected")])
    return _by_name(session, actor, report_id, a, arguments, photo, now)


def _action_input(data: ActionIn | dict[str, Any] | None) -> ActionIn:
    if isinstance(data, ActionIn):
        return data
    try:
        return ActionIn.model_validate(data or {})
    except ValidationError as exc:
        raise invalid_from(exc) from exc


def _by_name(
    session: Session,
    actor: Principal,
    report_id: int,
    a: Action,
    data: ActionIn,
    photo: bytes | None,
    now: datetime | None,
) -> Report:
    """The action's function with its arguments (a reason falls back to the note)."""
    reason = data.reason if data.reason is not None else data.note
    if a is Action.assign:
        return assign(session, actor, report_id, to_user_id=data.to_user_id, note=data.note, now=now)
    if a is Action.transfer:
        return transfer(
            session, actor, report_id, reason=reason, to_user_id=data.to_user_id, to_label=data.to_label, now=now
        )
    if a is Action.accept:
        return accept(session, actor, report_id, note=data.note, now=now)
    if a is Action.check_in:
        return check_in(session, actor, report_id, lon=data.long, lat=data.lat, note=data.note, photo=photo, now=now)
    if a is Action.resolve:
        return resolve(session, actor, report_id, note=data.note, photo=photo, now=now)
    if a is Action.close:
        return close(session, actor, report_id, note=data.note, now=now)
    if a is Action.reject:
        return reject(session, actor, report_id, reason=reason, now=now)
    if a is Action.merge:
        return merge(session, actor, report_id, into_report_id=data.into_report_id, note=data.note, now=now)
    if a is Action.reopen:
        return reopen(session, actor, report_id, reason=reason, now=now)
    return feedback(session, actor, report_id, solved=data.solved, rating=data.rating, comment=data.comment, now=now)
