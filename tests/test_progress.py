"""Plan targets against actuals with grades (``kenmap progress``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import digest


@pytest.mark.parametrize(("value", "expected"), [
    (100.0, "A"), (250.0, "A"), (99.99, "B"), (80.0, "B"), (79.99, "C"), (0.01, "C"),
    (0.0, "D"), (-20.0, "D"), (None, None)])
def test_default_grades_at_each_boundary(value: float | None, expected: str | None) -> None:
    from kenmap.access.targets import grade

    assert grade(value) == expected


def test_grades_under_a_rows_own_thresholds() -> None:
    from kenmap.access.targets import grade

    rule = {"A": 90.0, "B": 50.0, "C": 10.0}
    assert [grade(v, rule) for v in (90, 89.9, 50, 49.9, 10.01, 10, 0)] == \
        ["A", "B", "B", "C", "C", "D", "D"]


@pytest.mark.parametrize(("baseline", "target", "actual", "expected"), [
    (189, 300, 276, (276 - 189) / (300 - 189) * 100),   # 22 箇所 ⇒ 24 箇所 kind of target
    (6, 15, 6, 0.0), (6, 15, 15, 100.0), (6, 15, 20, (20 - 6) / 9 * 100),
    (30, 10, 20, 50.0),                                   # a reduction: half way down
    (5, 5, 5, 100.0), (5, 5, 4, 0.0),                     # keep at least the baseline
])
def test_achievement(baseline: float, target: float, actual: float, expected: float) -> None:
    from kenmap.access.targets import achievement

    assert achievement(baseline, target, actual) == pytest.approx(expected)


def _targets(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "targets.csv"
    path.write_text("項目,指標,範囲,年度,基準値,目標値\n" + "\n".join(rows) + "\n",
                    encoding="utf-8")
    return path


def test_progress_at_each_fiscal_years_end(run, demo_copy_ws: Path,  # type: ignore[no-untyped-def]
                                           tmp_path: Path) -> None:
    import kenmap

    path = _targets(tmp_path, ["サロンを増やす,拠点数:サロン,市全体,2020,150,300",
                               "サロンを増やす,拠点数:サロン,市全体,2025,150,300",
                               "全行政区にサロン,充足率:サロン:行政区,市全体,2025,40,100",
                               "地区ごとのサロン,拠点数:salon,chiku,2025,0,5"])
    result = run("progress", demo_copy_ws, "--targets", path, "--format", "json")
    assert result.code == 0, result.err
    rows = json.loads(result.out)["rows"]
    assert set(rows[0]) == {"item", "indicator", "scope", "area_code", "year", "baseline",
                            "target", "actual", "achievement", "grade", "area_name"}
    hubs = kenmap.open_workspace(demo_copy_ws).read_points("hubs")
    salons = hubs[(hubs["type"] == "salon") & (hubs["status"] == "existing")]
    # Fiscal 2020 ends on 31 March 2021: the サロン opened by then.
    assert rows[0]["actual"] == int((salons["opened"] <= "2021-03-31").sum())
    assert rows[1]["actual"] == len(salons)
    for row in rows[:2]:
        expected = (row["actual"] - 150) / 150 * 100
        assert row["achievement"] == pytest.approx(expected)
    gaps = json.loads(run("gaps", demo_copy_ws, "--layer", "gyoseiku", "--hub-type", "salon",
                          "--format", "json").out)["areas"]
    assert rows[2]["actual"] == pytest.approx(100 * sum(not a["lacking"] for a in gaps)
                                              / len(gaps))
    per_area = [r for r in rows if r["scope"] == "chiku"]
    assert len(per_area) == 29 and sum(r["actual"] for r in per_area) == len(salons)
    for r in per_area:  # 0 → 5 hubs: 4 is 80 % (B), 1–3 are C
        assert r["grade"] == ("A" if r["actual"] >= 5 else "B" if r["actual"] == 4 else
                              "C" if r["actual"] > 0 else "D")
    text = run("progress", demo_copy_ws, "--targets", path, "--year", "2025").out
    assert "目標をすべて達成" in text and "評価: A" in text


@pytest.mark.parametrize(("row", "needle"), [
    ("x,拠点数:カラオケ,市全体,2025,1,2", "拠点の種類「カラオケ」は登録されていません"),
    ("x,拠点数:サロン,市全体,2025,1,たくさん", "「たくさん」は数ではありません"),
    ("x,人気:サロン,市全体,2025,1,2", "の形が分かりません"),
    ("x,拠点数:サロン,学区,2025,1,2", "学区"),
])
def test_bad_targets_are_named_by_row(run, demo_copy_ws: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                      row: str, needle: str) -> None:
    path = _targets(tmp_path, ["ok,拠点数:サロン,市全体,2025,1,2", row])
    state = digest(demo_copy_ws)
    result = run("progress", demo_copy_ws, "--targets", path)
    assert result.code == 2 and needle in result.err, result.err
    assert "targets.csv: 3行目" in result.err
    missing = run("progress", demo_copy_ws, "--targets", _targets(tmp_path, [
        "ok,拠点数:サロン,市全体,2025,1,2"]), "--year", "2030")
    assert missing.code == 2 and "表にある年度: 2025" in missing.err
    assert digest(demo_copy_ws) == state


def test_committee_report(run, demo_copy_ws: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import shutil
    import subprocess

    path = _targets(tmp_path, ["サロンを増やす,拠点数:サロン,市全体,2025,150,300",
                               "一人暮らし把握,指標:hitorigurashi,旧市町,2025,20,25"])
    pdf = tmp_path / "report.pdf"
    result = run("report", demo_copy_ws, "--targets", path, "--year", "2025", "--pdf", pdf)
    assert result.code == 0, result.err
    # Cover, two item pages, the map of the hub item, the figures and sources.
    assert "5 ページ" in result.out and "項目 2" in result.out
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils is not installed: the PDF is not read")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True).stdout
    rows = json.loads(run("progress", demo_copy_ws, "--targets", path, "--format", "json"
                          ).out)["rows"]
    assert f"{rows[0]['actual']:,.0f}" in text and "進捗の評価（2025年度）" in text
    assert text.count("\f") == 5  # pages
    assert "目標をすべて達成" in text and "中央町" in text
