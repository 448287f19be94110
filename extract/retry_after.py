"""An HTTP Retry-After header read as seconds, and the wait it makes a retry take."""

from __future__ import annotations

import math

import httpx


def retry_after_seconds(headers: httpx.Headers) -> float | None:
    """The seconds a Retry-After header asks to wait, or None when it says none we can use.

    Only the delta-seconds form is read; an HTTP date (rare on 429 and 503) or anything
    else leaves the wait to the caller's own backoff.
    """
    value = headers.get("retry-after", "").strip()
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def honoured(backoff: float, retry_after: float | None, cap: float) -> float:
    """The wait before a retry: our own `backoff`, or the server's `retry_after` when it asks
    longer, that only up to `cap` seconds."""
    if retry_after is None:
        return backoff
    return max(backoff, min(retry_after, cap))
