"""``kenmap coverage``."""

from __future__ import annotations

from typing import Annotated

import typer

from kenmap.cli.options import (
    CellSize,
    Detour,
    OutFile,
    WithPlanned,
    WsArg,
    output,
)


def coverage(
    workspace: WsArg,
    with_planned: WithPlanned = False,
    detour: Detour = 1.3,
    cell: CellSize = 100.0,
    format: Annotated[str, typer.Option(help="table or json")] = "table",
    out: OutFile = None,
) -> None:
    """For every layer and hub type: areas lacking a hub and the 65+ within reach."""
    from kenmap.access.gaps import coverage as run
    from kenmap.render.gaps import render_coverage
    from kenmap.workspace import Workspace

    ws = Workspace.open(workspace)
    result = run(ws, with_planned=with_planned, detour=detour, cell=cell)
    output(render_coverage(ws, result, format), out)
