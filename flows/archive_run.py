"""Backfill and sync as plain steps (no Prefect import); flows/archive_flows.py wraps them."""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, Protocol

import duckdb

from extract.media import clean_stale_temp
from extract.voipms.account_dids import AccountDids
from extract.voipms.client import DEFAULT_USER_AGENT, VoipMsClient
from extract.voipms.errors import AccessError, PermanentError, TransientError
from extract.voipms.redaction import redact_registered
from extract.voipms.windows import Window, split_range, uncovered_windows
from flows.api_client import api_client
from flows.interruptions import stopped_from_outside
from flows.media_step import (
    MediaOutcome,
    check_stored_files,
    download_pending,
    pending_items,
    redownload_missing,
)
from flows.orchestration import prefect_wanted
from flows.prefect_outage import kept_if_prefect_stops
from flows.prefect_results import prefect_results_in
from flows.progress import Tracker
from flows.run_progress import RunProgress, run_progress
from flows.runtime import current_reporter, current_settings
from flows.settings import Settings
from flows.unfinished_replay import unfinished_replay
from flows.window_steps import (
    PROVIDER,
    Clock,
    PreparedWindow,
    WindowOutcome,
    ZoneWarning,
    merge_prepared_windows,
    no_clock,
    prepare_window,
)
from transform.drift import Notice
from transform.zone_rules import zone_info
from warehouse import (
    finish_run,
    interrupt_dead_runs,
    newest_archived_day,
    newest_message_day,
    open_warehouse,
    pending_media,
    record_notices,
    refuse_a_new_archive_over_landings,
    refuse_unlisted_landings,
    remove_partial_landings,
    settled_windows,
    start_run,
    unfinished_sync_start,
    writer_lock,
)
from warehouse.accounts import archived_accounts, archived_spelling
from warehouse.landing_files import LANDING_DIR
from warehouse.plain_numbers import counted

logger = logging.getLogger("smsarchive")

RunKind = Literal["backfill", "sync"]


@dataclass
class RunSummary:
    """What one backfill or sync did, for the terminal and the run ledger."""

    kind: RunKind
    start: date
    end: date
    account: str = ""
    """The account as the archive names it (the login's spelling on its first run)."""
    windows: int = 0
    windows_skipped: int = 0
    merged: int = 0
    """Windows merged so far (a stopped run's record says how far it got)."""
    inserted: int = 0
    updated: int = 0
    status_changes: int = 0
    rejected: int = 0
    api_calls: int = 0
    media: MediaOutcome = field(default_factory=MediaOutcome)
    notices: list[str] = field(default_factory=list)
    failed_windows: list[str] = field(default_factory=list)
    """The days left un-archived and why: neighbouring windows failed alike said as one."""
    days_failed: int = 0
    """How many days the failed windows hold."""
    warnings: list[str] = field(default_factory=list)
    """What the person must mend though the run went through (a wrong zone setting)."""

    def as_dict(self) -> dict[str, Any]:
        """Plain values, for printing and for Prefect's flow result."""
        values = asdict(self)
        values["start"], values["end"] = self.start.isoformat(), self.end.isoformat()
        return values


class WindowsFailedError(RuntimeError):
    """Some windows could not be fetched; the others were archived and the run is 'failed'.

    `summary` is what the run did all the same (RunSummary as a dict), shown before the error.
    """

    summary: dict[str, Any] | None = None


def prepare(
    client: VoipMsClient,
    window: Window,
    dids: Sequence[str],
    settings: Settings,
    account: str,
    clock: Clock = no_clock,
) -> PreparedWindow:
    """Fetch a window, land its answers on disk and transform them (in a worker thread)."""
    return prepare_window(
        client,
        window,
        dids=dids,
        page_limit=settings.voipms_page_limit,
        data_dir=settings.smsarchive_data_dir,
        account=account,
        timezone=settings.voipms_account_timezone,
        mms_after_sms=still_open(window, settings),
        clock=clock,
    )


OPEN_DAYS = 2
"""A window whose last day is at most this many days before today may still be given
messages (window_checkpoints settle two days after their last day, for every zone)."""


def still_open(window: Window, settings: Settings) -> bool:
    """True when messages may still arrive in `window`: its getMMS is asked after getSMS."""
    return window.end >= account_today(settings) - timedelta(days=OPEN_DAYS)


