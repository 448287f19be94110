"""getSMS and getMMS: rows, order, limits, filters, rendering, time zones and the 92-day rule."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any
from urllib.parse import unquote_plus

import polars as pl
import pytest

from extract.voipms.sandbox.server import SandboxServer
from tests.sandbox.conftest import api, window

ROW_FIELDS = ["id", "date", "type", "did", "contact", "message", "carrier_status"]
MMS_FIELDS = [*ROW_FIELDS, "col_media1", "col_media2", "col_media3", "media"]


def _ids(rows: list[dict[str, Any]]) -> list[int]:
    return [int(r["id"]) for r in rows]


def _truth_window(truth: pl.DataFrame, kind: str | None, first: str, last: str) -> pl.DataFrame:
    picked = truth.filter(
        pl.col("local_date").is_between(date.fromisoformat(first), date.fromisoformat(last))
    )
    if kind is not None:
        picked = picked.filter(pl.col("kind") == kind)
    return picked.sort(["sent_at", "id"], descending=True)


def test_rows_shape_and_string_values(sandbox: SandboxServer) -> None:
    rows = window(sandbox, "getSMS", "2024-03-01", "2024-03-31")
    assert rows
    assert all(list(r) == ROW_FIELDS for r in rows)
    assert all(isinstance(v, str) for r in rows for v in r.values())
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", r["date"]) for r in rows)
    assert {r["type"] for r in rows} == {"0", "1"}
    mms = window(sandbox, "getMMS", "2024-03-01", "2024-03-31")
    assert mms
    assert all(list(r) == MMS_FIELDS for r in mms)
    assert all(isinstance(r["media"], list) for r in mms)


def test_getmms_rows_come_under_sms(sandbox: SandboxServer) -> None:
    answer = api(sandbox, "getMMS", **{"from": "2024-03-01", "to": "2024-03-31"})
    assert set(answer) == {"status", "sms"}


def test_default_limit_is_50_and_newest_first(sandbox: SandboxServer, truth: pl.DataFrame) -> None:
    answer = api(sandbox, "getSMS", **{"from": "2024-01-01", "to": "2024-03-31"})
    rows = answer["sms"]
    assert len(rows) == 50
    expected = _truth_window(truth, "sms", "2024-01-01", "2024-03-31")
    assert expected.height > 50
    assert _ids(rows) == expected["id"].head(50).to_list()
    dates = [r["date"] for r in rows]
    assert dates == sorted(dates, reverse=True)


def test_a_limit_beyond_any_account_is_every_row(sandbox: SandboxServer) -> None:
    full = window(sandbox, "getSMS", "2024-05-01", "2024-06-30")
    # a row count, not a 64-bit number (nor Python's 4,300-digit int): never a crash
    for limit in (10**6, 2**64, 10**40, "9" * 5000):
        days = {"from": "2024-05-01", "to": "2024-06-30"}
        assert api(sandbox, "getSMS", **days, limit=limit)["sms"] == full


def test_a_cut_answer_lacks_the_oldest_rows(sandbox: SandboxServer) -> None:
    full = window(sandbox, "getSMS", "2024-05-01", "2024-06-30")
    cut = api(sandbox, "getSMS", **{"from": "2024-05-01", "to": "2024-06-30", "limit": 25})["sms"]
    assert cut == full[:25]
    assert min(r["date"] for r in cut) >= max(r["date"] for r in full[25:])


def test_union_of_windows_is_the_truth(sandbox: SandboxServer, truth: pl.DataFrame) -> None:
    for method, kind, column in (
        ("getSMS", "sms", "message_getsms"),
        ("getMMS", "mms", "message_getmms"),
    ):
        seen: list[dict[str, Any]] = []
        first = date(2023, 11, 1)
        while first <= date(2024, 12, 31):
            last = min(first + timedelta(days=91), date(2024, 12, 31))  # 92 days
            seen += window(sandbox, method, first.isoformat(), last.isoformat())
            first = last + timedelta(days=1)
        got = pl.DataFrame(seen).select(
            pl.col("id").cast(pl.Int64),
            "date",
            "type",
            "did",
            "contact",
            "message",
            "carrier_status",
        )
        expected = truth.filter(pl.col("kind") == kind).select(
            "id",
            date="date_local",
            type=pl.col("type").cast(pl.Utf8),
            did="did_rendered",
            contact="contact",
            message=column,
            carrier_status="carrier_status",
        )
        assert got.height == expected.height
        assert got.sort("id").equals(expected.sort("id"))


def test_to_is_inclusive_and_days_are_local(sandbox: SandboxServer, truth: pl.DataFrame) -> None:
    rows = window(sandbox, "getSMS", "2024-01-31", "2024-01-31", all_messages=1)
    assert sorted(_ids(rows)) == sorted(
        _truth_window(truth, None, "2024-01-31", "2024-01-31")["id"].to_list()
    )
    assert "2024-01-31 23:59:59" in {r["date"] for r in rows}
    assert "2024-02-01 00:00:00" not in {r["date"] for r in rows}


def test_empty_rows_are_returned(sandbox: SandboxServer, truth: pl.DataFrame) -> None:
    empty = truth.filter((pl.col("body") == "") & (pl.col("media_count") == 0))
    for kind, method in (("sms", "getSMS"), ("mms", "getMMS")):
        row = empty.filter(pl.col("kind") == kind).row(0, named=True)
        got = api(sandbox, method, **{kind: row["id"]})["sms"]
        assert got[0]["message"] == ""
        if kind == "mms":
            assert got[0]["media"] == ["", "", ""]
            assert got[0]["col_media1"] == ""


def test_colliding_ids_are_two_messages(sandbox: SandboxServer, truth: pl.DataFrame) -> None:
    sms = truth.filter(pl.col("kind") == "sms")
    both = truth.filter((pl.col("kind") == "mms") & pl.col("id").is_in(sms["id"].implode()))
    shared = int(both["id"][0])
    as_sms = api(sandbox, "getSMS", sms=shared)["sms"]
    as_mms = api(sandbox, "getMMS", mms=shared)["sms"]
    assert len(as_sms) == len(as_mms) == 1
    assert as_sms[0]["id"] == as_mms[0]["id"] == str(shared)
    expected = truth.filter(pl.col("id") == shared).sort("kind", descending=True)
    assert [as_sms[0]["date"], as_mms[0]["date"]] == expected["date_local"].to_list()


def test_all_messages_both_ways(sandbox: SandboxServer, truth: pl.DataFrame) -> None:
    days = ("2024-06-01", "2024-07-31")
    everything = _truth_window(truth, None, *days)
    by_sms = window(sandbox, "getSMS", *days, all_messages=1)
    by_mms = window(sandbox, "getMMS", *days, all_messages=1)
    assert sorted(_ids(by_sms)) == sorted(_ids(by_mms)) == sorted(everything["id"].to_list())
    assert all(list(r) == ROW_FIELDS for r in by_sms)  # MMS rows in getSMS carry no media fields
    sms_ids = set(everything.filter(pl.col("kind") == "sms")["id"]) - set(
        everything.filter(pl.col("kind") == "mms")["id"]
    )
    sms_rows = [r for r in by_mms if int(r["id"]) in sms_ids]
    assert sms_rows
    # no field says "this is an SMS": an SMS row reads exactly as a text-only MMS does
    text_only_ids = set(
        everything.filter((pl.col("kind") == "mms") & (pl.col("media_count") == 0))["id"]
    ) - set(everything.filter(pl.col("kind") == "sms")["id"])
    text_only = [r for r in by_mms if int(r["id"]) in text_only_ids]
    assert text_only
    for row in [*sms_rows, *text_only]:
        assert list(row) == [*ROW_FIELDS, "col_media1", "col_media2", "col_media3", "media"]
        assert row["media"] == ["", "", ""]
        assert (row["col_media1"], row["col_media2"], row["col_media3"]) == ("", "", "")
    # getSMS keeps an MMS row's text intact; getMMS strips it
    mms_ids = set(everything.filter(pl.col("kind") == "mms")["id"]) - set(
        everything.filter(pl.col("kind") == "sms")["id"]
    )
    rows = {int(r["id"]): r for r in by_sms if int(r["id"]) in mms_ids}
    bodies = dict(everything.filter(pl.col("kind") == "mms").select("id", "body").iter_rows())
    assert all(unquote_plus(r["message"]) == bodies[i] for i, r in rows.items())


def test_all_messages_is_ignored_with_an_id(sandbox: SandboxServer, truth: pl.DataFrame) -> None:
    one = truth.filter(pl.col("kind") == "sms").row(5, named=True)
    rows = api(sandbox, "getSMS", sms=one["id"], all_messages=1)["sms"]
    assert _ids(rows) == [one["id"]]


def test_getmms_strips_non_latin_and_uses_entities(
    sandbox: SandboxServer, truth: pl.DataFrame
) -> None:
    showcase = truth.filter(
        (pl.col("kind") == "sms") & pl.col("body").str.starts_with("Café ☕ crème")
    ).row(0, named=True)
    day = showcase["local_date"].isoformat()
    intact = api(sandbox, "getSMS", sms=showcase["id"])["sms"][0]["message"]
    mms_rows = window(sandbox, "getMMS", day, day, all_messages=1)
    stripped = next(
        r
        for r in mms_rows
        if int(r["id"]) == showcase["id"] and r["date"] == showcase["date_local"]
    )
    assert (
        unquote_plus(intact)
        == showcase["body"]
        == "Café ☕ crème, naïve résumé — 😀 Привет 你好 مرحبا"
    )
    assert (
        unquote_plus(stripped["message"])
        == "Caf&eacute;  cr&egrave;me, na&iuml;ve r&eacute;sum&eacute;     "
    )


def test_getmms_escapes_quotes(sandbox: SandboxServer, truth: pl.DataFrame) -> None:
    row = truth.filter((pl.col("kind") == "mms") & pl.col("body").str.starts_with("Quote ")).row(
        0, named=True
    )
    message = api(sandbox, "getMMS", mms=row["id"])["sms"][0]["message"]
    assert unquote_plus(message) == (
        "Quote \\\"double\\\" and \\'single\\' and back\\\\slash with 1+1=2 & 50% <ok>"
    )
    as_sms = api(
        sandbox,
        "getSMS",
        **{
            "from": row["local_date"].isoformat(),
            "to": row["local_date"].isoformat(),
            "all_messages": 1,
            "limit": 1000,
        },
    )
    intact = next(
        r
        for r in as_sms["sms"]
        if int(r["id"]) == row["id"] and unquote_plus(r["message"]) == row["body"]
    )
    assert intact


def test_message_is_url_encoded_plus_is_space(sandbox: SandboxServer, truth: pl.DataFrame) -> None:
    row = truth.filter(pl.col("body") == "a + b").row(0, named=True)
    method, key = ("getSMS", "sms") if row["kind"] == "sms" else ("getMMS", "mms")
    message = api(sandbox, method, **{key: row["id"]})["sms"][0]["message"]
    assert message == "a+%2B+b"
    assert unquote_plus(message) == "a + b"
    multiline = truth.filter((pl.col("kind") == "sms") & pl.col("body").str.contains("\n")).row(
        0, named=True
    )
    encoded = api(sandbox, "getSMS", sms=multiline["id"])["sms"][0]["message"]
    assert " " not in encoded
    assert "\n" not in encoded
    assert "%0A" in encoded
    assert unquote_plus(encoded) == multiline["body"]


def test_e164_did_renders_did_and_contact(sandbox: SandboxServer) -> None:
    e164, nanp = sandbox.account.dids[1], sandbox.account.dids[0]
    rows = window(sandbox, "getSMS", "2024-01-01", "2024-03-31", did=e164)
    assert rows
    assert all(r["did"] == "+1" + e164 for r in rows)
    assert all(re.fullmatch(r"\+\d{8,15}|\d{5,6}", r["contact"]) for r in rows)
    assert any(r["contact"].startswith("+1") for r in rows)
    # the filter takes either form of the DID
    assert window(sandbox, "getSMS", "2024-01-01", "2024-03-31", did="+1" + e164) == rows
    others = window(sandbox, "getSMS", "2024-01-01", "2024-03-31", did=nanp)
    assert others
    assert all(r["did"] == nanp for r in others)
    assert all(not r["contact"].startswith("+") for r in others)


def test_filters(sandbox: SandboxServer, truth: pl.DataFrame) -> None:
    days = ("2024-04-01", "2024-06-30")
    inbound = window(sandbox, "getSMS", *days, type=1)
    assert inbound
    assert {r["type"] for r in inbound} == {"1"}
    outbound = window(sandbox, "getSMS", *days, type=0)
    assert len(inbound) + len(outbound) == len(window(sandbox, "getSMS", *days))
    contact = truth.filter(
        (pl.col("kind") == "sms")
        & (pl.col("contact_kind") == "nanp")
        & (pl.col("local_date") >= date(2024, 4, 1))
    )["contact_e164"][0]
    for form in (contact, contact[1:], contact[2:]):
        rows = window(sandbox, "getSMS", *days, contact=form)
        assert rows
        assert all(r["contact"].endswith(contact[2:]) for r in rows)


def test_no_sms_and_parameter_errors(sandbox: SandboxServer) -> None:
    assert api(sandbox, "getSMS", **{"from": "2022-01-01", "to": "2022-01-31"}) == {
        "status": "no_sms"
    }
    assert api(sandbox, "getSMS") == {"status": "no_sms"}  # default: today, long after the account
    assert api(sandbox, "getSMS", sms=1) == {"status": "no_sms"}
    assert api(sandbox, "getSMS", **{"from": "2024-13-01"}) == {"status": "invalid_date"}
    assert api(sandbox, "getMMS", **{"to": "01/02/2024"}) == {"status": "invalid_date"}
    assert api(sandbox, "getSMS", did="555") == {"status": "invalid_did"}
    assert api(sandbox, "getSMS", did="5555550100") == {"status": "invalid_did"}
    assert api(sandbox, "getSMS", contact="bob") == {"status": "invalid_contact"}
    assert api(sandbox, "getSMS", sms="x1") == {"status": "invalid_sms"}


@pytest.mark.parametrize(
    ("first", "last", "ok"),
    [
        ("2024-01-01", "2024-04-01", True),  # 92 days, both ends counted
        ("2024-01-01", "2024-04-02", False),  # 93
        ("2024-03-02", "2024-03-01", False),  # from after to
        ("2024-03-01", "2024-03-01", True),
    ],
)
def test_92_day_rule(sandbox: SandboxServer, first: str, last: str, ok: bool) -> None:
    for method in ("getSMS", "getMMS"):
        answer = api(sandbox, method, **{"from": first, "to": last})
        assert (answer["status"] == "success") is ok
        if not ok:
            assert answer == {"status": "invalid_daterange"}


def test_timezone_parameter(sandbox: SandboxServer, truth: pl.DataFrame) -> None:
    sms = truth.filter(pl.col("kind") == "sms")
    winter = sms.filter(pl.col("local_date").is_between(date(2024, 1, 10), date(2024, 1, 20))).row(
        0, named=True
    )
    summer = sms.filter(pl.col("local_date").is_between(date(2024, 7, 10), date(2024, 7, 20))).row(
        0, named=True
    )

    def rendered(row: dict[str, Any], **tz: Any) -> str:
        day = row["local_date"]
        first, last = (day - timedelta(days=1)).isoformat(), (day + timedelta(days=1)).isoformat()
        rows = window(sandbox, "getSMS", first, last, **tz)
        return str(next(r["date"] for r in rows if int(r["id"]) == row["id"]))

    for row in (winter, summer):
        assert rendered(row) == row["date_local"]  # no timezone: New York with DST
        assert rendered(row, timezone=-5) == row["date_local"]  # -5 plus the DST hour: the same
    fmt = "%Y-%m-%d %H:%M:%S"
    assert rendered(winter, timezone=0) == winter["sent_at"].strftime(fmt)  # UTC in winter
    # in summer timezone=0 is UTC+1: the API adds New York's DST hour to any offset
    assert rendered(summer, timezone=0) == (summer["sent_at"] + timedelta(hours=1)).strftime(fmt)
    assert rendered(summer, timezone=2) == (summer["sent_at"] + timedelta(hours=3)).strftime(fmt)


def test_timezone_moves_the_day_filter(sandbox: SandboxServer, truth: pl.DataFrame) -> None:
    # timezone=10 puts late-evening New York messages on the next day; the filter follows
    day = date(2024, 7, 10)
    shifted = truth.with_columns(
        local10=(
            pl.col("sent_at").dt.replace_time_zone(None)
            + pl.duration(hours=10)
            + pl.duration(
                hours=pl.col("sent_at")
                .dt.convert_time_zone("America/New_York")
                .dt.dst_offset()
                .dt.total_hours()
            )
        )
    )
    expected = shifted.filter((pl.col("kind") == "sms") & (pl.col("local10").dt.date() == day))
    rows = window(sandbox, "getSMS", day.isoformat(), day.isoformat(), timezone=10)
    assert sorted(_ids(rows)) == sorted(expected["id"].to_list())
    assert sorted(r["date"] for r in rows) == sorted(
        expected["local10"].dt.strftime("%Y-%m-%d %H:%M:%S")
    )
    plain = _truth_window(truth, "sms", day.isoformat(), day.isoformat())
    assert set(_ids(rows)) != set(plain["id"].to_list())


def test_dst_autumn_hour_both_sides(sandbox: SandboxServer, truth: pl.DataFrame) -> None:
    rows = window(sandbox, "getSMS", "2024-11-03", "2024-11-03", all_messages=1)
    repeated = truth.filter(
        pl.col("special").str.starts_with("dst_autumn_repeat")
        & (pl.col("local_date") == date(2024, 11, 3))
    )
    got = {(int(r["id"]), r["date"]) for r in rows}
    assert set(zip(repeated["id"], repeated["date_local"], strict=True)) <= got
    one_thirty = [r for r in rows if r["date"] == "2024-11-03 01:30:00"]
    assert len(one_thirty) >= 2  # once in EDT, once in EST
