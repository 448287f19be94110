"""download_media: fetch many media URLs over one httpx.Client with bounded concurrency."""

from __future__ import annotations

import logging
import queue
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, NotRequired, TypedDict, Unpack

import httpx

from extract.call_deadline import bounded
from extract.loopback_direct import LOOPBACK_DIRECT
from extract.media.log_masking import describe_url
from extract.media.records import K, MediaItem, MediaResult
from extract.media.storage import DEFAULT_STALE_AFTER, clean_stale_temp
from extract.media.transfer import Outcome, Stopped, TransferLimits, TransientError, fetch_once
from extract.media.url_policy import UrlPolicy
from extract.media.worker_processes import WorkerSettings, processes_used, run_in_processes
from extract.retry_after import honoured

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 25 * 1024 * 1024


class CookielessClient(httpx.Client):
    """An httpx.Client that neither keeps nor sends cookies: each download stands alone, and
    no response's Set-Cookie headers are read (a tenth of a download's Python, under the GIL
    the workers share)."""

    @property
    def cookies(self) -> httpx.Cookies:
        return _NO_COOKIES

    @cookies.setter
    def cookies(self, cookies: object) -> None:
        """Cookies given are ignored."""


class _NoCookies(httpx.Cookies):
    """A jar that keeps nothing."""

    def extract_cookies(self, response: httpx.Response) -> None:
        """Keep nothing a host sets."""

    def set(self, name: str, value: str, domain: str = "", path: str = "/") -> None:
        """Keep nothing."""


_NO_COOKIES: Final = _NoCookies()


class WorkerClients:
    """One httpx.Client (one keep-alive connection) per download thread, made on first use;
    used as a `with` block, every client made is closed on leaving it.

    A client shared by the workers serialises them on its connection pool's lock: with
    eight workers, waiting for that lock was the largest part of a download's time.
    """

    def __init__(self, user_agent: str, timeout: float) -> None:
        self._user_agent = user_agent
        self._timeout = timeout
        self._local = threading.local()
        self._made: list[httpx.Client] = []
        self._lock = threading.Lock()

    def client(self) -> httpx.Client:
        """This thread's client."""
        client: httpx.Client | None = getattr(self._local, "client", None)
        if client is None:
            client = bounded(
                CookielessClient(
                    headers={
                        "User-Agent": self._user_agent,
                        "Accept": "*/*",
                        "Accept-Encoding": "identity",
                    },
                    timeout=httpx.Timeout(self._timeout),
                    follow_redirects=False,
                    limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
                    mounts=LOOPBACK_DIRECT,
                )
            )
            self._local.client = client
            with self._lock:
                self._made.append(client)
        return client

    def __enter__(self) -> WorkerClients:
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            made, self._made = self._made, []
        for client in made:
            client.close()


@dataclass(frozen=True, slots=True)
class _Run:
    clients: WorkerClients
    policy: UrlPolicy
    media_dir: Path
    limits: TransferLimits
    max_attempts: int
    backoff: float
    backoff_max: float
    durable: bool
    stop: threading.Event = field(default_factory=threading.Event)
    """Set when the run stops: no new attempt, no wait for one, no body read on."""


def _result(item: MediaItem[K], outcome: Outcome, attempts: int) -> MediaResult[K]:
    return MediaResult(
        key=item.key,
        url=item.url,
        state=outcome.state,
        sha256=outcome.sha256,
        size_bytes=outcome.size_bytes,
        content_type=outcome.content_type,
        fetched_at=datetime.now(UTC),
        attempts=attempts,
        error=outcome.error,
    )


def backoff_seconds(
    error: TransientError, attempt: int, backoff: float, backoff_max: float
) -> float:
    """Seconds to wait after failed attempt number `attempt` (1, 2, ...): exponential with full
    jitter, uniform in 0..min(backoff_max, backoff x 2^(attempt - 1)); a Retry-After is
    honoured up to backoff_max."""
    seconds = random.uniform(0.0, min(backoff_max, backoff * 2 ** (attempt - 1)))
    return honoured(seconds, error.retry_after, backoff_max)


