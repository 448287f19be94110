"""Account access over HTTP: API switch, IP whitelist (IP, CIDR, wildcard), order, User-Agent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.client import HTTPConnection
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import pytest

from extract.voipms.sandbox.access import AccessConfig
from extract.voipms.sandbox.account import SandboxAccount
from extract.voipms.sandbox.server import SandboxServer
from tests.conftest import SANDBOX_PASSWORD, SANDBOX_USERNAME
from tests.sandbox.conftest import SMALL_SPEC, api, http, raw_call

CALLS: dict[str, dict[str, Any]] = {
    "getDIDsInfo": {},
    "getSMS": {"from": "2024-03-01", "to": "2024-03-31"},
    "getMediaMMS": {"id": "1"},
    "sendSMS": {"did": "0", "dst": "x", "message": "hi"},
}
"""A method of each family; the access checks come before the method's own checks."""


@pytest.fixture(scope="module")
def access_server() -> Iterator[SandboxServer]:
    """This module's own small sandbox, so access settings reach no other test."""
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
def srv(access_server: SandboxServer) -> Iterator[SandboxServer]:
    """The module's sandbox, open before the test and opened again after it."""
    access_server.set_access(AccessConfig())
    access_server.reset_counts()
    try:
        yield access_server
    finally:
        access_server.set_access(AccessConfig())


def _status(server: SandboxServer, method: str = "getDIDsInfo", **params: Any) -> str:
    status: str = api(server, method, **params)["status"]
    return status


def _get_ip(server: SandboxServer, **params: Any) -> dict[str, Any]:
    return api(server, "getIP", **params)


# -- defaults -----------------------------------------------------------------------------


def test_default_is_open(srv: SandboxServer) -> None:
    assert srv.access == AccessConfig(api_enabled=True, allowed_ips=None)
    assert srv.access.require_user_agent is False
    assert _status(srv) == "success"


def test_constructor_takes_access() -> None:
    server = SandboxServer(
        SandboxAccount.generate(SMALL_SPEC),
        username=SANDBOX_USERNAME,
        password=SANDBOX_PASSWORD,
        access=AccessConfig(api_enabled=False),
    )
    with server:
        assert _status(server) == "api_not_enabled"


# -- api_not_enabled ----------------------------------------------------------------------


@pytest.mark.parametrize("method", sorted(CALLS))
@pytest.mark.parametrize("post", [False, True], ids=["get", "post"])
def test_api_disabled(srv: SandboxServer, method: str, post: bool) -> None:
    srv.set_access(AccessConfig(api_enabled=False))
    response = raw_call(srv, method, post=post, **CALLS[method])
    assert response.status_code == 200
    assert response.json() == {"status": "api_not_enabled"}
    assert srv.call_counts() == {method: 1}


def test_api_disabled_get_ip_still_answers(srv: SandboxServer) -> None:
    srv.set_access(AccessConfig(api_enabled=False, allowed_ips=()))
    assert _get_ip(srv) == {"status": "success", "ip": "127.0.0.1"}
    assert api(srv, "getIP", auth=False) == {"status": "success", "ip": "127.0.0.1"}


def test_api_disabled_changes_nothing(srv: SandboxServer) -> None:
    before = srv.account.message_count()
    srv.set_access(AccessConfig(api_enabled=False))
    did = srv.account.dids[0]
    answer = api(srv, "sendSMS", did=did, dst="5145550101", message="hello")
    assert answer == {"status": "api_not_enabled"}
    assert srv.account.message_count() == before


# -- ip_not_enabled -----------------------------------------------------------------------


ALLOWED = [
    ("127.0.0.1",),
    ("203.0.113.42", "127.0.0.1"),
    ("127.0.0.0/8",),
    ("127.0.0.0/30",),
    ("127.0.0.1/32",),
    ("127.0.0.*",),
    ("127.*.*.*",),
    ("*.0.0.1",),
    ("*",),
]
REFUSED = [
    (),
    ("203.0.113.42",),
    ("127.0.0.2",),
    ("10.0.0.0/8",),
    ("127.0.0.2/31",),
    ("127.0.1.*",),
    ("128.*.*.*",),
    ("::1",),
    ("::/0",),
]


@pytest.mark.parametrize("allowed", ALLOWED, ids=lambda a: ",".join(a))
def test_ip_allowed(srv: SandboxServer, allowed: tuple[str, ...]) -> None:
    srv.set_access(AccessConfig(allowed_ips=allowed))
    assert _status(srv) == "success"
    assert _status(srv, "getSMS", **CALLS["getSMS"]) == "success"


@pytest.mark.parametrize("allowed", REFUSED, ids=lambda a: ",".join(a) or "empty")
def test_ip_refused(srv: SandboxServer, allowed: tuple[str, ...]) -> None:
    srv.set_access(AccessConfig(allowed_ips=allowed))
    for method, params in CALLS.items():
        assert _status(srv, method, **params) == "ip_not_enabled", method
        assert raw_call(srv, method, post=True, **params).json() == {"status": "ip_not_enabled"}


def test_ip_refused_get_ip_still_answers(srv: SandboxServer) -> None:
    srv.set_access(AccessConfig(allowed_ips=("203.0.113.0/24",)))
    assert _status(srv) == "ip_not_enabled"
    assert _get_ip(srv) == {"status": "success", "ip": "127.0.0.1"}
    # the address getIP reports is the one to whitelist
    srv.set_access(AccessConfig(allowed_ips=("203.0.113.0/24", _get_ip(srv)["ip"])))
    assert _status(srv) == "success"


# -- order --------------------------------------------------------------------------------


