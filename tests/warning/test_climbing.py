"""Households unreached at each deadline climb the chain, rung by rung, to the right people, until 100 %.

The world's chain above C1's households: H1 has its party member (member1) and B1 its leader
(leader1); A1 its grid worker and committee member (gridworker1, committee1); P1 its branch
secretary (branchsec1); C1 its secretary and staff (secretary, approver). H2's party member left
in 2021; B2 and A2 have nobody, so B2's households (H3, H5, H6, H7) go straight to rung 3.
"""

from datetime import timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from renxing.cli import app as cli
from renxing.config import get_settings
from renxing.db import transaction, utcnow
from renxing.notify.models import Notification
from renxing.warning import acks, climbing
from renxing.warning.models import WarningClimb, WarningTarget
from tests.kit.acks_world import sent_warning, warning
from tests.kit.events_world import T0
from tests.kit.warning_world import add_warning, warning_world


@pytest.fixture
def ww(engine):
    return warning_world(engine)


def _rungs(ww, warning_id: int) -> dict[int, int]:
    with transaction(ww.engine) as s:
        rows = s.execute(
            select(WarningTarget.household_id, WarningTarget.rung).where(WarningTarget.warning_id == warning_id)
        )
        return dict(rows.all())


def _climbs(ww, warning_id: int) -> list[WarningClimb]:
    with transaction(ww.engine) as s:
        return list(
            s.scalars(select(WarningClimb).where(WarningClimb.warning_id == warning_id).order_by(WarningClimb.id))
        )


def _told(ww, climb: WarningClimb) -> dict[str, int]:
    names = {uid: name for name, uid in ww.users.items()}
    return {names[int(u)]: n for u, n in climb.detail["counts"].items()}


def test_the_unreached_climb_rung_by_rung_until_everyone_is_reached(ww):
    sent = sent_warning(ww)
    h = ww.households
    step = warning(ww, sent.id).next_climb_at - T0
    assert step == timedelta(minutes=30)  # orange's deadline
    assert climbing.run(ww.engine, T0 + step - timedelta(minutes=1)).warnings == 0

    with transaction(ww.engine) as s:  # H6 tapped its link before the first deadline
        acks.acknowledge_link(s, sent.tokens["H6"], now=T0 + timedelta(minutes=5))
    done = climbing.run(ww.engine, T0 + step)
    assert (done.warnings, done.households, done.recipients) == (1, 5, 3)
    assert _rungs(ww, sent.id) == {h["H1"]: 1, h["H2"]: 1, h["H3"]: 3, h["H5"]: 3, h["H6"]: 0, h["H7"]: 3}
    first = _climbs(ww, sent.id)[0]
    assert (first.rung, first.households, first.detail["unheld"]) == (3, 5, 0)
    assert _told(ww, first) == {"member1": 1, "leader1": 2, "branchsec1": 3}
    assert first.detail["buildings"][str(ww.units["B1"])]["households"] == 2
    assert warning(ww, sent.id).next_climb_at == T0 + 2 * step
    with transaction(ww.engine) as s:
        inbox = s.scalars(select(Notification).where(Notification.user_id == ww.uid("leader1"))).all()
    assert [n.topic for n in inbox] == ["warning.unreached"] and "2" in inbox[0].title
    assert inbox[0].link == f"/warning/{sent.id}/progress"

    # The same deadline again (a second scheduler): nothing more.
    assert climbing.run(ww.engine, T0 + step).warnings == 0

    second = climbing.run(ww.engine, T0 + 2 * step)
    assert second.households == 5
    assert _rungs(ww, sent.id) == {h["H1"]: 2, h["H2"]: 2, h["H3"]: 4, h["H5"]: 4, h["H6"]: 0, h["H7"]: 4}
    assert _told(ww, _climbs(ww, sent.id)[1]) == {"gridworker1": 2, "committee1": 2, "secretary": 3, "approver": 3}

    climbing.run(ww.engine, T0 + 3 * step)
    assert _told(ww, _climbs(ww, sent.id)[2]) == {"branchsec1": 2, "secretary": 3, "approver": 3}
    climbing.run(ww.engine, T0 + 4 * step)  # the top stays the top, told again
    assert _rungs(ww, sent.id)[h["H1"]] == 4 and _rungs(ww, sent.id)[h["H3"]] == 4
    assert _told(ww, _climbs(ww, sent.id)[3]) == {"secretary": 5, "approver": 5}

    secretary = ww.principal("secretary")
    with transaction(ww.engine) as s:
        for key in ("H1", "H2", "H3", "H5", "H7"):
            acks.record(s, secretary, sent.id, sent.targets[key], how="call")
    assert warning(ww, sent.id).acknowledged == 6
    assert climbing.run(ww.engine, T0 + 5 * step).warnings == 0  # 100 %: it stops
    assert len(_climbs(ww, sent.id)) == 4


def test_a_late_scheduler_climbs_once_and_counts_the_next_deadline_from_now(ww):
    sent = sent_warning(ww)
    late = T0 + timedelta(hours=5)
    assert climbing.run(ww.engine, late).warnings == 1
    assert climbing.run(ww.engine, late).warnings == 0
    assert warning(ww, sent.id).next_climb_at == late + timedelta(minutes=30)


def test_superseded_cancelled_and_expired_warnings_do_not_climb(ww):
    updated = sent_warning(ww)
    update_id = add_warning(ww, msg_type="Update", references_id=updated.id, headline="暴雨预警更新")
    cancelled = sent_warning(ww)
    add_warning(ww, msg_type="Cancel", references_id=cancelled.id, headline="解除")
    expired = sent_warning(ww)  # expires twelve hours after it was sent
    draft_update = sent_warning(ww)
    add_warning(ww, msg_type="Update", references_id=draft_update.id, status="draft")
    due = {warning_id for warning_id, *_ in _due(ww, T0 + timedelta(hours=1))}
    assert due == {expired.id, draft_update.id}  # (the Update has no next deadline: never started)
    assert update_id not in due
    assert {w for w, *_ in _due(ww, T0 + timedelta(hours=13))} == set()


def _due(ww, now):
    with transaction(ww.engine) as s:
        return climbing.due(s, now)


def test_the_climb_command(ww, monkeypatch):
    sent = sent_warning(ww, now=utcnow() - timedelta(hours=1))  # its first deadline has passed
    monkeypatch.setattr(get_settings(), "database_url", ww.engine.url.render_as_string(hide_password=False))
    result = CliRunner().invoke(cli, ["warning", "climb"])
    assert result.exit_code == 0, result.output
    assert "1" in result.output  # one warning climbed
    assert len(_climbs(ww, sent.id)) == 1
