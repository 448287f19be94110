"""Each report query against hand-made archives, compared with answers worked out by hand."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tests.report.archive_rows import (
    ODD_NUMBER,
    SENDER_ID,
    TZ,
    A,
    B,
    C,
    D,
    Row,
    X,
    Y,
    Z,
    build_archive,
    utc,
)
from warehouse.report import REPORT_TABLES, ReportScope, report_table, report_tables

ALL = ReportScope(TZ)
ACCOUNT = "me@example.com"  # build_archive's
JAN1, JAN8, JAN9, JAN29, FEB1 = (
    date(2024, 1, 1),
    date(2024, 1, 8),
    date(2024, 1, 9),
    date(2024, 1, 29),
    date(2024, 2, 1),
)


def expect(
    con: duckdb.DuckDBPyConnection, name: str, scope: ReportScope, **columns: list[object]
) -> None:
    got = report_table(con, name, scope)
    want = pl.DataFrame(columns, schema={c: got.schema[c] for c in columns}, strict=False)
    assert_frame_equal(got, want)


def test_every_table_has_a_query_and_runs_on_an_empty_scope(
    conversations: duckdb.DuckDBPyConnection,
) -> None:
    tables = report_tables(conversations, ReportScope(TZ, start=date(2030, 1, 1)))
    assert list(tables) == list(REPORT_TABLES)
    assert tables["totals"]["messages"].to_list() == [0]
    assert tables["hour_by_weekday"].height == 168


def test_totals(conversations: duckdb.DuckDBPyConnection) -> None:
    expect(
        conversations, "totals", ALL,
        messages=[11], inbound=[5], outbound=[6], sms=[9], mms=[2], segments=[10],
        contacts=[3], dids=[2], accounts=[1], first_day=[JAN1], last_day=[FEB1],
    )  # fmt: skip


def test_local_days_decide_the_scope(conversations: duckdb.DuckDBPyConnection) -> None:
    # the MMS at 04:30 UTC on Jan 2 is 23:30 on Jan 1 in New York
    jan1 = report_table(conversations, "totals", ReportScope(TZ, start=JAN1, end=JAN1))
    assert jan1["messages"].to_list() == [6]
    one_did = report_table(
        conversations, "totals", ReportScope(TZ, start=JAN8, end=date(2024, 1, 31), did=B)
    )
    assert one_did.row(0) == (3, 1, 2, 3, 0, 3, 2, 1, 1, JAN8, JAN9)


def test_volume_by_week(conversations: duckdb.DuckDBPyConnection) -> None:
    expect(
        conversations, "volume_by_period", ALL,
        period=[JAN1, JAN1, JAN1, JAN8, JAN8, JAN29, JAN29],
        direction=["inbound", "outbound", "outbound", "inbound", "outbound", "inbound", "outbound"],
        kind=["sms", "mms", "sms", "sms", "sms", "mms", "sms"],
        messages=[3, 1, 2, 1, 2, 1, 1],
        segments=[4, 0, 2, 1, 2, 0, 1],
    )  # fmt: skip


def test_segments_count_sms_only(tmp_path: Path) -> None:
    # an MMS text has a segment count (what it would take as SMS), but MMS are not billed so
    rows = [
        Row("sms", "1", "outbound", C, X, utc(2024, 1, 3, 15, 0), "sent", "Sent", 2),
        Row("mms", "1", "outbound", C, X, utc(2024, 1, 3, 16, 0), "sent", "Sent", 3),
    ]
    con = duckdb.connect(str(build_archive(tmp_path / "archive.duckdb", rows)), read_only=True)
    try:
        assert report_table(con, "totals", ALL)["segments"].to_list() == [2]
        by_did = report_table(con, "volume_by_did", ALL)
        assert by_did.select("kind", "messages", "segments").rows() == [
            ("mms", 1, 0),
            ("sms", 1, 2),
        ]
        by_week = report_table(con, "volume_by_period", ALL)
        assert by_week["segments"].to_list() == [0, 2]
    finally:
        con.close()


def test_near_send_limit_counts_an_accounts_dids_together_too(tmp_path: Path) -> None:
    # 45 SMS from C and 40 from D on local 2024-03-05: no DID near the limit, the account is
    rows = [
        Row("sms", f"{did}-{i}", "outbound", did, X, utc(2024, 3, 5, 15, i), "sent", "Sent")
        for did, count in ((C, 45), (D, 40))
        for i in range(count)
    ]
    con = duckdb.connect(str(build_archive(tmp_path / "archive.duckdb", rows)), read_only=True)
    try:
        expect(
            con, "near_send_limit", ALL,
            account=[ACCOUNT], did=["*"], local_day=[date(2024, 3, 5)],
            outbound_sms=[85], headroom=[15],
        )  # fmt: skip
    finally:
        con.close()


def test_volume_by_month_and_day(conversations: duckdb.DuckDBPyConnection) -> None:
    expect(
        conversations, "volume_by_period", ReportScope(TZ, grain="month"),
        period=[JAN1, JAN1, JAN1, FEB1, FEB1],
        direction=["inbound", "outbound", "outbound", "inbound", "outbound"],
        kind=["sms", "mms", "sms", "mms", "sms"],
        messages=[4, 1, 4, 1, 1],
        segments=[5, 0, 4, 0, 1],
    )  # fmt: skip
    days = report_table(conversations, "volume_by_period", ReportScope(TZ, grain="day"))
    mms_out = days.filter((pl.col("kind") == "mms") & (pl.col("direction") == "outbound"))
    assert mms_out["period"].to_list() == [JAN1]


def test_volume_by_did(conversations: duckdb.DuckDBPyConnection) -> None:
    expect(
        conversations, "volume_by_did", ALL,
        did=[A, A, A, B, B, B],
        direction=["inbound", "outbound", "outbound", "inbound", "inbound", "outbound"],
        kind=["sms", "mms", "sms", "mms", "sms", "sms"],
        messages=[3, 1, 2, 1, 1, 3],
        segments=[4, 0, 2, 0, 1, 3],
    )  # fmt: skip


def test_segments_by_encoding(conversations: duckdb.DuckDBPyConnection) -> None:
    expect(
        conversations, "segments_by_encoding", ALL,
        encoding=["gsm7", "gsm7", "ucs2"],
        direction=["inbound", "outbound", "inbound"],
        messages=[3, 5, 1], segments=[4, 5, 1], multipart=[1, 0, 0], max_segments=[2, 1, 1],
    )  # fmt: skip


def test_top_contacts(conversations: duckdb.DuckDBPyConnection) -> None:
    expect(
        conversations, "top_contacts", ALL,
        contact=[X, Y, Z], messages=[5, 4, 2], inbound=[3, 1, 1], outbound=[2, 3, 1],
        dids=[1, 2, 1], first_day=[JAN1, JAN1, JAN9], last_day=[JAN1, FEB1, FEB1],
    )  # fmt: skip


def test_hour_by_weekday_in_local_time(conversations: duckdb.DuckDBPyConnection) -> None:
    grid = report_table(conversations, "hour_by_weekday", ALL)
    assert grid.height == 168
    assert grid["messages"].sum() == 11
    busy = grid.filter(pl.col("messages") > 0).select("weekday_name", "hour", "messages")
    assert busy.rows() == [
        ("Mon", 9, 2),
        ("Mon", 10, 2),
        ("Mon", 11, 2),
        ("Mon", 12, 1),
        ("Mon", 23, 1),
        ("Tue", 15, 1),
        ("Thu", 8, 2),
    ]


def test_near_send_limit_counts_outbound_sms_per_did_and_local_day(
    busy: duckdb.DuckDBPyConnection,
) -> None:
    # C: 79 + one at 23:59 local on Mar 5 (already Mar 6 in UTC); 79 on Mar 6 plus MMS and
    # inbound that do not count; D: 100 on Mar 7
    expect(
        busy, "near_send_limit", ALL,
        account=[ACCOUNT, ACCOUNT], did=[D, C], local_day=[date(2024, 3, 7), date(2024, 3, 5)],
        outbound_sms=[100, 80], headroom=[0, 20],  # the busiest first
    )  # fmt: skip
    only_d = report_table(busy, "near_send_limit", ReportScope(TZ, did=D))
    assert only_d["did"].to_list() == [D]


def test_status_by_week(conversations: duckdb.DuckDBPyConnection) -> None:
    expect(
        conversations, "status_by_period", ALL,
        period=[JAN1, JAN1, JAN1, JAN8, JAN8, JAN8, JAN29, JAN29],
        direction=["inbound", "outbound", "outbound"] * 2 + ["inbound", "outbound"],
        status=["received", "delivered", "failed", "received", "delivered", "unknown",
                "received", "pending"],
        messages=[3, 2, 1, 1, 1, 1, 1, 1],
    )  # fmt: skip


def test_status_by_did(conversations: duckdb.DuckDBPyConnection) -> None:
    expect(
        conversations, "status_by_did", ALL,
        did=[A, A, A, B, B, B, B],
        direction=["inbound", "outbound", "outbound", "inbound"] + ["outbound"] * 3,
        status=["received", "delivered", "failed", "received", "delivered", "pending", "unknown"],
        messages=[3, 2, 1, 2, 1, 1, 1],
    )  # fmt: skip


def test_delivery_rate_counts_only_final_statuses(conversations: duckdb.DuckDBPyConnection) -> None:
    # A: 2 delivered, 1 failed -> 2/3; B: 1 delivered, pending and unknown left out -> 1/1
    expect(
        conversations, "delivery_rate", ALL,
        did=[A, B, "*"], outbound=[3, 3, 6], delivered=[2, 1, 3], failed=[1, 0, 1],
        not_final=[0, 2, 2], delivery_rate=[0.6667, 1.0, 0.75],
    )  # fmt: skip


def test_failures_and_unmapped_statuses_keep_the_raw_text(
    conversations: duckdb.DuckDBPyConnection,
) -> None:
    expect(
        conversations, "failures", ALL,
        did=[A], direction=["outbound"], kind=["sms"], carrier_status=["Undelivered"],
        messages=[1], first_day=[JAN1], last_day=[JAN1],
    )  # fmt: skip
    expect(
        conversations, "unmapped_statuses", ALL,
        carrier_status=["Weird status"], direction=["outbound"], messages=[1],
        first_day=[JAN9], last_day=[JAN9],
    )  # fmt: skip


def test_reply_rate_and_latency(conversations: duckdb.DuckDBPyConnection) -> None:
    # A: the turn of 10:00 answered at 10:10; the turn of 11:00 and 11:30 answered at 12:30,
    # 90 minutes after its first message. B: Y answered in the same second; Z is a short code
    # and makes no turn. Latencies A [10, 90], B [0].
    expect(
        conversations, "reply_stats", ALL,
        did=[A, B, "*"], turns=[2, 1, 3], replied=[2, 1, 3], reply_rate=[1.0, 1.0, 1.0],
        within_day_rate=[1.0, 1.0, 1.0], median_minutes=[50.0, 0.0, 10.0],
        p90_minutes=[82.0, 0.0, 74.0],
    )  # fmt: skip


def test_a_turn_unanswered_or_answered_days_later(tmp_path: Path) -> None:
    rows = [
        # a text in two parts a second apart, answered five minutes after the first
        Row("sms", "1", "inbound", C, X, utc(2024, 1, 3, 15, 0), "received", ""),
        Row("sms", "2", "inbound", C, X, utc(2024, 1, 3, 15, 0, 1), "received", ""),
        Row("sms", "3", "outbound", C, X, utc(2024, 1, 3, 15, 5), "delivered", "Delivered"),
        # answered three days later: replied, but not within a day
        Row("sms", "4", "inbound", C, X, utc(2024, 1, 3, 16, 0), "received", ""),
        Row("sms", "5", "outbound", C, X, utc(2024, 1, 6, 16, 0), "delivered", "Delivered"),
        # written back to only 11 days later: the conversation picked up again, not a reply
        Row("sms", "6", "inbound", C, X, utc(2024, 1, 7, 14, 0), "received", ""),
        Row("sms", "11", "outbound", C, X, utc(2024, 1, 18, 14, 0), "delivered", "Delivered"),
        # no turn: only outbound, a short code, and a sender ID no one can answer
        Row("sms", "7", "outbound", C, Y, utc(2024, 1, 7, 15, 0), "delivered", "Delivered"),
        Row("sms", "8", "inbound", C, Z, utc(2024, 1, 7, 16, 0), "received", ""),
        Row("sms", "9", "inbound", C, SENDER_ID, utc(2024, 1, 7, 17, 0), "received", ""),
        # a number of no known form is still a number: its unanswered text is a turn
        Row("sms", "10", "inbound", C, ODD_NUMBER, utc(2024, 1, 7, 18, 0), "received", ""),
    ]
    con = duckdb.connect(str(build_archive(tmp_path / "archive.duckdb", rows)), read_only=True)
    try:
        expect(
            con, "reply_stats", ALL,
            did=[C, "*"], turns=[4, 4], replied=[2, 2], reply_rate=[0.5, 0.5],
            within_day_rate=[0.25, 0.25], median_minutes=[2162.5, 2162.5],
            p90_minutes=[3888.5, 3888.5],
        )  # fmt: skip
        # a turn that starts before the scope is not counted in it, though answered in it
        jan6 = report_table(con, "reply_stats", ReportScope(TZ, start=date(2024, 1, 6)))
        assert jan6["turns"].to_list() == [2, 2]  # Jan 7's: X's and the odd number's
        assert jan6["replied"].to_list() == [0, 0]
    finally:
        con.close()


def test_reply_may_fall_after_the_scope(conversations: duckdb.DuckDBPyConnection) -> None:
    # the inbound at 11:30 is in scope; its answer at 12:30 is not needed to be
    scope = ReportScope(TZ, start=JAN1, end=JAN1, did=A)
    got = report_table(conversations, "reply_stats", scope)
    assert got.filter(pl.col("did") == A)["replied"].to_list() == [2]


def test_media(conversations: duckdb.DuckDBPyConnection) -> None:
    # SMS "1" shares its id with MMS "1": its row must not join the media
    expect(
        conversations, "media_by_type", ALL,
        content_type=["(not stored)", "image/jpeg", "image/png"],
        state=["expired", "stored", "stored"], files=[1, 1, 1], bytes=[0, 1000, 500],
    )  # fmt: skip
    expect(
        conversations, "media_states", ALL,
        state=["stored", "expired", "failed", "pending"], files=[2, 1, 0, 0],
        bytes=[1500, 0, 0, 0], share=[0.6667, 0.3333, 0.0, 0.0],
    )  # fmt: skip
    jan8_on = report_table(conversations, "media_states", ReportScope(TZ, start=JAN8))
    assert jan8_on["files"].to_list() == [1, 0, 0, 0]


def test_scope_rejects_bad_grain_and_reversed_days() -> None:
    with pytest.raises(ValueError, match="grain"):
        ReportScope(TZ, grain="year")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="after"):
        ReportScope(TZ, start=FEB1, end=JAN1)


def test_media_of_the_whole_archive_counted_without_the_join_agree_with_every_day(
    conversations: duckdb.DuckDBPyConnection,
) -> None:
    # ALL counts every attachment directly; a scope naming the archive's whole span joins
    # them to their MMS: the two must agree
    days = conversations.execute(
        "SELECT min(sent_at)::DATE - 1, max(sent_at)::DATE + 1 FROM messages"
    ).fetchone()
    assert days is not None
    every_day = ReportScope(TZ, start=days[0], end=days[1])
    assert ALL.whole_archive
    assert not every_day.whole_archive
    for name in ("media_by_type", "media_states"):
        assert report_table(conversations, name, ALL).equals(
            report_table(conversations, name, every_day)
        ), name
