"""Residents and hubs of the demo city (SYNTHETIC — invented, aggregate counts only).

About 80,000 residents in 5-year age bands per 隣近所, with aging rates that vary as real ones
do: the town centre near 30 %, mountain 旧市町 above 40 %, the 1970s housing estate 若葉台団地
near 50 %. Hubs: about 280 サロン spread so that many 行政区 have none, one 地域包括支援センター
per 旧市町 (奥野町's office stands in 南原町), one ふくしプラザ, a 地区拠点 in most 地区, 公民館,
集会所 as candidate sites and a few planned 居場所. Written as an office would send them: the
age table in cp932 with ``-`` for zero and ``X`` for suppressed cells, the hub list as UTF-8
CSV with a BOM and longitude/latitude columns.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

TOTAL = 80_000
BANDS = [f"{a}～{a + 4}歳" for a in range(0, 100, 5)] + ["100歳以上"]
#: Rough shape of the under-65 population over its 13 bands (fewer children than parents).
YOUNG = np.array([3.2, 3.6, 4.0, 4.2, 3.4, 4.0, 4.6, 5.2, 6.0, 6.4, 6.2, 6.6, 7.4])
#: Shape of 65+ over its 8 bands; rural areas lean older within 65+ too.
OLD = np.array([10.0, 9.0, 8.0, 7.2, 5.6, 3.2, 1.1, 0.15])
#: Base aging rate of each 旧市町 (centre, then the five valley towns).
BASE_RATE = {"中央町": 0.29, "北浜町": 0.41, "東谷町": 0.43, "西山町": 0.46, "南原町": 0.37,
             "奥野町": 0.48}
SALON_SCHEDULES = ["月1回", "月2回", "週1回", "月1回", "月2回"]


def _largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    share = weights / weights.sum() * total
    out = np.floor(share).astype(int)
    out[np.argsort(out - share)[: total - out.sum()]] += 1
    return out


def population(frame: gpd.GeoDataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Age bands, total and households per 隣近所."""
    n = len(frame)
    estate = frame["gyoseiku_name"].eq("若葉台団地").to_numpy()
    weights = rng.lognormal(0, 0.35, n)
    weights[estate] *= 1_600 / (TOTAL / n) / max(int(estate.sum()), 1)  # ~1,600 residents
    totals = _largest_remainder(weights, TOTAL)
    centre = np.array(frame.geometry.union_all().centroid.coords[0])
    xy = np.c_[shapely.get_coordinates(shapely.centroid(frame.geometry.to_numpy()))]
    dist_km = np.hypot(*(xy - centre).T) / 1000
    base = frame["kyushicho_name"].map(BASE_RATE).to_numpy()
    rate = base + np.where(frame["kyushicho_name"] == "中央町", 0.012 * dist_km, 0.0)
    rate = rate + rng.normal(0, 0.03, n)
    rate[estate] = 0.50 + rng.normal(0, 0.01, estate.sum())
    rate = np.clip(rate, 0.12, 0.75)
    rural = np.clip((base - 0.29) / 0.2, 0, 1)
    bands = np.zeros((n, len(BANDS)), dtype=int)
    for i in range(n):
        old = rng.binomial(totals[i], rate[i])
        tilt = OLD * np.linspace(1, 1 + 0.6 * rural[i], len(OLD))
        bands[i, 13:] = rng.multinomial(old, tilt / tilt.sum())
        bands[i, :13] = rng.multinomial(totals[i] - old, YOUNG / YOUNG.sum())
    size = 2.15 + 0.55 * rural + rng.normal(0, 0.12, n)
    size[estate] = 1.75
    households = np.maximum(np.round(totals / size), np.minimum(totals, 1)).astype(int)
    table = pd.DataFrame({"隣近所コード": frame["tonarikinjo_code"],
                          "隣近所名": frame["tonarikinjo_name"],
                          "世帯数": households, "総数": totals})
    cells = pd.DataFrame(bands, columns=BANDS).astype(object)
    cells[cells == 0] = "-"  # as census tables write zero
    # The three smallest neighbourhoods: age detail suppressed (秘匿), as a census would.
    for i in np.argsort(totals)[:3]:
        cells.iloc[i] = "X"
    return pd.concat([table.reset_index(drop=True), cells], axis=1)


def _point_in(geom: shapely.Geometry, rng: np.random.Generator) -> shapely.Point:
    minx, miny, maxx, maxy = geom.bounds
    for _ in range(200):
        p = shapely.Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if geom.buffer(-5).contains(p):
            return p
    return geom.point_on_surface()


