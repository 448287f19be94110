"""One DuckDB transaction around a block, ended without hiding why it failed."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import duckdb


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Run the block in one transaction: committed when the block ends, rolled back when it (or
    the commit) raises, with that error raised on."""
    con.begin()
    try:
        yield
        con.commit()
    except BaseException:
        roll_back(con)
        raise


def roll_back(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back the open transaction. A commit that failed (a full disk) has already ended it:
    DuckDB then has none to roll back, or has closed the database for good (FatalException),
    and its saying so must not replace the commit's error."""
    with contextlib.suppress(duckdb.TransactionException, duckdb.FatalException):
        con.rollback()
