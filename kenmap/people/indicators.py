"""Indicators beyond age: any per-area table (一人暮らし高齢者, 要介護認定者, 高齢者のみ世帯,
民生委員, 高年クラブ …), and the figures derived from the age bands.

An indicator is a **count** (summed upward like population; with ``per`` its rate is
recomputed from the sums: 一人暮らし高齢者 ÷ 65歳以上) or a **published rate** (a percentage
the source gives; rates cannot be summed, so it is shown on its own layer only, and says so).
Each carries its label, unit, source and base date in the workspace metadata.

Derived figures, where the age bands allow them: 15–64 (``pop15_64``), the support ratio
(``support_ratio``: 15–64 ÷ 65+, 「高齢者１人を支える人数」) and persons per household
(``persons_per_household``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kenmap.errors import KenmapError
from kenmap.geo.vector_io import ROW
from kenmap.geo.where import filter_rows
from kenmap.layers.hierarchy import filled_layers
from kenmap.model.dates import require_iso
from kenmap.model.report import Report, listing
from kenmap.people.join import join_rows
from kenmap.people.population import read_people_table
from kenmap.people.stats import code_map, layer_counts, source_layer
from kenmap.people.tables import table_name
from kenmap.workspace import Workspace

#: Metadata key: {indicator key: what was imported}.
INDICATORS = "indicators"
#: What a count indicator can be divided by (``--per``), as the stats fields name them.
DENOMINATORS = {"population": "人口", "pop65": "65歳以上", "pop75": "75歳以上",
                "households": "世帯数"}
#: Figures derived from the age bands and households.
DERIVED = {"pop15_64": "15～64歳", "support_ratio": "高齢者1人を支える15～64歳の人数",
           "persons_per_household": "1世帯あたり人数"}
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_WORKING_BANDS = [f"age_{a}_{a + 4}" for a in range(15, 65, 5)]
#: Cells that mean "suppressed or unknown" in published tables (kept as missing, counted).
_SUPPRESSED = {"x", "X", "*", "…", "...", "秘匿", "－", "‐"}


def indicator_table(key: str) -> str:
    """The workspace table holding indicator ``key``'s values."""
    return f"indicator_{key}"


def _number(value: object, path: Path, row: int, field: str) -> float:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return float("nan")
    text = str(value).strip().replace(",", "").rstrip("%％")
    if text in ("", "nan"):
        return float("nan")
    if text == "-":
        return 0.0
    if text in _SUPPRESSED:
        return float("nan")
    try:
        number = float(text)
    except ValueError:
        raise KenmapError(f"「{value}」は数ではありません", file=path, row=row,
                          field=field) from None
    if number < 0:
        raise KenmapError(f"負の値 {number:g} は使えません", file=path, row=row, field=field)
    return number