def hubs(frame: gpd.GeoDataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The hub list, one row per hub."""
    rows: list[dict[str, object]] = []

    def add(kind: str, name: str, where: shapely.Geometry, status: str = "existing", **extra:
            object) -> None:
        rows.append({"type": kind, "name": name, "geometry": where, "status": status, **extra})

    gyoseiku = frame.groupby("gyoseiku_code")
    no_salon: list[str] = []
    for code, group in gyoseiku:
        name = group["gyoseiku_name"].iloc[0]
        draw = rng.uniform()
        count = 2 if draw < 0.14 else 1 if draw < 0.66 else 0
        if count == 0:
            no_salon.append(str(code))
        for k in range(count):
            cell = group.geometry.iloc[int(rng.integers(len(group)))]
            add("salon", f"{name}いきいきサロン" + ("" if k == 0 else "第二"),
                _point_in(cell, rng), schedule=rng.choice(SALON_SCHEDULES),
                host=f"{name}集会所", operator=f"{name}自治会")
    kyu = frame.dissolve("kyushicho_code", as_index=False)
    for _, row in kyu.iterrows():
        town = row["kyushicho_name"]
        if town == "奥野町":
            # Its office stands in 南原町, on the road towards 奥野町.
            host = kyu.loc[kyu["kyushicho_name"] == "南原町"].geometry.iloc[0]
            spot = shapely.shortest_line(host.centroid, row.geometry).interpolate(0.2,
                                                                                 normalized=True)
            spot = spot if host.contains(spot) else host.point_on_surface()
        else:
            spot = _point_in(row.geometry.centroid.buffer(600).intersection(row.geometry), rng)
        add("hokatsu", f"{town}地域包括支援センター", spot, schedule="常設",
            operator="社会福祉協議会", responsible=row["kyushicho_code"])
    estate = frame[frame["gyoseiku_name"] == "若葉台団地"]
    add("fukushi_plaza", "若葉台ふくしプラザ", _point_in(estate.geometry.union_all(), rng),
        schedule="常設", host="空き店舗（スーパー隣）", operator="社会福祉協議会")
    chiku = frame.dissolve("chiku_code", as_index=False)
    for i, row in chiku.iterrows():
        core = row.geometry.centroid.buffer(800).intersection(row.geometry)
        core = core if not core.is_empty else row.geometry
        if i % 7 != 3:  # 25 of 29 地区
            add("chiku_kyoten", f"{row['chiku_name']}コミュニティセンター", _point_in(core, rng),
                schedule="常設", operator=f"{row['chiku_name']}まちづくり協議会")
        if i % 3 != 2:
            add("kominkan", f"{row['chiku_name'].removesuffix('地区')}公民館", _point_in(core, rng))
    halls = list(rng.choice(no_salon, size=min(70, len(no_salon)), replace=False))
    others = [c for c in gyoseiku.groups if c not in set(no_salon)]
    halls += list(rng.choice(others, size=50, replace=False))
    for code in sorted(halls):
        group = gyoseiku.get_group(code)
        add("shukaijo", f"{group['gyoseiku_name'].iloc[0]}集会所",
            _point_in(group.geometry.iloc[int(rng.integers(len(group)))], rng), "candidate")
    for code in sorted(rng.choice(no_salon, size=3, replace=False)):
        group = gyoseiku.get_group(code)
        add("ibasho", f"{group['gyoseiku_name'].iloc[0]}みんなの居場所（計画）",
            _point_in(group.geometry.union_all(), rng), "planned", schedule="週2回")
    table = gpd.GeoDataFrame(rows, geometry="geometry", crs=frame.crs).to_crs(6668)
    out = pd.DataFrame({
        "type": table["type"], "name": table["name"],
        "lon": table.geometry.x.round(7), "lat": table.geometry.y.round(7),
        "status": table["status"], "schedule": table.get("schedule"),
        "host": table.get("host"), "operator": table.get("operator"),
        "responsible": table.get("responsible"),
    })
    return out


def write_people(frame: gpd.GeoDataFrame, folder: Path, seed: int) -> None:
    """Write demo_population.csv (cp932) and demo_hubs.csv (UTF-8 with BOM)."""
    rng = np.random.default_rng(seed + 1)
    pop = population(frame, rng)
    pop.to_csv(folder / "demo_population.csv", index=False, encoding="cp932",
               lineterminator="\r\n")
    hub = hubs(frame, rng)
    hub.to_csv(folder / "demo_hubs.csv", index=False, encoding="utf-8-sig", lineterminator="\r\n")
    print(f"wrote {len(pop)} population rows ({pop['総数'].sum():,} residents) and "
          f"{len(hub)} hubs: {hub['type'].value_counts().to_dict()}")
