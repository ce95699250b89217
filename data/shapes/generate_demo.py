"""Generate the embedded demo city (SYNTHETIC — not a real place).

デモ市（架空） is shaped like 豊岡市's welfare plan: 1 市 ⊃ 6 旧市町 ⊃ 29 地区 ⊃ 359 行政区 ⊃
about 3,000 隣近所, with a dense town centre and five valley towns linked by river valleys, in
JGD2011 plane-rectangular zone V (EPSG:6673, where 兵庫 and 鳥取 are measured). Every name,
code and boundary is invented. Deterministic: the same seed writes the same bytes.

Writes into ``kenmap/demo_data/`` (shipped in the package). Run from the repository root::

    python data/shapes/generate_demo.py
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

SEED = 20261122
HERE = Path(__file__).resolve().parent
#: Where the demo data ships: inside the package, so an installed kenmap has it.
OUT = HERE.parent.parent / "kenmap" / "demo_data"
EPSG = 6673
#: Zone V coordinates of the town centre (easting, northing): near 35.54°N 134.82°E.
ORIGIN = (45_000.0, -51_000.0)
#: The layout below is drawn at 1:1.4 so the city covers about 690 km², like 豊岡市.
SCALE = 1.4
CITY_CODE = "28999"  # not a real municipality code
CITY_NAME = "デモ市（架空）"
KYUSHICHO = [  # name, centre offset (m), cluster radius (m), points
    ("中央町", (0, 0), 700, 750),
    ("北浜町", (-2_000, 11_000), 700, 170),
    ("東谷町", (9_500, 3_000), 800, 190),
    ("西山町", (-10_500, 2_000), 800, 170),
    ("南原町", (-3_000, -9_500), 900, 220),
    ("奥野町", (7_500, -10_000), 700, 150),
]
CHIKU_PER_KYUSHICHO = [9, 4, 4, 4, 5, 3]  # 29 in all
ESTATE_AT = np.array([2_300.0, 1_800.0])
ESTATE_NAME = "若葉台団地"
N_GYOSEIKU = 359
_PREFIX = list("上下中東西南北新本大小高古若宮")
_SUFFIX = list("町原野谷田川山浜森島沢崎井岡瀬")


def _outline(rng: np.random.Generator) -> shapely.Polygon:
    """A lobed outline about 30 × 26 km, reaching out to each valley town."""
    angles = np.linspace(0, 2 * np.pi, 181)[:-1]
    radius = np.full_like(angles, 8_500.0)
    for _, (dx, dy), _, _ in KYUSHICHO[1:]:
        direction = np.arctan2(dy, dx)
        reach = np.hypot(dx, dy) + 3_500
        diff = np.angle(np.exp(1j * (angles - direction)))
        radius = np.maximum(radius, reach * np.exp(-(diff / 0.42) ** 2))
    radius *= 1 + 0.04 * np.sin(7 * angles + rng.uniform(0, 6)) + 0.03 * np.sin(13 * angles)
    return shapely.Polygon(np.c_[radius * np.cos(angles), radius * np.sin(angles)])


def _points(rng: np.random.Generator, outline: shapely.Polygon) -> np.ndarray:
    """Seeds of the 隣近所: dense centre, valley towns, valleys, scattered hamlets."""
    pts = []
    for _, (dx, dy), spread, n in KYUSHICHO:
        pts.append(rng.normal((dx, dy), spread, size=(n, 2)))
    pts.append(rng.normal((0, 0), 2_200, size=(450, 2)))  # the centre's suburbs
    for _, (dx, dy), _, _ in KYUSHICHO[1:]:  # river valleys from the centre to each town
        t = rng.uniform(0.1, 0.9, size=150)
        bend = np.sin(t * np.pi) * 1_200
        normal = np.array([-dy, dx]) / np.hypot(dx, dy)
        line = np.c_[t * dx, t * dy] + bend[:, None] * normal
        pts.append(line + rng.normal(0, 450, size=(150, 2)))
    minx, miny, maxx, maxy = outline.bounds
    pts.append(rng.uniform((minx, miny), (maxx, maxy), size=(500, 2)))
    allpts = np.vstack(pts)
    inside = shapely.contains_xy(outline.buffer(-150), allpts[:, 0], allpts[:, 1])
    allpts = allpts[inside]
    # Drop points closer than 60 m (84 m scaled) to an earlier one: no sliver-sized 隣近所.
    keep: list[int] = []
    tree_pts = np.round(allpts / 60).astype(int)
    seen: set[tuple[int, int]] = set()
    for i, (a, b) in enumerate(map(tuple, tree_pts)):
        if (a, b) not in seen:
            seen.add((a, b))
            keep.append(i)
    return allpts[keep]


def _nearest(points: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    d = ((points[:, None, :] - seeds[None, :, :]) ** 2).sum(axis=2)
    return d.argmin(axis=1)


def _farthest_first(points: np.ndarray, k: int, start: int) -> np.ndarray:
    chosen = [start]
    dist = ((points - points[start]) ** 2).sum(axis=1)
    for _ in range(k - 1):
        nxt = int(dist.argmax())
        chosen.append(nxt)
        dist = np.minimum(dist, ((points - points[nxt]) ** 2).sum(axis=1))
    return np.array(chosen)


def _allocate(total: int, weights: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """Largest-remainder allocation with at least 1 and at most ``caps`` each."""
    share = weights / weights.sum() * total
    alloc = np.clip(np.floor(share).astype(int), 1, caps)
    while alloc.sum() < total:
        room = np.where(alloc < caps, share - alloc, -np.inf)
        alloc[int(room.argmax())] += 1
    while alloc.sum() > total:
        room = np.where(alloc > 1, alloc - share, -np.inf)
        alloc[int(room.argmax())] -= 1
    return alloc


def _names(rng: np.random.Generator, n: int, taken: set[str], ending: str) -> list[str]:
    out = []
    while len(out) < n:
        name = rng.choice(_PREFIX) + rng.choice(_SUFFIX) + ending
        if name not in taken:
            taken.add(name)
            out.append(name)
    return out


def _fill_gaps(cells: np.ndarray) -> np.ndarray:
    """Give the slivers that snapping to 0.1 m opens between cells to a neighbouring cell."""
    union = shapely.coverage_union_all(cells)
    holes = [shapely.Polygon(ring) for poly in shapely.get_parts(union)
             for ring in poly.interiors]
    cells = cells.copy()
    tree = shapely.STRtree(cells)
    for hole in holes:
        near = tree.query(hole, predicate="intersects")
        shared = shapely.length(shapely.intersection(cells[near], hole.boundary))
        i = int(near[int(np.argmax(shared))])
        cells[i] = shapely.set_precision(shapely.union(cells[i], hole), 0.1)
    return cells


def build(seed: int = SEED) -> gpd.GeoDataFrame:
    """The 隣近所 polygons with the codes and names of every layer above them."""
    rng = np.random.default_rng(seed)
    outline = _outline(rng)
    pts = _points(rng, outline)
    cells = shapely.voronoi_polygons(shapely.MultiPoint(pts), extend_to=outline.buffer(5_000))
    cells = np.asarray(shapely.get_parts(cells))
    # voronoi_polygons does not keep input order: match each cell to its seed point.
    cell_of_point = np.empty(len(pts), dtype=int)
    owner = shapely.STRtree(cells).query(shapely.points(pts), predicate="within")
    cell_of_point[owner[0]] = owner[1]
    cells = shapely.intersection(cells[cell_of_point], outline)
    cells = _fill_gaps(shapely.set_precision(cells, 0.1))
    centres = np.c_[shapely.get_coordinates(shapely.centroid(cells))]

    town_centres = np.array([c for _, c, _, _ in KYUSHICHO], dtype=float)
    kyu = _nearest(centres, town_centres)
    chiku = np.empty(len(cells), dtype=int)
    gyo = np.empty(len(cells), dtype=int)
    chiku_counts = CHIKU_PER_KYUSHICHO
    chiku_base = np.cumsum([0, *chiku_counts])
    # 行政区 follow population (points); allocate them to 地区 by number of 隣近所.
    for k in range(len(KYUSHICHO)):
        idx = np.flatnonzero(kyu == k)
        start = int(_nearest(town_centres[k : k + 1], centres[idx])[0])
        seeds = _farthest_first(centres[idx], chiku_counts[k], start)
        chiku[idx] = chiku_base[k] + _nearest(centres[idx], centres[idx][seeds])
    n_chiku = int(chiku_base[-1])
    sizes = np.bincount(chiku, minlength=n_chiku)
    per_chiku = _allocate(N_GYOSEIKU, sizes.astype(float) ** 0.9, sizes)
    base = 0
    for c in range(n_chiku):
        idx = np.flatnonzero(chiku == c)
        seeds = rng.choice(len(idx), size=per_chiku[c], replace=False)
        gyo[idx] = base + _nearest(centres[idx], centres[idx][seeds])
        base += per_chiku[c]

    # A 1970s housing estate (団地) in the centre's suburbs: the oldest 行政区 of the city.
    estate = int(gyo[np.argmin(((centres - ESTATE_AT) ** 2).sum(axis=1))])

    taken: set[str] = set()
    chiku_names = _names(rng, n_chiku, taken, "地区")
    rows = []
    gyo_seen: dict[int, tuple[str, str]] = {}
    tonari_count: dict[int, int] = {}
    chiku_local = {c: c - chiku_base[kyu[np.flatnonzero(chiku == c)[0]]] + 1
                   for c in range(n_chiku)}
    gyo_local: dict[int, int] = {}
    gyo_per_chiku: dict[int, int] = {}
    order = np.lexsort((centres[:, 0], -centres[:, 1], gyo, chiku, kyu))
    for i in order:
        k, c, g = int(kyu[i]), int(chiku[i]), int(gyo[i])
        kyu_code = f"{CITY_CODE}{k + 1:02d}"
        chiku_code = f"{kyu_code}{chiku_local[c]:02d}"
        if g not in gyo_seen:
            gyo_per_chiku[c] = gyo_per_chiku.get(c, 0) + 1
            gyo_local[g] = gyo_per_chiku[c]
            gyo_name = (ESTATE_NAME if g == estate else
                        f"{chiku_names[c].removesuffix('地区')}{gyo_local[g]}区")
            gyo_seen[g] = (f"{chiku_code}{gyo_local[g]:03d}", gyo_name)
        gyo_code, gyo_name = gyo_seen[g]
        tonari_count[g] = tonari_count.get(g, 0) + 1
        rows.append({
            "tonarikinjo_code": f"{gyo_code}{tonari_count[g]:02d}",
            "tonarikinjo_name": f"{gyo_name}{tonari_count[g]}組",
            "gyoseiku_code": gyo_code, "gyoseiku_name": gyo_name,
            "chiku_code": chiku_code, "chiku_name": chiku_names[c],
            "kyushicho_code": kyu_code, "kyushicho_name": KYUSHICHO[k][0],
            "geometry": cells[i],
        })
    frame = gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=EPSG)
    frame["geometry"] = shapely.set_precision(
        shapely.transform(frame.geometry.to_numpy(), lambda xy: xy * SCALE + ORIGIN), 0.1)
    return _with_overlays(frame, rng)


#: 包括圏域 (service areas of the 地域包括支援センター): the centre's inner 地区, and four
#: areas each joining a valley town (two in the south) to the outer 地区 of the centre nearest
#: it — so they cut across the 旧市町, as 芦屋's 5 包括 areas cut across its 4 圏域.
HOKATSU = [("H1", "中央包括圏域", ["中央町"]), ("H2", "北部包括圏域", ["北浜町"]),
           ("H3", "東部包括圏域", ["東谷町"]), ("H4", "西部包括圏域", ["西山町"]),
           ("H5", "南部包括圏域", ["南原町", "奥野町"])]
#: 中央町's 地区 nearest its centre that stay in 中央包括圏域.
INNER_CHIKU = 4
#: 小学校区: the 行政区 grouped around this many clusters of homes (no regard to the 地区).
N_SHOGAKKU = 14


def _with_overlays(frame: gpd.GeoDataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Add the two overlay layers' codes and names to every 隣近所: 包括圏域 and 小学校区."""
    from scipy.cluster.vq import kmeans2

    centres = shapely.get_coordinates(shapely.centroid(frame.geometry.to_numpy()))
    towns = {name: (np.array(offset) * SCALE + ORIGIN) for name, offset, _, _ in KYUSHICHO}
    group_of_town = {t: code for code, _, members in HOKATSU for t in members}
    chiku = frame.assign(x=centres[:, 0], y=centres[:, 1]).groupby("chiku_code").agg(
        town=("kyushicho_name", "first"), x=("x", "mean"), y=("y", "mean"))
    centre = towns["中央町"]
    chiku["d"] = np.hypot(chiku["x"] - centre[0], chiku["y"] - centre[1])
    inner = set(chiku[chiku["town"] == "中央町"].nsmallest(INNER_CHIKU, "d").index)
    outer_towns = [t for t in towns if t != "中央町"]
    group = {}
    for code, row in chiku.iterrows():
        if row["town"] != "中央町":
            group[code] = group_of_town[row["town"]]
        elif code in inner:
            group[code] = "H1"
        else:  # an outer 地区 of the centre joins the valley town nearest it
            near = min(outer_towns, key=lambda t: float(np.hypot(*(row[["x", "y"]].to_numpy(
                dtype=float) - towns[t]))))
            group[code] = group_of_town[near]
    names = {code: name for code, name, _ in HOKATSU}
    frame["hokatsu_code"] = frame["chiku_code"].map(group)
    frame["hokatsu_name"] = frame["hokatsu_code"].map(names)

    _, label = kmeans2(centres, N_SHOGAKKU, seed=rng, minit="++")
    gyo = pd.DataFrame({"gyo": frame["gyoseiku_code"], "cluster": label})
    by_gyo = gyo.groupby("gyo")["cluster"].agg(lambda s: int(s.value_counts().index[0]))
    # Numbered from north to south, like 第一小学校 … in the order of the town's founding.
    north = pd.Series(centres[:, 1]).groupby(label).mean().sort_values(ascending=False)
    number = {int(c): i + 1 for i, c in enumerate(north.index)}
    numerals = "一二三四五六七八九十"
    def school(n: int) -> str:
        return (numerals[n - 1] if n <= 10 else f"十{numerals[n - 11]}") + "小学校区"
    frame["shogakku_code"] = frame["gyoseiku_code"].map(
        lambda g: f"S{number[by_gyo[g]]:02d}")
    frame["shogakku_name"] = frame["shogakku_code"].map(lambda c: "第" + school(int(c[1:])))
    return frame


