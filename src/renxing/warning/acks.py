"""Acknowledgements of a sent warning: the household's one tap on its link, and what grid workers
and building leaders record after a call or a door knock.

A household's link carries its token (``warning/tokens.py``): the token is the credential, so the
page needs no login and no CSRF token, and says nothing about a warning to anyone without a valid
one (a forged token is a 404 whatever it names). The tap is the hot path of a warning to tens of
thousands of households, so it is a handful of Core statements: read the target and its warning,
check the MAC, one guarded ``UPDATE`` of the target, then the household's deliveries and the
warning's counter (sent together on PostgreSQL). The target row records who acknowledged and how,
so link acknowledgements write no audit entry; what staff record and undo is audited.

``WarningMessage.acknowledged`` moves in the same transaction as the target, by one, only when the
target changed, so the counter and the targets never disagree.
"""

from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, exists, select, text, update
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.config import get_settings
from renxing.db import pipelined, utcnow
from renxing.errors import Conflict, FieldError, Invalid, NotFound, ServiceError
from renxing.i18n import _, _l, bilingual
from renxing.warning import access, tokens
from renxing.warning.models import (
    DeliveryState,
    WarningDelivery,
    WarningMessage,
    WarningStatus,
    WarningTarget,
)

TARGETS = WarningTarget.__table__
WARNINGS = WarningMessage.__table__
DELIVERIES = WarningDelivery.__table__

RECORDED_HOWS = ("call", "door", "app")  # what a worker records; "link" is the household's own tap
HOW_LABELS = {
    "link": _l("链接确认"),
    "call": _l("电话确认"),
    "door": _l("上门确认"),
    "app": _l("应用内确认"),
}
MAX_NOTE = 200


@dataclass(frozen=True)
class LinkView:
    """What a household's link shows: the warning, nothing personal, and where its copy stands."""

    warning_id: int
    target_id: int
    msg_type: str
    level: str
    event: str
    headline: str
    instruction: str | None
    sent_at: datetime | None
    lifted: bool  # a Cancel, or cancelled since: acknowledged all the same, shown as lifted
    acknowledged_at: datetime | None
    just_now: bool = False  # this request acknowledged it


def forged() -> NotFound:
    """The one answer to a token that is not a household's: it never says whether a warning exists."""
    return NotFound(_("链接无效：请核对短信或消息中的链接"), [FieldError("token", _("链接无效"))])


def local(at: datetime) -> str:
    return at.astimezone(ZoneInfo(get_settings().timezone)).strftime("%Y-%m-%d %H:%M")


def already(at: datetime) -> Conflict:
    message = _("已确认（{at}）").format(at=local(at))
    return Conflict(message, [FieldError("token", message, value=at.isoformat())])


# The link's statements are built once: a tap runs them with its values and nothing else.
_CANCEL = WARNINGS.alias("cancel")
_READ = (
    select(
        TARGETS.c.id,
        TARGETS.c.warning_id,
        TARGETS.c.acknowledged_at,
        WARNINGS.c.status,
        WARNINGS.c.msg_type,
        WARNINGS.c.level,
        WARNINGS.c.event,
        WARNINGS.c.headline,
        WARNINGS.c.instruction,
        WARNINGS.c.sent_at,
        exists()
        .where(
            _CANCEL.c.references_id == WARNINGS.c.id,
            _CANCEL.c.msg_type == "Cancel",
            _CANCEL.c.status == WarningStatus.sent.value,
        )
        .label("cancelled"),
    )
    .join(WARNINGS, WARNINGS.c.id == TARGETS.c.warning_id)
    .where(TARGETS.c.id.in_(bindparam("tids", expanding=True)))
)
_TAP = (
    update(TARGETS)
    .where(TARGETS.c.id.in_(bindparam("tids", expanding=True)), TARGETS.c.acknowledged_at.is_(None))
    .values(acknowledged_at=bindparam("at"), ack_how="link")
    .returning(TARGETS.c.id, TARGETS.c.warning_id)
)
_REACHED = (
    update(DELIVERIES)
    .where(DELIVERIES.c.target_id.in_(bindparam("tids", expanding=True)))
    .values(state=DeliveryState.acknowledged.value, updated_at=bindparam("at"))
)
_COUNTED = (
    update(WARNINGS)
    .where(WARNINGS.c.id == bindparam("wid"))
    .values(acknowledged=WARNINGS.c.acknowledged + bindparam("n"))
)
# PostgreSQL: the three writes of the taps in one statement (one round trip), each only for the
# targets that changed; a warning's counter moves once by the number of its households reached.
_TAP_PG = text(
    "WITH t AS (UPDATE warning_targets SET acknowledged_at = :at, ack_how = 'link' "
    "WHERE id = ANY(:tids) AND acknowledged_at IS NULL RETURNING id, warning_id), "
    "d AS (UPDATE warning_deliveries SET state = 'acknowledged', updated_at = :at "
    "WHERE target_id IN (SELECT id FROM t)), "
    "w AS (UPDATE warnings SET acknowledged = warnings.acknowledged + c.n "
    "FROM (SELECT warning_id, count(*) AS n FROM t GROUP BY warning_id) AS c WHERE warnings.id = c.warning_id) "
    "SELECT id FROM t"
)


