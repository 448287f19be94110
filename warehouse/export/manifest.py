"""The export's `_manifest.json`: tables, row counts, columns, schema version, when it was taken."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from warehouse.export.tables import EXPORT_SCHEMA_VERSION, PARTITION_COLUMN


@dataclass(frozen=True)
class TableExport:
    """One table as written: its folder (relative to the snapshot), rows and column types."""

    name: str
    path: str
    rows: int
    partitioned_by: str
    columns: tuple[tuple[str, str], ...]
    """(name, DuckDB type) of the columns inside the files, in order; `year` is in the path."""


@dataclass(frozen=True)
class ExportResult:
    """A finished export: where it is and what it holds."""

    out_dir: str
    snapshot: str
    snapshot_path: str
    exported_at: datetime
    archive_schema_version: int | None
    tables: tuple[TableExport, ...]

    @property
    def row_counts(self) -> dict[str, int]:
        """Rows per table."""
        return {table.name: table.rows for table in self.tables}


def manifest_dict(result: ExportResult) -> dict[str, Any]:
    """The manifest's content (JSON-ready)."""
    return {
        "format": "smsarchive-parquet-export",
        "schema_version": EXPORT_SCHEMA_VERSION,
        "archive_schema_version": result.archive_schema_version,
        "exported_at": result.exported_at.isoformat().replace("+00:00", "Z"),
        "snapshot": result.snapshot,
        "snapshot_path": result.snapshot_path,
        "compression": "zstd",
        "partitioning": {"flavor": "hive", "column": PARTITION_COLUMN, "type": "INTEGER"},
        "tables": {
            table.name: {
                "path": table.path,
                "rows": table.rows,
                "partitioned_by": table.partitioned_by,
                "columns": [{"name": name, "type": kind} for name, kind in table.columns],
            }
            for table in result.tables
        },
    }


def manifest_json(result: ExportResult) -> str:
    """The manifest as stable, indented JSON text."""
    return json.dumps(manifest_dict(result), indent=2, ensure_ascii=False) + "\n"
