"""Times each stage of a backfill by calling the pipeline's own plain functions.

Mirrors `flows.archive_flows._archive` step for step (getDIDsInfo, windows fetched
`VOIPMS_MAX_CONCURRENCY` at a time and archived one by one in the main thread as they
finish, then media), without Prefect, and adds clocks around each step. Run as a child
process (`python -m benchmarks.stage_driver --start D --end D`), settings from the
environment; prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import UTC, date, datetime
from typing import Any

from extract.voipms.client import DEFAULT_USER_AGENT
from extract.voipms.windows import split_range
from flows.api_client import api_client
from flows.media_step import download_pending, pending_items
from flows.settings import Settings
from flows.window_steps import PROVIDER, RawWindow, fetch_window, land_window
from transform.raw import raw_frame
from transform.reconcile import GETMMS, GETSMS, reconcile
from warehouse import merge_window, open_warehouse, writer_lock


def _timed_fetch(*args: Any, **kwargs: Any) -> tuple[RawWindow, float]:
    started = time.perf_counter()
    raw = fetch_window(*args, **kwargs)
    return raw, time.perf_counter() - started


def drive(settings: Settings, start: date, end: date, *, media: bool) -> dict[str, Any]:
    """Backfill `start`..`end` stage by stage; seconds per stage and counts."""
    clocks = dict.fromkeys(
        ("fetch_wait", "fetch_busy", "land", "transform", "load", "media", "setup"), 0.0
    )
    counts = {"windows": 0, "sms_rows": 0, "mms_rows": 0, "messages": 0, "media_items": 0}
    data_dir = settings.smsarchive_data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    with writer_lock(data_dir), api_client(settings) as client:
        account = client.username
        con = open_warehouse(settings.archive_path)
        try:
            dids = [str(r.get("did", "")) for r in client.get_dids_info() if r.get("did")]
            windows = split_range(start, end)
            counts["windows"] = len(windows)
            clocks["setup"] = time.perf_counter() - began
            queue = list(reversed(windows))
            limit = settings.voipms_max_concurrency
            in_flight: set[Future[tuple[RawWindow, float]]] = set()
            messages_began = time.perf_counter()
            with ThreadPoolExecutor(max_workers=limit) as pool:
                while queue or in_flight:
                    while queue and len(in_flight) < limit:
                        in_flight.add(
                            pool.submit(
                                _timed_fetch,
                                client,
                                queue.pop(),
                                dids=dids,
                                page_limit=settings.voipms_page_limit,
                            )
                        )
                    t0 = time.perf_counter()
                    done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                    clocks["fetch_wait"] += time.perf_counter() - t0
                    for future in done:
                        raw, busy = future.result()
                        clocks["fetch_busy"] += busy
                        _archive_one(con, settings, raw, account, clocks, counts)
            clocks["messages_wall"] = time.perf_counter() - messages_began
            if media:
                t0 = time.perf_counter()
                items = pending_items(con)
                counts["media_items"] = len(items)
                outcome = download_pending(
                    con,
                    items,
                    media_dir=settings.media_dir,
                    allowed_hosts=settings.voipms_media_hosts,
                    user_agent=DEFAULT_USER_AGENT,
                    concurrency=settings.smsarchive_media_concurrency,
                )
                clocks["media"] = time.perf_counter() - t0
                counts["media_stored"] = outcome.stored
                counts["media_expired"] = outcome.expired
                counts["media_failed"] = outcome.failed
            stats = client.stats()
        finally:
            con.close()
    clocks["total"] = time.perf_counter() - began
    return {
        "seconds": clocks,
        "counts": counts,
        "client_calls": dict(stats.calls),
        "client_retries": dict(stats.retries),
        "max_in_flight": stats.max_in_flight,
    }


def _archive_one(
    con: Any,
    settings: Settings,
    raw: RawWindow,
    account: str,
    clocks: dict[str, float],
    counts: dict[str, int],
) -> None:
    """land_window, then merge_raw_window's two halves (transform, load), each timed."""
    t0 = time.perf_counter()
    land_window(con, settings.smsarchive_data_dir, raw, account=account)
    t1 = time.perf_counter()
    frames = reconcile(
        raw_frame(raw.sms_all, GETSMS),
        raw_frame(raw.mms_only, GETMMS),
        provider=PROVIDER,
        account=account,
        timezone=settings.voipms_account_timezone,
    )
    t2 = time.perf_counter()
    merge_window(
        con,
        provider=PROVIDER,
        account=account,
        window_start=raw.window.start,
        window_end=raw.window.end,
        messages=frames.messages,
        media=frames.media,
        rejected=frames.rejected,
        seen_at=datetime.now(UTC),
        sms_rows=len(raw.sms_all),
        mms_rows=len(raw.mms_only),
    )
    t3 = time.perf_counter()
    clocks["land"] += t1 - t0
    clocks["transform"] += t2 - t1
    clocks["load"] += t3 - t2
    counts["sms_rows"] += len(raw.sms_all)
    counts["mms_rows"] += len(raw.mms_only)
    counts["messages"] += frames.messages.height


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
