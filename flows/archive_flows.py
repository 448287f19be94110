"""Prefect flows `backfill` and `sync`: windows fetched concurrently, merged in turn, then media."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo

import duckdb
from prefect import Task, flow, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State, TaskRun
from prefect.futures import PrefectFuture, as_completed
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from extract.media import clean_stale_temp
from extract.voipms.client import DEFAULT_USER_AGENT, VoipMsClient
from extract.voipms.errors import AccessError, PermanentError, TransientError
from extract.voipms.windows import Window, split_range
from flows.api_client import api_client
from flows.media_step import MediaOutcome, download_pending, pending_items
from flows.runtime import current_reporter, current_settings
from flows.settings import Settings
from flows.window_steps import (
    PROVIDER,
    RawWindow,
    WindowOutcome,
    fetch_window,
    land_window,
    merge_raw_window,
)
from transform.drift import Notice
from warehouse import (
    finish_run,
    newest_archived_day,
    open_warehouse,
    record_notices,
    settled_windows,
    start_run,
    writer_lock,
)

logger = logging.getLogger("smsarchive")

RunKind = Literal["backfill", "sync"]


@dataclass
class RunSummary:
    """What one backfill or sync did, for the terminal and the run ledger."""

    kind: RunKind
    start: date
    end: date
    windows: int = 0
    windows_skipped: int = 0
    inserted: int = 0
    updated: int = 0
    status_changes: int = 0
    rejected: int = 0
    api_calls: int = 0
    media: MediaOutcome = field(default_factory=MediaOutcome)
    notices: list[str] = field(default_factory=list)
    failed_windows: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain values, for printing and for Prefect's flow result."""
        values = asdict(self)
        values["start"], values["end"] = self.start.isoformat(), self.end.isoformat()
        return values


class WindowsFailedError(RuntimeError):
    """Some windows could not be fetched; the others were archived and the run is 'failed'."""


