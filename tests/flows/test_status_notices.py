"""`status` lists what the API sent unexpectedly, with an example column only when one has one."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from flows.cli import app
from tests.report.archive_rows import CONVERSATIONS, build_archive
from warehouse import open_warehouse, record_notices

SEEN = datetime(2024, 2, 1, 12, 0, tzinfo=UTC)


def _notices_shown(data_dir: Path, notices: list[tuple[str, str, str | None]]) -> list[str]:
    con = open_warehouse(data_dir / "archive.duckdb")
    try:
        record_notices(con, notices, provider="voipms", account="me@example.com", seen_at=SEEN)
    finally:
        con.close()
    env = {"SMSARCHIVE_DATA_DIR": str(data_dir)}
    shown = CliRunner().invoke(app, ["status"], env=env, terminal_width=200)
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    start = next(n for n, line in enumerate(lines) if "provider_notices" in line)
    return lines[start : start + 6]


def test_notices_without_examples_have_no_empty_example_column(tmp_path: Path) -> None:
    build_archive(tmp_path / "archive.duckdb", CONVERSATIONS)
    table = "\n".join(
        _notices_shown(
            tmp_path,
            [("unknown_field", "getSMS.priority", None), ("unmapped_status", "Queued", None)],
        )
    )
    assert "getSMS.priority" in table
    assert "example" not in table


def test_a_notice_with_an_example_shows_the_column(tmp_path: Path) -> None:
    build_archive(tmp_path / "archive.duckdb", CONVERSATIONS)
    table = "\n".join(
        _notices_shown(
            tmp_path,
            [
                ("unknown_field", "getSMS.priority", None),
                ("changed_type", "getSMS.id", "number, not string"),
            ],
        )
    )
    assert "example" in table
    assert "number, not string" in table
