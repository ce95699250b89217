"""``kenmap progress``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from kenmap.cli.options import DataFormat, OutFile, WsArg, output


def progress(
    workspace: WsArg,
    targets: Annotated[Path, typer.Option(
        help="Targets table (CSV/XLSX): 項目, 指標, 範囲, 年度, 基準値, 目標値 [, 評価A/B/C].")],
    year: Annotated[Optional[int], typer.Option(help="Fiscal year 年度 (default: every row).")
                    ] = None,
    format: DataFormat = "table",
    out: OutFile = None,
) -> None:
    """Targets against actuals at each fiscal year's end: 目標 / 実績 / 達成率 / 評価."""
    from kenmap.access.targets import progress as run
    from kenmap.render.progress import render_progress
    from kenmap.workspace import Workspace

    rows, notes = run(Workspace.open(workspace), targets, year)
    output(render_progress(rows, notes, format), out, bom=format == "csv")
