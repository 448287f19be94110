"""A Prefect server that stops answering during a run: the finished work is kept and said."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import httpx

from extract.loopback_direct import LOOPBACK_DIRECT
from flows.connection_errors import a_connection_error
from flows.logging_setup import PrefectOutageLines
from flows.orchestration import configured_api_url
from flows.settings import without_login
from flows.unrecorded_ends import note_unrecorded_end, record_unrecorded_ends

logger = logging.getLogger(__name__)

T = TypeVar("T")

HEALTH_TIMEOUT_S = 3.0
"""How long a flow's end waits for the Prefect server to answer before saying it does not."""

_finished: ContextVar[list[tuple[Any, str | None]] | None] = ContextVar(
    "smsarchive_finished", default=None
)
"""What the flow bodies of the command's run returned, with their flow run ids."""


@dataclass
class _StopNotes:
    """Where a command notes its flow runs stopped while their server is away (the data dir,
    and the server's address as kept there), and whether it noted one."""

    data_dir: Path
    server: str
    taken: bool = False


_stop_notes: ContextVar[_StopNotes | None] = ContextVar("smsarchive_stop_notes", default=None)


def prefect_unreachable(exc: BaseException) -> bool:
    """True when `exc` says the configured Prefect API could not be reached."""
    url = configured_api_url()
    if url is None:
        return False
    if isinstance(exc, RuntimeError) and str(exc).startswith("Failed to reach API at"):
        return True
    if isinstance(exc, httpx.TransportError):
        try:
            return str(exc.request.url).startswith(url.rstrip("/"))
        except RuntimeError:  # an error raised without its request
            return False
    return False


def prefect_answers(api_url: str | None, *, healthy: bool = False) -> bool:
    """Whether the Prefect server at `api_url` answers at all (any HTTP status will do), or,
    `healthy`, answers its health check with 200 (a proxy in front of a server still
    starting answers 502)."""
    if not api_url:
        return True
    try:
        with httpx.Client(timeout=HEALTH_TIMEOUT_S, mounts=LOOPBACK_DIRECT) as client:
            answer = client.get(f"{api_url.rstrip('/')}/health")
    except httpx.HTTPError:
        return False
    return answer.status_code == 200 or not healthy


def work_done(result: T) -> T:
    """A flow body's result, kept for the command that runs the flow; and, when the Prefect
    server no longer answers, said at once, and Prefect's client told to try each call once
    more only: its own retries would spend minutes failing to record the run's end (and as
    long again on a Ctrl-C), while the work itself is done."""
    kept = _finished.get()
    if kept is not None:
        from prefect.context import FlowRunContext

        context = FlowRunContext.get()
        flow_run = context.flow_run if context is not None else None
        kept.append((result, str(flow_run.id) if flow_run is not None else None))
    from prefect.settings import PREFECT_API_URL

    api_url = PREFECT_API_URL.value()
    if not prefect_answers(api_url):
        _retries_at_most(1)
        logger.warning(
            "the Prefect server at %s stopped answering during the run: the work is done "
            "and kept; Prefect tries once more to record the run's end",
            without_login(api_url),
        )
    elif PrefectOutageLines.SAID.is_set():  # said lost above: now said back
        PrefectOutageLines.SAID.clear()
        logger.info(
            "the Prefect server at %s answers again: the work is done and kept, and Prefect "
            "records the run's end; what it could not send meanwhile (some events and log "
            "lines of this run) is missing from the Prefect UI",
            without_login(api_url),
        )
    return result


def _retries_at_most(retries: int) -> None:
    """Prefect's client retries each call at most `retries` times (each 2 s or more after the
    last), for the rest of this process (5 times over a minute by default): in the run's
    context and in Prefect's own threads'."""
    from prefect.context import GLOBAL_SETTINGS_CONTEXT
    from prefect.settings import get_current_settings

    for settings in (get_current_settings(), GLOBAL_SETTINGS_CONTEXT.settings):
        settings.client.max_retries = min(settings.client.max_retries, retries)


def stopped_unrecorded(flow_run_id: str, why: str) -> None:
    """A command's flow run stopped by its user while its Prefect server does not answer:
    noted for the next run that reaches the server to mark Cancelled (`why`), and said.
    Prefect's client then tries nothing more: its retries would keep the stopped command
    over a minute, as would recording the windows' tasks that end with the run."""
    _retries_at_most(0)
    notes = _stop_notes.get()
    if notes is None:  # a flow run outside a command (a test's): nothing to note it in
        return
    note_unrecorded_end(notes.data_dir, flow_run_id, notes.server, cancelled=why)
    notes.taken = True
    logger.warning(
        "this run was stopped while the Prefect server at %s did not answer: Prefect shows it "
        "running until the next run reaches the server, which marks it Cancelled",
        notes.server,
    )


