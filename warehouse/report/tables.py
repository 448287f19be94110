"""Runs the report queries (`warehouse/sql/report_*.sql`) and returns one frame per table."""

from __future__ import annotations

import re
from typing import Final

import duckdb
import polars as pl

from warehouse.queries import query_frame, read_query
from warehouse.report.params import ReportScope

REPORT_TABLES: Final[tuple[str, ...]] = (
    "totals",
    "volume_by_period",
    "volume_by_did",
    "segments_by_encoding",
    "top_contacts",
    "hour_by_weekday",
    "near_send_limit",
    "status_by_period",
    "status_by_did",
    "delivery_rate",
    "failures",
    "unmapped_statuses",
    "reply_stats",
    "media_by_type",
    "media_states",
)
"""Every report table, in the order the report shows them; `report_<name>.sql` answers each."""

_PARAMETER = re.compile(r"\$([a-z_]+)")


def report_table(con: duckdb.DuckDBPyConnection, name: str, scope: ReportScope) -> pl.DataFrame:
    """One report table: `warehouse/sql/report_<name>.sql` with the parameters it uses bound."""
    query = f"report_{name}"
    used = set(_PARAMETER.findall(read_query(query)))
    params = {key: value for key, value in scope.parameters().items() if key in used}
    return query_frame(con, query, params)


def report_tables(con: duckdb.DuckDBPyConnection, scope: ReportScope) -> dict[str, pl.DataFrame]:
    """Every report table for `scope`, by name, in `REPORT_TABLES` order."""
    return {name: report_table(con, name, scope) for name in REPORT_TABLES}
