"""Walking networks as arrays: nodes, undirected edges, their lengths and walking costs, and
shortest paths from many sources at once (scipy's csgraph).

A network is built from lines in a plane CRS (metres): road centre lines noded by topology
(lines meet where they share an end point, as in OSM and road-centre-line data) or with
``u``/``v`` node columns (OSMnx). Walking ignores one-way streets, so each pair of nodes is one
undirected edge (the shortest of parallel ones). Each edge has two costs, one per direction,
in flat-equivalent metres: its length, or with elevations the length weighted by Tobler's
hiking function (slower uphill), so that time = cost ÷ walking speed on the flat.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from scipy import sparse
from scipy.sparse import csgraph

#: Tobler's hiking function: speed ∝ exp(−3.5 |slope + 0.05|). On the flat that is
#: exp(−0.175) of the peak, so a segment's cost is its length × exp(3.5 |s + 0.05| − 0.175).
TOBLER_A = 3.5
TOBLER_B = 0.05
#: Slopes are capped here (steps and DEM noise give absurd values on short segments).
MAX_SLOPE = 1.0
#: Elevations are sampled along edges at most this far apart (metres).
SAMPLE_STEP = 10.0
#: Line ends closer than this (metres) are one node when noding by topology.
SNAP = 0.01

#: OSM highway values nobody walks along.
NOT_WALKABLE = {"motorway", "motorway_link", "construction", "proposed", "abandoned",
                "raceway", "bus_guideway", "busway", "platform", "razed", "escape"}


def tobler_factor(slope: NDArray[np.float64]) -> NDArray[np.float64]:
    """Time on a slope relative to the flat, for walking in the direction of ``slope``
    (rise ÷ run): 1 on the flat, about 0.84 on a gentle descent of 5 %, 1.42 up 10 %."""
    s = np.clip(slope, -MAX_SLOPE, MAX_SLOPE)
    return np.asarray(np.exp(TOBLER_A * np.abs(s + TOBLER_B) - TOBLER_A * TOBLER_B))


def walkable(highway: pd.Series, foot: pd.Series | None = None,
             access: pd.Series | None = None) -> NDArray[np.bool_]:
    """Which ways people may walk along: OSM ``highway`` values (lists such as
    ``path,residential`` from OSMnx count when any is walkable), unless ``foot=no`` or
    ``access=no/private`` without a ``foot`` permission."""
    def ok(value: Any) -> bool:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return True  # road lines without tags: a road
        parts = [p.strip(" '[]\"") for p in str(value).replace(";", ",").split(",")]
        return any(p and p not in NOT_WALKABLE for p in parts)
    keep = np.array([ok(v) for v in highway], dtype=bool)
    if foot is not None:
        keep &= ~foot.astype(str).str.lower().isin(["no", "private"]).to_numpy()
    if access is not None:
        closed = access.astype(str).str.lower().isin(["no", "private"]).to_numpy()
        allowed = foot.astype(str).str.lower().isin(["yes", "designated", "permissive"]
                                                    ).to_numpy() if foot is not None \
            else np.zeros(len(keep), dtype=bool)
        keep &= ~closed | allowed
    return keep


@dataclass
class Network:
    """An undirected walking network in a plane CRS. Edge ``i`` joins nodes ``u[i]`` and
    ``v[i]``; its geometry runs from u to v; ``cost_uv``/``cost_vu`` are flat-equivalent
    metres walking u→v and v→u (equal to ``length`` without elevations)."""

    x: NDArray[np.float64]
    y: NDArray[np.float64]
    z: NDArray[np.float64]
    u: NDArray[np.int64]
    v: NDArray[np.int64]
    length: NDArray[np.float64]
    geometry: NDArray[np.object_]
    cost_uv: NDArray[np.float64]
    cost_vu: NDArray[np.float64]
    highway: NDArray[np.object_] = field(default_factory=lambda: np.array([], dtype=object))
    _tree: Any = None

    @property
    def n_nodes(self) -> int:
        return len(self.x)

    @property
    def n_edges(self) -> int:
        return len(self.u)

    @property
    def has_terrain(self) -> bool:
        return bool(np.isfinite(self.z).any())

    def tree(self) -> shapely.STRtree:
        """An R-tree of the edge lines (made once)."""
        if self._tree is None:
            self._tree = shapely.STRtree(self.geometry)
        return self._tree

    def costs(self, hilly: bool) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Edge costs u→v and v→u: lengths, or with ``hilly`` the Tobler-weighted ones."""
        return (self.cost_uv, self.cost_vu) if hilly else (self.length, self.length)


