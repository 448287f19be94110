"""Ending a DuckDB transaction that failed, without hiding why it failed."""

from __future__ import annotations

import contextlib

import duckdb


def roll_back(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back the open transaction. A commit that failed (a full disk) has already ended it:
    DuckDB then has none to roll back, and its saying so must not replace the commit's error."""
    with contextlib.suppress(duckdb.TransactionException):
        con.rollback()
