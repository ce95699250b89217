"""Light GeoJSON for web maps: topological simplification, lon/lat, rounded coordinates."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import shapely


def simplify_coverage(geoms: np.ndarray, tolerance: float) -> np.ndarray:
    """Simplify polygons that tile an area without opening gaps or overlaps between them.

    Shared edges are simplified once, so neighbours keep identical boundaries (GEOS coverage
    simplification). Falls back to per-polygon simplification for layers that are not a clean
    coverage.
    """
    if tolerance <= 0 or len(geoms) == 0:
        return geoms
    try:
        return np.asarray(shapely.coverage_simplify(geoms, tolerance))
    except shapely.errors.GEOSException:
        return np.asarray(shapely.simplify(geoms, tolerance, preserve_topology=True))


def to_lonlat_rounded(frame: gpd.GeoDataFrame, decimals: int = 5) -> np.ndarray:
    """Geometries in EPSG:4326 with coordinates rounded (5 decimals ≈ 1 m)."""
    lonlat = frame.geometry.to_crs(4326).to_numpy()
    single = shapely.get_num_geometries(lonlat) == 1
    lonlat[single] = shapely.get_geometry(lonlat[single], 0)  # Polygon, not a 1-part Multi
    return np.asarray(shapely.transform(lonlat, lambda xy: np.round(xy, decimals)))


def feature_collection(geoms: np.ndarray, properties: list[dict[str, Any]]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection (as a dict) with an ``id`` per feature."""
    import json

    features = []
    for i, (geom, props) in enumerate(zip(geoms, properties)):
        features.append({"type": "Feature", "id": i, "properties": props,
                         "geometry": json.loads(shapely.to_geojson(geom))})
    return {"type": "FeatureCollection", "features": features}
