"""A window's raw rows, as a test hands them over, transformed and merged with no API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from extract.voipms.windows import Window
from flows.window_steps import (
    AnswerFrames,
    PreparedWindow,
    WindowOutcome,
    merge_prepared,
    reconcile_answers,
)
from transform.reconcile import GETMMS, GETSMS


@dataclass
class RawWindow:
    """Every raw row of one window: getSMS with all_messages=1 and getMMS with MMS only."""

    window: Window
    sms_all: list[dict[str, Any]]
    mms_only: list[dict[str, Any]]


def merge_raw_window(
    con: duckdb.DuckDBPyConnection,
    raw: RawWindow,
    *,
    account: str,
    timezone: str,
    seen_at: datetime,
) -> WindowOutcome:
    """Read and reconcile a window's raw rows as a run does, then merge them with its checkpoint."""
    sms, mms = AnswerFrames(GETSMS), AnswerFrames(GETMMS)
    sms.read(raw.sms_all)
    mms.read(raw.mms_only)
    frames, notices = reconcile_answers(sms, mms, account=account, timezone=timezone)
    prepared = PreparedWindow(
        window=raw.window,
        landed=[],
        frames=frames,
        sms_rows=len(raw.sms_all),
        mms_rows=len(raw.mms_only),
        calls=0,
        notices=notices,
    )
    return merge_prepared(con, prepared, account=account, seen_at=seen_at)
