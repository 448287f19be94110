"""Provider drift: extra row fields, numbers for strings, new error codes on chosen days."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import polars as pl
import pytest
from pydantic import SecretStr

from extract.raw_rows import NOT_AN_OBJECT_FIELD
from extract.voipms.client import VoipMsClient
from extract.voipms.errors import RequestRejectedError
from extract.voipms.sandbox.account import SandboxAccount
from extract.voipms.sandbox.drift import DriftConfig
from extract.voipms.sandbox.faults import FaultConfig
from extract.voipms.sandbox.server import SandboxServer
from tests.conftest import SANDBOX_PASSWORD, SANDBOX_USERNAME
from tests.sandbox.conftest import SMALL_SPEC, api, http, raw_call, window

MARCH = ("2024-03-01", "2024-03-31")
ODD_STATUS = "sms_history_unavailable"


@pytest.fixture(scope="module")
def drift_server() -> Iterator[SandboxServer]:
    """A module's own small sandbox for drift tests."""
    server = SandboxServer(
        SandboxAccount.generate(SMALL_SPEC), username=SANDBOX_USERNAME, password=SANDBOX_PASSWORD
    ).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def drifting(drift_server: SandboxServer) -> Iterator[SandboxServer]:
    """The drift server with the reference's answers before and after the test."""
    drift_server.set_drift(DriftConfig())
    drift_server.set_faults(FaultConfig())
    drift_server.reset_counts()
    try:
        yield drift_server
    finally:
        drift_server.set_drift(DriftConfig())
        drift_server.set_faults(FaultConfig())


def _an_id(server: SandboxServer, kind: str, inside: bool, days: tuple[date, date]) -> int:
    truth = server.account.truth().filter(pl.col("kind") == kind)
    between = pl.col("local_date").is_between(*days, closed="both")
    picked = truth.filter(between if inside else ~between)
    return int(picked["id"][0])


def test_the_default_is_the_reference(drifting: SandboxServer) -> None:
    reference = window(drifting, "getSMS", *MARCH)
    assert drifting.drift == DriftConfig()
    assert not drifting.drift.active
    drifting.set_drift(DriftConfig(extra_fields=(("x", "y"),)))
    drifting.set_drift(DriftConfig())
    assert window(drifting, "getSMS", *MARCH) == reference
    assert http().get(drifting.media_base + "/_sandbox/drift").json() == {
        "extra_fields": {},
        "numeric_fields": [],
        "error_code": None,
        "error_days": None,
        "stray_rows": [],
    }


@pytest.mark.parametrize("method", ["getSMS", "getMMS"])
def test_extra_fields_are_added_to_every_row(drifting: SandboxServer, method: str) -> None:
    reference = window(drifting, method, *MARCH)
    assert reference
    drifting.set_drift(DriftConfig(extra_fields=(("reseller_id", "0"), ("flagged", ""))))
    drifted = window(drifting, method, *MARCH)
    assert drifted == [{**row, "reseller_id": "0", "flagged": ""} for row in reference]
    assert list(drifted[0])[-2:] == ["reseller_id", "flagged"]  # after the reference's fields
    one = reference[0]["id"]
    own = "sms" if method == "getSMS" else "mms"
    assert api(drifting, method, **{own: one})["sms"][0]["reseller_id"] == "0"


def test_extra_fields_leave_other_methods_alone(drifting: SandboxServer) -> None:
    dids, ip = api(drifting, "getDIDsInfo"), api(drifting, "getIP")
    mms_id = _an_id(drifting, "mms", True, (date(2024, 1, 1), date(2024, 12, 31)))
    media = api(drifting, "getMediaMMS", id=mms_id)
    drifting.set_drift(
        DriftConfig(
            extra_fields=(("extra", "1"),),
            numeric_fields=("id", "did"),
            error_code=ODD_STATUS,
        )
    )
    assert api(drifting, "getDIDsInfo") == dids
    assert api(drifting, "getIP") == ip
    assert api(drifting, "getMediaMMS", id=mms_id) == media


def test_numeric_fields_become_json_numbers_when_all_digits(drifting: SandboxServer) -> None:
    reference = window(drifting, "getSMS", *MARCH)
    drifting.set_drift(DriftConfig(numeric_fields=("id", "type", "did", "contact", "message")))
    response = raw_call(drifting, "getSMS", **{"from": MARCH[0], "to": MARCH[1], "limit": 100000})
    assert '"id":"' not in response.text
    drifted: list[dict[str, Any]] = response.json()["sms"]
    assert len(drifted) == len(reference)
    for ref, got in zip(reference, drifted, strict=True):
        assert set(got) == set(ref)
        for name in ("id", "type", "did", "contact", "message"):
            value = ref[name]
            if value.isascii() and value.isdigit():
                assert got[name] == int(value), name
            else:
                assert got[name] == value, name  # "+1…", short texts with letters, ""
        assert got["date"] == ref["date"]
    assert any(isinstance(row["did"], str) for row in drifted)  # the E.164 DID stays a string
    assert any(isinstance(row["did"], int) for row in drifted)


