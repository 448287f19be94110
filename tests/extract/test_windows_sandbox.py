"""Adaptive windows against the sandbox: a small page limit still yields exactly the truth."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import pytest
from pydantic import SecretStr

from extract.voipms.client import VoipMsClient
from extract.voipms.sandbox.server import SandboxServer
from extract.voipms.windows import (
    Query,
    Window,
    fetch_window_complete,
    mms_fetch,
    sms_fetch,
    split_range,
)
from tests.conftest import SANDBOX_PASSWORD, SANDBOX_SPEC, SANDBOX_USERNAME
from tests.extract.conftest import SPEC, ClientFactory


def _truth_ids(server: SandboxServer, kind: str, window: Window) -> list[int]:
    truth = server.account.truth()
    picked = truth.filter(
        (pl.col("kind") == kind)
        & pl.col("local_date").is_between(window.start, window.end, closed="both")
    )
    return sorted(picked["id"].to_list())


def _ids(rows: list[dict[str, Any]]) -> list[int]:
    return sorted(int(row["id"]) for row in rows)


@pytest.mark.parametrize(("maker", "method"), [(sms_fetch, "get_sms"), (mms_fetch, "get_mms")])
def test_fetch_adapters_pass_the_query_through(
    make_client: ClientFactory, maker: Any, method: str
) -> None:
    client = make_client()
    start, end = date(2024, 1, 1), date(2024, 3, 31)
    newest = getattr(client, method)(start, end, type=0, limit=1)[0]["did"]
    # a DID the newest sent message is not from: an answer that ignored `did` would differ
    did = next(
        str(row["did"]) for row in client.get_dids_info() if not newest.endswith(str(row["did"]))
    )
    rows = maker(client)(Query(start, end, limit=7, type=0, did=did))
    # each part of the query bites: the answer is the client's own to the same question
    assert rows == getattr(client, method)(start, end, type=0, did=did, limit=7)
    assert len(rows) == 7
    assert {row["type"] for row in rows} == {"0"}
    assert all(row["did"].endswith(did) for row in rows)
    assert all(start <= date.fromisoformat(row["date"][:10]) <= end for row in rows)
    everything = getattr(client, method)(start, end, limit=10_000)
    assert {row["did"] for row in everything} != {row["did"] for row in rows}
    assert {row["type"] for row in everything} == {"0", "1"}


@pytest.mark.parametrize("kind", ["sms", "mms"])
def test_a_month_with_a_small_limit_is_exact(
    server: SandboxServer, make_client: ClientFactory, kind: str
) -> None:
    client = make_client()
    window = Window(date(2024, 3, 1), date(2024, 3, 31))
    fetch = sms_fetch(client) if kind == "sms" else mms_fetch(client)
    dids = [row["did"] for row in client.get_dids_info()]
    result = fetch_window_complete(fetch, window, limit=15, dids=dids)
    assert _ids(result.rows) == _truth_ids(server, kind, window)
    assert result.splits > 0
    assert client.stats().calls["getSMS" if kind == "sms" else "getMMS"] == result.calls


def test_a_full_92_day_window_is_split_recursively(
    server: SandboxServer, make_client: ClientFactory
) -> None:
    client = make_client()
    window = split_range(date(2024, 1, 1), date(2024, 12, 31))[0]
    assert window.days == 92
    result = fetch_window_complete(sms_fetch(client), window, limit=50, dids=[])
    expected = _truth_ids(server, "sms", window)
    assert len(expected) > 150
    assert _ids(result.rows) == expected
    assert result.date_splits >= 2
    assert server.call_counts() == {"getSMS": result.calls}


def test_a_dense_stretch_splits_by_type_and_did(
    server: SandboxServer, make_client: ClientFactory
) -> None:
    client = make_client()
    window = Window(date(2024, 6, 1), date(2024, 6, 10))
    dids = [row["did"] for row in client.get_dids_info()]
    result = fetch_window_complete(sms_fetch(client), window, limit=2, dids=dids)
    assert _ids(result.rows) == _truth_ids(server, "sms", window)
    assert result.type_splits > 0
    assert result.did_splits > 0


def test_the_whole_account_in_92_day_windows(
    server: SandboxServer, make_client: ClientFactory
) -> None:
    client = make_client(page_limit=400, max_concurrency=4)
    dids = [row["did"] for row in client.get_dids_info()]
    sms: list[dict[str, Any]] = []
    mms: list[dict[str, Any]] = []
    for window in split_range(SPEC.start, SPEC.end):
        sms += fetch_window_complete(sms_fetch(client), window, limit=400, dids=dids).rows
        mms += fetch_window_complete(mms_fetch(client), window, limit=400, dids=dids).rows
    whole = Window(SPEC.start, SPEC.end)
    assert _ids(sms) == _truth_ids(server, "sms", whole)
    assert _ids(mms) == _truth_ids(server, "mms", whole)
    assert len(sms) + len(mms) == server.account.message_count()


def test_the_shared_sandbox_in_full(sandbox: SandboxServer) -> None:
    """The session sandbox (14 months, DST changes): every message once, none invented."""
    with VoipMsClient(
        sandbox.url,
        SANDBOX_USERNAME,
        SecretStr(SANDBOX_PASSWORD),
        page_limit=500,
        requests_per_minute=None,
    ) as client:
        dids = [row["did"] for row in client.get_dids_info()]
        start, end = SANDBOX_SPEC.start, SANDBOX_SPEC.end
        got: list[tuple[str, int]] = []
        for window in split_range(start, end):
            for kind, fetch in (("sms", sms_fetch(client)), ("mms", mms_fetch(client))):
                rows = fetch_window_complete(fetch, window, limit=500, dids=dids).rows
                got += [(kind, int(row["id"])) for row in rows]
    truth = sandbox.account.truth()
    assert sorted(got) == sorted(zip(truth["kind"], truth["id"], strict=True))
