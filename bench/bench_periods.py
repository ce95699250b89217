"""Benchmark: periods on 200,000 small areas — the projection to 2040 and ``stats --compare``.

A synthetic city of N small areas (jittered grid, as in ``bench_population.py``) under
blocks and one city; two census-style CSVs (区域コード, 総数, 0～4歳 … 100歳以上, 世帯数, with
``-`` for 0 and a few ``X``) five years apart, imported with ``import_population`` as of
2020-10-01 and 2025-10-01, so each area has 21 stored five-year bands at both dates.

(1) ``project(ws, to=2040)``: every area carried forward in three 5-year steps, the three
    dated snapshots (2030, 2035, 2040) stored in the GeoPackage; a fresh workspace object per
    run. Target: < 10 s. Also ``project_bands(p0, p1, 3)`` alone, the numpy core, on the
    same N × 21 arrays (printed as the peer: how much of the run is the arithmetic).
(2) ``stats --compare 2020`` as CSV (``render_compare`` with the 2020 view) against plain
    ``stats`` as CSV (``render_stats``) on the small areas. Each timed run opens a fresh
    workspace object and empties the per-process counts cache of ``kenmap.people.stats``,
    as a fresh ``kenmap`` process would; the two alternate which goes first.
    Target: compare < 2× plain stats.

Medians of repeated runs; a missed target is reported (MISS) and the script still exits 0.

    python bench/bench_periods.py [--areas 200000] [--repeat 5] [--project-repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_population import BANDS, SCHEME
from synthetic import jittered_grid, write_three_layers

import kenmap
import kenmap.people.stats as people_stats
from kenmap.people.population import import_population
from kenmap.people.projection import band_columns, project, project_bands
from kenmap.people.snapshots import as_of, snapshot_table
from kenmap.render.stats import render_compare, render_stats
from kenmap.workspace import Workspace

LAYER = "small"
THEN, NOW = "2020-10-01", "2025-10-01"
PROJECT_TO = 2040
PROJECT_TARGET_S = 10.0
COMPARE_TARGET = 2.0

#: A Japanese-looking age profile (share of people per 5-year band, 0–4 … 100+).
PROFILE = np.array([3.6, 4.0, 4.3, 4.6, 4.3, 4.6, 5.2, 5.8, 6.6, 7.4, 6.9, 6.3, 6.1, 6.6,
                    7.6, 6.0, 4.6, 3.2, 1.5, 0.4, 0.07])
#: Five-year survival of each band into the next (the last: the two oldest into the top band).
SURVIVAL = np.array([0.999, 0.999, 0.998, 0.997, 0.997, 0.996, 0.995, 0.993, 0.99, 0.985,
                     0.978, 0.968, 0.95, 0.925, 0.88, 0.8, 0.68, 0.5, 0.3, 0.15])


def med(values: list[float]) -> float:
    return statistics.median(values)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def each(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def timed(fn: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def populations(n: int, seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Band counts (n × 21 integers) as of 2020 and, five years on, 2025: each cohort ages
    one band with survival and some moving in and out; 0–4 from the 15–49 year-olds."""
    rng = np.random.default_rng(seed)
    size = rng.lognormal(np.log(250), 0.6, n)  # people per area
    tilt = rng.uniform(0.6, 1.6, n)  # older or younger areas
    ages = np.arange(len(PROFILE)) / (len(PROFILE) - 1)
    weights = PROFILE[None, :] * tilt[:, None] ** (2 * ages[None, :] - 1)
    weights /= weights.sum(axis=1, keepdims=True)
    p20 = rng.poisson(size[:, None] * weights)
    p25 = np.zeros_like(p20)
    moving = rng.uniform(0.85, 1.1, (n, 1))
    p25[:, 1:-1] = rng.binomial(p20[:, :-2], np.minimum(SURVIVAL[None, :-1] * moving, 1.0))
    p25[:, -1] = rng.binomial(p20[:, -2] + p20[:, -1], SURVIVAL[-1])
    p25[:, 0] = rng.poisson(0.21 * p25[:, 3:10].sum(axis=1))
    return p20, p25


def census_csv(path: Path, codes: np.ndarray, counts: np.ndarray, seed: int) -> None:
    """A CSV as the city's statistics section writes it: 総数, bands, 世帯数, ``-`` and ``X``."""
    rng = np.random.default_rng(seed)
    total = counts.sum(axis=1)
    cells = counts.astype(object)
    cells[counts == 0] = "-"
    cells[rng.random(counts.shape) < 0.001] = "X"
    table = pd.DataFrame(cells, columns=BANDS)
    table.insert(0, "区域コード", codes)
    table.insert(1, "総数", total)
    table["世帯数"] = np.maximum(np.round(total / rng.uniform(1.8, 2.8, len(total))), 1
                              ).astype(int)
    table.to_csv(path, index=False, encoding="utf-8-sig")


