"""Age tables as they come: the census's own 小地域集計 table, bands split by sex, totals.

The 小地域集計 table is written exactly as e-Stat lays it out (code row, label row in
full-width digits, HYOSYO levels, 秘匿処理, cp932, CRLF, ``-`` for 0 and ``X`` for suppressed),
for 米子市's real small-area codes from the Tottori boundary file: 9 digits for a 町・大字
without 丁目, 11 digits for 字・丁目, whose 9-digit parent row is a subtotal (HYOSYO 3).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
from conftest import ESTAT, CliResult

import kenmap

BANDS = [f"{a}～{a + 4}歳" for a in range(0, 100, 5)] + ["100歳以上"]


def _full_width(text: str) -> str:
    return text.translate(str.maketrans("0123456789", "０１２３４５６７８９"))


@pytest.fixture(scope="module")
def yonago(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """A workspace with 米子市's small areas, and the frame of their codes and names."""
    from kenmap.layers.areas import import_areas
    from kenmap.model.scheme import PRESETS

    tmp = tmp_path_factory.mktemp("census")
    ws = kenmap.Workspace.create(tmp / "yonago.gpkg", PRESETS["yonago"], "yonago")
    import_areas(ws, [ESTAT], layer="jichikai", code_field="KEY_CODE", name_field="MOJI",
                 where="CITY == '202'")
    areas = kenmap.open_workspace(ws.path).read_attributes("jichikai")
    return ws.path, areas


def _census_table(path: Path, areas: pd.DataFrame, *, suppressed: str, into: str) -> dict:
    """tblT001082C31202.txt as e-Stat writes it; returns the figures a correct import gives."""
    rng = np.random.default_rng(5)
    sexes = ["総数", "男", "女"]
    labels = ["総数、年齢「不詳」含む"] + [f"総数{_full_width(b)}" for b in BANDS] + \
        ["総数年齢「不詳」", "総数15歳未満", "総数15～64歳", "総数65歳以上", "総数75歳以上"] + \
        [f"{s}{_full_width(b)}" for s in sexes[1:] for b in BANDS]
    codes = [f"T001082{i:03d}" for i in range(1, len(labels) + 1)]
    head = ["KEY_CODE", "HYOSYO", "CITYNAME", "NAME", "HTKSYORI", "HTKSAKI", "GASSAN"]
    lines = [",".join(head + codes), ",".join([""] * len(head) + labels)]
    rows, totals = [], {"total": 0, "pop65": 0, "unknown": 0}
    by_code: dict[str, list[int]] = {}
    for code in sorted(areas["code"]):
        male = rng.integers(0, 30, len(BANDS))
        female = rng.integers(0, 30, len(BANDS))
        by_code[code] = [int(m + f) for m, f in zip(male, female)] + [int(rng.integers(0, 3))]
        by_code[code + "_m"] = [int(v) for v in male]
        by_code[code + "_f"] = [int(v) for v in female]

    def row(code: str, level: int, name: str, values: list[int], male: list[int],
            female: list[int], flag: int = 0, target: str = "") -> str:
        bands = values[:-1]
        unknown = values[-1]
        total = sum(bands) + unknown
        cells = [total, *bands, unknown, sum(bands[:3]), sum(bands[3:13]), sum(bands[13:]),
                 sum(bands[15:]), *male, *female]
        text = ["-" if v == 0 else str(v) for v in cells]
        if flag == 1:
            text = ["X"] * len(cells)
        return ",".join([code, str(level), "米子市", name, str(flag), target, "", *text])

    names = dict(zip(areas["code"], areas["name"]))
    everything = np.sum([v for k, v in by_code.items() if "_" not in k], axis=0).tolist()
    rows.append(row("31202", 1, "", everything, [0] * 21, [0] * 21))
    parents = sorted({c[:9] for c in areas["code"] if len(c) == 11})
    for parent in parents:
        kids = [c for c in areas["code"] if c.startswith(parent) and len(c) == 11]
        summed = np.sum([by_code[k] for k in kids], axis=0).tolist()
        rows.append(row(parent, 3, "親", summed, [0] * 21, [0] * 21))
    for code in sorted(areas["code"]):
        level = 4 if len(code) == 11 else 2
        flag = 1 if code == suppressed else 2 if code == into else 0
        values = list(by_code[code])
        if code == into:  # the suppressed area's people are counted here
            values = [a + b for a, b in zip(values, by_code[suppressed])]
        rows.append(row(code, level, names[code], values, by_code[code + "_m"],
                        by_code[code + "_f"], flag, into if flag == 1 else ""))
        if flag != 1:
            totals["total"] += sum(values)
            totals["pop65"] += sum(values[13:-1])
            totals["unknown"] += values[-1]
    path.write_bytes("\r\n".join(lines + rows).encode("cp932") + b"\r\n")
    totals["subtotals"] = len(parents)
    return totals


