"""Writes one complete export into a temp folder beside the target, then swaps it in atomically."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import duckdb

from warehouse.connection import open_warehouse
from warehouse.errors import ForeignExportFolderError, ShrunkenArchiveError
from warehouse.export.layout import (
    MANIFEST,
    SNAPSHOTS,
    current_snapshot,
    foreign_entries,
    fsync_path,
    fsync_tree,
    never_current_snapshots,
    next_snapshot_id,
    point_current_at,
    prune_snapshots,
    refuse_a_folder_without_links,
    remove_tree,
    snapshot_dir,
    snapshot_manifest,
    stale_temp_entries,
    temp_dir,
    write_file_atomically,
)
from warehouse.export.manifest import (
    ArchiveRun,
    ExportResult,
    TableExport,
    archive_run_of,
    exported_at_of,
    manifest_json,
    rows_of,
)
from warehouse.export.single_exporter import LOCK_FILE, export_lock
from warehouse.export.tables import EXPORT_TABLES, PARTITION_COLUMN, ExportTable
from warehouse.held_stops import stops_held
from warehouse.queries import query_frame, query_row, read_query
from warehouse.readable_paths import refuse_a_path_duckdb_misreads

TableHook = Callable[[TableExport], None]
Columns = tuple[tuple[str, str], ...]


def file_stem(snapshot: str) -> str:
    """What a snapshot's parquet files are named from: `data_<id>`, so that each name is its
    own. A reader that listed `current`'s files before a swap and reads them after gets "no
    such file", never the bytes of another snapshot under a name it knows."""
    return f"data_{snapshot}"


def partition_file(stem: str) -> str:
    """The one file of a partition, named as DuckDB's own partitioned writes name it."""
    return f"{stem}_0.parquet"


def export_archive(
    archive_path: Path, out_dir: Path, *, on_table: TableHook | None = None
) -> ExportResult:
    """Export messages, media and carrier_status_history from the archive as parquet.

    Writes `out_dir/.export-<id>-tmp`, renames it to `out_dir/snapshots/<id>` once whole,
    then atomically repoints the `out_dir/current` symlink at it and rewrites
    `out_dir/_manifest.json`. Leftovers of crashed exports are removed first; all but the
    two newest snapshots are removed last. `on_table` is called after each table is written
    (progress, and a hook for crash tests).
    """
    refuse_a_path_duckdb_misreads(out_dir, "the export folder")  # DuckDB writes its files
    # before the lock, whose file would be left in a folder that is not ours
    foreign = foreign_entries(out_dir, own={LOCK_FILE})
    if foreign:
        more = f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
        shown = ", ".join(foreign[:5]) + more
        raise ForeignExportFolderError(
            f"{out_dir} holds what no export made ({shown}), which an export would replace "
            "or remove: export into an empty or new folder, or an earlier export's"
        )
    with export_lock(out_dir):
        for stale in [*stale_temp_entries(out_dir), *never_current_snapshots(out_dir)]:
            remove_tree(stale)
        exported_at = datetime.now(UTC)
        snapshot = next_snapshot_id(out_dir, exported_at)
        refuse_a_folder_without_links(out_dir, snapshot)
        temp = temp_dir(out_dir, snapshot)
        final = snapshot_dir(out_dir, snapshot)
        temp.mkdir()
        try:
            con = open_warehouse(archive_path, read_only=True, upgrade=True)
            try:
                refuse_a_shrunken_archive(con, archive_path, out_dir)
                run = last_run(con)
                version, tables = write_tables(con, temp, on_table, stem=file_stem(snapshot))
            finally:
                con.close()
            result = ExportResult(
                out_dir=str(out_dir),
                snapshot=snapshot,
                snapshot_path=f"{SNAPSHOTS}/{snapshot}",
                exported_at=exported_at,
                archive_schema_version=version,
                tables=tables,
                archive_last_run=run,
            )
            # The snapshot's own manifest is its last file: a folder without one is not whole.
            write_file_atomically(temp / MANIFEST, manifest_json(result))
            fsync_tree(temp)
            final.parent.mkdir(exist_ok=True)
            os.rename(temp, final)
            fsync_path(final.parent)
        except BaseException:
            remove_tree(temp)
            raise
        point_current_at(out_dir, snapshot)
        write_file_atomically(out_dir / MANIFEST, manifest_json(result))
        fsync_path(out_dir)
        prune_snapshots(out_dir)
        return result


