"""Maps that serve a committee meeting: lacking areas stand out and answer like every other
area, metric scale, the hub type each layer is measured against (written and served index
alike), and a handout that draws what the page draws and names its sources."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, CliResult, copy_of, demo_pages

ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def written(demo_master: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_pages(demo_master, tmp_path_factory, "meeting")


_LACKING_ON_TOP = """() => {
  // The middle of lacking areas where the lacking shape itself is on top (no marker over it).
  const out = [];
  for (const el of document.querySelectorAll('path.km-gap')) {
    const r = el.getBoundingClientRect();
    const x = r.left + r.width / 2, y = r.top + r.height / 2;
    if (y > 320 && document.elementFromPoint(x, y) === el) { out.push([x, y]); }
  }
  return out;
}"""


def test_lacking_area_answers_like_any_area(written: Path, chromium: Any) -> None:
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto((written / "maps" / "gyoseiku.html").as_uri())
    page.wait_for_load_state("load")
    page.wait_for_timeout(800)  # marker clusters settle
    # Drawn hatched, with a solid outline heavier than the areas'.
    gaps = page.locator("path.km-gap")
    assert gaps.count() > 50
    style = page.evaluate("""() => {
      const s = getComputedStyle(document.querySelector('path.km-gap'));
      return [s.fill, s.strokeWidth, s.strokeDasharray, s.stroke];
    }""")
    assert "#km-hatch" in style[0], style
    assert float(style[1].rstrip("px")) >= 2 and style[2] in ("none", ""), style
    assert page.locator("pattern#km-hatch line").count() == 1
    # Metric scale only.
    scale = page.locator(".leaflet-control-scale").inner_text()
    assert re.search(r"\d+ k?m", scale), scale
    assert not re.search(r"\b(mi|ft)\b", scale), scale
    assert page.locator(".leaflet-control-scale-line").count() == 1
    # Every imported type is listed and shown.
    control = page.locator(".leaflet-control-layers").inner_text()
    for label in ("サロン", "居場所", "ふくしプラザ", "地域包括支援センター", "公民館", "集会所"):
        assert f"{label}（" in control
    assert all(box.is_checked() for box in page.locator(
        ".leaflet-control-layers-overlays input").all())

    points = page.evaluate(_LACKING_ON_TOP)
    assert points, "no lacking area on top anywhere"
    page.mouse.move(*points[0])
    tip = page.locator(".leaflet-tooltip").last
    tip.wait_for(state="visible", timeout=5000)
    heads = tip.locator("th").all_text_contents()
    for head in ("名称", "人口", "65歳以上", "高齢化率", "拠点", "不足"):
        assert head in heads, heads
    text = tip.inner_text()
    assert "行政区内にサロンがありません" in text and re.search(r"\d+\.\d%", text), text
    name = tip.locator("td").first.text_content()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "meeting_lacking_tooltip.png"))
    assert "km-gap" in page.evaluate(
        f"document.elementFromPoint({points[0][0]}, {points[0][1]}).getAttribute('class')")
    page.mouse.click(*points[0])
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(state="visible", timeout=5000)
    profile = popup.locator("th").all_text_contents()
    assert profile[:2] == [name, "この区域"] and profile[-1] == "市全体", profile
    assert "不足: 行政区内にサロンがありません" in popup.inner_text()
    page.mouse.move(5, 500)
    page.screenshot(path=str(ARTIFACTS / "meeting_lacking_profile.png"))
    # Zoomed out to the whole prefecture the hatch and outline are still there.
    page.evaluate("() => { const m = Object.values(window).find(v => v instanceof L.Map);"
                  " m.setZoom(m.getMinZoom(), {animate: false}); }")
    assert gaps.count() > 50 and "#km-hatch" in page.evaluate(
        "() => getComputedStyle(document.querySelector('path.km-gap')).fill")
    assert errors == []
    page.close()


def _without_salons(master: Path, folder: Path) -> Path:
    from kenmap.workspace import Workspace

    path = copy_of(master, folder)
    ws = Workspace.open(path)
    hubs = ws.read_table("hubs")
    with ws.transaction() as tx:
        tx.write_table("hubs", hubs[hubs["type"] != "salon"])
    return path


def _index_lines(html: str) -> list[tuple[str, str, str, str]]:
    """(layer label, areas, hub type, lacking) of each line of an index page."""
    return re.findall(r'<li><a href="[^"]+">([^<]+)</a>（(\d+) 区域、<span class="km-index-type">'
                      r'([^<]+)</span>の不足 <span class="km-index-lacking">([^<]+)</span>',
                      html)


def test_layer_type_is_one_that_exists(demo_master: Path, tmp_path: Path) -> None:
    from kenmap.hubs.table import layer_hub_type
    from kenmap.workspace import Workspace

    demo = Workspace.open(demo_master)
    assert layer_hub_type(demo, "gyoseiku") == "salon"  # expected there, and present
    assert layer_hub_type(demo, "kyushicho") == "hokatsu"
    assert layer_hub_type(demo, "chiku") == "chiku_kyoten"

    ws = Workspace.open(_without_salons(demo_master, tmp_path))
    chosen = layer_hub_type(ws, "gyoseiku")
    assert chosen != "salon"
    assert chosen == "chiku_kyoten"  # the type with the most existing hubs left (25)
    assert layer_hub_type(ws, "kyushicho") == "hokatsu"  # expected and present: kept


def test_index_names_the_type_and_serves_the_same_counts(
        demo_master: Path, tmp_path: Path, run: Callable[..., CliResult]) -> None:
    from kenmap.api.views import Views

    path = _without_salons(demo_master, tmp_path / "ws")
    out = tmp_path / "maps"
    result = run("map", path, "--all", "--out", out)
    assert result.code == 0, result.err
    index = (out / "index.html").read_text(encoding="utf-8")
    lines = _index_lines(index)
    # The nested layers from the top, then the overlays (service areas that do not nest).
    assert [line[0] for line in lines] == ["市", "旧市町", "地区", "行政区", "隣近所",
                                           "包括圏域", "小学校区"]
    types = {line[0]: line[2] for line in lines}
    assert types["旧市町"] == "地域包括支援センター"
    assert types["包括圏域"] == "地域包括支援センター"  # the type responsible for its areas
    assert types["行政区"] == "地区拠点/コミュニティセンター"
    assert "サロン" not in types.values()  # none left in this workspace
    gyoseiku = next(line for line in lines if line[0] == "行政区")
    assert 0 < int(gyoseiku[3]) < int(gyoseiku[1])  # not "258 of 258"
    # Each page measures the type its line names, and finds the same count.
    page = (out / "gyoseiku.html").read_text(encoding="utf-8")
    assert "地区拠点/コミュニティセンターの不足する行政区" in page
    assert f"地区拠点/コミュニティセンターの不足 {gyoseiku[3]}" in result.out

    served = Views(path).map_index()
    assert _index_lines(served) == lines
    assert 'href="/maps/gyoseiku"' in served and "—" not in "".join(x[3] for x in lines)


def _estat_like(master: Path, folder: Path) -> Path:
    """The demo city with its finest layer carrying e-Stat's fields (as an e-Stat import)."""
    from kenmap.workspace import Workspace

    path = copy_of(master, folder)
    ws = Workspace.open(path)
    frame = ws.read_layer("tonarikinjo")
    frame["KEY_CODE"] = frame["code"]
    frame["HCODE"] = 8101
    with ws.transaction() as tx:
        tx.write_layer("tonarikinjo", frame)
        tx.set_layer_info("tonarikinjo", {**ws.layer_info("tonarikinjo"),
                                          "source": ["/somewhere/h27ka99999.shp"]})
    return path


