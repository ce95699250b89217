"""``kenmap coverage``."""

from __future__ import annotations

from kenmap.cli.options import (
    AsOf,
    CellSize,
    Detour,
    OutFile,
    TableFormat,
    WithPlanned,
    WsArg,
    at_date,
    output,
)
from kenmap.model import settings


def coverage(
    workspace: WsArg,
    with_planned: WithPlanned = False,
    detour: Detour = settings.DETOUR,
    cell: CellSize = settings.CELL_M,
    format: TableFormat = "table",
    out: OutFile = None,
    as_of: AsOf = None,
) -> None:
    """For every layer and hub type: areas lacking a hub and the 65+ within reach."""
    from kenmap.access.gaps import coverage as run
    from kenmap.render.gaps import render_coverage
    from kenmap.workspace import Workspace

    ws = at_date(Workspace.open(workspace), as_of)
    result = run(ws, with_planned=with_planned, detour=detour, cell=cell)
    output(render_coverage(ws, result, format), out)
