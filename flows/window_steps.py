"""A window's journey: fetch, land, transform, merge, checkpoint; or a replay from the landing."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import duckdb
import polars as pl

from extract.voipms.client import VoipMsClient
from extract.voipms.windows import (
    Fetch,
    Window,
    WindowFetch,
    fetch_window_complete,
    mms_fetch,
    sms_fetch,
)
from transform.api_zone import zone_disagreement
from transform.drift import Notice, answer_drift, status_drift
from transform.raw import raw_frame
from transform.reconcile import GETMMS, GETSMS, Reconciled, reconcile
from warehouse import (
    LandedFile,
    LandedWindow,
    LandingChangedError,
    LandingWriter,
    MergeResult,
    WindowFrames,
    forget_unreadable_landings,
    landing_path,
    merge_windows,
    read_landed_answer,
    record_landing,
    record_notices,
)

logger = logging.getLogger("smsarchive")

PROVIDER = "voipms"


@dataclass
class WindowOutcome:
    """What archiving one window did."""

    window: Window
    merge: MergeResult
    sms_rows: int
    mms_rows: int
    rejected: int
    new_notices: set[Notice] = field(default_factory=set)
    """What the API sent that this archive had never met before (see provider_notices)."""


def record_landed(
    con: duckdb.DuckDBPyConnection,
    window: Window,
    landed: list[tuple[str, LandedFile]],
    *,
    account: str,
    landed_at: datetime | None = None,
) -> None:
    """List landed answers in raw_landing (as landed at `landed_at`, by default now)."""
    for method, file in landed:
        record_landing(
            con,
            provider=PROVIDER,
            account=account,
            window_start=window.start,
            window_end=window.end,
            method=method,
            path=file.path,
            rows=file.rows,
            sha256=file.sha256,
            landed_at=landed_at,
        )


@dataclass
class PreparedWindow:
    """A window fetched, landed on disk and transformed: what is left is the merge.

    Made in a fetch worker (polars releases the GIL), so only the merge is serial; the raw
    rows are dropped once transformed, which keeps memory to the frames.
    """

    window: Window
    landed: list[tuple[str, LandedFile]]
    frames: Reconciled
    sms_rows: int
    mms_rows: int
    calls: int
    notices: set[Notice]
    data_dir: Path | None = None
    """The data dir `landed` is relative to (None when nothing was landed)."""
    zone_off_by: timedelta | None = None
    """How far the media tokens say sent_at is off (`transform.api_zone`); None: it is not."""


@dataclass
class AnswerFrames:
    """One method's answer read a part at a time: its raw frames and the drift it shows."""

    method: str
    frames: list[pl.DataFrame] = field(default_factory=list)
    notices: set[Notice] = field(default_factory=set)

    def read(self, rows: list[dict[str, Any]]) -> None:
        """Check a part for drift and read it into a raw frame."""
        self.notices |= answer_drift(rows, self.method)
        self.frames.append(raw_frame(rows, self.method))

    def frame(self) -> pl.DataFrame:
        """Every part's raw frame, in order."""
        return pl.concat(self.frames) if self.frames else raw_frame([], self.method)


def reconcile_answers(
    sms: AnswerFrames, mms: AnswerFrames, *, account: str, timezone: str
) -> tuple[Reconciled, set[Notice]]:
    """Both answers of a window as archive frames, with the drift they and their statuses show."""
    frames = reconcile(
        sms.frame(), mms.frame(), provider=PROVIDER, account=account, timezone=timezone
    )
    return frames, sms.notices | mms.notices | status_drift(frames.messages)


Clock = Callable[[str, float], None]
"""Told the seconds spent on each step of a window ("land", "transform"), for the benchmark."""


def no_clock(step: str, seconds: float) -> None:
    """A clock that keeps nothing (the default outside the benchmark)."""


