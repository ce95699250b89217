"""Siting new hubs: choose k candidate sites that bring the most uncovered 65+ within reach.

Same demand cells and reach rule as ``gaps`` (walking = straight line × detour ≤ R). Existing
hubs of the type (and of types named with ``also``), and planned ones, are fixed: cells they
reach count as reached before, never as new coverage.

A planner's what-if: *pinned* sites are part of the answer and count in k (the solver must
choose them: a required group of one, which both the exact and the greedy solver honour),
*excluded* candidates are removed before the problem is built. Where candidates come from is
:mod:`kenmap.access.candidates`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely

from kenmap.access.candidates import (
    UNBOUNDED,
    Candidates,
    SitingLimits,
    from_area,
    from_file,
    from_grid,
    from_hubs,
    from_points,
    what_if,
)
from kenmap.access.covering import order_by_gain, solve
from kenmap.access.demand import DEFAULT_CELL, demand_cells, require_pop65
from kenmap.access.gaps import gap_table
from kenmap.access.netreach import NetworkReach, straight_reach
from kenmap.access.reach import DEFAULT_DETOUR, HubSet, hubs_of, nearest_walk
from kenmap.errors import KenmapError, TooLargeError
from kenmap.hubs.edits import add_hubs
from kenmap.layers.hierarchy import default_layer
from kenmap.model.catalogue import catalogue_of
from kenmap.workspace import Workspace

__all__ = ["SITE_FIELDS", "Site", "SitingLimits", "SitingResult", "apply_sites", "newly_reached",
           "site"]

SITE_FIELDS = ["hub_type", "k", "radius_m", "solver", "optimal", "gap_percent",
               "pop65_reached_before", "pop65_reached_after", "sites"]


@dataclass
class Site:
    """One chosen site: numbered in the order chosen (the pinned ones first, then by what
    each adds), with the 65+ it adds to those before it and the areas it fills."""

    candidate_id: str
    name: str
    lon: float
    lat: float
    pop65_added: float
    areas_filled: list[str]
    x: float = field(default=0.0, repr=False)  # in the workspace CRS, for --apply
    y: float = field(default=0.0, repr=False)
    number: int = 0
    pinned: bool = False
    hub_id: int | None = None  # the planned hub written for it (``apply``)

    def to_json(self) -> dict[str, Any]:
        """The site as JSON-ready fields (without the workspace-CRS ``x``, ``y``).
        ``fills`` and ``areas_filled`` are the same list (the latter is the older name)."""
        out: dict[str, Any] = {
            "candidate_id": self.candidate_id, "name": self.name, "lon": self.lon,
            "lat": self.lat, "pop65_added": self.pop65_added, "areas_filled": self.areas_filled,
            "number": self.number, "fills": self.areas_filled, "pinned": self.pinned}
        if self.hub_id is not None:
            out["hub_id"] = self.hub_id
        return out


@dataclass
class SitingResult:
    """The answer of :func:`site`: where k new hubs reach the most older residents."""

    hub_type: str
    k: int
    radius_m: float
    solver: str
    optimal: bool
    gap_percent: float
    pop65_reached_before: float
    pop65_reached_after: float
    sites: list[Site]
    detour: float
    layer: str
    candidates: int
    seconds: float
    notes: list[str]
    applied_hub_ids: list[int] | None = None
    measure: str = "straight"  # or "network" (metres along it) or "minutes" (walking time)
    speed: float | None = None  # m/s on the flat, when measured in minutes

    def to_json(self) -> dict[str, Any]:
        """The documented fields first (``SITE_FIELDS``), then the extras."""
        out: dict[str, Any] = {
            "hub_type": self.hub_type, "k": self.k, "radius_m": self.radius_m,
            "solver": self.solver, "optimal": self.optimal, "gap_percent": self.gap_percent,
            "pop65_reached_before": self.pop65_reached_before,
            "pop65_reached_after": self.pop65_reached_after,
            "sites": [s.to_json() for s in self.sites], "detour": self.detour,
            "layer": self.layer, "candidates": self.candidates, "seconds": self.seconds,
            "notes": self.notes, "measure": self.measure}
        if self.speed is not None:
            out["speed"] = self.speed
        if self.applied_hub_ids is not None:
            out["applied_hub_ids"] = self.applied_hub_ids
        return out


def site(
    ws: Workspace,
    *,
    hub_type: str,
    k: int,
    radius: float | None = None,
    candidates_file: str | Path | None = None,
    candidate_status: str | None = None,
    candidate_grid: float | None = None,
    candidate_area: dict[str, Any] | None = None,
    candidate_points: list[dict[str, Any]] | None = None,
    layer: str | None = None,
    solver: str = "auto",
    time_limit: float = 30.0,
    also: list[str] | None = None,
    detour: float = DEFAULT_DETOUR,
    cell: float = DEFAULT_CELL,
    one_per_lacking: str | None = None,
    limits: SitingLimits = UNBOUNDED,
    pinned: list[dict[str, Any]] | None = None,
    excluded: list[dict[str, Any]] | None = None,
    network: NetworkReach | None = None,
) -> SitingResult:
    """Choose ``k`` new sites of ``hub_type`` that bring the most older residents within reach.

    Parameters
    ----------
    ws
        The workspace.
    hub_type
        Catalogue key of the new hubs (e.g. ``ibasho``).
    k
        How many sites to choose.
    radius
        Walking radius in metres (default: the type's radius).
    candidates_file, candidate_status, candidate_grid
        Where candidates come from: a file, hubs of a status (default ``candidate``), or a
        grid of this spacing in areas lacking the type.
    candidate_area, candidate_points
        Or a grid (``candidate_grid`` metres apart, 500 by default) inside a drawn polygon
        (GeoJSON in longitude/latitude), clipped to the city; or given places
        (``{"lon", "lat", "name"}``, e.g. read from an uploaded list).
    layer
        Layer whose areas are reported as filled.
    solver
        ``exact`` (HiGHS), ``greedy`` or ``auto``.
    pinned
        Sites that must be chosen (``{"lon", "lat"}`` with an optional ``name``), counted in
        ``k``; anywhere in the city (a candidate at the same place is that candidate).
    excluded
        Candidates not to use (``{"lon", "lat"}``, within
        :data:`~kenmap.access.candidates.SAME_PLACE_M` metres).
    network
        Measure walks along the workspace's network (``radius`` in its unit: metres, or
        minutes); coverage comes from bounded searches from every candidate.

    Returns
    -------
    SitingResult
        The sites numbered in the order chosen (pinned first, then by what each adds), with
        before/after figures.
    """
    catalogue = catalogue_of(ws.get("hub_types"))
    type_def = catalogue.get(hub_type)
    for extra in also or []:
        catalogue.get(extra)
    radius = radius or type_def.radius_m
    if not radius or radius <= 0:
        raise KenmapError(f"{type_def.label}には徒歩圏の半径がありません。--radius を指定してくださ"
                          "い",
                          field="--radius")
    if k < 1:
        raise KenmapError("--k は1以上にしてください", field="--k")
    limits.check_k(k)
    if solver not in ("exact", "greedy", "auto"):
        raise KenmapError("--solver は exact, greedy, auto のいずれかにしてください",
                          field="--solver")
    if time_limit <= 0:
        raise KenmapError("--time-limit は正の値にしてください", field="--time-limit")
    # Default: the layer this type is expected on, else the one above the finest (行政区),
    # among the layers that hold areas.
    layer = layer or default_layer(ws, hub_type)
    ws.scheme.layer(layer)
    grid_alone = candidate_grid if candidate_area is None else None
    sources = sum(x is not None for x in (candidates_file, grid_alone, candidate_area,
                                          candidate_points))
    if sources > 1 or (sources == 1 and candidate_status is not None):
        raise KenmapError("--candidates, --candidate-status, --candidate-grid のどれか1つを指定して"
                          "ください")
    if len(pinned or []) > k:
        raise KenmapError(f"固定した地点が {len(pinned or [])} か所あり、k（{k}）を超えます",
                          field="pinned")
    if candidates_file is not None:
        cands = from_file(ws, Path(candidates_file))
    elif candidate_area is not None:
        cands = from_area(ws, candidate_area, candidate_grid or 500.0, layer, limits)
    elif candidate_points is not None:
        limits.check_candidates(len(candidate_points), "candidate_points")
        cands = from_points(ws, candidate_points)
    elif candidate_grid is not None:
        cands = from_grid(ws, candidate_grid, layer, hub_type, radius, detour, limits,
                          network=network)
    elif pinned and candidate_status is None and len(pinned) == k:
        cands = Candidates([], [], np.zeros(0), np.zeros(0))  # the pins are the answer
    else:
        cands = from_hubs(ws, candidate_status or "candidate")
    cands, what_if_notes = what_if(ws, cands, pinned, excluded)
    if len(cands.ids) == 0:
        raise KenmapError("候補地がありません（すべて除外されました）" if excluded
                          else "候補地がありません")
    limits.check_candidates(len(cands.ids), "candidates")

    demand = demand_cells(ws, cell)
    require_pop65(ws, demand, "配置の検討")
    fixed = _fixed_hubs(ws, hub_type, also or [])
    walk = network.walk(demand, fixed) if network is not None else \
        nearest_walk(demand, fixed, detour)
    unit = network.walking.unit if network is not None else "m"
    pop65 = np.nan_to_num(demand.pop65)
    before_mask = walk <= radius
    before = float(pop65[before_mask].sum())
    open_rows = np.flatnonzero(~before_mask & (pop65 > 0))
    if len(open_rows) == 0:
        raise KenmapError(f"人数のわかっている65歳以上の人はすべて、すでにこの種類の拠点から "
                          f"{radius:.0f} {unit} 以内にいます: 新しい拠点で増える分がありません"
                          "（需要が0なので最適解は出しません）", field="--radius")
    if limits.max_pairs is not None:
        # Each candidate reaches about π(R/detour)² / cell² cells: bound the matrix first.
        per = np.pi * (straight_reach(radius, detour, network)) ** 2 / cell ** 2
        pairs = int(min(per, len(open_rows)) * len(cands.ids))
        if pairs > limits.max_pairs:
            raise TooLargeError(f"候補地×需要セルの組が約 {pairs:,} になり、上限 "
                                f"{limits.max_pairs:,} を超えます（半径か候補地を減らして"
                                "ください）", field="radius")
    if network is not None:
        # Coverage pairs along the network: one search from each candidate, bounded at R.
        cover = network.reached_from(cands.x, cands.y, demand, open_rows, radius
                                     ).T.astype(np.int8).tocsr()
    else:
        # Coverage pairs: candidate j reaches open cell i within R/detour in a straight line.
        tree = shapely.STRtree(np.asarray(shapely.points(cands.x, cands.y)))
        cell_idx, cand_idx = tree.query(np.asarray(demand.points())[open_rows],
                                        predicate="dwithin", distance=radius / detour)
        cover = sp.csr_matrix((np.ones(len(cell_idx), dtype=np.int8), (cell_idx, cand_idx)),
                              shape=(len(open_rows), len(cands.ids)))
    assert cands.pinned is not None
    pins = [int(j) for j in np.flatnonzero(cands.pinned)]
    # Each pin is a required group of one: the exact solver gets Σ x_pin ≥ 1, greedy takes
    # the required groups first (pins before one_per_lacking's areas).
    required = [[j] for j in pins] + (
        _required_groups(ws, one_per_lacking, hub_type, radius, detour, cands)
        if one_per_lacking else [])
    result = solve(pop65[open_rows], cover, k, solver=solver, time_limit=time_limit,
                   required_groups=required or None)
    assert result.weights is not None and result.cover is not None
    missing = [j for j in pins if j not in result.chosen]
    if missing:  # the solvers guarantee it; a wrong answer must not be shown as one
        raise KenmapError(f"固定した地点「{cands.names[missing[0]]}」を含む解が得られません"
                          "でした", field="pinned")
    ordered = _in_order(result.weights, result.cover, result.chosen, pins)
    after = before + sum(g for _, g in ordered)
    filled = _areas_filled(ws, layer, hub_type, radius, detour, cell, also or [], cands,
                           [j for j, _ in ordered], network)
    lonlat = gpd.GeoSeries(shapely.points(cands.x, cands.y), crs=ws.crs_epsg).to_crs(4326)
    sites = [Site(cands.ids[j], cands.names[j], round(float(lonlat.iloc[j].x), 7),
                  round(float(lonlat.iloc[j].y), 7), round(gain, 3), filled[n],
                  float(cands.x[j]), float(cands.y[j]), n + 1, bool(cands.pinned[j]))
             for n, (j, gain) in enumerate(ordered)]
    return SitingResult(hub_type, k, float(radius), result.solver, bool(result.optimal),
                        round(result.gap_percent, 4), round(before, 3), round(after, 3), sites,
                        detour, layer, len(cands.ids), round(result.seconds, 3),
                        [*what_if_notes, *result.notes,
                         *([network.walking.describe(network.network) + "で計算"]
                           if network is not None else [])],
                        measure="straight" if network is None else
                        "minutes" if network.walking.minutes else "network",
                        speed=network.walking.speed if network is not None and
                        network.walking.minutes else None)


def _in_order(weights: np.ndarray, cover: sp.csr_matrix, chosen: list[int], pins: list[int]
              ) -> list[tuple[int, float]]:
    """The chosen candidates with what each adds to those before it: the pinned first (they
    are givens), then the others in the order of what they add beyond the pins."""
    first = order_by_gain(weights, cover, [j for j in chosen if j in pins])
    hit = np.asarray(cover[:, [j for j, _ in first]].sum(axis=1)).ravel() > 0 if first \
        else np.zeros(len(weights), dtype=bool)
    rest = order_by_gain(np.where(hit, 0.0, weights), cover,
                         [j for j in chosen if j not in pins])
    return first + rest


def _fixed_hubs(ws: Workspace, hub_type: str, also: list[str]) -> HubSet:
    """Existing and planned hubs of the type (and of ``also`` types): fixed, never new."""
    sets = [hubs_of(ws, t, with_planned=True) for t in [hub_type, *also]]
    return HubSet(hub_type, pd.concat([s.frame for s in sets], ignore_index=True),
                  np.concatenate([s.x for s in sets]), np.concatenate([s.y for s in sets]))


def _required_groups(ws: Workspace, layer: str, hub_type: str, radius: float, detour: float,
                     cands: Candidates) -> list[list[int]]:
    """Candidates inside each area of ``layer`` that lacks a hub (one must be chosen there)."""
    table = gap_table(ws, layer=layer, hub_type=hub_type)
    lacking = table.loc[table["lacking"], "code"]
    areas = ws.read_layer(layer).set_index("code")
    tree = shapely.STRtree(np.asarray(shapely.points(cands.x, cands.y)))
    groups = []
    for code in lacking:
        inside = tree.query(areas.geometry[code], predicate="contains")
        if len(inside):
            groups.append(sorted(int(i) for i in inside))
    return groups


def _areas_filled(ws: Workspace, layer: str, hub_type: str, radius: float, detour: float,
                  cell: float, also: list[str], cands: Candidates, order: list[int],
                  network: NetworkReach | None = None) -> list[list[str]]:
    """For each site in order, the areas of ``layer`` that stop lacking because of it."""
    fixed = _fixed_hubs(ws, hub_type, also)
    demand = demand_cells(ws, cell)
    lacking = set(gap_table(ws, layer=layer, hub_type=hub_type, radius=radius, detour=detour,
                            demand=demand, hubs=fixed, network=network
                            ).query("lacking")["code"])
    out = []
    xs, ys = list(fixed.x), list(fixed.y)
    for j in order:
        xs.append(cands.x[j])
        ys.append(cands.y[j])
        hubs = HubSet(hub_type, pd.DataFrame(index=range(len(xs))), np.array(xs), np.array(ys))
        now = set(gap_table(ws, layer=layer, hub_type=hub_type, radius=radius, detour=detour,
                            demand=demand, hubs=hubs, network=network
                            ).query("lacking")["code"])
        out.append(sorted(lacking - now))
        lacking = now
    return out


def apply_sites(ws: Workspace, result: SitingResult) -> list[int]:
    """Write the chosen sites into the workspace as planned hubs of the type; the result
    records their ids."""
    label = catalogue_of(ws.get("hub_types")).get(result.hub_type).label
    # The exact sites in the zone's coordinates, so gaps --with-planned counts what the
    # siting counted to the centimetre; all of them or none.
    added = add_hubs(ws, [({"type": result.hub_type, "name": f"{site_row.name}（{label}計画）",
                            "lon": site_row.lon, "lat": site_row.lat, "status": "planned",
                            "host": site_row.name}, shapely.Point(site_row.x, site_row.y))
                          for site_row in result.sites])
    ids = [int(hub["id"]) for hub in added]
    result.applied_hub_ids = ids
    for site_row, hub_id in zip(result.sites, ids):
        site_row.hub_id = hub_id
    return ids


def newly_reached(ws: Workspace, siting: dict[str, Any]) -> list[list[float]] | None:
    """The demand cells (``[lat, lon]``, 65+ living there) that the sites of a siting result
    bring within reach beyond the hubs already counted; None when it cannot be told (no radius,
    no population)."""
    import geopandas as gpd
    import shapely

    sites = siting.get("sites", [])
    radius = float(siting.get("radius_m") or 0)
    detour = float(siting.get("detour", DEFAULT_DETOUR))
    hub_type = siting.get("hub_type")
    if not (sites and radius > 0 and hub_type):
        return None
    try:
        demand = demand_cells(ws)
        fixed = hubs_of(ws, hub_type, with_planned=True)
    except KenmapError:
        return None  # no population: the sites alone are still shown
    applied = set(siting.get("applied_hub_ids") or [])
    if applied and len(fixed) and "id" in fixed.frame.columns:
        keep = ~fixed.frame["id"].isin(applied).to_numpy()
        fixed = HubSet(hub_type, fixed.frame[keep].reset_index(drop=True), fixed.x[keep],
                       fixed.y[keep])
    pts = gpd.GeoSeries(shapely.points([s["lon"] for s in sites], [s["lat"] for s in sites]),
                        crs=4326).to_crs(ws.crs_epsg)
    measure = siting.get("measure", "straight")
    if measure != "straight":  # along the network, as the siting measured
        from kenmap.access.netreach import Walking, network_reach

        reach = network_reach(ws, Walking(minutes=measure == "minutes",
                                          speed=float(siting.get("speed") or 1.0)))
        before = reach.walk(demand, fixed)
        sites_only = HubSet(hub_type, pd.DataFrame(index=range(len(pts))),
                            pts.x.to_numpy(dtype=float), pts.y.to_numpy(dtype=float))
        cells = np.flatnonzero(reach.walk(demand, sites_only) <= radius)
    else:
        before = nearest_walk(demand, fixed, detour)
        tree = shapely.STRtree(np.asarray(pts.to_numpy()))
        cells, _ = tree.query(np.asarray(demand.points()), predicate="dwithin",
                              distance=radius / detour)
    new = np.unique(cells[before[cells] > radius])
    new = new[np.nan_to_num(demand.pop65[new]) > 0]
    lonlat = gpd.GeoSeries(shapely.points(demand.x[new], demand.y[new]),
                           crs=ws.crs_epsg).to_crs(4326)
    return [[round(p.y, 6), round(p.x, 6)] for p in lonlat]
