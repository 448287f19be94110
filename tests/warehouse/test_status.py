"""archive_status on a hand-made archive whose answers were worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from tests.warehouse.builders import (
    PROVIDER,
    media_frame,
    media_item,
    media_result,
    media_results_frame,
    message,
    messages_frame,
    rejected_frame,
    rejected_row,
)
from warehouse import (
    archive_status,
    finish_run,
    merge_window,
    open_warehouse,
    record_media_results,
    start_run,
)
from warehouse.migrate import known_migrations
from warehouse.runs import RunKind

JAN = (date(2024, 1, 1), date(2024, 1, 31))
FEB = (date(2024, 2, 1), date(2024, 2, 29))
APR = (date(2024, 4, 1), date(2024, 4, 30))


def at(day: int, hour: int = 12, month: int = 1) -> datetime:
    return datetime(2024, month, day, hour, tzinfo=UTC)


def merge(
    con: duckdb.DuckDBPyConnection,
    account: str,
    window: tuple[date, date],
    messages: list[dict[str, Any]],
    media: list[dict[str, Any]] | None = None,
    rejected: list[dict[str, Any]] | None = None,
    seen_at: datetime = datetime(2024, 3, 1, tzinfo=UTC),
) -> None:
    media = media or []
    rejected = rejected or []
    for row in [*messages, *media, *rejected]:
        row["account"] = account
    merge_window(
        con,
        provider=PROVIDER,
        account=account,
        window_start=window[0],
        window_end=window[1],
        messages=messages_frame(*messages),
        media=media_frame(*media),
        rejected=rejected_frame(*rejected),
        seen_at=seen_at,
        sms_rows=0,
        mms_rows=0,
    )


def build_archive(con: duckdb.DuckDBPyConnection) -> None:
    unknown = {"carrier_status": "weird_code", "status": "unknown", "direction": "outbound"}
    merge(
        con,
        "acct-a",
        JAN,
        messages=[
            message("1", sent_at=at(5, 10)),  # sms inbound
            message(
                "2",
                sent_at=at(6),
                direction="outbound",
                carrier_status="DELIVERED",
                status="delivered",
            ),
            message("3", sent_at=at(7), **unknown),
            message("4", sent_at=at(15), **{**unknown, "carrier_status": "other_code"}),
            message("1", kind="mms", sent_at=at(20), media_count=2, **unknown),
            message("2", kind="mms", sent_at=at(31, 23), media_count=1),  # mms inbound
        ],
        media=[media_item("1", 1), media_item("1", 2), media_item("2", 1)],
        rejected=[
            rejected_row('{"id": "a"}', "bad date"),
            rejected_row('{"id": "b"}', "bad date"),
            rejected_row('{"id": "c"}', "unknown type", source="getMMS"),
        ],
    )
    merge(
        con,
        "acct-a",
        FEB,
        messages=[message("3", kind="mms", sent_at=at(10, 8, month=2), media_count=2)],
        media=[media_item("3", 1), media_item("3", 2)],
        rejected=[
            rejected_row('{"id": "a"}', "bad date"),  # the same row again: not counted twice
            rejected_row('{"id": "d"}', "bad date"),
        ],
    )
    merge(
        con,
        "acct-b",
        JAN,
        messages=[
            message("10", sent_at=at(2)),
            message("11", sent_at=at(3), carrier_status="weird_code", status="unknown"),
        ],
    )
    record_media_results(
        con,
        media_results_frame(
            *(
                {**row, "account": "acct-a"}
                for row in [
                    media_result("1", 1, "stored", sha256="11" * 32, size_bytes=1000),
                    media_result("1", 2, "failed", last_error="HTTP 500"),
                    media_result("2", 1, "expired", last_error="HTTP 404"),
                    media_result("3", 1, "stored", sha256="33" * 32, size_bytes=2500),
                ]
            )
        ),
    )
    backfill = start_run(con, "backfill", started_at=at(1, month=3)).run_id
    finish_run(con, backfill, outcome="ok", finished_at=at(1, 13, month=3), windows_merged=3)
    failed = start_run(con, "sync", started_at=at(2, month=3)).run_id
    finish_run(con, failed, outcome="failed", finished_at=at(2, 13, month=3), detail="boom")
    latest = start_run(con, "sync", started_at=at(3, month=3)).run_id
    finish_run(con, latest, outcome="ok", finished_at=at(3, 13, month=3), windows_merged=1)


def test_archive_status_matches_the_hand_count(archive_path: Path) -> None:
    con = open_warehouse(archive_path)
    build_archive(con)
    con.close()

    reader = open_warehouse(archive_path, read_only=True)  # status works read-only
    status = archive_status(reader)
    reader.close()

    assert status.schema_version == known_migrations()[-1].version == 4
    assert status.messages.rows() == [
        (PROVIDER, "acct-a", "mms", "inbound", 2),  # mms 2, mms 3
        (PROVIDER, "acct-a", "mms", "outbound", 1),  # mms 1
        (PROVIDER, "acct-a", "sms", "inbound", 1),  # sms 1
        (PROVIDER, "acct-a", "sms", "outbound", 3),  # sms 2, 3, 4
        (PROVIDER, "acct-b", "sms", "inbound", 2),
    ]
    assert status.span.rows() == [
        (PROVIDER, "acct-a", 7, at(5, 10), at(10, 8, month=2)),
        (PROVIDER, "acct-b", 2, at(2), at(3)),
    ]
    assert status.windows.select("account", "windows", "first_day", "last_day").rows() == [
        ("acct-a", 2, JAN[0], FEB[1]),
        ("acct-b", 1, JAN[0], JAN[1]),
    ]
    assert status.archived_days.rows() == [
        # two windows, one after the other; the second committed at 19:00 New York time on
        # its last day, which was not over then
        (PROVIDER, "acct-a", JAN[0], FEB[1], datetime(2024, 3, 1, tzinfo=UTC)),
        (PROVIDER, "acct-b", JAN[0], JAN[1], None),
    ]
    assert status.last_runs.select("kind", "started_at", "outcome", "windows_merged").rows() == [
        ("backfill", at(1, month=3), "ok", 3),
        ("sync", at(3, month=3), "ok", 1),
    ]
    # acct-b has no media, so no media rows; every state of acct-a is listed
    assert status.media.rows() == [
        (PROVIDER, "acct-a", "stored", 2, 3500, None),
        (PROVIDER, "acct-a", "pending", 1, 0, None),  # mms 3 #2
        (PROVIDER, "acct-a", "failed", 1, 0, "HTTP 500 (1)"),
        (PROVIDER, "acct-a", "expired", 1, 0, None),
    ]
    assert status.rejected.rows() == [
        (PROVIDER, "acct-a", "getSMS", "bad date", 3),  # a, b, d
        (PROVIDER, "acct-a", "getMMS", "unknown type", 1),
    ]
    assert status.unknown_statuses.rows() == [
        (PROVIDER, "acct-a", "weird_code", 2),  # sms 3, mms 1
        (PROVIDER, "acct-a", "other_code", 1),
        (PROVIDER, "acct-b", "weird_code", 1),
    ]


def test_status_of_an_empty_archive(con: duckdb.DuckDBPyConnection) -> None:
    status = archive_status(con)
    assert status.schema_version == known_migrations()[-1].version == 4
    for frame in (
        status.messages,
        status.span,
        status.windows,
        status.last_runs,
        status.media,
        status.rejected,
        status.unknown_statuses,
    ):
        assert isinstance(frame, pl.DataFrame)
        assert frame.height == 0


def test_a_run_left_running_by_a_kill_is_shown_as_interrupted(tmp_path: Path) -> None:
    from rich.console import Console

    from flows.status_view import render_status
    from warehouse import start_run

    con = open_warehouse(tmp_path / "archive.duckdb")
    try:
        start_run(con, "backfill", provider="voipms", account="a", started_at=datetime.now(UTC))
        status = archive_status(con)
    finally:
        con.close()
    for alive, shown in ((True, "running"), (False, "was interrupted: its process ended")):
        console = Console(record=True, width=200)
        render_status(status, console, writer_alive=alive)
        text = console.export_text()
        assert shown in text
    # a sync resumes syncs only: a backfill is resumed by a backfill
    assert "a backfill of the same days fetches only what it left" in text


def test_the_span_is_shown_in_the_accounts_time_zone(archive_path: Path) -> None:
    from rich.console import Console

    from flows.status_view import render_status

    con = open_warehouse(archive_path)
    build_archive(con)
    status = archive_status(con)
    con.close()
    console = Console(record=True, width=200)
    render_status(status, console, timezone="America/New_York")
    text = console.export_text()
    # acct-a: 2024-01-05 10:00 UTC is 05:00 in New York (EST), 2024-02-10 08:00 UTC is 03:00
    assert "acct-a: 7 messages from 2024-01-05 05:00 to 2024-02-10 03:00 (America/New_York)" in text


def test_status_lists_only_the_carrier_texts_no_rule_knows(archive_path: Path) -> None:
    from rich.console import Console

    from flows.status_view import render_status

    def outbound(message_id: str, carrier_status: str) -> dict[str, object]:
        return message(
            message_id,
            sent_at=at(int(message_id)),
            direction="outbound",
            carrier_status=carrier_status,
            status="unknown",
        )

    con = open_warehouse(archive_path)
    # no news (the usual VoIP.ms text), an explicit unknown, and one text no rule knows
    merge(
        con,
        "acct-a",
        JAN,
        messages=[
            outbound("1", "Information not available"),
            outbound("2", "Information not available"),
            outbound("3", "UNKNOWN"),
            outbound("4", "ERR_UNKNOWN 0x1F"),
        ],
    )
    status = archive_status(con)
    con.close()
    console = Console(record=True, width=200)
    render_status(status, console)
    text = console.export_text()
    assert "carrier statuses no rule knows" in text
    assert "'ERR_UNKNOWN 0x1F'" in text
    assert "Information not available" not in text
    assert "'UNKNOWN'" not in text


def test_stored_bytes_are_shown_in_decimal_units_as_the_report_counts_them(
    archive_path: Path,
) -> None:
    from rich.console import Console

    from flows.status_view import render_status

    con = open_warehouse(archive_path)
    build_archive(con)  # acct-a stores 1,000 + 2,500 bytes
    status = archive_status(con)
    con.close()
    console = Console(record=True, width=200)
    render_status(status, console)
    stored = [line for line in console.export_text().splitlines() if "stored" in line]
    assert stored
    assert "3.5 kB" in stored[0], stored


def test_status_names_the_days_never_archived_between_windows(archive_path: Path) -> None:
    from rich.console import Console

    from flows.status_view import render_status

    con = open_warehouse(archive_path)
    # January and February, a refetch of days inside January, then April: March is missing
    for window in (JAN, FEB, (date(2024, 1, 10), date(2024, 1, 20)), APR):
        merge(con, "acct-a", window, messages=[], seen_at=datetime(2024, 5, 2, tzinfo=UTC))
    status = archive_status(con)
    con.close()
    assert status.archived_days.select("first_day", "last_day").rows() == [
        (JAN[0], FEB[1]),
        APR,
    ]
    console = Console(record=True, width=200)
    render_status(status, console)
    text = console.export_text()
    assert "days archived: 2024-01-01 .. 2024-02-29, 2024-04-01 .. 2024-04-30 (90 days)" in text
    assert "never archived: 2024-03-01 .. 2024-03-31" in text


def test_a_last_run_that_failed_is_shown_with_why(tmp_path: Path) -> None:
    from rich.console import Console

    from flows.status_view import render_status
    from warehouse import start_run

    con = open_warehouse(tmp_path / "archive.duckdb")
    try:
        ok = start_run(con, "backfill", started_at=at(1, month=3)).run_id
        finish_run(con, ok, outcome="ok", finished_at=at(1, 13, month=3), windows_merged=1)
        failed = start_run(con, "sync", started_at=at(2, month=3)).run_id
        why = "AccessError: api_not_enabled: enable the API in the portal"
        finish_run(con, failed, outcome="failed", finished_at=at(2, 13, month=3), detail=why)
        status = archive_status(con)
    finally:
        con.close()
    console = Console(record=True, width=200)
    render_status(status, console)
    lines = [line for line in console.export_text().splitlines() if "failed:" in line]
    assert lines == [f"sync of 2024-03-02 12:00 UTC failed: {why}"]


def test_days_archived_end_on_the_local_day_their_window_was_committed(
    con: duckdb.DuckDBPyConnection,
) -> None:
    # a window an older version let end in the future: committed 2024-04-01 12:00 UTC
    merge(
        con,
        "acct-a",
        (date(2024, 3, 1), date(2024, 5, 31)),
        messages=[],
        seen_at=datetime(2024, 4, 1, 12, tzinfo=UTC),
    )
    for zone, last_day in (("America/New_York", date(2024, 4, 1)), ("Pacific/Kiritimati", None)):
        days = archive_status(con, timezone=zone).archived_days
        # in Kiritimati (UTC+14) it was already the 2nd
        assert days["last_day"].to_list() == [last_day or date(2024, 4, 2)], zone


def test_text_from_the_provider_is_shown_as_text(tmp_path: Path) -> None:
    from rich.console import Console

    from flows.status_view import render_status

    hostile = "[/]\x1b[2J\x1b]0;title\x07[bold]x"
    con = open_warehouse(tmp_path / "archive.duckdb")
    try:
        merge(
            con,
            "acct-a",
            JAN,
            messages=[message("1", carrier_status=hostile, status="unknown", direction="outbound")],
            rejected=[rejected_row('{"id": "9"}', reason=f"bad date {hostile!s}")],
        )
        run = start_run(con, "sync", started_at=at(2, month=3)).run_id
        finish_run(con, run, outcome="failed", finished_at=at(3, month=3), detail=hostile)
        status = archive_status(con)
    finally:
        con.close()
    console = Console(record=True, width=300)
    render_status(status, console)  # markup in the data would raise MarkupError here
    text = console.export_text()
    assert "\x1b" not in text
    assert "\x07" not in text
    assert "[/]\\x1b[2J\\x1b]0;title\\x07[bold]x" in text  # the rejected reason, as it is
    assert "failed: [/]\\x1b[2J" in text


def test_each_accounts_last_runs_are_shown_a_failure_not_hidden_by_anothers_success(
    tmp_path: Path,
) -> None:
    from rich.console import Console

    from flows.status_view import render_status
    from warehouse import start_run

    con = open_warehouse(tmp_path / "archive.duckdb")
    try:
        alice = start_run(con, "sync", account="alice@example.com", started_at=at(1, month=3))
        finish_run(con, alice.run_id, outcome="failed", detail="invalid_credentials")
        bob = start_run(con, "sync", account="bob@example.com", started_at=at(2, month=3))
        finish_run(con, bob.run_id, outcome="ok")
        status = archive_status(con)
    finally:
        con.close()
    assert status.last_runs.select("account", "outcome").rows() == [
        ("alice@example.com", "failed"),
        ("bob@example.com", "ok"),
    ]
    console = Console(record=True, width=200)
    render_status(status, console, writer_alive=False)
    shown = console.export_text()
    assert "sync of alice@example.com of " in shown
    assert "failed: invalid_credentials" in shown


def test_counts_in_statuss_tables_have_thousands_separators() -> None:
    from rich.console import Console

    from flows.status_view import _table

    console = Console(record=True, width=80)
    console.print(_table("messages", ["kind", "messages"], [("sms", 1824), ("mms", None)]))
    text = console.export_text()
    assert "1,824" in text
    assert "—" in text


Run = tuple[RunKind, date, date, timedelta, int | None]
"""A run's kind, first and last day, time taken and messages inserted."""