def import_indicator(ws: Workspace, path: str | Path, *, layer: str, key: str, label: str,
                     value_field: str, code_field: str | None = None,
                     name_field: str | None = None, parent_name_field: str | None = None,
                     kind: str = "count", per: str | None = None, unit: str | None = None,
                     source: str | None = None, as_of: str | None = None,
                     encoding: str | None = None, where: str | None = None) -> Report:
    """Join an indicator table to a layer's areas and store it, all-or-nothing."""
    path = Path(path)
    layer_def = ws.scheme.layer(layer)
    if not _KEY.match(key):
        raise KenmapError("指標のキーは英小文字で始まる英小文字・数字・_ にしてください"
                          "（例: hitorigurashi）", field="--key")
    if not label.strip():
        raise KenmapError("指標の名前（--label）が必要です", field="--label")
    if kind not in ("count", "rate"):
        raise KenmapError("--kind は count（人数・件数）か rate（公表された率）にしてください",
                          field="--kind")
    if per is not None and (kind != "count" or per not in DENOMINATORS):
        raise KenmapError(f"--per は人数の指標にだけ、{', '.join(DENOMINATORS)} のどれかで指定"
                          "してください", field="--per")
    if (code_field is None) == (name_field is None):
        raise KenmapError("--code-field と --name-field のどちらか一方だけを指定してください")
    require_iso(as_of)
    if len(ws.read_attributes(layer)) == 0:
        raise KenmapError(f"区域レイヤ {layer}（{layer_def.label}）にまだ区域がありません",
                          field="--layer")
    table = read_people_table(path, encoding)
    if where:
        table = filter_rows(table, where).reset_index(drop=True)
    for option, column in (("--value-field", value_field), ("--code-field", code_field),
                           ("--name-field", name_field),
                           ("--parent-name-field", parent_name_field)):
        if column is not None and column not in table.columns:
            raise KenmapError(f"列「{column}」がありません（列: "
                              f"{listing([str(c) for c in table.columns if c != ROW], 8)}）",
                              file=path, field=option)
    joined = join_rows(ws, table, layer, path, code_field=code_field, name_field=name_field,
                       parent_name_field=parent_name_field)
    matched = joined.codes.notna().to_numpy()
    values = np.array([_number(v, path, int(r), value_field)
                       for v, r in zip(table[value_field], table[ROW])])
    if kind == "rate" and np.nanmax(values, initial=0) > 100:
        row = int(table[ROW].iloc[int(np.nanargmax(values))])
        raise KenmapError("率（%）が100を超えています（人数なら --kind count）", file=path,
                          row=row, field=value_field)
    stored = pd.DataFrame({"code": joined.codes[matched].to_numpy(), "value": values[matched]})
    unmatched = ~matched & ~joined.total_rows
    suppressed = int(np.isnan(values[matched]).sum())
    info: dict[str, Any] = {"label": label.strip(), "layer": layer, "kind": kind, "per": per,
                            "unit": unit or ("%" if kind == "rate" else "人"),
                            "source": source or path.name, "as_of": as_of, "file": path.name,
                            "matched_rows": int(matched.sum()),
                            "unmatched_rows": int(unmatched.sum()), "suppressed": suppressed}
    report = Report(f"指標「{info['label']}」: {len(table)}行のうち{int(matched.sum())}行を"
                    f"{layer_def.label}（{layer}）に結合")
    report.notes.extend(joined.notes)
    if joined.total_rows.any():
        report.notes.append(f"合計・小計の{int(joined.total_rows.sum())}行を飛ばしました")
    if unmatched.any():
        labels = [f"{r}行目 {table.loc[i, code_field or name_field]}"
                  for i, r in zip(np.flatnonzero(unmatched), table.loc[unmatched, ROW])]
        report.warnings.append(f"{int(unmatched.sum())}行がどの区域にも一致しません: "
                               f"{listing(labels, 10)}")
    if suppressed:
        report.notes.append(f"秘匿・空欄の{suppressed}区域は0ではなく不明として扱います")
    without = int(len(ws.read_attributes(layer)) - matched.sum())
    if without > 0:
        report.warnings.append(f"{layer_def.label}の{without}区域に値がありません（不明）")
    with ws.transaction() as tx:
        tx.write_table(indicator_table(key), stored)
        kept = dict(tx.get(INDICATORS, {}) or {})
        kept[key] = info
        tx.put(INDICATORS, kept)
        tx.record("import indicator", key=key, layer=layer, file=str(path))
    report.facts.update({"key": key, **info})
    return report


def indicator_info(ws: Workspace, key: str, option: str = "--fields") -> dict[str, Any]:
    """What was imported for indicator ``key``; refused naming the ones there are (as an
    error of ``option``)."""
    kept = ws.get(INDICATORS, {}) or {}
    if key not in kept:
        there = "、".join(f"{k}（{v['label']}）" for k, v in kept.items()) or "なし"
        raise KenmapError(f"指標「{key}」はありません（取り込まれている指標: {there}）",
                          field=option)
    return dict(kept[key])