def refuse_a_shrunken_archive(
    con: duckdb.DuckDBPyConnection, archive_path: Path, out_dir: Path
) -> None:
    """Raise ShrunkenArchiveError when the archive lacks messages the current export holds.

    An archive never drops a message, so one that lacks some was lost and made again (a sync
    on a data dir whose archive.duckdb was deleted makes a new one of a few days; a replay
    rebuilds one from landing/, less what it could not read), put back from an older backup,
    or is another archive: exported, its snapshots would soon prune the one holding the
    history. Fewer messages tell it at once. Otherwise an archive that still holds the run
    the export's manifest names, and as many messages first seen by the export as it
    exported, is the archive exported then, or grown from it; any other is compared with the
    export's files message by message (seconds on millions of messages).
    """
    current = current_snapshot(out_dir)
    if current is None:
        return
    messages = snapshot_dir(out_dir, current) / "messages"
    manifest = snapshot_manifest(out_dir, current)
    exported = rows_of(manifest, "messages")
    if exported is None:  # its manifest unreadable: the files say
        exported = _exported_rows(con, messages)
    row = query_row(con, "count_archived_messages")
    held = int(row[0]) if row is not None else 0
    if exported is not None and held < exported:
        raise ShrunkenArchiveError(
            f"the archive {archive_path} holds {held:,} messages, fewer than the {exported:,} "
            f"of the current export in {out_dir} (snapshot {current}); an archive never loses "
            f"a message, so it was lost and started again, or is another one: {_REFUSED}"
        )
    if _holds_run(con, archive_run_of(manifest)) and _holds_all_seen_by(
        con, exported_at_of(manifest), exported
    ):
        return
    missing = _missing_messages(con, messages)
    if missing is not None:
        count, first, last = missing
        raise ShrunkenArchiveError(
            f"the archive {archive_path} lacks {count:,} message{'s' if count > 1 else ''} of "
            f"the current export in {out_dir} (snapshot {current}), sent "
            f"{first.astimezone(UTC):%Y-%m-%d} to {last.astimezone(UTC):%Y-%m-%d} (UTC); an "
            "archive never loses a message, so it was made again (a replay that could not "
            f"read every answer), put back from an older backup, or is another one: {_REFUSED}"
        )


_REFUSED: Final = (
    "nothing was exported and the export stays as it was. Put the archive back (README, "
    "'Backups, and when the archive is lost'), or export this one into another folder (--out)"
)


def last_run(con: duckdb.DuckDBPyConnection) -> ArchiveRun | None:
    """The archive's latest backfill or sync run; None before its first."""
    row = query_row(con, "find_last_sync_run")
    return ArchiveRun(run_id=int(row[0]), started_at=row[1]) if row is not None else None


def _holds_run(con: duckdb.DuckDBPyConnection, run: ArchiveRun | None) -> bool:
    """Whether the archive holds this run (its id, started at that instant)."""
    if run is None:
        return False
    row = query_row(con, "count_sync_run", {"run_id": run.run_id, "started_at": run.started_at})
    return row is not None and int(row[0]) > 0


def _holds_all_seen_by(
    con: duckdb.DuckDBPyConnection, exported_at: datetime | None, exported: int | None
) -> bool:
    """Whether the archive holds as many messages first seen by the export as it exported.

    A replay adds messages without a run, first seen when their answers were fetched: an
    archive put back from a backup taken before such a replay still holds the export's run,
    and once a sync has grown it past the export's count, only this tells it lacks them.
    """
    if exported_at is None or exported is None:
        return False
    row = query_row(con, "count_messages_seen_by", {"at": exported_at})
    return row is not None and int(row[0]) >= exported


def _missing_messages(
    con: duckdb.DuckDBPyConnection, folder: Path
) -> tuple[int, datetime, datetime] | None:
    """How many messages of the parquet files under `folder` the archive lacks, and when the
    first and last of them were sent; None when it lacks none, or the files are damaged past
    reading (nothing left to keep). Any other failure (memory, an interrupt) is raised: the
    export stops rather than go on unchecked."""
    files = sorted(str(path) for path in folder.rglob("*.parquet"))
    if not files:
        return None
    try:
        row = query_row(con, "export_missing_messages", {"files": files})
    except (duckdb.InvalidInputException, duckdb.IOException):  # files damaged past reading
        return None
    if row is None or not row[0]:
        return None
    return int(row[0]), row[1], row[2]


def _exported_rows(con: duckdb.DuckDBPyConnection, folder: Path) -> int | None:
    """Rows in a table's parquet files under `folder`; None when there are none to read."""
    files = sorted(str(path) for path in folder.rglob("*.parquet"))
    if not files:
        return None
    try:
        counted = query_row(con, "export_count_rows", {"files": files})
    except duckdb.Error:  # files as damaged as their manifest: nothing left to keep
        return None
    return int(counted[0]) if counted is not None else None


