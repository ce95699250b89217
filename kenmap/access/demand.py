"""The demand model: residents as demand cells, shared by coverage, gaps and siting.

The finest layer that has population is cut by a square grid (default 100 m) aligned to the
zone's origin; each piece carries its share of its area's population and 65+ in proportion to
its area, or, when a population raster or mesh table has been imported, in proportion to the
counts apportioned from it. A piece is reached when its centroid is within reach.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from kenmap.errors import KenmapError
from kenmap.geo.grid import cut_by_grid
from kenmap.geo.zonal import apportion
from kenmap.layers.hierarchy import filled_layers
from kenmap.people.gridded import GRID_TABLES, read_gridded
from kenmap.people.population import table_name
from kenmap.workspace import Workspace

DEFAULT_CELL = 100.0


@dataclass
class Demand:
    """Demand cells of a workspace. Arrays are aligned, one entry per cell."""

    layer: str
    cell: float
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    total: NDArray[np.float64]
    pop65: NDArray[np.float64]
    codes: dict[str, NDArray[np.object_]] = field(default_factory=dict)
    weighting: str = "area"
    _points: NDArray[np.object_] | None = None

    def __len__(self) -> int:
        return len(self.x)

    def points(self) -> NDArray[np.object_]:
        """Cell centroids as shapely points (made once)."""
        if self._points is None:
            self._points = np.asarray(shapely.points(self.x, self.y))
        return self._points


def population_layer(ws: Workspace) -> str:
    """The finest layer that has population."""
    tables = set(ws.tables())
    with_pop = [k for k in filled_layers(ws) if table_name(k) in tables]
    if not with_pop:
        raise KenmapError("the workspace has no population yet; run 'kenmap import population' "
                          "first")
    return with_pop[-1]


_CACHE: dict[tuple[str, float, int, float], Demand] = {}


def demand_cells(ws: Workspace, cell: float = DEFAULT_CELL) -> Demand:
    """The workspace's demand cells (cached per workspace file state)."""
    if cell <= 0 or cell > 10_000:
        raise KenmapError("--cell must be between 0 and 10,000 metres", field="--cell")
    stat = os.stat(ws.path)
    key = (str(ws.path.resolve()), cell, stat.st_size, stat.st_mtime)
    if key not in _CACHE:
        if len(_CACHE) > 8:
            _CACHE.clear()
        _CACHE[key] = _build(ws, cell)
    return _CACHE[key]


def _build(ws: Workspace, cell: float) -> Demand:
    layer = population_layer(ws)
    areas = ws.read_layer(layer)
    pop = ws.read_table(table_name(layer)).set_index("code")
    gridded = {value: read_gridded(ws, value) for value in GRID_TABLES
               if GRID_TABLES[value] in ws.tables()}
    pieces = cut_by_grid(areas.geometry.to_numpy(), cell, keep_geometry=bool(gridded))
    codes = areas["code"].to_numpy()[pieces.owner]
    area_of_owner = shapely.area(areas.geometry.to_numpy())
    share = pieces.area / area_of_owner[pieces.owner]
    weighting = "area"
    figures: dict[str, NDArray[np.float64]] = {}
    for value, column in (("total", "total"), ("pop65", "pop65")):
        area_value = pop[column].reindex(areas["code"]).to_numpy(dtype=float)
        weights = share
        # A pop65 grid spreads 65+; without one, the total grid says where people live.
        grid_key = value if value in gridded else ("total" if "total" in gridded else None)
        if grid_key is not None:
            assert pieces.geometry is not None
            grid_values = apportion(gridded[grid_key]["geometry"].to_numpy(),
                                    gridded[grid_key]["value"].to_numpy(dtype=float),
                                    pieces.geometry)
            sums = np.bincount(pieces.owner, weights=grid_values, minlength=len(areas))
            with np.errstate(invalid="ignore", divide="ignore"):
                weights = np.where(sums[pieces.owner] > 0,
                                   grid_values / sums[pieces.owner], share)
            weighting = "raster"
        figures[value] = area_value[pieces.owner] * weights
    out = Demand(layer, cell, pieces.x, pieces.y, figures["total"], figures["pop65"],
                 weighting=weighting)
    out.codes[layer] = codes
    keys = filled_layers(ws)
    index = keys.index(layer)
    current = pd.Series(codes)
    for upper in reversed(keys[:index]):
        frame = ws.read_attributes(keys[keys.index(upper) + 1])
        parents = pd.Series(frame["parent_code"].to_numpy(), index=frame["code"].to_numpy())
        current = current.map(parents)
        out.codes[upper] = current.to_numpy(dtype=object)
    for lower in keys[index + 1:]:  # finer than the population: locate cell centroids
        finer = ws.read_layer(lower)
        tree = shapely.STRtree(finer.geometry.to_numpy())
        pts = out.points()
        i, j = tree.query(pts, predicate="intersects")
        located = np.full(len(pts), None, dtype=object)
        located[i] = finer["code"].to_numpy()[j]
        out.codes[lower] = located
    return out


def clear_cache() -> None:
    _CACHE.clear()
