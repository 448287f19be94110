"""`smsarchive export`: runs the export flow and says where the snapshot is and what it holds."""

from __future__ import annotations

from pathlib import Path

import duckdb
import typer

from flows.export_run import default_export_dir, run_export
from flows.refused_writes import NOT_ALLOWED
from flows.runtime import use_settings
from flows.settings import Settings
from warehouse import WarehouseError
from warehouse.connection import missing_archive


def run_export_command(settings: Settings, out: Path | None) -> dict[str, object]:
    """Export into `out` (default: data dir/export), print the paths and row counts."""
    out_dir = (out if out is not None else default_export_dir(settings)).absolute()
    if not settings.archive_path.exists():
        raise WarehouseError(missing_archive(settings.archive_path))
    if out_dir.exists() and not out_dir.is_dir():
        raise WarehouseError(f"--out {out_dir} is a file, not a folder: export into a folder")
    try:
        with use_settings(settings):
            summary = run_export(out_dir)
    except (OSError, duckdb.IOException) as exc:
        if settings.archive_path.name in str(exc):
            raise  # reading the archive failed, not writing the export: said as such
        raise WarehouseError(
            f"could not write the export into {out_dir}: {_what_failed(exc, out_dir)}"
        ) from exc
    typer.echo(f"exported to {summary['current']} (snapshot {summary['snapshot']})")
    rows: dict[str, int] = summary["rows"]
    for table, count in rows.items():
        typer.echo(f"{table:>24}: {count:,} rows")
    return summary


def _what_failed(exc: OSError | duckdb.IOException, out_dir: Path) -> str:
    """The error's own words, without the errno; without the path when the file system
    refused a file in `out_dir` (a lock file or temp folder of the export's, which the
    person never made: the folder is theirs to mend)."""
    if not isinstance(exc, OSError) or not exc.strerror:
        return str(exc)
    inside = exc.filename and Path(exc.filename).absolute().is_relative_to(out_dir)
    if not exc.filename or (inside and exc.errno in NOT_ALLOWED):
        return exc.strerror
    return f"{exc.strerror}: {exc.filename}"
