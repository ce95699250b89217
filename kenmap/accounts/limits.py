"""The sign-in rate limit: failed attempts per name and per client address in a sliding window."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from kenmap.model import settings


class SignInLimiter:
    """Failed sign-ins per key (a name, a client address) within a sliding window.

    Kept in memory: a restart forgets them, which costs an attacker a restart the operator
    would notice. At most ``max_keys`` keys are kept (a flood of invented names cannot grow
    it without bound; the per-address key still holds the flooder back).
    """

    def __init__(self, max_failures: int = settings.SIGN_IN_MAX_FAILURES,
                 window_s: float = settings.SIGN_IN_WINDOW_S, max_keys: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.max_keys = max_keys
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key, deque())
        while times and times[0] <= now - self.window_s:
            times.popleft()
        if not times:
            self._failures.pop(key, None)
        return times

    def retry_after(self, *keys: str) -> int:
        """Seconds until all ``keys`` may try again; 0 when they may now."""
        with self._lock:
            now = self.clock()
            waits = [times[0] + self.window_s - now for key in keys
                     if len(times := self._recent(key, now)) >= self.max_failures]
        return max(1, math.ceil(max(waits))) if waits else 0

    def failed(self, *keys: str) -> None:
        """Count a failed sign-in against each key."""
        with self._lock:
            now = self.clock()
            for key in keys:
                self._failures.setdefault(key, deque()).append(now)
            if len(self._failures) > self.max_keys:
                for key in list(self._failures):
                    self._recent(key, now)
                while len(self._failures) > self.max_keys:  # the longest quiet go first
                    oldest = min(self._failures, key=lambda k: self._failures[k][-1])
                    del self._failures[oldest]

    def succeeded(self, key: str) -> None:
        """Forget the failures of ``key`` (the name that has just signed in)."""
        with self._lock:
            self._failures.pop(key, None)