def from_lines(lines: NDArray[np.object_], *, u: NDArray[Any] | None = None,
               v: NDArray[Any] | None = None, highway: NDArray[Any] | None = None
               ) -> Network:
    """A network from LineStrings (plane CRS, metres; Z coordinates are elevations).

    With ``u``/``v`` (node ids per line, e.g. OSMnx's), lines meet where they name the same
    node; otherwise where their end points coincide (within :data:`SNAP`)."""
    lines = np.asarray(lines, dtype=object)
    n = len(lines)
    highway = np.asarray(highway if highway is not None else np.full(n, None), dtype=object)
    starts = shapely.get_point(lines, 0)
    ends = shapely.get_point(lines, -1)
    sx, sy = shapely.get_x(starts), shapely.get_y(starts)
    ex, ey = shapely.get_x(ends), shapely.get_y(ends)
    has_z = bool(shapely.has_z(lines).any())
    sz = shapely.get_z(starts) if has_z else np.full(n, np.nan)
    ez = shapely.get_z(ends) if has_z else np.full(n, np.nan)
    if u is not None and v is not None:
        ids = pd.factorize(pd.Series(np.concatenate([np.asarray(u), np.asarray(v)])))[0]
    else:
        keys = np.round(np.concatenate([np.c_[sx, sy], np.c_[ex, ey]]) / SNAP).astype(np.int64)
        ids = pd.factorize(pd.MultiIndex.from_arrays([keys[:, 0], keys[:, 1]]))[0]
    a, b = ids[:n].astype(np.int64), ids[n:].astype(np.int64)
    n_nodes = int(ids.max()) + 1 if len(ids) else 0
    x = np.full(n_nodes, np.nan)
    y = np.full(n_nodes, np.nan)
    z = np.full(n_nodes, np.nan)
    # The first line naming a node gives its position (later ones are within SNAP of it).
    for ids_, xs, ys, zs in ((b, ex, ey, ez), (a, sx, sy, sz)):
        x[ids_], y[ids_], z[ids_] = xs, ys, zs
    length = shapely.length(lines)
    keep = (a != b) & (length > 0)
    a, b, length, lines, highway = a[keep], b[keep], length[keep], lines[keep], highway[keep]
    # One edge per pair of nodes: the shortest (walkers take it).
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    order = np.lexsort((length, hi, lo))
    first = np.ones(len(order), dtype=bool)
    first[1:] = (lo[order][1:] != lo[order][:-1]) | (hi[order][1:] != hi[order][:-1])
    chosen = order[first]
    a, b, length, lines, highway = a[chosen], b[chosen], length[chosen], lines[chosen], \
        highway[chosen]
    net = Network(x, y, z, a, b, length, lines, length.copy(), length.copy(), highway)
    if has_z:
        set_slopes(net, _line_profiles(lines))
    return net


def _line_profiles(lines: NDArray[np.object_]) -> list[tuple[NDArray[np.float64],
                                                             NDArray[np.float64]]]:
    """For each line: horizontal distances between its vertices and their rises (from Z)."""
    out = []
    for line in lines:
        xyz = shapely.get_coordinates(line, include_z=True)
        run = np.hypot(np.diff(xyz[:, 0]), np.diff(xyz[:, 1]))
        out.append((run, np.diff(xyz[:, 2])))
    return out


