"""Whether an error is a failed connection's, at any layer (socket, httpcore, httpx, websockets)."""

from __future__ import annotations

import socket

import httpx

_LAYERS = frozenset({"httpcore", "anyio", "h11", "websockets"})


def a_connection_error(exc: BaseException) -> bool:
    """True for an error a connection raises when the server at its other end is gone."""
    return (
        isinstance(exc, (httpx.TransportError, ConnectionError, TimeoutError, socket.gaierror))
        or type(exc).__module__.partition(".")[0] in _LAYERS
    )
