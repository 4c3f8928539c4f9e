"""The escalation sweep: deadlines kept by the database, not by timers in memory.

    escalation_sweep(session, now) -> int     # reports escalated or auto-closed, in the caller's transaction
    run_sweep(engine) -> SweepResult          # one transaction, then external notifications are sent
    renxing events sweep [--loop SECONDS]     # the same from the command line (or Settings.scheduler)

Every report carries ``next_due_at``, the moment something is due: the deadline of the step
its state waits for, or, for a resolved report, seven days after resolution. A sweep takes
every report whose moment has passed:

- resolved ones with no feedback are closed (``close_reason`` no_feedback), their followers told;
- open ones climb one level of the five-level chain above their place (党员 → 党小组长 →
  支委委员 → 支部书记 → 社区书记), skipping vacant levels and never beyond the secretary; the
  step is put on each report's timeline, the person reached and the handler are notified
  (one message each per sweep, however many reports), and the next look is set one step's
  length later. A report with nobody left above it is no longer looked at until its next action.

Because all of this is derived from the rows, a restart loses nothing and two sweeps never
double an escalation: on PostgreSQL they take an advisory lock, on SQLite writes are serial.

It is set-based so that 100,000 overdue reports take well under a second: the escalation
targets are computed once per grid unit in Python from the chain (a few thousand units at
most), put into a temporary table, and applied with a handful of INSERT … SELECT and
UPDATE … FROM statements; no report is loaded as an object.
"""

