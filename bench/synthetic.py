"""Synthetic polygon layers for benchmarks: a jittered grid whose neighbours share every vertex.

Each cell has 16 vertices (real small areas have more, but the cost that matters here is per
feature). ``block`` groups cells into square blocks so an upper layer can be derived.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

#: Zone V coordinates near 鳥取 (easting, northing) as the grid's lower-left corner.
ORIGIN = (-60_000.0, -80_000.0)


def jittered_grid(nx: int, ny: int, *, cell: float = 150.0, block: int = 10,
                  seed: int = 1) -> gpd.GeoDataFrame:
    """``nx × ny`` polygons tiling a rectangle exactly, in EPSG:6673."""
    rng = np.random.default_rng(seed)
    gx, gy = np.meshgrid(np.arange(nx + 1), np.arange(ny + 1), indexing="ij")
    corners = np.stack([gx, gy], axis=-1).astype(float) * cell
    corners[1:-1, 1:-1] += rng.uniform(-0.2, 0.2, size=(nx - 1, ny - 1, 2)) * cell
    t = np.array([0.25, 0.5, 0.75])
    # Intermediate points on horizontal (along x) and vertical edges, nudged sideways.
    h = corners[:-1, :, None, :] + (corners[1:, :, None, :] - corners[:-1, :, None, :]) * t[:, None]
    h[:, 1:-1, :, 1] += rng.uniform(-0.05, 0.05, size=(nx, ny - 1, 3)) * cell
    v = corners[:, :-1, None, :] + (corners[:, 1:, None, :] - corners[:, :-1, None, :]) * t[:, None]
    v[1:-1, :, :, 0] += rng.uniform(-0.05, 0.05, size=(nx - 1, ny, 3)) * cell
    ring = np.concatenate([
        corners[:-1, :-1, None], h[:, :-1], corners[1:, :-1, None], v[1:, :],
        corners[1:, 1:, None], h[:, 1:, ::-1], corners[:-1, 1:, None], v[:-1, :, ::-1],
        corners[:-1, :-1, None],
    ], axis=2).reshape(nx * ny, -1, 2) + ORIGIN
    polys = shapely.polygons(ring)
    ii, jj = np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
    codes = np.char.add("C", (ii * ny + jj).ravel().astype(str))
    blocks = np.char.add("B", ((ii // block) * (ny // block + 1) + jj // block).ravel().astype(str))
    return gpd.GeoDataFrame({"code": codes, "name": codes, "block": blocks,
                             "JINKO": rng.integers(0, 3000, nx * ny)},
                            geometry=polys, crs=6673)


def write_three_layers(tx: object, grid: gpd.GeoDataFrame, small: str = "small") -> None:
    """Inside a workspace transaction: the city (``shi``), the grid's blocks (``block``) and
    the grid's cells (``small``), each nested in the one above."""
    blocks = grid.dissolve("block", method="coverage").reset_index()
    city = gpd.GeoDataFrame({"code": ["1"], "name": ["市"], "parent_code": [None]},
                            geometry=[blocks.union_all()], crs=grid.crs)
    columns = ["code", "name", "parent_code", "geometry"]
    tx.set_crs(6673)  # type: ignore[attr-defined]
    tx.write_layer("shi", city)  # type: ignore[attr-defined]
    tx.write_layer("block", blocks.assign(  # type: ignore[attr-defined]
        code=blocks["block"], name=blocks["block"], parent_code="1")[columns])
    tx.write_layer(small, grid.assign(parent_code=grid["block"])[columns])  # type: ignore[attr-defined]