class AnswerPages:
    """One method's answer for one window, taken a part at a time as the parts become final.

    Each part is appended to the landing file and read (`AnswerFrames`), then let go: a
    window's answer is never held as Python rows all at once, only as frames.
    """

    def __init__(
        self,
        data_dir: Path,
        window: Window,
        *,
        account: str,
        method: str,
        fetched_at: datetime,
        clock: Clock,
    ) -> None:
        self.writer = LandingWriter(
            data_dir,
            landing_path(
                provider=PROVIDER,
                account=account,
                window_start=window.start,
                window_end=window.end,
                method=method,
                fetched_at=fetched_at,
            ),
        )
        self.frames = AnswerFrames(method)
        self._clock = clock

    def __call__(self, rows: list[dict[str, Any]]) -> None:
        started = time.perf_counter()
        self.writer.write(rows)
        landed = time.perf_counter()
        self.frames.read(rows)
        self._clock("land", landed - started)
        self._clock("transform", time.perf_counter() - landed)


def prepare_window(
    client: VoipMsClient,
    window: Window,
    *,
    dids: Sequence[str],
    page_limit: int,
    data_dir: Path,
    account: str,
    timezone: str,
    mms_after_sms: bool = False,
    clock: Clock = no_clock,
) -> PreparedWindow:
    """Fetch a window whole, landing and reading each part as it comes, then reconcile.

    getSMS is asked on this thread and getMMS on a helper thread at the same time (the
    client keeps to its limit of calls in flight): on the real API, where a call takes
    seconds, a window takes one call's time instead of two. Unless `mms_after_sms`, for a
    window messages may still arrive in (one holding today): getMMS is then asked only once
    getSMS has answered whole, so every MMS getSMS lists is in getMMS's answer too. Asked the
    other way round, an MMS sent in between would be in getSMS alone and taken for an SMS;
    one in getMMS alone is still an MMS (`transform.reconcile`), completed by the next sync.
    Both answers are moved into place on disk only once both were had whole; a window that
    fails midway leaves no landed file behind (nor a temp file).
    """
    fetched_at = datetime.now(UTC)  # names both answers of this fetch (landing_path)
    sms, mms = (
        AnswerPages(
            data_dir, window, account=account, method=method, fetched_at=fetched_at, clock=clock
        )
        for method in (GETSMS, GETMMS)
    )

    def fetch_all(fetch: Fetch, pages: AnswerPages, method: str) -> WindowFetch:
        return fetch_window_complete(
            fetch, window, limit=page_limit, dids=dids, sink=pages, method=method
        )

    def fetch_mms() -> WindowFetch:
        return fetch_all(mms_fetch(client, all_messages=False), mms, GETMMS)

    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="getMMS") as helper:
            mms_fetched = None if mms_after_sms else helper.submit(fetch_mms)
            sms_fetched = fetch_all(sms_fetch(client, all_messages=True), sms, GETSMS)
            mms_result = fetch_mms() if mms_fetched is None else mms_fetched.result()
            calls = sms_fetched.calls + mms_result.calls
        landed = [(pages.frames.method, pages.writer.finish()) for pages in (sms, mms)]
    except BaseException:
        # (leaving the `with` waited for the other answer: no writer is in use any more)
        for pages in (sms, mms):
            pages.writer.abandon()
        raise
    started = time.perf_counter()
    frames, notices = reconcile_answers(sms.frames, mms.frames, account=account, timezone=timezone)
    zone_off_by = zone_disagreement(frames.messages, frames.media)
    clock("transform", time.perf_counter() - started)
    return PreparedWindow(
        window=window,
        landed=landed,
        frames=frames,
        sms_rows=sms.writer.rows,
        mms_rows=mms.writer.rows,
        calls=calls,
        notices=notices,
        data_dir=data_dir,
        zone_off_by=zone_off_by,
    )