def set_slopes(net: Network, profiles: list[tuple[NDArray[np.float64], NDArray[np.float64]]]
               ) -> None:
    """Set the Tobler costs of every edge from its profile (segment runs and rises, u→v);
    segments of unknown rise count as flat."""
    uv = np.empty(net.n_edges)
    vu = np.empty(net.n_edges)
    for i, (run, rise) in enumerate(profiles):
        with np.errstate(invalid="ignore", divide="ignore"):
            slope = np.where(run > 0, rise / run, 0.0)
        slope = np.where(np.isfinite(slope), slope, 0.0)
        uv[i] = float((run * tobler_factor(slope)).sum())
        vu[i] = float((run * tobler_factor(-slope)).sum())
    # The profile's runs add up to the length; keep the ratio where lengths were rounded.
    total = np.array([float(r.sum()) for r, _ in profiles])
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(total > 0, net.length / total, 1.0)
    net.cost_uv, net.cost_vu = uv * scale, vu * scale


def sample_profiles(net: Network, elevation_at: Any, step: float = SAMPLE_STEP
                    ) -> tuple[list[tuple[NDArray[np.float64], NDArray[np.float64]]],
                               NDArray[np.float64]]:
    """Profiles of every edge sampled every ``step`` metres with ``elevation_at(x, y)`` (arrays
    in the network CRS → metres, NaN outside the terrain), and the node elevations."""
    counts = np.maximum(np.ceil(net.length / step).astype(int), 1)
    owner = np.repeat(np.arange(net.n_edges), counts + 1)
    starts = np.concatenate([[0], np.cumsum(counts + 1)[:-1]])
    position = np.arange(len(owner)) - np.repeat(starts, counts + 1)
    fraction = position / np.repeat(counts, counts + 1)
    points = shapely.line_interpolate_point(net.geometry[owner], fraction, normalized=True)
    heights = np.asarray(elevation_at(shapely.get_x(points), shapely.get_y(points)), dtype=float)
    profiles = []
    for i in range(net.n_edges):
        h = heights[starts[i]: starts[i] + counts[i] + 1]
        run = np.full(counts[i], net.length[i] / counts[i])
        profiles.append((run, np.diff(h)))
    z = np.full(net.n_nodes, np.nan)
    z[net.u] = heights[starts]
    z[net.v] = heights[starts + counts]
    return profiles, z


def components(net: Network) -> NDArray[np.int64]:
    """The connected part each node belongs to (0 = the largest)."""
    graph = sparse.coo_matrix((np.ones(net.n_edges), (net.u, net.v)),
                              shape=(net.n_nodes, net.n_nodes)).tocsr()
    _, labels = csgraph.connected_components(graph, directed=False)
    sizes = np.bincount(labels)
    rank = np.empty(len(sizes), dtype=np.int64)
    rank[np.argsort(-sizes, kind="stable")] = np.arange(len(sizes))
    return np.asarray(rank[labels], dtype=np.int64)


def subset(net: Network, node_keep: NDArray[np.bool_]) -> Network:
    """The part of ``net`` on the kept nodes (edges with both ends kept), renumbered."""
    new_id = np.cumsum(node_keep) - 1
    edges = node_keep[net.u] & node_keep[net.v]
    return Network(net.x[node_keep], net.y[node_keep], net.z[node_keep],
                   new_id[net.u[edges]], new_id[net.v[edges]], net.length[edges],
                   net.geometry[edges], net.cost_uv[edges], net.cost_vu[edges],
                   net.highway[edges] if len(net.highway) == net.n_edges else net.highway)


@dataclass
class Snap:
    """Points placed on the network: the nearest edge, the fraction along it from its u end,
    and the straight distance from the point to the network (the access leg)."""

    edge: NDArray[np.int64]
    t: NDArray[np.float64]
    leg: NDArray[np.float64]


def snap(net: Network, x: NDArray[np.float64], y: NDArray[np.float64]) -> Snap:
    """The nearest point on the network of each point (x, y)."""
    points = np.asarray(shapely.points(np.asarray(x, dtype=float), np.asarray(y, dtype=float)),
                        dtype=object)
    (src, edge), dist = net.tree().query_nearest(points, return_distance=True,
                                                 all_matches=False)
    out_edge = np.full(len(points), -1, dtype=np.int64)
    leg = np.full(len(points), np.inf)
    out_edge[src], leg[src] = edge, dist
    t = np.zeros(len(points))
    found = out_edge >= 0
    t[found] = shapely.line_locate_point(net.geometry[out_edge[found]], points[found],
                                         normalized=True)
    return Snap(out_edge, t, leg)