HALVINGS_PER_RUN = 16
"""How many windows the API answered unusably a run cuts in two, at most: enough to narrow
a bad day or two down from a 92-day window (7 cuts each), few enough that an error the API
gives every window (an answer format this version cannot read) costs a few dozen calls."""

CUTS_BEFORE_AN_ANSWER = 2
"""How many times a run's window is cut in two while the API has answered no window of the
run usably: into quarters, so that two bad days side by side at the middle of a sync's days
still leave days to answer, while an error given to every call costs six more windows."""

MERGE_GROUP_MESSAGES = 2 * 122_880
"""Windows ready at the same time are merged together up to about this many messages: two
of DuckDB's row groups, so that the insert is written straight to the archive's file rather
than through its write-ahead log and then again by a checkpoint (twice the work)."""


def merge(
    con: duckdb.DuckDBPyConnection, prepared: Sequence[PreparedWindow], account: str
) -> list[WindowOutcome]:
    """Record prepared windows' landing and merge them with their checkpoints (main thread)."""
    return merge_prepared_windows(con, prepared, account=account, seen_at=datetime.now(UTC))


NO_MEDIA_HOSTS = (
    "VOIPMS_MEDIA_HOSTS is empty, so no media are downloaded (name a host to download them)"
)


def download_media(
    con: duckdb.DuckDBPyConnection, settings: Settings, progress: RunProgress
) -> MediaOutcome:
    """Download every media file the run's account still lacks (counted in `progress` too),
    those recorded as stored whose file has gone missing included. Another account's media
    are its own runs' business: its hosts may be other ones, and its tries its own."""
    account = settings.voipms_api_username
    refused = check_stored_files(con, settings.media_dir)
    if refused is not None:
        logger.warning("media: %s", refused)
        return MediaOutcome(stopped=refused, left=pending_media(con, PROVIDER, account).height)
    items = pending_items(con, provider=PROVIDER, account=account)
    if not items:
        # Under the writer lock, anything in media/.tmp is a killed run's leftover.
        clean_stale_temp(settings.media_dir, older_than=0)
        return MediaOutcome()
    if not settings.voipms_media_hosts:  # the user's choice: left waiting, not failed
        return MediaOutcome(held=NO_MEDIA_HOSTS, left=len(items))
    tracker = progress.stage("media", len(items), current_reporter().stage("media", len(items)))
    return download_pending(
        con,
        items,
        media_dir=settings.media_dir,
        allowed_hosts=settings.voipms_media_hosts,
        user_agent=DEFAULT_USER_AGENT,
        concurrency=settings.smsarchive_media_concurrency,
        processes=settings.smsarchive_media_processes or None,
        on_result=lambda _: tracker.advance(),
    )


class Steps(Protocol):
    """How a run's steps are executed: as Prefect tasks (archive_flows) or plain calls."""

    def fetching(self, workers: int) -> AbstractContextManager[object]:
        """The block in which windows are fetched, `workers` at a time."""

    def submit_prepare(
        self,
        client: VoipMsClient,
        window: Window,
        dids: Sequence[str],
        settings: Settings,
        account: str,
    ) -> Any:
        """Start preparing a window; a future whose result() is the PreparedWindow."""

    def next_done(self, futures: list[Any]) -> Any:
        """The first of `futures` to finish."""

    def done_now(self, futures: list[Any]) -> list[Any]:
        """Those of `futures` already finished (without waiting)."""

    def merge(
        self, con: duckdb.DuckDBPyConnection, prepared: Sequence[PreparedWindow], account: str
    ) -> list[WindowOutcome]:
        """Merge prepared windows together."""

    def media(
        self, con: duckdb.DuckDBPyConnection, settings: Settings, progress: RunProgress
    ) -> MediaOutcome:
        """Download what the archive lacks."""

    def flow_run_id(self) -> str | None:
        """The Prefect flow run this run is, if it is one."""

    def close_dead_flow_runs(self, flow_run_ids: Sequence[str]) -> None:
        """Tell Prefect that the flow runs of runs found dead are over."""


SIGNAL_CHECK_SECONDS = 0.25
"""How often a run waiting for its windows looks up: a wait without end is not woken by a
Ctrl-C that reached another thread, and the run would stop only once a window was done."""


def first_done(futures: Sequence[Future[Any]]) -> Future[Any]:
    """The first of `futures` to finish, waited for in short steps (SIGNAL_CHECK_SECONDS)."""
    while True:
        done, _ = wait(futures, timeout=SIGNAL_CHECK_SECONDS, return_when=FIRST_COMPLETED)
        if done:
            return next(future for future in futures if future in done)


