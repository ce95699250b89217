"""Ways of an OpenStreetMap extract (``.osm``, ``.osm.pbf``) as lines, read with pyosmium.

Every way with a ``highway`` tag is cut at the nodes it shares with other ways (junctions) and
at its ends, so the pieces meet exactly where people can turn — the way OSMnx builds its
graphs. Coordinates are longitude/latitude (WGS84, which JGD2011 matches in Japan to under a
metre).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from kenmap.errors import KenmapError
from kenmap.optional import need

OSM_SUFFIXES = (".osm", ".osm.pbf", ".pbf", ".osm.bz2", ".osm.gz")


def is_osm(path: Path) -> bool:
    """Whether ``path`` is named like an OSM extract."""
    name = path.name.lower()
    return any(name.endswith(s) for s in OSM_SUFFIXES)


def read_osm_ways(path: Path) -> pd.DataFrame:
    """The ``highway`` ways of an OSM file cut at junctions: columns ``u``, ``v`` (OSM node
    ids), ``highway``, ``foot``, ``access`` and ``geometry`` (shapely LineStrings in lon/lat).
    An empty frame when the file has no such way."""
    need("osmium", "network", "OpenStreetMap の読み込み（.osm / .osm.pbf）")
    import osmium

    ways: list[tuple[list[int], list[tuple[float, float]], dict[str, Any]]] = []
    try:
        processor = osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY
                                        ).with_locations()
        for way in processor:
            if not isinstance(way, osmium.osm.Way) or "highway" not in way.tags:
                continue
            osm_tags = way.tags
            refs, coords = [], []
            for node in way.nodes:
                if not node.location.valid():
                    continue  # a node outside the extract
                refs.append(node.ref)
                coords.append((node.location.lon, node.location.lat))
            if len(refs) >= 2:
                ways.append((refs, coords, {"highway": osm_tags.get("highway"),
                                            "foot": osm_tags.get("foot"),
                                            "access": osm_tags.get("access")}))
    except (RuntimeError, ValueError, OSError) as exc:
        raise KenmapError(f"OpenStreetMap のファイルとして読めません（{str(exc)[:120]}）",
                          file=path) from exc
    if not ways:
        return pd.DataFrame({"u": [], "v": [], "highway": [], "foot": [], "access": [],
                             "geometry": []})
    uses: dict[int, int] = {}
    for refs, _, _ in ways:
        for r in refs:
            uses[r] = uses.get(r, 0) + 1
    rows: dict[str, list[Any]] = {"u": [], "v": [], "highway": [], "foot": [], "access": [],
                                  "geometry": []}
    for refs, coords, tags in ways:
        start = 0
        for i in range(1, len(refs)):
            if i == len(refs) - 1 or uses[refs[i]] > 1:
                rows["u"].append(refs[start])
                rows["v"].append(refs[i])
                rows["geometry"].append(np.asarray(coords[start:i + 1]))
                for key in ("highway", "foot", "access"):
                    rows[key].append(tags[key])
                start = i
    rows["geometry"] = [shapely.LineString(c) for c in rows["geometry"]]
    return pd.DataFrame(rows)
