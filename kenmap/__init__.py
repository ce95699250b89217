"""kenmap: nested welfare service areas (圏域), hubs and coverage for Japanese municipalities.

The public API, for notebooks and scripts (the ``kenmap`` command does the same)::

    import kenmap

    ws = kenmap.open_workspace("toyooka.gpkg")
    figures = kenmap.stats(ws, "gyoseiku")                      # a DataFrame per area
    table = kenmap.gaps(ws, layer="gyoseiku", hub_type="salon", radius=500)
    table.lacking                                               # areas lacking a サロン
    kenmap.coverage(ws)                                         # every layer × hub type
    result = kenmap.site(ws, hub_type="ibasho", k=3)            # a SitingResult
    kenmap.write_map(ws, "gyoseiku", "gyoseiku.html")

Names are imported on first use, so ``import kenmap`` (and the command line) stays quick.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("kenmap")
except PackageNotFoundError:  # running from a checkout that is not installed
    __version__ = "0+unknown"

_PUBLIC = {
    "Workspace": "kenmap.workspace",
    "open_workspace": "kenmap.workspace",
    "KenmapError": "kenmap.errors",
    "validate": "kenmap.layers.validate",
    "ValidationReport": "kenmap.layers.validate",
    "GapTable": "kenmap.access.gaps",
    "gaps": "kenmap.access.gaps",
    "coverage": "kenmap.access.gaps",
    "site": "kenmap.access.siting",
    "SitingResult": "kenmap.access.siting",
    "write_map": "kenmap.maps.pages",
}
_RENAMED = {"stats": ("kenmap.people.stats", "layer_stats")}

__all__ = ["__version__", *_PUBLIC, *_RENAMED]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    if name in _RENAMED:
        module, attr = _RENAMED[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'kenmap' has no attribute {name!r}")
