"""The demo city's streets and terrain (SYNTHETIC): what makes walking along the roads differ
from a straight line.

Streets run along the edges of the 隣近所 (a street between every two neighbourhoods, as in a
town), so they are dense in the towns and sparse in the hills between the valleys. A river
flows through 中央町 from north to south with two bridges: the homes across it from a hub are
near in a straight line and far on foot. The ground rises away from each valley town towards
the ridges, and 若葉台団地 stands on a hill 60 m above the town, so walking up to a hub takes
longer than walking down. Elevations are the lines' Z coordinates (metres).
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

#: Vertices along every street at most this far apart (metres), each with its elevation.
STEP = 40.0
#: The river: x offset (metres, at SCALE 1) from the town centre, as a function of y.
RIVER_X = -650.0
RIVER_BEND = 300.0
#: The two bridges: y offsets from the town centre (metres, at SCALE 1).
BRIDGES_Y = (-1_300.0, 1_500.0)


def elevation(x: np.ndarray, y: np.ndarray, towns: np.ndarray, estate: np.ndarray
              ) -> np.ndarray:
    """Ground height (m): 10 m in the valley towns rising to about 300 m on the ridges, and
    the estate's hill 60 m above its surroundings."""
    d = np.min(np.hypot(x[:, None] - towns[None, :, 0], y[:, None] - towns[None, :, 1]),
               axis=1)
    ground = 10 + 290 * (1 - np.exp(-(d / 3_500) ** 2))
    hill = 60 * np.exp(-(np.hypot(x - estate[0], y - estate[1]) / 450) ** 2)
    return np.asarray(ground + hill)


def river(origin: tuple[float, float], scale: float, outline: shapely.Geometry
          ) -> shapely.LineString:
    """The river's centre line across the city."""
    ys = np.linspace(-20_000, 20_000, 400)
    xs = RIVER_X + RIVER_BEND * np.sin(ys / 1_700)
    line = shapely.LineString(np.c_[xs * scale + origin[0], ys * scale + origin[1]])
    return shapely.intersection(line, outline.buffer(50))


def build_roads(frame: gpd.GeoDataFrame, origin: tuple[float, float], scale: float,
                towns: np.ndarray, estate: np.ndarray) -> gpd.GeoDataFrame:
    """Street lines (with Z) from the 隣近所 edges, cut by the river except at two bridges."""
    cells = frame.geometry.to_numpy()
    outline = shapely.coverage_union_all(cells)
    edges = shapely.union_all(shapely.boundary(cells))  # noded where streets meet
    lines = np.asarray(shapely.get_parts(shapely.line_merge(edges)))
    water = river(origin, scale, outline)
    bridges = [shapely.Point(RIVER_X + RIVER_BEND * np.sin(by / 1_700), by)
               for by in BRIDGES_Y]
    bridges = [shapely.Point(p.x * scale + origin[0], p.y * scale + origin[1])
               for p in bridges]
    crossing = shapely.intersects(lines, water)
    keep = ~crossing
    for bridge in bridges:  # the street crossing the river nearest each bridge stays
        candidates = np.flatnonzero(crossing)
        nearest = candidates[int(np.argmin(shapely.distance(lines[candidates], bridge)))]
        keep[nearest] = True
    lines = lines[keep]
    # Densify, then give every vertex its elevation.
    lines = shapely.segmentize(lines, STEP)
    out = []
    for line in lines:
        xy = shapely.get_coordinates(line)
        z = elevation(xy[:, 0], xy[:, 1], towns, estate)
        out.append(shapely.LineString(np.c_[xy, np.round(z, 1)]))
    highway = np.where(np.array([shapely.length(g) for g in out]) > 400, "track",
                       "residential")
    return gpd.GeoDataFrame({"highway": highway}, geometry=out, crs=frame.crs)


def write_roads(roads: gpd.GeoDataFrame, path: Path) -> None:
    """GeoJSON with 0.1 m coordinates, one feature per line; byte-identical for the same
    roads."""
    pyogrio.write_dataframe(roads, path, driver="GeoJSON", layer="demo_roads_synthetic",
                            layer_options={"COORDINATE_PRECISION": 1, "WRITE_BBOX": "NO",
                                           "DESCRIPTION": "SYNTHETIC demo streets; not real"})
    data = json.loads(path.read_text(encoding="utf-8"))
    head = json.dumps({k: v for k, v in data.items() if k != "features"} | {"features": []},
                      ensure_ascii=False)[:-2]
    feats = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in data["features"]]
    path.write_text(head + "\n" + ",\n".join(feats) + "\n]}\n", encoding="utf-8")
