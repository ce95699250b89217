"""The ``kenmap`` command line."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from kenmap.errors import KenmapError

if TYPE_CHECKING:
    from kenmap.layers.catalogue import Catalogue

app = typer.Typer(
    help="kenmap: 圏域 layers, hubs, aging rates and coverage for community-welfare planning.",
    no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
import_app = typer.Typer(help="Import areas, hubs or population into a workspace.",
                         no_args_is_help=True)
app.add_typer(import_app, name="import")

WsArg = Annotated[Path, typer.Argument(help="The workspace GeoPackage (.gpkg).")]
Encoding = Annotated[Optional[str], typer.Option(
    help="Text encoding of the file (detected when omitted: strict UTF-8, then cp932).")]


def _say(lines: list[str]) -> None:
    for line in lines:
        typer.echo(line)


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
    _emit(report.to_dict(), report.lines(), format)


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
    _emit(report.to_dict(), report.lines(), format)


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
    _emit(report.to_dict(), report.lines(), format)


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
    _emit({"types": catalogue.to_list()}, lines, format)


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
    out: Annotated[Optional[Path], typer.Option(help="Write to this file.")] = None,
) -> None:
    """Population, 65+, 75+, households, aging rates, area and hubs of every area."""
    from kenmap.stats_output import render_stats
    from kenmap.workspace import Workspace

    text = render_stats(Workspace.open(workspace), layer, format)
    _output(text, out, bom=format == "csv")


@app.command()
def gaps(
    workspace: WsArg,
    layer: Annotated[str, typer.Option(help="Layer key.")],
    hub_type: Annotated[str, typer.Option(help="Hub type key, e.g. salon.")],
    radius: Annotated[Optional[float], typer.Option(
        help="Walking radius in metres; without it an area lacks a hub when none is inside.")
    ] = None,
    with_planned: Annotated[bool, typer.Option(help="Count planned hubs too.")] = False,
    min_reach: Annotated[float, typer.Option(
        help="With --radius: an area lacks a hub below this % of 65+ reached.")] = 50.0,
    detour: Annotated[float, typer.Option(help="Walking distance ÷ straight line.")] = 1.3,
    cell: Annotated[float, typer.Option(help="Demand cell size in metres.")] = 100.0,
    format: Annotated[str, typer.Option(help="table, csv or json")] = "table",
    out: Annotated[Optional[Path], typer.Option(help="Write to this file.")] = None,
) -> None:
    """Areas lacking a hub of a type, and the older residents that leaves out."""
    from kenmap.gaps_output import render_gaps
    from kenmap.layers.gaps import gap_table
    from kenmap.workspace import Workspace

    ws = Workspace.open(workspace)
    table = gap_table(ws, layer=layer, hub_type=hub_type, radius=radius,
                      with_planned=with_planned, detour=detour, min_reach=min_reach, cell=cell)
    _output(render_gaps(ws, table, format), out, bom=format == "csv")


@app.command()
def coverage(
    workspace: WsArg,
    with_planned: Annotated[bool, typer.Option(help="Count planned hubs too.")] = False,
    detour: Annotated[float, typer.Option(help="Walking distance ÷ straight line.")] = 1.3,
    cell: Annotated[float, typer.Option(help="Demand cell size in metres.")] = 100.0,
    format: Annotated[str, typer.Option(help="table or json")] = "table",
    out: Annotated[Optional[Path], typer.Option(help="Write to this file.")] = None,
) -> None:
    """For every layer and hub type: areas lacking a hub and the 65+ within reach."""
    from kenmap.gaps_output import render_coverage
    from kenmap.layers.gaps import coverage as run
    from kenmap.workspace import Workspace

    ws = Workspace.open(workspace)
    result = run(ws, with_planned=with_planned, detour=detour, cell=cell)
    _output(render_coverage(ws, result, format), out)


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
    _say(report.lines())


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
    _say(report.lines())


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
    _say(report.lines())


@app.command("map")
def map_cmd(
    workspace: WsArg,
    layer: Annotated[Optional[str], typer.Option(help="Layer key (or --all).")] = None,
    all_layers: Annotated[bool, typer.Option("--all", help="Every layer plus an index page.")
                          ] = False,
    hub_type: Annotated[Optional[str], typer.Option(
        help="Hub type whose gaps are shown (default: the type expected on the layer).")] = None,
    radius: Annotated[Optional[float], typer.Option(
        help="Walking radius in metres: reach circles and distance gaps.")] = None,
    detour: Annotated[float, typer.Option(help="Walking distance ÷ straight line.")] = 1.3,
    tiles: Annotated[str, typer.Option(help="none (offline) or osm")] = "none",
    siting: Annotated[Optional[Path], typer.Option(help="A 'kenmap site' JSON result.")] = None,
    out: Annotated[Optional[Path], typer.Option(help="HTML file, or folder with --all.")] = None,
    png: Annotated[Optional[Path], typer.Option(help="Also write a printable PNG.")] = None,
    pdf: Annotated[Optional[Path], typer.Option(help="Also write a printable PDF.")] = None,
) -> None:
    """Write Folium map pages that work offline, and printable PNG/PDF."""
    from kenmap.maps.page import MapOptions
    from kenmap.maps.pages import write_all_pages, write_layer_page
    from kenmap.maps.printable import render_print
    from kenmap.workspace import Workspace

    ws = Workspace.open(workspace)
    site_result = _read_siting(siting) if siting else None
    options = MapOptions(hub_type=hub_type, radius=radius, tiles=tiles, detour=detour,
                         siting=site_result)
    if all_layers:
        folder = out or Path("maps")
        result = write_all_pages(ws, options, folder)
        for page in result["pages"]:
            typer.echo(f"Wrote {page['file']} ({page['areas']} areas, "
                       f"{page['bytes'] / 1e6:.2f} MB)")
        typer.echo(f"Index: {result['index']}")
        return
    if layer is None:
        raise KenmapError("give --layer KEY or --all", field="--layer")
    target = out or Path(f"{layer}.html")
    facts = write_layer_page(ws, layer, options, target)
    typer.echo(f"Wrote {target} ({facts['areas']} areas, {facts['lacking']} lacking, "
               f"{facts['bytes'] / 1e6:.2f} MB)")
    for path in (png, pdf):
        if path is not None:
            render_print(ws, layer, options, path)
            typer.echo(f"Wrote {path}")


def _read_siting(path: Path) -> dict[str, object]:
    from kenmap.config_files import read_json

    data = read_json(path, "siting result")
    if not isinstance(data, dict) or not isinstance(data.get("sites"), list):
        raise KenmapError("not a siting result (no 'sites' list)", file=path)
    for i, site in enumerate(data["sites"], start=1):
        if not isinstance(site, dict) or not all(
                isinstance(site.get(k), (int, float)) for k in ("lon", "lat")):
            raise KenmapError("site needs numeric lon and lat", file=path, row=i)
    return data


@app.command()
def serve(
    workspace: WsArg,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    token_file: Annotated[Optional[Path], typer.Option(
        help="File holding the bearer token for edits (or set KENMAP_TOKEN).")] = None,
    max_upload_mb: Annotated[int, typer.Option(help="Largest upload accepted.")] = 200,
) -> None:
    """Serve maps, figures, hub edits and imports (FastAPI; docs at /docs)."""
    from kenmap.api.server import run_server

    run_server(workspace, host=host, port=port, token_file=token_file,
               max_upload=max_upload_mb * 1024 * 1024, echo=typer.echo)


@app.command()
def site(
    workspace: WsArg,
    hub_type: Annotated[str, typer.Option(help="Type of the new hubs, e.g. ibasho.")],
    k: Annotated[int, typer.Option(help="How many new sites.")],
    radius: Annotated[Optional[float], typer.Option(
        help="Walking radius in metres (default: the type's).")] = None,
    candidates: Annotated[Optional[Path], typer.Option(
        help="File of candidate points (CSV lon/lat or a point file).")] = None,
    candidate_status: Annotated[Optional[str], typer.Option(
        help="Use hubs with this status as candidates (default: candidate).")] = None,
    candidate_grid: Annotated[Optional[float], typer.Option(
        help="Generate candidates on a grid of this spacing inside areas lacking a hub.")
    ] = None,
    layer: Annotated[Optional[str], typer.Option(
        help="Layer whose areas are reported as filled (default: the type's layer).")] = None,
    solver: Annotated[str, typer.Option(help="exact, greedy or auto")] = "auto",
    time_limit: Annotated[float, typer.Option(help="Seconds for the exact solver.")] = 30.0,
    also: Annotated[Optional[list[str]], typer.Option(
        help="Other hub types whose hubs also count as reach (repeatable).")] = None,
    one_per_lacking: Annotated[Optional[str], typer.Option(
        help="Layer (e.g. chiku) each of whose areas lacking a hub must get a new site.")
    ] = None,
    detour: Annotated[float, typer.Option(help="Walking distance ÷ straight line.")] = 1.3,
    apply: Annotated[bool, typer.Option(help="Write the sites as planned hubs.")] = False,
    format: Annotated[str, typer.Option(help="table or json")] = "table",
    out: Annotated[Optional[Path], typer.Option(help="Write the result to this file.")] = None,
) -> None:
    """Choose k new hub sites that bring the most older residents within reach."""
    from kenmap.layers.siting import apply_sites
    from kenmap.layers.siting import site as run
    from kenmap.siting_output import render_siting
    from kenmap.workspace import Workspace

    ws = Workspace.open(workspace)
    result = run(ws, hub_type=hub_type, k=k, radius=radius, candidates_file=candidates,
                 candidate_status=candidate_status, candidate_grid=candidate_grid, layer=layer,
                 solver=solver, time_limit=time_limit, also=also, detour=detour,
                 one_per_lacking=one_per_lacking)
    if apply:
        ids = apply_sites(ws, result)
        result["applied_hub_ids"] = ids
    _output(render_siting(ws, result, format), out)


def _output(text: str, out: Path | None, *, bom: bool = False) -> None:
    from kenmap.output import write_atomic

    if out is None:
        typer.echo(text, nl=not text.endswith("\n"))
    else:
        write_atomic(out, text.encode("utf-8-sig" if bom else "utf-8"))
        typer.echo(f"Wrote {out}")


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
    _emit(report.to_dict(), report.lines(), format)


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
    _emit(result, lines, format)
    if not result["ok"]:
        raise typer.Exit(1)


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Folder for the demo workspace.")] = Path("kenmap-demo"),
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Build only; do not serve.")] = False,
    host: Annotated[str, typer.Option(help="Address to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8000,
) -> None:
    """Build the synthetic demo city's workspace and run everything on it."""
    from kenmap.demo import run_demo

    run_demo(out, serve=not no_serve, echo=typer.echo, host=host, port=port)


def _emit(data: dict[str, object], lines: list[str], fmt: str) -> None:
    if fmt == "json":
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    elif fmt == "text":
        _say(lines)
    else:
        raise KenmapError(f"unknown format '{fmt}' (text or json)", field="--format")


def main() -> None:
    """Entry point: one clear line and a non-zero exit for every user error."""
    try:
        app()  # usage errors, --help and typer.Exit end here as SystemExit
    except KenmapError as exc:
        typer.echo(f"kenmap: error: {exc}", err=True)
        sys.exit(2)
    except Exception as exc:
        if os.environ.get("KENMAP_DEBUG"):
            raise
        typer.echo(f"kenmap: internal error: {type(exc).__name__}: {exc} "
                   "(set KENMAP_DEBUG=1 for details)", err=True)
        sys.exit(1)
