"""The page names the periods at a report's ends that its days cut short."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import duckdb
import polars as pl
import pytest

from warehouse.report import REPORT_TABLES, ReportScope, report_html
from warehouse.report.partial_periods import partial_periods_note, period_start

TZ = "America/New_York"


@pytest.mark.parametrize("grain", ["day", "week", "month"])
def test_periods_start_where_the_reports_sql_truncates_them(grain: str) -> None:
    days = [date(2023, 12, 1) + timedelta(days=n) for n in range(800)]
    truncated = duckdb.sql(
        "SELECT date_trunc($grain, d)::DATE FROM unnest($days) AS t(d) ORDER BY d",
        params={"grain": grain, "days": days},
    ).fetchall()
    assert [period_start(day, grain) for day in days] == [row[0] for row in truncated]


@pytest.mark.parametrize(
    ("grain", "start", "end", "note"),
    [
        # Wednesday to a Sunday: the first week is cut, the last is whole
        ("week", date(2024, 1, 3), date(2024, 1, 28),
         "A partial period: the first week (2024-01-01) counts from 2024-01-03; "
         "its bar holds fewer days."),
        ("week", date(2024, 1, 1), date(2024, 1, 31),
         "A partial period: the last week (2024-01-29) counts to 2024-01-31; its bar holds "
         "fewer days."),
        ("month", date(2024, 1, 15), date(2024, 3, 10),
         "Partial periods: the first month (2024-01-01) counts from 2024-01-15 and the last "
         "(2024-03-01) to 2024-03-10; their bars hold fewer days."),
        ("week", date(2024, 1, 2), date(2024, 1, 4),
         "A partial period: the only week (2024-01-01) counts 2024-01-02 to 2024-01-04 alone."),
        # whole periods, a month ending with the year among them
        ("week", date(2024, 1, 1), date(2024, 1, 28), None),
        ("month", date(2023, 11, 1), date(2023, 12, 31), None),
        ("month", date(2024, 2, 1), date(2024, 2, 29), None),
        ("day", date(2024, 1, 3), date(2024, 1, 4), None),
    ],
)  # fmt: skip
def test_a_period_cut_by_the_reports_days_is_named(
    grain: str, start: date, end: date, note: str | None
) -> None:
    scope = ReportScope(TZ, start=start, end=end, grain=grain)  # type: ignore[arg-type]
    assert partial_periods_note(scope, None, None) == note


def test_an_open_scope_is_cut_where_its_messages_start_and_end() -> None:
    scope = ReportScope(TZ, end=date(2024, 3, 31), grain="month")
    assert partial_periods_note(scope, date(2024, 1, 20), date(2024, 2, 10)) == (
        "A partial period: the first month (2024-01-01) counts from 2024-01-20; "
        "its bar holds fewer days."
    )
    assert partial_periods_note(ReportScope(TZ), None, None) is None  # an empty archive


def test_the_page_says_so_beside_the_period_charts() -> None:
    tables = {
        name: pl.DataFrame()
        for name in (
            "volume_by_period", "volume_by_did", "top_contacts", "segments_by_encoding",
            "near_send_limit", "delivery_rate", "status_by_did", "failures",
            "unmapped_statuses", "status_by_period", "reply_stats", "media_states",
            "media_by_type",
        )
    }  # fmt: skip
    tables["totals"] = pl.DataFrame(
        {"first_day": [date(2024, 1, 3)], "last_day": [date(2024, 1, 28)]}
    )
    made = datetime(2024, 6, 1, tzinfo=UTC)
    cut = report_html(tables, {}, ReportScope(TZ, grain="week"), made)
    whole = report_html(tables, {}, ReportScope(TZ, grain="day"), made)
    sentence = "the first week (2024-01-01) counts from 2024-01-03"
    # under the volume and the carrier status charts, the two sections with a bar per period
    sections = cut.split("<section>")
    assert [s.split("</h2>")[0] for s in sections if sentence in s] == [
        "<h2>Volume",
        "<h2>Carrier status",
    ]
    assert sentence not in whole


def test_more_periods_than_the_charts_can_draw_are_said_with_a_coarser_grain() -> None:
    tables = {name: pl.DataFrame() for name in REPORT_TABLES}
    tables["totals"] = pl.DataFrame(
        {"messages": [5], "first_day": [date(2022, 1, 1)], "last_day": [date(2024, 12, 31)]}
    )
    made = datetime(2025, 1, 1, tzinfo=UTC)
    days = report_html(tables, {}, ReportScope(TZ, grain="day"), made)
    assert "1,096 days on one axis are too many bars to read: `--grain week` or `month`" in days
    assert "too many bars" not in report_html(tables, {}, ReportScope(TZ, grain="week"), made)
