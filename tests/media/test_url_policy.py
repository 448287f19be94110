"""Allowed hosts: exact host and port, https always, http only for explicit-port or loopback."""

from __future__ import annotations

import httpx
import pytest

from extract.media.url_policy import HostRule, UrlPolicy, url_host

POLICY = UrlPolicy(["voip.ms", "127.0.0.1:8000", "[::1]:8001", "localhost", "Media.Example:8443"])


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://voip.ms/media/abc/media.jpg", None),
        ("https://VOIP.MS/media.php?map=abc", None),
        ("https://voip.ms:443/x", None),
        ("http://voip.ms/x", "scheme_not_allowed"),  # a bare entry never downgrades to http
        ("https://voip.ms:8443/x", "host_not_allowed"),
        ("https://sub.voip.ms/x", "host_not_allowed"),  # no suffix matching
        ("https://voip.ms.evil.example/x", "host_not_allowed"),
        ("https://evilvoip.ms/x", "host_not_allowed"),
        ("http://127.0.0.1:8000/x", None),
        ("https://127.0.0.1:8000/x", None),
        ("http://127.0.0.1:8080/x", "host_not_allowed"),
        ("http://127.0.0.1/x", "host_not_allowed"),
        ("http://localhost:8000/x", "host_not_allowed"),  # localhost is not 127.0.0.1
        ("http://localhost/x", None),  # loopback entry: http on the default port
        ("http://[::1]:8001/x", None),
        ("http://media.example:8443/x", None),  # explicit port: http allowed
        ("file:///etc/passwd", "scheme_not_allowed"),
        ("ftp://voip.ms/x", "scheme_not_allowed"),
        ("data:image/png;base64,iVBORw0KGgo=", "scheme_not_allowed"),
        ("javascript:alert(1)", "scheme_not_allowed"),
        ("https://user:pw@voip.ms/x", "invalid_url"),
        ("https://voip.ms\\@evil.example/x", "invalid_url"),
        ("https://voip.ms:notaport/x", "invalid_url"),
        ("", "scheme_not_allowed"),
        ("/relative/path", "scheme_not_allowed"),
    ],
)
def test_parse(url: str, reason: str | None) -> None:
    result = POLICY.parse(url)
    if reason is None:
        assert isinstance(result, httpx.URL)
    else:
        assert result == reason


def test_no_entries_allow_nothing() -> None:
    assert UrlPolicy([]).parse("https://voip.ms/x") == "host_not_allowed"


@pytest.mark.parametrize("entry", ["voip.ms:0", "voip.ms:99999", "voip.ms:x", "a/b", "[::1", "u@h"])
def test_bad_entries_are_refused(entry: str) -> None:
    with pytest.raises(ValueError, match="media host entry"):
        HostRule.parse(entry)


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("https://Media.Example:8443/a.jpg", "media.example:8443"),
        ("https://voip.ms/a.jpg", "voip.ms"),
        ("http://[::1]:8001/a.jpg", "[::1]:8001"),
        ("https://[2001:db8::7]/a.jpg", "2001:db8::7"),
        # international names as sent: a look-alike is not shown as the host it mimics,
        # and one that cannot be decoded (a bad A-label) is still named, not an error
        ("https://v\u043eip.ms/a.jpg", "xn--vip-sed.ms"),
        ("http://xn--vip-ms-xx.example:8001/a.jpg", "xn--vip-ms-xx.example:8001"),
    ],
)
def test_a_refused_host_is_named_as_an_entry_that_would_allow_it(url: str, named: str) -> None:
    assert url_host(url) == named
    assert UrlPolicy([named]).parse(url) == httpx.URL(url)
