"""Raw getSMS/getMMS rows as the API sends them, and reconcile() over them, for the tests."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote_plus

from transform.raw import raw_frame
from transform.reconcile import Reconciled, reconcile

DID = "5145550100"
CONTACT = "4165550199"


def sms_row(
    id_: str | int,
    date: str = "2024-01-15 10:24:16",
    text: str = "Hello",
    *,
    type_: str | int = "1",
    did: str = DID,
    contact: str = CONTACT,
    status: str = "",
    encode: bool = True,
) -> dict[str, object]:
    """A getSMS row; `text` is URL-encoded like the API does unless `encode` is False."""
    return {
        "id": id_,
        "date": date,
        "type": type_,
        "did": did,
        "contact": contact,
        "message": quote_plus(text) if encode else text,
        "carrier_status": status,
    }


def mms_row(
    id_: str | int,
    date: str = "2024-01-15 10:24:16",
    text: str = "Hello",
    *,
    media: list[str] | None = None,
    **fields: object,
) -> dict[str, object]:
    """A getMMS row: the getSMS fields plus col_media1..3 and `media` padded to three."""
    row = sms_row(id_, date, text, **fields)  # type: ignore[arg-type]
    urls = list(media or [])
    padded = urls + [""] * max(0, 3 - len(urls))
    row.update(
        {
            "col_media1": padded[0],
            "col_media2": padded[1],
            "col_media3": padded[2],
            "media": padded,
        }
    )
    return row


def run(
    sms: list[dict[str, object]],
    mms: list[dict[str, object]] | None = None,
    timezone: str = "America/New_York",
) -> Reconciled:
    """reconcile() over raw frames of the given rows, checking that every row is accounted."""
    result = reconcile(
        raw_frame(sms, "getSMS"),
        raw_frame(mms or [], "getMMS"),
        provider="voipms",
        account="main",
        timezone=timezone,
    )
    assert result.rows_accounted == len(sms) + len(mms or [])
    return result


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    """An aware UTC datetime, as sent_at values come back."""
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
