"""Ctrl-C and SIGTERM during a parquet write are held until it ends, then act as they would."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from flows.interruptions import Terminated, sigterm_as_terminated
from warehouse.held_stops import stops_held

ROWS = 200_000


def _write_signalled(path: Path, signum: int | None) -> None:
    """A parquet file written by DuckDB under stops_held, `signum` sent to us as it starts
    (Python runs the handler at once: the signal is only noted)."""
    con = duckdb.connect()
    try:
        with stops_held():
            if signum is not None:
                os.kill(os.getpid(), signum)
            rows = con.sql(
                "SELECT range AS n, 'x' || range AS s FROM range($rows)", params={"rows": ROWS}
            )
            rows.write_parquet(str(path))
    finally:
        con.close()


def _rows(path: Path) -> object:
    with duckdb.connect() as con:  # not the module's shared one: a result left open there
        return con.execute("SELECT count(*) FROM read_parquet($p)", {"p": str(path)}).fetchone()


def test_ctrl_c_during_a_write_stops_once_it_is_written(tmp_path: Path) -> None:
    written = tmp_path / "rows.parquet"
    with pytest.raises(KeyboardInterrupt):
        _write_signalled(written, signal.SIGINT)
    assert _rows(written) == (ROWS,)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_sigterm_is_held_then_raised_as_its_own_handler_does(tmp_path: Path) -> None:
    written = tmp_path / "rows.parquet"
    with sigterm_as_terminated():
        handler = signal.getsignal(signal.SIGTERM)
        with pytest.raises(Terminated):
            _write_signalled(written, signal.SIGTERM)
        assert signal.getsignal(signal.SIGTERM) is handler
    assert _rows(written) == (ROWS,)


def test_nothing_is_raised_when_no_signal_came(tmp_path: Path) -> None:
    written = tmp_path / "rows.parquet"
    _write_signalled(written, None)
    assert _rows(written) == (ROWS,)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.parametrize("when", ["held", "put back"])
def test_a_ctrl_c_between_two_swaps_leaves_no_handler_of_ours_behind(
    monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    # A Ctrl-C landing just as the handlers are swapped (timing no test can hit by itself):
    # signal.signal is wrapped to send one right after SIGINT's swap.
    real = signal.signal
    ours = when == "held"
    sent: list[bool] = []

    def swap_then_ctrl_c(signum: int, handler: Any) -> Any:
        old = real(signum, handler)
        theirs = handler is signal.default_int_handler
        if signum == signal.SIGINT and theirs != ours and not sent:
            sent.append(True)
            os.kill(os.getpid(), signal.SIGINT)
        return old

    monkeypatch.setattr(signal, "signal", swap_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt), stops_held():
        pass
    monkeypatch.undo()
    assert sent
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def _write_with_ctrl_c_after(path: Path, seconds: float, times: dict[str, float]) -> None:
    """5,000,000 rows written by DuckDB under stops_held, a Ctrl-C sent `seconds` in."""

    def ctrl_c() -> None:
        times["sent"] = time.monotonic()
        os.kill(os.getpid(), signal.SIGINT)

    con = duckdb.connect()
    timer = threading.Timer(seconds, ctrl_c)
    try:
        rows = con.sql("SELECT range AS n, 'x' || range AS s FROM range(5000000)")
        with stops_held():
            timer.start()
            rows.write_parquet(str(path))
            times["written"] = time.monotonic()
    finally:
        timer.cancel()
        con.close()


def test_a_ctrl_c_in_the_middle_of_a_write_waits_for_its_end(tmp_path: Path) -> None:
    written = tmp_path / "rows.parquet"
    times: dict[str, float] = {}
    with pytest.raises(KeyboardInterrupt):
        _write_with_ctrl_c_after(written, 0.1, times)
    assert times["sent"] < times["written"]  # it came while DuckDB wrote, which went on
    assert _rows(written) == (5_000_000,)
