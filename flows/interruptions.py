"""A run stopped from outside (Ctrl-C, SIGTERM), told apart however DuckDB wrapped the stop."""

from __future__ import annotations

import duckdb


class Terminated(KeyboardInterrupt):
    """SIGTERM (a `kill`, a service manager stopping us), taken the way Ctrl-C is: the run is
    closed as interrupted, media children stopped, the progress file removed."""


def query_interrupted(exc: BaseException) -> bool:
    """Whether DuckDB stopped a query for Ctrl-C or SIGTERM: it raises its own error, not the
    KeyboardInterrupt (RuntimeError "Query interrupted", its InterruptException, or a scan of
    a polars frame that failed with "KeyboardInterrupt" or "Terminated" inside)."""
    text = str(exc)
    return (
        isinstance(exc, duckdb.InterruptException)
        or text == "Query interrupted"
        or (
            isinstance(exc, duckdb.Error)
            and ("KeyboardInterrupt" in text or Terminated.__name__ in text)
        )
    )


def terminated(exc: BaseException) -> bool:
    """Whether `exc` is SIGTERM's stop, itself or wrapped by DuckDB."""
    return isinstance(exc, Terminated) or (
        isinstance(exc, duckdb.Error) and Terminated.__name__ in str(exc)
    )


def stopped_from_outside(exc: BaseException) -> bool:
    """Whether a run was stopped rather than failed: Ctrl-C or SIGTERM (KeyboardInterrupt in
    the CLI, or DuckDB's error for it), or a signal Prefect raises in a flow run it cancels or
    that is terminated (TerminationSignal), neither of them an Exception."""
    return not isinstance(exc, Exception) or query_interrupted(exc)
