"""Fixtures for the extract tests: a private sandbox per module and quick-retry clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from pydantic import SecretStr

from extract.voipms.client import VoipMsClient
from extract.voipms.sandbox.account import SandboxAccount
from extract.voipms.sandbox.drift import DriftConfig
from extract.voipms.sandbox.faults import FaultConfig
from extract.voipms.sandbox.server import SandboxServer
from extract.voipms.sandbox.spec import AccountSpec

USERNAME = "sandbox@example.com"
# Characters that change under URL encoding, so an encoded leak would be caught too.
PASSWORD = "Tr0ub4dor&3 pa$$+wörd/=?"
SPEC = AccountSpec(
    seed=7, messages=2000, start=date(2024, 1, 1), end=date(2024, 12, 31), dids=3, mms_share=0.15
)

ClientFactory = Callable[..., VoipMsClient]


@pytest.fixture(scope="module")
def api_server() -> Iterator[SandboxServer]:
    """A sandbox of this module's own, so fault settings never reach other tests."""
    server = SandboxServer(
        SandboxAccount.generate(SPEC),
        username=USERNAME,
        password=PASSWORD,
        host="127.0.0.1",
        port=0,
        faults=FaultConfig(),
    ).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def server(api_server: SandboxServer) -> Iterator[SandboxServer]:
    """The module's sandbox with no faults or drift and zeroed counts; faults and drift are
    undone afterwards."""
    api_server.set_faults(FaultConfig())
    api_server.set_drift(DriftConfig())
    api_server.reset_counts()
    try:
        yield api_server
    finally:
        api_server.set_faults(FaultConfig())
        api_server.set_drift(DriftConfig())


@pytest.fixture
def make_client(server: SandboxServer) -> Iterator[ClientFactory]:
    """Build clients on the sandbox with tiny backoffs; all are closed after the test."""
    made: list[VoipMsClient] = []

    def build(**overrides: Any) -> VoipMsClient:
        options: dict[str, Any] = {
            "url": server.url,
            "username": USERNAME,
            "password": SecretStr(PASSWORD),
            "requests_per_minute": None,
            "timeout": 5.0,
            "max_attempts": 3,
            "backoff_base": 0.001,
            "backoff_max": 0.005,
        }
        options.update(overrides)
        client = VoipMsClient(**options)
        made.append(client)
        return client

    try:
        yield build
    finally:
        for client in made:
            client.close()