def test_an_error_code_on_chosen_days(drifting: SandboxServer) -> None:
    days = (date(2024, 3, 10), date(2024, 3, 12))
    drifting.set_drift(DriftConfig(error_code=ODD_STATUS, error_days=days))
    refused = {"status": ODD_STATUS}
    for method in ("getSMS", "getMMS"):
        assert api(drifting, method, **{"from": "2024-03-01", "to": "2024-03-10"}) == refused
        assert api(drifting, method, **{"from": "2024-03-12", "to": "2024-04-30"}) == refused
        assert api(drifting, method, **{"from": "2024-03-11", "to": "2024-03-11"}) == refused
        assert api(drifting, method, **{"from": "2024-03-01", "to": "2024-03-09"})["status"] in {
            "success",
            "no_sms",
        }
        assert api(drifting, method, **{"from": "2024-03-13", "to": "2024-03-31"})["status"] in {
            "success",
            "no_sms",
        }
    # a range the method cannot read keeps the method's own answer
    assert api(drifting, "getSMS", **{"from": "2024-03-11", "to": "nope"}) == {
        "status": "invalid_date"
    }
    assert api(drifting, "getSMS", **{"from": "2024-03-12", "to": "2024-03-10"}) == {
        "status": "invalid_daterange"
    }
    # a single-id lookup is refused when the message it finds is on one of the days
    inside = _an_id(drifting, "sms", True, days)
    outside = _an_id(drifting, "sms", False, days)
    assert api(drifting, "getSMS", sms=inside) == refused
    answer = api(drifting, "getSMS", sms=outside, **{"from": "2024-03-11", "to": "2024-03-11"})
    assert answer["status"] == "success"
    assert [row["id"] for row in answer["sms"]] == [str(outside)]
    assert drifting.call_counts() == {"getSMS": 9, "getMMS": 5}


def test_an_error_code_without_days_refuses_every_message_call(drifting: SandboxServer) -> None:
    drifting.set_drift(DriftConfig(error_code=ODD_STATUS))
    refused = {"status": ODD_STATUS}
    assert api(drifting, "getSMS") == refused
    assert api(drifting, "getMMS", **{"from": "2024-03-01", "to": "2024-03-31"}) == refused
    year = (date(2024, 1, 1), date(2024, 12, 31))
    assert api(drifting, "getSMS", sms=_an_id(drifting, "sms", True, year)) == refused
    assert api(drifting, "getMMS", mms="999999999") == refused
    assert api(drifting, "getIP")["status"] == "success"


def test_access_checks_and_faults_come_first(drifting: SandboxServer) -> None:
    drifting.set_drift(DriftConfig(error_code=ODD_STATUS, extra_fields=(("x", "y"),)))
    assert raw_call(drifting, "getSMS", auth=False).json() == {"status": "missing_credentials"}
    response = raw_call(drifting, "getSMS", api_password="wrong")
    assert response.json() == {"status": "invalid_credentials"}
    drifting.set_faults(FaultConfig(http_500=1.0))
    assert raw_call(drifting, "getSMS").status_code == 500
    drifting.set_faults(FaultConfig(maintenance=1.0))
    assert raw_call(drifting, "getSMS").json() == {"status": "method_maintenance"}
    assert drifting.call_counts() == {"getSMS": 4}


def test_the_control_endpoint(drifting: SandboxServer) -> None:
    control = drifting.media_base + "/_sandbox/drift"
    body = {
        "extra_fields": {"reseller_id": "7"},
        "numeric_fields": ["id"],
        "error_code": ODD_STATUS,
        "error_days": ["2024-03-10", "2024-03-12"],
        "stray_rows": [None],
    }
    response = http().post(control, json=body)
    assert response.status_code == 200
    assert response.json() == body
    assert drifting.drift == DriftConfig(
        extra_fields=(("reseller_id", "7"),),
        numeric_fields=("id",),
        error_code=ODD_STATUS,
        error_days=(date(2024, 3, 10), date(2024, 3, 12)),
        stray_rows=(None,),
    )
    assert http().get(control).json() == body
    rows = window(drifting, "getSMS", "2024-03-01", "2024-03-09")
    assert rows[-1] is None
    assert all(row["reseller_id"] == "7" and isinstance(row["id"], int) for row in rows[:-1])
    assert http().post(control, json={"extra_field": {}}).status_code == 400
    assert (
        http().post(control, json={"error_days": ["2024-03-10", "2024-03-12"]}).status_code == 400
    )
    assert http().post(control, json={}).json()["error_code"] is None
    assert drifting.drift == DriftConfig()


