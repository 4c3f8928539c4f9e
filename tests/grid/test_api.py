"""The grid's JSON answers: what each route sends is what its model in grid/schemas.py says,
counts come from the register, and scope decides what is seen."""

from renxing.grid.schemas import BuildingOut, ChainLinkOut, UnitCountOut, UnitDetailOut, UnitOut
from tests.kit.client import login

UNIT_KEYS = set(UnitOut.model_fields)


def test_a_unit_shows_its_ancestors_plain_and_its_children_with_residents(client, world):
    staff = login(client, "secretary")
    r = client.get(f"/api/v1/grid/units/{world.units['P1']}", headers=staff)
    assert r.status_code == 200, r.text
    unit = r.json()
    assert set(unit) == set(UnitDetailOut.model_fields)
    assert [a["name"] for a in unit["ancestors"]] == ["测试街道", "阳光社区"]
    assert all(set(a) == UNIT_KEYS for a in unit["ancestors"])  # no resident count above
    assert {c["name"]: c["residents"] for c in unit["children"]} == {"一片区": 3, "二片区": 1}
    assert all(set(c) == set(UnitCountOut.model_fields) for c in unit["children"])


def test_roots_are_plain_units(client, world):
    roots = client.get("/api/v1/grid/roots", headers=login(client, "gridworker1")).json()
    assert [u["code"] for u in roots] == ["S"] and set(roots[0]) == UNIT_KEYS


def test_a_building_lists_its_households_with_how_many_live_there(client, world):
    r = client.get(f"/api/v1/grid/buildings/{world.units['B1']}", headers=login(client, "secretary"))
    assert r.status_code == 200, r.text
    building = r.json()
    assert set(building) == set(BuildingOut.model_fields)
    assert building["building"]["floors"] == 6 and building["building"]["structure"] == "砖混"
    assert [(h["room"], h["residents"]) for h in building["households"]] == [("101", 2), ("201", 1)]
    mine = client.get(f"/api/v1/grid/buildings/{world.units['B1']}", headers=login(client, "resident1")).json()
    assert [h["room"] for h in mine["households"]] == ["101"]  # a resident sees their own household only


def test_a_removed_resident_leaves_the_counts(client, world):
    staff = login(client, "secretary")
    assert client.delete(f"/api/v1/residents/{world.residents['li']}", headers=staff).status_code == 200
    building = client.get(f"/api/v1/grid/buildings/{world.units['B1']}", headers=staff).json()
    assert [(h["room"], h["residents"]) for h in building["households"]] == [("101", 2), ("201", 0)]
    area = client.get(f"/api/v1/grid/units/{world.units['P1']}", headers=staff).json()
    assert {c["name"]: c["residents"] for c in area["children"]} == {"一片区": 2, "二片区": 1}


def test_the_chain_answer_follows_its_model(client, world):
    links = client.get(
        f"/api/v1/grid/households/{world.households['H1']}/chain", headers=login(client, "secretary")
    ).json()
    assert links and all(set(link) == set(ChainLinkOut.model_fields) for link in links)
    assert links[0]["duty"] == "party_member" and links[0]["people"][0]["name"] == "冯党员"


def test_units_beside_the_scope_are_403_and_missing_ones_404(client, world):
    worker = login(client, "gridworker1")
    assert client.get(f"/api/v1/grid/units/{world.units['C2']}", headers=worker).status_code == 403
    assert client.get("/api/v1/grid/units/999999", headers=worker).status_code == 404
