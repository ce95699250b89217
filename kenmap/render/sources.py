"""Where a workspace's data came from, as the attribution lines a map or handout carries.

Boundaries, population and hubs each name their source as the import stored it: a source
text where one was given (``--source`` of ``import areas``, ``population`` and ``hubs``), else
the file's name (never its full path: handouts leave the office). Boundaries cut from e-Stat's
small-area files carry the wording e-Stat's terms of use ask for.
"""

from __future__ import annotations

import os
import re
from typing import Any

from kenmap.hubs.table import HUBS
from kenmap.layers.estat import is_estat
from kenmap.workspace import Workspace

#: The attribution e-Stat asks for on maps made from its boundary data.
ESTAT_BOUNDARIES = "「政府統計の総合窓口(e-Stat)」境界データ"
#: ... and on figures from its census tables.
ESTAT_TABLES = "「政府統計の総合窓口(e-Stat)」国勢調査 小地域集計"
_ESTAT_TABLE_FILE = re.compile(r"^tblT\d{6}", re.IGNORECASE)


def _names(files: Any) -> list[str]:
    if isinstance(files, (str, os.PathLike)):
        files = [files]
    return [os.path.basename(str(f)) for f in files or [] if str(f)]


def boundary_sources(ws: Workspace) -> list[str]:
    """One line per imported layer (derived layers share their source's line)."""
    lines = []
    for layer in ws.scheme.layers:
        info = ws.layer_info(layer.key)
        if not info.get("imported"):
            continue
        files = "、".join(_names(info.get("source")))
        text = str(info.get("attribution") or "")
        if not text and is_estat(ws.read_layer(layer.key)):  # its fields are kept
            text = f"{ESTAT_BOUNDARIES}を加工して作成" + (f"（{files}）" if files else "")
        lines.append(f"境界（{layer.label}）: {text or files or '出典未登録'}")
    return lines


def population_sources(ws: Workspace) -> list[str]:
    """``人口: 出典（基準日 …）``, one line per distinct source."""
    lines = []
    for info in (ws.get("population") or {}).values():
        file = _names(info.get("file"))
        source = str(info.get("source") or (file[0] if file else "出典未登録"))
        if file and source == file[0] and _ESTAT_TABLE_FILE.match(file[0]):
            source = f"{ESTAT_TABLES}（{source}）"
        as_of = f"（基準日 {info['as_of']}）" if info.get("as_of") else ""
        lines.append(f"人口: {source}{as_of}")
    return list(dict.fromkeys(lines))


def hub_sources(ws: Workspace) -> list[str]:
    """The files the hubs came from (and edits made on the map), as one line."""
    if HUBS not in ws.tables():
        return []
    points = ws.read_points(HUBS)
    if len(points) == 0 or "source" not in points.columns:
        return []
    names = []
    given = ws.get("hub_sources") or {}
    for value in dict.fromkeys(points["source"].dropna().astype(str)):
        name = os.path.basename(value)
        names.append("地図上での登録・編集" if value == "api" else
                     f"{given[name]}（{name}）" if name in given else name)
    return [f"拠点: {'、'.join(names)}"] if names else []


def source_lines(ws: Workspace) -> list[str]:
    """Every source of the workspace: boundaries, population, hubs."""
    return [*boundary_sources(ws), *population_sources(ws), *hub_sources(ws)]
