"""raw_frame_of_json: polars' own reading of a part's JSON, taken only where it is raw_frame's."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from tests.transform.api_rows import mms_row, sms_row
from transform.raw import _native_frame, raw_frame, raw_frame_of_json


def _same_as_raw_frame(rows: list[Any], source: str) -> bool:
    """Assert both readings agree; True when polars' reading was the one taken."""
    data = orjson.dumps(rows)
    assert_frame_equal(raw_frame_of_json(rows, data, source), raw_frame(rows, source))
    return _native_frame(data, source) is not None


def test_clean_getsms_and_getmms_parts_are_read_by_polars() -> None:
    sms = [sms_row(str(n), text=f'Bonjour é 😀 {n}\n\t"q" \\ </script>') for n in range(50)]
    mms = [mms_row(str(n), media=["https://voip.ms/a.jpg", "", "x"]) for n in range(50)]
    assert _same_as_raw_frame(sms, "getSMS")
    assert _same_as_raw_frame(mms, "getMMS")


def test_nulls_empty_media_and_unknown_text_fields_are_read_by_polars() -> None:
    rows = [
        {**sms_row("1"), "carrier_status": None, "media": [], "billing_code": "x"},
        {**sms_row("2"), "carrier_status": "Delivered", "media": None, "billing_code": None},
    ]
    assert _same_as_raw_frame(rows, "getMMS")
    # a non-object row as the client wraps it, alone in its part
    assert _same_as_raw_frame([{"smsarchive_not_an_object": 3}], "getSMS")


@pytest.mark.parametrize(
    "rows",
    [
        pytest.param([sms_row("1"), sms_row("2", type_=0)], id="a number among texts"),
        pytest.param([sms_row("1"), {"id": "2", "date": "2024-01-15 10:24:16"}], id="keys missing"),
        pytest.param(
            [sms_row("1"), dict(reversed(list(sms_row("2").items())))], id="keys in another order"
        ),
        pytest.param([{**sms_row("1"), "media": {"2": "b", "1": "a"}}], id="media as an object"),
        pytest.param([{**sms_row("1"), "media": "https://voip.ms/a.jpg"}], id="media as text"),
        pytest.param([{**sms_row("1"), "message": {"a": 1}}], id="an object for text"),
    ],
)
def test_what_polars_would_read_otherwise_is_left_to_raw_frame(rows: list[Any]) -> None:
    assert not _same_as_raw_frame(rows, "getSMS")


def test_bytes_that_are_not_the_rows_are_not_read() -> None:
    # the frame always describes `rows`: other bytes (even valid ones) fall back to them
    rows = [sms_row("1"), sms_row("2")]
    frame = raw_frame_of_json(rows, orjson.dumps([sms_row("3")]), "getSMS")
    assert_frame_equal(frame, raw_frame(rows, "getSMS"))
    assert_frame_equal(raw_frame_of_json([], b"[]", "getSMS"), raw_frame([], "getSMS"))
    assert _native_frame(b"[not json", "getSMS") is None


texts = st.one_of(st.none(), st.text(max_size=12), st.integers(-5, 5), st.booleans())
fields = st.sampled_from(["id", "date", "type", "did", "message", "carrier_status", "zz"])


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.dictionaries(
            fields,
            texts,
            max_size=6,
        )
        | st.builds(
            lambda row, media: {**row, "media": media}, st.just(sms_row("1")), st.lists(texts)
        ),
        max_size=6,
    )
)
def test_any_rows_read_as_raw_frame_reads_them(rows: list[dict[str, Any]]) -> None:
    _same_as_raw_frame(rows, "getMMS")