def _fetch(run: _Run, item: MediaItem[K], url: httpx.URL) -> MediaResult[K]:
    """One item, retried on transient trouble up to `run.max_attempts` attempts in all.

    A plain loop: a tenacity `Retrying` made per item was a fifteenth of a download's Python,
    which the eight workers share under one GIL.
    """
    attempts = 0
    while True:
        attempts += 1
        try:
            outcome = fetch_once(
                run.clients.client(),
                url,
                policy=run.policy,
                media_dir=run.media_dir,
                limits=run.limits,
                durable=run.durable,
                stop=run.stop,
            )
        except TransientError as exc:
            if attempts < run.max_attempts:
                # a stop ends the wait: the file is left pending, not tried again
                if run.stop.wait(backoff_seconds(exc, attempts, run.backoff, run.backoff_max)):
                    raise Stopped from exc
                continue
            outcome = Outcome(state="failed", error=exc.reason)
        return _result(item, outcome, attempts)


def _log(result: MediaResult[K]) -> None:
    if result.state == "failed":
        where = describe_url(result.url)
        if result.attempts:
            tries = "1 try" if result.attempts == 1 else f"{result.attempts} tries"
            logger.info("media %s failed after %s: %s", where, tries, result.error)
        else:  # refused before any request: the run's summary names the hosts, once
            logger.debug("media %s not fetched: %s", where, result.error)
    elif logger.isEnabledFor(logging.DEBUG):  # describing a URL parses it: not for nothing
        logger.debug("media %s %s", describe_url(result.url), result.state)


class DownloadOptions(TypedDict):
    """`_download`'s settings, as `download_media` and `download_each` take them."""

    media_dir: Path
    allowed_hosts: Sequence[str]
    user_agent: str
    max_bytes: NotRequired[int]
    concurrency: NotRequired[int]
    timeout: NotRequired[float]
    attempt_timeout: NotRequired[float | None]
    max_attempts: NotRequired[int]
    backoff: NotRequired[float]
    backoff_max: NotRequired[float]
    stale_temp_after: NotRequired[float | None]
    durable: NotRequired[bool]
    processes: NotRequired[int | None]


def download_media(
    items: Sequence[MediaItem[K]],
    *,
    on_result: Callable[[MediaResult[K]], None] | None = None,
    **options: Unpack[DownloadOptions],
) -> list[MediaResult[K]]:
    """Fetch every item's URL as `download_each` does, and say what became of each, in the
    order of `items` (and to `on_result` too, as each finishes). Every result is held until
    the last: a queue of any length is `download_each`'s."""
    results: list[MediaResult[K] | None] = [None] * len(items)

    def keep(index: int, result: MediaResult[K]) -> None:
        results[index] = result
        if on_result is not None:
            on_result(result)

    _download(items, keep, **options)
    # a slot whose child's result line could not be read stays None: its file stays pending
    return [result for result in results if result is not None]


def download_each(
    items: Sequence[MediaItem[K]],
    *,
    on_result: Callable[[MediaResult[K]], None],
    **options: Unpack[DownloadOptions],
) -> None:
    """Fetch every item's URL, as `_download` says, handing each result to `on_result` as it
    finishes and keeping none: 500,000 results held to the end were ~210 MB."""
    _download(items, lambda _, result: on_result(result), **options)


