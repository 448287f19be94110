"""A call's timeout bounds the whole call: a server trickling its answer cannot hold it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from extract.call_deadline import bounded, call_deadline
from extract.media.download import WorkerClients
from extract.media.transfer import TransferLimits, TransientError, fetch_once
from extract.media.url_policy import UrlPolicy
from extract.voipms.client import VoipMsClient
from extract.voipms.errors import VoipMsError
from tests.extract.loopback_api import LoopbackApi, QuietHandler

ANSWER = b'{"status":"success","dids":[]}'
STEP = 0.1
"""Seconds between two bytes the trickling server sends: each read is well within a timeout."""


class TricklingApi(LoopbackApi):
    """Sends its status line and headers (`headers=True`) or its body a byte at a time."""

    def __init__(self, *, headers: bool) -> None:
        class Handler(QuietHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                head = (
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + b"X-Padding: "
                    + b"p" * 60
                    + f"\r\nContent-Length: {len(ANSWER)}\r\n\r\n".encode()
                )
                slow, fast = (head, ANSWER) if headers else (ANSWER, head)
                try:
                    if not headers:
                        self.wfile.write(fast)
                    for byte in slow:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(STEP)
                    if headers:
                        self.wfile.write(fast)
                except OSError:  # the client hung up, as it should
                    pass

            def do_POST(self) -> None:
                self.read_request()
                self._answer()

            def do_GET(self) -> None:
                self._answer()

        self.serve(Handler)


@pytest.fixture(params=[True, False], ids=["headers", "body"])
def trickling(request: pytest.FixtureRequest) -> Iterator[TricklingApi]:
    api = TricklingApi(headers=request.param)
    yield api
    api.close()


def test_an_api_call_ends_at_its_timeout_however_its_answer_trickles(
    trickling: TricklingApi,
) -> None:
    # the answer takes ~10 s to send, a byte every 0.1 s: no single read waits 1 s
    client = VoipMsClient(
        trickling.url, "me@example.com", SecretStr("pw"), timeout=1.0, max_attempts=1
    )
    started = time.monotonic()
    with client, pytest.raises(VoipMsError) as caught:
        client.get_dids_info()
    assert caught.value.code == "timeout"
    assert time.monotonic() - started < 5


def test_a_media_download_ends_at_its_attempt_time_however_its_answer_trickles(
    trickling: TricklingApi, tmp_path: Path
) -> None:
    url = httpx.URL(trickling.url.replace("/api/v1/rest.php", "/media/a.jpg"))
    policy = UrlPolicy([f"127.0.0.1:{url.port}"])
    started = time.monotonic()
    with WorkerClients("test", timeout=5.0) as clients, pytest.raises(TransientError):
        fetch_once(
            clients.client(),
            url,
            policy=policy,
            media_dir=tmp_path,
            limits=TransferLimits(max_bytes=1_000_000, attempt_seconds=1.0),
        )
    assert time.monotonic() - started < 5


def test_deadlines_nest_and_a_client_is_bounded_once() -> None:
    client = bounded(bounded(httpx.Client()))
    pool = client._transport._pool  # type: ignore[attr-defined]
    assert type(pool._network_backend._backend).__name__ == "SyncBackend"
    client.close()
    with (
        call_deadline(time.monotonic() - 1),
        call_deadline(time.monotonic() + 60),
        pytest.raises(httpx.ConnectTimeout),  # the earlier, past deadline wins
    ):
        bounded(httpx.Client()).get("http://127.0.0.1:9/")


@pytest.mark.parametrize(
    "proxies",
    [
        {"NO_PROXY": "localhost,127.0.0.1"},
        {"HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": "localhost"},
    ],
)
def test_a_client_with_proxy_settings_is_bounded(
    proxies: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in proxies.items():
        monkeypatch.setenv(name, value)
    client = bounded(httpx.Client())
    try:
        pools = [
            transport._pool  # type: ignore[attr-defined]
            for transport in [client._transport, *client._mounts.values()]
            if transport is not None
        ]
        assert pools
        assert all(type(pool._network_backend).__name__ == "_Backend" for pool in pools)
    finally:
        client.close()


class SlowLinkApi(LoopbackApi):
    """Answers getDIDsInfo with ~200 KB at ~100 KB/s: longer than the timeout in all, steady."""

    def __init__(self) -> None:
        dids = ",".join(
            f'{{"did":"514555{n:04d}","description":"{"x" * 180}"}}' for n in range(1000)
        )
        body = f'{{"status":"success","dids":[{dids}]}}'.encode()

        class Handler(QuietHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.start_answer({"Content-Length": str(len(body))})
                for at in range(0, len(body), 10_000):
                    self.wfile.write(body[at : at + 10_000])
                    self.wfile.flush()
                    time.sleep(STEP)

        self.size = len(body)
        self.serve(Handler)


def test_a_large_answer_on_a_slow_link_arrives_though_it_takes_longer_than_the_timeout() -> None:
    api = SlowLinkApi()
    client = VoipMsClient(api.url, "me@example.com", SecretStr("pw"), timeout=1.0, max_attempts=1)
    try:
        started = time.monotonic()
        with client:
            dids = client.get_dids_info()
        took = time.monotonic() - started
    finally:
        api.close()
    assert len(dids) == 1000
    assert took > 1.0  # longer than the timeout, yet whole: its body kept coming
    assert api.size > 150_000


class DidsApi(LoopbackApi):
    """Answers every call with an empty getDIDsInfo."""

    def __init__(self) -> None:
        class Handler(QuietHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.start_answer({"Content-Length": str(len(ANSWER))})
                self.wfile.write(ANSWER)

        self.serve(Handler)


@pytest.fixture
def silent_resolver(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A host name whose resolver does not answer for 10 s (the real voip.ms's resolver
    cannot be made to hang here); every other name resolves as the system does."""
    name = "unanswering.example"
    system = socket.getaddrinfo
    released = threading.Event()

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        if host == name:
            released.wait(10)
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return system(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield name
    released.set()


def test_an_api_call_ends_at_its_timeout_when_the_host_name_resolves_for_ever(
    silent_resolver: str,
) -> None:
    api = DidsApi()
    url = api.url.replace("127.0.0.1", silent_resolver)
    client = VoipMsClient(url, "me@example.com", SecretStr("pw"), timeout=1.0, max_attempts=1)
    try:
        started = time.monotonic()
        with client, pytest.raises(VoipMsError) as caught:
            client.get_dids_info()
        took = time.monotonic() - started
    finally:
        api.close()
    assert caught.value.code == "timeout"
    assert took < 5


def test_a_host_name_that_resolves_is_connected_to_within_the_deadline(
    silent_resolver: str,
) -> None:
    api = DidsApi()
    url = api.url.replace("127.0.0.1", "localhost")
    client = VoipMsClient(url, "me@example.com", SecretStr("pw"), timeout=5.0, max_attempts=1)
    try:
        with client:
            assert client.get_dids_info() == []
            assert client.get_dids_info() == []  # the pooled connection, used again
    finally:
        api.close()
