"""reconcile: the kind rule, text from getSMS, media from getMMS, rejects, duplicates."""

from __future__ import annotations

import json
import zoneinfo
from urllib.parse import quote_plus

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tests.transform.api_rows import CONTACT, DID, mms_row, run, sms_row, utc
from transform.raw import raw_frame
from transform.reconcile import reconcile
from transform.schemas import MEDIA_SCHEMA, MESSAGES_SCHEMA, REJECTED_SCHEMA

EMOJI_TEXT = "Café ☕ 你好 😀"
STRIPPED = "Café  "  # what getMMS shows of it once decoded: non-Latin-1 gone


def _getmms_rendered(text: str) -> str:
    """getMMS's `message` for a Latin-1-only text: addslashes + entities, then encoded."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("'", "\\'")
    return quote_plus(escaped.replace("é", "&eacute;"))


def test_the_kind_rule_on_a_small_batch() -> None:
    url = "https://voip.ms/media/{}/media.jpg".format
    sms = [
        sms_row(100, "2024-01-15 10:00:00", "plain sms", type_=0, status="Delivered"),
        # MMS 100: same id as SMS 100 from the other counter, but another date
        sms_row(100, "2024-01-15 11:00:00", EMOJI_TEXT, status="Information not available"),
        sms_row(200, "2024-01-15 12:00:00", "text only"),  # MMS without media
        sms_row(201, "2024-01-15 12:05:00", "five pictures", type_=0, status="Message sent"),
        sms_row(202, "2024-01-15 12:10:00", ""),  # empty row: no text, no media
        sms_row(300, "2024-07-01 09:00:00", "to a short code", type_=0, contact="262966"),
        sms_row(301, "2024-07-01 09:01:00", "e164 did", did="+15145550100"),
    ]
    mms = [
        mms_row(100, "2024-01-15 11:00:00", STRIPPED, media=[url(1)]),
        mms_row(200, "2024-01-15 12:00:00", "text only"),
        mms_row(
            201, "2024-01-15 12:05:00", "five pictures", type_=0, media=[url(n) for n in range(5)]
        ),
        mms_row(202, "2024-01-15 12:10:00", ""),
    ]
    mms[2]["col_media1"], mms[2]["col_media2"], mms[2]["col_media3"] = url(0), url(1), url(2)
    result = run(sms, mms)

    n = 7
    expected = pl.DataFrame(
        {
            "provider": ["voipms"] * n,
            "account": ["main"] * n,
            "kind": ["sms", "mms", "mms", "mms", "mms", "sms", "sms"],
            "message_id": ["100", "100", "200", "201", "202", "300", "301"],
            "direction": [
                "outbound",
                "inbound",
                "inbound",
                "outbound",
                "inbound",
                "outbound",
                "inbound",
            ],
            "did": ["+15145550100"] * n,
            "contact": ["+14165550199"] * 5 + ["262966", "+14165550199"],
            "contact_kind": ["nanp"] * 5 + ["short_code", "nanp"],
            "sent_at": [
                utc(2024, 1, 15, 15),
                utc(2024, 1, 15, 16),
                utc(2024, 1, 15, 17),
                utc(2024, 1, 15, 17, 5),
                utc(2024, 1, 15, 17, 10),
                utc(2024, 7, 1, 13),
                utc(2024, 7, 1, 13, 1),
            ],
            "sent_at_local": [str(row["date"]) for row in sms],
            "body": [
                "plain sms",
                EMOJI_TEXT,
                "text only",
                "five pictures",
                "",
                "to a short code",
                "e164 did",
            ],
            "body_raw": [str(row["message"]) for row in sms],
            "body_source": ["getSMS"] * n,
            "carrier_status": [
                "Delivered",
                "Information not available",
                "",
                "Message sent",
                "",
                "",
                "",
            ],
            "status": [
                "delivered",
                "received",
                "received",
                "sent",
                "received",
                "unknown",
                "received",
            ],
            "segments": [1, 1, 1, 1, 0, 1, 1],
            "encoding": ["gsm7", "ucs2", "gsm7", "gsm7", "gsm7", "gsm7", "gsm7"],
            "media_count": [0, 1, 0, 5, 0, 0, 0],
            "sent_at_other_reading": [None] * 7,  # no time in a repeated hour
        },
        schema=MESSAGES_SCHEMA,
    )
    assert_frame_equal(result.messages, expected)

    expected_media = pl.DataFrame(
        {
            "provider": ["voipms"] * 6,
            "account": ["main"] * 6,
            "message_id": ["100"] + ["201"] * 5,
            "position": [1, 1, 2, 3, 4, 5],
            "url": [url(1)] + [url(n) for n in range(5)],
        },
        schema=MEDIA_SCHEMA,
    )
    assert_frame_equal(result.media, expected_media)
    assert result.rejected.height == 0
    assert (result.matched, result.duplicates) == (4, 0)


def test_getmms_row_without_getsms_partner_keeps_its_own_text() -> None:
    mms = [mms_row(7, text="x", media=["u"])]
    mms[0]["message"] = _getmms_rendered('caf\u00e9 "ok" it\'s')
    result = run([], mms)
    row = result.messages.select("kind", "body", "body_source", "media_count").row(0)
    assert row == ("mms", 'café "ok" it\'s', "getMMS", 1)
    assert result.matched == 0


def test_match_survives_number_formats_but_not_other_differences() -> None:
    sms = [
        sms_row(1, did="5145550100", contact="4165550199"),
        sms_row(2, "2024-01-15 10:24:17"),  # one second off: a different message
        sms_row(3, type_=0),
    ]
    mms = [
        mms_row(1, did="+15145550100", contact="+14165550199", media=["u"]),
        mms_row(2, "2024-01-15 10:24:18", media=["v"]),
        mms_row(3, type_=1, media=["w"]),
    ]
    result = run(sms, mms)
    kinds = result.messages.select("kind", "message_id", "body_source").rows()
    assert kinds == [
        ("mms", "1", "getSMS"),
        ("sms", "2", "getSMS"),
        ("sms", "3", "getSMS"),
        ("mms", "2", "getMMS"),
        ("mms", "3", "getMMS"),
    ]
    assert result.matched == 1


def test_duplicates_are_removed_the_last_copy_kept() -> None:
    first = sms_row(5, text="hi", type_=0, status="Queued")
    again = sms_row(5, text="hi", type_=0, status="Delivered")
    numeric = {**again, "id": 5}  # the same message with the id as a number
    result = run([first, again, numeric, sms_row(6)], [mms_row(9, media=["u"])] * 2)
    assert result.messages.select("kind", "message_id", "status").rows() == [
        ("sms", "5", "delivered"),
        ("sms", "6", "received"),
        ("mms", "9", "received"),
    ]
    assert result.duplicates == 3
    assert result.media.height == 1


def test_unreadable_rows_are_rejected_with_reasons() -> None:
    good = sms_row(1)
    sms: list[dict[str, object]] = [
        good,
        {k: v for k, v in good.items() if k != "id"},
        {**good, "id": "12a"},
        {**good, "date": "2024-02-30 10:00:00"},
        {**good, "date": None},
        {**good, "date": "2024-03-10 02:30:00"},
        {**good, "date": "9999-12-31 12:00:00"},  # past what a UTC year partition holds
        {**good, "type": "2"},
        {**good, "did": "", "contact": None},
        {"id": "x", "type": "", "date": "soon"},
    ]
    result = run(sms)
    assert result.messages.height == 1
    expected = pl.DataFrame(
        {
            "provider": ["voipms"] * 9,
            "account": ["main"] * 9,
            "source": ["getSMS"] * 9,
            "record": [
                json.dumps(row, separators=(",", ":"), ensure_ascii=False) for row in sms[1:]
            ],
            "reason": [
                "missing id",
                "id is not a number: '12a'",
                "date is not a YYYY-MM-DD HH:MM:SS local time: '2024-02-30 10:00:00'",
                "missing date",
                "date '2024-03-10 02:30:00' does not exist in America/New_York (skipped by DST)",
                "date is outside the years 1970 to 2999: '9999-12-31 12:00:00'",
                "type is neither 0 (sent) nor 1 (received): '2'",
                "missing did; missing contact",
                "id is not a number: 'x'; date is not a YYYY-MM-DD HH:MM:SS local time: 'soon';"
                " missing type; missing did; missing contact",
            ],
        },
        schema=REJECTED_SCHEMA,
    )
    assert_frame_equal(result.rejected, expected)


def test_a_repeated_unreadable_record_is_rejected_once() -> None:
    bad = {**sms_row(1), "type": "9"}
    result = run([bad, bad], [{**mms_row(1), "type": "9"}])
    assert result.rejected["source"].to_list() == ["getSMS", "getMMS"]
    assert result.duplicates == 1


def test_one_id_twice_in_a_kind_keeps_the_first_and_rejects_the_other() -> None:
    sms = [sms_row(8, "2024-01-15 10:00:00", "a"), sms_row(8, "2024-01-16 10:00:00", "b")]
    result = run(sms)
    assert result.messages.select("message_id", "body").rows() == [("8", "a")]
    assert result.rejected["reason"].to_list() == [
        "another SMS of this batch has id 8 with a different date, type, did or contact"
    ]
    assert json.loads(result.rejected["record"][0])["message"] == "b"


def test_frames_of_several_chunks() -> None:
    # concatenated windows; polars 2.1 panicked formatting a reason on such frames
    sms = pl.concat(
        [raw_frame([sms_row(5)], "getSMS"), raw_frame([sms_row(6)], "getSMS")], rechunk=False
    )
    mms = [
        mms_row(id_, f"2024-01-{day} 10:00:00") for day in (15, 16) for id_ in (14, 8)
    ]  # the two clashing rows both fall in the second chunk of the candidates
    result = reconcile(sms, raw_frame(mms, "getMMS"), provider="p", account="a", timezone="UTC")
    assert result.messages["message_id"].to_list() == ["5", "6", "14", "8"]
    assert result.rejected["reason"].str.starts_with("another MMS").to_list() == [True, True]


def test_unreadable_rows_of_several_chunks_get_their_reasons() -> None:
    # as the answer parts of a window are: one raw frame per part, never copied into one
    parts = [
        [sms_row(1), sms_row(2, "2024-13-40 10:00:00")],
        [sms_row(3), sms_row(4, "2024-03-10 02:30:00"), sms_row(5, type_="7")],
        [sms_row(6)],
    ]
    sms = pl.concat([raw_frame(rows, "getSMS") for rows in parts], rechunk=False)
    assert sms.n_chunks() == 3
    result = reconcile(
        sms, raw_frame([], "getMMS"), provider="p", account="a", timezone="America/New_York"
    )
    assert result.messages["message_id"].to_list() == ["1", "3", "6"]
    assert [reason[:24] for reason in result.rejected["reason"]] == [
        "date is not a YYYY-MM-DD",
        "date '2024-03-10 02:30:0",
        "type is neither 0 (sent)",
    ]


def test_autumn_repeat_through_reconcile() -> None:
    sms = [
        sms_row(11, "2024-11-03 01:40:00"),
        sms_row(12, "2024-11-03 01:20:00"),
        sms_row(13, "2024-11-03 01:45:00"),
    ]
    result = run(sms)
    assert result.messages["sent_at"].to_list() == [
        utc(2024, 11, 3, 5, 40),
        utc(2024, 11, 3, 6, 20),
        utc(2024, 11, 3, 6, 45),
    ]
    assert result.messages["sent_at_local"].to_list() == [str(row["date"]) for row in sms]


def test_plain_text_bodies_and_raw_kept() -> None:
    sms = [
        sms_row(1, text="2+2 = 4, 100% sure", encode=False),
        sms_row(2, text="2+2 = 4, 100% sure"),
    ]
    result = run(sms)
    assert result.messages["body"].to_list() == ["2+2 = 4, 100% sure"] * 2
    assert result.messages["body_raw"].to_list() == [
        "2+2 = 4, 100% sure",
        "2%2B2+%3D+4%2C+100%25+sure",
    ]


def test_empty_batch_and_frames_missing_optional_columns() -> None:
    empty = run([], [])
    assert empty.messages.schema == MESSAGES_SCHEMA
    assert empty.media.schema == MEDIA_SCHEMA
    assert empty.rejected.schema == REJECTED_SCHEMA
    # a getSMS frame built by hand, without the getMMS-only columns
    sms = raw_frame([sms_row(1)], "getSMS").drop("col_media1", "col_media2", "col_media3", "media")
    result = reconcile(sms, raw_frame([], "getMMS"), provider="p", account="a", timezone="UTC")
    assert result.messages.select("message_id", "sent_at").row(0) == (
        "1",
        utc(2024, 1, 15, 10, 24, 16),
    )


def test_an_unknown_zone_is_an_error() -> None:
    with pytest.raises(zoneinfo.ZoneInfoNotFoundError):
        run([sms_row(1)], timezone="Mars/Olympus_Mons")


def test_defaults_match_the_module_constants() -> None:
    assert (DID, CONTACT) == ("5145550100", "4165550199")