def build(tmp: Path, size: int) -> tuple[Path, int]:
    """The workspace (city, blocks, small areas) with populations as of 2020 and 2025."""
    nx = round(size ** 0.5)
    grid = jittered_grid(nx, size // nx)
    ws = Workspace.create(tmp / "periods.gpkg", SCHEME)
    with ws.transaction() as tx:
        write_three_layers(tx, grid, LAYER)
    p20, p25 = populations(len(grid))
    codes = grid["code"].to_numpy()
    for day, counts, seed in ((THEN, p20, 7), (NOW, p25, 8)):
        path = tmp / f"population_{day[:4]}.csv"
        census_csv(path, codes, counts, seed)
        import_population(ws, path, layer=LAYER, code_field="区域コード", as_of=day)
    return Path(ws.path), len(grid)


def fresh(path: Path) -> Workspace:
    """A new workspace object and an empty counts cache: what a new ``kenmap`` process has."""
    people_stats._COUNTS.clear()
    return kenmap.open_workspace(path)


# -- (1) the projection ------------------------------------------------------------------------
def run_project(path: Path) -> Any:
    return project(fresh(path), to=PROJECT_TO)


def part_projection(path: Path, args: argparse.Namespace) -> None:
    ws = fresh(path)
    now = ws.read_table(snapshot_table(LAYER, NOW)).set_index("code")
    then = ws.read_table(snapshot_table(LAYER, THEN)).set_index("code")
    bands = band_columns([str(c) for c in now.columns])
    p1 = now[bands].to_numpy(dtype=float)
    p0 = then.reindex(now.index)[bands].to_numpy(dtype=float)
    steps = (PROJECT_TO - int(NOW[:4])) // 5
    core = [timed(project_bands, p0, p1, steps)[0] for _ in range(max(args.repeat, 5))]
    size_before = path.stat().st_size
    runs: list[float] = []
    report: Any = None
    for _ in range(args.project_repeat):
        t, report = timed(run_project, path)
        runs.append(t)
    years = report.facts.get("years", [])
    ok = med(runs) < PROJECT_TARGET_S
    print(f"(1) project(ws, to={PROJECT_TO}): {len(p1):,} areas × {len(bands)} bands, "
          f"from {NOW[:4]} with the ratios {THEN[:4]}→{NOW[:4]}, {steps} steps, "
          f"{len(years)} snapshots stored; median of {args.project_repeat} (fresh workspace "
          "object each)")
    print(f"    project (whole command)   : {med(runs):8.3f} s | target < {PROJECT_TARGET_S:.0f} s"
          f" | {verdict(ok)}   (each: {each(runs)} s)")
    print(f"    project_bands (numpy core): {med(core):8.3f} s | median of {len(core)} | "
          f"{med(core) / med(runs):.1%} of the whole command")
    print("    city totals: " + ", ".join(
        f"{y['as_of'][:4]} {y['total']:,.0f} (65+ {y['pop65'] / y['total']:.1%})"
        for y in years) + f"; file {size_before / 1e6:,.0f} MB before the runs, "
          f"{path.stat().st_size / 1e6:,.0f} MB after")


# -- (2) stats --compare -----------------------------------------------------------------------
def plain_stats(path: Path) -> str:
    ws = fresh(path)
    return render_stats(ws, LAYER, "csv")


def compare_stats(path: Path) -> str:
    ws = fresh(path)
    return render_compare(ws, as_of(ws, THEN[:4]), LAYER, "csv", "total", "最新", THEN[:4])


def part_compare(path: Path, args: argparse.Namespace) -> None:
    t_warm_plain, _ = timed(plain_stats, path)  # imports, page cache: not counted
    t_warm_compare, _ = timed(compare_stats, path)
    plain: list[float] = []
    compare: list[float] = []
    plain_out = compare_out = ""
    for i in range(args.repeat):
        order = [("plain", plain_stats), ("compare", compare_stats)]
        for name, fn in order if i % 2 == 0 else order[::-1]:
            t, text = timed(fn, path)
            if name == "plain":
                plain.append(t)
                plain_out = text
            else:
                compare.append(t)
                compare_out = text
    ratio = med(compare) / med(plain)
    rows = plain_out.count("\n") - 1
    print(f"(2) stats --layer {LAYER} --format csv, plain against --compare {THEN[:4]}: {rows:,} "
          f"areas, median of {args.repeat}, alternating order (fresh workspace object and empty "
          f"counts cache each; first runs {t_warm_plain:.2f} s / {t_warm_compare:.2f} s, "
          f"not counted)")
    print(f"    plain stats   : {med(plain):8.3f} s   (each: {each(plain)} s; "
          f"CSV {len(plain_out.encode()) / 1e6:,.1f} MB)")
    print(f"    stats compare : {med(compare):8.3f} s   (each: {each(compare)} s; "
          f"CSV {len(compare_out.encode()) / 1e6:,.1f} MB)")
    print(f"    ratio compare/plain {ratio:5.2f}× | target < {COMPARE_TARGET:.0f}× | "
          f"{verdict(ratio < COMPARE_TARGET)}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--areas", type=int, default=200_000, help="small areas (200,000)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of stats each (5)")
    parser.add_argument("--project-repeat", type=int, default=3, help="runs of project (3)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        start = time.perf_counter()
        path, n = build(Path(name), args.areas)
        print(f"workspace of {n:,} small areas with populations as of {THEN} and {NOW} "
              f"({len(BANDS)} bands, imported from census-style CSVs) built in "
              f"{time.perf_counter() - start:.1f} s, {path.stat().st_size / 1e6:,.0f} MB")
        sys.stdout.flush()
        part_projection(path, args)
        sys.stdout.flush()
        part_compare(path, args)


if __name__ == "__main__":
    main()
