"""Per-process caches of what every intake reads and almost nothing writes: the outline index
of the grid, routing decisions, categories, deadlines and the transition table.

Each cached value is keyed by the database and a version token from ``cache_versions``.
Triggers (migrations 0004 and 0008) replace the token whenever a table behind a cache
changes — ``grid`` for grid units, ``routing`` for rules, the chain, users (role, activity,
name, phone), scopes, categories, deadlines, units and the transition table — whoever
writes, ORM or bulk statement, this process or another. So an intake pays one primary-key
read of two rows instead of rebuilding or re-reading, and still sees a change committed a
moment earlier. Tokens are random, so a token written by a transaction that was rolled back
is never reused for another state of the tables. When the row is missing (a wiped table),
nothing is cached.
"""

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.events.deadlines import Minutes
from renxing.events.models import CacheVersion, EventCategory, ReportTransition, SeverityDeadline
from renxing.events.policy import ActorKind, parse_actors

T = TypeVar("T")


@dataclass(frozen=True)
class Versions:
    grid: int | None
    routing: int | None


@dataclass(frozen=True)
class CategoryInfo:
    """What intake needs of a category (a snapshot, safe to share between sessions)."""

    code: str
    name_zh: str
    active: bool
    default_severity: str


_VERSIONS = select(CacheVersion.__table__.c.name, CacheVersion.__table__.c.version)


def versions(session: Session) -> Versions:
    # On the session's connection, as a Core statement: read on every intake, it needs no ORM.
    rows: dict[str, int] = dict(session.connection().execute(_VERSIONS).all())
    return Versions(rows.get("grid"), rows.get("routing"))


_DATABASES: "weakref.WeakKeyDictionary[object, str]" = weakref.WeakKeyDictionary()


def database_of(session: Session) -> str:
    """The key of the session's database (rendering the URL costs more than a cache hit)."""
    bind = session.get_bind()
    engine = getattr(bind, "engine", bind)
    name = _DATABASES.get(engine)
    if name is None:
        name = _DATABASES[engine] = str(engine.url)
    return name


class VersionedCache:
    """At most ``size`` values by (database, version, key), least recently used dropped first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[tuple, object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, database: str, version: int | None, key: Hashable, build: Callable[[], T]) -> T:
        if version is None:
            return build()
        k = (database, version, key)
        with self._lock:
            if k in self._data:
                self._data.move_to_end(k)
                return self._data[k]  # type: ignore[return-value]
        value = build()  # outside the lock: two threads may both build, the result is the same
        with self._lock:
            self._data[k] = value
            while len(self._data) > self.size:
                self._data.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


outlines = VersionedCache(4)
decisions = VersionedCache(50_000)
catalogue = VersionedCache(16)


def clear() -> None:
    for c in (outlines, decisions, catalogue):
        c.clear()


def categories(session: Session, v: Versions) -> dict[str, CategoryInfo]:
    def build() -> dict[str, CategoryInfo]:
        rows = session.execute(
            select(EventCategory.code, EventCategory.name_zh, EventCategory.active, EventCategory.default_severity)
        )
        return {code: CategoryInfo(code, name, active, sev) for code, name, active, sev in rows}

    return catalogue.get(database_of(session), v.routing, "categories", build)


def deadlines(session: Session, v: Versions) -> dict[str, Minutes]:
    def build() -> dict[str, Minutes]:
        return {
            d.severity: Minutes(d.accept_minutes, d.on_site_minutes, d.resolve_minutes)
            for d in session.scalars(select(SeverityDeadline))
        }

    return catalogue.get(database_of(session), v.routing, "deadlines", build)


def actions_by_state(session: Session, v: Versions) -> dict[str, tuple[tuple[str, frozenset[ActorKind]], ...]]:
    """For each state, the actions the transition table allows from it and who may take them."""

    def build() -> dict[str, tuple[tuple[str, frozenset[ActorKind]], ...]]:
        out: dict[str, list[tuple[str, frozenset[ActorKind]]]] = {}
        rows = session.execute(select(ReportTransition.from_state, ReportTransition.action, ReportTransition.actors))
        for state, action, actors in rows:
            out.setdefault(state, []).append((action, parse_actors(actors)))
        return {state: tuple(actions) for state, actions in out.items()}

    return catalogue.get(database_of(session), v.routing, "actions", build)
