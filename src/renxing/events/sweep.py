"""The escalation sweep: deadlines kept by the database, not by timers in memory.

    escalation_sweep(session, now) -> int     # reports escalated or auto-closed, in the caller's transaction
    run_sweep(engine) -> SweepResult          # batches of transactions, then external notifications are sent
    renxing events sweep [--loop SECONDS]     # the same from the command line (or Settings.scheduler)

Every report has a ``report_schedule`` row whose ``next_due_at`` is the moment something is
due: the deadline of the step its state waits for, or, for a resolved report, seven days
after resolution. A sweep takes the reports whose moment has passed, oldest first:

- resolved ones with no feedback are closed (``close_reason`` no_feedback), their followers told;
- open ones climb one level of the five-level chain above their place (党员 → 党小组长 →
  支委委员 → 支部书记 → 社区书记), skipping vacant levels and never beyond the secretary; the
  step is put on each report's timeline, the person reached and the handler are notified
  (one message each per sweep, however many reports), and the next look is set one step's
  length later. A report with nobody left above it is no longer looked at until its next action.

Because all of this is derived from the rows, a restart loses nothing and two sweeps never
double an escalation: on PostgreSQL they take an advisory lock, on SQLite writes are serial.

It is set-based: the due reports are copied once into a temporary table with what the sweep
needs of them; the escalation ladders are computed once per grid unit in Python from the
chain (a few thousand units at most) into small temporary tables; one join then decides
every report's target and next look. On SQLite the targets are stored and each write reads
them (INSERT … SELECT, UPDATE by key); on PostgreSQL the targets are a common table
expression and the timeline insert, the schedule updates and the digests are one statement.
An escalation rewrites only the report's narrow schedule row, never the wide ``reports`` row
with its nine indexes; no report is loaded as an object. :func:`run_sweep` takes at most
``BATCH`` reports per transaction.
"""

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    null,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.principal import SYSTEM
from renxing.db import UTCDateTime, transaction, utcnow
from renxing.events.deadlines import Minutes, next_rung
from renxing.events.ladders import household_rungs, unit_ladders
from renxing.events.models import ReportEvent, ReportFollower, SeverityDeadline, report_schedule, reports
from renxing.events.policy import OPEN_STATES, STEP_OF_STATE, Action, State
from renxing.i18n import bilingual
from renxing.signals.bus import deliver_pending, publish
from renxing.signals.catalog import EscalationDigest, ReportsAutoClosed

log = logging.getLogger(__name__)
LOCK_KEY = 0x52584556  # "RXEV": one sweep at a time per PostgreSQL database
BATCH = 20_000  # reports per transaction of run_sweep

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
IDS = Table("tmp_report_due_ids", _tmp, Column("report_id", Integer, primary_key=True))
DUE = Table(
    "tmp_report_due",
    _tmp,
    Column("report_id", Integer, primary_key=True),
    Column("state", String(16)),
    Column("severity", String(10)),
    Column("unit_id", Integer),
    Column("household_id", Integer),
    Column("handler_user_id", Integer),
    Column("level", Integer),
)
TARGETS = Table(  # every due open report; level NULL: nobody left above it
    "tmp_report_targets",
    _tmp,
    Column("report_id", Integer, primary_key=True),
    Column("level", Integer),
    Column("user_id", Integer),
    Column("label", String(160)),
    Column("state", String(16)),
    Column("handler_user_id", Integer),
    Column("next_due", UTCDateTime()),
)
GRACE = Table(
    "tmp_report_grace",
    _tmp,
    Column("severity", String(10), primary_key=True),
    Column("state", String(16), primary_key=True),
    Column("next_due", UTCDateTime()),
)
# PostgreSQL reads the due rows in one join and keeps the targets in a common table
# expression: it needs neither the list of ids nor the table of targets.
POSTGRESQL_SKIPS = {IDS.name, TARGETS.name}
_DDL = [
    "tmp_report_ladder (unit_id INTEGER NOT NULL, from_level INTEGER NOT NULL, to_level INTEGER NOT NULL,"
    " user_id INTEGER, label VARCHAR(160), PRIMARY KEY (unit_id, from_level))",
    "tmp_report_household_rung (household_id INTEGER NOT NULL PRIMARY KEY, user_id INTEGER, label VARCHAR(160))",
    "tmp_report_due_ids (report_id INTEGER NOT NULL PRIMARY KEY)",
    "tmp_report_due (report_id INTEGER NOT NULL PRIMARY KEY, state VARCHAR(16), severity VARCHAR(10),"
    " unit_id INTEGER, household_id INTEGER, handler_user_id INTEGER, level INTEGER)",
    "tmp_report_targets (report_id INTEGER NOT NULL PRIMARY KEY, level INTEGER, user_id INTEGER,"
    " label VARCHAR(160), state VARCHAR(16), handler_user_id INTEGER, next_due TIMESTAMP WITH TIME ZONE)",
    "tmp_report_grace (severity VARCHAR(10) NOT NULL, state VARCHAR(16) NOT NULL, next_due TIMESTAMP WITH TIME ZONE,"
    " PRIMARY KEY (severity, state))",
]


