"""A report of one account of an archive holding several, or of all of them together."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.report.archive_rows import CONVERSATIONS, MEDIA, TZ, build_archive
from warehouse import open_warehouse
from warehouse.errors import UnknownAccountError, UnknownDidError
from warehouse.report import ReportScope, report_html, report_tables, summary_lines

ME, OTHER = "me@example.com", "other@example.com"


def test_a_report_counts_one_account_or_all_of_them(tmp_path: Path) -> None:
    path = build_archive(tmp_path / "archive.duckdb", CONVERSATIONS, MEDIA)
    con = open_warehouse(path)
    try:
        # the same conversations again, as a second account's
        copy = "SELECT * REPLACE ($other AS account) FROM"
        con.execute(f"INSERT INTO messages {copy} messages", {"other": OTHER})
        con.execute(f"INSERT INTO media {copy} media", {"other": OTHER})
        every = report_tables(con, ReportScope(TZ))
        mine = report_tables(con, ReportScope(TZ, account=ME))
        typed = report_tables(con, ReportScope(TZ, account=" Me@Example.COM"))  # as typed
        with pytest.raises(UnknownAccountError, match=f"its accounts: {ME}, {OTHER}"):
            report_tables(con, ReportScope(TZ, account="typo@example.com"))
    finally:
        con.close()
    messages = len(CONVERSATIONS)
    assert every["totals"]["messages"].to_list() == [2 * messages]
    assert mine["totals"]["messages"].to_list() == [messages]
    assert typed["totals"].equals(mine["totals"])
    assert mine["media_states"]["files"].sum() == len(MEDIA)
    assert every["media_states"]["files"].sum() == 2 * len(MEDIA)
    # a report of both says so, in its summary and on its page; a report of one does not
    together = "2 accounts counted together (report one with --account)"
    assert summary_lines(every)["contacts"].endswith(f"; {together}")
    assert "accounts" not in summary_lines(mine)["contacts"]
    made = datetime(2024, 6, 1, tzinfo=UTC)
    assert together in report_html(every, {}, ReportScope(TZ), made)
    assert "counted together" not in report_html(mine, {}, ReportScope(TZ, account=ME), made)


def test_a_did_of_another_account_is_refused_not_reported_empty(tmp_path: Path) -> None:
    path = build_archive(tmp_path / "archive.duckdb", CONVERSATIONS, MEDIA)
    con = open_warehouse(path)
    try:
        theirs = "+15559990000"
        copy = "SELECT * REPLACE ($other AS account, $did AS did) FROM"
        con.execute(f"INSERT INTO messages {copy} messages", {"other": OTHER, "did": theirs})
        assert report_tables(con, ReportScope(TZ, did=theirs))["totals"]["messages"][0] > 0
        refused = re.escape(f"no message on DID {theirs} of account {ME}")
        with pytest.raises(UnknownDidError, match=refused):
            report_tables(con, ReportScope(TZ, did=theirs, account=ME))
    finally:
        con.close()


def test_an_account_typed_otherwise_is_named_as_archived_and_an_ambiguous_one_refused(
    tmp_path: Path,
) -> None:
    from flows.report_run import make_report
    from flows.settings import Settings

    build_archive(tmp_path / "archive.duckdb", CONVERSATIONS, MEDIA)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, smsarchive_data_dir=tmp_path, voipms_account_timezone=TZ
    )
    run = make_report(settings, out=tmp_path / "report", account=" Me@Example.COM ")
    page = (tmp_path / "report" / "report.html").read_text()
    assert f", {ME}," in page  # the page's scope names the account the archive holds
    assert "Me@Example.COM" not in page
    assert ME in run.description
    # an archive an older version filled under two spellings of one e-mail
    con = open_warehouse(tmp_path / "archive.duckdb")
    try:
        copy = "SELECT * REPLACE ('ME@example.com' AS account) FROM"
        con.execute(f"INSERT INTO messages {copy} messages")
    finally:
        con.close()
    with pytest.raises(UnknownAccountError, match="names 2 accounts of the archive"):
        make_report(settings, out=tmp_path / "report", account="me@EXAMPLE.com")
