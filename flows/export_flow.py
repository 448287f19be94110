"""Prefect flow `export`: the archive's public tables as an atomically swapped parquet snapshot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.export_run import default_export_dir, export_now, export_summary
from flows.logging_setup import send_logs_to_prefect
from flows.prefect_outage import work_done
from flows.run_names import started_at
from flows.runtime import current_settings
from flows.stopped_runs import cancelled_if_stopped
from warehouse.export import ExportResult


@task(name="export-parquet", cache_policy=NO_CACHE)
def export_task(archive_path: Path, out_dir: Path) -> ExportResult:
    """Write one complete snapshot of the archive under `out_dir` and make it current."""
    return export_now(archive_path, out_dir)


@flow(name="export", flow_run_name=started_at("export"), log_prints=False)
def export(out: str | None = None) -> dict[str, Any]:
    """Export messages, media and carrier_status_history to `out` (default: data dir/export)."""
    send_logs_to_prefect()
    settings = current_settings()
    out_dir = Path(out) if out else default_export_dir(settings)
    with cancelled_if_stopped():
        exported = export_task(settings.archive_path, out_dir)
    return work_done(export_summary(exported))