class PlainSteps:
    """Steps as plain calls, windows fetched on a thread pool: no Prefect at all."""

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None

    @contextmanager
    def fetching(self, workers: int) -> Iterator[object]:
        """A pool of `workers` threads for the block."""
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch") as pool:
            self._pool = pool
            try:
                yield pool
            finally:
                self._pool = None

    def submit_prepare(
        self,
        client: VoipMsClient,
        window: Window,
        dids: Sequence[str],
        settings: Settings,
        account: str,
    ) -> Future[PreparedWindow]:
        """Prepare on the pool."""
        assert self._pool is not None, "submit_prepare outside fetching()"
        return self._pool.submit(prepare, client, window, dids, settings, account)

    def next_done(self, futures: list[Any]) -> Any:
        """The first future to finish."""
        return first_done(futures)

    def done_now(self, futures: list[Any]) -> list[Any]:
        """The futures already finished."""
        return [future for future in futures if future.done()]

    def merge(
        self, con: duckdb.DuckDBPyConnection, prepared: Sequence[PreparedWindow], account: str
    ) -> list[WindowOutcome]:
        """A plain call."""
        return merge(con, prepared, account)

    def media(
        self, con: duckdb.DuckDBPyConnection, settings: Settings, progress: RunProgress
    ) -> MediaOutcome:
        """A plain call."""
        return download_media(con, settings, progress)

    def flow_run_id(self) -> str | None:
        """None: a plain run is no flow run."""
        return None

    def close_dead_flow_runs(self, flow_run_ids: Sequence[str]) -> None:
        """Only said: without a Prefect API, the flow runs cannot be reached."""
        logger.warning(
            "%d runs that died were Prefect flow runs, which Prefect may still show as "
            "running; a run made as a Prefect flow marks such runs Crashed, a plain one cannot",
            len(flow_run_ids),
        )


def run_backfill(
    start: date, end: date, *, refetch: bool = False, redownload_missing_media: bool = False
) -> dict[str, Any]:
    """Backfill with the current settings: a Prefect flow when Prefect is configured."""
    settings = current_settings()
    if prefect_wanted():
        from flows.archive_flows import run_backfill_flow

        with prefect_results_in(settings.smsarchive_data_dir):
            return kept_if_prefect_stops(
                lambda: run_backfill_flow(
                    start, end, refetch=refetch, redownload_missing_media=redownload_missing_media
                ),
                settings.smsarchive_data_dir,
            )
    return archive(
        settings,
        "backfill",
        start,
        end,
        PlainSteps(),
        refetch=refetch,
        redownload_missing_media=redownload_missing_media,
    ).as_dict()


def run_sync(*, redownload_missing_media: bool = False) -> dict[str, Any]:
    """Sync with the current settings: a Prefect flow when Prefect is configured."""
    settings = current_settings()
    if prefect_wanted():
        from flows.archive_flows import run_sync_flow

        with prefect_results_in(settings.smsarchive_data_dir):
            return kept_if_prefect_stops(
                lambda: run_sync_flow(redownload_missing_media=redownload_missing_media),
                settings.smsarchive_data_dir,
            )
    return archive(
        settings,
        "sync",
        None,
        None,
        PlainSteps(),
        redownload_missing_media=redownload_missing_media,
    ).as_dict()


def account_today(settings: Settings) -> date:
    """Today in the account's time zone (the API's days are local days)."""
    return datetime.now(zone_info(settings.voipms_account_timezone)).date()


DETAIL_CHARACTERS = 300
"""At most this much of a failure's text is kept in sync_runs.detail."""


def failure_detail(exc: BaseException) -> str:
    """What `status` shows of a failed run: the error's class and first line, secrets blanked."""
    lines = str(exc).strip().splitlines()
    line = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return redact_registered(line)[:DETAIL_CHARACTERS]


class FutureDayError(ValueError):
    """A backfill asked for days not over yet: they would be marked archived before they are."""


def refuse_future_end(end: date, settings: Settings) -> None:
    """Raise FutureDayError when `end` is after the account's today."""
    today = account_today(settings)
    if end > today:
        raise FutureDayError(
            f"--end {end} is after today ({today} in {settings.voipms_account_timezone}): "
            "days to come hold no messages yet; end today at the latest (the default), and "
            "`smsarchive sync` keeps the archive up to date"
        )


