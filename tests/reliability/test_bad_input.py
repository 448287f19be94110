"""Bad input: broken text, huge bodies, hostile rows and media URLs: kept or refused, with why."""

from __future__ import annotations

import gzip
import hashlib
import itertools
import json
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import duckdb
import orjson
import polars as pl
import pytest
from hypothesis import HealthCheck, event, given, settings
from pydantic import SecretStr

from extract.media import MediaItem, download_media
from extract.media.download import DEFAULT_MAX_BYTES
from extract.raw_rows import INVALID_TEXT_FIELD, NOT_AN_OBJECT_FIELD
from extract.voipms.client import VoipMsClient
from extract.voipms.sandbox.account import SandboxAccount
from extract.voipms.sandbox.drift import DriftConfig
from extract.voipms.sandbox.server import SandboxServer
from extract.voipms.sandbox.spec import ACCOUNT_TIMEZONE, AccountSpec
from extract.voipms.windows import Window, fetch_window_complete, mms_fetch, sms_fetch
from flows.archive_run import PlainSteps, archive
from flows.media_step import download_pending, pending_items
from flows.window_steps import PROVIDER, WindowOutcome, merge_prepared, prepare_window
from tests.conftest import SANDBOX_PASSWORD, SANDBOX_USERNAME
from tests.flows.archive_checks import (
    archived_messages,
    assert_matches_truth,
    table,
    truth_messages,
)
from tests.flows.conftest import sandbox_settings
from tests.media import media_server as srv
from tests.media.media_server import MediaServer
from tests.media.samples import png
from tests.reliability.bad_rows import (
    AnswerServer,
    answer_bytes,
    damaged_fields,
    hostile_batches,
)
from tests.reliability.raw_windows import RawWindow, merge_raw_window
from transform.raw import raw_frame
from warehouse import apply_migrations, open_warehouse

DAY = date(2024, 1, 15)
DID = "5145550100"
WINDOW = Window(DAY, DAY)
AT = datetime(2030, 1, 1, tzinfo=UTC)
INVALID = "could not be read as sent"


def _row(id_: int, message: str, **fields: str) -> dict[str, Any]:
    return {
        "id": str(id_),
        "date": "2024-01-15 10:24:16",
        "type": "1",
        "did": "5145550100",
        "contact": "4165550199",
        "message": message,
        "carrier_status": "",
        **fields,
    }


def _client(url: str) -> VoipMsClient:
    return VoipMsClient(
        url,
        SANDBOX_USERNAME,
        SecretStr(SANDBOX_PASSWORD),
        page_limit=1000,
        requests_per_minute=None,
        max_attempts=2,
        backoff_base=0.01,
        backoff_max=0.02,
    )


def _table(con: duckdb.DuckDBPyConnection, sql: str, **params: object) -> pl.DataFrame:
    frame: pl.DataFrame = con.sql(sql, params=params).pl()
    return frame


def _fetched(client: VoipMsClient) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The window's getSMS and getMMS rows as the client reads them."""
    return (
        fetch_window_complete(
            sms_fetch(client, all_messages=True), WINDOW, limit=1000, dids=[DID]
        ).rows,
        fetch_window_complete(
            mms_fetch(client, all_messages=False), WINDOW, limit=1000, dids=[DID]
        ).rows,
    )


def _archive_window(
    con: duckdb.DuckDBPyConnection, client: VoipMsClient, data_dir: Path, account: str
) -> WindowOutcome:
    """What a run does with a window: fetch, land and read each part, reconcile, merge."""
    prepared = prepare_window(
        client,
        WINDOW,
        dids=[DID],
        page_limit=1000,
        data_dir=data_dir,
        account=account,
        timezone=ACCOUNT_TIMEZONE,
    )
    return merge_prepared(con, prepared, account=account, seen_at=AT)


# ------------------------------------------------------------ text that is not UTF-8, huge text


@dataclass
class Crafted:
    """What each row of a crafted getSMS answer is."""

    archived: dict[str, str]
    """id -> the body the archive must hold."""
    broken: dict[str, str]
    """id -> the field whose text is not UTF-8."""


