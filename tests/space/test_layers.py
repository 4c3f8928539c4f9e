"""Space layers through the API: CRUD, scope and permissions, validation, GeoJSON views in three datums."""

import json

import pytest
from sqlalchemy import select

from renxing.auth.models import AuditEntry
from renxing.db import transaction
from renxing.geo.coords import wgs84_to_bd09, wgs84_to_gcj02
from renxing.geo.sphere import haversine_m
from renxing.space.models import HazardZone, Shelter
from tests.kit.client import login
from tests.kit.space_world import line, place_world, square


def shelter_body(world, **extra):
    body = {
        "unit_id": world.units["C1"],
        "name": "阳光公园",
        "kind": "park",
        "geometry": square(100, 100, 40),
        "effective_area_m2": 3000,
        "shelter_class": "III",
        "facilities": ["water", "toilets"],
        "exits": 2,
    }
    body.update(extra)
    return body


def count(engine, model) -> int:
    with transaction(engine) as s:
        return len(s.scalars(select(model)).all())


def test_crud_shelter_with_capacity_and_audit(client, world, engine):
    h = login(client, "secretary")
    r = client.post("/api/v1/space/shelters", json=shelter_body(world), headers=h)
    assert r.status_code == 201, r.text
    s = r.json()
    assert s["capacity"] == 2000  # 3000 m² / 1.5 m² per person (class III default)
    assert s["status"] == "open" and s["facilities"] == ["toilets", "water"]
    assert s["lon"] is not None and s["geometry"]["type"] == "Polygon"
    sid = s["id"]
    r = client.patch(f"/api/v1/space/shelters/{sid}", json={"shelter_class": "I"}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["capacity"] == 1000  # 3 m² per person for class I
    r = client.patch(f"/api/v1/space/shelters/{sid}", json={"per_person_m2": 2.5}, headers=h)
    assert r.json()["capacity"] == 1200
    assert client.get(f"/api/v1/space/shelters/{sid}", headers=h).json()["name"] == "阳光公园"
    page = client.get("/api/v1/space/shelters", params={"community": world.units["C1"]}, headers=h).json()
    assert page["total"] == 1 and page["items"][0]["id"] == sid
    assert client.delete(f"/api/v1/space/shelters/{sid}", headers=h).status_code == 200
    assert client.get(f"/api/v1/space/shelters/{sid}", headers=h).status_code == 404
    with transaction(engine) as db:
        actions = [
            (a.action, a.entity)
            for a in db.scalars(select(AuditEntry).where(AuditEntry.entity == "space.shelters").order_by(AuditEntry.id))
        ]
    assert actions == [
        ("create", "space.shelters"),
        ("update", "space.shelters"),
        ("update", "space.shelters"),
        ("delete", "space.shelters"),
    ]


@pytest.mark.parametrize(
    ("layer", "body"),
    [
        ("hazard-zones", {"kind": "flood", "level": 3, "depth_class": "0.5-1", "geometry": square(0, 0, 50)}),
        ("risk-points", {"kind": "substation", "lon": 118.791, "lat": 32.061, "buffer_m": 50}),
        ("passages", {"width_m": 3.5, "geometry": line((0, 0), (100, 0))}),
        ("reserved-land", {"geometry": square(0, 0, 10)}),
        ("roads", {"kind": "residential", "geometry": line((0, 0), (0, 100))}),
        ("features", {"layer": "poi", "kind": "clinic", "geometry": {"type": "Point", "coordinates": [118.79, 32.06]}}),
    ],
)
def test_create_every_layer(client, world, layer, body):
    h = login(client, "secretary")
    r = client.post(f"/api/v1/space/{layer}", json={"unit_id": world.units["C1"], "name": "x", **body}, headers=h)
    assert r.status_code == 201, r.text
    out = r.json()
    if layer == "reserved-land":
        assert out["area_m2"] == pytest.approx(400, rel=0.01)
    if layer == "risk-points":
        assert out["geometry"] == {"type": "Point", "coordinates": [118.791, 32.061]}
    listed = client.get(f"/api/v1/space/{layer}", headers=h).json()
    assert listed["total"] == 1


def test_permission_and_scope_matrix(client, world, engine):
    c1, c2 = world.units["C1"], world.units["C2"]
    h = login(client, "secretary")
    zone = client.post(
        "/api/v1/space/hazard-zones",
        json={"unit_id": c1, "name": "河边", "kind": "flood", "level": 2, "geometry": square(0, 0, 50)},
        headers=h,
    ).json()
    road = client.post(
        "/api/v1/space/roads",
        json={"unit_id": c1, "name": "路", "kind": "residential", "geometry": line((0, 0), (0, 100))},
        headers=h,
    ).json()
    # reads: every staff role in scope, volunteers and partners; residents only public safety layers
    for user in ("street", "secretary", "gridworker1", "leader1", "volunteer1", "partner1"):
        hu = login(client, user)
        assert client.get(f"/api/v1/space/hazard-zones/{zone['id']}", headers=hu).status_code == 200, user
        assert client.get(f"/api/v1/space/roads/{road['id']}", headers=hu).status_code == 200, user
    hr = login(client, "resident1")
    assert client.get(f"/api/v1/space/hazard-zones/{zone['id']}", headers=hr).status_code == 200
    assert client.get(f"/api/v1/space/roads/{road['id']}", headers=hr).status_code == 403
    assert client.get("/api/v1/space/roads", headers=hr).status_code == 403
    assert client.get("/api/v1/space/layers/hazard-zones.geojson", headers=hr).json()["features"][0]["id"] == zone["id"]
    # another community's staff: not found, not listed, cannot write there
    h2 = login(client, "staff2")
    assert client.get(f"/api/v1/space/hazard-zones/{zone['id']}", headers=h2).status_code == 404
    assert client.get("/api/v1/space/hazard-zones", headers=h2).json()["total"] == 0
    assert client.get("/api/v1/space/hazard-zones", params={"community": c1}, headers=h2).status_code == 403
    assert client.patch(f"/api/v1/space/hazard-zones/{zone['id']}", json={"level": 4}, headers=h2).status_code == 404
    body = {"unit_id": c1, "name": "越界", "kind": "fire", "geometry": square(0, 0, 5)}
    assert client.post("/api/v1/space/hazard-zones", json=body, headers=h2).status_code == 403
    assert client.post("/api/v1/space/hazard-zones", json={**body, "unit_id": c2}, headers=h2).status_code == 201
    # write permission: grid workers, volunteers, residents may not write
    for user in ("gridworker1", "volunteer1", "partner1", "resident1", "admin"):
        hu = login(client, user)
        r = client.patch(f"/api/v1/space/hazard-zones/{zone['id']}", json={"level": 4}, headers=hu)
        assert r.status_code in (403, 404), user
    # the street admin writes in every community
    hs = login(client, "street")
    assert client.patch(f"/api/v1/space/hazard-zones/{zone['id']}", json={"level": 4}, headers=hs).json()["level"] == 4
    assert count(engine, HazardZone) == 2


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}}, "geometry"),
        ({"geometry": {"type": "LineString", "coordinates": [[118.79, 32.06], [118.8, 32.06]]}}, "geometry"),
        ({"geometry": {"type": "Polygon", "coordinates": [[[200, 0], [201, 0], [201, 1], [200, 0]]]}}, "geometry"),
        ({"geometry": {"type": "Polygon", "coordinates": "nope"}}, "geometry"),
        ({"effective_area_m2": 0}, "effective_area_m2"),
        ({"effective_area_m2": None}, "effective_area_m2"),
        ({"kind": "volcano"}, "kind"),
        ({"status": "maybe"}, "status"),
        ({"facilities": ["jacuzzi"]}, "facilities.0"),
        ({"unit_id": 999999}, "unit_id"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_422_naming_the_field_and_stores_nothing(client, world, engine, patch, field):
    h = login(client, "secretary")
    r = client.post("/api/v1/space/shelters", json=shelter_body(world, **patch), headers=h)
    assert r.status_code == 422, r.text
    fields = [e["field"] for e in r.json()["errors"]]
    assert field in fields, fields
    assert count(engine, Shelter) == 0


def test_self_intersection_is_explained(client, world):
    h = login(client, "secretary")
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[118.79, 32.06], [118.80, 32.07], [118.80, 32.06], [118.79, 32.07], [118.79, 32.06]]],
    }
    r = client.post("/api/v1/space/shelters", json=shelter_body(world, name="蝴蝶", geometry=bowtie), headers=h)
    assert r.status_code == 422
    err = r.json()["errors"][0]
    assert err["field"] == "geometry" and "Self-intersection" in err["message"] and "蝴蝶" in err["message"]


