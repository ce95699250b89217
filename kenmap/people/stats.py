"""Figures of every area on a layer: population, aging rates, area and hubs.

Counts are stored on the layer they were given for and summed upward through the parent
links; rates are always recomputed from summed counts (Σ65+ / Σtotal), never averaged.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from kenmap.errors import KenmapError
from kenmap.hubs.table import HUBS, counting
from kenmap.layers.hierarchy import filled_layers
from kenmap.layers.locate import area_column
from kenmap.people.tables import table_name
from kenmap.workspace import Workspace

STAT_FIELDS = ["code", "name", "parent_code", "population", "pop65", "pop75", "households",
               "aging_rate", "late_aging_rate", "area_km2", "hubs"]


def source_layer(ws: Workspace, layer: str) -> str | None:
    """The layer whose population feeds ``layer``: itself or the nearest finer one."""
    tables = set(ws.tables())
    keys = filled_layers(ws)
    for key in keys[keys.index(layer):]:
        if table_name(key) in tables:
            return key
    return None


def code_map(ws: Workspace, finer: str, coarser: str) -> pd.Series:
    """Map each ``finer`` area code to its ancestor's code on ``coarser``."""
    keys = filled_layers(ws)
    chain = keys[keys.index(coarser) + 1: keys.index(finer) + 1]
    frame = ws.read_attributes(finer)
    mapping = pd.Series(frame["parent_code"].to_numpy(), index=frame["code"].to_numpy())
    for key in reversed(chain[:-1]):
        parents = ws.read_attributes(key)
        up = pd.Series(parents["parent_code"].to_numpy(), index=parents["code"].to_numpy())
        mapping = mapping.map(up)
    return mapping


#: Counts by layer and the versions of the tables they are summed from.
_COUNTS: dict[tuple[Any, ...], pd.DataFrame] = {}


#: How 高齢化率 is divided, and how the output says so.
RATE_BASES = {
    "total": "高齢化率 = 65歳以上 ÷ 総数（年齢不詳を含む）",
    "known": "高齢化率 = 65歳以上 ÷ 年齢が判明している人口（総数 − 年齢不詳）",
}


def layer_counts(ws: Workspace, layer: str, rate_base: str = "total") -> pd.DataFrame:
    """Summed counts and rates per area code of ``layer`` (no geometry read: fast).

    Cached by the versions of the layers and population tables: a hub edit keeps them.
    """
    tables = set(ws.tables())
    layers = filled_layers(ws)
    key = (*ws.state_of([*layers, layer,
                         *(table_name(k) for k in layers if table_name(k) in tables)]),
           layer, rate_base)
    if key not in _COUNTS:
        if len(_COUNTS) > 64:
            _COUNTS.pop(next(iter(_COUNTS)))
        _COUNTS[key] = _overlay_counts(ws, layer, rate_base) \
            if layer in ws.scheme.overlays else _layer_counts(ws, layer, rate_base)
    return _COUNTS[key].copy()


def crosswalk(ws: Workspace, overlay: str) -> pd.DataFrame:
    """Each area of the finest layer with population (``base``) and its share in each area of
    ``overlay`` it meets (``share``: of its area, the people being spread evenly within the
    finest areas kenmap knows them by)."""
    import shapely

    tables = set(ws.tables())
    bases = [k for k in reversed(filled_layers(ws)) if table_name(k) in tables]
    if not bases:
        return pd.DataFrame({"base": [], "overlay": [], "share": []})
    base = ws.read_layer(bases[0])
    over = ws.read_layer(overlay)
    tree = shapely.STRtree(over.geometry.to_numpy())
    b, o = tree.query(base.geometry.to_numpy(), predicate="intersects")
    pieces = shapely.area(shapely.intersection(base.geometry.to_numpy()[b],
                                               over.geometry.to_numpy()[o]))
    share = pieces / np.maximum(shapely.area(base.geometry.to_numpy()[b]), 1e-9)
    out = pd.DataFrame({"base": base["code"].to_numpy()[b], "overlay": over["code"].to_numpy()[o],
                        "share": share})
    out = out[out["share"] > 1e-9]
    out.attrs["base_layer"] = bases[0]
    return out


