"""Helpers the server benchmarks share: a process's memory, and stopping a server."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def rss_bytes(pid: int) -> int:
    """Resident memory of one process (VmRSS), 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            for text in fh:
                if text.startswith("VmRSS:"):
                    return int(text.split()[1]) * 1024
    except OSError:
        pass
    return 0


def stop(server: subprocess.Popen[bytes], timeout: float = 15) -> None:
    """SIGTERM, then SIGKILL if it has not stopped within ``timeout`` seconds."""
    server.terminate()
    try:
        server.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def proc_stat(pid: int | str) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state first), or None."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[-1].split()
    except OSError:
        return None


def process_tree(root: int) -> list[int]:
    """``root`` (if alive) and every live descendant, from the parent ids in /proc."""
    children: dict[int, list[int]] = {}
    alive = False
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        fields = proc_stat(entry.name)
        if fields is None or fields[0] == "Z":
            continue
        alive = alive or int(entry.name) == root
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    if not alive:
        return []
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def wait_ready(server: subprocess.Popen[bytes], base: str, log_path: Path) -> None:
    """Wait until ``kenmap serve`` answers /healthz (up to 120 s); its log if it exits."""
    import time

    import httpx

    for _ in range(600):
        if server.poll() is not None:
            raise RuntimeError(f"kenmap serve exited {server.returncode}:\n"
                               f"{log_path.read_text(errors='replace')[-3000:]}")
        try:
            httpx.get(base + "/healthz", timeout=1, trust_env=False).raise_for_status()
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("kenmap serve did not answer /healthz within 120 s")

