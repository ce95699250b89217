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
        expected = f" (expected {info['expected']})" if info["expected"] else ""
        lines.append(f"{info['label']} ({key}): {info['count']} areas{expected}, "
                     f"{info['errors']} errors, {info['warnings']} warnings")
    lines += [f"エラー: {e['message']}" for e in result.errors]
    lines += [f"警告: {w['message']}" for w in result.warnings]
    lines.append("OK: layers tile and nest" if result.ok else
                 f"FAILED: {len(result.errors)} error(s)")
    emit(result.to_json(), lines, format)
    if not result.ok:
        raise typer.Exit(1)
