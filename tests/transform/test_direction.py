"""type '1' is inbound, '0' outbound, anything else has no direction."""

from __future__ import annotations

import polars as pl
from polars.testing import assert_series_equal

from transform.direction import direction_from_type


def test_direction_from_type() -> None:
    types = pl.Series("type", ["1", "0", " 1 ", "2", "", None, "true", "01"], dtype=pl.Utf8)
    got = types.to_frame().select(direction_from_type(pl.col("type")).alias("type")).to_series()
    expected = pl.Series(
        "type", ["inbound", "outbound", "inbound", None, None, None, None, None], dtype=pl.Utf8
    )
    assert_series_equal(got, expected)
