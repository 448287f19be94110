"""Starting and stopping: background thread, blocking serve_forever, stalled calls, the port."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from extract.voipms.sandbox.account import SandboxAccount
from extract.voipms.sandbox.faults import FaultConfig
from extract.voipms.sandbox.server import SandboxServer
from tests.sandbox.conftest import SMALL_SPEC


@pytest.fixture(scope="module")
def account() -> SandboxAccount:
    return SandboxAccount.generate(SMALL_SPEC)


def test_context_manager_and_addresses(account: SandboxAccount) -> None:
    with SandboxServer(account, port=0) as server:
        assert server.url == f"http://127.0.0.1:{server.port}/api/v1/rest.php"
        assert server.media_host == f"127.0.0.1:{server.port}"
        assert httpx.get(server.url, params={"method": "getIP"}).json()["status"] == "success"
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url, params={"method": "getIP"}, timeout=2)
    with pytest.raises(RuntimeError, match="stopped"):
        server.start()


def test_serve_forever_until_stopped_from_another_thread(account: SandboxAccount) -> None:
    server = SandboxServer(account)
    worker = threading.Thread(target=server.serve_forever)
    worker.start()
    try:
        answer = httpx.get(server.url, params={"method": "getIP"}, timeout=5).json()
        assert answer == {"status": "success", "ip": "127.0.0.1"}
    finally:
        server.stop()
    worker.join(timeout=5)
    assert not worker.is_alive()


def test_stop_ends_a_stalled_call_and_a_kept_alive_connection(account: SandboxAccount) -> None:
    server = SandboxServer(account, faults=FaultConfig(timeout=1.0)).start()
    errors: list[BaseException] = []

    def stalled() -> None:
        try:
            httpx.get(server.url, params={"method": "getIP"}, timeout=10)
        except httpx.HTTPError as error:
            errors.append(error)

    idle = httpx.Client()
    server.set_faults(FaultConfig())
    assert idle.get(server.url, params={"method": "getIP"}).status_code == 200
    server.set_faults(FaultConfig(timeout=1.0))
    worker = threading.Thread(target=stalled)
    worker.start()
    time.sleep(0.3)
    started = time.monotonic()
    server.stop()
    worker.join(timeout=5)
    assert not worker.is_alive()
    assert errors
    assert time.monotonic() - started < 3
    with pytest.raises(httpx.TransportError):  # the kept-alive connection was closed too
        idle.get(server.url, params={"method": "getIP"}, timeout=2)
    idle.close()
