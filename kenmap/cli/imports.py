"""``kenmap imports``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from kenmap.cli.options import Encoding, TextFormat, WsArg, emit, layer_key, say, type_key
from kenmap.model import settings


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
    layer_name: Annotated[Optional[str], typer.Option(
        help="The layer of the file to read (a TopoJSON object, a GeoPackage table, a "
             "shapefile in a zip); by default the only one, or the only one of polygons.")
    ] = None,
    tolerance: Annotated[float, typer.Option(
        help="Share of a child that may lie outside its parent (slivers).")
    ] = settings.NESTING_TOLERANCE,
    source: Annotated[Optional[str], typer.Option(
        help="Attribution the maps and handouts carry, e.g. 「…を加工して作成」.")] = None,
    format: TextFormat = "text",
) -> None:
    """Import boundary polygons as the areas of one layer."""
    from kenmap.layers.areas import import_areas
    from kenmap.workspace import Workspace

    ws = Workspace.open(workspace)
    report = import_areas(ws, files, layer=layer_key(ws, layer) or layer,
                          code_field=code_field, name_field=name_field, layer_name=layer_name,
                          source=source,
                          parent_field=parent_field, encoding=encoding, crs=crs, where=where,
                          zone=zone, keep_water=keep_water, append=append, tolerance=tolerance)
    emit(report.to_dict(), report.lines(), format)


def import_raster_cmd(
    workspace: WsArg,
    file: Annotated[Path, typer.Argument(help="GeoTIFF of counts.")],
    value: Annotated[str, typer.Option(help="total or pop65")],
    band: Annotated[int, typer.Option(help="Band number.")] = 1,
) -> None:
    """Import a population raster that spreads residents inside areas."""
    from kenmap.people.gridded import import_raster
    from kenmap.workspace import Workspace

    report = import_raster(Workspace.open(workspace), file, value=value, band=band)
    say(report.lines())


def import_mesh_cmd(
    workspace: WsArg,
    file: Annotated[Path, typer.Argument(help="CSV/XLSX keyed by JIS X 0410 mesh code.")],
    value: Annotated[str, typer.Option(help="total or pop65")],
    mesh_field: Annotated[str, typer.Option(help="Column with mesh codes.")],
    value_field: Annotated[str, typer.Option(help="Column with counts.")],
    encoding: Encoding = None,
) -> None:
    """Import a JIS mesh population table (1 km, 500 m, 250 m …)."""
    from kenmap.people.gridded import import_mesh
    from kenmap.workspace import Workspace

    report = import_mesh(Workspace.open(workspace), file, value=value, mesh_field=mesh_field,
                         value_field=value_field, encoding=encoding)
    say(report.lines())


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
    format: TextFormat = "text",
) -> None:
    """Import population counts (total, 65+, 75+, households, age bands) for a layer."""
    from kenmap.people.population import import_population
    from kenmap.workspace import Workspace

    ws = Workspace.open(workspace)
    report = import_population(
        ws, file, layer=layer_key(ws, layer) or layer, code_field=code_field, name_field=name_field,
        parent_name_field=parent_name_field, total_field=total_field, pop65_field=pop65_field,
        pop75_field=pop75_field, households_field=households_field, encoding=encoding,
        header_rows=header_rows, as_of=as_of, source=source, where=where)
    emit(report.to_dict(), report.lines(), format)


def import_indicator_cmd(
    workspace: WsArg,
    file: Annotated[Path, typer.Argument(help="CSV, Excel (.xlsx) or a vector file's table.")],
    layer: Annotated[str, typer.Option(help="Layer the table's rows are areas of.")],
    key: Annotated[str, typer.Option(help="Short key, e.g. hitorigurashi (stats --fields).")],
    label: Annotated[str, typer.Option(help="Name shown, e.g. 一人暮らし高齢者.")],
    value_field: Annotated[str, typer.Option(help="Column with the values.")],
    code_field: Annotated[Optional[str], typer.Option(help="Column with area codes.")] = None,
    name_field: Annotated[Optional[str], typer.Option(help="Column with area names.")] = None,
    parent_name_field: Annotated[Optional[str], typer.Option(
        help="Column with the parent area's name.")] = None,
    kind: Annotated[str, typer.Option(
        help="count (people or cases, summed upward) or rate (a published %).")] = "count",
    per: Annotated[Optional[str], typer.Option(
        help="For a count: its rate's denominator (pop65, population, pop75, households).")
    ] = None,
    unit: Annotated[Optional[str], typer.Option(help="Unit, e.g. 人 or 件.")] = None,
    source: Annotated[Optional[str], typer.Option(help="Where the figures come from.")] = None,
    as_of: Annotated[Optional[str], typer.Option(help="Base date 基準日, YYYY-MM-DD.")] = None,
    encoding: Encoding = None,
    where: Annotated[Optional[str], typer.Option(help="Keep only rows matching.")] = None,
    format: TextFormat = "text",
) -> None:
    """Import a per-area indicator (一人暮らし高齢者, 要介護認定者, 民生委員 …) for a layer."""
    from kenmap.people.indicators import import_indicator
    from kenmap.workspace import Workspace

    ws = Workspace.open(workspace)
    report = import_indicator(
        ws, file, layer=layer_key(ws, layer) or layer, key=key, label=label,
        value_field=value_field, code_field=code_field, name_field=name_field,
        parent_name_field=parent_name_field, kind=kind, per=per, unit=unit, source=source,
        as_of=as_of, encoding=encoding, where=where)
    emit(report.to_dict(), report.lines(), format)


def import_activities_cmd(
    workspace: WsArg,
    file: Annotated[Path, typer.Argument(help="CSV/XLSX: area, activity, fiscal year, done.")],
    layer: Annotated[str, typer.Option(help="Layer the table's rows are areas of.")],
    code_field: Annotated[Optional[str], typer.Option(help="Column with area codes.")] = None,
    name_field: Annotated[Optional[str], typer.Option(help="Column with area names.")] = None,
    parent_name_field: Annotated[Optional[str], typer.Option(
        help="Column with the parent area's name.")] = None,
    activity: Annotated[Optional[str], typer.Option(
        help="The activity, when the table holds one (else its 活動 column).")] = None,
    activity_field: Annotated[Optional[str], typer.Option(help="Column naming the activity.")
                              ] = None,
    year: Annotated[Optional[int], typer.Option(
        help="Fiscal year 年度, when the table holds one (else its 年度 column).")] = None,
    year_field: Annotated[Optional[str], typer.Option(help="Column with the fiscal year.")
                          ] = None,
    value_field: Annotated[Optional[str], typer.Option(
        help="Column saying done or not (○/×, 済/未, 1/0) or how many times.")] = None,
    encoding: Encoding = None,
    format: TextFormat = "text",
) -> None:
    """Import activities done per area and fiscal year (支え愛マップづくり, 見守り会議 …)."""
    from kenmap.people.activities import import_activities
    from kenmap.workspace import Workspace

    ws = Workspace.open(workspace)
    report = import_activities(
        ws, file, layer=layer_key(ws, layer) or layer, code_field=code_field,
        name_field=name_field, parent_name_field=parent_name_field, activity=activity,
        activity_field=activity_field, year=year, year_field=year_field,
        value_field=value_field, encoding=encoding)
    emit(report.to_dict(), report.lines(), format)


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
    source: Annotated[Optional[str], typer.Option(
        help="Attribution the maps and handouts carry, e.g. 「…を加工して作成」.")] = None,
    format: TextFormat = "text",
) -> None:
    """Import hubs (サロン, 居場所, 包括 …) and locate each in its areas."""
    from kenmap.hubs.imports import import_hubs
    from kenmap.workspace import Workspace

    ws = Workspace.open(workspace)
    report = import_hubs(ws, file, hub_type=type_key(ws, type, "--type"),
                         type_field=type_field, type_map=type_map,
                         name_field=name_field, lon_field=lon_field, lat_field=lat_field,
                         x_field=x_field, y_field=y_field, crs=crs, status=status,
                         encoding=encoding, replace=replace, source=source)
    emit(report.to_dict(), report.lines(), format)


def import_network_cmd(
    workspace: WsArg,
    file: Annotated[Path, typer.Argument(
        help="An OpenStreetMap extract (.osm, .osm.pbf), an OSMnx GraphML, or road lines "
             "(shp, zip, gpkg, geojson) noded by topology or with u/v node columns.")],
    crs: Annotated[Optional[str], typer.Option(
        help="EPSG code of the file's CRS when it declares none.")] = None,
    encoding: Encoding = None,
    layer_name: Annotated[Optional[str], typer.Option(
        help="The layer of the file to read when it has several.")] = None,
    u_field: Annotated[Optional[str], typer.Option(
        help="Field with each line's start node id (default: u when present).")] = None,
    v_field: Annotated[Optional[str], typer.Option(
        help="Field with each line's end node id (default: v when present).")] = None,
    source: Annotated[Optional[str], typer.Option(
        help="Attribution, e.g. 「© OpenStreetMap contributors」.")] = None,
    format: TextFormat = "text",
) -> None:
    """Import a walking network (walkable ways, largest connected part) for --network."""
    from kenmap.network.imports import import_network
    from kenmap.workspace import Workspace

    report = import_network(Workspace.open(workspace), file, crs=crs, encoding=encoding,
                            layer_name=layer_name, u_field=u_field, v_field=v_field,
                            source=source)
    emit(report.to_dict(), report.lines(), format)


def import_terrain_cmd(
    workspace: WsArg,
    files: Annotated[list[Path], typer.Argument(
        help="GSI 基盤地図情報 DEM (FG-GML .xml, or the .zip GSI delivers) or GeoTIFF files.")],
    format: TextFormat = "text",
) -> None:
    """Sample elevations along the network's edges: walking minutes then slow uphill."""
    from kenmap.network.imports import import_terrain
    from kenmap.workspace import Workspace

    report = import_terrain(Workspace.open(workspace), files)
    emit(report.to_dict(), report.lines(), format)
