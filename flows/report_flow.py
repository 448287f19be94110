"""Prefect flow `report`: reads the archive read-only, writes the report, leaves an artifact."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from flows.runtime import current_settings
from warehouse import open_warehouse
from warehouse.report import (
    Grain,
    ReportFiles,
    ReportScope,
    chart_specs,
    default_folder,
    point_latest,
    report_tables,
    summary_lines,
    summary_markdown,
    write_report,
)

ARTIFACT_KEY = "smsarchive-report"


@task(name="read-report-tables", cache_policy=NO_CACHE)
def read_tables_task(archive: Path, scope: ReportScope) -> dict[str, pl.DataFrame]:
    """Every report table, from the archive opened read-only."""
    con = open_warehouse(archive, read_only=True)
    try:
        return report_tables(con, scope)
    finally:
        con.close()


@task(name="write-report", cache_policy=NO_CACHE)
def write_report_task(
    folder: Path, tables: dict[str, pl.DataFrame], scope: ReportScope, made_at: datetime
) -> ReportFiles:
    """Charts, page, PNGs and CSVs into `folder`."""
    return write_report(folder, tables, chart_specs(tables, scope), scope, made_at)


@flow(name="report", log_prints=False)
def report(
    start: date | None = None,
    end: date | None = None,
    did: str | None = None,
    grain: Grain = "week",
    out: Path | None = None,
) -> dict[str, Any]:
    """Write a report of local days `start`..`end` (None: open) for one DID or all.

    Without `out` it goes to `<data dir>/reports/<UTC timestamp>/` and `reports/latest` is
    pointed at it. Returns the folder, the page and the summary lines.
    """
    settings = current_settings()
    scope = ReportScope(settings.voipms_account_timezone, start, end, did, grain)
    made_at = datetime.now(UTC)
    folder = out if out is not None else default_folder(settings.smsarchive_data_dir, made_at)
    tables = read_tables_task(settings.archive_path, scope)
    files = write_report_task(folder, tables, scope, made_at)
    if out is None:
        point_latest(files.folder, files.folder.parent / "latest")
    create_markdown_artifact(
        key=ARTIFACT_KEY,
        markdown=summary_markdown(tables, scope, files.folder),
        description=f"smsarchive report: {scope.describe()}",
    )
    return {
        "folder": str(files.folder),
        "html": str(files.html),
        "charts": len(files.charts),
        "tables": len(files.tables),
        "summary": summary_lines(tables),
    }
