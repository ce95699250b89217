"""``kenmap project``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from kenmap.cli.options import TextFormat, WsArg, emit, layer_key


def project(
    workspace: WsArg,
    to: Annotated[int, typer.Option(help="Project to this year (5-year steps from the base).")],
    step: Annotated[int, typer.Option(help="Keep a snapshot every this many years.")] = 5,
    official: Annotated[Optional[Path], typer.Option(
        help="CSV/XLSX of an official projection (年, 総人口, 65歳以上): each year's city "
             "total and 65+ are matched to it.")] = None,
    layer: Annotated[Optional[str], typer.Option(
        help="Layer to project (default: the finest with population).")] = None,
    format: TextFormat = "text",
) -> None:
    """Project every area's population by cohort change ratios (コーホート変化率法) and keep
    each year as a snapshot marked 推計 (stats/gaps/coverage --as-of YEAR)."""
    from kenmap.people.projection import project as run
    from kenmap.workspace import Workspace

    ws = Workspace.open(workspace)
    report = run(ws, to=to, step=step, official=official, layer=layer_key(ws, layer))
    lines = report.lines()
    for year in report.facts.get("years", []):
        rate = 100 * year["pop65"] / year["total"] if year["total"] else float("nan")
        lines.append(f"  {year['as_of']}: 人口 {year['total']:,.0f}、65歳以上 "
                     f"{year['pop65']:,.0f}（{rate:.1f}%）"
                     + ("、公式推計に合わせた値" if year["scaled"] else ""))
    emit(report.to_dict(), lines, format)
