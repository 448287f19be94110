"""Progress of long work: bars on a terminal, else log lines at each tenth and each minute."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

logger = logging.getLogger("smsarchive")


class Tracker(Protocol):
    """One stage of work with a known total."""

    def advance(self, note: str = "") -> None:
        """One more item done."""

    def grow(self, count: int) -> None:
        """`count` more items to do than the total said (a window cut in two: one more)."""


LOG_EVERY_SECONDS = 60.0
"""Longest a stage goes without a progress line while it advances (a tenth of 160,000 media
files can take many minutes)."""


def _say(label: str, done: int, total: int, note: str) -> None:
    """A stage's progress line: `windows: 3/12 (2024-01-01..2024-04-01)`."""
    logger.info("%s: %d/%d%s", label, done, total, f" ({note})" if note else "")


class _LogTracker:
    def __init__(self, label: str, total: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.label, self.total, self.done = label, total, 0
        self._step = max(1, total // 10)
        self._clock = clock
        self._said_at = clock()

    def advance(self, note: str = "") -> None:
        self.done += 1
        now = self._clock()
        due = now - self._said_at >= LOG_EVERY_SECONDS
        if self.done == self.total or self.done % self._step == 0 or note or due:
            _say(self.label, self.done, self.total, note)
            self._said_at = now

    def grow(self, count: int) -> None:
        self.total += count


class _BarTracker:
    def __init__(self, progress: Progress, label: str, total: int) -> None:
        self._progress, self._label, self._total, self._done = progress, label, total, 0
        # a stage with nothing to do (every window archived already) draws no bar: one of
        # 0/0 would count its time, and its time left, for as long as the other stages run
        self._task = progress.add_task(label, total=total, visible=total > 0)

    def advance(self, note: str = "") -> None:
        self._done += 1
        self._progress.advance(self._task)
        if note:  # which window, or that it failed: said above the bars, as in the log
            _say(self._label, self._done, self._total, note)

    def grow(self, count: int) -> None:
        self._total += count
        self._progress.update(self._task, total=self._total, visible=True)


class Reporter:
    """Hands out trackers: log lines; bars instead within `running()` when stderr is a
    terminal that Rich animates and debug logs are off (their torrent would bury them). Log
    lines, ours and Prefect's (`logging_setup.CurrentStderrHandler`, also named in
    prefect_logging.yml), print above the bars: they write to the stderr the bars redirect."""

    def __init__(self, *, bars: bool | None = None) -> None:
        if bars is None:
            # a terminal Rich animates: on a dumb one (TERM=dumb, an editor's shell) or with
            # TTY_INTERACTIVE=0 it draws the bars once, at the end; FORCE_COLOR makes a pipe
            # look like a terminal to Rich, not to isatty()
            interactive = sys.stderr.isatty() and Console(stderr=True).is_interactive
            bars = interactive and not logger.isEnabledFor(logging.DEBUG)
        self.bars = bars
        self._progress: Progress | None = None

    @contextmanager
    def running(self) -> Iterator[Reporter]:
        """Draw bars (if any) for the duration of the block."""
        if not self.bars:
            yield self
            return
        self._progress = progress_bars(
            Console(stderr=True, soft_wrap=True),  # the terminal wraps log lines
            # a print meanwhile goes above the bars only when stdout is a terminal too;
            # sent to a file or a pipe, it stays there
            redirect_stdout=sys.stdout.isatty(),
        )
        try:
            with self._progress:
                yield self
        finally:
            self._progress = None

    def stage(self, label: str, total: int) -> Tracker:
        """A tracker for `total` items of `label`."""
        if self._progress is not None:
            return _BarTracker(self._progress, label, total)
        return _LogTracker(label, total)


BAR_WIDTH = 40
"""The bar's width where the terminal has room for it (rich's own)."""


def progress_bars(console: Console, *, redirect_stdout: bool = False) -> Progress:
    """Bars for the stages: label, bar, done/total, time taken, time left."""
    return _FittedBars(
        TextColumn("{task.description}"),
        BarColumn(bar_width=BAR_WIDTH),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
        redirect_stdout=redirect_stdout,
    )


class _FittedBars(Progress):
    """Bars that give up their width to the counts and times on a narrow terminal (rich
    would cut every column alike: "12345/…" at 40 columns)."""

    def __init__(self, *columns: ProgressColumn, console: Console, **options: Any) -> None:
        self._terminal = console  # rich asks for the table before `self.console` is there
        super().__init__(*columns, console=console, **options)

    def make_tasks_table(self, tasks: Iterable[Task]) -> Table:
        tasks = list(tasks)
        beside = max(
            (len(task.description) + 2 * len(str(int(task.total or 0))) + 1 for task in tasks),
            default=0,
        )
        beside += 2 * len("10:00:00") + 4  # the two times, and a space between columns
        for column in self.columns:
            if isinstance(column, BarColumn):
                column.bar_width = max(1, min(BAR_WIDTH, self._terminal.width - beside))
        return super().make_tasks_table(tasks)
