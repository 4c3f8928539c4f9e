"""GeoJSON import with a named datum (all or nothing) and OpenStreetMap import of real extracts."""

from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from renxing.auth.principal import SYSTEM
from renxing.db import transaction
from renxing.errors import Invalid
from renxing.geo.coords import wgs84_to_bd09, wgs84_to_gcj02
from renxing.geo.sphere import haversine_m
from renxing.space import osm_import
from renxing.space.models import MapFeature, Road, Shelter
from tests.kit.client import login
from tests.kit.space_world import ll, square

# Real OpenStreetMap extracts (attribution in tests/data/README.md).
OSM_DIR = Path(__file__).resolve().parents[1] / "data" / "osm"
MUNICH = OSM_DIR / "munich-small.osm"
FINLAND = OSM_DIR / "finland-small.osm.pbf"


def converted(geom: dict, fn) -> dict:
    return {"type": geom["type"], "coordinates": [[list(fn(*p)) for p in ring] for ring in geom["coordinates"]]}


def shelter_feature(name: str, geom: dict, **props) -> dict:
    p = {"name": name, "kind": "park", "effective_area_m2": 2000, "exits": 2, **props}
    return {"type": "Feature", "properties": p, "geometry": geom}


def n_rows(engine, model) -> int:
    with transaction(engine) as s:
        return s.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(("crs", "fn", "how"), [("gcj02", wgs84_to_gcj02, "param"), ("bd09", wgs84_to_bd09, "member")])
def test_geojson_import_converts_to_wgs84(client, world, engine, crs, fn, how):
    wgs = square(50, 50, 30)
    fc = {"type": "FeatureCollection", "features": [shelter_feature("东园", converted(wgs, fn))]}
    params = {"community": world.units["C1"]}
    if how == "param":
        params["crs"] = crs
    else:
        fc["crs"] = {"type": "name", "properties": {"name": crs}}
    h = login(client, "secretary")
    r = client.post("/api/v1/space/layers/shelters/import", params=params, json=fc, headers=h)
    assert r.status_code == 201, r.text
    sid = r.json()["ids"][0]
    got = client.get(f"/api/v1/space/shelters/{sid}", headers=h).json()
    for a, b in zip(got["geometry"]["coordinates"][0], wgs["coordinates"][0], strict=True):
        assert haversine_m(*a, *b) < 0.5
    assert got["capacity"] == 1333


