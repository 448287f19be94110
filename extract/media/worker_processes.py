"""Media downloads spread over child processes, each with its own GIL and download threads."""

# Eight download threads in one process spend much of their time handing one GIL to each
# other: every socket read, file create, write and rename lets it go and takes it back. Two
# processes of four threads each fetched 32,000 of the benchmark's files 1.6 x as fast as
# eight threads in one, on two cores (benchmarks/README.md).
#
# The children are plain `python -m extract.media.download_worker` processes (not
# multiprocessing's spawn, which would import the caller's `__main__`, Prefect and all) that
# speak JSON lines: the parent writes one line of settings and one of `[index, url]` pairs to a
# child's stdin and keeps it open; the child writes one line per result, then `["done"]`.
# Closing a child's stdin, or the parent dying, tells the child to stop: it lets the downloads
# in flight end, as the threads of a single process do, and exits.

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from extract.media.records import K, MediaItem, MediaResult

logger = logging.getLogger(__name__)

MIN_ITEMS_PER_PROCESS = 1000
"""A child costs about a third of a second to start; fewer items than this run on threads."""
STOP_GRACE_SECONDS = 15.0
"""How long a stopping child may take to let its downloads in flight end before it is killed."""


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    """What a child passes to its own download_media (JSON on its first stdin line)."""

    media_dir: str
    allowed_hosts: list[str]
    user_agent: str
    max_bytes: int
    concurrency: int
    timeout: float
    attempt_timeout: float | None
    max_attempts: int
    backoff: float
    backoff_max: float
    durable: bool

    def download_options(self) -> dict[str, Any]:
        """These settings as download_media's keyword arguments (`media_dir` as a Path)."""
        return {**asdict(self), "media_dir": Path(self.media_dir)}


class MediaWorkerError(RuntimeError):
    """A download child process failed or ended without finishing its share."""


def _usable_cpus() -> int:
    """CPUs this process may run on (a container's cpuset, not the host's count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def processes_for(items: int, concurrency: int, cpus: int | None = None) -> int:
    """How many processes `items` downloads at `concurrency` should use: one per CPU, at
    most one per download in flight, and only with MIN_ITEMS_PER_PROCESS items for each."""
    cpus = cpus if cpus is not None else _usable_cpus()
    return max(1, min(cpus, concurrency, items // MIN_ITEMS_PER_PROCESS))


def processes_used(items: int, concurrency: int, processes: int | None) -> int:
    """The processes `items` downloads at `concurrency` run in: `processes` when given, else
    `processes_for`'s choice; never more than downloads in flight or items (one would sit
    idle)."""
    chosen = processes if processes is not None else processes_for(items, concurrency)
    return max(1, min(chosen, concurrency, items))


def _threads_each(concurrency: int, processes: int) -> list[int]:
    """`concurrency` download threads shared out as evenly as can be: 8 over 3 is 3, 3, 2."""
    base, extra = divmod(concurrency, processes)
    return [base + (1 if n < extra else 0) for n in range(processes)]


def result_line(index: int, result: MediaResult[Any]) -> str:
    """One result as the child writes it (the parent keeps the keys and URLs)."""
    return json.dumps(
        [
            index,
            result.state,
            result.sha256,
            result.size_bytes,
            result.content_type,
            result.fetched_at.isoformat(),
            result.attempts,
            result.error,
        ]
    )


def _result(item: MediaItem[K], fields: list[Any]) -> MediaResult[K]:
    _, state, sha256, size_bytes, content_type, fetched_at, attempts, error = fields
    return MediaResult(
        key=item.key,
        url=item.url,
        state=state,
        sha256=sha256,
        size_bytes=size_bytes,
        content_type=content_type,
        fetched_at=datetime.fromisoformat(fetched_at),
        attempts=attempts,
        error=error,
    )


_RESULT_FIELDS = 8
"""A result line: the item's index, then the seven fields `_result` reads."""

_Lines = queue.SimpleQueue[tuple[int, list[Any] | None]]
"""(child number, a parsed result line, or None when the child's output has ended)."""


