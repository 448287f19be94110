"""Addresses on this machine reached directly, never through a proxy the environment names."""

from __future__ import annotations

from typing import Final

import httpx

LOOPBACK_DIRECT: Final[dict[str, httpx.BaseTransport | None]] = {
    "all://127.0.0.1": None,
    "all://localhost": None,
    "all://[::1]": None,
}
"""httpx `mounts`: a URL on this machine (the built-in sandbox and its media) is fetched
without the proxy HTTP_PROXY or ALL_PROXY names, which cannot reach it (or refuses it); other
URLs keep the environment's proxies, NO_PROXY included."""
