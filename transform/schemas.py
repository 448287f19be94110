"""Column schemas of the frames transform hands to the warehouse (see docs/contracts.md)."""

from __future__ import annotations

from typing import Final

import polars as pl

MESSAGES_SCHEMA: Final = pl.Schema(
    {
        "provider": pl.Utf8(),
        "account": pl.Utf8(),
        "kind": pl.Utf8(),
        "message_id": pl.Utf8(),
        "direction": pl.Utf8(),
        "did": pl.Utf8(),
        "contact": pl.Utf8(),
        "contact_kind": pl.Utf8(),
        "sent_at": pl.Datetime("us", "UTC"),
        "sent_at_local": pl.Utf8(),
        "body": pl.Utf8(),
        "body_raw": pl.Utf8(),
        "body_source": pl.Utf8(),
        "carrier_status": pl.Utf8(),
        "status": pl.Utf8(),
        "segments": pl.Int32(),
        "encoding": pl.Utf8(),
        "media_count": pl.Int32(),
        "sent_at_other_reading": pl.Datetime("us", "UTC"),
    }
)
"""One row per message; unique on (provider, account, kind, message_id).
`sent_at_other_reading` is not archived: it tells the merge which archived sent_at an
inference in a repeated autumn hour must not replace."""

MEDIA_SCHEMA: Final = pl.Schema(
    {
        "provider": pl.Utf8(),
        "account": pl.Utf8(),
        "message_id": pl.Utf8(),
        "position": pl.Int32(),
        "url": pl.Utf8(),
    }
)
"""One row per media URL of an MMS (media belong to MMS only, so no kind column)."""

REJECTED_SCHEMA: Final = pl.Schema(
    {
        "provider": pl.Utf8(),
        "account": pl.Utf8(),
        "source": pl.Utf8(),
        "record": pl.Utf8(),
        "reason": pl.Utf8(),
    }
)
"""One row per raw record that could not be read, with the raw JSON and why."""
