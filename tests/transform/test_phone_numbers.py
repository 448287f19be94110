"""Numbers to E.164 with their kind; short codes and odd values kept as given."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from transform.phone_numbers import contact_kind, e164_number, e164_of, looked_up, numbers_read


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
        ("011442079460958", "+442079460958", "international"),  # dialled out of NANP
        ("011 33 6 12 34 56 78", "+33612345678", "international"),
        ("00442079460958", "+442079460958", "international"),  # dialled from elsewhere
        ("0015145550199", "+15145550199", "nanp"),
        ("0442079460958", "0442079460958", "other"),  # no country code starts with 0
        ("+0442079460958", "+0442079460958", "other"),
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


def test_one_number_reads_as_in_a_frame() -> None:
    assert e164_of(" 5145550199 ") == "+15145550199"
    assert e164_of("(514) 555-0199") == "+15145550199"
    assert e164_of("GOOGLE") == "GOOGLE"


def test_null_stays_null() -> None:
    frame = pl.DataFrame({"n": [None, "611"]}, schema={"n": pl.Utf8}).select(
        e164=e164_number(pl.col("n")), kind=contact_kind(pl.col("n"))
    )
    expected = pl.DataFrame({"e164": [None, "611"], "kind": [None, "short_code"]})
    assert_frame_equal(frame, expected)


def test_numbers_read_once_and_looked_up_equal_the_row_by_row_reading() -> None:
    raw = ["5145550199", None, "(514) 555-0199", "611", "GOOGLE", "611", "", "+447911123456"]
    dids = ["15145550100", "15145550100", None, "15145550100", "5145550101", "", "x", "611"]
    frame = pl.DataFrame({"contact": raw, "did": dids}, schema={"contact": pl.Utf8, "did": pl.Utf8})
    numbers = numbers_read(frame.get_column("did"), frame.get_column("contact"))
    assert numbers.get_column("number").is_unique().all()
    assert numbers.get_column("number").null_count() == 0
    by_lookup = frame.select(
        did=looked_up(pl.col("did"), numbers, "e164"),
        contact=looked_up(pl.col("contact"), numbers, "e164"),
        kind=looked_up(pl.col("contact"), numbers, "kind"),
    )
    row_by_row = frame.select(
        did=e164_number(pl.col("did")),
        contact=e164_number(pl.col("contact")),
        kind=contact_kind(pl.col("contact")),
    )
    assert_frame_equal(by_lookup, row_by_row)


def test_no_numbers_at_all() -> None:
    empty = pl.Series("n", [None, None], dtype=pl.Utf8)
    numbers = numbers_read(empty)
    assert numbers.height == 0
    looked = pl.DataFrame({"n": empty}).select(looked_up(pl.col("n"), numbers, "e164"))
    assert looked.to_series().to_list() == [None, None]
    assert looked.to_series().dtype == pl.Utf8
