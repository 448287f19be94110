"""VoipMsClient against the loopback sandbox: answers, refusals, retries, pacing and bounds."""

from __future__ import annotations

import itertools
import logging
import socket
import threading
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import httpx
import polars as pl
import pytest
from pydantic import SecretStr

from extract.voipms.client import STOPPED
from extract.voipms.errors import (
    AccessError,
    CallTimeoutError,
    ConnectionFailedError,
    InvalidAnswerError,
    MaintenanceError,
    PermanentError,
    RateLimitedError,
    RequestRejectedError,
    ServerError,
    TransientError,
    VoipMsError,
)
from extract.voipms.sandbox.faults import FaultConfig
from extract.voipms.sandbox.server import SandboxServer
from tests.conftest import api_answer_times
from tests.extract.conftest import PASSWORD, SPEC, USERNAME, ClientFactory

MARCH = (date(2024, 3, 1), date(2024, 3, 31))


def _truth_ids(server: SandboxServer, kind: str, first: date, last: date) -> list[int]:
    truth = server.account.truth()
    picked = truth.filter(
        (pl.col("kind") == kind) & pl.col("local_date").is_between(first, last, closed="both")
    )
    return sorted(picked["id"].to_list())


def _ids(rows: list[dict[str, Any]]) -> list[int]:
    return sorted(int(row["id"]) for row in rows)


# -- answers ------------------------------------------------------------------------------


def test_get_ip_and_dids(server: SandboxServer, make_client: ClientFactory) -> None:
    client = make_client()
    assert client.get_ip() == "127.0.0.1"
    dids = client.get_dids_info()
    assert [row["did"] for row in dids] == server.account.dids
    assert all(row["sms_available"] in {"0", "1"} for row in dids)
    assert client.stats().calls == {"getIP": 1, "getDIDsInfo": 1}
    assert server.call_counts() == {"getIP": 1, "getDIDsInfo": 1}


def test_get_sms_returns_the_months_rows_raw(
    server: SandboxServer, make_client: ClientFactory
) -> None:
    rows = make_client().get_sms(*MARCH)
    assert _ids(rows) == _truth_ids(server, "sms", *MARCH)
    assert set(rows[0]) >= {"id", "date", "type", "did", "contact", "message", "carrier_status"}
    assert all(isinstance(row["id"], str) for row in rows)  # raw: as received
    dates = [row["date"] for row in rows]
    assert dates == sorted(dates, reverse=True)  # newest first


def test_get_mms_rows_come_under_the_sms_key(
    server: SandboxServer, make_client: ClientFactory
) -> None:
    rows = make_client().get_mms(*MARCH)
    assert rows
    assert _ids(rows) == _truth_ids(server, "mms", *MARCH)
    assert all(isinstance(row["media"], list) for row in rows)


def test_all_messages_includes_both_kinds(
    server: SandboxServer, make_client: ClientFactory
) -> None:
    rows = make_client().get_sms(*MARCH, all_messages=True)
    expected = _truth_ids(server, "sms", *MARCH) + _truth_ids(server, "mms", *MARCH)
    assert _ids(rows) == sorted(expected)


def test_filters_and_limit_are_sent(server: SandboxServer, make_client: ClientFactory) -> None:
    client = make_client()
    did = server.account.dids[1]  # the sandbox's E.164-mode DID
    rows = client.get_sms(*MARCH, type=1, did=did, limit=5)
    assert len(rows) == 5
    assert all(row["type"] == "1" and row["did"].endswith(did) for row in rows)


def test_get_media_mms_as_list_and_as_object(
    server: SandboxServer, make_client: ClientFactory
) -> None:
    media = server.account.truth_media()
    mms_id = int(media["message_id"][0])
    paths = media.filter(pl.col("message_id") == mms_id).sort("position")["url_path"].to_list()
    client = make_client()
    as_list = client.get_media_mms(mms_id)
    as_object = client.get_media_mms(str(mms_id), as_array=False)
    assert as_list == as_object
    assert [url for url in as_list if url] == [server.media_base + path for path in paths]


def test_no_sms_is_an_empty_list(server: SandboxServer, make_client: ClientFactory) -> None:
    client = make_client()
    assert client.get_sms(date(2023, 1, 1), date(2023, 1, 31)) == []
    assert client.get_mms(date(2023, 1, 1), date(2023, 1, 31)) == []
    assert client.call("getSMS", **{"from": "2023-01-01", "to": "2023-01-02"}) == {
        "status": "no_sms"
    }
    assert client.stats().failures == {}


