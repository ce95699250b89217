"""``kenmap stats``."""

from __future__ import annotations

from typing import Annotated, Literal, Optional

import typer

from kenmap.cli.options import (
    AsOf,
    DataFormat,
    OutFile,
    WsArg,
    at_date,
    chosen_layer,
    output,
)


def stats(
    workspace: WsArg,
    layer: Annotated[Optional[str], typer.Option(
        help="Layer key or label (default: the layer above the finest).")] = None,
    format: DataFormat = "table",
    rate_base: Annotated[Literal["total", "known"], typer.Option(
        help="高齢化率 = 65+ ÷ the total including unknown age (total, the census's own "
             "total) or ÷ the people of known age (known).")] = "total",
    out: OutFile = None,
    as_of: AsOf = None,
    fields: Annotated[Optional[str], typer.Option(
        help="Extra fields, comma-separated: pop15_64, support_ratio, persons_per_household "
             "and imported indicator keys.")] = None,
    compare: Annotated[Optional[str], typer.Option(
        help="Compare with the population as of this earlier date: each figure then, now "
             "and the change (高齢化率 in points).")] = None,
) -> None:
    """Population, 65+, 75+, households, aging rates, area and hubs of every area."""
    from kenmap.render.stats import render_compare, render_stats
    from kenmap.workspace import Workspace

    opened = Workspace.open(workspace)
    ws = at_date(opened, as_of)
    key = chosen_layer(ws, layer)
    if compare is None:
        extra = [f.strip() for f in fields.split(",") if f.strip()] if fields else None
        text = render_stats(ws, key, format, rate_base, extra)
    else:
        from kenmap.people.snapshots import as_of as view_at

        then = view_at(opened, compare, "--compare")
        now_label = as_of or "最新"
        text = render_compare(ws, then, key, format, rate_base, now_label, compare)
    output(text, out, bom=format == "csv")
