"""Hand-built input frames with the exact columns and dtypes of docs/contracts.md."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import duckdb
import polars as pl

from warehouse import MergeResult, merge_window

PROVIDER = "voipms"
ACCOUNT = "acct-1"
WINDOW = (date(2024, 3, 1), date(2024, 3, 31))
SEEN = datetime(2024, 4, 1, 12, 0, tzinfo=UTC)

MESSAGES_SCHEMA: dict[str, Any] = {
    "provider": pl.String,
    "account": pl.String,
    "kind": pl.String,
    "message_id": pl.String,
    "direction": pl.String,
    "did": pl.String,
    "contact": pl.String,
    "contact_kind": pl.String,
    "sent_at": pl.Datetime("us", "UTC"),
    "sent_at_local": pl.String,
    "body": pl.String,
    "body_raw": pl.String,
    "body_source": pl.String,
    "carrier_status": pl.String,
    "status": pl.String,
    "segments": pl.Int32,
    "encoding": pl.String,
    "media_count": pl.Int32,
}
MEDIA_SCHEMA: dict[str, Any] = {
    "provider": pl.String,
    "account": pl.String,
    "message_id": pl.String,
    "position": pl.Int32,
    "url": pl.String,
}
REJECTED_SCHEMA: dict[str, Any] = {
    "provider": pl.String,
    "account": pl.String,
    "source": pl.String,
    "record": pl.String,
    "reason": pl.String,
}
MEDIA_RESULTS_SCHEMA: dict[str, Any] = {
    "provider": pl.String,
    "account": pl.String,
    "message_id": pl.String,
    "position": pl.Int32,
    "state": pl.String,
    "sha256": pl.String,
    "size_bytes": pl.Int64,
    "content_type": pl.String,
    "fetched_at": pl.Datetime("us", "UTC"),
    "last_error": pl.String,
}


def message(message_id: str = "100", **overrides: Any) -> dict[str, Any]:
    """One messages row; an inbound SMS unless overridden."""
    row: dict[str, Any] = {
        "provider": PROVIDER,
        "account": ACCOUNT,
        "kind": "sms",
        "message_id": message_id,
        "direction": "inbound",
        "did": "+15145550100",
        "contact": "+15145550199",
        "contact_kind": "nanp",
        "sent_at": datetime(2024, 3, 5, 15, 0, tzinfo=UTC),
        "sent_at_local": "2024-03-05 10:00:00",
        "body": "hello",
        "body_raw": "hello",
        "body_source": "getSMS",
        "carrier_status": "",
        "status": "received",
        "segments": 1,
        "encoding": "gsm7",
        "media_count": 0,
    }
    row.update(overrides)
    return row


def media_item(message_id: str, position: int, **overrides: Any) -> dict[str, Any]:
    """One media row of an MMS."""
    row: dict[str, Any] = {
        "provider": PROVIDER,
        "account": ACCOUNT,
        "message_id": message_id,
        "position": position,
        "url": f"https://voip.ms/media/{message_id}/{position}.jpg",
    }
    row.update(overrides)
    return row


def rejected_row(record: str, reason: str = "unparseable date", **overrides: Any) -> dict[str, Any]:
    """One rejected raw row."""
    row: dict[str, Any] = {
        "provider": PROVIDER,
        "account": ACCOUNT,
        "source": "getSMS",
        "record": record,
        "reason": reason,
    }
    row.update(overrides)
    return row


def media_result(message_id: str, position: int, state: str, **overrides: Any) -> dict[str, Any]:
    """One download result for record_media_results."""
    row: dict[str, Any] = {
        "provider": PROVIDER,
        "account": ACCOUNT,
        "message_id": message_id,
        "position": position,
        "state": state,
        "sha256": None,
        "size_bytes": None,
        "content_type": None,
        "fetched_at": datetime(2024, 4, 2, tzinfo=UTC),
        "last_error": None,
    }
    row.update(overrides)
    return row


def messages_frame(*rows: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=MESSAGES_SCHEMA, orient="row")


def media_frame(*rows: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=MEDIA_SCHEMA, orient="row")


def rejected_frame(*rows: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=REJECTED_SCHEMA, orient="row")


def media_results_frame(*rows: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=MEDIA_RESULTS_SCHEMA, orient="row")


def merge(
    con: duckdb.DuckDBPyConnection,
    messages: pl.DataFrame | None = None,
    media: pl.DataFrame | None = None,
    rejected: pl.DataFrame | None = None,
    *,
    seen_at: Any = SEEN,
    window: tuple[date, date] = WINDOW,
) -> MergeResult:
    """merge_window of these frames (empty where None) for the test account and window."""
    return merge_window(
        con,
        provider=PROVIDER,
        account=ACCOUNT,
        window_start=window[0],
        window_end=window[1],
        messages=messages if messages is not None else messages_frame(),
        media=media if media is not None else media_frame(),
        rejected=rejected if rejected is not None else rejected_frame(),
        seen_at=seen_at,
        sms_rows=0 if messages is None else messages.filter(pl.col("kind") == "sms").height,
        mms_rows=0 if messages is None else messages.filter(pl.col("kind") == "mms").height,
    )
