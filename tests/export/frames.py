"""Read an export back with duckdb, polars and pyarrow, and the warehouse's tables, as frames."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pyarrow.dataset as ds

from warehouse import open_warehouse

SORT_KEYS = {
    "messages": ["provider", "account", "kind", "message_id"],
    "media": ["provider", "account", "message_id", "position"],
    "carrier_status_history": [
        "provider",
        "account",
        "kind",
        "message_id",
        "seen_at",
        "carrier_status",
        "status",
    ],
}
YEAR_OF = {
    "messages": "sent_at",
    "media": None,  # the year of the media's message, checked by a join
    "carrier_status_history": "seen_at",
}


def warehouse_table(archive_path: Path, table: str) -> pl.DataFrame:
    """Every row of a public table, as DuckDB holds it, sorted by its key."""
    con = open_warehouse(archive_path, read_only=True)
    try:
        frame: pl.DataFrame = con.sql(f"SELECT * FROM {table}").pl()  # noqa: S608 - a fixed name
    finally:
        con.close()
    return frame.sort(SORT_KEYS[table], nulls_last=True)


def read_with_duckdb(out_dir: Path, table: str) -> pl.DataFrame:
    """`read_parquet(..., hive_partitioning=true)` over the current export."""
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        frame: pl.DataFrame = con.sql(
            "SELECT * FROM read_parquet($files, hive_partitioning = true)",
            params={"files": str(out_dir / "current" / table / "**" / "*.parquet")},
        ).pl()
    finally:
        con.close()
    return frame.sort(SORT_KEYS[table], nulls_last=True)


def read_with_polars(out_dir: Path, table: str) -> pl.DataFrame:
    """`pl.scan_parquet(..., hive_partitioning=True)` over the current export."""
    frame = pl.scan_parquet(out_dir / "current" / table, hive_partitioning=True).collect()
    return frame.sort(SORT_KEYS[table], nulls_last=True)


def read_with_pyarrow(out_dir: Path, table: str) -> pl.DataFrame:
    """`pyarrow.dataset.dataset(..., partitioning="hive")` over the current export."""
    data = ds.dataset(out_dir / "current" / table, partitioning="hive").to_table()
    frame = pl.from_arrow(data)
    assert isinstance(frame, pl.DataFrame)
    return frame.sort(SORT_KEYS[table], nulls_last=True)


READERS = {"duckdb": read_with_duckdb, "polars": read_with_polars, "pyarrow": read_with_pyarrow}


def arrow_schemas(out_dir: Path) -> dict[str, list[list[str]]]:
    """Each table's column names and Arrow types, as pyarrow sees the hive dataset."""
    schemas: dict[str, list[list[str]]] = {}
    for table in SORT_KEYS:
        schema = ds.dataset(out_dir / "current" / table, partitioning="hive").schema
        schemas[table] = [[field.name, str(field.type)] for field in schema]
    return schemas
