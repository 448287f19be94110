"""A landed answer is whole or absent: the writer's temp file, finish and abandon."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

from warehouse.landing_files import LandingWriter, landing_path

FETCHED = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def _writer(data_dir: Path, method: str) -> LandingWriter:
    relative = landing_path(
        provider="voipms",
        account="me@example.com",
        window_start=date(2024, 1, 1),
        window_end=date(2024, 3, 31),
        method=method,
        fetched_at=FETCHED,
    )
    return LandingWriter(data_dir, relative)


def _files(data_dir: Path) -> list[str]:
    return sorted(p.name for p in (data_dir / "landing").rglob("*") if p.is_file())


def test_parts_land_as_one_array_once_finished(tmp_path: Path) -> None:
    writer = _writer(tmp_path, "getSMS")
    writer.write([{"id": "1"}, {"id": "2"}])
    writer.write([{"id": "3"}])
    assert [name for name in _files(tmp_path) if name.startswith("getSMS")] == []
    landed = writer.finish()
    assert json.loads((tmp_path / landed.path).read_bytes()) == [{"id": str(n)} for n in (1, 2, 3)]
    assert landed.rows == 3
    assert _files(tmp_path) == [Path(landed.path).name]


def test_an_answer_abandoned_leaves_nothing(tmp_path: Path) -> None:
    writer = _writer(tmp_path, "getSMS")
    writer.write([{"id": "1"}])
    writer.abandon()
    assert _files(tmp_path) == []


def test_an_answer_finished_then_abandoned_leaves_nothing(tmp_path: Path) -> None:
    # getSMS moved into place, then getMMS's finish failed (a full disk): the window's two
    # answers are landed together or not at all, so getSMS's file goes too
    sms, mms = _writer(tmp_path, "getSMS"), _writer(tmp_path, "getMMS")
    sms.write([{"id": "1"}])
    mms.write([{"id": "2"}])
    sms.finish()
    for writer in (sms, mms):
        writer.abandon()
    assert _files(tmp_path) == []
