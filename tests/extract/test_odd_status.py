"""An answer whose status is missing or not text is an unexpected answer, not a crash."""

from __future__ import annotations

import json

import pytest
from pydantic import SecretStr

from extract.voipms.client import VoipMsClient
from extract.voipms.errors import PermanentError, UnexpectedAnswerError
from tests.extract.loopback_api import LoopbackApi, QuietHandler


class FixedAnswerApi(LoopbackApi):
    """A loopback server in the API's place that answers every call with one JSON body."""

    def __init__(self, answer: object) -> None:
        body = json.dumps(answer).encode()

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self.send_body(body)

        self.serve(Handler)


@pytest.mark.parametrize(
    "answer",
    [
        {"status": ["success"]},
        {"status": {"code": "no_sms"}},
        {"status": 1},
        {"status": ""},
        {"dids": []},
    ],
)
def test_a_status_that_is_not_text_is_an_unexpected_answer(answer: object) -> None:
    api = FixedAnswerApi(answer)
    client = VoipMsClient(api.url, "me@example.com", SecretStr("pw"), max_attempts=1)
    try:
        with pytest.raises(UnexpectedAnswerError, match="the answer has no status") as caught:
            client.get_dids_info()
    finally:
        client.close()
        api.close()
    assert caught.value.code == "unexpected_answer"
    assert isinstance(caught.value, PermanentError)  # a window noted as failed, the run goes on
