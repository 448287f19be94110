"""Writes a report folder: report.html, one PNG per chart, one CSV per table, and `latest`."""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

import polars as pl

from warehouse.errors import ForeignReportFolderError
from warehouse.folder_pruning import prune_named_folders
from warehouse.new_file import write_new_file
from warehouse.report.charts import PERIOD_CHARTS, Spec
from warehouse.report.page import report_html
from warehouse.report.params import ReportScope
from warehouse.report.png_drawing import draw_pngs
from warehouse.report.summary import scope_line

PNG_SCALE: Final = 1.5
"""Pixels per CSS pixel in the chart PNGs (640 wide charts are 960 pixels wide)."""


@dataclass(frozen=True)
class ReportFiles:
    """What a report wrote, all inside `folder`."""

    folder: Path
    html: Path
    charts: dict[str, Path] = field(default_factory=dict)
    tables: dict[str, Path] = field(default_factory=dict)

    def moved_to(self, folder: Path) -> ReportFiles:
        """The same files once their folder was renamed `folder`."""

        def moved(path: Path) -> Path:
            return folder / path.relative_to(self.folder)

        return ReportFiles(
            folder=folder,
            html=moved(self.html),
            charts={name: moved(path) for name, path in self.charts.items()},
            tables={name: moved(path) for name, path in self.tables.items()},
        )


def png_spec(spec: Spec, covered: str) -> Spec:
    """A chart's spec as its PNG is drawn: its title with what it covers under it."""
    return {**spec, "title": {"text": spec.get("title", ""), "subtitle": covered}}


def png_specs(
    specs: dict[str, Spec], scope: ReportScope, tables: dict[str, pl.DataFrame]
) -> dict[str, Spec]:
    """Each chart's spec as its PNG is drawn: a PNG travels alone, so its subtitle says what
    it covers (the period only for charts drawn by period), which the page says once on top."""
    return {
        name: png_spec(spec, scope_line(scope, tables, grain=name in PERIOD_CHARTS))
        for name, spec in specs.items()
    }


def write_report(
    folder: Path,
    tables: dict[str, pl.DataFrame],
    specs: dict[str, Spec],
    scope: ReportScope,
    made_at: datetime,
) -> ReportFiles:
    """Write every file of the report into `folder` (created; files of the same name replaced)."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # message texts: owner only
    table_paths: dict[str, Path] = {}
    for name, frame in tables.items():
        table_paths[name] = folder / f"{name}.csv"
        write_new_file(table_paths[name], spreadsheet_safe(frame).write_csv().encode("utf-8"))
    chart_paths = {name: folder / f"{name}.png" for name in specs}
    drawn = png_specs(specs, scope, tables)
    draw_pngs({chart_paths[name]: spec for name, spec in drawn.items()}, scale=PNG_SCALE)
    page = folder / "report.html"
    write_new_file(page, report_html(tables, specs, scope, made_at).encode("utf-8"))
    return ReportFiles(folder=folder, html=page, charts=chart_paths, tables=table_paths)


FORMULA_START: Final = r"^[=+\-@\t\r]"
"""How a cell a spreadsheet would run as a formula begins."""
NUMBER: Final = r"^[+-]?\d+(\.\d+)?$"
"""A phone number in E.164 (`+15145550100`) or a plain number: data, not a formula."""


def spreadsheet_safe(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with each text cell a spreadsheet would run as a formula (`=HYPERLINK(…)` as a
    contact, `+cmd|…` as a carrier status: the provider's text) prefixed with `'`, which
    spreadsheets show as text. Numbers and E.164 phone numbers are left as they are."""
    text = pl.col(pl.Utf8)
    risky = text.str.contains(FORMULA_START) & ~text.str.contains(NUMBER)
    return frame.with_columns(pl.when(risky).then(pl.lit("'") + text).otherwise(text).name.keep())


def point_latest(folder: Path, latest: Path) -> None:
    """Make `latest` a symlink to `folder` (replaced atomically), or a copy where links fail."""
    staging = latest.with_name(f".{latest.name}.{os.getpid()}")
    try:
        staging.symlink_to(os.path.relpath(folder, latest.parent), target_is_directory=True)
        os.replace(staging, latest)
    except OSError:
        staging.unlink(missing_ok=True)
        if latest.is_symlink() or latest.is_file():
            latest.unlink()
        elif latest.is_dir():
            shutil.rmtree(latest)
        shutil.copytree(folder, latest)


KEEP_REPORTS: Final = 60
"""Report folders `default_folder` named that are kept: two months of nightly reports."""

_DEFAULT_NAME: Final = re.compile(r"\d{8}T\d{6}Z(?:-\d+)?")
_STAGING_NAME: Final = re.compile(rf"\.{_DEFAULT_NAME.pattern}\.writing")


STALE_STAGING: Final = timedelta(days=1)
"""A report's hidden folder (`staging_folder`) untouched this long was left by a report
killed outright (SIGKILL, power loss): no report takes that long to write."""


