"""The nesting of layers: which layer is whose parent, and linking children to parents."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from kenmap.errors import KenmapError
from kenmap.geo.overlap import best_parent
from kenmap.model import settings
from kenmap.model.report import listing
from kenmap.workspace import Workspace

if TYPE_CHECKING:
    import geopandas as gpd

#: Share of a child's area that may lie outside its parent before it "does not nest".
DEFAULT_TOLERANCE = settings.NESTING_TOLERANCE


def filled_layers(ws: Workspace) -> list[str]:
    """Keys of the scheme's layers that hold areas, top first."""
    tables = set(ws.tables())
    return [key for key in ws.scheme.keys if key in tables]


def overlay_layers(ws: Workspace) -> list[str]:
    """Keys of the overlay layers (``nested = false``) that hold areas."""
    tables = set(ws.tables())
    return [key for key in ws.scheme.overlays if key in tables]


def area_layers(ws: Workspace) -> list[str]:
    """Keys of every layer that holds areas: the nested ones top first, then the overlays."""
    return [*filled_layers(ws), *overlay_layers(ws)]


def require_areas(ws: Workspace, layer: str) -> None:
    """Refuse a layer with no areas (nested or overlay), naming it."""
    if layer not in area_layers(ws):
        raise KenmapError(f"レイヤ {layer}（{ws.scheme.layer(layer).label}）に区域がありません",
                          field="--layer")


def default_layer(ws: Workspace, hub_type: str | None = None) -> str:
    """The layer a command uses when none is given: the one ``hub_type`` is expected on (the
    catalogue says which) when it holds areas, else the filled layer just above the finest
    (行政区 under 隣近所), else the only filled one. Refused when no layer holds areas."""
    from kenmap.model.catalogue import catalogue_of

    filled = filled_layers(ws)
    if not filled:
        raise KenmapError("区域がまだありません。先に 'kenmap import areas' を実行してください")
    if hub_type is not None:
        type_def = catalogue_of(ws.get("hub_types")).types.get(hub_type)
        expected = type_def.expected_layer(ws.scheme.keys, ws.get("scheme_preset")) \
            if type_def is not None else None
        if expected in filled:
            return str(expected)
    below_top = filled[1:] or filled
    return below_top[-2] if len(below_top) >= 2 else below_top[-1]


def overlay_members(ws: Workspace, overlay: str) -> tuple[str, pd.Series]:
    """The nested areas an overlay area is made of, for its sheet: the coarsest filled layer
    with at least three areas per overlay area (the 地区 of a 包括 area), each area assigned
    to the overlay area holding the largest share of it. Returns the layer and, indexed by
    its codes, the overlay code of each."""
    overlay_areas = ws.read_layer(overlay)
    filled = filled_layers(ws)
    layer = next((key for key in filled
                  if len(ws.read_attributes(key)) >= 3 * len(overlay_areas)), filled[-1])
    areas = ws.read_layer(layer)
    fit = best_parent(areas.geometry.to_numpy(), overlay_areas.geometry.to_numpy())
    codes = overlay_areas["code"].to_numpy()
    return layer, pd.Series([codes[p] if p >= 0 else None for p in fit["parent"]],
                            index=areas["code"].to_numpy(), dtype=object)


def parent_layer(ws: Workspace, key: str) -> str | None:
    """The nearest layer above ``key`` that holds areas (empty layers are skipped); None for
    the top and for an overlay."""
    filled = set(filled_layers(ws))
    keys = ws.scheme.keys
    if key not in keys:
        return None
    for upper in reversed(keys[: keys.index(key)]):
        if upper in filled:
            return upper
    return None


def child_layer(ws: Workspace, key: str) -> str | None:
    """The nearest layer below ``key`` that holds areas (None for an overlay)."""
    filled = set(filled_layers(ws))
    keys = ws.scheme.keys
    if key not in keys:
        return None
    for lower in keys[keys.index(key) + 1:]:
        if lower in filled:
            return lower
    return None


def area_label(frame: pd.DataFrame, pos: int) -> str:
    """``CODE 名前`` of the area at a position, for messages."""
    return f"{frame['code'].iloc[pos]} {frame['name'].iloc[pos]}"


