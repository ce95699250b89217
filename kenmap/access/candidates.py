"""Where siting candidates come from, and the planner's what-if on them.

Candidates are hubs of a status (``candidate``: imported 集会所, 公民館, empty shops), the
points of a file, or a grid inside the areas lacking the type. A planner then adjusts the
question: *pinned* sites must be in the answer (anywhere in the city, not only among the
candidates), *excluded* candidates are not to be used.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from kenmap.access.gaps import gap_table
from kenmap.access.netreach import NetworkReach
from kenmap.errors import KenmapError, TooLargeError
from kenmap.geo.crs import transformer
from kenmap.hubs.table import read_hubs
from kenmap.layers.locate import locate_point
from kenmap.workspace import Workspace

#: A pinned or excluded point this close (metres) to a candidate is that candidate: results
#: give positions to 7 decimals of a degree (about 1 cm), a client may round them further.
SAME_PLACE_M = 1.0


@dataclass
class Candidates:
    """Candidate sites in the workspace CRS."""

    ids: list[str]
    names: list[str]
    x: np.ndarray
    y: np.ndarray
    #: Whether each candidate is a pinned site (one the solution must hold).
    pinned: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.pinned is None:
            self.pinned = np.zeros(len(self.ids), dtype=bool)

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, keep: np.ndarray) -> Candidates:
        """The candidates where ``keep`` is true."""
        assert self.pinned is not None
        rows = np.flatnonzero(keep)
        return Candidates([self.ids[i] for i in rows], [self.names[i] for i in rows],
                          self.x[rows], self.y[rows], self.pinned[rows])


def from_hubs(ws: Workspace, status: str) -> Candidates:
    hubs = read_hubs(ws)
    chosen = hubs[hubs["status"] == status] if len(hubs) else hubs
    if len(chosen) == 0:
        raise KenmapError(f"ワークスペースに候補地として使える status「{status}」の拠点がありません"
                          "。"
                          "--candidates FILE か --candidate-grid M を指定してください")
    return Candidates([str(i) for i in chosen["id"]], [str(n) for n in chosen["name"]],
                      chosen.geometry.x.to_numpy(), chosen.geometry.y.to_numpy())


def from_file(ws: Workspace, path: Path) -> Candidates:
    from kenmap.geo.table_io import read_table
    from kenmap.geo.vector_io import VECTOR_SUFFIXES, read_vector

    if path.suffix.lower() in VECTOR_SUFFIXES or path.suffix.lower() == ".zip":
        frame = pd.concat([s.frame.to_crs(ws.crs_epsg) for s in read_vector(path)],
                          ignore_index=True)
        points = gpd.GeoSeries(frame.geometry, crs=ws.crs_epsg)
    else:
        frame = read_table(path)
        lower = {c.lower(): c for c in frame.columns}
        lon = next((lower[c] for c in ("lon", "longitude", "経度", "x") if c in lower), None)
        lat = next((lower[c] for c in ("lat", "latitude", "緯度", "y") if c in lower), None)
        if lon is None or lat is None:
            raise KenmapError("候補地の表には経度・緯度（lon/lat）の列が必要です", file=path,
                              field="lon" if lon is None else "lat")
        values = frame[[lon, lat]].apply(pd.to_numeric, errors="coerce")
        bad = values.isna().any(axis=1)
        if bad.any():
            raise KenmapError("座標ではありません", file=path,
                              row=int(np.flatnonzero(bad.to_numpy())[0]) + 2, field=lon)
        points = gpd.GeoSeries(gpd.points_from_xy(values[lon], values[lat]),
                               crs=6668).to_crs(ws.crs_epsg)
    if len(points) == 0:
        raise KenmapError("ファイルに候補地がありません", file=path)
    kinds = points.geom_type
    if not (kinds == "Point").all():
        raise KenmapError("候補地は点でなければなりません", file=path)
    from kenmap.hubs.imports import NAME_FIELDS

    name_col = next((c for c in NAME_FIELDS if c in frame.columns), None)
    names = [str(frame[name_col].iloc[i]) if name_col else f"候補{i + 1}"
             for i in range(len(frame))]
    ids = [str(frame["id"].iloc[i]) if "id" in frame.columns else str(i + 1)
           for i in range(len(frame))]
    return Candidates(ids, names, points.x.to_numpy(), points.y.to_numpy())


@dataclass(frozen=True)
class SitingLimits:
    """Bounds on one siting question, so no request can take the machine (the server sets
    them; the command line on the user's own machine runs unbounded by default)."""

    max_k: int | None = None
    max_candidates: int | None = None
    max_pairs: int | None = None

    def check_k(self, k: int) -> None:
        if self.max_k is not None and k > self.max_k:
            raise TooLargeError(f"k は {self.max_k} 以下にしてください（{k} が指定されました）",
                                field="k")

    def check_candidates(self, n: int, field: str) -> None:
        if self.max_candidates is not None and n > self.max_candidates:
            raise TooLargeError(f"候補地が {n:,} か所あり、上限 {self.max_candidates:,} を超えます"
                                "（格子の間隔を広げるか候補を絞ってください）", field=field)


#: The command line's limits: none.
UNBOUNDED = SitingLimits()


def from_grid(ws: Workspace, spacing: float, layer: str, hub_type: str,
                          radius: float, detour: float,
                          limits: SitingLimits = UNBOUNDED, *,
                          network: NetworkReach | None = None) -> Candidates:
    if not 20 <= spacing <= 5_000:
        raise KenmapError("--candidate-grid は20～5,000メートルにしてください",
                          field="--candidate-grid")
    table = gap_table(ws, layer=layer, hub_type=hub_type, radius=radius, detour=detour,
                      network=network)
    lacking = set(table.loc[table["lacking"], "code"])
    areas = ws.read_layer(layer)
    areas = areas[areas["code"].isin(lacking)]
    if len(areas) == 0:
        raise KenmapError(f"拠点が不足している{ws.scheme.layer(layer).label}がないため、格子を作り"
                          "ません")
    # Refuse before making the grid: the points of the bounding box bound the candidates.
    limits.check_candidates(int(areas.geometry.area.sum() / spacing ** 2), "candidate_grid")
    return _grid(areas, spacing)


def from_area(ws: Workspace, area: dict[str, Any], spacing: float, layer: str,
              limits: SitingLimits = UNBOUNDED) -> Candidates:
    """A grid of candidates ``spacing`` metres apart inside a drawn polygon (GeoJSON Polygon in
    longitude/latitude), clipped to the city (the areas of ``layer``)."""
    if not 20 <= spacing <= 5_000:
        raise KenmapError("格子の間隔は20～5,000メートルにしてください", field="candidate_grid")
    try:
        if area.get("type") != "Polygon":
            raise ValueError
        rings = [np.asarray(ring, dtype=float) for ring in area["coordinates"]]
        if not rings or any(r.ndim != 2 or r.shape[1] != 2 or len(r) < 3 for r in rings):
            raise ValueError
    except (AttributeError, KeyError, TypeError, ValueError):
        raise KenmapError("描いた範囲は GeoJSON の Polygon（経度・緯度）でなければなりません",
                          field="candidate_area") from None
    if any(not (np.all(np.abs(r[:, 0]) <= 180) and np.all(np.abs(r[:, 1]) <= 90))
           for r in rings):
        raise KenmapError("描いた範囲の座標が経度・緯度ではありません", field="candidate_area")
    assert ws.crs_epsg is not None
    to_plane = transformer(4326, ws.crs_epsg)
    plane = [np.column_stack(to_plane.transform(r[:, 0], r[:, 1])) for r in rings]
    polygon = shapely.make_valid(shapely.Polygon(plane[0], plane[1:]))
    if polygon.is_empty or polygon.area <= 0:
        raise KenmapError("描いた範囲に面積がありません", field="candidate_area")
    areas = ws.read_layer(layer)
    areas = areas[areas.geometry.intersects(polygon)]
    if len(areas) == 0:
        raise KenmapError("描いた範囲は市域の外です", field="candidate_area")
    clipped = areas.geometry.intersection(polygon)
    limits.check_candidates(int(clipped.area.sum() / spacing ** 2), "candidate_area")
    cands = _grid(areas, spacing, clip=polygon)
    if len(cands) == 0:
        raise KenmapError(f"描いた範囲が小さく、{spacing:,.0f} m 間隔の格子点が入りません（間隔を"
                          "狭めるか範囲を広げてください）", field="candidate_area")
    return cands


def from_points(ws: Workspace, points: list[dict[str, Any]],
                field: str = "candidate_points") -> Candidates:
    """Candidates at given places (``{"lon", "lat"}`` with an optional ``name``), each inside
    the city."""
    if not points:
        raise KenmapError("候補地がありません", field=field)
    xy = _points(ws, points, field)
    return Candidates([f"point-{n + 1}" for n in range(len(xy))],
                      [str(p.get("name") or f"候補{n + 1}") for n, p in enumerate(points)],
                      np.array([x for x, _ in xy]), np.array([y for _, y in xy]))


def as_lonlat(ws: Workspace, cands: Candidates) -> list[dict[str, Any]]:
    """Candidates as ``{"name", "lon", "lat"}`` (EPSG:4326, 7 decimals)."""
    assert ws.crs_epsg is not None
    lon, lat = transformer(ws.crs_epsg, 4326).transform(cands.x, cands.y)
    return [{"name": name, "lon": round(float(a), 7), "lat": round(float(b), 7)}
            for name, a, b in zip(cands.names, np.atleast_1d(lon), np.atleast_1d(lat))]


def _grid(areas: gpd.GeoDataFrame, spacing: float, clip: shapely.Geometry | None = None
          ) -> Candidates:
    """Points ``spacing`` apart (on a grid aligned to multiples of it) inside ``areas`` (and
    ``clip``), each named after its area."""
    minx, miny, maxx, maxy = shapely.bounds(clip) if clip is not None else areas.total_bounds
    xs = np.arange(np.floor(minx / spacing), np.ceil(maxx / spacing)) * spacing + spacing / 2
    ys = np.arange(np.floor(miny / spacing), np.ceil(maxy / spacing)) * spacing + spacing / 2
    gx, gy = np.meshgrid(xs, ys)
    pts = np.asarray(shapely.points(gx.ravel(), gy.ravel()))
    tree = shapely.STRtree(areas.geometry.to_numpy())
    inside, owner = tree.query(pts, predicate="within")
    order = np.argsort(inside)
    inside, owner = inside[order], owner[order]
    if clip is not None:
        keep = shapely.within(pts[inside], clip)
        inside, owner = inside[keep], owner[keep]
    inside, first = np.unique(inside, return_index=True)  # a point on a shared edge: once
    owner = owner[first]
    flat_x, flat_y = gx.ravel(), gy.ravel()
    return Candidates([f"grid-{int(flat_x[i] // spacing)}-{int(flat_y[i] // spacing)}"
                       for i in inside],
                      [f"{areas['name'].to_numpy()[o]} 格子点" for o in owner],
                      flat_x[inside], flat_y[inside])


def what_if(ws: Workspace, cands: Candidates, pinned: list[dict[str, Any]] | None,
            excluded: list[dict[str, Any]] | None) -> tuple[Candidates, list[str]]:
    """The candidates without the ``excluded`` ones, with every ``pinned`` site marked (a
    candidate at that place, else a new point); and notes on excluded points that match no
    candidate. Points are ``{"lon", "lat"}`` (EPSG:4326) and, for pins, an optional ``name``.
    """
    pins = _points(ws, pinned or [], "pinned")
    drops = _points(ws, excluded or [], "excluded")
    notes: list[str] = []
    tree = shapely.STRtree(np.asarray(shapely.points(cands.x, cands.y)))
    keep = np.ones(len(cands), dtype=bool)
    for n, (x, y) in enumerate(drops):
        near = tree.query(shapely.Point(x, y), predicate="dwithin", distance=SAME_PLACE_M)
        if any(_same(px, py, x, y) for px, py in pins):
            raise KenmapError(f"除外した地点 {n + 1} は固定した地点と同じ場所です",
                              field=f"excluded.{n}")
        if len(near) == 0:
            notes.append(f"除外した地点 {n + 1}（{_lonlat(ws, x, y)}）は候補地にありません")
        keep[near] = False
    out = cands.subset(keep)
    assert out.pinned is not None
    tree = shapely.STRtree(np.asarray(shapely.points(out.x, out.y)))
    extra: list[int] = []
    for n, ((x, y), given) in enumerate(zip(pins, pinned or [])):
        near = tree.query(shapely.Point(x, y), predicate="dwithin", distance=SAME_PLACE_M)
        if len(near):
            if out.pinned[near].any():
                raise KenmapError(f"固定した地点 {n + 1} はほかの固定した地点と同じ場所です",
                                  field=f"pinned.{n}")
            out.pinned[near[0]] = True
            continue
        if any(_same(out.x[j], out.y[j], x, y) for j in extra):
            raise KenmapError(f"固定した地点 {n + 1} はほかの固定した地点と同じ場所です",
                              field=f"pinned.{n}")
        name = str(given.get("name") or f"固定した地点{n + 1}")
        out = Candidates([*out.ids, f"pin-{n + 1}"], [*out.names, name],
                         np.append(out.x, x), np.append(out.y, y),
                         np.append(out.pinned, True))
        extra.append(len(out) - 1)
    return out, notes


def _points(ws: Workspace, given: list[dict[str, Any]], field: str
            ) -> list[tuple[float, float]]:
    """Longitude/latitude points in the workspace CRS; refused outside the city."""
    assert ws.crs_epsg is not None
    to_plane = transformer(4326, ws.crs_epsg)
    out = []
    for n, point in enumerate(given):
        try:
            lon, lat = float(point["lon"]), float(point["lat"])
        except (KeyError, TypeError, ValueError):
            raise KenmapError("lon と lat（数値）が必要です", field=f"{field}.{n}") from None
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise KenmapError("経度・緯度ではありません", field=f"{field}.{n}")
        x, y = to_plane.transform(lon, lat)
        if all(code is None for code in locate_point(ws, x, y).values()):
            raise KenmapError(f"({lon:.6f}, {lat:.6f}) は市域の外です（経度と緯度が入れ替わって"
                              "いませんか？）", field=f"{field}.{n}")
        out.append((float(x), float(y)))
    return out


def _same(x1: float, y1: float, x2: float, y2: float) -> bool:
    return bool(np.hypot(x1 - x2, y1 - y2) <= SAME_PLACE_M)


def _lonlat(ws: Workspace, x: float, y: float) -> str:
    assert ws.crs_epsg is not None
    lon, lat = transformer(ws.crs_epsg, 4326).transform(x, y)
    return f"{lon:.6f}, {lat:.6f}"
