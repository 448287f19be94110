"""A run stopped from outside (Ctrl-C, SIGTERM), told apart however DuckDB wrapped the stop."""

from __future__ import annotations

import re
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Final

import duckdb


class Terminated(KeyboardInterrupt):
    """SIGTERM (a `kill`, a service manager stopping us), taken the way Ctrl-C is: the run is
    closed as interrupted, media children stopped, the progress file removed."""


_SIGTERM_SEEN: Final = threading.Event()
"""Set once SIGTERM arrived: DuckDB may turn the Terminated it raised into its plain
'Query interrupted', which alone would read as Ctrl-C."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    _SIGTERM_SEEN.set()
    raise Terminated


@contextmanager
def sigterm_as_terminated() -> Iterator[None]:
    """Meanwhile SIGTERM raises Terminated in the main thread (elsewhere, nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _SIGTERM_SEEN.clear()  # a command's own: not one an earlier command in this process had
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


NOTHING_LOST: Final = "nothing is lost, rerun to continue"
"""What a stopped run (Ctrl-C, SIGTERM) leaves: every window merged is kept, the rest is
fetched by the next run."""

_STOPS: Final = ("KeyboardInterrupt", "Terminated", "TerminationSignal")
"""Stops from outside, as DuckDB names the Python exception that ended its scan of a frame."""


def _wrapped_stop(exc: BaseException) -> str | None:
    """The stop a DuckDB error ends on ("… failed: Terminated", or a traceback's last line
    `flows.interruptions.Terminated`), else None: the name must end the text, so an error
    merely quoting the word (a value in a constraint's message) is not one."""
    if not isinstance(exc, duckdb.Error):
        return None
    found = re.search(r"(?:^|[\s.:])(\w+)\s*$", str(exc))
    return found.group(1) if found is not None and found.group(1) in _STOPS else None


def query_interrupted(exc: BaseException) -> bool:
    """Whether DuckDB stopped a query for Ctrl-C or SIGTERM: it raises its own error, not the
    KeyboardInterrupt (RuntimeError "Query interrupted", its InterruptException, or a scan of
    a polars frame that failed with a stop inside)."""
    return (
        isinstance(exc, duckdb.InterruptException)
        or str(exc) == "Query interrupted"
        or _wrapped_stop(exc) is not None
    )


def terminated(exc: BaseException) -> bool:
    """Whether `exc` is SIGTERM's stop, itself, wrapped by DuckDB, or a query DuckDB stopped
    for it under its own name."""
    return (
        isinstance(exc, Terminated)
        or _wrapped_stop(exc) == Terminated.__name__
        or (query_interrupted(exc) and _SIGTERM_SEEN.is_set())
    )


def stopped_from_outside(exc: BaseException) -> bool:
    """Whether a run was stopped rather than failed: Ctrl-C or SIGTERM (KeyboardInterrupt in
    the CLI, or DuckDB's error for it), or a signal Prefect raises in a flow run it cancels or
    that is terminated (TerminationSignal), neither of them an Exception."""
    return not isinstance(exc, Exception) or query_interrupted(exc)
