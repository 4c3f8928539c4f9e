"""Evacuation planning from the database, through the API: plans, cuts, candidates, what-if,
coverage, siting, saved scenarios with their cached plan, scope, permissions and bad input."""

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from renxing.auth.models import AuditEntry
from renxing.auth.principal import SYSTEM
from renxing.db import transaction
from renxing.people import service as people
from renxing.people.schemas import ResidentIn
from renxing.space.models import EvacScenario
from renxing.space.planning.inputs import aged_cutoff, mobility_class
from tests.kit.client import login
from tests.kit.space_plan_world import build_plan_world


@pytest.fixture
def pw(engine, world):
    return build_plan_world(engine, world)


def post_plan(client, h, world, **spec):
    return client.post("/api/v1/space/plan", json={"community_id": world.units["C1"], **spec}, headers=h)


def residents_of_c1(engine, world) -> int:
    with transaction(engine) as s:
        from renxing.grid.models import Household
        from renxing.people.models import Resident

        return s.scalar(
            select(func.count())
            .select_from(Resident)
            .join(Household, Household.id == Resident.household_id)
            .where(Household.building_id.in_([world.units["B1"], world.units["B2"]]), Resident.deleted_at.is_(None))
        )


def check_consistent(plan: dict) -> None:
    """Every evacuating person is placed or listed as unplaced; no shelter over capacity."""
    for b in plan["buildings"]:
        routed = sum(r["persons"] for r in b["routes"])
        assert routed + b["unplaced"] == b["persons"]["total"], b
        for r in b["routes"]:
            assert sum(r["by_class"].values()) == r["persons"]
            assert r["path"] and len(r["path"]) >= 2
    for s in plan["shelters"]:
        assert s["assigned"] <= s["capacity"], s
        if s["status"] == "closed":
            assert s["assigned"] == 0
    t = plan["totals"]
    assert t["placed"] + t["unplaced"] == t["persons"]["total"]
    assert sum(u["persons"] for u in plan["unplaced"]) == t["unplaced"]


def test_mobility_classes_from_the_register():
    assert mobility_class("normal", False, False) == "normal"
    assert mobility_class("normal", False, True) == "slow"  # 65 and over walk slower
    assert mobility_class("wheelchair", False, True) == "wheelchair"
    assert mobility_class("normal", True, False) == "bedridden"
    assert mobility_class("bedridden", False, False) == "bedridden"
    assert aged_cutoff(date(2026, 6, 1)) == date(1961, 6, 1)  # born that day: 65 today
    assert aged_cutoff(date(2028, 2, 29)) == date(1963, 2, 28)


def test_plan_places_everyone_or_lists_them(client, world, pw, engine):
    h = login(client, "secretary")
    r = post_plan(client, h, world)
    assert r.status_code == 200, r.text
    plan = r.json()
    check_consistent(plan)
    assert plan["totals"]["persons"]["total"] == residents_of_c1(engine, world) == 4
    # Park 2 + north square 1 for 4 people: one is left over, and the plan names the building.
    assert plan["totals"]["capacity"] == 3
    assert plan["totals"]["unplaced"] == 1
    assert [u["name"] for u in plan["unplaced"]] == ["1栋"]
    assert plan["unplaced"][0]["reason"] == "no_capacity"
    # The adult is the one left over: the slower residents get the places.
    assert plan["unplaced"][0]["by_class"]["normal"] == 1
    assert {s["name"]: s["assigned"] for s in plan["shelters"]} == {
        "幸福公园": 2,
        "北广场": 1,
        "阳光小学操场": 0,
        "南体育馆": 0,
    }
    b2 = next(b for b in plan["buildings"] if b["name"] == "2栋")
    assert b2["shelter_name"] == "幸福公园"
    assert b2["distance_m"] == pytest.approx(200, abs=2)
    assert b2["time_s"] == pytest.approx(200 / 1.2, rel=0.01)
    assert plan["totals"]["clearance_s"] > max(b["time_s"] or 0 for b in plan["buildings"])
    assert plan["coverage"]["500"]["share"] == 1.0
    # Counts only: no resident's name, ID number or phone anywhere in the plan.
    text = json.dumps(plan, ensure_ascii=False)
    for word in ("王建国", "王小明", "李梅", "赵强", "13812345678", "13712345678", "13512345678"):
        assert word not in text


