"""A loopback HTTP server in the API's place, serving with a handler class a test writes."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


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
