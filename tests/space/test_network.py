"""The walking network and coverage: hand-made graphs with known answers, and properties."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from renxing.geo.sphere import EARTH_RADIUS_M
from renxing.space.coverage import Point, coverage, nearest_shelter
from renxing.space.network import RoadGraph, RoadLine, grid_lines, haversine_m

LON0, LAT0 = 118.78, 32.04
DLAT = 1 / (np.pi / 180 * EARTH_RADIUS_M)  # one metre north, in degrees
DLON = DLAT / np.cos(np.radians(LAT0))  # one metre east


def at(x_m: float, y_m: float) -> tuple[float, float]:
    return (LON0 + x_m * DLON, LAT0 + y_m * DLAT)


def test_shared_vertices_join_lines_and_lengths_are_metres():
    # a cross: two lines sharing the vertex at (100, 0); a third line passing over without a vertex
    g = RoadGraph.from_lines(
        [
            RoadLine(1, [at(0, 0), at(100, 0), at(200, 0)], "residential"),
            RoadLine(2, [at(100, -50), at(100, 0), at(100, 50)], "footway"),
            RoadLine(3, [at(150, -30), at(150, 30)], "path"),  # crosses line 1 with no shared vertex
        ]
    )
    assert g.n_nodes == 7  # 3 + 2 new + 2 of the bridge
    assert g.n_edges == 5
    assert np.allclose(sorted(g.edge_len), [50, 50, 60, 100, 100], atol=0.1)
    assert np.allclose(g.edge_len * 10, np.rint(g.edge_len * 10))  # whole decimetres
    nodes, _ = g.snap(*zip(at(0, 0), at(100, 50), at(150, 30), strict=True))
    d = g.distances([nodes[0]])[0]
    assert d[nodes[1]] == pytest.approx(150, abs=0.2)
    assert np.isinf(d[nodes[2]])  # the bridge is not connected
    labels = g.components()
    assert labels[nodes[0]] == labels[nodes[1]] != labels[nodes[2]]
    # widths: footway default narrower than residential
    w = dict(zip(g.edge_road.tolist(), g.edge_width.tolist(), strict=True))
    assert w[2] < w[1]


def test_vertices_within_rounding_merge_and_parallel_edges_keep_the_shortest():
    a, b = at(0, 0), at(80, 0)
    a_jitter = (a[0] + 3e-9, a[1] - 3e-9)  # well below 1e-7°
    g = RoadGraph.from_lines(
        [
            RoadLine(1, [a, b]),
            RoadLine(2, [a_jitter, at(40, 30), b]),  # a detour 100 m long
            RoadLine(3, [b, a_jitter]),  # the same pair again
            RoadLine(4, [at(5, 5)]),  # a single vertex makes no edge
        ]
    )
    assert g.n_nodes == 4
    assert g.n_edges == 3
    nodes, _ = g.snap([a[0], b[0]], [a[1], b[1]])
    assert g.distances([nodes[0]])[0][nodes[1]] == pytest.approx(80, abs=0.2)


def test_haversine_matches_a_known_distance():
    # one degree of latitude on the mean sphere is π R / 180
    assert haversine_m(0, 0, 0, 1) == pytest.approx(np.pi * EARTH_RADIUS_M / 180, rel=1e-12)
    assert haversine_m(LON0, LAT0, *at(300, 400)) == pytest.approx(500, rel=1e-4)


def test_snap_returns_nearest_node_and_door_distance():
    g = RoadGraph.from_lines(grid_lines(3, 3, 100, (LON0, LAT0)))
    nodes, dist = g.snap([at(10, 0)[0], at(190, 210)[0]], [at(10, 0)[1], at(190, 210)[1]])
    assert (g.lon[nodes[0]], g.lat[nodes[0]]) == pytest.approx(at(0, 0), abs=1e-7)
    assert dist[0] == pytest.approx(10, abs=0.05)
    assert (g.lon[nodes[1]], g.lat[nodes[1]]) == pytest.approx(at(200, 200), abs=1e-7)
    assert dist[1] == pytest.approx(np.hypot(10, 10), abs=0.05)


def test_grid_distances_paths_and_cut_roads():
    lines = grid_lines(4, 4, 100, (LON0, LAT0))
    g = RoadGraph.from_lines(lines)
    assert g.n_nodes == 16 and g.n_edges == 24
    (src, dst), _ = g.snap([at(0, 0)[0], at(300, 300)[0]], [at(0, 0)[1], at(300, 300)[1]])
    dist, pred = g.distances([src], predecessors=True)
    assert dist[0, dst] == pytest.approx(600, abs=0.5)  # Manhattan on the grid
    nodes = g.path(pred[0], dst)
    assert nodes[0] == src and nodes[-1] == dst and len(nodes) == 7
    assert g.edge_len[g.edge_ids(nodes)].sum() == pytest.approx(dist[0, dst])
    coords = g.coords(nodes)
    assert coords[0] == pytest.approx(at(0, 0), abs=1e-7)
    # cut every road leaving the corner but one: the route has to take it
    leaving = [ln.id for ln in lines if at(0, 0) in [tuple(np.round(c, 7)) for c in ln.coords]]
    assert len(leaving) == 2
    h = g.without_edges([leaving[0]])
    assert h.n_nodes == g.n_nodes and h.n_edges == g.n_edges - 1
    d2, pred2 = h.distances([src], predecessors=True)
    assert d2[0, dst] == pytest.approx(600, abs=0.5)
    assert leaving[0] not in h.edge_road[h.edge_ids(h.path(pred2[0], dst))]
    cut_all = g.without_edges(leaving)
    assert np.isinf(cut_all.distances([src])[0, dst])
    assert cut_all.components()[src] != cut_all.components()[dst]


def test_nearest_source_and_limit():
    g = RoadGraph.from_lines(grid_lines(5, 1, 100, (LON0, LAT0)))  # a straight street, 5 nodes
    order = np.argsort(g.lon)
    dist, which = g.nearest([order[0], order[4]])
    assert which[order].tolist() == [0, 0, 0, 1, 1] or which[order].tolist() == [0, 0, 1, 1, 1]
    assert dist[order].tolist() == pytest.approx([0, 100, 200, 100, 0], abs=0.2)
    limited = g.distances([order[0]], limit=150)[0]
    assert np.isfinite(limited[order[1]]) and np.isinf(limited[order[2]])


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    k=st.integers(1, 5),
)
def test_nearest_with_offsets_equals_brute_force(seed, k):
    rng = np.random.default_rng(seed)
    g = RoadGraph.from_lines(grid_lines(5, 4, 70, (LON0, LAT0)))
    g = g.without_edges(rng.choice(np.arange(1, 32), size=6, replace=False).tolist())
    nodes = rng.integers(0, g.n_nodes, size=k)
    offsets = rng.uniform(0, 150, size=k)
    dist, which = g.nearest_with_offsets(nodes, offsets)
    full = g.distances(nodes) + offsets[:, None]
    expect = full.min(axis=0)
    assert np.allclose(dist, expect, equal_nan=False) or np.array_equal(np.isinf(dist), np.isinf(expect))
    finite = np.isfinite(expect)
    assert np.allclose(dist[finite], expect[finite])
    assert np.all(which[~finite] == -1)
    assert np.allclose(full[which[finite], np.nonzero(finite)[0]], expect[finite])


# ---- coverage -------------------------------------------------------------------------------


def test_coverage_counts_walking_not_straight_distance():
    # two streets 60 m apart joined only at their far ends 1,200 m away: a canal between them
    g = RoadGraph.from_lines(
        [
            RoadLine(1, [at(0, 0), at(600, 0), at(1200, 0)]),
            RoadLine(2, [at(0, 60), at(600, 60), at(1200, 60)]),
            RoadLine(3, [at(1200, 0), at(1200, 60)]),
            RoadLine(9, [at(0, 5000), at(100, 5000)]),  # an island street
        ]
    )
    shelter = Point(7, *at(0, 0))
    b_near = Point(1, *at(600, 0), weight=40)  # 600 m along street 1
    b_across = Point(2, *at(0, 60), weight=10)  # 60 m away as the crow flies, 2,460 m walking
    b_door = Point(3, *at(0, 30), weight=5)  # 30 m from both streets: snaps to one of them
    b_island = Point(4, *at(50, 5000), weight=20)
    cov = coverage(g, [b_near, b_across, b_island], [shelter])
    rows = {b.id: b for b in cov.buildings}
    assert rows[1].distance_m == pytest.approx(600, abs=0.5) and rows[1].shelter_id == 7
    assert rows[2].distance_m == pytest.approx(2460, abs=1)
    assert rows[4].distance_m is None and rows[4].shelter_id is None
    assert cov.residents == 70
    assert cov.share[500.0] == 0
    assert cov.share[1000.0] == pytest.approx(40 / 70)
    assert cov.gaps[1000.0] == [2, 4] or cov.gaps[1000.0] == [4, 2]
    assert cov.gaps[500.0][0] in (2, 4) and set(cov.gaps[500.0]) == {1, 2, 4}
    assert cov.unreachable == [4]
    dist, _ = nearest_shelter(g, [b_door], [shelter])
    assert dist[0] in (pytest.approx(30, abs=0.2), pytest.approx(30 + 2460, abs=1))
    assert cov.to_dict()["share"]["1000"] == pytest.approx(40 / 70)


def test_coverage_picks_the_nearest_of_several_shelters_and_counts_the_entrance():
    g = RoadGraph.from_lines(grid_lines(6, 1, 200, (LON0, LAT0)))  # 1 km street
    shelters = [Point(1, *at(0, 20)), Point(2, *at(1000, 0))]  # the first entrance 20 m off the street
    blds = [Point(10, *at(400, 0), 3), Point(11, *at(600, 0), 4)]
    cov = coverage(g, blds, shelters, thresholds=(421.0,))
    rows = {b.id: b for b in cov.buildings}
    assert rows[10].shelter_id == 1 and rows[10].distance_m == pytest.approx(420, abs=0.5)
    assert rows[11].shelter_id == 2 and rows[11].distance_m == pytest.approx(400, abs=0.5)
    assert cov.share[421.0] == 1.0
    assert coverage(g, blds, []).share[500.0] == 0.0
