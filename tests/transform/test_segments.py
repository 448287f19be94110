"""GSM-7 vs UCS-2 and segment counts at the boundaries."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from transform.segments import GSM7_BASIC, GSM7_EXTENSION, encoding, segments


def _measured(*bodies: str | None) -> list[tuple[str, int]]:
    frame = pl.DataFrame({"body": list(bodies)}, schema={"body": pl.Utf8})
    return frame.select(encoding(pl.col("body")), segments(pl.col("body")).alias("n")).rows()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("", ("gsm7", 0)),
        ("a" * 160, ("gsm7", 1)),
        ("a" * 161, ("gsm7", 2)),
        ("a" * 306, ("gsm7", 2)),  # 153 * 2
        ("a" * 307, ("gsm7", 3)),
        ("€" * 80, ("gsm7", 1)),  # extension characters take two septets: 160
        ("€" * 80 + "a", ("gsm7", 2)),  # 161 septets
        ("{" * 153, ("gsm7", 2)),  # 306 septets
        ("[" * 153 + "a", ("gsm7", 3)),  # 307 septets
        ("\f", ("gsm7", 1)),
        ("é" * 70 + "a" * 90, ("gsm7", 1)),  # é is in the basic set
        ("ç", ("ucs2", 1)),  # only capital Ç is GSM 03.38
        ("ы" * 70, ("ucs2", 1)),
        ("ы" * 71, ("ucs2", 2)),
        ("ы" * 134, ("ucs2", 2)),  # 67 * 2
        ("ы" * 135, ("ucs2", 3)),
        ("😀" * 35, ("ucs2", 1)),  # outside the BMP: two UTF-16 units each, 70
        ("😀" * 35 + "a", ("ucs2", 2)),  # 71 units
        ("a" * 159 + "😀", ("ucs2", 3)),  # one emoji turns a GSM-7 text into UCS-2: 161
        ("Line\r\nnext", ("gsm7", 1)),
        ("tab\there", ("ucs2", 1)),  # TAB is not in GSM 03.38
    ],
)
def test_encoding_and_segments(body: str, expected: tuple[str, int]) -> None:
    assert _measured(body) == [expected]


def test_every_gsm7_character_is_gsm7_and_null_is_empty() -> None:
    assert _measured(GSM7_BASIC, GSM7_EXTENSION, None) == [
        ("gsm7", 1),
        ("gsm7", 1),
        ("gsm7", 0),
    ]


def test_segments_dtype_is_int32() -> None:
    frame = pl.DataFrame({"body": ["x"]}).select(segments(pl.col("body")).alias("body"))
    assert_frame_equal(frame, pl.DataFrame({"body": [1]}, schema={"body": pl.Int32}))
