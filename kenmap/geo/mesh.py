"""JIS X 0410 地域メッシュ codes: 1st (80 km) to 1/4 (250 m) mesh, as JGD2011 lon/lat boxes."""

from __future__ import annotations

import numpy as np
import shapely
from numpy.typing import NDArray

from kenmap.errors import KenmapError

#: Size names by code length.
MESH_SIZES = {4: "1次 (80 km)", 6: "2次 (10 km)", 8: "3次 (1 km)", 9: "1/2 (500 m)",
              10: "1/4 (250 m)"}


def mesh_box(code: str) -> tuple[float, float, float, float]:
    """(west, south, east, north) in degrees of a mesh code."""
    text = str(code).strip()
    if not text.isdigit() or len(text) not in MESH_SIZES:
        raise ValueError(f"「{code}」は JIS X 0410 のメッシュコード（4, 6, 8, 9, 10桁）ではありませ"
                         "ん")
    lat = int(text[0:2]) / 1.5
    lon = int(text[2:4]) + 100.0
    dlat, dlon = 2 / 3, 1.0
    if len(text) >= 6:
        a, b = int(text[4]), int(text[5])
        if a > 7 or b > 7:
            raise ValueError(f"「{code}」: 2次メッシュの数字は0–7でなければなりません")
        dlat, dlon = dlat / 8, dlon / 8
        lat, lon = lat + a * dlat, lon + b * dlon
    if len(text) >= 8:
        a, b = int(text[6]), int(text[7])
        dlat, dlon = dlat / 10, dlon / 10
        lat, lon = lat + a * dlat, lon + b * dlon
    for digit in text[8:]:
        q = int(digit)
        if q not in (1, 2, 3, 4):
            raise ValueError(f"「{code}」: 分割メッシュの数字は1–4でなければなりません")
        dlat, dlon = dlat / 2, dlon / 2
        lat += dlat if q in (3, 4) else 0
        lon += dlon if q in (2, 4) else 0
    return lon, lat, lon + dlon, lat + dlat


def mesh_polygons(codes: list[str], *, file: str, field: str,
                  rows: list[int]) -> NDArray[np.object_]:
    """Boxes (EPSG:6668) for mesh codes; an invalid code is an error naming its row."""
    boxes = []
    for code, row in zip(codes, rows):
        try:
            boxes.append(mesh_box(code))
        except ValueError as exc:
            raise KenmapError(str(exc), file=file, row=row, field=field) from None
    arr = np.array(boxes, dtype=float).reshape(-1, 4)
    return shapely.box(arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3])
