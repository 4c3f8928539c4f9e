"""Walking network built from road LineStrings (WGS-84 lon/lat). Pure: numpy/scipy in and out.

Nodes are the road vertices; vertices of different lines that coincide after rounding to
``precision`` decimal places of a degree (7 → about 1 cm) become one node, which is how crossings
join. Edges join consecutive vertices of a line, are undirected (people walk both ways), and carry
their length in metres (haversine), held to the decimetre so that sums of lengths along a path are
exact multiples of 0.1 m (the evacuation planner relies on that for integer costs).

Distances are computed with ``scipy.sparse.csgraph.dijkstra`` on a symmetric CSR matrix; points are
snapped to the nearest node with a ``cKDTree`` on a local equirectangular projection (metres).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from renxing.geo.sphere import EARTH_RADIUS_M

# Usable width of a road by OSM highway kind when the data has none, metres; used only for the
# queueing estimate at the narrowest passage.
DEFAULT_WIDTH_M = {
    "motorway": 10.0,
    "trunk": 10.0,
    "primary": 10.0,
    "secondary": 8.0,
    "tertiary": 7.0,
    "unclassified": 5.0,
    "residential": 5.0,
    "living_street": 4.0,
    "service": 4.0,
    "pedestrian": 5.0,
    "track": 3.0,
    "footway": 2.0,
    "path": 1.5,
    "steps": 1.5,
    "cycleway": 2.0,
}
FALLBACK_WIDTH_M = 4.0


@dataclass(frozen=True)
class RoadLine:
    """One road or path: ``coords`` is a sequence of (lon, lat) in WGS-84 degrees, at least two."""

    id: int
    coords: Sequence[tuple[float, float]]
    kind: str = ""
    width_m: float | None = None


def haversine_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Great-circle distance in metres between arrays (or scalars) of WGS-84 points."""
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(a, dtype=float)) for a in (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


@dataclass
class RoadGraph:
    """Undirected walking graph.

    Attributes (n nodes, m edges):
      ``lon``, ``lat``: node coordinates, degrees (n,);
      ``edge_u``, ``edge_v``: node indices of each edge (m,), ``edge_u < edge_v``;
      ``edge_len``: metres, multiples of 0.1 (m,); ``edge_road``: the road id of each edge (m,);
      ``edge_width``: usable width in metres (m,);
      ``matrix``: symmetric ``scipy.sparse.csr_matrix`` (n × n) of edge lengths in metres.
    Build it with :meth:`from_lines`.
    """

    lon: np.ndarray
    lat: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_len: np.ndarray
    edge_road: np.ndarray
    edge_width: np.ndarray
    origin: tuple[float, float]  # (lon0, lat0) of the local projection
    matrix: sparse.csr_matrix = field(init=False, repr=False)
    _tree: cKDTree | None = field(default=None, init=False, repr=False)
    _labels: np.ndarray | None = field(default=None, init=False, repr=False)
    _edge_index: tuple | None = field(default=None, init=False, repr=False)
    _ext: tuple | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        n = len(self.lon)
        rows = np.concatenate([self.edge_u, self.edge_v])
        cols = np.concatenate([self.edge_v, self.edge_u])
        data = np.concatenate([self.edge_len, self.edge_len])
        self.matrix = sparse.csr_matrix((data, (rows, cols)), shape=(n, n))

    # ---- construction ---------------------------------------------------------------------

    @classmethod
    def from_lines(cls, lines: Iterable[RoadLine], precision: int = 7) -> "RoadGraph":
        """Build the graph from road lines (see module doc). Lines with fewer than two distinct
        vertices are ignored. Parallel edges between the same two nodes keep the shortest."""
        lines = list(lines)
        counts = np.array([len(ln.coords) for ln in lines], dtype=np.int64)
        if not lines or counts.sum() == 0:
            return cls._empty()
        pts = np.array([p[:2] for ln in lines for p in ln.coords], dtype=float)
        scale = 10.0**precision
        keys = np.round(pts * scale).astype(np.int64)
        uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
        inverse = inverse.ravel()
        lon = uniq[:, 0] / scale
        lat = uniq[:, 1] / scale
        # consecutive vertices of the same line
        line_of = np.repeat(np.arange(len(lines)), counts)
        same_line = line_of[1:] == line_of[:-1]
        a = inverse[:-1][same_line]
        b = inverse[1:][same_line]
        which = line_of[:-1][same_line]
        keep = a != b
        a, b, which = a[keep], b[keep], which[keep]
        u, v = np.minimum(a, b), np.maximum(a, b)
        length = np.maximum(np.round(haversine_m(lon[u], lat[u], lon[v], lat[v]), 1), 0.1)
        road_ids = np.array([ln.id for ln in lines], dtype=np.int64)
        widths = np.array(
            [
                ln.width_m if ln.width_m and ln.width_m > 0 else DEFAULT_WIDTH_M.get(ln.kind, FALLBACK_WIDTH_M)
                for ln in lines
            ],
            dtype=float,
        )
        # one edge per node pair: the shortest (ties: first line)
        order = np.lexsort((length, v, u))
        u, v, length, which = u[order], v[order], length[order], which[order]
        first = np.ones(len(u), dtype=bool)
        first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
        u, v, length, which = u[first], v[first], length[first], which[first]
        origin = (float(lon.mean()), float(lat.mean()))
        return cls(lon, lat, u, v, length, road_ids[which], widths[which], origin)

    @classmethod
    def _empty(cls) -> "RoadGraph":
        z = np.zeros(0)
        zi = np.zeros(0, dtype=np.int64)
        return cls(z, z, zi, zi, z, zi, z, (0.0, 0.0))

    def without_edges(self, road_ids: Iterable[int]) -> "RoadGraph":
        """A copy without the edges of these roads (cut roads in a scenario). Node indices are kept,
        so snapping and node arrays stay valid; nodes may become isolated."""
        cut = np.asarray(list(road_ids), dtype=np.int64)
        keep = ~np.isin(self.edge_road, cut)
        g = RoadGraph(
            self.lon,
            self.lat,
            self.edge_u[keep],
            self.edge_v[keep],
            self.edge_len[keep],
            self.edge_road[keep],
            self.edge_width[keep],
            self.origin,
        )
        g._tree = self._tree
        return g

    # ---- geometry -------------------------------------------------------------------------

    @property
    def n_nodes(self) -> int:
        return len(self.lon)

    @property
    def n_edges(self) -> int:
        return len(self.edge_u)

    def project(self, lon, lat) -> np.ndarray:
        """Local equirectangular projection around the graph's centre: (k, 2) array of metres."""
        lon0, lat0 = self.origin
        k = np.pi / 180 * EARTH_RADIUS_M
        x = (np.asarray(lon, dtype=float) - lon0) * k * np.cos(np.radians(lat0))
        y = (np.asarray(lat, dtype=float) - lat0) * k
        return np.column_stack([np.atleast_1d(x), np.atleast_1d(y)])

    def snap(self, lon, lat) -> tuple[np.ndarray, np.ndarray]:
        """Nearest node of each point and the straight distance to it in metres (the walk from the
        door to the road). ``lon``/``lat`` are arrays of degrees; returns (node indices, metres)."""
        if self.n_nodes == 0:
            raise ValueError("empty road graph")
        if self._tree is None:
            self._tree = cKDTree(self.project(self.lon, self.lat))
        dist, idx = self._tree.query(self.project(lon, lat))
        return np.asarray(idx, dtype=np.int64), np.asarray(dist, dtype=float)

    def coords(self, nodes: ArrayLike) -> list[tuple[float, float]]:
        """(lon, lat) of these nodes."""
        idx = np.asarray(nodes, dtype=np.int64)
        return list(zip(self.lon[idx].tolist(), self.lat[idx].tolist(), strict=True))

    # ---- connectivity and distances -------------------------------------------------------

    def components(self) -> np.ndarray:
        """Connected-component label of every node (n,)."""
        if self._labels is None:
            _, self._labels = csgraph.connected_components(self.matrix, directed=False)
        return self._labels

    def distances(self, sources: ArrayLike, limit: float = np.inf, predecessors: bool = False):
        """Shortest walking distances in metres from each source node to every node:
        a (len(sources), n) array, ``inf`` where unreachable or beyond ``limit`` metres. With
        ``predecessors=True`` also returns the (len(sources), n) predecessor array for :meth:`path`
        (-9999 where none). Memory is len(sources) × n × 8 bytes: chunk large source sets."""
        src = np.asarray(sources, dtype=np.int64)
        return csgraph.dijkstra(self.matrix, directed=True, indices=src, limit=limit, return_predecessors=predecessors)

    def nearest(self, sources: ArrayLike, limit: float = np.inf) -> tuple[np.ndarray, np.ndarray]:
        """Distance in metres from every node to the nearest of ``sources`` and the index (into
        ``sources``) of that source, -1 where none is reachable within ``limit``."""
        src = np.asarray(sources, dtype=np.int64)
        if len(src) == 0:
            return np.full(self.n_nodes, np.inf), np.full(self.n_nodes, -1, dtype=np.int64)
        dist, _, which = csgraph.dijkstra(
            self.matrix, directed=True, indices=src, limit=limit, min_only=True, return_predecessors=True
        )
        pos = {int(node): i for i, node in reversed(list(enumerate(src.tolist())))}
        lookup = np.full(self.n_nodes, -1, dtype=np.int64)
        for node, i in pos.items():
            lookup[node] = i
        out = np.where(which >= 0, lookup[np.maximum(which, 0)], -1)
        return dist, out

    def nearest_with_offsets(self, nodes: ArrayLike, offsets_m: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """Multi-source Dijkstra where source ``k`` (node ``nodes[k]``) starts at ``offsets_m[k]``
        metres (≥ 0) instead of 0: for every node, min over k of offset + distance, and that k
        (−1 where none reaches). Several sources may share a node. Done with one dummy node per
        source joined to its node by an edge of the offset (+1 m, removed again, so no edge is 0)."""
        starts = np.asarray(nodes, dtype=np.int64)
        offsets = np.asarray(offsets_m, dtype=float)
        n, k = self.n_nodes, len(starts)
        if k == 0:
            return np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
        key = starts.tobytes()
        if self._ext is None or self._ext[0] != key:
            # the graph plus one row per source; rebuilt only when the sources change, since only
            # the offsets (the last k stored values) differ between calls
            base = self.matrix.tocoo()
            ext = sparse.csr_matrix(
                (
                    np.concatenate([base.data, np.ones(k)]),
                    (np.concatenate([base.row, n + np.arange(k)]), np.concatenate([base.col, starts])),
                ),
                shape=(n + k, n + k),
            )
            self._ext = (key, ext)
        ext = self._ext[1]
        ext.data[-k:] = offsets + 1.0
        dist, _, src = csgraph.dijkstra(
            ext, directed=True, indices=n + np.arange(k), min_only=True, return_predecessors=True
        )
        which = np.where(src >= 0, src - n, -1)
        return dist[:n] - 1.0, which[:n]

    def path(self, predecessors: np.ndarray, target: int) -> list[int]:
        """Nodes from the source of a predecessor row (see :meth:`distances`) to ``target``,
        source first. Check that the distance to ``target`` is finite first: an unreachable
        target gives just ``[target]``."""
        nodes = [int(target)]
        node = int(target)
        while True:
            prev = int(predecessors[node])
            if prev < 0:
                break
            nodes.append(prev)
            node = prev
        nodes.reverse()
        return nodes

    def edge_ids(self, nodes: ArrayLike) -> np.ndarray:
        """Edge indices along a node path (consecutive nodes must be joined by an edge)."""
        if self._edge_index is None:
            keys = self.edge_u * self.n_nodes + self.edge_v
            order = np.argsort(keys)
            self._edge_index = (keys[order], order)
        keys, order = self._edge_index
        path = np.asarray(nodes, dtype=np.int64)
        a, b = path[:-1], path[1:]
        return order[np.searchsorted(keys, np.minimum(a, b) * self.n_nodes + np.maximum(a, b))]


def grid_lines(
    nx: int, ny: int, spacing_m: float = 100.0, origin: tuple[float, float] = (118.78, 32.04), kind: str = "residential"
) -> list[RoadLine]:
    """A regular street grid of ``nx`` × ``ny`` crossings ``spacing_m`` apart, south-west corner at
    ``origin`` (lon, lat): one RoadLine per block side, ids 1, 2, ... (row edges first). For tests,
    benchmarks and generated districts."""
    lon0, lat0 = origin
    dlat = spacing_m / (np.pi / 180 * EARTH_RADIUS_M)
    dlon = dlat / np.cos(np.radians(lat0))
    lines: list[RoadLine] = []
    rid = 1
    for y in range(ny):
        for x in range(nx - 1):
            a = (lon0 + x * dlon, lat0 + y * dlat)
            b = (lon0 + (x + 1) * dlon, lat0 + y * dlat)
            lines.append(RoadLine(rid, (a, b), kind))
            rid += 1
    for x in range(nx):
        for y in range(ny - 1):
            a = (lon0 + x * dlon, lat0 + y * dlat)
            b = (lon0 + x * dlon, lat0 + (y + 1) * dlat)
            lines.append(RoadLine(rid, (a, b), kind))
            rid += 1
    return lines
