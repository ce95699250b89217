import geopandas as gpd
import pytest
from shapely.geometry import Point

from kenmap.geo.crs import choose_zone, epsg_of, prefecture_from_codes


def _at(lon: float, lat: float) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=[Point(lon, lat).buffer(0.01)], crs=4326)


@pytest.mark.parametrize(
    ("lon", "lat", "pref", "epsg"),
    [
        (133.33, 35.43, 31, 6673),   # 米子市, 鳥取: zone V
        (133.33, 35.43, None, 6673),  # by position alone
        (134.82, 35.54, 28, 6673),   # 豊岡市, 兵庫: V
        (139.65, 35.86, 11, 6677),   # さいたま市, 埼玉: IX
        (139.65, 35.86, None, 6677),
        (141.35, 43.06, 1, 6680),    # 札幌市: XII
        (140.73, 41.77, 1, 6679),    # 函館市: XI
        (144.38, 42.98, 1, 6681),    # 釧路市: XIII
        (127.68, 26.21, 47, 6683),   # 那覇市: XV
        (130.55, 31.60, 46, 6670),   # 鹿児島市: II
        (133.05, 35.47, None, 6671),  # 松江市 by position: III
        (132.46, 34.39, 34, 6671),   # 広島市: III
        (133.53, 33.56, 39, 6672),   # 高知市: IV
    ],
)
def test_zone_choice(lon: float, lat: float, pref: int | None, epsg: int) -> None:
    assert choose_zone(_at(lon, lat), pref) == epsg


def test_prefecture_from_codes() -> None:
    assert prefecture_from_codes(["312020482", "31202004001"]) == 31
    assert prefecture_from_codes(["312020482", "282090001"]) is None
    assert prefecture_from_codes(["A1", "B2"]) is None


def test_esri_prj_is_matched_by_code() -> None:
    from pyproj import CRS

    esri = ('GEOGCS["JGD2000",DATUM["D_JGD_2000",SPHEROID["GRS_1980",6378137,298.257222101]],'
            'PRIMEM["Greenwich",0],UNIT["Degree",0.017453292519943295]]')
    assert epsg_of(CRS.from_wkt(esri)) == 4612
