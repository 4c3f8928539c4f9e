"""Sending queued warning deliveries on their channels, and retrying the failed ones.

:func:`dispatch` works in batches, each in three steps:

1. **Claim** (one transaction): one ``UPDATE … WHERE id IN (SELECT … LIMIT n FOR UPDATE SKIP
   LOCKED) RETURNING …`` takes the due deliveries — queued ones, and failed ones whose
   ``next_attempt_at`` has come while attempts are left — counts the attempt and leases them
   (``next_attempt_at`` = now + :data:`LEASE`), so concurrent dispatchers take different rows and a
   dispatcher that dies leaves its rows to be taken again once the lease ends. In the same
   transaction the words and addresses are read: the register's phone of each household for SMS
   and voice (one audit entry per warning and channel for every batch; a phone is never logged),
   the e-mail addresses of the household's accounts for e-mail.
2. **Send**, outside any transaction (a gateway may take its time), one call per channel.
3. **Record** (one transaction): sent, delivered, or failed with its error and the next attempt
   (one minute, doubling, at most an hour; none once ``Settings.delivery_attempts`` are spent, or
   when retrying cannot help: no phone, no address). A delivery never goes backwards: only rows
   still queued or failed are written, so one acknowledged or delivered meanwhile stays so.

The acknowledgement link of each household is ``{public_url}/w/{token}`` (``tokens``).
"""

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.principal import SYSTEM
from renxing.config import Settings, get_settings
from renxing.db import transaction, utcnow
from renxing.notify import directory as notify
from renxing.people import directory as people
from renxing.warning import channels, tokens, wording
from renxing.warning.models import DeliveryState, WarningDelivery, WarningLevel, WarningMessage, WarningTarget

log = logging.getLogger("renxing.warning")
BATCH = 500
LEASE = timedelta(minutes=5)
FIRST_RETRY = timedelta(minutes=1)
LAST_RETRY = timedelta(hours=1)
NO_PHONE = "no_phone"
NO_EMAIL = "no_email"
NO_TARGET = "no_target"
_d = WarningDelivery.__table__
_t = WarningTarget.__table__
_w = WarningMessage.__table__
RETRYABLE = (DeliveryState.queued.value, DeliveryState.failed.value)  # states a send may still write over


@dataclass
class Counts:
    claimed: int = 0
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    given_up: int = 0  # of the failed: no attempt left, or no address to try

    def add(self, other: "Counts") -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


@dataclass(frozen=True)
class _Claimed:
    id: int
    warning_id: int
    target_id: int
    channel: str
    attempts: int


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed try: a minute, doubling, at most an hour."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LAST_RETRY)


def ack_link(settings: Settings, warning_id: int, target_id: int) -> str:
    """The household's one-tap acknowledgement link."""
    return f"{settings.public_url.rstrip('/')}/w/{tokens.make(settings.secret_key, warning_id, target_id)}"


def due_clause(now: datetime, max_attempts: int) -> Any:
    return or_(
        and_(_d.c.state == DeliveryState.queued, or_(_d.c.next_attempt_at.is_(None), _d.c.next_attempt_at <= now)),
        and_(_d.c.state == DeliveryState.failed, _d.c.attempts < max_attempts, _d.c.next_attempt_at <= now),
    )


# ---- 1. claim and prepare --------------------------------------------------------------------


def _claim(session: Session, now: datetime, size: int, max_attempts: int) -> list[_Claimed]:
    pick = select(_d.c.id).where(due_clause(now, max_attempts)).limit(size).with_for_update(skip_locked=True)
    rows = session.execute(
        update(_d)
        .where(_d.c.id.in_(pick))
        .values(attempts=_d.c.attempts + 1, next_attempt_at=now + LEASE)
        .returning(_d.c.id, _d.c.warning_id, _d.c.target_id, _d.c.channel, _d.c.attempts)
    )
    return sorted((_Claimed(*r) for r in rows), key=lambda c: c.id)


def _addresses(session: Session, needs: str | None, households: list[int], today: date) -> dict[int, tuple[str, ...]]:
    if needs == "phone":
        return {h: (p,) for h, p in people.household_phones(session, households, today).items()}
    if needs == "email":
        residents = people.residents_of_households(session, households)
        emails = notify.email_addresses_of_residents(session, [r for rs in residents.values() for r in rs])
        found: dict[int, tuple[str, ...]] = {}
        for h, rs in residents.items():
            addresses = tuple(dict.fromkeys(a for r in rs for a in emails.get(r, [])))
            if addresses:
                found[h] = addresses
        return found
    return {}


