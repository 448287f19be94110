"""Charts are built for archives of any size: no chart refuses a table for its length."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import polars as pl

from tests.report.archive_rows import TZ
from warehouse.report import ReportScope, report_tables
from warehouse.report.charts import chart_specs


def test_a_table_past_altairs_5000_row_default_still_charts(
    conversations: duckdb.DuckDBPyConnection,
) -> None:
    scope = ReportScope(TZ, grain="day")
    tables = report_tables(conversations, scope)
    sample = tables["volume_by_period"]
    assert sample.height > 0
    days = 6_000  # sixteen years of days: more than Altair's default max_rows
    first = sample.row(0, named=True)
    long = pl.DataFrame(
        [{**first, "period": date(2010, 1, 1) + timedelta(days=i)} for i in range(days)],
        schema=sample.schema,
    )
    tables["volume_by_period"] = long
    specs = chart_specs(tables, scope)
    values = [
        spec["datasets"][name]
        for spec in specs.values()
        if "datasets" in spec
        for name in spec["datasets"]
    ]
    assert max(len(v) for v in values) >= days
