"""A loopback HTTP server for the media tests: routes registered per test, every request logged."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

# A handler writes one whole response for the n-th (0-based) request to its route.
Respond = Callable[[BaseHTTPRequestHandler, int], None]

_CLIENT_GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


@dataclass
class Route:
    """A path's handler, how often it was asked for, and how many requests ran at once."""

    respond: Respond
    hits: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    user_agents: list[str] = field(default_factory=list)
    cookies: list[str | None] = field(default_factory=list)
    """The Cookie header of each request (None: none sent)."""


class MediaServer:
    """ThreadingHTTPServer on 127.0.0.1:0 serving registered routes; unknown paths are 404."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: dict[str, Route] = {}
        self._ids = itertools.count(1)
        self.total_requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                route, nth = server._enter(
                    urlsplit(self.path).path, self.headers["User-Agent"], self.headers["Cookie"]
                )
                try:
                    if route is None:
                        send(self, b"no such route", status=404)
                    else:
                        route.respond(self, nth)
                except _CLIENT_GONE:
                    pass
                finally:
                    server._leave(route)

            def log_message(self, format: str, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a client that hung up mid-response is part of the tests

        self._httpd = Server(("127.0.0.1", 0), Handler)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> MediaServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def _enter(
        self, path: str, user_agent: str | None, cookie: str | None
    ) -> tuple[Route | None, int]:
        with self._lock:
            self.total_requests += 1
            route = self._routes.get(path)
            if route is None:
                return None, 0
            nth = route.hits
            route.hits += 1
            route.in_flight += 1
            route.max_in_flight = max(route.max_in_flight, route.in_flight)
            route.user_agents.append(user_agent or "")
            route.cookies.append(cookie)
            return route, nth

    def _leave(self, route: Route | None) -> None:
        if route is not None:
            with self._lock:
                route.in_flight -= 1

    @property
    def host(self) -> str:
        """'127.0.0.1:PORT', the allowed-hosts entry for this server."""
        return f"127.0.0.1:{self.port}"

    def add(self, respond: Respond, name: str = "file") -> str:
        """Register `respond` under a fresh path; returns its http://127.0.0.1:PORT URL."""
        path = f"/r{next(self._ids)}/{name}"
        with self._lock:
            self._routes[path] = Route(respond)
        return f"http://{self.host}{path}"

    def route(self, url: str) -> Route:
        """The route behind a URL that `add` returned."""
        with self._lock:
            return self._routes[urlsplit(url).path]


def send(
    handler: BaseHTTPRequestHandler,
    body: bytes,
    *,
    status: int = 200,
    content_type: str = "application/octet-stream",
    headers: dict[str, str] | None = None,
) -> None:
    """A whole response with a correct Content-Length."""
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)


def body(
    data: bytes,
    *,
    status: int = 200,
    content_type: str = "application/octet-stream",
    headers: dict[str, str] | None = None,
) -> Respond:
    """Always answer with `data`."""

    def respond(handler: BaseHTTPRequestHandler, nth: int) -> None:
        send(handler, data, status=status, content_type=content_type, headers=headers)

    return respond


def redirect(location: str, status: int = 302) -> Respond:
    """Always redirect to `location` (relative or absolute)."""

    def respond(handler: BaseHTTPRequestHandler, nth: int) -> None:
        send(handler, b"", status=status, headers={"Location": location})

    return respond


def in_turn(*responders: Respond) -> Respond:
    """The n-th request gets the n-th responder; the last one answers all later requests."""

    def respond(handler: BaseHTTPRequestHandler, nth: int) -> None:
        responders[min(nth, len(responders) - 1)](handler, nth)

    return respond


def truncated(data: bytes, declared: int) -> Respond:
    """Announce `declared` bytes, send `data` (fewer), then close the connection."""

    def respond(handler: BaseHTTPRequestHandler, nth: int) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(declared))
        handler.end_headers()
        handler.wfile.write(data)
        handler.wfile.flush()
        handler.close_connection = True

    return respond


def slow(delay: float, data: bytes) -> Respond:
    """Wait `delay` seconds before answering."""

    def respond(handler: BaseHTTPRequestHandler, nth: int) -> None:
        time.sleep(delay)
        send(handler, data)

    return respond


@dataclass
class Stream:
    """A body with no end (or with an announced size) that stops when the client hangs up."""

    content_length: int | None = None
    chunk: bytes = b"\0" * 65536
    pause: float = 0.0
    limit: int = 512 * 1024 * 1024  # the server's own safety stop
    sent: int = 0
    stopped: threading.Event = field(default_factory=threading.Event)

    def __call__(self, handler: BaseHTTPRequestHandler, nth: int) -> None:
        try:
            handler.send_response(200)
            if self.content_length is not None:
                handler.send_header("Content-Length", str(self.content_length))
            handler.end_headers()
            for _ in self._chunks():
                handler.wfile.write(self.chunk)
                handler.wfile.flush()
                self.sent += len(self.chunk)
                if self.pause:
                    time.sleep(self.pause)
        finally:
            self.stopped.set()

    def _chunks(self) -> Iterator[None]:
        while self.sent < self.limit:
            yield None
