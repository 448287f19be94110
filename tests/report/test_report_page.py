"""The report page's HTML tables: numbers as a reader expects them."""

from __future__ import annotations

import re

import duckdb
import polars as pl

from tests.report.archive_rows import TZ
from warehouse.report import ReportScope, report_tables
from warehouse.report.page import table_html
from warehouse.report.summary import summary_lines


def test_floats_are_shown_in_full_with_up_to_four_decimals_and_rates_in_percent() -> None:
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
        "+13058377113", "66.67%", "4,524.72", "15,299.28", "12,345",
        "*", "", "0.5", "123,456", "7",
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
