"""Where a report goes by default: a folder of its own, even for two in the same second."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from warehouse.report import default_folder


def test_two_reports_in_the_same_second_get_folders_of_their_own(tmp_path: Path) -> None:
    made_at = datetime(2024, 1, 31, 12, 0, 0, 250_000, tzinfo=UTC)
    first = default_folder(tmp_path, made_at)
    second = default_folder(tmp_path, made_at.replace(microsecond=750_000))
    assert first == tmp_path / "reports" / "20240131T120000Z"
    assert second == tmp_path / "reports" / "20240131T120000Z-2"
    assert first.is_dir()
    assert second.is_dir()
