"""Stats and gaps for the people who open them in Excel: Japanese headings, CSV or XLSX.

The rows are those of ``kenmap stats --format csv`` and ``kenmap gaps --format csv`` (the same
figures, unrounded), under Japanese headings, with the hubs of each area as one count column
per hub type. CSV is UTF-8 with a BOM (Excel reads it as UTF-8 only then) and CRLF lines;
XLSX holds numbers as numbers with a display format, text always as text (a name beginning
with ``=`` is never a formula), and leaves a figure that is not known blank — never 0.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from kenmap.access.gaps import GAP_FIELDS
from kenmap.layers.hierarchy import parent_layer
from kenmap.model.catalogue import catalogue_of
from kenmap.people.stats import RATE_BASES, layer_stats
from kenmap.render.csv_excel import excel_csv
from kenmap.render.gaps import gap_records
from kenmap.render.sources import source_lines
from kenmap.render.stats import stats_frame
from kenmap.workspace import Workspace

BOM = "\ufeff"
#: Headings of the stats columns (``parent_code`` is named after the parent layer).
STAT_HEADINGS = {
    "code": "コード", "name": "名称", "parent_code": "上位区域のコード", "population": "人口",
    "pop65": "65歳以上", "pop75": "75歳以上", "households": "世帯数",
    "aging_rate": "高齢化率（%）", "late_aging_rate": "後期高齢化率（%）",
    "area_km2": "面積（km²）", "missing": "秘匿・不明の件数"}
#: Headings of the gaps columns.
GAP_HEADINGS = {
    "code": "コード", "name": "名称", "hub_type": "拠点の種類", "lacking": "不足",
    "reason": "理由", "hubs_inside": "区域内の拠点数", "pop65": "65歳以上",
    "pop65_reached": "圏内の65歳以上", "reach_rate": "圏内率（%）",
    "nearest_hub_m": "最寄りの拠点まで（m）"}
#: Excel display formats by column (the stored value stays exact).
_FORMATS = {"population": "#,##0", "pop65": "#,##0", "pop75": "#,##0", "households": "#,##0",
            "aging_rate": "0.0", "late_aging_rate": "0.0", "area_km2": "0.00",
            "missing": "0", "hubs_inside": "0", "pop65_reached": "#,##0",
            "reach_rate": "0.0", "nearest_hub_m": "#,##0"}
_HUB_PREFIX = "hubs:"


@dataclass
class Table:
    """Rows for Excel: ``frame`` keyed by field names, the Japanese ``headings`` in the same
    order, a sheet title and the notes that travel with the figures."""

    frame: pd.DataFrame
    headings: list[str]
    title: str
    notes: list[str] = field(default_factory=list)

    def to_csv(self) -> bytes:
        """UTF-8 with BOM, CRLF lines, Japanese headings, unknown figures empty."""
        frame = self.frame.copy()
        frame.columns = self.headings
        return (BOM + excel_csv(frame)).encode("utf-8")

    def to_xlsx(self) -> bytes:
        """One sheet of rows (a bold heading row, frozen) and one of notes."""
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        book = Workbook(write_only=True)
        sheet = book.create_sheet(_sheet_title(self.title))
        sheet.freeze_panes = "A2"
        for i, heading in enumerate(self.headings, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = max(10, 2 * len(heading) + 2)
        bold = Font(bold=True)
        head = []
        for heading in self.headings:
            cell = WriteOnlyCell(sheet, value=heading)
            cell.font = bold
            head.append(cell)
        sheet.append(head)
        columns = list(self.frame.columns)
        for row in self.frame.itertuples(index=False, name=None):
            sheet.append([_cell(sheet, value, _FORMATS.get(column, "0" if column.startswith(
                _HUB_PREFIX) else None)) for column, value in zip(columns, row)])
        notes = book.create_sheet("注記")
        for line in [self.title, *self.notes, f"作成 {date.today().isoformat()}　kenmap"]:
            notes.append([_cell(notes, line, None)])
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()


def _cell(sheet: Any, value: Any, number_format: str | None) -> Any:
    """A cell: a number with its format, text forced to be text, blank when unknown."""
    from openpyxl.cell import WriteOnlyCell

    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return WriteOnlyCell(sheet, value=None)
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, bool):
        return WriteOnlyCell(sheet, value="はい" if value else "いいえ")
    if isinstance(value, (int, float)):
        cell = WriteOnlyCell(sheet, value=value)
        if number_format:
            cell.number_format = number_format
        return cell
    cell = WriteOnlyCell(sheet, value=str(value))
    cell.data_type = "s"  # openpyxl would store "=…" as a formula
    return cell


def _sheet_title(title: str) -> str:
    """A valid sheet name: at most 31 characters, none of []:*?/\\."""
    cleaned = "".join("_" if c in "[]:*?/\\" else c for c in title)
    return cleaned[:31] or "Sheet"


def _hub_columns(ws: Workspace, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """``hubs`` (a mapping per area) as one count column per hub type present, in the
    catalogue's order; 0 where an area has none (a count of hubs is always known)."""
    catalogue = catalogue_of(ws.get("hub_types"))
    present = {key for mapping in frame["hubs"] for key in (mapping or {})}
    keys = [k for k in catalogue.types if k in present] + sorted(present - set(catalogue.types))
    hubs = frame.pop("hubs")
    headings = []
    for key in keys:
        frame[_HUB_PREFIX + key] = [int((mapping or {}).get(key, 0)) for mapping in hubs]
        label = catalogue.types[key].label if key in catalogue.types else key
        headings.append(f"拠点数（{label}）")
    return frame, headings


