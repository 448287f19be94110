"""Progress of long work: bars on a terminal, plain log lines otherwise."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

logger = logging.getLogger("smsarchive")


class Tracker(Protocol):
    """One stage of work with a known total."""

    def advance(self, note: str = "") -> None:
        """One more item done."""

    def grow(self, count: int) -> None:
        """`count` more items to do than the total said (a window cut in two: one more)."""


class _LogTracker:
    def __init__(self, label: str, total: int) -> None:
        self.label, self.total, self.done = label, total, 0
        self._step = max(1, total // 10)

    def advance(self, note: str = "") -> None:
        self.done += 1
        if self.done == self.total or self.done % self._step == 0 or note:
            suffix = f" ({note})" if note else ""
            logger.info("%s: %d/%d%s", self.label, self.done, self.total, suffix)

    def grow(self, count: int) -> None:
        self.total += count


class _BarTracker:
    def __init__(self, progress: Progress, label: str, total: int) -> None:
        self._progress, self._total = progress, total
        self._task = progress.add_task(label, total=total)

    def advance(self, note: str = "") -> None:
        self._progress.advance(self._task)

    def grow(self, count: int) -> None:
        self._total += count
        self._progress.update(self._task, total=self._total)


class Reporter:
    """Hands out trackers; draws bars when stderr is a terminal."""

    def __init__(self, *, bars: bool | None = None) -> None:
        self.bars = sys.stderr.isatty() if bars is None else bars
        self._progress: Progress | None = None

    @contextmanager
    def running(self) -> Iterator[Reporter]:
        """Draw bars (if any) for the duration of the block."""
        if not self.bars:
            yield self
            return
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        with self._progress:
            yield self
        self._progress = None

    def stage(self, label: str, total: int) -> Tracker:
        """A tracker for `total` items of `label`."""
        if self._progress is not None:
            return _BarTracker(self._progress, label, total)
        return _LogTracker(label, total)
