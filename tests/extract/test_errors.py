"""API statuses and HTTP failures map to typed errors; permanent ones say what to fix."""

from __future__ import annotations

import pickle

import pytest

from extract.voipms.errors import (
    AccessError,
    CallTimeoutError,
    MaintenanceError,
    PermanentError,
    RateLimitedError,
    RequestRejectedError,
    ServerError,
    TransientError,
    UnexpectedAnswerError,
    VoipMsError,
    error_for_http_status,
    error_for_status,
)


@pytest.mark.parametrize(
    ("code", "kind", "words"),
    [
        ("invalid_credentials", AccessError, "SOAP & REST/JSON API"),
        ("ip_not_enabled", AccessError, "Main Menu → SOAP & REST/JSON API"),
        ("api_not_enabled", AccessError, "Enable/Disable API"),
        ("missing_credentials", AccessError, "set both"),
        ("missing_method", RequestRejectedError, "www.voip.ms"),
        ("invalid_method", RequestRejectedError, "method"),
        ("invalid_daterange", RequestRejectedError, "92-day"),
        ("invalid_date", RequestRejectedError, "YYYY-MM-DD"),
        ("invalid_did", RequestRejectedError, "DID"),
        ("invalid_something_new", RequestRejectedError, "parameter"),
        ("brand_new_status", RequestRejectedError, "does not handle"),
    ],
)
def test_permanent_statuses_say_what_to_fix(code: str, kind: type[VoipMsError], words: str) -> None:
    error = error_for_status(code, "getSMS")
    assert type(error) is kind
    assert isinstance(error, PermanentError)
    assert error.code == code
    assert error.method == "getSMS"
    assert code in str(error)
    assert "getSMS" in str(error)
    assert words in str(error)


@pytest.mark.parametrize(
    ("code", "kind"),
    [("api_limit_exceeded", RateLimitedError), ("method_maintenance", MaintenanceError)],
)
def test_throttling_and_maintenance_are_transient(code: str, kind: type[VoipMsError]) -> None:
    error = error_for_status(code, "getMMS")
    assert type(error) is kind
    assert isinstance(error, TransientError)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (500, ServerError),
        (502, ServerError),
        (522, ServerError),
        (429, RateLimitedError),
        (408, CallTimeoutError),
        (301, UnexpectedAnswerError),
        (403, UnexpectedAnswerError),
        (404, UnexpectedAnswerError),
    ],
)
def test_http_statuses(status: int, kind: type[VoipMsError]) -> None:
    error = error_for_http_status(status, "getSMS", html=True)
    assert type(error) is kind
    assert error.code == f"http_{status}"


def test_text_repr_attempts_and_pickling() -> None:
    error = ServerError("http_522", "getSMS", "the server answered HTTP 522")
    assert repr(error) == "ServerError(code='http_522', method='getSMS')"
    assert str(error) == "VoIP.ms getSMS: http_522: the server answered HTTP 522"
    error.attempts = 4
    assert str(error).endswith("(gave up after 4 attempts)")
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert type(copy) is ServerError
    assert (copy.code, copy.method, copy.detail) == ("http_522", "getSMS", error.detail)
