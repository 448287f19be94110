"""The report page's HTML tables: numbers as a reader expects them."""

from __future__ import annotations

import re

import polars as pl

from warehouse.report.page import table_html


def test_floats_are_shown_in_full_with_up_to_four_decimals() -> None:
    frame = pl.DataFrame(
        {
            "did": ["+13058377113", "*"],
            "reply_rate": [0.6667, 1.0],
            "median_minutes": [4524.72, 0.5],
            "p90_minutes": [15299.28, 123456.0],
            "inbound": [12345, 7],
        }
    )
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", table_html("reply_stats", frame))
    assert cells == [
        "+13058377113", "0.6667", "4,524.72", "15,299.28", "12,345",
        "*", "1", "0.5", "123,456", "7",
    ]  # fmt: skip
