"""``kenmap profile``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from kenmap.cli.options import WsArg, chosen_layer
from kenmap.errors import KenmapError


def profile(
    workspace: WsArg,
    layer: Annotated[Optional[str], typer.Option(help="Layer of the areas (key or label).")
                     ] = None,
    code: Annotated[Optional[str], typer.Option(help="One area's code (or --all).")] = None,
    all_areas: Annotated[bool, typer.Option("--all", help="A sheet for every area.")] = False,
    pdf: Annotated[Optional[Path], typer.Option(help="Write the sheets as a PDF (A4).")] = None,
    html: Annotated[Optional[Path], typer.Option(help="Write the sheets as an HTML page.")
                    ] = None,
    targets: Annotated[Optional[Path], typer.Option(
        help="Targets table: each sheet carries its area's rows (see kenmap progress).")
    ] = None,
    year: Annotated[Optional[int], typer.Option(help="Fiscal year of the targets.")] = None,
) -> None:
    """地域カルテ: one sheet per area with its figures, trend, hubs, gaps and sources."""
    from kenmap.access.sheets import area_codes
    from kenmap.maps.sheets import write_sheets
    from kenmap.workspace import Workspace

    if pdf is None and html is None:
        raise KenmapError("--pdf FILE か --html FILE を指定してください", field="--pdf")
    if (code is None) == (not all_areas):
        raise KenmapError("--code CODE か --all のどちらか一方を指定してください", field="--code")
    ws = Workspace.open(workspace)
    key = chosen_layer(ws, layer)
    codes = area_codes(ws, key) if all_areas else [str(code)]
    result = write_sheets(ws, key, codes, pdf=pdf, html=html, targets=targets, year=year)
    for kind in ("pdf", "html"):
        if kind in result:
            typer.echo(f"書き出しました: {result[kind]}（{result['sheets']} 区域）")