def _directed(net: Network, cost_uv: NDArray[np.float64], cost_vu: NDArray[np.float64],
              n: int) -> sparse.csr_matrix:
    rows = np.concatenate([net.u, net.v])
    cols = np.concatenate([net.v, net.u])
    data = np.maximum(np.concatenate([cost_uv, cost_vu]), 1e-9)  # csgraph: 0 = no edge
    return sparse.csr_matrix((data, (rows, cols)), shape=(n, n))


@dataclass
class Costs:
    """How a walk is measured: ``hilly`` uses the Tobler costs; ``per_metre`` turns
    flat-equivalent metres into the unit asked for (1 for metres, 1/(60·speed) for minutes)."""

    hilly: bool = False
    per_metre: float = 1.0


def to_nearest(net: Network, sources: Snap, targets: Snap, costs: Costs,
               limit: float = np.inf) -> NDArray[np.float64]:
    """For every target point: the cost of walking from it to the nearest source point —
    its access leg, along the network, and the source's leg — in one multi-source search
    (the direction is target → source: from home to the hub). Inf when none is within
    ``limit`` (in the unit of ``costs``)."""
    return nearest_and_which(net, sources, targets, costs, limit)[0]


def nearest_and_which(net: Network, sources: Snap, targets: Snap, costs: Costs,
                      limit: float = np.inf) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """:func:`to_nearest` and the index of the source reached (-1: none)."""
    uv, vu = net.costs(costs.hilly)
    k = costs.per_metre
    ok = sources.edge >= 0
    src = np.flatnonzero(ok)
    n = net.n_nodes
    if len(src) == 0:
        return np.full(len(targets.edge), np.inf), np.full(len(targets.edge), -1)
    e, t = sources.edge[src], sources.t[src]
    # Reversed graph (w → v carries the cost of walking v → w), plus one node per source
    # joined to the ends of its edge: searching outwards from the sources gives, at every
    # node, the cost of walking from it to the nearest source.
    graph = _directed(net, vu * k, uv * k, n + len(src))
    leg = sources.leg[src] * k
    rows = np.concatenate([n + np.arange(len(src)), n + np.arange(len(src))])
    cols = np.concatenate([net.u[e], net.v[e]])
    # From node u to the source at t along the edge: t of the u→v cost; from v: (1 − t) of v→u.
    data = np.concatenate([leg + t * uv[e] * k, leg + (1 - t) * vu[e] * k])
    extra = sparse.csr_matrix((np.maximum(data, 1e-9), (rows, cols)),
                              shape=(n + len(src), n + len(src)))
    graph = (graph + extra).tocsr()
    dist, _, origin = csgraph.dijkstra(graph, directed=True, indices=n + np.arange(len(src)),
                                       min_only=True, limit=limit, return_predecessors=True)
    dist = dist[:n]
    origin = np.where(np.isfinite(dist), origin[:n] - n, -1)
    which = np.where(origin >= 0, src[np.maximum(origin, 0)], -1)
    return _finish(net, dist, which, sources, src, targets, uv, vu, k, limit)


