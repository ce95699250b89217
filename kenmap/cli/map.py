"""``kenmap map``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from kenmap.cli.options import (
    AsOf,
    Detour,
    Minutes,
    OnNetwork,
    Speed,
    WsArg,
    at_date,
    layer_key,
    type_key,
    walking_reach,
)
from kenmap.errors import KenmapError
from kenmap.model import settings


def map_cmd(
    workspace: WsArg,
    layer: Annotated[Optional[str], typer.Option(help="Layer key (or --all).")] = None,
    all_layers: Annotated[bool, typer.Option("--all", help="Every layer plus an index page.")
                          ] = False,
    hub_type: Annotated[Optional[str], typer.Option(
        help="Hub type whose gaps are shown (default: the type expected on the layer).")] = None,
    radius: Annotated[Optional[float], typer.Option(
        help="Walking radius in metres: reach circles and distance gaps.")] = None,
    detour: Detour = settings.DETOUR,
    tiles: Annotated[str, typer.Option(help="none (offline) or osm")] = "none",
    siting: Annotated[Optional[Path], typer.Option(help="A 'kenmap site' JSON result.")] = None,
    out: Annotated[Optional[Path], typer.Option(help="HTML file, or folder with --all.")] = None,
    png: Annotated[Optional[Path], typer.Option(help="Also write a printable PNG.")] = None,
    pdf: Annotated[Optional[Path], typer.Option(help="Also write a printable PDF.")] = None,
    indicator: Annotated[Optional[str], typer.Option(
        help="Colour the areas by this imported indicator instead of 高齢化率.")] = None,
    activity: Annotated[Optional[str], typer.Option(
        help="Hatch the areas that have not done this activity (instead of hub gaps).")
    ] = None,
    as_of: AsOf = None,
    compare: Annotated[Optional[str], typer.Option(
        help="Colour the areas by how much 高齢化率 changed since this earlier date.")] = None,
    network: OnNetwork = False,
    minutes: Minutes = None,
    speed: Speed = settings.WALK_SPEED_MS,
) -> None:
    """Write Folium map pages that work offline, and printable PNG/PDF."""
    from kenmap.maps.page import MapOptions
    from kenmap.maps.pages import write_all_pages, write_layer_page
    from kenmap.maps.printable import render_print
    from kenmap.workspace import Workspace

    ws = at_date(Workspace.open(workspace), as_of)
    layer, hub_type = layer_key(ws, layer), type_key(ws, hub_type)
    site_result = _read_siting(siting) if siting else None
    reach, radius = walking_reach(ws, network, minutes, speed, radius)
    options = MapOptions(hub_type=hub_type, radius=radius, tiles=tiles, detour=detour,
                         siting=site_result, indicator=indicator,
                         compare=compare, activity=activity, network=reach)
    if all_layers:
        folder = out or Path("maps")
        result = write_all_pages(ws, options, folder)
        for page in result["pages"]:
            typer.echo(f"書き出しました: {page['file']}（{page['areas']} 区域、"
                       f"{page['hub_label']}の不足 {_count(page['lacking'])}、"
                       f"{page['bytes'] / 1e6:.2f} MB）")
        typer.echo(f"目次: {result['index']}")
        return
    if layer is None:
        raise KenmapError("--layer KEY か --all を指定してください", field="--layer")
    target = out or Path(f"{layer}.html")
    facts = write_layer_page(ws, layer, options, target)
    subject = facts["gap_subject"] if activity else f"{facts['hub_label']}の不足"
    typer.echo(f"書き出しました: {target}（{facts['areas']} 区域、"
               f"{subject} {_count(facts['lacking'])}、"
               f"{facts['bytes'] / 1e6:.2f} MB）")
    for path in (png, pdf):
        if path is not None:
            render_print(ws, layer, options, path)
            typer.echo(f"書き出しました: {path}")


def _count(lacking: int | None) -> str:
    return "—（人口が未登録）" if lacking is None else str(lacking)


def _read_siting(path: Path) -> dict[str, object]:
    from kenmap.model.files import read_json

    data = read_json(path, "配置結果")
    if not isinstance(data, dict) or not isinstance(data.get("sites"), list):
        raise KenmapError("配置結果ではありません（'sites' の一覧がありません）", file=path)
    for i, site in enumerate(data["sites"], start=1):
        if not isinstance(site, dict) or not all(
                isinstance(site.get(k), (int, float)) for k in ("lon", "lat")):
            raise KenmapError("候補地には数値の lon と lat が必要です", file=path, row=i)
    return data
