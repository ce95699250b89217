"""The audit trail: who changed what in a workspace, and when, newest first.

It reads the two places writes are recorded: the edit log (hub edits, user changes,
sign-ins, in a table of their own) and the workspace history (imports, derivations, kept in
the metadata because they rewrite the file as a whole).
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from kenmap.workspace import Workspace

#: Entries one request may ask for.
MAX_AUDIT = 1000


def _file_name(value: Any) -> Any:
    """A recorded file as its name only: uploads are recorded with their temporary folder,
    which is no one's business."""
    if isinstance(value, str):
        return PurePath(value).name
    if isinstance(value, list):
        return [_file_name(v) for v in value]
    return value


def _entry(at: Any, action: Any, details: dict[str, Any]) -> dict[str, Any]:
    rest = {k: (_file_name(v) if k in ("file", "files") else v) for k, v in details.items()
            if k != "by"}
    return {"at": at, "by": details.get("by"), "action": action, "details": rest}


def audit_entries(ws: Workspace, limit: int = 100) -> list[dict[str, Any]]:
    """The newest ``limit`` entries of the audit trail: ``at`` (UTC, ISO 8601), ``by`` (a
    user's name, ``token`` for the server's bearer token, the operating-system user for a
    command, None when not recorded), ``action`` and its ``details``."""
    limit = max(1, min(int(limit), MAX_AUDIT))
    logged = [_entry(e["at"], e["action"], e["details"]) for e in ws.read_log(limit=limit)]
    recorded = [_entry(e.get("at"), e.get("action"),
                       {k: v for k, v in e.items() if k not in ("at", "action")})
                for e in ws.get("history", [])[-limit:] if isinstance(e, dict)]
    # Newest first; at the same second the edit log (written after a bulk change) comes first.
    entries = [*reversed(logged), *reversed(recorded)]
    entries.sort(key=lambda e: str(e["at"] or ""), reverse=True)
    return entries[:limit]
