"""Reads the SQL files shipped in warehouse/sql and warehouse/migrations."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

import duckdb
import polars as pl

_PACKAGE = "warehouse"


def query_dir() -> Traversable:
    """The folder of query files (`warehouse/sql`)."""
    return files(_PACKAGE) / "sql"


def migration_dir() -> Traversable:
    """The folder of migration files (`warehouse/migrations`)."""
    return files(_PACKAGE) / "migrations"


@cache
def read_query(name: str) -> str:
    """The text of `warehouse/sql/<name>.sql`, e.g. `read_query("insert_new_messages")`."""
    resource = query_dir() / f"{name}.sql"
    if not resource.is_file():
        raise FileNotFoundError(f"no query file warehouse/sql/{name}.sql")
    return resource.read_text(encoding="utf-8")


def query_frame(
    con: duckdb.DuckDBPyConnection, name: str, params: dict[str, object] | None = None
) -> pl.DataFrame:
    """Run the SELECT in `warehouse/sql/<name>.sql` with bound `params`; the result as polars."""
    frame: pl.DataFrame = con.sql(read_query(name), params=params).pl()
    return frame


def query_row(
    con: duckdb.DuckDBPyConnection, name: str, params: dict[str, object] | None = None
) -> tuple[Any, ...] | None:
    """Run `warehouse/sql/<name>.sql` and return its first row (None when it has none).

    The whole result is fetched, so the connection is free for the next statement.
    """
    rows = con.execute(read_query(name), params).fetchall()
    return tuple(rows[0]) if rows else None
