"""Prefect flow `export`: the archive's public tables as an atomically swapped parquet snapshot."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.runtime import current_settings
from flows.settings import Settings
from warehouse.export import CURRENT, ExportResult, TableExport, export_archive

logger = logging.getLogger("smsarchive")

EXPORT_DIR = "export"


def default_export_dir(settings: Settings) -> Path:
    """Where `export` writes when not told: `<SMSARCHIVE_DATA_DIR>/export`."""
    return settings.smsarchive_data_dir / EXPORT_DIR


def _log_table(table: TableExport) -> None:
    logger.info("exported %s: %s rows", table.name, f"{table.rows:,}")


@task(name="export-parquet", cache_policy=NO_CACHE)
def export_task(archive_path: Path, out_dir: Path) -> ExportResult:
    """Write one complete snapshot of the archive under `out_dir` and make it current."""
    return export_archive(archive_path, out_dir, on_table=_log_table)


def export_summary(result: ExportResult) -> dict[str, Any]:
    """Plain values describing a finished export, for the terminal and Prefect's flow result."""
    out_dir = Path(result.out_dir)
    return {
        "out_dir": str(out_dir),
        "current": str(out_dir / CURRENT),
        "snapshot": str(out_dir / result.snapshot_path),
        "exported_at": result.exported_at.isoformat(),
        "rows": result.row_counts,
    }


@flow(name="export", log_prints=False)
def export(out: str | None = None) -> dict[str, Any]:
    """Export messages, media and carrier_status_history to `out` (default: data dir/export)."""
    settings = current_settings()
    out_dir = Path(out) if out else default_export_dir(settings)
    return export_summary(export_task(settings.archive_path, out_dir))


def run_export(out_dir: Path | None = None) -> dict[str, Any]:
    """Run the export flow with the current settings; its summary."""
    result: dict[str, Any] = export(str(out_dir) if out_dir is not None else None)
    return result
