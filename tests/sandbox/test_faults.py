"""Faults on demand: each kind observable, seeded, the rate cap, latency, call and fault counts."""

from __future__ import annotations

import contextlib
import threading
import time

import httpx
import pytest

from extract.voipms.sandbox.faults import FAULT_KINDS, Fault, FaultConfig, FaultInjector
from extract.voipms.sandbox.server import SandboxServer
from tests.sandbox.conftest import api, http, raw_call


def test_http_500(faulty: SandboxServer) -> None:
    faulty.set_faults(FaultConfig(http_500=1.0))
    response = raw_call(faulty, "getIP")
    assert response.status_code == 500
    assert "Internal Server Error" in response.text


def test_http_522(faulty: SandboxServer) -> None:
    faulty.set_faults(FaultConfig(http_522=1.0))
    response = raw_call(faulty, "getIP")
    assert response.status_code == 522
    assert "Error code 522" in response.text


def test_connection_reset(faulty: SandboxServer) -> None:
    faulty.set_faults(FaultConfig(connection_reset=1.0))
    with pytest.raises(httpx.ReadError, match="reset"):
        raw_call(faulty, "getIP")


def test_truncated_body(faulty: SandboxServer) -> None:
    faulty.set_faults(FaultConfig(truncated_body=1.0))
    with pytest.raises(httpx.RemoteProtocolError, match=r"complete message body"):
        raw_call(faulty, "getSMS", **{"from": "2024-03-01", "to": "2024-03-31"})


def test_timeout_stalls_then_drops(faulty: SandboxServer) -> None:
    faulty.set_faults(FaultConfig(timeout=1.0, stall_s=1.5))
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(faulty.url, params={"method": "getIP"}, timeout=0.2)
    assert time.monotonic() - started < 1.2  # long before the stall's end, on a busy machine too
    with pytest.raises(httpx.RemoteProtocolError):  # a patient client gets no answer either
        httpx.get(faulty.url, params={"method": "getIP"}, timeout=5)
    assert time.monotonic() - started >= 1.5


def test_maintenance(faulty: SandboxServer) -> None:
    faulty.set_faults(FaultConfig(maintenance=1.0))
    response = raw_call(faulty, "getSMS")
    assert response.status_code == 200
    assert response.json() == {"status": "method_maintenance"}


def test_rate_cap(faulty: SandboxServer) -> None:
    faulty.set_faults(FaultConfig(rate_per_minute=3))
    statuses = [raw_call(faulty, "getIP") for _ in range(5)]
    assert [r.status_code for r in statuses] == [200] * 5
    assert [r.json()["status"] for r in statuses] == ["success"] * 3 + ["api_limit_exceeded"] * 2
    assert faulty.call_counts() == {"getIP": 5}
    assert (
        httpx.get(faulty.media_base + _a_media_path(faulty)).status_code == 200
    )  # media not capped


def _a_media_path(server: SandboxServer) -> str:
    media = server.account.truth_media()
    return str(media.filter(~media["expired"])["url_path"][0])


def test_latency_on_api_calls_only(faulty: SandboxServer) -> None:
    faulty.set_faults(FaultConfig(latency_s=3.0))
    answers: list[str] = []
    started = time.monotonic()
    call = threading.Thread(target=lambda: answers.append(api(faulty, "getIP")["status"]))
    call.start()
    while faulty.in_service() == 0:  # the API call has reached the sandbox, and waits
        time.sleep(0.01)
    # a media file asked meanwhile is answered while the API call still waits
    assert httpx.get(faulty.media_base + _a_media_path(faulty)).status_code == 200
    assert faulty.in_service() == 1
    call.join()
    assert answers == ["success"]
    assert time.monotonic() - started >= 3.0
    # the sandbox counts a call served once its answer is sent, which the client may read first
    deadline = time.monotonic() + 10
    while faulty.in_service() != 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert faulty.in_service() == 0


