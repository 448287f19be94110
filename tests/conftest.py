"""Shared fixtures: a session-wide sandbox and Prefect test server, and test isolation."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from prefect.testing.utilities import prefect_test_harness

from extract.voipms.sandbox.account import SandboxAccount
from extract.voipms.sandbox.faults import FaultConfig
from extract.voipms.sandbox.server import SandboxServer
from extract.voipms.sandbox.spec import AccountSpec

SANDBOX_USERNAME = "sandbox@example.com"
SANDBOX_PASSWORD = "s3cr3t-Sandbox-pw!"
SANDBOX_SPEC = AccountSpec(
    seed=7,
    messages=3000,
    start=date(2023, 11, 1),
    end=date(2024, 12, 31),
    dids=3,
    mms_share=0.2,
)
"""14 months: several 92-day windows, both 2024 DST changes and the autumn 2023 one."""


@contextmanager
def serving(account: AccountSpec | SandboxAccount) -> Iterator[SandboxServer]:
    """A sandbox of an account (generated from a spec), started on loopback for the block."""
    if isinstance(account, AccountSpec):
        account = SandboxAccount.generate(account)
    server = SandboxServer(account, username=SANDBOX_USERNAME, password=SANDBOX_PASSWORD).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxServer]:
    """A started sandbox shared by the session; do not mutate it, restore faults you set."""
    server = SandboxServer(
        SandboxAccount.generate(SANDBOX_SPEC),
        username=SANDBOX_USERNAME,
        password=SANDBOX_PASSWORD,
        host="127.0.0.1",
        port=0,
        faults=FaultConfig(),
    ).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    """Prefect's own test harness: one real (temporary) Prefect server for the session."""
    with prefect_test_harness(server_startup_timeout=120):
        yield


@contextmanager
def _logging_and_environment_kept() -> Iterator[None]:
    """Whatever a CLI run or a flow run in-process changed undone after the block: new
    environment variables, the handlers, level and `propagate` of our loggers, Prefect's
    and the root logger (where Prefect's logging set-up replaces pytest's handlers), and
    Prefect's outage lines hushed."""
    from flows.logging_setup import OUR_LOGGERS, PrefectOutageLines

    hushed = PrefectOutageLines.HUSHED.is_set()
    environ = dict(os.environ)
    loggers = [logging.getLogger(name) for name in (*OUR_LOGGERS, "prefect")]
    loggers.append(logging.getLogger())
    saved = [(lg, list(lg.handlers), lg.level, lg.propagate) for lg in loggers]
    try:
        yield
    finally:
        for name in set(os.environ) - set(environ):
            del os.environ[name]
        os.environ.update(environ)
        for lg, handlers, level, propagate in saved:
            lg.handlers, lg.level, lg.propagate = handlers, level, propagate
        if not hushed:  # an outage a test ran into in-process hushes Prefect's lines after it
            PrefectOutageLines.HUSHED.clear()


@pytest.fixture(autouse=True)
def _undo_cli_side_effects() -> Iterator[None]:
    """A CLI run in-process sets logger handlers and PREFECT_* variables; undo them after."""
    with _logging_and_environment_kept():
        yield


@pytest.fixture(autouse=True, scope="module")
def _undo_module_fixtures_side_effects() -> Iterator[None]:
    """The same for a module's fixtures (a flow run in a module-scoped fixture adds Prefect's
    API handler to our loggers): the next module starts as this one did."""
    with _logging_and_environment_kept():
        yield


def api_answer_times(caplog: pytest.LogCaptureFixture) -> list[float]:
    """When the sandbox answered each API call, from its own access log (sorted)."""
    return sorted(
        record.created
        for record in caplog.records
        if record.name == "extract.voipms.sandbox.server"
        and "/api/v1/rest.php" in record.getMessage()
    )