def kept_if_prefect_stops(run: Callable[[], T], data_dir: Path) -> T:
    """`run()`, a flow. When the Prefect server stopped answering after the flow's body had
    returned (or Ctrl-C came then, with no server to answer), what the body returned, with a
    warning: the work is in the archive (or the export), only Prefect's record of the run's
    end may be missing; that end is noted in `data_dir` and recorded by the next run (first
    thing here) that reaches the server. When it stopped answering and the body had failed,
    the body's own error, not Prefect's, which would hide it."""
    configured = configured_api_url()
    server = without_login(configured) if configured else None  # kept in the data dir
    if server is not None:
        record_unrecorded_ends(data_dir, server)
    kept: list[tuple[Any, str | None]] = []
    stops = _StopNotes(data_dir, server) if server is not None else None
    tokens = (_finished.set(kept), _stop_notes.set(stops))
    try:
        return _stops_as_they_came(run)
    except (RuntimeError, httpx.TransportError, KeyboardInterrupt) as exc:
        stopped = isinstance(exc, KeyboardInterrupt)
        if stopped and stops is not None and stops.taken:  # said and noted as it stopped
            drop_undeliverable_events()
            raise
        if stopped and kept:
            if prefect_answers(configured):
                raise  # an interruption like any other: Prefect records it
        elif not prefect_unreachable(exc):
            raise
        dropped = drop_undeliverable_events()
        if not kept:
            own = _body_error(exc)
            if own is None:
                raise
            raise own from None
        result, flow_run_id = kept[-1]
        if flow_run_id is not None and server is not None:
            note_unrecorded_end(data_dir, flow_run_id, server)
        logger.warning(
            "this run %s before Prefect recorded its end: the run's work is done (below); "
            "Prefect may show it running until the next run reaches the server%s",
            "was stopped" if stopped else "lost its Prefect server",
            f"; {dropped} of its events and log records were not sent" if dropped else "",
        )
        return cast(T, result)
    finally:
        _stop_notes.reset(tokens[1])
        _finished.reset(tokens[0])


def _stops_as_they_came(run: Callable[[], T]) -> T:
    """`run()`; a flow run cancelled for its user's stop (`flows.stopped_runs`) raises that
    stop, which the command says as it always has."""
    from prefect.exceptions import Abort, TerminationSignal

    from flows.stopped_runs import stop_behind

    try:
        return run()
    except Abort as aborted:
        stop = stop_behind(aborted)
        if stop is None:
            raise
        if isinstance(stop, TerminationSignal):
            # SIGTERM, which Prefect took during the flow run: sent again to the handler it
            # had put aside (the command's own, raising Terminated), as Prefect does when
            # the signal ends a flow run itself
            os.kill(os.getpid(), stop.signal)
        raise stop from None


def _body_error(exc: BaseException) -> BaseException | None:
    """The error the flow's body ended in, under the Prefect server's (Prefect, failing to
    record that error, raises its own); None when there is none."""
    seen: set[int] = set()
    cause = exc.__cause__ or exc.__context__
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        the_servers = isinstance(cause, httpx.HTTPError) or a_connection_error(cause)
        if not the_servers and not prefect_unreachable(cause):
            return cause
        cause = cause.__cause__ or cause.__context__
    return None


def drop_undeliverable_events() -> int:
    """Empty the queues of Prefect's event and API-log workers; how many items were dropped.

    With no server, each queued event takes ~7 s of reconnecting and each log batch its
    retries, and Prefect 3.8 waits for every one at exit, with no time limit: a run that
    queued hundreds of events would hang for many minutes after its work. (Prefect has no
    public call for this; it reads the services' queues, under each queue's own lock.) The
    command has said the server is gone: Prefect's own lines about it are not shown after.
    """
    if "prefect" not in sys.modules:  # nothing of Prefect's ran: nothing is queued
        return 0
    PrefectOutageLines.HUSHED.set()
    from prefect._internal.concurrency import services
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for _ in range(3):
        try:
            running = list(services._active_services)
            break
        except RuntimeError:  # a service started meanwhile (the set changed size)
            continue
    else:
        return 0
    dropped = 0
    for service in running:
        if not isinstance(service, (EventsWorker, APILogWorker)):
            continue
        pending = service._queue
        with pending.mutex:  # the service's stop mark (None) stays: it must still see it
            items = [item for item in pending.queue if item is not None]
            marks = len(pending.queue) - len(items)
            pending.queue.clear()
            pending.queue.extend([None] * marks)
            if isinstance(service, EventsWorker):  # it marks each item done; batches are not
                pending.unfinished_tasks = max(pending.unfinished_tasks - len(items), 0)
                if pending.unfinished_tasks == 0:
                    pending.all_tasks_done.notify_all()
            pending.not_full.notify_all()
        for item in items:
            if isinstance(service, EventsWorker):
                service._on_item_dropped(cast(Any, item))
        dropped += len(items)
    return dropped