def test_a_cut_road_changes_the_route(client, world, engine):
    pw = build_plan_world(engine, world, park_m2=300, far_m2=300)
    h = login(client, "secretary")
    before = post_plan(client, h, world).json()
    after = post_plan(client, h, world, cut_road_ids=[pw.roads["east"]]).json()
    check_consistent(after)

    def b2(plan):
        return next(b for b in plan["buildings"] if b["name"] == "2栋")

    assert b2(before)["shelter_name"] == b2(after)["shelter_name"] == "幸福公园"
    assert b2(before)["distance_m"] == pytest.approx(200, abs=2)
    # Round the detour by the school: 250 + 200 + 250 m.
    assert b2(after)["distance_m"] == pytest.approx(700, abs=3)
    assert b2(after)["routes"][0]["path"] != b2(before)["routes"][0]["path"]
    assert [r["name"] for r in after["cut_roads"]] == ["幸福路东段"]
    assert after["cut_roads"][0]["reason"] == "cut_by_scenario"


def test_cut_off_buildings_and_shelters_are_named(client, world, engine):
    pw = build_plan_world(engine, world, park_m2=300, far_m2=300)
    h = login(client, "secretary")
    # Without the west and north roads, 1栋's own crossing leads only south to the closed gym: it is
    # joined to the nearest road that still leads somewhere (2栋's, 200 m off); the north square's
    # road is gone and its gate lies 400 m from any road: cut off, nobody is sent there.
    plan = post_plan(client, h, world, cut_road_ids=[pw.roads["west"], pw.roads["north"]]).json()
    check_consistent(plan)
    assert plan["totals"]["unplaced"] == 0
    far = next(s for s in plan["shelters"] if s["name"] == "北广场")
    assert (far["status"], far["reason"], far["assigned"]) == ("closed", "no_road_access", 0)
    b1 = next(b for b in plan["buildings"] if b["name"] == "1栋")
    assert b1["shelter_name"] == "幸福公园" and b1["distance_m"] == pytest.approx(400, abs=3)
    # A building 450 m from the nearest usable road is cut off: left without a place, and named.
    with transaction(engine) as s:
        from renxing.grid.models import GridUnit
        from tests.kit.space_world import ll

        s.get(GridUnit, world.units["B2"]).lon, s.get(GridUnit, world.units["B2"]).lat = ll(200, 1000)
    plan = post_plan(client, h, world).json()
    check_consistent(plan)
    assert [(u["name"], u["reason"]) for u in plan["unplaced"]] == [("2栋", "unreachable")]


def test_flood_scenario_hits_buildings_cuts_deep_roads_and_closes_shelters(client, world, pw):
    h = login(client, "secretary")
    r = post_plan(client, h, world, hazard_zone_ids=[pw.zones["flood_b1"], pw.zones["flood_east"]])
    plan = r.json()
    check_consistent(plan)
    # Only the building inside the hit zone evacuates.
    assert [b["name"] for b in plan["buildings"]] == ["1栋"]
    assert plan["buildings"][0]["zones"] == [pw.zones["flood_b1"]]
    # The east road crosses water over 1 m deep: cut. The shallow zone cuts nothing.
    assert {(c["name"], c["reason"]) for c in plan["cut_roads"]} == {("幸福路东段", "flooded")}
    # A shelter inside a hit zone is closed; everyone else goes elsewhere.
    r = post_plan(client, h, world, hazard_zone_ids=[pw.zones["fire_park"]], evacuate_all=True)
    plan = r.json()
    check_consistent(plan)
    park = next(s for s in plan["shelters"] if s["name"] == "幸福公园")
    assert (park["status"], park["reason"], park["assigned"]) == ("closed", "in_hazard_zone", 0)
    assert plan["totals"]["unplaced"] == 3  # only the north square's one place is left


