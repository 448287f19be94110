"""Numbers to E.164 with their kind; short codes and odd values kept as given."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from transform.phone_numbers import contact_kind, e164_number


@pytest.mark.parametrize(
    ("raw", "e164", "kind"),
    [
        ("5145550199", "+15145550199", "nanp"),
        ("15145550199", "+15145550199", "nanp"),
        ("+15145550199", "+15145550199", "nanp"),
        ("(514) 555-0199", "+15145550199", "nanp"),
        ("1.514.555.0199", "+15145550199", "nanp"),
        (" +1 514 555 0199 ", "+15145550199", "nanp"),
        ("447911123456", "+447911123456", "international"),  # NANPA dial mode: no '+'
        ("+447911123456", "+447911123456", "international"),
        ("+33 6 12 34 56 78", "+33612345678", "international"),
        ("+5551234567", "+5551234567", "international"),  # '+' then 10 digits is not +1
        ("12345", "12345", "short_code"),
        ("262966", "262966", "short_code"),
        ("611", "611", "short_code"),
        ("5550199", "5550199", "other"),  # 7 digits: no area code, kept as given
        ("+1234", "+1234", "other"),
        ("GOOGLE", "GOOGLE", "other"),
        ("", "", "other"),
    ],
)
def test_numbers(raw: str, e164: str, kind: str) -> None:
    frame = pl.DataFrame({"n": [raw]}).select(
        e164=e164_number(pl.col("n")), kind=contact_kind(pl.col("n"))
    )
    assert frame.row(0) == (e164, kind)


def test_null_stays_null() -> None:
    frame = pl.DataFrame({"n": [None, "611"]}, schema={"n": pl.Utf8}).select(
        e164=e164_number(pl.col("n")), kind=contact_kind(pl.col("n"))
    )
    expected = pl.DataFrame({"e164": [None, "611"], "kind": [None, "short_code"]})
    assert_frame_equal(frame, expected)
