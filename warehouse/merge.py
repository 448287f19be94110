"""Merges windows' frames into the archive, with their checkpoints, in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import duckdb
import polars as pl

from warehouse.batches import (
    MEDIA_COLUMNS,
    MEDIA_KEY,
    MESSAGE_COLUMNS,
    MESSAGE_DEFAULTS,
    MESSAGE_KEY,
    REJECTED_COLUMNS,
    conform,
    dedupe,
    registered,
    require_account,
)
from warehouse.memory_limit import raise_memory_limit
from warehouse.queries import read_query
from warehouse.transactions import transaction


@dataclass(frozen=True)
class MergeResult:
    """What one window's merge changed."""

    inserted: int
    updated: int
    status_changes: int
    media_new: int
    rejected_new: int


@dataclass(frozen=True)
class WindowFrames:
    """One window's transform output and the size of its two answers, ready to merge."""

    window_start: date
    window_end: date
    messages: pl.DataFrame
    media: pl.DataFrame
    rejected: pl.DataFrame
    sms_rows: int
    mms_rows: int
    sent_at_in_doubt: bool = False
    """The window's dates disagree with its MMS media links (`transform.api_zone`): the zone
    they were read in is wrong, so archived messages keep their sent_at."""


WINDOW_INDEX = "window_index"
"""The column that tells, in a batch of several windows, which window a row came from."""


def merge_window(
    con: duckdb.DuckDBPyConnection,
    *,
    provider: str,
    account: str,
    window_start: date,
    window_end: date,
    messages: pl.DataFrame,
    media: pl.DataFrame,
    rejected: pl.DataFrame,
    seen_at: datetime,
    sms_rows: int,
    mms_rows: int,
) -> MergeResult:
    """Merge one window's transform output and mark the window done, all or nothing.

    The one-window case of `merge_windows`, which says what a merge does.
    """
    window = WindowFrames(window_start, window_end, messages, media, rejected, sms_rows, mms_rows)
    (result,) = merge_windows(
        con, provider=provider, account=account, windows=[window], seen_at=seen_at
    )
    return result


def _batch(
    frames: Sequence[pl.DataFrame],
    columns: dict[str, pl.DataType],
    what: str,
    defaults: dict[str, object] | None = None,
) -> pl.DataFrame:
    """The windows' frames conformed and stacked, each row tagged with its window's index."""
    return pl.concat(
        [
            conform(frame, columns, what, defaults=defaults).with_columns(
                pl.lit(index, pl.Int32).alias(WINDOW_INDEX)
            )
            for index, frame in enumerate(frames)
        ],
        rechunk=False,  # the windows' frames are not copied: DuckDB reads the chunks as they are
    )