def _temporary(sqlite: bool) -> tuple[Table, ...]:
    tables = (IDS, DUE, TARGETS, LADDER, HOUSEHOLD, GRACE)
    return tables if sqlite else tuple(t for t in tables if t.name not in POSTGRESQL_SKIPS)


def _create_temporary(session: Session, sqlite: bool) -> None:
    for ddl in _DDL:
        if sqlite or ddl.split(" ", 1)[0] not in POSTGRESQL_SKIPS:
            session.execute(text(f"CREATE TEMPORARY TABLE IF NOT EXISTS {ddl}"))


def _empty_temporary(session: Session, sqlite: bool) -> None:
    """Left empty for the next sweep on this connection (a failed one rolls back its rows)."""
    if sqlite:
        for table in _temporary(sqlite):
            session.execute(delete(table))
    else:
        session.execute(text(f"TRUNCATE {', '.join(t.name for t in _temporary(sqlite))}"))


@dataclass
class SweepResult:
    escalated: int = 0
    closed: int = 0
    stopped: int = 0  # overdue with nobody left above
    due: int = 0  # reports found due
    batches: int = 1
    seconds: float = 0.0

    @property
    def changed(self) -> int:
        return self.escalated + self.closed


def _grace_rows(now: datetime, minutes: dict[str, Minutes]) -> list[dict]:
    """The next look per (severity, state): one step's length from now."""
    return [
        {"severity": severity, "state": state.value, "next_due": now + timedelta(minutes=m.step(step))}
        for severity, m in minutes.items()
        for state, step in STEP_OF_STATE.items()
    ]


def _reason(t):
    return case(
        (t.c.state == State.accepted.value, literal("（" + bilingual("超时未到场") + "）")),
        (t.c.state == State.on_site.value, literal("（" + bilingual("超时未办结") + "）")),
        else_=literal("（" + bilingual("超时未受理") + "）"),
    )


