"""Exports the archive as parquet: a plain step, run as it is or as a Prefect task."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flows.orchestration import prefect_wanted
from flows.prefect_outage import kept_if_prefect_stops
from flows.prefect_results import prefect_results_in
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


def export_now(archive_path: Path, out_dir: Path) -> ExportResult:
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


def run_export(out_dir: Path | None = None) -> dict[str, Any]:
    """Export with the current settings (the `export` flow when Prefect is configured)."""
    settings = current_settings()
    if prefect_wanted():
        from flows.export_flow import export

        with prefect_results_in(settings.smsarchive_data_dir):
            result: dict[str, Any] = kept_if_prefect_stops(
                lambda: export(str(out_dir) if out_dir is not None else None),
                settings.smsarchive_data_dir,
            )
        return result
    return export_summary(
        export_now(settings.archive_path, out_dir or default_export_dir(settings))
    )
