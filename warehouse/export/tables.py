"""The tables an export holds, the query file that shapes each, and the export's schema version."""

from __future__ import annotations

from dataclasses import dataclass

EXPORT_SCHEMA_VERSION = 1
"""Bumped whenever an exported column changes type or goes away (adding one does not)."""

PARTITION_COLUMN = "year"
"""The hive partition key of every table (`<table>/year=2024/…`); in the path, not the files."""


@dataclass(frozen=True)
class ExportTable:
    """One exported table: its folder name and the SELECT in `warehouse/sql/<query>.sql`."""

    name: str
    query: str
    partitioned_by: str


EXPORT_TABLES: tuple[ExportTable, ...] = (
    ExportTable("messages", "export_messages", "UTC year of sent_at"),
    ExportTable("media", "export_media", "UTC year of its message's sent_at"),
    ExportTable("carrier_status_history", "export_carrier_status_history", "UTC year of seen_at"),
)
