"""Elevation grids: GSI 基盤地図情報 数値標高モデル (FG-GML XML, 5 m and 10 m meshes, JGD2000 or
JGD2011 longitude/latitude) and any GeoTIFF (rasterio), sampled at points.

An FG-GML DEM file is one mesh: its envelope (``lowerCorner``/``upperCorner`` as latitude
longitude), the grid size (``GridEnvelope high`` + 1 columns and rows), and the values as
``種別,標高`` lines from the north-west corner row by row (``sequenceRule +x-y``), beginning at
``startPoint`` and possibly ending early; −9999 means no value (the sea).
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from kenmap.errors import KenmapError
from kenmap.geo.crs import transformer

NO_VALUE = -9999.0
_SRS = {"jgd2000": 4612, "jgd2011": 6668}


@dataclass
class Grid:
    """One elevation grid: values (rows from the north), the west and north edges, the cell
    size in degrees (or CRS units) and the CRS (EPSG)."""

    values: NDArray[np.float64]
    west: float
    north: float
    dx: float
    dy: float
    epsg: int
    name: str

    def bounds(self) -> tuple[float, float, float, float]:
        rows, cols = self.values.shape
        return (self.west, self.north - rows * self.dy, self.west + cols * self.dx, self.north)

    def sample(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
        """Values at points in this grid's CRS (NaN outside it or where it has none)."""
        rows, cols = self.values.shape
        col = np.floor((x - self.west) / self.dx).astype(np.int64)
        row = np.floor((self.north - y) / self.dy).astype(np.int64)
        inside = (col >= 0) & (col < cols) & (row >= 0) & (row < rows)
        out = np.full(len(x), np.nan)
        out[inside] = self.values[row[inside], col[inside]]
        return out


def _text(xml: str, tag: str, name: str) -> str:
    found = re.search(rf"<gml:{tag}[^>]*>([^<]*)</gml:{tag}>", xml)
    if found is None:
        raise KenmapError(f"基盤地図情報 DEM の {tag} がありません", file=name)
    return found.group(1).strip()


def parse_fggml(xml: str, name: str) -> Grid:
    """One FG-GML DEM mesh."""
    if "<gml:tupleList>" not in xml or "DEM" not in xml[:5000]:
        raise KenmapError("基盤地図情報 数値標高モデル（FG-GML の XML）ではありません", file=name)
    srs = re.search(r'srsName="fguuid:([a-z0-9]+)\.bl"', xml)
    epsg = _SRS.get(srs.group(1).lower()) if srs else None
    if epsg is None:
        raise KenmapError("DEM の座標系（srsName）が JGD2000 でも JGD2011 でもありません",
                          file=name)
    south, west = (float(v) for v in _text(xml, "lowerCorner", name).split())
    north, east = (float(v) for v in _text(xml, "upperCorner", name).split())
    high = [int(v) for v in _text(xml, "high", name).split()]
    cols, rows = high[0] + 1, high[1] + 1
    start = [int(v) for v in _text(xml, "startPoint", name).split()]
    rule = re.search(r'sequenceRule order="([^"]+)"', xml)
    if rule is not None and rule.group(1) != "+x-y":
        raise KenmapError(f"DEM の並び順 {rule.group(1)} には対応していません（+x-y のみ）",
                          file=name)
    block = xml[xml.index("<gml:tupleList>") + 15: xml.index("</gml:tupleList>")]
    numbers = np.array(re.findall(r",\s*(-?\d+(?:\.\d+)?)", block), dtype=float)
    values = np.full(rows * cols, np.nan)
    first = start[1] * cols + start[0]
    count = min(len(numbers), rows * cols - first)
    values[first: first + count] = numbers[:count]
    values[values <= NO_VALUE + 1] = np.nan
    return Grid(values.reshape(rows, cols), west, north, (east - west) / cols,
                (north - south) / rows, epsg, name)


def read_grids(path: Path) -> list[Grid]:
    """The grids in a file: an FG-GML XML, a zip of them (as GSI delivers), or a GeoTIFF."""
    if not path.exists():
        raise KenmapError("ファイルが見つかりません", file=path)
    suffix = path.suffix.lower()
    if suffix == ".xml":
        return [parse_fggml(path.read_text(encoding="utf-8", errors="replace"), path.name)]
    if suffix == ".zip":
        from kenmap.geo.safety import check_zip

        names = [n for n in check_zip(path) if n.lower().endswith(".xml")]
        if not names:
            raise KenmapError("zip の中に基盤地図情報 DEM の XML がありません", file=path)
        with zipfile.ZipFile(path) as zf:
            return [parse_fggml(zf.read(n).decode("utf-8", "replace"), f"{path.name}/{n}")
                    for n in names]
    if suffix in (".tif", ".tiff"):
        return [_geotiff(path)]
    raise KenmapError("対応していない標高ファイルです（基盤地図情報 DEM の .xml / .zip、"
                      "または GeoTIFF）", file=path)


def _geotiff(path: Path) -> Grid:
    from kenmap.optional import need

    rasterio = need("rasterio", "raster", "GeoTIFF の標高")
    try:
        with rasterio.open(path) as src:
            if src.crs is None:
                raise KenmapError("GeoTIFF に座標系がありません", file=path)
            t = src.transform
            if t.b != 0 or t.d != 0 or t.e >= 0:
                raise KenmapError("回転した GeoTIFF には対応していません", file=path)
            values = src.read(1, masked=True).astype(float).filled(np.nan)
            epsg = src.crs.to_epsg()
    except KenmapError:
        raise
    except Exception as exc:
        raise KenmapError(f"GeoTIFF として読めません（{str(exc)[:120]}）", file=path) from exc
    if epsg is None:
        raise KenmapError("GeoTIFF の座標系に EPSG コードがありません", file=path)
    return Grid(values, t.c, t.f, t.a, -t.e, int(epsg), path.name)


def elevation_sampler(grids: list[Grid], epsg: int) -> Any:
    """A function (x, y in ``epsg``) → elevations from the first grid that has a value."""
    def sample(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
        out = np.full(len(x), np.nan)
        for grid in grids:
            gx, gy = transformer(epsg, grid.epsg).transform(x, y)
            todo = np.isnan(out)
            if todo.any():
                out[todo] = grid.sample(np.asarray(gx)[todo], np.asarray(gy)[todo])
        return out
    return sample
