"""Population, hubs, the type catalogue and figures."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Optional

import typer

from kenmap.cli import Encoding, OutFile, WsArg, app, emit, import_app, output
from kenmap.layers.catalogue import Catalogue


@import_app.command("population")
def import_population_cmd(
    workspace: WsArg,
    file: Annotated[Path, typer.Argument(help="CSV, Excel (.xlsx) or a vector file's table.")],
    layer: Annotated[str, typer.Option(help="Layer the table's rows are areas of.")],
    code_field: Annotated[Optional[str], typer.Option(help="Column with area codes.")] = None,
    name_field: Annotated[Optional[str], typer.Option(help="Column with area names.")] = None,
    parent_name_field: Annotated[Optional[str], typer.Option(
        help="Column with the parent area's name (e.g. the ward).")] = None,
    total_field: Annotated[Optional[str], typer.Option(help="Total population column.")] = None,
    pop65_field: Annotated[Optional[str], typer.Option(help="65+ column (else age bands).")] = None,
    pop75_field: Annotated[Optional[str], typer.Option(help="75+ column (else age bands).")] = None,
    households_field: Annotated[Optional[str], typer.Option(help="Households column.")] = None,
    encoding: Encoding = None,
    header_rows: Annotated[int, typer.Option(help="Header rows (e-Stat tables: 2).")] = 1,
    as_of: Annotated[Optional[str], typer.Option(help="Base date 基準日, YYYY-MM-DD.")] = None,
    source: Annotated[Optional[str], typer.Option(help="Where the figures come from.")] = None,
    where: Annotated[Optional[str], typer.Option(
        help="Keep only rows matching, e.g. \"CITY == '202'\".")] = None,
    format: Annotated[str, typer.Option(help="text or json")] = "text",
) -> None:
    """Import population counts (total, 65+, 75+, households, age bands) for a layer."""
    from kenmap.layers.population import import_population
    from kenmap.workspace import Workspace

    ws = Workspace.open(workspace)
    report = import_population(
        ws, file, layer=layer, code_field=code_field, name_field=name_field,
        parent_name_field=parent_name_field, total_field=total_field, pop65_field=pop65_field,
        pop75_field=pop75_field, households_field=households_field, encoding=encoding,
        header_rows=header_rows, as_of=as_of, source=source, where=where)
    emit(report.to_dict(), report.lines(), format)


@import_app.command("hubs")
def import_hubs_cmd(
    workspace: WsArg,
    file: Annotated[Path, typer.Argument(help="CSV/XLSX with coordinates, or a point file.")],
    type: Annotated[Optional[str], typer.Option("--type", help="Hub type of every row.")] = None,
    type_field: Annotated[Optional[str], typer.Option(
        help="Column giving each hub's type.")] = None,
    type_map: Annotated[Optional[Path], typer.Option(
        help="CSV value,type[,match] mapping --type-field values to type keys.")] = None,
    name_field: Annotated[Optional[str], typer.Option(help="Column with hub names.")] = None,
    lon_field: Annotated[Optional[str], typer.Option(help="Longitude column.")] = None,
    lat_field: Annotated[Optional[str], typer.Option(help="Latitude column.")] = None,
    x_field: Annotated[Optional[str], typer.Option(help="Projected x (easting) column.")] = None,
    y_field: Annotated[Optional[str], typer.Option(help="Projected y (northing) column.")] = None,
    crs: Annotated[Optional[str], typer.Option(help="EPSG of the coordinates.")] = None,
    status: Annotated[str, typer.Option(help="existing, planned or candidate.")] = "existing",
    encoding: Encoding = None,
    replace: Annotated[bool, typer.Option(help="Replace all hubs instead of adding.")] = False,
    format: Annotated[str, typer.Option(help="text or json")] = "text",
) -> None:
    """Import hubs (サロン, 居場所, 包括 …) and locate each in its areas."""
    from kenmap.layers.hubs import import_hubs
    from kenmap.workspace import Workspace

    ws = Workspace.open(workspace)
    report = import_hubs(ws, file, hub_type=type, type_field=type_field, type_map=type_map,
                         name_field=name_field, lon_field=lon_field, lat_field=lat_field,
                         x_field=x_field, y_field=y_field, crs=crs, status=status,
                         encoding=encoding, replace=replace)
    emit(report.to_dict(), report.lines(), format)


types_app = typer.Typer(help="The hub type catalogue.", no_args_is_help=True)
app.add_typer(types_app, name="types")


def _save_catalogue(workspace: Path, change: Callable[[Catalogue], object]) -> Catalogue:
    from kenmap.layers.catalogue import catalogue_of
    from kenmap.workspace import Workspace

    ws = Workspace.open(workspace)
    catalogue = catalogue_of(ws.get("hub_types"))
    change(catalogue)
    with ws.transaction() as tx:
        tx.put("hub_types", catalogue.to_list())
        tx.record("types", count=len(catalogue.types))
    return catalogue


@types_app.command("list")
def types_list(workspace: WsArg,
               format: Annotated[str, typer.Option(help="text or json")] = "text") -> None:
    """List hub types with their label, colour, expected layer and radius."""
    from kenmap.layers.catalogue import catalogue_of
    from kenmap.workspace import Workspace

    ws = Workspace.open(workspace)
    catalogue = catalogue_of(ws.get("hub_types"))
    keys = ws.scheme.keys
    preset = ws.get("scheme_preset")
    lines = []
    for t in catalogue.types.values():
        layer = t.expected_layer(keys, preset)
        lines.append(f"{t.key:<14} {t.label}  {t.colour} {t.icon}  expected in every: "
                     f"{ws.scheme.layer(layer).label if layer else '—'}  radius: "
                     f"{f'{t.radius_m:.0f} m' if t.radius_m else '—'}")
    emit({"types": catalogue.to_list()}, lines, format)


@types_app.command("add")
def types_add(
    workspace: WsArg,
    key: Annotated[str, typer.Argument(help="ascii key, e.g. shelter")],
    label: Annotated[str, typer.Option(help="Japanese label, e.g. 避難所")],
    colour: Annotated[str, typer.Option(help="#rrggbb")] = "#555555",
    icon: Annotated[str, typer.Option(help="Font Awesome icon name")] = "circle",
    expected: Annotated[Optional[str], typer.Option(help="Layer key expected to have one")] = None,
    radius: Annotated[Optional[float], typer.Option(help="Walking radius in metres")] = None,
) -> None:
    """Add a hub type."""
    data: dict[str, object] = {"key": key, "label": label, "colour": colour, "icon": icon,
                               "radius_m": radius}
    if expected:
        data["expected"] = {"*": expected}
    _save_catalogue(workspace, lambda c: c.add(data))
    typer.echo(f"Added hub type {key} ({label})")


@types_app.command("set")
def types_set(
    workspace: WsArg,
    key: Annotated[str, typer.Argument(help="The type to change")],
    label: Annotated[Optional[str], typer.Option()] = None,
    colour: Annotated[Optional[str], typer.Option()] = None,
    icon: Annotated[Optional[str], typer.Option()] = None,
    expected: Annotated[Optional[str], typer.Option(help="Layer key expected to have one")] = None,
    radius: Annotated[Optional[float], typer.Option(help="Walking radius in metres")] = None,
) -> None:
    """Change a hub type's label, colour, icon, expected layer or radius."""
    changes: dict[str, object] = {"label": label, "colour": colour, "icon": icon,
                                  "radius_m": radius}
    if expected:
        changes["expected"] = {"*": expected}
    _save_catalogue(workspace, lambda c: c.set(key, changes))
    typer.echo(f"Updated hub type {key}")


@types_app.command("load")
def types_load(workspace: WsArg,
               file: Annotated[Path, typer.Argument(help="TOML with [[types]] tables")]) -> None:
    """Add or replace hub types from a TOML file."""
    _save_catalogue(workspace, lambda c: c.load_toml(file))
    typer.echo(f"Loaded hub types from {file}")


@app.command()
def stats(
    workspace: WsArg,
    layer: Annotated[str, typer.Option(help="Layer key.")],
    format: Annotated[str, typer.Option(help="table, csv or json")] = "table",
    out: OutFile = None,
) -> None:
    """Population, 65+, 75+, households, aging rates, area and hubs of every area."""
    from kenmap.stats_output import render_stats
    from kenmap.workspace import Workspace

    text = render_stats(Workspace.open(workspace), layer, format)
    output(text, out, bom=format == "csv")
