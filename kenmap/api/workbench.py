"""The browser workbench: one page (a Jinja2 template), its scripts and styles, and the map
libraries it uses, all served by this server.

Committee rooms and town halls often have no internet, and a page that fetched Leaflet from a
CDN would also tell a third party who opened it: every file comes from here (the vendored npm
packages of :mod:`kenmap.maps.vendor_files`), and the page's Content-Security-Policy lets the
browser load nothing from anywhere else. The page itself carries no data: the scripts ask the
JSON API (and ``/workbench/config.json`` for the workspace's layers and hub types), and insert
every text from the data as text, never as markup.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates

from kenmap import __version__
from kenmap.api.views import Views
from kenmap.errors import NotFoundError
from kenmap.maps.assets import asset_root
from kenmap.maps.style import STATUS_LABELS, glyph
from kenmap.maps.vendor_files import VENDOR_FILES
from kenmap.model import settings

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static" / "workbench"
TEMPLATES = Jinja2Templates(directory=str(HERE / "templates"))

#: The browser may load scripts, styles, images and data from this server only; the page may
#: not be framed (its buttons edit the workspace) and sends no referrer elsewhere.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'; form-action 'self'")
PAGE_HEADERS = {"Content-Security-Policy": CSP, "X-Frame-Options": "DENY",
                "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
                "Cache-Control": "no-cache"}
_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
          ".png": "image/png", ".svg": "image/svg+xml"}
_OWN_FILE = re.compile(r"^[a-z][a-z0-9_-]{0,40}\.(?:js|css|png|svg)$")
_VENDORED = frozenset(name for name in VENDOR_FILES if Path(name).suffix in _TYPES)

#: What the map can colour areas by: the areas' GeoJSON property, its label and unit.
INDICATORS = (
    ("aging_rate", "高齢化率", "%"), ("late_aging_rate", "後期高齢化率", "%"),
    ("pop65", "65歳以上人口", "人"), ("pop75", "75歳以上人口", "人"),
    ("population", "人口", "人"), ("households", "世帯数", "世帯"),
)


def workbench_router(views: Views, *, writable: bool) -> APIRouter:
    """The routes of the workbench. ``writable``: the server was started with a token (before
    signed-in users existed, the only way to write; the page offers to enter it)."""
    router = APIRouter(include_in_schema=False)

    @router.get("/workbench")
    async def page(request: Request) -> Response:
        """The workbench page (the same for everyone: what a user may do is asked by the
        scripts from ``/auth/me``)."""
        return TEMPLATES.TemplateResponse(request, "workbench.html",
                                          {"version": __version__}, headers=PAGE_HEADERS)

    @router.get("/workbench/config.json")
    async def config() -> JSONResponse:
        """The workspace's layers, hub types and limits the page builds its choices from."""
        body = await anyio.to_thread.run_sync(
            lambda: views.cached("workbench-config", lambda: page_config(views)))
        return JSONResponse({**body, "writable": writable},
                            headers={"Cache-Control": "no-cache"})

    @router.get("/static/workbench/{name}")
    async def own_file(name: str) -> Response:
        """The workbench's own scripts and styles (a flat folder: no paths)."""
        if not _OWN_FILE.match(name) or not (STATIC / name).is_file():
            raise NotFoundError("見つかりません")
        return _file(STATIC / name)

    @router.get("/static/vendor/{name:path}")
    async def vendored(name: str) -> Response:
        """Leaflet, its plugins and Leaflet-Geoman: only the listed files of the packages."""
        if name not in _VENDORED:
            raise NotFoundError("見つかりません")
        path = asset_root() / name
        if not path.is_file():
            raise NotFoundError(f"地図用のファイル {name} がありません（kenmap を入れ直すか、"
                                "開発中のフォルダなら npm ci を実行してください）")
        return _file(path)

    return router


def landing(views: Views, *, token: str | None) -> str:
    """Where ``/`` sends a browser: the workbench when someone can sign in or write (users or
    a token), else the index of the read-only maps."""
    if token is not None:
        return "/workbench"
    ws = views.workspace()
    if "users" in ws.tables() and len(ws.read_table("users")) > 0:
        return "/workbench"
    return "/maps/"


def page_config(views: Views) -> dict[str, Any]:
    """What the page needs to know of the workspace (names are data: shown as text)."""
    from kenmap.hubs.table import layer_hub_type, type_counts
    from kenmap.layers.hierarchy import area_layers
    from kenmap.model.catalogue import catalogue_of

    ws = views.workspace()
    catalogue = catalogue_of(ws.get("hub_types"))
    filled = set(area_layers(ws))
    layers: list[dict[str, Any]] = [{"key": layer.key, "label": layer.label,
                                      "count": len(ws.read_attributes(layer.key))}
                                     for layer in ws.scheme.layers
                                     if layer.key in filled and layer.nested]
    hub_of = {layer["key"]: layer_hub_type(ws, layer["key"]) for layer in layers}
    present = type_counts(ws)
    preset = ws.get("scheme_preset")
    # The first map: the finest layer on which a type the catalogue expects there has hubs
    # (豊岡型: 行政区 and サロン), else the top layer.
    default = layers[0]["key"] if layers else None
    for layer in layers:
        if any(present.get(key) and hub.expected_layer(ws.scheme.keys, preset) == layer["key"]
               for key, hub in catalogue.types.items()):
            default = layer["key"]
    city = None
    if layers:
        top = ws.read_attributes(layers[0]["key"])
        city = str(top["name"].iloc[0]) if len(top) == 1 else None
    return {
        "workspace": Path(views.path).name, "scheme": ws.scheme.name, "city": city,
        "layers": layers, "default_layer": default, "hub_type_of_layer": hub_of,
        "scheme_layers": [{"key": layer.key, "label": layer.label, "nested": layer.nested}
                          for layer in ws.scheme.layers],
        "hub_types": [{"key": key, "label": hub.label, "colour": hub.colour,
                       "glyph": glyph(key, hub.label, hub.icon), "radius_m": hub.radius_m,
                       "count": int(present.get(key, 0))}
                      for key, hub in catalogue.types.items()],
        "statuses": [{"key": key, "label": label} for key, label in STATUS_LABELS.items()],
        "indicators": [{"key": key, "label": label, "unit": unit}
                       for key, label, unit in INDICATORS],
        "siting_max_k": settings.SERVER_SITING_MAX_K,
        "version": __version__,
    }


def _file(path: Path) -> FileResponse:
    return FileResponse(path, media_type=_TYPES[path.suffix],
                        headers={"Cache-Control": "no-cache",
                                 "X-Content-Type-Options": "nosniff"})
