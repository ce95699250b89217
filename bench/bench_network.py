"""Walking along the network: reach for all cells at once against one search per hub, the import
of a large network, and siting on the network.

    python bench/bench_network.py [--repeat 3]

1. A street grid of about 30,000 edges (jittered, with gaps like a real town), 6,000 areas cut
   into demand cells, 1,000 hubs: every cell's walk to its nearest hub within 800 m by one
   multi-source csgraph search (kenmap) against one networkx Dijkstra bounded at 800 m per hub
   (what ``nx.ego_graph``, the OSMnx way, runs inside) — the same cells must come out within
   reach at the same distances. Target: kenmap ≥ 20× faster.
2. ``kenmap import network`` of a 100,000-edge GeoPackage of road lines. Target: under 10 s.
3. ``kenmap site --network``, k = 10 among 1,000 candidates. Target: under 30 s.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from synthetic import ORIGIN, jittered_grid, write_three_layers

from kenmap.geo.network import Costs, Network, Snap, from_lines, snap, to_nearest

RADIUS = 800.0


def street_grid(n: int, spacing: float, seed: int = 2, drop: float = 0.08) -> np.ndarray:
    """Street segments of an ``n × n`` jittered grid, a share ``drop`` of them missing."""
    rng = np.random.default_rng(seed)
    gx, gy = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    pts = np.stack([gx, gy], axis=-1).astype(float) * spacing
    pts += rng.uniform(-0.25, 0.25, pts.shape) * spacing
    pts += ORIGIN
    segs = [np.stack([pts[:-1, :], pts[1:, :]], axis=2).reshape(-1, 2, 2),
            np.stack([pts[:, :-1], pts[:, 1:]], axis=2).reshape(-1, 2, 2)]
    lines = shapely.linestrings(np.concatenate(segs))
    keep = rng.uniform(size=len(lines)) > drop
    return np.asarray(lines[keep])


def per_hub(net: Network, hubs: Snap, cells: Snap, limit: float) -> np.ndarray:
    """One networkx Dijkstra per hub, bounded at ``limit`` (the OSMnx ego-graph way), then
    each cell's walk through its edge's ends."""
    import networkx as nx

    graph = nx.Graph()
    graph.add_weighted_edges_from(zip(net.u.tolist(), net.v.tolist(), net.length.tolist()))
    best = np.full(net.n_nodes, np.inf)
    for h in range(len(hubs.edge)):
        e, t, leg = int(hubs.edge[h]), float(hubs.t[h]), float(hubs.leg[h])
        graph.add_edge("hub", int(net.u[e]), weight=leg + t * net.length[e])
        graph.add_edge("hub", int(net.v[e]), weight=leg + (1 - t) * net.length[e])
        reached = nx.single_source_dijkstra_path_length(graph, "hub", cutoff=limit)
        graph.remove_node("hub")
        for node, d in reached.items():
            if node != "hub" and d < best[node]:
                best[node] = d
    e, t = cells.edge, cells.t
    walk = cells.leg + np.minimum(t * net.length[e] + best[net.u[e]],
                                  (1 - t) * net.length[e] + best[net.v[e]])
    # A hub on the cell's own edge: straight along it.
    for h in range(len(hubs.edge)):
        same = cells.edge == hubs.edge[h]
        if same.any():
            direct = cells.leg[same] + np.abs(cells.t[same] - hubs.t[h]) * \
                net.length[hubs.edge[h]] + hubs.leg[h]
            walk[same] = np.minimum(walk[same], direct)
    return np.where(walk <= limit, walk, np.inf)


def bench_reach(repeat: int) -> None:
    net = from_lines(street_grid(124, 80.0))
    grid = jittered_grid(75, 80, cell=130.0)  # 6,000 areas over the same ten kilometres
    from kenmap.geo.grid import cut_by_grid

    pieces = cut_by_grid(grid.geometry.to_numpy(), 40.0)
    rng = np.random.default_rng(5)
    x0, y0, x1, y1 = shapely.total_bounds(net.geometry)
    hubs = snap(net, rng.uniform(x0, x1, 1000), rng.uniform(y0, y1, 1000))
    cells = snap(net, pieces.x, pieces.y)
    print(f"network: {net.n_edges:,} edges, {net.n_nodes:,} nodes; {len(grid):,} areas, "
          f"{len(pieces.x):,} demand cells; 1,000 hubs; reach {RADIUS:.0f} m")
    fast_t, slow_t = [], []
    fast = slow = None
    for _ in range(repeat):
        start = time.perf_counter()
        fast = to_nearest(net, hubs, cells, Costs(), RADIUS)
        fast_t.append(time.perf_counter() - start)
        start = time.perf_counter()
        slow = per_hub(net, hubs, cells, RADIUS)
        slow_t.append(time.perf_counter() - start)
    assert fast is not None and slow is not None
    same = (np.isfinite(fast) == np.isfinite(slow)).all() and \
        np.allclose(fast[np.isfinite(fast)], slow[np.isfinite(slow)], atol=1e-6)
    f, s = statistics.median(fast_t), statistics.median(slow_t)
    print(f"reach for all cells: kenmap (csgraph, multi-source) {f:.2f} s, networkx per hub "
          f"{s:.2f} s (medians of {repeat}); {s / f:.0f}× faster, same result: {same}; "
          f"target ≥ 20× {'PASS' if s / f >= 20 and same else 'MISS'}")


def bench_import(tmp: Path, repeat: int) -> None:
    from kenmap.model.scheme import Scheme
    from kenmap.network.imports import import_network
    from kenmap.workspace import Workspace

    lines = street_grid(225, 60.0, seed=3, drop=0.0)
    lines = lines[:100_000]
    roads = tmp / "roads.gpkg"
    gpd.GeoDataFrame({"highway": ["residential"] * len(lines)}, geometry=lines,
                     crs=6673).to_file(roads, driver="GPKG")
    grid = jittered_grid(45, 45, cell=300.0, block=9)
    scheme = Scheme.from_dict({"name": "b", "layers": [
        {"key": "shi", "label": "市"}, {"key": "block", "label": "地区"},
        {"key": "small", "label": "区"}]})
    times = []
    for i in range(repeat):
        ws = Workspace.create(tmp / f"import{i}.gpkg", scheme)
        with ws.transaction() as tx:
            write_three_layers(tx, grid)
        start = time.perf_counter()
        report = import_network(Workspace.open(ws.path), roads)
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(f"import network: {len(lines):,} road lines → {report.facts['edges']:,} edges in "
          f"{median:.1f} s (median of {repeat}); target < 10 s "
          f"{'PASS' if median < 10 else 'MISS'}")
    bench_siting(Workspace.open(ws.path), grid, tmp, repeat)


def bench_siting(ws: object, grid: gpd.GeoDataFrame, tmp: Path, repeat: int) -> None:
    """k = 10 new sites among 1,000 candidates, 800 m along the network, on the city of the
    import (2,025 areas, the 100,000-edge network)."""
    import pandas as pd

    from kenmap.access.demand import demand_cells
    from kenmap.access.netreach import Walking, network_reach
    from kenmap.access.siting import site
    from kenmap.hubs.imports import import_hubs
    from kenmap.people.population import import_population
    from kenmap.workspace import Workspace

    assert isinstance(ws, Workspace)
    rng = np.random.default_rng(9)
    total = rng.integers(50, 400, len(grid))
    pop = tmp / "pop.csv"
    pd.DataFrame({"code": grid["code"], "総数": total,
                  "65歳以上": (total * rng.uniform(0.2, 0.45, len(grid))).astype(int)}
                 ).to_csv(pop, index=False)
    import_population(ws, pop, layer="small", code_field="code")
    x0, y0, x1, y1 = grid.total_bounds
    hubs = tmp / "hubs.csv"
    pd.DataFrame({"type": ["ibasho"] * 1000, "name": [f"候補{i}" for i in range(1000)],
                  "x": rng.uniform(x0, x1, 1000), "y": rng.uniform(y0, y1, 1000),
                  "status": "candidate"}).to_csv(hubs, index=False)
    import_hubs(ws, hubs, type_field="type", name_field="name", x_field="x", y_field="y",
                crs="6673", status="candidate")
    ws = Workspace.open(ws.path)
    demand_cells(ws)  # the demand model is built once and kept, as the CLI's cache does
    times, straight = [], []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = site(ws, hub_type="ibasho", k=10, radius=RADIUS, candidate_status="candidate",
                      network=network_reach(ws, Walking()))
        times.append(time.perf_counter() - start)
        start = time.perf_counter()
        site(ws, hub_type="ibasho", k=10, radius=RADIUS, candidate_status="candidate")
        straight.append(time.perf_counter() - start)
    assert result is not None
    median, peer = statistics.median(times), statistics.median(straight)
    print(f"site --network: k = 10 among 1,000 candidates, {RADIUS:.0f} m along "
          f"{network_reach(ws).network.n_edges:,} edges, {len(demand_cells(ws).x):,} cells: "
          f"{median:.1f} s ({result.solver}, {'optimal' if result.optimal else 'bounded'}); "
          f"straight-line siting {peer:.1f} s, ratio {median / peer:.1f}×; target < 30 s "
          f"{'PASS' if median < 30 else 'MISS'}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    bench_reach(args.repeat)
    with tempfile.TemporaryDirectory() as name:
        bench_import(Path(name), args.repeat)


if __name__ == "__main__":
    main()
