"""Reading count rasters (GeoTIFF) as polygons with values, for zonal apportioning."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from kenmap.errors import KenmapError
from kenmap.optional import need


def raster_cells(path: Path, band: int = 1) -> gpd.GeoDataFrame:
    """Every pixel with a count as a polygon; nodata and zero pixels are left out."""
    rasterio = need("rasterio", "raster", "ラスタ（GeoTIFF）の読み込み")
    from rasterio.errors import RasterioIOError

    if not path.exists():
        raise KenmapError("ファイルが見つかりません", file=path)
    try:
        with rasterio.open(path) as src:
            if src.crs is None:
                raise KenmapError("ラスタに座標系がありません", file=path)
            if band < 1 or band > src.count:
                raise KenmapError(f"ラスタのバンドは{src.count}個です", file=path, field="--band")
            data = src.read(band, masked=True).astype(float)
            transform, crs = src.transform, src.crs
    except RasterioIOError as exc:
        raise KenmapError(f"読み込めるラスタではありません（{exc}）", file=path) from exc
    values = np.ma.filled(data, np.nan)
    if np.nanmin(values, initial=0) < 0:
        raise KenmapError("ラスタに負の人数があります", file=path)
    rows, cols = np.nonzero(np.nan_to_num(values) > 0)
    # Pixel corners through the affine transform (handles north-up and rotated grids).
    a, b, c, d, e, f = transform.a, transform.b, transform.c, transform.d, transform.e, \
        transform.f

    def corner(col: np.ndarray, row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return a * col + b * row + c, d * col + e * row + f

    xs0, ys0 = corner(cols, rows)
    xs1, ys1 = corner(cols + 1, rows + 1)
    xs2, ys2 = corner(cols + 1, rows)
    xs3, ys3 = corner(cols, rows + 1)
    rings = np.stack([np.c_[xs0, ys0], np.c_[xs2, ys2], np.c_[xs1, ys1], np.c_[xs3, ys3],
                      np.c_[xs0, ys0]], axis=1)
    polys = shapely.polygons(rings) if len(rings) else np.array([], dtype=object)
    return gpd.GeoDataFrame({"value": values[rows, cols]}, geometry=polys,
                            crs=crs.to_wkt())
