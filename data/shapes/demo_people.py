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
            operator="社会福祉協議会",  # its town, and its 包括圏域 (which cuts across 旧市町)
            responsible=row["kyushicho_code"] + ", " + frame.loc[
                frame["kyushicho_code"] == row["kyushicho_code"], "hokatsu_code"].mode().iloc[0])
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


#: Cohort change ratios 2020→2025 by the band reached in 2025 (5–9 … 100+): young adults
#: leave for the cities, a few return with children, the old die.
CHANGE = np.array([0.98, 0.99, 0.93, 0.62, 0.86, 1.02, 1.01, 1.0, 0.99, 0.99, 0.98, 0.97,
                   0.96, 0.94, 0.91, 0.86, 0.77, 0.62, 0.45, 0.28])


def population_five_years_before(pop: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The same 隣近所 five years earlier (2020), as the change ratios above would leave them:
    each 2020 cohort is the 2025 band above it ÷ its ratio, with noise; households scaled."""
    cells = pop[BANDS].replace({"-": 0})
    suppressed = cells.eq("X").any(axis=1).to_numpy()
    later = cells.mask(cells.eq("X"), 0).astype(int).to_numpy()
    earlier = np.zeros_like(later)
    earlier[:, :-1] = np.round(later[:, 1:] / CHANGE * rng.normal(1, 0.04, later[:, 1:].shape))
    earlier = np.maximum(earlier, 0)
    totals = earlier.sum(axis=1)
    table = pd.DataFrame({"隣近所コード": pop["隣近所コード"], "隣近所名": pop["隣近所名"],
                          "世帯数": np.maximum(np.round(pop["世帯数"].to_numpy() * totals
                                                     / np.maximum(later.sum(axis=1), 1)),
                                            np.minimum(totals, 1)).astype(int),
                          "総数": totals})
    out = pd.DataFrame(earlier, columns=BANDS).astype(object)
    out[out == 0] = "-"
    out.iloc[np.flatnonzero(suppressed)] = "X"
    table.loc[suppressed, "総数"] = pop.loc[suppressed, "総数"].to_numpy()
    return pd.concat([table.reset_index(drop=True), out], axis=1)


def indicators(frame: gpd.GeoDataFrame, pop: pd.DataFrame, rng: np.random.Generator
               ) -> pd.DataFrame:
    """Per 行政区: 一人暮らし高齢者 and 要介護認定者 (counts of the 65+), 民生委員 (people)."""
    cells = pop[BANDS].replace({"-": 0}).mask(pop[BANDS].eq("X"), 0).astype(int)
    old = cells[BANDS[13:]].sum(axis=1).to_numpy()
    by = pd.DataFrame({"code": frame["gyoseiku_code"].to_numpy(),
                       "name": frame["gyoseiku_name"].to_numpy(), "old": old})
    grouped = by.groupby("code", sort=True).agg(name=("name", "first"), old=("old", "sum"))
    alone_rate = np.clip(rng.normal(0.2, 0.05, len(grouped)), 0.05, 0.45)
    care_rate = np.clip(rng.normal(0.18, 0.03, len(grouped)), 0.08, 0.3)
    return pd.DataFrame({
        "行政区コード": grouped.index, "行政区名": grouped["name"].to_numpy(),
        "一人暮らし高齢者": rng.binomial(grouped["old"].to_numpy(), alone_rate),
        "要介護認定者": rng.binomial(grouped["old"].to_numpy(), care_rate),
        "民生委員": np.maximum(1, np.round(grouped["old"].to_numpy() / 120)).astype(int)})


def opening_dates(hub: pd.DataFrame, rng: np.random.Generator) -> pd.Series:
    """開設日 of the existing hubs: サロン opened over the last ten years (83 of them since
    2021), centres long before; planned and candidate hubs have none."""
    dates = []
    for kind, status in zip(hub["type"], hub["status"]):
        if status != "existing":
            dates.append("")
        elif kind == "salon":
            year = int(rng.choice(np.arange(2012, 2026), p=np.r_[np.full(9, 0.7 / 9),
                                                                  np.full(5, 0.3 / 5)]))
            dates.append(f"{year}-{int(rng.integers(4, 13)):02d}-01")
        else:
            dates.append(f"{int(rng.integers(1995, 2012))}-04-01")
    return pd.Series(dates, index=hub.index)


def activities(frame: gpd.GeoDataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """支え愛マップづくり per 行政区 in fiscal 2024 and 2025 (○ done, × not): about a
    third had done it by 2024, and some more in 2025."""
    codes = sorted(frame["gyoseiku_code"].unique())
    done2024 = rng.uniform(size=len(codes)) < 0.3
    done2025 = done2024 | (rng.uniform(size=len(codes)) < 0.15)
    rows = [{"行政区コード": c, "活動": "支え愛マップづくり", "年度": year,
             "実施": "○" if flag else "×"}
            for year, flags in ((2024, done2024), (2025, done2025))
            for c, flag in zip(codes, flags)]
    return pd.DataFrame(rows)


def write_people(frame: gpd.GeoDataFrame, folder: Path, seed: int) -> None:
    """Write demo_population.csv and demo_population_2020.csv (cp932), demo_hubs.csv (UTF-8
    with BOM) and demo_indicators.csv (UTF-8)."""
    rng = np.random.default_rng(seed + 1)
    pop = population(frame, rng)
    pop.to_csv(folder / "demo_population.csv", index=False, encoding="cp932",
               lineterminator="\r\n")
    hub = hubs(frame, rng)
    more = np.random.default_rng(seed + 2)  # a stream of its own: the files above stay as they were
    hub["開設日"] = opening_dates(hub, more)
    hub.to_csv(folder / "demo_hubs.csv", index=False, encoding="utf-8-sig", lineterminator="\r\n")
    population_five_years_before(pop, more).to_csv(
        folder / "demo_population_2020.csv", index=False, encoding="cp932",
        lineterminator="\r\n")
    indicators(frame, pop, more).to_csv(folder / "demo_indicators.csv", index=False,
                                        encoding="utf-8", lineterminator="\n")
    activities(frame, np.random.default_rng(seed + 3)).to_csv(
        folder / "demo_activities.csv", index=False, encoding="utf-8", lineterminator="\n")
    print(f"wrote {len(pop)} population rows ({pop['総数'].sum():,} residents) and "
          f"{len(hub)} hubs: {hub['type'].value_counts().to_dict()}")
