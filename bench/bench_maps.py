"""Benchmark: map page size and time to first full draw in headless Chromium.

Pages of every layer of the demo city and of a 6,000-area layer. Time to first full draw is
measured inside the browser, from navigation start to the second animation frame after the
page's load event (when every area has been drawn), as the median of several loads.

    python bench/bench_maps.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from kenmap.workspace import Workspace  # noqa: E402


def large_workspace(tmp: Path, n_areas: int) -> Workspace:
    """A workspace with ``n_areas`` small areas under blocks and one city, with hubs."""
    from bench_coverage import build

    ws, _ = build(tmp, n_areas, 1_000, cell=300.0)
    return ws


def draw_times(path: Path, repeat: int) -> tuple[list[float], int]:
    from browser import browser

    times = []
    drawn = 0
    with browser() as b:
        for _ in range(repeat):
            page = b.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(path.as_uri())
            page.wait_for_load_state("load")
            ms = page.evaluate("new Promise(r => requestAnimationFrame(() => "
                               "requestAnimationFrame(() => r(performance.now()))))")
            drawn = page.locator("path.km-area").count()
            times.append(ms / 1000)
            page.close()
    return times, drawn


def main() -> None:
    from kenmap.demo import build_demo_workspace
    from kenmap.maps.page import MapOptions
    from kenmap.maps.pages import write_layer_page

    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        demo = build_demo_workspace(tmp / "demo.gpkg")
        cases = [(demo, key, f"demo {key}") for key in
                 ("shi", "kyushicho", "chiku", "gyoseiku", "tonarikinjo")]
        cases.append((large_workspace(tmp, 6_000), "small", "synthetic 6,000 areas"))
        head = f"draw (median of {args.repeat})"
        print(f"{'page':<26} {'areas':>6} {'size':>9} {head:>22}")
        for ws, layer, label in cases:
            out = tmp / f"{label.replace(' ', '_')}.html"
            facts = write_layer_page(ws, layer, MapOptions(), out)
            times, drawn = draw_times(out, args.repeat)
            print(f"{label:<26} {drawn:>6} {facts['bytes'] / 1e6:>7.2f} MB "
                  f"{statistics.median(times):>18.2f} s")


if __name__ == "__main__":
    main()