def _overlay_counts(ws: Workspace, layer: str, rate_base: str) -> pd.DataFrame:
    """Counts of an overlay's areas from the finest populated layer through the crosswalk;
    rates from the summed counts."""
    codes = ws.read_attributes(layer, ["code"])["code"]
    cols = ["population", "pop65", "pop75", "households", "aging_rate", "late_aging_rate",
            "missing"]
    walk = crosswalk(ws, layer)
    if len(walk) == 0:
        return pd.DataFrame(np.nan, index=pd.Index(codes, name="code"), columns=cols)
    pop = ws.read_table(table_name(walk.attrs["base_layer"])).set_index("code")
    merged = walk.join(pop, on="base")
    weighted = pd.DataFrame({"target": merged["overlay"].to_numpy()})
    for col, out in (("total", "population"), ("pop65", "pop65"), ("pop75", "pop75"),
                     ("households", "households")):
        weighted[out] = merged[col].to_numpy(dtype=float) * merged["share"].to_numpy()
    both = merged["total"].notna() & merged["pop65"].notna()
    both75 = merged["total"].notna() & merged["pop75"].notna()
    weighted["rate_total"] = weighted["population"].where(both.to_numpy())
    weighted["rate_pop65"] = weighted["pop65"].where(both.to_numpy())
    weighted["rate75_total"] = weighted["population"].where(both75.to_numpy())
    weighted["rate_pop75"] = weighted["pop75"].where(both75.to_numpy())
    weighted["missing"] = (merged["missing"].fillna(0).to_numpy() > 0).astype(int)
    summed = weighted.groupby("target").sum(min_count=1).reindex(codes)
    return _from_sums(summed, "population")


def _layer_counts(ws: Workspace, layer: str, rate_base: str = "total") -> pd.DataFrame:
    codes = ws.read_attributes(layer, ["code"])["code"]
    cols = ["population", "pop65", "pop75", "households", "aging_rate", "late_aging_rate",
            "missing"]
    source = source_layer(ws, layer)
    if source is None:
        return pd.DataFrame(np.nan, index=pd.Index(codes, name="code"), columns=cols)
    pop = ws.read_table(table_name(source))
    target = pop["code"] if source == layer else pop["code"].map(code_map(ws, source, layer))
    pop = pop.assign(target=target.to_numpy())
    # Rates only over rows where both counts are known: a suppressed 65+ must not lower the
    # rate of the area it sums into.
    both = pop["total"].notna() & pop["pop65"].notna()
    both75 = pop["total"].notna() & pop["pop75"].notna()
    if rate_base == "known" and "age_unknown" in pop.columns:
        # The census total includes people of unknown age; this base leaves them out.
        pop = pop.assign(total_for_rate=pop["total"] - pop["age_unknown"].fillna(0))
    else:
        pop = pop.assign(total_for_rate=pop["total"])
    pop["rate_total"] = pop["total_for_rate"].where(both)
    pop["rate_pop65"] = pop["pop65"].where(both)
    pop["rate75_total"] = pop["total_for_rate"].where(both75)
    pop["rate_pop75"] = pop["pop75"].where(both75)
    grouped = pop.groupby("target")
    summed = grouped[["total", "pop65", "pop75", "households", "rate_total", "rate_pop65",
                      "rate75_total", "rate_pop75"]].sum(min_count=1)
    summed["missing"] = grouped["missing"].sum()
    summed = summed.reindex(codes)
    return _from_sums(summed, "total")


