"""``kenmap stats``."""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from kenmap.cli.options import DataFormat, OutFile, WsArg, layer_key, output


def stats(
    workspace: WsArg,
    layer: Annotated[str, typer.Option(help="Layer key or label.")],
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
    text = render_stats(ws, layer_key(ws, layer) or layer, format, rate_base)
    output(text, out, bom=format == "csv")
