"""Benchmark: import age bands for 200,000 small areas and compute stats on every layer.

A synthetic city of N small areas (jittered grid) under 2,000 blocks and one city; a CSV of
21 five-year bands per area with census marks (``-``, ``X``). Prints the median of runs.

    python bench/bench_population.py [--repeat N] [--size 200000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import jittered_grid

from kenmap.model.scheme import Layer, Scheme
from kenmap.people.population import import_population
from kenmap.people.stats import layer_stats
from kenmap.workspace import Workspace

SCHEME = Scheme("bench", (Layer("shi", "市"), Layer("block", "ブロック"), Layer("small", "小地域")))
BANDS = [f"{a}～{a + 4}歳" for a in range(0, 100, 5)] + ["100歳以上"]


def build(tmp: Path, size: int) -> tuple[Workspace, Path]:
    nx = round(size ** 0.5)
    grid = jittered_grid(nx, size // nx)
    ws = Workspace.create(tmp / "bench.gpkg", SCHEME)
    blocks = grid.dissolve("block", method="coverage").reset_index()
    with ws.transaction() as tx:
        tx.set_crs(6673)
        tx.write_layer("shi", pd.DataFrame({"code": ["1"], "name": ["市"], "parent_code": [None],
                                            "geometry": [blocks.union_all()]}).pipe(
            lambda f: __import__("geopandas").GeoDataFrame(f, crs=6673)))
        tx.write_layer("block", blocks.assign(code=blocks["block"], name=blocks["block"],
                                              parent_code="1")[
            ["code", "name", "parent_code", "geometry"]])
        tx.write_layer("small", grid.assign(parent_code=grid["block"])[
            ["code", "name", "parent_code", "geometry"]])
    rng = np.random.default_rng(2)
    counts = rng.poisson(8, size=(len(grid), len(BANDS))).astype(object)
    counts[counts == 0] = "-"
    counts[rng.random(counts.shape) < 0.001] = "X"
    table = pd.DataFrame(counts, columns=BANDS)
    table.insert(0, "code", grid["code"].to_numpy())
    path = tmp / "ages.csv"
    table.to_csv(path, index=False, encoding="utf-8-sig")
    return ws, path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--size", type=int, default=200_000)
    args = parser.parse_args()
    times: dict[str, list[float]] = {"import": [], "stats (3 layers)": [], "total": []}
    with tempfile.TemporaryDirectory() as tmp:
        ws, path = build(Path(tmp), args.size)
        n = len(ws.read_layer("small"))
        for _ in range(args.repeat):
            start = time.perf_counter()
            import_population(ws, path, layer="small", code_field="code")
            mid = time.perf_counter()
            for layer in SCHEME.keys:
                layer_stats(ws, layer)
            end = time.perf_counter()
            times["import"].append(mid - start)
            times["stats (3 layers)"].append(end - mid)
            times["total"].append(end - start)
    cells = "  ".join(f"{k} {statistics.median(v):6.2f} s" for k, v in times.items())
    print(f"age bands for {n:,} small areas, median of {args.repeat}: {cells}")


if __name__ == "__main__":
    main()
