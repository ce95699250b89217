"""Service areas that do not nest (``nested = false``): 包括 areas across the 旧市町, on
hand-drawn squares where every figure is known."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
from conftest import CliResult
from shapely.geometry import box

from kenmap.model.scheme import Scheme
from kenmap.workspace import Workspace

SCHEME = {"name": "重ならない圏域のある市", "layers": [
    {"key": "shi", "label": "市"}, {"key": "ku", "label": "区"},
    {"key": "hokatsu", "label": "包括圏域", "nested": False}]}
# Two 区 side by side; the 包括 areas cut 区 A in half.
A, B = box(0, 0, 100, 100), box(100, 0, 200, 100)


def _frame(rows: list[tuple[str, str, str | None, object]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"code": [r[0] for r in rows], "name": [r[1] for r in rows],
                             "parent_code": [r[2] for r in rows]},
                            geometry=[r[3] for r in rows], crs=6673)


def _workspace(tmp_path: Path, overlay: list[tuple[str, str, None, object]], run  # type: ignore[no-untyped-def]
               ) -> Path:
    ws = Workspace.create(tmp_path / "o.gpkg", Scheme.from_dict(SCHEME))
    with ws.transaction() as tx:
        tx.set_crs(6673)
        tx.write_layer("shi", _frame([("1", "市", None, box(0, 0, 200, 100))]))
        tx.write_layer("ku", _frame([("A", "東区", "1", A), ("B", "西区", "1", B)]))
        tx.write_layer("hokatsu", _frame(overlay))
    table = tmp_path / "pop.csv"
    table.write_text("code,総数,65歳以上,世帯数\nA,100,40,50\nB,200,50,90\n", encoding="utf-8")
    assert run("import", "population", ws.path, table, "--layer", "ku", "--code-field",
               "code").code == 0
    return ws.path


def test_overlay_figures_through_the_crosswalk(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = _workspace(tmp_path, [("X", "東包括", None, box(0, 0, 50, 100)),
                                 ("Y", "西包括", None, box(50, 0, 200, 100))], run)
    result: CliResult = run("validate", path, "--format", "json")
    report = json.loads(result.out)
    assert result.code == 0 and report["ok"], result.out  # Y straddles both 区: allowed
    assert report["layers"]["hokatsu"]["nested"] is False
    stats = json.loads(run("stats", path, "--layer", "hokatsu", "--format", "json").out)
    rows = {a["code"]: a for a in stats["areas"]}
    assert (rows["X"]["population"], rows["X"]["pop65"]) == (50, 20)   # half of 区 A
    assert (rows["Y"]["population"], rows["Y"]["pop65"]) == (250, 70)  # the other half + B
    assert rows["Y"]["aging_rate"] == 70 / 250 * 100
    assert rows["X"]["households"] == 25
    # Hubs are counted by where they stand.
    from kenmap.hubs.edits import add_hub

    lon, lat = _lonlat(25, 50)
    add_hub(Workspace.open(path), {"type": "salon", "name": "東のサロン", "lon": lon,
                                   "lat": lat})
    stats = json.loads(run("stats", path, "--layer", "hokatsu", "--format", "json").out)
    rows = {a["code"]: a for a in stats["areas"]}
    assert rows["X"]["hubs"] == {"salon": 1} and rows["Y"]["hubs"] == {}


def _gaps(run, path: Path, *args: str) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    result = run("gaps", path, "--layer", "hokatsu", "--format", "json", *args)
    assert result.code == 0, result.err
    return {a["code"]: a for a in json.loads(result.out)["areas"]}


def test_gaps_and_coverage_on_an_overlay(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import math

    path = _workspace(tmp_path, [("X", "東包括", None, box(0, 0, 50, 100)),
                                 ("Y", "西包括", None, box(50, 0, 200, 100))], run)
    from kenmap.hubs.edits import add_hub

    lon, lat = _lonlat(25, 50)
    add_hub(Workspace.open(path), {"type": "salon", "name": "東のサロン", "lon": lon,
                                   "lat": lat})
    # Membership: X holds the サロン, Y lacks one; 65+ through the crosswalk (20 and 70).
    rows = _gaps(run, path, "--hub-type", "salon")
    assert (rows["X"]["lacking"], rows["X"]["pop65"], rows["X"]["pop65_reached"]) == \
        (False, 20, 20)
    assert (rows["Y"]["lacking"], rows["Y"]["pop65"], rows["Y"]["pop65_reached"]) == \
        (True, 70, 0)
    # Within 50 m straight (detour 1) of the サロン, on 10 m cells: count the cells by hand.
    # 区 A's 100 cells hold 0.4 of a 65+ each, 区 B's 0.5.
    def reached(x0: float, x1: float) -> float:
        total = 0.0
        for i in range(int(x0) // 10, int(x1) // 10):
            for j in range(10):
                cx, cy = i * 10 + 5, j * 10 + 5
                if math.hypot(cx - 25, cy - 50) <= 50:
                    total += 0.4 if cx < 100 else 0.5
        return total
    rows = _gaps(run, path, "--hub-type", "salon", "--radius", "50", "--detour", "1",
                 "--cell", "10")
    assert rows["X"]["pop65_reached"] == pytest.approx(reached(0, 50))
    assert rows["X"]["reach_rate"] == pytest.approx(reached(0, 50) / 20 * 100)
    assert rows["Y"]["pop65_reached"] == pytest.approx(reached(50, 200))
    assert 0 < rows["Y"]["pop65_reached"] < 20  # only 区 A's half is near
    # A 地域包括支援センター standing in Y may be responsible for X (its service area).
    lon, lat = _lonlat(150, 50)
    add_hub(Workspace.open(path), {"type": "hokatsu", "name": "包括センター",
                                   "lon": lon, "lat": lat, "responsible": "X"})
    rows = _gaps(run, path, "--hub-type", "hokatsu")
    assert not rows["X"]["lacking"] and "担当" in rows["X"]["reason"]
    assert not rows["Y"]["lacking"] and rows["Y"]["hubs_inside"] == 1
    coverage = json.loads(run("coverage", path, "--format", "json").out)
    hokatsu = coverage["types"]["salon"]["layers"]["hokatsu"]
    assert (hokatsu["areas"], hokatsu["lacking"], hokatsu["nested"]) == (2, 1, False)
    assert hokatsu["pop65_in_areas_with_hub"] == 20


def _lonlat(x: float, y: float) -> tuple[float, float]:
    from pyproj import Transformer

    return Transformer.from_crs(6673, 4326, always_xy=True).transform(x, y)


def test_an_overlay_must_cover_the_city_without_overlaps(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    gap = _workspace(tmp_path / "a", [("X", "東包括", None, box(0, 0, 50, 100)),
                                      ("Y", "西包括", None, box(70, 0, 200, 100))], run)
    report = json.loads(run("validate", gap, "--format", "json").out)
    assert [e["kind"] for e in report["errors"]] == ["uncovered"]
    assert "市域の 10.0%" in report["errors"][0]["message"]
    both = _workspace(tmp_path / "b", [("X", "東包括", None, box(0, 0, 80, 100)),
                                       ("Y", "西包括", None, box(50, 0, 200, 100))], run)
    report = json.loads(run("validate", both, "--format", "json").out)
    assert [e["kind"] for e in report["errors"]] == ["overlap"]


def test_a_scheme_declares_overlays(tmp_path: Path) -> None:
    from kenmap.errors import KenmapError

    scheme = Scheme.from_dict(SCHEME)
    assert scheme.keys == ["shi", "ku"] and scheme.overlays == ["hokatsu"]
    assert scheme.key_of("包括圏域") == "hokatsu"
    with pytest.raises(KenmapError, match="nested は true か false"):
        Scheme.from_dict({**SCHEME, "layers": [*SCHEME["layers"][:2],
                                               {"key": "x", "label": "x", "nested": "no"}]})
