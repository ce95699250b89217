"""Uploads the import wizard keeps between its steps (detect, dry runs, commit).

Each upload lives in a private folder of its own (mode 0700, made by :func:`tempfile.mkdtemp`)
under its safe name, checked on arrival as every upload is (:func:`~kenmap.api.uploads.
store_upload`). It is kept for an hour after its last use and at most a few are kept at once
(a new one removes the oldest); it is removed on commit, on expiry, on eviction and when the
server stops. An upload in use when it is to be removed goes when its last user is done.
Only the person who uploaded it can use it (others are told it does not exist).
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from kenmap.api.uploads import store_upload
from kenmap.errors import NotFoundError
from kenmap.model import settings

FOLDER_PREFIX = "kenmap-wizard-"


@dataclass
class Staged:
    """One upload kept for the wizard."""

    id: str
    kind: str
    file: str
    folder: Path
    owner: str
    expires: float  # on the store's clock
    expires_at: str  # the same moment as UTC ISO 8601, for people
    detected: dict[str, Any] | None = None
    users: int = 0
    gone: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def path(self) -> Path:
        """The uploaded file."""
        return self.folder / self.file

    def to_json(self) -> dict[str, Any]:
        """The upload as the wizard's endpoints describe it."""
        return {"upload_id": self.id, "kind": self.kind, "file": self.file,
                "expires_at": self.expires_at, "detected": self.detected}


class Uploads:
    """The wizard's kept uploads of one server."""

    def __init__(self, *, limit: int = settings.WIZARD_MAX_UPLOADS,
                 ttl_s: float = settings.WIZARD_UPLOAD_TTL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.ttl_s = ttl_s
        self.clock = clock
        self._items: dict[str, Staged] = {}  # oldest first
        self._lock = threading.Lock()

    def _expiry(self) -> tuple[float, str]:
        wall = datetime.fromtimestamp(time.time() + self.ttl_s, UTC)
        return self.clock() + self.ttl_s, wall.isoformat(timespec="seconds")

    def add(self, stream: BinaryIO, filename: str | None, *, kind: str, owner: str,
            limit: int, max_expanded: int, max_rows: int | None) -> Staged:
        """Save an upload in a new private folder (refused uploads leave nothing)."""
        folder = Path(tempfile.mkdtemp(prefix=FOLDER_PREFIX))
        try:
            path = store_upload(stream, filename, folder, limit=limit,
                                max_expanded=max_expanded, max_rows=max_rows)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        expires, expires_at = self._expiry()
        staged = Staged(secrets.token_urlsafe(18), kind, path.name, folder, owner, expires,
                        expires_at)
        with self._lock:
            self._expire()
            while len(self._items) >= self.limit:
                self._drop(next(iter(self._items.values())))
            self._items[staged.id] = staged
        return staged

    def list(self, owner: str) -> list[Staged]:
        """The uploads of ``owner`` still kept, oldest first."""
        with self._lock:
            self._expire()
            return [s for s in self._items.values() if s.owner == owner]

    @contextmanager
    def using(self, upload_id: str, owner: str) -> Iterator[Staged]:
        """Use an upload (one use at a time per upload); its hour starts again."""
        with self._lock:
            self._expire()
            staged = self._items.get(upload_id)
            if staged is None or staged.owner != owner:
                raise NotFoundError("アップロードが見つかりません（1時間使われないと削除されます。"
                                    "もう一度アップロードしてください）", field="upload_id")
            staged.users += 1
        try:
            with staged.lock:
                if staged.gone:
                    raise NotFoundError("アップロードは削除されました。もう一度アップロードしてく"
                                        "ださい", field="upload_id")
                staged.expires, staged.expires_at = self._expiry()
                yield staged
        finally:
            with self._lock:
                staged.users -= 1
                if staged.gone and staged.users == 0:
                    shutil.rmtree(staged.folder, ignore_errors=True)

    def discard(self, upload_id: str) -> None:
        """Remove an upload (at once, or when its last user is done)."""
        with self._lock:
            staged = self._items.get(upload_id)
            if staged is not None:
                self._drop(staged)

    def clear(self) -> None:
        """Remove every upload (the server stops)."""
        with self._lock:
            for staged in list(self._items.values()):
                self._drop(staged)

    def _expire(self) -> None:
        now = self.clock()
        for staged in [s for s in self._items.values() if s.expires <= now and not s.users]:
            self._drop(staged)

    def _drop(self, staged: Staged) -> None:
        self._items.pop(staged.id, None)
        staged.gone = True
        if staged.users == 0:
            shutil.rmtree(staged.folder, ignore_errors=True)
