"""Joining a table's rows to a layer's areas, by code or by normalised name within a parent,
the same way for population and for indicator tables: total and subtotal rows are recognised
(never counted as unmatched), a row matching two areas is ambiguous, two rows for one area are
refused."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from kenmap.errors import KenmapError
from kenmap.geo.vector_io import ROW
from kenmap.layers.areas import code_text
from kenmap.layers.hierarchy import filled_layers
from kenmap.layers.names import normalise_name
from kenmap.model.report import listing
from kenmap.people import estat_tables
from kenmap.workspace import Workspace

#: Names of total rows in municipal tables (skipped, never counted as unmatched).
TOTAL_ROW_NAMES = {"総数", "合計", "計", "総計", "全市", "市計", "全体", "市全体", "全域", "区計",
                   "市内全域", "市全域", "市内", "全市計", "町計", "村計", "町全体", "村全体",
                   "全町", "全村", "町内全域"}


@dataclass
class Joined:
    """Each row's area code (None when it matches none), total rows, ambiguous rows."""

    codes: pd.Series
    total_rows: np.ndarray
    ambiguous: np.ndarray
    notes: list[str] = field(default_factory=list)


def area_keys(ws: Workspace, layer: str, with_parent: bool) -> dict[tuple[str, str], list[str]]:
    """(normalised ancestor name or '', normalised name) → codes of the layer's areas."""
    areas = ws.read_attributes(layer)
    keys: dict[tuple[str, str], list[str]] = {}
    ancestors: list[list[str]] = [[] for _ in range(len(areas))]
    if with_parent:
        codes = areas["parent_code"].tolist()
        keys_order = filled_layers(ws)
        for upper in reversed(keys_order[: keys_order.index(layer)]):
            frame = ws.read_attributes(upper)
            names = dict(zip(frame["code"], frame["name"]))
            parents = dict(zip(frame["code"], frame["parent_code"]))
            for i, code in enumerate(codes):
                if code in names:
                    ancestors[i].append(normalise_name(names[code]))
            codes = [parents.get(c) for c in codes]
    for i, (code, name) in enumerate(zip(areas["code"], areas["name"])):
        for anc in ancestors[i] if with_parent else [""]:
            keys.setdefault((anc, normalise_name(name)), []).append(code)
    return keys


def upper_names(ws: Workspace, layer: str) -> set[str]:
    keys_order = filled_layers(ws)
    names: set[str] = set()
    for upper in keys_order[: keys_order.index(layer)] if layer in keys_order else []:
        names |= {normalise_name(n) for n in ws.read_attributes(upper)["name"]}
    return names



def join_rows(ws: Workspace, table: pd.DataFrame, layer: str, path: Path, *,
              code_field: str | None, name_field: str | None,
              parent_name_field: str | None = None, is_census: bool = False,
              one_row_per_area: bool = True) -> Joined:
    """Match every row of ``table`` to an area of ``layer``; refused when none matches or
    (with ``one_row_per_area``) two rows match one area, naming the rows."""
    layer_def = ws.scheme.layer(layer)
    areas = ws.read_attributes(layer)
    key_field = code_field or name_field
    assert key_field is not None
    notes: list[str] = []
    total_row = np.zeros(len(table), dtype=bool)
    if code_field:
        keys = code_text(table[code_field])
        valid = set(areas["code"])
        matched_code = keys.where(keys.isin(valid))
        upper_codes = {c for k in filled_layers(ws) if k != layer
                       for c in ws.read_attributes(k)["code"]}
        total_row = (~keys.isin(valid) & keys.isin(upper_codes)).to_numpy()
        ambiguous = np.zeros(len(table), dtype=bool)
        if is_census:  # HYOSYO says which rows are the city and parents' subtotals
            city, subtotal = estat_tables.level_rows(table, keys.isin(valid).to_numpy(), keys)
            total_row = total_row | city | subtotal
            notes.append(f"e-Stat 小地域集計の表: 市全体の合計 {int(city.sum())}行と小計 "
                         f"{int((subtotal & ~city).sum())}行（HYOSYO）を飛ばしました（未照合ではあ"
                         "りません）")
            notes.extend(estat_tables.suppression_notes(table, code_field))
    else:
        assert name_field is not None
        lookup = area_keys(ws, layer, parent_name_field is not None)
        names = table[name_field].map(normalise_name)
        parents = (table[parent_name_field].map(normalise_name) if parent_name_field
                   else pd.Series("", index=table.index))
        hits = [lookup.get((p, n), []) for p, n in zip(parents, names)]
        matched_code = pd.Series([h[0] if len(h) == 1 else None for h in hits],
                                 index=table.index, dtype=object)
        ambiguous = np.array([len(h) > 1 for h in hits])
        uppers = upper_names(ws, layer)
        totalish = names.isin(TOTAL_ROW_NAMES) | names.isin(uppers) | names.eq(parents) | \
            names.str.endswith("計")
        total_row = (matched_code.isna() & totalish).to_numpy()
    if matched_code.notna().sum() == 0:
        sample_file = listing([str(v) for v in table[key_field].head(3)], 3)
        sample_ws = listing([str(v) for v in (areas["code"] if code_field else areas["name"])
                             .head(3)], 3)
        raise KenmapError(f"{layer_def.label}（{layer}）の区域に一致する行がありません: ファイルに"
                          "は "
                          f"{sample_file}、レイヤには {sample_ws}", file=path,
                          field=key_field)
    dup = matched_code.notna() & matched_code.duplicated(keep=False)
    if one_row_per_area and dup.any():
        code = matched_code[dup].iloc[0]
        rows = table.loc[dup & matched_code.eq(code), ROW].tolist()
        raise KenmapError(f"{', '.join(map(str, rows))}行目がすべて区域 {code} に一致します。"
                          "1つの区域に対応する行は1行だけです",
                          file=path, row=int(rows[-1]), field=key_field)
    return Joined(matched_code, total_row, ambiguous, notes)