def _crafted_answer() -> tuple[bytes, Crafted]:
    """A getSMS answer whose rows are good, huge, or broken in one field each."""
    huge = "Ça va? 😀 " * 400_000  # 4.4 MB of text, 7.6 MB once URL-encoded
    parts = [
        (1, '"Hello+there"', None, "Hello there"),
        (2, '"caf\xe9"', "message", None),  # Latin-1 é: one byte that is not UTF-8
        (3, '"half+\\ud83d+an+emoji"', "message", None),  # a surrogate pair cut in two
        (4, '"\xed\xa0\xbd\xed\xb8\x80"', "message", None),  # CESU-8, not UTF-8
        (5, '"cut+\xe2\x82"', "message", None),  # a character cut short
        (6, '"tab\tand\nnewline"', None, "tab\tand\nnewline"),  # raw controls: lenient
        (7, json.dumps(quote_plus(huge)), None, huge),
        (8, json.dumps(quote_plus(huge[:1_000_000])).replace("%C3", "\xc3", 1), "message", None),
        (9, '"ok"', "contact", None),
        (10, '"ok"', "carrier_status", None),
        (11, '"bad+\\x+escape"', "message", None),  # not a JSON escape
        (12, '"bad+\\u12+escape"', "message", None),  # a \u with too few digits
    ]
    texts = []
    for id_, message, broken, _ in parts:
        contact = '"\\udc00"' if broken == "contact" else '"4165550199"'
        status = '"Deliv\xffred"' if broken == "carrier_status" else '""'
        texts.append(
            f'{{"id":"{id_}","date":"2024-01-15 10:24:16","type":"1","did":"5145550100",'
            f'"contact":{contact},"message":{message},"carrier_status":{status}}}'
        )
    # Every character above is ASCII or stands for one byte (\xNN): Latin-1 writes them so.
    body = ('{"status":"success","sms":[' + ",".join(texts) + "]}").encode("latin-1")
    crafted = Crafted(
        archived={str(i): text for i, _, _, text in parts if text is not None},
        broken={str(i): field for i, _, field, _ in parts if field is not None},
    )
    return body, crafted


def test_an_answer_with_broken_text_is_read_row_by_row_and_nothing_is_lost(
    tmp_path: Path,
) -> None:
    """Bytes that are not UTF-8, lone surrogate escapes and broken escapes spoil their row
    only: the client reads the answer once (no retry), every row comes back as valid text with
    U+FFFD in place of the damage and the damaged field named; landed, transformed and merged
    into DuckDB, each row is archived (huge bodies whole) or in rejected_records with why."""
    text, crafted = _crafted_answer()
    with pytest.raises(UnicodeDecodeError):
        text.decode("utf-8")
    answers = {"getSMS": text, "getMMS": b'{"status":"no_sms"}'}
    with AnswerServer(answers=answers) as api:
        with _client(api.url) as client:
            rows, _ = _fetched(client)
            assert client.stats().calls == {"getSMS": 1, "getMMS": 1}  # read once, not retried
        con = open_warehouse(tmp_path / "archive.duckdb")
        try:
            with _client(api.url) as client:
                outcome = _archive_window(con, client, tmp_path, SANDBOX_USERNAME)
            messages = _table(con, "SELECT message_id, body, segments FROM messages")
            rejected = _table(con, "SELECT record, reason FROM rejected_records")
            landed = _table(con, "SELECT path, rows FROM raw_landing WHERE method = 'getSMS'")
        finally:
            con.close()
    assert [row["id"] for row in rows] == [str(n) for n in range(1, 13)]
    orjson.dumps(rows)  # every text is valid Unicode now: it can be landed and stored
    for row in rows:
        field = crafted.broken.get(row["id"])
        assert row.get(INVALID_TEXT_FIELD) == field
        if field is not None:
            assert "\ufffd" in row[field]
    assert rows[0] == _row(1, "Hello+there")

    assert outcome.rejected == rejected.height == len(crafted.broken)
    assert messages.height + rejected.height == len(rows)
    assert dict(zip(messages["message_id"], messages["body"], strict=True)) == crafted.archived
    assert messages["segments"].min() > 0  # type: ignore[operator]
    for record, reason in rejected.iter_rows():
        field = crafted.broken[json.loads(record)["id"]]
        assert f"text of {field} {INVALID}" in reason
    [(path, count)] = landed.rows()
    assert count == len(rows)
    assert json.loads((tmp_path / path).read_text("utf-8")) == rows


def test_raw_rows_with_lone_surrogates_are_quarantined_not_crashing(tmp_path: Path) -> None:
    """Rows handed to the transform as Python text with lone surrogates (no client between)
    are read the same way: named, shown with U+FFFD, rejected with the reason."""
    rows = [_row(1, "fine"), _row(2, "a\ud800b"), {**_row(3, "x"), "did": "\udcff"}]
    frame = raw_frame(rows, "getSMS")
    assert frame["record"].str.contains("\ufffd").to_list() == [False, True, True]
    con = open_warehouse(tmp_path / "archive.duckdb")
    try:
        merged = merge_raw_window(
            con,
            RawWindow(window=WINDOW, sms_all=rows, mms_only=[]),
            account=SANDBOX_USERNAME,
            timezone=ACCOUNT_TIMEZONE,
            seen_at=AT,
        )
        reasons = _table(con, "SELECT reason FROM rejected_records ORDER BY reason")["reason"]
    finally:
        con.close()
    assert (merged.merge.inserted, merged.rejected) == (1, 2)
    assert [reason.split(" (")[0] for reason in reasons] == [
        f"text of did {INVALID}",
        f"text of message {INVALID}",
    ]


