"""``kenmap import network`` and ``kenmap import terrain``: a walking network from OSM, an
OSMnx GraphML or road lines, and the slopes of its edges from GSI DEM meshes or a GeoTIFF."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from kenmap.errors import KenmapError
from kenmap.geo.network import (
    Network,
    components,
    from_lines,
    sample_profiles,
    set_slopes,
    walkable,
)
from kenmap.geo.network import subset as network_subset
from kenmap.model.report import Report
from kenmap.network.store import NETWORK_INFO, read_network, write_network
from kenmap.workspace import Workspace

#: A network must come within this distance (metres) of this share of the areas' centres.
NEAR_M = 500.0
NEAR_SHARE = 0.5


def _lines_of(path: Path, *, crs: str | None, encoding: str | None, layer_name: str | None,
              u_field: str | None, v_field: str | None) -> tuple[pd.DataFrame, int, str]:
    """The file's lines with ``u``/``v`` (or None), ``highway``, ``foot``, ``access`` and
    ``geometry``, their CRS (EPSG) and what kind of file it was."""
    from kenmap.geo.crs import epsg_of, parse_crs
    from kenmap.geo.osm import is_osm, read_osm_ways

    if not path.exists():
        raise KenmapError("ファイルが見つかりません", file=path)
    if is_osm(path):
        return read_osm_ways(path), 6668, "OpenStreetMap"
    if path.suffix.lower() == ".graphml":
        from kenmap.geo.graphml import read_graphml

        frame, named = read_graphml(path)
        given = crs or named
        if given is None or str(given).lower() in ("epsg:4326", "4326"):
            epsg = 6668  # OSMnx's unprojected graphs: WGS84 longitude/latitude
        else:
            epsg = epsg_of(parse_crs(given)) or 6668
        return frame, epsg, "GraphML（OSMnx）"
    from kenmap.geo.vector_io import read_vector

    sources = read_vector(path, encoding=encoding, crs=crs, layer_name=layer_name)
    frames = []
    for source in sources:
        frame = source.frame
        kinds = set(frame.geometry.geom_type.dropna())
        if not kinds & {"LineString", "MultiLineString"}:
            continue
        frame = frame[frame.geometry.geom_type.isin(["LineString", "MultiLineString"])]
        frame = frame.explode(index_parts=False).reset_index(drop=True)
        out = pd.DataFrame({"geometry": frame.geometry.to_numpy()})
        for key in ("highway", "foot", "access"):
            out[key] = frame[key].to_numpy() if key in frame.columns else None
        for key, given in (("u", u_field), ("v", v_field)):
            column = given or (key if key in frame.columns else None)
            if given is not None and given not in frame.columns:
                raise KenmapError(f"項目「{given}」がありません。項目: "
                                  f"{', '.join(c for c in frame.columns if c != 'geometry')}",
                                  file=source.path, field=f"--{key}-field")
            out[key] = frame[column].to_numpy() if column else None
        frames.append((out, source.source_epsg))
    if not frames:
        raise KenmapError("線（道路）がありません: 道路の線のファイルを指定してください",
                          file=path)
    epsgs = {e for _, e in frames}
    if len(epsgs) > 1:
        raise KenmapError("座標系の異なる道路ファイルが混じっています", file=path)
    return pd.concat([f for f, _ in frames], ignore_index=True), int(epsgs.pop() or 6668), \
        "道路の線"


def import_network(ws: Workspace, path: str | Path, *, crs: str | None = None,
                   encoding: str | None = None, layer_name: str | None = None,
                   u_field: str | None = None, v_field: str | None = None,
                   source: str | None = None) -> Report:
    """Import a walking network (replacing any earlier one): walkable ways only, the largest
    connected part kept (the rest reported), stored in the workspace's plane CRS."""
    path = Path(path)
    if ws.crs_epsg is None:
        raise KenmapError("先に区域を取り込んでください（道路網は区域の座標系で保存します）")
    frame, epsg, kind = _lines_of(path, crs=crs, encoding=encoding, layer_name=layer_name,
                                  u_field=u_field, v_field=v_field)
    report = Report(f"道路網を取り込みました（{kind}）")
    if len(frame) == 0:
        raise KenmapError("道路（highway の付いた way）がありません", file=path)
    keep = walkable(frame["highway"], frame["foot"], frame["access"])
    dropped_ways = int((~keep).sum())
    frame = frame[keep].reset_index(drop=True)
    if len(frame) == 0:
        raise KenmapError("歩ける道がありません（highway がすべて高速道路などです）", file=path)
    if dropped_ways:
        report.notes.append(f"歩けない道 {dropped_ways:,} 本（高速道路、工事中など）を除きました")
    import geopandas as gpd

    lines = gpd.GeoSeries(frame["geometry"].to_numpy(), crs=epsg).to_crs(ws.crs_epsg)
    ids = bool(frame["u"].notna().all() and frame["v"].notna().all())
    net = from_lines(lines.to_numpy(), u=frame["u"].to_numpy() if ids else None,
                     v=frame["v"].to_numpy() if ids else None,
                     highway=frame["highway"].to_numpy())
    if net.n_edges == 0:
        raise KenmapError("道路網が空です（長さのある線がありません）", file=path)
    labels = components(net)
    main = labels == 0
    kept = network_subset(net, main)
    if (~main).any():
        report.warnings.append(
            f"つながっていない部分 {int(labels.max()):,} か所（ノード {int((~main).sum()):,}、"
            f"全体の {(~main).mean():.1%}）を除き、最大の連結部分を残しました")
    if kept.n_edges == 0:
        raise KenmapError("道路網がつながっていません（辺を持つ連結部分がありません）", file=path)
    far = _check_reaches_areas(ws, kept, path)
    if far > 1 - NEAR_SHARE:
        report.warnings.append(
            f"区域の {far:.0%} が道路網から {NEAR_M:.0f} m 以上離れています（道路網が市域の一部"
            "しか覆っていません）: その区域からの徒歩は道路までの直線を含みます")
    report.facts.update({"nodes": kept.n_nodes, "edges": kept.n_edges,
                         "km": round(float(kept.length.sum()) / 1000, 1),
                         "terrain": kept.has_terrain, "file": path.name})
    report.notes.append(f"ノード {kept.n_nodes:,}、辺 {kept.n_edges:,}、延長 "
                        f"{kept.length.sum() / 1000:,.1f} km"
                        + ("（線の標高 Z から坂を計算）" if kept.has_terrain else ""))
    with ws.transaction() as tx:
        write_network(tx, kept)
        tx.put(NETWORK_INFO, {"file": path.name, "kind": kind, "nodes": kept.n_nodes,
                              "edges": kept.n_edges, "terrain": kept.has_terrain,
                              **({"attribution": source.strip()} if source else {})})
        tx.record("import network", file=path.name, edges=kept.n_edges)
    return report


