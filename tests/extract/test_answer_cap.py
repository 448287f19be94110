"""An answer that never ends is cut off at a cap set by the rows asked, not read into memory."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from extract.voipms.client import (
    ANSWER_BYTES,
    ANSWER_MAX_BYTES,
    ROW_BYTES,
    VoipMsClient,
    answer_cap,
)
from extract.voipms.errors import UnexpectedAnswerError
from tests.extract.loopback_api import LoopbackApi, QuietHandler


class EndlessApi(LoopbackApi):
    """A loopback server in the API's place whose answers are a JSON array that never ends."""

    def __init__(self) -> None:
        self.sent = 0
        self.stopped = threading.Event()
        owner = self

        class Handler(QuietHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.start_answer({"Transfer-Encoding": "chunked"})

                def framed(data: bytes) -> bytes:
                    return f"{len(data):x}\r\n".encode() + data + b"\r\n"

                chunk = b'{"did":"5145550100","description":"x"},' * 1600  # ~64 KB
                try:
                    self.wfile.write(framed(b'{"status":"success","dids":['))
                    while True:
                        self.wfile.write(framed(chunk))
                        owner.sent += len(chunk)
                except OSError:  # the client hung up
                    owner.stopped.set()

        self.serve(Handler)


@pytest.fixture
def endless() -> Iterator[EndlessApi]:
    api = EndlessApi()
    yield api
    api.close()


def test_an_endless_answer_is_refused_at_its_cap(endless: EndlessApi) -> None:
    client = VoipMsClient(endless.url, "me@example.com", SecretStr("pw"), max_attempts=1)
    try:
        with pytest.raises(UnexpectedAnswerError) as caught:
            client.get_dids_info()
    finally:
        client.close()
    assert caught.value.code == "answer_too_large"
    assert endless.stopped.wait(10), "the server kept sending after the client hung up"
    assert ANSWER_BYTES < endless.sent < 2 * ANSWER_BYTES


def test_the_cap_grows_with_the_rows_asked() -> None:
    assert answer_cap({"method": "getDIDsInfo"}) == ANSWER_BYTES
    assert answer_cap({"limit": "10000"}) == ANSWER_BYTES + 10_000 * ROW_BYTES
    assert answer_cap({"limit": "many"}) == ANSWER_BYTES
    # a hostile server's full answers raise the limit to a million rows: not 15 GiB
    assert answer_cap({"limit": "1000000"}) == ANSWER_MAX_BYTES == 1024**3
