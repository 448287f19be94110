"""A backfill asks the API only for days no settled window holds, however they were cut."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from pydantic import SecretStr

from extract.voipms.errors import PermanentError
from extract.voipms.sandbox.account import SandboxAccount
from extract.voipms.sandbox.drift import DriftConfig
from extract.voipms.sandbox.server import SandboxServer
from extract.voipms.sandbox.spec import AccountSpec
from flows.archive_run import PlainSteps, WindowsFailedError, archive
from flows.runtime import use_settings
from flows.settings import Settings
from tests.conftest import serving
from tests.flows.archive_checks import (
    archived_messages,
    assert_matches_truth,
    table,
    truth_messages,
)
from tests.flows.conftest import sandbox_settings
from warehouse import open_warehouse

SPAN = (date(2024, 1, 1), date(2024, 6, 30))
"""Two 92-day windows."""


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    account = SandboxAccount.generate(
        AccountSpec(seed=43, messages=300, start=date(2023, 12, 1), end=SPAN[1], dids=2)
    )
    with serving(account) as srv:
        yield srv


def test_another_start_fetches_only_the_days_not_yet_archived(
    server: SandboxServer, tmp_path: Path
) -> None:
    settings = sandbox_settings(server, tmp_path / "data")
    with use_settings(settings):
        archive(settings, "backfill", *SPAN, PlainSteps())
        server.reset_counts()
        inside = archive(settings, "backfill", date(2024, 1, 3), SPAN[1], PlainSteps())
        asked_inside = server.call_counts()
        server.reset_counts()
        wider = archive(settings, "backfill", date(2023, 12, 1), SPAN[1], PlainSteps())
        asked_wider = server.call_counts()
    # every day of 2024-01-03..06-30 is held by the two settled windows: nothing is asked
    assert (inside.windows, inside.windows_skipped) == (2, 2)
    assert "getSMS" not in asked_inside
    assert "getMMS" not in asked_inside
    # from 2023-12-01 only December is new: one window of 31 days, one call of each method
    assert (wider.windows, wider.windows_skipped) == (3, 2)
    assert (asked_wider["getSMS"], asked_wider["getMMS"]) == (1, 1)
    assert_matches_truth(archived_messages(settings.archive_path), truth_messages(server.account))


def test_a_first_sync_says_the_history_needs_a_backfill(
    server: SandboxServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = sandbox_settings(server, tmp_path / "data")
    with use_settings(settings), caplog.at_level(logging.WARNING, logger="smsarchive"):
        archive(settings, "sync", None, None, PlainSteps())
        archive(settings, "sync", None, None, PlainSteps())  # now it has something: no word
    said = [r.getMessage() for r in caplog.records if "fetches the history" in r.getMessage()]
    assert said == [
        f"nothing of {server.username} is archived yet: sync fetches today and the 7 days "
        "before only; "
        "`smsarchive backfill --start YYYY-MM-DD` fetches the history"
    ]


def test_a_wrong_password_fails_the_run_though_every_window_is_archived(
    server: SandboxServer, tmp_path: Path
) -> None:
    settings = sandbox_settings(server, tmp_path / "data")
    with use_settings(settings):
        archive(settings, "backfill", *SPAN, PlainSteps())
    wrong = settings.model_copy(update={"voipms_api_password": SecretStr("not-the-password")})
    with use_settings(wrong), pytest.raises(PermanentError) as refused:
        archive(wrong, "backfill", *SPAN, PlainSteps())
    assert refused.value.code == "invalid_credentials"
    runs = table(settings.archive_path, "SELECT outcome FROM sync_runs ORDER BY run_id")
    assert runs["outcome"].to_list() == ["ok", "failed"]


def _a_sync_that_fails_in_april(server: SandboxServer, settings: Settings) -> None:
    """Archive up to 2024-02-29, then sync: its window holding April (which the API refuses)
    fails, the ones after it merge, today's first of all."""
    archive(settings, "backfill", date(2023, 12, 1), date(2024, 2, 29), PlainSteps())
    server.set_drift(
        DriftConfig(error_code="no_way", error_days=(date(2024, 4, 1), date(2024, 4, 30)))
    )
    with pytest.raises(WindowsFailedError):
        archive(settings, "sync", None, None, PlainSteps())
    server.set_drift(DriftConfig())