def _check_reaches_areas(ws: Workspace, net: Network, path: Path) -> float:
    """Refuse a network that does not come near the areas (wrong place or CRS); the share of
    areas far from it."""
    from kenmap.layers.hierarchy import filled_layers

    layers = filled_layers(ws)
    areas = ws.read_layer(layers[-1])
    points = shapely.point_on_surface(areas.geometry.to_numpy())
    near = net.tree().query(points, predicate="dwithin", distance=NEAR_M)
    share = len(np.unique(near[0])) / max(len(points), 1)
    if share == 0:
        raise KenmapError(f"道路網が区域から {NEAR_M:.0f} m 以内にありません（場所か座標系が"
                          "違います。--crs を確認してください）", file=path)
    return 1 - share


def import_terrain(ws: Workspace, paths: list[Path]) -> Report:
    """Sample elevations along every edge of the network from DEM meshes or GeoTIFFs and set
    the edges' walking costs by Tobler's hiking function."""
    from kenmap.geo.dem import elevation_sampler, read_grids

    net = read_network(ws)
    grids = [g for p in paths for g in read_grids(Path(p))]
    assert ws.crs_epsg is not None
    profiles, z = sample_profiles(net, elevation_sampler(grids, ws.crs_epsg))
    known = np.isfinite(z)
    names = ", ".join(Path(p).name for p in paths)
    if not known.any():
        raise KenmapError("標高データが道路網にかかっていません（別の場所のメッシュです）",
                          file=names)
    out = Network(net.x, net.y, z, net.u, net.v, net.length, net.geometry, net.cost_uv.copy(),
                  net.cost_vu.copy(), net.highway)
    set_slopes(out, profiles)
    report = Report(f"標高を取り込みました（{len(grids)} メッシュ）")
    report.facts.update({"grids": len(grids), "nodes_with_elevation": float(known.mean())})
    if not known.all():
        report.warnings.append(f"ノードの {1 - known.mean():.1%} に標高がありません（メッシュの"
                               "外か海）: その区間は平らとして扱います")
    rise = np.abs(out.z[out.u] - out.z[out.v])
    report.notes.append(f"標高 {np.nanmin(z):,.1f}～{np.nanmax(z):,.1f} m、辺の高低差の中央値 "
                        f"{np.nanmedian(rise):.1f} m")
    with ws.transaction() as tx:
        write_network(tx, out)
        info: dict[str, Any] = dict(tx.get(NETWORK_INFO, {}) or {})
        info.update({"terrain": True, "terrain_files": [Path(p).name for p in paths]})
        tx.put(NETWORK_INFO, info)
        tx.record("import terrain", files=[Path(p).name for p in paths])
    return report