def test_other_422s(client, world):
    h = login(client, "secretary")
    r = client.post("/api/v1/space/shelters", params={"crs": "mars"}, json=shelter_body(world), headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "crs"
    r = client.get("/api/v1/space/layers/volcanoes.geojson", headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "layer"
    body = {"unit_id": world.units["C1"], "kind": "fire", "depth_class": "<0.3", "geometry": square(0, 0, 5)}
    r = client.post("/api/v1/space/hazard-zones", json=body, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "depth_class"
    r = client.post("/api/v1/space/risk-points", json={"unit_id": world.units["C1"], "kind": "other"}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "geometry"
    r = client.get("/api/v1/space/shelters", params={"sort": "colour"}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "sort"


def test_geojson_layer_in_three_datums(client, world, engine):
    place_world(engine, world)
    h = login(client, "secretary")
    r = client.post("/api/v1/space/shelters", json=shelter_body(world), headers=h)
    stored = r.json()
    wgs = client.get("/api/v1/space/layers/shelters.geojson", params={"community": world.units["C1"]}, headers=h)
    assert wgs.headers["content-type"].startswith("application/geo+json")
    fc = wgs.json()
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 1
    assert fc["features"][0]["geometry"] == stored["geometry"]
    p0 = stored["geometry"]["coordinates"][0][0]
    for crs, fn in (("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)):
        got = client.get("/api/v1/space/layers/shelters.geojson", params={"crs": crs}, headers=h).json()
        q0 = got["features"][0]["geometry"]["coordinates"][0][0]
        assert q0 == pytest.approx(list(fn(*p0)), abs=1e-12)
        assert haversine_m(*p0, *q0) > 100  # the datums really differ here
        assert got["features"][0]["properties"]["capacity"] == stored["capacity"]


def test_create_in_gcj02_is_stored_in_wgs84(client, world, engine):
    h = login(client, "secretary")
    wgs_pt = [118.7912, 32.0611]
    gcj_pt = list(wgs84_to_gcj02(*wgs_pt))
    body = {
        "unit_id": world.units["C1"],
        "name": "加油站",
        "kind": "petrol_station",
        "lon": gcj_pt[0],
        "lat": gcj_pt[1],
    }
    r = client.post("/api/v1/space/risk-points", params={"crs": "gcj02"}, json=body, headers=h)
    assert r.status_code == 201, r.text
    out = r.json()
    assert haversine_m(out["lon"], out["lat"], *wgs_pt) < 0.5
    stored = json.loads(json.dumps(out["geometry"]))
    assert haversine_m(*stored["coordinates"], *wgs_pt) < 0.5


def test_moving_points_and_outlines_keeps_derived_fields_in_step(client, world, engine):
    h = login(client, "secretary")
    c1 = world.units["C1"]
    rp = client.post(
        "/api/v1/space/risk-points",
        json={"unit_id": c1, "name": "变电站", "kind": "substation", "lon": 118.79, "lat": 32.06, "buffer_m": 30},
        headers=h,
    ).json()
    zone = client.post(
        "/api/v1/space/hazard-zones",
        json={"unit_id": c1, "kind": "facility_buffer", "source_point_id": rp["id"], "geometry": square(0, 0, 30)},
        headers=h,
    ).json()
    moved = client.patch(f"/api/v1/space/risk-points/{rp['id']}", json={"lon": 118.795}, headers=h).json()
    assert moved["geometry"]["coordinates"] == [118.795, 32.06]
    sh = client.post("/api/v1/space/shelters", json=shelter_body(world), headers=h).json()
    far = client.patch(f"/api/v1/space/shelters/{sh['id']}", json={"geometry": square(900, 900, 40)}, headers=h).json()
    assert haversine_m(far["lon"], far["lat"], sh["lon"], sh["lat"]) > 1000
    # a buffer's source must be a risk point of the same community
    bad = client.post(
        "/api/v1/space/hazard-zones",
        json={
            "unit_id": world.units["C2"],
            "kind": "facility_buffer",
            "source_point_id": rp["id"],
            "geometry": square(0, 0, 5),
        },
        headers=login(client, "street"),
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "source_point_id"
    # deleting the risk point leaves its buffer zone, unlinked
    assert client.delete(f"/api/v1/space/risk-points/{rp['id']}", headers=h).status_code == 200
    assert client.get(f"/api/v1/space/hazard-zones/{zone['id']}", headers=h).json()["source_point_id"] is None