@pytest.mark.parametrize("backfilled", [False, True], ids=["left", "held-since-by-a-backfill"])
def test_a_sync_after_one_that_failed_midway_fetches_the_days_it_left(
    server: SandboxServer, tmp_path: Path, backfilled: bool
) -> None:
    # a sync merges the window holding today first: one stopped or failed before its
    # earlier windows leaves the newest day archived and a gap before it
    settings = sandbox_settings(server, tmp_path / "data")
    try:
        with use_settings(settings):
            _a_sync_that_fails_in_april(server, settings)
            if backfilled:
                archive(settings, "backfill", date(2024, 2, 22), date(2024, 5, 23), PlainSteps())
            again = archive(settings, "sync", None, None, PlainSteps())
    finally:
        server.set_drift(DriftConfig())
    assert again.start == date(2024, 2, 22)  # the failed sync's first day, not today's less 7
    if backfilled:  # its days are held by now: only the lookback's window is fetched
        assert again.windows - again.windows_skipped == 1
    assert_matches_truth(archived_messages(settings.archive_path), truth_messages(server.account))


def test_media_lost_for_good_are_said_in_status_and_downloaded_again_when_asked(
    server: SandboxServer, tmp_path: Path
) -> None:
    settings = sandbox_settings(server, tmp_path / "data")
    with use_settings(settings):
        first = archive(settings, "backfill", *SPAN, PlainSteps())
        assert first.media.stored > 0
        shutil.rmtree(settings.media_dir)  # lost, with no backup
        stopped = archive(settings, "sync", None, None, PlainSteps())
        again = archive(settings, "sync", None, None, PlainSteps(), redownload_missing_media=True)
    assert "is the disk that holds it mounted?" in stopped.media.stopped
    runs = table(settings.archive_path, "SELECT detail FROM sync_runs ORDER BY run_id")
    assert "media: " in runs["detail"][1]  # what `status` shows of the run
    assert again.media.stopped == ""
    assert again.media.stored == first.media.stored  # the expired ones were never stored
    stored = table(settings.archive_path, "SELECT sha256 FROM media WHERE state = 'stored'")
    for sha256 in stored["sha256"]:
        assert (settings.media_dir / sha256[:2] / sha256).is_file()


def test_a_run_removes_answers_a_stopped_run_left_half_landed(
    server: SandboxServer, tmp_path: Path
) -> None:
    settings = sandbox_settings(server, tmp_path / "data")
    open_warehouse(settings.archive_path).close()  # no archive beside answers: a lost one
    # a sync killed while landing: its window's days move on, so its folder is never landed
    # again; a whole answer beside the half one is kept (nothing landed is ever deleted)
    folder = settings.smsarchive_data_dir / "landing/voipms/x/2024-01-01_2024-04-01"
    folder.mkdir(parents=True)
    (folder / ".landing-getSMS-k1ll3d").write_bytes(b'[{"id":"1"}')
    (folder / "getSMS.20240402T000000000000Z.json").write_bytes(b'[{"id":"1"}]')
    with use_settings(settings):
        archive(settings, "sync", None, None, PlainSteps())
    assert sorted(p.name for p in folder.iterdir()) == ["getSMS.20240402T000000000000Z.json"]