def _forget_unreadable(
    con: duckdb.DuckDBPyConnection, window: Window, data_dir: Path, *, account: str
) -> None:
    """The window's earlier fetches with an answer missing or changed leave the ledger."""
    for path in forget_unreadable_landings(
        con,
        data_dir,
        provider=PROVIDER,
        account=account,
        window_start=window.start,
        window_end=window.end,
    ):
        logger.warning(
            "window %s..%s: %s is left out of replays (it, or the other answer of its fetch, "
            "was missing or changed); the answers just landed stand for it",
            window.start,
            window.end,
            path,
        )


_ZONE_LINE: Final = re.compile(r"VOIPMS_ACCOUNT_TIMEZONE=(\S+) reads the API's dates ")
"""How `ZoneWarning.line` names the zone, as a run's record keeps it."""


def warned_zone(detail: str) -> str | None:
    """The zone a run's record (`ZoneWarning.line` in its detail) says reads the API's dates
    wrong; None when it says no such thing."""
    said = _ZONE_LINE.search(detail)
    return said.group(1) if said else None


@dataclass
class ZoneWarning:
    """Says once in a run (or a replay) that the media links put sent_at off: it is the
    setting that is wrong, not a window."""

    timezone: str
    """VOIPMS_ACCOUNT_TIMEZONE, named in the warning."""
    line: str | None = None
    """Once said, the warning in short: for the run's summary, its sync_runs row and status."""

    def check(self, off_by: timedelta | None) -> None:
        """Warn, the first time, when a window's `zone_disagreement` was not None."""
        if off_by is None or self.line is not None:
            return
        hours = off_by / timedelta(hours=1)
        way = "late" if hours > 0 else "early"
        self.line = (
            f"VOIPMS_ACCOUNT_TIMEZONE={self.timezone} reads the API's dates {abs(hours):g} h "
            f"{way} (the MMS media links say so): set the API's zone, then run `smsarchive "
            "replay`"
        )
        logger.warning(
            "the API's dates are not in VOIPMS_ACCOUNT_TIMEZONE=%s: read in it, sent_at comes "
            "%g h %s against the instants in the MMS media links. In windows whose links show "
            "it, messages already archived keep their sent_at (in windows without MMS they "
            "are read anew); new ones are archived as read. Set it to the zone the API "
            "writes dates in (America/New_York unless VoIP.ms says otherwise), then run "
            "`smsarchive replay` to correct what is archived",
            self.timezone,
            abs(hours),
            way,
        )


def merge_prepared(
    con: duckdb.DuckDBPyConnection, prepared: PreparedWindow, *, account: str, seen_at: datetime
) -> WindowOutcome:
    """Record one window's landed files, then merge it with its checkpoint in one transaction."""
    (outcome,) = merge_prepared_windows(con, [prepared], account=account, seen_at=seen_at)
    return outcome


