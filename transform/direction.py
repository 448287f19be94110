"""The raw `type` field to a direction: '1' received is inbound, '0' sent is outbound."""

from __future__ import annotations

import polars as pl


def direction_from_type(type_: pl.Expr) -> pl.Expr:
    """'inbound' for '1', 'outbound' for '0' (surrounding spaces ignored), else null."""
    text = type_.str.strip_chars()
    return (
        pl.when(text == "1")
        .then(pl.lit("inbound"))
        .when(text == "0")
        .then(pl.lit("outbound"))
        .otherwise(pl.lit(None, dtype=pl.Utf8))
    )
