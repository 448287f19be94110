"""Which windows of an account are already in the archive."""

from __future__ import annotations

from datetime import date

import duckdb

from warehouse.queries import query_row, read_query


def done_windows(
    con: duckdb.DuckDBPyConnection, provider: str, account: str
) -> set[tuple[date, date]]:
    """(window_start, window_end) of every window of the account whose merge committed."""
    rows = con.execute(
        read_query("select_done_windows"), {"provider": provider, "account": account}
    ).fetchall()
    return {(start, end) for start, end in rows}


def settled_windows(
    con: duckdb.DuckDBPyConnection, provider: str, account: str
) -> set[tuple[date, date]]:
    """Committed windows that were merged after their last day was over: safe to skip."""
    rows = con.execute(
        read_query("select_settled_windows"), {"provider": provider, "account": account}
    ).fetchall()
    return {(start, end) for start, end in rows}


def newest_archived_day(
    con: duckdb.DuckDBPyConnection, provider: str, account: str, timezone: str
) -> date | None:
    """The latest day the account's committed windows hold, none later than the local day
    (in `timezone`) each was committed on; None before the first."""
    return _day(con, "find_newest_archived_day", provider, account, timezone)


def newest_message_day(
    con: duckdb.DuckDBPyConnection, provider: str, account: str, timezone: str
) -> date | None:
    """The day (in `timezone`) of the account's newest archived message; None when none."""
    return _day(con, "find_newest_message_day", provider, account, timezone)


def _day(
    con: duckdb.DuckDBPyConnection, query: str, provider: str, account: str, timezone: str
) -> date | None:
    """The one day `query` finds for the account, in `timezone`; None when it finds none."""
    row = query_row(con, query, {"provider": provider, "account": account, "timezone": timezone})
    if row is None or row[0] is None:
        return None
    day: date = row[0]
    return day
