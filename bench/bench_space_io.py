"""Space data at the edges: datum conversion, OpenStreetMap import, GeoJSON import and export.

Targets (issue: space): the inverse conversions (GCJ-02/BD-09 → WGS-84) within 0.5 m; no speed
target is named, so the figures are reported against what an interactive edit needs: converting a
10,000-vertex layer for the map under 1 s, importing an OSM extract of a few thousand objects and a
2,000-feature GeoJSON file in a few seconds. Runs on SQLite and, when reachable, on PostgreSQL.
"""

import math
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np

from common import postgres_db, sqlite_db
from renxing.auth.principal import SYSTEM
from renxing.db import transaction
from renxing.geo import coords
from renxing.geo.sphere import haversine_m
from renxing.grid import service as grid
from renxing.grid.models import Level
from renxing.space import geojson_io, layers, osm_import

OSM = Path(__file__).resolve().parents[1] / "tests" / "data" / "osm" / "finland-small.osm.pbf"
N_POINTS = 100_000
N_FEATURES = 2_000
TARGET_LAYER_S = 1.0


def bench_coords() -> None:
    rng = random.Random(4)
    pts = [(rng.uniform(73.5, 134.5), rng.uniform(18.5, 53.0)) for _ in range(N_POINTS)]
    xs = np.array([p[0] for p in pts])
    ys = np.array([p[1] for p in pts])
    print(f"datum conversion of {N_POINTS:,} points in China (one by one; vectorised as layers are)")
    for src, dst in (("wgs84", "gcj02"), ("gcj02", "wgs84"), ("wgs84", "bd09"), ("bd09", "wgs84")):
        fn = coords.converter(src, dst)
        t = time.perf_counter()
        out = [fn(x, y) for x, y in pts]
        one = (time.perf_counter() - t) / N_POINTS * 1e6
        t = time.perf_counter()
        vx, vy = coords.convert_arrays(xs, ys, src, dst)
        vec = (time.perf_counter() - t) / N_POINTS * 1e6
        back = coords.converter(dst, src)
        worst = max(haversine_m(x, y, *back(*o)) for (x, y), o in zip(pts[:5000], out[:5000], strict=True))
        layer_ms = vec * 1e4 / 1e3
        print(
            f"  {src:>5} → {dst:<5} {one:6.2f} µs/point, vectorised {vec:5.2f} µs/point: a 10,000-vertex layer "
            f"{layer_ms:5.1f} ms ({TARGET_LAYER_S * 1e3 / layer_ms:4.0f}× under 1 s); "
            f"worst round trip {worst * 100:.2f} cm"
        )
        assert len(vx) == len(vy) == N_POINTS


def square(lon: float, lat: float, half_m: float) -> dict:
    dx = half_m / (111_320 * math.cos(math.radians(lat)))
    dy = half_m / 110_950
    ring = [
        [lon - dx, lat - dy],
        [lon + dx, lat - dy],
        [lon + dx, lat + dy],
        [lon - dx, lat + dy],
        [lon - dx, lat - dy],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def bench_db(engine, label: str) -> None:
    with transaction(engine) as s:
        street = grid.create_unit(s, SYSTEM, level=Level.street, code="S", name="街道")
        community = grid.create_unit(s, SYSTEM, level=Level.community, code="C", name="社区", parent_id=street.id).id
    if OSM.exists():
        t = time.perf_counter()
        data = osm_import.read_osm(OSM)
        read_s = time.perf_counter() - t
        t = time.perf_counter()
        with transaction(engine) as s:
            res = osm_import.import_osm(s, SYSTEM, OSM, community)
        total_s = time.perf_counter() - t
        n = res.roads + res.buildings + res.pois
        print(
            f"  [{label}] OSM {OSM.name}: {res.roads} roads, {res.buildings} buildings, {res.pois} POIs "
            f"(read {read_s:.2f} s, read+validate+store {total_s:.2f} s, {n / total_s:,.0f} features/s)"
        )
        assert len(data.roads) == res.roads
    rng = random.Random(9)
    feats = []
    for i in range(N_FEATURES):
        lon, lat = rng.uniform(118.70, 118.85), rng.uniform(32.00, 32.10)
        geom = coords.convert_geometry(square(lon, lat, rng.uniform(20, 60)), "wgs84", "gcj02")
        props = {"name": f"场所{i}", "kind": "square", "effective_area_m2": 1000, "exits": 2}
        feats.append({"type": "Feature", "properties": props, "geometry": geom})
    fc = {"type": "FeatureCollection", "features": feats}
    t = time.perf_counter()
    with transaction(engine) as s:
        geojson_io.import_collection(s, SYSTEM, "shelters", community, fc, crs="gcj02")
    imp = time.perf_counter() - t
    t = time.perf_counter()
    with transaction(engine) as s:
        out = layers.layer_collection(s, SYSTEM, "shelters", community=community, crs="bd09")
    exp = time.perf_counter() - t
    assert len(out["features"]) == N_FEATURES
    print(
        f"  [{label}] GeoJSON {N_FEATURES:,} shelters in GCJ-02: import {imp:.2f} s ({N_FEATURES / imp:,.0f}/s); "
        f"layer export in BD-09 {exp:.2f} s"
    )


def main() -> None:
    bench_coords()
    print("imports")
    with tempfile.TemporaryDirectory() as tmp, sqlite_db(tmp) as engine:
        bench_db(engine, "SQLite")
    with postgres_db() as engine:
        if engine is None:
            print("  [PostgreSQL] not reachable, skipped")
        else:
            bench_db(engine, "PostgreSQL")


if __name__ == "__main__":
    main()
