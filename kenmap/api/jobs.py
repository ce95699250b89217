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


def _siting_child(conn: Connection, path: str, question: dict[str, Any],
                  memory_bytes: int | None) -> None:
    """Runs in the child: answer one siting question, send back the result or the error."""
    if memory_bytes:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    try:
        from kenmap.access.siting import site
        from kenmap.workspace import Workspace

        conn.send(("ok", site(Workspace.open(path), **question)))
    except KenmapError as exc:
        conn.send(("error", (exc.http_status, exc.message, exc.field)))
    except MemoryError:
        conn.send(("memory", None))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, never a traceback
        conn.send(("crash", f"{type(exc).__name__}: {str(exc)[:200]}"))
    finally:
        conn.close()


class HeavyJobs:
    """The heavy-job slot of one workspace."""

    def __init__(self, *, memory_mb: int | None, time_limit_s: float) -> None:
        self.memory_bytes = memory_mb * 1024 * 1024 if memory_mb else None
        self.time_limit_s = time_limit_s
        self._slot = threading.Lock()
        self._running: set[BaseProcess] = set()

    def site(self, path: Path, question: dict[str, Any]) -> Any:
        """Run :func:`kenmap.access.siting.site` with ``question`` in a child process."""
        if not self._slot.acquire(blocking=False):
            raise BusyError("別の重い計算（配置の検討）を実行中です。少し待ってからやり直して"
                            "ください")
        try:
            return self._run(path, question)
        finally:
            self._slot.release()

    def _run(self, path: Path, question: dict[str, Any]) -> Any:
        receiver, sender = _CONTEXT.Pipe(duplex=False)
        process = _CONTEXT.Process(target=_siting_child, daemon=True,
                                   args=(sender, str(path), question, self.memory_bytes))
        process.start()
        sender.close()
        self._running.add(process)
        try:
            if not receiver.poll(self.time_limit_s):
                raise UnavailableError(f"計算が制限時間 {self.time_limit_s:.0f} 秒を超えたため"
                                       "止めました（k や候補地、半径を減らしてください）")
            try:
                kind, value = receiver.recv()
            except EOFError as exc:  # killed: by the memory ceiling or by shutdown
                raise UnavailableError("計算が中断されました（メモリ上限か、サーバーの停止）"
                                       ) from exc
        finally:
            receiver.close()
            _stop(process)
            self._running.discard(process)
        if kind == "ok":
            return value
        if kind == "error":
            status, message, field = value
            error = TooLargeError(message, field=field) if status == 413 else \
                KenmapError(message, field=field)
            raise error
        if kind == "memory":
            raise TooLargeError("計算がサーバーのメモリ上限を超えました（k や候補地、半径を"
                                "減らしてください）", field="k")
        raise UnavailableError(f"計算に失敗しました（{value}）")

    def stop_all(self) -> None:
        """Kill every running job (the server is stopping)."""
        for process in list(self._running):
            _stop(process)


def _stop(process: BaseProcess) -> None:
    if process.is_alive():
        process.kill()
    process.join(timeout=5)