def stats_table(ws: Workspace, layer: str, rate_base: str = "total") -> Table:
    """The rows of ``kenmap stats --format csv`` for ``layer``, for Excel."""
    frame = stats_frame(layer_stats(ws, layer, rate_base))
    label = ws.scheme.layer(layer).label
    upper = parent_layer(ws, layer)
    headings = {**STAT_HEADINGS}
    if upper is not None:
        headings["parent_code"] = f"{ws.scheme.layer(upper).label}のコード"
    hubs_at = list(frame.columns).index("hubs")
    frame, hub_headings = _hub_columns(ws, frame)
    names = [headings[c] for c in frame.columns if not c.startswith(_HUB_PREFIX)]
    # The hub columns stay where ``hubs`` was, before ``missing``.
    order = [c for c in frame.columns if not c.startswith(_HUB_PREFIX)]
    hub_cols = [c for c in frame.columns if c.startswith(_HUB_PREFIX)]
    frame = frame[order[:hubs_at] + hub_cols + order[hubs_at:]]
    names = names[:hubs_at] + hub_headings + names[hubs_at:]
    viewed = ws.get("viewed_as_of")
    notes = [f"{label}（{layer}） {len(frame)} 区域", RATE_BASES[rate_base],
             "空欄は不明（秘匿・未登録）で、0 ではありません", *source_lines(ws)]
    if viewed:
        notes.append(f"人口は {viewed} 時点")
    return Table(frame, names, f"{label}の統計", notes)


def gaps_table(ws: Workspace, table: pd.DataFrame) -> Table:
    """The rows of ``kenmap gaps --format csv`` (a :func:`~kenmap.access.gaps.gap_table`),
    for Excel: the hub type by its label, ``lacking`` as はい/いいえ."""
    attrs = table.attrs
    frame = pd.DataFrame(gap_records(table), columns=GAP_FIELDS)
    catalogue = catalogue_of(ws.get("hub_types"))
    frame["hub_type"] = [catalogue.types[t].label if t in catalogue.types else t
                         for t in frame["hub_type"]]
    frame["lacking"] = [None if v is None else "はい" if v else "いいえ"
                        for v in frame["lacking"]]
    layer = attrs["layer"]
    label = ws.scheme.layer(layer).label
    type_label = frame["hub_type"].iloc[0] if len(frame) else ""
    how = (f"徒歩{attrs['radius_m']:.0f}m圏（直線距離×迂回係数{attrs['detour']}）、"
           f"65歳以上の{attrs['min_reach']:.0f}%未満を不足" if attrs.get("radius_m") else
           f"{label}内の{type_label}の有無（担当区域を含む）")
    lacking = int(table["lacking"].sum())
    notes = [f"{type_label}の不足する{label}: {lacking} / {len(frame)}",
             how + ("、計画中を含む" if attrs.get("with_planned") else ""),
             "空欄は不明（人口が未登録など）で、0 ではありません", *source_lines(ws)]
    return Table(frame, [GAP_HEADINGS[c] for c in GAP_FIELDS],
                 f"{type_label}の不足する{label}", notes)
