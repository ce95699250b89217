"""Activities done in an area, not at a point: 支え愛マップづくり in a 集落, a 見守り会議 set up in
a 行政区 — in a given fiscal year, done or not (or how many times).

The 実施率 of an activity is the share of the areas of its layer that did it that year; on a
coarser layer, the share among each area's children; for the city, among all of them. Areas
with no row for that year count as not done (the import reports how many there are).
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kenmap.errors import KenmapError
from kenmap.geo.vector_io import ROW
from kenmap.layers.hierarchy import filled_layers
from kenmap.model.report import Report, listing
from kenmap.people.join import join_rows
from kenmap.people.population import read_people_table
from kenmap.people.stats import code_map
from kenmap.workspace import Workspace

ACTIVITIES = "activities"
_DONE = {"○", "◯", "〇", "済", "実施", "実施済", "有", "あり", "はい", "1", "true", "yes", "done"}
_NOT = {"×", "✕", "未", "未実施", "無", "なし", "いいえ", "0", "false", "no", "", "nan", "-"}
_FIELDS = {"activity": ("activity", "活動", "取組", "取り組み", "活動名"),
           "year": ("year", "年度"),
           "value": ("done", "実施", "実施状況", "回数", "count", "value")}


def _pick(table: pd.DataFrame, given: str | None, kind: str, option: str, path: Path
          ) -> str | None:
    if given is not None:
        if given not in table.columns:
            raise KenmapError(f"列「{given}」がありません", file=path, field=option)
        return given
    return next((c for c in table.columns if str(c).strip() in _FIELDS[kind]), None)


def _value(value: object, path: Path, row: int, field: str) -> float:
    text = unicodedata.normalize("NFKC", str(value)).strip().lower()
    if text in _DONE:
        return 1.0
    if text in _NOT:
        return 0.0
    try:
        number = float(text)
    except ValueError:
        raise KenmapError(f"「{value}」は実施の有無（○/×、済/未、1/0）か回数ではありません",
                          file=path, row=row, field=field) from None
    if number < 0:
        raise KenmapError(f"負の回数 {number:g} は使えません", file=path, row=row, field=field)
    return number


def import_activities(ws: Workspace, path: str | Path, *, layer: str,
                      code_field: str | None = None, name_field: str | None = None,
                      parent_name_field: str | None = None, activity: str | None = None,
                      activity_field: str | None = None, year: int | None = None,
                      year_field: str | None = None, value_field: str | None = None,
                      encoding: str | None = None) -> Report:
    """Import activity records (area, activity, fiscal year, done or a count), replacing the
    earlier records of the same activities and years; all-or-nothing."""
    path = Path(path)
    layer_def = ws.scheme.layer(layer)
    if (code_field is None) == (name_field is None):
        raise KenmapError("--code-field と --name-field のどちらか一方だけを指定してください")
    if len(ws.read_attributes(layer)) == 0:
        raise KenmapError(f"区域レイヤ {layer}（{layer_def.label}）にまだ区域がありません",
                          field="--layer")
    table = read_people_table(path, encoding)
    activity_col = _pick(table, activity_field, "activity", "--activity-field", path)
    year_col = _pick(table, year_field, "year", "--year-field", path)
    value_col = _pick(table, value_field, "value", "--value-field", path)
    if activity_col is None and activity is None:
        raise KenmapError("活動の列（活動・取組）がありません。--activity-field か --activity で"
                          "指定してください", file=path, field="--activity-field")
    if year_col is None and year is None:
        raise KenmapError("年度の列がありません。--year-field か --year で指定してください",
                          file=path, field="--year-field")
    for option, column in (("--code-field", code_field), ("--name-field", name_field)):
        if column is not None and column not in table.columns:
            raise KenmapError(f"列「{column}」がありません", file=path, field=option)
    joined = join_rows(ws, table, layer, path, code_field=code_field, name_field=name_field,
                       parent_name_field=parent_name_field, one_row_per_area=False)
    rows = table[ROW].astype(int).to_numpy()
    names = table[activity_col].astype(str).str.strip() if activity_col else \
        pd.Series(activity, index=table.index)
    if (names.isin(["", "nan"])).any():
        i = int(np.flatnonzero(names.isin(["", "nan"]).to_numpy())[0])
        raise KenmapError("活動の名前が空です", file=path, row=int(rows[i]),
                          field=str(activity_col))
    years = []
    for value, row in zip(table[year_col] if year_col else [year] * len(table), rows):
        text = unicodedata.normalize("NFKC", str(value)).replace("年度", "").strip()
        era = {"R": 2018, "令和": 2018, "H": 1988, "平成": 1988}
        prefix = next((p for p in era if text.startswith(p)), None)
        try:
            years.append(era[prefix] + int(text[len(prefix):].replace("元", "1")) if prefix
                         else int(float(text)))
        except ValueError:
            raise KenmapError(f"年度「{value}」が分かりません（2025、R7、令和7年度）", file=path,
                              row=int(row), field=str(year_col or "--year")) from None
    values = [(_value(v, path, int(r), str(value_col)) if value_col else 1.0)
              for v, r in zip(table[value_col] if value_col else [None] * len(table), rows)]
    matched = joined.codes.notna().to_numpy()
    stored = pd.DataFrame({"code": joined.codes[matched].to_numpy(),
                           "activity": names[matched].to_numpy(),
                           "year": np.array(years)[matched], "value": np.array(values)[matched]})
    dup = stored.duplicated(["code", "activity", "year"], keep=False)
    if dup.any():
        first = stored[dup].iloc[0]
        raise KenmapError(f"区域 {first['code']} の「{first['activity']}」{first['year']}年度が"
                          "2行あります", file=path)
    unmatched = ~matched & ~joined.total_rows
    report = Report(f"活動: {len(table)}行のうち{int(matched.sum())}行を{layer_def.label}"
                    f"（{layer}）に結合")
    if unmatched.any():
        report.warnings.append(f"{int(unmatched.sum())}行がどの区域にも一致しません: "
                               + listing([f"{r}行目" for r in rows[unmatched]], 10))
    with ws.transaction() as tx:
        old = tx.read_table(ACTIVITIES) if ACTIVITIES in tx.tables() else pd.DataFrame()
        if len(old):
            keys = set(zip(stored["activity"], stored["year"]))
            old = old[[(a, int(y)) not in keys for a, y in zip(old["activity"], old["year"])]]
        combined = pd.concat([old, stored.assign(layer=layer)], ignore_index=True)
        tx.write_table(ACTIVITIES, combined[["code", "layer", "activity", "year", "value"]])
        kept = dict(tx.get(ACTIVITIES, {}) or {})
        for name in sorted(set(stored["activity"])):
            mine = combined[combined["activity"] == name]
            kept[name] = {"layer": layer, "years": sorted({int(y) for y in mine["year"]}),
                          "file": path.name}
        tx.put(ACTIVITIES, kept)
        tx.record("import activities", layer=layer, file=str(path), rows=int(matched.sum()))
    for name in sorted(set(stored["activity"])):
        done = stored[(stored["activity"] == name) & (stored["value"] > 0)]
        report.notes.append(f"{name}: " + "、".join(
            f"{y}年度 {int((done['year'] == y).sum())}区域" for y in sorted(set(stored["year"]))))
    return report


def activity_share(ws: Workspace, name: str, year: int, layer: str | None
                   ) -> tuple[pd.Series, dict[str, Any]]:
    """The 実施率 (%) of activity ``name`` in fiscal ``year`` per area of ``layer`` (among the
    activity layer's areas inside it), or for the city when ``layer`` is None (index None)."""
    kept = ws.get(ACTIVITIES, {}) or {}
    if name not in kept:
        there = "、".join(kept) or "なし"
        raise KenmapError(f"活動「{name}」の記録がありません（取り込まれている活動: {there}）",
                          field="指標")
    info = kept[name]
    own = info["layer"]
    records = ws.read_table(ACTIVITIES)
    mine = records[(records["activity"] == name) & (records["year"].astype(int) == year)]
    done = set(mine.loc[mine["value"] > 0, "code"])
    areas = ws.read_attributes(own, ["code"])["code"]
    flags = areas.isin(done).astype(float) * 100
    if layer is None:
        return pd.Series([float(flags.mean()) if len(flags) else float("nan")], index=[None]), \
            info
    keys = filled_layers(ws)
    if layer not in keys or keys.index(layer) > keys.index(own):
        raise KenmapError(f"「{name}」は{ws.scheme.layer(own).label}の記録なので、それより細かい"
                          "レイヤでは示せません", field="範囲")
    target = areas if layer == own else areas.map(code_map(ws, own, layer))
    share = pd.Series(flags.to_numpy()).groupby(target.to_numpy()).mean()
    codes = ws.read_attributes(layer, ["code"])["code"]
    return share.reindex(codes), info


def activity_summary(ws: Workspace) -> list[dict[str, Any]]:
    """Each activity's 実施率 in its latest fiscal year: areas done of all areas of its layer."""
    out = []
    for name, info in (ws.get(ACTIVITIES, {}) or {}).items():
        year = max(info["years"])
        share, _ = activity_share(ws, name, year, None)
        areas = len(ws.read_attributes(info["layer"]))
        out.append({"activity": name, "layer": info["layer"], "year": year,
                    "areas": areas, "done": round(float(share.iloc[0]) * areas / 100),
                    "share": float(share.iloc[0])})
    return out

