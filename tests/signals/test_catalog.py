"""The application's events: each declared, documented, published somewhere and listened to;
payloads hold plain values only; domains reach each other through them."""

import ast
import inspect
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from renxing.signals import catalog as app_events
from renxing.signals.bus import Bus, Event, bus
from renxing.signals.cli import render
from renxing.signals.payload import decode, encode

SRC = Path(__file__).resolve().parents[2] / "src" / "renxing"


def declared_classes() -> list[type[Event]]:
    return [c for _, c in inspect.getmembers(app_events, inspect.isclass) if issubclass(c, Event) and c is not Event]


def test_every_event_of_the_catalogue_is_declared_documented_and_listened_to():
    rows = {row.name: row for row in bus.catalog()}
    assert {c.name for c in declared_classes()} == set(rows)
    for row in rows.values():
        assert row.publisher and row.doc and row.fields, row.name
        assert row.name.split(".")[0] == row.publisher, row.name
        assert row.subscribers, f"nobody listens to {row.name}"
        for name, mode in row.subscribers:
            subscription = bus.subscription(name)
            assert subscription is not None and subscription.mode.value == mode
            # a subscriber lives in its own package's subscribers module and is named after it
            package = name.split(".")[0]
            assert subscription.handler.__module__ == f"renxing.{package}.subscribers", name


def test_every_event_is_published_by_its_publisher():
    for cls in declared_classes():
        package = SRC / cls.publisher
        users = [p for p in package.rglob("*.py") if p.name != "subscribers.py" and cls.__name__ in p.read_text()]
        assert users, f"{cls.name} is declared but {cls.publisher} never publishes it"


def test_the_catalogue_page_names_every_event_and_subscriber():
    text = render(bus.catalog())
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert len(rows) == len(bus.catalog())
    assert all(len(re.findall(r"(?<!\\)\|", line)) == 5 for line in rows)  # four cells: `int | None` is escaped
    for row in bus.catalog():
        assert f"`{row.name}`" in text
        for name, mode in row.subscribers:
            assert f"`{name}` ({mode})" in text


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return names


def _is_web(names: set[str]) -> bool:
    return any(n.startswith(("fastapi", "starlette", "renxing.web")) for n in names)


def test_care_raises_reports_and_events_tell_the_inbox_only_through_events():
    """care → events and events → notify were direct calls; now they are events. (Pages may
    still read another domain, e.g. the inbox page of the report workspace.)"""
    for path in (SRC / "care").rglob("*.py"):
        names = _imports(path)
        reaching = {n for n in names if n.startswith("renxing.events") and "idempotency" not in n}
        assert not reaching, f"{path.name} reaches into events: {reaching}"
    for path in (SRC / "events").rglob("*.py"):
        names = _imports(path)
        if _is_web(names):
            continue
        assert not {n for n in names if n.startswith("renxing.notify")}, f"{path.name} reaches into notify"


# ---- declaring ------------------------------------------------------------------------------


def test_a_payload_holds_plain_values_and_comes_back_equal():
    b = Bus()

    @b.event("tests.everything", publisher="tests")
    @dataclass(frozen=True, kw_only=True)
    class Everything(Event):
        """Every kind of field."""

        n: int
        x: float
        s: str
        flag: bool
        at: datetime
        maybe: int | None
        ids: tuple[int, ...]
        pairs: tuple[tuple[int, str], ...]

    at = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    e = Everything(n=1, x=2.0, s="文字", flag=True, at=at, maybe=None, ids=(1, 2), pairs=((3, "a"),))
    data = encode(e)
    assert data["at"] == "2026-01-02T03:04:00+00:00" and data["pairs"] == [[3, "a"]]
    assert decode(Everything, data) == e


@pytest.mark.parametrize("kind", [list[int], dict[str, int], set[int], object, bytes])
def test_a_field_a_payload_cannot_hold_is_refused_when_declared(kind):
    b = Bus()
    with pytest.raises(TypeError):

        @b.event("tests.bad", publisher="tests")
        @dataclass(frozen=True)
        class Bad(Event):
            value: kind  # type: ignore[valid-type]


def test_declaring_wrongly_is_refused():
    b = Bus()

    @dataclass
    class Loose(Event):
        n: int

    with pytest.raises(TypeError):
        b.event("tests.loose", publisher="tests")(Loose)

    @dataclass(frozen=True)
    class Fine(Event):
        n: int

    with pytest.raises(ValueError):
        b.event("NoDomain", publisher="tests")(Fine)
    b.event("tests.fine", publisher="tests")(Fine)
    with pytest.raises(ValueError):
        b.event("tests.fine", publisher="tests")(Fine)
    with pytest.raises(ValueError):
        b.subscribe(Fine, lambda s, e: None, name="tests.one")
        b.subscribe(Fine, lambda s, e: None, name="tests.one")


def test_only_declared_events_are_published_or_subscribed(engine):
    b, other = Bus(), Bus()

    @other.event("tests.elsewhere", publisher="tests")
    @dataclass(frozen=True)
    class Elsewhere(Event):
        n: int

    with pytest.raises(TypeError):
        b.subscribe(Elsewhere, lambda s, e: None, name="tests.x")
    with pytest.raises(TypeError):
        b.publish(None, Elsewhere(n=1))  # type: ignore[arg-type]


def test_a_naive_datetime_cannot_wait_in_the_outbox():
    b = Bus()

    @b.event("tests.when", publisher="tests")
    @dataclass(frozen=True)
    class When(Event):
        at: datetime

    with pytest.raises(ValueError):
        encode(When(at=datetime(2026, 1, 1)))
