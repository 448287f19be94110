"""A loopback HTTP server in the API's place, serving with a handler class a test writes."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing, with one way to send a whole answer."""

    def send_body(
        self,
        body: bytes,
        *,
        status: int = 200,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer with `body`, its status, type, length and any other `headers`."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def read_request(self) -> None:
        """Read the request's body (unread, it would be taken for the next request)."""
        self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def start_answer(self, headers: dict[str, str]) -> None:
        """Read the request, then send 200, a JSON type and `headers`: the body is the caller's."""
        self.read_request()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


class LoopbackApi:
    """Serves `handler` on 127.0.0.1 in a thread; `url` is its API endpoint."""

    def serve(self, handler: type[BaseHTTPRequestHandler]) -> None:
        """Start serving (call once, from the subclass's __init__)."""
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/api/v1/rest.php"

    def close(self) -> None:
        """Stop serving and wait for the server's thread."""
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()
