"""``kenmap demo``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from kenmap.model import settings


def demo(
    out: Annotated[Path, typer.Option(help="Folder for the demo workspace.")] = Path("kenmap-demo"),
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Build only; do not serve.")] = False,
    host: Annotated[str, typer.Option(help="Address to serve on.")] = settings.HOST,
    port: Annotated[int, typer.Option(help="Port to serve on.")] = settings.PORT,
) -> None:
    """Build the synthetic demo city's workspace and run everything on it."""
    run_demo(out, serve=not no_serve, echo=typer.echo, host=host, port=port)


def run_demo(out: Path, *, serve: bool, echo: Callable[[str], None], host: str = settings.HOST,
             port: int = settings.PORT) -> Path:
    """Build, compute and report on the demo city; returns the workspace path."""
    from kenmap.access.gaps import coverage
    from kenmap.access.sheets import area_codes
    from kenmap.access.targets import progress
    from kenmap.demo import CITY_NAME, DEMO_TARGETS, build_demo_workspace
    from kenmap.layers.validate import validate
    from kenmap.maps.page import MapOptions
    from kenmap.maps.pages import write_all_pages
    from kenmap.maps.report import write_report
    from kenmap.maps.sheets import write_sheets
    from kenmap.optional import has
    from kenmap.people.snapshots import as_of
    from kenmap.render.gaps import render_coverage
    from kenmap.render.progress import render_progress
    from kenmap.render.stats import render_compare, render_stats

    path = out / "demo.gpkg"
    echo(f"デモ市 {CITY_NAME} を {path} に作成しています（SYNTHETIC: 架空のデータで、実在の場所では"
         "ありません）")
    ws = build_demo_workspace(path)
    result = validate(ws)
    for key, info in result.layers.items():
        echo(f"  {info['label']} ({key}): {info['count']} 区域")
    echo("  検査: " + ("OK（各レイヤは隙間・重なりなく入れ子になっています）" if result.ok else
                      f"エラー {len(result.errors)} 件"))
    echo("")
    echo(render_stats(ws, "kyushicho", "table"))
    echo(render_compare(ws, as_of(ws, "2020"), "kyushicho", "table", "total", "2025", "2020"))
    echo(render_stats(as_of(ws, "2040"), "kyushicho", "table"))
    echo(render_coverage(ws, coverage(ws), "table"))
    echo(_walking_difference(ws))
    pages = write_all_pages(ws, MapOptions(), out / "maps")
    echo(f"地図（オフラインで開けます、レイヤごとに1ページ）: {pages['index']}")
    for page in pages["pages"]:
        echo(f"  {page['file']}  {page['areas']} 区域、{page['bytes'] / 1e6:.2f} MB")
    # The committee's year: progress against the plan's targets, the report, the 地区 sheets.
    rows, notes = progress(ws, DEMO_TARGETS, 2025)
    echo(render_progress(rows, notes, "table"))
    sheets = area_codes(ws, "chiku")
    write_sheets(ws, "chiku", sheets, html=out / "chiku_sheets.html",
                 pdf=out / "chiku_sheets.pdf" if has("matplotlib") else None,
                 targets=DEMO_TARGETS, year=2025)
    if has("matplotlib"):
        done = write_report(ws, DEMO_TARGETS, 2025, out / "report_2025.pdf")
        echo(f"委員会用の報告書: {done['pdf']}（{done['pages']} ページ）、地区の地域カルテ: "
             f"{out / 'chiku_sheets.pdf'}（{len(sheets)} 地区）")
    else:
        echo(f"地区の地域カルテ: {out / 'chiku_sheets.html'}（PDF の報告書とカルテには "
             "pip install 'kenmap[print]' が必要です）")
    if serve:
        from kenmap.api.server import run_server

        run_server(path, host=host, port=port, echo=echo)
    return path


def _walking_difference(ws: Any) -> str:
    """How reach along the streets differs from the straight line, for the サロン."""
    import numpy as np

    from kenmap.access.demand import demand_cells
    from kenmap.access.netreach import Walking, network_reach
    from kenmap.access.reach import hubs_of, nearest_walk
    from kenmap.model import settings

    demand = demand_cells(ws)
    hubs = hubs_of(ws, "salon")
    known = ~np.isnan(demand.pop65)
    total = float(demand.pop65[known].sum())

    def share(reached: Any) -> float:
        return float(demand.pop65[known & reached].sum()) / total * 100

    straight = share(nearest_walk(demand, hubs, settings.DETOUR) <= 500)
    along = share(network_reach(ws).walk(demand, hubs) <= 500)
    timed = share(network_reach(ws, Walking(minutes=True)).walk(demand, hubs) <= 10)
    return (f"サロンまで歩いて届く65歳以上: 直線×{settings.DETOUR}で500 m以内 {straight:.1f}%、"
            f"道路に沿って500 m以内 {along:.1f}%、道路に沿って坂を含め10分以内 {timed:.1f}%"
            "（川と坂があるところで直線の見積もりは届くと言いすぎます）\n")