# ------------------------------------------------------------ one bad byte in a real run


@pytest.fixture(scope="module")
def small_sandbox() -> Iterator[SandboxServer]:
    account = SandboxAccount.generate(
        AccountSpec(
            seed=41,
            messages=160,
            start=date(2024, 3, 1),
            end=date(2024, 3, 31),
            dids=2,
            mms_share=0.1,
        )
    )
    server = SandboxServer(account, username=SANDBOX_USERNAME, password=SANDBOX_PASSWORD).start()
    try:
        yield server
    finally:
        server.stop()


def _inject(row: re.Pattern[bytes], mark: bytes, body: bytes) -> bytes:
    """`mark` put at the start of the message of the row `row` finds."""
    return row.sub(lambda found: found.group(1) + mark, body)


def test_one_bad_byte_spoils_one_row_not_the_run(
    small_sandbox: SandboxServer, tmp_path: Path
) -> None:
    """Two getSMS rows arrive broken on the wire (a byte that is not UTF-8, a lone surrogate
    escape): the backfill ends ok, those two rows are in rejected_records with the reason,
    every other message is archived as it truly is, and the answer is landed whole."""
    account = small_sandbox.account
    truth = account.truth()
    victims = truth.filter((pl.col("kind") == "sms") & (pl.col("message_getsms") != "")).head(2)
    marks = [b"\xe9", b"\\ud800"]  # Latin-1 é as one byte; half an emoji as an escape
    rows = [
        re.compile(rb'(\{"id":"%d","date":"%s",[^{}]*?"message":")' % (id_, local.encode()))
        for id_, local in victims.select("id", "date_local").rows()
    ]

    def corrupt(method: str, body: bytes) -> bytes:
        if method == "getSMS":
            for row, mark in zip(rows, marks, strict=True):
                body = _inject(row, mark, body)
        return body

    with AnswerServer(upstream=small_sandbox.url, rewrite=corrupt) as api:
        settings = sandbox_settings(small_sandbox, tmp_path, voipms_api_url=api.url)
        summary = archive(settings, "backfill", date(2024, 3, 1), date(2024, 3, 31), PlainSteps())
    assert summary.failed_windows == []
    assert summary.rejected == 2
    got = archived_messages(settings.archive_path)
    lost = pl.DataFrame(
        {"kind": "sms", "message_id": [str(i) for i in victims["id"]]},
    )
    assert_matches_truth(
        got, truth_messages(account).join(lost, on=["kind", "message_id"], how="anti")
    )
    rejected = table(settings.archive_path, "SELECT source, record, reason FROM rejected_records")
    landed = table(
        settings.archive_path, "SELECT sum(rows) AS n FROM raw_landing WHERE method = 'getSMS'"
    )["n"]
    assert sorted(json.loads(r)["id"] for r in rejected["record"]) == sorted(
        str(i) for i in victims["id"]
    )
    assert set(rejected["source"]) == {"getSMS"}
    assert all(f"text of message {INVALID}" in reason for reason in rejected["reason"])
    assert landed.item() == truth.height == got.height + rejected.height


def test_rows_that_are_not_objects_spoil_no_window(
    small_sandbox: SandboxServer, tmp_path: Path
) -> None:
    """The API sends null and a string among a window's rows, in both answers: the backfill
    ends ok with the window done, every message archived, and each stray value once per
    source in rejected_records, with its reason; the landing keeps them."""
    small_sandbox.set_drift(DriftConfig(stray_rows=(None, "oops")))
    try:
        settings = sandbox_settings(small_sandbox, tmp_path)
        summary = archive(settings, "backfill", date(2024, 3, 1), date(2024, 3, 31), PlainSteps())
    finally:
        small_sandbox.set_drift(DriftConfig())
    assert (summary.failed_windows, summary.windows) == ([], 1)
    assert_matches_truth(
        archived_messages(settings.archive_path), truth_messages(small_sandbox.account)
    )
    rejected = table(
        settings.archive_path,
        "SELECT source, record, reason FROM rejected_records ORDER BY source, record",
    )
    assert rejected.rows() == [
        (source, f'{{"{NOT_AN_OBJECT_FIELD}":{value}}}', f"the row is not a JSON object: {shown}")
        for source in ("getMMS", "getSMS")
        for value, shown in (('"oops"', "oops"), ("null", "null"))
    ]
    done = table(settings.archive_path, "SELECT count(*) AS n FROM window_checkpoints")["n"]
    assert done.item() == 1