def test_faults_are_seeded_and_mixed(faulty: SandboxServer) -> None:
    def run() -> list[str]:
        faulty.set_faults(FaultConfig(seed=11, http_500=0.3, maintenance=0.3))
        out = []
        for _ in range(30):
            response = raw_call(faulty, "getIP")
            out.append("500" if response.status_code == 500 else response.json()["status"])
        return out

    first, second = run(), run()
    assert first == second
    assert set(first) == {"500", "method_maintenance", "success"}


def test_fault_config_validation() -> None:
    with pytest.raises(ValueError, match="add up"):
        FaultConfig(http_500=0.6, http_522=0.6)
    with pytest.raises(ValueError, match="within"):
        FaultConfig(timeout=1.5)
    with pytest.raises(ValueError, match="unknown"):
        FaultConfig.from_mapping({"http_404": 0.1})
    assert FaultConfig.from_mapping({"http_500": "0.5", "rate_per_minute": 10}) == FaultConfig(
        http_500=0.5, rate_per_minute=10
    )


def test_call_counts(faulty: SandboxServer) -> None:
    raw_call(faulty, "getIP")
    raw_call(faulty, "getSMS", post=True)
    raw_call(faulty, "getSMS", auth=False)
    raw_call(faulty, "")
    faulty.set_faults(FaultConfig(http_500=1.0))
    raw_call(faulty, "getMMS")
    assert faulty.call_counts() == {"getIP": 1, "getSMS": 2, "(none)": 1, "getMMS": 1}
    faulty.reset_counts()
    assert faulty.call_counts() == {}


def test_api_limit_fault(faulty: SandboxServer) -> None:
    faulty.set_faults(FaultConfig(api_limit=1.0, rate_per_minute=1))
    for _ in range(3):
        response = raw_call(faulty, "getSMS")
        assert response.status_code == 200
        assert response.json() == {"status": "api_limit_exceeded"}
    faulty.set_faults(FaultConfig(rate_per_minute=1))
    # the drawn refusals used no slot of the cap: the first call after them gets through
    assert api(faulty, "getIP")["status"] == "success"
    assert api(faulty, "getIP")["status"] == "api_limit_exceeded"


def test_api_limit_fault_is_refused_before_the_method(faulty: SandboxServer) -> None:
    faulty.set_faults(FaultConfig(api_limit=1.0))
    assert api(faulty, "getIP")["status"] == "api_limit_exceeded"
    assert api(faulty, "noSuchMethod")["status"] == "api_limit_exceeded"
    response = raw_call(faulty, "getSMS", auth=False)
    assert response.json() == {"status": "api_limit_exceeded"}
    assert faulty.call_counts() == {"getIP": 1, "noSuchMethod": 1, "getSMS": 1}


def test_a_new_kind_keeps_the_draws_of_the_old_ones() -> None:
    old = FaultConfig(seed=5, http_500=0.1, timeout=0.1, maintenance=0.05)
    new = FaultConfig(seed=5, http_500=0.1, timeout=0.1, maintenance=0.05, api_limit=0.2)
    old_draws, new_draws = FaultInjector(old), FaultInjector(new)
    before = [old_draws.draw() for _ in range(400)]
    after = [new_draws.draw() for _ in range(400)]
    for was, now in zip(before, after, strict=True):
        assert now == was or (was is Fault.NONE and now is Fault.API_LIMIT)
    assert Fault.API_LIMIT in after
    assert FAULT_KINDS[-1] == "api_limit"
    assert set(FAULT_KINDS) == {f.value for f in Fault} - {"none"}


def test_fault_counts_tell_what_was_drawn(faulty: SandboxServer) -> None:
    share = 1.0 / len(FAULT_KINDS)
    faulty.set_faults(
        FaultConfig(seed=2, stall_s=0.0, **{kind: share for kind in FAULT_KINDS})  # type: ignore[arg-type]
    )
    for _ in range(60):
        with contextlib.suppress(httpx.TransportError):
            raw_call(faulty, "getIP")
    counts = faulty.fault_counts()
    assert set(counts) == set(FAULT_KINDS)
    assert sum(counts.values()) == 60 == faulty.call_counts()["getIP"]
    assert http().get(faulty.media_base + "/_sandbox/fault_counts").json() == counts
    faulty.reset_counts()
    assert faulty.fault_counts() == {}
