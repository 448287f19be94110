"""A thread-safe set of strings in which each one stays until removed as often as it was added."""

from __future__ import annotations

import threading
from collections import Counter


class CountedSet:
    """Members added by several holders at once (two runs in one process, say) stay until
    each holder has discarded them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def add(self, value: str) -> None:
        """One more holder of `value`."""
        with self._lock:
            self._counts[value] += 1

    def discard(self, value: str) -> None:
        """One holder fewer: `value` leaves with its last holder (never held: nothing)."""
        with self._lock:
            if self._counts[value] > 1:
                self._counts[value] -= 1
            else:
                self._counts.pop(value, None)

    def members(self) -> list[str]:
        """The values held now, as a copy."""
        with self._lock:
            return list(self._counts)
