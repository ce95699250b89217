"""Deriving an upper layer by dissolving a lower one (by field, mapping table or into one)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from kenmap.errors import KenmapError
from kenmap.geo.table_io import read_table
from kenmap.layers.areas import code_text
from kenmap.layers.hierarchy import (
    DEFAULT_TOLERANCE,
    child_layer,
    link_by_location,
    parent_layer,
    relink_children,
)
from kenmap.layers.locate import relocate_points
from kenmap.model.report import Report, listing
from kenmap.workspace import Workspace

MAPPING_COLUMNS = ("child_code", "parent_code", "parent_name")


def _mapping(path: Path, children: pd.DataFrame, encoding: str | None) -> pd.DataFrame:
    table = read_table(path, encoding=encoding)
    missing = [c for c in MAPPING_COLUMNS if c not in table.columns]
    if missing:
        raise KenmapError(
            f"対応表には列 {', '.join(MAPPING_COLUMNS)} が必要です。表の列: "
            f"{', '.join(map(str, table.columns))}", file=path, field=missing[0])
    table = table.assign(child_code=code_text(table["child_code"]),
                         parent_code=code_text(table["parent_code"]))
    for col in MAPPING_COLUMNS:
        blank = table[col].isna() | table[col].astype(str).str.strip().eq("")
        if blank.any():
            raise KenmapError("値が空です", file=path, row=int(blank.to_numpy().argmax()) + 2,
                              field=col)
    dup = table["child_code"].duplicated()
    if dup.any():
        raise KenmapError(f"下位コード「{table['child_code'][dup].iloc[0]}」が2回対応付けられていま"
                          "す",
                          file=path, row=int(dup.to_numpy().argmax()) + 2, field="child_code")
    names = table.groupby("parent_code")["parent_name"].nunique()
    if (names > 1).any():
        code = names[names > 1].index[0]
        raise KenmapError(f"上位コード「{code}」に parent_name が複数あります", file=path,
                          field="parent_name")
    unmapped = children.loc[~children["code"].isin(set(table["child_code"]))]
    if len(unmapped):
        labels = [f"{c} {n}" for c, n in zip(unmapped["code"], unmapped["name"])]
        raise KenmapError(f"下位の{len(unmapped)}区域が対応表にありません: "
                          f"{listing(labels)}", file=path, field="child_code")
    return table


def _constant_attributes(children: pd.DataFrame, groups: pd.Series) -> pd.DataFrame:
    """Child attributes that take one value in every group (e.g. a 地区 code on 行政区 rows).

    Carrying them up lets a layer be derived from one derived itself, bottom-up.
    """
    skip = {"code", "name", "parent_code", "child_count", "geometry", "source_file",
            "source_row"}
    cols = [c for c in children.columns if c not in skip]
    if not cols:
        return pd.DataFrame(index=pd.Index([], name="parent_code"))
    frame = pd.DataFrame(children[cols].to_numpy(), columns=cols, index=children.index)
    grouped = frame.groupby(groups.to_numpy(), sort=False)
    constant = [c for c in cols if (grouped[c].nunique(dropna=False) <= 1).all()]
    return grouped[constant].first() if constant else pd.DataFrame(index=grouped.size().index)


def derive_layer(
    ws: Workspace,
    *,
    layer: str,
    from_layer: str,
    by_field: str | None = None,
    name_field: str | None = None,
    mapping: str | Path | None = None,
    single: str | None = None,
    code: str | None = None,
    encoding: str | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
) -> Report:
    """Dissolve ``from_layer`` into ``layer`` and link the children to the new areas."""
    scheme = ws.scheme
    parent_def, child_def = scheme.layer(layer), scheme.layer(from_layer)
    if not child_def.nested:
        raise KenmapError(f"{from_layer}（{child_def.label}）は入れ子でない層です。"
                          "入れ子の層から作ってください", field="--from")
    if parent_def.nested and scheme.index(layer) >= scheme.index(from_layer):
        raise KenmapError(f"この区域体系（{' ⊃ '.join(scheme.keys)}）では {layer}"
                          f"（{parent_def.label}）は "
                          f"{from_layer}（{child_def.label}）の上位ではありません",
                          field="--layer")
    if sum(x is not None for x in (by_field, mapping, single)) != 1:
        raise KenmapError("--by-field, --mapping, --single のどれか1つだけを指定してください")
    children = ws.read_layer(from_layer)
    if len(children) == 0:
        raise KenmapError(f"レイヤ {from_layer}（{child_def.label}）に元になる区域がありません",
                          field="--from")
    report = Report("")
    if by_field is not None:
        for fld in (by_field, name_field):
            if fld is not None and fld not in children.columns:
                fields = [c for c in children.columns if c != "geometry"]
                raise KenmapError(f"{from_layer} にその項目はありません。項目: "
                                  f"{', '.join(fields)}", field=fld)
        keys = code_text(children[by_field])
        if keys.isna().any():
            bad = children.loc[keys.isna()]
            raise KenmapError(f"{child_def.label}の{len(bad)}区域に値がありません: "
                              f"{listing([f'{c} {n}' for c, n in zip(bad['code'], bad['name'])])}",
                              field=by_field)
        names = children[name_field].astype(str) if name_field else keys
        assign = pd.DataFrame({"parent_code": keys, "parent_name": names})
    elif mapping is not None:
        table = _mapping(Path(mapping), children, encoding).set_index("child_code")
        assign = table.loc[children["code"], ["parent_code", "parent_name"]]
        assign.index = children.index
    else:
        assert single is not None
        assign = pd.DataFrame({"parent_code": code or "1", "parent_name": single},
                              index=children.index)
    work = gpd.GeoDataFrame({"parent_code": assign["parent_code"].to_numpy()},
                            geometry=children.geometry.to_numpy(), crs=children.crs)
    # Areas of a layer tile without overlap, so GEOS's coverage union applies; it is much
    # faster than a general union and keeps shared edges exact. Real files are not always
    # noded exactly (edges that cross by a hair): then a general union of the repaired areas,
    # snapped to a millimetre grid, and a note of it.
    try:
        parents = work.dissolve(by="parent_code", method="coverage").reset_index()
    except Exception as exc:  # noqa: BLE001 - GEOSException: 'incorrectly noded inputs'
        import shapely

        snapped = work.copy()
        snapped["geometry"] = shapely.set_precision(
            shapely.make_valid(snapped.geometry.to_numpy()), 0.001)
        parents = snapped.dissolve(by="parent_code", method="unary").reset_index()
        report.notes.append(f"{child_def.label}の区域の境界が正確に接していません"
                            f"（{str(exc).split(':')[-1].strip()[:80]}）。1 mm に丸めてから"
                            "一般的な結合でまとめました")
    parents = parents.rename(columns={"parent_code": "code"})
    first_name = assign.groupby("parent_code", sort=False)["parent_name"].first()
    parents["name"] = parents["code"].map(first_name).astype(str)
    parents["parent_code"] = None
    parents["child_count"] = parents["code"].map(assign["parent_code"].value_counts())
    carried = _constant_attributes(children, assign["parent_code"])
    parents = parents.merge(carried, left_on="code", right_index=True, how="left")
    parents = gpd.GeoDataFrame(
        parents[["code", "name", "parent_code", "child_count", *carried.columns, "geometry"]],
        geometry="geometry", crs=children.crs)
    parents["geometry"] = parents.geometry.buffer(0)  # tidy rings left by the union

    with ws.transaction() as tx:
        upper = parent_layer(tx, layer)
        if upper is not None:
            grand = tx.read_layer(upper)
            codes, warnings = link_by_location(
                parents, grand, child_layer_label=parent_def.label,
                parent_layer_label=scheme.layer(upper).label, tolerance=tolerance)
            parents["parent_code"] = codes
            report.warnings.extend(warnings)
        tx.write_layer(layer, parents)
        if child_layer(tx, layer) == from_layer:
            children = children.copy()
            children["parent_code"] = assign["parent_code"].to_numpy()
            tx.write_layer(from_layer, children)
        else:  # a filled layer lies in between: it, not from_layer, is the new layer's child
            report.notes.extend(relink_children(tx, layer, tolerance))
        how = (f"field {by_field}" if by_field else f"mapping {mapping}" if mapping
               else f"one area '{single}'")
        relocate_points(tx)
        tx.set_layer_info(layer, {"derived_from": from_layer, "how": how,
                                  "count": len(parents)})
        tx.record("derive", layer=layer, from_layer=from_layer, how=how)
    report.title = (f"{child_def.label}（{from_layer}）の{len(children)}区域から "
                    f"{parent_def.label}（{layer}）の{len(parents)}区域を作成しました（{how}）")
    report.facts.update({"layer": layer, "count": len(parents)})
    if parent_def.expected and parent_def.expected != len(parents):
        report.warnings.append(f"区域体系では{parent_def.label}は{parent_def.expected}区域の想定ですが、"
                               f"{len(parents)}区域を作成しました")
    return report
