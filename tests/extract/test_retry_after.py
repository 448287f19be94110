"""Retry-After: read from the header, carried by the typed error, honoured by the API client."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator

import httpx
import pytest
from pydantic import SecretStr

from extract.retry_after import retry_after_seconds
from extract.voipms.client import VoipMsClient
from extract.voipms.errors import (
    RateLimitedError,
    ServerError,
    UnexpectedAnswerError,
    error_for_http_status,
)
from tests.extract.loopback_api import LoopbackApi, QuietHandler

SUCCESS = json.dumps({"status": "success", "dids": [{"did": "5551234567"}]}).encode()


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("3", 3.0),
        (" 0 ", 0.0),
        ("1.5", 1.5),
        ("", None),
        ("-1", None),
        ("nan", None),
        ("inf", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", None),
    ],
)
def test_retry_after_is_read_as_seconds(value: str, seconds: float | None) -> None:
    assert retry_after_seconds(httpx.Headers({"Retry-After": value})) == seconds


def test_no_header_is_no_wait() -> None:
    assert retry_after_seconds(httpx.Headers()) is None


def test_http_errors_carry_the_wait_asked() -> None:
    limited = error_for_http_status(429, "getSMS", html=False, retry_after=7.0)
    busy = error_for_http_status(503, "getSMS", html=True, retry_after=2.0)
    assert isinstance(limited, RateLimitedError)
    assert limited.retry_after == 7.0
    assert isinstance(busy, ServerError)
    assert busy.retry_after == 2.0
    assert isinstance(error_for_http_status(404, "getSMS", html=False), UnexpectedAnswerError)


class ScriptedApi(LoopbackApi):
    """A loopback server in the API's place: each POST gets the next scripted answer
    (status, Retry-After or None); when the script is done, every POST succeeds."""

    def __init__(self, script: list[tuple[int, str | None]]) -> None:
        self.script = list(script)
        self.arrivals: list[float] = []
        owner = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                owner.arrivals.append(time.monotonic())
                status, wait = owner.script.pop(0) if owner.script else (200, None)
                self.send_body(
                    SUCCESS if status == 200 else b"<html>busy</html>",
                    status=status,
                    content_type="application/json" if status == 200 else "text/html",
                    headers={} if wait is None else {"Retry-After": wait},
                )

        self.serve(Handler)


@pytest.fixture
def api() -> Iterator[type[ScriptedApi]]:
    made: list[ScriptedApi] = []

    class Api(ScriptedApi):
        def __init__(self, script: list[tuple[int, str | None]]) -> None:
            super().__init__(script)
            made.append(self)

    yield Api
    for server in made:
        server.close()


def _client(url: str, *, backoff_max: float) -> VoipMsClient:
    # no backoff of its own: any wait is the one the server asked for
    return VoipMsClient(
        url,
        "user@example.com",
        SecretStr("pw"),
        requests_per_minute=None,
        max_attempts=3,
        backoff_base=0.0,
        backoff_max=backoff_max,
    )


@pytest.mark.parametrize("status", [429, 503])
def test_the_client_waits_as_long_as_retry_after_asks(
    api: type[ScriptedApi], status: int, caplog: pytest.LogCaptureFixture
) -> None:
    server = api([(status, "1")])
    caplog.set_level(logging.INFO, logger="extract.voipms.client")
    with _client(server.url, backoff_max=30.0) as client:
        answer = client.call("getDIDsInfo")
    assert answer["status"] == "success"
    assert len(server.arrivals) == 2
    assert server.arrivals[1] - server.arrivals[0] >= 0.95
    assert f"failed (http_{status}); retrying in 1.00s" in caplog.text


def test_retry_after_is_honoured_only_up_to_backoff_max(
    api: type[ScriptedApi], caplog: pytest.LogCaptureFixture
) -> None:
    server = api([(429, "3600"), (429, None)])
    caplog.set_level(logging.INFO, logger="extract.voipms.client")
    with _client(server.url, backoff_max=0.2) as client:
        assert client.call("getDIDsInfo")["status"] == "success"
    assert len(server.arrivals) == 3
    # the first wait capped at backoff_max; the second, with no header, is the own backoff (0)
    assert "failed (http_429); retrying in 0.20s" in caplog.text
    assert "attempt 2 failed (http_429); retrying in 0.00s" in caplog.text
