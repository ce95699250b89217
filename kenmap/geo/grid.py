"""Cutting polygons by a square grid aligned to the CRS origin (demand cells, 隣近所 cells)."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray


@dataclass
class GridPieces:
    """The pieces of polygons cut by grid cells.

    ``owner`` is the index of the polygon each piece belongs to; ``area`` its area; ``x``/``y``
    its centroid; ``ix``/``iy`` the grid cell (``ix * cell`` is its west edge).
    """

    owner: NDArray[np.int64]
    area: NDArray[np.float64]
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    ix: NDArray[np.int64]
    iy: NDArray[np.int64]
    geometry: NDArray[np.object_] | None = None


def _intersection(a: NDArray[np.object_], b: NDArray[np.object_]) -> NDArray[np.object_]:
    """Pairwise intersection, split over the machine's cores (shapely releases the GIL)."""
    workers = min(os.cpu_count() or 1, 8)
    if workers == 1 or len(a) < 20_000:
        return np.asarray(shapely.intersection(a, b))
    chunks = np.array_split(np.arange(len(a)), workers)
    with ThreadPoolExecutor(workers) as pool:
        parts = list(pool.map(lambda idx: shapely.intersection(a[idx], b[idx]), chunks))
    return np.concatenate(parts)


def cut_by_grid(polygons: NDArray[np.object_], cell: float, *,
                keep_geometry: bool = False) -> GridPieces:
    """Cut every polygon by the grid of ``cell``-metre squares whose lines pass through 0.

    Cells lying wholly inside a polygon are taken whole; only cells crossing its boundary are
    intersected, which is where the time goes.
    """
    if cell <= 0:
        raise ValueError("cell size must be positive")
    bounds = shapely.bounds(polygons)
    ix0 = np.floor(bounds[:, 0] / cell).astype(np.int64)
    iy0 = np.floor(bounds[:, 1] / cell).astype(np.int64)
    ix1 = np.ceil(bounds[:, 2] / cell).astype(np.int64)
    iy1 = np.ceil(bounds[:, 3] / cell).astype(np.int64)
    nx, ny = np.maximum(ix1 - ix0, 1), np.maximum(iy1 - iy0, 1)
    counts = nx * ny
    owner = np.repeat(np.arange(len(polygons)), counts)
    local = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    ix = np.repeat(ix0, counts) + local // np.repeat(ny, counts)
    iy = np.repeat(iy0, counts) + local % np.repeat(ny, counts)
    boxes = shapely.box(ix * cell, iy * cell, (ix + 1) * cell, (iy + 1) * cell)
    shapely.prepare(polygons)
    owners = polygons[owner]
    inside = shapely.contains_properly(owners, boxes)
    touching = ~inside & shapely.intersects(owners, boxes)
    pieces = np.empty(len(boxes), dtype=object)
    pieces[inside] = boxes[inside]
    pieces[touching] = _intersection(owners[touching], boxes[touching])
    keep = inside | touching
    pieces = pieces[keep]
    area = shapely.area(pieces)
    nonzero = area > 0
    pieces, area = pieces[nonzero], area[nonzero]
    kept = np.flatnonzero(keep)[nonzero]
    centre = shapely.get_coordinates(shapely.centroid(pieces))
    return GridPieces(owner[kept], area, centre[:, 0], centre[:, 1], ix[kept], iy[kept],
                      pieces if keep_geometry else None)
