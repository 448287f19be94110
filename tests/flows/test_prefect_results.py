"""Prefect's records of failed runs live in the data dir, owner-only, and go after 30 days."""

from __future__ import annotations

import os
import time
from pathlib import Path

from flows.prefect_results import KEPT_FOR, results_folder


def test_the_folder_is_private_and_old_records_are_removed(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    folder = results_folder(data_dir)
    assert folder == data_dir / "prefect-results"
    assert data_dir.stat().st_mode & 0o777 == 0o700
    assert folder.stat().st_mode & 0o777 == 0o700
    old, recent = folder / "0ld", folder / "recent"
    for record in (old, recent):
        record.write_bytes(b"pickled exception")
    past = time.time() - KEPT_FOR.total_seconds() - 60
    os.utime(old, (past, past))
    results_folder(data_dir)
    assert sorted(p.name for p in folder.iterdir()) == ["recent"]
