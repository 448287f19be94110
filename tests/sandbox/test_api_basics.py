"""The endpoint: GET and multipart POST, credentials, method errors, content types, getIP."""

from __future__ import annotations

import threading

import httpx
import pytest

from extract.voipms.sandbox.server import SandboxServer
from tests.conftest import SANDBOX_PASSWORD, SANDBOX_USERNAME
from tests.sandbox.conftest import api, raw_call

MARCH = {"from": "2024-03-01", "to": "2024-03-31", "limit": 100000}


def test_get_and_multipart_post_give_the_same_answer(sandbox: SandboxServer) -> None:
    by_get = raw_call(sandbox, "getSMS", **MARCH)
    by_post = raw_call(sandbox, "getSMS", post=True, **MARCH)
    assert by_get.status_code == by_post.status_code == 200
    assert by_get.content == by_post.content
    assert by_get.json()["status"] == "success"


def test_handmade_multipart_body(sandbox: SandboxServer) -> None:
    boundary = "----sandbox-test-boundary"
    fields = {"api_username": SANDBOX_USERNAME, "api_password": SANDBOX_PASSWORD, "method": "getIP"}
    body = (
        "".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
            for k, v in fields.items()
        )
        + f"--{boundary}--\r\n"
    )
    response = httpx.post(
        sandbox.url,
        content=body.encode(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.json() == {"status": "success", "ip": "127.0.0.1"}


def test_urlencoded_post_is_a_soap_fault(sandbox: SandboxServer) -> None:
    response = httpx.post(
        sandbox.url,
        data={
            "api_username": SANDBOX_USERNAME,
            "api_password": SANDBOX_PASSWORD,
            "method": "getIP",
        },
    )
    assert response.status_code == 500
    assert "SOAP-ENV:Fault" in response.text
    assert response.headers["content-type"].startswith("text/xml")


def test_content_type(sandbox: SandboxServer) -> None:
    plain = raw_call(sandbox, "getIP")
    assert plain.headers["content-type"] == "text/html; charset=UTF-8"
    assert plain.json()["status"] == "success"  # still a JSON body
    as_json = raw_call(sandbox, "getIP", content_type="json")
    assert as_json.headers["content-type"] == "application/json"
    assert as_json.content == plain.content


@pytest.mark.parametrize(
    ("auth", "extra", "status"),
    [
        (False, {}, "missing_credentials"),
        (False, {"api_username": SANDBOX_USERNAME}, "missing_credentials"),
        (False, {"api_username": SANDBOX_USERNAME, "api_password": "wrong"}, "invalid_credentials"),
        (
            False,
            {"api_username": "other@example.com", "api_password": SANDBOX_PASSWORD},
            "invalid_credentials",
        ),
    ],
)
def test_credentials(
    sandbox: SandboxServer, auth: bool, extra: dict[str, str], status: str
) -> None:
    for method in ("getSMS", "getDIDsInfo", "sendSMS"):
        response = raw_call(sandbox, method, auth=auth, **extra)
        assert response.status_code == 200
        assert response.json() == {"status": status}


def test_method_errors(sandbox: SandboxServer) -> None:
    assert api(sandbox, "") == {"status": "missing_method"}
    assert raw_call(sandbox, "", auth=False).json() == {"status": "missing_method"}
    assert api(sandbox, "getSMSes") == {"status": "invalid_method"}


def test_get_ip_needs_no_credentials(sandbox: SandboxServer) -> None:
    assert raw_call(sandbox, "getIP", auth=False).json() == {"status": "success", "ip": "127.0.0.1"}


def test_every_answer_has_a_status(sandbox: SandboxServer) -> None:
    for method in ("getSMS", "getMMS", "getMediaMMS", "getDIDsInfo", "sendSMS", "sendMMS"):
        for post in (False, True):
            answer = raw_call(sandbox, method, post=post, did="123").json()
            assert isinstance(answer["status"], str)


def test_get_dids_info(sandbox: SandboxServer) -> None:
    answer = api(sandbox, "getDIDsInfo")
    assert answer["status"] == "success"
    rows = answer["dids"]
    assert [r["did"] for r in rows] == sandbox.account.dids
    assert set(rows[0]) >= {
        "did",
        "description",
        "routing",
        "sms_available",
        "sms_enabled",
        "sms_email",
        "sms_email_enabled",
        "sms_forward",
        "sms_forward_enabled",
        "sms_url_callback",
        "sms_url_callback_enabled",
        "sms_url_callback_retry",
        "smpp_enabled",
        "smpp_url",
        "smpp_user",
        "smpp_pass",
    }
    assert all(isinstance(v, str) for row in rows for v in row.values())
    one = api(sandbox, "getDIDsInfo", did="+1" + sandbox.account.dids[2], client="561115")
    assert [r["did"] for r in one["dids"]] == [sandbox.account.dids[2]]
    assert api(sandbox, "getDIDsInfo", did="5555550100") == {"status": "invalid_did"}


def test_json_escapes_slashes_like_php(sandbox: SandboxServer) -> None:
    text = raw_call(sandbox, "getMMS", **MARCH).text
    assert "http:\\/\\/127.0.0.1" in text
    assert "http://" not in text


def test_concurrent_requests(sandbox: SandboxServer) -> None:
    results: list[int] = []

    def work() -> None:
        with httpx.Client() as client:
            for _ in range(5):
                response = client.get(
                    sandbox.url,
                    params={
                        "api_username": SANDBOX_USERNAME,
                        "api_password": SANDBOX_PASSWORD,
                        "method": "getSMS",
                        **MARCH,
                    },
                )
                results.append(len(response.json()["sms"]))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 40
    assert len(set(results)) == 1


def test_unknown_paths(sandbox: SandboxServer) -> None:
    assert httpx.get(sandbox.media_base + "/api/v1/other.php").status_code == 404
