"""Peak resident memory of a process and all its descendants, by polling with psutil."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import psutil  # type: ignore[import-untyped]

MB = 1024 * 1024


def tree_rss(root: psutil.Process, exclude: frozenset[int] = frozenset()) -> int:
    """Resident bytes of `root` and its descendants (those in `exclude` left out)."""
    total = 0
    try:
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    for proc in procs:
        if proc.pid in exclude:
            continue
        try:
            total += proc.memory_info().rss
        except psutil.Error:
            continue
    return total


class PeakRss:
    """Polls a process tree's RSS from a background thread; `peak_mb` after `stop()`."""

    def __init__(
        self, pid: int, *, interval: float = 0.1, exclude: frozenset[int] = frozenset()
    ) -> None:
        self._root = psutil.Process(pid)
        self._interval = interval
        self._exclude = exclude
        self._stop = threading.Event()
        self.peak = 0
        self._thread = threading.Thread(target=self._poll, daemon=True, name="peak-rss")

    def _poll(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss(self._root, self._exclude))
            self._stop.wait(self._interval)

    def start(self) -> PeakRss:
        """Start polling."""
        self._thread.start()
        return self

    def stop(self) -> float:
        """Stop polling; the peak in MB."""
        self._stop.set()
        self._thread.join()
        return self.peak / MB

    @property
    def peak_mb(self) -> float:
        """The highest tree RSS seen, in MB."""
        return self.peak / MB


@dataclass
class Measured:
    """A child command's wall time, peak tree RSS and output."""

    wall_s: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str


def run_measured(cmd: Sequence[str], env: Mapping[str, str], *, cwd: str | None = None) -> Measured:
    """Run `cmd`, timing it and polling the RSS of its whole process tree."""
    started = time.perf_counter()
    proc = subprocess.Popen(  # noqa: S603 - commands built by the benchmark itself
        list(cmd),
        env=dict(env),
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    monitor = PeakRss(proc.pid).start()
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    peak = monitor.stop()
    return Measured(wall, peak, proc.returncode, out, err)