class _Child:
    """One download child: its process and the thread that reads its results."""

    def __init__(
        self,
        number: int,
        settings: WorkerSettings,
        share: list[tuple[int, str]],
        lines: _Lines,
    ) -> None:
        self.number = number
        self.finished = False
        self.results = 0  # result lines read
        self.process = subprocess.Popen(  # noqa: S603 - fixed argv, our own interpreter
            child_command(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env={**os.environ, "PYTHONPATH": _import_path()},
        )
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self._stdin: IO[str] = self.process.stdin
        self._stdin.write(json.dumps(asdict(settings)) + "\n")
        self._stdin.write(json.dumps(share) + "\n")
        self._stdin.flush()  # and kept open: closing it is how the child is told to stop
        self._reader = threading.Thread(
            target=self._read,
            args=(self.process.stdout, lines),
            name=f"media_worker_{number}",
            daemon=True,
        )
        self._reader.start()

    def _read(self, stdout: IO[str], lines: _Lines) -> None:
        # Whatever happens here, the parent hears of the end of this child's output: it waits
        # for that, with the writer lock held.
        try:
            with stdout:
                for line in stdout:
                    fields = _result_line(line)
                    if fields is None:
                        # a library in the child printing to stdout: not a reason to stop
                        logger.warning(
                            "media download process %d wrote a line that is not a result "
                            "(%d characters); it was skipped",
                            self.number + 1,
                            len(line),
                        )
                        continue
                    lines.put((self.number, fields))
        except Exception as exc:  # an output that cannot be read at all (not UTF-8)
            lines.put((self.number, ["error", f"its output could not be read ({exc})"]))
        finally:
            lines.put((self.number, None))  # the child's end of the pipe is closed

    def stop(self) -> None:
        """Tell the child to stop, let it end its downloads in flight, then reap it."""
        with contextlib.suppress(OSError):
            self._stdin.close()
        try:
            self.process.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._reader.join()


def _result_line(line: str) -> list[Any] | None:
    """A child's output line as the list it wrote (a result, `["done"]` or `["error", text]`),
    or None when it is not one of those."""
    try:
        fields = json.loads(line)
    except ValueError:
        return None
    if not isinstance(fields, list) or not fields:
        return None
    if fields == ["done"] or (fields[0] == "error" and len(fields) == 2):
        return fields
    if type(fields[0]) is int and len(fields) == _RESULT_FIELDS:
        return fields
    return None


_CHILD_MAIN = (
    "import signal; signal.signal(signal.SIGINT, signal.SIG_IGN); import runpy; "
    "runpy.run_module('extract.media.download_worker', run_name='__main__', alter_sys=True)"
)


def child_command() -> list[str]:
    """A download child's command line: `python -m extract.media.download_worker`, but with
    SIGINT ignored before anything is imported. A terminal's Ctrl-C reaches the parent's whole
    process group, and stopping a child is the parent's (it closes the child's stdin): caught
    only once the child had imported its modules, it printed a traceback in that second."""
    # -P: not the working folder first on sys.path, where a folder named `extract` (a project
    # of the user's own) would be imported in place of ours
    return [sys.executable, "-P", "-c", _CHILD_MAIN]


def _import_path() -> str:
    """PYTHONPATH for a child: where this package is found first, then the parent's own."""
    root = str(Path(__file__).resolve().parents[2])
    inherited = os.environ.get("PYTHONPATH")
    return os.pathsep.join([root, inherited]) if inherited else root


def run_in_processes(
    items: Sequence[MediaItem[K]],
    settings: WorkerSettings,
    processes: int,
    finish: Callable[[int, MediaResult[K]], None],
) -> None:
    """Download `items` across `processes` children sharing `settings.concurrency` threads;
    `finish` each result (with the item's index) on this thread, as it comes.

    Items are dealt out in turn, in proportion to each child's threads. Raises
    MediaWorkerError when a child fails or dies; every child is stopped before this returns.
    """
    threads = _threads_each(settings.concurrency, processes)
    seats = [n for n, count in enumerate(threads) for _ in range(count)]
    shares: list[list[tuple[int, str]]] = [[] for _ in threads]
    for index, item in enumerate(items):
        shares[seats[index % len(seats)]].append((index, item.url))
    lines: _Lines = queue.SimpleQueue()
    children: list[_Child] = []
    try:
        for number, (count, share) in enumerate(zip(threads, shares, strict=True)):
            child_settings = replace(settings, concurrency=count)
            children.append(_Child(number, child_settings, share, lines))
        running = len(children)
        while running:
            number, fields = lines.get()
            child = children[number]
            if fields is None:
                running -= 1
                if not child.finished:
                    code = child.process.wait()
                    raise MediaWorkerError(
                        f"media download process {number + 1} of {processes} ended before its "
                        f"downloads did (exit code {code})"
                    )
            elif fields[0] == "done":
                child.finished = True
                if child.results < len(shares[number]):
                    # a result line run into other output: its file stays pending
                    logger.warning(
                        "media download process %d sent %d results of %d; the others are "
                        "left for the next run",
                        number + 1,
                        child.results,
                        len(shares[number]),
                    )
            elif fields[0] == "error":
                raise MediaWorkerError(f"media download process {number + 1} failed: {fields[1]}")
            else:
                child.results += 1
                finish(fields[0], _result(items[fields[0]], fields))
    finally:
        for child in children:
            child.stop()