def _take_due(session: Session, now: datetime, limit: int | None) -> int:
    """Copy the due reports (oldest first, at most ``limit``) with what the sweep needs of them
    into ``tmp_report_due``. First their ids, from the partial index on ``next_due_at`` alone;
    then the rest, reading ``reports`` and ``report_schedule`` in id order, which touches each
    page once instead of hopping around the wide table in deadline order. Nothing after this
    reads the wide rows again."""
    s, r, i = report_schedule, reports, IDS
    due = select(s.c.report_id).where(s.c.next_due_at.is_not(None), s.c.next_due_at <= now)
    if limit is not None:
        due = due.order_by(s.c.next_due_at).limit(limit)
    cols = ["report_id", "state", "severity", "unit_id", "household_id", "handler_user_id", "level"]
    if session.get_bind().dialect.name == "postgresql":
        # PostgreSQL plans the join from the real tables' statistics (a hash join for a backlog,
        # key lookups for a tick): one statement, no list of ids in between.
        d = due.add_columns(s.c.escalation_level).subquery()
        rows = (
            select(d.c.report_id, r.c.state, r.c.severity, r.c.unit_id, r.c.household_id, r.c.handler_user_id)
            .add_columns(d.c.escalation_level)
            .select_from(d.join(r, r.c.id == d.c.report_id))
        )
        session.execute(insert(DUE).from_select(cols, rows))
        _analyze(session, DUE)
        return session.scalar(select(func.count()).select_from(DUE)) or 0
    session.execute(insert(i).from_select(["report_id"], due))
    rows = (
        select(i.c.report_id, r.c.state, r.c.severity, r.c.unit_id, r.c.household_id, r.c.handler_user_id)
        .add_columns(s.c.escalation_level)
        .select_from(i.join(r, r.c.id == i.c.report_id).join(s, s.c.report_id == i.c.report_id))
    )
    session.execute(insert(DUE).from_select(cols, rows))
    _analyze(session, DUE)
    return session.scalar(select(func.count()).select_from(DUE)) or 0  # rowcount of INSERT … SELECT varies by driver


