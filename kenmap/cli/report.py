"""``kenmap report``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kenmap.cli.options import WsArg


def report(
    workspace: WsArg,
    targets: Annotated[Path, typer.Option(help="Targets table (see kenmap progress).")],
    year: Annotated[int, typer.Option(help="Fiscal year 年度 reviewed.")],
    pdf: Annotated[Path, typer.Option(help="The report to write (A4 landscape PDF).")],
) -> None:
    """The committee's yearly report: grades, one page per item with its map, figures."""
    from kenmap.maps.report import write_report
    from kenmap.workspace import Workspace

    result = write_report(Workspace.open(workspace), targets, year, pdf)
    grades = "、".join(f"{g} {n}件" for g, n in result["grades"].items())
    typer.echo(f"書き出しました: {result['pdf']}（{result['pages']} ページ、項目 "
               f"{result['items']}、評価 {grades}）")