def _view(row, target_id: int) -> LinkView:
    return LinkView(
        warning_id=row.warning_id,
        target_id=target_id,
        msg_type=row.msg_type,
        level=row.level,
        event=row.event,
        headline=row.headline,
        instruction=row.instruction,
        sent_at=row.sent_at,
        lifted=row.msg_type == "Cancel" or bool(row.cancelled),
        acknowledged_at=row.acknowledged_at,
    )


def _read_many(session: Session, tokens_: list[str]) -> list[LinkView | ServiceError]:
    """Each token's target with its warning, or the error it is (forged: 404), in one query."""
    wanted = {i: tokens.target_of(t) for i, t in enumerate(tokens_)}
    ids = sorted({t for t in wanted.values() if t is not None and t >= 1})
    rows = {r.id: r for r in session.execute(_READ, {"tids": ids})} if ids else {}
    secret = get_settings().secret_key
    out: list[LinkView | ServiceError] = []
    for i, token in enumerate(tokens_):
        row = rows.get(wanted[i] or 0)
        if row is None or row.status != WarningStatus.sent.value or not tokens.check(secret, token, row.warning_id):
            out.append(forged())
        else:
            out.append(_view(row, row.id))
    return out


def read_link(session: Session, token: str) -> LinkView:
    """The page behind a household's link (no login): the warning and whether it was acknowledged."""
    view = _read_many(session, [token])[0]
    if isinstance(view, ServiceError):
        raise view
    return view


def _write_taps(session: Session, target_ids: list[int], now: datetime) -> set[int]:
    """Acknowledge these targets where not yet done; the ids that changed."""
    if session.get_bind().dialect.name == "postgresql":
        return set(session.scalars(_TAP_PG, {"tids": target_ids, "at": now}))
    changed = [(i, w) for i, w in session.execute(_TAP, {"tids": target_ids, "at": now})]
    if changed:
        session.execute(_REACHED, {"tids": [i for i, _ in changed], "at": now})
        per_warning = Counter(w for _, w in changed)
        session.execute(_COUNTED, [{"wid": w, "n": n} for w, n in sorted(per_warning.items())])
    return {i for i, _ in changed}


def acknowledge_links(
    session: Session, tokens_: list[str], now: datetime | None = None
) -> list[LinkView | ServiceError]:
    """Households' taps, several at once (the web process writes the taps that arrive together in
    one transaction): for each token its acknowledged copy, or its error — 404 forged, 409 already
    acknowledged (a second tap of the same link in the batch is the already). A few statements
    whatever their number; nothing is written for a forged or used token."""
    now = now or utcnow()
    views = _read_many(session, tokens_)
    first: dict[int, int] = {}  # target id → the position of its first tap in the batch
    for i, v in enumerate(views):
        if isinstance(v, LinkView) and v.acknowledged_at is None:
            first.setdefault(v.target_id, i)
    changed = _write_taps(session, sorted(first), now) if first else set()
    out: list[LinkView | ServiceError] = []
    for i, v in enumerate(views):
        if isinstance(v, ServiceError):
            out.append(v)
        elif v.acknowledged_at is not None:
            out.append(already(v.acknowledged_at))
        elif first.get(v.target_id) == i and v.target_id in changed:
            out.append(replace(v, acknowledged_at=now, just_now=True))
        else:  # another tap of the same link came first (in this batch, or a moment before)
            out.append(already(now))
    return out


def acknowledge_link(session: Session, token: str, now: datetime | None = None) -> LinkView:
    """One household's tap: 404 for a forged token, 409 (with the time) for one already used."""
    result = acknowledge_links(session, [token], now)[0]
    if isinstance(result, ServiceError):
        raise result
    return result


