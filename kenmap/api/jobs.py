"""Work the server does outside its own process, in warm child processes with a memory ceiling
and a time limit, killed when they overrun or the server stops.

* **Heavy jobs** (siting): one per workspace at a time. A request that finds a job running is
  answered 429 with ``Retry-After`` at once instead of queueing, so a burst of expensive
  requests cannot hold the server's threads or memory.
* **Figures** (gaps, coverage, profiles, area GeoJSON, pages): computed one after another by
  one process whose caches stay warm, so the server's own process, which answers every request
  and applies every edit, never shares its interpreter lock with a long computation.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from kenmap.errors import (
    BusyError,
    ConflictError,
    KenmapError,
    NotFoundError,
    TooLargeError,
    UnavailableError,
)

#: How much lower than the server's the workers' CPU priority is.
_NICENESS = 10
#: Errors re-raised in the server as the class the worker raised (by HTTP status).
_ERRORS: dict[int, type[KenmapError]] = {404: NotFoundError, 409: ConflictError,
                                         413: TooLargeError, 429: BusyError}

# A threaded server must not fork: children start from a fresh interpreter.
_CONTEXT = mp.get_context("spawn")


def _siting() -> Callable[[str, Any], Any]:
    from kenmap.access.siting import site
    from kenmap.workspace import Workspace

    def run(path: str, question: dict[str, Any]) -> Any:
        ws = Workspace.open(path)
        walk = question.pop("network", None)  # {"minutes": bool, "speed": m/s} or None
        if walk is not None:
            from kenmap.access.netreach import Walking, network_reach

            question["network"] = network_reach(ws, Walking(**walk))
        return site(ws, **question)
    return run


def _figures() -> Callable[[str, Any], Any]:
    from kenmap.api.views import Views

    views: dict[str, Views] = {}

    def answer(path: str, key: Any) -> tuple[Any, bytes]:
        if path not in views:
            views[path] = Views(path)
        return views[path].answer(key)
    return answer


_TASKS: dict[str, Callable[[], Callable[[str, Any], Any]]] = {
    "siting": _siting, "figures": _figures}


def _worker(conn: Connection, memory_bytes: int | None, task: str) -> None:
    """The child: answer the questions of ``task`` one after another (its caches stay warm),
    sending back each result or error, until the parent closes the pipe."""
    if memory_bytes:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    # Below the server in CPU priority: requests and edits are answered first, computations
    # take what is left (the answers they replace are served meanwhile, marked stale).
    os.nice(_NICENESS)
    run = _TASKS[task]()
    while True:
        try:
            path, question = conn.recv()
        except (EOFError, OSError):
            return
        try:
            conn.send(("ok", run(path, question)))
        except KenmapError as exc:
            conn.send(("error", (exc.http_status, exc.message, exc.field)))
        except MemoryError:
            conn.send(("memory", None))
            return  # a process that ran out of memory is not trusted with the next job
        except BaseException as exc:  # noqa: BLE001 - reported to the parent, never a traceback
            conn.send(("crash", f"{type(exc).__name__}: {str(exc)[:200]}"))


class Worker:
    """One child process doing ``task``, kept warm between questions and replaced when it
    overruns, runs out of memory or dies. Questions are asked one at a time."""

    task = "siting"
    #: What the user can do about an overrun (appended to the message).
    hint = ""

    def __init__(self, *, memory_mb: int | None, time_limit_s: float) -> None:
        self.memory_bytes = memory_mb * 1024 * 1024 if memory_mb else None
        self.time_limit_s = time_limit_s
        self._slot = threading.Lock()
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None

    def warm(self) -> None:
        """Start the worker process now, so the first question does not wait for it."""
        with self._slot:
            self._worker_conn()

    def _worker_conn(self) -> Connection:
        if self._process is None or not self._process.is_alive() or self._conn is None:
            self._retire()
            parent, child = _CONTEXT.Pipe(duplex=True)
            self._process = _CONTEXT.Process(target=_worker, daemon=True,
                                             args=(child, self.memory_bytes, self.task))
            self._process.start()
            child.close()
            self._conn = parent
        return self._conn

    def _retire(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self._process is not None:
            _stop(self._process)
        self._process, self._conn = None, None

    def _run(self, path: Path, question: Any) -> Any:
        conn = self._worker_conn()
        try:
            conn.send((str(path), question))
            if not conn.poll(self.time_limit_s):
                self._retire()
                raise UnavailableError(f"計算が制限時間 {self.time_limit_s:.0f} 秒を超えたため"
                                       f"止めました{self.hint}")
            kind, value = conn.recv()
        except (EOFError, OSError, BrokenPipeError) as exc:  # killed: memory ceiling or stop
            self._retire()
            raise UnavailableError("計算が中断されました（メモリ上限か、サーバーの停止）"
                                   ) from exc
        if kind == "ok":
            return value
        if kind == "error":
            status, message, field = value
            raise _ERRORS.get(status, KenmapError)(message, field=field)
        self._retire()
        if kind == "memory":
            raise TooLargeError(f"計算がサーバーのメモリ上限を超えました{self.hint}",
                                field="k" if self.hint else None)
        raise UnavailableError(f"計算に失敗しました（{value}）")

    def stop_all(self) -> None:
        """Kill the worker (the server is stopping): a running job ends at once."""
        self._retire()


class HeavyJobs(Worker):
    """The heavy-job slot of one workspace: a second job is refused, not queued."""

    task = "siting"
    hint = "（k や候補地、半径を減らしてください）"

    def site(self, path: Path, question: dict[str, Any]) -> Any:
        """Run :func:`kenmap.access.siting.site` with ``question`` in the worker process."""
        if not self._slot.acquire(blocking=False):
            raise BusyError("別の重い計算（配置の検討）を実行中です。少し待ってからやり直して"
                            "ください")
        try:
            return self._run(path, question)
        finally:
            self._slot.release()


class Figures(Worker):
    """The figures of the served workspace, computed one at a time in their own process."""

    task = "figures"

    def answer(self, path: Path, key: Any) -> tuple[Any, bytes]:
        """The answer ``key`` of :meth:`kenmap.api.views.Views.answer`: (state, body)."""
        with self._slot:
            state, body = self._run(path, key)
        return state, bytes(body)


def _stop(process: BaseProcess) -> None:
    if process.is_alive():
        process.kill()
    process.join(timeout=5)
