"""Gridded population: a count raster or a JIS mesh table, kept as polygons with values.

Imported grids do not replace the area counts of ``stats``; they say how residents are spread
*inside* areas (the demand cells), or, where an area table is missing, supply the counts.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np

from kenmap.errors import KenmapError
from kenmap.geo.mesh import mesh_polygons
from kenmap.geo.raster import raster_cells
from kenmap.geo.table_io import read_table
from kenmap.geo.vector_io import ROW
from kenmap.model.report import Report
from kenmap.people.counts import parse_counts
from kenmap.people.tables import GRID_TABLES
from kenmap.workspace import Workspace


def read_gridded(ws: Workspace, value: str) -> gpd.GeoDataFrame:
    """The imported grid of ``value`` (``total`` or ``pop65``) as polygons with values."""
    return ws.read_table(GRID_TABLES[value])


def _check_value(value: str) -> str:
    if value not in GRID_TABLES:
        raise KenmapError(f"--value は {' または '.join(GRID_TABLES)} にしてください",
                          field="--value")
    return GRID_TABLES[value]


def _store(ws: Workspace, cells: gpd.GeoDataFrame, value: str, source: Path, kind: str
           ) -> Report:
    table = _check_value(value)
    if ws.crs_epsg is None:
        raise KenmapError("先に区域を取り込んでください: 格子は区域の座標系で保存されます")
    cells = cells.to_crs(ws.crs_epsg)
    city = ws.read_layer(ws.scheme.keys[0]) if ws.has_layer(ws.scheme.keys[0]) else None
    inside = float(cells["value"].sum())
    if city is not None and len(city):
        from kenmap.geo.zonal import apportion

        inside = float(apportion(cells.geometry.to_numpy(), cells["value"].to_numpy(),
                                 city.geometry.to_numpy()).sum())
        if inside == 0:
            raise KenmapError("格子が市域とまったく重なりません。座標系を確認してください",
                              file=source)
    with ws.transaction() as tx:
        tx.write_table(table, cells[["value", "geometry"]])
        grids = dict(tx.get("grids", {}))
        grids[value] = {"file": str(source), "kind": kind, "cells": len(cells),
                        "sum": float(cells["value"].sum()), "inside_city": inside}
        tx.put("grids", grids)
        tx.record(f"import {kind}", value=value, file=str(source))
    report = Report(f"Imported {len(cells)} {kind} cells of {value} ({cells['value'].sum():,.0f} "
                    f"in all, {inside:,.0f} inside the city)")
    report.facts.update({"cells": len(cells), "sum": float(cells["value"].sum()),
                         "inside_city": inside})
    return report


def import_raster(ws: Workspace, path: str | Path, *, value: str, band: int = 1) -> Report:
    """A GeoTIFF of counts (e.g. a mesh population grid)."""
    _check_value(value)
    path = Path(path)
    cells = raster_cells(path, band)
    if len(cells) == 0:
        raise KenmapError("ラスタに正の人数がありません", file=path)
    return _store(ws, cells, value, path, "raster")


def import_mesh(ws: Workspace, path: str | Path, *, value: str, mesh_field: str,
                value_field: str, encoding: str | None = None) -> Report:
    """A CSV/XLSX of counts keyed by JIS X 0410 mesh code (1 km, 500 m, 250 m …)."""
    _check_value(value)
    path = Path(path)
    table = read_table(path, encoding=encoding)
    table[ROW] = np.arange(len(table)) + 2
    for col in (mesh_field, value_field):
        if col not in table.columns:
            raise KenmapError(f"列がありません。ファイルの列: {', '.join(_visible(table.columns))}",
                              file=path, field=col)
    counts, _ = parse_counts(table[value_field], file=str(path), field=value_field,
                             rows=table[ROW])
    polys = mesh_polygons([str(c).strip() for c in table[mesh_field]], file=str(path),
                          field=mesh_field, rows=table[ROW].tolist())
    cells = gpd.GeoDataFrame({"value": counts.fillna(0).to_numpy()}, geometry=polys, crs=6668)
    return _store(ws, cells[cells["value"] > 0], value, path, "mesh")


def _visible(columns: object) -> list[str]:
    """Column names a user gave (not kenmap's own bookkeeping such as the row number)."""
    return [str(c) for c in columns if not str(c).startswith("_")  # type: ignore[attr-defined]
            and str(c) != "geometry"]
