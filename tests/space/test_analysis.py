"""Exposure of hazard zones and the 让防避 checks on the ``world`` fixture, with planted problems."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from renxing.space import checks, exposure
from tests.kit.client import login
from tests.kit.space_world import line, place_world, square


def post(client, h, layer, body):
    r = client.post(f"/api/v1/space/{layer}", json=body, headers=h)
    assert r.status_code == 201, r.text
    return r.json()


def test_exposure_counts_by_role(client, world, engine):
    place_world(engine, world)
    h = login(client, "secretary")
    c1 = world.units["C1"]
    zone = post(
        client,
        h,
        "hazard-zones",
        {"unit_id": c1, "name": "内涝", "kind": "flood", "level": 3, "geometry": square(0, 0, 50)},
    )
    r = client.get(f"/api/v1/space/hazard-zones/{zone['id']}/exposure", headers=h)
    assert r.status_code == 200, r.text
    e = r.json()
    # B1 holds H1 (王建国 b.1940 chronic+oxygen, 王小明 b.1990) and H2 (李梅 b.1950, living alone)
    assert e["buildings"] == 1 and e["households"] == 2 and e["residents"] == 3
    assert [b["id"] for b in e["building_list"]] == [world.units["B1"]]
    v = e["vulnerable"]
    assert v["aged60"] == 2 and v["aged80"] == 1 and v["living_alone"] == 1
    assert v["chronic"] == 1 and v["special_needs"] == 1 and v["bedridden"] == 0
    assert e["vulnerable_any"] == 2
    assert "王" not in r.text and "13812345678" not in r.text  # counts only, no names or phones
    # a street admin sees the counts but no health-related tags
    hs = login(client, "street")
    es = client.get(f"/api/v1/space/hazard-zones/{zone['id']}/exposure", headers=hs).json()
    assert es["residents"] == 3 and "chronic" not in es["vulnerable"] and es["vulnerable"]["aged80"] == 1
    # volunteers see buildings only; residents nothing; other communities' staff: not found
    hv = login(client, "volunteer1")
    ev = client.get(f"/api/v1/space/hazard-zones/{zone['id']}/exposure", headers=hv).json()
    assert ev["buildings"] == 1 and ev["residents"] is None and ev["masked"] is True
    assert (
        client.get(f"/api/v1/space/hazard-zones/{zone['id']}/exposure", headers=login(client, "resident1")).status_code
        == 403
    )
    assert (
        client.get(f"/api/v1/space/hazard-zones/{zone['id']}/exposure", headers=login(client, "staff2")).status_code
        == 404
    )


def test_scenario_exposure_over_two_communities(client, world, engine):
    place_world(engine, world)
    hs = login(client, "street")
    z1 = post(client, hs, "hazard-zones", {"unit_id": world.units["C1"], "kind": "flood", "geometry": square(0, 0, 50)})
    z2 = post(
        client, hs, "hazard-zones", {"unit_id": world.units["C2"], "kind": "flood", "geometry": square(900, 0, 50)}
    )
    z3 = post(
        client, hs, "hazard-zones", {"unit_id": world.units["C2"], "kind": "fire", "geometry": square(880, 0, 50)}
    )
    r = client.get("/api/v1/space/exposure", params={"zones": [z1["id"], z2["id"], z3["id"]]}, headers=hs)
    e = r.json()
    # B1 and B3 (陈芳 b.1938, bedridden): a building in two zones counts once
    assert e["buildings"] == 2 and e["households"] == 3 and e["residents"] == 4
    b3 = next(b for b in e["building_list"] if b["id"] == world.units["B3"])
    assert sorted(b3["zones"]) == sorted([z2["id"], z3["id"]])
    assert (
        client.get(
            "/api/v1/space/exposure", params={"zones": [z1["id"], z2["id"]]}, headers=login(client, "secretary")
        ).status_code
        == 404
    )


def test_checks_find_planted_problems(client, world, engine):
    place_world(engine, world)
    h = login(client, "secretary")
    c1 = world.units["C1"]
    post(
        client,
        h,
        "hazard-zones",
        {"unit_id": c1, "name": "高风险", "kind": "fire", "level": 3, "geometry": square(0, 0, 50)},
    )
    post(
        client,
        h,
        "hazard-zones",
        {"unit_id": c1, "name": "低风险", "kind": "flood", "level": 1, "geometry": square(200, 0, 30)},
    )
    wet = post(
        client,
        h,
        "shelters",
        {
            "unit_id": c1,
            "name": "湿广场",
            "kind": "square",
            "geometry": square(200, 20, 15),
            "effective_area_m2": 1.5,
            "exits": 2,
        },
    )
    dry = post(
        client,
        h,
        "shelters",
        {
            "unit_id": c1,
            "name": "干公园",
            "kind": "park",
            "geometry": square(300, 200, 30),
            "effective_area_m2": 3,
            "exits": 1,
        },
    )
    cand = post(
        client,
        h,
        "shelters",
        {
            "unit_id": c1,
            "name": "学校",
            "kind": "school_playground",
            "geometry": square(0, 400, 30),
            "effective_area_m2": 9000,
            "exits": 1,
            "status": "candidate",
        },
    )
    # two named streets reach the wet square, one street (two segments) reaches the dry park
    post(
        client,
        h,
        "roads",
        {"unit_id": c1, "name": "东路", "kind": "residential", "geometry": line((180, -50), (180, 100))},
    )
    post(
        client,
        h,
        "roads",
        {"unit_id": c1, "name": "西路", "kind": "residential", "geometry": line((225, -50), (225, 100))},
    )
    post(
        client,
        h,
        "roads",
        {"unit_id": c1, "name": "北路", "kind": "residential", "geometry": line((200, 240), (300, 240))},
    )
    post(
        client,
        h,
        "roads",
        {"unit_id": c1, "name": "北路", "kind": "residential", "geometry": line((300, 240), (400, 240))},
    )
    narrow = post(
        client, h, "passages", {"unit_id": c1, "name": "窄巷", "width_m": 3, "geometry": line((0, 0), (0, 80))}
    )
    post(client, h, "passages", {"unit_id": c1, "name": "宽道", "width_m": 6, "geometry": line((0, 0), (80, 0))})
    r = client.get("/api/v1/space/checks", params={"community": c1}, headers=h)
    assert r.status_code == 200, r.text
    out = r.json()
    found = {(p["check"], p["id"]) for p in out["problems"]}
    assert ("building_in_high_hazard", world.units["B1"]) in found
    assert ("building_in_high_hazard", world.units["B2"]) not in found  # its zone is level 1
    assert ("shelter_in_hazard", wet["id"]) in found and ("shelter_in_hazard", dry["id"]) not in found
    assert ("shelter_exits", dry["id"]) in found and ("shelter_exits", wet["id"]) not in found
    assert ("shelter_access_roads", dry["id"]) in found and ("shelter_access_roads", wet["id"]) not in found
    assert not [p for p in out["problems"] if p["id"] == cand["id"] and p["layer"] == "shelters"]
    assert ("narrow_passage", narrow["id"]) in found and out["counts"]["narrow_passage"] == 1
    # 1 + 2 open places for A1 (3 residents) and A2 (1): both short; the closed candidate does not count
    assert ("area_capacity", world.units["A1"]) in found and ("area_capacity", world.units["A2"]) in found
    client.patch(f"/api/v1/space/shelters/{dry['id']}", json={"effective_area_m2": 12}, headers=h)
    again = {
        (p["check"], p["id"])
        for p in client.get("/api/v1/space/checks", params={"community": c1}, headers=h).json()["problems"]
    }
    assert ("area_capacity", world.units["A1"]) not in again and ("area_capacity", world.units["A2"]) not in again
    # scope
    assert (
        client.get("/api/v1/space/checks", params={"community": c1}, headers=login(client, "staff2")).status_code == 403
    )
    assert (
        client.get("/api/v1/space/checks", params={"community": c1}, headers=login(client, "resident1")).status_code
        == 403
    )
    assert client.get("/api/v1/space/checks", params={"community": 99999}, headers=h).status_code == 404


def test_capacity_sharing_never_counts_a_shelter_twice():
    areas = [checks.Place(1, "a", 118.79, 32.06, population=60), checks.Place(2, "b", 118.791, 32.06, population=40)]
    shelter = checks.ShelterSite(9, "s", Point(118.7905, 32.06), 118.7905, 32.06, 2, 100, "open")
    assert checks.area_capacity(areas, [shelter]) == []
    short = checks.area_capacity(
        areas, [checks.ShelterSite(9, "s", Point(118.7905, 32.06), 118.7905, 32.06, 2, 99, "open")]
    )
    assert {p.id for p in short} == {1, 2}
    closed = checks.ShelterSite(9, "s", Point(118.7905, 32.06), 118.7905, 32.06, 2, 1000, "closed")
    assert {p.id for p in checks.area_capacity(areas, [closed])} == {1, 2}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0, 10), st.floats(0, 10)), min_size=1, max_size=40), st.floats(1, 9), st.floats(1, 9)
)
def test_exposed_points_are_exactly_those_in_the_zone(points, w, hgt):
    zone = box(0, 0, w, hgt)
    shapes = [exposure.BuildingShape(i, x, y, None) for i, (x, y) in enumerate(points)]
    hits = exposure.exposed_buildings([zone], shapes)
    assert set(hits) == {i for i, (x, y) in enumerate(points) if x <= w and y <= hgt}


def test_outlined_building_touching_the_edge_is_not_inside():
    import json

    zone = box(0, 0, 1, 1)
    touching = exposure.BuildingShape(
        1, 1.5, 0.5, json.dumps({"type": "Polygon", "coordinates": [[[1, 0], [2, 0], [2, 1], [1, 1], [1, 0]]]})
    )
    overlapping = exposure.BuildingShape(
        2, 1.2, 0.5, json.dumps({"type": "Polygon", "coordinates": [[[0.9, 0], [2, 0], [2, 1], [0.9, 1], [0.9, 0]]]})
    )
    assert set(exposure.exposed_buildings([zone], [touching, overlapping])) == {2}


@pytest.mark.parametrize(("width", "flagged"), [(3.9, True), (4.0, False), (None, False)])
def test_narrow_passage_threshold(width, flagged):
    p = checks.Line(1, "p", Point(0, 0), width)
    assert bool(checks.narrow_passages([p], 4.0)) is flagged
