"""Replays: a window twice, overlapping windows, sync and backfill in either order: no doubles."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from time import sleep
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from extract.voipms.sandbox.account import SandboxAccount
from extract.voipms.sandbox.server import SandboxServer
from extract.voipms.sandbox.spec import ACCOUNT_TIMEZONE, AccountSpec
from extract.voipms.windows import Window
from flows.api_client import api_client
from flows.archive_run import run_backfill, run_sync
from flows.runtime import use_settings
from flows.settings import Settings
from flows.window_steps import PreparedWindow, merge_prepared, prepare_window
from tests.conftest import SANDBOX_PASSWORD, SANDBOX_USERNAME
from tests.flows.archive_checks import (
    archived_messages,
    assert_matches_truth,
    stable_snapshot,
    table,
    truth_messages,
)
from tests.flows.conftest import sandbox_settings
from warehouse import open_warehouse

History = dict[tuple[str, str], list[str]]


MIDNIGHT_MARGIN = timedelta(minutes=2)
"""Longer than a test of this module takes: none may straddle the account's midnight."""


def _today() -> date:
    """The sandbox's "today" and the one `sync` ends on: the account's local day now.

    Within MIDNIGHT_MARGIN of the account's midnight, it waits for the next day first: a test
    that made its sandbox on one day and synced on the next would compare different days.
    """
    now = datetime.now(ZoneInfo(ACCOUNT_TIMEZONE))
    midnight = datetime.combine(now.date() + timedelta(days=1), time(), now.tzinfo)
    if midnight - now < MIDNIGHT_MARGIN:
        sleep((midnight - now).total_seconds() + 1)
    return datetime.now(ZoneInfo(ACCOUNT_TIMEZONE)).date()


@dataclass
class Near:
    """A sandbox whose messages run up to today, and what the tests did to it."""

    account: SandboxAccount
    server: SandboxServer
    today: date
    first: date
    changed: dict[tuple[str, int], list[str]] = field(default_factory=dict)
    """(kind, id) -> every carrier status the message had, oldest first."""

    def settings(self, data_dir: Path, **overrides: object) -> Settings:
        return sandbox_settings(self.server, data_dir, **overrides)

    def change_status(self, days: tuple[date, date], skip: int = 0) -> tuple[str, int]:
        """Give an outbound message sent on one of `days` a new carrier status; its key."""
        candidates = [
            row
            for row in self.account.truth()
            .filter((pl.col("direction") == "outbound") & pl.col("local_date").is_between(*days))
            .iter_rows(named=True)
            if (row["kind"], row["id"]) not in self.changed
        ]
        row = candidates[skip]
        key = (str(row["kind"]), int(row["id"]))
        new = "Delivered" if row["carrier_status"] != "Delivered" else "Undelivered"
        self.account.set_carrier_status(*key, new)
        self.changed[key] = [str(row["carrier_status"]), new]
        return key

    def change_back(self, key: tuple[str, int]) -> None:
        """Give a changed message its first status again (a change too)."""
        old = self.changed[key][0]
        self.account.set_carrier_status(*key, old)
        self.changed[key].append(old)

    def add(self, n: int, days: tuple[date, date]) -> list[tuple[str, int]]:
        """`n` new messages at noon (UTC) or later of local days `days`."""
        start = datetime.combine(days[0], time(17), UTC)
        end = datetime.combine(days[1], time(17), UTC)
        return self.account.add_messages(n, start, end)

    def truth(self, since: date | None = None) -> pl.DataFrame:
        truth = truth_messages(self.account)
        if since is None:
            return truth
        days = self.account.truth().select(
            pl.col("kind"), pl.col("id").cast(pl.Utf8).alias("message_id"), "local_date"
        )
        kept = days.filter(pl.col("local_date") >= since).drop("local_date")
        return truth.join(kept, on=["kind", "message_id"], how="semi")

    def expected_history(self, since: date | None = None) -> History:
        """Every message's carrier statuses as the archive must list them: changes, each once."""
        truth = self.account.truth()
        if since is not None:
            truth = truth.filter(pl.col("local_date") >= since)
        expected: History = {}
        for kind, id_, status in truth.select("kind", "id", "carrier_status").iter_rows():
            expected[(kind, str(id_))] = self.changed.get((kind, id_), [status])
        return expected


@pytest.fixture
def near_today() -> Iterator[Near]:
    """A fresh small account from 40 days ago to today, served on loopback."""
    today = _today()
    first = today - timedelta(days=40)
    account = SandboxAccount.generate(
        AccountSpec(seed=31, messages=240, start=first, end=today, dids=2, mms_share=0.1)
    )
    server = SandboxServer(account, username=SANDBOX_USERNAME, password=SANDBOX_PASSWORD).start()
    try:
        yield Near(account, server, today, first)
    finally:
        server.stop()


def _history(archive: Path) -> History:
    """carrier_status_history as (kind, id) -> statuses in the order they were seen."""
    rows = table(
        archive,
        "SELECT kind, message_id, carrier_status FROM carrier_status_history "
        "ORDER BY kind, message_id, seen_at",
    )
    history: History = {}
    for kind, id_, status in rows.iter_rows():
        history.setdefault((kind, id_), []).append(status)
    return history