def _shown_at_80_columns_after(tmp_path: Path, runs: list[Run], outcome: str = "ok") -> str:
    """`status` in an 80-column terminal after each run (kind, days, time taken, messages
    inserted) of one account, every one started 2024-03-05 12:00 UTC and ended so."""
    from rich.console import Console

    from flows.status_view import render_status
    from warehouse import start_run

    con = open_warehouse(tmp_path / "archive.duckdb")
    try:
        for kind, first, last, took, inserted in runs:
            run = start_run(
                con,
                kind,
                provider="voipms",
                account="me@example.com",
                window_start=first,
                window_end=last,
                started_at=at(5, month=3),
            ).run_id
            finished = at(5, month=3) + took
            finish_run(con, run, outcome=outcome, finished_at=finished, messages_inserted=inserted)
        status = archive_status(con)
    finally:
        con.close()
    console = Console(record=True, width=80)
    render_status(status, console)
    return console.export_text()


def test_a_run_in_the_last_runs_fits_one_line_of_an_80_column_terminal(tmp_path: Path) -> None:
    year = (date(2024, 1, 1), date(2024, 12, 31))
    text = _shown_at_80_columns_after(
        tmp_path,
        [
            ("backfill", *year, timedelta(seconds=7), None),
            ("sync", *year, timedelta(hours=1), None),
        ],
    )
    rows = [line.split() for line in text.splitlines() if "2024-03-05" in line]
    span = "2024-01-01..12-31"
    assert rows == [
        ["backfill", "ok", span, "2024-03-05", "12:00", "7", "s", "—", "—"],
        ["sync", "ok", span, "2024-03-05", "12:00", "60", "min", "—", "—"],
    ]


