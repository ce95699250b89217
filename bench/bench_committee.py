"""The committee's papers on the demo city: 地域カルテ for every 行政区 (359 sheets, target under
30 s) and for every 地区, and the yearly report (target under 20 s); HTML sheets as the peer.

    python bench/bench_committee.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from kenmap.access.sheets import area_codes
from kenmap.demo import DEMO_TARGETS, build_demo_workspace
from kenmap.maps.report import write_report
from kenmap.maps.sheets import write_sheets
from kenmap.workspace import Workspace


def timed(run, repeat: int) -> list[float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        path = build_demo_workspace(tmp / "demo.gpkg").path
        figures = {}
        for layer in ("gyoseiku", "chiku"):
            ws = Workspace.open(path)
            codes = area_codes(ws, layer)
            pdf = timed(lambda ws=ws, codes=codes, layer=layer: write_sheets(
                Workspace.open(path), layer, codes, pdf=tmp / f"{layer}.pdf"), args.repeat)
            html = timed(lambda ws=ws, codes=codes, layer=layer: write_sheets(
                Workspace.open(path), layer, codes, html=tmp / f"{layer}.html"), args.repeat)
            figures[layer] = (len(codes), statistics.median(pdf), statistics.median(html))
        report = timed(lambda: write_report(Workspace.open(path), DEMO_TARGETS, 2025,
                                            tmp / "report.pdf"), args.repeat)
    for layer, (n, pdf_s, html_s) in figures.items():
        verdict = ("PASS" if pdf_s < 30 else "MISS") if layer == "gyoseiku" else ""
        print(f"sheets {layer:<9} {n:4d} areas: PDF {pdf_s:6.1f} s ({pdf_s / n * 1000:5.0f} ms "
              f"a sheet), HTML {html_s:5.2f} s, PDF/HTML {pdf_s / html_s:5.1f}×  "
              + (f"target < 30 s {verdict}" if verdict else ""))
    median = statistics.median(report)
    print(f"report 2025 (demo targets): {median:.1f} s (median of {args.repeat})  target < 20 s "
          f"{'PASS' if median < 20 else 'MISS'}")


if __name__ == "__main__":
    main()
