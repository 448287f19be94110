"""Counts the messages a replay corrected: their derived columns before and after, net."""

from __future__ import annotations

import duckdb

from warehouse.queries import query_row, read_query


def snapshot_derived_columns(con: duckdb.DuckDBPyConnection) -> None:
    """Keep a hash of every message's derived columns (a temp table of this connection)."""
    con.execute(read_query("snapshot_derived_columns"))


def corrected_since_snapshot(con: duckdb.DuckDBPyConnection) -> int:
    """Messages whose derived columns differ now from the snapshot; the snapshot is dropped.

    Net: a message two landed windows read differently, changed and changed back by the
    replay, is not counted.
    """
    row = query_row(con, "count_corrected_messages")
    con.execute(read_query("drop_derived_snapshot"))
    return int(row[0]) if row is not None else 0
