"""Checking that a workspace's layers tile and nest.

Errors: overlaps within a layer, children outside or across parents, orphans, invalid geometry.
Warnings: counts that differ from the scheme's expectation, holes inside a parent that no child
covers, digitising slivers. Every problem names the areas involved (code and name).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely

from kenmap.geo.overlap import overlap_pairs, self_overlaps
from kenmap.layers.hierarchy import DEFAULT_TOLERANCE, filled_layers, overlay_layers
from kenmap.workspace import Workspace

#: Overlaps smaller than this (m²) are digitising noise, reported as warnings.
SLIVER_M2 = 1.0
#: A hole is reported when it exceeds this share of its parent or this many m².
HOLE_SHARE = 0.001
HOLE_M2 = 100.0


def _label(frame: pd.DataFrame, i: int | np.integer[Any]) -> str:
    return f"{frame['code'].iloc[int(i)]} {frame['name'].iloc[int(i)]}"


def _problem(layer: str, kind: str, message: str, areas: list[str]) -> dict[str, Any]:
    return {"layer": layer, "kind": kind, "message": message, "areas": areas}


@dataclass
class ValidationReport:
    """What :func:`validate` found: per-layer counts, errors (overlaps, straddling, orphans,
    invalid geometry) and warnings (counts, holes, slivers), each naming its areas."""

    ok: bool
    layers: dict[str, Any]
    errors: list[dict[str, Any]]
    warnings: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        """The report as a JSON-ready mapping."""
        return {"ok": self.ok, "layers": self.layers, "errors": self.errors,
                "warnings": self.warnings}


def validate(ws: Workspace, *, tolerance: float = DEFAULT_TOLERANCE) -> ValidationReport:
    """Check that every layer tiles and nests.

    Parameters
    ----------
    ws
        The workspace.
    tolerance
        Share of a child area that may lie in a second parent before it does not nest.

    Returns
    -------
    ValidationReport
        ``ok`` is False when there are errors.
    """
    scheme = ws.scheme
    errors: list[dict[str, Any]] = []
    warnings: list[dict[str, Any]] = []
    layers: dict[str, Any] = {}
    filled = filled_layers(ws)
    frames = {key: ws.read_layer(key) for key in [*filled, *overlay_layers(ws)]}
    previous: str | None = None
    for layer_def in scheme.layers:
        key = layer_def.key
        if key not in frames or len(frames[key]) == 0:
            warnings.append(_problem(key, "empty", f"{layer_def.label}（{key}）に区域がありません"
                                     "（取り込むか kenmap derive で作ってください。この層を"
                                     "使わないなら、使う層だけの区域体系で作り直せます）", []))
            layers[key] = {"label": layer_def.label, "count": 0, "expected": layer_def.expected,
                           "parent_layer": None, "errors": 0, "warnings": 1}
            continue
        frame = frames[key].reset_index(drop=True)
        n_err, n_warn = len(errors), len(warnings)
        geoms = frame.geometry.to_numpy()
        label = layer_def.label

        if layer_def.expected is not None and layer_def.expected != len(frame):
            warnings.append(_problem(key, "count", f"{label}: {len(frame)}区域、区域体系の想定は"
                                     f"{layer_def.expected}区域", []))
        invalid = np.flatnonzero(~shapely.is_valid(geoms))
        for i in invalid:
            reason = shapely.is_valid_reason(geoms[i])
            errors.append(_problem(key, "invalid", f"{label} {_label(frame, i)}: 不正な"
                                   f"形状（{reason}）", [_label(frame, i)]))
        valid = np.setdiff1d(np.arange(len(frame)), invalid)
        over = self_overlaps(geoms[valid])
        for a, b, area in over.itertuples(index=False):
            ia, ib = valid[int(a)], valid[int(b)]
            names = [_label(frame, ia), _label(frame, ib)]
            msg = f"{label} {names[0]} と {names[1]} が {area:,.1f} m² 重なっています"
            (errors if area > SLIVER_M2 else warnings).append(
                _problem(key, "overlap" if area > SLIVER_M2 else "sliver", msg, names))

        if not layer_def.nested:
            # An overlay covers the city without overlaps, but follows no nesting.
            top = filled[0] if filled and filled[0] in frames else None
            if top is not None and top != key:
                city = shapely.union_all(frames[top].geometry.to_numpy())
                mine = shapely.union_all(geoms[valid])
                missing = shapely.area(shapely.difference(city, mine))
                beyond = shapely.area(shapely.difference(mine, city))
                whole = max(shapely.area(city), 1e-9)
                if missing / whole > tolerance:
                    errors.append(_problem(
                        key, "uncovered", f"{label}: 市域の {missing / whole:.1%}（"
                        f"{missing / 1e6:,.2f} km²）がどの区域にも入っていません", []))
                elif missing > HOLE_M2:
                    warnings.append(_problem(key, "hole", f"{label}: {missing / 1e6:,.3f} km² "
                                             "がどの区域にも覆われていません", []))
                if beyond / whole > tolerance:
                    warnings.append(_problem(key, "beyond", f"{label}: 区域の {beyond / whole:.1%} "
                                             "が市域の外です", []))
            layers[key] = {"label": label, "count": len(frame), "expected": layer_def.expected,
                           "parent_layer": None, "nested": False,
                           "errors": len(errors) - n_err, "warnings": len(warnings) - n_warn}
            continue
        if previous is not None:
            parents = frames[previous].reset_index(drop=True)
            parent_label = scheme.layer(previous).label
            codes = frame["parent_code"]
            pos = pd.Series(np.arange(len(parents)), index=parents["code"].to_numpy())
            known = codes.isin(pos.index)
            for i in np.flatnonzero(~known.to_numpy()):
                pc = codes.iloc[i]
                why = "に上位の区域がありません" if pc is None else f"の上位「{pc}」は" \
                                                        f"{parent_label}のコードではありません"
                errors.append(_problem(key, "orphan", f"{label} {_label(frame, i)} {why}",
                                       [_label(frame, i)]))
            child_idx = np.flatnonzero(known.to_numpy())
            parent_idx = pos.loc[codes.iloc[child_idx]].to_numpy()
            pgeoms = parents.geometry.to_numpy()
            shapely.prepare(pgeoms)
            cg = geoms[child_idx]
            within = shapely.within(cg, pgeoms[parent_idx])
            shared = shapely.area(cg).astype(float)
            rest = ~within
            if rest.any():
                inter = shapely.intersection(cg[rest], pgeoms[parent_idx][rest])
                shared[rest] = shapely.area(inter)
            share = shared / np.maximum(shapely.area(cg), 1e-9)
            flagged = np.flatnonzero(share < 1 - 1e-6)
            pairs = overlap_pairs(cg[flagged], pgeoms)
            pairs["share"] = pairs["area"] / np.maximum(shapely.area(cg[flagged]), 1e-9)[
                pairs["child"]]
            for j_local, j in enumerate(flagged):
                ci, pi = child_idx[j], parent_idx[j]
                names = [_label(frame, ci), _label(parents, pi)]
                mine = pairs[pairs["child"] == j_local]
                elsewhere = mine[mine["parent"] != pi].sort_values("share", ascending=False)
                other = float(elsewhere["share"].iloc[0]) if len(elsewhere) else 0.0
                if share[j] <= 0:
                    errors.append(_problem(key, "outside", f"{label} {names[0]} が上位の"
                                           f"{parent_label} {names[1]} の外にあります", names))
                elif other > tolerance:
                    oname = _label(parents, int(elsewhere["parent"].iloc[0]))
                    errors.append(_problem(
                        key, "across", f"{label} {names[0]} が複数の{parent_label}にまたがっていま"
                                       "す: "
                        f"上位の {names[1]} に {share[j]:.1%}、{oname} に {other:.1%}",
                        [*names, oname]))
                elif other > 0:
                    warnings.append(_problem(key, "sliver", f"{label} {names[0]}: {other:.2%} が"
                                             f"隣の{parent_label}にかかっています", names))
                elif 1 - share[j] > tolerance:
                    warnings.append(_problem(
                        key, "beyond", f"{label} {names[0]}: {1 - share[j]:.1%} が"
                        f"どの{parent_label}からもはみ出しています（上位の輪郭が粗い？）", names))
            # Holes: quick estimate per parent (area minus its own children's share), exact
            # only where the estimate flags one or where overlaps and straddlers blur it.
            covered = pd.Series(shared).groupby(parent_idx).sum()
            parent_area = shapely.area(pgeoms)
            uncovered = parent_area.copy()
            uncovered[covered.index.to_numpy()] -= covered.to_numpy()
            suspect = set(np.flatnonzero(uncovered > HOLE_M2).tolist())
            involved = [child_idx[j] for j in flagged] + [valid[int(i)] for i in
                                                          [*over["a"], *over["b"]]]
            suspect |= set(parent_idx[np.isin(child_idx, involved)].tolist())
            tree = shapely.STRtree(geoms)
            for pi in sorted(suspect):
                near = tree.query(pgeoms[pi], predicate="intersects")
                rest = shapely.difference(pgeoms[pi], shapely.union_all(geoms[near]))
                uncovered[pi] = shapely.area(rest)
            for pi in sorted(suspect):
                if uncovered[pi] > HOLE_M2 and uncovered[pi] > HOLE_SHARE * parent_area[pi]:
                    warnings.append(_problem(
                        key, "hole", f"{parent_label} {_label(parents, pi)}: "
                        f"{uncovered[pi] / 1e6:,.3f} km² ({uncovered[pi] / parent_area[pi]:.1%}) "
                        f"がどの{label}にも覆われていません", [_label(parents, pi)]))
        layers[key] = {"label": label, "count": len(frame), "expected": layer_def.expected,
                       "parent_layer": previous, "errors": len(errors) - n_err,
                       "warnings": len(warnings) - n_warn}
        previous = key
    return ValidationReport(not errors, layers, errors, warnings)
