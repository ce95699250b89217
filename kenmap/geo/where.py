"""A safe row filter for ``--where "FIELD == 'value'"``.

Only comparisons, ``in``, ``and``/``or``/``not``, ``.startswith()`` and literals are allowed; the
expression is parsed with :mod:`ast` and evaluated column-wise, never with ``eval``.
"""

from __future__ import annotations

import ast
import operator
from typing import Any

import pandas as pd

from kenmap.errors import KenmapError

_COMPARE = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
    ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
}


def _literal(node: ast.AST, expr: str) -> Any:
    try:
        return ast.literal_eval(node)
    except ValueError as exc:
        raise KenmapError(f"--where '{expr}': 値（リテラル）が必要です") from exc


def _coerce(column: pd.Series, value: Any) -> Any:
    # CITY == 202 should match the text field '202' that shapefiles deliver.
    if isinstance(value, (int, float)) and not pd.api.types.is_numeric_dtype(column):
        return str(value)
    if isinstance(value, str) and pd.api.types.is_numeric_dtype(column):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _column(df: pd.DataFrame, node: ast.AST, expr: str) -> pd.Series:
    if not isinstance(node, ast.Name):
        raise KenmapError(f"--where '{expr}': 左辺は項目名でなければなりません")
    if node.id not in df.columns:
        fields = ", ".join(str(c) for c in df.columns if c != "geometry")
        raise KenmapError(f"--where: その項目はありません（項目: {fields}）", field=node.id)
    return df[node.id]


def _evaluate(df: pd.DataFrame, node: ast.AST, expr: str) -> pd.Series:
    if isinstance(node, ast.BoolOp):
        parts = [_evaluate(df, v, expr) for v in node.values]
        result = parts[0]
        for part in parts[1:]:
            result = (result & part) if isinstance(node.op, ast.And) else (result | part)
        return result
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return ~_evaluate(df, node.operand, expr)
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        col = _column(df, node.left, expr)
        op = node.ops[0]
        if isinstance(op, (ast.In, ast.NotIn)):
            values = [_coerce(col, v) for v in _literal(node.comparators[0], expr)]
            mask = col.isin(values)
            return ~mask if isinstance(op, ast.NotIn) else mask
        if type(op) in _COMPARE:
            value = _coerce(col, _literal(node.comparators[0], expr))
            return _COMPARE[type(op)](col, value).fillna(False).astype(bool)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("startswith", "endswith")
        and len(node.args) == 1
    ):
        col = _column(df, node.func.value, expr).astype("string")
        prefix = str(_literal(node.args[0], expr))
        method = col.str.startswith if node.func.attr == "startswith" else col.str.endswith
        return method(prefix).fillna(False).astype(bool)
    raise KenmapError(
        f"--where '{expr}': 使えるのは FIELD == 'value', FIELD in ('a', 'b'), "
        "FIELD.startswith('x') のような比較を and/or/not でつないだものだけです"
    )


def filter_rows(df: pd.DataFrame, expr: str) -> pd.DataFrame:
    """Rows of ``df`` for which the ``--where`` expression holds."""
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError as exc:
        raise KenmapError(f"--where '{expr}' は正しい式ではありません") from exc
    mask = _evaluate(df, tree.body, expr)
    return df[mask.to_numpy(dtype=bool)]
