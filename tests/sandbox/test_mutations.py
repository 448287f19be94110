"""Changing the account: send, delete, setSMS, added messages, carrier status, control endpoints."""

from __future__ import annotations

import base64
import io
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

import httpx
import polars as pl
import pytest

from extract.voipms.sandbox.faults import FaultConfig
from extract.voipms.sandbox.media_files import media_bytes
from extract.voipms.sandbox.server import SandboxServer
from tests.sandbox.conftest import api, raw_call, window

DST = "5145550199"


def _today(server: SandboxServer) -> str:
    return str(server.account.truth().sort("sent_at")["local_date"][-1])


def test_send_sms_then_read_it(private_server: SandboxServer) -> None:
    did = private_server.account.dids[0]
    text = "Hello + bye & é 😀"
    answer = api(private_server, "sendSMS", did=did, dst=DST, message=text)
    assert answer["status"] == "success"
    assert set(answer) == {"status", "sms"}
    new_id = int(answer["sms"])
    older = private_server.account.truth().filter(
        (pl.col("kind") == "sms") & (pl.col("id") != new_id)
    )
    assert new_id > max(older["id"])  # the SMS counter moves on
    row = api(private_server, "getSMS", sms=new_id)["sms"][0]
    assert (row["type"], row["did"], row["contact"], row["carrier_status"]) == (
        "0",
        did,
        DST,
        "Message sent",
    )
    assert unquote_plus(row["message"]) == text
    # the default window is today (New York), where the new message is
    assert new_id in [int(r["id"]) for r in api(private_server, "getSMS")["sms"]]


def test_send_errors(private_server: SandboxServer) -> None:
    did = private_server.account.dids[0]
    assert api(private_server, "sendSMS", dst=DST, message="x") == {"status": "missing_did"}
    assert api(private_server, "sendSMS", did="5555550100", dst=DST, message="x") == {
        "status": "invalid_did"
    }
    assert api(private_server, "sendSMS", did=did, dst="12", message="x") == {
        "status": "invalid_dst"
    }
    assert api(private_server, "sendSMS", did=did, dst="abc", message="x") == {
        "status": "invalid_dst"
    }
    assert api(private_server, "sendSMS", did=did, dst=DST, message="") == {
        "status": "message_empty"
    }
    assert api(private_server, "sendSMS", did=did, dst=DST, message="x" * 161) == {
        "status": "sms_toolong"
    }
    assert (
        api(private_server, "sendSMS", did=did, dst=DST, message="x" * 160)["status"] == "success"
    )
    assert api(private_server, "sendMMS", did=did, dst=DST, message="x" * 2049) == {
        "status": "sms_toolong"
    }
    assert (
        api(private_server, "sendMMS", did=did, dst=DST, message="x" * 2048)["status"] == "success"
    )


def test_daily_send_limit(private_server: SandboxServer) -> None:
    did = private_server.account.dids[1]
    statuses = [
        api(private_server, "sendSMS", did=did, dst=DST, message=f"n{i}")["status"]
        for i in range(101)
    ]
    assert statuses == ["success"] * 100 + ["limit_reached"]
    other = private_server.account.dids[0]
    assert api(private_server, "sendSMS", did=other, dst=DST, message="ok")["status"] == "success"


def test_send_mms_with_media(private_server: SandboxServer) -> None:
    did = private_server.account.dids[0]
    png = media_bytes("image/png", "uploaded")
    answer = api(
        private_server,
        "sendMMS",
        did=did,
        dst=DST,
        message="look",
        media1="https://example.com/photo.gif",
        media2="data:image/png;base64," + base64.b64encode(png).decode(),
    )
    assert answer["status"] == "success"
    assert set(answer) == {"status", "mms"}
    row = api(private_server, "getMMS", mms=answer["mms"])["sms"][0]
    first, second, third = row["media"]
    assert third == ""
    assert httpx.get(second).content == png
    gif = httpx.get(first)
    assert gif.headers["content-type"] == "image/gif"
    assert gif.content.startswith(b"GIF89a")
    assert api(private_server, "sendMMS", did=did, dst=DST, message="", media1="%%%") == {
        "status": "invalid_media"
    }


def test_delete(private_server: SandboxServer) -> None:
    truth = private_server.account.truth()
    for kind, method, getter in (("sms", "deleteSMS", "getSMS"), ("mms", "deleteMMS", "getMMS")):
        message_id = int(truth.filter(pl.col("kind") == kind)["id"][3])
        assert api(private_server, method, id=message_id) == {"status": "success"}
        assert api(private_server, getter, **{kind: message_id}) == {"status": "no_sms"}
        assert api(private_server, method, id=message_id) == {"status": "invalid_sms"}
        assert (
            private_server.account.truth()
            .filter((pl.col("kind") == kind) & (pl.col("id") == message_id))
            .is_empty()
        )
    assert api(private_server, "deleteSMS") == {"status": "missing_sms"}


