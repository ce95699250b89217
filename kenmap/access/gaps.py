"""Gaps: which areas lack a local hub, and how many older residents that leaves out."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from kenmap.access.demand import (
    DEFAULT_CELL,
    Demand,
    demand_cells,
    pop65_missing_reason,
    require_pop65,
)
from kenmap.access.netreach import NetworkReach
from kenmap.access.reach import (
    DEFAULT_DETOUR,
    HubSet,
    hubs_inside,
    hubs_of,
    nearest_walk,
    responsible_codes,
)
from kenmap.errors import KenmapError
from kenmap.layers.hierarchy import filled_layers, overlay_layers, require_areas
from kenmap.model import settings
from kenmap.model.catalogue import catalogue_of
from kenmap.people.stats import layer_counts
from kenmap.workspace import Workspace

GAP_FIELDS = ["code", "name", "hub_type", "lacking", "reason", "hubs_inside", "pop65",
              "pop65_reached", "reach_rate", "nearest_hub_m"]
DEFAULT_MIN_REACH = settings.MIN_REACH_PERCENT


def _per_area(demand: Demand, layer: str, values: np.ndarray) -> pd.Series:
    return demand.per_area(layer, np.asarray(values, dtype=float))


def gap_table(
    ws: Workspace,
    *,
    layer: str,
    hub_type: str,
    radius: float | None = None,
    with_planned: bool = False,
    detour: float = DEFAULT_DETOUR,
    min_reach: float = DEFAULT_MIN_REACH,
    cell: float = DEFAULT_CELL,
    demand: Demand | None = None,
    hubs: HubSet | None = None,
    network: NetworkReach | None = None,
) -> pd.DataFrame:
    """One row per area of ``layer`` with the ``gaps`` fields, most 65+ left out first."""
    scheme = ws.scheme
    layer_label = scheme.layer(layer).label
    type_def = catalogue_of(ws.get("hub_types")).get(hub_type)
    if radius is not None and radius <= 0:
        raise KenmapError("--radius は正のメートル数にしてください", field="--radius")
    if not 0 <= min_reach <= 100:
        raise KenmapError("--min-reach は0～100の百分率にしてください", field="--min-reach")
    require_areas(ws, layer)
    hubs = hubs if hubs is not None else hubs_of(ws, hub_type, with_planned=with_planned)
    demand = demand if demand is not None else demand_cells(ws, cell)
    # The same question on the same demand, hubs and counts has the same answer: coverage asks
    # every type on every layer, and after one hub edit only that type's tables change.
    memo_key = (demand.key or id(demand), layer, hub_type, radius, with_planned, detour,
                repr(ws.get("hub_types")),  # the reasons name the type's label
                network and (network.key, network.walking),
                min_reach, cell, _hub_digest(hubs, layer),
                ws.state_of([*filled_layers(ws), *overlay_layers(ws), *(t for t in ws.tables()
                                                   if t.startswith("population_"))]))
    if demand.key and memo_key in _TABLES:
        return _TABLES[memo_key].copy()
    table = _gap_table(ws, layer, hub_type, type_def, layer_label, radius, with_planned,
                       detour, min_reach, cell, demand, hubs, network)
    if demand.key:
        if len(_TABLES) >= 256:
            _TABLES.pop(next(iter(_TABLES)))
        _TABLES[memo_key] = table.copy()
    return table


#: Gap tables by everything they depend on (see :func:`gap_table`).
_TABLES: dict[tuple[Any, ...], pd.DataFrame] = {}


def _hub_digest(hubs: HubSet, layer: str) -> str:
    """What of a hub set a gap table depends on: positions, areas held, areas named."""
    digest = hashlib.sha256(np.asarray(hubs.x, dtype=float).tobytes()
                            + np.asarray(hubs.y, dtype=float).tobytes())
    for column in (f"area_{layer}", "responsible"):
        if column in hubs.frame.columns:
            digest.update("\x1f".join(map(str, hubs.frame[column].tolist())).encode())
    return digest.hexdigest()


def _gap_table(ws: Workspace, layer: str, hub_type: str, type_def: Any, layer_label: str,
               radius: float | None, with_planned: bool, detour: float, min_reach: float,
               cell: float, demand: Demand, hubs: HubSet, network: NetworkReach | None
               ) -> pd.DataFrame:
    areas = ws.read_attributes(layer)
    walk = network.walk(demand, hubs) if network is not None else \
        nearest_walk(demand, hubs, detour)
    unit = network.walking.unit if network is not None else "m"
    # The distance column stays in metres (along the network when measured so).
    metres = walk if network is None or unit == "m" else network.in_metres().walk(demand, hubs)
    if radius is not None:
        require_pop65(ws, demand, f"到達圏（{radius:.0f} {unit} 以内）")
    unknown_reason = pop65_missing_reason(ws, demand.layer)
    known = ~np.isnan(demand.pop65)
    pop65 = np.where(known, demand.pop65, 0.0)
    area_pop65 = _per_area(demand, layer, np.where(known, demand.pop65, np.nan))
    cells_pop65 = area_pop65
    overlay = layer in ws.scheme.overlays
    if overlay or (layer in demand.codes and filled_layers(ws).index(layer)
                   <= filled_layers(ws).index(demand.layer)):
        # At or above the population layer: the exact summed counts that stats shows. An
        # overlay's counts come through the crosswalk (as stats shows them); its reach rate is
        # the share of its cells' 65+ reached, applied to that count.
        exact = layer_counts(ws, layer)["pop65"]
        area_pop65 = exact.where(exact.notna(), np.nan)
    with np.errstate(invalid="ignore"):
        weighted = _per_area(demand, layer, np.where(known & np.isfinite(metres),
                                                     pop65 * metres, np.nan))
    finite_pop = _per_area(demand, layer, np.where(known & np.isfinite(metres), pop65, np.nan))
    inside = hubs_inside(hubs, layer)
    responsible = responsible_codes(hubs)

    codes = areas["code"]
    n_inside = codes.map(inside).fillna(0).astype(int).to_numpy()
    has_hub = (n_inside > 0) | codes.isin(responsible).to_numpy()
    p65 = codes.map(area_pop65).to_numpy(dtype=float)
    known65 = ~np.isnan(p65)
    fin = codes.map(finite_pop).to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_walk = np.where(fin > 0, codes.map(weighted).to_numpy(dtype=float) / fin, np.nan)
    reason = np.empty(len(codes), dtype=object)
    if radius is None:  # membership, as the plans count
        lacking = ~has_hub
        reached = np.where(known65, np.where(has_hub, p65, 0.0), np.nan)
        reason[lacking] = f"{layer_label}内に{type_def.label}がありません"
        for i in np.flatnonzero(~lacking).tolist():
            reason[i] = (f"{layer_label}内に{type_def.label}が{n_inside[i]}か所あります"
                         if n_inside[i] else
                         f"区域外の{type_def.label}がこの{layer_label}を担当しています")
    else:
        reached_by_area = _per_area(demand, layer, np.where(known & (walk <= radius), pop65,
                                                            0.0))
        reached = np.where(known65, codes.map(reached_by_area).fillna(0).to_numpy(dtype=float),
                           np.nan)
        if overlay:
            in_cells = codes.map(cells_pop65).to_numpy(dtype=float)
            with np.errstate(invalid="ignore", divide="ignore"):
                reached = np.where(in_cells > 0, reached / in_cells * p65, 0.0 * p65)
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.where(p65 > 0, reached / p65 * 100, np.nan)
        lacking = np.where(~known65, ~has_hub, np.where(p65 > 0, rate < min_reach, False))
        for j in range(len(codes)):
            i = int(j)
            if not known65[i]:
                reason[i] = unknown_reason
            elif p65[i] == 0:
                reason[i] = "65歳以上の人口がありません"
            elif lacking[i]:
                reason[i] = f"65歳以上の{100 - rate[i]:.0f}%が{radius:.0f}{unit}圏外"
            else:
                reason[i] = f"65歳以上の{rate[i]:.0f}%が{radius:.0f}{unit}圏内"
    with np.errstate(invalid="ignore", divide="ignore"):
        reach_rate = np.where(known65 & (p65 > 0), reached / p65 * 100, np.nan)
    table = pd.DataFrame({
        "code": codes.to_numpy(), "name": areas["name"].to_numpy(), "hub_type": hub_type,
        "lacking": lacking.astype(bool), "reason": reason, "hubs_inside": n_inside,
        "pop65": p65, "pop65_reached": reached, "reach_rate": reach_rate,
        "nearest_hub_m": mean_walk})
    left_out = (table["pop65"].fillna(0) - table["pop65_reached"].fillna(0))
    order = np.lexsort((table["code"].to_numpy(), -left_out.round(6).to_numpy()))
    table = table.iloc[order].reset_index(drop=True)
    table.attrs.update({"layer": layer, "radius_m": radius if unit == "m" else None,
                        "radius_min": radius if unit == "分" else None, "unit": unit,
                        "measure": ("straight" if network is None else
                                    "minutes" if network.walking.minutes else "network"),
                        "measure_text": (f"直線距離×迂回係数{detour}" if network is None else
                                         network.walking.describe(network.network)),
                        "detour": detour, "cell_m": cell,
                        "with_planned": with_planned, "min_reach": min_reach,
                        "demand_layer": demand.layer, "weighting": demand.weighting})
    return table


@dataclass
class GapTable:
    """Areas of one layer and whether each lacks a hub of one type, most 65+ left out first.

    ``frame`` has the ``gaps`` fields (:data:`GAP_FIELDS`); the other attributes say how the
    table was computed.
    """

    frame: pd.DataFrame
    layer: str
    hub_type: str
    radius_m: float | None
    detour: float
    cell_m: float
    with_planned: bool
    min_reach: float

    @property
    def lacking(self) -> pd.DataFrame:
        """The rows of areas that lack a hub."""
        return self.frame[self.frame["lacking"]]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping: how it was computed, and ``areas`` with the ``gaps`` fields."""
        rows = []
        for row in self.frame[GAP_FIELDS].to_dict(orient="records"):
            rows.append({k: (None if isinstance(v, float) and np.isnan(v) else
                             v.item() if isinstance(v, np.generic) else v)
                         for k, v in row.items()})
        return {"layer": self.layer, "hub_type": self.hub_type, "radius_m": self.radius_m,
                "with_planned": self.with_planned, "areas": rows}


