"""Parquet export of the public tables: zstd, hive-partitioned by year, swapped in atomically."""

from warehouse.export.layout import CURRENT, MANIFEST, SNAPSHOTS, current_snapshot
from warehouse.export.manifest import ExportResult, TableExport, manifest_dict
from warehouse.export.snapshot import export_archive, write_tables
from warehouse.export.tables import (
    EXPORT_SCHEMA_VERSION,
    EXPORT_TABLES,
    PARTITION_COLUMN,
    ExportTable,
)

__all__ = [
    "CURRENT",
    "EXPORT_SCHEMA_VERSION",
    "EXPORT_TABLES",
    "MANIFEST",
    "PARTITION_COLUMN",
    "SNAPSHOTS",
    "ExportResult",
    "ExportTable",
    "TableExport",
    "current_snapshot",
    "export_archive",
    "manifest_dict",
    "write_tables",
]
