"""Benchmark: kenmap's siting against spopt's MCLP (PuLP + CBC, as a user would call it).

(a) The demo city: its 120 集会所 as candidates for k new 居場所, R = 500 m walking (385 m
    straight), existing and planned 居場所 fixed, over kenmap's demand cells.
(b) A synthetic instance: 50,000 demand points × 5,000 candidates, k = 20.
Both solvers get the same instance in one run; prints objectives, times and the ratio.

    python bench/bench_siting.py [--spopt-limit 300] [--skip-b-spopt]

Measured here: on (b) spopt spent over 25 minutes building its model (a Python loop over the
dense 50,000 × 5,000 matrix) without reaching the solver.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import shapely

from kenmap.access.covering import covered_value, solve


def spopt_mclp(dist: np.ndarray, weights: np.ndarray, radius: float, k: int,
               predefined: np.ndarray | None, limit: float) -> tuple[float, float, str]:
    """spopt's MCLP from a cost matrix, solved with PuLP's default CBC; (objective, s, status)."""
    import pulp
    from spopt.locate import MCLP

    start = time.perf_counter()
    model = MCLP.from_cost_matrix(dist, weights, service_radius=radius,
                                  p_facilities=k + (len(np.flatnonzero(predefined))
                                                    if predefined is not None else 0),
                                  predefined_facilities_arr=predefined)
    model = model.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=limit))
    seconds = time.perf_counter() - start
    status = pulp.LpStatus[model.problem.status]
    return float(pulp.value(model.problem.objective)), seconds, status


def spopt_bounded(dist: np.ndarray, weights: np.ndarray, radius: float, k: int,
                  predefined: np.ndarray | None, limit: float
                  ) -> tuple[float | None, float, str]:
    """spopt in a child process with a wall-clock limit: model building is not limited by
    CBC's own time limit, and on large matrices it is the slow part."""
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    queue = ctx.Queue()

    def child() -> None:
        queue.put(spopt_mclp(dist, weights, radius, k, predefined, limit))

    start = time.perf_counter()
    proc = ctx.Process(target=child)
    proc.start()
    proc.join(timeout=limit * 1.5)
    if proc.is_alive():
        proc.kill()
        proc.join()
        return None, time.perf_counter() - start, "not finished"
    return queue.get(timeout=5)


def case_demo(limit: float) -> None:
    from kenmap.access.demand import demand_cells
    from kenmap.access.reach import hubs_of
    from kenmap.access.siting import site
    from kenmap.demo import build_demo_workspace
    from kenmap.hubs.table import read_hubs

    k, radius, detour = 5, 500.0, 1.3
    with tempfile.TemporaryDirectory() as tmp:
        ws = build_demo_workspace(Path(tmp) / "demo.gpkg")
        demand_cells(ws)  # build the shared demand model once, as the CLI's cache would
        start = time.perf_counter()
        ours = site(ws, hub_type="ibasho", k=k, radius=radius, solver="exact")
        t_ours = time.perf_counter() - start
        demand = demand_cells(ws)
        keep = np.nan_to_num(demand.pop65) > 0
        pts = np.c_[demand.x[keep], demand.y[keep]]
        weights = demand.pop65[keep]
        hubs = read_hubs(ws)
        cands = hubs[hubs["status"] == "candidate"]
        fixed = hubs_of(ws, "ibasho", with_planned=True)
        fac = np.r_[np.c_[fixed.x, fixed.y], np.c_[cands.geometry.x, cands.geometry.y]]
        dist = np.sqrt(((pts[:, None, :] - fac[None, :, :]) ** 2).sum(axis=2))
        predefined = np.r_[np.ones(len(fixed.x)), np.zeros(len(cands))].astype(int)
        theirs, t_theirs, status = spopt_mclp(dist, weights, radius / detour, k, predefined,
                                              limit)
    print(f"(a) demo city: {keep.sum():,} demand cells × {len(cands)} candidates, k={k}, "
          f"{len(fixed.x)} fixed 居場所")
    print(f"    kenmap ({ours.solver}, optimal={ours.optimal}): 65+ reached "
          f"{ours.pop65_reached_after:,.1f} in {t_ours:.2f} s")
    print(f"    spopt MCLP (PuLP/CBC, {status}): 65+ reached {theirs:,.1f} in {t_theirs:.2f} s")
    print(f"    same optimum: {abs(theirs - ours.pop65_reached_after) < 0.01}; "
          f"spopt / kenmap time: {t_theirs / t_ours:.1f}×")


def case_synthetic(limit: float, with_spopt: bool) -> None:
    n_demand, n_cand, k, radius = 50_000, 5_000, 20, 500.0
    rng = np.random.default_rng(7)
    side = 40_000.0
    # Clustered demand, like towns in valleys, and candidates spread over the same area.
    centres = rng.uniform(0, side, size=(60, 2))
    demand = centres[rng.integers(0, 60, n_demand)] + rng.normal(0, 1_500, (n_demand, 2))
    cand = rng.uniform(0, side, size=(n_cand, 2))
    weights = rng.integers(1, 30, n_demand).astype(float)
    start = time.perf_counter()
    tree = shapely.STRtree(shapely.points(cand))
    rows, cols = tree.query(shapely.points(demand), predicate="dwithin", distance=radius)
    cover = sp.csr_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)),
                          shape=(n_demand, n_cand))
    ours = solve(weights, cover, k, solver="auto", time_limit=8.0)
    t_ours = time.perf_counter() - start
    value = covered_value(weights, cover, ours.chosen)
    print(f"(b) synthetic: {n_demand:,} demand × {n_cand:,} candidates, k={k}, R={radius:.0f} m "
          f"({len(rows):,} coverage pairs)")
    print(f"    kenmap ({ours.solver}, optimal={ours.optimal}, gap {ours.gap_percent:.3f}%): "
          f"covered {value:,.0f} in {t_ours:.2f} s")
    if with_spopt:
        dist = np.sqrt(((demand[:, None, :].astype(np.float32)
                         - cand[None, :, :].astype(np.float32)) ** 2).sum(axis=2))
        theirs, t_theirs, status = spopt_bounded(dist, weights, radius, k, None, limit)
        if theirs is None:
            print(f"    spopt MCLP (PuLP/CBC): no answer within {t_theirs:.0f} s (still building "
                  f"its model); spopt / kenmap time: > {t_theirs / t_ours:.0f}×")
        else:
            print(f"    spopt MCLP (PuLP/CBC, {status}, time limit {limit:.0f} s): covered "
                  f"{theirs:,.0f} in {t_theirs:.2f} s")
            print(f"    kenmap − spopt: {value - theirs:+,.0f}; spopt / kenmap time: "
                  f"{t_theirs / t_ours:.1f}×")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--spopt-limit", type=float, default=300.0,
                        help="seconds for spopt (CBC's limit; the whole call gets 1.5×)")
    parser.add_argument("--skip-b-spopt", action="store_true")
    args = parser.parse_args()
    case_demo(args.spopt_limit)
    case_synthetic(args.spopt_limit, not args.skip_b_spopt)


if __name__ == "__main__":
    main()
