"""Exports of archives without the sandbox: an empty one, and one spread over many years."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from tests.export.frames import SORT_KEYS, arrow_schemas, read_with_duckdb, warehouse_table
from tests.report.archive_rows import A, Row, X, build_archive
from warehouse import open_warehouse
from warehouse.export import EXPORT_TABLES, export_archive

TABLES = [table.name for table in EXPORT_TABLES]
GOLDEN = Path(__file__).parent / "golden" / "schema.json"


def test_an_empty_archive_exports_readable_tables_of_zero_rows(tmp_path: Path) -> None:
    archive = tmp_path / "archive.duckdb"
    open_warehouse(archive).close()
    result = export_archive(archive, tmp_path / "out")
    current = tmp_path / "out" / "current"
    manifest = json.loads((tmp_path / "out" / "_manifest.json").read_text())
    for table in TABLES:
        assert [p.name for p in (current / table).iterdir()] == [
            f"data_{result.snapshot}_0.parquet"
        ]
        # the reading patterns of the README work, and give the table's columns and `year`
        got = pl.scan_parquet(current / table / "**/*.parquet", hive_partitioning=True)
        assert got.filter(pl.col("year") == 2024).collect().height == 0
        columns = [column["name"] for column in manifest["tables"][table]["columns"]]
        assert got.collect_schema().names() == [*columns, "year"]
        assert read_with_duckdb(tmp_path / "out", table).columns == [*columns, "year"]
    # the same Arrow types as a populated export's, the partition column included
    assert arrow_schemas(tmp_path / "out") == json.loads(GOLDEN.read_text())
    assert result.row_counts == dict.fromkeys(TABLES, 0)
    for table in TABLES:
        assert manifest["tables"][table]["rows"] == 0
        assert manifest["tables"][table]["columns"], table


def test_each_utc_year_is_one_file_even_across_gaps_and_new_year(tmp_path: Path) -> None:
    # 23:30 New York time on Dec 31 is already the next year in UTC: the UTC year decides
    instants = [
        datetime(2019, 6, 1, 12, tzinfo=UTC),
        datetime(2021, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2022, 1, 1, 0, 0, tzinfo=UTC),
        datetime(2022, 1, 1, 4, 30, tzinfo=UTC),
        datetime(2024, 2, 29, 8, tzinfo=UTC),
    ]
    rows = [
        Row("sms", str(i), "outbound", A, X, at, "delivered", "Delivered")
        for i, at in enumerate(instants)
    ]
    archive = build_archive(tmp_path / "archive.duckdb", rows)
    out = tmp_path / "out"
    snapshot = export_archive(archive, out).snapshot
    folder = out / "current" / "messages"
    years = sorted(p.name for p in folder.iterdir())
    assert years == ["year=2019", "year=2021", "year=2022", "year=2024"]
    for year in years:
        assert [p.name for p in (folder / year).iterdir()] == [f"data_{snapshot}_0.parquet"]
    got = read_with_duckdb(out, "messages")
    assert got["year"].cast(pl.Int32).to_list() == [2019, 2021, 2022, 2022, 2024]
    expected = warehouse_table(archive, "messages")
    assert_frame_equal(got.drop("year"), expected.sort(SORT_KEYS["messages"]))
