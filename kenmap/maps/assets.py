"""Leaflet and its plugins, from the project's npm packages, inlined into offline pages.

Folium writes ``<script src="https://cdn…">`` tags; committee rooms often have no internet, so
every such tag is replaced by the file's contents, and images referenced from CSS become data
URIs. A page that still names a remote file is refused rather than written.

The files ship inside the package (``kenmap/maps/vendor/``, copied from the pinned npm packages
when the wheel is built; see :mod:`kenmap.maps.vendor_files`); in a development checkout they
are read from ``node_modules`` (``npm ci``).
"""

from __future__ import annotations

import base64
import re
from functools import cache
from pathlib import Path

from kenmap.errors import KenmapError

#: Where an installed kenmap has the files, and where a development checkout has them.
VENDOR = Path(__file__).resolve().parent / "vendor"
NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"


def asset_root() -> Path:
    """The folder holding the npm packages' files (laid out as in ``node_modules``)."""
    return VENDOR if (VENDOR / ASSETS["leaflet.js"]).exists() else NODE_MODULES

#: CDN file name → file in node_modules.
ASSETS = {
    "leaflet.js": "leaflet/dist/leaflet.js",
    "leaflet.css": "leaflet/dist/leaflet.css",
    "leaflet.markercluster.js": "leaflet.markercluster/dist/leaflet.markercluster.js",
    "MarkerCluster.css": "leaflet.markercluster/dist/MarkerCluster.css",
    "MarkerCluster.Default.css": "leaflet.markercluster/dist/MarkerCluster.Default.css",
    "topojson-client.min.js": "topojson-client/dist/topojson-client.min.js",
}

_SCRIPT = re.compile(r'<script src="(https?://[^"]+)"></script>')
_LINK = re.compile(r'<link rel="stylesheet" href="(https?://[^"]+)"/?>')
_CSS_URL = re.compile(r"url\((?!data:)['\"]?([^'\")]+)['\"]?\)")


@cache
def _read(name: str) -> str:
    path = asset_root() / ASSETS[name]
    if not path.exists():
        raise KenmapError(f"地図用のファイル {ASSETS[name]} がありません。kenmap を入れ直して"
                          "ください（開発中のフォルダなら 'npm ci' か make setup で入ります）")
    text = path.read_text(encoding="utf-8")
    if name.endswith(".css"):
        folder = path.parent

        def inline(match: re.Match[str]) -> str:
            image = (folder / match.group(1)).resolve()
            if not image.exists():
                return match.group(0)
            kind = "svg+xml" if image.suffix == ".svg" else image.suffix.lstrip(".")
            data = base64.b64encode(image.read_bytes()).decode("ascii")
            return f"url(data:image/{kind};base64,{data})"

        text = _CSS_URL.sub(inline, text)
    return text


def inline_assets(html: str) -> str:
    """Replace remote script and stylesheet tags by the files' contents.

    Folium's default jQuery, Bootstrap and Font Awesome are dropped: kenmap's pages do not use
    them. Any other remote reference is an error, so nothing reaches the internet.
    """
    def script(match: re.Match[str]) -> str:
        name = match.group(1).rsplit("/", 1)[-1]
        if name in ASSETS:
            return f"<script>{_read(name)}</script>"
        return ""

    def link(match: re.Match[str]) -> str:
        name = match.group(1).rsplit("/", 1)[-1]
        if name in ASSETS:
            return f"<style>{_read(name)}</style>"
        return ""

    unknown = [m.group(1) for pattern in (_SCRIPT, _LINK) for m in pattern.finditer(html)
               if m.group(1).rsplit("/", 1)[-1] not in ASSETS and not _DROPPABLE.search(
                   m.group(1))]
    if unknown:
        raise KenmapError(f"地図のページがインターネットから {unknown[0]} を読み込もうとしています")
    return _LINK.sub(link, _SCRIPT.sub(script, html))


_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\u([0-9a-fA-F]{4})")




def unescape_unicode(page: str) -> str:
    """Write ``\\u65b0`` escapes (Folium's JSON) as the characters themselves.

    Japanese names escaped take six bytes a character instead of three; in JavaScript source
    both mean the same string. Surrogates, line separators and ASCII stay escaped.
    """
    def one(match: re.Match[str]) -> str:
        code = int(match.group(2), 16)
        if code < 0x80 or 0xD800 <= code <= 0xDFFF or code in (0x2028, 0x2029):
            return match.group(0)
        return match.group(1) + chr(code)

    return _ESCAPE.sub(one, page)


#: Folium defaults that kenmap's pages do not use.
_DROPPABLE = re.compile(r"jquery|bootstrap|awesome|fontawesome|glyphicons")
