"""Downloads: stats and gaps as CSV (BOM) and XLSX with the CLI's figures, the handout, the
offline page, area sheets and the report, with Japanese file names and ApiError refusals."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from conftest import CliResult, copy_of
from fastapi.testclient import TestClient

from kenmap.optional import has

TOKEN = "kenmap-downloads-token-0123456789"
BOM = b"\xef\xbb\xbf"
PRINTING = has("matplotlib") and has("matplotlib_fontja")
needs_print = pytest.mark.skipif(not PRINTING, reason="the print extra (matplotlib) is absent")
STAT_HEADINGS = ["コード", "名称", "地区のコード", "人口", "65歳以上", "75歳以上", "世帯数",
                 "高齢化率（%）", "後期高齢化率（%）", "面積（km²）"]
STAT_KEYS = ["code", "name", "parent_code", "population", "pop65", "pop75", "households",
             "aging_rate", "late_aging_rate", "area_km2"]
GAP_HEADINGS = ["コード", "名称", "拠点の種類", "不足", "理由", "区域内の拠点数", "65歳以上",
                "圏内の65歳以上", "圏内率（%）", "最寄りの拠点まで（m）"]


@pytest.fixture(scope="module")
def served(demo_master: Path, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[TestClient, Path]]:
    """One server on a copy of the demo city for the read-only tests of this module."""
    from kenmap.api.app import create_app

    ws = copy_of(demo_master, tmp_path_factory.mktemp("downloads"))
    with TestClient(create_app(ws, token=TOKEN)) as c:
        yield c, ws


def _filename(response: Any) -> tuple[str, str]:
    """(the RFC 5987 ``filename*``, decoded; the ASCII ``filename``)."""
    header = response.headers["content-disposition"]
    assert header.startswith("attachment;")
    star = re.search(r"filename\*=UTF-8''([^;\s]+)", header)
    plain = re.search(r'filename="([^"]*)"', header)
    assert star and plain, header
    assert all(ord(ch) < 128 for ch in header)  # a header must stay ASCII
    return unquote(star.group(1)), plain.group(1)


def _number(text: str) -> float | None:
    return None if text == "" else float(text)


def _cli_json(run: Callable[..., CliResult], *args: object) -> dict[str, Any]:
    result = run(*args, "--format", "json")
    assert result.code == 0, result.err
    return dict(json.loads(result.out))


def test_stats_csv_has_the_cli_figures(served: tuple[TestClient, Path],
                                       run: Callable[..., CliResult]) -> None:
    c, ws = served
    r = c.get("/api/downloads/stats.csv", params={"layer": "gyoseiku"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.content.startswith(BOM)
    assert _filename(r) == ("統計_行政区.csv", "stats-gyoseiku.csv")
    text = r.content.decode("utf-8-sig")
    assert "\r\n" in text  # Excel's line ends
    rows = list(csv.reader(io.StringIO(text)))
    head, body = rows[0], rows[1:]
    assert head[:10] == STAT_HEADINGS
    hub_heads = [h for h in head if h.startswith("拠点数（")]
    assert "拠点数（サロン）" in hub_heads
    expected = _cli_json(run, "stats", ws, "--layer", "gyoseiku")
    areas = expected["areas"]
    assert len(body) == len(areas) == 359
    labels = {"salon": "サロン", "ibasho": "居場所", "fukushi_plaza": "ふくしプラザ",
              "hokatsu": "地域包括支援センター"}
    for row, area in zip(body, areas):
        cells = dict(zip(head, row))
        assert [cells[h] for h in STAT_HEADINGS[:3]] == [area[k] for k in STAT_KEYS[:3]]
        for heading, key in zip(STAT_HEADINGS[3:], STAT_KEYS[3:]):
            assert _number(cells[heading]) == pytest.approx(area[key]), (area["code"], key)
        for key, n in area["hubs"].items():
            if key in labels:
                assert int(cells[f"拠点数（{labels[key]}）"]) == n
        assert sum(int(cells[h]) for h in hub_heads) == sum(area["hubs"].values())


def test_stats_xlsx_numbers_and_blanks(served: tuple[TestClient, Path],
                                       run: Callable[..., CliResult]) -> None:
    from openpyxl import load_workbook

    c, ws = served
    # 隣近所 has suppressed counts (秘匿): they must stay blank, never 0.
    r = c.get("/api/downloads/stats.xlsx", params={"layer": "tonarikinjo"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == ("application/vnd.openxmlformats-officedocument."
                                         "spreadsheetml.sheet")
    assert _filename(r) == ("統計_隣近所.xlsx", "stats-tonarikinjo.xlsx")
    book = load_workbook(io.BytesIO(r.content))
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    head = list(rows[0])
    assert head[:3] == ["コード", "名称", "行政区のコード"] and head[3:10] == STAT_HEADINGS[3:]
    expected = {a["code"]: a for a in _cli_json(run, "stats", ws, "--layer",
                                                "tonarikinjo")["areas"]}
    assert len(rows) - 1 == len(expected)
    blanks = 0
    for row in rows[1:]:
        cells = dict(zip(head, row))
        area = expected[cells["コード"]]
        assert cells["名称"] == area["name"]
        for heading, key in zip(STAT_HEADINGS[3:], STAT_KEYS[3:]):
            value = cells[heading]
            if area[key] is None:
                assert value is None, (area["code"], key)  # unknown: blank, not 0
                blanks += 1
            else:
                assert isinstance(value, (int, float)) and not isinstance(value, bool)
                assert value == pytest.approx(area[key])
    assert blanks >= 4  # the demo's suppressed 隣近所
    assert sheet.freeze_panes == "A2"
    notes = [r[0] for r in book["注記"].iter_rows(values_only=True)]
    assert any("0 ではありません" in str(n) for n in notes)
    assert any("高齢化率 = 65歳以上 ÷ 総数" in str(n) for n in notes)


def test_gaps_csv_and_xlsx_have_the_cli_figures(served: tuple[TestClient, Path],
                                                run: Callable[..., CliResult]) -> None:
    from openpyxl import load_workbook

    c, ws = served
    params = {"layer": "gyoseiku", "hub_type": "salon", "radius": 500}
    expected = _cli_json(run, "gaps", ws, "--layer", "gyoseiku", "--hub-type", "salon",
                         "--radius", "500")["areas"]
    r = c.get("/api/downloads/gaps.csv", params=params)
    assert r.status_code == 200 and r.content.startswith(BOM)
    assert _filename(r) == ("サロンの不足_行政区.csv", "gaps-salon-gyoseiku.csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == GAP_HEADINGS
    x = c.get("/api/downloads/gaps.xlsx", params=params)
    assert x.status_code == 200
    sheet = load_workbook(io.BytesIO(x.content)).worksheets[0]
    xrows = list(sheet.iter_rows(values_only=True))
    assert list(xrows[0]) == GAP_HEADINGS
    assert len(rows) - 1 == len(xrows) - 1 == len(expected) == 359
    numeric = ["hubs_inside", "pop65", "pop65_reached", "reach_rate", "nearest_hub_m"]
    for row, xrow, area in zip(rows[1:], xrows[1:], expected):
        assert row[:2] == [area["code"], area["name"]] == list(xrow[:2])
        assert row[2] == xrow[2] == "サロン"
        assert row[3] == xrow[3] == ("はい" if area["lacking"] else "いいえ")
        assert row[4] == xrow[4] == area["reason"]
        for i, key in enumerate(numeric, start=5):
            if area[key] is None:
                assert row[i] == "" and xrow[i] is None
            else:
                assert _number(row[i]) == pytest.approx(area[key])
                assert isinstance(xrow[i], (int, float)) and xrow[i] == pytest.approx(area[key])
    lacking = sum(a["lacking"] for a in expected)
    assert lacking > 0 and sum(r[3] == "はい" for r in rows[1:]) == lacking


def test_defaults_follow_the_cli(served: tuple[TestClient, Path]) -> None:
    c, _ = served
    # No layer: the layer above the finest (行政区), as `kenmap stats` chooses.
    assert _filename(c.get("/api/downloads/stats.csv"))[1] == "stats-gyoseiku.csv"
    # No hub type: the type the layer's map shows.
    assert _filename(c.get("/api/downloads/gaps.csv", params={"layer": "kyushicho"}))[1] \
        == "gaps-hokatsu-kyushicho.csv"
    index = c.get("/api/downloads").json()["downloads"]
    assert [d["name"] for d in index] == ["stats.csv", "stats.xlsx", "gaps.csv", "gaps.xlsx",
                                          "handout.pdf", "page.html", "sheets.pdf",
                                          "report.pdf"]
    assert all(d["available"] is (PRINTING or not d["name"].endswith(".pdf")) for d in index)


@pytest.mark.parametrize(("url", "field"), [
    ("/api/downloads/stats.csv?layer=../../../../etc/passwd", "layer"),
    ("/api/downloads/stats.xlsx?layer=%2Fworkspace%2Fdemo.gpkg", "layer"),
    ("/api/downloads/gaps.csv?hub_type=..%2F..%2Froot%2F.ssh", "hub_type"),
    ("/api/downloads/handout.pdf?layer=gyoseiku&hub_type=/tmp/x", "hub_type"),
    ("/api/downloads/page.html?layer=C:%5Cwindows%5Cwin.ini", "layer"),
    ("/api/downloads/stats.csv?rate_base=/etc/shadow", "rate_base"),
])
def test_hostile_parameters_are_422_without_echo(served: tuple[TestClient, Path], url: str,
                                                 field: str) -> None:
    c, _ = served
    r = c.get(url)
    assert r.status_code == 422
    body = r.json()
    assert body["field"] == field and set(body) == {"error", "file", "row", "field"}
    for fragment in ("etc", "passwd", "workspace", "root", ".ssh", "/tmp", "win.ini",
                     "shadow", ".."):
        assert fragment not in r.text
    assert "使える値" in body["error"]


def test_unknown_downloads_and_areas(served: tuple[TestClient, Path]) -> None:
    c, _ = served
    r = c.get("/api/downloads/secrets.txt")
    assert r.status_code == 404 and r.json()["field"] == "name"
    assert "stats.csv" in r.json()["error"] and "secrets" not in r.text
    r = c.get("/api/downloads/sheets.pdf", params={"layer": "chiku", "code": "../../x"})
    assert r.status_code == 404 and r.json()["field"] == "code" and "../" not in r.text
    r = c.get("/api/downloads/sheets.pdf", params={"layer": "gyoseiku"})
    assert r.status_code == 413 and "code で区域を選んで" in r.json()["error"]
    r = c.get("/api/downloads/report.pdf", params={"year": 2025})
    assert r.status_code == 404 and "目標の表" in r.json()["error"]
    assert r.json()["field"] == "file"


def test_page_html_has_no_external_urls(served: tuple[TestClient, Path]) -> None:
    c, _ = served
    r = c.get("/api/downloads/page.html", params={"layer": "chiku", "hub_type": "salon",
                                                  "radius": 800})
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert _filename(r) == ("地図_地区_サロン.html", "map-chiku-salon.html")
    page = r.text
    assert "km-area" in page and "<script" in page
    # Nothing is loaded from anywhere: every src/href is in the page or a data: URL, no CSS
    # url() or @import reaches out, and the only http(s) texts are the inert ones inside the
    # vendored libraries (an SVG namespace, comments, Leaflet's attribution link).
    for target in re.findall(r"""\b(?:src|href)\s*=\s*["']([^"']*)""", page):
        assert target.startswith(("#", "data:")) or target == "https://leafletjs.com", target
    for target in re.findall(r"url\(\s*['\"]?([^)'\"]*)", page):
        assert target.startswith(("#", "data:")), target
    assert "@import" not in page and "//tile" not in page
    inert = {"http://www.w3.org/2000/svg", "https://leafletjs.com",
             "https://bugs.chromium.org/p/chromium/issues/detail?id=600120",
             "https://bugzilla.mozilla.org/show_bug.cgi?id=888319",
             "https://github.com/topojson/topojson-client"}
    assert set(re.findall(r"https?://[^\s\"'<>)*]+", page)) <= inert


def _pages(pdf: bytes, tmp_path: Path) -> int:
    path = tmp_path / "out.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    found = re.search(r"^Pages:\s+(\d+)", info.stdout, re.MULTILINE)
    assert found, info.stdout
    return int(found.group(1))


@needs_print
@pytest.mark.skipif(shutil.which("pdfinfo") is None, reason="pdfinfo (poppler) is absent")
def test_handout_and_sheets_pdfs(served: tuple[TestClient, Path], tmp_path: Path) -> None:
    c, _ = served
    r = c.get("/api/downloads/handout.pdf", params={"layer": "chiku", "hub_type": "salon"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf" and r.content.startswith(b"%PDF")
    assert _filename(r) == ("地図_地区_サロン.pdf", "handout-chiku-salon.pdf")
    assert _pages(r.content, tmp_path) == 1
    again = c.get("/api/downloads/handout.pdf", params={"layer": "chiku", "hub_type": "salon"})
    assert again.content == r.content  # cached while the workspace is unchanged
    codes = ["289990101", "289990102", "289990201"]
    s = c.get("/api/downloads/sheets.pdf", params={"layer": "chiku", "code": codes})
    assert s.status_code == 200, s.text
    assert _filename(s) == ("地域カルテ_地区.pdf", "sheets-chiku.pdf")
    assert _pages(s.content, tmp_path) == len(codes)


@needs_print
@pytest.mark.skipif(shutil.which("pdfinfo") is None, reason="pdfinfo (poppler) is absent")
def test_report_from_a_sent_targets_table(served: tuple[TestClient, Path], tmp_path: Path,
                                          run: Callable[..., CliResult]) -> None:
    from kenmap.demo import DEMO_TARGETS

    c, ws = served
    with open(DEMO_TARGETS, "rb") as targets:  # the 事務局's job: an editor's
        refused = c.post("/api/downloads/report.pdf", params={"year": 2025},
                         files={"file": ("目標.csv", targets, "text/csv")})
    assert refused.status_code == 401
    c.headers["Authorization"] = f"Bearer {TOKEN}"
    with open(DEMO_TARGETS, "rb") as targets:
        r = c.post("/api/downloads/report.pdf", params={"year": 2025},
                   files={"file": ("目標.csv", targets, "text/csv")})
    assert r.status_code == 200, r.text
    assert _filename(r) == ("報告書_2025年度.pdf", "report-2025.pdf")
    cli_pdf = tmp_path / "cli.pdf"
    assert run("report", ws, "--targets", DEMO_TARGETS, "--year", "2025", "--pdf",
               cli_pdf).code == 0
    assert _pages(r.content, tmp_path) == _pages(cli_pdf.read_bytes(), tmp_path) >= 2
    bad = c.post("/api/downloads/report.pdf", params={"year": 2025},
                 files={"file": ("目標.csv", "項目,年度\nサロン,2025\n".encode(), "text/csv")})
    assert bad.status_code == 400
    assert bad.json()["file"] == "目標.csv" and "/tmp" not in bad.text
    assert c.post("/api/downloads/report.pdf", params={"year": 2025},
                  files={"file": ("x.exe", b"MZ", "application/octet-stream")}
                  ).status_code == 400
    del c.headers["Authorization"]


def test_downloads_follow_edits(demo_master: Path, tmp_path: Path) -> None:
    from kenmap.api.app import create_app

    ws = copy_of(demo_master, tmp_path)
    params = {"layer": "gyoseiku", "hub_type": "salon"}
    with TestClient(create_app(ws, token=TOKEN)) as c:
        # A viewer (no credentials) may download.
        before = c.get("/api/downloads/gaps.csv", params=params)
        assert before.status_code == 200
        rows = list(csv.DictReader(io.StringIO(before.content.decode("utf-8-sig"))))
        lacking = next(r for r in rows if r["不足"] == "はい")
        areas = c.get("/api/layers/gyoseiku/areas").json()["features"]
        shape = next(f for f in areas if f["id"] == lacking["コード"])["geometry"]
        import shapely.geometry

        point = shapely.geometry.shape(shape).representative_point()
        added = c.post("/api/hubs", json={"type": "salon", "name": "新しいサロン",
                                          "lon": point.x, "lat": point.y},
                       headers={"Authorization": f"Bearer {TOKEN}"})
        assert added.status_code == 201, added.text
        after = c.get("/api/downloads/gaps.csv", params=params)
        now = {r["コード"]: r for r in
               csv.DictReader(io.StringIO(after.content.decode("utf-8-sig")))}
        assert now[lacking["コード"]]["不足"] == "いいえ"
        assert int(now[lacking["コード"]]["区域内の拠点数"]) == 1


def test_xlsx_text_is_never_a_formula() -> None:
    import pandas as pd
    from openpyxl import load_workbook

    from kenmap.render.excel import Table

    frame = pd.DataFrame({"name": ["=HYPERLINK(\"http://x\")", "@SUM(A1)", "普通"],
                          "pop65": [1, None, 3.5]})
    table = Table(frame, ["名称", "65歳以上"], "t", ["注"])
    sheet = load_workbook(io.BytesIO(table.to_xlsx())).worksheets[0]
    cells = list(sheet.iter_rows(min_row=2))
    assert [c[0].data_type for c in cells] == ["s", "s", "s"]
    assert cells[0][0].value == "=HYPERLINK(\"http://x\")"
    assert [c[1].value for c in cells] == [1, None, 3.5]
    text = table.to_csv().decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'@SUM" in text


def test_content_disposition_is_safe() -> None:
    from kenmap.api.downloads import content_disposition

    header = content_disposition('統計_"a"/b\r\nX-Evil: 1.csv', "stats-x.csv")
    assert "\r" not in header and "\n" not in header and all(ord(c) < 128 for c in header)
    name = unquote(header.split("filename*=UTF-8''")[1])
    assert name == "統計__a__b__X-Evil_ 1.csv"
    assert 'filename="stats-x.csv"' in header
