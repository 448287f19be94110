"""carrier_status mapped to the canonical set; what did not map is listed."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal, assert_series_equal

from transform.status import (
    CANONICAL_STATUSES,
    canonical_status,
    statuses_of,
    unmapped_only,
    unmapped_statuses,
)


def _status(carrier_status: str | None, direction: str) -> str:
    frame = pl.DataFrame(
        {"carrier_status": [carrier_status], "direction": [direction]},
        schema={"carrier_status": pl.Utf8, "direction": pl.Utf8},
    )
    return str(frame.select(canonical_status(pl.col("carrier_status"), pl.col("direction"))).item())


@pytest.mark.parametrize(
    ("carrier_status", "expected"),
    [
        ("Delivered", "delivered"),
        ("DELIVRD", "delivered"),
        ("delivered ", "delivered"),
        ("Delivered to handset", "delivered"),
        ("Message sent", "sent"),
        ("Sent", "sent"),
        ("Sent to carrier", "sent"),
        ("ENROUTE", "sent"),
        ("Queued (retry 2/5)", "pending"),
        ("accepted", "pending"),
        ("Failed", "failed"),
        ("Undeliverable", "failed"),
        ("UNDELIV", "failed"),
        ("Undelivered", "failed"),
        ("Rejected: 30007 carrier violation", "failed"),
        ("Error 21610", "failed"),
        ("EXPIRED", "failed"),
        ("Delivery failed", "failed"),
        ("Information not available", "unknown"),
        ("", "unknown"),
        (None, "unknown"),
        ("UNKNOWN", "unknown"),
        ("ERR_UNKNOWN 0x1F", "unknown"),
        ("sentence", "unknown"),
    ],
)
def test_outbound(carrier_status: str | None, expected: str) -> None:
    assert _status(carrier_status, "outbound") == expected


@pytest.mark.parametrize(
    ("carrier_status", "expected"),
    [
        ("", "received"),
        ("Information not available", "received"),
        ("information  NOT available.", "received"),
        (None, "received"),
        ("Delivered", "received"),
        ("Failed", "failed"),
        ("gibberish", "unknown"),
    ],
)
def test_inbound(carrier_status: str | None, expected: str) -> None:
    assert _status(carrier_status, "inbound") == expected


def test_every_status_is_canonical() -> None:
    texts = ["Delivered", "Message sent", "Queued", "Failed", "", "zzz"]
    frame = pl.DataFrame({"carrier_status": texts * 2, "direction": ["inbound", "outbound"] * 6})
    got = frame.select(canonical_status(pl.col("carrier_status"), pl.col("direction")))
    assert set(got.to_series().to_list()) <= set(CANONICAL_STATUSES)


def test_unmapped_statuses_are_listed_most_frequent_first() -> None:
    messages = pl.DataFrame(
        {
            "carrier_status": ["Delivered", "ERR_UNKNOWN 0x1F", "", "zzz", "zzz", "UNKNOWN"],
            "direction": ["outbound"] * 6,
        }
    )
    expected = pl.DataFrame(
        {"carrier_status": ["zzz", "ERR_UNKNOWN 0x1F"], "messages": [2, 1]},
        schema={"carrier_status": pl.Utf8, "messages": pl.Int64},
    )
    assert_frame_equal(unmapped_statuses(messages), expected)


def test_unmapped_only_drops_no_news_and_an_explicit_unknown() -> None:
    # what the warehouse lists as read 'unknown', as a report table has it
    unknown = pl.DataFrame(
        {
            "carrier_status": [
                "Information not available",
                None,
                "",
                "UNKNOWN",
                "ERR_UNKNOWN 0x1F",
                "zzz",
            ],
            "messages": [232, 5, 64, 3, 2, 1],
        }
    )
    kept = unmapped_only(unknown)
    assert kept.rows() == [("ERR_UNKNOWN 0x1F", 2), ("zzz", 1)]


def test_statuses_of_a_frame_equal_the_expression_row_by_row() -> None:
    messages = pl.DataFrame(
        {
            "carrier_status": ["Delivered", None, "", "Delivered", "zzz", None],
            "direction": ["outbound", "inbound", "outbound", "inbound", "outbound", "outbound"],
        }
    )
    expected = messages.select(
        canonical_status(pl.col("carrier_status"), pl.col("direction")).alias("status")
    ).to_series()
    assert_series_equal(statuses_of(messages), expected)
    assert expected.to_list() == [
        "delivered",
        "received",
        "unknown",
        "received",
        "unknown",
        "unknown",
    ]
