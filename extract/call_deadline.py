"""A deadline for a whole HTTP call: its connect, every read and every write end by then."""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpcore
import httpx

_local = threading.local()


@contextmanager
def call_deadline(at: float) -> Iterator[None]:
    """Within the block, this thread's network I/O on a `bounded` client ends by `at`
    (`time.monotonic()`), whatever the per-read timeout: a server sending its headers or its
    body a byte at a time, or a resolver that does not answer, cannot hold a call past it.
    Blocks nest; the earlier deadline wins.
    """
    previous: float | None = getattr(_local, "at", None)
    _local.at = at if previous is None else min(at, previous)
    try:
        yield
    finally:
        _local.at = previous


def _bounded(timeout: float | None, error: type[Exception]) -> float | None:
    """`timeout`, cut to the time the call has left; `error` once it has none."""
    at: float | None = getattr(_local, "at", None)
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise error("the call ran out of its time")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    """A connection whose every read and write is bounded by the call's deadline."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _Stream(self._stream.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


def _is_address(host: str) -> bool:
    """Whether `host` is an IP address, which needs no resolving."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _within(
    seconds: float, connect: Callable[[], httpcore.NetworkStream], host: str
) -> httpcore.NetworkStream:
    """`connect()` run on a thread of its own, given up after `seconds`.

    The system's resolver (getaddrinfo) takes no timeout and cannot be interrupted: a host
    name whose resolver does not answer would hold the call for as long as the system's own
    retries last. Given up, the thread is left to end by itself, closing what it connected.
    """
    done = threading.Event()
    outcome: list[httpcore.NetworkStream | BaseException] = []
    given_up = False
    lock = threading.Lock()

    def run() -> None:
        try:
            result: httpcore.NetworkStream | BaseException = connect()
        except BaseException as error:  # handed to the waiting thread, raised there
            result = error
        with lock:
            if given_up:
                if not isinstance(result, BaseException):
                    result.close()
                return
            outcome.append(result)
        done.set()

    threading.Thread(target=run, name=f"connect {host}", daemon=True).start()
    done.wait(seconds)
    with lock:
        if not outcome:
            given_up = True
            raise httpcore.ConnectTimeout(f"resolving and connecting to {host} took too long")
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    return result


class _Backend(httpcore.NetworkBackend):
    """httpcore's own backend, its connections bounded by the call's deadline."""

    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)

        def connect() -> httpcore.NetworkStream:
            return self._backend.connect_tcp(host, port, bounded, local_address, socket_options)

        if bounded is None or _is_address(host):
            return _Stream(connect())
        return _Stream(_within(bounded, connect, host))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _Stream(self._backend.connect_unix_socket(path, bounded, socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def bounded(client: httpx.Client) -> httpx.Client:
    """`client`, its connections (proxies' too) made through a backend that keeps to
    `call_deadline`. httpx has no public hook for it: each transport's connection pool is
    given the backend, a tested reach into httpx 0.28 / httpcore 1.0 (the lock pins them)."""
    transports = [client._transport, *client._mounts.values()]
    for transport in transports:
        if transport is None:  # NO_PROXY's hosts: they go through client._transport
            continue
        pool = getattr(transport, "_pool", None)
        if pool is None or not hasattr(pool, "_network_backend"):
            raise TypeError(f"cannot bound the calls of {type(transport).__name__}")
        if not isinstance(pool._network_backend, _Backend):
            pool._network_backend = _Backend(pool._network_backend)
    return client
