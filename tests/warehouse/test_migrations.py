"""Migrations: applied in order, recorded, re-applied as a no-op, refused when tampered or newer."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

import warehouse.migrate
from warehouse import (
    MigrationError,
    WarehouseBusyError,
    apply_migrations,
    open_warehouse,
    writer_lock,
)
from warehouse.migrate import known_migrations, migration_checksum

PUBLIC_TABLES = {
    "messages",
    "media",
    "carrier_status_history",
    "window_checkpoints",
    "rejected_records",
    "raw_landing",
    "sync_runs",
    "schema_migrations",
    "provider_notices",
}


def recorded(con: duckdb.DuckDBPyConnection) -> list[tuple[int, str, str]]:
    rows = con.execute(
        "SELECT version, name, checksum FROM schema_migrations ORDER BY version"
    ).fetchall()
    return [(int(v), str(n), str(c)) for v, n, c in rows]


def tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {
        str(name) for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
    }


@pytest.fixture
def migrations_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "migrations"
    folder.mkdir()
    monkeypatch.setattr(warehouse.migrate, "migration_dir", lambda: folder)
    return folder


def test_the_shipped_migrations_build_the_public_tables() -> None:
    con = duckdb.connect()
    assert apply_migrations(con) == [m.name for m in known_migrations()]
    assert known_migrations()[0].name == "001_initial"
    assert tables(con) >= PUBLIC_TABLES
    assert recorded(con) == [(m.version, m.name, m.checksum) for m in known_migrations()]
    assert apply_migrations(con) == []


def test_public_columns_of_messages_and_media() -> None:
    con = duckdb.connect()
    apply_migrations(con)

    def columns(table: str) -> dict[str, str]:
        rows = con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = ? ORDER BY ordinal_position",
            [table],
        ).fetchall()
        return {str(name): str(kind) for name, kind in rows}

    messages = columns("messages")
    assert {k: messages[k] for k in ("message_id", "sent_at", "segments", "media_count")} == {
        "message_id": "VARCHAR",
        "sent_at": "TIMESTAMP WITH TIME ZONE",
        "segments": "INTEGER",
        "media_count": "INTEGER",
    }
    assert set(messages) >= {
        "provider",
        "account",
        "kind",
        "message_id",
        "direction",
        "did",
        "contact",
        "sent_at",
        "body",
        "body_raw",
        "carrier_status",
        "status",
        "segments",
        "media_count",
        "first_seen_at",
        "last_seen_at",
    }
    media = columns("media")
    assert media["size_bytes"] == "BIGINT"
    assert media["position"] == "INTEGER"
    assert set(media) >= {
        "provider",
        "account",
        "message_id",
        "position",
        "url",
        "sha256",
        "size_bytes",
        "content_type",
        "state",
        "fetched_at",
    }


def test_migrations_apply_in_version_order_each_once(migrations_dir: Path) -> None:
    (migrations_dir / "010_third.sql").write_text("ALTER TABLE a ADD COLUMN z INTEGER;")
    (migrations_dir / "001_first.sql").write_text("CREATE TABLE a (x INTEGER);")
    (migrations_dir / "002_second.sql").write_text(
        "ALTER TABLE a ADD COLUMN y INTEGER;\nINSERT INTO a VALUES (1, 2);"
    )
    (migrations_dir / "README.md").write_text("not a migration")
    con = duckdb.connect()

    assert apply_migrations(con) == ["001_first", "002_second", "010_third"]
    assert [(v, n) for v, n, _ in recorded(con)] == [
        (1, "001_first"),
        (2, "002_second"),
        (10, "010_third"),
    ]
    assert con.execute("SELECT * FROM a").fetchall() == [(1, 2, None)]
    assert apply_migrations(con) == []

    (migrations_dir / "011_fourth.sql").write_text("ALTER TABLE a ADD COLUMN w INTEGER;")
    assert apply_migrations(con) == ["011_fourth"]


def test_a_changed_migration_is_refused(migrations_dir: Path) -> None:
    first = migrations_dir / "001_first.sql"
    first.write_text("CREATE TABLE a (x INTEGER);")
    con = duckdb.connect()
    apply_migrations(con)

    first.write_text("CREATE TABLE a (x BIGINT);")
    with pytest.raises(MigrationError, match="001_first changed after it was applied"):
        apply_migrations(con)


def test_line_endings_do_not_count_as_a_change(migrations_dir: Path) -> None:
    first = migrations_dir / "001_first.sql"
    first.write_bytes(b"CREATE TABLE a (x INTEGER);\n")
    con = duckdb.connect()
    apply_migrations(con)
    first.write_bytes(b"CREATE TABLE a (x INTEGER);\r\n")
    assert apply_migrations(con) == []
    assert migration_checksum("a\r\nb") == migration_checksum("a\nb")


def test_a_database_newer_than_the_code_is_refused(migrations_dir: Path) -> None:
    (migrations_dir / "001_first.sql").write_text("CREATE TABLE a (x INTEGER);")
    con = duckdb.connect()
    apply_migrations(con)
    con.execute("INSERT INTO schema_migrations VALUES (2, '002_from_the_future', now(), 'f00d')")
    with pytest.raises(MigrationError, match="written by a newer smsarchive"):
        apply_migrations(con)


def test_a_failing_migration_is_rolled_back_alone(migrations_dir: Path) -> None:
    (migrations_dir / "001_first.sql").write_text("CREATE TABLE a (x INTEGER);")
    (migrations_dir / "002_broken.sql").write_text(
        "CREATE TABLE b (y INTEGER);\nALTER TABLE no_such_table ADD COLUMN z INTEGER;"
    )
    con = duckdb.connect()
    with pytest.raises(MigrationError, match="002_broken failed"):
        apply_migrations(con)
    assert [n for _, n, _ in recorded(con)] == ["001_first"]
    assert "a" in tables(con)
    assert "b" not in tables(con)


@pytest.mark.parametrize("name", ["1_short.sql", "001-dash.sql", "001_Upper.sql"])
def test_badly_named_migration_files_are_refused(migrations_dir: Path, name: str) -> None:
    (migrations_dir / name).write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="not named"):
        known_migrations()


def test_two_migrations_with_one_version_are_refused(migrations_dir: Path) -> None:
    (migrations_dir / "001_a.sql").write_text("SELECT 1;")
    (migrations_dir / "001_b.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="share version 1"):
        known_migrations()


def test_read_only_open_refuses_an_unmigrated_archive(tmp_path: Path, migrations_dir: Path) -> None:
    (migrations_dir / "001_first.sql").write_text("CREATE TABLE a (x INTEGER);")
    path = tmp_path / "archive.duckdb"
    open_warehouse(path).close()
    (migrations_dir / "002_second.sql").write_text("CREATE TABLE b (x INTEGER);")

    with pytest.raises(MigrationError, match="lacks migrations 002_second"):
        open_warehouse(path, read_only=True)
    open_warehouse(path).close()  # a writable open migrates it
    open_warehouse(path, read_only=True).close()


def test_a_read_only_open_may_upgrade_under_the_writer_lock(
    tmp_path: Path, migrations_dir: Path
) -> None:
    (migrations_dir / "001_first.sql").write_text("CREATE TABLE a (x INTEGER);")
    path = tmp_path / "archive.duckdb"
    open_warehouse(path).close()
    (migrations_dir / "002_second.sql").write_text("CREATE TABLE b (x INTEGER);")

    # a run writing the folder: the upgrade waits for nobody and says so
    with writer_lock(tmp_path), pytest.raises(WarehouseBusyError, match="another smsarchive run"):
        open_warehouse(path, read_only=True, upgrade=True)

    con = open_warehouse(path, read_only=True, upgrade=True)
    try:
        assert con.execute("SELECT count(*) FROM b").fetchone() == (0,)
        assert [row[0] for row in con.execute("SELECT name FROM schema_migrations").fetchall()] == [
            "001_first",
            "002_second",
        ]
    finally:
        con.close()
