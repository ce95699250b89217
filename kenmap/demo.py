"""The synthetic demo city: its workspace built from the data shipped with kenmap."""

from __future__ import annotations

from pathlib import Path

from kenmap.errors import KenmapError
from kenmap.hubs.imports import import_hubs
from kenmap.layers.areas import import_areas
from kenmap.layers.derive import derive_layer
from kenmap.model.scheme import PRESETS
from kenmap.people.population import import_population
from kenmap.workspace import Workspace

#: The embedded demo data, beside the package in the repository.
SHAPES = Path(__file__).resolve().parent.parent / "data" / "shapes"
DEMO_CITY = SHAPES / "demo_city.geojson"
DEMO_POPULATION = SHAPES / "demo_population.csv"
DEMO_HUBS = SHAPES / "demo_hubs.csv"
CITY_CODE = "28999"
CITY_NAME = "デモ市（架空）"


def build_demo_workspace(path: Path) -> Workspace:
    """Create the demo workspace at ``path`` (replacing an earlier demo workspace)."""
    if not DEMO_CITY.exists():
        raise KenmapError("デモ用のデータがありません。python data/shapes/generate_demo.py を実行し"
                          "てください",
                          file=DEMO_CITY)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    ws = Workspace.create(path, PRESETS["toyooka"], "toyooka")
    import_areas(ws, [DEMO_CITY], layer="tonarikinjo", code_field="tonarikinjo_code",
                 name_field="tonarikinjo_name")
    for upper, lower in (("gyoseiku", "tonarikinjo"), ("chiku", "gyoseiku"),
                         ("kyushicho", "chiku")):
        derive_layer(ws, layer=upper, from_layer=lower, by_field=f"{upper}_code",
                     name_field=f"{upper}_name")
    derive_layer(ws, layer="shi", from_layer="kyushicho", single=CITY_NAME, code=CITY_CODE)
    import_population(ws, DEMO_POPULATION, layer="tonarikinjo", code_field="隣近所コード",
                      as_of="2025-10-01", source="デモ市 住民基本台帳（架空）")
    import_hubs(ws, DEMO_HUBS, type_field="type", name_field="name", lon_field="lon",
                lat_field="lat")
    return ws
