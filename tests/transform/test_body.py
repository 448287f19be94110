"""Body decoding: URL-decoding only of encoded text, getMMS's escapes undone, raw kept."""

from __future__ import annotations

import re
from urllib.parse import quote_plus, unquote_plus

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_series_equal

from extract.voipms.sandbox.render import encode_message, getmms_text
from transform.body import _SAMPLE, body_from_raw, getmms_unescaped, url_decoded


def _decoded(*values: str | None) -> list[str | None]:
    return url_decoded(pl.Series("message", list(values), dtype=pl.Utf8)).to_list()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Hello+from+VoIP.ms", "Hello from VoIP.ms"),
        ("Caf%C3%A9+%F0%9F%98%80", "Café 😀"),
        ("1%2B1%3D2", "1+1=2"),
        ("50%25+off", "50% off"),
        ("%e2%82%ac", "€"),  # lower-case hex is fine
        ("Line+one%0ALine+two", "Line one\nLine two"),
        ("", ""),
    ],
)
def test_encoded_bodies_are_decoded(raw: str, expected: str) -> None:
    assert _decoded(raw) == [expected]


@pytest.mark.parametrize(
    "plain",
    [
        "2+2 = 4",  # a literal space: not encoded, so '+' stays '+'
        "100% sure",
        "Hello from VoIP.ms",
        "Café+crème",  # beyond ASCII: never an encoder's output
        "tab\tseparated+values",
        "a\n+b",
    ],
)
def test_plain_bodies_are_left_alone(plain: str) -> None:
    assert _decoded(plain) == [plain]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("100%", "100%"),  # a lone '%' stays
        ("%zz+%4", "%zz %4"),  # '%' not followed by two hex digits stays
        ("%2541", "%41"),  # decoded once, never twice
        ("%2541+%E2%82%AC", "%41 €"),  # a literal escape once decoded is not one left over
        ("%2541%FF", "%41\ufffd"),  # ... but a byte that is not UTF-8 still is
        ("%25%25%E2%82", "%%\ufffd"),
        ("%FF%FEok", "\ufffd\ufffdok"),  # not UTF-8: U+FFFD, the rest still read
        ("%E2%82", "\ufffd"),  # a cut multi-byte character
        ("%C0%AF", "\ufffd\ufffd"),  # an overlong form is not UTF-8
        ("%ED%A0%80", "\ufffd\ufffd\ufffd"),  # an encoded surrogate is not UTF-8
    ],
)
def test_broken_escapes_do_not_crash(raw: str, expected: str) -> None:
    assert _decoded(raw) == [expected]


def test_null_stays_null_and_neighbours_are_untouched() -> None:
    assert _decoded(None, "a+b", "%FF", "%EF%BF%BD") == [None, "a b", "\ufffd", "\ufffd"]


def test_the_single_word_ambiguity_is_read_as_encoded() -> None:
    # Documented: a plain one-word body holding '+' cannot be told from an encoded one.
    assert _decoded("C++") == ["C  "]


def test_getmms_escapes_are_undone_quotes_first_then_entities() -> None:
    text = pl.Series(
        ['caf&eacute; \\"q\\" it\\\'s C:\\\\Users', "&#233;t&eacute;", "AT&T", "\\n stays"]
    )
    assert getmms_unescaped(text).to_list() == [
        'café "q" it\'s C:\\Users',
        "été",
        "AT&T",
        "\\n stays",
    ]


def test_getsms_body_gets_no_getmms_unescaping() -> None:
    raw = pl.Series("message", [quote_plus('&eacute; \\"x\\"')])
    assert body_from_raw(raw, source="getSMS").to_list() == ['&eacute; \\"x\\"']
    assert body_from_raw(raw, source="getMMS").to_list() == ['é "x"']


def test_missing_message_reads_as_empty_body() -> None:
    raw = pl.Series("message", [None, "x"], dtype=pl.Utf8)
    assert_series_equal(body_from_raw(raw, source="getSMS"), pl.Series("body", ["", "x"]))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(), min_size=1, max_size=20))
def test_quote_plus_round_trips_for_any_text(texts: list[str]) -> None:
    encoded = [quote_plus(text) for text in texts]
    assert _decoded(*encoded) == texts


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(codec="ascii")), min_size=1, max_size=20))
def test_any_ascii_text_decodes_like_python(texts: list[str]) -> None:
    expected = [
        unquote_plus(text, errors="replace") if re.fullmatch(r"[\x21-\x7e]*", text) else text
        for text in texts
    ]
    assert _decoded(*texts) == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(), min_size=1, max_size=10))
def test_getmms_rendering_decodes_to_the_latin1_part(texts: list[str]) -> None:
    # Entities typed literally by a user cannot survive getMMS: leave '&' out of this one.
    texts = [text.replace("&", "") for text in texts]
    raw = pl.Series("message", [encode_message(getmms_text(text)) for text in texts])
    expected = [re.sub("[^\x00-\xff]", "", text) for text in texts]
    assert body_from_raw(raw, source="getMMS").to_list() == expected


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.text(), min_size=1, max_size=8),
    st.lists(st.integers(min_value=0, max_value=3 * _SAMPLE - 1), min_size=8, max_size=8),
)
def test_a_large_batch_decodes_what_its_sample_did_not_show(
    texts: list[str], places: list[int]
) -> None:
    # the escaped characters are first looked for in a sample of ~_SAMPLE texts: rare ones
    # (and broken or literal escapes) away from the sampled rows must still be decoded
    encoded = ["Caf%C3%A9+au+lait"] * (3 * _SAMPLE)
    expected = ["Café au lait"] * (3 * _SAMPLE)
    for text, place in zip(texts, places, strict=False):
        encoded[place] = quote_plus(text)
        expected[place] = text
    encoded[1], expected[1] = "100%25+%F0%9F%8E%89%2541", "100% 🎉%41"
    encoded[3], expected[3] = "broken%E2%82+%zz", "broken\ufffd %zz"
    assert _decoded(*encoded) == expected
