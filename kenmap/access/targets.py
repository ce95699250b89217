"""Plan targets (KPI) against actuals, with grades: what a committee reviews every year.

A targets table has one row per item: 項目, 指標, 範囲, 年度, 基準値, 目標値 and optionally the
grading thresholds. Indicators:

* ``hubs:TYPE`` (拠点数:サロン) — hubs of a type open at the fiscal year's end;
* ``coverage:TYPE:LAYER[:RADIUS]`` (充足率) — the share of the layer's areas that do not lack
  one (by membership, or with ``RADIUS`` walking metres by the 65+ reached);
* ``indicator:KEY`` (指標:KEY) — an imported indicator (its rate where it has a denominator);
* ``activity:NAME`` (実施率:NAME) — the share of areas that did an activity that fiscal year.

範囲 is ``city`` (市全体) or a layer, for one row per area. Actuals come from the workspace as
of the fiscal year's end (31 March of the next year): the population snapshot of that date and
the hubs open then. Achievement is the share of the way from baseline to target (a target below
its baseline is a reduction); the grade follows 南部町's rule by default — A 目標をすべて達成
(≥ 100 %), B 概ね達成 (≥ 80 %), C 一部達成 (> 0 %), D 未着手 — with thresholds a row can set.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from kenmap.access.gaps import gap_table
from kenmap.errors import KenmapError
from kenmap.geo.table_io import read_table
from kenmap.geo.vector_io import ROW
from kenmap.hubs.table import counting, read_hubs
from kenmap.layers.hierarchy import filled_layers
from kenmap.layers.locate import area_column
from kenmap.model.catalogue import catalogue_of
from kenmap.people.snapshots import SNAPSHOTS, as_of
from kenmap.workspace import Workspace

#: Default thresholds (achievement %): A at least, B at least, C above.
GRADES = {"A": 100.0, "B": 80.0, "C": 0.0}
GRADE_TEXT = {"A": "目標をすべて達成", "B": "概ね達成", "C": "一部達成", "D": "未着手"}
#: Accepted headers of the targets table.
COLUMNS = {
    "item": ("item", "項目", "取組", "施策"),
    "indicator": ("indicator", "指標"),
    "scope": ("scope", "範囲", "対象"),
    "year": ("year", "年度"),
    "baseline": ("baseline", "基準値", "現状値", "現状"),
    "target": ("target", "目標値", "目標"),
    "grade_a": ("grade_a", "評価A", "A"),
    "grade_b": ("grade_b", "評価B", "B"),
    "grade_c": ("grade_c", "評価C", "C"),
}
FIELDS = ["item", "indicator", "scope", "area_code", "year", "baseline", "target", "actual",
          "achievement", "grade"]


@dataclass
class Target:
    """One row of the targets table."""

    row: int
    item: str
    indicator: str
    scope: str
    year: int
    baseline: float
    target: float
    thresholds: dict[str, float]


def achievement(baseline: float, target: float, actual: float) -> float | None:
    """The share (%) of the way from ``baseline`` to ``target`` that ``actual`` has come;
    None when unknown. A target equal to its baseline is met (100) or not (0)."""
    if any(v is None or (isinstance(v, float) and math.isnan(v))
           for v in (baseline, target, actual)):
        return None
    if target == baseline:
        return 100.0 if actual >= target else 0.0
    return (actual - baseline) / (target - baseline) * 100


def grade(value: float | None, thresholds: dict[str, float] | None = None) -> str | None:
    """A, B, C or D for an achievement (%) under ``thresholds``; None when unknown."""
    if value is None:
        return None
    t = thresholds or GRADES
    if value >= t["A"]:
        return "A"
    if value >= t["B"]:
        return "B"
    if value > t["C"]:
        return "C"
    return "D"


def _cell(row: Any, column: Any, default: float | None, path: Path, line: int) -> float:
    value = row[column] if column is not None else None
    if value is None or (isinstance(value, float) and math.isnan(value)) or \
            str(value).strip() == "":
        if default is not None:
            return default
        raise KenmapError("値がありません", file=path, row=line, field=str(column))
    try:
        return float(str(value).replace(",", "").rstrip("%％"))
    except ValueError:
        raise KenmapError(f"「{value}」は数ではありません", file=path, row=line,
                          field=str(column)) from None


def read_targets(path: Path) -> list[Target]:
    """The targets table (CSV/XLSX, Japanese headers accepted), checked row by row."""
    table = read_table(path, encoding=None)
    found: dict[str, Any] = {}
    for key, names in COLUMNS.items():
        found[key] = next((c for c in table.columns if str(c).strip() in names), None)
    for key in ("item", "indicator", "year", "baseline", "target"):
        if found[key] is None:
            raise KenmapError(f"目標の表に列「{COLUMNS[key][1]}」（{key}）がありません", file=path)
    out = []
    for i, row in table.iterrows():
        line = int(row[ROW]) if ROW in table.columns else int(str(i)) + 2

        def number(key: str, default: float | None = None, row: Any = row,
                   line: int = line) -> float:
            return _cell(row, found[key], default, path, line)
        year = number("year")
        thresholds = {"A": number("grade_a", GRADES["A"]), "B": number("grade_b", GRADES["B"]),
                      "C": number("grade_c", GRADES["C"])}
        if not thresholds["A"] >= thresholds["B"] >= thresholds["C"]:
            raise KenmapError("評価の基準は A ≥ B ≥ C にしてください", file=path, row=line,
                              field=str(found["grade_a"]))
        scope = str(row[found["scope"]]).strip() if found["scope"] is not None else "city"
        out.append(Target(line, str(row[found["item"]]).strip(),
                          str(row[found["indicator"]]).strip(),
                          "city" if scope in ("", "nan", "市全体", "全市", "市") else scope,
                          int(year), number("baseline"), number("target"), thresholds))
    if not out:
        raise KenmapError("目標の表に行がありません", file=path)
    return out


def at_year_end(ws: Workspace, year: int) -> tuple[Workspace, str]:
    """The workspace at the end of fiscal ``year`` (31 March of the next year), and a note
    when no population snapshot is dated by then (today's figures, hubs as of that date)."""
    end = f"{year + 1}-03-31"
    if any(d <= end for dates in (ws.get(SNAPSHOTS, {}) or {}).values() for d in dates):
        return as_of(ws, end), ""
    return ws.viewed({}, {"viewed_as_of": end}), \
        f"{year}年度末より前の基準日の人口がないため、人口は今の値です（拠点は {end} 時点）"


def _parse(ws: Workspace, target: Target, path: Path) -> tuple[str, list[str]]:
    parts = [p.strip() for p in target.indicator.replace("：", ":").split(":")]
    kind = {"拠点数": "hubs", "充足率": "coverage", "指標": "indicator",
            "実施率": "activity", "活動": "activity"}.get(parts[0], parts[0])
    catalogue = catalogue_of(ws.get("hub_types"))
    try:
        if kind == "hubs" and len(parts) == 2:
            return kind, [catalogue.key_of(parts[1], "指標")]
        if kind == "coverage" and len(parts) in (3, 4):
            layer = ws.scheme.key_of(parts[2], "指標")
            radius = [str(float(parts[3]))] if len(parts) == 4 else []
            return kind, [catalogue.key_of(parts[1], "指標"), layer, *radius]
        if kind == "indicator" and len(parts) == 2:
            from kenmap.people.indicators import indicator_info

            indicator_info(ws, parts[1])
            return kind, [parts[1]]
        if kind == "activity" and len(parts) == 2:
            from kenmap.people.activities import ACTIVITIES

            if parts[1] not in (ws.get(ACTIVITIES, {}) or {}):
                there = "、".join(ws.get(ACTIVITIES, {}) or {}) or "なし"
                raise KenmapError(f"活動「{parts[1]}」の記録がありません（取り込まれている活動: "
                                  f"{there}）")
            return kind, [parts[1]]
    except KenmapError as exc:
        raise KenmapError(exc.message, file=path, row=target.row, field="指標") from None
    except ValueError:
        pass
    raise KenmapError(f"指標「{target.indicator}」の形が分かりません（hubs:種類、"
                      "coverage:種類:レイヤ[:半径]、indicator:キー、activity:活動 のいずれか）",
                      file=path, row=target.row, field="指標")


def _actuals(ws: Workspace, kind: str, args: list[str], layer: str | None, year: int
             ) -> pd.Series:
    """The actual value per area code of ``layer`` (or one value for the city, code None)."""
    top = filled_layers(ws)[0]
    where = layer or top
    codes = ws.read_attributes(where, ["code"])["code"]
    if kind == "hubs":
        hubs = counting(read_hubs(ws), ws)
        hubs = hubs[hubs["type"] == args[0]] if len(hubs) else hubs
        if layer is None:
            return pd.Series([float(len(hubs))], index=[None])
        column = area_column(layer)
        counts = hubs[column].value_counts() if len(hubs) and column in hubs.columns else {}
        return pd.Series([float(counts.get(c, 0)) for c in codes], index=codes)
    if kind == "coverage":
        table = gap_table(ws, layer=args[1], hub_type=args[0],
                          radius=float(args[2]) if len(args) > 2 else None)
        if layer is None:
            return pd.Series([100 * (1 - float(table["lacking"].mean()))], index=[None])
        if layer != args[1]:
            raise KenmapError("充足率の範囲は市全体か、指標と同じレイヤにしてください",
                              field="範囲")
        ok = (~table["lacking"].astype(bool)).astype(float) * 100
        return pd.Series(ok.to_numpy(), index=table["code"].to_numpy())
    if kind == "activity":
        from kenmap.people.activities import activity_share

        return activity_share(ws, args[0], year, layer)[0]
    from kenmap.people.indicators import indicator_figures, indicator_info

    info = indicator_info(ws, args[0])
    column = f"{args[0]}_rate" if info.get("per") else args[0]
    figures, note = indicator_figures(ws, where, args[0])
    if figures[column].isna().all() and note:
        raise KenmapError(note, field="範囲")
    return figures[column]


def progress(ws: Workspace, path: Path, year: int | None = None
             ) -> tuple[list[dict[str, Any]], list[str]]:
    """Every target row of fiscal ``year`` (all years when None) against its actual, with
    achievement and grade; one row per area where the scope is a layer. Also notes."""
    targets = read_targets(path)
    chosen = [t for t in targets if year is None or t.year == year]
    if not chosen:
        years = "、".join(sorted({str(t.year) for t in targets}))
        raise KenmapError(f"{year}年度の目標がありません（表にある年度: {years}）",
                          file=path, field="--year")
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    for target in chosen:
        kind, args = _parse(ws, target, path)
        layer = None
        if target.scope != "city":
            try:
                layer = ws.scheme.key_of(target.scope, "範囲")
            except KenmapError as exc:
                raise KenmapError(exc.message, file=path, row=target.row, field="範囲") from None
        view, note = at_year_end(ws, target.year)
        if note and note not in notes:
            notes.append(note)
        try:
            actual = _actuals(view, kind, args, layer, target.year)
        except KenmapError as exc:
            raise KenmapError(exc.message, file=path, row=target.row,
                              field=exc.field or "指標") from None
        names = dict(zip(*[ws.read_attributes(layer)[c] for c in ("code", "name")])) \
            if layer else {}
        for code, value in actual.items():
            number = None if value is None or pd.isna(value) else float(value)
            done = achievement(target.baseline, target.target,
                               number if number is not None else float("nan"))
            rows.append({"item": target.item, "indicator": target.indicator,
                         "scope": target.scope, "area_code": code,
                         "area_name": names.get(code), "year": target.year,
                         "baseline": target.baseline, "target": target.target,
                         "actual": number, "achievement": done,
                         "grade": grade(done, target.thresholds)})
    return rows, notes
