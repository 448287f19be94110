"""raw_frame: rows as received to Utf8 columns, media lists, JSON records."""

from __future__ import annotations

import json

import polars as pl
from polars.testing import assert_frame_equal

from transform.raw import RAW_SCHEMA, raw_frame


def test_empty_input_gives_the_full_schema() -> None:
    frame = raw_frame([], "getSMS")
    assert frame.height == 0
    assert frame.schema == RAW_SCHEMA


def test_getsms_row_as_text_with_record_and_source() -> None:
    row = {
        "id": "111120",
        "date": "2025-01-15 10:24:16",
        "type": "0",
        "did": "5551234567",
        "contact": "5551234568",
        "message": "Hello+from+VoIP.ms",
        "carrier_status": "Information not available",
    }
    frame = raw_frame([row], "getSMS")
    expected = pl.DataFrame(
        {
            **{k: [v] for k, v in row.items()},
            "col_media1": [None],
            "col_media2": [None],
            "col_media3": [None],
            "media": [None],
            "record": [json.dumps(row, separators=(",", ":"))],
            "source": ["getSMS"],
        },
        schema=RAW_SCHEMA,
    )
    assert_frame_equal(frame, expected)


def test_numbers_become_text_and_the_record_keeps_them_as_received() -> None:
    frame = raw_frame([{"id": 111120, "type": 1, "did": 5551234567, "date": 1.0}], "getSMS")
    assert frame.select("id", "type", "did", "date").row(0) == ("111120", "1", "5551234567", "1")
    assert json.loads(frame["record"][0]) == {
        "id": 111120,
        "type": 1,
        "did": 5551234567,
        "date": 1.0,
    }


def test_nested_values_and_huge_numbers_in_scalar_fields_become_json_text() -> None:
    frame = raw_frame([{"id": 2**70, "type": [1, "é"], "message": {"a": None}}], "getSMS")
    assert frame.select("id", "type", "message").row(0) == (
        str(2**70),
        '[1,"é"]',
        '{"a":null}',
    )


def test_record_is_compact_json_with_non_ascii_kept() -> None:
    frame = raw_frame([{"id": "1", "message": "Café 😀"}], "getSMS")
    assert frame["record"][0] == '{"id":"1","message":"Café 😀"}'


def test_media_as_list_or_as_object_keyed_by_position() -> None:
    rows: list[dict[str, object]] = [
        {"id": "1", "media": ["a", "", ""]},
        {"id": "2", "media": {"2": "b", "1": "a", "10": "j", "3": None}},
        {"id": "3", "media": ""},
        {"id": "4"},
        {"id": "5", "media": "https://x/1.jpg"},
    ]
    frame = raw_frame(rows, "getMMS")
    assert frame["media"].to_list() == [
        ["a", "", ""],
        ["a", "b", None, "j"],
        [],
        None,
        ["https://x/1.jpg"],
    ]


def test_a_row_that_is_not_an_object_keeps_its_json_and_no_fields() -> None:
    frame = raw_frame(["junk", None], "getSMS")  # type: ignore[list-item]
    assert frame["record"].to_list() == ['"junk"', "null"]
    assert frame["id"].to_list() == [None, None]