def test_a_login_typed_in_another_case_is_archived_as_the_same_account(
    server: SandboxServer, tmp_path: Path
) -> None:
    settings = sandbox_settings(server, tmp_path / "data")
    with use_settings(settings):
        archive(settings, "backfill", date(2023, 12, 1), SPAN[1], PlainSteps())
    # an API that takes the e-mail in any case, the login typed otherwise one day
    shouted = server.username.upper()
    other = SandboxServer(server.account, username=shouted, password=server.password).start()
    try:
        again = sandbox_settings(other, tmp_path / "data")
        with use_settings(again):
            summary = archive(again, "sync", None, None, PlainSteps())
    finally:
        other.stop()
    assert summary.account == server.username
    accounts = table(settings.archive_path, "SELECT DISTINCT account FROM messages")
    assert accounts["account"].to_list() == [server.username]
    runs = table(settings.archive_path, "SELECT account FROM sync_runs ORDER BY run_id")
    assert runs["account"].to_list() == [server.username, server.username]
    assert_matches_truth(archived_messages(settings.archive_path), truth_messages(server.account))


@pytest.mark.parametrize(
    ("first_bad", "last_bad"),
    [(date(2024, 2, 27), date(2024, 2, 27)), (date(2024, 2, 25), date(2024, 2, 26))],
    ids=["one-day", "two-days-at-the-middle"],
)
def test_bad_days_in_a_syncs_lookback_leave_those_days_alone_unarchived(
    server: SandboxServer, tmp_path: Path, first_bad: date, last_bad: date
) -> None:
    # the API answers every call touching archived days of the lookback with an error code
    # this version does not know: the window is cut down to those days, and every other
    # day (the new ones above all) is archived; two bad days side by side at the middle of
    # the lookback spoil both its halves, which are cut all the same
    settings = sandbox_settings(server, tmp_path / "data")
    try:
        with use_settings(settings):
            archive(settings, "backfill", date(2023, 12, 1), date(2024, 2, 29), PlainSteps())
            server.set_drift(DriftConfig(error_code="no_way", error_days=(first_bad, last_bad)))
            with pytest.raises(WindowsFailedError) as failed:
                archive(settings, "sync", None, None, PlainSteps())
            held = archived_messages(settings.archive_path)
            server.set_drift(DriftConfig())
            again = archive(settings, "sync", None, None, PlainSteps())
    finally:
        server.set_drift(DriftConfig())
    said = str(failed.value)
    days = (last_bad - first_bad).days + 1
    assert said.startswith(
        f"{days} day{'s' if days > 1 else ''} could not be archived "
        f"({first_bad}..{last_bad}: VoIP.ms getSMS: no_way"
    )
    truth = server.account.truth()
    on_bad_day = truth.filter(pl.col("local_date").is_between(first_bad, last_bad))
    assert on_bad_day.height > 0
    # the bad day's messages the backfill had archived stay; nothing else is missing
    assert set(held.select("kind", "message_id").rows()) == {
        (kind, str(message_id)) for kind, message_id in truth.select("kind", "id").rows()
    }
    assert again.start == date(2024, 2, 22)  # the failed sync's first day: the bad one again
    assert_matches_truth(archived_messages(settings.archive_path), truth_messages(server.account))


def test_an_error_on_every_call_is_not_chased_down_to_single_days(tmp_path: Path) -> None:
    spec = AccountSpec(seed=3, messages=50, start=date(2024, 1, 1), end=date(2024, 6, 30))
    with serving(spec) as server:
        server.set_drift(DriftConfig(error_code="sms_archive_paused"))
        settings = sandbox_settings(server, tmp_path / "data")
        with use_settings(settings), pytest.raises(WindowsFailedError) as failed:
            archive(settings, "backfill", date(2024, 1, 1), date(2024, 6, 30), PlainSteps())
        calls = server.call_counts()
    # each of the two windows cut into quarters, no further: eight fail, said as one span
    said = str(failed.value)
    assert said.startswith("182 days could not be archived (2024-01-01..2024-06-30: ")
    assert said.endswith("; a rerun fetches them again")
    assert calls["getSMS"] <= 14, calls  # 2 windows, 4 halves, 8 quarters
