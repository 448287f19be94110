"""A run under a login e-mail the archive does not know, beside ones it does, says so."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from extract.voipms.errors import PermanentError
from extract.voipms.sandbox.account import SandboxAccount
from extract.voipms.sandbox.server import SandboxServer
from extract.voipms.sandbox.spec import AccountSpec
from flows.archive_run import PlainSteps, archive
from flows.cli import app
from flows.settings import Settings
from tests.conftest import SANDBOX_PASSWORD
from tests.flows.conftest import sandbox_settings

SPAN = (date(2024, 1, 1), date(2024, 3, 31))


def test_a_new_login_for_the_same_messages_is_named_before_they_are_archived_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    account = SandboxAccount.generate(
        AccountSpec(seed=7, messages=60, start=SPAN[0], end=SPAN[1], dids=1, mms_share=0.0)
    )
    caplog.set_level(logging.WARNING, logger="smsarchive")
    for login in ("alice@example.com", "alice.new@example.com"):
        server = SandboxServer(account, username=login, password=SANDBOX_PASSWORD).start()
        try:
            archive(sandbox_settings(server, tmp_path / "data"), "backfill", *SPAN, PlainSteps())
        finally:
            server.stop()
    said = [
        r.getMessage() for r in caplog.records if "the archive holds messages of" in r.getMessage()
    ]
    assert said == [
        "the archive holds messages of alice@example.com but none of alice.new@example.com "
        "yet: if that is the same VoIP.ms account under a new login e-mail, its messages are "
        "archived a second time under the new name (the archive keeps accounts apart by name)"
    ]


def test_a_login_typed_wrong_once_leaves_status_a_week_on(tmp_path: Path) -> None:
    account = SandboxAccount.generate(
        AccountSpec(seed=7, messages=60, start=SPAN[0], end=SPAN[1], dids=1, mms_share=0.0)
    )
    server = SandboxServer(account, username="alice@example.com", password=SANDBOX_PASSWORD)
    server.start()
    try:
        good = sandbox_settings(server, tmp_path / "data")
        archive(good, "backfill", *SPAN, PlainSteps())
        typo = good.model_copy(update={"voipms_api_username": "alcie@example.com"})
        with pytest.raises(PermanentError):
            archive(typo, "backfill", *SPAN, PlainSteps())
        archive(good, "sync", None, None, PlainSteps())
        recent = _status(good)  # an account failing of late is shown, whatever others did
        with duckdb.connect(str(good.archive_path)) as con:  # ... and a week goes by
            con.execute(
                "UPDATE sync_runs SET started_at = started_at - INTERVAL 8 DAY, "
                "finished_at = finished_at - INTERVAL 8 DAY WHERE account = 'alcie@example.com'"
            )
    finally:
        server.stop()
    assert "alcie@example.com" in recent
    assert "invalid_credentials" in recent
    later = _status(good)
    assert "left out: the runs of alcie@example.com, which holds nothing" in later
    assert "invalid_credentials" not in later


def _status(settings: Settings) -> str:
    env = {"SMSARCHIVE_DATA_DIR": str(settings.smsarchive_data_dir)}
    shown = CliRunner().invoke(app, ["status"], env=env, terminal_width=200)
    assert shown.exit_code == 0, shown.output
    return " ".join(shown.output.split())


def test_a_run_downloads_and_tries_only_its_own_accounts_media(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    runs: dict[str, Settings] = {}
    for seed, login in ((7, "alice@example.com"), (8, "bob@example.com")):
        account = SandboxAccount.generate(
            AccountSpec(seed=seed, messages=80, start=SPAN[0], end=SPAN[1], dids=1, mms_share=0.5)
        )
        server = SandboxServer(account, username=login, password=SANDBOX_PASSWORD).start()
        try:
            runs[login] = sandbox_settings(server, data_dir)
            archive(runs[login], "backfill", *SPAN, PlainSteps())
        finally:
            server.stop()
    # bob's media host was down: his attachments wait for his next run
    with duckdb.connect(str(data_dir / "archive.duckdb")) as con:
        con.execute(
            "UPDATE media SET state = 'pending', attempts = 0, sha256 = NULL "
            "WHERE account = 'bob@example.com'"
        )
        waiting = con.execute("SELECT count(*) FROM media WHERE state = 'pending'").fetchone()
    assert waiting is not None
    assert waiting[0] > 0
    # alice's run (her sandbox again; bob's is gone) neither tries them nor counts them
    account = SandboxAccount.generate(
        AccountSpec(seed=7, messages=80, start=SPAN[0], end=SPAN[1], dids=1, mms_share=0.5)
    )
    server = SandboxServer(account, username="alice@example.com", password=SANDBOX_PASSWORD)
    server.start()
    try:
        summary = archive(sandbox_settings(server, data_dir), "backfill", *SPAN, PlainSteps())
    finally:
        server.stop()
    assert (summary.media.failed, summary.media.left) == (0, 0)
    with duckdb.connect(str(data_dir / "archive.duckdb"), read_only=True) as con:
        bobs = con.execute(
            "SELECT DISTINCT state, attempts FROM media WHERE account = 'bob@example.com'"
        ).fetchall()
    assert bobs == [("pending", 0)]
