"""Downloads every pending media file and records each result, file first, row second."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

import duckdb
import polars as pl

from extract.media import MediaItem, MediaResult, absent_files, download_each, flush_to_disk
from extract.media.records import HOST_NOT_ALLOWED, STORAGE_ERROR, host_trouble
from extract.media.result_frame import results_frame
from extract.media.storage import DAMAGED_DIR_NAME, damaged_files, set_aside_damaged
from extract.media.url_policy import url_host
from extract.media.worker_processes import processes_used
from warehouse import (
    has_requeued_media,
    pending_media,
    record_media_results,
    requeue_missing_media,
    stored_media,
)

logger = logging.getLogger("smsarchive")

MediaKey = tuple[str, str, str, int]
FLUSH_EVERY = 1000
FLUSH_SECONDS = 2.0
"""Results are recorded in batches: every FLUSH_EVERY results or FLUSH_SECONDS, whichever
comes first. Each batch costs a disk sync and an update that reads the whole media table
(50 ms at 160,000 attachments), so batches of 200 were a fifth of a backfill's media time;
a kill still loses at most two seconds of downloads (their files stay, only re-fetched)."""

FAILURES_IN_A_ROW = 32
"""Downloads that failed one after another for want of a host that answers (timeouts,
connections, 5xx: see `host_trouble`; each after its own retries), with none stored, found
expired or refused for a reason of its own between them, after which the media host is
taken to be down: the run stops its downloads and leaves the rest pending for the next run,
instead of grinding through the whole backlog (an hour for 15,000 files) and marking every
file failed."""


STORAGE_FAILURES_IN_A_ROW = 8
"""Downloads that could not be written into the media folder one after another (a full disk,
a folder that cannot be written), after which the run stops its downloads as for a host that
is down: every file of the backlog would be fetched only to fail the same way."""


class _MediaHostDown(Exception):
    """Raised from a result callback to stop the downloads (see FAILURES_IN_A_ROW)."""


@dataclass
class MediaOutcome:
    """How the media of one run ended."""

    stored: int = 0
    expired: int = 0
    failed: int = 0
    left: int = 0
    """Files not tried, still pending: the downloads stopped early, or were held."""
    stopped: str = ""
    """Why the downloads stopped early; empty when every file was tried."""
    held: str = ""
    """Why no file was tried, by the user's own settings (no media host): said in the run's
    summary like `stopped`, but not a warning the run's record keeps."""
    refused: dict[str, int] = field(default_factory=dict)
    """Failed files whose host VOIPMS_MEDIA_HOSTS does not allow, by host[:port]."""

    @property
    def total(self) -> int:
        """Every media item tried."""
        return self.stored + self.expired + self.failed


MOST_MISSING = 0.5
"""More than this share of the stored files missing from media/ says the folder is not the
one they were stored in (a disk not mounted, a data dir moved without it) rather than that
some were deleted: nothing is then requeued or downloaded (see `check_stored_files`)."""


REDOWNLOAD_FLAG = "--redownload-missing-media"
"""The backfill and sync option that downloads again files missing from media/, however many."""


def _missing(con: duckdb.DuckDBPyConnection, media_dir: Path) -> tuple[pl.Series, pl.Series]:
    """(sha256 of the files recorded as stored that are not in `media_dir`, sha256 of every
    file recorded as stored)."""
    stored = stored_media(con)
    return (absent_files(media_dir, stored) if not stored.is_empty() else stored), stored


def _requeue(
    con: duckdb.DuckDBPyConnection, media_dir: Path, missing: pl.Series, stored: int, *, asked: bool
) -> None:
    """Make the attachments of the `missing` files pending again, and say so."""
    rows = requeue_missing_media(con, missing)
    logger.warning(
        "media: %s of the %s files recorded as stored are not in %s (%s attachments); %sthey "
        "are downloaded again (those the provider has let expire are marked expired)",
        f"{missing.len():,}",
        f"{stored:,}",
        media_dir,
        f"{rows:,}",
        f"as asked ({REDOWNLOAD_FLAG}), " if asked else "",
    )


