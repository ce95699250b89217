"""Hostile text from users' files never runs script in a page kenmap writes or serves.

Every text field that reaches a page (area names on every layer and so the city's name, hub
names and details, hub-type labels, the population's source and base date, the scheme's name
and layer labels) is filled with a payload that would run script, break out of ``<title>`` or
``<script>``, or break a quoted string if it were pasted raw. Each page is then opened in
Chromium: no dialog may open, nothing may log an error, the map must still draw, and the
payloads must show as literal text in the title, legend, layer control, tooltips and profile.
"""

from __future__ import annotations

import copy
import os
import re
import socket
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import ROOT, CliResult, copy_of
from workbench_helpers import wait_healthy

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts"

PAYLOADS = (
    "</title><script>alert(2)</script>",
    '"><img src=x onerror=alert(3)>',
    "'</script><script>alert(4)</script>",
    "\u2028alert(5)\u2029",
    "<svg onload=alert(6)>",
    'O\'Neil "Ⅱ"',
)
CITY = PAYLOADS[0]  # the city's name reaches every <title>
SOURCE = PAYLOADS[1]  # the population's source: the legend of every map
AS_OF = PAYLOADS[4]  # its base date, beside it

#: What must never appear in a page's HTML: each is the start of a payload with a literal
#: ``<`` (escaped, it is ``&lt;`` in HTML and ``\\u003c`` in a script).
UNESCAPED = ("<script>alert(", "<img src=x", "<svg onload")
LAYER_AREAS = {"shi": 1, "kyushicho": 6, "chiku": 29, "gyoseiku": 359, "tonarikinjo": 2795,
               "hokatsu": 5, "shogakku": 14}  # the nested layers, then the overlays
OVERLAYS = ("hokatsu", "shogakku")
VIEWPORT = {"width": 1400, "height": 1000}


@dataclass
class Hostile:
    """A copy of the demo workspace whose every page-bound text is hostile."""

    path: Path
    names: dict[str, list[str]]  # layer key → its areas' names
    labels: dict[str, str]  # layer key → layer label
    type_labels: dict[str, str]  # hub type → label
    hubs: dict[str, dict[str, str]]  # hub name → {"開催": schedule, "会場": host, "住所": …}


@pytest.fixture
def hostile(demo_master: Path, tmp_path: Path, run: Callable[..., CliResult]) -> Hostile:
    from kenmap.layers.hierarchy import area_layers
    from kenmap.model.catalogue import catalogue_of
    from kenmap.workspace import Workspace

    path = copy_of(demo_master, tmp_path / "ws")
    # Hub-type labels through the CLI. Python's strip() would eat U+2028 at either end, so
    # each payload sits inside the label.
    type_labels = {}
    catalogue = catalogue_of(Workspace.open(path).get("hub_types"))
    for j, hub_type in enumerate(catalogue.types.values()):
        label = f"{hub_type.label}「{PAYLOADS[(2 + j) % 6]}」"
        result = run("types", "set", path, hub_type.key, "--label", label)
        assert result.code == 0, result.err
        type_labels[hub_type.key] = label
    assert "'</script>" in type_labels["salon"]  # old code pasted it into a '…' JS string

    ws = Workspace.open(path)
    keys = area_layers(ws)
    assert keys == list(LAYER_AREAS)
    frames = {key: ws.read_layer(key) for key in keys}
    new: dict[str, dict[Any, str]] = {}
    for li, key in enumerate(keys):
        codes = list(frames[key]["code"])
        if li == 0:
            assert len(codes) == 1  # the city
            new[key] = {codes[0]: CITY}
        else:
            new[key] = {code: f"{PAYLOADS[(li + i) % 6]}#{i}" for i, code in enumerate(codes)}
    hubs = ws.read_table("hubs")
    hub_fields = ("name", "address", "schedule", "host", "operator")
    for k, column in enumerate(hub_fields):
        hubs[column] = [f"{PAYLOADS[(i + k) % 6]}#{hub_id}" if column == "name"
                        else PAYLOADS[(i + k) % 6] for i, hub_id in enumerate(hubs["id"])]
    population = copy.deepcopy(ws.get("population"))
    assert population
    for info in population.values():
        info["source"], info["as_of"] = SOURCE, AS_OF
    scheme = copy.deepcopy(ws.get("scheme"))
    scheme["name"] = f"{scheme['name']}「{PAYLOADS[3]}」"
    for li, layer in enumerate(scheme["layers"]):
        layer["label"] = f"{layer['label']}「{PAYLOADS[(li + 4) % 6]}」"

    with ws.transaction() as tx:
        for key, frame in frames.items():
            frame["name"] = frame["code"].map(new[key])
            for other in keys:  # the copies of the upper layers' names
                if f"{other}_name" in frame.columns and f"{other}_code" in frame.columns:
                    frame[f"{other}_name"] = frame[f"{other}_code"].map(new[other])
            tx.write_layer(key, frame)
        tx.write_table("hubs", hubs)
        tx.put("population", population)
        tx.put("scheme", scheme)

    stored = Workspace.open(path)
    assert list(stored.read_layer("shi")["name"]) == [CITY]
    assert set(stored.read_table("hubs")["host"]) == set(PAYLOADS)
    assert stored.scheme.layer("gyoseiku").label.endswith(f"「{PAYLOADS[1]}」")
    details = {name: {"開催": schedule, "会場": host, "住所": address} for name, schedule, host,
               address in zip(hubs["name"], hubs["schedule"], hubs["host"], hubs["address"])}
    return Hostile(path, {k: list(v.values()) for k, v in new.items()},
                   {layer.key: layer.label for layer in stored.scheme.layers}, type_labels,
                   details)


