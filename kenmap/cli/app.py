"""The ``kenmap`` command group: every command registered on one Typer app.

Each command lives in its own module and knows nothing of the app (no module imports this one
back), in the style of rasterio's ``rio``; this module only assembles them.
"""

from __future__ import annotations

import os
import re
import sys
import warnings
from collections.abc import Callable
from typing import Any

import typer

from kenmap.cli import (
    coverage,
    demo,
    derive,
    gaps,
    imports,
    init,
    map,
    profile,
    progress,
    project,
    report,
    serve,
    site,
    stats,
    types,
    users,
    validate,
)
from kenmap.errors import KenmapError

HELP = "kenmap: 圏域 layers, hubs, aging rates and coverage for community-welfare planning."
GROUPS = {"import": "Import areas, hubs, population or grids into a workspace.",
          "types": "The hub type catalogue.",
          "users": "Who may sign in to the workbench of a served workspace."}
#: Every command: (group or None, name, function), in the order ``--help`` lists them.
COMMANDS: list[tuple[str | None, str, Callable[..., Any]]] = [
    (None, "init", init.init),
    (None, "derive", derive.derive),
    (None, "derive-neighbourhoods", derive.derive_neighbourhoods_cmd),
    (None, "validate", validate.validate),
    (None, "stats", stats.stats),
    (None, "gaps", gaps.gaps),
    (None, "coverage", coverage.coverage),
    (None, "site", site.site),
    (None, "project", project.project),
    (None, "progress", progress.progress),
    (None, "profile", profile.profile),
    (None, "report", report.report),
    (None, "map", map.map_cmd),
    (None, "serve", serve.serve),
    (None, "demo", demo.demo),
    ("import", "areas", imports.import_areas_cmd),
    ("import", "population", imports.import_population_cmd),
    ("import", "hubs", imports.import_hubs_cmd),
    ("import", "indicator", imports.import_indicator_cmd),
    ("import", "activities", imports.import_activities_cmd),
    ("import", "raster", imports.import_raster_cmd),
    ("import", "mesh", imports.import_mesh_cmd),
    ("import", "network", imports.import_network_cmd),
    ("import", "terrain", imports.import_terrain_cmd),
    ("types", "list", types.types_list),
    ("types", "add", types.types_add),
    ("types", "set", types.types_set),
    ("types", "load", types.types_load),
    ("users", "add", users.users_add),
    ("users", "list", users.users_list),
    ("users", "remove", users.users_remove),
    ("users", "passwd", users.users_passwd),
]


def build(argv: list[str] | None = None) -> typer.Typer:
    """The Typer app; given the arguments, only the command they name is built (building all
    twenty costs a noticeable part of a second on every call)."""
    wanted: tuple[str | None, str] | None = None
    if argv:
        head = argv[0]
        names = {name for group, name, _ in COMMANDS if group is None}
        if head in names:
            wanted = (None, head)
        elif head in GROUPS and len(argv) > 1 and not argv[1].startswith("-"):
            wanted = (head, argv[1])
    root = typer.Typer(help=HELP, no_args_is_help=True, pretty_exceptions_enable=False,
                       add_completion=False)
    groups = {key: typer.Typer(help=text, no_args_is_help=True) for key, text in GROUPS.items()}
    for group, name, function in COMMANDS:
        if wanted is not None and wanted != (group, name):
            continue
        (groups[group] if group else root).command(name)(function)
    for key, sub in groups.items():
        if wanted is None or wanted[0] == key:
            root.add_typer(sub, name=key)
    if wanted is not None:
        @root.callback()
        def _group() -> None:
            """Keep ``kenmap COMMAND`` a subcommand when only one command is built."""
    return root


#: The whole app (for ``--help``, documentation and tests).
app = build()


def _keep_caches() -> None:
    """After a command succeeded: store derived results (demand cells) for the next one."""
    from kenmap.workspace import store_all_kept

    store_all_kept()


#: The command-line library's usage errors, said in Japanese (the option or value is kept).
_USAGE = [
    (re.compile(r"^Invalid value for '([^']+)': (?:Value error, )?'(.*)' is not one of (.*?)\.?$"),
     "{0} の値「{1}」は使えません（使える値: {2}）"),
    (re.compile(r"^Invalid value for '([^']+)': Input should be a valid (number|integer).*$"),
     "{0} には数を指定してください"),
    (re.compile(r"^Invalid value for '([^']+)': (.*)$"), "{0} の値が正しくありません（{1}）"),
    (re.compile(r"^No such option: (\S+?)\.?(?: Did you mean (\S+?)\??)?$"),
     "{0} というオプションはありません"),
    (re.compile(r"^Missing argument '([^']+)'\.?$"), "引数 {0} がありません"),
    (re.compile(r"^Missing option '([^']+)'\.?$"), "オプション {0} を指定してください"),
    (re.compile(r"^No such command '([^']+)'\.?$"), "{0} というコマンドはありません"),
    (re.compile(r"^Option '([^']+)' requires an argument\.?$"), "{0} には値が必要です"),
    (re.compile(r"^Got unexpected extra arguments? \((.*)\)$"), "余分な引数があります（{0}）"),
]


def _usage_in_japanese(message: str) -> str:
    """A usage error of the command-line library in Japanese (unchanged if unknown)."""
    for pattern, template in _USAGE:
        match = pattern.match(message)
        if match:
            return template.format(*(g or "" for g in match.groups()))
    return message


def main() -> None:
    """Entry point: one clear line and a non-zero exit for every user error.

    Usage errors (an unknown option, a ``--format`` that is not one of the choices) are one
    line too, like every other error, and are reported before any work is done.
    """
    if not os.environ.get("KENMAP_DEBUG"):
        warnings.simplefilter("ignore")  # library warnings are for developers, not users
    try:
        argv = sys.argv[1:]
        code = build(argv)(argv, standalone_mode=False, prog_name="kenmap")
    except typer.TyperException as exc:
        if type(exc).__name__ == "NoArgsIsHelpError" or not hasattr(exc, "format_message"):
            show = getattr(exc, "show", None)
            if show is not None:
                show()
            sys.exit(int(getattr(exc, "exit_code", 2)))
        message = _usage_in_japanese(" ".join(str(exc.format_message()).split()))
        typer.echo(f"kenmap: エラー: {message}（'kenmap --help' を参照）", err=True)
        sys.exit(2)
    except typer.Abort:
        typer.echo("kenmap: 中止しました", err=True)
        sys.exit(1)
    except KenmapError as exc:
        typer.echo(f"kenmap: エラー: {exc}", err=True)
        sys.exit(2)
    except Exception as exc:
        if os.environ.get("KENMAP_DEBUG"):
            raise
        typer.echo(f"kenmap: 内部エラー: {type(exc).__name__}: {exc}"
                   "（詳細は KENMAP_DEBUG=1 を設定して確認）", err=True)
        sys.exit(1)
    if isinstance(code, int) and code != 0:
        sys.exit(code)
    _keep_caches()