def test_candidate_switched_on_reduces_unplaced_and_time(client, world, pw):
    h = login(client, "secretary")
    base = post_plan(client, h, world).json()
    alt = post_plan(client, h, world, open_candidate_ids=[pw.shelters["school"]]).json()
    check_consistent(alt)
    assert alt["totals"]["unplaced"] == 0 < base["totals"]["unplaced"]
    school = next(s for s in alt["shelters"] if s["name"] == "阳光小学操场")
    assert school["status"] == "candidate_open" and school["assigned"] > 0
    # The what-if puts both side by side and names who gains.
    r = client.post(
        "/api/v1/space/what-if",
        json={"community_id": world.units["C1"], "open_candidates": [pw.shelters["school"]]},
        headers=h,
    )
    assert r.status_code == 200, r.text
    w = r.json()
    assert w["opened"] == [pw.shelters["school"]]
    assert w["change"]["unplaced"] == -1
    assert w["base"]["totals"]["unplaced"] == base["totals"]["unplaced"]
    assert w["alt"]["totals"]["unplaced"] == 0
    assert w["gains"][0]["name"] == "1栋" and w["gains"][0]["newly_placed"] == 1
    assert w["gaining_persons"] == 1
    # Nobody walks longer: the slowest walk (to the far square) is gone.
    assert w["change"]["clearance_s"] < 0
    assert w["alt"]["totals"]["clearance_s"] < w["base"]["totals"]["clearance_s"]
    assert set(w["change"]["coverage"]) == {"500", "1000"}


def test_bedridden_residents_need_carriers(client, world, pw, engine):
    with transaction(engine) as s:
        people.create_resident(
            s, SYSTEM, ResidentIn(household_id=world.households["H3"], name="卧床老人", bedridden=True)
        )
    h = login(client, "secretary")
    plan = post_plan(client, h, world, open_candidate_ids=[pw.shelters["school"]]).json()
    check_consistent(plan)
    assert plan["totals"]["carriers_needed"] == 1
    assert plan["bedridden"] == [
        {
            "building_id": world.units["B2"],
            "name": "2栋",
            "count": 1,
            "shelter_name": plan["bedridden"][0]["shelter_name"],
        }
    ]
    assert plan["bedridden"][0]["shelter_name"] is not None
    assert "卧床老人" not in json.dumps(plan, ensure_ascii=False)


