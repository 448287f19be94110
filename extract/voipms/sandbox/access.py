"""AccessConfig: the account's API switch and IP whitelist, and the upstream User-Agent rule."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_ANY = "*"


def _octet(text: str) -> bool:
    return text == _ANY or (text.isascii() and text.isdigit() and int(text) <= 255)


def _parse_entry(entry: str) -> IpNetwork | tuple[str, ...]:
    """A CIDR network (a single IP is a /32 or /128) or the four parts of an IPv4 wildcard."""
    text = entry.strip()
    if text == _ANY:
        return (_ANY,) * 4
    if _ANY in text:
        parts = tuple(text.split("."))
        if len(parts) != 4 or not all(_octet(p) for p in parts):
            raise ValueError(f"not an IPv4 wildcard like 203.0.113.*: {entry!r}")
        return parts
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ValueError(
            f"not an IP, CIDR range or wildcard (hostnames are not simulated): {entry!r}"
        ) from None


def _matches(rule: IpNetwork | tuple[str, ...], address: IpAddress) -> bool:
    if isinstance(rule, tuple):
        if address.version != 4:
            return False
        octets = str(address).split(".")
        return all(p in (_ANY, o) for p, o in zip(rule, octets, strict=True))
    return address.version == rule.version and address in rule


def _entries(value: object) -> tuple[str, ...] | None:
    """None, a comma-separated string (as typed in the portal) or a list of entries."""
    if value is None:
        return None
    if isinstance(value, str):
        items: Sequence[object] = value.split(",")
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        raise ValueError("allowed_ips must be null, a string or a list of strings")
    out = tuple(str(item).strip() for item in items)
    return tuple(item for item in out if item)


@dataclass(frozen=True, slots=True)
class AccessConfig:
    """Who the account lets in. The default lets everyone in, like the sandbox always did.

    `api_enabled` False: every call with valid credentials gets `api_not_enabled` (the portal's
    Enable/Disable API switch). `allowed_ips` None allows any caller; otherwise the caller's
    address must match an entry: a single IP (`203.0.113.42`), a CIDR range
    (`203.0.113.0/24`) or an IPv4 wildcard with `*` for whole octets (`203.0.113.*`, `*`);
    an empty list allows nobody (the real portal's default). Others get `ip_not_enabled`.
    `require_user_agent` True answers HTTP 403 to API requests without a User-Agent header.
    getIP answers regardless of `api_enabled` and `allowed_ips`.
    """

    api_enabled: bool = True
    allowed_ips: tuple[str, ...] | None = None
    require_user_agent: bool = False

    def __post_init__(self) -> None:
        entries = _entries(self.allowed_ips)
        if entries is not None:
            for entry in entries:
                _parse_entry(entry)  # raises ValueError on a bad entry
        object.__setattr__(self, "allowed_ips", entries)

    def allows_ip(self, ip: str) -> bool:
        """True when `ip` (the caller's address as the server sees it) is whitelisted."""
        if self.allowed_ips is None:
            return True
        try:
            address = ipaddress.ip_address(ip.strip())
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(_matches(_parse_entry(entry), address) for entry in self.allowed_ips)

    def refusal(self, ip: str) -> str | None:
        """The status for an authenticated call from `ip`: `api_not_enabled`, `ip_not_enabled`."""
        if not self.api_enabled:
            return "api_not_enabled"
        if not self.allows_ip(ip):
            return "ip_not_enabled"
        return None

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> AccessConfig:
        """Build from JSON-like data (the /_sandbox/access body); unknown keys are an error."""
        known = {"api_enabled", "allowed_ips", "require_user_agent"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown access fields: {sorted(unknown)}")
        flags: dict[str, bool] = {}
        for name in ("api_enabled", "require_user_agent"):
            if name in data:
                value = data[name]
                if not isinstance(value, bool):
                    raise ValueError(f"{name} must be true or false")
                flags[name] = value
        return cls(allowed_ips=_entries(data.get("allowed_ips")), **flags)

    def to_dict(self) -> dict[str, object]:
        """Plain fields, JSON-ready."""
        return {
            "api_enabled": self.api_enabled,
            "allowed_ips": None if self.allowed_ips is None else list(self.allowed_ips),
            "require_user_agent": self.require_user_agent,
        }
