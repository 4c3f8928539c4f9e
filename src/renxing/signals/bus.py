"""Publish and subscribe inside the process, in the publisher's transaction.

Declare an event (a frozen dataclass of ids and plain values) on a bus, subscribe handlers to
it by a stable name, publish it from a service with the session it writes with::

    @bus.event("care.visit_flagged", publisher="care")
    @dataclass(frozen=True, kw_only=True)
    class VisitFlagged(Event):
        \"\"\"A visit found a problem the carer wants handled.\"\"\"
        visit_id: int

    bus.subscribe(VisitFlagged, raise_report, name="events.raise_from_visit")   # inline
    bus.subscribe(VisitFlagged, count_it, name="stats.count_visits", mode=Mode.after_commit)
    publish(session, VisitFlagged(visit_id=visit.id))

An ``inline`` handler runs at once with the publisher's session: its writes commit or roll
back with the publisher's, and its error is the publisher's error. One that only writes (no
read, no RETURNING) says so with ``writes_only``, so that a hot path may publish inside
:func:`renxing.db.pipelined` when :meth:`Bus.writes_only` allows. An ``after_commit``
subscription gets an outbox row in the same transaction instead; once the transaction
commits, :mod:`renxing.signals.outbox` delivers it, each delivery in its own transaction.

The application's subscriptions are made in one place, :mod:`renxing.signals.wiring`, which
the default bus loads before its first publication, delivery or catalogue.
"""

import enum
import importlib
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from renxing.signals import outbox, payload

NAME = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_.]*$")  # <domain>.<what happened>, e.g. care.visit_flagged
E = TypeVar("E", bound="Event")


class Mode(enum.StrEnum):
    inline = "inline"  # in the publisher's transaction, before publish() returns
    after_commit = "after_commit"  # an outbox row now, delivered after commit in its own transaction


class Event:
    """Base of every domain event; subclasses are frozen dataclasses declared with :meth:`Bus.event`."""

    name: ClassVar[str] = ""
    publisher: ClassVar[str] = ""


Handler = Callable[[Session, Any], None]


@dataclass(frozen=True)
class Subscription:
    name: str
    event: type[Event]
    handler: Handler
    mode: Mode
    writes_only: Callable[[], bool]  # the handler sends no statement whose answer it reads


@dataclass(frozen=True)
class CatalogRow:
    """One event as the documentation shows it."""

    name: str
    publisher: str
    doc: str
    fields: tuple[tuple[str, str], ...]  # (field, type)
    subscribers: tuple[tuple[str, str], ...]  # (subscription name, mode)


