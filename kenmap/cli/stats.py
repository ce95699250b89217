"""``kenmap stats``."""

from __future__ import annotations

from typing import Annotated

import typer

from kenmap.cli.options import DataFormat, OutFile, WsArg, layer_key, output


def stats(
    workspace: WsArg,
    layer: Annotated[str, typer.Option(help="Layer key.")],
    format: DataFormat = "table",
    out: OutFile = None,
) -> None:
    """Population, 65+, 75+, households, aging rates, area and hubs of every area."""
    from kenmap.render.stats import render_stats
    from kenmap.workspace import Workspace

    ws = Workspace.open(workspace)
    text = render_stats(ws, layer_key(ws, layer) or layer, format)
    output(text, out, bom=format == "csv")