def indicator_figures(ws: Workspace, layer: str, key: str) -> tuple[pd.DataFrame, str | None]:
    """Indicator ``key`` per area of ``layer`` (index: code): ``{key}`` (the count, summed
    upward, or the published rate) and, for a count with a denominator, ``{key}_rate`` (%).
    Also a note when the figure cannot be given on this layer (NaN then, never 0)."""
    info = indicator_info(ws, key)
    codes = ws.read_attributes(layer, ["code"])["code"]
    out = pd.DataFrame(index=pd.Index(codes, name="code"))
    own = info["layer"]
    keys = filled_layers(ws)
    note = None
    values = ws.read_table(indicator_table(key))
    if info["kind"] == "rate":
        if layer == own:
            out[key] = values.set_index("code")["value"].reindex(codes).to_numpy()
        else:
            out[key] = np.nan
            note = (f"{info['label']}は公表された率で合計できないため、"
                    f"{ws.scheme.layer(own).label}でのみ示します")
        return out, note
    if own not in keys or layer not in keys or keys.index(layer) > keys.index(own):
        out[key] = np.nan
        if info.get("per"):
            out[f"{key}_rate"] = np.nan
        if layer in ws.scheme.overlays:  # a count per 行政区 is not split across borders
            return out, (f"{info['label']}は{ws.scheme.layer(own).label}ごとの値で、入れ子でない"
                         f"{ws.scheme.layer(layer).label}には按分せず示しません")
        return out, (f"{info['label']}は{ws.scheme.layer(own).label}の値なので、それより細かい"
                     f"{ws.scheme.layer(layer).label}では示せません")
    target = values["code"] if layer == own else values["code"].map(code_map(ws, own, layer))
    grouped = values.assign(target=target.to_numpy()).groupby("target")["value"]
    out[key] = grouped.sum(min_count=1).reindex(codes).to_numpy()
    # Areas of the indicator's layer with no value (suppressed, or no row): the sum leaves
    # them out, and says how many.
    areas = ws.read_attributes(own, ["code"])["code"]
    own_target = areas if layer == own else areas.map(code_map(ws, own, layer))
    known = set(values.loc[values["value"].notna(), "code"])
    unknown = pd.Series(~areas.isin(known).to_numpy()).groupby(own_target.to_numpy()).sum()
    unknown = unknown.reindex(codes).fillna(0).astype(int)
    if unknown.any():
        out[f"{key}_unknown"] = unknown.to_numpy()
    per = info.get("per")
    if per:
        # Rate from sums over the areas whose value is known: an unknown area's people are
        # left out of the denominator too, so the rate is not lowered by it.
        own_counts = layer_counts(ws, own).reindex(areas)[per]
        denominator = own_counts.where(areas.isin(known).to_numpy())
        below = pd.Series(denominator.to_numpy()).groupby(own_target.to_numpy()).sum(min_count=1)
        below = below.reindex(codes).to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = out[key].to_numpy() / below * 100
        out[f"{key}_rate"] = np.where(below > 0, rate, np.nan)
    return out, note


def derived_figures(ws: Workspace, layer: str) -> pd.DataFrame:
    """15–64, the support ratio and persons per household per area of ``layer`` (index:
    code); NaN where the bands or households are not there."""
    codes = ws.read_attributes(layer, ["code"])["code"]
    counts = layer_counts(ws, layer).reindex(codes)
    out = pd.DataFrame(index=pd.Index(codes, name="code"))
    source = source_layer(ws, layer)
    working = pd.Series(np.nan, index=out.index)
    if source is not None:
        pop = ws.read_table(table_name(source))
        if all(c in pop.columns for c in _WORKING_BANDS):
            target = pop["code"] if source == layer else \
                pop["code"].map(code_map(ws, source, layer))
            summed = pop[_WORKING_BANDS].sum(axis=1, min_count=len(_WORKING_BANDS))
            working = summed.groupby(target.to_numpy()).sum(min_count=1).reindex(codes)
            working.index = out.index
    out["pop15_64"] = working.to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["support_ratio"] = np.where(counts["pop65"].to_numpy() > 0,
                                        working.to_numpy() / counts["pop65"].to_numpy(), np.nan)
        out["persons_per_household"] = np.where(
            counts["households"].to_numpy() > 0,
            counts["population"].to_numpy() / counts["households"].to_numpy(), np.nan)
    return out


def extra_figures(ws: Workspace, layer: str, fields: list[str]
                  ) -> tuple[pd.DataFrame, list[str]]:
    """The ``stats --fields`` columns per area of ``layer``: derived figures and indicators
    (an indicator with a denominator brings its rate too), with notes on what cannot be
    shown here."""
    codes = ws.read_attributes(layer, ["code"])["code"]
    out = pd.DataFrame(index=pd.Index(codes, name="code"))
    notes: list[str] = []
    derived = None
    for name in fields:
        if name in DERIVED:
            derived = derived if derived is not None else derived_figures(ws, layer)
            out[name] = derived[name].to_numpy()
            continue
        figures, note = indicator_figures(ws, layer, name)
        for column in figures.columns:
            out[column] = figures[column].to_numpy()
        if note:
            notes.append(note)
    return out, notes


def field_label(ws: Workspace, name: str) -> str:
    """The Japanese heading of an extra field."""
    if name in DERIVED:
        return DERIVED[name]
    base = name.removesuffix("_rate").removesuffix("_unknown")
    info = (ws.get(INDICATORS, {}) or {}).get(base)
    if info is None:
        return name
    if name.endswith("_unknown"):
        return f"{info['label']}の不明区域数（合計に含まず）"
    if name.endswith("_rate"):
        return f"{info['label']}率（÷{DENOMINATORS[info['per']]}）"
    return str(info["label"])
