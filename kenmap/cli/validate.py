"""``kenmap validate``."""

from __future__ import annotations

import typer

from kenmap.cli.options import TextFormat, WsArg, emit


def validate(
    workspace: WsArg,
    format: TextFormat = "text",
) -> None:
    """Check that layers tile and nest; exits non-zero when there are errors."""
    from kenmap.layers.validate import validate as run
    from kenmap.workspace import Workspace

    result = run(Workspace.open(workspace))
    lines = []
    for key, info in result.layers.items():
        expected = f"（想定 {info['expected']}）" if info["expected"] else ""
        lines.append(f"{info['label']}（{key}）: {info['count']} 区域{expected}、"
                     f"エラー {info['errors']} 件、警告 {info['warnings']} 件")
    lines += [f"エラー: {e['message']}" for e in result.errors]
    lines += [f"警告: {w['message']}" for w in result.warnings]
    lines.append("OK: 各レイヤは隙間・重なりなく敷き詰められ、入れ子になっています" if result.ok
                 else f"不合格: エラー {len(result.errors)} 件")
    emit(result.to_json(), lines, format)
    if not result.ok:
        raise typer.Exit(1)
