"""Operating modes: the transition table, reasons, scope, the record and the staff told."""

import pytest
from sqlalchemy import select

from renxing.auth.models import AuditEntry
from renxing.db import transaction
from renxing.errors import Forbidden, Invalid
from renxing.listing import ListQuery
from renxing.notify.models import Notification
from renxing.response import modes
from renxing.response.models import CommunityMode, ModeSwitch
from tests.kit.events_world import T0
from tests.kit.warning_world import warning_world


@pytest.fixture
def ww(engine):
    return warning_world(engine)


def _switch(ww, who, unit, to_state, reason=None, **kw):
    actor = ww.principal(who)
    with transaction(ww.engine) as s:
        row = modes.switch(s, actor, ww.units[unit], to_state, reason, **kw)
        return row.id


def test_a_community_never_switched_is_normal_and_goes_up_with_its_record(ww):
    with transaction(ww.engine) as s:
        assert modes.current(s, ww.units["C1"]).state == "normal"
    _switch(ww, "secretary", "C1", "emergency", now=T0)
    with transaction(ww.engine) as s:
        mode = s.get(CommunityMode, ww.units["C1"])
        assert (mode.state, mode.exercise, mode.switched_by) == ("emergency", False, ww.uid("secretary"))
        row = s.scalar(select(ModeSwitch))
        assert (row.from_state, row.to_state, row.actor_id, row.at) == ("normal", "emergency", ww.uid("secretary"), T0)
        audit = s.scalar(select(AuditEntry).where(AuditEntry.entity == "community_mode"))
        assert audit.action == "switch" and audit.entity_id == ww.units["C1"]
        # the other staff member of the community is told (a moment after), not the one who switched
        told = {n.user_id: n for n in s.scalars(select(Notification).where(Notification.topic == "response.mode"))}
        assert ww.uid("approver") in told and ww.uid("secretary") not in told
        assert "阳光社区" in told[ww.uid("approver")].title and "应急" in told[ww.uid("approver")].title
        page = modes.history(s, ww.principal("gridworker1"), ListQuery())
        assert [h.to_state for h in page.items] == ["emergency"]


def test_only_the_table_s_switches_are_made_and_some_need_a_reason(ww):
    with pytest.raises(Invalid) as refused:
        _switch(ww, "secretary", "C1", "recovery")
    assert [e.field for e in refused.value.errors] == ["to_state"]
    with pytest.raises(Invalid) as refused:
        _switch(ww, "secretary", "C1", "flood")
    assert [e.field for e in refused.value.errors] == ["to_state"]
    _switch(ww, "secretary", "C1", "alert")
    with pytest.raises(Invalid) as refused:
        _switch(ww, "secretary", "C1", "normal", "  ")
    assert [e.field for e in refused.value.errors] == ["reason"]
    _switch(ww, "secretary", "C1", "normal", "雨已停")
    with transaction(ww.engine) as s:
        assert modes.current(s, ww.units["C1"]).state == "normal"
        assert [r.reason for r in s.scalars(select(ModeSwitch).order_by(ModeSwitch.id))] == [None, "雨已停"]


def test_staff_switch_only_their_own_communities_and_readers_cannot_switch(ww):
    with pytest.raises(Forbidden):
        _switch(ww, "staff2", "C1", "alert")
    with pytest.raises(Forbidden):
        _switch(ww, "gridworker1", "C1", "alert")
    _switch(ww, "street", "C2", "alert")  # the street covers both
    with transaction(ww.engine) as s:
        seen = {m.name: (m.mode.state, m.may_switch) for m in modes.modes_under(s, ww.principal("staff2"))}
        assert seen == {"和平社区": ("alert", True)}
        assert modes.not_normal(s, ww.principal("secretary")) == []


def test_an_exercise_is_marked_and_ends_back_in_normal(ww):
    _switch(ww, "secretary", "C1", "emergency", exercise=True)
    with transaction(ww.engine) as s:
        [(name, mode)] = modes.not_normal(s, ww.principal("resident1"))
        assert (name, mode.state, mode.exercise) == ("阳光社区", "emergency", True)
        told = s.scalars(select(Notification.title).where(Notification.topic == "response.mode")).first()
        assert "演练" in told
    _switch(ww, "secretary", "C1", "recovery", "演练结束")
    _switch(ww, "secretary", "C1", "normal", "演练结束")
    with transaction(ww.engine) as s:
        assert s.get(CommunityMode, ww.units["C1"]).exercise is False
