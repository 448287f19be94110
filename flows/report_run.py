"""Writes a report from the archive: plain steps, run as they are or as Prefect tasks."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from flows.settings import Settings
from transform.phone_numbers import e164_of
from transform.status import unmapped_only
from warehouse import open_warehouse
from warehouse.report import (
    STALE_STAGING,
    Grain,
    ReportFiles,
    ReportScope,
    archived_account,
    chart_specs,
    default_folder,
    point_latest,
    prune_reports,
    report_tables,
    scope_line,
    staging_folder,
    summary_lines,
    summary_markdown,
    write_report,
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


def _archived_account(archive: Path, account: str) -> str:
    """`account` as the archive names it (see `archived_account`)."""
    con = open_warehouse(archive, read_only=True, upgrade=True)
    try:
        return archived_account(con, account)
    finally:
        con.close()


def write_files(
    folder: Path, tables: dict[str, pl.DataFrame], scope: ReportScope, made_at: datetime
) -> ReportFiles:
    """Charts, page, PNGs and CSVs into `folder`."""
    return write_report(folder, tables, chart_specs(tables, scope), scope, made_at)


def _write_whole(
    folder: Path,
    tables: dict[str, pl.DataFrame],
    scope: ReportScope,
    made_at: datetime,
    write: WriteReport,
) -> ReportFiles:
    """Write the report into `folder` (claimed, empty) by way of a hidden folder beside it,
    renamed over it once whole: a report stopped midway (Ctrl-C, a chart that fails) leaves
    neither a folder that looks like a report nor its name claimed."""
    staging = staging_folder(folder)
    try:
        files = write(staging, tables, scope, made_at)
        os.rename(staging, folder)  # over the empty folder: atomic
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        with contextlib.suppress(OSError):
            folder.rmdir()
        raise
    return files.moved_to(folder)


OUT_STAGING_PREFIX = ".report-"
OUT_STAGING_SUFFIX = ".writing"


def _write_in_place(
    out: Path,
    tables: dict[str, pl.DataFrame],
    scope: ReportScope,
    made_at: datetime,
    write: WriteReport,
) -> ReportFiles:
    """Write the report into `out` (made if missing; other files left) by way of a hidden
    folder in it, then move each file over its old name, the page last: a report stopped
    midway leaves `out`'s earlier report whole, not new tables beside an old page. One killed
    outright leaves the hidden folder, which a report into `out` a day later removes (a
    younger one may be another report's, writing now)."""
    out.mkdir(mode=0o700, parents=True, exist_ok=True)  # message texts: owner only
    cutoff = time.time() - STALE_STAGING.total_seconds()
    for leftover in out.glob(f"{OUT_STAGING_PREFIX}*{OUT_STAGING_SUFFIX}"):
        if leftover.is_dir() and not leftover.is_symlink() and leftover.stat().st_mtime < cutoff:
            shutil.rmtree(leftover, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(prefix=OUT_STAGING_PREFIX, suffix=OUT_STAGING_SUFFIX, dir=out))
    try:
        files = write(staging, tables, scope, made_at)
        for path in sorted(staging.iterdir(), key=lambda path: path == files.html):
            os.replace(path, out / path.name)  # a file or a planted link replaced, not followed
        staging.rmdir()
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return files.moved_to(out)


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
    grain: Grain = "week",
    out: Path | None = None,
    account: str | None = None,
    timezone: str | None = None,
    read: ReadTables = read_tables,
    write: WriteReport = write_files,
) -> ReportRun:
    """Write a report of local days `start`..`end` (None: open) for one DID or all, of one
    `account` or all of the archive's (counted together). Local days and hours are in
    `timezone`, by default `settings.report_timezone`.

    Without `out` it goes to `<data dir>/reports/<UTC timestamp>/` and `reports/latest` is
    pointed at it. `read` and `write` are the steps (plain, or Prefect tasks).
    """
    # as archived: a DID typed as the portal shows it (10 digits) is the same DID, and an
    # account's e-mail in any case is the account, named on the page as the archive names it
    did = e164_of(did) if did is not None else None
    if account is not None:
        account = _archived_account(settings.archive_path, account)
    zone = timezone or settings.report_timezone
    scope = ReportScope(zone, start, end, did, grain, account)
    made_at = datetime.now(UTC)
    tables = read(settings.archive_path, scope)
    # the warehouse lists every text read 'unknown'; the rules that tell no news from an
    # unmapped text are the transform's
    tables["unmapped_statuses"] = unmapped_only(tables["unmapped_statuses"])
    # claimed once the tables are read: a refused report (an unknown DID) leaves no folder
    if out is not None:
        files = _write_in_place(out, tables, scope, made_at, write)
    else:
        files = _write_whole(
            default_folder(settings.smsarchive_data_dir, made_at), tables, scope, made_at, write
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
