"""This machine's own addresses added to NO_PROXY, so no proxy carries its own traffic."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Final

LOOPBACK: Final = ("127.0.0.1", "localhost", "::1")


def loopback_bypasses_proxies(environ: MutableMapping[str, str]) -> None:
    """Where the environment names a proxy (HTTP_PROXY, ALL_PROXY, ...), add the loopback
    addresses to NO_PROXY and no_proxy, keeping what either named: Prefect's client and ours
    read them (a proxy cannot reach this machine's servers, or refuses them)."""
    names = {name.lower() for name in environ}
    if not any(name.endswith("_proxy") and name != "no_proxy" for name in names):
        return
    said = [environ.get("no_proxy", ""), environ.get("NO_PROXY", "")]
    kept = [host.strip() for value in said for host in value.split(",") if host.strip()]
    merged = ",".join(dict.fromkeys([*kept, *LOOPBACK]))
    environ["no_proxy"] = merged
    environ["NO_PROXY"] = merged