def archive(
    settings: Settings,
    kind: RunKind,
    start: date | None,
    end: date | None,
    steps: Steps,
    *,
    refetch: bool = False,
    redownload_missing_media: bool = False,
) -> RunSummary:
    """One backfill (`start`..`end`) or sync (recent past) under the writer lock, via `steps`.

    A backfill skips the windows already archived, unless `refetch`: then they are fetched,
    landed and merged again like the others (a lost or changed landed answer is had again).
    With `redownload_missing_media`, every file recorded as stored but missing from media/
    is downloaded again, however many (otherwise most of them missing stops the downloads:
    the disk holding them may not be mounted).

    Windows are fetched concurrently and merged one at a time, each with its checkpoint;
    then media. A window the API answers unusably is left for a rerun while the others go
    on; the run then raises `WindowsFailedError` after recording what it did.
    """
    if start is not None and end is not None and start > end:
        raise ValueError(f"start {start} is after end {end}")
    if end is not None:
        refuse_future_end(end, settings)
    data_dir = settings.smsarchive_data_dir
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # private messages: owner only
    # before any call: a landing/ linked to a disk not mounted is said now, not at the first
    # answer to land
    (data_dir / LANDING_DIR).mkdir(mode=0o700, exist_ok=True)
    wait = settings.smsarchive_busy_wait_seconds
    with (
        writer_lock(data_dir, wait=wait),
        api_client(settings) as client,
        run_progress(data_dir, kind) as progress,
    ):
        refuse_a_new_archive_over_landings(settings.archive_path, data_dir)
        stopped_replay = unfinished_replay(data_dir)
        if stopped_replay is not None:
            logger.warning(stopped_replay)
        account = client.username
        con = open_warehouse(
            settings.archive_path, wait=wait, memory_limit=settings.smsarchive_duckdb_memory_limit
        )
        try:
            accounts = archived_accounts(con)
            account = archived_spelling(accounts, account)
            if account != client.username:
                logger.info(
                    "the archive keeps %s as %s (the same e-mail in another case)",
                    client.username,
                    account,
                )
            refuse_unlisted_landings(con, data_dir, provider=PROVIDER, account=account)
            # the media step picks the account's media by this name too
            settings = settings.model_copy(update={"voipms_api_username": account})
            if accounts and account not in accounts:
                logger.warning(
                    "the archive holds messages of %s but none of %s yet: if that is the same "
                    "VoIP.ms account under a new login e-mail, its messages are archived a "
                    "second time under the new name (the archive keeps accounts apart by name)",
                    ", ".join(accounts),
                    account,
                )
            # days before it are fetched only where no settled window holds them
            settled_before: date | None = None
            if kind == "sync":  # None, or the lookback's first day when resuming a stopped one
                start, settled_before, end = _sync_days(con, settings, account)
            if start is None or end is None:
                raise ValueError("a backfill needs a start and an end day")
            if kind == "backfill" and not refetch:
                settled_before = end + timedelta(days=1)
            progress.retitle(f"{kind} {start}..{end}")
            started = start_run(
                con,
                kind,
                provider=PROVIDER,
                account=account,
                window_start=start,
                window_end=end,
                flow_run_id=steps.flow_run_id(),
            )
            run_id = started.run_id
            summary = RunSummary(kind=kind, start=start, end=end, account=account)
            try:
                if started.dead_flow_runs:
                    steps.close_dead_flow_runs(started.dead_flow_runs)
                interrupt_dead_runs(con, started)
                partial = remove_partial_landings(data_dir)
                if partial:
                    logger.info("removed %d partly landed answers a stopped run left", partial)
                if redownload_missing_media:
                    redownload_missing(con, settings.media_dir)
                _run_windows(
                    con,
                    settings,
                    client,
                    summary,
                    steps,
                    progress,
                    settled_before=settled_before,
                )
                summary.media = steps.media(con, settings, progress)
            except BaseException as exc:
                stopped = stopped_from_outside(exc)
                try:
                    finish_run(
                        con,
                        run_id,
                        outcome="interrupted" if stopped else "failed",
                        windows_merged=summary.merged,
                        messages_inserted=summary.inserted,
                        messages_updated=summary.updated,
                        detail=type(exc).__name__ if stopped else failure_detail(exc),
                    )
                except duckdb.Error as unrecorded:  # a full disk refuses this too: the first
                    # error is the one to tell (the next run finds the run 'interrupted')
                    logger.warning("the run's end could not be recorded: %s", unrecorded)
                if summary.merged:  # what it kept: the error alone would not say
                    left = summary.merged + summary.windows_skipped < summary.windows
                    logger.warning(
                        "before it %s, the %s archived %s (%s new, %s changed)%s",
                        "was stopped" if stopped else "failed",
                        kind,
                        counted(summary.merged, "window"),
                        f"{summary.inserted:,}",
                        f"{summary.updated:,}",
                        "; `status` shows the days it left" if left and kind == "backfill" else "",
                    )
                raise
            summary.api_calls = client.stats().total_calls
            _record_end(con, run_id, summary)
            return summary
        finally:
            con.close()


