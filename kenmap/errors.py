"""The errors kenmap shows to users: one base type and a few kinds, each with its HTTP status.

Every problem with a user's input or workspace is raised as :class:`KenmapError` or one of its
subclasses; the CLI prints it as one line and exits non-zero, the API answers with the class's
``http_status`` and :meth:`KenmapError.to_dict` as the JSON body.
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

    #: The HTTP status the API answers with for this kind of error.
    http_status = 400

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
            where.append(f"{self.row}行目")
        if self.field:
            where.append(f"項目「{self.field}」")
        prefix = ": ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message

    def to_dict(self) -> dict[str, object]:
        """The error as a JSON-ready mapping."""
        return {"error": self.message, "file": self.file, "row": self.row, "field": self.field}


class NotFoundError(KenmapError):
    """A layer, area, hub or file that does not exist."""

    http_status = 404


class ConflictError(KenmapError):
    """A change based on a version that is no longer current (someone saved first)."""

    http_status = 409


class AuthenticationError(KenmapError):
    """No valid credentials were given for a write."""

    http_status = 401


class AccessError(KenmapError):
    """The credentials are valid but do not allow this (or the server is read-only)."""

    http_status = 403


class TooLargeError(KenmapError):
    """An upload or request beyond the configured limits."""

    http_status = 413


class BusyError(KenmapError):
    """The server is already doing heavy work for this workspace; try again shortly."""

    http_status = 429
    #: Seconds after which the client may try again (the ``Retry-After`` header).
    retry_after = 10


class TooManyAttemptsError(KenmapError):
    """Too many failed sign-ins for one name or from one address: wait ``retry_after``
    seconds (the ``Retry-After`` header)."""

    http_status = 429

    def __init__(self, message: str, *, retry_after: int, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.retry_after = retry_after


class UnavailableError(KenmapError):
    """The work could not finish within the server's time or memory limits, or was stopped."""

    http_status = 503
    retry_after = 30
