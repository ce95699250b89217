"""Heavy work for the server (siting): one job per workspace at a time, each in a child process
with a memory ceiling and a time limit, killed when it overruns or the server stops.

A request that finds a job running is answered 429 with ``Retry-After`` at once instead of
queueing, so a burst of expensive requests cannot hold the server's threads or memory.
"""

from __future__ import annotations

import multiprocessing as mp
import threading
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from kenmap.errors import BusyError, KenmapError, TooLargeError, UnavailableError

# A threaded server must not fork: children start from a fresh interpreter.
_CONTEXT = mp.get_context("spawn")


def _worker(conn: Connection, memory_bytes: int | None) -> None:
    """The child: answer siting questions one after another (its caches stay warm), sending
    back each result or error, until the parent closes the pipe."""
    if memory_bytes:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    from kenmap.access.siting import site
    from kenmap.workspace import Workspace

    while True:
        try:
            path, question = conn.recv()
        except (EOFError, OSError):
            return
        try:
            conn.send(("ok", site(Workspace.open(path), **question)))
        except KenmapError as exc:
            conn.send(("error", (exc.http_status, exc.message, exc.field)))
        except MemoryError:
            conn.send(("memory", None))
            return  # a process that ran out of memory is not trusted with the next job
        except BaseException as exc:  # noqa: BLE001 - reported to the parent, never a traceback
            conn.send(("crash", f"{type(exc).__name__}: {str(exc)[:200]}"))


class HeavyJobs:
    """The heavy-job slot of one workspace, served by one worker process kept warm between
    jobs and replaced when it overruns, runs out of memory or dies."""

    def __init__(self, *, memory_mb: int | None, time_limit_s: float) -> None:
        self.memory_bytes = memory_mb * 1024 * 1024 if memory_mb else None
        self.time_limit_s = time_limit_s
        self._slot = threading.Lock()
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None

    def site(self, path: Path, question: dict[str, Any]) -> Any:
        """Run :func:`kenmap.access.siting.site` with ``question`` in the worker process."""
        if not self._slot.acquire(blocking=False):
            raise BusyError("別の重い計算（配置の検討）を実行中です。少し待ってからやり直して"
                            "ください")
        try:
            return self._run(path, question)
        finally:
            self._slot.release()

    def _worker_conn(self) -> Connection:
        if self._process is None or not self._process.is_alive() or self._conn is None:
            self._retire()
            parent, child = _CONTEXT.Pipe(duplex=True)
            self._process = _CONTEXT.Process(target=_worker, daemon=True,
                                             args=(child, self.memory_bytes))
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

    def _run(self, path: Path, question: dict[str, Any]) -> Any:
        conn = self._worker_conn()
        try:
            conn.send((str(path), question))
            if not conn.poll(self.time_limit_s):
                self._retire()
                raise UnavailableError(f"計算が制限時間 {self.time_limit_s:.0f} 秒を超えたため"
                                       "止めました（k や候補地、半径を減らしてください）")
            kind, value = conn.recv()
        except (EOFError, OSError, BrokenPipeError) as exc:  # killed: memory ceiling or stop
            self._retire()
            raise UnavailableError("計算が中断されました（メモリ上限か、サーバーの停止）"
                                   ) from exc
        if kind == "ok":
            return value
        if kind == "error":
            status, message, field = value
            error = TooLargeError(message, field=field) if status == 413 else \
                KenmapError(message, field=field)
            raise error
        self._retire()
        if kind == "memory":
            raise TooLargeError("計算がサーバーのメモリ上限を超えました（k や候補地、半径を"
                                "減らしてください）", field="k")
        raise UnavailableError(f"計算に失敗しました（{value}）")

    def stop_all(self) -> None:
        """Kill the worker (the server is stopping): a running job ends at once."""
        self._retire()


def _stop(process: BaseProcess) -> None:
    if process.is_alive():
        process.kill()
    process.join(timeout=5)
