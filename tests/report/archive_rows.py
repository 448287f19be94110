"""Hand-made archives for the report queries: a few messages and media rows, answers by hand."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import duckdb

from warehouse import open_warehouse

TZ = "America/New_York"
A, B, C, D = "+15550000001", "+15550000002", "+15550000003", "+15550000004"
X, Y, Z = "+15551110001", "+15551110002", "12345"
SENDER_ID = "AMAZON"
"""An alphanumeric sender: no phone number, so no one can answer it."""
ODD_NUMBER = "5551234"
"""Seven digits: no form the archive knows ('other'), but a number one may answer."""
SEEN = datetime(2024, 6, 1, tzinfo=UTC)


class Row(NamedTuple):
    """One message; `at` is the UTC instant (New York is UTC-5 in January)."""

    kind: str
    message_id: str
    direction: str
    did: str
    contact: str
    at: datetime
    status: str
    carrier_status: str
    segments: int = 1
    encoding: str = "gsm7"
    media_count: int = 0


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


CONVERSATIONS: tuple[Row, ...] = (
    # DID A with X, local Monday 2024-01-01: 10:00 in, 10:10 reply, 11:00 in, 11:30 in, 12:30 reply
    Row("sms", "1", "inbound", A, X, utc(2024, 1, 1, 15, 0), "received", "Received"),
    Row("sms", "2", "outbound", A, X, utc(2024, 1, 1, 15, 10), "delivered", "Delivered"),
    Row("sms", "3", "inbound", A, X, utc(2024, 1, 1, 16, 0), "received", "Received", 2),
    Row("sms", "4", "inbound", A, X, utc(2024, 1, 1, 16, 30), "received", "", 1, "ucs2"),
    Row("sms", "5", "outbound", A, X, utc(2024, 1, 1, 17, 30), "failed", "Undelivered"),
    # 23:30 local on Jan 1 is already Jan 2 in UTC
    Row(
        "mms", "1", "outbound", A, Y, utc(2024, 1, 2, 4, 30), "delivered", "Delivered", 0, "gsm7", 2
    ),
    # DID B: a reply in the same second as the inbound (Monday 2024-01-08 09:00 local)
    Row("sms", "6", "inbound", B, Y, utc(2024, 1, 8, 14, 0), "received", "Received"),
    Row("sms", "7", "outbound", B, Y, utc(2024, 1, 8, 14, 0), "delivered", "DELIVRD"),
    Row("sms", "8", "outbound", B, Z, utc(2024, 1, 9, 20, 0), "unknown", "Weird status"),
    # Thursday 2024-02-01 08:00 local: Z writes and gets no answer; Y gets one more message
    Row("mms", "2", "inbound", B, Z, utc(2024, 2, 1, 13, 0), "received", "", 0, "gsm7", 1),
    Row("sms", "9", "outbound", B, Y, utc(2024, 2, 1, 13, 0), "pending", "Queued"),
)

MEDIA: tuple[tuple[str, int, str | None, int | None, str], ...] = (
    # (MMS id, position, content type, bytes, state); SMS "1" shares the id of MMS "1"
    ("1", 1, "image/jpeg", 1000, "stored"),
    ("1", 2, None, None, "expired"),
    ("2", 1, "image/png", 500, "stored"),
)


def busy_days() -> list[Row]:
    """C sends 80 SMS on local 2024-03-05 (the last at 23:59) and 79 on 03-06; D sends 100."""
    rows = [
        Row(
            "sms",
            f"c5-{i}",
            "outbound",
            C,
            X,
            utc(2024, 3, 5, 15, 0) + timedelta(seconds=i),
            "delivered",
            "Delivered",
        )
        for i in range(79)
    ]
    rows.append(Row("sms", "c5-late", "outbound", C, X, utc(2024, 3, 6, 4, 59), "sent", "Sent"))
    rows += [
        Row(
            "sms",
            f"c6-{i}",
            "outbound",
            C,
            Y,
            utc(2024, 3, 6, 15, 0) + timedelta(seconds=i),
            "delivered",
            "Delivered",
        )
        for i in range(79)
    ]
    rows += [
        Row("mms", f"c6-mms-{i}", "outbound", C, Y, utc(2024, 3, 6, 16, i), "sent", "Sent", 0)
        for i in range(5)
    ]
    rows += [
        Row("sms", f"c6-in-{i}", "inbound", C, Y, utc(2024, 3, 6, 17, i), "received", "")
        for i in range(3)
    ]
    rows += [
        Row(
            "sms",
            f"d7-{i}",
            "outbound",
            D,
            Z,
            utc(2024, 3, 7, 14, 0) + timedelta(seconds=i),
            "delivered",
            "Delivered",
        )
        for i in range(100)
    ]
    return rows


def build_archive(
    path: Path, rows: Sequence[Row], media: Sequence[tuple[object, ...]] = ()
) -> Path:
    """A migrated archive at `path` holding `rows` and `media`, inserted with bound parameters."""
    con = open_warehouse(path)
    try:
        _insert(con, rows, media)
    finally:
        con.close()
    return path


def _insert(
    con: duckdb.DuckDBPyConnection, rows: Sequence[Row], media: Sequence[tuple[object, ...]]
) -> None:
    con.executemany(
        """
        INSERT INTO messages VALUES (
            'voipms', 'me@example.com', $kind, $id, $direction, $did, $contact, $contact_kind,
            $at, strftime($at AT TIME ZONE 'America/New_York', '%Y-%m-%d %H:%M:%S'),
            'hi', 'hi', 'getSMS', $carrier_status, $status, $segments, $encoding,
            $media_count, $seen, $seen
        )
        """,
        [
            {
                "kind": r.kind,
                "id": r.message_id,
                "direction": r.direction,
                "did": r.did,
                "contact": r.contact,
                "contact_kind": {Z: "short_code", SENDER_ID: "other", ODD_NUMBER: "other"}.get(
                    r.contact, "nanp"
                ),
                "at": r.at,
                "carrier_status": r.carrier_status,
                "status": r.status,
                "segments": r.segments,
                "encoding": r.encoding,
                "media_count": r.media_count,
                "seen": SEEN,
            }
            for r in rows
        ],
    )
    if not media:
        return
    con.executemany(
        """
        INSERT INTO media (provider, account, message_id, position, url, sha256, size_bytes,
                           content_type, state, first_seen_at)
        VALUES ('voipms', 'me@example.com', $id, $position, 'https://voip.ms/m/' || $id,
                CASE WHEN $state = 'stored' THEN 'ab' || $id END, $bytes, $type, $state, $seen)
        """,
        [
            {"id": m[0], "position": m[1], "type": m[2], "bytes": m[3], "state": m[4], "seen": SEEN}
            for m in media
        ],
    )
