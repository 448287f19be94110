"""Prefect flow `report`: the steps of flows/report_run.py as tasks, plus an artifact."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from flows.logging_setup import send_logs_to_prefect
from flows.prefect_outage import work_done
from flows.report_run import make_report, read_tables, write_files
from flows.run_names import started_at
from flows.runtime import current_settings
from flows.stopped_runs import cancelled_if_stopped
from warehouse.report import Grain, ReportFiles, ReportScope

ARTIFACT_KEY = "smsarchive-report"


@task(name="read-report-tables", cache_policy=NO_CACHE)
def read_tables_task(archive: Path, scope: ReportScope) -> dict[str, pl.DataFrame]:
    """Every report table, from the archive opened read-only."""
    return read_tables(archive, scope)


@task(name="write-report", cache_policy=NO_CACHE)
def write_report_task(
    folder: Path, tables: dict[str, pl.DataFrame], scope: ReportScope, made_at: datetime
) -> ReportFiles:
    """Charts, page, PNGs and CSVs into `folder`."""
    return write_files(folder, tables, scope, made_at)


@flow(name="report", flow_run_name=started_at("report"), log_prints=False)
def report(
    start: date | None = None,
    end: date | None = None,
    did: str | None = None,
    grain: Grain | None = None,
    out: Path | None = None,
    account: str | None = None,
    timezone: str | None = None,
) -> dict[str, Any]:
    """Write a report of local days `start`..`end` (None: open) for one DID or all, by
    `grain` (None: weeks, or months where weeks would crowd).

    Without `out` it goes to `<data dir>/reports/<UTC timestamp>/` and `reports/latest` is
    pointed at it. Returns the folder, the page and the summary lines.
    """
    send_logs_to_prefect()
    with cancelled_if_stopped():
        run = make_report(
            current_settings(),
            start=start,
            end=end,
            did=did,
            grain=grain,
            out=out,
            account=account,
            timezone=timezone,
            read=read_tables_task,
            write=write_report_task,
        )
    result = work_done(run.result)  # the report is written; the artifact is Prefect's copy
    create_markdown_artifact(key=ARTIFACT_KEY, markdown=run.markdown, description=run.description)
    return result
