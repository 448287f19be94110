"""One window's journey: fetch both answers whole, land them, transform, merge, checkpoint."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from extract.voipms.client import VoipMsClient
from extract.voipms.windows import Window, fetch_window_complete, mms_fetch, sms_fetch
from transform.drift import Notice, answer_drift, status_drift
from transform.raw import raw_frame
from transform.reconcile import GETMMS, GETSMS, reconcile
from warehouse import MergeResult, land_rows, merge_window, record_landing, record_notices

logger = logging.getLogger("smsarchive")

PROVIDER = "voipms"


@dataclass
class RawWindow:
    """Every raw row of one window: getSMS with all_messages=1 and getMMS with MMS only."""

    window: Window
    sms_all: list[dict[str, Any]]
    mms_only: list[dict[str, Any]]
    calls: int = 0
    splits: int = 0


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


def fetch_window(
    client: VoipMsClient, window: Window, *, dids: Sequence[str], page_limit: int
) -> RawWindow:
    """Both answers of a window, each made whole by splitting full answers."""
    sms = fetch_window_complete(
        sms_fetch(client, all_messages=True), window, limit=page_limit, dids=dids
    )
    mms = fetch_window_complete(
        mms_fetch(client, all_messages=False), window, limit=page_limit, dids=dids
    )
    return RawWindow(
        window=window,
        sms_all=sms.rows,
        mms_only=mms.rows,
        calls=sms.calls + mms.calls,
        splits=sms.splits + mms.splits,
    )


def land_window(
    con: duckdb.DuckDBPyConnection, data_dir: Path, raw: RawWindow, *, account: str
) -> None:
    """Write both raw answers to the landing area and record them, before any transform."""
    for method, rows in ((GETSMS, raw.sms_all), (GETMMS, raw.mms_only)):
        landed = land_rows(
            data_dir,
            rows,
            provider=PROVIDER,
            account=account,
            window_start=raw.window.start,
            window_end=raw.window.end,
            method=method,
        )
        record_landing(
            con,
            provider=PROVIDER,
            account=account,
            window_start=raw.window.start,
            window_end=raw.window.end,
            method=method,
            path=landed.path,
            rows=landed.rows,
            sha256=landed.sha256,
        )


def merge_raw_window(
    con: duckdb.DuckDBPyConnection,
    raw: RawWindow,
    *,
    account: str,
    timezone: str,
    seen_at: datetime,
) -> WindowOutcome:
    """Transform a window's raw rows and merge them, with its checkpoint, in one transaction."""
    frames = reconcile(
        raw_frame(raw.sms_all, GETSMS),
        raw_frame(raw.mms_only, GETMMS),
        provider=PROVIDER,
        account=account,
        timezone=timezone,
    )
    merged = merge_window(
        con,
        provider=PROVIDER,
        account=account,
        window_start=raw.window.start,
        window_end=raw.window.end,
        messages=frames.messages,
        media=frames.media,
        rejected=frames.rejected,
        seen_at=seen_at,
        sms_rows=len(raw.sms_all),
        mms_rows=len(raw.mms_only),
    )
    notices = (
        answer_drift(raw.sms_all, GETSMS)
        | answer_drift(raw.mms_only, GETMMS)
        | status_drift(frames.messages)
    )
    new = record_notices(
        con, [n.as_row() for n in notices], provider=PROVIDER, account=account, seen_at=seen_at
    )
    if frames.rejected.height:
        logger.warning(
            "window %s..%s: %d rows could not be read and were set aside in rejected_records",
            raw.window.start,
            raw.window.end,
            frames.rejected.height,
        )
    return WindowOutcome(
        window=raw.window,
        merge=merged,
        sms_rows=len(raw.sms_all),
        mms_rows=len(raw.mms_only),
        rejected=frames.rejected.height,
        new_notices={Notice(*row) for row in new},  # type: ignore[arg-type]
    )