# -- the raw HTML ------------------------------------------------------------------------------

def raw_problems(html: str) -> list[str]:
    """Places where a payload reached the HTML unescaped."""
    out = []
    for needle in UNESCAPED:
        at = html.find(needle)
        if at >= 0:
            out.append(f"{needle!r} unescaped at offset {at}: {html[max(0, at - 120):at + 80]!r}")
    for match in re.finditer(r"<script[^>]*>(.*?)</script>", html, re.S):
        for char in ("\u2028", "\u2029"):
            at = match.group(1).find(char)
            if at >= 0:
                at += match.start(1)
                out.append(f"raw U+{ord(char):04X} inside <script> at offset {at}: "
                           f"{html[max(0, at - 120):at + 40]!r}")
                break
    # The plain double quote of 'O'Neil "Ⅱ"' is &quot; in HTML and \" or \u0022 in JSON: a bare
    # one would end an attribute or a string.
    for match in re.finditer(r'(?<!\\)"Ⅱ|Ⅱ"', html):
        out.append(f"bare double quote at offset {match.start()}: "
                   f"{html[max(0, match.start() - 120):match.start() + 40]!r}")
    return out


def test_raw_check_catches_what_the_old_code_wrote() -> None:
    """The raw check fails on a name pasted into <title> or into <script> with json.dumps."""
    import json

    city = CITY
    old_title = f"<html><head><title>{city} 行政区別の高齢化率</title></head></html>"
    old_script = ("<script>var C = " + json.dumps([PAYLOADS[3], PAYLOADS[5], PAYLOADS[2]],
                                                  ensure_ascii=False) + ";</script>")
    assert raw_problems(old_title)
    problems = raw_problems(old_script)
    assert any("'<script>alert('" in p for p in problems)
    assert any("U+2028" in p for p in problems)
    assert raw_problems('<a title="O\'Neil "Ⅱ"">x</a>')
    safe = ('<title>&lt;/title&gt;&lt;script&gt;alert(2)&lt;/script&gt;</title><script>var C = '
            '["\\u003c/script\\u003e\\u003cscript\\u003ealert(4)","\\u2028alert(5)\\u2029",'
            '"O\'Neil \\"Ⅱ\\""];</script><b>O&#x27;Neil &quot;Ⅱ&quot;</b>')
    assert raw_problems(safe) == []


# -- Chromium --------------------------------------------------------------------------------

class Visit:
    """A page opened in Chromium, with every dialog (dismissed) and error it caused."""

    def __init__(self, chromium: Any, url: str) -> None:
        self.page = chromium.new_page(viewport=VIEWPORT)
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.page.on("dialog", self._dialog)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(url, wait_until="commit")  # the caller waits for "load"

    def _console(self, message: Any) -> None:
        url = str(message.location.get("url", ""))
        if message.type == "error" and not url.endswith("/favicon.ico"):  # the server has none
            self.errors.append(f"{message.text} ({url})")

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}({dialog.message!r})")
        dialog.dismiss()


