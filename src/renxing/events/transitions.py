"""Taking one step of the state machine: what every action shares.

    row = step_for(session, actor, report, kinds, Action.accept)        # Forbidden or Conflict from the table
    apply_step(session, actor, report, row, Action.accept, now, note=…)  # state, next look, timeline, audit, event

The states and transitions are data (``report_transitions``): an action the user's relation to
the report never allows is Forbidden (403), one the current state does not allow is Conflict
(409), and nothing is written then. Every step is announced as ``events.report_transitioned``;
the inbox messages are written by its subscribers.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.models import User
from renxing.auth.policy import Role
from renxing.auth.principal import Principal
from renxing.errors import Collector, Conflict, FieldError, Forbidden, Invalid
from renxing.events import deadlines, media
from renxing.events.lookups import actor_label, category_of, minutes_of, report_link, state_labels
from renxing.events.models import Report, ReportEvent, ReportFollower, ReportTransition
from renxing.events.policy import ACTION_LABELS, MAX_PHOTO_BYTES, Action, ActorKind, State, parse_actors
from renxing.i18n import _, localized
from renxing.signals.bus import publish
from renxing.signals.catalog import ReportTransitioned


def step_for(
    session: Session, actor: Principal, report: Report, kinds: frozenset[ActorKind], action: Action
) -> ReportTransition:
    """The row of the transition table the actor takes: Forbidden when their relation to the report
    never allows the action, Conflict when the report's state does not."""
    rows = list(session.scalars(select(ReportTransition).where(ReportTransition.action == action.value)))
    if not any(kinds & parse_actors(r.actors) for r in rows):
        raise Forbidden(_("您不能对此事件执行「{action}」").format(action=ACTION_LABELS[action], code=action.value))
    row = next((r for r in rows if r.from_state == report.state), None)
    if row is None:
        state = localized(*state_labels(session).get(report.state, (report.state, report.state)))
        raise Conflict(
            _("事件当前为「{state}」，不能{action}").format(
                state=state, action=ACTION_LABELS[action], code=action.value
            )
        )
    if not kinds & parse_actors(row.actors):
        raise Forbidden(_("您不能对此事件执行「{action}」").format(action=ACTION_LABELS[action], code=action.value))
    return row


def apply_step(
    session: Session,
    actor: Principal,
    report: Report,
    row: ReportTransition,
    action: Action,
    now: datetime,
    *,
    note: str | None = None,
    lon: float | None = None,
    lat: float | None = None,
    data: dict[str, Any] | None = None,
    told: dict[str, Any] | None = None,
) -> ReportEvent:
    """Move the report along ``row``, schedule its next look, put the step on the timeline and
    announce it (``told``: the event's extra fields, e.g. the previous handler of a transfer)."""
    before = report.state
    report.state = row.to_state
    report.updated_at = now
    report.next_due_at = deadlines.next_due(
        State(report.state),
        now,
        minutes_of(session, report.severity),
        due_accept=report.due_accept,
        due_on_site=report.due_on_site,
        due_resolve=report.due_resolve,
        resolved_at=report.resolved_at,
    )
    event = ReportEvent(
        report_id=report.id,
        at=now,
        actor_user_id=actor.user_id,
        actor_label=actor_label(actor),
        action=action.value,
        from_state=before,
        to_state=row.to_state,
        note=note,
        lon=lon,
        lat=lat,
        data=data,
    )
    session.add(event)
    session.flush()
    audit.record(
        session,
        actor,
        action.value,
        "report",
        report.id,
        summary=note[:200] if note else None,
        before={"state": before},
        after={"state": row.to_state, **({k: v for k, v in (data or {}).items() if not isinstance(v, list)})},
    )
    announce(session, actor, report, action.value, before, note=note, **(told or {}))
    return event


def followers_of(session: Session, report_id: int) -> list[int]:
    """The users following a report: its reporter, and those of duplicates merged into it."""
    return list(session.scalars(select(ReportFollower.user_id).where(ReportFollower.report_id == report_id)))


def announce(
    session: Session, actor: Principal, report: Report, action: str, from_state: str, *, note: str | None, **extra: Any
) -> None:
    """Publish the step; the subscribers decide whom it concerns (followers, handlers)."""
    cat = category_of(session, report.category_code)
    event = ReportTransitioned(
        report_id=report.id,
        action=action,
        from_state=from_state,
        to_state=report.state,
        category=cat.name_zh if cat else report.category_code,
        actor_user_id=actor.user_id,
        handler_user_id=report.handler_user_id,
        escalated_to_user_id=report.escalated_to_user_id,
        follower_ids=tuple(followers_of(session, report.id)),
        note=note,
        link=report_link(report.id),
        **extra,
    )
    publish(session, event)


def note_text(text: str | None) -> str | None:
    """A note as stored: trimmed, None when empty."""
    text = (text or "").strip()
    return text or None


def required_note(row: ReportTransition, value: str | None, field: str) -> str | None:
    """The note, which the transition may require (a reason to transfer or reject)."""
    value = note_text(value)
    if row.requires_note and not value:
        raise Invalid(_("请填写说明"), [FieldError(field, _("必填"))])
    return value


def staff_user(session: Session, user_id: int | None, field: str = "to_user_id") -> User:
    """The account a report is handed to: an active one, never a resident's (422 on ``field``)."""
    user = session.get(User, user_id) if user_id is not None else None
    if user is None or not user.is_active or user.role == Role.resident.value:
        msg = _("须为在用的工作人员账号")
        raise Invalid(_("承办人无效"), [FieldError(field, msg)])
    return user


def one_photo(photo: bytes | None, field: str = "photo") -> media.CleanPhoto | None:
    """The photo of a check-in or a resolution, cleaned (422 on ``field`` when it is not one)."""
    if photo is None:
        return None
    errors = Collector()
    cleaned = media.check_photos([photo], errors, field=field, max_count=1, max_bytes=MAX_PHOTO_BYTES)
    errors.raise_if_any()
    return cleaned[0]