def check_stored_files(con: duckdb.DuckDBPyConnection, media_dir: Path) -> str | None:
    """Make attachments recorded as stored whose file is not in `media_dir` pending again
    (downloaded anew, or found expired), warning with the folder's name; None then. When most
    are missing, changes nothing and returns why the media step is not to run: downloading
    into an empty mount point would fill the disk under it, and the files expired since they
    were stored would lose their record of being kept."""
    missing, stored = _missing(con, media_dir)
    if missing.is_empty():
        return None
    if missing.len() > MOST_MISSING * stored.len():
        return _most_missing(media_dir, missing.len(), stored.len())
    _requeue(con, media_dir, missing, stored.len(), asked=False)
    return None


def _most_missing(media_dir: Path, missing: int, stored: int) -> str:
    """Why nothing is downloaded when most stored files are not in `media_dir`."""
    return (
        f"{missing:,} of the {stored:,} files recorded as stored are not in "
        f"{media_dir}: is the disk that holds it mounted? No media are downloaded until "
        "they are back. If they are lost for good, restore the folder from a backup, or "
        f"run `smsarchive sync {REDOWNLOAD_FLAG}` to download again what the provider "
        "still keeps"
    )


def missing_files_line(con: duckdb.DuckDBPyConnection, media_dir: Path) -> str | None:
    """What `status` says of files recorded as stored that are not in `media_dir` (None: every
    one is there), changing nothing: what the next backfill or sync will do about them."""
    missing, stored = _missing(con, media_dir)
    if missing.is_empty():
        return None
    if missing.len() > MOST_MISSING * stored.len():
        return f"media: {_most_missing(media_dir, missing.len(), stored.len())}"
    return (
        f"media: {missing.len():,} of the {stored.len():,} files recorded as stored are not in "
        f"{media_dir}; the next backfill or sync downloads them again (those the provider "
        "has let expire are marked expired)"
    )


def redownload_missing(con: duckdb.DuckDBPyConnection, media_dir: Path) -> int:
    """Make every attachment recorded as stored whose file is not in `media_dir`, or is not
    what its name says, pending again, however many (REDOWNLOAD_FLAG: the user says the
    files are lost or damaged, not on an unmounted disk); returns how many files that is.

    Every stored file is read and hashed; a damaged one is moved to `media/.damaged/` (kept,
    not deleted), so that the download puts the right bytes under its name.
    """
    missing, stored = _missing(con, media_dir)
    if not missing.is_empty():
        _requeue(con, media_dir, missing, stored.len(), asked=True)
    present = stored.filter(~stored.is_in(missing.implode()))
    logger.info(
        "media: reading the %s files recorded as stored to find any damaged (%s)",
        f"{present.len():,}",
        REDOWNLOAD_FLAG,
    )
    damaged = damaged_files(media_dir, present.to_list())
    if damaged:
        for sha256 in damaged:
            set_aside_damaged(media_dir, sha256)
        rows = requeue_missing_media(con, pl.Series("sha256", damaged, dtype=pl.String))
        logger.warning(
            "media: %s of the %s files recorded as stored are not what their name says "
            "(damaged; %s attachments): moved to %s, and downloaded again (those the provider "
            "has let expire are marked expired)",
            f"{len(damaged):,}",
            f"{stored.len():,}",
            f"{rows:,}",
            media_dir / DAMAGED_DIR_NAME,
        )
    return missing.len() + len(damaged)


PAGE = 50_000
"""Items made, dealt to the download children and fetched at a time: half a million items
made at once held ~260 MB (and their children's shares ~90 MB more), memory a run's longer
history would cost it. A page's children start in a third of a second."""


class PendingItems(Sequence[MediaItem[MediaKey]]):
    """The media the archive still lacks, as download items made only when asked for (a page
    at a time), from the compact frame `pending_media` reads."""

    def __init__(self, pending: pl.DataFrame) -> None:
        self._rows = pending.select("provider", "account", "message_id", "position", "url")

    def __len__(self) -> int:
        return self._rows.height

    @overload
    def __getitem__(self, index: int) -> MediaItem[MediaKey]: ...

    @overload
    def __getitem__(self, index: slice) -> list[MediaItem[MediaKey]]: ...

    def __getitem__(self, index: int | slice) -> MediaItem[MediaKey] | list[MediaItem[MediaKey]]:
        if isinstance(index, slice):
            rows = self._rows[index].iter_rows()
            return [MediaItem(key=(p, a, m, n), url=url) for p, a, m, n, url in rows]
        if not -len(self) <= index < len(self):
            raise IndexError(f"item {index} of {len(self)}")
        provider, account, message_id, position, url = self._rows.row(index)
        return MediaItem(key=(provider, account, message_id, position), url=url)

    def __iter__(self) -> Iterator[MediaItem[MediaKey]]:
        for start in range(0, len(self), PAGE):
            yield from self[start : start + PAGE]


