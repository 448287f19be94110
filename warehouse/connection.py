"""Opens the archive's DuckDB file: migrated, in UTC, with a clear error when it is busy."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from warehouse.errors import WarehouseBusyError, WarehouseError
from warehouse.migrate import apply_migrations, check_migrations
from warehouse.queries import read_query

_HOLDER_PID = re.compile(r"\(PID (\d+)\)")


def open_warehouse(path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Connect to the archive at `path`.

    Writable: creates the parent folder and applies missing migrations. Read-only: the file
    must exist and be fully migrated. Either way the session's timezone is UTC. Raises
    `WarehouseBusyError` when another process has the file open for writing.
    """
    if read_only and not path.exists():
        raise WarehouseError(
            f"there is no archive at {path} yet: run `smsarchive backfill` or `sync` first"
        )
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        busy = busy_error_from(exc, path)
        if busy is None:
            raise
        raise busy from exc
    try:
        con.execute(read_query("set_session_timezone"))
        if read_only:
            check_migrations(con)
        else:
            apply_migrations(con)
    except BaseException:
        con.close()
        raise
    return con


def busy_error_from(exc: duckdb.Error, path: Path) -> WarehouseBusyError | None:
    """DuckDB's "Could not set lock on file" as a `WarehouseBusyError`; None for other errors."""
    text = str(exc)
    if "Could not set lock" not in text:
        return None
    match = _HOLDER_PID.search(text)
    pid = int(match.group(1)) if match else None
    holder = f"process {pid}" if pid is not None else "another process"
    return WarehouseBusyError(
        f"the archive {path} is open in {holder}: close the program that has it open "
        "(a notebook or Python session, the duckdb CLI, `smsarchive serve`, or another "
        "smsarchive run) and try again",
        pid=pid,
    )
