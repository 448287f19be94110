"""The report page's HTML tables: numbers as a reader expects them."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import duckdb
import polars as pl

from tests.report.archive_rows import TZ
from warehouse.plain_numbers import size_text
from warehouse.report import REPORT_TABLES, ReportScope, report_html, report_tables
from warehouse.report.page import table_html
from warehouse.report.summary import summary_lines


def test_floats_are_shown_in_full_rates_in_percent_and_long_latencies_in_days_too() -> None:
    frame = pl.DataFrame(
        {
            "did": ["+13058377113", "*"],
            "reply_rate": [0.6667, None],
            "median_minutes": [4524.72, 0.5],
            "p90_minutes": [15299.28, 123456.0],
            "turns": [12345, 7],
        }
    )
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", table_html("reply_stats", frame))
    assert cells == [
        "+13058377113", "66.67%", "4,524.72 (3.1 days)", "15,299.28 (10.6 days)", "12,345",
        "*", "", "0.5", "123,456 (85.7 days)", "7",
    ]  # fmt: skip


def test_the_summary_counts_turns_and_gives_long_latencies_in_hours_or_days(
    conversations: duckdb.DuckDBPyConnection,
) -> None:
    replies = pl.DataFrame(
        {
            "did": ["*"],
            "turns": [968],
            "replied": [903],
            "reply_rate": [0.9329],
            "within_day_rate": [0.81],
            "median_minutes": [9.1],
            "p90_minutes": [8537.81],
        }
    )
    tables = {**report_tables(conversations, ReportScope(TZ)), "reply_stats": replies}
    assert summary_lines(tables)["reply rate"] == (
        "93.3% of 968 inbound turns, 81.0% within a day; median 9.1 min, p90 5.9 days"
    )


def test_the_summary_counts_one_did_as_one(conversations: duckdb.DuckDBPyConnection) -> None:
    tables = report_tables(conversations, ReportScope(TZ))
    several = summary_lines(tables)["contacts"]
    totals = tables["totals"].row(0, named=True)
    assert several == f"{totals['contacts']:,} contacts on {totals['dids']:,} DIDs"
    assert totals["dids"] > 1
    tables["totals"] = tables["totals"].with_columns(contacts=pl.lit(1), dids=pl.lit(1))
    assert summary_lines(tables)["contacts"] == "1 contact on 1 DID"
    one = {"account": ["me@example.com"], "local_day": [date(2024, 1, 3)], "headroom": [10]}
    tables["near_send_limit"] = pl.DataFrame({**one, "did": ["*"], "outbound_sms": [90]})
    tables["unmapped_statuses"] = pl.DataFrame({"carrier_status": ["odd"], "messages": [1]})
    lines = summary_lines(tables)
    assert lines["near send limit"] == (
        "0 DID-days with 80+ SMS sent, 1 account-day (DIDs together)"
    )
    assert lines["unmapped"] == "1 message"
    assert lines["media"].startswith(f"{tables['media_states']['files'].sum():,} attachment")


def test_shares_are_shown_in_percent_like_rates() -> None:
    frame = pl.DataFrame({"state": ["stored", "expired"], "files": [27, 3], "share": [0.9, 0.1]})
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", table_html("media_states", frame))
    assert cells == ["stored", "27", "90.00%", "expired", "3", "10.00%"]


def test_bytes_on_the_page_say_their_size_too() -> None:
    frame = pl.DataFrame({"state": ["stored", "expired"], "bytes": [87_678_660, 0]})
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", table_html("media_states", frame))
    assert cells == ["stored", "87,678,660 (87.7 MB)", "expired", "0"]


def test_sizes_read_as_status_reads_them() -> None:
    assert [size_text(n) for n in (0, 999, 166_400, 2_500_000, 3_200_000_000)] == [
        "0 B", "999 B", "166.4 kB", "2.5 MB", "3.2 GB",
    ]  # fmt: skip


def test_a_long_time_series_shows_its_newest_periods_on_the_page() -> None:
    weeks = [date(2023, 1, 2) + timedelta(weeks=n) for n in range(70)]
    frame = pl.DataFrame({"period": weeks, "messages": list(range(70))})
    shown = table_html("volume_by_period", frame)
    periods = re.findall(r"<td>(\d{4}-\d\d-\d\d)</td>", shown)
    assert periods[:2] == [str(weeks[-1]), str(weeks[-2])]
    assert len(periods) == 60
    assert "10 older rows in volume_by_period.csv" in shown
    assert "newest first" in shown


def test_a_scope_without_messages_says_so_on_the_page() -> None:
    made = datetime(2024, 6, 1, tzinfo=UTC)
    tables = {name: pl.DataFrame() for name in REPORT_TABLES}
    empty = "No message of the archive is in this scope"
    tables["totals"] = pl.DataFrame({"messages": [0], "first_day": [None], "last_day": [None]})
    assert empty in report_html(tables, {}, ReportScope(TZ, start=date(2031, 1, 1)), made)
    tables["totals"] = pl.DataFrame(
        {"messages": [3], "first_day": [date(2024, 1, 1)], "last_day": [date(2024, 1, 2)]}
    )
    assert empty not in report_html(tables, {}, ReportScope(TZ), made)


def test_the_page_says_when_it_was_made_in_the_reports_zone() -> None:
    tables = {name: pl.DataFrame() for name in REPORT_TABLES}
    tables["totals"] = pl.DataFrame({"messages": [1], "first_day": [None], "last_day": [None]})
    made = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
    page = report_html(tables, {}, ReportScope("America/Vancouver"), made)
    assert "made 2024-06-01 05:00 PDT" in page
    # in the tzdata package's rules, as DuckDB counts the page's days and hours: Vancouver
    # keeps daylight time from November 2026 (UTC-7 in winter), which older copies miss
    winter = report_html(
        tables, {}, ReportScope("America/Vancouver"), datetime(2026, 12, 6, 20, tzinfo=UTC)
    )
    assert "made 2026-12-06 13:00 MST" in winter