def prune_reports(reports: Path, keep: int = KEEP_REPORTS) -> list[str]:
    """Delete all but the newest `keep` folders in `reports` that `default_folder` named
    (never the one `latest` names, nor anything else), and what reports killed while they
    were written left (untouched for STALE_STAGING): their hidden folders, and the empty
    folders they had claimed; the names deleted."""
    latest = reports / "latest"
    spare = latest.resolve().name if latest.is_symlink() else None
    deleted: list[str] = []
    for path in _stale_folders(reports.iterdir() if reports.is_dir() else ()):
        if _STAGING_NAME.fullmatch(path.name):
            shutil.rmtree(path, ignore_errors=True)  # what it holds never became a report
            deleted.append(path.name)
        elif _DEFAULT_NAME.fullmatch(path.name) and path.name != spare:
            with contextlib.suppress(OSError):  # claimed, never filled: not a report
                path.rmdir()
                deleted.append(path.name)
    deleted += prune_named_folders(reports, _DEFAULT_NAME, keep=keep, spare=spare)
    return deleted


def _stale_folders(paths: Iterable[Path]) -> Iterator[Path]:
    """The real folders (not links) of `paths` untouched for STALE_STAGING."""
    cutoff = time.time() - STALE_STAGING.total_seconds()
    for path in paths:
        if path.is_dir() and not path.is_symlink() and path.stat().st_mtime < cutoff:
            yield path


def staging_folder(folder: Path) -> Path:
    """Where the report for `folder` is written before it is renamed `folder`: hidden beside
    it, so a report stopped midway leaves no folder that looks whole."""
    return folder.with_name(f".{folder.name}.writing")


def default_folder(data_dir: Path, made_at: datetime) -> Path:
    """A new folder `<data_dir>/reports/<UTC timestamp>`, e.g. `reports/20240131T120000Z`,
    made here so that no other report shares it (a second one in the same second gets
    `...Z-2`)."""
    reports = data_dir / "reports"
    reports.mkdir(mode=0o700, parents=True, exist_ok=True)
    stamp = made_at.strftime("%Y%m%dT%H%M%SZ")
    for number in itertools.count(1):
        folder = reports / (stamp if number == 1 else f"{stamp}-{number}")
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            continue
        return folder
    raise AssertionError("unreachable")


WriteInto = Callable[[Path], ReportFiles]
"""Writes every file of a report into the folder given (see `write_report`)."""


def write_whole(folder: Path, write: WriteInto) -> ReportFiles:
    """Write the report into `folder` (claimed, empty) by way of a hidden folder beside it,
    renamed over it once whole: a report stopped midway (Ctrl-C, a chart that fails) leaves
    neither a folder that looks like a report nor its name claimed."""
    staging = staging_folder(folder)
    try:
        files = write(staging)
        os.rename(staging, folder)  # over the empty folder: atomic
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        with contextlib.suppress(OSError):
            folder.rmdir()
        raise
    return files.moved_to(folder)


_OTHER_FOLDERS: Final = (
    (("_manifest.json", "current", "snapshots"), "an export folder", "every later export there"),
    (("archive.duckdb", "landing"), "a data dir", "the archive's own files"),
)
"""What a folder smsarchive filled with something else holds: what it is, what a report's
files there would stand in the way of."""


def refuse_a_folder_of_another_kind(out: Path) -> None:
    """Raise ForeignReportFolderError when `out` is an export folder or a data dir: an export
    refuses a folder holding what it did not make, so a report's files there would stop it."""
    if not out.is_dir():
        return
    for names, what, stopped in _OTHER_FOLDERS:
        held = [name for name in names if os.path.lexists(out / name)]
        if held:
            raise ForeignReportFolderError(
                f"--out {out} is {what} (it holds {', '.join(held)}): a report's files there "
                f"would be in the way of {stopped}; give --out a folder of its own"
            )


OUT_STAGING_PREFIX: Final = ".report-"
OUT_STAGING_SUFFIX: Final = ".writing"


def write_in_place(out: Path, write: WriteInto) -> ReportFiles:
    """Write the report into `out` (made if missing; other files left) by way of a hidden
    folder in it, then move each file over its old name, the page last: a report stopped
    midway leaves `out`'s earlier report whole, not new tables beside an old page. One killed
    outright leaves the hidden folder, which a report into `out` a day later removes (a
    younger one may be another report's, writing now)."""
    out.mkdir(mode=0o700, parents=True, exist_ok=True)  # message texts: owner only
    for leftover in _stale_folders(out.glob(f"{OUT_STAGING_PREFIX}*{OUT_STAGING_SUFFIX}")):
        shutil.rmtree(leftover, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(prefix=OUT_STAGING_PREFIX, suffix=OUT_STAGING_SUFFIX, dir=out))
    try:
        files = write(staging)
        for path in sorted(staging.iterdir(), key=lambda path: path == files.html):
            os.replace(path, out / path.name)  # a file or a planted link replaced, not followed
        staging.rmdir()
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return files.moved_to(out)
