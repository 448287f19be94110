"""The API password shows up in no log line and no exception text, on success or failure."""

from __future__ import annotations

import logging
import socket
import traceback
from collections.abc import Callable, Iterator
from datetime import date
from urllib.parse import quote, quote_plus

import pytest
from pydantic import SecretStr

from extract.voipms.client import VoipMsClient
from extract.voipms.errors import VoipMsError
from extract.voipms.redaction import MASK
from extract.voipms.sandbox.account import SandboxAccount
from extract.voipms.sandbox.drift import ECHOED_PASSWORD, DriftConfig
from extract.voipms.sandbox.faults import FaultConfig
from extract.voipms.sandbox.server import SandboxServer
from tests.extract.conftest import PASSWORD, SPEC, USERNAME, ClientFactory

WRONG_PASSWORD = "Wr0ng&Secret+ünique/="
SECRETS = [PASSWORD, WRONG_PASSWORD]
FORMS = sorted({form for s in SECRETS for form in (s, quote_plus(s), quote(s, safe=""))})


def _leaks(text: str) -> list[str]:
    return [form for form in FORMS if form in text]


def _exception_texts(error: BaseException) -> Iterator[str]:
    yield "".join(traceback.format_exception(error))
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield str(current)
        yield repr(current)
        yield repr(current.args)
        current = current.__cause__ or current.__context__


@pytest.fixture
def all_logs(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> Iterator[pytest.LogCaptureFixture]:
    """Every logger, httpx and httpcore included, at DEBUG; checked for leaks afterwards.

    Each logger is set, and made to reach caplog, by name: what an earlier test left on one
    (a level, `propagate` off) must neither hide records from this check nor add to them.
    """
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "extract"):
        caplog.set_level(logging.DEBUG, logger=name)
        monkeypatch.setattr(logging.getLogger(name), "propagate", True)
        assert logging.getLogger(name).getEffectiveLevel() == logging.DEBUG
    yield caplog
    # At teardown `caplog.records` is the teardown phase's; the test's are kept per phase.
    records = caplog.get_records("setup") + caplog.get_records("call")
    assert records
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    lines = [formatter.format(record) for record in records]
    assert [line for line in lines if _leaks(line)] == []


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/v1/rest.php"


Scenario = Callable[[SandboxServer, ClientFactory], VoipMsClient]

FAILURES: dict[str, tuple[FaultConfig, dict[str, object], str]] = {
    # the fault, the client's options, and the error code the client must give for it
    "http_500": (FaultConfig(http_500=1.0), {}, "http_500"),
    "http_522": (FaultConfig(http_522=1.0), {}, "http_522"),
    "connection_reset": (FaultConfig(connection_reset=1.0), {}, "connection_error"),
    "truncated_body": (FaultConfig(truncated_body=1.0), {}, "truncated_body"),
    "maintenance": (FaultConfig(maintenance=1.0), {}, "method_maintenance"),
    "api_limit_exceeded": (FaultConfig(rate_per_minute=1), {}, "api_limit_exceeded"),
    "timeout": (FaultConfig(timeout=1.0, stall_s=1.0), {"timeout": 0.2}, "timeout"),
    "invalid_credentials": (
        FaultConfig(),
        {"password": SecretStr(WRONG_PASSWORD)},
        "invalid_credentials",
    ),
}


def test_success_leaks_nothing(
    server: SandboxServer, make_client: ClientFactory, all_logs: pytest.LogCaptureFixture
) -> None:
    client = make_client()
    assert client.get_sms(date(2024, 3, 1), date(2024, 3, 31))
    assert client.get_dids_info()
    assert any(r.name.startswith("httpcore") for r in all_logs.records)  # the capture works
    assert any(r.name == "httpx" for r in all_logs.records)
    assert not _leaks(repr(client))
    assert not _leaks(str(vars(client)))


@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_failures_leak_nothing(
    server: SandboxServer,
    make_client: ClientFactory,
    all_logs: pytest.LogCaptureFixture,
    failure: str,
) -> None:
    faults, options, code = FAILURES[failure]
    client = make_client(max_attempts=2, **options)
    server.set_faults(faults)
    if failure == "api_limit_exceeded":
        client.get_ip()  # uses up the one call a minute
    with pytest.raises(VoipMsError) as caught:
        client.get_sms(date(2024, 3, 1), date(2024, 3, 31))
    assert caught.value.code == code
    for text in _exception_texts(caught.value):
        assert not _leaks(text), text
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None


def test_connection_refused_leaks_nothing(
    make_client: ClientFactory, all_logs: pytest.LogCaptureFixture
) -> None:
    client = make_client(url=_closed_port_url(), max_attempts=2)
    with pytest.raises(VoipMsError) as caught:
        client.get_dids_info()
    assert caught.value.code == "connection_error"
    for text in _exception_texts(caught.value):
        assert not _leaks(text), text


def test_a_non_json_body_leaks_nothing(
    server: SandboxServer, make_client: ClientFactory, all_logs: pytest.LogCaptureFixture
) -> None:
    path = server.account.truth_media()["url_path"][0]
    # a generous timeout: on a loaded machine the 5 s default made this a `timeout` once
    client = make_client(url=server.media_base + path, max_attempts=2, timeout=30.0)
    with pytest.raises(VoipMsError) as caught:
        client.get_dids_info()
    assert caught.value.code == "invalid_json"
    for text in _exception_texts(caught.value):
        assert not _leaks(text), text


def test_httpx_records_holding_the_password_are_blanked(
    server: SandboxServer, make_client: ClientFactory, all_logs: pytest.LogCaptureFixture
) -> None:
    # Were a dependency ever to log the request body or a GET URL, the filter blanks it.
    make_client()
    logging.getLogger("httpx").info("HTTP Request: GET %s", f"{server.url}?api_password={PASSWORD}")
    logging.getLogger("httpcore.http11").debug("body=%r", PASSWORD.encode())
    logging.getLogger("extract.voipms.client").debug("form %s", quote_plus(PASSWORD))
    assert len(all_logs.records) == 3


def test_an_answer_echoing_the_password_in_its_status_leaks_nothing(
    server: SandboxServer, make_client: ClientFactory, all_logs: pytest.LogCaptureFixture
) -> None:
    # a provider repeating what it was sent
    server.set_drift(DriftConfig(error_code=f"bad_request api_password={ECHOED_PASSWORD}"))
    client = make_client(max_attempts=1)
    with pytest.raises(VoipMsError) as caught:
        client.get_sms(date(2024, 3, 1), date(2024, 3, 31))
    assert caught.value.code == f"bad_request api_password={MASK}"
    for text in _exception_texts(caught.value):
        assert not _leaks(text), text


def test_a_status_that_is_the_password_itself_is_not_taken_for_a_code(
    all_logs: pytest.LogCaptureFixture,
) -> None:
    # a password shaped like a status code ("hunter2secretpw") echoed as the whole status
    password = "hunter2secretpw"
    server = SandboxServer(SandboxAccount.generate(SPEC), username=USERNAME, password=password)
    server.start()
    try:
        server.set_drift(DriftConfig(error_code=ECHOED_PASSWORD))
        client = VoipMsClient(
            url=server.url,
            username=USERNAME,
            password=SecretStr(password),
            requests_per_minute=None,
            max_attempts=1,
        )
        with client, pytest.raises(VoipMsError) as caught:
            client.get_sms(date(2024, 3, 1), date(2024, 3, 31))
    finally:
        server.stop()
    assert caught.value.code == MASK
    for text in _exception_texts(caught.value):
        assert password not in text, text