_ON_TOP = """([selector, limit, minY]) => {
  // Up to limit points, one per element (below minY), where that element is really on top.
  const out = [];
  for (const el of document.querySelectorAll(selector)) {
    const r = el.getBoundingClientRect();
    for (const [fx, fy] of [[.5, .5], [.35, .5], [.65, .5], [.5, .35], [.5, .65]]) {
      const x = r.left + r.width * fx, y = r.top + r.height * fy;
      if (x < 2 || y < minY || x > innerWidth - 2 || y > innerHeight - 2) { continue; }
      const top = document.elementFromPoint(x, y);
      if (top && top.closest(selector) === el) { out.push([x, y]); break; }
    }
    if (out.length >= limit) { break; }
  }
  return out;
}"""

_INJECTED = "document.querySelectorAll('[onerror], [onload], img[src=\"x\"]').length"


def _settle(p: Any) -> None:
    """Wait until Leaflet has stopped redrawing the areas (it redraws once after load)."""
    last, steady = None, 0
    for _ in range(40):
        now = p.evaluate("() => [...document.querySelectorAll('path.km-area')].slice(0, 3)"
                         ".map(e => e.getAttribute('d')).join('|')")
        steady = steady + 1 if now == last else 0
        if steady >= 2:
            return
        last = now
        p.wait_for_timeout(100)


def _visible_tooltip_text(p: Any) -> str:
    tip = p.locator(".leaflet-tooltip").last
    # The 2,795-area page can take seconds to answer a hover on a loaded 2-core machine.
    tip.wait_for(state="visible", timeout=20000)
    return str(tip.text_content())


