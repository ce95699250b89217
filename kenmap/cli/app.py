"""The ``kenmap`` command group: every command registered on one Typer app.

Each command lives in its own module and knows nothing of the app (no module imports this one
back), in the style of rasterio's ``rio``; this module only assembles them.
"""

from __future__ import annotations

import os
import sys

import typer

from kenmap.cli import (
    coverage,
    demo,
    derive,
    gaps,
    imports,
    init,
    map,
    serve,
    site,
    stats,
    types,
    validate,
)
from kenmap.errors import KenmapError

app = typer.Typer(
    help="kenmap: 圏域 layers, hubs, aging rates and coverage for community-welfare planning.",
    no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
import_app = typer.Typer(help="Import areas, hubs, population or grids into a workspace.",
                         no_args_is_help=True)
types_app = typer.Typer(help="The hub type catalogue.", no_args_is_help=True)
app.add_typer(import_app, name="import")
app.add_typer(types_app, name="types")

app.command()(init.init)
import_app.command("areas")(imports.import_areas_cmd)
app.command()(derive.derive)
app.command()(validate.validate)
app.command()(gaps.gaps)
app.command()(coverage.coverage)
import_app.command("raster")(imports.import_raster_cmd)
import_app.command("mesh")(imports.import_mesh_cmd)
app.command("derive-neighbourhoods")(derive.derive_neighbourhoods_cmd)
import_app.command("population")(imports.import_population_cmd)
import_app.command("hubs")(imports.import_hubs_cmd)
types_app.command("list")(types.types_list)
types_app.command("add")(types.types_add)
types_app.command("set")(types.types_set)
types_app.command("load")(types.types_load)
app.command()(stats.stats)
app.command("map")(map.map_cmd)
app.command()(site.site)
app.command()(serve.serve)
app.command()(demo.demo)


def main() -> None:
    """Entry point: one clear line and a non-zero exit for every user error."""
    try:
        app()  # usage errors, --help and typer.Exit end here as SystemExit
    except KenmapError as exc:
        typer.echo(f"kenmap: error: {exc}", err=True)
        sys.exit(2)
    except Exception as exc:
        if os.environ.get("KENMAP_DEBUG"):
            raise
        typer.echo(f"kenmap: internal error: {type(exc).__name__}: {exc} "
                   "(set KENMAP_DEBUG=1 for details)", err=True)
        sys.exit(1)
