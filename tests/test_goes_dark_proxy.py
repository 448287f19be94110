"""The outage tests' proxy: once dark, no connection reaches the server behind it."""

from __future__ import annotations

import socket
import time

import pytest

from tests.goes_dark_proxy import GoesDarkProxy


def test_a_proxy_gone_dark_refuses_the_next_connection_too() -> None:
    target = socket.create_server(("127.0.0.1", 0))
    proxy = GoesDarkProxy(f"http://127.0.0.1:{target.getsockname()[1]}/api")
    port = int(proxy.url.split(":")[2].split("/")[0])
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass  # it answers while light
        time.sleep(0.3)  # its accept thread is blocked in accept() again, as in a run
        proxy.go_dark()
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
    finally:
        proxy.close()
        target.close()