def _sync_days(
    con: duckdb.DuckDBPyConnection, settings: Settings, account: str
) -> tuple[date, date | None, date]:
    """(first day, lookback's first day or None, today): the days a sync fetches.

    They are the newest archived day (of a window recorded as fetched; of a message when
    none is, as in an archive made again from landing/) less the lookback to today, fetched
    whole; and, when the syncs since the last one that ended ok began earlier (a sync
    fetches the window holding today first: one stopped or failed midway leaves days before
    it), the days from the first of them that no settled window holds. The lookback's first
    day is given only then: the days before it are the resumed ones."""
    end = account_today(settings)
    zone = settings.voipms_account_timezone
    newest = newest_archived_day(con, PROVIDER, account, zone)
    lookback = timedelta(days=settings.smsarchive_sync_lookback_days)
    if newest is None and (newest := newest_message_day(con, PROVIDER, account, zone)):
        logger.info(
            "no window of %s is recorded as fetched (the archive was made again from "
            "landing/): sync fetches from its newest message's day, %s, less %d days",
            account,
            newest,
            lookback.days,
        )
    elif newest is None:
        logger.warning(
            "nothing of %s is archived yet: sync fetches today and the %d days before only; "
            "`smsarchive backfill --start YYYY-MM-DD` fetches the history",
            account,
            lookback.days,
        )
    start = (newest if newest is not None and newest <= end else end) - lookback
    unfinished = unfinished_sync_start(con, provider=PROVIDER, account=account)
    if unfinished is not None and unfinished < start:
        logger.info(
            "the last sync did not end ok: this one also fetches the days since %s that "
            "no window holds",
            unfinished,
        )
        return unfinished, start, end
    return start, None, end


def _record_end(con: duckdb.DuckDBPyConnection, run_id: int, summary: RunSummary) -> None:
    """Record in sync_runs how a run that went through its windows ended; then raise
    WindowsFailedError when some days could not be archived."""
    failed = None
    if summary.failed_windows:
        others = (
            "every other day and its media are archived, and a rerun fetches only what is missing"
            if summary.merged
            else "a rerun fetches them again"
        )
        failed = WindowsFailedError(
            f"{counted(summary.days_failed, 'day')} could not be archived "
            f"({'; '.join(summary.failed_windows)}); {others}"
        )
    # which windows failed and why, as status shows it (secrets blanked, cut short), and
    # what the run warned of
    detail = [failure_detail(failed)] if failed is not None else []
    if summary.media.stopped:  # said in the summary's media line; kept for `status` here
        detail.append(f"media: {summary.media.stopped}")
    finish_run(
        con,
        run_id,
        outcome="ok" if failed is None else "failed",
        windows_merged=summary.merged,
        messages_inserted=summary.inserted,
        messages_updated=summary.updated,
        detail="; ".join([*detail, *summary.warnings]) or None,
    )
    if failed is not None:
        failed.summary = summary.as_dict()
        raise failed


