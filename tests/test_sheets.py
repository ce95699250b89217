"""地域カルテ: one sheet per area (``kenmap profile``)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest


def test_a_sheet_per_area_with_its_figures(run, demo_copy_ws: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pdf, html = tmp_path / "chiku.pdf", tmp_path / "chiku.html"
    result = run("profile", demo_copy_ws, "--layer", "chiku", "--all", "--pdf", pdf,
                 "--html", html)
    assert result.code == 0, result.err
    stats = json.loads(run("stats", demo_copy_ws, "--layer", "chiku", "--format", "json").out)
    page = html.read_text(encoding="utf-8")
    assert page.count('<section class="sheet">') == len(stats["areas"]) == 29
    first = stats["areas"][0]
    assert f"{first['population']:,}" in page and first["name"] in page
    assert "（推計）" in page and "2040-10-01" in page  # the trend reaches the projection
    if shutil.which("pdfinfo") is None or shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils is not installed: the PDF is not read")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert "Pages:           29" in info
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-layout", str(pdf), "-"],
                          capture_output=True, text=True).stdout
    assert first["name"] in text and f"{first['population']:,}" in text
    assert "地域カルテ" in text and "のない行政区" in text


def test_one_sheet_and_bad_requests(run, demo_copy_ws: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    html = tmp_path / "one.html"
    code = json.loads(run("stats", demo_copy_ws, "--layer", "gyoseiku", "--format", "json"
                          ).out)["areas"][5]["code"]
    assert run("profile", demo_copy_ws, "--layer", "gyoseiku", "--code", code, "--html",
               html).code == 0
    assert html.read_text(encoding="utf-8").count('<section class="sheet">') == 1
    missing = run("profile", demo_copy_ws, "--layer", "gyoseiku", "--code", "nope", "--html",
                  tmp_path / "x.html")
    assert missing.code == 2 and "区域 nope はありません" in missing.err
    assert not (tmp_path / "x.html").exists()
    neither = run("profile", demo_copy_ws, "--layer", "gyoseiku", "--all")
    assert neither.code == 2 and "--pdf FILE か --html FILE" in neither.err


def test_sheets_carry_their_areas_targets(run, demo_copy_ws: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from kenmap.demo import DEMO_TARGETS

    html = tmp_path / "kpi.html"
    assert run("profile", demo_copy_ws, "--layer", "chiku", "--all", "--html", html,
               "--targets", DEMO_TARGETS, "--year", "2025").code == 0
    rows = json.loads(run("progress", demo_copy_ws, "--targets", DEMO_TARGETS, "--year",
                          "2025", "--format", "json").out)["rows"]
    per_chiku = [r for r in rows if r["scope"] == "地区"]
    page = html.read_text(encoding="utf-8")
    first = per_chiku[0]
    line = f"{first['item']}（2025年度）: 実績"
    assert page.count("目標の評価") == 29 and line in page
    assert f"評価 {first['grade']}" in page


def test_an_activity_drawn_like_gaps(run, demo_copy_ws: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "act.html"
    result = run("map", demo_copy_ws, "--layer", "chiku", "--activity", "支え愛マップづくり",
                 "--out", out)
    assert result.code == 0, result.err
    page = out.read_text(encoding="utf-8")
    assert "支え愛マップづくりのない地区（2025年度）" in page
    assert "2025年度に支え愛マップづくりを実施した行政区がありません" in page
    finer = run("map", demo_copy_ws, "--layer", "tonarikinjo", "--activity",
                "支え愛マップづくり", "--out", tmp_path / "x.html")
    assert finer.code == 2 and "細かいレイヤでは示せません" in finer.err


def test_nothing_is_cut_off_or_drawn_over(run, demo_copy_ws: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Every word of every 地区 sheet lies inside the page, and no two words overlap (a long
    sheet once ran its activities into the sources at the foot and a count off the edge)."""
    import re

    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils is not installed: the PDF is not read")
    pdf = tmp_path / "chiku.pdf"
    assert run("profile", demo_copy_ws, "--layer", "chiku", "--all", "--pdf", pdf).code == 0
    html = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True,
                          text=True).stdout
    pages = html.split("<page ")[1:]
    assert len(pages) == 29
    for number, page in enumerate(pages, start=1):
        width = float(re.search(r'width="([\d.]+)"', page).group(1))  # type: ignore[union-attr]
        words = [tuple(float(v) for v in m.groups()) for m in re.finditer(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)"', page)]
        assert words, number
        assert max(w[2] for w in words) <= width - 10, f"page {number}: text off the edge"
        for i, a in enumerate(words):
            for b in words[i + 1:]:
                dx = min(a[2], b[2]) - max(a[0], b[0])
                dy = min(a[3], b[3]) - max(a[1], b[1])
                assert not (dx > 1 and dy > 2), f"page {number}: words drawn over each other"