def _latest(archive: Path) -> dict[tuple[str, str], str]:
    rows = table(archive, "SELECT kind, message_id, carrier_status FROM messages")
    return {(kind, id_): status for kind, id_, status in rows.iter_rows()}


def _assert_archive(near: Near, archive: Path, since: date | None = None) -> None:
    """The archive holds every message once, as it is now, with every status it was seen with."""
    got = archived_messages(archive)
    assert got.select("kind", "message_id").is_duplicated().sum() == 0
    assert_matches_truth(got, near.truth(since))
    expected = near.expected_history(since)
    assert _history(archive) == expected
    assert _latest(archive) == {key: statuses[-1] for key, statuses in expected.items()}


def _run(settings: Settings, kind: str, *days: date) -> dict[str, Any]:
    with use_settings(settings):
        return run_sync() if kind == "sync" else run_backfill(*days)


# ------------------------------------------------------------------ through the flows


@pytest.mark.usefixtures("prefect_server")
def test_sync_then_backfill_equals_backfill_then_sync(near_today: Near, tmp_path: Path) -> None:
    """Whatever order sync and backfill come in, with status changes and new messages between
    them, both archives end equal to the account: each change once in the history."""
    near, today = near_today, near_today.today
    start = today - timedelta(days=30)
    first = near.settings(tmp_path / "sync-first")
    second = near.settings(tmp_path / "backfill-first")

    synced = _run(first, "sync")  # an empty archive syncs the lookback: 7 days up to today
    assert (synced["start"], synced["end"]) == (str(today - timedelta(days=7)), str(today))
    _run(second, "backfill", start, today)

    recent = (today - timedelta(days=6), today - timedelta(days=1))
    changed = [near.change_status(recent), near.change_status(recent)]
    added = near.add(3, (today - timedelta(days=3), today - timedelta(days=1)))

    backfilled = _run(first, "backfill", start, today)  # a backfill after a sync
    resynced = _run(second, "sync")  # a sync after a backfill
    assert backfilled["windows_skipped"] == 0  # today's window is never settled
    assert backfilled["status_changes"] == resynced["status_changes"] == len(changed)
    assert resynced["inserted"] == len(added)
    for settings in (first, second):
        _assert_archive(near, settings.archive_path, since=start)
        for key in changed:
            assert _history(settings.archive_path)[(key[0], str(key[1]))] == near.changed[key]
    snapshot = stable_snapshot(first.archive_path)
    for name, frame in stable_snapshot(second.archive_path).items():
        assert_frame_equal(snapshot[name], frame, check_row_order=True)

    # Once more, the other way round, with nothing new: nothing changes.
    for again in (_run(first, "sync"), _run(second, "backfill", start, today)):
        assert (again["inserted"], again["updated"], again["status_changes"]) == (0, 0, 0)
    for settings in (first, second):
        _assert_archive(near, settings.archive_path, since=start)


@pytest.mark.usefixtures("prefect_server")
def test_an_open_window_fetched_again_records_each_change_once(
    near_today: Near, tmp_path: Path
) -> None:
    """A window that ends today is not settled: every backfill of it fetches it again, and a
    status changed in between, even back to what it was, is one history row per change."""
    near, today = near_today, near_today.today
    settings = near.settings(tmp_path / "data")
    days = (today - timedelta(days=10), today)
    _run(settings, "backfill", *days)
    key = near.change_status((days[0], today - timedelta(days=1)))
    second = _run(settings, "backfill", *days)
    near.change_back(key)
    third = _run(settings, "backfill", *days)
    assert [r["windows_skipped"] for r in (second, third)] == [0, 0]
    assert [r["status_changes"] for r in (second, third)] == [1, 1]
    assert [r["inserted"] for r in (second, third)] == [0, 0]
    history = _history(settings.archive_path)[(key[0], str(key[1]))]
    assert history == near.changed[key]
    assert history[0] == history[2] != history[1]
    _assert_archive(near, settings.archive_path, since=days[0])


@pytest.mark.usefixtures("prefect_server")
def test_a_settled_window_is_left_to_sync_and_its_lookback(
    near_today: Near, tmp_path: Path
) -> None:
    """By design a backfill skips a settled window (merged after its last day was over) and
    so does not see a carrier status changed there later; `sync` fetches again from the newest
    archived day minus SMSARCHIVE_SYNC_LOOKBACK_DAYS, so a late change inside the lookback
    is recorded once, and one further back waits for a sync with a longer lookback."""
    near, today = near_today, near_today.today
    settings = near.settings(tmp_path / "data")
    days = (near.first, today - timedelta(days=20))
    _run(settings, "backfill", *days)
    inside = near.change_status((today - timedelta(days=26), today - timedelta(days=21)))
    beyond = near.change_status((near.first, today - timedelta(days=30)))
    before = _history(settings.archive_path)

    near.server.reset_counts()
    skipped = _run(settings, "backfill", *days)
    assert skipped["windows_skipped"] == skipped["windows"] == 1
    assert set(near.server.call_counts()) <= {"getDIDsInfo"}
    assert _history(settings.archive_path) == before  # not fetched: not seen

    synced = _run(settings, "sync")
    assert synced["start"] == str(days[1] - timedelta(days=7))
    assert synced["status_changes"] == 1
    history = _history(settings.archive_path)
    assert history[(inside[0], str(inside[1]))] == near.changed[inside]
    assert history[(beyond[0], str(beyond[1]))] == near.changed[beyond][:1]

    longer = near.settings(tmp_path / "data", smsarchive_sync_lookback_days=45)
    assert _run(longer, "sync")["status_changes"] == 1
    _assert_archive(near, settings.archive_path)
    assert _run(longer, "sync")["status_changes"] == 0
    _assert_archive(near, settings.archive_path)


