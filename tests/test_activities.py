"""Activities done per area and fiscal year, and their 実施率 in ``progress``."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import digest


def _records(ws_path: Path, tmp_path: Path, bad: str | None = None) -> tuple[Path, pd.DataFrame]:
    """支え愛マップ per 行政区: done in R6 (2024) by every fifth and the next, in 2025 by three
    in five; written as offices do (○/×, 令和 years)."""
    import kenmap

    areas = kenmap.open_workspace(ws_path).read_attributes("gyoseiku")
    rows = []
    for i, (code, parent) in enumerate(zip(areas["code"], areas["parent_code"])):
        rows.append({"行政区コード": code, "活動": "支え愛マップ", "年度": "R6",
                     "実施": "○" if i % 5 in (0, 1) else "×", "parent": parent})
        rows.append({"行政区コード": code, "活動": "支え愛マップ", "年度": "2025",
                     "実施": "済" if i % 5 in (0, 1, 2) else "未", "parent": parent})
    frame = pd.DataFrame(rows)
    if bad is not None:
        frame.loc[7, "実施"] = bad
    path = tmp_path / "katsudo.csv"
    frame.drop(columns="parent").to_csv(path, index=False, encoding="utf-8")
    return path, frame


def test_activity_shares_in_progress(run, demo_copy_ws: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path, frame = _records(demo_copy_ws, tmp_path)
    result = run("import", "activities", demo_copy_ws, path, "--layer", "gyoseiku",
                 "--code-field", "行政区コード")
    assert result.code == 0, result.err
    targets = tmp_path / "targets.csv"
    targets.write_text("項目,指標,範囲,年度,基準値,目標値\n"
                       "支え愛マップ,実施率:支え愛マップ,市全体,2024,0,40\n"
                       "支え愛マップ,実施率:支え愛マップ,市全体,2025,40,60\n"
                       "支え愛マップ,実施率:支え愛マップ,地区,2025,40,60\n", encoding="utf-8")
    rows = json.loads(run("progress", demo_copy_ws, "--targets", targets, "--format", "json"
                          ).out)["rows"]
    done = frame[frame["実施"].isin(["○", "済"])]
    n = len(frame) // 2
    share2024 = 100 * (done["年度"] == "R6").sum() / n
    share2025 = 100 * (done["年度"] == "2025").sum() / n
    assert rows[0]["actual"] == pytest.approx(share2024)
    assert rows[1]["actual"] == pytest.approx(share2025)
    assert rows[1]["achievement"] == pytest.approx((share2025 - 40) / 20 * 100)
    chiku = [r for r in rows if r["scope"] == "地区"]
    assert len(chiku) == 29
    this_year = frame[frame["年度"] == "2025"]
    for r in chiku:
        mine = this_year[this_year["parent"] == r["area_code"]]
        assert r["actual"] == pytest.approx(100 * mine["実施"].eq("済").mean())


@pytest.mark.parametrize(("bad", "needle"), [
    ("たぶん", "「たぶん」は実施の有無"), ("-2", "負の回数")])
def test_bad_activity_records_change_nothing(run, demo_copy_ws: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                             bad: str, needle: str) -> None:
    path, _ = _records(demo_copy_ws, tmp_path, bad)
    state = digest(demo_copy_ws)
    result = run("import", "activities", demo_copy_ws, path, "--layer", "gyoseiku",
                 "--code-field", "行政区コード")
    assert result.code == 2 and needle in result.err and "katsudo.csv: 9行目" in result.err
    assert digest(demo_copy_ws) == state


def test_coverage_reports_the_latest_share(run, demo_copy_ws: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path, frame = _records(demo_copy_ws, tmp_path)
    assert run("import", "activities", demo_copy_ws, path, "--layer", "gyoseiku",
               "--code-field", "行政区コード").code == 0
    done = int(frame[(frame["年度"] == "2025") & (frame["実施"] == "済")].shape[0])
    text = run("coverage", demo_copy_ws).out
    assert f"活動「支え愛マップ」（行政区、2025年度）: 実施 {done} / 359区域" in text
    data = json.loads(run("coverage", demo_copy_ws, "--format", "json").out)
    mine = next(a for a in data["activities"] if a["activity"] == "支え愛マップ")
    assert mine["done"] == done and mine["year"] == 2025