def test_order_of_checks(srv: SandboxServer) -> None:
    srv.set_access(AccessConfig(api_enabled=False, allowed_ips=()))
    assert api(srv, "", auth=False) == {"status": "missing_method"}
    assert _status(srv, "noSuchMethod") == "invalid_method"
    assert api(srv, "getDIDsInfo", auth=False) == {"status": "missing_credentials"}
    wrong = {"api_username": SANDBOX_USERNAME, "api_password": "wrong"}
    assert api(srv, "getDIDsInfo", auth=False, **wrong) == {"status": "invalid_credentials"}
    assert _status(srv) == "api_not_enabled"
    srv.set_access(AccessConfig(api_enabled=True, allowed_ips=()))
    assert api(srv, "getDIDsInfo", auth=False, **wrong) == {"status": "invalid_credentials"}
    assert _status(srv) == "ip_not_enabled"
    # the method's own checks come only after access
    assert _status(srv, "getSMS", **{"from": "bad"}) == "ip_not_enabled"
    srv.set_access(AccessConfig())
    assert _status(srv, "getSMS", **{"from": "bad"}) == "invalid_date"


# -- configuration ------------------------------------------------------------------------


def test_allows_ip_unit() -> None:
    config = AccessConfig(allowed_ips=("203.0.113.0/24", "198.51.100.*", "2001:db8::/32"))
    assert config.allows_ip("203.0.113.255")
    assert config.allows_ip("198.51.100.7")
    assert config.allows_ip("::ffff:198.51.100.7")
    assert config.allows_ip("2001:db8::1")
    assert not config.allows_ip("203.0.114.1")
    assert not config.allows_ip("198.51.101.7")
    assert not config.allows_ip("2001:db9::1")
    assert not config.allows_ip("not-an-ip")
    assert AccessConfig().allows_ip("anything")
    assert not AccessConfig(allowed_ips=()).allows_ip("127.0.0.1")


@pytest.mark.parametrize(
    "entry", ["myserver.example.com", "203.0.113.*/24", "203.0.*", "203.0.113.2*", "300.0.0.*"]
)
def test_bad_entries_rejected(entry: str) -> None:
    with pytest.raises(ValueError, match="not an"):
        AccessConfig(allowed_ips=(entry,))


def _control(server: SandboxServer, body: object | None = None) -> httpx.Response:
    url = f"{server.media_base}/_sandbox/access"
    if body is None:
        return http().get(url)
    return http().post(url, content=json.dumps(body))


def test_control_endpoint(srv: SandboxServer) -> None:
    assert _control(srv).json() == {
        "api_enabled": True,
        "allowed_ips": None,
        "require_user_agent": False,
    }
    answer = _control(srv, {"allowed_ips": "203.0.113.42, 10.0.0.0/8 ,127.0.0.*"})
    assert answer.status_code == 200
    assert answer.json()["allowed_ips"] == ["203.0.113.42", "10.0.0.0/8", "127.0.0.*"]
    assert _status(srv) == "success"
    _control(srv, {"allowed_ips": ["10.0.0.0/8"]})
    assert _status(srv) == "ip_not_enabled"
    _control(srv, {"api_enabled": False})
    assert srv.access == AccessConfig(api_enabled=False)
    assert _status(srv) == "api_not_enabled"
    assert _control(srv).json()["api_enabled"] is False
    assert _control(srv, {}).json()["api_enabled"] is True
    assert _status(srv) == "success"


@pytest.mark.parametrize(
    "body",
    [
        {"nope": 1},
        {"api_enabled": "yes"},
        {"allowed_ips": ["host.example.com"]},
        {"allowed_ips": 5},
    ],
)
def test_control_endpoint_rejects(srv: SandboxServer, body: dict[str, object]) -> None:
    response = _control(srv, body)
    assert response.status_code == 400
    assert "error" in response.json()
    assert srv.access == AccessConfig()


# -- User-Agent ---------------------------------------------------------------------------


def _bare_get(server: SandboxServer, user_agent: str | None, **params: str) -> tuple[int, bytes]:
    """A GET with no User-Agent header at all (http.client adds none), or the one given."""
    split = urlsplit(server.url)
    conn = HTTPConnection(split.hostname or "127.0.0.1", split.port, timeout=10)
    try:
        headers = {} if user_agent is None else {"User-Agent": user_agent}
        conn.request("GET", f"{split.path}?{urlencode(params)}", headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


AUTH = {"api_username": SANDBOX_USERNAME, "api_password": SANDBOX_PASSWORD}


def test_no_user_agent_allowed_by_default(srv: SandboxServer) -> None:
    status, body = _bare_get(srv, None, method="getDIDsInfo", **AUTH)
    assert status == 200
    assert json.loads(body)["status"] == "success"


@pytest.mark.parametrize("method", ["getIP", "getDIDsInfo"])
def test_require_user_agent(srv: SandboxServer, method: str) -> None:
    srv.set_access(AccessConfig(require_user_agent=True))
    status, body = _bare_get(srv, None, method=method, **AUTH)
    assert status == 403
    assert b"Forbidden" in body
    status, _ = _bare_get(srv, "  ", method=method, **AUTH)
    assert status == 403
    assert srv.call_counts() == {method: 2}
    status, body = _bare_get(srv, "smsarchive-test/1", method=method, **AUTH)
    assert status == 200
    assert json.loads(body)["status"] == "success"
    assert raw_call(srv, method).status_code == 200  # httpx sends its own User-Agent


def test_require_user_agent_comes_before_access_checks(srv: SandboxServer) -> None:
    srv.set_access(AccessConfig(api_enabled=False, require_user_agent=True))
    status, _ = _bare_get(srv, None, method="getDIDsInfo", **AUTH)
    assert status == 403
    assert _status(srv) == "api_not_enabled"
