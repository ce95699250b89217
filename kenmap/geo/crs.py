"""Coordinate reference systems of Japanese data, and the choice of plane-rectangular zone.

Inputs arrive as JGD2000, JGD2011, WGS84, Tokyo datum or a plane-rectangular zone; kenmap stores
and measures in the JGD2011 plane-rectangular zone (EPSG:6669–6687) that contains the data.
CRSs are matched by EPSG code, never by name (EPSG renamed JGD2011 to JGD2024).
"""

from __future__ import annotations

import functools

import geopandas as gpd
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from kenmap.errors import KenmapError

#: JGD2011 plane-rectangular zones I–XIX.
ZONE_EPSG = {n: 6668 + n for n in range(1, 20)}

#: Zone of each prefecture (JIS X 0401 code) where one zone covers the whole prefecture.
#: 北海道 (01), 東京 (13), 鹿児島 (46) and 沖縄 (47) depend on the municipality; see below.
_PREF_ZONE = {
    2: 10, 3: 10, 4: 10, 5: 10, 6: 10, 7: 9, 8: 9, 9: 9, 10: 9, 11: 9, 12: 9, 13: 9, 14: 9,
    15: 8, 16: 7, 17: 7, 18: 6, 19: 8, 20: 8, 21: 7, 22: 8, 23: 7, 24: 6, 25: 6, 26: 6,
    27: 6, 28: 5, 29: 6, 30: 6, 31: 5, 32: 3, 33: 5, 34: 3, 35: 3, 36: 4, 37: 4, 38: 4,
    39: 4, 40: 2, 41: 2, 42: 1, 43: 2, 44: 2, 45: 2, 46: 2, 47: 15,
}

#: Geographic CRSs accepted as input, by EPSG code.
GEOGRAPHIC_INPUTS = {4612: "JGD2000", 6668: "JGD2011", 4326: "WGS84", 4301: "Tokyo datum"}


def parse_crs(value: str | int, *, what: str = "--crs") -> CRS:
    """Parse an EPSG code given as ``6673``, ``"EPSG:6673"`` or any pyproj-readable string."""
    text = str(value).strip()
    try:
        return CRS.from_epsg(int(text)) if text.isdigit() else CRS.from_user_input(text)
    except (CRSError, ValueError) as exc:
        raise KenmapError(f"{what} '{value}' は座標系ではありません") from exc


def epsg_of(crs: CRS | None) -> int | None:
    """EPSG code of a CRS, matched leniently so ESRI ``.prj`` files are recognised."""
    if crs is None:
        return None
    code = crs.to_epsg()
    if code is None:
        code = crs.to_epsg(min_confidence=70)
    return code


def is_plane_rectangular(epsg: int | None) -> bool:
    """True for the JGD2011 plane-rectangular zones (and their JGD2000 twins 2443–2461)."""
    return epsg is not None and (6669 <= epsg <= 6687 or 2443 <= epsg <= 2461)


def _zone_by_position(lon: float, lat: float) -> int:
    if lat < 27.5:  # 沖縄 and the southern islands
        if lon < 125.5:
            return 16
        if lon > 130.0:
            return 17
        return 15
    if lat > 41.4:  # 北海道: west (XI), centre (XII), east (XIII)
        if lon < 141.1:
            return 11
        return 12 if lon < 143.0 else 13
    if 138.5 < lon and lat < 34.3:  # 伊豆・小笠原 south of Honshu belong to Tokyo's IX/XIV
        return 14 if lat < 28.0 else 9
    # Honshu, Shikoku, Kyushu: the zone whose origin meridian is nearest.
    origins = {1: 129.5, 2: 131.0, 3: 132.1667, 5: 134.3333, 6: 136.0, 7: 137.1667, 8: 138.5,
               9: 139.8333, 10: 140.8333}
    if lat < 34.6 and 132.2 < lon < 134.9:  # 四国
        return 4
    if lat > 38.0 and lon > 139.5:
        return 10
    return min(origins, key=lambda z: abs(origins[z] - lon))


def choose_zone(gdf: gpd.GeoDataFrame, pref_code: int | None = None) -> int:
    """EPSG code of the plane-rectangular zone for a layer.

    Parameters
    ----------
    gdf
        The areas, in any CRS.
    pref_code
        Prefecture code (1–47) when the data's codes tell it; it decides the zone exactly except
        in 北海道, 東京, 鹿児島 and 沖縄, where the position decides.
    """
    lonlat = gdf.geometry.to_crs(6668)
    minx, miny, maxx, maxy = lonlat.total_bounds
    lon, lat = (minx + maxx) / 2, (miny + maxy) / 2
    if pref_code in _PREF_ZONE and pref_code not in (13, 46):
        zone = _PREF_ZONE[pref_code]
    else:
        zone = _zone_by_position(lon, lat)
        if pref_code == 46 and zone != 1:
            zone = 2
    return ZONE_EPSG[zone]


def prefecture_from_codes(codes: list[str]) -> int | None:
    """Prefecture code shared by area codes that look like municipality or e-Stat codes."""
    prefs = set()
    for code in codes[:1000]:
        text = str(code)
        if not text.isdigit() or len(text) < 5:
            return None
        prefs.add(int(text[:2]))
    if len(prefs) == 1:
        pref = prefs.pop()
        return pref if 1 <= pref <= 47 else None
    return None


def crs_label(epsg: int | None) -> str:
    """A short human label such as ``EPSG:6673 (JGD2011 / Japan Plane Rectangular CS V)``."""
    if epsg is None:
        return "unknown CRS"
    return f"EPSG:{epsg} ({CRS.from_epsg(epsg).name})"


@functools.lru_cache(maxsize=64)
def transformer(source: int, target: int) -> Transformer:
    """A cached longitude-first transformer between two EPSG codes (making one costs
    milliseconds; a hub edit needs two)."""
    return Transformer.from_crs(source, target, always_xy=True)
