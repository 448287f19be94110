"""VoipMsClient on a locked account: AccessError at once, one call, what to fix, no password."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterator
from datetime import date
from urllib.parse import quote, quote_plus

import pytest
from pydantic import SecretStr

from extract.voipms.client import VoipMsClient
from extract.voipms.errors import PORTAL_PAGE, AccessError
from extract.voipms.sandbox.access import AccessConfig
from extract.voipms.sandbox.server import SandboxServer
from tests.extract.conftest import PASSWORD, ClientFactory

WRONG_PASSWORD = "Wr0ng&Secret+ünique/="
SECRET_FORMS = sorted(
    {form for s in (PASSWORD, WRONG_PASSWORD) for form in (s, quote_plus(s), quote(s, safe=""))}
)

Call = Callable[[VoipMsClient], object]
CALLS: dict[str, tuple[str, Call]] = {
    "getSMS": ("getSMS", lambda c: c.get_sms(date(2024, 3, 1), date(2024, 3, 31))),
    "getMMS": ("getMMS", lambda c: c.get_mms(date(2024, 3, 1), date(2024, 3, 31))),
    "getDIDsInfo": ("getDIDsInfo", lambda c: c.get_dids_info()),
    "getMediaMMS": ("getMediaMMS", lambda c: c.get_media_mms(1)),
}

LOCKS: dict[str, tuple[AccessConfig, list[str]]] = {
    "api_not_enabled": (AccessConfig(api_enabled=False), ["Enable/Disable API"]),
    "ip_not_enabled": (
        AccessConfig(allowed_ips=("203.0.113.0/24", "198.51.100.*")),
        ["Enable IP Addresses", "getIP"],
    ),
}


def _leaks(text: str) -> list[str]:
    return [form for form in SECRET_FORMS if form in text]


@pytest.fixture
def locked(server: SandboxServer) -> Iterator[SandboxServer]:
    """The module's sandbox; whatever access a test sets is opened again afterwards."""
    server.set_access(AccessConfig())
    try:
        yield server
    finally:
        server.set_access(AccessConfig())


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every logger at DEBUG (httpx, httpcore, client, sandbox); checked for the password after."""
    caplog.set_level(logging.DEBUG)
    yield caplog
    records = caplog.get_records("setup") + caplog.get_records("call")
    assert records
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    lines = [formatter.format(record) for record in records]
    assert [line for line in lines if _leaks(line)] == []


def _error_texts(error: BaseException) -> list[str]:
    return [
        str(error),
        repr(error),
        repr(error.args),
        "".join(traceback.format_exception(error)),
    ]


@pytest.mark.parametrize("method", sorted(CALLS))
@pytest.mark.parametrize("code", sorted(LOCKS))
def test_locked_account_raises_access_error_once(
    locked: SandboxServer,
    make_client: ClientFactory,
    all_logs: pytest.LogCaptureFixture,
    code: str,
    method: str,
) -> None:
    access, fixes = LOCKS[code]
    locked.set_access(access)
    client = make_client(max_attempts=6, backoff_base=0.5, backoff_max=5.0)
    api_method, do = CALLS[method]
    with pytest.raises(AccessError) as caught:
        do(client)
    error = caught.value
    assert error.code == code
    assert error.method == api_method
    assert error.attempts == 1
    # exactly one request reached the server: no retry of a permanent refusal
    assert locked.call_counts() == {api_method: 1}
    assert client.stats().calls == {api_method: 1}
    assert client.stats().retries == {}
    assert client.stats().failures == {code: 1}
    message = str(error)
    assert code in message
    assert PORTAL_PAGE in message
    for fix in fixes:
        assert fix in message
    assert [t for t in _error_texts(error) if _leaks(t)] == []


def test_api_switch_wins_over_whitelist(
    locked: SandboxServer, make_client: ClientFactory, all_logs: pytest.LogCaptureFixture
) -> None:
    locked.set_access(AccessConfig(api_enabled=False, allowed_ips=()))
    with pytest.raises(AccessError) as caught:
        make_client().get_dids_info()
    assert caught.value.code == "api_not_enabled"
    assert locked.call_counts() == {"getDIDsInfo": 1}


def test_wrong_password_is_reported_before_access(
    locked: SandboxServer, make_client: ClientFactory, all_logs: pytest.LogCaptureFixture
) -> None:
    locked.set_access(AccessConfig(api_enabled=False, allowed_ips=()))
    client = make_client(password=SecretStr(WRONG_PASSWORD))
    with pytest.raises(AccessError) as caught:
        client.get_dids_info()
    assert caught.value.code == "invalid_credentials"
    assert caught.value.attempts == 1
    assert locked.call_counts() == {"getDIDsInfo": 1}
    assert [t for t in _error_texts(caught.value) if _leaks(t)] == []


def test_get_ip_answers_when_not_whitelisted(
    locked: SandboxServer, make_client: ClientFactory, all_logs: pytest.LogCaptureFixture
) -> None:
    """The hint says to ask getIP: it works while the IP is refused, and whitelisting fixes it."""
    locked.set_access(AccessConfig(api_enabled=False, allowed_ips=("203.0.113.42",)))
    client = make_client()
    ip = client.get_ip()
    assert ip == "127.0.0.1"
    locked.set_access(AccessConfig(allowed_ips=("203.0.113.42",)))
    with pytest.raises(AccessError, match="ip_not_enabled"):
        client.get_dids_info()
    locked.set_access(AccessConfig(allowed_ips=("203.0.113.42", ip)))
    assert [row["did"] for row in client.get_dids_info()] == locked.account.dids
    assert locked.call_counts() == {"getIP": 1, "getDIDsInfo": 2}


def test_client_passes_user_agent_rule(
    locked: SandboxServer, make_client: ClientFactory, all_logs: pytest.LogCaptureFixture
) -> None:
    locked.set_access(AccessConfig(require_user_agent=True))
    client = make_client()
    assert client.get_ip() == "127.0.0.1"
    assert client.get_dids_info()
    assert locked.call_counts() == {"getIP": 1, "getDIDsInfo": 1}