def write_tables(
    con: duckdb.DuckDBPyConnection,
    into: Path,
    on_table: TableHook | None = None,
    *,
    stem: str = "data",
) -> tuple[int | None, tuple[TableExport, ...]]:
    """Write every exported table under `into` in one read transaction.

    Returns the archive's schema version and what was written, table by table.
    """
    con.execute(read_query("set_unordered_writes"))
    con.begin()
    try:
        row = query_row(con, "find_schema_version")
        version = None if row is None or row[0] is None else int(row[0])
        written = []
        for table in EXPORT_TABLES:
            done = write_table(con, table, into, stem=stem)
            written.append(done)
            if on_table is not None:
                on_table(done)
    finally:
        con.rollback()
    return version, tuple(written)


def write_table(
    con: duckdb.DuckDBPyConnection, table: ExportTable, into: Path, *, stem: str = "data"
) -> TableExport:
    """One table as zstd parquet, hive-partitioned by year, under `into/<table>`.

    Every partition is one file, `<table>/year=YYYY/<stem>_0.parquet`. A table with no rows
    is one file with no rows, `<table>/<stem>_0.parquet`: a reader then gets the table's columns
    (`year` included) and no rows, not "no files found". The rows are counted back from the
    files written.
    """
    target = into / table.name
    with stops_held():  # a parquet write DuckDB stops midway may never end
        if table.years is None:
            columns = _write_partitioned(con, table.query, target, stem)
        else:
            columns = _write_year_by_year(con, table.query, table.years, target, stem)
        files = sorted(str(path) for path in target.rglob("*.parquet"))
        if not files:
            files = [_write_no_rows(con, table, target, stem)]
    counted = query_row(con, "export_count_rows", {"files": files})
    rows = int(counted[0]) if counted is not None else 0
    return TableExport(
        name=table.name,
        path=table.name,
        rows=rows,
        partitioned_by=table.partitioned_by,
        columns=columns,
    )


def _columns(relation: duckdb.DuckDBPyRelation) -> Columns:
    return tuple(
        (name, str(kind))
        for name, kind in zip(relation.columns, relation.types, strict=True)
        if name != PARTITION_COLUMN
    )


def _write_partitioned(
    con: duckdb.DuckDBPyConnection, query: str, target: Path, stem: str
) -> Columns:
    # DuckDB splits the rows by their `year` column (it makes no file for zero rows)
    relation = con.sql(read_query(query))
    relation.write_parquet(
        str(target),
        compression="zstd",
        partition_by=[PARTITION_COLUMN],
        filename_pattern=f"{stem}_{{i}}",
    )
    target.mkdir(exist_ok=True)
    return _columns(relation)


def _write_year_by_year(
    con: duckdb.DuckDBPyConnection, query_name: str, years_query: str, target: Path, stem: str
) -> Columns:
    # one range query per year: DuckDB skips the row groups of other years by their min/max
    years = [int(year) for year in query_frame(con, years_query)[PARTITION_COLUMN]]
    target.mkdir()
    query = read_query(query_name)
    for year in years:
        folder = target / f"{PARTITION_COLUMN}={year}"
        folder.mkdir()
        relation = con.sql(query, params=year_bounds(year))
        relation.write_parquet(str(folder / partition_file(stem)), compression="zstd")
    return _columns(con.sql(query, params=year_bounds(years[0] if years else 1970)))


def _write_no_rows(
    con: duckdb.DuckDBPyConnection, table: ExportTable, target: Path, stem: str
) -> str:
    """The table's columns in one file of no rows, `year` (INTEGER) last; the file's path.

    There is no `year=YYYY` folder to give the partition column, so the file holds it: a
    reader of the empty table sees the same columns as of a populated one.
    """
    params = None if table.years is None else year_bounds(1970)
    relation = con.sql(read_query(table.query), params=params).limit(0)
    kept = [f'"{name}"' for name in relation.columns if name != PARTITION_COLUMN]
    path = str(target / partition_file(stem))
    columns = ", ".join([*kept, f'CAST(NULL AS INTEGER) AS "{PARTITION_COLUMN}"'])
    relation.project(columns).write_parquet(path, compression="zstd")
    return path


def year_bounds(year: int) -> dict[str, object]:
    """`$from` and `$to` of a year's rows: its first instant (UTC) and the next year's."""
    return {"from": datetime(year, 1, 1, tzinfo=UTC), "to": datetime(year + 1, 1, 1, tzinfo=UTC)}
