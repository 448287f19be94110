"""Shared fixtures: a session-wide VoIP.ms sandbox on a small deterministic account."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

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
