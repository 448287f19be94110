"""The parquet export: same rows and values as the warehouse, for duckdb, polars and pyarrow."""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from polars.testing import assert_frame_equal

from tests.export.conftest import Exported
from tests.export.frames import (
    READERS,
    SORT_KEYS,
    YEAR_OF,
    arrow_schemas,
    read_with_duckdb,
    warehouse_table,
)
from warehouse.export import EXPORT_SCHEMA_VERSION, EXPORT_TABLES

GOLDEN = Path(__file__).parent / "golden" / "schema.json"
TABLES = [table.name for table in EXPORT_TABLES]


def test_export_is_a_snapshot_that_current_points_at(exported: Exported) -> None:
    out = exported.out_dir
    current = out / "current"
    assert current.is_symlink()
    assert os.readlink(current) == f"snapshots/{exported.result.snapshot}"
    assert sorted(p.name for p in (out / "snapshots").iterdir()) == [exported.result.snapshot]
    assert sorted(p.name for p in current.iterdir()) == ["_manifest.json", *sorted(TABLES)]
    assert [p.name for p in out.iterdir() if p.name.endswith("-tmp")] == []


@pytest.mark.parametrize("table", TABLES)
def test_tables_are_zstd_parquet_partitioned_by_year(exported: Exported, table: str) -> None:
    folder = exported.out_dir / "current" / table
    years = sorted(p.name for p in folder.iterdir())
    if table == "carrier_status_history":
        assert years, "history rows are seen now, so at least this year's partition"
    else:
        assert years == ["year=2023", "year=2024"]
    for path in folder.rglob("*.parquet"):
        meta = pq.ParquetFile(path).metadata
        assert "year" not in pq.read_schema(path).names
        for group in range(meta.num_row_groups):
            for column in range(meta.num_columns):
                assert meta.row_group(group).column(column).compression == "ZSTD"


def test_manifest_counts_rows_and_names_the_schema(exported: Exported) -> None:
    top = json.loads((exported.out_dir / "_manifest.json").read_text())
    inner = json.loads((exported.out_dir / "current" / "_manifest.json").read_text())
    assert top == inner
    assert top["schema_version"] == EXPORT_SCHEMA_VERSION
    assert top["snapshot_path"] == f"snapshots/{exported.result.snapshot}"
    assert top["exported_at"].endswith("Z")
    assert list(top["tables"]) == TABLES
    for table in TABLES:
        rows = warehouse_table(exported.settings.archive_path, table).height
        assert rows > 0
        assert top["tables"][table]["rows"] == rows == exported.result.row_counts[table]
        declared = [c["name"] for c in top["tables"][table]["columns"]]
        assert declared == warehouse_table(exported.settings.archive_path, table).columns


@pytest.mark.parametrize("reader", sorted(READERS))
@pytest.mark.parametrize("table", TABLES)
def test_readers_see_the_warehouse_rows_exactly(
    exported: Exported, table: str, reader: str
) -> None:
    expected = warehouse_table(exported.settings.archive_path, table)
    got = READERS[reader](exported.out_dir, table)
    assert got.columns == [*expected.columns, "year"]
    assert_frame_equal(got.drop("year"), expected, check_row_order=True)
    column = YEAR_OF[table]
    if column is not None:
        years = expected[column].dt.year()
    else:
        messages = warehouse_table(exported.settings.archive_path, "messages")
        years = (
            expected.join(
                messages.filter(pl.col("kind") == "mms").select(
                    "provider", "account", "message_id", "sent_at"
                ),
                on=["provider", "account", "message_id"],
                how="left",
            )
            .sort(SORT_KEYS[table])["sent_at"]
            .dt.year()
        )
    assert years.null_count() == 0
    assert got["year"].cast(pl.Int32).to_list() == years.cast(pl.Int32).to_list()


def test_schema_matches_the_golden_file(exported: Exported) -> None:
    schemas = arrow_schemas(exported.out_dir)
    if os.environ.get("SMSARCHIVE_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(schemas, indent=2) + "\n")
    assert schemas == json.loads(GOLDEN.read_text()), (
        "the export's schema changed: readers depend on it. If the change is meant, bump "
        "EXPORT_SCHEMA_VERSION when a column changed type or went away, note it in README.md, "
        "and rerun with SMSARCHIVE_UPDATE_GOLDEN=1"
    )


def test_timestamps_are_utc_microseconds(exported: Exported) -> None:
    schemas = dict(arrow_schemas(exported.out_dir)["messages"])
    assert schemas["sent_at"] == "timestamp[us, tz=UTC]"
    frame = read_with_duckdb(exported.out_dir, "messages")
    assert frame.schema["sent_at"] == pl.Datetime("us", "UTC")
