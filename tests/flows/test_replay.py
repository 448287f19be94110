"""`smsarchive replay`: the archive re-derived from its landed answers, without the API."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from extract.voipms.sandbox.account import SandboxAccount
from extract.voipms.sandbox.server import SandboxServer
from extract.voipms.sandbox.spec import AccountSpec
from flows.archive_run import PlainSteps, archive
from flows.cli import app
from flows.progress import Reporter, Tracker
from flows.replay_run import (
    NothingToRebuildError,
    ReplayFailedError,
    ReplaySummary,
    replay_archive,
    windows_to_replay,
)
from flows.runtime import use_settings
from flows.settings import Settings
from flows.window_steps import replay_window
from tests.conftest import serving
from tests.flows.conftest import sandbox_env, sandbox_settings
from warehouse import LandedWindow, landed_windows
from warehouse.errors import LostArchiveError

SPAN = (date(2024, 1, 1), date(2024, 6, 30))
"""Two 92-day windows."""


NEW_STATUS = "Quantum entangled"
"""A carrier status that maps to nothing: the backfill announces it, a replay must not."""


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    account = SandboxAccount.generate(
        AccountSpec(seed=41, messages=500, start=SPAN[0], end=SPAN[1], dids=2, mms_share=0.2)
    )
    first = account.truth().row(0, named=True)
    account.set_carrier_status(first["kind"], first["id"], NEW_STATUS)
    with serving(account) as srv:
        yield srv


@pytest.fixture
def settings(server: SandboxServer, tmp_path: Path) -> Settings:
    """An archive of SPAN, backfilled through the plain path."""
    settings = sandbox_settings(server, tmp_path / "data")
    with use_settings(settings):
        archive(settings, "backfill", *SPAN, PlainSteps())
    return settings


def table(settings: Settings, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(settings.archive_path), read_only=True) as con:
        return con.sql(sql).pl()


def execute(settings: Settings, sql: str) -> None:
    with duckdb.connect(str(settings.archive_path)) as con:
        con.execute(sql)


MESSAGES = "SELECT * FROM messages ORDER BY kind, message_id"
HISTORY = "SELECT * FROM carrier_status_history ORDER BY kind, message_id, seen_at"
CHECKPOINTS = "SELECT * FROM window_checkpoints ORDER BY window_start"


def replay(settings: Settings, start: date | None = None, end: date | None = None) -> ReplaySummary:
    with use_settings(settings):
        return replay_archive(settings, start, end)


def test_replay_corrects_derived_columns_and_records_nothing_twice(settings: Settings) -> None:
    messages, history, checkpoints = (table(settings, q) for q in (MESSAGES, HISTORY, CHECKPOINTS))
    # what an older transform might have got wrong, in both windows
    execute(
        settings,
        "UPDATE messages SET body = 'garbled', contact = NULL, status = 'unknown', segments = 0, "
        "carrier_status = 'garbled' WHERE hash(message_id) % 3 = 0",
    )
    spoiled = table(settings, "SELECT count(*) AS n FROM messages WHERE body = 'garbled'")["n"][0]
    assert spoiled > 10

    summary = replay(settings)

    assert_frame_equal(table(settings, MESSAGES), messages)  # first/last_seen_at included
    # a carrier status the landing does not hold is put right, not recorded as a change
    assert_frame_equal(table(settings, HISTORY), history)
    assert_frame_equal(table(settings, CHECKPOINTS), checkpoints)
    assert summary.as_dict() == {
        "start": None,
        "end": None,
        "windows": 2,
        "replayed": 2,
        "inserted": 0,
        "corrected": spoiled,
        "rejected": 0,
        "notices": [],  # what the runs met is announced once, by them, not again
        "failed_windows": [],
        "failed_days": [],
        "failed_accounts": [],
        "remedies": [],
        "adopted": 0,  # the archive lists its landed answers
        "left_out": [],
        "left_out_days": [],
        "left_out_account": "sandbox@example.com",
    }
    notices = table(settings, "SELECT kind, subject FROM provider_notices")
    assert notices.rows() == [("unmapped_status", NEW_STATUS)]  # known, so not announced


def test_replay_archives_what_the_archive_lacks_with_its_first_history_row(
    settings: Settings,
) -> None:
    messages, history = table(settings, MESSAGES), table(settings, HISTORY)
    # as if an older transform had rejected these rows: not in messages, no history
    execute(
        settings,
        "DELETE FROM carrier_status_history WHERE kind = 'sms' AND hash(message_id) % 4 = 0",
    )
    execute(settings, "DELETE FROM messages WHERE kind = 'sms' AND hash(message_id) % 4 = 0")
    removed = messages.height - table(settings, MESSAGES).height
    assert removed > 10

    summary = replay(settings)

    assert (summary.inserted, summary.corrected) == (removed, 0)
    # back as they were: first seen when their answer was landed, one history row each
    assert_frame_equal(table(settings, MESSAGES), messages)
    assert_frame_equal(table(settings, HISTORY), history)


def test_a_changed_landing_is_reported_and_the_other_windows_are_replayed(
    settings: Settings,
) -> None:
    landing = table(settings, "SELECT window_start, method, path FROM raw_landing")
    first = landing.filter(
        (pl.col("window_start") == SPAN[0]) & (pl.col("method") == "getSMS")
    ).row(0, named=True)
    path = settings.smsarchive_data_dir / first["path"]
    path.write_bytes(path.read_bytes().replace(b"[", b"[ ", 1))  # same rows, other bytes
    execute(settings, "UPDATE messages SET body = 'garbled'")

    with pytest.raises(
        ReplayFailedError, match=r"1 of 2 landed windows .*2024-01-01\.\.2024-04-01"
    ) as failed:
        replay(settings)
    remedy = (
        "`smsarchive backfill --start 2024-01-01 --end 2024-04-01 --refetch` "
        f"with VOIPMS_API_USERNAME={settings.voipms_api_username}"
    )
    assert str(failed.value).endswith(f"the rest were. To fetch and land them again: {remedy}")

    bodies = table(
        settings,  # windows are of local days; the first one ends on 2024-04-01
        "SELECT sent_at_local < '2024-04-02' AS first_window, "
        "count(*) FILTER (body = 'garbled') AS garbled, count(*) AS n "
        "FROM messages GROUP BY ALL ORDER BY ALL",
    ).rows()
    (later, later_garbled, _), (earlier, earlier_garbled, earlier_n) = bodies
    assert (later, earlier) == (False, True)
    assert later_garbled == 0  # the intact window was replayed
    assert earlier_garbled == earlier_n  # the changed one left as it was


def test_the_refetch_a_failed_replay_names_mends_the_window(settings: Settings) -> None:
    landing = table(settings, "SELECT window_start, path FROM raw_landing ORDER BY path")
    path = settings.smsarchive_data_dir / landing["path"][0]
    path.unlink()
    with pytest.raises(ReplayFailedError, match="is missing"):
        replay(settings)
    with use_settings(settings):
        plain = archive(settings, "backfill", *SPAN, PlainSteps())  # settled: nothing fetched
        assert plain.windows_skipped == 2
        assert not path.exists()
        again = archive(settings, "backfill", *SPAN, PlainSteps(), refetch=True)
    assert (again.windows_skipped, again.inserted) == (0, 0)
    # the refetch landed under names of its own; the missing answer left the ledger with it
    landed = table(settings, "SELECT path FROM raw_landing ORDER BY path")["path"].to_list()
    assert (len(landing), len(landed)) == (4, 6)  # 4 + 4 new - the fetch one was missing of
    assert str(path.relative_to(settings.smsarchive_data_dir)) not in landed
    assert all((settings.smsarchive_data_dir / p).exists() for p in landed)
    assert replay(settings).replayed == 3  # the intact earlier fetch and both new ones


def test_windows_none_of_which_replays_are_one_refetch_over_their_days(
    settings: Settings,
) -> None:
    data = settings.smsarchive_data_dir
    for path in table(settings, "SELECT path FROM raw_landing")["path"]:
        (data / path).unlink()
    with pytest.raises(ReplayFailedError) as failed:
        replay(settings)
    said = str(failed.value)
    assert said.startswith("none of the 2 landed windows could be replayed (2024-")
    assert "the rest were" not in said
    assert said.endswith(
        "To fetch and land them again: `smsarchive backfill --start 2024-01-01 --end "
        f"2024-06-30 --refetch` with VOIPMS_API_USERNAME={settings.voipms_api_username}"
    )


def _as_landed_before_2026_12_06(settings: Settings) -> None:
    """Turn the archive's landing into what versions before 2026-12-06 left: one answer per
    window and method, named `<method>.json`, each recorded at a time of its own."""
    with duckdb.connect(str(settings.archive_path)) as con:
        for (path,) in con.execute("SELECT path FROM raw_landing").fetchall():
            old = str(Path(path).with_name(Path(path).name.split(".")[0] + ".json"))
            (settings.smsarchive_data_dir / path).rename(settings.smsarchive_data_dir / old)
            con.execute(
                "UPDATE raw_landing SET path = $old, landed_at = landed_at + CASE method "
                "WHEN 'getMMS' THEN INTERVAL 37 MICROSECONDS ELSE INTERVAL 0 SECONDS END "
                "WHERE path = $path",
                {"old": old, "path": path},
            )


def test_answers_landed_by_versions_before_2026_12_06_are_replayed(settings: Settings) -> None:
    _as_landed_before_2026_12_06(settings)
    messages = table(settings, MESSAGES)
    execute(settings, "UPDATE messages SET body = 'garbled'")

    summary = replay(settings)

    assert (summary.windows, summary.replayed, summary.failed_windows) == (2, 2, [])
    # as they were, but seen last when the later of the two answers was recorded
    assert_frame_equal(
        table(settings, MESSAGES).drop("last_seen_at"), messages.drop("last_seen_at")
    )


def test_a_fetch_with_one_answer_listed_is_mended_by_the_refetch_named(
    settings: Settings,
) -> None:
    execute(
        settings, "DELETE FROM raw_landing WHERE method = 'getMMS' AND window_start = '2024-01-01'"
    )
    with pytest.raises(ReplayFailedError, match="has no landed getMMS answer"):
        replay(settings)
    with use_settings(settings):
        archive(settings, "backfill", *SPAN, PlainSteps(), refetch=True)
    # the half-listed fetch left the ledger; the refetch's two answers stand for it
    assert replay(settings).failed_windows == []


@contextmanager
def january_forgotten(tmp_path: Path, seed: int) -> Iterator[tuple[Settings, pl.DataFrame]]:
    """An archive of SPAN from a sandbox of its own, which then forgets January's messages:
    the settings (the sandbox serving while in the block) and the messages forgotten."""
    account = SandboxAccount.generate(
        AccountSpec(seed=seed, messages=300, start=SPAN[0], end=SPAN[1], dids=2, mms_share=0.2)
    )
    with serving(account) as server:
        settings = sandbox_settings(server, tmp_path / "data")
        with use_settings(settings):
            archive(settings, "backfill", *SPAN, PlainSteps())
        forgotten = account.truth().filter(pl.col("date_local").str.starts_with("2024-01"))
        for message in forgotten.iter_rows(named=True):
            assert account.delete(message["kind"], message["id"])
        yield settings, forgotten


def test_an_archive_put_back_from_a_backup_replays_the_answers_landed_since(
    tmp_path: Path,
) -> None:
    account = SandboxAccount.generate(
        AccountSpec(seed=53, messages=200, start=SPAN[0], end=SPAN[1], dids=2, mms_share=0.2)
    )
    with serving(account) as server:
        settings = sandbox_settings(server, tmp_path / "data")
        with use_settings(settings):
            archive(settings, "backfill", *SPAN, PlainSteps())
            backup = tmp_path / "backup.duckdb"
            shutil.copyfile(settings.archive_path, backup)
            # after the backup: new messages archived, then forgotten by the provider
            added = account.add_messages(
                6, datetime(2024, 3, 10, tzinfo=UTC), datetime(2024, 3, 12, tzinfo=UTC)
            )
            archive(settings, "backfill", *SPAN, PlainSteps(), refetch=True)
        for kind, message_id in added:
            assert account.delete(kind, message_id)
    shutil.copyfile(backup, settings.archive_path)  # the archive put back from the backup
    Path(f"{settings.archive_path}.wal").unlink(missing_ok=True)
    ids = "SELECT kind, message_id FROM messages"
    assert not {(kind, str(i)) for kind, i in added} & set(table(settings, ids).rows())

    env = {"SMSARCHIVE_DATA_DIR": str(settings.smsarchive_data_dir)}
    said = "4 more under landing/ landed after the newest the archive lists"
    shown = CliRunner().invoke(app, ["status"], env=env, terminal_width=400)
    assert shown.exit_code == 0, shown.output
    assert said in " ".join(shown.output.split())

    summary = replay(settings)

    assert summary.adopted == 2  # the refetch of both windows, landed after the backup
    assert {(kind, str(i)) for kind, i in added} <= set(table(settings, ids).rows())
    shown = CliRunner().invoke(app, ["status"], env=env, terminal_width=400)
    assert "more under landing/" not in shown.output


def test_a_refetch_keeps_the_earlier_answer_of_messages_the_provider_forgot(
    tmp_path: Path,
) -> None:
    with january_forgotten(tmp_path, seed=43) as (settings, forgotten), use_settings(settings):
        archive(settings, "backfill", *SPAN, PlainSteps(), refetch=True)
    execute(settings, "UPDATE messages SET body = 'garbled'")

    summary = replay(settings)

    assert (summary.windows, summary.replayed) == (4, 4)  # both fetches of both windows
    garbled = table(settings, "SELECT count(*) AS n FROM messages WHERE body = 'garbled'")
    assert forgotten.height > 0
    assert garbled["n"][0] == 0  # January's messages too, from the first fetch's answers


def test_corrected_counts_messages_net_of_windows_that_disagree(
    settings: Settings, server: SandboxServer
) -> None:
    """Two landed windows read one message differently: replaying both changes it and back."""
    truth = server.account.truth()
    in_both = truth.filter(  # inside the first backfill's windows and the second's
        (pl.col("kind") == "sms") & (pl.col("date_local").str.starts_with("2024-03"))
    )
    # other bounds, refetched: windows of their own, landed later
    _refetched_after_a_change(
        settings, server, in_both.row(0, named=True), (2024, 1, 2), (2024, 6, 29)
    )
    messages = table(settings, MESSAGES)

    summary = replay(settings)

    assert summary.windows == 4
    assert summary.corrected == 0  # each message ends as the newest landing read it
    assert_frame_equal(table(settings, MESSAGES), messages)
    execute(settings, "UPDATE messages SET body = 'garbled' WHERE hash(message_id) % 5 = 0")
    spoiled = table(settings, "SELECT count(*) AS n FROM messages WHERE body = 'garbled'")["n"][0]
    assert replay(settings).corrected == spoiled


def test_replay_limited_to_days_touches_only_their_windows(settings: Settings) -> None:
    execute(settings, "UPDATE messages SET body = 'garbled'")
    summary = replay(settings, start=date(2024, 5, 1), end=date(2024, 5, 31))
    assert (summary.windows, summary.replayed) == (1, 1)
    left = table(settings, "SELECT count(*) AS n FROM messages WHERE body = 'garbled'")["n"][0]
    assert 0 < left < table(settings, "SELECT count(*) AS n FROM messages")["n"][0]


def test_replay_from_the_command_line(settings: Settings, server: SandboxServer) -> None:
    execute(settings, "UPDATE messages SET contact = NULL WHERE message_id LIKE '%7'")
    env = sandbox_env(server, settings.smsarchive_data_dir)
    # no credentials needed: nothing is asked of the API
    env |= {
        "VOIPMS_API_USERNAME": "",
        "VOIPMS_API_PASSWORD": "",
        "VOIPMS_API_URL": "http://0.0.0.0:9",
    }
    result = CliRunner().invoke(app, ["replay"], env=env)
    assert result.exit_code == 0, result.output
    assert "replay: 2 of 2 landed windows, 0 new messages" in result.output
    assert table(settings, "SELECT count(*) AS n FROM messages WHERE contact IS NULL")["n"][0] == 0


def test_status_says_which_landed_answers_are_gone_from_landing(
    settings: Settings, server: SandboxServer
) -> None:
    env = sandbox_env(server, settings.smsarchive_data_dir)
    shown = CliRunner().invoke(app, ["status"], env=env)
    assert shown.exit_code == 0, shown.output
    assert "landed answers: 4, all in landing/" in shown.output
    (gone,) = settings.smsarchive_data_dir.glob("landing/*/*/2024-01-01_*/getMMS.*.json")
    gone.unlink()
    shown = CliRunner().invoke(app, ["status"], env=env, terminal_width=400)
    assert shown.exit_code == 0, shown.output
    said = " ".join(shown.output.split())
    assert (
        "landed answers: 4, 1 of them gone from landing/ (windows from 2024-01-01 to "
        "2024-04-01): a replay cannot read those windows again; `smsarchive backfill --start "
        "2024-01-01 --end 2024-04-01 --refetch` with VOIPMS_API_USERNAME=sandbox@example.com"
    ) in said


def test_replay_without_an_archive_says_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["replay"], env={"SMSARCHIVE_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 1
    assert "nothing to replay: there is no archive" in result.output


def test_a_lost_archive_is_made_again_from_landing_forgotten_messages_too(
    tmp_path: Path,
) -> None:
    with january_forgotten(tmp_path, seed=47) as (settings, forgotten):
        kept = (
            "SELECT * EXCLUDE (first_seen_at, last_seen_at) FROM messages ORDER BY kind, message_id"
        )
        statuses = "SELECT kind, message_id, status FROM carrier_status_history ORDER BY ALL"
        messages, history = table(settings, kept), table(settings, statuses)
        settings.archive_path.rename(tmp_path / "lost.duckdb")  # the disk incident

        # a sync would start a new archive of a few days, its exports soon replacing the old
        for run in (
            lambda: archive(settings, "sync", None, None, PlainSteps()),
            lambda: archive(settings, "backfill", *SPAN, PlainSteps()),
        ):
            with use_settings(settings), pytest.raises(LostArchiveError) as refused:
                run()
            assert "holds 4 answers earlier runs landed" in str(refused.value)
            assert "`smsarchive replay`" in str(refused.value)
            assert not settings.archive_path.exists()

        summary = replay(settings)

        assert (summary.adopted, summary.left_out) == (2, [])
        assert (summary.windows, summary.replayed, summary.inserted) == (2, 2, messages.height)
        env = {"SMSARCHIVE_DATA_DIR": str(settings.smsarchive_data_dir)}
        shown = CliRunner().invoke(app, ["status"], env=env, terminal_width=400)
        assert shown.exit_code == 0, shown.output
        assert "days archived: none recorded (the messages were replayed" in shown.output
        assert forgotten.height > 10
        assert_frame_equal(table(settings, kept), messages)
        assert_frame_equal(table(settings, statuses), history)
        # what landing/ lacks is fetched again; what the provider forgot stays archived
        with use_settings(settings):
            archive(settings, "backfill", *SPAN, PlainSteps())
        assert_frame_equal(table(settings, kept), messages)
        assert replay(settings).adopted == 0  # listed now: found once


def test_a_fetch_missing_an_answer_or_cut_short_is_left_out_of_a_rebuild(
    settings: Settings, tmp_path: Path
) -> None:
    data = settings.smsarchive_data_dir
    (mms,) = data.glob("landing/*/*/2024-01-01_*/getMMS.*.json")
    mms.unlink()
    (sms,) = data.glob("landing/*/*/2024-04-02_*/getSMS.*.json")
    intact = sms.read_bytes()
    sms.write_bytes(intact[:-100])
    settings.archive_path.rename(tmp_path / "lost.duckdb")
    (alone,) = mms.parent.glob("getSMS.*.json")
    # nothing to make it of: no archive is left behind, for a sync to start over on
    with pytest.raises(NothingToRebuildError) as refused:
        replay(settings)
    assert "none of the 3 answers of sandbox@example.com under landing/ can be replayed" in str(
        refused.value
    )
    assert not settings.archive_path.exists()
    sms.write_bytes(intact)
    # what could be read is replayed; the run then fails, naming what was left out and the
    # refetch that lands it again (a later replay would not: the ledger lists the account)
    with pytest.raises(ReplayFailedError) as failed:
        replay(settings)
    assert str(failed.value) == (
        f"1 answer under landing/ could not be read and was left out, the first: "
        f"{alone.relative_to(data)} (the other answer of its fetch is missing); their windows' "
        "days hold only what other fetches of them held. To fetch and land them again: "
        "`smsarchive backfill --start 2024-01-01 --end 2024-04-01 --refetch` with "
        "VOIPMS_API_USERNAME=sandbox@example.com"
    )
    windows = table(settings, "SELECT DISTINCT window_start FROM raw_landing")
    assert windows["window_start"].to_list() == [date(2024, 4, 2)]
    assert table(settings, "SELECT count(*) AS n FROM messages")["n"][0] > 0
    assert replay(settings).adopted == 0  # listed once: a rerun replays what was adopted


def test_a_rebuild_stopped_midway_is_finished_by_the_next_replay(
    settings: Settings, tmp_path: Path
) -> None:
    messages = table(settings, "SELECT kind, message_id, body FROM messages ORDER BY ALL")
    settings.archive_path.rename(tmp_path / "lost.duckdb")
    assert replay(settings).adopted == 2
    # as if stopped once every fetch was listed, before the second window merged
    execute(settings, "DELETE FROM messages WHERE sent_at_local >= '2024-04-02'")
    again = replay(settings)
    assert (again.adopted, again.replayed) == (0, 2)  # listed once: the ledger holds them
    assert_frame_equal(
        table(settings, "SELECT kind, message_id, body FROM messages ORDER BY ALL"), messages
    )


def test_a_sync_of_a_rebuilt_archive_starts_at_its_newest_message_leaving_no_gap(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    newest = table(settings, "SELECT max(sent_at_local) AS at FROM messages")["at"][0]
    settings.archive_path.rename(tmp_path / "lost.duckdb")
    replay(settings)
    with use_settings(settings), caplog.at_level(logging.INFO, logger="smsarchive"):
        summary = archive(settings, "sync", None, None, PlainSteps())
    # no window is recorded as fetched, but the messages are there: the sync goes on from
    # them (not from today less its lookback, which would leave the days between unfetched)
    assert summary.start == date.fromisoformat(newest[:10]) - timedelta(days=7)
    said = [record.getMessage() for record in caplog.records]
    assert not [line for line in said if line.startswith("nothing of")]
    assert any("sync fetches from its newest message's day" in line for line in said)


class _CtrlCAfterAWindow(Reporter):
    """A reporter whose windows' tracker raises KeyboardInterrupt once a window is done: the
    Ctrl-C of a person who stops a replay midway."""

    def stage(self, label: str, total: int) -> Tracker:
        shown = super().stage(label, total)

        class Stopped:
            def advance(self, note: str = "") -> None:
                shown.advance(note)
                raise KeyboardInterrupt

            def grow(self, count: int) -> None:
                shown.grow(count)

        return Stopped()


def test_a_rebuild_stopped_midway_is_said_until_a_replay_goes_through(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    env = {"SMSARCHIVE_DATA_DIR": str(settings.smsarchive_data_dir)}
    settings.archive_path.rename(tmp_path / "lost.duckdb")
    with use_settings(settings, _CtrlCAfterAWindow(bars=False)), pytest.raises(KeyboardInterrupt):
        replay_archive(settings)
    said = "a replay (started "
    # a backfill or sync meanwhile says so: its windows do not bring back what the provider
    # has forgotten
    with use_settings(settings), caplog.at_level(logging.WARNING, logger="smsarchive"):
        archive(settings, "backfill", *SPAN, PlainSteps())
    assert any(record.getMessage().startswith(said) for record in caplog.records)
    shown = CliRunner().invoke(app, ["status"], env=env, terminal_width=400)
    assert shown.exit_code == 0, shown.output
    assert shown.output.startswith(f"warning: {said}")
    assert "`smsarchive replay` is run again" in shown.output
    replay(settings)
    shown = CliRunner().invoke(app, ["status"], env=env, terminal_width=400)
    assert said not in shown.output


def test_another_account_of_a_rebuilt_archive_is_refused_until_replayed(
    settings: Settings, tmp_path: Path
) -> None:
    data = settings.smsarchive_data_dir
    (mine,) = data.glob("landing/voipms/*")
    shutil.copytree(mine, mine.with_name("Other_example.com"))  # another account's answers
    settings.archive_path.rename(tmp_path / "lost.duckdb")
    assert replay(settings).adopted == 2  # the archive made again, of this account
    other = settings.model_copy(update={"voipms_api_username": "other@example.com"})
    with use_settings(other), pytest.raises(LostArchiveError) as refused:
        archive(other, "sync", None, None, PlainSteps())
    assert "holds nothing other@example.com landed" in str(refused.value)
    assert "holds 4 of its answers" in str(refused.value)
    # its folder found whatever the e-mail's case
    summary = replay(other)
    assert (summary.adopted, summary.inserted) == (2, table(settings, MESSAGES).height // 2)
    accounts = table(settings, "SELECT DISTINCT account FROM messages ORDER BY ALL")["account"]
    assert accounts.to_list() == ["other@example.com", "sandbox@example.com"]


def test_an_archive_cut_short_at_its_making_is_lost_when_landing_holds_answers(
    settings: Settings,
) -> None:
    settings.archive_path.write_bytes(b"")  # what a first run killed at once leaves
    with use_settings(settings), pytest.raises(LostArchiveError):
        archive(settings, "sync", None, None, PlainSteps())
    assert settings.archive_path.read_bytes() == b""


def test_replay_without_an_archive_or_landing_of_the_account_says_so(tmp_path: Path) -> None:
    env = {"SMSARCHIVE_DATA_DIR": str(tmp_path), "VOIPMS_API_USERNAME": "me@example.com"}
    result = CliRunner().invoke(app, ["replay"], env=env)
    assert result.exit_code == 1
    assert "there is no archive" in result.output
    assert "landing/ holds no answer of me@example.com" in result.output
    assert not (tmp_path / "archive.duckdb").exists()


def _with_a_later_reading(settings: Settings, server: SandboxServer) -> tuple[str, str]:
    """Refetch June (a landing of its own, later) after a June message's status changed."""
    truth = server.account.truth()
    june = truth.filter((pl.col("kind") == "sms") & pl.col("date_local").str.starts_with("2024-06"))
    message = june.row(0, named=True)
    _refetched_after_a_change(settings, server, message, (2024, 6, 1), (2024, 6, 30))
    return str(message["id"]), message["carrier_status"]


