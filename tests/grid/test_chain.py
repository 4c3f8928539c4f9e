"""The five-level responsibility chain (五级负责制)."""

from datetime import date

import pytest

from renxing.auth.principal import SYSTEM
from renxing.db import transaction
from renxing.errors import Invalid
from renxing.grid import service as grid
from renxing.grid.models import Duty, Level
from tests.kit.client import login


def test_chain_of_a_household_has_every_level(engine, world):
    with transaction(engine) as s:
        links = grid.chain(s, household_id=world.households["H1"])
        by_duty = {link.duty: [p.person_name for p in link.people] for link in links}
    assert by_duty[Duty.party_member] == ["冯党员"]
    assert by_duty[Duty.party_group_leader] == ["钱组长"]
    assert by_duty[Duty.branch_committee] == ["郑委员"]
    assert by_duty[Duty.grid_worker] == ["孙网格"]
    assert by_duty[Duty.branch_secretary] == ["吴支书"]
    assert by_duty[Duty.secretary] == ["周书记"]
    assert [link.level for link in links][:2] == [Level.household, Level.building]


def test_chain_above_is_the_escalation_order(engine, world):
    with transaction(engine) as s:
        names = [p.person_name for p in grid.chain_above(s, household_id=world.households["H1"])]
    assert names == ["冯党员", "钱组长", "郑委员", "吴支书", "周书记"]


def test_ended_assignments_leave_the_chain(engine, world):
    with transaction(engine) as s:
        now = grid.chain(s, household_id=world.households["H2"])
        then = grid.chain(s, household_id=world.households["H2"], on=date(2020, 6, 1))
    assert now[0].people == []
    assert [p.person_name for p in then[0].people] == ["过去的党员"]


def test_assign_checks_the_level(engine, world):
    with transaction(engine) as s, pytest.raises(Invalid) as err:
        grid.assign(
            s, SYSTEM, duty=Duty.secretary, unit_id=world.units["A1"], person_name="某人", start=date(2024, 1, 1)
        )
    assert err.value.errors[0].field == "unit_id"


def test_create_unit_checks_the_hierarchy(engine, world):
    with transaction(engine) as s, pytest.raises(Invalid) as err:
        grid.create_unit(s, SYSTEM, level=Level.building, code="X1", name="错层楼", parent_id=world.units["C1"])
    assert err.value.errors[0].field == "level"


def test_chain_api(client, world):
    r = client.get(f"/api/v1/grid/units/{world.units['B1']}/chain", headers=login(client, "gridworker1"))
    assert r.status_code == 200
    duties = [(x["duty_label"], [p["name"] for p in x["people"]]) for x in r.json()]
    assert duties[0] == ("党小组长", ["钱组长"])
    assert ("社区书记", ["周书记"]) in duties