def _download(
    items: Sequence[MediaItem[K]],
    finish_item: Callable[[int, MediaResult[K]], None],
    *,
    media_dir: Path,
    allowed_hosts: Sequence[str],
    user_agent: str,
    max_bytes: int = DEFAULT_MAX_BYTES,
    concurrency: int = 8,
    timeout: float = 60.0,
    attempt_timeout: float | None = None,
    max_attempts: int = 4,
    backoff: float = 0.5,
    backoff_max: float = 30.0,
    stale_temp_after: float | None = None,
    durable: bool = True,
    processes: int | None = None,
) -> None:
    """Fetch every item's URL into `media_dir` (files named by sha256); `finish_item` each
    result, with the item's index, on the calling thread as it finishes.

    - URLs outside `allowed_hosts` (see UrlPolicy) fail without a network call (attempts=0).
    - `timeout` bounds each connect/read/write; `attempt_timeout` (default 10 x timeout)
      bounds one whole attempt, redirects and body included.
    - Transient trouble (5xx, 429, timeouts, connection errors, truncated bodies) is retried
      up to `max_attempts` attempts in all, with exponential backoff and full jitter
      (`backoff` x 2^n seconds, at most `backoff_max`; a Retry-After is honoured up to it).
    - Bodies past `max_bytes` (announced or streamed) fail as 'too_large'.
    - `durable=False` skips each file's fsyncs: the caller then calls
      `storage.flush_to_disk()` before it records stored files anywhere.
    - Temp files a crashed run left in media_dir/.tmp (untouched for `stale_temp_after`
      seconds; default the larger of 10 minutes and 2 x timeout, so another live run's
      downloads are spared) are removed first.
    - `processes` > 1 spreads the downloads (and the `concurrency` threads) over that many
      child processes, each with its own GIL (see worker_processes); None chooses by the
      number of items and CPUs (processes_for). An item whose child's result line could not
      be read is not finished.
    """
    if concurrency < 1 or max_attempts < 1 or max_bytes < 1 or timeout <= 0:
        raise ValueError("concurrency, max_attempts, max_bytes and timeout must be positive")
    if processes is not None and processes < 1:
        raise ValueError("processes must be positive")
    policy = UrlPolicy(allowed_hosts)
    media_dir.mkdir(parents=True, exist_ok=True)
    if stale_temp_after is None:
        stale_temp_after = max(DEFAULT_STALE_AFTER, 2 * timeout)
    removed = clean_stale_temp(media_dir, older_than=stale_temp_after)
    if removed:
        logger.info("removed %d stale temp file(s) from %s", removed, media_dir)

    def finish(index: int, result: MediaResult[K]) -> None:
        _log(result)
        finish_item(index, result)

    processes = processes_used(len(items), concurrency, processes)
    if processes > 1:
        settings = WorkerSettings(
            media_dir=str(media_dir),
            allowed_hosts=list(allowed_hosts),
            user_agent=user_agent,
            max_bytes=max_bytes,
            concurrency=concurrency,
            timeout=timeout,
            attempt_timeout=attempt_timeout,
            max_attempts=max_attempts,
            backoff=backoff,
            backoff_max=backoff_max,
            durable=durable,
        )
        logger.debug(
            "media: %d files over %d processes, %d downloads in flight",
            len(items),
            processes,
            concurrency,
        )
        run_in_processes(items, settings, processes, finish)
        return

    pending: list[tuple[int, MediaItem[K], httpx.URL]] = []
    for index, item in enumerate(items):
        parsed = policy.parse(item.url)
        if isinstance(parsed, str):
            finish(index, _result(item, Outcome(state="failed", error=parsed), attempts=0))
        else:
            pending.append((index, item, parsed))

    if pending:
        workers = min(concurrency, len(pending))
        with WorkerClients(user_agent, timeout) as clients:
            run = _Run(
                clients=clients,
                policy=policy,
                media_dir=media_dir,
                limits=TransferLimits(
                    max_bytes=max_bytes,
                    attempt_seconds=attempt_timeout if attempt_timeout else 10 * timeout,
                ),
                max_attempts=max_attempts,
                backoff=backoff,
                backoff_max=backoff_max,
                durable=durable,
            )
            _run_pool(run, pending, workers, finish)


def _run_pool(
    run: _Run,
    pending: list[tuple[int, MediaItem[K], httpx.URL]],
    workers: int,
    finish: Callable[[int, MediaResult[K]], None],
) -> None:
    """Download `pending` on `workers` threads; `finish` each result on this thread.

    The workers take items from one queue and put results on another: one lock each way per
    item. (Waiting on a set of futures instead locks every future of the set per completion,
    and with eight threads fighting for the GIL those locks were most of the system time.)
    """
    todo: queue.SimpleQueue[tuple[int, MediaItem[K], httpx.URL]] = queue.SimpleQueue()
    for entry in pending:
        todo.put(entry)
    done: queue.SimpleQueue[tuple[int, MediaResult[K] | BaseException]] = queue.SimpleQueue()
    stop = run.stop

    def work() -> None:
        while not stop.is_set():
            try:
                index, item, url = todo.get_nowait()
            except queue.Empty:
                return
            try:
                done.put((index, _fetch(run, item, url)))
            except Stopped:  # the run is ending: its file stays pending
                return
            except BaseException as exc:  # handed to the calling thread, which raises it
                done.put((index, exc))
                return

    threads = [
        threading.Thread(target=work, name=f"media_{number}", daemon=True)
        for number in range(workers)
    ]
    for thread in threads:
        thread.start()
    try:
        for _ in range(len(pending)):
            index, result = done.get()
            if isinstance(result, BaseException):
                raise result
            finish(index, result)
    finally:
        # On an error or Ctrl-C, start nothing more: a wait for another try ends at once, a
        # body coming in stops at its next chunk (a read waits at most the timeout)
        stop.set()
        for thread in threads:
            thread.join()