def test_a_run_of_years_keeps_every_figure_in_an_80_column_terminal(tmp_path: Path) -> None:
    text = _shown_at_80_columns_after(
        tmp_path,
        [("backfill", date(2018, 12, 7), date(2026, 12, 6), timedelta(seconds=85), 250_000)],
    )
    assert "…" not in text
    lines = text.splitlines()
    at_row = next(n for n, line in enumerate(lines) if line.startswith("backfill"))
    # the days wrap after their dots; the start, the time taken and the count keep their line
    assert lines[at_row].split() == [
        "backfill", "ok", "2018-12-07", "..", "2024-03-05", "12:00", "85", "s", "250,000", "—"
    ]  # fmt: skip
    assert lines[at_row + 1].split() == ["2026-12-06"]


def test_a_last_day_archived_before_it_was_over_says_until_when(tmp_path: Path) -> None:
    from rich.console import Console

    from flows.status_view import render_status

    con = open_warehouse(tmp_path / "archive.duckdb")
    try:
        # a sync at 09:50 New York time on 2024-10-10, then nothing
        committed = datetime(2024, 10, 10, 13, 50, tzinfo=UTC)
        merge(con, "acct-a", (date(2024, 10, 3), date(2024, 10, 10)), [], seen_at=committed)
        status = archive_status(con, timezone="America/New_York")
    finally:
        con.close()
    console = Console(record=True, width=200)
    render_status(status, console, timezone="America/New_York")
    assert "days archived: 2024-10-03 .. 2024-10-10 09:50 (8 days)" in console.export_text()


