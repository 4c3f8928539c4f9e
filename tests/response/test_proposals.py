"""Switches proposed by rule: a red warning sent, a red sensor trigger; confirmed or dismissed."""

import pytest
from sqlalchemy import select

from renxing.db import transaction
from renxing.errors import Conflict, NotFound
from renxing.notify.models import Notification
from renxing.response import modes, proposals
from renxing.response.models import ModeProposal
from renxing.signals.bus import publish
from renxing.signals.catalog import SensorRuleTriggered, WarningSent
from tests.kit.events_world import T0
from tests.kit.warning_world import add_warning, warning_world


@pytest.fixture
def ww(engine):
    return warning_world(engine)


def _sent(ww, warning_id, level, msg_type="Alert"):
    with transaction(ww.engine) as s:
        event = WarningSent(
            warning_id=warning_id,
            msg_type=msg_type,
            level=level,
            headline="暴雨",
            households=3,
            door_to_door=(),
            link="/",
        )
        publish(s, event)


def _proposals(ww):
    with transaction(ww.engine) as s:
        return [(p.unit_id, p.source, p.status, p.exercise) for p in s.scalars(select(ModeProposal))]


def test_a_red_warning_sent_over_an_area_proposes_emergency_to_its_community_once(ww):
    orange = add_warning(ww, level="orange")
    _sent(ww, orange, "orange")
    assert _proposals(ww) == []
    red = add_warning(ww, unit="A1", level="red", headline="红色暴雨预警")
    _sent(ww, red, "red")
    _sent(ww, red, "red", "Update")  # the same warning again: once per source
    assert _proposals(ww) == [(ww.units["C1"], f"warning:{red}", "pending", False)]
    with transaction(ww.engine) as s:
        told = set(s.scalars(select(Notification.user_id).where(Notification.topic == "response.proposed")))
    assert told == {ww.uid("secretary"), ww.uid("approver")}


def test_an_exercise_warning_proposes_an_exercise_switch(ww):
    red = add_warning(ww, unit="C2", level="red", by="staff2", exercise=True)
    _sent(ww, red, "red")
    assert _proposals(ww) == [(ww.units["C2"], f"warning:{red}", "pending", True)]


def test_a_red_trigger_proposes_emergency_and_staff_confirm_it(ww):
    def trigger(trigger_id, level):
        with transaction(ww.engine) as s:
            event = SensorRuleTriggered(
                trigger_id=trigger_id,
                device_id=1,
                device="积水监测点1",
                kind="water_level",
                rule="水位超过警戒",
                level=level,
                category="waterlogging",
                value=42.0,
                measure_unit="cm",
                unit_id=ww.units["B2"],
                lon=None,
                lat=None,
                at=T0,
            )
            publish(s, event)

    trigger(7, "orange")
    trigger(8, "red")
    [(unit_id, source, status, _)] = _proposals(ww)
    assert (unit_id, source, status) == (ww.units["C1"], "sensor-trigger:8", "pending")
    with transaction(ww.engine) as s:
        pid = s.scalar(select(ModeProposal.id))
    with pytest.raises(NotFound), transaction(ww.engine) as s:  # another community's
        proposals.confirm(s, ww.principal("staff2"), pid)
    with transaction(ww.engine) as s:
        row = proposals.confirm(s, ww.principal("secretary"), pid, now=T0)
        assert (row.to_state, row.proposal_id) == ("emergency", pid)
        assert modes.current(s, ww.units["C1"]).state == "emergency"
    assert _proposals(ww)[0][2] == "confirmed"
    with pytest.raises(Conflict), transaction(ww.engine) as s:
        proposals.dismiss(s, ww.principal("secretary"), pid)
    trigger(9, "red")  # already in emergency: nothing to propose
    assert len(_proposals(ww)) == 1


def test_a_dismissed_proposal_leaves_the_mode(ww):
    red = add_warning(ww, level="red")
    _sent(ww, red, "red")
    with transaction(ww.engine) as s:
        pid = s.scalar(select(ModeProposal.id))
        proposals.dismiss(s, ww.principal("approver"), pid)
        assert modes.current(s, ww.units["C1"]).state == "normal"
    assert _proposals(ww)[0][2] == "dismissed"
