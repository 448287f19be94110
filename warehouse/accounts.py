"""The accounts an archive holds messages of."""

from __future__ import annotations

import duckdb

from warehouse.queries import read_query


def archived_accounts(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every account the archive holds a message of, in order."""
    return [str(row[0]) for row in con.execute(read_query("select_archived_accounts")).fetchall()]