# ------------------------------------------------------------ any row, through the whole path


@dataclass
class RowPath:
    """An API in the sandbox's place, a client on it, and an archive to merge into."""

    api: AnswerServer
    client: VoipMsClient
    con: duckdb.DuckDBPyConnection
    data_dir: Path
    accounts: Iterator[int]


@pytest.fixture(scope="module")
def row_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RowPath]:
    data_dir = tmp_path_factory.mktemp("rows")
    with AnswerServer() as api, _client(api.url) as client:
        con = duckdb.connect()  # in memory: the same engine and schema, at half the cost
        try:
            apply_migrations(con)
            yield RowPath(api, client, con, data_dir, itertools.count())
        finally:
            con.close()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(batch=hostile_batches())
def test_every_row_sent_is_archived_or_rejected_with_a_reason(
    row_path: RowPath, batch: tuple[list[dict[str, Any]], list[dict[str, Any]]]
) -> None:
    """Any rows (fields missing, of any type, absurd dates, broken escapes, bytes that are not
    UTF-8, lone surrogates, huge bodies), sent as bytes over HTTP, read by the client, landed,
    transformed and merged into DuckDB: no call fails or is retried, a row whose text is not
    UTF-8 is named as such, and every row is in `messages` or in `rejected_records` with a
    reason."""
    sms, mms = batch
    path = row_path
    account = f"acct{next(path.accounts)}"
    path.api.answers.update(
        getSMS=answer_bytes({"status": "success", "sms": sms}),
        getMMS=answer_bytes({"status": "success", "sms": mms}),
    )
    got_sms, got_mms = _fetched(path.client)
    assert (len(got_sms), len(got_mms)) == (len(sms), len(mms))
    assert path.client.stats().total_retries == 0
    for sent, got in zip(sms + mms, got_sms + got_mms, strict=True):
        expected = ",".join(sorted(damaged_fields(sent))) or None
        named = got.get(INVALID_TEXT_FIELD)
        assert (",".join(sorted(named.split(","))) if named else None) == expected
    event(f"broken text: {any(INVALID_TEXT_FIELD in r for r in got_sms + got_mms)}")

    outcome = _archive_window(path.con, path.client, path.data_dir, account)

    messages = _table(path.con, "SELECT message_id FROM messages WHERE account = $a", a=account)
    ids = set(messages["message_id"])
    rejected = _table(
        path.con,
        "SELECT source, record, reason FROM rejected_records WHERE account = $a",
        a=account,
    )
    assert all(reason and reason.strip() for reason in rejected["reason"])
    kept = set(zip(rejected["source"], rejected["record"], strict=True))
    event(f"archived: {bool(ids)}, rejected: {bool(kept)}")
    assert outcome.merge.inserted == messages.height
    assert outcome.rejected == len(kept)
    for source, rows in (("getSMS", got_sms), ("getMMS", got_mms)):
        read = raw_frame(rows, source).select("record", pl.col("id").str.strip_chars())
        for row, (record, id_) in zip(rows, read.iter_rows(), strict=True):
            archived = id_ in ids
            quarantined = (source, record) in kept
            assert archived or quarantined, row
            if INVALID_TEXT_FIELD in row:
                assert quarantined, row


# ------------------------------------------------------------ hostile media, into the media table


@pytest.fixture(scope="module")
def media_server() -> Iterator[MediaServer]:
    with MediaServer() as running:
        yield running


def _unused_port() -> int:
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        port: int = spare.getsockname()[1]
    return port


