"""A window messages may still arrive in asks getMMS only after getSMS: no MMS read as an SMS."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest

from extract.voipms.sandbox.account import MessageQuery, SandboxAccount
from extract.voipms.sandbox.server import SandboxServer
from extract.voipms.sandbox.spec import AccountSpec
from extract.voipms.windows import Window
from flows.archive_run import PlainSteps, account_today, archive, still_open
from flows.settings import Settings
from tests.conftest import SANDBOX_PASSWORD, SANDBOX_USERNAME
from tests.flows.conftest import sandbox_settings

TEXT = "photo sent while the sync ran"
GETSMS_WAITS = 2.0
"""How long the sandbox holds getSMS back for a getMMS answer: getSMS answering later than
getMMS is how an MMS sent in between reaches getSMS alone."""


class MmsSentAfterGetMms:
    """The sandbox sends one MMS just after its first getMMS answer and, meanwhile, holds
    getSMS back (up to GETSMS_WAITS) until that answer is out: the race made certain."""

    def __init__(self, account: SandboxAccount) -> None:
        self.account = account
        self.mms_answered = threading.Event()
        self.sent: int | str | None = None
        self._select = account.select

    def select(self, query: MessageQuery) -> pl.DataFrame:
        if query.kinds == ("mms",) or set(query.kinds) != {"sms", "mms"}:
            answer = self._select(query)
            if self.sent is None:
                self.sent = self.account.send(
                    "mms", self.account.dids[0], "5145550199", TEXT, [("image/png", b"png")]
                )
            self.mms_answered.set()
            return answer
        self.mms_answered.wait(GETSMS_WAITS)
        return self._select(query)


@pytest.fixture
def racing() -> Iterator[tuple[SandboxServer, MmsSentAfterGetMms]]:
    today = account_today(default_settings())
    account = SandboxAccount.generate(
        AccountSpec(seed=5, messages=60, start=today - timedelta(days=20), end=today, dids=2)
    )
    race = MmsSentAfterGetMms(account)
    account.select = race.select  # type: ignore[method-assign]
    srv = SandboxServer(account, username=SANDBOX_USERNAME, password=SANDBOX_PASSWORD).start()
    yield srv, race
    srv.stop()


def default_settings() -> Settings:
    """The settings' defaults: what `account_today` and `still_open` read is the zone."""
    return Settings(_env_file=None)  # type: ignore[call-arg]


def test_an_mms_sent_during_a_sync_is_archived_once_as_an_mms(
    racing: tuple[SandboxServer, MmsSentAfterGetMms], tmp_path: Path
) -> None:
    server, race = racing
    settings = sandbox_settings(server, tmp_path / "data")
    archive(settings, "sync", None, None, PlainSteps())
    assert isinstance(race.sent, int)  # the MMS was sent while the sync ran
    archive(settings, "sync", None, None, PlainSteps())  # the next night's sync
    with duckdb.connect(str(settings.archive_path), read_only=True) as con:
        rows = con.execute(
            "SELECT kind, message_id, media_count FROM messages WHERE body = ?", [TEXT]
        ).fetchall()
    assert rows == [("mms", str(race.sent), 1)]


def test_only_windows_that_may_still_change_are_open() -> None:
    settings = default_settings()
    today = account_today(settings)
    days = timedelta(days=1)
    assert still_open(Window(today - 91 * days, today), settings)
    assert still_open(Window(today - 30 * days, today - 2 * days), settings)
    assert not still_open(Window(today - 30 * days, today - 3 * days), settings)
