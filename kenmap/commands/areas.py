"""Boundaries: init, import areas, derive, validate."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from kenmap.cli import Encoding, WsArg, app, emit, import_app


@app.command()
def init(
    workspace: WsArg,
    scheme: Annotated[Optional[str], typer.Option(
        help="Layer scheme: toyooka (default), yonago, or a .toml file.")] = None,
) -> None:
    """Create a new, empty workspace with a layer scheme."""
    from kenmap.layers.scheme import PRESETS, load_scheme
    from kenmap.workspace import Workspace

    chosen = load_scheme(scheme)
    preset = scheme if scheme in PRESETS else ("toyooka" if scheme is None else None)
    Workspace.create(workspace, chosen, preset)
    typer.echo(f"Created {workspace} with scheme {chosen.name}: "
               + " ⊃ ".join(f"{layer.label} ({layer.key})" for layer in chosen.layers))


@import_app.command("areas")
def import_areas_cmd(
    workspace: WsArg,
    files: Annotated[list[Path], typer.Argument(
        help="Boundary files (shp, zip, gpkg, geojson, fgb).")],
    layer: Annotated[str, typer.Option(help="Layer key to import into.")],
    code_field: Annotated[str, typer.Option(help="Field holding each area's code.")],
    name_field: Annotated[str, typer.Option(help="Field holding each area's name.")],
    parent_field: Annotated[Optional[str], typer.Option(
        help="Field holding the parent area's code (else parents are found by location).")] = None,
    encoding: Encoding = None,
    crs: Annotated[Optional[str], typer.Option(
        help="EPSG code of the file's CRS (required when the file has none).")] = None,
    where: Annotated[Optional[str], typer.Option(
        help="Keep only rows matching, e.g. \"CITY == '202'\".")] = None,
    zone: Annotated[Optional[str], typer.Option(
        help="Plane-rectangular zone to store in (EPSG, e.g. 6673); chosen automatically.")] = None,
    keep_water: Annotated[bool, typer.Option(
        help="Keep e-Stat water areas (HCODE 8154).")] = False,
    append: Annotated[bool, typer.Option(help="Add to the layer instead of replacing it.")] = False,
    tolerance: Annotated[float, typer.Option(
        help="Share of a child that may lie outside its parent (slivers).")] = 0.05,
    format: Annotated[str, typer.Option(help="text or json")] = "text",
) -> None:
    """Import boundary polygons as the areas of one layer."""
    from kenmap.layers.areas import import_areas
    from kenmap.workspace import Workspace

    ws = Workspace.open(workspace)
    report = import_areas(ws, files, layer=layer, code_field=code_field, name_field=name_field,
                          parent_field=parent_field, encoding=encoding, crs=crs, where=where,
                          zone=zone, keep_water=keep_water, append=append, tolerance=tolerance)
    emit(report.to_dict(), report.lines(), format)


@app.command()
def derive(
    workspace: WsArg,
    layer: Annotated[str, typer.Option(help="The upper layer to create.")],
    from_layer: Annotated[str, typer.Option("--from", help="The lower layer to dissolve.")],
    by_field: Annotated[Optional[str], typer.Option(
        help="Child field whose values are the parent codes.")] = None,
    name_field: Annotated[Optional[str], typer.Option(
        help="With --by-field: child field holding the parent names.")] = None,
    mapping: Annotated[Optional[Path], typer.Option(
        help="CSV with columns child_code,parent_code,parent_name.")] = None,
    single: Annotated[Optional[str], typer.Option(
        help="Dissolve all into one area with this name.")] = None,
    code: Annotated[Optional[str], typer.Option(help="With --single: the area's code.")] = None,
    encoding: Encoding = None,
    format: Annotated[str, typer.Option(help="text or json")] = "text",
) -> None:
    """Derive an upper layer by dissolving a lower one."""
    from kenmap.layers.derive import derive_layer
    from kenmap.workspace import Workspace

    ws = Workspace.open(workspace)
    report = derive_layer(ws, layer=layer, from_layer=from_layer, by_field=by_field,
                          name_field=name_field, mapping=mapping, single=single, code=code,
                          encoding=encoding)
    emit(report.to_dict(), report.lines(), format)


@app.command()
def validate(
    workspace: WsArg,
    format: Annotated[str, typer.Option(help="text or json")] = "text",
) -> None:
    """Check that layers tile and nest; exits non-zero when there are errors."""
    from kenmap.layers.validate import validate as run
    from kenmap.workspace import Workspace

    result = run(Workspace.open(workspace))
    lines = []
    for key, info in result["layers"].items():
        expected = f" (expected {info['expected']})" if info["expected"] else ""
        lines.append(f"{info['label']} ({key}): {info['count']} areas{expected}, "
                     f"{info['errors']} errors, {info['warnings']} warnings")
    lines += [f"error: {e['message']}" for e in result["errors"]]
    lines += [f"warning: {w['message']}" for w in result["warnings"]]
    lines.append("OK: layers tile and nest" if result["ok"] else
                 f"FAILED: {len(result['errors'])} error(s)")
    emit(result, lines, format)
    if not result["ok"]:
        raise typer.Exit(1)
