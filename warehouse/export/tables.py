"""The tables an export holds, the query file that shapes each, and the export's schema version."""

from __future__ import annotations

from dataclasses import dataclass

EXPORT_SCHEMA_VERSION = 1
"""Bumped whenever an exported column changes type or goes away (adding one does not)."""

PARTITION_COLUMN = "year"
"""The hive partition key of every table (`<table>/year=2024/…`); in the path, not the files."""


@dataclass(frozen=True)
class ExportTable:
    """One exported table: its folder name and the SELECT in `warehouse/sql/<query>.sql`.

    With `years` (a query listing the table's partition years), `query` selects one year's rows,
    between the bound instants `$from` and `$to`, and each year is written as its own file: a
    range on the archive's own timestamp, so DuckDB skips the other years' row groups. Without
    it, `query` returns every row with a `year` column and DuckDB partitions the rows itself
    (for a table whose year needs a join: one pass over it instead of one per year).
    """

    name: str
    query: str
    partitioned_by: str
    years: str | None = None


EXPORT_TABLES: tuple[ExportTable, ...] = (
    ExportTable(
        "messages", "export_messages", "UTC year of sent_at", years="export_messages_years"
    ),
    ExportTable("media", "export_media", "UTC year of its message's sent_at"),
    ExportTable(
        "carrier_status_history",
        "export_carrier_status_history",
        "UTC year of seen_at",
        years="export_carrier_status_history_years",
    ),
)
