"""Map pages in headless Chromium: offline, complete, readable; printable output."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, CliResult, demo_pages

ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def pages(demo_master: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_pages(demo_master, tmp_path_factory, "maps")


class Page:
    """A loaded page with what it logged and requested."""

    def __init__(self, chromium: Any, path: Path) -> None:
        self.page = chromium.new_page(viewport={"width": 1400, "height": 1000})
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error"
                     else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(path.as_uri())
        self.page.wait_for_load_state("load")

    def remote(self) -> list[str]:
        return [u for u in self.requests if not u.startswith(("file:", "data:", "about:"))]


def test_gyoseiku_page_in_chromium(pages: Path, chromium: Any) -> None:
    page = Page(chromium, pages / "maps" / "gyoseiku.html")
    p = page.page
    assert page.errors == []
    assert page.remote() == []  # nothing leaves the machine
    assert p.locator("path.km-area").count() == 359  # one drawn shape per 行政区
    assert p.locator("#km-legend").is_visible()
    assert "高齢化率" in p.locator("#km-legend").inner_text()
    assert "デモ市（架空）" in p.locator(".km-city-rate").inner_text()
    control = p.locator(".leaflet-control-layers")
    assert control.is_visible()
    labels = control.inner_text()
    assert "高齢化率（行政区）" in labels and "地区の境界" in labels and "サロン" in labels
    gaps = p.locator("path.km-gap").count()
    assert gaps > 50  # many 行政区 lack a サロン
    ARTIFACTS.mkdir(exist_ok=True)
    p.screenshot(path=str(ARTIFACTS / "demo_gyoseiku.png"))
    # Hover an area: its Japanese name in the tooltip.
    area = p.locator("path.km-area").nth(200)
    box = area.bounding_box()
    assert box is not None
    p.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    tooltip = p.locator(".leaflet-tooltip").first
    tooltip.wait_for(state="visible", timeout=5000)
    text = tooltip.inner_text()
    assert "名称" in text and "区" in text and "高齢化率" in text
    # Switching the choropleth off removes its shapes.
    control.get_by_text("高齢化率（行政区）").click()
    assert p.locator("path.km-area").count() == 0
    control.get_by_text("サロンの不足する行政区").click()
    assert p.locator("path.km-gap").count() == 0
    control.get_by_text("高齢化率（行政区）").click()
    assert p.locator("path.km-area").count() == 359
    p.close()


def _click_an_area(p: Any) -> None:
    """Click the middle of the first area whose middle is not under a marker or outline."""
    areas = p.locator("path.km-area")
    for i in range(areas.count()):
        box = areas.nth(i).bounding_box()
        if box is None:
            continue
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        on_top = p.evaluate(f"document.elementFromPoint({x}, {y}).getAttribute('class') || ''")
        if "km-area" in on_top:
            p.mouse.click(x, y)
            return
    raise AssertionError("no area could be clicked")


def test_profile_opens_on_click(pages: Path, chromium: Any) -> None:
    page = Page(chromium, pages / "maps" / "chiku.html")
    p = page.page
    control = p.locator(".leaflet-control-layers")
    for box in control.locator("label").all():  # hubs off: click the areas themselves
        text = box.inner_text()
        if any(mark in text for mark in ("（既存", "（計画", "（候補")) and \
                box.locator("input").is_checked():
            box.locator("input").click()
    assert p.locator(".leaflet-marker-icon").count() == 0
    _click_an_area(p)
    popup = p.locator(".leaflet-popup-content")
    popup.wait_for(state="visible", timeout=5000)
    text = popup.inner_text()
    assert "市全体" in text and "旧市町" in text and "高齢化率" in text
    assert page.errors == []
    p.close()


def test_every_layer_page_and_index(pages: Path, chromium: Any) -> None:
    index = (pages / "maps" / "index.html").read_text(encoding="utf-8")
    order = [index.index(f"{key}.html") for key in
             ("shi", "kyushicho", "chiku", "gyoseiku", "tonarikinjo")]
    assert order == sorted(order)  # from 市 down
    counts = {"shi": 1, "kyushicho": 6, "chiku": 29, "tonarikinjo": None}
    for key, n in counts.items():
        page = Page(chromium, pages / "maps" / f"{key}.html")
        assert page.errors == [] and page.remote() == []
        drawn = page.page.locator("path.km-area").count()
        if n is not None:
            assert drawn == n
        else:
            assert drawn > 2000
        page.page.close()


def test_pages_embed_no_remote_assets(pages: Path) -> None:
    import re

    text = (pages / "maps" / "gyoseiku.html").read_text(encoding="utf-8")
    assert not re.search(r'<(script|link)[^>]+(src|href)="https?://', text)
    assert "tile.openstreetmap.org" not in text
    assert '<meta charset="utf-8">' in text


def test_osm_tiles_only_when_asked(pages: Path, run: Callable[..., CliResult]) -> None:
    out = pages / "osm.html"
    assert run("map", pages / "demo.gpkg", "--layer", "kyushicho", "--tiles", "osm", "--out",
               out).code == 0
    assert "tile.openstreetmap.org" in out.read_text(encoding="utf-8")
    bad = run("map", pages / "demo.gpkg", "--layer", "kyushicho", "--tiles", "google")
    assert bad.code != 0 and "--tiles" in bad.err


def test_printable_png_and_pdf(pages: Path, run: Callable[..., CliResult]) -> None:
    png, pdf = pages / "print.png", pages / "print.pdf"
    result = run("map", pages / "demo.gpkg", "--layer", "gyoseiku", "--radius", "500",
                 "--out", pages / "g.html", "--png", png, "--pdf", pdf)
    assert result.code == 0, result.err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 100_000
    assert pdf.read_bytes()[:5] == b"%PDF-"
    from PIL import Image

    with Image.open(png) as image:
        assert image.size[0] > image.size[1]  # A4 landscape
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "demo_gyoseiku_print.png").write_bytes(png.read_bytes())


def test_large_layer_stays_small(tmp_path: Path) -> None:
    """6,000 small areas: under 3 MB with shared boundaries simplified without gaps."""
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    from bench_maps import large_workspace

    from kenmap.maps.page import MapOptions, build_map

    ws = large_workspace(tmp_path, 6_000)
    page, facts = build_map(ws, "small", MapOptions())
    assert facts["areas"] >= 5_900
    assert len(page.encode()) < 3_000_000, len(page.encode())


def test_real_small_areas_page(tmp_path: Path, chromium: Any) -> None:
    """米子市's 258 real e-Stat small areas (cp932 names, enclaves) drawn offline."""
    from conftest import ESTAT

    from kenmap.layers.areas import import_areas
    from kenmap.layers.derive import derive_layer
    from kenmap.maps.page import MapOptions
    from kenmap.maps.pages import write_layer_page
    from kenmap.model.scheme import PRESETS
    from kenmap.people.population import import_population
    from kenmap.workspace import Workspace

    ws = Workspace.create(tmp_path / "yonago.gpkg", PRESETS["yonago"], "yonago")
    import_areas(ws, [ESTAT], layer="jichikai", code_field="KEY_CODE", name_field="MOJI",
                 where="CITY == '202'")
    derive_layer(ws, layer="shi", from_layer="jichikai", single="米子市", code="31202")
    import_population(ws, ESTAT, layer="jichikai", code_field="KEY_CODE", total_field="JINKO",
                      where="CITY == '202'")
    facts = write_layer_page(ws, "jichikai", MapOptions(), tmp_path / "yonago.html")
    assert facts["areas"] == 258
    page = Page(chromium, tmp_path / "yonago.html")
    assert page.errors == [] and page.remote() == []
    assert page.page.locator("path.km-area").count() == 258
    assert "米子市" in page.page.locator(".km-title").inner_text()
    page.page.close()
