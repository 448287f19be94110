"""Ctrl-C and SIGTERM held while DuckDB writes parquet: its abort of such a write can deadlock."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Final

HELD: Final = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def stops_held() -> Iterator[None]:
    """Meanwhile SIGINT and SIGTERM are only noted; once the block is over, the first one
    noted is handled as it would have been (Ctrl-C's KeyboardInterrupt, say).

    DuckDB 2.0.0 stops a query when Python reports a signal, and stopping a `COPY … TO`
    parquet can leave its async writer waiting on a lock its worker holds: the process then
    hangs, SIGTERM ignored, holding the export's lock and the archive (seen in about one in
    six Ctrl-Cs of an export in its first second). A write lasts seconds; the stop follows it.
    Outside the main thread (where Python handles signals) nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    noted: list[signal.Signals] = []

    def note(signum: int, frame: FrameType | None) -> None:
        noted.append(signal.Signals(signum))

    previous = {signum: signal.signal(signum, note) for signum in HELD}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if noted:
            _deliver(noted[0], previous[noted[0]])


def _deliver(signum: int, handler: object) -> None:
    """Handle a noted signal as its handler before the block would have."""
    if callable(handler):
        handler(signum, None)
    elif handler == signal.SIG_DFL:
        signal.raise_signal(signum)
