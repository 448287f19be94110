"""Downloads every pending media file and records each result, file first, row second."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from extract.media import MediaItem, MediaResult, download_media, flush_to_disk
from extract.media.result_frame import results_frame
from warehouse import pending_media, record_media_results

MediaKey = tuple[str, str, str, int]
FLUSH_EVERY = 1000
FLUSH_SECONDS = 2.0
"""Results are recorded in batches: every FLUSH_EVERY results or FLUSH_SECONDS, whichever
comes first. Each batch costs a disk sync and an update that reads the whole media table
(50 ms at 160,000 attachments), so batches of 200 were a fifth of a backfill's media time;
a kill still loses at most two seconds of downloads (their files stay, only re-fetched)."""


@dataclass
class MediaOutcome:
    """How the media of one run ended."""

    stored: int = 0
    expired: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        """Every media item tried."""
        return self.stored + self.expired + self.failed


def pending_items(con: duckdb.DuckDBPyConnection) -> list[MediaItem[MediaKey]]:
    """The media the archive still lacks, as download items."""
    pending = pending_media(con)
    return [
        MediaItem(
            key=(row["provider"], row["account"], row["message_id"], row["position"]),
            url=row["url"],
        )
        for row in pending.iter_rows(named=True)
    ]


def download_pending(
    con: duckdb.DuckDBPyConnection,
    items: Sequence[MediaItem[MediaKey]],
    *,
    media_dir: Path,
    allowed_hosts: Sequence[str],
    user_agent: str,
    concurrency: int = 8,
    processes: int | None = None,
    on_result: Callable[[MediaResult[MediaKey]], None] | None = None,
) -> MediaOutcome:
    """Fetch `items`; their rows are updated in batches, so a crash keeps what was done."""
    outcome = MediaOutcome()
    batch: list[MediaResult[MediaKey]] = []
    flushed_at = time.monotonic()

    def flush() -> None:
        nonlocal flushed_at
        flushed_at = time.monotonic()
        if batch:
            # Files first, rows second: the batch's files reach the disk before its rows.
            flush_to_disk()
            record_media_results(con, results_frame(batch).rename({"error": "last_error"}))
            batch.clear()

    def done(result: MediaResult[MediaKey]) -> None:
        setattr(outcome, result.state, getattr(outcome, result.state) + 1)
        batch.append(result)
        if len(batch) >= FLUSH_EVERY or time.monotonic() - flushed_at >= FLUSH_SECONDS:
            flush()
        if on_result is not None:
            on_result(result)

    try:
        download_media(
            items,
            media_dir=media_dir,
            allowed_hosts=allowed_hosts,
            user_agent=user_agent,
            concurrency=concurrency,
            processes=processes,
            on_result=done,
            # The caller holds the data dir's writer lock: no other run can be writing here,
            # so whatever a killed run left in media/.tmp is stale now.
            stale_temp_after=0,
            durable=False,
        )
    finally:
        flush()
    return outcome