def _refetched_after_a_change(
    settings: Settings,
    server: SandboxServer,
    message: dict[str, Any],
    start: tuple[int, int, int],
    end: tuple[int, int, int],
) -> None:
    """`start`..`end` refetched while `message`'s carrier status reads 'Changed since'."""
    before = message["carrier_status"]
    server.account.set_carrier_status(message["kind"], message["id"], "Changed since")
    try:
        with use_settings(settings):
            archive(settings, "backfill", date(*start), date(*end), PlainSteps(), refetch=True)
    finally:
        server.account.set_carrier_status(message["kind"], message["id"], before)


def _status_of(settings: Settings, message_id: str) -> str:
    with duckdb.connect(str(settings.archive_path), read_only=True) as con:
        found = con.execute(
            "SELECT carrier_status FROM messages WHERE kind = 'sms' AND message_id = ?",
            [message_id],
        ).fetchone()
    assert found is not None
    return str(found[0])


def test_a_ranged_replay_keeps_the_newest_reading_of_a_later_landing(
    settings: Settings, server: SandboxServer
) -> None:
    message_id, _ = _with_a_later_reading(settings, server)
    assert _status_of(settings, message_id) == "Changed since"
    history = table(settings, HISTORY)

    # touches the second backfill window only; June's landing shares its days, so it is replayed
    # after it (landed later) and the message ends as June's landing read it
    summary = replay(settings, start=date(2024, 4, 2), end=date(2024, 4, 10))

    assert (summary.windows, summary.replayed, summary.corrected) == (2, 2, 0)
    assert _status_of(settings, message_id) == "Changed since"
    assert_frame_equal(table(settings, HISTORY), history)