def test_one_day_archived_is_one_day(tmp_path: Path) -> None:
    from rich.console import Console

    from flows.status_view import render_status

    con = open_warehouse(tmp_path / "archive.duckdb")
    try:
        merge(
            con, "acct-a", (date(2024, 3, 10),) * 2, [], seen_at=datetime(2024, 3, 12, tzinfo=UTC)
        )
        status = archive_status(con)
    finally:
        con.close()
    console = Console(record=True, width=200)
    render_status(status, console)
    assert "days archived: 2024-03-10 .. 2024-03-10 (1 day)\n" in console.export_text()


def test_a_cell_too_long_for_80_columns_folds_and_loses_nothing(tmp_path: Path) -> None:
    # as in a pipe (cron's mail, a log file), where Rich draws 80 columns
    text = _shown_at_80_columns_after(
        tmp_path,
        [("backfill", date(2024, 1, 1), date(2024, 3, 31), timedelta(hours=1), 1_234_567)],
        outcome="interrupted",
    )
    assert "…" not in text
    assert "2024-01-01..0" in text  # folded onto the next line where it does not fit
    assert "31" in text.split("2024-01-01..0", 1)[1].split("schema", 1)[0]


@pytest.mark.parametrize(
    ("outcome", "alive"), [("failed", True), ("interrupted", True), ("running", False)]
)
def test_a_backfill_that_did_not_end_ok_names_the_days_it_left_and_the_command(
    tmp_path: Path, outcome: str, alive: bool
) -> None:
    from rich.console import Console

    from flows.status_view import render_status
    from warehouse import start_run

    con = open_warehouse(tmp_path / "archive.duckdb")
    try:
        run = start_run(
            con,
            "backfill",
            provider=PROVIDER,
            account="acct-a",
            window_start=date(2024, 1, 1),
            window_end=date(2024, 12, 31),
            started_at=at(5, month=9),
        ).run_id
        # of the year, the windows of January to March and of July were archived
        seen = datetime(2024, 9, 1, tzinfo=UTC)
        merge(con, "acct-a", (date(2024, 1, 1), date(2024, 3, 31)), [], seen_at=seen)
        merge(con, "acct-a", (date(2024, 7, 1), date(2024, 7, 31)), [], seen_at=seen)
        if outcome != "running":  # "running" with no writer alive: a killed run
            finish_run(con, run, outcome=outcome, finished_at=at(5, 13, month=9), detail="x")
        status = archive_status(con)
    finally:
        con.close()
    console = Console(record=True, width=300)
    render_status(status, console, writer_alive=alive)
    left = (
        "244 days never archived: 2024-04-01 .. 2024-06-30, 2024-08-01 .. 2024-12-31; "
        "`smsarchive backfill --start 2024-01-01 --end 2024-12-31` fetches them (the windows "
        "already archived are skipped)"
    )
    said = {
        "failed": f"backfill of 2024-09-05 12:00 UTC failed and left {left}",
        "interrupted": f"backfill of 2024-09-05 12:00 UTC was interrupted and left {left}",
        "running": "backfill of 2024-09-05 12:00 UTC was interrupted: its process ended before "
        f"the run did; it left {left}",
    }[outcome]
    assert said in console.export_text().splitlines()


def test_the_days_left_never_run_past_today() -> None:
    from flows.status_view import _left_to_backfill

    today = date(2026, 12, 6)
    archived = pl.DataFrame(
        {"first_day": [date(2026, 12, 1)], "last_day": [date(2026, 12, 3)]},
        schema={"first_day": pl.Date, "last_day": pl.Date},
    )
    run = {"kind": "backfill", "window_start": date(2026, 11, 30), "window_end": date(2027, 1, 5)}
    assert _left_to_backfill(run, archived, today) == (
        "4 days never archived: 2026-11-30 .. 2026-11-30, 2026-12-04 .. 2026-12-06; "
        "`smsarchive backfill --start 2026-11-30 --end 2026-12-06` fetches them (the windows "
        "already archived are skipped)"
    )
    future = {**run, "window_start": date(2026, 12, 7)}
    assert _left_to_backfill(future, archived, today) is None
    assert _left_to_backfill({**run, "kind": "sync"}, archived, today) is None
