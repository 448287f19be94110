"""SandboxServer: the VoIP.ms API, its media host and /_sandbox/ controls over loopback HTTP."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
import socket
import struct
import threading
from collections import Counter
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from python_multipart import parse_form

from extract.voipms.sandbox.access import AccessConfig
from extract.voipms.sandbox.account import SandboxAccount
from extract.voipms.sandbox.drift import DriftConfig
from extract.voipms.sandbox.faults import Fault, FaultConfig, FaultInjector
from extract.voipms.sandbox.methods import CallContext, call, php_json

log = logging.getLogger(__name__)
_PASSWORD_PARAM = re.compile(r"(api_password=)[^&\s'\"]*")

API_PATH = "/api/v1/rest.php"
DEFAULT_USERNAME = "sandbox@example.com"
DEFAULT_PASSWORD = "sandbox-password"  # noqa: S105 - a loopback sandbox, not a secret
MEDIA_COUNT_KEY = "media"
"""call_counts() key under which media fetches are counted."""

SOAP_FAULT = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">'
    b"<SOAP-ENV:Body><SOAP-ENV:Fault><faultcode>SOAP-ENV:Client</faultcode>"
    b"<faultstring>Bad Request</faultstring></SOAP-ENV:Fault></SOAP-ENV:Body>"
    b"</SOAP-ENV:Envelope>\n"
)
HTML_500 = (
    b'<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n'
    b"<title>500 Internal Server Error</title>\n</head><body>\n<h1>Internal Server Error</h1>\n"
    b"<p>The server encountered an internal error or misconfiguration and was unable to "
    b"complete your request.</p>\n</body></html>\n"
)
HTML_403 = (
    b'<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n'
    b"<title>403 Forbidden</title>\n</head><body>\n<h1>Forbidden</h1>\n"
    b"<p>You don't have permission to access this resource.</p>\n</body></html>\n"
)
HTML_522 = (
    b'<!DOCTYPE html>\n<html lang="en-US"><head><title>voip.ms | 522: Connection timed out'
    b'</title></head><body><div id="cf-error-details"><h1>Connection timed out</h1>'
    b"<span>Error code 522</span><p>The initial connection between Cloudflare's network "
    b"and the origin web server timed out.</p></div></body></html>\n"
)


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], sandbox: SandboxServer) -> None:
        self.sandbox = sandbox
        self.aborted: set[Any] = set()
        self.aborted_lock = threading.Lock()
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # a client that gave up mid-answer (timeouts, resets) is normal here, not a crash
        log.debug("connection from %s ended badly", client_address, exc_info=True)

    def shutdown_request(self, request: Any) -> None:
        with self.aborted_lock:
            abort = request in self.aborted
            self.aborted.discard(request)
        if abort:
            # no shutdown(SHUT_WR) first: a FIN would precede the RST that SO_LINGER 0 sends
            self.close_request(request)
        else:
            super().shutdown_request(request)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Apache"
    sys_version = ""
    timeout = 120.0
    server: _HttpServer

    def setup(self) -> None:
        super().setup()
        # headers and body leave in two writes: without NODELAY, Nagle + delayed ACK add 40 ms
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.sandbox._track(self.connection, add=True)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        self.server.sandbox._track(self.connection, add=False)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # the path only: a GET query string carries api_password
        log.debug(
            "%s %s %s %s", self.address_string(), self.command, urlsplit(self.path).path, code
        )

    def log_message(self, format: str, *args: Any) -> None:
        # "Bad request syntax (%r)" quotes the request line: hide any password in it
        log.debug("%s %s", self.address_string(), _PASSWORD_PARAM.sub(r"\1***", format % args))

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    # ------------------------------------------------------------ plumbing
    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        reason: str | None = None,
        length: int | None = None,
    ) -> None:
        self.send_response(status, reason)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def _send_json(self, status: int, value: object) -> None:
        self._send(status, json.dumps(value).encode(), "application/json")

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length", "0") or "0")
        return self.rfile.read(length) if length > 0 else b""

    def _reset(self) -> None:
        """Abort the connection with a TCP RST (SO_LINGER 0 on close), sending nothing."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            return
        with self.server.aborted_lock:
            self.server.aborted.add(self.connection)

    # ------------------------------------------------------------ routing
    def _route(self, verb: str) -> None:
        split = urlsplit(self.path)
        path = split.path
        if path == API_PATH:
            self._api(verb, split.query)
        elif path == "/media.php":
            token = ""
            for part in split.query.split("&"):
                if part.startswith("map="):
                    token = unquote(part[4:])
            self._media(token)
        elif path.startswith("/media/") and "/media." in path[7:]:
            self._media(unquote(path[7:].rsplit("/", 1)[0]))
        elif path.startswith("/_sandbox/"):
            self._control(verb, path[len("/_sandbox/") :], split.query)
        else:
            if verb == "POST":
                self._read_body()
            self._send(404, b"Not Found\n", "text/plain; charset=utf-8")

    def _media(self, token: str) -> None:
        sandbox = self.server.sandbox
        sandbox._count(MEDIA_COUNT_KEY)
        found = sandbox.account.media_file(token.replace(" ", "+"))
        if found is None:
            self._send(404, b"Not found", "text/html; charset=UTF-8")
        else:
            self._send(200, found.body, found.content_type)

    def _params(self, verb: str, query: str) -> tuple[dict[str, str], bool]:
        """Request parameters (query string, then multipart fields); True when it is SOAP-bound."""
        params = dict(parse_qsl(query, keep_blank_values=True))
        if verb != "POST":
            return params, False
        body = self._read_body()
        content_type = self.headers.get("Content-Type", "")
        if content_type.lower().startswith("multipart/form-data"):
            fields: dict[str, str] = {}

            def on_field(field: Any) -> None:
                fields[field.field_name.decode("utf-8", "replace")] = (field.value or b"").decode(
                    "utf-8", "replace"
                )

            def on_file(upload: Any) -> None:
                upload.file_object.seek(0)
                data = upload.file_object.read()
                upload.close()
                fields[upload.field_name.decode("utf-8", "replace")] = data.decode(
                    "utf-8", "replace"
                )

            headers = {
                "Content-Type": content_type.encode("latin-1"),
                "Content-Length": str(len(body)).encode(),
            }
            try:
                parse_form(headers, io.BytesIO(body), on_field, on_file)
            except Exception:
                return params, True
            params.update(fields)
            return params, False
        if body or "urlencoded" in content_type.lower():
            # VoIP.ms hands a form-urlencoded body to its SOAP server, which answers HTTP 500
            params.update(parse_qsl(body.decode("latin-1"), keep_blank_values=True))
            return params, True
        return params, False

    def _api(self, verb: str, query: str) -> None:
        sandbox = self.server.sandbox
        params, soap = self._params(verb, query)
        sandbox._count(params.get("method", "").strip() or "(none)")
        sandbox._serving_call(+1)
        try:
            self._answer(sandbox, params, soap)
        finally:
            sandbox._serving_call(-1)

    def _answer(self, sandbox: SandboxServer, params: dict[str, str], soap: bool) -> None:
        access = sandbox.access
        if access.require_user_agent and not self.headers.get("User-Agent", "").strip():
            # blocked upstream of the API, before any fault, rate cap or check
            self._send(403, HTML_403, "text/html; charset=iso-8859-1")
            return
        injector = sandbox._injector
        config = injector.config
        if config.latency_s > 0 and sandbox._stopping.wait(config.latency_s):
            self.close_connection = True
            return
        fault = injector.draw()
        if fault is not Fault.NONE:
            sandbox._count_fault(fault)
        if fault is Fault.TIMEOUT:
            sandbox._stopping.wait(config.stall_s)
            self.close_connection = True
            return
        if fault is Fault.CONNECTION_RESET:
            self._reset()
            return
        if fault is Fault.HTTP_500:
            self._send(500, HTML_500, "text/html; charset=iso-8859-1")
            return
        if fault is Fault.HTTP_522:
            self._send(
                522, HTML_522, "text/html; charset=UTF-8", reason="Origin Connection Time-out"
            )
            return
        if soap:
            self._send(500, SOAP_FAULT, "text/xml; charset=utf-8", reason="Internal Server Error")
            return
        if fault is Fault.MAINTENANCE:
            body = php_json({"status": "method_maintenance"})
        elif fault is Fault.API_LIMIT or not injector.admit():
            # a drawn api_limit fault is refused before the cap, so it never uses a slot
            body = php_json({"status": "api_limit_exceeded"})
        else:
            context = CallContext(
                account=sandbox.account,
                username=sandbox.username,
                password=sandbox.password,
                client_ip=self.client_address[0],
                media_base=sandbox.media_base,
                access=access,
                drift=sandbox.drift,
            )
            try:
                body = call(context, params)
            except Exception:
                log.exception("sandbox failed on %s", params.get("method"))
                self._send(500, HTML_500, "text/html; charset=iso-8859-1")
                return
        json_type = params.get("content_type", "").strip().lower() == "json"
        content_type = "application/json" if json_type else "text/html; charset=UTF-8"
        if fault is Fault.TRUNCATED_BODY:
            self.close_connection = True
            self._send(200, body[: len(body) // 2], content_type, length=len(body))
            return
        self._send(200, body, content_type)

    # ------------------------------------------------------------ controls
    def _control(self, verb: str, name: str, query: str) -> None:
        sandbox = self.server.sandbox
        body = self._read_body() if verb == "POST" else b""
        try:
            data: Any = json.loads(body) if body.strip() else {}
        except ValueError:
            self._send_json(400, {"error": "body is not JSON"})
            return
        account = sandbox.account
        try:
            if verb == "GET" and name == "stats":
                self._send_json(200, sandbox.call_counts())
            elif verb == "POST" and name == "reset_stats":
                sandbox.reset_counts()
                self._send_json(200, {"status": "ok"})
            elif name == "faults" and verb == "POST":
                sandbox.set_faults(FaultConfig.from_mapping(data))
                self._send_json(200, sandbox.faults.to_dict())
            elif name == "faults":
                self._send_json(200, sandbox.faults.to_dict())
            elif name == "access" and verb == "POST":
                sandbox.set_access(AccessConfig.from_mapping(data))
                self._send_json(200, sandbox.access.to_dict())
            elif name == "access":
                self._send_json(200, sandbox.access.to_dict())
            elif name == "drift" and verb == "POST":
                sandbox.set_drift(DriftConfig.from_mapping(data))
                self._send_json(200, sandbox.drift.to_dict())
            elif name == "drift":
                self._send_json(200, sandbox.drift.to_dict())
            elif verb == "GET" and name == "fault_counts":
                self._send_json(200, sandbox.fault_counts())
            elif verb == "GET" and name in ("truth", "truth_media"):
                frame = account.truth() if name == "truth" else account.truth_media()
                out = io.BytesIO()
                frame.write_parquet(out)
                self._send(200, out.getvalue(), "application/vnd.apache.parquet")
            elif verb == "GET" and name == "info":
                self._send_json(200, sandbox.info())
            elif verb == "POST" and name == "add_messages":
                added = account.add_messages(
                    int(data["n"]),
                    datetime.fromisoformat(data["start"]),
                    datetime.fromisoformat(data["end"]),
                )
                self._send_json(200, {"added": [[k, i] for k, i in added]})
            elif verb == "POST" and name == "carrier_status":
                account.set_carrier_status(str(data["kind"]), int(data["id"]), str(data["status"]))
                self._send_json(200, {"status": "ok"})
            else:
                self._send_json(404, {"error": f"no control {verb} /_sandbox/{name}"})
        except KeyError as exc:
            self._send_json(404, {"error": f"not found: {exc}"})
        except (TypeError, ValueError) as exc:
            self._send_json(400, {"error": str(exc)})


class SandboxServer:
    """A real HTTP server on loopback that answers like the VoIP.ms REST/JSON API.

    The API is at `url`; media at `http://HOST:PORT/media.php?map=...` and
    `/media/<token>/media.<ext>`; controls under `/_sandbox/`. Bound when constructed
    (so `url` is known at once); `start()` serves from a background thread.
    """

    def __init__(
        self,
        account: SandboxAccount,
        username: str = DEFAULT_USERNAME,
        password: str = DEFAULT_PASSWORD,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: FaultConfig | None = None,
        access: AccessConfig | None = None,
        drift: DriftConfig | None = None,
    ) -> None:
        self.account = account
        self.username = username
        self.password = password
        self._access = access or AccessConfig()
        self._drift = drift or DriftConfig()
        self._injector = FaultInjector(faults or FaultConfig())
        self._counts: Counter[str] = Counter()
        self._fault_counts: Counter[str] = Counter()
        self._in_service = 0
        self._peak_in_service = 0
        self._counts_lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._lifecycle = threading.Lock()
        self._serving = False
        self._closed = False
        self._httpd = _HttpServer((host, port), self)
        self.host = host
        self.port = int(self._httpd.server_address[1])

    # ------------------------------------------------------------ addresses
    @property
    def media_host(self) -> str:
        """`HOST:PORT`, what VOIPMS_MEDIA_HOSTS must allow."""
        return f"{self.host}:{self.port}"

    @property
    def media_base(self) -> str:
        """`http://HOST:PORT`, the prefix of every media URL."""
        return f"http://{self.media_host}"

    @property
    def url(self) -> str:
        """The API endpoint, `http://HOST:PORT/api/v1/rest.php`."""
        return f"{self.media_base}{API_PATH}"

    def info(self) -> dict[str, object]:
        """Where things are and what the account is (for /_sandbox/info)."""
        spec = self.account.spec
        return {
            "url": self.url,
            "media_host": self.media_host,
            "username": self.username,
            "dids": self.account.dids,
            "e164_dids": self.account.e164_dids,
            "messages": self.account.message_count(),
            "spec": {
                "seed": spec.seed,
                "messages": spec.messages,
                "start": spec.start.isoformat(),
                "end": spec.end.isoformat(),
                "dids": spec.dids,
                "mms_share": spec.mms_share,
                "expired_share": spec.expired_share,
            },
        }

    # ------------------------------------------------------------ faults and counts
    @property
    def faults(self) -> FaultConfig:
        """The fault configuration in force."""
        return self._injector.config

    def set_faults(self, faults: FaultConfig) -> None:
        """Replace the fault configuration; its RNG and rate window start afresh."""
        self._injector = FaultInjector(faults)

    @property
    def access(self) -> AccessConfig:
        """The account's access configuration in force (API switch, IP whitelist, UA rule)."""
        return self._access

    def set_access(self, access: AccessConfig) -> None:
        """Replace the access configuration; it applies from the next API call on."""
        self._access = access

    @property
    def drift(self) -> DriftConfig:
        """How getSMS/getMMS answers now differ from the reference (default: not at all)."""
        return self._drift

    def set_drift(self, drift: DriftConfig) -> None:
        """Replace the drift configuration; it applies from the next API call on."""
        self._drift = drift

    def call_counts(self) -> dict[str, int]:
        """API calls received by method name (`(none)` without one), media fetches as `media`."""
        with self._counts_lock:
            return dict(self._counts)

    def fault_counts(self) -> dict[str, int]:
        """Faults drawn so far by kind (FaultConfig field names; kinds never drawn are absent)."""
        with self._counts_lock:
            return dict(self._fault_counts)

    def in_service(self) -> int:
        """API calls being served now (arrived, not yet answered)."""
        with self._counts_lock:
            return self._in_service

    def peak_in_service(self) -> int:
        """The most API calls served at the same time so far (each from its request's arrival
        to its answer, latency included): how concurrent a client's calls really were."""
        with self._counts_lock:
            return self._peak_in_service

    def reset_counts(self) -> None:
        """Forget the call counts, the fault counts and the peak of calls in service."""
        with self._counts_lock:
            self._counts.clear()
            self._fault_counts.clear()
            self._peak_in_service = self._in_service

    def _count(self, key: str) -> None:
        with self._counts_lock:
            self._counts[key] += 1

    def _serving_call(self, change: int) -> None:
        with self._counts_lock:
            self._in_service += change
            self._peak_in_service = max(self._peak_in_service, self._in_service)

    def _count_fault(self, fault: Fault) -> None:
        with self._counts_lock:
            self._fault_counts[fault.value] += 1

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._counts_lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    # ------------------------------------------------------------ lifecycle
    def start(self) -> SandboxServer:
        """Serve from a background thread; returns self."""
        with self._lifecycle:
            if self._closed:
                raise RuntimeError("this sandbox server was stopped; make a new one")
            if self._thread is None and not self._serving:
                self._serving = True
                self._thread = threading.Thread(
                    target=self._httpd.serve_forever,
                    kwargs={"poll_interval": 0.1},
                    name="voipms-sandbox",
                    daemon=True,
                )
                self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (Ctrl-C) or `stop()` from elsewhere."""
        with self._lifecycle:
            if self._closed or self._serving:
                raise RuntimeError("this sandbox server is already serving or was stopped")
            self._serving = True
        try:
            self._httpd.serve_forever(poll_interval=0.2)
        except KeyboardInterrupt:
            pass
        finally:
            self._close()

    def stop(self) -> None:
        """Stop serving, end stalled calls and idle keep-alive connections, free the port."""
        self._stopping.set()
        with self._lifecycle:
            serving, thread = self._serving, self._thread
            self._serving, self._thread = False, None
        if serving:
            self._httpd.shutdown()  # returns once the serve_forever loop has ended
        if thread is not None:
            thread.join(timeout=10)
        self._close()

    def _close(self) -> None:
        self._stopping.set()
        with self._lifecycle:
            if self._closed:
                return
            self._closed = True
        with self._counts_lock:
            open_connections = list(self._connections)
        for conn in open_connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._httpd.server_close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
