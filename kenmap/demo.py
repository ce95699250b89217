"""``kenmap demo``: build the synthetic demo city's workspace and run everything on it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kenmap.errors import KenmapError
from kenmap.gaps_output import render_coverage
from kenmap.layers.areas import import_areas
from kenmap.layers.derive import derive_layer
from kenmap.layers.gaps import coverage
from kenmap.layers.hubs import import_hubs
from kenmap.layers.population import import_population
from kenmap.layers.scheme import PRESETS
from kenmap.layers.validate import validate
from kenmap.maps.page import MapOptions
from kenmap.maps.pages import write_all_pages
from kenmap.stats_output import render_stats
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
        raise KenmapError("demo data missing; run python data/shapes/generate_demo.py",
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


def run_demo(out: Path, *, serve: bool, echo: Callable[[str], None], host: str = "127.0.0.1",
             port: int = 8000) -> Path:
    """Build, compute and report on the demo city; returns the workspace path."""
    path = out / "demo.gpkg"
    echo(f"Building the demo city {CITY_NAME} (SYNTHETIC data, not a real place) at {path}")
    ws = build_demo_workspace(path)
    result = validate(ws)
    for key, info in result["layers"].items():
        echo(f"  {info['label']} ({key}): {info['count']} areas")
    echo("  validate: " + ("OK, every layer tiles and nests" if result["ok"] else
                           f"{len(result['errors'])} error(s)"))
    echo("")
    echo(render_stats(ws, "kyushicho", "table"))
    echo(render_coverage(ws, coverage(ws), "table"))
    pages = write_all_pages(ws, MapOptions(), out / "maps")
    echo(f"Map pages (offline, one per layer): {pages['index']}")
    for page in pages["pages"]:
        echo(f"  {page['file']}  {page['areas']} areas, {page['bytes'] / 1e6:.2f} MB")
    if serve:
        from kenmap.api.server import run_server

        run_server(path, host=host, port=port, echo=echo)
    return path
