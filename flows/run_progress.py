"""A run's progress kept in `<data dir>/.run-progress.json`, for `smsarchive status` meanwhile."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flows.progress import Tracker
from warehouse import writer_alive

logger = logging.getLogger("smsarchive")

PROGRESS_NAME = ".run-progress.json"
WRITE_EVERY_SECONDS = 1.0


class RunProgress:
    """The stages of one run and how far each is, written to the data dir as they move.

    A running backfill or sync holds the archive open for writing, so no other process can
    open it, not even to read; what it has done so far is written here instead, at most once
    a second, and removed when the run ends.
    """

    def __init__(self, data_dir: Path, title: str) -> None:
        self.path = data_dir / PROGRESS_NAME
        self._title = title
        self._started_at = _now()
        self._stages: dict[str, list[int]] = {}
        self._lock = threading.Lock()
        self._written = 0.0
        self._write()

    def retitle(self, title: str) -> None:
        """Say what the run is, once it is known (a sync's days)."""
        with self._lock:
            self._title = title
        self._write()

    def stage(self, label: str, total: int, tracker: Tracker) -> Tracker:
        """`tracker`, its items also counted here under `label`."""
        with self._lock:
            self._stages[label] = [0, total]
        self._write()
        return _Counted(self, label, tracker)

    def advance(self, label: str) -> None:
        """One more item of `label` done (written if a second has passed, or at its end)."""
        with self._lock:
            counts = self._stages[label]
            counts[0] += 1
            due = counts[0] >= counts[1] or time.monotonic() - self._written >= WRITE_EVERY_SECONDS
        if due:
            self._write()

    def grow(self, label: str, count: int) -> None:
        """`count` more items of `label` to do than its total said."""
        with self._lock:
            self._stages[label][1] += count
        self._write()

    def close(self) -> None:
        """The run has ended: nothing to show any more."""
        try:
            self.path.unlink(missing_ok=True)
        except OSError as exc:
            logger.debug("progress file %s not removed: %s", self.path, exc)

    def _write(self) -> None:
        with self._lock:
            state = {
                "pid": os.getpid(),
                "title": self._title,
                "started_at": self._started_at,
                "updated_at": _now(),
                "stages": [
                    {"stage": label, "done": done, "total": total}
                    for label, (done, total) in self._stages.items()
                ],
            }
            self._written = time.monotonic()
            temp = self.path.with_name(f"{self.path.name}.{threading.get_ident()}.tmp")
            try:
                temp.write_text(json.dumps(state), encoding="utf-8")
                os.replace(temp, self.path)
            except OSError as exc:  # a full disk must not stop the run this only describes
                logger.debug("progress not written to %s: %s", self.path, exc)
                with contextlib.suppress(OSError):
                    temp.unlink(missing_ok=True)


@dataclass
class _Counted:
    progress: RunProgress
    label: str
    tracker: Tracker

    def advance(self, note: str = "") -> None:
        self.tracker.advance(note)
        self.progress.advance(self.label)

    def grow(self, count: int) -> None:
        self.tracker.grow(count)
        self.progress.grow(self.label, count)


@contextmanager
def run_progress(data_dir: Path, title: str) -> Iterator[RunProgress]:
    """A RunProgress for the block (call it holding the writer lock); removed at its end."""
    progress = RunProgress(data_dir, title)
    try:
        yield progress
    finally:
        progress.close()


def running_run_progress(data_dir: Path) -> dict[str, Any] | None:
    """The progress of the run writing `data_dir` right now, or None when none is.

    A killed run's file is left behind, so it counts only while the writer lock names a
    live process.
    """
    return read_run_progress(data_dir) if writer_alive(data_dir) else None


def read_run_progress(data_dir: Path) -> dict[str, Any] | None:
    """What the running run last wrote, or None (no run, or nothing readable)."""
    try:
        state = json.loads((data_dir / PROGRESS_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None


def describe_run_progress(state: dict[str, Any]) -> str:
    """One line: what runs, since when, and each stage's count."""
    stages = ", ".join(
        f"{stage['stage']} {stage['done']:,}/{stage['total']:,}"
        for stage in state.get("stages", [])
        if isinstance(stage, dict)
    )
    return (
        f"{state.get('title', 'a run')} is running (process {state.get('pid', '?')}, since "
        f"{_shown(state.get('started_at'))}): {stages or 'starting'} (as of "
        f"{_shown(state.get('updated_at'))})"
    )


def _shown(moment: object) -> str:
    """A moment of the progress file as status writes moments (2026-12-06 08:41:18 UTC)."""
    try:
        at = datetime.fromisoformat(str(moment))
    except ValueError:
        return str(moment) if moment is not None else "?"
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
