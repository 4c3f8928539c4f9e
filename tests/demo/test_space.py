"""The demo street's space layers: a connected walkable network reaching every building, hazards, shelters."""

import json
from collections import Counter, defaultdict

from sqlalchemy import select

from renxing.auth.principal import SYSTEM
from renxing.db import transaction
from renxing.demo.build import build_demo
from renxing.geo.sphere import haversine_m
from renxing.grid.models import GridUnit
from renxing.space import analysis
from renxing.space.models import HazardZone, Passage, ReservedLand, RiskPoint, Road, Shelter


def _components(edges: list[tuple[tuple, tuple]]) -> dict[tuple, tuple]:
    parent: dict[tuple, tuple] = {}

    def find(a):
        parent.setdefault(a, a)
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for a, b in edges:
        parent[find(a)] = find(b)
    return {n: find(n) for n in list(parent)}


def test_demo_space_layers(engine):
    build_demo(engine, seed=7, scale=0.03)
    with transaction(engine) as s:
        roads = s.scalars(select(Road)).all()
        buildings = s.scalars(select(GridUnit).where(GridUnit.level == "building")).all()
        communities = s.scalars(select(GridUnit).where(GridUnit.level == "community")).all()
        zones = s.scalars(select(HazardZone)).all()
        points = s.scalars(select(RiskPoint)).all()
        passages = s.scalars(select(Passage)).all()
        land = s.scalars(select(ReservedLand)).all()
        shelters = s.scalars(select(Shelter)).all()
        checks = {c.id: analysis.run_checks(s, SYSTEM, c.id)["counts"] for c in communities}
    # one connected network of segments that meet at shared end vertices ...
    edges = []
    for r in roads:
        coords = json.loads(r.geometry)["coordinates"]
        assert r.walkable and len(coords) >= 2
        edges.append((tuple(coords[0]), tuple(coords[-1])))
    comp = _components(edges)
    assert len(set(comp.values())) == 1
    # ... with a footway ending at every building
    ends = list(comp)
    for b in buildings:
        nearest = min(haversine_m(b.lon, b.lat, x, y) for x, y in ends)
        assert nearest < 2.0, b.name
    kinds = Counter(r.kind for r in roads)
    assert kinds["primary"] and kinds["residential"] and kinds["service"] and kinds["footway"] >= len(buildings)
    # hazards: flood bands with depth classes, the old estate's wiring block, facility buffers with their source
    flood = [z for z in zones if z.kind == "flood"]
    assert {z.depth_class for z in flood} == {">1", "0.5-1", "0.3-0.5", "<0.3"}
    assert any(z.kind == "fire" and z.level >= 3 for z in zones)
    buffers = [z for z in zones if z.kind == "facility_buffer"]
    assert {p.kind for p in points} >= {"petrol_station", "substation", "old_wiring"}
    assert {z.source_point_id for z in buffers} == {p.id for p in points if p.buffer_m}
    assert any(p.width_m < 4 for p in passages) and any(p.width_m >= 4 for p in passages)
    assert len(land) == len(communities) and all(x.area_m2 > 0 for x in land)
    # 4-8 open shelters per community, a school playground and a gym as closed candidates
    per = defaultdict(list)
    for sh in shelters:
        per[sh.unit_id].append(sh)
        assert sh.capacity > 0 and sh.effective_area_m2 > 0
    for c in communities:
        n_open = sum(1 for sh in per[c.id] if sh.status == "open")
        assert 4 <= n_open <= 8, (c.name, n_open)
    cands = {sh.kind for sh in shelters if sh.status == "candidate"}
    assert cands == {"school_playground", "stadium"}
    # the checks have something to say
    total = Counter()
    for counts in checks.values():
        total.update(counts)
    assert total["building_in_high_hazard"] and total["narrow_passage"] and total["shelter_in_hazard"]