def test_coverage_on_the_network(client, world, pw):
    h = login(client, "secretary")
    c1 = world.units["C1"]
    r = client.post("/api/v1/space/coverage", json={"community_id": c1}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["500"] == {"persons": 4, "share": 1.0}
    # Without the park the nearest is the north square: 600 m from 1栋, 800 m from 2栋 on the roads
    # (2栋 is only 632 m from it as the crow flies).
    r = client.post(
        "/api/v1/space/coverage", json={"community_id": c1, "closed_shelter_ids": [pw.shelters["park"]]}, headers=h
    )
    cov = r.json()
    assert cov["500"]["share"] == 0.0 and cov["1000"]["share"] == 1.0 and cov["gaps"] == []
    r = client.post(
        "/api/v1/space/coverage",
        json={"community_id": c1, "closed_shelter_ids": [pw.shelters["park"], pw.shelters["far"]]},
        headers=h,
    )
    cov = r.json()
    assert cov["1000"]["share"] == 0.0
    assert {g["name"] for g in cov["gaps"]} == {"1栋", "2栋"}


def test_siting_picks_the_best_candidate(client, world, pw):
    h = login(client, "secretary")
    r = client.post("/api/v1/space/siting", json={"community_id": world.units["C1"], "k": 1}, headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "optimal"
    assert [c["name"] for c in body["chosen"]] == ["阳光小学操场"]
    assert body["unplaced"] == 0
    r = client.post("/api/v1/space/siting", json={"community_id": world.units["C1"], "k": 2}, headers=h)
    assert {c["name"] for c in r.json()["chosen"]} == {"阳光小学操场", "南体育馆"}
    r = client.post("/api/v1/space/siting", json={"community_id": world.units["C1"], "k": 3}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "k"
    r = client.post("/api/v1/space/siting", json={"community_id": world.units["C1"], "k": "x"}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "k"
    # Siting is a planner's tool: grid workers read plans but do not site shelters.
    r = client.post(
        "/api/v1/space/siting", json={"community_id": world.units["C1"], "k": 1}, headers=login(client, "gridworker1")
    )
    assert r.status_code == 403


def test_saved_scenario_keeps_its_plan_until_the_data_changes(client, world, pw, engine):
    h = login(client, "secretary")
    body = {
        "community_id": world.units["C1"],
        "name": "暴雨内涝",
        "hazard_zone_ids": [pw.zones["flood_b1"], pw.zones["flood_east"]],
    }
    r = client.post("/api/v1/space/scenarios", json=body, headers=h)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    first = client.get(f"/api/v1/space/scenarios/{sid}/plan", headers=h).json()
    second = client.get(f"/api/v1/space/scenarios/{sid}/plan", headers=h).json()
    assert second["cached"] is True and second["fingerprint"] == first["fingerprint"]
    with transaction(engine) as s:
        assert s.get(EvacScenario, sid).plan_fingerprint == first["fingerprint"]
        # A new resident of the flooded building: the plan must follow.
        people.create_resident(s, SYSTEM, ResidentIn(household_id=world.households["H2"], name="新住户"))
    third = client.get(f"/api/v1/space/scenarios/{sid}/plan", headers=h).json()
    assert third["cached"] is False and third["fingerprint"] != first["fingerprint"]
    assert third["totals"]["persons"]["total"] == first["totals"]["persons"]["total"] + 1
    # Changing the scenario changes the plan too.
    r = client.patch(f"/api/v1/space/scenarios/{sid}", json={"open_candidate_ids": [pw.shelters["school"]]}, headers=h)
    assert r.status_code == 200, r.text
    fourth = client.get(f"/api/v1/space/scenarios/{sid}/plan", headers=h).json()
    assert fourth["totals"]["unplaced"] == 0
    listed = client.get("/api/v1/space/scenarios", params={"community": world.units["C1"]}, headers=h).json()
    assert [s["name"] for s in listed] == ["暴雨内涝"]
    assert client.delete(f"/api/v1/space/scenarios/{sid}", headers=h).status_code == 200
    assert client.get(f"/api/v1/space/scenarios/{sid}", headers=h).status_code == 404
    with transaction(engine) as s:
        actions = s.scalars(
            select(AuditEntry.action).where(AuditEntry.entity == "space.evac_scenario").order_by(AuditEntry.id)
        ).all()
    assert actions == ["create", "update", "delete"]


def test_scope_and_permissions(client, world, pw):
    c1 = world.units["C1"]
    sec = login(client, "secretary")
    sid = client.post(
        "/api/v1/space/scenarios", json={"community_id": c1, "name": "全员撤离", "evacuate_all": True}, headers=sec
    ).json()["id"]
    # Staff of another community: the community is out of scope, the scenario does not exist for them.
    other = login(client, "staff2")
    assert post_plan(client, other, world).status_code == 403
    assert client.get(f"/api/v1/space/scenarios/{sid}", headers=other).status_code == 404
    assert client.get(f"/api/v1/space/scenarios/{sid}/plan", headers=other).status_code == 404
    assert client.patch(f"/api/v1/space/scenarios/{sid}", json={"name": "x"}, headers=other).status_code == 404
    assert client.get("/api/v1/space/scenarios", headers=other).json() == []
    # Roles that do not plan.
    for name in ("volunteer1", "partner1", "resident1", "leader1", "admin"):
        h = login(client, name)
        assert post_plan(client, h, world).status_code == 403, name
        assert client.get(f"/api/v1/space/scenarios/{sid}/plan", headers=h).status_code == 403, name
    # A grid worker of the community reads plans but does not change scenarios.
    gw = login(client, "gridworker1")
    assert post_plan(client, gw, world).status_code == 200
    assert client.get(f"/api/v1/space/scenarios/{sid}/plan", headers=gw).status_code == 200
    assert client.patch(f"/api/v1/space/scenarios/{sid}", json={"name": "x"}, headers=gw).status_code == 403
    assert client.post("/api/v1/space/scenarios", json={"community_id": c1, "name": "x"}, headers=gw).status_code == 403
    # The street sees every community of the street.
    assert post_plan(client, login(client, "street"), world).status_code == 200
    assert client.post("/api/v1/space/plan", json={"community_id": c1}).status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"community_id": None}, "community_id"),
        ({"community_id": "abc"}, "community_id"),
        ({"hazard_zone_ids": ["x"]}, "hazard_zone_ids"),
        ({"hazard_zone_ids": 5}, "hazard_zone_ids"),
        ({"hazard_zone_ids": [999999]}, "hazard_zone_ids"),
        ({"cut_road_ids": [999999]}, "cut_road_ids"),
        ({"closed_shelter_ids": [999999]}, "closed_shelter_ids"),
        ({"hazard_zone_ids": [10**12]}, "hazard_zone_ids"),  # beyond any id: refused, not a database error
        ({"community_id": 10**12}, "community_id"),
        ({"evacuate_all": "maybe"}, "evacuate_all"),
    ],
)
def test_bad_plan_input_names_the_field(client, world, pw, body, field):
    h = login(client, "secretary")
    if "community_id" not in body:
        body = {"community_id": world.units["C1"], **body}
    r = client.post("/api/v1/space/plan", json=body, headers=h)
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]


