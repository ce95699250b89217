"""隣近所 cells: small squares clipped to each 行政区, for towns without official boundaries."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from kenmap.errors import KenmapError
from kenmap.geo.grid import cut_by_grid
from kenmap.geo.zonal import apportion
from kenmap.layers.locate import relocate_points
from kenmap.model.report import Report
from kenmap.people.gridded import read_gridded
from kenmap.people.tables import GRID_TABLES, table_name
from kenmap.workspace import Workspace


def _largest_remainder(values: np.ndarray, groups: np.ndarray, totals: pd.Series
                       ) -> np.ndarray:
    """Whole numbers per piece that add up exactly to each group's total."""
    out = np.floor(values).astype(float)
    frame = pd.DataFrame({"g": groups, "frac": values - out, "i": np.arange(len(values))})
    short = (totals.reindex(pd.unique(groups)).fillna(0)
             - pd.Series(out).groupby(groups).sum()).round().astype(int)
    for group, part in frame.sort_values("frac", ascending=False).groupby("g", sort=False):
        need = int(short.get(group, 0))
        if need > 0:
            out[part["i"].to_numpy()[:need]] += 1
    return out


def derive_neighbourhoods(ws: Workspace, *, from_layer: str, size: float = 200.0,
                          target: str | None = None) -> Report:
    """Fill the layer below ``from_layer`` with ``size``-metre cells clipped to its areas.

    Population is apportioned from the parent by area (or by the imported raster), rounded so
    each parent's counts are kept exactly; suppressed counts stay unknown.
    """
    scheme = ws.scheme
    parent_def = scheme.layer(from_layer)
    if not parent_def.nested:
        raise KenmapError(f"{from_layer}（{parent_def.label}）は入れ子でない層です。"
                          "入れ子の層を指定してください", field="--from")
    index = scheme.index(from_layer)
    if index + 1 >= len(scheme.keys):
        raise KenmapError(f"{from_layer} はこの区域体系で最も細かいレイヤです。"
                          "その下に埋めるレイヤはありません", field="--from")
    key = target or scheme.keys[index + 1]
    child_def = scheme.layer(key)
    if scheme.index(key) != index + 1:
        raise KenmapError(f"{key} は {from_layer} のすぐ下のレイヤではありません", field="--layer")
    if not 20 <= size <= 5_000:
        raise KenmapError("--size は20～5,000メートルにしてください", field="--size")
    parents = ws.read_layer(from_layer)
    if len(parents) == 0:
        raise KenmapError(f"レイヤ {from_layer} に区域がありません", field="--from")
    pieces = cut_by_grid(parents.geometry.to_numpy(), size, keep_geometry=True)
    assert pieces.geometry is not None
    codes = parents["code"].to_numpy()[pieces.owner]
    order = np.lexsort((pieces.ix, -pieces.iy, pieces.owner))
    number = pd.Series(np.ones(len(order), dtype=int)).groupby(pieces.owner[order]).cumsum()
    cell_codes = np.empty(len(order), dtype=object)
    cell_names = np.empty(len(order), dtype=object)
    parent_names = parents["name"].to_numpy()[pieces.owner]
    for rank, i in enumerate(order):
        n = int(number.iloc[rank])
        cell_codes[i] = f"{codes[i]}-{n:03d}"
        cell_names[i] = f"{parent_names[i]} {n}"
    cells = gpd.GeoDataFrame({"code": cell_codes, "name": cell_names, "parent_code": codes},
                             geometry=pieces.geometry, crs=parents.crs).iloc[order]
    cells = cells.reset_index(drop=True)
    report = Report(f"Derived {len(cells)} {child_def.label} ({key}) cells of {size:.0f} m in "
                    f"{len(parents)} {parent_def.label} areas")
    pop_table = table_name(from_layer)
    stored = None
    if pop_table in ws.tables():
        pop = ws.read_table(pop_table).set_index("code")
        owner_codes = cells["parent_code"].to_numpy()
        area = cells.geometry.area.to_numpy()
        parent_area = parents.set_index("code").geometry.area
        weights = area / parent_area.reindex(owner_codes).to_numpy()
        grids = {v: read_gridded(ws, v) for v in GRID_TABLES if GRID_TABLES[v] in ws.tables()}
        stored = pd.DataFrame({"code": cells["code"].to_numpy()})
        for column in ("total", "pop65", "pop75", "households"):
            w = weights
            grid_key = column if column in grids else ("total" if "total" in grids else None)
            if grid_key is not None:
                raw = apportion(grids[grid_key].geometry.to_numpy(),
                                grids[grid_key]["value"].to_numpy(dtype=float),
                                cells.geometry.to_numpy())
                sums = pd.Series(raw).groupby(owner_codes).transform("sum").to_numpy()
                with np.errstate(invalid="ignore", divide="ignore"):
                    w = np.where(sums > 0, raw / sums, weights)
            parent_value = pop[column].reindex(owner_codes).to_numpy(dtype=float)
            known = ~np.isnan(parent_value)
            values = np.full(len(cells), np.nan)
            values[known] = _largest_remainder(parent_value[known] * w[known],
                                               owner_codes[known], pop[column])
            stored[column] = values
        stored["missing"] = stored[["total", "pop65", "pop75"]].isna().sum(axis=1)
        report.notes.append("人口は上位の区域から"
                            + ("取り込んだ格子で" if grids else "面積で")
                            + "按分し、上位の区域ごとの人数が正確に保たれるよう丸めました")
    with ws.transaction() as tx:
        if tx.has_layer(key):
            report.warnings.append(f"既存の{child_def.label}レイヤを置き換えました")
        tx.write_layer(key, cells)
        populations = dict(tx.get("population", {}))
        if stored is not None:
            tx.write_table(table_name(key), stored)
            parent_info = populations.get(from_layer, {})
            populations[key] = {**parent_info, "source": f"{parent_info.get('source', '')}"
                                f"（{parent_def.label}から按分）", "apportioned_from": from_layer}
        elif table_name(key) in tx.tables():
            tx.drop_table(table_name(key))
            populations.pop(key, None)
        tx.put("population", populations)
        relocate_points(tx)
        tx.set_layer_info(key, {"derived_from": from_layer, "how": f"{size:.0f} m cells",
                                "count": len(cells)})
        tx.record("derive-neighbourhoods", layer=key, from_layer=from_layer, size=size)
    report.facts.update({"layer": key, "count": len(cells)})
    return report