def _run_windows(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    client: VoipMsClient,
    summary: RunSummary,
    steps: Steps,
    progress: RunProgress,
    *,
    settled_before: date | None,
) -> None:
    """Fetch and merge the run's windows: every one, except that the days before
    `settled_before` (a backfill's whole span, a resumed sync's earlier days) are fetched
    only where no settled window holds them."""
    account = summary.account
    if settled_before is not None:
        # days settled windows hold are not asked again, however an earlier run cut them
        settled = [
            (first, last)
            for first, last in settled_windows(con, PROVIDER, account)
            if first < settled_before and last >= summary.start
        ]
        todo = uncovered_windows(summary.start, settled_before - timedelta(days=1), settled)
        if settled_before <= summary.end:
            todo += split_range(settled_before, summary.end)
        summary.windows_skipped = len(settled)
        if settled:
            logger.info(
                "%s already archived: %s days are skipped",
                counted(len(settled), "window"),
                "its" if len(settled) == 1 else "their",
            )
    else:
        todo = split_range(summary.start, summary.end)
    summary.windows = len(todo) + summary.windows_skipped
    tracker = progress.stage("windows", len(todo), current_reporter().stage("windows", len(todo)))
    merger = WindowMerger(
        con, account, summary, tracker, steps, ZoneWarning(settings.voipms_account_timezone)
    )
    # oldest first, popped from the end; but an open window first of all: its getSMS and
    # getMMS are asked one after the other, which then overlaps the other windows' calls
    open_first = sorted(todo, key=lambda window: not still_open(window, settings))
    queue = list(reversed(open_first))
    with (
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="getDIDsInfo") as side,
        steps.fetching(settings.voipms_max_concurrency),
    ):
        # in the run's context: its retries and failure are logged to the run (Prefect's
        # log of a flow run included), like every other call's
        dids = AccountDids(side.submit(contextvars.copy_context().run, client.get_dids_info))
        try:
            _fetch_and_merge(queue, dids, client, settings, steps, merger)
        except BaseException:
            # the windows in flight make no further call instead of fetching on, unmerged
            # (on the real API, minutes): leaving `fetching` then waits only for the calls
            # already sent
            client.stop()
            raise
    summary.notices = [notice.describe() for notice in sorted(merger.notices)]
    if merger.zone.line is not None:
        summary.warnings.append(merger.zone.line)
    for line in summary.notices:
        logger.warning("the API sent %s (new to this archive; `smsarchive status` lists all)", line)


def _fetch_and_merge(
    queue: list[Window],
    dids: AccountDids,
    client: VoipMsClient,
    settings: Settings,
    steps: Steps,
    merger: WindowMerger,
) -> None:
    """Fetch the windows of `queue` (popped from its end), at most VOIPMS_MAX_CONCURRENCY at
    once, and merge each group that is ready together, oldest first."""
    account = merger.account
    in_flight: dict[Any, Window] = {}
    while queue or in_flight:
        # at most that many windows are held at once, fetched or being fetched: fetching
        # more while a group is merged ran ~3% faster and held ~200 MB more at 1M
        while queue and len(in_flight) < settings.voipms_max_concurrency:
            window = queue.pop()
            in_flight[steps.submit_prepare(client, window, dids, settings, account)] = window
        # answered alongside the first windows; if it failed, the run fails with its error
        dids.wait()
        first = steps.next_done(list(in_flight))
        ready = {first, *steps.done_now(list(in_flight))}
        fetched = sorted(((in_flight.pop(f), f) for f in ready), key=lambda pair: pair[0].start)
        merger.archive(fetched)
        queue.extend(reversed(merger.take_halves()))  # the earlier half fetched first
    merger.end()
    # and when every window was skipped: a refusal (a wrong password) is never passed over
    dids.wait()