def _merged_with_notices(
    con: duckdb.DuckDBPyConnection,
    windows: Sequence[tuple[WindowFrames, Collection[Notice]]],
    *,
    provider: str,
    account: str,
    seen_at: datetime,
    replay: bool = False,
    also: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> list[tuple[MergeResult, set[Notice]]]:
    """Record each window's notices, then merge the windows in one transaction (with `also`).

    Notices first: once the merge commits, a backfill skips the window for good. Returns each
    window's merge result and the notices new to the archive, in the order given.
    """
    new_notices = [
        {
            Notice.from_row(row)
            for row in record_notices(
                con,
                [notice.as_row() for notice in notices],
                provider=provider,
                account=account,
                seen_at=seen_at,
            )
        }
        for _, notices in windows
    ]
    merged = merge_windows(
        con,
        provider=provider,
        account=account,
        windows=[frames for frames, _ in windows],
        seen_at=seen_at,
        replay=replay,
        also=also,
    )
    return list(zip(merged, new_notices, strict=True))


def _window_frames(
    start: date,
    end: date,
    frames: Reconciled,
    *,
    sms_rows: int,
    mms_rows: int,
    zone_off_by: timedelta | None,
) -> WindowFrames:
    return WindowFrames(
        window_start=start,
        window_end=end,
        messages=frames.messages,
        media=frames.media,
        rejected=frames.rejected,
        sms_rows=sms_rows,
        mms_rows=mms_rows,
        sent_at_in_doubt=zone_off_by is not None,
    )


def merge_prepared_windows(
    con: duckdb.DuckDBPyConnection,
    prepared: Sequence[PreparedWindow],
    *,
    account: str,
    seen_at: datetime,
) -> list[WindowOutcome]:
    """Record windows' landed files, then merge them with their checkpoints in one transaction.

    One outcome per window, in the order given (merge them oldest first: for a message in two
    windows, the later window's reading wins).
    """

    def list_landed(con: duckdb.DuckDBPyConnection) -> None:
        # in the merge's transaction: an answer is listed only once its window is merged
        for window in prepared:
            if window.data_dir is not None and window.landed:
                # before the new answers are listed: only earlier fetches are read and checked
                _forget_unreadable(con, window.window, window.data_dir, account=account)
            # landed at the merge's time: a replay of the answer then sees it at that time too
            record_landed(con, window.window, window.landed, account=account, landed_at=seen_at)

    merged = _merged_with_notices(
        con,
        [
            (
                _window_frames(
                    window.window.start,
                    window.window.end,
                    window.frames,
                    sms_rows=window.sms_rows,
                    mms_rows=window.mms_rows,
                    zone_off_by=window.zone_off_by,
                ),
                window.notices,
            )
            for window in prepared
        ],
        provider=PROVIDER,
        account=account,
        seen_at=seen_at,
        also=list_landed,
    )
    outcomes = []
    for window, (merge, notices) in zip(prepared, merged, strict=True):
        rejected = window.frames.rejected.height
        if rejected:
            logger.warning(
                "window %s..%s: %d rows could not be read and were set aside in rejected_records",
                window.window.start,
                window.window.end,
                rejected,
            )
        outcomes.append(
            WindowOutcome(
                window=window.window,
                merge=merge,
                sms_rows=window.sms_rows,
                mms_rows=window.mms_rows,
                rejected=rejected,
                new_notices=notices,
            )
        )
    return outcomes


def replay_window(
    con: duckdb.DuckDBPyConnection, landed: LandedWindow, *, data_dir: Path, timezone: str
) -> tuple[MergeResult, int, set[Notice], timedelta | None]:
    """Transform a window's landed answers again and merge them as a replay.

    The answers are checked against the ledger's sha256 first; a window without both of them
    (getSMS alone would take its MMS for SMS) or with one that changed raises
    LandingChangedError and changes nothing. Returns the merge's result, the rejected rows of
    the window, the notices new to the archive and how far the media links say sent_at is
    off (`transform.api_zone`; None: it is not).
    """
    days = f"{landed.window_start}..{landed.window_end}"
    answers = {GETSMS: AnswerFrames(GETSMS), GETMMS: AnswerFrames(GETMMS)}
    rows = {GETSMS: 0, GETMMS: 0}
    for method, frames in answers.items():
        answer = landed.answers.get(method)
        if answer is None:
            raise LandingChangedError(f"window {days} has no landed {method} answer")
        part = read_landed_answer(data_dir, answer.path, answer.sha256)
        rows[method] = len(part)
        frames.read(part)
        del part
    reconciled, notices = reconcile_answers(
        answers[GETSMS], answers[GETMMS], account=landed.account, timezone=timezone
    )
    zone_off_by = zone_disagreement(reconciled.messages, reconciled.media)
    merging = _window_frames(
        landed.window_start,
        landed.window_end,
        reconciled,
        sms_rows=rows[GETSMS],
        mms_rows=rows[GETMMS],
        zone_off_by=zone_off_by,
    )
    ((merged, new),) = _merged_with_notices(
        con,
        [(merging, notices)],
        provider=landed.provider,
        account=landed.account,
        seen_at=landed.landed_at,
        replay=True,
    )
    return merged, reconciled.rejected.height, new, zone_off_by