def test_geojson_import_is_all_or_nothing_and_names_every_bad_feature(client, world, engine):
    bowtie = {"type": "Polygon", "coordinates": [[ll(0, 0), ll(10, 10), ll(10, 0), ll(0, 10), ll(0, 0)]]}
    feats = [
        shelter_feature("好的", square(0, 0, 20)),
        shelter_feature("自相交", bowtie),
        shelter_feature("没面积", square(100, 0, 20), effective_area_m2=0),
        shelter_feature("线", {"type": "LineString", "coordinates": [ll(0, 0), ll(5, 5)]}),
        shelter_feature("怪类型", square(200, 0, 20), kind="volcano"),
    ]
    fc = {"type": "FeatureCollection", "features": feats}
    h = login(client, "secretary")
    r = client.post("/api/v1/space/layers/shelters/import", params={"community": world.units["C1"]}, json=fc, headers=h)
    assert r.status_code == 422
    errs = {(e["row"], e["field"]) for e in r.json()["errors"]}
    assert errs == {(1, "geometry"), (2, "effective_area_m2"), (3, "geometry"), (4, "kind")}
    messages = " ".join(e["message"] for e in r.json()["errors"])
    for name in ("自相交", "没面积", "线", "怪类型"):
        assert name in messages
    assert n_rows(engine, Shelter) == 0
    # unknown datum, bad document shape
    r = client.post(
        "/api/v1/space/layers/shelters/import",
        params={"community": world.units["C1"], "crs": "gk"},
        json={"type": "FeatureCollection", "features": feats[:1]},
        headers=h,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "crs"
    r = client.post(
        "/api/v1/space/layers/shelters/import", params={"community": world.units["C1"]}, json={"a": 1}, headers=h
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "type"
    assert n_rows(engine, Shelter) == 0
    # others may not import into C1
    h2 = login(client, "staff2")
    fc_ok = {"type": "FeatureCollection", "features": feats[:1]}
    r = client.post(
        "/api/v1/space/layers/shelters/import", params={"community": world.units["C1"]}, json=fc_ok, headers=h2
    )
    assert r.status_code == 403
    r = client.post(
        "/api/v1/space/layers/shelters/import", params={"community": world.units["C1"]}, json=fc_ok, headers=h
    )
    assert r.status_code == 201 and n_rows(engine, Shelter) == 1


def test_exported_collection_imports_again(client, world, engine):
    h = login(client, "secretary")
    fc = {"type": "FeatureCollection", "features": [shelter_feature("西园", square(0, 0, 30))]}
    client.post("/api/v1/space/layers/shelters/import", params={"community": world.units["C2"]}, json=fc, headers=h)
    hs = login(client, "street")
    client.post("/api/v1/space/layers/shelters/import", params={"community": world.units["C2"]}, json=fc, headers=hs)
    out = client.get("/api/v1/space/layers/shelters.geojson", params={"crs": "gcj02"}, headers=hs).json()
    r = client.post(
        "/api/v1/space/layers/shelters/import",
        params={"community": world.units["C2"], "crs": "gcj02", "replace": True},
        json=out,
        headers=hs,
    )
    assert r.status_code == 201, r.text
    assert n_rows(engine, Shelter) == 1


@pytest.mark.parametrize("path", [MUNICH, FINLAND], ids=["munich-xml", "finland-pbf"])
def test_osm_import_real_extracts(world, engine, path):
    with transaction(engine) as s:
        result = osm_import.import_osm(s, SYSTEM, path, world.units["C1"])
    assert result.roads > 0 and result.buildings > 0
    if path == MUNICH:
        # Its one POI (a museum, a multipolygon relation) has its ways outside the extract: reported, not built.
        assert result.pois == 0 and result.skipped == {"road": 5, "building": 1}
    else:
        assert result.pois > 0
    with transaction(engine) as s:
        roads = s.scalars(select(Road)).all()
        feats = s.scalars(select(MapFeature)).all()
    assert len(roads) == result.roads
    kinds = Counter(r.kind for r in roads)
    assert kinds["residential"] > 0 and kinds["service"] > 0
    assert all(r.osm_id and r.unit_id == world.units["C1"] for r in roads)
    layers = Counter(f.layer for f in feats)
    assert layers == Counter({"building": result.buildings, "poi": result.pois})
    poi_kinds = {f.kind for f in feats if f.layer == "poi"}
    if path == FINLAND:
        assert {"petrol_station", "kindergarten", "sports_pitch"} <= poi_kinds
        assert not [r for r in roads if r.kind == "motorway" and r.walkable]
        assert any(r.kind == "footway" and r.walkable for r in roads)
    else:
        assert "Goethestraße" in {r.name for r in roads}
        assert Counter(f.kind for f in feats)["house"] > 0


def test_osm_and_geojson_cli(world, engine, monkeypatch, tmp_path):
    import renxing.db
    from renxing.cli import app

    monkeypatch.setattr(renxing.db, "get_engine", lambda url=None: engine)
    monkeypatch.setattr("renxing.migrate.upgrade", lambda engine=None, revision="head": None)
    runner = CliRunner()
    res = runner.invoke(app, ["import", "osm", str(MUNICH), "--community", str(world.units["C1"])])
    assert res.exit_code == 0, res.output
    first = n_rows(engine, Road)
    assert "道路" in res.output and first > 0
    again = runner.invoke(app, ["import", "osm", str(MUNICH), "--community", str(world.units["C1"]), "--replace"])
    assert again.exit_code == 0, again.output
    assert n_rows(engine, Road) == first  # replaced, not added twice
    with transaction(engine) as s:
        ids = s.scalars(select(Road.osm_id)).all()
    assert len(ids) == len(set(ids))
    gj = tmp_path / "s.geojson"
    wgs = square(0, 0, 25)
    gj.write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"G","kind":"square",'
        f'"effective_area_m2":900,"exits":2}},"geometry":{{"type":"Polygon","coordinates":'
        f"{converted(wgs, wgs84_to_gcj02)['coordinates']}}}}}]}}".replace("'", '"')
    )
    res = runner.invoke(
        app,
        ["import", "geojson", str(gj), "--layer", "shelters", "--community", str(world.units["C1"]), "--crs", "gcj02"],
    )
    assert res.exit_code == 0, res.output
    with transaction(engine) as s:
        sh = s.scalars(select(Shelter)).one()
    assert sh.capacity == 600 and haversine_m(sh.lon, sh.lat, *ll(0, 0)) < 30
    bad = runner.invoke(app, ["import", "geojson", str(gj), "--layer", "shelters", "--community", "999999"])
    assert bad.exit_code == 1 and n_rows(engine, Shelter) == 1


def test_osm_width_and_kinds():
    assert osm_import.parse_width("4") == 4.0
    assert osm_import.parse_width("3,5 m") == 3.5
    assert osm_import.parse_width("12'") is None
    assert osm_import.parse_width(None) is None
    assert osm_import.poi_kind({"amenity": "fuel"}) == "petrol_station"
    assert osm_import.poi_kind({"power": "substation"}) == "substation"
    assert osm_import.poi_kind({"amenity": "bench"}) is None


def test_import_needs_write_permission(world, engine):
    from renxing.auth.policy import Role
    from renxing.auth.principal import Principal

    volunteer = Principal(user_id=None, username="v", role=Role.volunteer, scope_paths=("/",))
    with pytest.raises(Exception) as info, transaction(engine) as s:
        from renxing.space import layers

        layers.import_features(s, volunteer, "roads", world.units["C1"], [])
    assert info.value.__class__.__name__ == "Forbidden"
    assert not isinstance(info.value, Invalid)


def test_import_reads_its_body_only_after_the_login(client, world):
    """An anonymous body is never parsed: bad JSON from nobody is a 401, not a 422."""
    url = "/api/v1/space/layers/shelters/import"
    params = {"community": world.units["C1"]}
    headers = {"Content-Type": "application/json"}
    r = client.post(url, params=params, content=b"[{}," * 1000, headers=headers)
    assert r.status_code == 401
    h = {**login(client, "secretary"), **headers}
    r = client.post(url, params=params, content=b"[{},", headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body"
    r = client.post(url, params=params, content=b"[]", headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body"