class Bus:
    """Declared events, their subscriptions, and the relays run with each delivery round."""

    def __init__(self, wiring: str | None = None) -> None:
        self._events: dict[str, type[Event]] = {}
        self._subscriptions: dict[str, list[Subscription]] = {}
        self._by_name: dict[str, Subscription] = {}
        self._relays: dict[str, Callable[[Engine], object]] = {}
        self._wiring = wiring  # the module whose wire(bus) makes the subscriptions
        self._wired = wiring is None
        self._wiring_now = False  # wire() is running in the thread that holds the lock
        self._lock = threading.RLock()

    # ---- declaring and subscribing -----------------------------------------------------

    def event(self, name: str, *, publisher: str) -> Callable[[type[E]], type[E]]:
        """Declare an event type under its stable ``name``; its docstring documents it."""

        def declare(cls: type[E]) -> type[E]:
            params = getattr(cls, "__dataclass_params__", None)
            if not issubclass(cls, Event) or params is None or not params.frozen:
                raise TypeError(f"{cls.__name__} must be a frozen dataclass deriving from Event")
            if not NAME.match(name):
                raise ValueError(f"event name {name!r} is not <domain>.<what_happened>")
            if name in self._events:
                raise ValueError(f"event {name!r} is declared twice")
            for _, hint in payload.fields_of(cls):
                payload.describe(hint)  # refuses what a payload cannot hold
            cls.name, cls.publisher = name, publisher
            self._events[name] = cls
            self._subscriptions[name] = []
            return cls

        return declare

    def subscribe(
        self,
        event: type[E],
        handler: Callable[[Session, E], None],
        *,
        name: str,
        mode: Mode = Mode.inline,
        writes_only: bool | Callable[[], bool] = False,
    ) -> None:
        """``handler(session, event)`` for every ``event`` published, known as ``name``;
        ``writes_only`` (or a function saying so at the time) when it reads nothing back."""
        if self._events.get(event.name) is not event:
            raise TypeError(f"{event.__name__} is not declared on this bus")
        if name in self._by_name:
            raise ValueError(f"subscriber {name!r} is registered twice")
        only = writes_only if callable(writes_only) else (lambda: bool(writes_only))
        subscription = Subscription(name, event, handler, Mode(mode), only)
        self._subscriptions[event.name].append(subscription)
        self._by_name[name] = subscription

    def relay(self, name: str, deliver: Callable[[Engine], object]) -> None:
        """Another outbox to drain with every :meth:`deliver_pending` (e.g. e-mail retries)."""
        self._relays[name] = deliver

    def ensure_wired(self) -> None:
        """Make the application's subscriptions once, before anything is published or delivered."""
        if self._wired:
            return
        with self._lock:  # another thread wiring: wait for it
            if self._wired or self._wiring_now:
                return
            self._wiring_now = True
            try:
                importlib.import_module(str(self._wiring)).wire(self)
                self._wired = True
            finally:
                self._wiring_now = False

    def writes_only(self, event: type[Event]) -> bool:
        """Whether publishing ``event`` now sends only statements nobody reads the answer of
        (every subscriber inline and writes-only), so it may go inside ``db.pipelined``."""
        self.ensure_wired()
        return all(s.mode is Mode.inline and s.writes_only() for s in self._subscriptions[event.name])

    # ---- publishing and delivering -------------------------------------------------------

    def publish(self, session: Session, event: Event) -> None:
        """Run the inline subscribers now and queue the after-commit ones, in ``session``'s transaction."""
        self.ensure_wired()
        cls = type(event)
        if self._events.get(cls.name) is not cls:
            raise TypeError(f"{cls.__name__} is not declared on this bus")
        later: list[str] = []
        for subscription in self._subscriptions[cls.name]:
            if subscription.mode is Mode.inline:
                subscription.handler(session, event)
            else:
                later.append(subscription.name)
        if later:
            outbox.enqueue(session, self, event.name, payload.encode(event), later)

    def deliver_pending(self, engine: Engine, **options: Any) -> outbox.Delivered:
        """Deliver the outbox rows that are due, then run the relays; see :func:`outbox.deliver`."""
        self.ensure_wired()
        delivered = outbox.deliver(self, engine, **options)
        if options.get("ids") is None:
            outbox.run_relays(self._relays, engine)
        return delivered

    def subscription(self, name: str) -> Subscription | None:
        return self._by_name.get(name)

    def event_type(self, name: str) -> type[Event] | None:
        return self._events.get(name)

    def catalog(self) -> list[CatalogRow]:
        """Every declared event with its payload and subscribers, by name."""
        self.ensure_wired()
        return [
            CatalogRow(
                name=name,
                publisher=cls.publisher,
                doc=" ".join((cls.__doc__ or "").split()),
                fields=tuple((f, payload.describe(h)) for f, h in payload.fields_of(cls)),
                subscribers=tuple((s.name, s.mode.value) for s in self._subscriptions[name]),
            )
            for name, cls in sorted(self._events.items())
        ]


bus = Bus(wiring="renxing.signals.wiring")  # the application's bus


def publish(session: Session, event: Event) -> None:
    """Publish on the application's bus."""
    bus.publish(session, event)


def deliver_pending(engine: Engine, **options: Any) -> outbox.Delivered:
    """Deliver what the application's outbox holds that is due (the scheduler and the CLI call this)."""
    return bus.deliver_pending(engine, **options)
