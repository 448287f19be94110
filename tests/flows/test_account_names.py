"""A run under a login e-mail the archive does not know, beside ones it does, says so."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pytest

from extract.voipms.sandbox.account import SandboxAccount
from extract.voipms.sandbox.server import SandboxServer
from extract.voipms.sandbox.spec import AccountSpec
from flows.archive_run import PlainSteps, archive
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
