"""The repeated autumn hour end to end: read right despite a late SMS, and kept right when a
later answer lacks the evidence."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from extract.voipms.sandbox.account import SandboxAccount
from extract.voipms.sandbox.server import SandboxServer
from extract.voipms.sandbox.spec import AccountSpec
from flows.archive_run import PlainSteps, archive
from tests.conftest import SANDBOX_PASSWORD, SANDBOX_USERNAME
from tests.flows.conftest import sandbox_settings

FIRST, LAST = date(2024, 11, 1), date(2024, 11, 5)  # New York falls back on 2024-11-03


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    spec = AccountSpec(
        seed=2, messages=300, start=date(2024, 10, 27), end=date(2024, 11, 9), mms_share=0.3, dids=2
    )
    srv = SandboxServer(
        SandboxAccount.generate(spec), username=SANDBOX_USERNAME, password=SANDBOX_PASSWORD
    ).start()
    yield srv
    srv.stop()


def _repeated_hour_sms(archive_path: Path) -> dict[str, object]:
    with duckdb.connect(str(archive_path), read_only=True) as con:
        rows = con.execute(
            "SELECT message_id, sent_at FROM messages "
            "WHERE kind = 'sms' AND sent_at_local LIKE '2024-11-03 01:%'"
        ).fetchall()
    return dict(rows)


def test_deleting_the_first_pass_then_refetching_moves_no_second_pass_sms(
    server: SandboxServer, tmp_path: Path
) -> None:
    settings = sandbox_settings(server, tmp_path / "data")
    archive(settings, "backfill", FIRST, LAST, PlainSteps())
    before = _repeated_hour_sms(settings.archive_path)
    truth = server.account.truth().filter((pl.col("kind") == "sms") & pl.col("local_ambiguous"))
    true_at = {str(row["id"]): row["sent_at"] for row in truth.iter_rows(named=True)}
    right_second = [i for i, at in before.items() if at == true_at[i] and at.hour == 6]
    first_pass = [i for i, at in true_at.items() if at.hour == 5]
    assert right_second  # the night this test is about
    assert first_pass

    # the user deletes the first-pass SMS (the portal's delete); a refetch no longer sees them
    for message_id in first_pass:
        assert server.account.delete("sms", int(message_id))
    archive(settings, "backfill", FIRST, LAST, PlainSteps(), refetch=True)

    after = _repeated_hour_sms(settings.archive_path)
    assert {i: after[i] for i in right_second} == {i: before[i] for i in right_second}


def _quiet_but_for(added: list[tuple[int, tuple[int, int], tuple[int, int]]]) -> SandboxAccount:
    """An account with no message on New York's 2024 fall-back night but those `added`, in
    this order (ids given as they come): each a count, and the first and last (hour, minute)
    UTC of 2024-11-03 they fall in."""
    spec = AccountSpec(
        seed=3, messages=40, start=date(2024, 10, 20), end=date(2024, 10, 25), mms_share=0.0
    )
    account = SandboxAccount.generate(spec)
    for count, start, end in added:
        account.add_messages(
            count,
            datetime(2024, 11, 3, *start, tzinfo=UTC),
            datetime(2024, 11, 3, *end, tzinfo=UTC),
        )
    return account


def test_a_late_sms_in_the_first_pass_leaves_the_rest_of_the_hour_where_it_was(
    tmp_path: Path,
) -> None:
    # an account quiet that night but for SMS added in the order their ids would be given:
    # 01:05 EDT arriving after 01:20, then the first pass going on, then the second
    account = _quiet_but_for(
        [(2, (5, 10), (5, 20)), (1, (5, 5), (5, 5)), (3, (5, 30), (5, 50)), (3, (6, 2), (6, 40))]
    )
    server = SandboxServer(account, username=SANDBOX_USERNAME, password=SANDBOX_PASSWORD).start()
    try:
        settings = sandbox_settings(server, tmp_path / "data")
        archive(settings, "backfill", FIRST, LAST, PlainSteps())
    finally:
        server.stop()
    truth = account.truth().filter(pl.col("local_ambiguous"))
    assert truth.height == 9
    assert _repeated_hour_sms(settings.archive_path) == {
        str(row["id"]): row["sent_at"] for row in truth.iter_rows(named=True)
    }


def test_late_sms_refetched_one_by_one_move_no_sms_archived_before_them(tmp_path: Path) -> None:
    # the hour's SMS in id order: three in the first pass, three in the second; then, one
    # refetch after another, first-pass SMS delivered late (ids after the second pass's)
    account = _quiet_but_for([(3, (5, 15), (5, 45)), (3, (6, 0), (6, 59))])
    server = SandboxServer(account, username=SANDBOX_USERNAME, password=SANDBOX_PASSWORD).start()
    try:
        settings = sandbox_settings(server, tmp_path / "data")
        archive(settings, "backfill", FIRST, LAST, PlainSteps())
        truth = account.truth().filter(pl.col("local_ambiguous"))
        archived = _repeated_hour_sms(settings.archive_path)
        assert archived == {str(row["id"]): row["sent_at"] for row in truth.iter_rows(named=True)}
        for minute in (10, 20, 5, 25):
            at = datetime(2024, 11, 3, 5, minute, tzinfo=UTC)
            account.add_messages(1, at, at)
            archive(settings, "backfill", FIRST, LAST, PlainSteps(), refetch=True)
            now = _repeated_hour_sms(settings.archive_path)
            assert {i: now[i] for i in archived} == archived, minute
    finally:
        server.stop()