def _audit_phone_use(session: Session, channel: str, by_warning: dict[int, int]) -> None:
    for warning_id, n in sorted(by_warning.items()):
        audit.record(
            session,
            SYSTEM,
            "read_personal",
            "warning",
            warning_id,
            summary=f"phone: {channel} ×{n}",
            after={"channel": channel, "households": n, "fields": ["phone"]},
        )


@dataclass
class _Prepared:
    by_channel: dict[str, list[channels.Outgoing]]
    unaddressed: list[channels.Outcome]


def _prepare(session: Session, settings: Settings, claimed: list[_Claimed], now: datetime) -> _Prepared:
    """The messages to send per channel; deliveries that lack an address fail at once."""
    today = now.astimezone(ZoneInfo(settings.timezone)).date()
    target_ids = sorted({c.target_id for c in claimed})
    households = dict(session.execute(select(_t.c.id, _t.c.household_id).where(_t.c.id.in_(target_ids))).all())
    warnings = {
        row.id: row
        for row in session.execute(
            select(_w.c.id, _w.c.level, _w.c.headline, _w.c.instruction).where(
                _w.c.id.in_(sorted({c.warning_id for c in claimed}))
            )
        )
    }
    level_names = dict(session.execute(select(WarningLevel.code, WarningLevel.name_zh)).all())
    prepared = _Prepared(defaultdict(list), [])
    by_channel: dict[str, list[_Claimed]] = defaultdict(list)
    for c in claimed:
        by_channel[c.channel].append(c)
    for name, batch in by_channel.items():
        plug = channels.channel(name, settings)
        addresses = _addresses(session, plug.needs, sorted({households.get(c.target_id, 0) for c in batch}), today)
        used: dict[int, int] = defaultdict(int)
        for c in batch:
            household = households.get(c.target_id)
            if household is None:  # its target is gone: nobody to send to
                prepared.unaddressed.append(channels.Outcome(c.id, DeliveryState.failed, error=NO_TARGET, retry=False))
                continue
            to = addresses.get(household, ())
            if plug.needs and not to:
                reason = NO_PHONE if plug.needs == "phone" else NO_EMAIL
                prepared.unaddressed.append(channels.Outcome(c.id, DeliveryState.failed, error=reason, retry=False))
                continue
            used[c.warning_id] += 1
            w = warnings[c.warning_id]
            level = level_names.get(w.level, w.level)
            link = ack_link(settings, c.warning_id, c.target_id)
            prepared.by_channel[name].append(
                channels.Outgoing(
                    delivery_id=c.id,
                    household_id=household,
                    to=to,
                    subject=wording.title(level, w.headline),
                    text=wording.message(level, w.headline, w.instruction, link),
                )
            )
        if plug.needs == "phone" and used:
            _audit_phone_use(session, name, used)
    return prepared


# ---- 3. record -------------------------------------------------------------------------------

_WRITE = (
    update(_d)
    .where(_d.c.id == bindparam("b_id"), or_(*(_d.c.state == st for st in RETRYABLE)))  # no IN: executemany
    .values(
        state=bindparam("b_state"),
        gateway_ref=bindparam("b_ref"),
        last_error=bindparam("b_error"),
        next_attempt_at=bindparam("b_next"),
        updated_at=bindparam("b_at"),
    )
)


def _record(
    session: Session, outcomes: Sequence[channels.Outcome], attempts: dict[int, int], now: datetime, max_attempts: int
) -> Counts:
    counts = Counts()
    rows = []
    for o in outcomes:
        next_at = None
        if o.state == DeliveryState.failed:
            counts.failed += 1
            if o.retry and attempts[o.delivery_id] < max_attempts:
                next_at = now + backoff(attempts[o.delivery_id])
            else:
                counts.given_up += 1
        elif o.state == DeliveryState.delivered:
            counts.delivered += 1
        else:
            counts.sent += 1
        rows.append(
            {
                "b_id": o.delivery_id,
                "b_state": str(o.state),
                "b_ref": o.gateway_ref,
                "b_error": o.error,
                "b_next": next_at,
                "b_at": now,
            }
        )
    if rows:
        session.connection().execute(_WRITE, rows)
    return counts


# ---- gateway receipts ------------------------------------------------------------------------


@dataclass
class ReceiptCounts:
    delivered: int = 0
    failed: int = 0
    unknown: int = 0  # ids no delivery carries (or whose delivery has moved on)


