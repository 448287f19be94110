"""How the client reads an answer's bytes: fast when strict, repaired when damaged, never lossy."""

from __future__ import annotations

import json

from extract.raw_rows import INVALID_TEXT_FIELD
from extract.voipms.client import _json_answer


def test_a_plain_answer_reads_as_json() -> None:
    body = {"status": "success", "sms": [{"id": "1", "message": "héllo 👋", "date": "2024-01-01"}]}
    assert _json_answer(json.dumps(body).encode()) == body
    assert _json_answer(json.dumps(body, ensure_ascii=False).encode()) == body


def test_an_integer_beyond_64_bits_stays_an_exact_integer() -> None:
    big = 123456789012345678901234567890
    assert _json_answer(b'{"status": "success", "id": %d}' % big) == {
        "status": "success",
        "id": big,
    }


def test_a_byte_order_mark_and_a_control_character_are_read() -> None:
    assert _json_answer(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}
    assert _json_answer(b'{"a": "x\x01y"}') == {"a": "x\x01y"}


def test_a_bad_byte_spoils_only_its_row_and_says_so() -> None:
    answer = _json_answer(
        b'{"status": "success", "sms": [{"id": "1", "message": "a\xffb"}, {"id": "2"}]}'
    )
    assert answer == {
        "status": "success",
        "sms": [{"id": "1", "message": "a\ufffdb", INVALID_TEXT_FIELD: "message"}, {"id": "2"}],
    }


def test_what_is_not_json_is_none() -> None:
    assert _json_answer(b"<html>522</html>") is None
    assert _json_answer(b'{"status": "succ') is None