def test_the_page_limit_is_the_default_limit(
    server: SandboxServer, make_client: ClientFactory
) -> None:
    assert len(make_client(page_limit=3).get_sms(*MARCH)) == 3


def test_a_urlencoded_post_would_fail_where_the_client_succeeds(
    server: SandboxServer, make_client: ClientFactory
) -> None:
    # Why the client forces multipart: VoIP.ms hands urlencoded bodies to SOAP (HTTP 500).
    form = {"api_username": USERNAME, "api_password": PASSWORD, "method": "getDIDsInfo"}
    assert httpx.post(server.url, data=form).status_code == 500
    assert make_client().get_dids_info()


def test_reversed_dates_fail_before_any_call(
    server: SandboxServer, make_client: ClientFactory
) -> None:
    with pytest.raises(ValueError, match="after"):
        make_client().get_sms(date(2024, 3, 2), date(2024, 3, 1))
    assert server.call_counts() == {}


# -- permanent errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "kind", "code", "advice"),
    [
        ("wrong_password", AccessError, "invalid_credentials", "SOAP & REST/JSON API"),
        ("no_username", AccessError, "missing_credentials", "set both"),
        ("unknown_method", RequestRejectedError, "invalid_method", "method"),
        ("no_method", RequestRejectedError, "missing_method", "voip.ms/api/v1/rest.php"),
        ("long_range", RequestRejectedError, "invalid_daterange", "shorter windows"),
        ("bad_date", RequestRejectedError, "invalid_date", "YYYY-MM-DD"),
        ("foreign_did", RequestRejectedError, "invalid_did", "DID"),
        ("unknown_mms", RequestRejectedError, "invalid_sms", "id"),
    ],
)
def test_permanent_errors_fail_at_once_with_advice(
    server: SandboxServer,
    make_client: ClientFactory,
    action: str,
    kind: type[PermanentError],
    code: str,
    advice: str,
) -> None:
    client = make_client(max_attempts=5)
    if action == "wrong_password":
        client = make_client(password=SecretStr("not-the-password"), max_attempts=5)
    elif action == "no_username":
        client = make_client(username="", max_attempts=5)
    calls: dict[str, Callable[[], object]] = {
        "wrong_password": lambda: client.get_sms(*MARCH),
        "no_username": lambda: client.get_sms(*MARCH),
        "unknown_method": lambda: client.call("getEverything"),
        "no_method": lambda: client.call(""),
        "long_range": lambda: client.get_sms(date(2024, 1, 1), date(2024, 6, 30)),
        "bad_date": lambda: client.call("getSMS", **{"from": "2024-02-30", "to": "2024-03-01"}),
        "foreign_did": lambda: client.get_sms(*MARCH, did="2025550123"),
        "unknown_mms": lambda: client.get_media_mms(1),
    }
    with pytest.raises(kind) as caught:
        calls[action]()
    error = caught.value
    assert error.code == code
    assert code in str(error)
    assert advice in str(error)
    assert error.attempts == 1
    assert sum(server.call_counts().values()) == 1  # no retry
    assert client.stats().retries == {}
    assert client.stats().failures == {code: 1}


def test_invalid_credentials_says_where_to_look(
    server: SandboxServer, make_client: ClientFactory
) -> None:
    client = make_client(password=SecretStr("nope"))
    with pytest.raises(AccessError) as caught:
        client.get_dids_info()
    assert str(caught.value) == (
        "VoIP.ms getDIDsInfo: invalid_credentials: the API user name or API password is wrong; "
        "the API password is the one set under Main Menu → SOAP & REST/JSON API (not the portal "
        "login password) and the user name is the account e-mail"
    )
    assert server.call_counts() == {"getDIDsInfo": 1}


# -- transient errors ---------------------------------------------------------------------

TRANSIENT = [
    ("http_500", ServerError, "http_500"),
    ("http_522", ServerError, "http_522"),
    ("connection_reset", ConnectionFailedError, "connection_error"),
    ("truncated_body", InvalidAnswerError, "truncated_body"),
    ("maintenance", MaintenanceError, "method_maintenance"),
    ("timeout", CallTimeoutError, "timeout"),
]


