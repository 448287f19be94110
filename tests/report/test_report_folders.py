"""Where a report goes by default: a folder of its own, even for two in the same second."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest

from flows.report_run import make_report
from flows.settings import Settings
from tests.report.archive_rows import CONVERSATIONS, TZ, build_archive
from warehouse.errors import UnknownDidError
from warehouse.report import (
    ReportFiles,
    ReportScope,
    chart_specs,
    default_folder,
    prune_reports,
    report_tables,
    staging_folder,
    write_report,
)
from warehouse.report.png_drawing import ChartDrawingError
from warehouse.report.report_files import spreadsheet_safe


def test_two_reports_in_the_same_second_get_folders_of_their_own(tmp_path: Path) -> None:
    made_at = datetime(2024, 1, 31, 12, 0, 0, 250_000, tzinfo=UTC)
    first = default_folder(tmp_path, made_at)
    second = default_folder(tmp_path, made_at.replace(microsecond=750_000))
    assert first == tmp_path / "reports" / "20240131T120000Z"
    assert second == tmp_path / "reports" / "20240131T120000Z-2"
    assert first.is_dir()
    assert second.is_dir()


def test_only_the_newest_report_folders_it_named_are_kept(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    days = [datetime(2024, 1, day, 3, 0, tzinfo=UTC) for day in range(1, 8)]
    named = [default_folder(tmp_path, day).name for day in days]
    (reports / "20240101T030000Z-2").mkdir()  # a second report that second
    (reports / "my notes").mkdir()  # the user's own: never touched
    (reports / "latest").symlink_to(named[0], target_is_directory=True)  # and what latest names
    deleted = prune_reports(reports, keep=3)
    assert sorted(deleted) == sorted([*named[1:4], "20240101T030000Z-2"])
    left = sorted(p.name for p in reports.iterdir())
    assert left == sorted([*named[4:], named[0], "my notes", "latest"])


def test_what_reports_killed_midway_left_is_removed_a_day_on(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    claimed = default_folder(tmp_path, datetime(2024, 1, 1, tzinfo=UTC))
    stale = staging_folder(claimed)
    fresh = staging_folder(default_folder(tmp_path, datetime(2024, 1, 2, tzinfo=UTC)))
    for folder in (stale, fresh):
        folder.mkdir()
        (folder / "totals.csv").write_text("messages\n1\n")
    full = default_folder(tmp_path, datetime(2023, 12, 31, tzinfo=UTC))  # a whole report
    (full / "report.html").write_text("<html></html>\n")
    a_day_and_more = (datetime.now(UTC) - timedelta(days=1, minutes=1)).timestamp()
    for old in (stale, claimed, full):
        os.utime(old, (a_day_and_more, a_day_and_more))
    (reports / ".notes").mkdir()  # not one of ours
    os.utime(reports / ".notes", (a_day_and_more, a_day_and_more))
    # the hidden folder and the empty folder it was to be renamed over, as a kill leaves them
    assert sorted(prune_reports(reports)) == sorted([stale.name, claimed.name])
    assert fresh.is_dir()  # a report may be writing it now
    assert fresh.with_name(fresh.name[1:].removesuffix(".writing")).is_dir()  # and claimed it
    assert (full / "report.html").is_file()
    assert (reports / ".notes").is_dir()


def test_by_default_the_newest_60_are_kept_as_the_readme_says(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    days = [datetime(2024, 3, 1, tzinfo=UTC) + timedelta(hours=hour) for hour in range(61)]
    named = [default_folder(tmp_path, day).name for day in days]
    assert prune_reports(reports) == [named[0]]
    assert len(list(reports.iterdir())) == 60


def test_a_refused_report_leaves_no_folder(tmp_path: Path) -> None:
    settings = _conversations_in(tmp_path)
    with pytest.raises(UnknownDidError):
        make_report(settings, did="+15559999999")
    assert not (tmp_path / "reports").exists() or not any((tmp_path / "reports").iterdir())


def _conversations_in(data_dir: Path) -> Settings:
    """Settings for a data dir holding the hand-made archive of CONVERSATIONS."""
    build_archive(data_dir / "archive.duckdb", CONVERSATIONS)
    return Settings(  # type: ignore[call-arg]
        _env_file=None, smsarchive_data_dir=data_dir, voipms_account_timezone=TZ
    )


def with_a_chart_vega_cannot_draw(
    folder: Path, tables: dict[str, pl.DataFrame], scope: ReportScope, made_at: datetime
) -> ReportFiles:
    """The report's own writer, given one chart more that Vega cannot draw: it fails after
    the CSVs are written."""
    specs = {**chart_specs(tables, scope), "broken": {"mark": "no-such-mark"}}
    return write_report(folder, tables, specs, scope, made_at)


def test_a_report_that_fails_midway_leaves_no_folder_and_latest_as_it_was(
    tmp_path: Path,
) -> None:
    settings = _conversations_in(tmp_path)
    first = Path(make_report(settings).result["folder"])
    written: list[Path] = []

    def into(
        folder: Path, tables: dict[str, pl.DataFrame], scope: ReportScope, made_at: datetime
    ) -> ReportFiles:
        written.append(folder)
        return with_a_chart_vega_cannot_draw(folder, tables, scope, made_at)

    with pytest.raises(ChartDrawingError):  # its CSVs were written by then
        make_report(settings, write=into)
    assert written
    assert not written[0].exists()
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == sorted(
        [first.name, "latest"]
    )
    assert (tmp_path / "reports" / "latest").resolve() == first.resolve()
    assert (first / "report.html").is_file()


def test_a_report_replaces_files_and_links_in_its_folder_never_writes_through_them(
    conversations: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = tmp_path / "shared"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("mine")
    (out / "totals.csv").symlink_to(victim)  # planted by someone who may write to `out`
    (out / "top_contacts.png").symlink_to(victim)
    (out / "report.html").write_text("old")
    (out / "report.html").chmod(0o666)
    scope = ReportScope(TZ)
    tables = report_tables(conversations, scope)
    write_report(out, tables, chart_specs(tables, scope), scope, datetime.now(UTC))
    assert victim.read_text() == "mine"
    for name in ("totals.csv", "top_contacts.png", "report.html"):
        assert not (out / name).is_symlink(), name
    assert (out / "totals.csv").read_text().startswith("messages")
    assert (out / "report.html").stat().st_mode & 0o777 != 0o666  # a new file, not the old one


def test_csv_cells_a_spreadsheet_would_run_are_written_as_text() -> None:
    frame = pl.DataFrame(
        {
            "contact": ['=HYPERLINK("http://x")', "+15145550100", "@SUM(A1)", "ok", None],
            "carrier_status": ["+cmd|' /C calc'!A0", "-", "-12.5", "\tx", "Delivered"],
            "messages": [1, -2, 3, 4, 5],
        }
    )
    assert spreadsheet_safe(frame).rows() == [
        ('\'=HYPERLINK("http://x")', "'+cmd|' /C calc'!A0", 1),
        ("+15145550100", "'-", -2),
        ("'@SUM(A1)", "-12.5", 3),
        ("ok", "'\tx", 4),
        (None, "Delivered", 5),
    ]


def test_a_report_into_out_that_fails_midway_leaves_the_earlier_report_whole(
    tmp_path: Path,
) -> None:
    settings = _conversations_in(tmp_path)
    out = tmp_path / "shared"
    make_report(settings, out=out)
    (out / "notes.txt").write_text("the user's own")
    before = {path.name: path.read_bytes() for path in out.iterdir()}

    with pytest.raises(ChartDrawingError):  # its CSVs were written by then
        make_report(settings, out=out, start=date(2024, 1, 8), write=with_a_chart_vega_cannot_draw)
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before
    # a whole one replaces the files of its names, and leaves the others
    make_report(settings, out=out, start=date(2024, 1, 8))
    after = {path.name: path.read_bytes() for path in out.iterdir()}
    assert after.keys() == before.keys()
    assert after["notes.txt"] == before["notes.txt"]
    assert after["totals.csv"] != before["totals.csv"]
    # a killed report's hidden folder goes a day later; a younger one may be writing now
    killed, writing = out / ".report-k1ll3d.writing", out / ".report-n0w.writing"
    for folder in (killed, writing):
        folder.mkdir()
        (folder / "totals.csv").write_text("half")
    two_days_ago = (datetime.now(UTC) - timedelta(days=2)).timestamp()
    os.utime(killed, (two_days_ago, two_days_ago))
    make_report(settings, out=out)
    assert not killed.exists()
    assert (writing / "totals.csv").read_text() == "half"