def receive_receipts(
    session: Session, receipts: Sequence[tuple[str, str, str | None]], *, now: datetime, max_attempts: int
) -> ReceiptCounts:
    """Apply a gateway's receipts, each (gateway id, "delivered" | "failed", error): delivered
    from queued, sent or failed; failed from sent only, retried while attempts are left. Nothing
    goes backwards: a delivered or acknowledged copy stays so."""
    counts = ReceiptCounts()
    refs = sorted({ref for ref, _status, _error in receipts})
    rows: dict[str, list[tuple[int, str, int]]] = defaultdict(list)
    for start in range(0, len(refs), BATCH):
        found = session.execute(
            select(_d.c.gateway_ref, _d.c.id, _d.c.state, _d.c.attempts).where(
                _d.c.gateway_ref.in_(refs[start : start + BATCH])
            )
        )
        for ref, delivery_id, state, attempts in found:
            rows[ref].append((delivery_id, state, attempts))
    writes = []
    for ref, status, error in receipts:
        moved = False
        for delivery_id, state, attempts in rows.get(ref, []):
            if status == DeliveryState.delivered and state in (*RETRYABLE, DeliveryState.sent):
                writes.append((delivery_id, state, DeliveryState.delivered.value, None, None))
                counts.delivered += 1
                moved = True
            elif status == DeliveryState.failed and state == DeliveryState.sent:
                next_at = now + backoff(attempts) if attempts < max_attempts else None
                writes.append((delivery_id, state, DeliveryState.failed.value, (error or "failed")[:300], next_at))
                counts.failed += 1
                moved = True
        counts.unknown += not moved
    if writes:
        session.connection().execute(
            update(_d)
            .where(_d.c.id == bindparam("b_id"), _d.c.state == bindparam("b_was"))
            .values(
                state=bindparam("b_state"),
                last_error=bindparam("b_error"),
                next_attempt_at=bindparam("b_next"),
                updated_at=now,
            ),
            [
                {"b_id": i, "b_was": was, "b_state": st, "b_error": err, "b_next": nxt}
                for i, was, st, err, nxt in writes
            ],
        )
    return counts


# ---- the rounds ------------------------------------------------------------------------------


def _send(prepared: _Prepared, settings: Settings, plugs: dict[str, channels.Channel] | None) -> list[channels.Outcome]:
    outcomes = list(prepared.unaddressed)
    for name, batch in prepared.by_channel.items():
        plug = (plugs or {}).get(name) or channels.channel(name, settings)
        try:
            outcomes += plug.send(batch)
        except Exception as exc:  # a broken plug-in fails its batch; the deliveries are retried
            log.exception("channel %s failed a batch of %s", name, len(batch))
            error = f"{exc.__class__.__name__}: {exc}"[: channels.ERROR_MAX]
            outcomes += [channels.Outcome(m.delivery_id, DeliveryState.failed, error=error) for m in batch]
    return outcomes


def dispatch(
    engine: Engine,
    *,
    now: datetime | None = None,
    limit: int = 1000,
    settings: Settings | None = None,
    plugs: dict[str, channels.Channel] | None = None,
    progress: Callable[[Counts], None] | None = None,
) -> Counts:
    """Send up to ``limit`` due deliveries, batch by batch; the counts of what happened. ``now``
    is the clock (tests move it to see a backoff end); ``plugs`` replaces channels by name;
    ``progress`` hears the running totals after each batch."""
    settings = settings or get_settings()
    total = Counts()
    while total.claimed < limit:
        at = now or utcnow()
        with transaction(engine) as session:
            claimed = _claim(session, at, min(BATCH, limit - total.claimed), settings.delivery_attempts)
            if not claimed:
                break
            prepared = _prepare(session, settings, claimed, at)
        outcomes = _send(prepared, settings, plugs)
        with transaction(engine) as session:
            counts = _record(
                session, outcomes, {c.id: c.attempts for c in claimed}, now or utcnow(), settings.delivery_attempts
            )
        counts.claimed = len(claimed)
        total.add(counts)
        if progress is not None:
            progress(total)
    return total


def due(engine: Engine, *, now: datetime | None = None, settings: Settings | None = None) -> int:
    """How many deliveries are due now (what a dispatch would take)."""
    settings = settings or get_settings()
    with transaction(engine) as session:
        stmt = select(func.count()).select_from(_d).where(due_clause(now or utcnow(), settings.delivery_attempts))
        return session.scalar(stmt) or 0


def run(engine: Engine, *, limit: int = 100_000, progress: Callable[[Counts], None] | None = None) -> Counts:
    """One round for the scheduler: everything due now (a failure is logged, never raised)."""
    try:
        return dispatch(engine, limit=limit, progress=progress)
    except Exception:  # the next round tries again
        log.exception("warning dispatch failed")
        return Counts()
