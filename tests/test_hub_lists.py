"""Hub lists as they come: hubs outside the city that serve areas in it, hubs without
coordinates that name their area (位置未確定)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from conftest import CliResult
from helpers import ward_city
from pyproj import Transformer

TO_LONLAT = Transformer.from_crs(6673, 6668, always_xy=True)
X0, Y0 = -60_000.0, -80_000.0


def _city(tmp_path: Path, run: Callable[..., CliResult]) -> Path:
    ws = ward_city(tmp_path).path
    people = tmp_path / "people.csv"
    people.write_text("code,総数,65歳以上\n101,100,30\n102,200,40\n201,50,5\n202,80,8\n",
                      encoding="utf-8")
    assert run("import", "population", ws, people, "--layer", "cho", "--code-field",
               "code").code == 0
    return ws


def _lonlat(x: float, y: float) -> str:
    lon, lat = TO_LONLAT.transform(x, y)
    return f"{lon:.7f},{lat:.7f}"


def test_hubs_outside_the_city_serving_areas_inside(tmp_path: Path,
                                                    run: Callable[..., CliResult]) -> None:
    """芦屋's plan: most of its 包括 stand in neighbouring cities; they name their areas."""
    ws = _city(tmp_path, run)
    far = _lonlat(X0 - 5_000, Y0)  # 5 km west of the city
    file = tmp_path / "hokatsu.csv"
    file.write_text("type,name,lon,lat,担当区域\n"
                    f"hokatsu,市外A,{far},101;102\n"
                    f"hokatsu,市外B,{_lonlat(X0 - 6_000, Y0)},201\n"
                    f"hokatsu,市内C,{_lonlat(X0 + 3_500, Y0 + 500)},\n", encoding="utf-8")
    result = run("import", "hubs", ws, file, "--type-field", "type", "--format", "json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["outside"] == 2 and "担当" in " ".join(report["warnings"])
    gaps = json.loads(run("gaps", ws, "--layer", "cho", "--hub-type", "hokatsu",
                          "--format", "json").out)
    lacking = {a["code"]: a["lacking"] for a in gaps["areas"]}
    assert lacking == {"101": False, "102": False, "201": False, "202": False}
    # Without 担当区域 the same list is refused: most hubs outside means swapped or wrong CRS.
    bare = tmp_path / "bare.csv"
    bare.write_text("type,name,lon,lat\n"
                    f"hokatsu,市外A,{far}\nhokatsu,市外B,{_lonlat(X0 - 6_000, Y0)}\n"
                    f"hokatsu,市内C,{_lonlat(X0 + 3_500, Y0 + 500)}\n", encoding="utf-8")
    refused = run("import", "hubs", ws, bare, "--type-field", "type")
    assert refused.code == 2 and "市域の外" in refused.err


def test_hubs_without_coordinates_are_placed_in_their_area(
        tmp_path: Path, run: Callable[..., CliResult]) -> None:
    ws = _city(tmp_path, run)
    file = tmp_path / "salons.csv"
    file.write_text("type,name,lon,lat,区域コード\n"
                    f"salon,本町サロン,{_lonlat(X0 + 500, Y0 + 500)},\n"
                    "salon,新田サロン,,,202\n", encoding="utf-8")
    result = run("import", "hubs", ws, file, "--type-field", "type", "--format", "json")
    assert result.code == 0, result.err
    assert "位置未確定" in " ".join(json.loads(result.out)["notes"])
    member = json.loads(run("gaps", ws, "--layer", "cho", "--hub-type", "salon",
                            "--format", "json").out)
    assert {a["code"]: a["hubs_inside"] for a in member["areas"]}["202"] == 1
    reach = json.loads(run("gaps", ws, "--layer", "cho", "--hub-type", "salon", "--radius",
                           "300", "--format", "json").out)
    within = {a["code"]: a["pop65_reached"] for a in reach["areas"]}
    assert within["202"] == 0  # a hub placed by its area gives no walking distance
    assert within["101"] > 0
    hubs = json.loads(run("gaps", ws, "--layer", "ku", "--hub-type", "salon",
                          "--format", "json").out)
    assert {a["code"]: a["lacking"] for a in hubs["areas"]} == {"1": False, "2": False}
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("type,name,lon,lat,区域コード\nsalon,どこか,,,999\n", encoding="utf-8")
    refused = run("import", "hubs", ws, wrong, "--type-field", "type")
    assert refused.code == 2 and "2行目" in refused.err and "999" in refused.err
