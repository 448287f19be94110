"""Phone numbers to E.164 and their kind (NANP, short code, international, other)."""

from __future__ import annotations

from typing import Final

import polars as pl

_SEPARATORS: Final = r"[\s\-().]"
_NANP: Final = r"^(?:\+1|1|001)?(\d{10})$"
_INTERNATIONAL_PLUS: Final = r"^\+[2-9]\d{6,14}$"
_INTERNATIONAL_DIGITS: Final = r"^[2-9]\d{10,14}$"
_EXIT_CODE: Final = r"^(?:011|00)([2-9]\d{6,14})$"
"""011 (dialling out of NANP) or 00 (most elsewhere) before a country code and number."""
_SHORT_CODE: Final = r"^\d{3,6}$"


def _cleaned(number: pl.Expr) -> pl.Expr:
    return number.str.replace_all(_SEPARATORS, "")


def contact_kind(number: pl.Expr) -> pl.Expr:
    """'nanp', 'short_code', 'international' or 'other' for raw numbers; null stays null."""
    cleaned = _cleaned(number)
    return (
        pl.when(number.is_null())
        .then(pl.lit(None, dtype=pl.Utf8))
        .when(cleaned.str.contains(_NANP))
        .then(pl.lit("nanp"))
        .when(
            cleaned.str.contains(_INTERNATIONAL_PLUS)
            | cleaned.str.contains(_INTERNATIONAL_DIGITS)
            | cleaned.str.contains(_EXIT_CODE)
        )
        .then(pl.lit("international"))
        .when(cleaned.str.contains(_SHORT_CODE))
        .then(pl.lit("short_code"))
        .otherwise(pl.lit("other"))
    )


def e164_number(number: pl.Expr) -> pl.Expr:
    """Raw numbers in E.164 where they are NANP or international, else as given.

    Spaces, dashes, parentheses and dots are removed first. Then:

    - 10 digits, `1` + 10 digits, `+1` + 10 digits, or `001` + 10 digits (dialled from
      abroad): NANP, stored as `+1XXXXXXXXXX`.
    - `+` + 7..15 digits (not `+1`): international, kept with its `+`.
    - 11..15 digits without `+` and not starting with `1` or `0`: international as the API
      renders it for DIDs in NANPA dial mode (digits without `+`), stored as `+` + digits so
      one correspondent reads the same whatever the DID's dial mode. (NANP numbers never have
      more than 11 digits, and country codes starting with 1 are all NANP.)
    - `011` or `00` (an exit code, as dialled) then 7..15 digits: international, stored as `+`
      and the digits after the exit code, so `011 44 20 7946 0958` is `+442079460958`.
      No country code starts with 0 (nor, but NANP's 1, with 1), so neither does a `+` number.
    - 3..6 digits: short code, kept as given.
    - Anything else (empty, letters, 7..9 digits, an odd `+1` length): other, kept exactly as
      received (not even the separators are removed).
    """
    cleaned = _cleaned(number)
    kind = contact_kind(number)
    return (
        pl.when(kind == "nanp")
        .then(pl.lit("+1") + cleaned.str.extract(_NANP, 1))
        .when(kind == "international")
        .then(
            pl.lit("+")
            + pl.coalesce(cleaned.str.extract(_EXIT_CODE, 1), cleaned.str.strip_chars_start("+"))
        )
        .when(kind == "short_code")
        .then(cleaned)
        .otherwise(number)
    )


def numbers_read(*numbers: pl.Series) -> pl.DataFrame:
    """Every distinct raw number of `numbers` once, with its E.164 form and kind.

    Columns `number`, `e164` (`e164_number`) and `kind` (`contact_kind`); nulls are left
    out. A window's ~100,000 rows hold a few thousand distinct numbers: reading each once and
    looking the rows up (`looked_up`) is about ten times faster than the regular
    expressions on every row.
    """
    distinct = pl.concat([series.cast(pl.Utf8) for series in numbers]).drop_nulls().unique()
    return pl.DataFrame({"number": distinct}, schema={"number": pl.Utf8}).with_columns(
        e164=e164_number(pl.col("number")), kind=contact_kind(pl.col("number"))
    )


def looked_up(number: pl.Expr, numbers: pl.DataFrame, column: str) -> pl.Expr:
    """`number` as its `column` ("e164" or "kind") in `numbers` (from `numbers_read`); a
    null stays null."""
    return number.replace_strict(
        numbers.get_column("number"),
        numbers.get_column(column),
        default=None,
        return_dtype=pl.Utf8,
    )


def e164_of(number: str) -> str:
    """One number as `e164_number` reads it (a DID typed on the command line, say)."""
    frame = pl.DataFrame({"number": [number]}, schema={"number": pl.Utf8})
    return str(frame.select(e164_number(pl.col("number").str.strip_chars())).item())
