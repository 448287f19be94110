"""`python -m extract.media.download_worker`: one download child (see worker_processes)."""

from __future__ import annotations

import _thread
import json
import os
import signal
import sys
import threading
from types import FrameType
from typing import Any, NoReturn, TextIO

from extract.media.download import download_each
from extract.media.records import MediaItem, MediaResult
from extract.media.worker_processes import WorkerSettings, result_line

SLICE = 5000
"""Items downloaded per download_each call: it holds every item's parsed URL until it returns
(with each result as well, as download_media did then, ~1.5 KB an item: two children held
306 MB for 162,040 items in one call, so a share of 500,000 would have grown to ~750 MB)."""


class _Stop(BaseException):
    """Raised in the main thread when the parent closes stdin, dies, or sends SIGTERM."""


def _given_line() -> str:
    """The parent's next line; _Stop when it ended before the line did (it died or stopped
    while sending it: what came is not all it meant to send)."""
    line = sys.stdin.readline()
    if not line.endswith("\n"):
        raise _Stop
    return line


def _stop(signum: int, frame: FrameType | None) -> NoReturn:
    raise _Stop


def _watch_parent() -> None:
    # stdin stays open for as long as the parent wants us; EOF means stop (it may be dead).
    sys.stdin.read()
    if hasattr(signal, "pthread_kill"):  # a real signal: it wakes a main thread that waits
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGTERM)
    else:  # Windows: the handler runs once the main thread next runs Python
        _thread.interrupt_main(signal.SIGTERM)


def main() -> int:
    """Read settings and items from stdin, download, write one JSON line per result."""
    # Ctrl-C reaches the parent too; it decides, and tells us by closing stdin (the parent
    # starts us with SIGINT ignored already: worker_processes.child_command)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    out = sys.stdout
    sys.stdout = sys.stderr  # nothing but results goes to the parent's pipe

    def send(result: MediaResult[int]) -> None:
        out.write(result_line(result.key, result) + "\n")
        out.flush()

    signal.signal(signal.SIGTERM, _stop)
    try:  # from here on a stop may come at any line: stdin closed at once is one
        settings = WorkerSettings(**json.loads(_given_line()))
        share: list[list[Any]] = json.loads(_given_line())
        threading.Thread(target=_watch_parent, name="parent_watch", daemon=True).start()
        for start in range(0, len(share), SLICE):
            part = share[start : start + SLICE]
            download_each(
                [MediaItem(key=int(index), url=str(url)) for index, url in part],
                **settings.download_options(),
                stale_temp_after=float("inf"),  # the parent cleaned media/.tmp before us
                on_result=send,
                processes=1,
            )
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # done: a stop now changes nothing
    except _Stop:
        return 1
    except BrokenPipeError:  # the parent is gone (killed): no one is left to tell
        return _parent_gone(out)
    except Exception as exc:  # reported to the parent, which raises it
        return _tell(out, ["error", f"{type(exc).__name__}: {exc}"], 1)
    return _tell(out, ["done"], 0)


def _tell(out: TextIO, line: list[str], code: int) -> int:
    """Send the parent `line`, and return `code`; or 1, quietly, when the parent is gone."""
    try:
        out.write(json.dumps(line) + "\n")
        out.flush()
    except BrokenPipeError:
        return _parent_gone(out)
    return code


def _parent_gone(out: TextIO) -> int:
    """1, with the results' pipe pointed at /dev/null: what is left in its buffer would
    otherwise fail again, with a traceback, as the interpreter flushes it at exit."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, out.fileno())
    os.close(devnull)
    return 1


if __name__ == "__main__":
    sys.exit(main())