def check_map_page(p: Any, site: Hostile, layer: str, *, reach: bool = False,
                   screenshot: Path | None = None) -> None:
    """Asserts that the map draws and every hostile text on it reads as itself."""
    areas = p.locator("path.km-area")
    assert p.locator("path.leaflet-interactive").count() > 0, "the map drew nothing"
    assert areas.count() == LAYER_AREAS[layer], f"{areas.count()} areas drawn"
    label = site.labels[layer]
    title = p.title()
    assert title.startswith(f"{CITY} {label}別の高齢化率と"), f"document.title {title!r}"
    assert any(title.startswith(f"{CITY} {label}別の高齢化率と{t}")
               for t in site.type_labels.values()), f"document.title {title!r}"
    assert p.locator(".km-title").text_content() == title
    assert len(p.locator("title").all()) == 1
    legend = str(p.locator("#km-legend").text_content())
    assert f"人口: {SOURCE}（基準日 {AS_OF}）" in legend, f"legend {legend!r}"
    assert f"◀ {CITY}" in legend, f"legend {legend!r}"
    control = str(p.locator(".leaflet-control-layers").text_content())
    assert f"高齢化率（{label}）" in control, f"layer control {control!r}"
    for key, type_label in site.type_labels.items():
        assert f"{type_label}（" in control, f"{key}'s label not in the control {control!r}"
        assert type_label in legend, f"{key}'s label not in the legend {legend!r}"
    if reach:
        assert "の徒歩500m圏" in control and "の徒歩500m圏" in legend

    # A hub's tooltip: its name and details as text. Markers can still be moving when the
    # page has just settled (clusters are laid out after the areas): if the point found is no
    # longer a marker's when the mouse gets there, look again.
    _settle(p)
    name = None
    for _ in range(5):
        points = p.evaluate(_ON_TOP, [".km-hub-icon", 1, 2])
        assert points, "no hub marker on top anywhere"
        p.mouse.move(*points[0])
        text = _visible_tooltip_text(p)
        bold = p.locator(".leaflet-tooltip b")
        if bold.count():
            name = str(bold.last.text_content())
            break
        p.mouse.move(VIEWPORT["width"] - 5, VIEWPORT["height"] - 5)
        p.wait_for_timeout(300)
    assert name is not None, f"no hub tooltip after hovering hub markers: {text!r}"
    assert name in site.hubs, f"hub tooltip {text!r}"
    for what, value in site.hubs[name].items():  # each hub has a detail with a literal "<"
        assert f"{what}: {value}" in text, f"hub tooltip {text!r} lacks {what}: {value!r}"

    # Only the choropleth on: hover and click an area.
    for box in p.locator(".leaflet-control-layers label").all():
        check = box.locator("input[type=checkbox]")
        if check.count() and check.is_checked() and \
                not str(box.text_content()).strip().startswith("高齢化率（"):
            check.click()
    assert p.locator(".leaflet-marker-icon").count() == 0
    assert p.locator("path.km-gap").count() == 0
    # Low on the map, so that the profile opening above it clears the layer control; hover
    # areas until one whose name holds markup ("<"), and check that it reads as text.
    # (A layer of a few large areas, such as the 5 包括圏域, may have one low on the map: then
    # the others, higher up.)
    points = p.evaluate(_ON_TOP, ["path.km-area", 8, VIEWPORT["height"] * 0.6]) + \
        p.evaluate(_ON_TOP, ["path.km-area", 8, 2])
    assert points, "no area on top anywhere"
    names = []
    for point in points:
        p.mouse.move(*point)
        _visible_tooltip_text(p)
        tip = p.locator(".leaflet-tooltip").last
        heads = tip.locator("th").all_text_contents()
        name = tip.locator("td").first.text_content()
        assert heads[0] == "名称" and name in site.names[layer], f"tooltip name {name!r}"
        if len(heads) > 5:
            assert heads[5] in {f"{t}の圏内率" for t in site.type_labels.values()}, heads
        names.append(name)
        if "<" in name:
            break
    assert "<" in names[-1], f"no hovered area's name held markup: {names!r}"
    p.mouse.click(*point)
    popup = p.locator(".leaflet-popup-content")
    popup.wait_for(state="visible", timeout=5000)
    heads = popup.locator("th").all_text_contents()
    assert heads[:2] == [name, "この区域"], f"profile heads {heads!r}"
    assert heads[-1] == "市全体", f"profile heads {heads!r}"
    keys = [k for k in LAYER_AREAS if k not in OVERLAYS]
    upper = keys[keys.index(layer) - 1] if layer in keys and layer != "shi" else None
    if layer in OVERLAYS:  # no parent: the area beside the city
        assert len(heads) == 3, f"profile heads {heads!r}"
    if upper is not None:
        assert heads[2] in {f"{site.labels[upper]}：{n}" for n in site.names[upper]}, heads
    assert p.evaluate(_INJECTED) == 0, "an element the payload would inject is in the DOM"
    if screenshot is not None:  # the profile alone: the tooltip closes as the mouse leaves
        p.mouse.move(VIEWPORT["width"] - 5, VIEWPORT["height"] / 2)
        p.wait_for_timeout(300)
        ARTIFACTS.mkdir(exist_ok=True)
        p.screenshot(path=str(screenshot))
    p.wait_for_timeout(100)  # anything an injected element would still fire


def check_index_page(p: Any, site: Hostile) -> None:
    title = f"{CITY} 圏域地図"
    assert p.title() == title, f"document.title {p.title()!r}"
    assert p.locator("h1").text_content() == title
    links = p.locator("ol li a").all_text_contents()
    assert links == [site.labels[k] for k in LAYER_AREAS], f"links {links!r}"
    # The plan-period pages (projection, indicators) name their layer: the text as it is.
    for more in p.locator("ul li a").all_text_contents():
        assert any(f"（{site.labels[k]}" in more for k in LAYER_AREAS), f"link {more!r}"
    assert p.evaluate(_INJECTED) == 0, "an element the payload would inject is in the DOM"


