"""``kenmap users``: who may sign in to the workbench of a served workspace."""

from __future__ import annotations

import sys
from typing import Annotated, Literal

import typer

from kenmap.cli.options import TableFormat, WsArg, emit
from kenmap.errors import KenmapError

Role = Annotated[Literal["viewer", "editor", "admin"], typer.Option(
    "--role", help="viewer (reads), editor (edits hubs, imports, siting) or admin (also "
                   "the catalogue and users).")]
NameArg = Annotated[str, typer.Argument(help="The user's sign-in name.")]


def _password() -> str:
    """A password typed twice at the terminal (not shown), or one line of standard input
    when it is not a terminal (``echo … | kenmap users add``)."""
    import getpass

    if sys.stdin is not None and sys.stdin.isatty():
        first = getpass.getpass("パスワード: ")
        if first != getpass.getpass("パスワード（確認）: "):
            raise KenmapError("2回入力したパスワードが一致しません", field="password")
        return first
    line = sys.stdin.readline() if sys.stdin is not None else ""
    if not line:
        raise KenmapError("パスワードがありません（端末で入力するか、標準入力に1行で渡してく"
                          "ださい）", field="password")
    return line.rstrip("\r\n")


def users_add(workspace: WsArg, name: NameArg, role: Role = "viewer") -> None:
    """Add a user (the password is read from the terminal, or one line of stdin)."""
    from kenmap.accounts import add_user, find_user, list_users, user_name
    from kenmap.workspace import Workspace

    ws = Workspace.open(workspace)
    taken = find_user(ws, user_name(name))
    if taken is not None:  # said before asking for a password
        raise KenmapError(f"ユーザー「{taken.name}」はすでにいます", field="name")
    user = add_user(ws, name, role, _password())
    typer.echo(f"ユーザー「{user.name}」（{user.role}）を追加しました")
    if not any(u.role == "admin" for u in list_users(ws)):
        typer.echo("  注意: 管理者（admin）がいません。ユーザーを管理するには --role admin の"
                   "ユーザーを追加してください", err=True)


def users_list(workspace: WsArg, format: TableFormat = "table") -> None:
    """List the users with their role and when they were added and last changed."""
    from kenmap.accounts import list_users
    from kenmap.workspace import Workspace

    users = list_users(Workspace.open(workspace))
    lines = [f"{u.name:<20} {u.role:<7} 追加 {u.created}  更新 {u.updated}" for u in users]
    emit({"users": [u.to_dict() for u in users]},
         lines or ["ユーザーはいません（kenmap users add で追加できます）"],
         "json" if format == "json" else "text")


def users_remove(workspace: WsArg, name: NameArg) -> None:
    """Remove a user and end their sessions (the last admin stays while others remain)."""
    from kenmap.accounts import remove_user
    from kenmap.workspace import Workspace

    user = remove_user(Workspace.open(workspace), name)
    typer.echo(f"ユーザー「{user.name}」（{user.role}）を削除しました")


def users_passwd(workspace: WsArg, name: NameArg) -> None:
    """Set a user's password (read as for ``users add``); their sessions end."""
    from kenmap.accounts import set_password
    from kenmap.workspace import Workspace

    user = set_password(Workspace.open(workspace), name, _password())
    typer.echo(f"ユーザー「{user.name}」のパスワードを変更しました（サインイン中の画面は"
               "サインアウトされます）")