def test_bad_scenario_input_stores_nothing(client, world, pw, engine):
    h = login(client, "secretary")
    c1 = world.units["C1"]
    cases = [
        ({"community_id": c1}, "name"),
        ({"community_id": c1, "name": "  "}, "name"),
        ({"community_id": c1, "name": "x" * 121}, "name"),
        # An open shelter is not a conversion candidate.
        ({"community_id": c1, "name": "a", "open_candidate_ids": [pw.shelters["park"]]}, "open_candidate_ids"),
        (
            {
                "community_id": c1,
                "name": "a",
                "open_candidate_ids": [pw.shelters["school"]],
                "closed_shelter_ids": [pw.shelters["school"]],
            },
            "closed_shelter_ids",
        ),
        ({"community_id": world.units["A1"], "name": "a"}, "community_id"),  # an area, not a community
    ]
    for body, field in cases:
        r = client.post("/api/v1/space/scenarios", json=body, headers=h)
        assert r.status_code == 422, (body, r.text)
        assert field in [e["field"] for e in r.json()["errors"]], (body, r.json())
    # A zone of another community.
    with transaction(engine) as s:
        from renxing.space import layers as space

        _, z = space.create_feature(
            s,
            SYSTEM,
            "hazard_zones",
            {
                "unit_id": world.units["C2"],
                "name": "和平社区积水",
                "kind": "flood",
                "level": 2,
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[118.8, 32.0], [118.81, 32.0], [118.81, 32.01], [118.8, 32.0]]],
                },
            },
        )
    r = client.post(
        "/api/v1/space/scenarios", json={"community_id": c1, "name": "a", "hazard_zone_ids": [z.id]}, headers=h
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "hazard_zone_ids"
    r = client.post("/api/v1/space/scenarios", json={"community_id": c1, "name": "ok"}, headers=h)
    sid = r.json()["id"]
    r = client.patch(f"/api/v1/space/scenarios/{sid}", json={"cut_road_ids": [999999], "name": "changed"}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "cut_road_ids"
    r = client.patch(f"/api/v1/space/scenarios/{sid}", json={"community_id": world.units["C2"]}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "community_id"
    with transaction(engine) as s:
        rows = s.scalars(select(EvacScenario)).all()
        assert [(sc.name, sc.cut_road_ids) for sc in rows] == [("ok", [])]


def test_no_road_network_is_a_clear_error(client, world, engine):
    from tests.kit.space_world import place_world

    place_world(engine, world)
    r = post_plan(client, login(client, "secretary"), world)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "roads"
