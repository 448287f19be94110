"""Prefect flows `backfill` and `sync`: the steps of flows/archive_run.py as Prefect tasks."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any, cast

import duckdb
from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State
from prefect.context import FlowRunContext
from prefect.futures import PrefectFuture
from prefect.states import Cancelled
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from extract.voipms.client import ClientStopped, VoipMsClient
from extract.voipms.windows import Window
from flows.archive_run import archive, download_media, first_done, merge, prepare
from flows.dead_flow_runs import close_dead_flow_runs
from flows.interruptions import NOTHING_LOST
from flows.logging_setup import send_logs_to_prefect
from flows.media_step import MediaOutcome
from flows.prefect_outage import work_done
from flows.run_names import started_at
from flows.run_progress import RunProgress
from flows.runtime import current_settings
from flows.settings import Settings
from flows.stopped_runs import cancelled_if_stopped
from flows.window_steps import PreparedWindow, WindowOutcome


# No task is retried by Prefect: the client already tries each call VOIPMS_MAX_ATTEMPTS times
# and the media step each file, so a run does the same with and without Prefect.
@task(
    name="prepare-window",
    task_run_name="prepare-window {window.start}..{window.end}",
    cache_policy=NO_CACHE,
)
def prepare_window_task(
    client: VoipMsClient, window: Window, dids: Sequence[str], settings: Settings, account: str
) -> PreparedWindow | State[Any]:
    """Fetch one window's getSMS and getMMS answers whole, land them, transform them.

    A window in flight when its run ends (a stop, another window's failure) is Cancelled,
    not Failed: nothing of its own went wrong, and the next run fetches it."""
    try:
        return prepare(client, window, dids, settings, account)
    except ClientStopped:
        return Cancelled(
            message=f"not finished: its run was ending (see the flow run); {NOTHING_LOST}"
        )


@task(name="merge-windows", cache_policy=NO_CACHE)
def merge_windows_task(
    con: duckdb.DuckDBPyConnection, prepared: Sequence[PreparedWindow], account: str
) -> list[WindowOutcome]:
    """Record the windows' landing, then merge them with their checkpoints in one transaction."""
    return merge(con, prepared, account)


@task(name="download-media", cache_policy=NO_CACHE)
def media_task(
    con: duckdb.DuckDBPyConnection, settings: Settings, progress: RunProgress
) -> MediaOutcome:
    """Download every media file the archive still lacks."""
    return download_media(con, settings, progress)


class PrefectSteps:
    """The run's steps as Prefect tasks of the current flow run."""

    def __init__(self) -> None:
        # the thread pool runner's futures (`wrapped_future`), as `done_now` reads them
        self._submitted: list[Any] = []

    @contextmanager
    def fetching(self, workers: int) -> Iterator[object]:
        """The flow's task runner is already sized (see `_task_runner`). Leaving the block
        waits for the prepare tasks submitted in it, as the plain run's pool does: on a
        failure (the client stopped) they end before the flow run does, not after it."""
        try:
            yield None
        finally:
            submitted, self._submitted = self._submitted, []
            for future in submitted:
                future.wait()

    def submit_prepare(
        self,
        client: VoipMsClient,
        window: Window,
        dids: Sequence[str],
        settings: Settings,
        account: str,
    ) -> PrefectFuture[PreparedWindow]:
        """Submit the prepare task."""
        future = prepare_window_task.submit(client, window, dids, settings, account)
        # only those still running are kept: a finished one holds its window's frames
        self._submitted = [f for f in self._submitted if not f.wrapped_future.done()]
        self._submitted.append(future)
        # a Cancelled state comes out of `result()` as CancelledRun, as a plain run's
        # ClientStopped does: only a window whose run is ending returns one
        return cast("PrefectFuture[PreparedWindow]", future)

    def next_done(self, futures: list[Any]) -> Any:
        """The first task future to finish (waited for on the thread pool's futures they
        wrap, in short steps, as the plain run does)."""
        wrapped = [future.wrapped_future for future in futures]
        return futures[wrapped.index(first_done(wrapped))]

    def done_now(self, futures: list[Any]) -> list[Any]:
        """The task futures already finished (asked of the thread pool's futures they wrap,
        not of the Prefect API)."""
        return [future for future in futures if future.wrapped_future.done()]

    def merge(
        self, con: duckdb.DuckDBPyConnection, prepared: Sequence[PreparedWindow], account: str
    ) -> list[WindowOutcome]:
        """The merge-windows task."""
        return merge_windows_task(con, prepared, account)

    def media(
        self, con: duckdb.DuckDBPyConnection, settings: Settings, progress: RunProgress
    ) -> MediaOutcome:
        """The download-media task."""
        return media_task(con, settings, progress)

    def flow_run_id(self) -> str | None:
        """The current flow run's id."""
        context = FlowRunContext.get()
        return str(context.flow_run.id) if context and context.flow_run else None

    def close_dead_flow_runs(self, flow_run_ids: Sequence[str]) -> None:
        """Marked Crashed (with the flow runs they ran inside) unless already over."""
        close_dead_flow_runs(flow_run_ids)


def _task_runner() -> TaskRunner[PrefectFuture[Any]]:
    runner: ThreadPoolTaskRunner[Any] = ThreadPoolTaskRunner(
        max_workers=current_settings().voipms_max_concurrency
    )
    return cast("TaskRunner[PrefectFuture[Any]]", runner)


@flow(name="backfill", flow_run_name="backfill {start}..{end}", log_prints=False)
def backfill(
    start: date, end: date, refetch: bool = False, redownload_missing_media: bool = False
) -> dict[str, Any]:
    """Archive every message between two local days (inclusive); settled windows are skipped
    unless `refetch`."""
    send_logs_to_prefect()
    steps = PrefectSteps()
    with cancelled_if_stopped():
        outcome = archive(
            current_settings(),
            "backfill",
            start,
            end,
            steps,
            refetch=refetch,
            redownload_missing_media=redownload_missing_media,
        )
    return work_done(outcome.as_dict())


@flow(name="sync", flow_run_name=started_at("sync"), log_prints=False)
def sync(redownload_missing_media: bool = False) -> dict[str, Any]:
    """Fetch again from the newest archived day minus the lookback to today (and, after a
    sync that did not end ok, its days no finished window holds)."""
    send_logs_to_prefect()
    with cancelled_if_stopped():
        outcome = archive(
            current_settings(),
            "sync",
            None,
            None,
            PrefectSteps(),
            redownload_missing_media=redownload_missing_media,
        )
    return work_done(outcome.as_dict())


def run_backfill_flow(
    start: date, end: date, *, refetch: bool = False, redownload_missing_media: bool = False
) -> dict[str, Any]:
    """Run the backfill flow with a task runner sized by the settings."""
    runner = backfill.with_options(task_runner=_task_runner())
    result: dict[str, Any] = runner(start, end, refetch, redownload_missing_media)
    return result


def run_sync_flow(*, redownload_missing_media: bool = False) -> dict[str, Any]:
    """Run the sync flow with a task runner sized by the settings."""
    runner = sync.with_options(task_runner=_task_runner())
    result: dict[str, Any] = runner(redownload_missing_media)
    return result