def merge_windows(
    con: duckdb.DuckDBPyConnection,
    *,
    provider: str,
    account: str,
    windows: Sequence[WindowFrames],
    seen_at: datetime,
    replay: bool = False,
    also: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> list[MergeResult]:
    """Merge windows' transform output and mark each window done, all in one transaction.

    Frames are those of docs/contracts.md; the windows' frames are stacked and each stack
    deduped on its key first (last row wins, so a later window's reading of a message wins).
    - messages: new ones are inserted with first_seen_at = last_seen_at = seen_at and a
      carrier_status_history row. Known ones get last_seen_at moved forward and their
      derived columns (body, status, contact, ... everything but the key and first_seen_at)
      replaced by the batch's, so a transform fix replayed from the landing corrects them;
      a different carrier_status also appends a history row. One exception: where the
      batch's sent_at is one of a repeated autumn hour's two instants, inferred from the
      answer's other messages (`sent_at_other_reading`, optional, names the other one), and
      the archive holds that other one, the archive's stands: an earlier answer's messages
      placed it, and a later answer's inference never moves it.
      And where a window's dates disagree with its media links (`sent_at_in_doubt`: the zone
      they were read in is wrong), archived messages keep their sent_at: a wrong setting
      adds messages at wrong instants (the run warns) but never moves the ones archived.
    - media: new attachments are inserted as 'pending'. Known ones are left alone, except
      that a not-yet-stored one whose URL changed takes the new URL and fresh attempts.
    - rejected: inserted once each, keyed by a hash of source, record and reason, with the
      window of its first sighting.
    - each window's checkpoint is upserted (see the table's comment for what its counts mean).
    Several windows merged at once make one large insert, which DuckDB writes straight to the
    file's row groups instead of through its write-ahead log and a checkpoint: a backfill
    merges the windows that are ready together. The result has one entry per window, in order.
    The same call twice changes nothing the second time but last_seen_at (and the
    checkpoints' completed_at and merges).
    A replay (`replay=True`: answers read back from the landing, `seen_at` when they were
    landed) re-derives and does not re-record: known messages get their derived columns as
    above, new ones are inserted with their first history row, but a different carrier_status
    appends a history row only where the answer is newer than the message's whole history (a
    row no run could read then; the others' runs recorded their changes), and no checkpoint is
    touched;
    the rows the batch rejects are noted on the connection for `drop_resolved_rejections`,
    which the replay calls once every fetch of its windows is merged. Where the archive has
    seen a message after the answer was landed (last_seen_at later than `seen_at`), its
    carrier_status and status are kept: the answer's are an older reading.
    `also` runs in the same transaction, before the merge (a run's ledger rows for the
    answers it merges: listed only if the merge commits).
    Any error rolls everything back and re-raises; DuckDB running out of memory first rolls
    back, doubles the connection's memory limit (up to DuckDB's default) and merges again.
    """
    if seen_at.tzinfo is None:
        raise ValueError("seen_at must be timezone-aware")
    if not windows:
        return []
    for window in windows:
        if window.window_start > window.window_end:
            raise ValueError(
                f"window_start {window.window_start} is after window_end {window.window_end}"
            )
    batch_messages = dedupe(
        _batch(
            [
                w.messages.with_columns(sent_at_in_doubt=pl.lit(True))
                if w.sent_at_in_doubt
                else w.messages
                for w in windows
            ],
            MESSAGE_COLUMNS,
            "messages",
            MESSAGE_DEFAULTS,
        ),
        MESSAGE_KEY,
    )
    batch_media = dedupe(_batch([w.media for w in windows], MEDIA_COLUMNS, "media"), MEDIA_KEY)
    rejected = _batch([w.rejected for w in windows], REJECTED_COLUMNS, "rejected").unique(
        maintain_order=True
    )
    rejected_in = rejected.get_column(WINDOW_INDEX).value_counts()
    rejected_counts = dict(zip(*rejected_in.get_columns(), strict=True))
    spans = pl.DataFrame(
        {
            WINDOW_INDEX: range(len(windows)),
            "window_start": [w.window_start for w in windows],
            "window_end": [w.window_end for w in windows],
        },
        schema_overrides={WINDOW_INDEX: pl.Int32},
    )
    # once each: a record rejected in two windows is filed under the first
    batch_rejected = rejected.unique(
        subset=list(REJECTED_COLUMNS), keep="first", maintain_order=True
    ).join(spans, on=WINDOW_INDEX, how="left", maintain_order="left")
    for what, frame in (
        ("messages", batch_messages),
        ("media", batch_media),
        ("rejected", batch_rejected),
    ):
        require_account(frame, what, provider, account)

    frames = {
        "batch_messages": batch_messages,
        "batch_media": batch_media,
        "batch_rejected": batch_rejected,
    }
    with registered(con, frames):
        while True:
            try:
                with transaction(con):
                    if also is not None:
                        also(con)
                    return _merge(
                        con,
                        provider=provider,
                        account=account,
                        windows=windows,
                        seen_at=seen_at,
                        batch_rows=batch_messages.height,
                        rejected=[rejected_counts.get(index, 0) for index in range(len(windows))],
                        replay=replay,
                    )
            except duckdb.OutOfMemoryException:
                days = f"{windows[0].window_start}..{windows[-1].window_end}"
                why = f"merging {batch_messages.height:,} messages of {days}"
                if not raise_memory_limit(con, why):
                    raise


def _merge(
    con: duckdb.DuckDBPyConnection,
    *,
    provider: str,
    account: str,
    windows: Sequence[WindowFrames],
    seen_at: datetime,
    batch_rows: int,
    rejected: list[int],
    replay: bool,
) -> list[MergeResult]:
    seen: dict[str, object] = {"seen_at": seen_at}
    reading = {**seen, "replay": replay}  # a replay keeps newer statuses than its answer's
    rows = con.execute(read_query("count_merge_changes"), {**reading, "windows": len(windows)})
    results = [MergeResult(*(int(value) for value in row[1:])) for row in rows.fetchall()]
    inserted = sum(result.inserted for result in results)
    # history first: it compares the batch with the messages as they were
    history = "insert_replayed_status_history" if replay else "insert_status_history"
    con.execute(read_query(history), seen)
    if inserted < batch_rows:
        con.execute(read_query("update_known_messages"), reading)
    if inserted:
        con.execute(read_query("insert_new_messages"), seen)
    con.execute(read_query("merge_media"), seen)
    con.execute(read_query("insert_rejected_records"), seen)
    if replay:  # what it rejects again is kept listed by drop_resolved_rejections
        con.execute(read_query("create_replayed_rejections"))
        con.execute(read_query("note_replayed_rejections"))
        return results
    for window, result, rejected_rows in zip(windows, results, rejected, strict=True):
        con.execute(
            read_query("upsert_window_checkpoint"),
            {
                "provider": provider,
                "account": account,
                "window_start": window.window_start,
                "window_end": window.window_end,
                "completed_at": seen_at,
                "sms_rows": window.sms_rows,
                "mms_rows": window.mms_rows,
                "messages_inserted": result.inserted,
                "messages_updated": result.updated,
                "rejected": rejected_rows,
            },
        )
    return results


def drop_resolved_rejections(
    con: duckdb.DuckDBPyConnection, windows: Sequence[tuple[str, str, date, date]]
) -> None:
    """End a replay: the rejected rows listed for `windows` (provider, account, first and
    last day) that none of the replay's merges on `con` rejected again are deleted.

    Called once every fetch of those windows was replayed: a window fetched twice has a row
    one fetch rejected and the other did not send, and deleting after each fetch would drop
    it though its landed answer still holds it unread. Windows left out keep their list.
    """
    with transaction(con):
        con.execute(read_query("create_replayed_rejections"))
        for provider, account, window_start, window_end in windows:
            con.execute(
                read_query("delete_resolved_rejections"),
                {
                    "provider": provider,
                    "account": account,
                    "window_start": window_start,
                    "window_end": window_end,
                },
            )