def _mark_reached(session: Session, warning_id: int, target_id: int, now: datetime) -> None:
    """A recorded acknowledgement: the household's deliveries and the warning's counter."""
    with pipelined(session):
        session.execute(_REACHED, {"tids": [target_id], "at": now})
        session.execute(_COUNTED, {"wid": warning_id, "n": 1})


# ---- recorded by grid workers and building leaders --------------------------------------------


def _target_in_scope(session: Session, actor: Principal, warning: WarningMessage, target_id: int) -> WarningTarget:
    """A household of this warning inside the actor's scope; 404 otherwise (a household is personal)."""
    target = session.get(WarningTarget, target_id)
    if target is None or target.warning_id != warning.id or not actor.covers_path(target.path):
        raise NotFound(_("该预警中没有这一户，或不在您的网格范围内"))
    return target


def _clean_note(note: str | None) -> str | None:
    text = (note or "").strip()
    if len(text) > MAX_NOTE:
        raise Invalid(_("备注过长"), [FieldError("note", _("最多 {n} 个字").format(n=MAX_NOTE))])
    return text or None


def record(
    session: Session,
    actor: Principal,
    warning_id: int,
    target_id: int,
    *,
    how: str,
    note: str | None = None,
    now: datetime | None = None,
) -> WarningTarget:
    """A worker reached the household by a call, a door knock or in the app: recorded, audited."""
    actor.require(Perm.warnings_confirm)
    warning = access.warning_in_scope(session, actor, warning_id)
    target = _target_in_scope(session, actor, warning, target_id)
    if how not in RECORDED_HOWS:
        raise Invalid(_("确认方式无效"), [FieldError("how", _("应为 call、door 或 app"), value=how)])
    note = _clean_note(note)
    if warning.status != WarningStatus.sent.value:
        raise Conflict(_("预警尚未发布"))
    if target.acknowledged_at is not None:
        raise already(target.acknowledged_at)
    now = now or utcnow()
    target.acknowledged_at, target.ack_how, target.ack_by, target.ack_note = now, how, actor.user_id, note
    session.flush()
    _mark_reached(session, warning.id, target.id, now)
    audit.record(
        session,
        actor,
        "acknowledge",
        "warning_target",
        target.id,
        summary=bilingual("记录预警确认（{how}）", how=how),
        after={"warning_id": warning.id, "household_id": target.household_id, "how": how, "note": note},
    )
    return target


def undo(
    session: Session,
    actor: Principal,
    warning_id: int,
    target_id: int,
    *,
    reason: str | None = None,
) -> WarningTarget:
    """Take back a wrongly recorded acknowledgement: the recorder their own, staff any. The household
    is unreached again (and climbs at the next deadline); its deliveries go back to where the
    channel left them (queued if never tried, failed if the last try failed, else sent)."""
    actor.require(Perm.warnings_confirm)
    warning = access.warning_in_scope(session, actor, warning_id)
    target = _target_in_scope(session, actor, warning, target_id)
    reason = _clean_note(reason)
    if target.acknowledged_at is None:
        raise Conflict(_("该户尚未确认"))
    if target.ack_by != actor.user_id:
        actor.require(Perm.warnings_compose)  # someone else's record, or the household's own tap: staff only
    before = {"acknowledged_at": target.acknowledged_at.isoformat(), "how": target.ack_how, "by": target.ack_by}
    target.acknowledged_at = target.ack_how = target.ack_by = target.ack_note = None
    session.flush()
    now = utcnow()
    for state, where in (
        (DeliveryState.queued, DELIVERIES.c.attempts == 0),
        (DeliveryState.failed, and_(DELIVERIES.c.attempts > 0, DELIVERIES.c.last_error.is_not(None))),
        (DeliveryState.sent, and_(DELIVERIES.c.attempts > 0, DELIVERIES.c.last_error.is_(None))),
    ):
        session.execute(
            update(DELIVERIES)
            .where(DELIVERIES.c.target_id == target.id, DELIVERIES.c.state == DeliveryState.acknowledged.value, where)
            .values(state=state.value, updated_at=now)
        )
    session.execute(
        update(WARNINGS).where(WARNINGS.c.id == warning.id).values(acknowledged=WARNINGS.c.acknowledged - 1)
    )
    audit.record(
        session,
        actor,
        "unacknowledge",
        "warning_target",
        target.id,
        summary=bilingual("撤销预警确认"),
        before=before,
        after={"warning_id": warning.id, "household_id": target.household_id, "reason": reason},
    )
    return target
