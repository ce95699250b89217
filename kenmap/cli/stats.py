"""``kenmap stats``."""

from __future__ import annotations

from typing import Annotated, Literal, Optional

import typer

from kenmap.cli.options import DataFormat, OutFile, WsArg, chosen_layer, output


def stats(
    workspace: WsArg,
    layer: Annotated[Optional[str], typer.Option(
        help="Layer key or label (default: the layer above the finest).")] = None,
    format: DataFormat = "table",
    rate_base: Annotated[Literal["total", "known"], typer.Option(
        help="高齢化率 = 65+ ÷ the total including unknown age (total, the census's own "
             "total) or ÷ the people of known age (known).")] = "total",
    out: OutFile = None,
) -> None:
    """Population, 65+, 75+, households, aging rates, area and hubs of every area."""
    from kenmap.render.stats import render_stats
    from kenmap.workspace import Workspace

    ws = Workspace.open(workspace)
    text = render_stats(ws, chosen_layer(ws, layer), format, rate_base)
    output(text, out, bom=format == "csv")