def test_hostile_media_urls_fail_with_a_reason_in_the_media_table(
    media_server: MediaServer, tmp_path: Path
) -> None:
    """getMMS media URLs pointing elsewhere (private and metadata addresses, loopback under
    another name, other schemes, header injection), redirecting elsewhere, or answering with
    gzipped bodies (a bomb, or not gzip at all): each media row ends `failed` with its
    reason (refused ones without a request), the good one is stored, and the step ends."""
    server = media_server
    data = png()
    good = server.add(srv.body(data, content_type="image/png"), "good.png")
    port = server.port
    bomb = gzip.compress(b"\0" * (DEFAULT_MAX_BYTES + 1024 * 1024))  # 26 MB in 26 kB
    cases: dict[str, str] = {
        "http://10.0.0.1/a.jpg": "host_not_allowed",
        "http://169.254.169.254/latest/meta-data/": "host_not_allowed",
        "http://192.168.1.1/a.jpg": "host_not_allowed",
        f"http://[::1]:{port}/a.jpg": "host_not_allowed",
        f"http://localhost:{port}/a.jpg": "host_not_allowed",
        f"http://2130706433:{port}/a.jpg": "host_not_allowed",  # 127.0.0.1 as one number
        f"http://127.1:{port}/a.jpg": "host_not_allowed",
        f"http://127.0.0.1.:{port}/a.jpg": "host_not_allowed",
        f"http://127.0.0.1:{_unused_port()}/a.jpg": "host_not_allowed",
        "https://vоip.ms/a.jpg": "host_not_allowed",  # a Cyrillic o
        "file:///etc/passwd": "scheme_not_allowed",
        f"ftp://127.0.0.1:{port}/a.jpg": "scheme_not_allowed",
        "data:image/png;base64,iVBORw0KGgo=": "scheme_not_allowed",
        "javascript:alert(1)": "scheme_not_allowed",
        "gopher://127.0.0.1:70/_x": "scheme_not_allowed",
        "/media/relative.jpg": "scheme_not_allowed",
        f"http://u:p@127.0.0.1:{port}/a.jpg": "invalid_url",
        f"http://127.0.0.1:{port}/a\r\nX-Injected: 1": "invalid_url",
        f"http://127.0.0.1:{port}/a\x00b": "invalid_url",
        server.add(srv.redirect("http://169.254.169.254/latest/meta-data/")): (
            "redirect_not_allowed (169.254.169.254)"
        ),
        server.add(srv.redirect("http://10.0.0.1/a.jpg")): "redirect_not_allowed (10.0.0.1)",
        server.add(srv.redirect("file:///etc/passwd")): "redirect_not_allowed",
        # sent gzipped though the client asked for identity: refused, never inflated
        server.add(
            srv.body(bomb, content_type="image/jpeg", headers={"Content-Encoding": "gzip"})
        ): "encoded_body",
        server.add(
            srv.body(b"not gzip", content_type="image/jpeg", headers={"Content-Encoding": "gzip"})
        ): "encoded_body",
    }
    urls = [good, *cases]
    mms = [
        {
            **_row(100 + n, "pics"),
            "media": urls[n : n + 3],
            "col_media1": urls[n],
        }
        for n in range(0, len(urls), 3)
    ]
    con = open_warehouse(tmp_path / "archive.duckdb")
    try:
        merge_raw_window(
            con,
            RawWindow(window=WINDOW, sms_all=[], mms_only=mms),
            account=SANDBOX_USERNAME,
            timezone=ACCOUNT_TIMEZONE,
            seen_at=AT,
        )
        items = pending_items(con)
        assert sorted(item.url for item in items) == sorted(urls)
        before = server.total_requests
        outcome = download_pending(
            con,
            items,
            media_dir=tmp_path / "media",
            allowed_hosts=[server.host, "voip.ms"],
            user_agent="smsarchive-tests/1",
        )
        media = _table(
            con,
            "SELECT url, state, last_error, attempts, sha256 FROM media WHERE provider = $p",
            p=PROVIDER,
        )
    finally:
        con.close()
    assert (outcome.stored, outcome.failed, outcome.expired) == (1, len(cases), 0)
    by_url = {row["url"]: row for row in media.iter_rows(named=True)}
    assert by_url[good]["state"] == "stored"
    assert by_url[good]["sha256"] == hashlib.sha256(data).hexdigest()
    for url, reason in cases.items():
        row = by_url[url]
        assert (row["state"], row["last_error"]) == ("failed", reason), url
    fetched = [url for url in cases if url.startswith(f"http://{server.host}/r")]
    assert server.total_requests - before == 1 + len(fetched)  # refused URLs: no request


def test_an_html_page_served_as_an_image_is_not_stored_as_media(
    media_server: MediaServer, tmp_path: Path
) -> None:
    """A 200 answer whose bytes are an HTML page although it says image/jpeg (a captive
    portal, a CDN's error page) is not the picture: it must not end as `stored`."""
    page = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>Wi-Fi</body></html>"
    url = media_server.add(srv.body(page, content_type="image/jpeg"), "photo.jpg")
    [result] = download_media(
        [MediaItem(key=1, url=url)],
        media_dir=tmp_path,
        allowed_hosts=[media_server.host],
        user_agent="smsarchive-tests/1",
    )
    assert (result.state, bool(result.error)) == ("failed", True)
