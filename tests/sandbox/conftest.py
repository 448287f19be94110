"""Helpers for the sandbox tests: raw HTTP calls to the API, by GET or multipart POST."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import polars as pl
import pytest

from extract.voipms.sandbox.account import SandboxAccount
from extract.voipms.sandbox.faults import FaultConfig
from extract.voipms.sandbox.server import SandboxServer
from extract.voipms.sandbox.spec import AccountSpec
from tests.conftest import SANDBOX_PASSWORD, SANDBOX_USERNAME

SMALL_SPEC = AccountSpec(seed=3, messages=400, dids=2, mms_share=0.25)

_clients: list[httpx.Client] = []


def http() -> httpx.Client:
    """One keep-alive client for the session (a new client per call costs ~50 ms)."""
    if not _clients:
        _clients.append(httpx.Client(timeout=10))
    return _clients[0]


@pytest.fixture(scope="session", autouse=True)
def _close_http_client() -> Iterator[None]:
    yield
    while _clients:
        _clients.pop().close()


def raw_call(
    server: SandboxServer, method: str, *, post: bool = False, auth: bool = True, **params: Any
) -> httpx.Response:
    """One API request as plain HTTP; POST is multipart/form-data like VoIP.ms clients send."""
    data = {k: str(v) for k, v in params.items()}
    if method:
        data["method"] = method
    if auth:
        data = {"api_username": SANDBOX_USERNAME, "api_password": SANDBOX_PASSWORD, **data}
    if post:
        return http().post(server.url, data=data, files={"_": ("", b"")})
    return http().get(server.url, params=data)


def api(server: SandboxServer, method: str, **params: Any) -> dict[str, Any]:
    """The decoded JSON answer of a GET call that must be HTTP 200."""
    response = raw_call(server, method, **params)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def window(server: SandboxServer, method: str, first: str, last: str, **params: Any) -> list[Any]:
    """Rows of a getSMS/getMMS window with a limit large enough to be complete."""
    answer = api(server, method, **{"from": first, "to": last, "limit": 100000, **params})
    if answer["status"] == "no_sms":
        return []
    assert answer["status"] == "success"
    rows: list[Any] = answer["sms"]
    return rows


@pytest.fixture(scope="session")
def truth(sandbox: SandboxServer) -> pl.DataFrame:
    """Ground truth of the shared sandbox."""
    return sandbox.account.truth()


@pytest.fixture
def private_server() -> Iterator[SandboxServer]:
    """A sandbox of the test's own, on a small account, for mutations and faults."""
    server = SandboxServer(
        SandboxAccount.generate(SMALL_SPEC),
        username=SANDBOX_USERNAME,
        password=SANDBOX_PASSWORD,
    ).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def fault_server() -> Iterator[SandboxServer]:
    """A module's own small sandbox for fault tests."""
    server = SandboxServer(
        SandboxAccount.generate(SMALL_SPEC),
        username=SANDBOX_USERNAME,
        password=SANDBOX_PASSWORD,
    ).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def faulty(fault_server: SandboxServer) -> Iterator[SandboxServer]:
    """The fault server, clean before the test and restored to no faults after it."""
    fault_server.set_faults(FaultConfig())
    fault_server.reset_counts()
    try:
        yield fault_server
    finally:
        fault_server.set_faults(FaultConfig())