def test_rows_that_are_not_objects_when_the_answer_has_room(drifting: SandboxServer) -> None:
    reference = window(drifting, "getSMS", *MARCH)
    drifting.set_drift(DriftConfig(stray_rows=(None, "oops", [1, 2])))
    assert window(drifting, "getSMS", *MARCH) == [*reference, None, "oops", [1, 2]]
    # never into an answer they would fill: a full answer stays what the client expects
    just_short = api(
        drifting, "getSMS", **{"from": MARCH[0], "to": MARCH[1]}, limit=len(reference) + 3
    )
    assert just_short["sms"] == reference
    assert (
        api(drifting, "getSMS", **{"from": MARCH[0], "to": MARCH[1]}, limit=5)["sms"]
        == (reference[:5])
    )
    with pytest.raises(ValueError, match="not objects"):
        DriftConfig(stray_rows=({"id": "1"},))


def test_config_round_trip_and_validation() -> None:
    config = DriftConfig(
        extra_fields=(("b", "1"), ("a", "")),
        numeric_fields=("id", "type"),
        error_code="no_sms",
        error_days=(date(2024, 1, 1), date(2024, 1, 1)),
        stray_rows=(None, "x", [1]),
    )
    assert DriftConfig.from_mapping(config.to_dict()) == config
    assert DriftConfig.from_mapping(
        {"extra_fields": [["b", "1"], ["a", ""]], "numeric_fields": "id, type"}
    ) == DriftConfig(extra_fields=(("b", "1"), ("a", "")), numeric_fields=("id", "type"))
    assert DriftConfig.from_mapping({"error_code": "x", "error_days": "2024-05-01"}).error_days == (
        date(2024, 5, 1),
        date(2024, 5, 1),
    )
    with pytest.raises(ValueError, match="unknown"):
        DriftConfig.from_mapping({"extra": 1})
    with pytest.raises(ValueError, match="needs an error_code"):
        DriftConfig(error_days=(date(2024, 1, 1), date(2024, 1, 2)))
    with pytest.raises(ValueError, match="after"):
        DriftConfig(error_code="x", error_days=(date(2024, 1, 2), date(2024, 1, 1)))
    with pytest.raises(ValueError, match="twice"):
        DriftConfig(extra_fields=(("a", "1"), ("a", "2")))
    with pytest.raises(ValueError, match="strings"):
        DriftConfig.from_mapping({"extra_fields": {"a": 1}})
    with pytest.raises(ValueError, match="error_code"):
        DriftConfig.from_mapping({"error_code": 5})
    with pytest.raises(ValueError, match="month"):
        DriftConfig.from_mapping({"error_code": "x", "error_days": ["2024-13-01", "2024-12-01"]})


def test_the_constructor_takes_a_drift() -> None:
    drift = DriftConfig(extra_fields=(("z", "1"),))
    account = SandboxAccount.generate(SMALL_SPEC)
    with SandboxServer(
        account, username=SANDBOX_USERNAME, password=SANDBOX_PASSWORD, drift=drift
    ) as server:
        assert server.drift == drift
        assert all(row["z"] == "1" for row in window(server, "getSMS", *MARCH))


def test_the_client_sees_the_drift(drifting: SandboxServer) -> None:
    client = VoipMsClient(
        drifting.url,
        SANDBOX_USERNAME,
        SecretStr(SANDBOX_PASSWORD),
        requests_per_minute=None,
        max_attempts=2,
        backoff_base=0.001,
        backoff_max=0.005,
    )
    with client:
        drifting.set_drift(DriftConfig(extra_fields=(("new", "v"),), numeric_fields=("id",)))
        rows = client.get_mms(date(2024, 3, 1), date(2024, 3, 31))
        assert rows
        assert all(row["new"] == "v" and isinstance(row["id"], int) for row in rows)
        drifting.set_drift(DriftConfig(error_code=ODD_STATUS, error_days=(date(2024, 3, 5),) * 2))
        with pytest.raises(RequestRejectedError) as caught:
            client.get_sms(date(2024, 3, 1), date(2024, 3, 31))
        assert caught.value.code == ODD_STATUS
        assert client.get_sms(date(2024, 3, 6), date(2024, 3, 31))
        assert client.stats().calls == {"getMMS": 1, "getSMS": 2}  # a refusal is not retried
        # a row that is not an object does not spoil the answer: it comes as a marked object
        drifting.set_drift(DriftConfig(stray_rows=(None, "oops")))
        rows = client.get_mms(date(2024, 3, 1), date(2024, 3, 31))
        assert rows[-2:] == [{NOT_AN_OBJECT_FIELD: None}, {NOT_AN_OBJECT_FIELD: "oops"}]
        assert all("id" in row for row in rows[:-2])