def inspect(chromium: Any, pages: list[tuple[str, str, str, Callable[[Any], None]]]
            ) -> list[str]:
    """Open each (label, url, html, check); every problem, for every page, as one line."""
    from playwright.sync_api import Error as PlaywrightError

    problems = [f"{label}: {p}" for label, _, html, _ in pages for p in raw_problems(html)]
    visits = [Visit(chromium, pages[0][1])]
    for i, (label, _, _, check) in enumerate(pages):
        if i + 1 < len(pages):  # the next page loads while this one is checked
            visits.append(Visit(chromium, pages[i + 1][1]))
        visit = visits[i]
        try:
            visit.page.wait_for_load_state("load")
            check(visit.page)
        except (AssertionError, PlaywrightError) as exc:
            problems.append(f"{label}: {str(exc).splitlines()[0] if str(exc) else repr(exc)}")
        finally:
            for kind, seen in (("a dialog fired", visit.dialogs),
                               ("console error", visit.errors)):
                problems += [f"{label}: {kind}: {what}" + (f" (×{n})" if n > 1 else "")
                             for what, n in Counter(seen).items()]
            visit.page.close()
    return problems


# -- the tests ---------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _fetch_served(base: str, server: subprocess.Popen[bytes], log: Path, paths: list[str]
                  ) -> dict[str, str]:
    """Wait for the server, then each page's HTML (the server builds and caches it)."""
    wait_healthy(server, base, log, 30)
    pages = {}
    for path in paths:
        response = httpx.get(base + path, timeout=60)
        assert response.status_code == 200, f"{path}: {response.status_code} {response.text}"
        assert response.headers["content-type"].startswith("text/html")
        pages[path] = response.text
    return pages


def test_no_written_or_served_page_runs_hostile_text(
        hostile: Hostile, chromium: Any, run: Callable[..., CliResult], tmp_path: Path) -> None:
    # A real server process (read-only: no token), started first so that it builds its pages
    # on the other core while this process writes the same pages as files.
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    env = {k: v for k, v in os.environ.items() if k != "KENMAP_TOKEN"}
    with open(log, "wb") as err:
        server = subprocess.Popen(
            [sys.executable, "-c", "from kenmap.cli import main; main()", "serve",
             str(hostile.path), "--port", str(port)],
            stdout=subprocess.DEVNULL, stderr=err, env=env)
    try:
        served: dict[str, Any] = {}

        def fetch() -> None:
            try:
                served.update(_fetch_served(base, server, log,
                                            ["/maps/", "/maps/gyoseiku", "/maps/shi"]))
            except (AssertionError, httpx.HTTPError, OSError) as exc:  # raised again below
                served["error"] = exc

        fetcher = threading.Thread(target=fetch, daemon=True)
        fetcher.start()

        out = tmp_path / "maps"
        for args in (("--all", "--out", out),
                     ("--layer", "chiku", "--radius", "500", "--out", tmp_path / "reach.html"),
                     ("--layer", "gyoseiku", "--hub-type", "salon", "--out",
                      tmp_path / "salon.html")):
            result = run("map", hostile.path, *args)
            assert result.code == 0, result.err

        def written(file: Path, check: Callable[[Any], None]) -> tuple[str, str, str, Any]:
            return (f"written {file.relative_to(tmp_path)}", file.as_uri(),
                    file.read_text(encoding="utf-8"), check)

        pages = [written(out / "index.html", lambda p: check_index_page(p, hostile))]
        for key in LAYER_AREAS:
            shot = ARTIFACTS / "hostile_text_gyoseiku.png" if key == "gyoseiku" else None
            pages.append(written(out / f"{key}.html", lambda p, key=key, shot=shot:
                                 check_map_page(p, hostile, key, screenshot=shot)))
        pages.append(written(tmp_path / "reach.html",  # --layer chiku --radius 500
                             lambda p: check_map_page(p, hostile, "chiku", reach=True)))
        pages.append(written(tmp_path / "salon.html",  # --layer gyoseiku --hub-type salon
                             lambda p: check_map_page(p, hostile, "gyoseiku")))

        fetcher.join(timeout=120)
        assert not fetcher.is_alive(), "the served pages took over two minutes"
        if "error" in served:
            raise served["error"]
        pages.append(("served /maps/", f"{base}/maps/", served["/maps/"],
                      lambda p: check_index_page(p, hostile)))
        for key in ("gyoseiku", "shi"):
            pages.append((f"served /maps/{key}", f"{base}/maps/{key}", served[f"/maps/{key}"],
                          lambda p, key=key: check_map_page(p, hostile, key)))

        problems = inspect(chromium, pages)
    finally:
        server.kill()
        server.wait(timeout=10)
    assert not problems, "\n".join(problems)
