"""Ctrl-C and SIGTERM during a parquet write are held until it ends, then act as they would."""

from __future__ import annotations

import os
import signal
from pathlib import Path

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
    return duckdb.execute("SELECT count(*) FROM read_parquet($p)", {"p": str(path)}).fetchone()


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
