"""A thread-safe pacer that spaces request starts evenly to stay under N requests a minute."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RequestPacer:
    """Hands out start times at least `60 / requests_per_minute` seconds apart, first come first.

    `sleep` may return early (an event's `wait`, set when the caller stops): the start time
    it reserved is then left unused.

    Each caller reserves the next free start time under a lock and sleeps outside it, so
    waiting threads queue in order and none busy-waits. Evenly spaced starts mean no 60-second
    span ever holds more than `requests_per_minute` starts (plus the one at its very edge).
    """

    def __init__(
        self,
        requests_per_minute: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        if requests_per_minute < 1:
            raise ValueError(f"requests_per_minute must be at least 1, not {requests_per_minute}")
        self.interval = 60.0 / requests_per_minute
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_start = float("-inf")
        self.waited_seconds = 0.0

    def wait(self) -> float:
        """Block until this caller may start a request; return the seconds waited."""
        with self._lock:
            now = self._clock()
            start = max(now, self._next_start)
            self._next_start = start + self.interval
            delay = start - now
            self.waited_seconds += delay
        if delay > 0:
            self._sleep(delay)
        return delay
