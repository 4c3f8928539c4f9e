"""Publishing inside the publisher's transaction: inline subscribers share its fate;
after-commit subscribers are delivered from the outbox once, retried with backoff, never lost."""

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from renxing.db import transaction, utcnow
from renxing.signals.bus import Bus, Mode
from renxing.signals.models import OutboxRow
from renxing.signals.outbox import LAST_RETRY, backoff
from tests.signals.kit import LATER, Thing, declare, leave_mark, marks, outbox_rows

ROOT = Path(__file__).resolve().parents[2]


class FarSideDown(RuntimeError):
    pass


def test_an_inline_subscriber_runs_at_once_in_the_publishers_transaction(engine):
    bus = Bus()
    thing = declare(bus)
    seen = []

    def hear(session, e):
        seen.append((session, e))
        leave_mark(session, e)

    bus.subscribe(thing, hear, name="tests.hear")
    with transaction(engine) as s:
        e = thing(marker="a", at=utcnow(), ids=(1, 2))
        bus.publish(s, e)
        assert seen == [(s, e)]  # before publish returned, with the publisher's session
    assert marks(engine, "a") == 1
    assert outbox_rows(engine) == []  # inline work leaves nothing to deliver


def test_an_inline_subscribers_work_rolls_back_with_the_publisher(engine):
    bus = Bus()
    thing = declare(bus)
    bus.subscribe(thing, leave_mark, name="tests.leave_mark")
    with pytest.raises(FarSideDown), transaction(engine) as s:
        bus.publish(s, thing(marker="b", at=utcnow()))
        raise FarSideDown
    assert marks(engine) == 0


def test_a_failing_inline_subscriber_fails_the_publisher(engine):
    bus = Bus()
    thing = declare(bus)

    def refuse(session, e):
        raise FarSideDown("no")

    bus.subscribe(thing, leave_mark, name="tests.leave_mark")
    bus.subscribe(thing, refuse, name="tests.refuse")
    with pytest.raises(FarSideDown), transaction(engine) as s:
        leave_mark(s, thing(marker="publisher", at=utcnow()))
        bus.publish(s, thing(marker="c", at=utcnow()))
    assert marks(engine) == 0  # neither the publisher's row nor the first subscriber's


def test_after_commit_is_delivered_once_committed_in_its_own_transaction(engine):
    bus = Bus()
    thing = declare(bus)
    got = []

    def hear(session, e):
        got.append(e)
        leave_mark(session, e)

    bus.subscribe(thing, hear, name="tests.hear", mode=Mode.after_commit)
    at = utcnow()
    with transaction(engine) as s:
        bus.publish(s, thing(marker="d", at=at, ids=(3, 4), note="说明"))
        assert got == []  # nothing runs before the commit
    (row,) = outbox_rows(engine)
    assert (row.event, row.subscriber, row.status, row.attempts) == ("tests.thing_happened", "tests.hear", "done", 1)
    assert row.delivered_at is not None and row.last_error is None
    assert got == [thing(marker="d", at=at, ids=(3, 4), note="说明")]  # the payload came back equal
    assert marks(engine, "d") == 1


def test_after_commit_inside_a_savepoint_waits_for_the_outer_commit(engine):
    """Releasing or rolling back a SAVEPOINT fires the session's commit and rollback hooks
    too: the event must still wait for the outer transaction, and then be delivered at once."""
    bus = Bus()
    thing = declare(bus)
    got = []
    bus.subscribe(thing, lambda session, e: got.append(e.marker), name="tests.hear", mode=Mode.after_commit)
    with transaction(engine) as s:
        with s.begin_nested():
            bus.publish(s, thing(marker="nested", at=utcnow()))
        assert got == []  # the savepoint's release delivered nothing
        with pytest.raises(FarSideDown), s.begin_nested():
            raise FarSideDown
        assert got == []
    assert got == ["nested"]  # the outer commit delivered it, not the next sweep


def test_after_commit_leaves_nothing_when_the_publisher_rolls_back(engine):
    bus = Bus()
    thing = declare(bus)
    bus.subscribe(thing, leave_mark, name="tests.leave_mark", mode=Mode.after_commit)
    with pytest.raises(FarSideDown), transaction(engine) as s:
        bus.publish(s, thing(marker="e", at=utcnow()))
        raise FarSideDown
    assert outbox_rows(engine) == [] and marks(engine) == 0
    assert bus.deliver_pending(engine).done == 0


def test_a_failing_subscriber_is_retried_with_backoff_and_its_partial_work_undone(engine):
    bus = Bus()
    thing = declare(bus)
    tries = []

    def flaky(session, e):
        leave_mark(session, e)  # written, then undone with the failed try
        tries.append(e.marker)
        if len(tries) < 3:
            raise FarSideDown(f"down ({len(tries)})")

    bus.subscribe(thing, flaky, name="tests.flaky", mode=Mode.after_commit)
    with transaction(engine) as s:
        bus.publish(s, thing(marker="f", at=utcnow()))
    (row,) = outbox_rows(engine)  # the delivery right after commit failed
    assert (row.status, row.attempts) == ("pending", 1) and row.last_error == "FarSideDown: down (1)"
    first_retry = row.next_attempt_at
    assert timedelta(seconds=29) < first_retry - row.created_at <= timedelta(seconds=31)
    assert marks(engine) == 0

    assert bus.deliver_pending(engine).done == 0 and len(tries) == 1  # not due yet
    result = bus.deliver_pending(engine, now=first_retry)
    assert (result.done, result.failed) == (0, 1)
    (row,) = outbox_rows(engine)
    assert row.attempts == 2 and row.next_attempt_at == first_retry + timedelta(seconds=60)

    result = bus.deliver_pending(engine, now=row.next_attempt_at)
    assert (result.done, result.failed) == (1, 0)
    (row,) = outbox_rows(engine)
    assert (row.status, row.attempts, row.last_error) == ("done", 3, None)
    assert marks(engine, "f") == 1 and tries == ["f", "f", "f"]


