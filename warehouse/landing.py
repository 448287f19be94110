"""The ledger of raw API answers landed on disk, for replays without the API."""

from __future__ import annotations

from datetime import UTC, date, datetime

import duckdb
import polars as pl

from warehouse.queries import query_frame, read_query


def record_landing(
    con: duckdb.DuckDBPyConnection,
    *,
    provider: str,
    account: str,
    window_start: date,
    window_end: date,
    method: str,
    path: str,
    rows: int,
    sha256: str,
    landed_at: datetime | None = None,
) -> None:
    """Record one landed answer; `path` is relative to the data dir (re-landing replaces it)."""
    if landed_at is not None and landed_at.tzinfo is None:
        raise ValueError("landed_at must be timezone-aware")
    con.execute(
        read_query("upsert_raw_landing"),
        {
            "provider": provider,
            "account": account,
            "window_start": window_start,
            "window_end": window_end,
            "method": method,
            "path": path,
            "rows": rows,
            "sha256": sha256,
            "landed_at": landed_at or datetime.now(UTC),
        },
    )


def landed_files(
    con: duckdb.DuckDBPyConnection,
    provider: str | None = None,
    account: str | None = None,
) -> pl.DataFrame:
    """The landing ledger (optionally of one provider/account), in window order."""
    return query_frame(con, "select_landed_files", {"provider": provider, "account": account})
