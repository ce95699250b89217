"""Benchmark: import + validate of real Tottori small areas and of 200,000 synthetic polygons.

Prints the median of several runs for each step (the machine is noisy: compare medians).

    python bench/bench_import.py [--repeat N] [--size 200000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pyogrio

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import jittered_grid

from kenmap.layers.areas import import_areas
from kenmap.layers.derive import derive_layer
from kenmap.layers.validate import validate
from kenmap.model.scheme import PRESETS, Layer, Scheme
from kenmap.workspace import Workspace

ESTAT = (Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "estat_h27_tottori"
         / "31-tottori-all.shp")
SCHEME = Scheme("bench", (Layer("upper", "上位"), Layer("small", "小地域")))


def run(label: str, repeat: int, make_ws: Callable[[Path], Workspace],
        steps: list[tuple[str, Callable[[Workspace], object]]]) -> None:
    times: dict[str, list[float]] = {name: [] for name, _ in steps}
    times["total"] = []
    for i in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            ws = make_ws(Path(tmp) / f"w{i}.gpkg")
            total = 0.0
            for name, step in steps:
                start = time.perf_counter()
                step(ws)
                t = time.perf_counter() - start
                times[name].append(t)
                total += t
            times["total"].append(total)
    cells = "  ".join(f"{name} {statistics.median(v):6.2f} s" for name, v in times.items())
    print(f"{label:<44} median of {repeat}: {cells}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--size", type=int, default=200_000)
    args = parser.parse_args()

    def check(ws: Workspace) -> None:
        result = validate(ws)
        assert result.ok, result.errors[:3]

    run("Tottori e-Stat, all 2,504 polygons", args.repeat,
        lambda p: Workspace.create(p, PRESETS["yonago"]),
        [("import", lambda ws: import_areas(ws, [ESTAT], layer="jichikai",
                                            code_field="KEY_CODE", name_field="MOJI")),
         ("validate", check)])

    nx = round(args.size ** 0.5)
    ny = args.size // nx
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "synthetic.fgb"
        grid = jittered_grid(nx, ny)
        pyogrio.write_dataframe(grid, src)
        label = f"synthetic grid, {len(grid):,} polygons"
        repeat = max(1, min(args.repeat, 3))
        run(label, repeat, lambda p: Workspace.create(p, SCHEME),
            [("import", lambda ws: import_areas(ws, [src], layer="small", code_field="code",
                                                name_field="name")),
             ("validate", check)])
        run(label + " + derived parents", repeat, lambda p: Workspace.create(p, SCHEME),
            [("import", lambda ws: import_areas(ws, [src], layer="small", code_field="code",
                                                name_field="name")),
             ("derive", lambda ws: derive_layer(ws, layer="upper", from_layer="small",
                                                by_field="block")),
             ("validate", check)])


if __name__ == "__main__":
    main()
