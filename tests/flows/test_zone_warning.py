"""A run whose VOIPMS_ACCOUNT_TIMEZONE is not the API's says so, once, and how to mend it."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from extract.voipms.sandbox.account import SandboxAccount
from extract.voipms.sandbox.server import SandboxServer
from extract.voipms.sandbox.spec import AccountSpec
from flows.archive_run import PlainSteps, RunSummary, archive
from flows.cli import app
from flows.replay_run import replay_archive
from flows.settings import Settings
from flows.summary_lines import summary_lines
from tests.conftest import serving
from tests.flows.conftest import sandbox_settings

SPAN = (date(2024, 1, 1), date(2024, 6, 30))
WARNING = "the API's dates are not in VOIPMS_ACCOUNT_TIMEZONE"


def _account(seed: int) -> SandboxAccount:
    """Six months of 300 messages on two DIDs, a third of them MMS (whose links tell the zone)."""
    return SandboxAccount.generate(
        AccountSpec(seed=seed, messages=300, start=SPAN[0], end=SPAN[1], dids=2, mms_share=0.3)
    )


def _backfill(
    server: SandboxServer, data_dir: Path, *, refetch: bool = False, **settings: object
) -> tuple[Settings, RunSummary]:
    """A backfill of SPAN into `data_dir` from `server`, with these settings: them, and what
    it did."""
    chosen = sandbox_settings(server, data_dir, **settings)
    return chosen, archive(chosen, "backfill", *SPAN, PlainSteps(), refetch=refetch)


def _zone_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if WARNING in r.getMessage()]


def test_a_wrong_zone_is_told_once_a_run_and_a_right_one_not_at_all(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="smsarchive")
    with serving(_account(seed=29)) as server:
        right, _ = _backfill(server, tmp_path / "right")
        assert _zone_warnings(caplog) == []

        # two windows, one warning
        wrong, summary = _backfill(
            server, tmp_path / "wrong", voipms_account_timezone="America/Chicago"
        )
        (said,) = _zone_warnings(caplog)
        assert "VOIPMS_ACCOUNT_TIMEZONE=America/Chicago" in said
        assert "sent_at comes 1 h late" in said
        assert "smsarchive replay" in said
        # also where it is found after the log has scrolled away: the summary's last line,
        # and the run's row, which `status` shows
        short = (
            "VOIPMS_ACCOUNT_TIMEZONE=America/Chicago reads the API's dates 1 h late (the MMS "
            "media links say so): set the API's zone, then run `smsarchive replay`"
        )
        assert summary_lines(summary.as_dict())[-1] == f"warning: {short}"
        assert _run_details(wrong) == [short]
        assert _run_details(right) == [None]

    caplog.clear()
    replay_archive(wrong)
    assert len(_zone_warnings(caplog)) == 1
    caplog.clear()
    replay_archive(right)
    assert _zone_warnings(caplog) == []
    # (last: the CLI sets up its own logging)
    shown = _status(wrong)
    assert f"went through, but: {short}" in shown
    # the setting changed since (the status here reads the default zone): said so
    assert (
        f"{short} (VOIPMS_ACCOUNT_TIMEZONE is America/New_York now: once `smsarchive replay` "
        "has run in it, the next sync says whether the media links agree)"
    ) in shown
    # once a run with the setting mended finds nothing, status no longer says it
    with serving(_account(seed=29)) as server:
        mended = sandbox_settings(server, wrong.smsarchive_data_dir)
        archive(mended, "sync", None, None, PlainSteps())
    assert "went through, but" not in _status(mended)


def _status(settings: Settings) -> str:
    env = {"SMSARCHIVE_DATA_DIR": str(settings.smsarchive_data_dir)}
    status = CliRunner().invoke(app, ["status"], env=env)
    assert status.exit_code == 0, status.output
    return " ".join(status.output.split())


def _run_details(settings: Settings) -> list[object]:
    con = duckdb.connect(str(settings.archive_path), read_only=True)
    try:
        return [row[0] for row in con.execute("SELECT detail FROM sync_runs").fetchall()]
    finally:
        con.close()


def _sent_at(settings: Settings) -> dict[tuple[str, str], object]:
    con = duckdb.connect(str(settings.archive_path), read_only=True)
    try:
        rows = con.execute("SELECT kind, message_id, sent_at FROM messages").fetchall()
    finally:
        con.close()
    return {(kind, message_id): sent_at for kind, message_id, sent_at in rows}


def test_a_wrong_zone_never_moves_the_messages_archived(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="smsarchive")
    with serving(_account(seed=31)) as server:
        right, _ = _backfill(server, tmp_path / "data")
        before = _sent_at(right)
        # the setting changed to the user's own zone: every window fetched again, then replayed
        wrong, summary = _backfill(
            server, tmp_path / "data", refetch=True, voipms_account_timezone="Europe/Paris"
        )
        assert _zone_warnings(caplog)
        assert summary.updated == 0
        assert _sent_at(wrong) == before
    replay_archive(wrong)
    assert _sent_at(wrong) == before


def test_a_zone_wrong_on_some_days_of_a_window_never_moves_their_messages(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # EST is New York's time in winter only: across the autumn change, a window's daylight
    # days read an hour late, and their links alone show it
    caplog.set_level(logging.WARNING, logger="smsarchive")
    days = (date(2024, 10, 29), date(2024, 11, 12))  # 5 daylight days, 10 standard ones
    account = SandboxAccount.generate(
        AccountSpec(seed=17, messages=3000, start=date(2024, 10, 1), end=date(2024, 11, 30))
    )
    with serving(account) as server:
        right = sandbox_settings(server, tmp_path / "data")
        archive(right, "backfill", *days, PlainSteps())
        before = _sent_at(right)
        wrong = sandbox_settings(server, tmp_path / "data", voipms_account_timezone="EST")
        summary = archive(wrong, "backfill", *days, PlainSteps(), refetch=True)
    assert _zone_warnings(caplog)
    assert summary.warnings
    assert _sent_at(wrong) == before
