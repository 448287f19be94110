"""Why a raw row cannot be read: the reasons that send it to `rejected` instead of messages."""

from __future__ import annotations

from typing import Final

import polars as pl

from extract.raw_rows import INVALID_TEXT_FIELD, NOT_AN_OBJECT_FIELD
from transform.direction import direction_from_type
from transform.local_time import YEARS, exists_locally, in_years, local_datetime

_SHOWN: Final = 60
"""Characters of an offending value quoted in a reason."""

_MARKED: Final = f'"{INVALID_TEXT_FIELD}":'
"""How INVALID_TEXT_FIELD shows in a `record` (inside a JSON string a quote is escaped)."""


_NOT_AN_OBJECT: Final = f'{{"{NOT_AN_OBJECT_FIELD}":'
"""How a row that was not a JSON object begins its `record` (it is the row's only field)."""


def _not_an_object() -> pl.Expr:
    """True where the API sent the row as another JSON value than an object."""
    return pl.col("record").str.starts_with(_NOT_AN_OBJECT).fill_null(False)


def _invalid_text() -> pl.Expr:
    """True where the row's text could not be read as sent (transform.raw.INVALID_TEXT_FIELD)."""
    return pl.col("record").str.contains(_MARKED, literal=True).fill_null(False)


def _shown(value: pl.Expr) -> pl.Expr:
    return value.str.slice(0, _SHOWN)


def _blank(value: pl.Expr) -> pl.Expr:
    return value.is_null() | (value.str.strip_chars() == "")


def _reason(failed: pl.Expr, text: pl.Expr | str) -> pl.Expr:
    message = pl.lit(text) if isinstance(text, str) else text
    return pl.when(failed).then(message).otherwise(pl.lit(None, dtype=pl.Utf8))


def readable(local: pl.Expr, direction: pl.Expr, timezone: str) -> pl.Expr:
    """True where a raw row can be read, given its naive local time and direction.

    The cheap test run on every row; `rejection_reason` explains the rows it refuses.
    """
    return (
        pl.col("id").str.strip_chars().str.contains(r"^[0-9]+$").fill_null(False)
        & exists_locally(local, timezone).fill_null(False)
        & in_years(local).fill_null(False)
        & direction.is_not_null()
        & ~_blank(pl.col("did"))
        & ~_blank(pl.col("contact"))
        & ~_invalid_text()
    )


def rejection_reason(timezone: str) -> pl.Expr:
    """Utf8 reasons (joined by '; ') why a raw row is unreadable, or null when it is fine.

    Needs the raw columns id, date, type, did, contact and record. A row is unreadable when
    its id is missing or not all digits, its date is missing, not `YYYY-MM-DD HH:MM:SS`,
    outside YEARS or inside the zone's spring-forward gap, its type is neither '0' nor '1',
    did/contact is missing, or any of its text could not be read as sent: bytes that are not
    UTF-8, a lone surrogate or a broken escape (its true text is unknown, so it is kept aside
    rather than archived with U+FFFD in place of what the provider meant). A row the API sent
    as another JSON value than an object (see NOT_AN_OBJECT_FIELD) has that one reason.
    """
    id_ = pl.col("id")
    date = pl.col("date")
    type_ = pl.col("type")
    local = local_datetime(date)
    reasons = [
        _reason(_blank(id_), "missing id"),
        _reason(
            ~_blank(id_) & ~id_.str.strip_chars().str.contains(r"^[0-9]+$"),
            pl.format("id is not a number: '{}'", _shown(id_)),
        ),
        _reason(_blank(date), "missing date"),
        _reason(
            ~_blank(date) & local.is_null(),
            pl.format("date is not a YYYY-MM-DD HH:MM:SS local time: '{}'", _shown(date)),
        ),
        _reason(
            local.is_not_null() & ~in_years(local),
            pl.format(
                "date is outside the years {} to {}: '{}'",
                pl.lit(YEARS[0]),
                pl.lit(YEARS[1]),
                _shown(date),
            ),
        ),
        _reason(
            exists_locally(local, timezone).not_(),
            pl.format("date '{}' does not exist in {} (skipped by DST)", date, pl.lit(timezone)),
        ),
        _reason(_blank(type_), "missing type"),
        _reason(
            ~_blank(type_) & direction_from_type(type_).is_null(),
            pl.format("type is neither 0 (sent) nor 1 (received): '{}'", _shown(type_)),
        ),
        _reason(_blank(pl.col("did")), "missing did"),
        _reason(_blank(pl.col("contact")), "missing contact"),
        _reason(
            _invalid_text(),
            pl.format(
                "text of {} could not be read as sent "
                "(bytes that are not UTF-8, a lone surrogate or a broken escape; shown as U+FFFD)",
                pl.col("record")
                .str.json_path_match(f"$.{INVALID_TEXT_FIELD}")
                .fill_null("a field"),
            ),
        ),
    ]
    joined = pl.concat_str(reasons, separator="; ", ignore_nulls=True)
    value = pl.col("record").str.json_path_match(f"$.{NOT_AN_OBJECT_FIELD}").fill_null("null")
    return (
        pl.when(_not_an_object())
        .then(pl.format("the row is not a JSON object: {}", _shown(value)))
        .when(joined == "")
        .then(pl.lit(None, dtype=pl.Utf8))
        .otherwise(joined)
    )