# ------------------------------------------------------------------ merges as plain calls


def _prepared(settings: Settings, window: Window) -> PreparedWindow:
    """One window fetched, landed and transformed as a run does, not yet merged."""
    with api_client(settings) as client:
        return prepare_window(
            client,
            window,
            dids=[str(row["did"]) for row in client.get_dids_info()],
            page_limit=400,
            data_dir=settings.smsarchive_data_dir,
            account=SANDBOX_USERNAME,
            timezone=ACCOUNT_TIMEZONE,
        )


def _merge(
    con: duckdb.DuckDBPyConnection, prepared: PreparedWindow, at: datetime
) -> tuple[int, int, int]:
    outcome = merge_prepared(con, prepared, account=SANDBOX_USERNAME, seen_at=at)
    merged = outcome.merge
    return merged.inserted, merged.status_changes, merged.rejected_new


@pytest.mark.parametrize("earlier_first", [True, False], ids=["earlier-first", "later-first"])
def test_overlapping_windows_merged_in_either_order(
    near_today: Near, tmp_path: Path, earlier_first: bool
) -> None:
    """Two overlapping windows, a status change between their fetches, merged in the order
    they were fetched (earlier or later window first), each twice: the messages of both once,
    the change once, and a window merged again changes nothing."""
    near, today = near_today, near_today.today
    settings = near.settings(tmp_path / "data")
    early = Window(today - timedelta(days=20), today - timedelta(days=8))
    late = Window(today - timedelta(days=14), today - timedelta(days=2))
    overlap = (late.start, early.end)
    first_window, second_window = (early, late) if earlier_first else (late, early)
    first = _prepared(settings, first_window)
    key = near.change_status(overlap)
    second = _prepared(settings, second_window)

    at = datetime(2030, 1, 1, tzinfo=UTC)
    con = open_warehouse(settings.archive_path)
    try:
        results = [
            _merge(con, first, at),
            _merge(con, first, at + timedelta(hours=1)),
            _merge(con, second, at + timedelta(hours=2)),
            _merge(con, second, at + timedelta(hours=3)),
        ]
    finally:
        con.close()
    archived = archived_messages(settings.archive_path)
    assert results[1] == results[3] == (0, 0, 0)
    assert results[2][1] == 1  # the one change, seen in the overlap
    assert results[0][0] + results[2][0] == archived.height
    assert archived.select("kind", "message_id").is_duplicated().sum() == 0
    truth = near.truth(early.start).join(
        near.truth(late.end + timedelta(days=1)), on=["kind", "message_id"], how="anti"
    )
    assert_matches_truth(archived, truth)
    history = _history(settings.archive_path)
    assert history[(key[0], str(key[1]))] == near.changed[key]
    assert sum(len(statuses) for statuses in history.values()) == archived.height + 1


def test_a_window_whose_merge_fails_lists_no_landed_answer(
    near_today: Near, tmp_path: Path
) -> None:
    """The ledger lists a fetch's answers in the merge's transaction: a merge that fails (a
    kill, a full disk, here a row the archive refuses) leaves them unlisted, as unmerged."""
    near, today = near_today, near_today.today
    settings = near.settings(tmp_path / "data")
    window = Window(today - timedelta(days=20), today - timedelta(days=8))
    prepared = _prepared(settings, window)
    assert prepared.landed
    assert prepared.frames.messages.height > 1
    messages = prepared.frames.messages
    broken = messages.with_columns(  # a message with no direction: NOT NULL refuses it
        pl.when(pl.int_range(pl.len()) == messages.height - 1)
        .then(None)
        .otherwise(pl.col("direction"))
        .alias("direction")
    )
    prepared.frames = replace(prepared.frames, messages=broken)
    con = open_warehouse(settings.archive_path)
    try:
        with pytest.raises(duckdb.ConstraintException):
            merge_prepared(con, prepared, account=SANDBOX_USERNAME, seen_at=datetime.now(UTC))
        listed = con.execute("SELECT count(*) FROM raw_landing").fetchall()
        merged = con.execute("SELECT count(*) FROM window_checkpoints").fetchall()
    finally:
        con.close()
    assert merged == [(0,)]
    assert listed == [(0,)]
