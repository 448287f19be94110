"""A loopback TCP proxy that goes dark as a killed Prefect server does, for the outage tests."""

from __future__ import annotations

import contextlib
import socket
import threading
from urllib.parse import urlsplit


class GoesDarkProxy:
    """A loopback TCP proxy in front of the Prefect test server that goes dark, as a killed
    server does, when the flow run's final state is asked to be set (or, `at_health_check`,
    when smsarchive asks whether the server answers as the flow's body ends): that request
    and every open connection are cut, and new ones refused."""

    FINAL_STATE = 2  # a flow run's set_state calls: Running, then its end

    def __init__(self, target: str, *, at_health_check: bool = False) -> None:
        self._at_health_check = at_health_check
        parts = urlsplit(target)
        self._target = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._listener = socket.create_server(("127.0.0.1", 0))
        port = self._listener.getsockname()[1]
        self.url = f"{parts.scheme}://127.0.0.1:{port}{parts.path}"
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._states = 0
        self.dark = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.dark.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:  # shut: gone dark
                return
            with self._lock:
                if self.dark.is_set():  # accepted as it went dark: refused all the same
                    client.close()
                    return
                self._open.append(client)
                upstream = socket.create_connection(self._target)
                self._open.append(upstream)
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, asks: bool) -> None:
        try:
            while chunk := source.recv(65536):
                if asks and self._ends_the_run(chunk):
                    self.go_dark()
                    return
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def _ends_the_run(self, chunk: bytes) -> bool:
        line = chunk.split(b"\r\n", 1)[0]
        if self._at_health_check:  # smsarchive's own check, as the flow's body ends
            return line.startswith(b"GET ") and b"/health " in line
        if not (line.startswith(b"POST ") and b"/flow_runs/" in line and b"/set_state" in line):
            return False
        with self._lock:
            self._states += 1
            return self._states >= self.FINAL_STATE

    def go_dark(self) -> None:
        """Refuse new connections and cut every open one."""
        self.dark.set()
        # shut before closed: a close alone leaves the socket listening while the accept
        # thread is blocked in it, and the next connection would still be let through
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        with self._lock:
            for end in self._open:
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def come_back(self) -> None:
        """Answer again, on the same address, as a restarted server does; for good."""
        self._listener = socket.create_server(("127.0.0.1", int(urlsplit(self.url).port or 0)))
        with self._lock:
            self._states = -(10**9)
        self._at_health_check = False
        self.dark.clear()
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        """Gone dark, every socket closed."""
        self.go_dark()
        with self._lock:
            for end in self._open:
                end.close()
