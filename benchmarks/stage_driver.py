"""Times each stage of a backfill by running the pipeline's own plain path with clocks on it.

Runs `flows.archive_run.archive` (the path every CLI run without Prefect takes) with its
steps wrapped in clocks: in the fetch workers, fetch, land (files) and transform, summed
over threads; in the main thread, the time spent waiting for a prepared window and the
merge (load); then media. Run as a child process (`python -m benchmarks.stage_driver
--start D --end D`), settings from the environment; prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from datetime import date
from typing import Any

import duckdb

from extract.voipms.client import VoipMsClient
from extract.voipms.windows import Window
from flows.archive_run import PlainSteps, archive, merge, prepare
from flows.media_step import MediaOutcome
from flows.run_progress import RunProgress
from flows.settings import Settings
from flows.window_steps import PreparedWindow, WindowOutcome


class TimedSteps(PlainSteps):
    """PlainSteps with a clock on every step."""

    def __init__(self, media: bool) -> None:
        super().__init__()
        self.media_wanted = media
        self.clocks = dict.fromkeys(
            ("fetch_wait", "fetch_busy", "land", "transform", "load", "media"), 0.0
        )
        self.counts = {"windows": 0, "sms_rows": 0, "mms_rows": 0, "messages": 0}
        self._lock = threading.Lock()

    def _add(self, name: str, seconds: float) -> None:
        with self._lock:
            self.clocks[name] += seconds

    def _prepare(
        self,
        client: VoipMsClient,
        window: Window,
        dids: Sequence[str],
        settings: Settings,
        account: str,
    ) -> PreparedWindow:
        steps = {"land": 0.0, "transform": 0.0}
        steps_lock = threading.Lock()

        def clock(step: str, seconds: float) -> None:  # told from getSMS's and getMMS's threads
            with steps_lock:
                steps[step] += seconds

        t0 = time.perf_counter()
        prepared = prepare(client, window, dids, settings, account, clock=clock)
        total = time.perf_counter() - t0
        # the fetch is what the window took beyond landing and reading its parts
        self._add("fetch_busy", total - steps["land"] - steps["transform"])
        self._add("land", steps["land"])
        self._add("transform", steps["transform"])
        with self._lock:
            self.counts["windows"] += 1
            self.counts["sms_rows"] += prepared.sms_rows
            self.counts["mms_rows"] += prepared.mms_rows
            self.counts["messages"] += prepared.frames.messages.height
        return prepared

    def submit_prepare(
        self,
        client: VoipMsClient,
        window: Window,
        dids: Sequence[str],
        settings: Settings,
        account: str,
    ) -> Future[PreparedWindow]:
        """Prepare on the pool, timed."""
        assert self._pool is not None
        return self._pool.submit(self._prepare, client, window, dids, settings, account)

    def next_done(self, futures: list[Any]) -> Any:
        """Wait for a window, timed (the fetch time not hidden behind the merges)."""
        t0 = time.perf_counter()
        done = super().next_done(futures)
        self._add("fetch_wait", time.perf_counter() - t0)
        return done

    def merge(
        self, con: duckdb.DuckDBPyConnection, prepared: Sequence[PreparedWindow], account: str
    ) -> list[WindowOutcome]:
        """Record the landing and merge, timed (load)."""
        t0 = time.perf_counter()
        outcome = merge(con, prepared, account)
        self._add("load", time.perf_counter() - t0)
        return outcome

    def media(
        self, con: duckdb.DuckDBPyConnection, settings: Settings, progress: RunProgress
    ) -> MediaOutcome:
        """Download media, timed, unless asked not to."""
        if not self.media_wanted:
            return MediaOutcome()
        t0 = time.perf_counter()
        outcome = super().media(con, settings, progress)
        self._add("media", time.perf_counter() - t0)
        return outcome


def drive(settings: Settings, start: date, end: date, *, media: bool) -> dict[str, Any]:
    """Backfill `start`..`end` through the plain path; seconds per stage and counts."""
    settings.smsarchive_data_dir.mkdir(parents=True, exist_ok=True)
    steps = TimedSteps(media)
    began = time.perf_counter()
    summary = archive(settings, "backfill", start, end, steps)
    total = time.perf_counter() - began
    clocks = dict(steps.clocks)
    clocks["total"] = total
    clocks["messages_wall"] = total - clocks["media"]
    clocks["setup"] = 0.0
    counts: dict[str, Any] = dict(steps.counts)
    counts["media_items"] = summary.media.stored + summary.media.expired + summary.media.failed
    counts["media_stored"] = summary.media.stored
    counts["media_expired"] = summary.media.expired
    counts["media_failed"] = summary.media.failed
    return {"seconds": clocks, "counts": counts, "api_calls": summary.api_calls}


def main() -> None:
    """Child entry: drive one backfill and print its timings as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--start", type=date.fromisoformat, required=True)
    parser.add_argument("--end", type=date.fromisoformat, required=True)
    parser.add_argument("--no-media", action="store_true")
    args = parser.parse_args()
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    result = drive(settings, args.start, args.end, media=not args.no_media)
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