@dataclass
class WindowMerger:
    """Takes a run's fetched windows into the archive and keeps the run's account of them."""

    con: duckdb.DuckDBPyConnection
    account: str
    summary: RunSummary
    tracker: Tracker
    steps: Steps
    zone: ZoneWarning
    """Said once if the media links show VOIPMS_ACCOUNT_TIMEZONE reads the API's dates wrong."""
    notices: set[Notice] = field(default_factory=set)
    """What the API sent in these windows that the archive had never met before."""
    halves: list[Window] = field(default_factory=list)
    """Windows the API answered unusably, cut in two to be fetched apart (take_halves)."""
    cut: dict[Window, int] = field(default_factory=dict)
    """Every half made so, as against the run's own windows (two a cut, at most
    HALVINGS_PER_RUN cuts), and how many cuts made it from a run's window."""
    parked: list[tuple[Window, PermanentError]] = field(default_factory=list)
    """Halves cut CUTS_BEFORE_AN_ANSWER times, answered unusably while no window of the run
    had been answered usably."""
    failures: list[tuple[Window, str]] = field(default_factory=list)
    """Windows left un-archived, and why."""
    answered: bool = False
    """Whether the API answered some window of the run usably."""

    def take_halves(self) -> list[Window]:
        """The halves to fetch as windows of their own, in order, since the last call."""
        if self.answered:  # the API answers some days: the parked halves are cut further
            parked, self.parked = self.parked, []
            for window, exc in parked:
                self._cut_or_fail(window, exc)
        halves, self.halves = self.halves, []
        return halves

    def end(self) -> None:
        """No window is left to fetch: the parked ones fail as they are, and the run's failures
        are listed in its summary, neighbouring windows failed alike said as one."""
        parked, self.parked = self.parked, []
        for window, exc in parked:
            self._fail(window, exc)
        spans: list[tuple[Window, str]] = []
        for window, why in sorted(self.failures, key=lambda failure: failure[0].start):
            if (
                spans
                and spans[-1][1] == why
                and spans[-1][0].end + timedelta(days=1) == window.start
            ):
                spans[-1] = (Window(spans[-1][0].start, window.end), why)
            else:
                spans.append((window, why))
        self.summary.failed_windows = [f"{w.start}..{w.end}: {why}" for w, why in spans]
        self.summary.days_failed = sum(window.days for window, _ in self.failures)

    def archive(self, fetched: list[tuple[Window, Any]]) -> None:
        """Merge fetched windows, oldest first, together up to MERGE_GROUP_MESSAGES at a time."""
        group: list[PreparedWindow] = []
        for window, finished in fetched:
            prepared = self._prepared_or_noted(window, finished)
            if prepared is None:
                continue
            group.append(prepared)
            if sum(p.frames.messages.height for p in group) >= MERGE_GROUP_MESSAGES:
                self._merge(group)
                group = []
        if group:
            self._merge(group)

    def _prepared_or_noted(self, window: Window, finished: Any) -> PreparedWindow | None:
        """A fetched window, or None when the API answered it unusably (noted, left for later)."""
        try:
            prepared: PreparedWindow = finished.result()
        except (AccessError, TransientError):
            raise
        except PermanentError as exc:
            # An answer this version cannot use (e.g. an error code it does not know) spoils
            # this window only: the others go on.
            self._cut_or_fail(window, exc)
            return None
        self.answered = True
        self.zone.check(prepared.zone_off_by)
        return prepared

    def _cut_or_fail(self, window: Window, exc: PermanentError) -> None:
        """A window the API answered unusably: cut in two, each half to be fetched apart, or
        failed. Such an answer is the API's to the days asked: what a bad day spoils is that
        day, not the days around it (a sync's new days behind a bad one in its lookback would
        otherwise never be archived). A run's own window is cut at once, and its halves
        again; further only once the API answered some window usably (an error it gives
        every call, such as an answer this version cannot read, is not chased down to
        single days): parked until then. A day alone fails, as does any window once
        HALVINGS_PER_RUN are spent."""
        days = f"{window.start}..{window.end}"
        depth = self.cut.get(window, 0)
        if window.days < 2 or len(self.cut) >= 2 * HALVINGS_PER_RUN:
            self._fail(window, exc)
        elif depth >= CUTS_BEFORE_AN_ANSWER and not self.answered:
            self.parked.append((window, exc))
        else:
            earlier, later = window.halves()
            self.halves += [earlier, later]
            self.cut |= {earlier: depth + 1, later: depth + 1}
            self.summary.windows += 1
            self.tracker.grow(1)
            logger.warning(
                "window %s not archived whole (%s): its halves are fetched apart", days, exc
            )

    def _fail(self, window: Window, exc: PermanentError) -> None:
        """Leave `window` un-checkpointed for a rerun, and say why."""
        days = f"{window.start}..{window.end}"
        notice = Notice("unknown_error", f"{exc.method}: {exc.code}", f"window {days}")
        if record_notices(
            self.con,
            [notice.as_row()],
            provider=PROVIDER,
            account=self.account,
            seen_at=_now(),
        ):
            self.notices.add(notice)
        self.failures.append((window, str(exc)))
        logger.error("window %s not archived: %s", days, exc)
        self.tracker.advance(f"{days} failed")

    def _merge(self, group: list[PreparedWindow]) -> None:
        for outcome in self.steps.merge(self.con, group, self.account):
            self.summary.merged += 1
            self.summary.inserted += outcome.merge.inserted
            self.summary.updated += outcome.merge.updated
            self.summary.status_changes += outcome.merge.status_changes
            self.summary.rejected += outcome.rejected
            self.notices |= outcome.new_notices
            self.tracker.advance(f"{outcome.window.start}..{outcome.window.end}")


def _now() -> datetime:
    return datetime.now(UTC)