def _analyze(session: Session, table: Table) -> None:
    """PostgreSQL plans joins with a temporary table blind (it has no statistics until
    analysed): with them it picks key lookups for a tick and one pass for a backlog."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"ANALYZE {table.name}"))


def _auto_close(session: Session, now: datetime, result: SweepResult) -> None:
    """Resolved reports left without feedback for seven days are closed; followers told."""
    d = DUE
    f = ReportFollower.__table__
    resolved = select(d.c.report_id).where(d.c.state == State.resolved.value)
    if session.execute(resolved.limit(1)).first() is None:
        return
    note = bilingual("办结后7天未评价，自动关闭")  # stored: for readers of either language
    session.execute(
        insert(ReportEvent.__table__).from_select(
            ["report_id", "at", "actor_label", "action", "from_state", "to_state", "note"],
            select(
                d.c.report_id,
                literal(now, UTCDateTime()),
                literal("系统"),
                literal(Action.auto_close.value),
                literal(State.resolved.value),
                literal(State.closed.value),
                literal(note),
            ).where(d.c.state == State.resolved.value),
        )
    )
    # Their followers are told: one event for the whole batch, one message per follower and report.
    followers = session.execute(
        select(d.c.report_id, f.c.user_id)
        .select_from(d.join(f, f.c.report_id == d.c.report_id))
        .where(d.c.state == State.resolved.value)
    ).all()
    if followers:
        told = tuple((report_id, user_id, f"/reports/{report_id}") for report_id, user_id in followers)
        publish(session, ReportsAutoClosed(followers=told, at=now))
    result.closed += (
        session.execute(
            update(reports)
            .where(reports.c.id.in_(resolved), reports.c.state == State.resolved.value)
            .values(state=State.closed.value, closed_at=now, close_reason="no_feedback", updated_at=now)
        ).rowcount
        or 0
    )
    session.execute(update(report_schedule).where(report_schedule.c.report_id.in_(resolved)).values(next_due_at=None))


_TARGET_COLUMNS = ["report_id", "level", "user_id", "label", "state", "handler_user_id", "next_due"]


def _target_rows(now: datetime):
    """Where each due open report climbs, in one pass: its household's party member when it
    has not been escalated yet and there is one, else the next rung of its unit's ladder, else
    nowhere (level NULL); with the moment of its next look (a severity and state unknown to
    the deadline table: an hour)."""
    d, h, lad, g = DUE, HOUSEHOLD, LADDER, GRACE
    by_household = h.c.household_id.is_not(None)
    return (
        select(
            d.c.report_id,
            case((by_household, literal(1)), else_=lad.c.to_level).label("level"),
            case((by_household, h.c.user_id), else_=lad.c.user_id).label("user_id"),
            case((by_household, h.c.label), else_=lad.c.label).label("label"),
            d.c.state,
            d.c.handler_user_id,
            func.coalesce(g.c.next_due, literal(now + timedelta(hours=1), UTCDateTime())).label("next_due"),
        )
        .select_from(
            d.outerjoin(h, and_(h.c.household_id == d.c.household_id, d.c.level == 0))
            .outerjoin(lad, and_(lad.c.unit_id == d.c.unit_id, lad.c.from_level == d.c.level))
            .outerjoin(g, and_(g.c.severity == d.c.severity, g.c.state == d.c.state))
        )
        .where(d.c.state.in_([s.value for s in OPEN_STATES]))
    )


def _timeline(t, now: datetime):
    """A timeline step on every report that climbs."""
    return insert(ReportEvent.__table__).from_select(
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
        )
        .where(t.c.level.is_not(None))
        .order_by(t.c.report_id),  # in key order: the foreign key checks walk the reports in order
    )


def _digests(t):
    """(kind, user, how many, the first report) per person reached and per handler."""
    climbing = t.c.level.is_not(None)
    reached = (
        select(literal("reached").label("kind"), t.c.user_id, func.count().label("n"), func.min(t.c.report_id))
        .where(climbing, t.c.user_id.is_not(None))
        .group_by(t.c.user_id)
    )
    handlers = (
        select(literal("handler"), t.c.handler_user_id, func.count(), func.min(t.c.report_id))
        .where(climbing, t.c.handler_user_id.is_not(None))
        .group_by(t.c.handler_user_id)
    )
    return reached, handlers


def _climb_sqlite(session: Session, now: datetime, result: SweepResult) -> list:
    """The targets into a temporary table, then each write from it."""
    t = TARGETS
    session.execute(insert(t).from_select(_TARGET_COLUMNS, _target_rows(now)))
    session.execute(_timeline(t, now))
    reached, handlers = _digests(t)
    digests = [*session.execute(reached).all(), *session.execute(handlers).all()]
    # SQLite would drive UPDATE … FROM by scanning the schedule through an index it is
    # changing; by key from the targets, with one row-value lookup each, it walks in order.
    climbed = text(
        "UPDATE report_schedule SET (escalation_level, escalated_to_user_id, escalated_to_label, escalated_at,"
        " next_due_at) = (SELECT t.level, t.user_id, t.label, :now, t.next_due FROM tmp_report_targets t"
        " WHERE t.report_id = report_schedule.report_id)"
        " WHERE report_id IN (SELECT report_id FROM tmp_report_targets WHERE level IS NOT NULL)"
    ).bindparams(bindparam("now", now, type_=UTCDateTime()))
    result.escalated += session.execute(climbed).rowcount or 0
    # Whatever is still due has nobody above it: stop looking until its next action.
    s = report_schedule
    stopped = update(s).where(s.c.report_id.in_(select(t.c.report_id).where(t.c.level.is_(None))))
    result.stopped = session.execute(stopped.values(next_due_at=None)).rowcount or 0
    return digests


def _climb_postgresql(session: Session, now: datetime, result: SweepResult) -> list:
    """The same writes as one statement: the targets a common table expression that the
    timeline insert, both schedule updates and the digests read, never stored nor analysed."""
    t = _target_rows(now).cte("targets")
    s = report_schedule
    climbed = (
        update(s)
        .where(s.c.report_id == t.c.report_id, t.c.level.is_not(None))
        .values(
            escalation_level=t.c.level,
            escalated_to_user_id=t.c.user_id,
            escalated_to_label=t.c.label,
            escalated_at=now,
            next_due_at=t.c.next_due,
        )
        .cte("climbed")
    )
    stopped = (  # nobody above them: no more looks until their next action
        update(s).where(s.c.report_id == t.c.report_id, t.c.level.is_(None)).values(next_due_at=None).cte("stopped")
    )
    counts = select(
        literal("counts"),
        cast(null(), Integer),
        func.count().filter(t.c.level.is_not(None)),
        func.count().filter(t.c.level.is_(None)),
    )
    reached, handlers = _digests(t)
    stmt = union_all(counts, reached, handlers).add_cte(_timeline(t, now).cte("timeline"), climbed, stopped)
    rows = session.execute(stmt).all()
    _, _, escalated, stopped_n = next(r for r in rows if r[0] == "counts")
    result.escalated += escalated
    result.stopped = stopped_n
    return [r for r in rows if r[0] != "counts"]


def _climb(session: Session, now: datetime, minutes: dict[str, Minutes], result: SweepResult) -> None:
    """Escalate every due open report that has someone above it: timeline, the narrow schedule
    update, and one digest per person reached and per handler."""
    session.execute(insert(GRACE), _grace_rows(now, minutes))
    if session.get_bind().dialect.name == "postgresql":
        digests = _climb_postgresql(session, now, result)
    else:
        digests = _climb_sqlite(session, now, result)
    for kind, user_id, n, first in sorted(digests, key=lambda d: (d[0] != "reached", d[1])):
        link = "/reports?escalated=me" if kind == "reached" else "/reports/inbox"
        digest = EscalationDigest(
            user_id=user_id, role=kind, count=n, first_report_id=first, link=f"/reports/{first}" if n == 1 else link
        )
        publish(session, digest)


def sweep(session: Session, now: datetime | None = None, *, limit: int | None = None) -> SweepResult:
    """One sweep in the caller's transaction over the due reports, at most ``limit`` of them
    (the oldest first; None: all). :func:`run_sweep` loops in batches."""
    started = time.perf_counter()
    now = now or utcnow()
    result = SweepResult()
    sqlite = session.get_bind().dialect.name == "sqlite"
    if not sqlite:
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
    due_at = report_schedule.c.next_due_at
    anything = select(report_schedule.c.report_id).where(due_at.is_not(None), due_at <= now).limit(1)
    if session.execute(anything).first() is None:
        result.seconds = time.perf_counter() - started
        return result  # the usual tick: one look into the partial index
    _create_temporary(session, sqlite)
    result.due = _take_due(session, now, limit)
    d = DUE
    open_ = d.c.state.in_([s.value for s in OPEN_STATES])
    unit_ids: set[int] = set()
    if result.due:
        _auto_close(session, now, result)
        unit_ids = set(session.scalars(select(d.c.unit_id).where(open_).distinct()))
    if unit_ids:
        today = now.date()
        households = set(
            session.scalars(
                select(d.c.household_id).where(open_, d.c.level == 0, d.c.household_id.is_not(None)).distinct()
            )
        )
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
            row.severity: Minutes(row.accept_minutes, row.on_site_minutes, row.resolve_minutes)
            for row in session.scalars(select(SeverityDeadline))
        }
        _climb(session, now, minutes, result)
    if result.due:
        _empty_temporary(session, sqlite)
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


def run_sweep(engine: Engine, now: datetime | None = None, *, batch: int = BATCH) -> SweepResult:
    """Sweep in transactions of at most ``batch`` reports (oldest due first) until nothing is
    due, so that a backlog never holds the write lock for long; then send the external
    notifications the sweep left pending."""
    now = now or utcnow()
    total = SweepResult(batches=0)
    started = time.perf_counter()
    while True:
        with transaction(engine) as session:
            result = sweep(session, now, limit=batch)
        total.escalated += result.escalated
        total.closed += result.closed
        total.stopped += result.stopped
        total.due += result.due
        total.batches += 1
        if result.due < batch:
            break
    total.seconds = time.perf_counter() - started
    deliver_pending(engine)  # the outbox of domain events and the e-mail and webhook retries
    if total.changed:
        log.info("sweep: escalated %s, closed %s in %.3fs", total.escalated, total.closed, total.seconds)
    return total