import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import (
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.models import User
from renxing.auth.principal import SYSTEM
from renxing.db import UTCDateTime, transaction, utcnow
from renxing.events.deadlines import LADDER_DUTIES, LEVEL_OF_DUTY, Minutes, Rung, next_rung
from renxing.events.models import Report, ReportEvent, ReportFollower, SeverityDeadline
from renxing.events.policy import OPEN_STATES, STEP_OF_STATE, Action, State
from renxing.events.routing import DUTY_ZH
from renxing.grid.models import GridUnit, Household, Responsibility
from renxing.grid.service import path_ids
from renxing.notify import service as notify
from renxing.notify.models import Notification

log = logging.getLogger(__name__)
LOCK_KEY = 0x52584556  # "RXEV": one sweep at a time per PostgreSQL database
CHUNK = 5000

_tmp = MetaData()
LADDER = Table(
    "tmp_report_ladder",
    _tmp,
    Column("unit_id", Integer, primary_key=True),
    Column("from_level", Integer, primary_key=True),
    Column("to_level", Integer),
    Column("user_id", Integer),
    Column("label", String(160)),
)
HOUSEHOLD = Table(
    "tmp_report_household_rung",
    _tmp,
    Column("household_id", Integer, primary_key=True),
    Column("user_id", Integer),
    Column("label", String(160)),
)
TARGETS = Table(
    "tmp_report_targets",
    _tmp,
    Column("report_id", Integer, primary_key=True),
    Column("level", Integer),
    Column("user_id", Integer),
    Column("label", String(160)),
    Column("state", String(16)),
    Column("severity", String(10)),
    Column("handler_user_id", Integer),
)
_DDL = [
    "CREATE TEMPORARY TABLE IF NOT EXISTS tmp_report_ladder (unit_id INTEGER NOT NULL, from_level INTEGER NOT NULL,"
    " to_level INTEGER NOT NULL, user_id INTEGER, label VARCHAR(160), PRIMARY KEY (unit_id, from_level))",
    "CREATE TEMPORARY TABLE IF NOT EXISTS tmp_report_household_rung (household_id INTEGER NOT NULL PRIMARY KEY,"
    " user_id INTEGER, label VARCHAR(160))",
    "CREATE TEMPORARY TABLE IF NOT EXISTS tmp_report_targets (report_id INTEGER NOT NULL PRIMARY KEY, level INTEGER,"
    " user_id INTEGER, label VARCHAR(160), state VARCHAR(16), severity VARCHAR(10), handler_user_id INTEGER)",
]


@dataclass
class SweepResult:
    escalated: int = 0
    closed: int = 0
    stopped: int = 0  # overdue with nobody left above
    seconds: float = 0.0

    @property
    def changed(self) -> int:
        return self.escalated + self.closed


def _chunks(values: Iterable[int], n: int = CHUNK) -> Iterable[list[int]]:
    items = list(values)
    for i in range(0, len(items), n):
        yield items[i : i + n]


def _active_on(on: date):
    return and_(Responsibility.start_date <= on, or_(Responsibility.end_date.is_(None), Responsibility.end_date >= on))


def _active_user_ids(session: Session, ids: set[int]) -> set[int]:
    out: set[int] = set()
    for chunk in _chunks(ids):
        out |= set(session.scalars(select(User.id).where(User.id.in_(chunk), User.is_active.is_(True))))
    return out


def unit_ladders(session: Session, unit_ids: Iterable[int], on: date) -> dict[int, list[Rung]]:
    """For each unit, the chain levels 2–5 above it that have someone, in one pass.

    Reads the responsibility table directly: the grid service answers for one place at a
    time, and the sweep needs thousands at once.
    """
    paths: dict[int, str] = {}
    for chunk in _chunks(unit_ids):
        paths.update(session.execute(select(GridUnit.id, GridUnit.path).where(GridUnit.id.in_(chunk))).all())
    above = {a for p in paths.values() for a in path_ids(p)}
    names: dict[int, str] = {}
    held: dict[tuple[int, str], list[tuple[str, int | None]]] = defaultdict(list)
    for chunk in _chunks(above):
        names.update(session.execute(select(GridUnit.id, GridUnit.name).where(GridUnit.id.in_(chunk))).all())
        rows = session.execute(
            select(Responsibility.unit_id, Responsibility.duty, Responsibility.person_name, Responsibility.user_id)
            .where(Responsibility.unit_id.in_(chunk), Responsibility.duty.in_(LADDER_DUTIES[1:]), _active_on(on))
            .order_by(Responsibility.id)
        )
        for unit_id, duty, person, user_id in rows:
            held[(unit_id, duty)].append((person, user_id))
    users = _active_user_ids(session, {u for people in held.values() for _, u in people if u})
    rungs_at: dict[int, list[Rung]] = {}
    for (unit_id, duty), people in held.items():
        with_account = [u for _, u in people if u in users]
        label = f"{names.get(unit_id, '')} {DUTY_ZH[duty]} {'、'.join(p for p, _ in people)}"
        rung = Rung(LEVEL_OF_DUTY[duty], duty, label, with_account[0] if with_account else None)
        rungs_at.setdefault(unit_id, []).append(rung)
    out: dict[int, list[Rung]] = {}
    for unit_id, path in paths.items():
        by_level: dict[int, Rung] = {}
        for a in reversed(path_ids(path)):  # nearest unit first: it wins a level it shares
            for rung in rungs_at.get(a, []):
                by_level.setdefault(rung.level, rung)
        out[unit_id] = sorted(by_level.values(), key=lambda r: r.level)
    return out


def household_rungs(session: Session, household_ids: Iterable[int], on: date) -> dict[int, Rung]:
    """Level 1, the party member linked to each household (联系户党员), where there is one."""
    people: dict[int, list[tuple[str, int | None]]] = defaultdict(list)
    labels: dict[int, str] = {}
    for chunk in _chunks(household_ids):
        rows = session.execute(
            select(Responsibility.household_id, Responsibility.person_name, Responsibility.user_id)
            .where(Responsibility.household_id.in_(chunk), Responsibility.duty == "party_member", _active_on(on))
            .order_by(Responsibility.id)
        )
        for hh, person, user_id in rows:
            people[hh].append((person, user_id))
        if people:
            for hh, unit_no, room in session.execute(
                select(Household.id, Household.unit_no, Household.room).where(Household.id.in_(chunk))
            ):
                labels[hh] = f"{unit_no}单元{room}"
    users = _active_user_ids(session, {u for ps in people.values() for _, u in ps if u})
    out = {}
    for hh, ps in people.items():
        with_account = [u for _, u in ps if u in users]
        label = f"{labels.get(hh, '')} {DUTY_ZH['party_member']} {'、'.join(p for p, _ in ps)}"
        out[hh] = Rung(1, "party_member", label, with_account[0] if with_account else None)
    return out


def _grace(report, now: datetime, minutes: dict[str, Minutes]):
    """CASE over (severity, state): the next look one step's length from now."""
    whens = []
    for severity, m in minutes.items():
        for state, step in STEP_OF_STATE.items():
            at = now + timedelta(minutes=m.step(step))
            whens.append(
                (and_(report.c.severity == severity, report.c.state == state.value), literal(at, UTCDateTime()))
            )
    return case(*whens, else_=literal(now + timedelta(hours=1), UTCDateTime()))


def _reason(report):
    return case(
        (report.c.state == State.accepted.value, literal("（超时未到场 / not on site in time）")),
        (report.c.state == State.on_site.value, literal("（超时未办结 / not resolved in time）")),
        else_=literal("（超时未受理 / not accepted in time）"),
    )


def _climb(session: Session, join_on, target: Table, level_col, level_cond, now: datetime, minutes, result) -> None:
    """Escalate every due open report that joins a target row: timeline, digests, update.

    The join is done once, into a temporary table keyed by report, and everything else
    reads that table (the report rows are only touched by one UPDATE on their keys)."""
    r = Report.__table__
    t = TARGETS
    open_due = and_(r.c.next_due_at.is_not(None), r.c.next_due_at <= now, r.c.state.in_([s.value for s in OPEN_STATES]))
    session.execute(delete(t))
    session.execute(
        insert(t).from_select(
            ["report_id", "level", "user_id", "label", "state", "severity", "handler_user_id"],
            select(r.c.id, level_col, target.c.user_id, target.c.label, r.c.state, r.c.severity, r.c.handler_user_id)
            .select_from(r.join(target, join_on))
            .where(open_due, level_cond),
        )
    )
    session.execute(
        insert(ReportEvent.__table__).from_select(
            ["report_id", "at", "actor_label", "action", "from_state", "to_state", "note", "escalation_level"],
            select(
                t.c.report_id,
                literal(now, UTCDateTime()),
                literal("系统"),
                literal(Action.escalate.value),
                t.c.state,
                t.c.state,
                t.c.label + _reason(t),
                t.c.level,
            ),
        )
    )
    reached = session.execute(
        select(t.c.user_id, func.count(), func.min(t.c.report_id)).where(t.c.user_id.is_not(None)).group_by(t.c.user_id)
    ).all()
    handlers = session.execute(
        select(t.c.handler_user_id, func.count(), func.min(t.c.report_id))
        .where(t.c.handler_user_id.is_not(None))
        .group_by(t.c.handler_user_id)
    ).all()
    count = session.execute(
        update(r)
        .where(r.c.id == t.c.report_id)
        .values(
            escalation_level=t.c.level,
            escalated_to_user_id=t.c.user_id,
            escalated_to_label=t.c.label,
            escalated_at=now,
            next_due_at=_grace(t, now, minutes),
            updated_at=now,
        )
    ).rowcount
    result.escalated += count or 0
    for user_id, n, first in reached:
        notify.push(
            session,
            [user_id],
            title=f"{n} 件事件超时，升级至您督办 / {n} overdue report(s) escalated to you",
            link=f"/reports/{first}" if n == 1 else "/reports?escalated=me",
            topic="report.escalate",
            report_id=first if n == 1 else None,
        )
    for user_id, n, first in handlers:
        notify.push(
            session,
            [user_id],
            title=f"您有 {n} 件事件超时，已升级督办 / {n} of your reports are overdue and were escalated",
            link=f"/reports/{first}" if n == 1 else "/reports/inbox",
            topic="report.overdue",
            report_id=first if n == 1 else None,
        )


def _auto_close(session: Session, now: datetime, result: SweepResult) -> None:
    r = Report.__table__
    f = ReportFollower.__table__
    resolved_due = and_(r.c.next_due_at.is_not(None), r.c.next_due_at <= now, r.c.state == State.resolved.value)
    note = "办结后7天未评价，自动关闭 / closed: no feedback within 7 days"
    session.execute(
        insert(ReportEvent.__table__).from_select(
            ["report_id", "at", "actor_label", "action", "from_state", "to_state", "note"],
            select(
                r.c.id,
                literal(now, UTCDateTime()),
                literal("系统"),
                literal(Action.auto_close.value),
                literal(State.resolved.value),
                literal(State.closed.value),
                literal(note),
            ).where(resolved_due),
        )
    )
    # In-app only: one message per follower and report, written set-based like the rest.
    session.execute(
        insert(Notification.__table__).from_select(
            ["user_id", "title", "link", "topic", "report_id", "created_at"],
            select(
                f.c.user_id,
                literal("事件已自动关闭 / report closed without feedback #") + cast(r.c.id, String),
                literal("/reports/") + cast(r.c.id, String),
                literal("report.auto_close"),
                r.c.id,
                literal(now, UTCDateTime()),
            )
            .select_from(r.join(f, f.c.report_id == r.c.id))
            .where(resolved_due),
        )
    )
    result.closed += (
        session.execute(
            update(r)
            .where(resolved_due)
            .values(
                state=State.closed.value, closed_at=now, close_reason="no_feedback", next_due_at=None, updated_at=now
            )
        ).rowcount
        or 0
    )


def sweep(session: Session, now: datetime | None = None) -> SweepResult:
    """One sweep in the caller's transaction."""
    started = time.perf_counter()
    now = now or utcnow()
    result = SweepResult()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
    _auto_close(session, now, result)

    r = Report.__table__
    open_due = and_(r.c.next_due_at.is_not(None), r.c.next_due_at <= now, r.c.state.in_([s.value for s in OPEN_STATES]))
    unit_ids = set(session.scalars(select(r.c.unit_id).where(open_due).distinct()))
    if unit_ids:
        today = now.date()
        households = set(
            session.scalars(
                select(r.c.household_id)
                .where(open_due, r.c.escalation_level == 0, r.c.household_id.is_not(None))
                .distinct()
            )
        )
        for ddl in _DDL:
            session.execute(text(ddl))
        session.execute(delete(LADDER))
        session.execute(delete(HOUSEHOLD))
        ladder_rows = [
            {"unit_id": u, "from_level": lv, "to_level": nxt.level, "user_id": nxt.user_id, "label": nxt.label}
            for u, rungs in unit_ladders(session, unit_ids, today).items()
            for lv in range(0, 5)
            if (nxt := next_rung(rungs, lv)) is not None
        ]
        hh_rows = [
            {"household_id": hh, "user_id": rung.user_id, "label": rung.label}
            for hh, rung in household_rungs(session, households, today).items()
        ]
        if ladder_rows:
            session.execute(insert(LADDER), ladder_rows)
        if hh_rows:
            session.execute(insert(HOUSEHOLD), hh_rows)
        minutes = {
            s.severity: Minutes(s.accept_minutes, s.on_site_minutes, s.resolve_minutes)
            for s in session.scalars(select(SeverityDeadline))
        }
        if hh_rows:  # first the household's party member, for reports not yet escalated
            _climb(
                session,
                r.c.household_id == HOUSEHOLD.c.household_id,
                HOUSEHOLD,
                literal(1),
                r.c.escalation_level == 0,
                now,
                minutes,
                result,
            )
        if ladder_rows:
            _climb(
                session,
                and_(r.c.unit_id == LADDER.c.unit_id, r.c.escalation_level == LADDER.c.from_level),
                LADDER,
                LADDER.c.to_level,
                true(),
                now,
                minutes,
                result,
            )
        # Whatever is still due has nobody above it: stop looking until its next action.
        result.stopped = session.execute(update(r).where(open_due).values(next_due_at=None)).rowcount or 0
    result.seconds = time.perf_counter() - started
    if result.changed or result.stopped:
        audit.record(
            session,
            SYSTEM,
            "sweep",
            "report",
            None,
            summary=f"escalated {result.escalated}, closed {result.closed}, at the top {result.stopped}",
        )
    return result


def escalation_sweep(session: Session, now: datetime | None = None) -> int:
    """Escalate what is overdue and close what waited for feedback too long; returns how many."""
    return sweep(session, now).changed


def run_sweep(engine: Engine, now: datetime | None = None) -> SweepResult:
    """A sweep in its own transaction, then the external notifications it left pending."""
    with transaction(engine) as session:
        result = sweep(session, now)
    notify.dispatcher.join()
    notify.deliver_pending(engine)
    if result.changed:
        log.info("sweep: escalated %s, closed %s in %.3fs", result.escalated, result.closed, result.seconds)
    return result
