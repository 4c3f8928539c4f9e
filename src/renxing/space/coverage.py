"""Shelter coverage on the walking network (not as the crow flies). Pure: plain values in and out.

For every building: walking distance to the nearest open shelter = door-to-road snap + network +
road-to-entrance snap, in metres; the share of residents within each threshold (500 m and 1,000 m
by default) and the gaps, i.e. the buildings beyond a threshold or cut off from every shelter.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from renxing.space.network import RoadGraph

DEFAULT_THRESHOLDS_M = (500.0, 1000.0)


@dataclass(frozen=True)
class Point:
    """A building (``weight`` = residents) or a shelter entrance, WGS-84 degrees."""

    id: int
    lon: float
    lat: float
    weight: float = 1.0


@dataclass
class BuildingCoverage:
    id: int
    residents: float
    distance_m: float | None  # None when no shelter is reachable
    shelter_id: int | None


@dataclass
class Coverage:
    """``share[t]`` is the fraction (0–1) of residents within ``t`` metres; ``covered[t]`` the
    residents; ``gaps[t]`` the ids of buildings beyond ``t`` (unreachable ones included), farthest
    first; ``unreachable`` the ids cut off from every shelter."""

    buildings: list[BuildingCoverage]
    thresholds: tuple[float, ...]
    residents: float
    covered: dict[float, float] = field(default_factory=dict)
    share: dict[float, float] = field(default_factory=dict)
    gaps: dict[float, list[int]] = field(default_factory=dict)
    unreachable: list[int] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "thresholds_m": list(self.thresholds),
            "residents": self.residents,
            "covered": {str(int(t)): v for t, v in self.covered.items()},
            "share": {str(int(t)): v for t, v in self.share.items()},
            "gaps": {str(int(t)): v for t, v in self.gaps.items()},
            "unreachable": self.unreachable,
            "buildings": [b.__dict__ for b in self.buildings],
        }


def nearest_shelter(
    graph: RoadGraph, buildings: Sequence[Point], shelters: Sequence[Point]
) -> tuple[np.ndarray, np.ndarray]:
    """Walking distance in metres from each building to its nearest shelter (``inf`` when none is
    reachable) and the index into ``shelters`` of that shelter (−1 when none)."""
    nb = len(buildings)
    if nb == 0:
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    if not shelters or graph.n_nodes == 0:
        return np.full(nb, np.inf), np.full(nb, -1, dtype=np.int64)
    b_node, b_snap = graph.snap([b.lon for b in buildings], [b.lat for b in buildings])
    s_node, s_snap = graph.snap([s.lon for s in shelters], [s.lat for s in shelters])
    # several shelters on one node: keep the one whose entrance is closest to it
    best: dict[int, int] = {}
    for j, node in enumerate(s_node.tolist()):
        if node not in best or s_snap[j] < s_snap[best[node]]:
            best[node] = j
    nodes = np.array(list(best), dtype=np.int64)
    js = np.array(list(best.values()), dtype=np.int64)
    # the entrance snap enters as the starting offset of its shelter
    dist, which = graph.nearest_with_offsets(nodes, s_snap[js])
    d = dist[b_node] + b_snap
    idx = np.where(which[b_node] >= 0, js[np.maximum(which[b_node], 0)], -1)
    return np.where(idx >= 0, d, np.inf), idx


def coverage(
    graph: RoadGraph,
    buildings: Sequence[Point],
    shelters: Sequence[Point],
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS_M,
) -> Coverage:
    """Coverage of residents (building ``weight``) by the open ``shelters`` within each walking
    threshold in metres. Pass the graph without cut roads for a scenario."""
    dist, idx = nearest_shelter(graph, buildings, shelters)
    residents = float(sum(b.weight for b in buildings))
    rows = [
        BuildingCoverage(
            id=b.id,
            residents=float(b.weight),
            distance_m=round(float(dist[i]), 1) if np.isfinite(dist[i]) else None,
            shelter_id=shelters[int(idx[i])].id if idx[i] >= 0 else None,
        )
        for i, b in enumerate(buildings)
    ]
    weights = np.array([b.weight for b in buildings], dtype=float)
    out = Coverage(buildings=rows, thresholds=tuple(float(t) for t in thresholds), residents=residents)
    order = np.argsort(-np.where(np.isfinite(dist), dist, np.inf), kind="stable")
    for t in out.thresholds:
        within = dist <= t
        out.covered[t] = float(weights[within].sum())
        out.share[t] = out.covered[t] / residents if residents > 0 else 0.0
        out.gaps[t] = [buildings[i].id for i in order if not within[i]]
    out.unreachable = [buildings[i].id for i in range(len(buildings)) if not np.isfinite(dist[i])]
    return out