def test_handout_draws_the_page_and_names_every_source(
        demo_master: Path, tmp_path: Path, run: Callable[..., CliResult]) -> None:
    from kenmap.maps.page import MapOptions
    from kenmap.maps.printable import handout_figure
    from kenmap.workspace import Workspace

    path = _estat_like(demo_master, tmp_path / "ws")
    ws = Workspace.open(path)
    centre = ws.read_layer("shi").to_crs(4326).geometry.iloc[0].representative_point()
    site = {"hub_type": "ibasho", "radius_m": 500, "detour": 1.3, "k": 1,
            "sites": [{"candidate_id": "c1", "name": "空き店舗", "lon": centre.x,
                       "lat": centre.y, "pop65_added": 10}]}
    fig, facts = handout_figure(ws, "gyoseiku", MapOptions(hub_type="salon", radius=500,
                                                           siting=site))
    assert facts["sites"] == 1
    salons = ws.read_table("hubs")
    assert facts["reach_circles"] == int(((salons["type"] == "salon")
                                          & (salons["status"] == "existing")).sum())
    # The map fills its part of the page, and the legend stays on the page.
    ax, key = fig.axes
    box = ax.get_position()
    assert box.width * box.height > 0.5
    minx, miny, maxx, maxy = ws.read_layer("shi").total_bounds
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert max((maxx - minx) / (x1 - x0), (maxy - miny) / (y1 - y0)) > 0.9
    legend = key.get_legend().get_window_extent(fig.canvas.get_renderer())
    assert 0 <= legend.x0 and legend.x1 <= fig.bbox.x1 and legend.y0 >= 0
    import io

    import matplotlib.pyplot as plt

    svg = io.StringIO()
    with plt.rc_context({"svg.fonttype": "none"}):
        fig.savefig(svg, format="svg")
    plt.close(fig)
    drawn = svg.getvalue()
    for gid in ("km-gap", "km-reach", "km-site", "km-site-reach", "km-hub-salon",
                "km-hub-kominkan"):
        assert f'id="{gid}' in drawn, gid
    assert "新しい居場所の候補地（1か所、徒歩500m圏）" in drawn

    pdf, png = tmp_path / "handout.pdf", tmp_path / "handout.png"
    result = run("map", path, "--layer", "gyoseiku", "--radius", "500", "--out",
                 tmp_path / "g.html", "--pdf", pdf, "--png", png)
    assert result.code == 0, result.err
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(png, ARTIFACTS / "meeting_handout.png")
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed: the PDF's text is not read")
    import subprocess

    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    flat = re.sub(r"\s+", "", text)
    assert "「政府統計の総合窓口(e-Stat)」境界データ" in flat, text
    assert "h27ka99999.shp" in flat and "/somewhere" not in flat
    assert "人口:デモ市住民基本台帳（架空）（基準日2025-10-01）" in flat
    assert "拠点:demo_hubs.csv" in flat
    assert "サロンの徒歩500m圏" in flat and "サロンの不足する行政区" in flat
    assert "mi" not in re.findall(r"\d\s*(mi|km|m)\b", text)


def test_sources_of_a_workspace(demo_master: Path) -> None:
    from kenmap.render.sources import source_lines
    from kenmap.workspace import Workspace

    lines = source_lines(Workspace.open(demo_master))
    assert lines == ["境界（隣近所）: demo_city.geojson",
                     "人口: デモ市 住民基本台帳（架空）（基準日 2025-10-01）",
                     "拠点: demo_hubs.csv"], json.dumps(lines, ensure_ascii=False)
