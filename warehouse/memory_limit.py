"""DuckDB's memory limit on a connection: read, and raised when one step needs more."""

from __future__ import annotations

import logging
import os
import re
from typing import Final

import duckdb

from warehouse.queries import query_row, read_query

logger = logging.getLogger(__name__)

_SIZE: Final = re.compile(r"^\s*([0-9.]+)\s*([A-Za-z]*)\s*$")
_UNITS: Final = {
    "": 1,
    "b": 1,
    "byte": 1,
    "bytes": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}


def size_bytes(text: str) -> int:
    """Bytes in a size as DuckDB shows it ("244.1 MiB") or as it is set ("256MB", "2GB")."""
    match = _SIZE.match(text)
    unit = _UNITS.get(match.group(2).lower()) if match else None
    if match is None or unit is None:
        raise ValueError(f"not a memory size: {text!r}")
    return int(float(match.group(1)) * unit)


def memory_limit_bytes(con: duckdb.DuckDBPyConnection) -> int:
    """The connection's memory limit in bytes."""
    row = query_row(con, "select_memory_limit")
    assert row is not None
    return size_bytes(str(row[0]))


def duckdb_default_limit() -> int:
    """What DuckDB allows when told nothing: 80% of this machine's memory."""
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") * 0.8)


def raise_memory_limit(con: duckdb.DuckDBPyConnection, why: str) -> bool:
    """Double the connection's memory limit, up to DuckDB's own default; False at that ceiling.

    The archive's writer runs under a small limit so that DuckDB's cache does not grow with
    the archive; one step (a window of a very busy account) may need more than that.
    """
    current = memory_limit_bytes(con)  # read back rounded ("18.7 GiB"): compare loosely
    raised = min(current * 2, duckdb_default_limit())
    if raised <= current * 1.01:
        return False
    con.execute(read_query("set_memory_limit"), {"limit": f"{raised}B"})
    logger.warning(
        "%s needed more memory than DuckDB's limit of %.0f MB: raised to %.0f MB for this run",
        why,
        current / 1e6,
        raised / 1e6,
    )
    return True
