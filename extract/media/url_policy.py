"""Which media URLs may be fetched: http(s) only, and only from the allowed host[:port] list."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from extract.media.records import HOST_NOT_ALLOWED, INVALID_URL, SCHEME_NOT_ALLOWED

DEFAULT_PORTS = {"http": 80, "https": 443}


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class HostRule:
    """One allowed-hosts entry: a lower-cased hostname and, if the entry named one, a port."""

    host: str
    port: int | None

    @classmethod
    def parse(cls, entry: str) -> HostRule:
        """'voip.ms', 'voip.ms:8443', '127.0.0.1:8000' or '[::1]:8000'; ValueError otherwise."""
        text = entry.strip().lower()
        port_text: str | None = None
        if text.startswith("["):
            host, sep, rest = text[1:].partition("]")
            if not sep or (rest and not rest.startswith(":")):
                raise ValueError(f"bad media host entry: {entry!r}")
            port_text = rest[1:] if rest else None
        elif text.count(":") == 1:
            host, port_text = text.split(":")
        elif ":" in text:
            host = text  # a bare IPv6 address
        else:
            host = text
        if not host or any(c in host for c in "/@?#[] "):
            raise ValueError(f"bad media host entry: {entry!r}")
        port: int | None = None
        if port_text is not None:
            if not port_text.isdigit() or not 0 < int(port_text) < 65536:
                raise ValueError(f"bad port in media host entry: {entry!r}")
            port = int(port_text)
        return cls(host=host, port=port)

    def port_for(self, scheme: str) -> int:
        """The one port this entry allows for `scheme`."""
        return self.port if self.port is not None else DEFAULT_PORTS[scheme]

    def allows_http(self) -> bool:
        """Plain http only where the operator asked for it: an explicit port, or loopback."""
        return self.port is not None or _is_loopback(self.host)


def url_host(url: str) -> str:
    """A media URL's host, with its port when one is given (as VOIPMS_MEDIA_HOSTS names it).

    An international name is shown as sent, in its ASCII (punycode) form: its Unicode form
    may pass for another host (a Cyrillic 'о' in vоip.ms), and a malformed one cannot be
    decoded at all."""
    try:
        parsed = httpx.URL(url)
        host = parsed.raw_host.decode("ascii", "backslashreplace") or "?"
    except (httpx.InvalidURL, TypeError, ValueError, UnicodeError):
        return "?"
    if parsed.port is None:
        return host
    return f"[{host}]:{parsed.port}" if ":" in host else f"{host}:{parsed.port}"


class UrlPolicy:
    """Decides, before any network call, whether a URL (or a redirect target) may be fetched.

    - Schemes: https always; http only for an entry with an explicit port (e.g. the loopback
      sandbox '127.0.0.1:8000' or a LAN mirror) or a loopback entry. A bare hostname such as
      the default 'voip.ms' never allows http. Anything else (file:, ftp:, data:, ...) is
      'scheme_not_allowed'.
    - Hosts: the URL's lower-cased hostname must equal an entry's exactly (no suffix or
      subdomain matching; 'localhost' and '127.0.0.1' are different hosts). An entry without
      a port allows the scheme's default port only; an entry with a port allows that port only.
    - URLs with userinfo (user:pass@) or no host are 'invalid_url'.
    """

    def __init__(self, allowed_hosts: Sequence[str]) -> None:
        self.rules = tuple(HostRule.parse(entry) for entry in allowed_hosts if entry.strip())

    def refusal(self, url: httpx.URL) -> str | None:
        """None when `url` may be fetched, else the short reason it may not."""
        scheme = url.scheme.lower()
        if scheme not in DEFAULT_PORTS:
            return SCHEME_NOT_ALLOWED
        # raw_host is what goes on the wire (IDNA-encoded ASCII); never decode it back.
        if url.userinfo or not url.raw_host:
            return INVALID_URL
        host = url.raw_host.decode("ascii", errors="replace").lower()
        port = url.port if url.port is not None else DEFAULT_PORTS[scheme]
        matches = [
            rule
            for rule in self.rules
            if rule.host == host
            and (rule.port if rule.port is not None else DEFAULT_PORTS[scheme]) == port
        ]
        if not matches:
            return HOST_NOT_ALLOWED
        if scheme == "http" and not any(rule.allows_http() for rule in matches):
            return SCHEME_NOT_ALLOWED
        return None

    def parse(self, url: str) -> httpx.URL | str:
        """The URL to request, or the short reason it may not be requested."""
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError, ValueError):
            return INVALID_URL
        reason = self.refusal(parsed)
        return reason if reason is not None else parsed
