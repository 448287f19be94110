"""Ctrl-C and SIGTERM held while DuckDB writes parquet: its abort of such a write can deadlock."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any, Final

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

    previous, raised = _swapped(dict.fromkeys(HELD, note))
    if raised is not None:  # a stop that came as they were installed: theirs put back
        _swapped(previous)
        raise raised
    try:
        yield
    finally:
        _, raised = _swapped(previous)
        if raised is not None:
            raise raised
        if noted:
            _deliver(noted[0], previous[noted[0]])


def _swapped(
    handlers: dict[signal.Signals, Any],
) -> tuple[dict[signal.Signals, Any], BaseException | None]:
    """Install every one of `handlers`; those they replaced, and the first error a pending
    signal's handler raised meanwhile.

    Python runs a pending signal's handler before it swaps one (`signal.signal`): a Ctrl-C
    landing between two swaps raises there, with that swap not made. It is made again, then
    the next, so that no handler of ours is left behind to swallow the signals after us.
    """
    replaced: dict[signal.Signals, Any] = {}
    raised: BaseException | None = None
    for signum, handler in handlers.items():
        replaced[signum] = signal.getsignal(signum)  # runs no handler
        while signal.getsignal(signum) is not handler:
            try:
                signal.signal(signum, handler)
            except BaseException as exc:
                raised = raised or exc
    return replaced, raised


def _deliver(signum: int, handler: object) -> None:
    """Handle a noted signal as its handler before the block would have."""
    if callable(handler):
        handler(signum, None)
    elif handler == signal.SIG_DFL:
        signal.raise_signal(signum)