def test_set_sms_dialmode_and_cooldown(private_server: SandboxServer) -> None:
    account = private_server.account
    did = account.dids[0]
    assert api(private_server, "setSMS", did=did, dialmode=2) == {"status": "success"}
    assert account.e164_dids == account.dids[:2]
    rows = window(private_server, "getSMS", "2024-01-01", "2024-04-01", did=did)
    assert rows
    assert all(r["did"] == "+1" + did for r in rows)
    assert api(private_server, "setSMS", did=did, enable=0)["status"] == "success"
    assert api(private_server, "setSMS", did=did, enable=1) == {"status": "sms_wait_message"}
    info = api(private_server, "getDIDsInfo", did=did)["dids"][0]
    assert info["sms_enabled"] == "0"
    assert (
        api(
            private_server,
            "setSMS",
            did=did,
            url_callback="https://x.example/cb",
            url_callback_enable=1,
        )["status"]
        == "success"
    )
    info = api(private_server, "getDIDsInfo", did=did)["dids"][0]
    assert (info["sms_url_callback"], info["sms_url_callback_enabled"]) == (
        "https://x.example/cb",
        "1",
    )
    assert api(private_server, "setSMS", enable=1) == {"status": "missing_did"}
    assert api(private_server, "setSMS", did=did, dialmode=3) == {"status": "invalid_dialmode"}


def test_cooldown_passes_with_time(private_server: SandboxServer) -> None:
    account = private_server.account
    now = [1_750_000_000.0]
    account.clock = lambda: now[0]
    did = account.dids[1]
    assert account.set_sms(did, {"enable": "0"}) == "success"
    now[0] += 59
    assert account.set_sms(did, {"enable": "1"}) == "sms_wait_message"
    now[0] += 2
    assert account.set_sms(did, {"enable": "1"}) == "success"


def test_add_messages_and_carrier_status(private_server: SandboxServer) -> None:
    account = private_server.account
    before = account.truth().height
    start = datetime(2024, 6, 1, 12, tzinfo=UTC)
    end = datetime(2024, 6, 1, 18, tzinfo=UTC)
    added = account.add_messages(20, start, end)
    assert len(added) == 20
    assert {k for k, _ in added} <= {"sms", "mms"}
    truth = account.truth()
    assert truth.height == before + 20
    new = truth.join(pl.DataFrame(added, schema=["kind", "id"], orient="row"), on=["kind", "id"])
    assert new.height == 20
    assert new["sent_at"].is_between(start, end).all()
    rows = window(private_server, "getSMS", "2024-06-01", "2024-06-01", all_messages=1)
    assert {i for _, i in added} <= {int(r["id"]) for r in rows}
    kind, message_id = added[0]
    account.set_carrier_status(kind, message_id, "DELIVRD")
    key = "sms" if kind == "sms" else "mms"
    got = api(private_server, "getSMS" if kind == "sms" else "getMMS", **{key: message_id})
    assert got["sms"][0]["carrier_status"] == "DELIVRD"
    # free text beyond ASCII is escaped as json_encode escapes it, astral planes in pairs
    account.set_carrier_status(kind, message_id, "Entregué ✓ 📱")
    raw = raw_call(private_server, "getSMS" if kind == "sms" else "getMMS", **{key: message_id})
    assert raw.content.isascii()
    assert b'"carrier_status":"Entregu\\u00e9 \\u2713 \\ud83d\\udcf1"' in raw.content
    assert raw.json()["sms"][0]["carrier_status"] == "Entregué ✓ 📱"
    with pytest.raises(KeyError):
        account.set_carrier_status("sms", 1, "x")


def _control(server: SandboxServer, verb: str, name: str, body: Any = None) -> httpx.Response:
    url = f"{server.media_base}/_sandbox/{name}"
    if verb == "GET":
        return httpx.get(url)
    return httpx.post(url, json=body if body is not None else {})


def test_control_endpoints(private_server: SandboxServer) -> None:
    server = private_server
    api(server, "getIP")
    assert _control(server, "GET", "stats").json() == {"getIP": 1}
    assert _control(server, "POST", "reset_stats").status_code == 200
    assert _control(server, "GET", "stats").json() == {}

    truth = pl.read_parquet(io.BytesIO(_control(server, "GET", "truth").content))
    assert truth.equals(server.account.truth())
    media = pl.read_parquet(io.BytesIO(_control(server, "GET", "truth_media").content))
    assert media.equals(server.account.truth_media())

    response = _control(server, "POST", "faults", {"maintenance": 1.0})
    assert response.json()["maintenance"] == 1.0
    assert server.faults == FaultConfig(maintenance=1.0)
    assert api(server, "getSMS") == {"status": "method_maintenance"}
    assert _control(server, "POST", "faults", {}).json() == FaultConfig().to_dict()
    assert _control(server, "POST", "faults", {"bogus": 1}).status_code == 400

    added = _control(
        server,
        "POST",
        "add_messages",
        {"n": 3, "start": "2024-07-01T10:00:00+00:00", "end": "2024-07-01T11:00:00+00:00"},
    ).json()["added"]
    assert len(added) == 3
    kind, message_id = added[0]
    assert _control(
        server, "POST", "carrier_status", {"kind": kind, "id": message_id, "status": "Failed"}
    ).json() == {"status": "ok"}
    row = server.account.truth().filter((pl.col("kind") == kind) & (pl.col("id") == message_id))
    assert row["carrier_status"][0] == "Failed"
    assert (
        _control(
            server, "POST", "carrier_status", {"kind": "sms", "id": 1, "status": "x"}
        ).status_code
        == 404
    )
    info = _control(server, "GET", "info").json()
    assert info["url"] == server.url
    assert info["dids"] == server.account.dids
    assert _control(server, "GET", "nothing").status_code == 404
