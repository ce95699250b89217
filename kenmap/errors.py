"""The one error type kenmap shows to users.

Every problem with a user's input or workspace is raised as :class:`KenmapError`; the CLI prints
it as one line and exits non-zero, the API turns it into a 4xx JSON body.
"""

from __future__ import annotations

from pathlib import Path


class KenmapError(Exception):
    """A problem the user can fix, located by file, row and field where known.

    Parameters
    ----------
    message
        What is wrong, in words a GIS officer understands.
    file
        The file the problem is in.
    row
        1-based row (feature) number in that file.
    field
        The attribute field concerned.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        row: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.row = row
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.field:
            where.append(f"field '{self.field}'")
        prefix = ": ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message

    def to_dict(self) -> dict[str, object]:
        """The error as a JSON-ready mapping."""
        return {"error": self.message, "file": self.file, "row": self.row, "field": self.field}
