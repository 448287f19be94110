"""Applies the ordered SQL migrations in warehouse/migrations and records them."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import duckdb

from warehouse.errors import MigrationError, PendingMigrationsError
from warehouse.queries import migration_dir, query_row, read_query
from warehouse.transactions import transaction

_MIGRATION_FILE = re.compile(r"^(?P<version>\d{3,})_(?P<label>[a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    """One schema migration file: `NNN_label.sql`."""

    version: int
    name: str
    sql: str
    checksum: str


def known_migrations() -> list[Migration]:
    """The migrations this code ships, in version order."""
    found: dict[int, Migration] = {}
    for resource in migration_dir().iterdir():
        if not resource.name.endswith(".sql"):
            continue
        match = _MIGRATION_FILE.match(resource.name)
        if match is None:
            raise MigrationError(
                f"migration file {resource.name!r} is not named NNN_lower_case_name.sql"
            )
        version = int(match["version"])
        if version in found:
            raise MigrationError(
                f"two migrations share version {version}: {found[version].name} and "
                f"{resource.name.removesuffix('.sql')}"
            )
        sql = resource.read_text(encoding="utf-8")
        found[version] = Migration(
            version=version,
            name=resource.name.removesuffix(".sql"),
            sql=sql,
            checksum=migration_checksum(sql),
        )
    return [found[version] for version in sorted(found)]


def migration_checksum(sql: str) -> str:
    """sha256 of a migration's text, blind to CRLF/LF so a Windows checkout matches."""
    return hashlib.sha256(sql.replace("\r\n", "\n").encode("utf-8")).hexdigest()


def pending_migrations(con: duckdb.DuckDBPyConnection) -> list[Migration]:
    """The known migrations this database lacks; refuses a changed or unknown applied one."""
    known = known_migrations()
    by_version = {migration.version: migration for migration in known}
    applied: dict[int, tuple[str, str]] = {}
    if _has_ledger(con):
        rows = con.execute(read_query("select_applied_migrations")).fetchall()
        applied = {int(version): (str(name), str(checksum)) for version, name, checksum in rows}
    newest_known = known[-1].name if known else "none"
    for version, (name, checksum) in sorted(applied.items()):
        migration = by_version.get(version)
        if migration is None:
            raise MigrationError(
                f"the archive has migration {name} that this smsarchive does not know "
                f"(it knows up to {newest_known}): the database was written by a newer "
                "smsarchive; upgrade smsarchive to open it"
            )
        if migration.checksum != checksum or migration.name != name:
            raise MigrationError(
                f"migration {migration.name} changed after it was applied to this archive "
                f"(recorded {name} sha256 {checksum[:12]}, file has {migration.checksum[:12]}); "
                "applied migrations must not be edited: restore the file and put the change "
                "in a new migration"
            )
    return [migration for migration in known if migration.version not in applied]


def apply_migrations(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply the missing migrations in order, each in its own transaction; return their names."""
    con.execute(read_query("create_schema_migrations"))
    pending = pending_migrations(con)
    for migration in pending:
        try:
            with transaction(con):
                con.execute(migration.sql)
                con.execute(
                    read_query("record_migration"),
                    {
                        "version": migration.version,
                        "name": migration.name,
                        "checksum": migration.checksum,
                    },
                )
        except duckdb.Error as exc:
            raise MigrationError(f"migration {migration.name} failed: {exc}") from exc
    return [migration.name for migration in pending]


def check_migrations(con: duckdb.DuckDBPyConnection) -> None:
    """Refuse a database whose schema is not exactly the code's (for read-only connections)."""
    pending = pending_migrations(con)
    if pending:
        raise PendingMigrationsError(
            f"the archive lacks migrations {', '.join(m.name for m in pending)}: run any "
            "smsarchive command that writes (e.g. `smsarchive sync`) once to migrate it, "
            "then open it read-only again"
        )


def _has_ledger(con: duckdb.DuckDBPyConnection) -> bool:
    row = query_row(con, "find_migration_ledger")
    return row is not None and int(row[0]) > 0
