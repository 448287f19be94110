"""The time grain a report draws when none is asked: weeks, or months where weeks would crowd."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import duckdb

from transform.zone_rules import zone_info
from warehouse.queries import query_row
from warehouse.report.charts import MOST_BARS, every_period
from warehouse.report.params import Grain, ReportScope
from warehouse.report.partial_periods import charted_days


def fitting_grain(con: duckdb.DuckDBPyConnection, scope: ReportScope) -> Grain:
    """`week`, or `month` when the scope's days (its own ends, else its messages' first and
    last local day) hold more than MOST_BARS weeks: eight years in weeks are 418 bars."""
    known = scope.start is not None and scope.end is not None
    days = charted_days(scope, *((None, None) if known else _message_days(con, scope)))
    if days is None:
        return "week"
    return "week" if len(every_period([], "week", *days)) <= MOST_BARS else "month"


def with_fitting_grain(con: duckdb.DuckDBPyConnection, scope: ReportScope) -> ReportScope:
    """`scope` with the grain `fitting_grain` picks."""
    return replace(scope, grain=fitting_grain(con, scope))


def _message_days(
    con: duckdb.DuckDBPyConnection, scope: ReportScope
) -> tuple[date | None, date | None]:
    """The local days of the first and last message of the scope's account and DID."""
    row = query_row(con, "select_message_span", {"account": scope.account, "did": scope.did})
    if row is None or row[0] is None:
        return None, None
    zone = zone_info(scope.timezone)
    return row[0].astimezone(zone).date(), row[1].astimezone(zone).date()
