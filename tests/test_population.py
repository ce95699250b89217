"""Population tables as offices and e-Stat write them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pyogrio
import pytest
from conftest import CliResult, digest
from helpers import ward_city

BANDS = [f"{a}～{a + 4}歳" for a in range(0, 100, 5)] + ["100歳以上"]


def _band_row(code: str, counts: list[int | str]) -> str:
    return ",".join([code, *map(str, counts)])


def _ws(tmp_path: Path) -> Path:
    return ward_city(tmp_path).path


def test_age_bands_marks_and_cp932(tmp_path: Path, run: Callable[..., CliResult]) -> None:
    ws = _ws(tmp_path)
    young = [10] * 13
    old = [5, 4, 3, 2, 1, "-", "-", 1]  # 65+ = 16, 75+ = 7
    suppressed = ["X"] * 21
    text = "\n".join([
        "町丁コード,世帯数," + ",".join(BANDS),
        _band_row("101", [60, *young, *old]),
        _band_row("102", [40, *young, *[2 * v if isinstance(v, int) else v for v in old]]),
        _band_row("201", ["-", *suppressed]),
        _band_row("202", [7, *[1] * 21]),
    ])
    path = tmp_path / "ages.csv"
    path.write_bytes(text.encode("cp932"))
    result = run("import", "population", ws, path, "--layer", "cho", "--code-field",
                 "町丁コード", "--as-of", "2025-04-01", "--source", "住民基本台帳",
                 "--format", "json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["matched_rows"] == 4 and report["matched_share"] == 1.0
    assert report["suppressed_cells"] == 21
    stats = json.loads(run("stats", ws, "--layer", "cho", "--format", "json").out)["areas"]
    by = {a["code"]: a for a in stats}
    assert by["101"]["population"] == 146 and by["101"]["pop65"] == 16
    assert by["101"]["pop75"] == 7 and by["101"]["households"] == 60
    assert by["101"]["aging_rate"] == pytest.approx(16 / 146 * 100)
    assert by["102"]["pop65"] == 32
    # Suppressed: unknown, never 0, and counted.
    assert by["201"]["population"] is None and by["201"]["aging_rate"] is None
    assert by["201"]["missing"] == 3 and by["201"]["households"] == 0
    # The ward's rate comes from summed counts over the areas where both are known.
    ku = {a["code"]: a for a in json.loads(
        run("stats", ws, "--layer", "ku", "--format", "json").out)["areas"]}
    assert ku["1"]["aging_rate"] == pytest.approx((16 + 32) / (146 + 162) * 100)
    assert ku["2"]["population"] == 21 and ku["2"]["missing"] == 3
    assert ku["2"]["aging_rate"] == pytest.approx(8 / 21 * 100)


def test_estat_two_row_header_with_reaggregates(tmp_path: Path,
                                                run: Callable[..., CliResult]) -> None:
    ws = _ws(tmp_path)
    top = ["地域識別番号", "町丁名", "総数", *["年齢（5歳階級）"] * 21, "（再掲）", "（再掲）"]
    bottom = ["", "", "", *[b.replace("～", "〜") for b in BANDS[:-1]], "100歳 以上",
              "65歳以上", "75歳以上"]
    rows = [",".join(top), ",".join(bottom)]
    for code in ("101", "102", "201", "202"):
        bands = [3] * 21
        rows.append(",".join([code, "x", "63", *map(str, bands), "24", "15"]))
    path = tmp_path / "estat.csv"
    path.write_text("\n".join(rows), encoding="utf-8-sig")
    result = run("import", "population", ws, path, "--layer", "cho", "--code-field",
                 "地域識別番号", "--header-rows", "2")
    assert result.code == 0, result.err
    assert "pop65 は8の年齢階級の合計" in result.out
    stats = json.loads(run("stats", ws, "--layer", "shi", "--format", "json").out)["areas"][0]
    # The 再掲 columns are not bands: 65+ is 8 bands × 3 per area, not double counted.
    assert stats["population"] == 252 and stats["pop65"] == 96 and stats["pop75"] == 72


def test_join_by_name_within_ward_skips_total_rows(tmp_path: Path,
                                                   run: Callable[..., CliResult]) -> None:
    """A 条丁目 table: the same 町丁 name in two wards, ward subtotals and a 全市 line."""
    ws = _ws(tmp_path)
    path = tmp_path / "register.csv"
    path.write_text("区,町丁,人口,65歳以上\n"
                    "全市,全市,1000,400\n"
                    "中央区,中央区,600,200\n"
                    "中央区,本町１丁目,300,100\n"
                    "中央区,本町２丁目,300,100\n"
                    "東区,東区,400,200\n"
                    "東区,本町　一丁目,350,180\n"
                    "東区,新田,40,15\n"
                    "東区,旧新田,10,5\n", encoding="utf-8")
    result = run("import", "population", ws, path, "--layer", "cho", "--name-field", "町丁",
                 "--parent-name-field", "区", "--pop65-field", "65歳以上", "--format", "json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["matched_rows"] == 4 and report["total_rows"] == 3
    assert report["unmatched_rows"] == 1
    assert report["matched_share"] == pytest.approx(990 / 1000)
    assert "旧新田" in " ".join(report["warnings"]) and "（10人）" in " ".join(
        report["warnings"])
    shi = json.loads(run("stats", ws, "--layer", "shi", "--format", "json").out)["areas"][0]
    assert shi["population"] == 990 and shi["pop65"] == 395  # no subtotal double counted
    cho = {a["code"]: a for a in json.loads(
        run("stats", ws, "--layer", "cho", "--format", "json").out)["areas"]}
    assert cho["101"]["population"] == 300 and cho["201"]["population"] == 350


def test_excel_with_merged_header(tmp_path: Path, run: Callable[..., CliResult]) -> None:
    from openpyxl import Workbook

    ws = _ws(tmp_path)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["コード", "人口", None, None])
    sheet.append([None, "総数", "65歳以上", "75歳以上"])
    sheet.merge_cells("B1:D1")
    sheet.merge_cells("A1:A2")
    for code, total in (("101", 100), ("102", 80), ("201", 50), ("202", 20)):
        sheet.append([code, total, total // 2, total // 4])
    path = tmp_path / "merged.xlsx"
    book.save(path)
    before = digest(ws)
    bad = run("import", "population", ws, path, "--layer", "cho", "--code-field", "コード")
    assert bad.code != 0 and digest(ws) == before
    assert "結合された見出しセル" in bad.err and "--header-rows 2" in bad.err
    good = run("import", "population", ws, path, "--layer", "cho", "--code-field", "コード",
               "--header-rows", "2", "--total-field", "人口 / 総数",
               "--pop65-field", "人口 / 65歳以上", "--pop75-field", "人口 / 75歳以上")
    assert good.code == 0, good.err
    shi = json.loads(run("stats", ws, "--layer", "shi", "--format", "json").out)["areas"][0]
    assert shi["population"] == 250 and shi["pop65"] == 125


@pytest.mark.parametrize(("body", "needles"), [
    ("町丁コード,総数\n999,10\n998,20\n", ["の区域に一致する行がありません", "999"]),
    ("町丁コード,総数,65歳以上\n101,10,4\n102,-5,1\n", ["3行目", "人数が負の値です: -5", "総数"]),
    ("町丁コード,総数,65歳以上\n101,10,4\n102,十,1\n", ["3行目", "「十」は人数ではありません"]),
    ("町丁コード,総数,65歳以上\n101,10,4\n102,20,25\n",
     ["3行目", "が総数（20）より大きくなっています"]),
    ("町丁コード,人数\n101,10\n", ["総人口の列が見つからず"]),
])
def test_bad_tables(tmp_path: Path, run: Callable[..., CliResult], body: str,
                    needles: list[str]) -> None:
    ws = _ws(tmp_path)
    path = tmp_path / "bad.csv"
    path.write_text(body, encoding="utf-8")
    before = digest(ws)
    result = run("import", "population", ws, path, "--layer", "cho", "--code-field",
                 "町丁コード", "--pop65-field" if "65歳以上" in body else "--source",
                 "65歳以上" if "65歳以上" in body else "test")
    assert result.code != 0
    assert len(result.err.strip().splitlines()) == 1
    for needle in needles:
        assert needle in result.err
    assert str(path) in result.err
    assert digest(ws) == before
    assert "population_cho" not in pyogrio.list_layers(ws)[:, 0]


def test_stats_csv_is_excel_friendly(tmp_path: Path, run: Callable[..., CliResult]) -> None:
    ws = _ws(tmp_path)
    path = tmp_path / "p.csv"
    path.write_text("町丁コード,総数,65歳以上\n101,10,4\n102,20,5\n201,30,6\n202,40,7\n",
                    encoding="utf-8")
    run("import", "population", ws, path, "--layer", "cho", "--code-field", "町丁コード",
        "--pop65-field", "65歳以上")
    out = tmp_path / "stats.csv"
    assert run("stats", ws, "--layer", "ku", "--format", "csv", "--out", out).code == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    header = raw.decode("utf-8-sig").splitlines()[0]
    assert header == ("code,name,parent_code,population,pop65,pop75,households,aging_rate,"
                      "late_aging_rate,area_km2,hubs")
    table = run("stats", ws, "--layer", "ku").out
    assert "中央区" in table and "合計" in table and "高齢化率" in table
    assert "市の高齢化率" in table and "22.0%" in table  # 22/100 for the city