def _faults(fault: str, rate: float) -> FaultConfig:
    return FaultConfig.from_mapping({"seed": 3, "stall_s": 1.0, fault: rate})


@pytest.mark.parametrize(("fault", "kind", "code"), TRANSIENT)
def test_transient_faults_are_retried_until_success(
    server: SandboxServer,
    make_client: ClientFactory,
    fault: str,
    kind: type[TransientError],
    code: str,
) -> None:
    server.set_faults(_faults(fault, 0.5))
    client = make_client(max_attempts=12, timeout=0.3)
    for _ in range(6):
        assert len(client.get_dids_info()) == SPEC.dids
    stats = client.stats()
    assert stats.total_retries > 0
    assert stats.failures == {}
    assert stats.calls == {"getDIDsInfo": 6 + stats.total_retries}
    assert server.call_counts() == stats.calls


@pytest.mark.parametrize(("fault", "kind", "code"), TRANSIENT)
def test_transient_faults_give_a_typed_error_after_max_attempts(
    server: SandboxServer,
    make_client: ClientFactory,
    fault: str,
    kind: type[TransientError],
    code: str,
) -> None:
    server.set_faults(_faults(fault, 1.0))
    client = make_client(max_attempts=3, timeout=0.3)
    with pytest.raises(kind) as caught:
        client.get_sms(*MARCH)
    error = caught.value
    assert error.code == code
    assert error.method == "getSMS"
    assert error.attempts == 3
    assert "gave up after 3 attempts" in str(error)
    assert server.call_counts() == {"getSMS": 3}
    assert client.stats().retries == {"getSMS": 2}
    assert client.stats().failures == {code: 1}


def test_api_limit_exceeded_is_retried_until_the_cap_lifts(
    server: SandboxServer, make_client: ClientFactory
) -> None:
    server.set_faults(FaultConfig(rate_per_minute=2))
    client = make_client(max_attempts=50, backoff_base=0.02, backoff_max=0.05)
    client.get_ip()
    client.get_ip()
    lift = threading.Timer(0.3, server.set_faults, args=(FaultConfig(),))
    lift.start()
    try:
        assert client.get_dids_info()
    finally:
        lift.cancel()
    assert client.stats().retries.get("getDIDsInfo", 0) >= 1


def test_api_limit_exceeded_gives_up_as_rate_limited(
    server: SandboxServer, make_client: ClientFactory
) -> None:
    server.set_faults(FaultConfig(rate_per_minute=1))
    client = make_client(max_attempts=4)
    client.get_ip()
    with pytest.raises(RateLimitedError) as caught:
        client.get_ip()
    assert caught.value.code == "api_limit_exceeded"
    assert server.call_counts() == {"getIP": 5}


def test_connection_refused_is_a_typed_transient_error(make_client: ClientFactory) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_client(url=f"http://127.0.0.1:{port}/api/v1/rest.php", max_attempts=2)
    with pytest.raises(ConnectionFailedError) as caught:
        client.get_ip()
    assert caught.value.attempts == 2


def test_a_body_that_is_not_json_is_retried_then_typed(
    server: SandboxServer, make_client: ClientFactory
) -> None:
    # A media URL answers HTTP 200 with image bytes: a real non-JSON answer.
    path = server.account.truth_media()["url_path"][0]
    client = make_client(url=server.media_base + path, max_attempts=2)
    with pytest.raises(InvalidAnswerError) as caught:
        client.get_ip()
    assert caught.value.code == "invalid_json"
    assert client.stats().calls == {"getIP": 2}


# -- pacing and the concurrency bound -----------------------------------------------------


