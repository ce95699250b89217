"""Helpers the server benchmarks share: a process's memory, and stopping a server."""

from __future__ import annotations

import subprocess


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
