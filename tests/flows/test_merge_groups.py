"""Windows fetched by the time a merge starts are merged together, oldest first, in groups."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest

from extract.voipms.errors import UnexpectedAnswerError
from extract.voipms.windows import Window
from flows.archive_run import MERGE_GROUP_MESSAGES, PlainSteps, RunSummary, WindowMerger
from flows.window_steps import PreparedWindow, WindowOutcome, ZoneWarning
from tests.flows.conftest import Notes
from tests.warehouse.builders import media_frame, message, messages_frame, rejected_frame
from transform.reconcile import Reconciled
from warehouse import open_warehouse


class GroupsSeen(PlainSteps):
    """PlainSteps that merge for real, noting which windows each merge was given."""

    def __init__(self) -> None:
        super().__init__()
        self.groups: list[list[date]] = []

    def merge(
        self, con: duckdb.DuckDBPyConnection, prepared: Sequence[PreparedWindow], account: str
    ) -> list[WindowOutcome]:
        self.groups.append([p.window.start for p in prepared])
        return super().merge(con, prepared, account)


def window(month: int) -> Window:
    start = date(2024, month, 1)
    return Window(start, start + timedelta(days=27))


def fetched(month: int, messages: int) -> tuple[Window, Future[PreparedWindow]]:
    return ok(window(month), messages)


def ok(days: Window, messages: int) -> tuple[Window, Future[PreparedWindow]]:
    """`days` answered with `messages` messages (inbound SMS on its first day)."""
    first = datetime.combine(days.start, time(12), tzinfo=UTC)
    rows = messages_frame(message("0", account=ACCOUNT, sent_at=first))
    frames = Reconciled(
        messages=rows.select(pl.all().gather([0] * messages)).with_columns(
            message_id=pl.format("{}-{}", pl.lit(days.start.isoformat()), pl.int_range(messages))
        ),
        media=media_frame(),
        rejected=rejected_frame(),
        duplicates=0,
        matched=0,
    )
    future: Future[PreparedWindow] = Future()
    future.set_result(PreparedWindow(days, [], frames, messages, 0, 2, set()))
    return days, future


def failed(days: Window) -> tuple[Window, Future[PreparedWindow]]:
    """`days` answered with an error code this version does not know."""
    future: Future[PreparedWindow] = Future()
    future.set_exception(UnexpectedAnswerError("no_such_status", "getSMS"))
    return days, future


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = open_warehouse(tmp_path / "archive.duckdb")
    yield connection
    connection.close()


ACCOUNT = "acct"


def archived(con: duckdb.DuckDBPyConnection) -> int:
    """Messages in the archive."""
    ((count,),) = con.execute("SELECT count(*) FROM messages").fetchall()
    return int(count)


def run(
    con: duckdb.DuckDBPyConnection, ready: list[tuple[Window, Future[PreparedWindow]]]
) -> tuple[GroupsSeen, RunSummary, Notes]:
    steps, notes = GroupsSeen(), Notes()
    summary = RunSummary("backfill", date(2024, 1, 1), date(2024, 12, 31))
    WindowMerger(con, ACCOUNT, summary, notes, steps, ZoneWarning("America/New_York")).archive(
        ready
    )
    return steps, summary, notes


def test_ready_windows_merge_together_up_to_the_group_size(
    con: duckdb.DuckDBPyConnection,
) -> None:
    third = MERGE_GROUP_MESSAGES // 3 + 1
    steps, summary, notes = run(
        con,
        [fetched(1, third), fetched(2, third), fetched(3, third), fetched(4, 10), fetched(5, 20)],
    )
    assert steps.groups == [
        [date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)],  # the third fills the group
        [date(2024, 4, 1), date(2024, 5, 1)],
    ]
    assert summary.inserted == 3 * third + 30 == archived(con)
    assert len(notes.notes) == 5  # one step of progress per window


def test_a_window_as_large_as_a_group_is_merged_alone(con: duckdb.DuckDBPyConnection) -> None:
    steps, _, _ = run(con, [fetched(1, MERGE_GROUP_MESSAGES), fetched(2, 5)])
    assert steps.groups == [[date(2024, 1, 1)], [date(2024, 2, 1)]]


def test_a_window_answered_unusably_is_cut_in_two_down_to_its_bad_day(
    con: duckdb.DuckDBPyConnection,
) -> None:
    steps, notes = GroupsSeen(), Notes()
    summary = RunSummary("backfill", date(2024, 1, 1), date(2024, 12, 31), windows=3)
    merger = WindowMerger(con, ACCOUNT, summary, notes, steps, ZoneWarning("America/New_York"))
    merger.archive([fetched(1, 5), failed(window(2)), fetched(3, 7)])
    assert steps.groups == [[date(2024, 1, 1), date(2024, 3, 1)]]
    assert summary.inserted == 12 == archived(con)
    halves = merger.take_halves()
    assert halves == [
        Window(date(2024, 2, 1), date(2024, 2, 14)),
        Window(date(2024, 2, 15), date(2024, 2, 28)),
    ]
    # the later half is answered; the earlier is cut again, and so on down to one bad day
    merger.archive([failed(halves[0]), ok(halves[1], 4)])
    assert merger.take_halves()[0] == Window(date(2024, 2, 1), date(2024, 2, 7))
    merger.archive([failed(Window(date(2024, 2, 3), date(2024, 2, 3)))])
    assert merger.take_halves() == []
    merger.end()
    assert summary.failed_windows == ["2024-02-03..2024-02-03: VoIP.ms getSMS: no_such_status"]
    assert (summary.days_failed, summary.windows) == (1, 5)  # two windows cut: two more
    assert notes.notes[-1] == "2024-02-03..2024-02-03 failed"
    assert notes.notes.count("+1") == 2


def test_quarters_are_cut_further_only_once_the_api_answered_a_window_usably(
    con: duckdb.DuckDBPyConnection,
) -> None:
    def merger() -> tuple[WindowMerger, RunSummary]:
        summary = RunSummary("sync", date(2024, 2, 1), date(2024, 2, 28), windows=1)
        zone = ZoneWarning("America/New_York")
        return WindowMerger(con, ACCOUNT, summary, Notes(), GroupsSeen(), zone), summary

    answered, _ = merger()
    answered.archive([failed(window(2))])  # the run's own window: cut at once
    earlier, later = answered.take_halves()
    answered.archive([failed(earlier), failed(later)])  # its halves too, answered or not
    quarters = answered.take_halves()
    assert quarters == [*earlier.halves(), *later.halves()]
    answered.archive([failed(quarters[0])])  # nothing answered yet: parked, not cut
    assert answered.take_halves() == []
    answered.archive([ok(quarters[1], 3)])  # now the first quarter is cut
    assert answered.take_halves() == list(quarters[0].halves())

    never, summary = merger()
    never.archive([failed(window(2))])
    never.archive([failed(half) for half in never.take_halves()])
    never.archive([failed(quarter) for quarter in never.take_halves()])
    assert never.take_halves() == []
    never.end()  # the API answered no day: the quarters fail, said as one span
    assert summary.days_failed == 28
    assert summary.failed_windows == ["2024-02-01..2024-02-28: VoIP.ms getSMS: no_such_status"]
    assert summary.windows == 4  # four quarters: six more fetches when every call errs
