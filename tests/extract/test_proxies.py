"""A proxy the environment names carries calls to other hosts, never to this machine's own."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from extract.media import MediaItem, download_media
from extract.voipms.client import VoipMsClient
from extract.voipms.errors import VoipMsError
from extract.voipms.sandbox.server import SandboxServer
from flows.loopback_proxies import loopback_bypasses_proxies
from tests.extract.conftest import SPEC, ClientFactory

PROXY_ENV = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy")


class RefusingProxy(socketserver.ThreadingTCPServer):
    """A proxy on loopback that counts what it is asked and refuses it all (403)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, handler: type[socketserver.BaseRequestHandler] | None = None) -> None:
        self.asked: list[bytes] = []
        super().__init__(("127.0.0.1", 0), handler or _Refuse)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Refuse(socketserver.StreamRequestHandler):
    server: RefusingProxy

    def handle(self) -> None:
        said = self.request.recv(65536)  # a request line, or a SOCKS greeting (no line)
        self.server.asked.append(said.split(b"\r\n")[0])
        refused = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        self.wfile.write(refused)


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[RefusingProxy]:
    """Every proxy variable naming a proxy that refuses everything."""
    refusing = RefusingProxy()
    for name in PROXY_ENV:
        monkeypatch.setenv(name, refusing.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    try:
        yield refusing
    finally:
        refusing.shutdown()
        refusing.server_close()


def test_the_sandbox_and_its_media_are_reached_without_the_proxy(
    proxy: RefusingProxy, make_client: ClientFactory, server: SandboxServer, tmp_path: Path
) -> None:
    client = make_client()
    assert client.get_dids_info()
    rows = client.get_mms(SPEC.start, SPEC.start + timedelta(days=91), all_messages=True)
    links = [row[f"col_media{n}"] for row in rows for n in (1, 2, 3) if row[f"col_media{n}"]]
    assert links
    results = download_media(
        [MediaItem(key=n, url=url) for n, url in enumerate(links[:3])],
        media_dir=tmp_path,
        allowed_hosts=[server.media_host],
        user_agent="smsarchive-tests/1",
        timeout=5.0,
        processes=1,
    )
    assert [(r.state, r.error) for r in results] == [("stored", None)] * 3
    assert proxy.asked == []


def test_other_hosts_go_through_the_proxy(proxy: RefusingProxy) -> None:
    client = VoipMsClient(
        "http://voip.example.invalid/api/v1/rest.php",
        "me@example.com",
        SecretStr("pw"),
        max_attempts=1,
    )
    try:
        with pytest.raises(VoipMsError, match="403"):
            client.get_dids_info()
    finally:
        client.close()
    assert proxy.asked == [b"POST http://voip.example.invalid/api/v1/rest.php HTTP/1.1"]


class _RefuseSocks(socketserver.BaseRequestHandler):
    """SOCKS5: no authentication asked, then every CONNECT refused by its rules."""

    server: RefusingProxy

    def handle(self) -> None:
        self.server.asked.append(self.request.recv(512))  # the greeting
        self.request.sendall(b"\x05\x00")
        self.server.asked.append(self.request.recv(512))  # CONNECT host:port
        self.request.sendall(b"\x05\x02\x00\x01" + bytes(6))  # not allowed by ruleset


# httpcore 1.0 leaves the socket of a CONNECT its SOCKS proxy refused to the collector
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_socks_proxy_is_spoken_to(monkeypatch: pytest.MonkeyPatch) -> None:
    socks = RefusingProxy(_RefuseSocks)
    monkeypatch.setenv("ALL_PROXY", socks.url.replace("http://", "socks5://"))
    client = VoipMsClient(
        "http://voip.example.invalid/api/v1/rest.php",
        "me@example.com",
        SecretStr("pw"),
        max_attempts=1,
    )
    try:  # refused by the proxy: one error, not an ImportError for want of socksio
        with pytest.raises(VoipMsError, match="connection to the API failed"):
            client.get_dids_info()
    finally:
        client.close()
        socks.shutdown()
        socks.server_close()
    assert socks.asked[1].startswith(b"\x05\x01\x00\x03")
    assert b"voip.example.invalid" in socks.asked[1]


def test_loopback_is_added_to_no_proxy_where_a_proxy_is_named() -> None:
    environ = {"HTTPS_PROXY": "http://proxy:3128", "no_proxy": "intranet, .corp", "X": "y"}
    loopback_bypasses_proxies(environ)
    expected = "intranet,.corp,127.0.0.1,localhost,::1"
    assert environ == {
        "HTTPS_PROXY": "http://proxy:3128",
        "no_proxy": expected,
        "NO_PROXY": expected,
        "X": "y",
    }
    loopback_bypasses_proxies(environ)  # a second time adds nothing
    assert environ["NO_PROXY"] == expected
    unproxied = {"PATH": "/bin"}
    loopback_bypasses_proxies(unproxied)
    assert unproxied == {"PATH": "/bin"}
