"""A run's API calls overlap: getDIDsInfo, getSMS and getMMS are asked at the same time."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import Future
from datetime import date
from pathlib import Path

import pytest

from extract.voipms.account_dids import AccountDids
from extract.voipms.sandbox.account import SandboxAccount
from extract.voipms.sandbox.faults import FaultConfig
from extract.voipms.sandbox.server import SandboxServer
from extract.voipms.sandbox.spec import AccountSpec
from flows.archive_run import PlainSteps, archive
from tests.conftest import SANDBOX_PASSWORD, SANDBOX_USERNAME, api_answer_times
from tests.flows.conftest import sandbox_settings

DAY = date(2024, 5, 14)
LATENCY = 0.5


@pytest.fixture
def slow_server() -> Iterator[SandboxServer]:
    account = SandboxAccount.generate(
        AccountSpec(seed=23, messages=40, start=DAY, end=DAY, dids=2, mms_share=0.3)
    )
    srv = SandboxServer(account, username=SANDBOX_USERNAME, password=SANDBOX_PASSWORD).start()
    srv.set_faults(FaultConfig(latency_s=LATENCY))
    yield srv
    srv.stop()


def test_a_one_window_run_takes_one_call_of_time_not_three(
    slow_server: SandboxServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="extract.voipms.sandbox.server")
    settings = sandbox_settings(slow_server, tmp_path / "data")
    summary = archive(settings, "backfill", DAY, DAY, PlainSteps())
    answered = api_answer_times(caplog)
    assert summary.api_calls == len(answered) == 3  # getDIDsInfo, getSMS, getMMS
    assert slow_server.peak_in_service() == 3  # the three were being served at the same time


def test_the_dids_wait_for_their_answer_and_carry_its_error() -> None:
    answer: Future[list[dict[str, object]]] = Future()
    dids = AccountDids(answer)
    assert not answer.done()  # made without waiting
    answer.set_result([{"did": "5145550100"}, {"did": ""}, {"description": "no did"}])
    assert list(dids) == ["5145550100"]
    assert len(dids) == 1
    assert dids.wait() is dids.wait()  # read from the answer once, not at every index

    failed: Future[list[dict[str, object]]] = Future()
    failed.set_exception(PermissionError("invalid credentials"))
    with pytest.raises(PermissionError, match="invalid credentials"):
        AccountDids(failed).wait()
