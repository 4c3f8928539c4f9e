"""Sending a warning reaches every household inside its area: targets, door-to-door, deliveries."""

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update

from renxing.care.models import CareAssignment, CarePlan
from renxing.db import transaction
from renxing.errors import Conflict, Invalid
from renxing.grid.models import GridUnit
from renxing.warning import reach
from renxing.warning.models import WarningDelivery, WarningMessage, WarningTarget
from tests.kit.events_world import T0
from tests.kit.warning_world import AROUND_B1, add_warning, warning_world


def _start(engine, warning_id, now=T0):
    with transaction(engine) as s:
        warning = s.get(WarningMessage, warning_id)
        result = reach.start(s, warning, now)
        return result, warning.households, warning.next_climb_at


def _targets(engine, warning_id) -> dict[int, WarningTarget]:
    with transaction(engine) as s:
        rows = s.scalars(select(WarningTarget).where(WarningTarget.warning_id == warning_id))
        return {t.household_id: t for t in rows}


def _deliveries(engine, warning_id) -> list[tuple[int, str, str]]:
    with transaction(engine) as s:
        rows = s.execute(
            select(WarningTarget.household_id, WarningDelivery.channel, WarningDelivery.state)
            .join(WarningTarget, WarningTarget.id == WarningDelivery.target_id)
            .where(WarningDelivery.warning_id == warning_id)
        )
        return sorted(tuple(r) for r in rows)


@pytest.fixture
def ww(engine):
    return warning_world(engine)


def test_a_community_by_its_outline_reaches_its_households_and_queues_every_channel(ww, engine):
    wid = add_warning(ww, unit="C1", level="orange", channels=("in_app", "sms"))
    result, households, climb_at = _start(engine, wid)
    hh = ww.households
    inside = {hh[k] for k in ("H1", "H2", "H3", "H5", "H6", "H7")}
    assert set(_targets(engine, wid)) == inside  # H4 lives in the other community
    assert result.households == households == 6
    assert climb_at == T0 + timedelta(minutes=30)  # orange climbs after 30 minutes
    assert _deliveries(engine, wid) == sorted((h, c, "queued") for h in inside for c in ("in_app", "sms"))


def test_a_drawn_polygon_reaches_only_the_buildings_inside(ww, engine):
    wid = add_warning(ww, unit="C1", polygon=AROUND_B1, channels=("log",))
    result, _, _ = _start(engine, wid)
    assert set(_targets(engine, wid)) == {ww.households["H1"], ww.households["H2"]}
    assert result.households == 2
    assert len(_deliveries(engine, wid)) == 2


def test_a_unit_without_outline_reaches_everything_under_it(ww, engine):
    with transaction(engine) as s:
        s.execute(update(GridUnit).where(GridUnit.id == ww.units["A2"]).values(geometry=None))
        s.execute(update(GridUnit).where(GridUnit.id == ww.units["B2"]).values(lon=None, lat=None))
    wid = add_warning(ww, unit="A2", level="red")
    result, _, climb_at = _start(engine, wid)
    assert set(_targets(engine, wid)) == {ww.households[k] for k in ("H3", "H5", "H6", "H7")}
    assert climb_at == T0 + timedelta(minutes=15)
    assert result.households == 4


def test_the_vulnerable_go_door_to_door_to_their_building_leader_and_carers(ww, engine):
    with transaction(engine) as s:
        b2 = s.get(GridUnit, ww.units["B2"])
        plan = CarePlan(resident_id=ww.residents["liu"], path=b2.path, frequency_days=7, status="active")
        s.add(plan)
        s.flush()
        for user, until in [("committee1", None), ("gridworker1", date(2024, 1, 1))]:  # the second ended
            s.add(
                CareAssignment(
                    plan_id=plan.id, carer_kind="grid_worker", user_id=ww.uid(user), since=date(2023, 1, 1), until=until
                )
            )
    wid = add_warning(ww, unit="C1")
    result, _, _ = _start(engine, wid)
    targets = _targets(engine, wid)
    hh = ww.households
    flagged = {k for k, h in hh.items() if h in targets and targets[h].door_to_door}
    assert flagged == {"H1", "H2", "H5", "H6"}
    # 王建国: aged 80+, chronically ill, oxygen; 刘奶奶: aged 80+ and bedridden (counts twice)
    assert targets[hh["H1"]].vulnerability == 3 and targets[hh["H5"]].vulnerability == 3
    assert targets[hh["H2"]].vulnerability == 1 and targets[hh["H3"]].vulnerability == 0
    # B1's party group leader, and 刘奶奶's carer; B2 has no leader, the ended carer is not told
    assert result.door_to_door == tuple(sorted((ww.uid("leader1"), ww.uid("committee1"))))


def test_an_update_reaches_the_households_of_the_warning_it_references(ww, engine):
    first = add_warning(ww, unit="C1", polygon=AROUND_B1)
    _start(engine, first)
    update_id = add_warning(ww, unit="C1", msg_type="Update", references_id=first, channels=("sms",))
    result, _, _ = _start(engine, update_id, now=T0 + timedelta(minutes=10))
    assert set(_targets(engine, update_id)) == set(_targets(engine, first))
    assert result.households == 2
    cancel = add_warning(ww, unit="C1", msg_type="Cancel", references_id=update_id, channels=("sms",))
    assert _start(engine, cancel)[0].households == 2


def test_a_warning_is_reached_once_and_bad_areas_or_channels_are_refused(ww, engine):
    wid = add_warning(ww, unit="C1", channels=("sms",))
    _start(engine, wid)
    with pytest.raises(Conflict):
        _start(engine, wid)
    with pytest.raises(Invalid) as bad:
        _start(engine, add_warning(ww, unit="C1", polygon={"type": "LineString", "coordinates": [[0, 0], [1, 1]]}))
    assert bad.value.errors[0].field == "polygon"
    with pytest.raises(Invalid) as bad:
        _start(engine, add_warning(ww, unit="C1", channels=("pigeon",)))
    assert bad.value.errors[0].field == "channels"
    with transaction(engine) as s:  # nothing written by the refused ones
        assert s.scalar(select(func.count()).select_from(WarningTarget)) == 6
        assert json.loads(json.dumps(s.get(WarningMessage, wid).channels)) == ["sms"]