def test_backoff_doubles_up_to_an_hour():
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff(8) == LAST_RETRY and backoff(40) == LAST_RETRY


def test_a_row_nobody_is_subscribed_to_any_more_waits_with_the_reason(engine):
    bus = Bus()
    thing = declare(bus)
    bus.subscribe(thing, leave_mark, name="tests.leave_mark", mode=Mode.after_commit)
    with transaction(engine) as s:
        s.info["renxing.signals.after_commit"] = []  # keep it from being delivered at commit
        bus.publish(s, thing(marker="g", at=utcnow()))
        s.info.pop("renxing.signals.after_commit")
    other = Bus()  # the same event, but the subscriber was removed from the code
    declare(other)
    assert other.deliver_pending(engine, now=utcnow() + timedelta(minutes=1)).failed == 1
    (row,) = outbox_rows(engine)
    assert row.status == "pending" and "tests.leave_mark" in row.last_error
    assert bus.deliver_pending(engine, now=row.next_attempt_at).done == 1  # back in the code: delivered


def test_delivering_twice_delivers_once(engine):
    got = []
    bus = Bus()
    thing = declare(bus)
    bus.subscribe(thing, lambda s, e: got.append(e.marker), name="tests.count", mode=Mode.after_commit)
    with transaction(engine) as s:
        bus.publish(s, thing(marker="h", at=utcnow()))
    assert bus.deliver_pending(engine).done == 0
    with transaction(engine) as s:  # even a row put back in time is not due again once done
        s.execute(update(OutboxRow).values(next_attempt_at=utcnow() - timedelta(days=1)))
    assert bus.deliver_pending(engine).done == 0
    assert got == ["h"]


def test_two_dispatchers_at_once_deliver_each_row_once(engine):
    bus = Bus()
    thing = declare(bus)
    got: list[str] = []
    lock = threading.Lock()

    def slow(session, e):
        leave_mark(session, e)
        time.sleep(0.002)  # long enough for the two to meet on the same rows
        with lock:
            got.append(e.marker)

    bus.subscribe(thing, slow, name="tests.slow", mode=Mode.after_commit)
    with transaction(engine) as s:
        for i in range(40):
            bus.publish(s, thing(marker=f"m{i}", at=utcnow()))
        s.info.pop("renxing.signals.after_commit")  # as if the process died before delivering
    errors: list[BaseException] = []

    def dispatcher():
        try:
            bus.deliver_pending(engine)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=dispatcher) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(got) == sorted(f"m{i}" for i in range(40))  # each once, none twice
    assert marks(engine) == 40
    assert {r.status for r in outbox_rows(engine)} == {"done"}
    assert {r.attempts for r in outbox_rows(engine)} == {1}


def test_nothing_is_lost_when_the_process_dies_between_commit_and_delivery(engine):
    """Another process publishes, commits, and is gone before it delivers; a later round here
    delivers what it left."""
    url = engine.url.render_as_string(hide_password=False)
    script = (
        "import os, sys\n"
        "from sqlalchemy import event\n"
        "from sqlalchemy.orm import Session\n"
        "from renxing.db import make_engine, transaction, utcnow\n"
        "from tests.signals.kit import LATER, Thing\n"
        "event.listen(Session, 'after_commit', lambda s: os._exit(0), insert=True)\n"
        "with transaction(make_engine(sys.argv[1])) as s:\n"
        "    LATER.publish(s, Thing(marker='left', at=utcnow()))\n"
        "sys.exit(3)\n"  # never reached: the process ended right after the commit
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", script, url], cwd=ROOT, env=env, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    (row,) = outbox_rows(engine)
    assert (row.status, row.attempts) == ("pending", 0) and marks(engine) == 0
    assert LATER.deliver_pending(engine).done == 1
    assert marks(engine, "left") == 1 and outbox_rows(engine)[0].status == "done"


def test_relays_run_with_each_delivery_round_but_not_after_a_commit(engine):
    bus = Bus()
    thing = declare(bus)
    bus.subscribe(thing, leave_mark, name="tests.leave_mark", mode=Mode.after_commit)
    rounds = []
    bus.relay("tests.other_outbox", rounds.append)

    def broken(_engine):
        raise FarSideDown("relay")

    bus.relay("tests.broken", broken)
    with transaction(engine) as s:
        bus.publish(s, thing(marker="i", at=utcnow()))
    assert rounds == []  # the delivery at commit is for that transaction's rows only
    bus.deliver_pending(engine)
    assert rounds == [engine]  # and a failing relay kept nothing from running


def test_writes_only_says_whether_a_publication_may_be_pipelined():
    bus = Bus()
    thing = declare(bus)
    assert bus.writes_only(thing)  # nobody listens: nothing is sent
    bus.subscribe(thing, leave_mark, name="tests.writes", writes_only=True)
    assert bus.writes_only(thing)
    switch = {"on": False}
    bus.subscribe(thing, leave_mark, name="tests.sometimes", writes_only=lambda: switch["on"])
    assert not bus.writes_only(thing)
    switch["on"] = True
    assert bus.writes_only(thing)
    bus.subscribe(thing, leave_mark, name="tests.later", mode=Mode.after_commit, writes_only=True)
    assert not bus.writes_only(thing)  # the outbox insert reads its ids back


def test_the_module_bus_publishes_after_commit_too(engine):
    with transaction(engine) as s:
        LATER.publish(s, Thing(marker="j", at=utcnow()))
    assert marks(engine, "j") == 1
