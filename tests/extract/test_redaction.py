"""The redaction filter blanks a registered password from messages, args and tracebacks."""

from __future__ import annotations

import logging
import sys
from urllib.parse import quote_plus

import pytest
from pydantic import SecretStr

from extract.voipms.errors import OWN_TEXTS
from extract.voipms.redaction import (
    GUARDED_LOGGERS,
    MASK,
    SecretRedactingFilter,
    protect_secret,
    redact,
    release_secret,
    secret_protected,
)

SECRET = "p@ss word+&=/ü"


def _record(msg: str, *args: object, exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise RuntimeError(f"boom {SECRET}")
        except RuntimeError:
            exc_info = sys.exc_info()
    return logging.LogRecord("httpx", logging.INFO, __file__, 1, msg, args, exc_info)


def test_message_args_and_traceback_are_blanked() -> None:
    fil = SecretRedactingFilter()
    fil.add(SECRET)
    record = _record("sent %s to %s", SECRET, "host", exc=True)
    assert fil.filter(record)
    assert SECRET not in record.getMessage()
    assert MASK in record.getMessage()
    assert record.exc_text is not None
    assert SECRET not in record.exc_text
    assert "RuntimeError" in record.exc_text


@pytest.mark.parametrize(
    "form", ["p%40ss+word%2B%26%3D%2F%C3%BC", "p%40ss%20word%2B%26%3D%2F%C3%BC"]
)
def test_url_encoded_forms_are_blanked(form: str) -> None:
    fil = SecretRedactingFilter()
    fil.add(SECRET)
    record = _record(f"POST https://voip.ms/?api_password={form}")
    fil.filter(record)
    assert form not in record.getMessage()


def test_records_without_secrets_are_untouched() -> None:
    fil = SecretRedactingFilter()
    fil.add(SECRET)
    record = _record("nothing %d here", 5)
    fil.filter(record)
    assert record.msg == "nothing %d here"
    assert record.args == (5,)


def test_protection_is_counted_and_attached_to_guarded_loggers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = SecretStr("s3cr3t-for-counting")
    caplog.set_level(logging.DEBUG)
    with secret_protected(secret):
        protect_secret(secret)
        release_secret(secret)
        for name in GUARDED_LOGGERS:
            logging.getLogger(name).warning("leak %s", secret.get_secret_value())
    logging.getLogger("httpx").warning("after %s", secret.get_secret_value())
    texts = [r.getMessage() for r in caplog.records]
    assert "smsarchive" in GUARDED_LOGGERS  # the flows' own logger: it names API errors
    assert all("s3cr3t-for-counting" not in t for t in texts[:-1])
    assert len(texts) == len(GUARDED_LOGGERS) + 1
    assert "s3cr3t-for-counting" in texts[-1]  # released: no longer blanked


def test_redact_keeps_our_own_texts_whole_but_never_a_secret_that_runs_into_them() -> None:
    hint = "the API user name or API password is wrong"
    assert redact(f"invalid_credentials: {hint}", ["API"], keep=[hint]) == (
        f"invalid_credentials: {hint}"
    )
    # the same word outside our text is blanked
    assert redact(f"API: {hint}", ["API"], keep=[hint]) == f"{MASK}: {hint}"
    # a secret that begins before our text and ends inside it is blanked whole
    assert redact(f"pw=X: {hint}", ["X: the API"], keep=[hint]) == (
        f"pw={MASK} user name or API password is wrong"
    )
    # overlapping and repeated occurrences, and the URL-encoded form
    assert redact("aaaa b", ["aa"]) == f"{MASK} b"
    assert redact(f"{SECRET} and {quote_plus(SECRET)}", [SECRET]) == f"{MASK} and {MASK}"


@pytest.mark.parametrize(
    "form",
    [
        "p%40ss+word%2b%26%3d%2f%c3%bc",  # lower-case escapes
        "p@ss word+&amp;=/ü",  # HTML-escaped
        "p@ss word+&=/\\xfc",  # a str's ASCII repr
        "p@ss word+&=/\\xc3\\xbc",  # its UTF-8 bytes' repr, as h11 quotes data it was sent
        "p@ss word+&=/\\u00fc",  # JSON with ASCII escapes
    ],
)
def test_escaped_forms_are_blanked(form: str) -> None:
    assert redact(f"sent {form} back", [SECRET]) == f"sent {MASK} back"


def test_the_log_filter_keeps_our_own_texts_whole() -> None:
    # a password that is a word of our hint ("wrong") must not be shown by a mask on that word
    fil = SecretRedactingFilter()
    fil.add("wrong")
    hint = next(text for text in OWN_TEXTS if "password is wrong" in text)
    record = _record("invalid_credentials: %s; tried wrong", hint)
    fil.filter(record)
    assert record.getMessage() == f"invalid_credentials: {hint}; tried {MASK}"