def gaps(ws: Workspace, *, layer: str, hub_type: str, radius: float | None = None,
         with_planned: bool = False, detour: float = DEFAULT_DETOUR,
         min_reach: float = DEFAULT_MIN_REACH, cell: float = DEFAULT_CELL,
         network: NetworkReach | None = None) -> GapTable:
    """Which areas of ``layer`` lack a hub of ``hub_type``.

    Parameters
    ----------
    ws
        The workspace.
    layer, hub_type
        Layer key and catalogue key.
    radius
        Walking metres; without it an area lacks a hub when none stands inside (membership).
    with_planned
        Count planned hubs too (the what-if).
    detour, min_reach, cell
        Walking ÷ straight line; % of 65+ that must be reached; demand cell size.

    Returns
    -------
    GapTable
    """
    frame = gap_table(ws, layer=layer, hub_type=hub_type, radius=radius,
                      with_planned=with_planned, detour=detour, min_reach=min_reach, cell=cell,
                      network=network)
    return GapTable(frame, layer, hub_type, radius, detour, cell, with_planned, min_reach)


def coverage(ws: Workspace, *, with_planned: bool = False, detour: float = DEFAULT_DETOUR,
             cell: float = DEFAULT_CELL, network: NetworkReach | None = None,
             minutes: float | None = None) -> dict[str, Any]:
    """For every hub type: the city's 65+ within reach, and per layer the areas lacking one.

    Returns a JSON-ready mapping: ``pop65``, ``detour``, ``cell_m``, ``with_planned`` and
    ``types`` (per type: ``label``, ``hubs``, ``radius_m``, ``expected_layer``, ``city`` and
    ``layers``, each layer with ``areas``, ``lacking`` and the 65+ in areas with a hub).
    With ``network`` walks follow the streets: each type's radius in metres along them, or
    ``minutes`` for every type when the network measures minutes.
    """
    catalogue = catalogue_of(ws.get("hub_types"))
    demand = demand_cells(ws, cell)
    require_pop65(ws, demand, "カバー率（到達圏内の65歳以上の割合）")
    known = ~np.isnan(demand.pop65)
    total65 = float(demand.pop65[known].sum())
    layers = [*filled_layers(ws), *overlay_layers(ws)]
    timed = network is not None and network.walking.minutes
    out: dict[str, Any] = {"pop65": total65, "detour": detour, "cell_m": cell,
                           "with_planned": with_planned, "types": {},
                           "measure": "straight" if network is None else
                           "minutes" if timed else "network",
                           **({"minutes": minutes} if timed else {})}
    for hub_type in catalogue.types.values():
        hubs = hubs_of(ws, hub_type.key, with_planned=with_planned)
        entry: dict[str, Any] = {
            "label": hub_type.label, "hubs": len(hubs), "radius_m": hub_type.radius_m,
            "expected_layer": hub_type.expected_layer(ws.scheme.keys, ws.get("scheme_preset")),
            "city": {}, "layers": {}}
        reach = minutes if timed else hub_type.radius_m
        if reach:
            walk = network.walk(demand, hubs) if network is not None else \
                nearest_walk(demand, hubs, detour)
            reached = float(demand.pop65[known & (walk <= reach)].sum())
            entry["city"] = {"pop65_reached": reached,
                             "reach_rate": reached / total65 * 100 if total65 else None}
        for layer in layers:
            table = gap_table(ws, layer=layer, hub_type=hub_type.key, with_planned=with_planned,
                              detour=detour, cell=cell, demand=demand, hubs=hubs,
                              network=network)
            lacking = int(table["lacking"].sum())
            with_hub = table.loc[~table["lacking"], "pop65"].fillna(0).sum()
            entry["layers"][layer] = {
                "label": ws.scheme.layer(layer).label, "areas": len(table), "lacking": lacking,
                "nested": layer not in ws.scheme.overlays,
                "lacking_share": lacking / len(table) * 100 if len(table) else None,
                "pop65_in_areas_with_hub": float(with_hub),
                "pop65_share_in_areas_with_hub": float(with_hub) / total65 * 100
                if total65 else None}
        out["types"][hub_type.key] = entry
    return out