def parent_label_of(parents: pd.DataFrame, others: list[tuple[int, float]]) -> str:
    """Label of the largest of the other parents a child overlaps."""
    return area_label(parents, max(others, key=lambda o: o[1])[0]) if others else "area"


def link_by_location(
    children: gpd.GeoDataFrame,
    parents: gpd.GeoDataFrame,
    *,
    child_layer_label: str,
    parent_layer_label: str,
    tolerance: float = DEFAULT_TOLERANCE,
    source: str | None = None,
) -> tuple[pd.Series, list[str]]:
    """Parent code for each child: the parent holding the largest share of it.

    A child with more than ``tolerance`` of its area inside a second parent does not nest: that
    is an error naming it with its shares, as is a child outside every parent. Smaller overlaps
    are digitising slivers, and a child reaching beyond every parent (a coarser parent
    outline) is accepted; both come back as warnings.
    """
    fit = best_parent(children.geometry.to_numpy(), parents.geometry.to_numpy())
    codes = pd.Series(
        [parents["code"].iloc[p] if p >= 0 else None for p in fit["parent"]],
        index=children.index, dtype=object)
    outside = fit.index[fit["parent"] < 0].tolist()
    if outside:
        names = [area_label(children, i) for i in outside]
        raise KenmapError(
            f"{child_layer_label}の{len(outside)}区域がどの"
            f"{parent_layer_label}にも入っていません: {listing(names)}", file=source)
    others: list[list[tuple[int, float]]] = fit["others"].tolist()
    best: list[int] = fit["parent"].astype(int).tolist()
    best_share: list[float] = fit["share"].astype(float).tolist()
    second = fit["others"].map(lambda o: max((share for _, share in o), default=0.0))
    straddle = fit.index[second > tolerance].tolist()
    if straddle:
        names = []
        for i in straddle:
            shares = [(best[i], best_share[i]), *others[i]]
            parts = ", ".join(f"{area_label(parents, p)} {s:.0%}" for p, s in shares[:3])
            names.append(f"{area_label(children, i)} ({parts})")
        raise KenmapError(
            f"{child_layer_label}の{len(straddle)}区域が1つの"
            f"{parent_layer_label}に収まっていません（{tolerance:.0%} を超えて別の区域にかかる）: "
            f"{listing(names, 3)}", file=source)
    warnings = []
    sliver = fit.index[(second > 0)].tolist()
    if sliver:
        names = [f"{area_label(children, i)} ({second[i]:.2%} in a neighbouring "
                 f"{parent_label_of(parents, others[i])})" for i in sliver]
        warnings.append(
            f"{child_layer_label}の{len(sliver)}区域が隣の"
            f"{parent_layer_label}にわずかに重なっています（大部分を含む上位の区域に割り当てました"
            "）: "
            f"{listing(names)}")
    outside_all = 1 - fit["share"] - fit["others"].map(lambda o: sum(s for _, s in o))
    sticking = fit.index[outside_all > tolerance].tolist()
    if sticking:
        names = [f"{area_label(children, i)} ({outside_all[i]:.0%})" for i in sticking]
        warnings.append(
            f"{child_layer_label}の{len(sticking)}区域がどの"
            f"{parent_layer_label}からもはみ出しています（上位の境界が粗いか、別の出典の"
            f"ものです）: {listing(names)}")
    return codes, warnings


def relink_children(ws: Workspace, key: str, tolerance: float = DEFAULT_TOLERANCE) -> list[str]:
    """After ``key`` changed, re-link the layer below it to its areas. Call inside a transaction."""
    below = child_layer(ws, key)
    if below is None:
        return []
    children = ws.read_layer(below)
    parents = ws.read_layer(key)
    if len(children) == 0:
        return []
    scheme = ws.scheme
    if children["parent_code"].isin(set(parents["code"])).all():
        return []  # already linked to this layer's codes (e.g. by --parent-field)
    codes, warnings = link_by_location(
        children, parents, child_layer_label=scheme.layer(below).label,
        parent_layer_label=scheme.layer(key).label, tolerance=tolerance)
    children["parent_code"] = codes
    ws.write_layer(below, children)
    return [f"{scheme.layer(below).label}: {w}" for w in warnings] + [
        f"{scheme.layer(below).label}の{len(children)}区域を、位置により"
        f"{scheme.layer(key).label}と結び付けました"]