def write(frame: gpd.GeoDataFrame, path: Path) -> None:
    """Write GeoJSON with 0.1 m coordinates; byte-identical for the same frame."""
    pyogrio.write_dataframe(
        frame, path, driver="GeoJSON", layer="demo_city_synthetic",
        layer_options={"COORDINATE_PRECISION": 1, "WRITE_BBOX": "NO",
                       "DESCRIPTION": f"SYNTHETIC demo city {CITY_NAME}; not real data"})
    # GDAL may leave run-specific whitespace; normalise to one feature per line.
    data = json.loads(path.read_text(encoding="utf-8"))
    lines = [json.dumps({k: v for k, v in data.items() if k != "features"} | {"features": []},
                        ensure_ascii=False)[:-2]]
    feats = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in data["features"]]
    path.write_text(lines[0] + "\n" + ",\n".join(feats) + "\n]}\n", encoding="utf-8")


def main() -> None:
    from demo_people import write_people
    from demo_roads import build_roads, write_roads

    frame = build()
    write(frame, OUT / "demo_city.geojson")
    write_people(frame, OUT, SEED)
    towns = np.array([np.array(c) * SCALE + ORIGIN for _, c, _, _ in KYUSHICHO])
    roads = build_roads(frame, ORIGIN, SCALE, towns, ESTATE_AT * SCALE + ORIGIN)
    write_roads(roads, OUT / "demo_roads.geojson")
    print(f"wrote {OUT / 'demo_roads.geojson'}: {len(roads)} streets, "
          f"{roads.geometry.length.sum() / 1000:,.0f} km")
    counts = {lvl: frame[f"{lvl}_code"].nunique()
              for lvl in ("kyushicho", "chiku", "gyoseiku", "tonarikinjo")}
    print(f"wrote {OUT / 'demo_city.geojson'}: {counts}")


if __name__ == "__main__":
    main()