@pytest.mark.real
def test_census_small_area_table_without_flags(yonago: tuple[Path, pd.DataFrame],
                                               tmp_path: Path,
                                               run: Callable[..., CliResult]) -> None:
    ws, areas = yonago
    codes = sorted(areas["code"])
    suppressed, into = codes[10], codes[11]
    table = tmp_path / "tblT001082C31202.txt"
    want = _census_table(table, areas, suppressed=suppressed, into=into)
    result = run("import", "population", ws, table, "--layer", "jichikai", "--format", "json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["matched_share"] == pytest.approx(1.0)
    assert report["unmatched_rows"] == 0
    assert report["total_rows"] == 1 + want["subtotals"]
    notes = " ".join(report["notes"])
    assert f"市全体の合計 1行と小計 {want['subtotals']}行（HYOSYO）を飛ばしました" in notes
    assert "秘匿処理" in notes and suppressed in notes
    stats = json.loads(run("stats", ws, "--layer", "jichikai", "--format", "json").out)
    total = stats["total"]
    assert total["population"] == want["total"]
    assert total["pop65"] == want["pop65"]
    assert total["aging_rate"] == pytest.approx(want["pop65"] / want["total"] * 100)
    assert stats["rate_base"] == "total" and "年齢不詳を含む" in stats["rate_note"]
    hidden = next(a for a in stats["areas"] if a["code"] == suppressed)
    assert hidden["population"] is None and hidden["missing"] > 0
    known = json.loads(run("stats", ws, "--layer", "jichikai", "--rate-base", "known",
                           "--format", "json").out)
    assert known["rate_base"] == "known"
    assert known["total"]["aging_rate"] == pytest.approx(
        want["pop65"] / (want["total"] - want["unknown"]) * 100)
    assert known["total"]["population"] == want["total"]  # the count itself is unchanged


def test_bands_split_by_sex_are_summed(tmp_path: Path, run: Callable[..., CliResult]) -> None:
    from conftest import digest  # noqa: F401 - the helpers' module is shared
    from helpers import ward_city

    ws = ward_city(tmp_path)
    header = ["町丁コード", "総数"] + [f"{b}（{s}）" for b in BANDS for s in ("男", "女")]
    lines = [",".join(header)]
    expected = {}
    for i, code in enumerate(["101", "102", "201", "202"]):
        counts = [(i + 1) * (k % 4 + 1) for k in range(2 * len(BANDS))]
        lines.append(",".join([code, str(sum(counts))] + [str(c) for c in counts]))
        expected[code] = sum(counts[2 * 13:])  # 65～69歳 onwards, both sexes
    lines.append(",".join(["", "99999"] + ["1"] * 2 * len(BANDS)))  # a total row by name below
    lines[-1] = "市内全域," + lines[-1].split(",", 1)[1]
    file = tmp_path / "ages.csv"
    file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run("import", "population", ws.path, file, "--layer", "cho", "--code-field",
                 "町丁コード", "--format", "json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert "男+女" in " ".join(report["notes"])
    stats = json.loads(run("stats", ws.path, "--layer", "cho", "--format", "json").out)
    got = {a["code"]: a["pop65"] for a in stats["areas"]}
    assert got == expected


def test_no_65_column_is_said(tmp_path: Path, run: Callable[..., CliResult]) -> None:
    from helpers import ward_city

    ws = ward_city(tmp_path)
    file = tmp_path / "totals.csv"
    file.write_text("code,総数,高齢者数\n101,100,30\n102,200,40\n201,50,5\n202,80,8\n",
                    encoding="utf-8")  # 高齢者数: not a heading kenmap can read as 65+
    result = run("import", "population", ws.path, file, "--layer", "cho", "--code-field",
                 "code", "--format", "json")
    assert result.code == 0, result.err
    warnings = " ".join(json.loads(result.out)["warnings"])
    assert "65歳以上の人数が見つかりません" in warnings and "--pop65-field" in warnings


def test_total_rows_by_name_are_not_unmatched(tmp_path: Path,
                                              run: Callable[..., CliResult]) -> None:
    from helpers import ward_city

    ws = ward_city(tmp_path)
    file = tmp_path / "named.csv"
    file.write_text("区,町丁,総数,65歳以上\n中央区,本町一丁目,100,30\n中央区,本町二丁目,200,40\n"
                    "東区,本町一丁目,50,5\n東区,新田,80,8\n,市内全域,430,83\n",
                    encoding="utf-8")
    result = run("import", "population", ws.path, file, "--layer", "cho", "--name-field",
                 "町丁", "--parent-name-field", "区", "--format", "json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["unmatched_rows"] == 0 and report["total_rows"] == 1
    assert report["matched_share"] == pytest.approx(1.0)


def test_estat_boundary_codes_are_9_or_11_digits() -> None:
    codes = pyogrio.read_dataframe(ESTAT, columns=["KEY_CODE"], read_geometry=False)
    assert set(codes["KEY_CODE"].str.len()) == {9, 11}


@pytest.mark.real
def test_no_65_is_never_a_silent_blank(tmp_path: Path, run: Callable[..., CliResult]) -> None:
    """e-Stat boundaries carry JINKO (no ages): reach, coverage and siting refuse to weight by
    a 65+ that is not there, and membership gaps say 未取込, not 秘匿."""
    ws = tmp_path / "ws.gpkg"
    assert run("init", ws, "--scheme", "yonago").code == 0
    assert run("import", "areas", ws, ESTAT, "--layer", "jichikai", "--code-field", "KEY_CODE",
               "--name-field", "MOJI", "--where", "CITY == '202'").code == 0
    assert run("import", "population", ws, ESTAT, "--layer", "jichikai", "--code-field",
               "KEY_CODE", "--where", "CITY == '202'").code == 0
    hubs = tmp_path / "hubs.csv"
    hubs.write_text("type,name,lon,lat,status\nsalon,駅前サロン,133.331,35.428,existing\n"
                    "shukaijo,東集会所,133.36,35.43,candidate\n", encoding="utf-8")
    # (the 集会所 is a candidate site for siting)
    assert run("import", "hubs", ws, hubs, "--type-field", "type").code == 0
    for args in (["gaps", ws, "--layer", "jichikai", "--hub-type", "salon", "--radius", "500"],
                 ["coverage", ws],
                 ["site", ws, "--hub-type", "ibasho", "--k", "1", "--radius", "500",
                  "--layer", "jichikai"]):
        result = run(*args)
        assert result.code == 2, (args, result.out)
        assert "65歳以上が未取込" in result.err and result.err.count("\n") == 1
    plain = json.loads(run("gaps", ws, "--layer", "jichikai", "--hub-type", "salon",
                           "--format", "json").out)
    assert all(a["pop65"] is None for a in plain["areas"])
    assert not any("秘匿" in a["reason"] for a in plain["areas"])


def test_long_table_one_row_per_area_and_band(tmp_path: Path,
                                              run: Callable[..., CliResult]) -> None:
    """The resident register's long form: 町丁, 年齢区分, 男, 女 — a row per area and band."""
    from helpers import ward_city

    ws = ward_city(tmp_path)
    lines = ["町丁コード,年齢区分,男,女"]
    expected = {}
    for i, code in enumerate(["101", "102", "201", "202"]):
        total = 0
        for k, band in enumerate(BANDS):
            m, f = (i + k) % 7, (i * k) % 5
            lines.append(f"{code},{_full_width(band)},{m},{f if f else '-'}")
            total += m + f
            expected.setdefault(code, 0)
            if k >= 13:
                expected[code] += m + f
        lines.append(f"{code},総数,{total},0")
    file = tmp_path / "long.csv"
    file.write_text("\n".join(lines) + "\n", encoding="cp932")
    result = run("import", "population", ws.path, file, "--layer", "cho", "--code-field",
                 "町丁コード", "--format", "json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert "縦長の表" in " ".join(report["notes"]) and report["matched_share"] == 1.0
    stats = json.loads(run("stats", ws.path, "--layer", "cho", "--format", "json").out)
    assert {a["code"]: a["pop65"] for a in stats["areas"]} == expected