def _transient_only(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Prefect retries a window only after a transient failure (the client has retried too)."""
    return isinstance(state.data, TransientError)


@task(
    name="fetch-window",
    cache_policy=NO_CACHE,
    retries=1,
    retry_delay_seconds=10,
    retry_condition_fn=_transient_only,
)
def fetch_window_task(
    client: VoipMsClient, window: Window, dids: list[str], page_limit: int
) -> RawWindow:
    """Fetch one window's getSMS and getMMS answers whole."""
    return fetch_window(client, window, dids=dids, page_limit=page_limit)


@task(name="archive-window", cache_policy=NO_CACHE)
def archive_window_task(
    con: duckdb.DuckDBPyConnection, settings: Settings, raw: RawWindow, account: str
) -> WindowOutcome:
    """Land one window's raw answers, then transform and merge them with its checkpoint."""
    land_window(con, settings.smsarchive_data_dir, raw, account=account)
    return merge_raw_window(
        con,
        raw,
        account=account,
        timezone=settings.voipms_account_timezone,
        seen_at=datetime.now(UTC),
    )


@task(name="download-media", cache_policy=NO_CACHE, retries=1, retry_delay_seconds=10)
def media_task(con: duckdb.DuckDBPyConnection, settings: Settings) -> MediaOutcome:
    """Download every media file the archive still lacks."""
    items = pending_items(con)
    if not items:
        # Under the writer lock, anything in media/.tmp is a killed run's leftover.
        clean_stale_temp(settings.media_dir, older_than=0)
        return MediaOutcome()
    tracker = current_reporter().stage("media", len(items))
    return download_pending(
        con,
        items,
        media_dir=settings.media_dir,
        allowed_hosts=settings.voipms_media_hosts,
        user_agent=DEFAULT_USER_AGENT,
        concurrency=settings.smsarchive_media_concurrency,
        on_result=lambda _: tracker.advance(),
    )


def account_today(settings: Settings) -> date:
    """Today in the account's time zone (the API's days are local days)."""
    return datetime.now(ZoneInfo(settings.voipms_account_timezone)).date()


def _archive(settings: Settings, kind: RunKind, start: date | None, end: date | None) -> RunSummary:
    if start is not None and end is not None and start > end:
        raise ValueError(f"start {start} is after end {end}")
    data_dir = settings.smsarchive_data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    wait = settings.smsarchive_busy_wait_seconds
    with writer_lock(data_dir, wait=wait), api_client(settings) as client:
        account = client.username
        con = open_warehouse(settings.archive_path, wait=wait)
        try:
            if kind == "sync":
                end = account_today(settings)
                newest = newest_archived_day(con, PROVIDER, account)
                lookback = timedelta(days=settings.smsarchive_sync_lookback_days)
                start = (newest if newest is not None and newest <= end else end) - lookback
            if start is None or end is None:
                raise ValueError("a backfill needs a start and an end day")
            run_id = start_run(
                con, kind, provider=PROVIDER, account=account, window_start=start, window_end=end
            )
            summary = RunSummary(kind=kind, start=start, end=end)
            try:
                _run_windows(con, settings, client, summary, skip_settled=kind == "backfill")
                summary.media = media_task(con, settings)
            except BaseException as exc:
                finish_run(con, run_id, outcome="failed", detail=type(exc).__name__)
                raise
            summary.api_calls = client.stats().total_calls
            if summary.failed_windows:
                failed = WindowsFailedError(
                    f"{len(summary.failed_windows)} of {summary.windows} windows could not be "
                    f"archived ({'; '.join(summary.failed_windows)}); every other window and "
                    "its media are archived, and a rerun fetches only what is missing"
                )
                finish_run(
                    con,
                    run_id,
                    outcome="failed",
                    windows_merged=summary.windows
                    - summary.windows_skipped
                    - len(summary.failed_windows),
                    messages_inserted=summary.inserted,
                    messages_updated=summary.updated,
                    detail=f"{len(summary.failed_windows)} windows failed",
                )
                raise failed
            finish_run(
                con,
                run_id,
                outcome="ok",
                windows_merged=summary.windows - summary.windows_skipped,
                messages_inserted=summary.inserted,
                messages_updated=summary.updated,
            )
            return summary
        finally:
            con.close()


def _run_windows(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    client: VoipMsClient,
    summary: RunSummary,
    *,
    skip_settled: bool,
) -> None:
    account = client.username
    dids = [str(row.get("did", "")) for row in client.get_dids_info() if row.get("did")]
    windows = split_range(summary.start, summary.end)
    summary.windows = len(windows)
    if skip_settled:
        settled = settled_windows(con, PROVIDER, account)
        todo = [w for w in windows if (w.start, w.end) not in settled]
        summary.windows_skipped = len(windows) - len(todo)
        if summary.windows_skipped:
            logger.info("%d windows already archived: skipped", summary.windows_skipped)
    else:
        todo = windows
    tracker = current_reporter().stage("windows", len(todo))
    notices: set[Notice] = set()
    queue = list(reversed(todo))  # oldest first, popped from the end
    in_flight: dict[PrefectFuture[RawWindow], Window] = {}
    limit = settings.voipms_max_concurrency
    while queue or in_flight:
        while queue and len(in_flight) < limit:
            window = queue.pop()
            future = fetch_window_task.submit(client, window, dids, settings.voipms_page_limit)
            in_flight[future] = window
        finished = next(as_completed(list(in_flight)))
        window = in_flight.pop(finished)
        try:
            raw = finished.result()
        except (AccessError, TransientError):
            raise
        except PermanentError as exc:
            # An answer this version cannot use (e.g. an error code it does not know) spoils
            # this window only: the others go on, this one stays un-checkpointed for a rerun.
            days = f"{window.start}..{window.end}"
            notice = Notice("unknown_error", f"{exc.method}: {exc.code}", f"window {days}")
            if record_notices(
                con, [notice.as_row()], provider=PROVIDER, account=account, seen_at=_now()
            ):
                notices.add(notice)
            summary.failed_windows.append(f"{days}: {exc}")
            logger.error("window %s not archived: %s", days, exc)
            tracker.advance(f"{days} failed")
            continue
        outcome = archive_window_task(con, settings, raw, account)
        summary.inserted += outcome.merge.inserted
        summary.updated += outcome.merge.updated
        summary.status_changes += outcome.merge.status_changes
        summary.rejected += outcome.rejected
        notices |= outcome.new_notices
        tracker.advance(f"{raw.window.start}..{raw.window.end}")
    summary.notices = [notice.describe() for notice in sorted(notices)]
    for line in summary.notices:
        logger.warning("the API sent %s (new to this archive; `smsarchive status` lists all)", line)


def _now() -> datetime:
    return datetime.now(UTC)


def _task_runner() -> TaskRunner[PrefectFuture[Any]]:
    runner: ThreadPoolTaskRunner[Any] = ThreadPoolTaskRunner(
        max_workers=current_settings().voipms_max_concurrency
    )
    return cast("TaskRunner[PrefectFuture[Any]]", runner)


@flow(name="backfill", log_prints=False)
def backfill(start: date, end: date) -> dict[str, Any]:
    """Archive every message between two local days (inclusive); settled windows are skipped."""
    return _archive(current_settings(), "backfill", start, end).as_dict()


@flow(name="sync", log_prints=False)
def sync() -> dict[str, Any]:
    """Fetch again from the newest archived day minus the lookback to today."""
    return _archive(current_settings(), "sync", None, None).as_dict()


def run_backfill(start: date, end: date) -> dict[str, Any]:
    """Run the backfill flow with a task runner sized by the settings."""
    result: dict[str, Any] = backfill.with_options(task_runner=_task_runner())(start, end)
    return result


def run_sync() -> dict[str, Any]:
    """Run the sync flow with a task runner sized by the settings."""
    result: dict[str, Any] = sync.with_options(task_runner=_task_runner())()
    return result
