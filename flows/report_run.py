"""Writes a report from the archive: plain steps, run as they are or as Prefect tasks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from flows.settings import Settings
from transform.phone_numbers import e164_of
from transform.status import unmapped_only
from warehouse import open_warehouse
from warehouse.report import (
    Grain,
    ReportFiles,
    ReportScope,
    archived_account,
    chart_specs,
    default_folder,
    point_latest,
    prune_reports,
    refuse_a_folder_of_another_kind,
    report_tables,
    scope_line,
    summary_lines,
    summary_markdown,
    with_fitting_grain,
    write_in_place,
    write_report,
    write_whole,
)

ReadTables = Callable[[Path, ReportScope], dict[str, pl.DataFrame]]
WriteReport = Callable[[Path, dict[str, pl.DataFrame], ReportScope, datetime], ReportFiles]


def read_tables(archive: Path, scope: ReportScope) -> dict[str, pl.DataFrame]:
    """Every report table, from the archive opened read-only."""
    con = open_warehouse(archive, read_only=True, upgrade=True)
    try:
        return report_tables(con, scope)
    finally:
        con.close()


def _resolved(archive: Path, scope: ReportScope, *, pick_grain: bool) -> ReportScope:
    """`scope` with its account as the archive names it (see `archived_account`) and, with
    `pick_grain`, the grain that draws its days readably (see `fitting_grain`)."""
    if scope.account is None and not pick_grain:
        return scope
    con = open_warehouse(archive, read_only=True, upgrade=True)
    try:
        if scope.account is not None:
            scope = replace(scope, account=archived_account(con, scope.account))
        return with_fitting_grain(con, scope) if pick_grain else scope
    finally:
        con.close()


def write_files(
    folder: Path, tables: dict[str, pl.DataFrame], scope: ReportScope, made_at: datetime
) -> ReportFiles:
    """Charts, page, PNGs and CSVs into `folder`."""
    return write_report(folder, tables, chart_specs(tables, scope), scope, made_at)


@dataclass(frozen=True)
class ReportRun:
    """A written report: what to print, and the markdown for a Prefect artifact."""

    result: dict[str, Any]
    markdown: str
    description: str


def make_report(
    settings: Settings,
    *,
    start: date | None = None,
    end: date | None = None,
    did: str | None = None,
    grain: Grain | None = None,
    out: Path | None = None,
    account: str | None = None,
    timezone: str | None = None,
    read: ReadTables = read_tables,
    write: WriteReport = write_files,
) -> ReportRun:
    """Write a report of local days `start`..`end` (None: open) for one DID or all, of one
    `account` or all of the archive's (counted together). Local days and hours are in
    `timezone`, by default `settings.report_timezone`. Without a `grain`, weeks, or months
    where the days hold too many weeks to draw (`fitting_grain`).

    Without `out` it goes to `<data dir>/reports/<UTC timestamp>/` and `reports/latest` is
    pointed at it. `read` and `write` are the steps (plain, or Prefect tasks).
    """
    # as archived: a DID typed as the portal shows it (10 digits) is the same DID, and an
    # account's e-mail in any case is the account, named on the page as the archive names it
    did = e164_of(did) if did is not None else None
    if out is not None:
        refuse_a_folder_of_another_kind(out)
    zone = timezone or settings.report_timezone
    scope = ReportScope(zone, start, end, did, grain or "week", account)
    scope = _resolved(settings.archive_path, scope, pick_grain=grain is None)
    made_at = datetime.now(UTC)
    tables = read(settings.archive_path, scope)
    # the warehouse lists every text read 'unknown'; the rules that tell no news from an
    # unmapped text are the transform's
    tables["unmapped_statuses"] = unmapped_only(tables["unmapped_statuses"])
    # claimed once the tables are read: a refused report (an unknown DID) leaves no folder
    if out is not None:
        files = write_in_place(out, lambda folder: write(folder, tables, scope, made_at))
    else:
        files = write_whole(
            default_folder(settings.smsarchive_data_dir, made_at),
            lambda folder: write(folder, tables, scope, made_at),
        )
        point_latest(files.folder, files.folder.parent / "latest")
        prune_reports(files.folder.parent)
    return ReportRun(
        result={
            "folder": str(files.folder),
            "html": str(files.html),
            "charts": len(files.charts),
            "tables": len(files.tables),
            "messages": int(tables["totals"]["messages"][0]),
            "summary": summary_lines(tables),
        },
        markdown=summary_markdown(tables, scope, files.folder),
        description=f"smsarchive report: {scope_line(scope, tables)}",
    )
