"""What keeps a report fast on big archives gives the same answers: local time, threads, charts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tests.report.archive_rows import TZ, A, B, Row, X, Y, build_archive
from warehouse import open_warehouse
from warehouse.report import ReportScope, report_table, report_tables
from warehouse.report.charts import WIDTH, chart_specs, labelled_periods
from warehouse.report.tables import clean_up, prepare, prepared_table

TRANSITIONS = {
    # zone: UTC instants of its 2024 transitions, some off the hour in UTC
    "America/New_York": (
        datetime(2024, 3, 10, 7, tzinfo=UTC),
        datetime(2024, 11, 3, 6, tzinfo=UTC),
    ),
    "America/St_Johns": (
        datetime(2024, 3, 10, 5, 30, tzinfo=UTC),
        datetime(2024, 11, 3, 4, 30, tzinfo=UTC),
    ),
    "Australia/Lord_Howe": (
        datetime(2024, 4, 6, 15, tzinfo=UTC),
        datetime(2024, 10, 5, 15, 30, tzinfo=UTC),
    ),
    "Asia/Kolkata": (datetime(2024, 6, 30, 18, 20, tzinfo=UTC),),  # no DST; offset +05:30
}
STEP = timedelta(minutes=7, seconds=30)


def _instants() -> list[datetime]:
    """Every 7.5 minutes from 14 hours before to 14 hours after each transition."""
    around = [t for ts in TRANSITIONS.values() for t in ts]
    return sorted({t + STEP * i for t in around for i in range(-112, 113)})


@pytest.fixture(scope="module")
def transitions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    """An archive with a message every 7.5 minutes around each zone's transitions."""
    rows = [
        Row("sms", str(i), "inbound" if i % 3 else "outbound", A, X, at, "received", "")
        for i, at in enumerate(_instants())
    ]
    path = build_archive(tmp_path_factory.mktemp("transitions") / "archive.duckdb", rows)
    con = open_warehouse(path, read_only=True)
    yield con
    con.close()


@pytest.mark.parametrize("zone", sorted(TRANSITIONS))
def test_local_days_and_hours_match_the_zone_at_every_transition(
    transitions: duckdb.DuckDBPyConnection, zone: str
) -> None:
    # the report looks each UTC hour's offset up once; an hour with a change in it (Lord Howe
    # and St John's change on the half hour) is converted message by message
    local = [at.astimezone(ZoneInfo(zone)) for at in _instants()]
    by_day = Counter(t.date() for t in local)
    by_cell = Counter((t.isoweekday(), t.hour) for t in local)
    days = report_table(transitions, "volume_by_period", ReportScope(zone, grain="day"))
    got_days = days.group_by("period").agg(pl.col("messages").sum())
    assert dict(got_days.iter_rows()) == dict(by_day)
    grid = report_table(transitions, "hour_by_weekday", ReportScope(zone))
    got_cells = {(w, h): n for w, _, h, n in grid.iter_rows() if n}
    assert got_cells == dict(by_cell)


@pytest.mark.parametrize("zone", sorted(TRANSITIONS))
def test_scope_days_are_local_days_at_transitions(
    transitions: duckdb.DuckDBPyConnection, zone: str
) -> None:
    first = TRANSITIONS[zone][0].astimezone(ZoneInfo(zone)).date()
    scope = ReportScope(zone, start=first, end=first)
    want = sum(1 for at in _instants() if at.astimezone(ZoneInfo(zone)).date() == first)
    assert report_table(transitions, "totals", scope)["messages"].to_list() == [want]


def test_replies_are_the_same_when_conversations_are_told_apart_by_name(
    conversations: duckdb.DuckDBPyConnection,
) -> None:
    # conversations are keyed by a hash of (DID, contact) unless two share one; the other
    # way, by the strings themselves, must answer the same
    scope = ReportScope(TZ)
    prepare(conversations, scope)
    try:
        by_hash = prepared_table(conversations, "reply_stats", scope)
        conversations.execute("UPDATE temp.report_thread_key SET by_name = true").fetchall()
        by_name = prepared_table(conversations, "reply_stats", scope)
    finally:
        clean_up(conversations)
    assert by_hash["replied"].to_list() == [2, 1, 3]
    assert_frame_equal(by_name, by_hash)