def pending_items(
    con: duckdb.DuckDBPyConnection, *, provider: str | None = None, account: str | None = None
) -> PendingItems:
    """The media the archive still lacks (of one account, when given), as download items."""
    return PendingItems(pending_media(con, provider, account))


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
    """Fetch `items`, PAGE at a time (`PendingItems` makes them as they are asked for); their
    rows are updated in batches, so a crash keeps what was done."""
    outcome = MediaOutcome()
    batch: list[MediaResult[MediaKey]] = []
    refind = has_requeued_media(con)  # once: most runs have no lost file to look for
    flushed_at = time.monotonic()
    failed_in_a_row = 0
    unwritten_in_a_row = 0

    def flush() -> None:
        nonlocal flushed_at
        flushed_at = time.monotonic()
        if batch:
            # Files first, rows second: the batch's files reach the disk before its rows.
            flush_to_disk()
            results = results_frame(batch).rename({"error": "last_error"})
            record_media_results(con, results, refind=refind)
            batch.clear()

    def done(result: MediaResult[MediaKey]) -> None:
        nonlocal failed_in_a_row, unwritten_in_a_row
        setattr(outcome, result.state, getattr(outcome, result.state) + 1)
        if result.state == "failed" and result.error == HOST_NOT_ALLOWED:
            host = url_host(result.url)
            outcome.refused[host] = outcome.refused.get(host, 0) + 1
        batch.append(result)
        if len(batch) >= FLUSH_EVERY or time.monotonic() - flushed_at >= FLUSH_SECONDS:
            flush()
        if on_result is not None:
            on_result(result)
        unwritten_in_a_row = unwritten_in_a_row + 1 if result.error == STORAGE_ERROR else 0
        if unwritten_in_a_row >= STORAGE_FAILURES_IN_A_ROW:
            raise _MediaHostDown(
                f"the last {unwritten_in_a_row} files could not be written into {media_dir} "
                "(a full disk, or a folder that cannot be written)"
            )
        if result.state != "failed" or not host_trouble(result.error):
            failed_in_a_row = 0  # the host answered (a 403, a file too large: that file's own)
        else:
            failed_in_a_row += 1
            if failed_in_a_row >= FAILURES_IN_A_ROW:
                raise _MediaHostDown(
                    f"the last {failed_in_a_row} downloads all failed "
                    f"(the last: {result.error}); the media host looks down"
                )

    spread = processes_used(min(len(items), PAGE), concurrency, processes)
    logger.info(
        "media: %d files, %d downloads in flight%s",
        len(items),
        concurrency,
        f" over {spread} processes" if spread > 1 else "",
    )
    try:
        for start in range(0, len(items), PAGE):
            download_each(
                items[start : start + PAGE],
                media_dir=media_dir,
                allowed_hosts=allowed_hosts,
                user_agent=user_agent,
                concurrency=concurrency,
                processes=processes,
                on_result=done,
                # The caller holds the data dir's writer lock: no other run can be writing
                # here, so whatever a killed run (or the page before) left in media/.tmp is
                # stale now.
                stale_temp_after=0,
                durable=False,
            )
    except _MediaHostDown as exc:
        outcome.stopped = str(exc)
        outcome.left = len(items) - outcome.total
        logger.warning("media: %s; %d files left for the next run", exc, outcome.left)
    finally:
        flush()
    return outcome


def describe_media(media: Mapping[str, Any]) -> str:
    """A run's media counts (MediaOutcome as a dict) in a few words, saying what comes next."""
    text = (
        f"media: {media['stored']:,} stored, {media['expired']:,} expired, "
        f"{media['failed']:,} failed"
    )
    if media["failed"]:
        text += " (tried again by the next runs)"
    refused = media.get("refused") or {}
    if refused:
        hosts = ", ".join(f"{host} ({count})" for host, count in sorted(refused.items()))
        text += f"; VOIPMS_MEDIA_HOSTS does not allow {hosts}: add a host to download its files"
    why = media["stopped"] or media.get("held", "")
    if why:  # with nothing pending, still said: new ones would be left too
        left = f"{media['left']:,} left for the next run: " if media["left"] else ""
        text += f"; {left}{why}"
    return text
