"""The export's `_manifest.json`: tables, row counts, columns, schema version, when it was taken."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
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
class ArchiveRun:
    """The archive's latest backfill or sync run when it was exported: an archive that still
    holds it is that archive, or grown from it (an archive never drops a message)."""

    run_id: int
    started_at: datetime


@dataclass(frozen=True)
class ExportResult:
    """A finished export: where it is and what it holds."""

    out_dir: str
    snapshot: str
    snapshot_path: str
    exported_at: datetime
    archive_schema_version: int | None
    tables: tuple[TableExport, ...]
    archive_last_run: ArchiveRun | None = None

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
        "archive_last_run": _run_dict(result.archive_last_run),
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


def _run_dict(run: ArchiveRun | None) -> dict[str, Any] | None:
    """The run as the manifest holds it: its id, and its start in UTC (`Z`)."""
    if run is None:
        return None
    started_at = run.started_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return {"run_id": run.run_id, "started_at": started_at}


def rows_of(manifest: dict[str, Any], table: str) -> int | None:
    """The rows of `table` a manifest records; None when it records none readable."""
    try:
        return int(manifest["tables"][table]["rows"])
    except (KeyError, TypeError, ValueError):
        return None


def archive_run_of(manifest: dict[str, Any]) -> ArchiveRun | None:
    """The archive's last run a manifest records; None when it records none (an archive
    exported before any run, or by an smsarchive that did not record it)."""
    said = manifest.get("archive_last_run")
    if not isinstance(said, dict):
        return None
    try:
        started_at = datetime.fromisoformat(said["started_at"])
        return ArchiveRun(run_id=int(said["run_id"]), started_at=started_at)
    except (KeyError, TypeError, ValueError):
        return None


def exported_at_of(manifest: dict[str, Any]) -> datetime | None:
    """When a manifest says its snapshot was exported; None when it does not say readably."""
    try:
        return datetime.fromisoformat(manifest["exported_at"])
    except (KeyError, TypeError, ValueError):
        return None


def manifest_json(result: ExportResult) -> str:
    """The manifest as stable, indented JSON text."""
    return json.dumps(manifest_dict(result), indent=2, ensure_ascii=False) + "\n"
