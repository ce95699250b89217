"""TopoJSON for web maps: shared boundaries stored once, coordinates quantised."""

from __future__ import annotations

from typing import Any

import geopandas as gpd


def topology(objects: dict[str, gpd.GeoDataFrame], quantize: float = 1e5) -> dict[str, Any]:
    """One TopoJSON topology holding several layers that share their boundaries.

    Layers must be in EPSG:4326 and share vertices exactly where they share edges (parents
    dissolved from their children do), so each edge is written once whatever the layers.
    """
    import topojson

    names = list(objects)
    frames = [objects[n] for n in names]
    topo = topojson.Topology(frames, object_name=names, prequantize=quantize, topology=True,
                             toposimplify=False, presimplify=False)
    data: dict[str, Any] = topo.to_dict()
    return data
