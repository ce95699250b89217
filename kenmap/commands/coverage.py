"""Coverage and gaps, gridded population and 隣近所 cells."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from kenmap.cli import (
    CellSize,
    Detour,
    Encoding,
    OutFile,
    WithPlanned,
    WsArg,
    app,
    import_app,
    output,
    say,
)


@app.command()
def gaps(
    workspace: WsArg,
    layer: Annotated[str, typer.Option(help="Layer key.")],
    hub_type: Annotated[str, typer.Option(help="Hub type key, e.g. salon.")],
    radius: Annotated[Optional[float], typer.Option(
        help="Walking radius in metres; without it an area lacks a hub when none is inside.")
    ] = None,
    with_planned: WithPlanned = False,
    min_reach: Annotated[float, typer.Option(
        help="With --radius: an area lacks a hub below this % of 65+ reached.")] = 50.0,
    detour: Detour = 1.3,
    cell: CellSize = 100.0,
    format: Annotated[str, typer.Option(help="table, csv or json")] = "table",
    out: OutFile = None,
) -> None:
    """Areas lacking a hub of a type, and the older residents that leaves out."""
    from kenmap.gaps_output import render_gaps
    from kenmap.layers.gaps import gap_table
    from kenmap.workspace import Workspace

    ws = Workspace.open(workspace)
    table = gap_table(ws, layer=layer, hub_type=hub_type, radius=radius,
                      with_planned=with_planned, detour=detour, min_reach=min_reach, cell=cell)
    output(render_gaps(ws, table, format), out, bom=format == "csv")


@app.command()
def coverage(
    workspace: WsArg,
    with_planned: WithPlanned = False,
    detour: Detour = 1.3,
    cell: CellSize = 100.0,
    format: Annotated[str, typer.Option(help="table or json")] = "table",
    out: OutFile = None,
) -> None:
    """For every layer and hub type: areas lacking a hub and the 65+ within reach."""
    from kenmap.gaps_output import render_coverage
    from kenmap.layers.gaps import coverage as run
    from kenmap.workspace import Workspace

    ws = Workspace.open(workspace)
    result = run(ws, with_planned=with_planned, detour=detour, cell=cell)
    output(render_coverage(ws, result, format), out)


@import_app.command("raster")
def import_raster_cmd(
    workspace: WsArg,
    file: Annotated[Path, typer.Argument(help="GeoTIFF of counts.")],
    value: Annotated[str, typer.Option(help="total or pop65")],
    band: Annotated[int, typer.Option(help="Band number.")] = 1,
) -> None:
    """Import a population raster that spreads residents inside areas."""
    from kenmap.layers.gridded import import_raster
    from kenmap.workspace import Workspace

    report = import_raster(Workspace.open(workspace), file, value=value, band=band)
    say(report.lines())


@import_app.command("mesh")
def import_mesh_cmd(
    workspace: WsArg,
    file: Annotated[Path, typer.Argument(help="CSV/XLSX keyed by JIS X 0410 mesh code.")],
    value: Annotated[str, typer.Option(help="total or pop65")],
    mesh_field: Annotated[str, typer.Option(help="Column with mesh codes.")],
    value_field: Annotated[str, typer.Option(help="Column with counts.")],
    encoding: Encoding = None,
) -> None:
    """Import a JIS mesh population table (1 km, 500 m, 250 m …)."""
    from kenmap.layers.gridded import import_mesh
    from kenmap.workspace import Workspace

    report = import_mesh(Workspace.open(workspace), file, value=value, mesh_field=mesh_field,
                         value_field=value_field, encoding=encoding)
    say(report.lines())


@app.command("derive-neighbourhoods")
def derive_neighbourhoods_cmd(
    workspace: WsArg,
    from_layer: Annotated[str, typer.Option("--from", help="The layer to fill below, e.g. "
                                            "gyoseiku.")],
    size: Annotated[float, typer.Option(help="Cell size in metres.")] = 200.0,
) -> None:
    """Fill the layer below with small cells clipped to each area (隣近所)."""
    from kenmap.layers.neighbourhoods import derive_neighbourhoods
    from kenmap.workspace import Workspace

    report = derive_neighbourhoods(Workspace.open(workspace), from_layer=from_layer, size=size)
    say(report.lines())