def test_a_replay_of_an_older_answer_keeps_a_newer_status(
    settings: Settings, server: SandboxServer
) -> None:
    message_id, before = _with_a_later_reading(settings, server)
    with duckdb.connect(str(settings.archive_path)) as con:
        second = [w for w in landed_windows(con, "voipms") if w.window_start == date(2024, 4, 2)]
        merged, _, _, _ = replay_window(
            con, second[0], data_dir=settings.smsarchive_data_dir, timezone="America/New_York"
        )
    assert before != "Changed since"
    assert _status_of(settings, message_id) == "Changed since"  # not set back to `before`
    assert merged.status_changes == 0


def test_the_windows_a_range_replays() -> None:
    def landed(start: date, end: date, account: str = "a") -> LandedWindow:
        return LandedWindow("voipms", account, start, end)

    first = landed(date(2024, 1, 1), date(2024, 4, 1))
    second = landed(date(2024, 4, 2), date(2024, 6, 30))
    june = landed(date(2024, 6, 1), date(2024, 6, 30))
    other = landed(date(2024, 5, 1), date(2024, 7, 30), "b")  # another account's
    windows = [first, second, june, other]
    # second touches the range, and June shares its days; b's window shares them too, but it
    # holds another account's messages
    assert windows_to_replay(windows, date(2024, 4, 2), date(2024, 4, 10)) == [second, june]
    assert windows_to_replay(windows, date(2024, 7, 5), date(2024, 7, 5)) == [other]
    assert windows_to_replay(windows, date(2024, 1, 5), date(2024, 1, 9)) == [first]
    assert windows_to_replay(windows, None, None) == windows


def test_a_row_one_fetch_of_a_window_could_not_read_stays_listed_after_a_replay(
    tmp_path: Path,
) -> None:
    from extract.voipms.sandbox.drift import DriftConfig

    days = (date(2024, 1, 1), date(2024, 1, 31))
    account = SandboxAccount.generate(
        AccountSpec(seed=43, messages=100, start=days[0], end=days[1], dids=2, mms_share=0.2)
    )
    rejected = "SELECT source, record, reason FROM rejected_records ORDER BY ALL"
    with serving(account) as server:
        settings = sandbox_settings(server, tmp_path / "data")
        with use_settings(settings):
            server.set_drift(DriftConfig(stray_rows=("glitch",)))  # a row that is no object
            archive(settings, "backfill", *days, PlainSteps())
            server.set_drift(DriftConfig())
            archive(settings, "backfill", *days, PlainSteps(), refetch=True)  # without it
    before = table(settings, rejected)
    assert before.height == 2  # getSMS's and getMMS's
    summary = replay(settings)
    assert summary.replayed == 2  # both fetches of the window
    assert_frame_equal(table(settings, rejected), before)  # landed, still unread: still listed