def _run_threads(count: int, work: Any) -> float:
    threads = [threading.Thread(target=work) for _ in range(count)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic() - started


def test_the_client_paces_its_requests(
    server: SandboxServer, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="extract.voipms.sandbox.server")
    client = make_client(requests_per_minute=600, max_concurrency=4)  # one start per 0.1 s
    elapsed = _run_threads(8, client.get_ip)
    assert elapsed >= 0.7 - 0.02
    assert server.call_counts() == {"getIP": 8}
    assert client.stats().paced_seconds > 0
    answered = api_answer_times(caplog)
    assert len(answered) == 8
    gaps = [later - earlier for earlier, later in itertools.pairwise(answered)]
    # seen by the server, not only by the client: no two calls together (each answer is
    # logged a little after its start, later on a busy machine), eight over seven paces
    assert min(gaps) >= 0.05
    assert answered[-1] - answered[0] >= 0.6


def test_concurrent_calls_never_exceed_the_bound(
    server: SandboxServer, make_client: ClientFactory
) -> None:
    latency = 0.2
    server.set_faults(FaultConfig(latency_s=latency))
    bounded = make_client(max_concurrency=3)
    server.reset_counts()
    elapsed = _run_threads(9, bounded.get_ip)
    # seen by the server (each call counted from its request's arrival to its answer), not
    # only by the client; answer times in its log are no witness: on a busy machine a line
    # is written tens of milliseconds after its answer
    assert bounded.stats().max_in_flight == server.peak_in_service() == 3
    assert server.call_counts() == {"getIP": 9}
    assert elapsed >= 3 * latency - 0.02  # 9 calls, 3 at a time, 0.2 s each

    # The control: without the bound the same calls overlap, so the sandbox is concurrent.
    free = make_client(max_concurrency=9)
    server.reset_counts()
    _run_threads(9, free.get_ip)
    assert free.stats().max_in_flight > 3
    assert server.peak_in_service() > 3


def test_backoff_does_not_hold_a_concurrency_slot(
    server: SandboxServer, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    server.set_faults(FaultConfig(maintenance=1.0))
    client = make_client(max_concurrency=1, max_attempts=2, backoff_base=2.0, backoff_max=2.0)
    failed: list[VoipMsError] = []

    def failing() -> None:
        try:
            client.get_sms(*MARCH)
        except VoipMsError as error:
            failed.append(error)

    caplog.set_level(logging.INFO, logger="extract.voipms.client")
    worker = threading.Thread(target=failing)
    worker.start()
    deadline = time.monotonic() + 10
    while not any("retrying" in r.getMessage() for r in caplog.records):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    # the worker is now in its 2 s backoff: a slot it held would make this call wait for it
    server.set_faults(FaultConfig())
    started = time.monotonic()
    assert client.get_ip() == "127.0.0.1"
    assert time.monotonic() - started < 1.0
    server.set_faults(FaultConfig(maintenance=1.0))
    worker.join()
    assert [e.code for e in failed] == ["method_maintenance"]


def test_a_call_in_flight_when_the_client_closes_stops_retrying(
    server: SandboxServer, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    # a run that ended (and closed its client) while a window's call was still failing
    server.set_faults(FaultConfig(http_500=1.0))
    client = make_client(max_attempts=6, backoff_base=30, backoff_max=30)
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            client.get_dids_info()
        except BaseException as exc:
            outcome.append(exc)

    caplog.set_level(logging.INFO, logger="extract.voipms.client")
    worker = threading.Thread(target=call)
    worker.start()
    deadline = time.monotonic() + 10
    while not any("retrying" in r.getMessage() for r in caplog.records):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    client.close()  # during the first backoff, which it cuts short
    worker.join(timeout=5)
    assert not worker.is_alive()
    assert [str(e) for e in outcome] == [STOPPED]
    assert server.call_counts()["getDIDsInfo"] == 1  # not the six tries a live client makes
    assert sum("retrying" in r.getMessage() for r in caplog.records) == 1


def test_calls_waiting_for_their_turn_when_the_client_stops_are_not_sent(
    server: SandboxServer, make_client: ClientFactory
) -> None:
    # a run stopped (Ctrl-C, an error) while its windows' next calls wait for the pacer
    client = make_client(requests_per_minute=30, max_concurrency=4)  # one start per 2 s
    outcome: list[BaseException | None] = []

    def call() -> None:
        try:
            client.get_dids_info()
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    workers = [threading.Thread(target=call) for _ in range(3)]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + 10
    while server.call_counts().get("getDIDsInfo", 0) < 1:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    client.stop()  # the other two wait for their turn, 2 s and 4 s after the first
    stopped = time.monotonic()
    for worker in workers:
        worker.join(timeout=10)
    assert server.call_counts()["getDIDsInfo"] == 1
    assert sorted(str(e) for e in outcome if e is not None) == [STOPPED] * 2
    assert time.monotonic() - stopped < 1  # woken, not left to sleep out their turn
