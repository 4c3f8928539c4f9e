"""Layer lists through the shared list spec: declared sorts and filters, one 422 naming the bad
field, a stable order across pages; and the typed answers carry exactly what the services return."""

import json

import pytest

from renxing.auth.principal import SYSTEM
from renxing.db import transaction
from renxing.space import layers
from renxing.space.features import present
from renxing.space.planning import plan, scenarios, whatif
from tests.kit.client import login
from tests.kit.space_plan_world import build_plan_world
from tests.kit.space_world import line, place_world, square


def _roads(client, h, c1, names):
    for i, name in enumerate(names):
        body = {"unit_id": c1, "name": name, "kind": "residential", "geometry": line((0, i * 10), (50, i * 10))}
        assert client.post("/api/v1/space/roads", json=body, headers=h).status_code == 201


@pytest.mark.parametrize(
    ("layer", "params", "field"),
    [
        ("roads", {"sort": "colour"}, "sort"),
        ("roads", {"sort": "-"}, "sort"),
        ("passages", {"sort": "kind"}, "sort"),  # passages have no kind
        ("passages", {"kind": "x"}, "kind"),
        ("roads", {"status": "open"}, "status"),  # only shelters have a status
        ("shelters", {"page": 0}, "page"),
        ("shelters", {"size": 100000}, "size"),
    ],
)
def test_a_bad_sort_filter_or_page_is_one_422_naming_it(client, world, engine, layer, params, field):
    place_world(engine, world)
    r = client.get(f"/api/v1/space/{layer}", params=params, headers=login(client, "secretary"))
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == [field]


def test_pages_keep_a_stable_order_with_ties(client, world, engine):
    place_world(engine, world)
    h = login(client, "secretary")
    c1 = world.units["C1"]
    _roads(client, h, c1, ["同名路"] * 5 + ["甲路", "乙路"])
    seen = []
    for page in (1, 2, 3):
        r = client.get("/api/v1/space/roads", params={"sort": "name", "size": 3, "page": page}, headers=h)
        assert r.status_code == 200, r.text
        seen += [(item["name"], item["id"]) for item in r.json()["items"]]
    assert len(seen) == 7 == len({i for _, i in seen})
    ties = [i for name, i in seen if name == "同名路"]
    assert ties == sorted(ties)  # the id breaks the tie, so no row moves between pages
    ids = [i for _, i in seen]
    back = client.get("/api/v1/space/roads", params={"sort": "-id", "size": 50}, headers=h).json()["items"]
    assert [item["id"] for item in back] == sorted(ids, reverse=True)


def test_filters_and_search(client, world, engine):
    place_world(engine, world)
    h = login(client, "secretary")
    c1 = world.units["C1"]
    _roads(client, h, c1, ["Riverside Road", "山路"])
    body = {"unit_id": c1, "name": "小径", "kind": "footway", "geometry": line((0, 90), (50, 90))}
    assert client.post("/api/v1/space/roads", json=body, headers=h).status_code == 201
    page = client.get("/api/v1/space/roads", params={"kind": "footway"}, headers=h).json()
    assert [i["name"] for i in page["items"]] == ["小径"]
    page = client.get("/api/v1/space/roads", params={"q": "riverside"}, headers=h).json()
    assert [i["name"] for i in page["items"]] == ["Riverside Road"]
    latest = client.get("/api/v1/space/roads", params={"sort": "updated"}, headers=h).json()["items"]
    oldest = client.get("/api/v1/space/roads", params={"sort": "-updated"}, headers=h).json()["items"]
    assert [i["id"] for i in latest] == [i["id"] for i in reversed(oldest)]


def test_a_feature_answer_is_the_stored_row_in_full(client, world, engine):
    place_world(engine, world)
    h = login(client, "secretary")
    c1 = world.units["C1"]
    park = square(0, 0, 30)
    bodies = {
        "shelters": {"unit_id": c1, "name": "园", "kind": "park", "geometry": park, "effective_area_m2": 90},
        "features": {"unit_id": c1, "name": "楼", "layer": "building", "kind": "yes", "geometry": square(0, 0, 5)},
        "risk-points": {"unit_id": c1, "name": "站", "kind": "petrol_station", "lon": 118.79, "lat": 32.06},
    }
    for layer, body in bodies.items():
        created = client.post(f"/api/v1/space/{layer}", json=body, headers=h)
        assert created.status_code == 201, created.text
        with transaction(engine) as s:
            spec, obj = layers.get_feature(s, SYSTEM, layer, created.json()["id"])
            expected = json.loads(json.dumps(present(spec, obj)))
        assert created.json() == expected
        assert client.get(f"/api/v1/space/{layer}/{obj.id}", headers=h).json() == expected


def test_plan_answers_carry_every_key_the_planner_returns(client, world, engine):
    pw = build_plan_world(engine, world)
    h = login(client, "secretary")
    body = {"community_id": world.units["C1"], "hazard_zone_ids": [], "evacuate_all": True}
    answer = client.post("/api/v1/space/plan", json=body, headers=h)
    assert answer.status_code == 200, answer.text
    with transaction(engine) as s:
        direct = json.loads(json.dumps(plan.plan_from(s, SYSTEM, body)))
        sc = scenarios.create_scenario(s, SYSTEM, {**body, "name": "全员"})
        saved_direct = json.loads(json.dumps(scenarios.scenario_plan(s, SYSTEM, sc.id)))
        alt = {**body, "open_candidates": [pw.shelters["school"]]}
        whatif_direct = json.loads(json.dumps(whatif.what_if_from(s, SYSTEM, alt)))
    assert {**answer.json(), "cached": True} == direct  # the second computation came from the cache
    saved = client.get(f"/api/v1/space/scenarios/{sc.id}/plan", headers=h).json()
    assert "coverage" not in saved and saved.keys() == saved_direct.keys()
    compared = client.post("/api/v1/space/what-if", json=alt, headers=h).json()
    assert compared["gains"] == whatif_direct["gains"] and compared["change"] == whatif_direct["change"]
    assert compared["alt"]["totals"] == whatif_direct["alt"]["totals"]
