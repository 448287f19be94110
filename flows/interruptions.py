"""A run stopped from outside (Ctrl-C, SIGTERM), told apart however DuckDB wrapped the stop."""

from __future__ import annotations

import re
from typing import Final

import duckdb


class Terminated(KeyboardInterrupt):
    """SIGTERM (a `kill`, a service manager stopping us), taken the way Ctrl-C is: the run is
    closed as interrupted, media children stopped, the progress file removed."""


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
    """Whether `exc` is SIGTERM's stop, itself or wrapped by DuckDB."""
    return isinstance(exc, Terminated) or _wrapped_stop(exc) == Terminated.__name__


def stopped_from_outside(exc: BaseException) -> bool:
    """Whether a run was stopped rather than failed: Ctrl-C or SIGTERM (KeyboardInterrupt in
    the CLI, or DuckDB's error for it), or a signal Prefect raises in a flow run it cancels or
    that is terminated (TerminationSignal), neither of them an Exception."""
    return not isinstance(exc, Exception) or query_interrupted(exc)