def _finish(net: Network, dist: NDArray[np.float64], which: NDArray[np.int64],
            sources: Snap, src: NDArray[np.int64], targets: Snap,
            uv: NDArray[np.float64], vu: NDArray[np.float64], k: float, limit: float
            ) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Cost from each target point: its leg, then along its edge to either end and on."""
    out = np.full(len(targets.edge), np.inf)
    hub = np.full(len(targets.edge), -1, dtype=np.int64)
    ok = targets.edge >= 0
    e, t = targets.edge[ok], targets.t[ok]
    leg = targets.leg[ok] * k
    via_u = leg + t * vu[e] * k + dist[net.u[e]]  # walk back to u (v→u direction), then on
    via_v = leg + (1 - t) * uv[e] * k + dist[net.v[e]]
    best = np.minimum(via_u, via_v)
    who = np.where(via_u <= via_v, which[net.u[e]], which[net.v[e]])
    # A source on the same edge: straight along it, without passing an end.
    same_edge: dict[int, list[int]] = {}
    for j, edge in zip(src.tolist(), sources.edge[src].tolist()):
        same_edge.setdefault(int(edge), []).append(int(j))
    if same_edge:
        shared = np.flatnonzero(np.isin(e, np.fromiter(same_edge, dtype=np.int64)))
        for i in shared.tolist():
            edge = int(e[i])
            for j in same_edge[edge]:
                ts, tt = sources.t[j], t[i]
                along = (ts - tt) * uv[edge] if ts >= tt else (tt - ts) * vu[edge]
                cost = leg[i] + along * k + sources.leg[j] * k
                if cost < best[i]:
                    best[i], who[i] = cost, j
    best = np.where(best <= limit, best, np.inf)
    out[ok], hub[ok] = best, np.where(np.isfinite(best), who, -1)
    return out, hub


def within(net: Network, sources: Snap, targets: Snap, costs: Costs, limit: float
           ) -> sparse.csr_matrix:
    """Which targets each source reaches within ``limit``: a sparse boolean matrix
    (sources × targets), from bounded searches (siting's coverage)."""
    uv, vu = net.costs(costs.hilly)
    k = costs.per_metre
    ok = np.flatnonzero(sources.edge >= 0)
    n = net.n_nodes
    graph = _directed(net, vu * k, uv * k, n)
    rows: list[NDArray[np.int64]] = []
    cols: list[NDArray[np.int64]] = []
    tok = targets.edge >= 0
    te, tt = targets.edge, targets.t
    # Each target's two ways onto the network, as (node, cost from the target to the node).
    t_leg = np.where(tok, targets.leg * k, np.inf)
    tu = np.where(tok, net.u[np.maximum(te, 0)], 0)
    tv = np.where(tok, net.v[np.maximum(te, 0)], 0)
    cost_tu = t_leg + tt * vu[np.maximum(te, 0)] * k
    cost_tv = t_leg + (1 - tt) * uv[np.maximum(te, 0)] * k
    chunk = max(1, int(4e6 // max(n, 1)))  # sources per batch: 2 searches × n nodes each
    for start in range(0, len(ok), chunk):
        part = ok[start:start + chunk]
        e, t = sources.edge[part], sources.t[part]
        leg = sources.leg[part] * k
        # From each end of the source's edge to the source.
        end_cost = np.stack([leg + t * uv[e] * k, leg + (1 - t) * vu[e] * k], axis=1)
        ends = np.stack([net.u[e], net.v[e]], axis=1)
        reach = csgraph.dijkstra(graph, directed=True, indices=ends.ravel(), limit=limit)
        reach = reach.reshape(len(part), 2, n) + end_cost[:, :, None]
        best = reach.min(axis=1)  # (sources, nodes): cost from node to source
        for i, j in enumerate(part.tolist()):
            total = np.minimum(cost_tu + best[i, tu], cost_tv + best[i, tv])
            same = tok & (te == sources.edge[j])
            if same.any():
                ts = sources.t[j]
                along = np.where(ts >= tt[same], (ts - tt[same]) * uv[te[same]],
                                 (tt[same] - ts) * vu[te[same]])
                total[same] = np.minimum(total[same], t_leg[same] + along * k
                                         + sources.leg[j] * k)
            hit = np.flatnonzero(total <= limit)
            rows.append(np.full(len(hit), j, dtype=np.int64))
            cols.append(hit)
    r = np.concatenate(rows) if rows else np.array([], dtype=np.int64)
    c = np.concatenate(cols) if cols else np.array([], dtype=np.int64)
    return sparse.csr_matrix((np.ones(len(r), dtype=bool), (r, c)),
                             shape=(len(sources.edge), len(targets.edge)))
