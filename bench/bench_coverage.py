"""Benchmark: distance reach for all layers, kenmap versus a hand-written geopandas overlay.

(a) A city of about 6,000 small areas and 1,000 サロン (R = 500 m, detour 1.3): kenmap's reach
    on every layer (demand cells built once, then reused) against what a user would write by
    hand — buffer every hub, union, intersect with the small areas, count 65+ by area share,
    sum upward. Prints both times, the ratio and the largest difference.
(b) A national-size case: 200,000 small areas, 100,000 hubs, R = 500 m, kenmap only.

    python bench/bench_coverage.py [--repeat N] [--national-size 200000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import jittered_grid, write_three_layers

from kenmap.access.demand import clear_cache, demand_cells
from kenmap.access.gaps import gap_table
from kenmap.model.scheme import Layer, Scheme
from kenmap.workspace import Workspace

SCHEME = Scheme("bench", (Layer("shi", "市"), Layer("block", "ブロック"), Layer("small", "小地域")))
RADIUS, DETOUR = 500.0, 1.3


def build(tmp: Path, n_areas: int, n_hubs: int, cell: float) -> tuple[Workspace, gpd.GeoDataFrame]:
    nx = round(n_areas ** 0.5)
    grid = jittered_grid(nx, n_areas // nx, cell=cell, block=8)
    ws = Workspace.create(tmp / f"bench{n_areas}.gpkg", SCHEME)
    rng = np.random.default_rng(3)
    total = rng.integers(50, 800, len(grid))
    pop65 = rng.binomial(total, rng.uniform(0.2, 0.5, len(grid)))
    minx, miny, maxx, maxy = grid.total_bounds
    hubs = gpd.GeoDataFrame({
        "id": np.arange(1, n_hubs + 1), "type": "salon", "name": "s", "status": "existing",
        "version": 1}, geometry=shapely.points(rng.uniform(minx, maxx, n_hubs),
                                               rng.uniform(miny, maxy, n_hubs)), crs=6673)
    with ws.transaction() as tx:
        write_three_layers(tx, grid)
        tx.write_table("population_small", pd.DataFrame(
            {"code": grid["code"], "total": total.astype(float), "pop65": pop65.astype(float),
             "pop75": np.nan, "households": np.nan, "missing": 0}))
        tx.write_table("hubs", hubs)
    from kenmap.layers.locate import relocate_points

    with ws.transaction() as tx:
        relocate_points(tx)
    areas = grid.assign(pop65=pop65, block=grid["block"])
    return ws, areas


def kenmap_reach(ws: Workspace) -> dict[str, pd.Series]:
    out = {}
    for layer in SCHEME.keys:
        table = gap_table(ws, layer=layer, hub_type="salon", radius=RADIUS, detour=DETOUR)
        out[layer] = table.set_index("code")["pop65_reached"]
    return out


def overlay_reach(ws: Workspace, areas: gpd.GeoDataFrame) -> dict[str, pd.Series]:
    hubs = gpd.read_file(ws.path, layer="hubs")
    reach = gpd.GeoDataFrame(geometry=[hubs.buffer(RADIUS / DETOUR).union_all()], crs=hubs.crs)
    pieces = gpd.overlay(areas[["code", "block", "pop65", "geometry"]], reach,
                         how="intersection")
    share = pieces.area / pieces["code"].map(areas.set_index("code").area)
    pieces["reached"] = pieces["pop65"] * share
    small = pieces.groupby("code")["reached"].sum().reindex(areas["code"], fill_value=0)
    block = pieces.groupby("block")["reached"].sum()
    return {"small": small, "block": block, "shi": pd.Series({"1": small.sum()})}


def timed(fn, *args):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--national-size", type=int, default=200_000)
    parser.add_argument("--national-hubs", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ws, areas = build(Path(tmp), 6_000, 1_000, cell=300.0)
        cold, warm, peer = [], [], []
        for _ in range(args.repeat):
            clear_cache()
            t_cold, ours = timed(kenmap_reach, ws)
            t_warm, ours = timed(kenmap_reach, ws)
            t_peer, theirs = timed(overlay_reach, ws, areas)
            cold.append(t_cold)
            warm.append(t_warm)
            peer.append(t_peer)
        city_ours, city_theirs = ours["shi"].iloc[0], theirs["shi"].iloc[0]
        total65 = areas["pop65"].sum()
        blocks = pd.concat([ours["block"], theirs["block"]], axis=1, keys=["k", "o"]).fillna(0)
        block65 = areas.groupby("block")["pop65"].sum()
        worst = ((blocks["k"] - blocks["o"]).abs() / block65.reindex(blocks.index)).max()
        print(f"(a) {len(areas):,} small areas, 1,000 hubs, R={RADIUS:.0f} m, 3 layers, "
              f"median of {args.repeat}")
        print(f"    kenmap reach, all layers, demand cells cached:  "
              f"{statistics.median(warm):7.3f} s")
        print(f"    kenmap reach, all layers, incl. building cells: "
              f"{statistics.median(cold):7.3f} s")
        print(f"    geopandas buffer-union-overlay:                 "
              f"{statistics.median(peer):7.3f} s")
        ratio_warm = statistics.median(peer) / statistics.median(warm)
        ratio_cold = statistics.median(peer) / statistics.median(cold)
        print(f"    ratio overlay / kenmap: cached {ratio_warm:.1f}×, "
              f"incl. building {ratio_cold:.1f}×")
        print(f"    65+ reached, city: kenmap {city_ours:,.0f}, overlay {city_theirs:,.0f} "
              f"({abs(city_ours - city_theirs) / total65:.3%} of 65+); worst block "
              f"{worst:.3%} of its 65+")
        clear_cache()
        n = args.national_size
        start = time.perf_counter()
        ws2, areas2 = build(Path(tmp), n, args.national_hubs, cell=150.0)
        setup = time.perf_counter() - start
        t_build, demand = timed(demand_cells, ws2)
        t_reach, result = timed(kenmap_reach, ws2)
        print(f"(b) {len(areas2):,} small areas, {args.national_hubs:,} hubs, "
              f"R={RADIUS:.0f} m (workspace set-up {setup:.1f} s, not counted)")
        print(f"    demand cells: {len(demand):,} built in {t_build:.2f} s; reach on 3 layers "
              f"{t_reach:.2f} s; total {t_build + t_reach:.2f} s; 65+ reached "
              f"{result['shi'].iloc[0] / areas2['pop65'].sum():.1%}")


if __name__ == "__main__":
    main()
