"""A Prefect server that stops answering during a run: the finished work is kept and said."""

from __future__ import annotations

import logging
import queue
import sys
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar, cast

import httpx

from extract.loopback_direct import LOOPBACK_DIRECT
from flows.orchestration import configured_api_url
from flows.settings import without_login

logger = logging.getLogger(__name__)

T = TypeVar("T")

HEALTH_TIMEOUT_S = 3.0
"""How long a flow's end waits for the Prefect server to answer before saying it does not."""

_finished: ContextVar[list[Any] | None] = ContextVar("smsarchive_finished", default=None)


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


def prefect_answers(api_url: str | None) -> bool:
    """Whether the Prefect server at `api_url` answers at all (any HTTP status will do)."""
    if not api_url:
        return True
    try:
        with httpx.Client(timeout=HEALTH_TIMEOUT_S, mounts=LOOPBACK_DIRECT) as client:
            client.get(f"{api_url.rstrip('/')}/health")
    except httpx.HTTPError:
        return False
    return True


def work_done(result: T) -> T:
    """A flow body's result, kept for the command that runs the flow; and, when the Prefect
    server no longer answers, said at once: Prefect then spends minutes failing to record
    the run's end, and the person waiting should know the work itself is done."""
    kept = _finished.get()
    if kept is not None:
        kept.append(result)
    from prefect.settings import PREFECT_API_URL

    api_url = PREFECT_API_URL.value()
    if not prefect_answers(api_url):
        logger.warning(
            "the Prefect server at %s stopped answering during the run: the work is done "
            "and kept; Prefect now tries for up to a few minutes to record the run's end, "
            "and stopping it meanwhile loses nothing",
            without_login(api_url),
        )
    return result


def kept_if_prefect_stops(run: Callable[[], T]) -> T:
    """`run()`, a flow; or, when the Prefect server stopped answering after the flow's body
    had returned (or Ctrl-C came while Prefect tried to reach it), what the body returned,
    with a warning: the work is in the archive (or the export), only Prefect's record of
    the run's end is lost."""
    kept: list[Any] = []
    token = _finished.set(kept)
    try:
        return run()
    except (RuntimeError, httpx.TransportError, KeyboardInterrupt) as exc:
        stopped = isinstance(exc, KeyboardInterrupt)
        if not kept or not (stopped or prefect_unreachable(exc)):
            raise
        dropped = drop_undeliverable_events()
        why = (
            "was stopped"
            if stopped
            else "lost its Prefect server (PREFECT_API_URL="
            + without_login(configured_api_url() or "")
            + ")"
        )
        logger.warning(
            "this run %s before Prefect recorded its end: the run's work is done (below), but "
            "Prefect will show the run as still running%s",
            why,
            f"; {dropped} of its events and log records were not sent" if dropped else "",
        )
        return cast(T, kept[-1])
    finally:
        _finished.reset(token)


def drop_undeliverable_events() -> int:
    """Empty the queues of Prefect's event and API-log workers; how many items were dropped.

    With no server, each queued event takes ~7 s of reconnecting and each log batch a
    minute of retries, and Prefect 3.8 waits for every one at exit, with no time limit:
    a run that queued hundreds of events would hang for many minutes after its work.
    (Prefect has no public call for this; it reads the services' queues.)
    """
    if "prefect" not in sys.modules:  # nothing of Prefect's ran: nothing is queued
        return 0
    from prefect._internal.concurrency import services
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    dropped = 0
    for service in list(services._active_services):
        if not isinstance(service, (EventsWorker, APILogWorker)):
            continue
        pending = service._queue
        while True:
            try:
                item = pending.get_nowait()
            except queue.Empty:
                break
            if item is None:  # the service's stop mark: it must still see it
                pending.task_done()
                pending.put_nowait(None)
                break
            if isinstance(service, EventsWorker):
                service._on_item_dropped(cast(Any, item))
            pending.task_done()
            dropped += 1
    return dropped
