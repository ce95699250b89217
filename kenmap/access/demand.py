"""The demand model: residents as demand cells, shared by coverage, gaps and siting.

The finest layer that has population is cut by a square grid (default 100 m) aligned to the
zone's origin; each piece carries its share of its area's population and 65+ in proportion to
its area, or, when a population raster or mesh table has been imported, in proportion to the
counts apportioned from it. A piece is reached when its centroid is within reach.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from kenmap.errors import KenmapError
from kenmap.layers.hierarchy import filled_layers, overlay_layers
from kenmap.model import settings
from kenmap.people.tables import GRID_TABLES, table_name
from kenmap.workspace import Workspace

DEFAULT_CELL = settings.CELL_M


@dataclass
class Demand:
    """Demand cells of a workspace. Arrays are aligned, one entry per cell.

    ``key`` identifies the inputs the cells were built from (workspace, table versions, cell
    size): results computed from these cells can be cached under it.
    """

    layer: str
    cell: float
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    total: NDArray[np.float64]
    pop65: NDArray[np.float64]
    codes: dict[str, NDArray[np.object_]] = field(default_factory=dict)
    weighting: str = "area"
    key: tuple[Any, ...] = ()
    _points: NDArray[np.object_] | None = None
    _index: dict[str, tuple[NDArray[np.object_], NDArray[np.intp]]] = field(
        default_factory=dict)

    def __len__(self) -> int:
        return len(self.x)

    def points(self) -> NDArray[np.object_]:
        """Cell centroids as shapely points (made once)."""
        if self._points is None:
            self._points = np.asarray(shapely.points(self.x, self.y))
        return self._points

    def area_index(self, layer: str) -> tuple[NDArray[np.object_], NDArray[np.intp]]:
        """The area codes of ``layer`` and, per cell, the position of its area (-1: none)."""
        if layer not in self._index:
            inverse, uniques = pd.factorize(pd.Series(self.codes[layer], dtype=object))
            self._index[layer] = (np.asarray(uniques, dtype=object), inverse)
        return self._index[layer]

    def per_area(self, layer: str, values: NDArray[np.float64]) -> pd.Series:
        """Sum of ``values`` over the cells of each area of ``layer`` (NaN where all are NaN)."""
        uniques, inverse = self.area_index(layer)
        inside = inverse >= 0
        known = inside & ~np.isnan(values)
        sums = np.bincount(inverse[known], weights=values[known], minlength=len(uniques))
        counts = np.bincount(inverse[known], minlength=len(uniques))
        return pd.Series(np.where(counts > 0, sums, np.nan), index=pd.Index(uniques, name="code"))

    # -- stored form ---------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        """The cells as an ``.npz`` (no pickles): area codes as indexes into code lists."""
        arrays: dict[str, Any] = {"x": self.x, "y": self.y, "total": self.total,
                                  "pop65": self.pop65}
        layers = list(self.codes)
        for i, layer in enumerate(layers):
            uniques, inverse = self.area_index(layer)
            arrays[f"index{i}"] = inverse.astype(np.int32)
            arrays[f"codes{i}"] = np.asarray([str(c) for c in uniques], dtype=str)
        arrays["about"] = np.asarray([json.dumps({"layer": self.layer, "cell": self.cell,
                                                  "weighting": self.weighting,
                                                  "layers": layers})])
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes, key: tuple[Any, ...]) -> Demand:
        """Cells read back from :meth:`to_bytes`; ``key`` is the input key they were built
        from."""
        with np.load(io.BytesIO(data), allow_pickle=False) as stored:
            about = json.loads(str(stored["about"][0]))
            out = cls(about["layer"], float(about["cell"]), stored["x"], stored["y"],
                      stored["total"], stored["pop65"], weighting=about["weighting"], key=key)
            for i, layer in enumerate(about["layers"]):
                inverse = stored[f"index{i}"].astype(np.intp)
                uniques = np.asarray(stored[f"codes{i}"].tolist(), dtype=object)
                codes = np.full(len(inverse), None, dtype=object)
                codes[inverse >= 0] = uniques[inverse[inverse >= 0]]
                out.codes[layer] = codes
                out._index[layer] = (uniques, inverse)
        return out


def require_pop65(ws: Workspace, demand: Demand, what: str) -> None:
    """Refuse to weight by 65+ where no 65+ count was ever imported (a file of totals only,
    such as e-Stat's JINKO): a reach rate or an optimum on no demand would be a silent blank."""
    if np.isnan(demand.pop65).all():
        population = ws.get("population", {}).get(demand.layer, {})
        source = population.get("source") or population.get("file") or "?"
        raise KenmapError(
            f"{what} には65歳以上の人数が必要ですが、"
            f"{ws.scheme.layer(demand.layer).label}（{source}）の人口にはありません（65歳以上が未取"
            "込）: "
            "年齢別の表（5歳階級か65歳以上の列）を 'kenmap import "
            "population' で取り込んでください",
            field="--radius" if what.startswith("到達圏") else None)


def pop65_missing_reason(ws: Workspace, layer: str) -> str:
    """Why an area's 65+ is unknown: never imported, or suppressed in the source (秘匿)."""
    info = ws.get("population", {}).get(layer, {})
    if "figures" in info and "pop65" not in info["figures"]:
        return "65歳以上が未取込です（年齢別の人口を取り込んでください）"
    return "65歳以上の人口が不明です（秘匿）"


def population_layer(ws: Workspace) -> str:
    """The finest layer that has population."""
    tables = set(ws.tables())
    with_pop = [k for k in filled_layers(ws) if table_name(k) in tables]
    if not with_pop:
        raise KenmapError("ワークスペースにまだ人口がありません。先に 'kenmap import population' "
                          "を実行してください")
    return with_pop[-1]


#: Demand cells by the inputs they were built from; a hub edit does not touch them.
_CACHE: dict[tuple[Any, ...], Demand] = {}
#: Bump when the stored form or the demand model changes: stored cells are then rebuilt.
_MODEL = 2


def demand_inputs(ws: Workspace) -> list[str]:
    """The tables demand cells are built from: the layers (overlays too: each cell carries
    their codes), their population and any grids."""
    tables = set(ws.tables())
    layers = filled_layers(ws)
    return [*layers, *overlay_layers(ws),
            *(table_name(k) for k in layers if table_name(k) in tables),
            *(t for t in GRID_TABLES.values() if t in tables)]


def demand_cells(ws: Workspace, cell: float = DEFAULT_CELL) -> Demand:
    """The workspace's demand cells.

    Cached by what they depend on (the layers, population and grids; not the hubs), in this
    process and in the workspace itself, so a fresh process does not rebuild them either.
    """
    if cell <= 0 or cell > 10_000:
        raise KenmapError("--cell は0～10,000メートルにしてください", field="--cell")
    key = (*ws.state_of(demand_inputs(ws)), "cell", float(cell), "model", _MODEL)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    blob_key = f"demand:{float(cell)}"
    digest = hashlib.sha256(repr(key[1:]).encode()).hexdigest()
    stored = ws.read_blob(blob_key)
    if stored is not None and stored[0] == digest:
        demand = Demand.from_bytes(stored[1], key)
    else:
        demand = _build(ws, cell)
        demand.key = key
        _persist(ws, blob_key, digest, demand)
    if len(_CACHE) >= 4:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = demand
    return demand


def _persist(ws: Workspace, key: str, digest: str, demand: Demand) -> None:
    """Keep the cells to store in the workspace when the command succeeds."""
    ws.keep_blob(key, digest, demand.to_bytes())


def _build(ws: Workspace, cell: float) -> Demand:
    from kenmap.geo.grid import cut_by_grid
    from kenmap.geo.zonal import apportion
    from kenmap.people.gridded import read_gridded

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
    # Finer than the population, and the overlays (包括 areas, school districts) that follow
    # no nesting: each cell belongs to the area holding its centroid.
    for lower in [*keys[index + 1:], *overlay_layers(ws)]:
        finer = ws.read_layer(lower)
        tree = shapely.STRtree(finer.geometry.to_numpy())
        pts = out.points()
        i, j = tree.query(pts, predicate="intersects")
        located = np.full(len(pts), None, dtype=object)
        located[i] = finer["code"].to_numpy()[j]
        out.codes[lower] = located
    return out


def clear_cache() -> None:
    """Forget the demand cells held in memory (cells stored in workspaces stay)."""
    _CACHE.clear()
