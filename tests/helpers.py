"""Small hand-made workspaces for unit tests."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
from shapely.geometry import box

from kenmap.model.scheme import Layer, Scheme
from kenmap.workspace import Workspace

SCHEME = Scheme("test", (Layer("shi", "市", 1), Layer("ku", "区"), Layer("cho", "町丁")))


def frame(rows: list[tuple[str, str, str | None, object]], crs: int = 6673) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": [r[0] for r in rows], "name": [r[1] for r in rows],
         "parent_code": [r[2] for r in rows]},
        geometry=[r[3] for r in rows], crs=crs)


def ward_city(tmp_path: Path) -> Workspace:
    """市 (1) ⊃ 2 区 ⊃ 4 町丁, 1 km squares near 鳥取 in zone V.

    中央区: 本町1丁目 (0–1 km), 本町2丁目 (1–2 km); 東区: 本町1丁目 (2–3 km), 新田 (3–4 km) —
    the same 町丁 name in two wards, as real 条丁目 tables have.
    """
    x0, y0 = -60_000.0, -80_000.0

    def sq(i: int) -> object:
        return box(x0 + i * 1000, y0, x0 + (i + 1) * 1000, y0 + 1000)

    ws = Workspace.create(tmp_path / "city.gpkg", SCHEME)
    with ws.transaction() as tx:
        tx.set_crs(6673)
        tx.write_layer("shi", frame([("31999", "テスト市", None,
                                      box(x0, y0, x0 + 4000, y0 + 1000))]))
        tx.write_layer("ku", frame([("1", "中央区", "31999", box(x0, y0, x0 + 2000, y0 + 1000)),
                                    ("2", "東区", "31999",
                                     box(x0 + 2000, y0, x0 + 4000, y0 + 1000))]))
        tx.write_layer("cho", frame([("101", "本町一丁目", "1", sq(0)),
                                     ("102", "本町二丁目", "1", sq(1)),
                                     ("201", "本町一丁目", "2", sq(2)),
                                     ("202", "新田", "2", sq(3))]))
    return ws