def test_report_tables_leave_no_temp_tables_behind(
    conversations: duckdb.DuckDBPyConnection,
) -> None:
    report_tables(conversations, ReportScope(TZ, did=B))
    tables = conversations.sql("SELECT table_name FROM duckdb_tables() WHERE temporary")
    views = conversations.sql("SELECT view_name FROM duckdb_views() WHERE view_name LIKE 'report%'")
    assert tables.fetchall() == []
    assert views.fetchall() == []


def test_a_long_axis_labels_every_kth_period_like_vegas_overlap_removal() -> None:
    periods = [str(date(2023, 1, 2) + timedelta(weeks=i)) for i in range(150)]
    assert labelled_periods(periods) == periods[::16]
    assert labelled_periods(periods[:12]) == periods[:12]
    assert labelled_periods(periods[:13]) == periods[:13:2]
    assert labelled_periods([]) == []


def test_many_busy_days_chart_each_weeks_busiest_day_and_all_fit(
    conversations: duckdb.DuckDBPyConnection,
) -> None:
    scope = ReportScope(TZ)
    tables = report_tables(conversations, scope)
    days = [date(2024, 1, 1) + timedelta(days=i) for i in range(400)]
    tables["near_send_limit"] = pl.DataFrame(
        {
            "account": ["me@example.com"] * (2 * len(days)),
            "did": [A, Y] * len(days),
            "local_day": [d for d in days for _ in range(2)],
            "outbound_sms": [80 + (i * 37) % 400 for i in range(2 * len(days))],
            "headroom": [0] * (2 * len(days)),
        }
    )
    assert tables["near_send_limit"].height > WIDTH
    spec = chart_specs(tables, scope)["near_send_limit"]
    (points,) = [layer for layer in spec["layer"] if layer["mark"]["type"] == "circle"]
    shown = spec["datasets"][points["data"]["name"]]
    weeks = {
        (row["did"], row["local_day"] - timedelta(days=row["local_day"].weekday()))
        for row in tables["near_send_limit"].iter_rows(named=True)
    }
    assert len(shown) == len(weeks)
    top = points["encoding"]["y"]["scale"]["domain"][1]
    assert max(row["outbound_sms"] for row in shown) <= top
    assert "busiest day of each week" in spec["title"]


def test_a_few_busy_days_chart_as_they_are(busy: duckdb.DuckDBPyConnection) -> None:
    scope = ReportScope(TZ)
    tables = report_tables(busy, scope)
    spec = chart_specs(tables, scope)["near_send_limit"]
    (points,) = [layer for layer in spec["layer"] if layer["mark"]["type"] == "circle"]
    assert len(spec["datasets"][points["data"]["name"]]) == tables["near_send_limit"].height
    assert points["encoding"]["y"]["scale"]["domain"] == [0, 110]


def test_the_dids_together_never_set_the_scale_the_limit_is_read_on() -> None:
    from warehouse.report.charts import near_send_limit

    days = [date(2024, 5, 1), date(2024, 5, 2)]
    tables = {
        "totals": pl.DataFrame({"first_day": [days[0]], "last_day": [days[1]]}),
        "near_send_limit": pl.DataFrame(
            {
                "account": ["me@example.com"] * 4,
                "did": [A, "*", Y, "*"],
                "local_day": [days[0], days[0], days[1], days[1]],
                "outbound_sms": [96, 2512, 104, 99],
                "headroom": [4, 0, 0, 1],
            }
        ),
    }
    spec = near_send_limit(tables, None)
    dids, together = (spec["layer"][0], spec["layer"][1])
    assert dids["encoding"]["y"]["scale"]["domain"] == [0, 114]  # the busiest DID's day + 10
    assert [row["did"] for row in spec["datasets"]["near_send_limit"]] == [A, Y]
    drawn = spec["datasets"][together["data"]["name"]]
    # 2,512 is drawn at the top, its count kept for the tooltip; 99 where it is
    assert [(row["outbound_sms"], row["drawn_sms"]) for row in drawn] == [(2512, 114), (99, 99)]
    assert {row["series"] for row in drawn} == {"all DIDs"}
    assert together["encoding"]["shape"]["title"] == "together"  # a legend of its own
    assert spec["title"].endswith("; the DIDs together, when higher, at the top")