def _from_sums(summed: pd.DataFrame, population: str) -> pd.DataFrame:
    """The counts of each area and its rates from the summed counts (rates only over the
    rows where both counts were known: ``rate_*`` columns)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = summed["rate_pop65"] / summed["rate_total"] * 100
        late = summed["rate_pop75"] / summed["rate75_total"] * 100
    out = pd.DataFrame({
        "population": summed[population], "pop65": summed["pop65"], "pop75": summed["pop75"],
        "households": summed["households"],
        "aging_rate": rate.where(summed["rate_total"] > 0),
        "late_aging_rate": late.where(summed["rate75_total"] > 0),
        "missing": summed["missing"].fillna(0),
        "rate_denominator": summed["rate_total"], "rate75_denominator": summed["rate75_total"]})
    out.index.name = "code"
    return out


def layer_stats(ws: Workspace, layer: str, rate_base: str = "total") -> pd.DataFrame:
    """One row per area of ``layer`` with the ``stats`` fields plus ``missing``.

    Parameters
    ----------
    ws
        The workspace.
    layer
        Layer key.
    rate_base
        ``total`` (65+ ÷ the total including unknown age, the census's own total) or
        ``known`` (65+ ÷ the people of known age); see :data:`RATE_BASES`.
    """
    if rate_base not in RATE_BASES:
        raise KenmapError(f"--rate-base は {' または '.join(RATE_BASES)} にしてください",
                          field="--rate-base")
    ws.scheme.layer(layer)
    areas = ws.read_layer(layer)
    if len(areas) == 0:
        raise KenmapError(f"レイヤ {layer} に区域がありません", field="--layer")
    out = pd.DataFrame({"code": areas["code"], "name": areas["name"],
                        "parent_code": areas["parent_code"]})
    counts = layer_counts(ws, layer, rate_base).reindex(out["code"])
    for col in ("population", "pop65", "pop75", "households", "aging_rate",
                "late_aging_rate", "missing"):
        out[col] = counts[col].to_numpy()
    if rate_base != "total":  # the total line divides by the same denominators
        out["rate_denominator"] = counts["rate_denominator"].to_numpy()
        out["rate75_denominator"] = counts["rate75_denominator"].to_numpy()
    out.attrs["rate_base"] = rate_base
    out["missing"] = out["missing"].fillna(0).astype(int)
    out["area_km2"] = areas.geometry.area.to_numpy() / 1e6
    hubs = ws.read_points(HUBS)
    column = area_column(layer)
    if layer in ws.scheme.overlays and len(hubs) and column not in hubs.columns:
        # located before the overlay existed (an older workspace): by containment
        import shapely

        tree = shapely.STRtree(areas.geometry.to_numpy())
        points = shapely.points(hubs["x"].to_numpy(dtype=float), hubs["y"].to_numpy(dtype=float))
        p, a = tree.query(points, predicate="intersects")
        where = np.full(len(hubs), None, dtype=object)
        where[p] = areas["code"].to_numpy()[a]
        hubs = hubs.assign(**{column: where})
    existing = counting(hubs, ws)
    by_area: dict[str, dict[str, int]] = {}
    if len(existing) and column in existing.columns:
        counted = existing.groupby([column, "type"]).size()
        for (code, hub_type), n in counted.items():
            by_area.setdefault(str(code), {})[str(hub_type)] = int(n)
    out["hubs"] = [by_area.get(str(c), {}) for c in out["code"]]
    return out.reset_index(drop=True)


def total_row(stats: pd.DataFrame) -> dict[str, Any]:
    """The layer's total line (rates from summed counts)."""
    rows = stats
    pop, p65, p75 = rows["population"].sum(min_count=1), rows["pop65"].sum(min_count=1), \
        rows["pop75"].sum(min_count=1)
    base, base75 = "population", "population"
    if "rate_denominator" in rows.columns:
        base, base75 = "rate_denominator", "rate75_denominator"
    known = rows[base].notna() & rows["pop65"].notna()
    rate = rows.loc[known, "pop65"].sum() / rows.loc[known, base].sum() * 100 \
        if known.any() and rows.loc[known, base].sum() > 0 else np.nan
    known75 = rows[base75].notna() & rows["pop75"].notna()
    late = rows.loc[known75, "pop75"].sum() / rows.loc[known75, base75].sum() * 100 \
        if known75.any() and rows.loc[known75, base75].sum() > 0 else np.nan
    hubs: dict[str, int] = {}
    for mapping in rows["hubs"]:
        for key, n in mapping.items():
            hubs[key] = hubs.get(key, 0) + n
    return {"code": "", "name": "合計", "parent_code": None, "population": pop, "pop65": p65,
            "pop75": p75, "households": rows["households"].sum(min_count=1),
            "aging_rate": rate, "late_aging_rate": late,
            "area_km2": rows["area_km2"].sum(), "hubs": hubs,
            "missing": int(rows["missing"].sum())}


def records(stats: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows: unrounded numbers, ``null`` for unknown, counts as integers (rounded:
    projected counts are fractional)."""
    out = []
    for row in stats.to_dict(orient="records"):
        rec: dict[str, Any] = {}
        for key in [*STAT_FIELDS, "missing"]:
            value = row.get(key)
            if key == "missing" and not value:
                continue
            if isinstance(value, float) and np.isnan(value):
                value = None
            elif key in ("population", "pop65", "pop75", "households") and value is not None:
                value = round(float(value))
            elif isinstance(value, (np.integer, np.floating)):
                value = value.item()
            rec[key] = value
        out.append(rec)
    return out


#: Figures compared between two dates (``stats --compare``).
COMPARED = ("population", "pop65", "aging_rate")


def compare_stats(now: pd.DataFrame, then: pd.DataFrame) -> pd.DataFrame:
    """``now``'s rows with each compared figure at the earlier date (``{field}_then``) and its
    change (``{field}_change``; 高齢化率 in percentage points), and the hubs open then
    (``hubs_then``) and the change per type (``hubs_change``, from their 開設日 and 廃止日).
    Areas are matched by code, so snapshots on different boundary vintages compare where
    codes persist; an area with no code then has no change (``matched`` False), never a
    change from zero."""
    before = then.drop_duplicates("code").set_index("code")
    out = now.copy()
    out["matched"] = out["code"].isin(before.index).to_numpy()
    for col in COMPARED:
        previous = pd.to_numeric(before[col], errors="coerce").reindex(out["code"]).to_numpy()
        out[f"{col}_then"] = previous
        out[f"{col}_change"] = pd.to_numeric(out[col], errors="coerce").to_numpy() - previous
    hubs_then = before["hubs"].reindex(out["code"]).to_numpy()
    out["hubs_then"] = [h if isinstance(h, dict) else {} for h in hubs_then]
    out["hubs_change"] = [
        {t: n for t in sorted(set(now_h) | set(then_h))
         if (n := int(now_h.get(t, 0)) - int(then_h.get(t, 0)))}
        for now_h, then_h in zip(out["hubs"], out["hubs_then"])]
    out.attrs.update(now.attrs)
    out.attrs["gone"] = sorted(set(before.index) - set(out["code"]))
    return out

