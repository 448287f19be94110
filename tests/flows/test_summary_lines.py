"""A run's summary lines: every count named, one API call said as one."""

from __future__ import annotations

from typing import Any

from flows.summary_lines import summary_lines


def _summary(**changes: Any) -> dict[str, Any]:
    media = {"stored": 2, "expired": 0, "failed": 0, "left": 0, "stopped": "", "refused": {}}
    summary: dict[str, Any] = {
        "kind": "sync",
        "start": "2024-03-01",
        "end": "2024-03-09",
        "inserted": 1200,
        "updated": 3,
        "status_changes": 1,
        "rejected": 0,
        "windows": 1,
        "windows_skipped": 0,
        "api_calls": 3,
        "media": media,
        "notices": [],
    }
    return {**summary, **changes}


def test_the_lines_name_every_count() -> None:
    assert summary_lines(_summary(notices=["a new field 'x' (getSMS)"])) == [
        "sync 2024-03-01..2024-03-09: 1,200 new messages, 3 known ones changed, "
        "1 carrier status change, 0 rejected rows",
        "windows: 1 (0 already archived), 3 API calls; media: 2 stored, 0 expired, 0 failed",
        "note: the API sent a new field 'x' (getSMS)",
    ]


def test_one_is_said_as_one() -> None:
    first, second = summary_lines(_summary(inserted=1, updated=1, rejected=1, api_calls=1))
    assert "1 new message, 1 known one changed, 1 carrier status change, 1 rejected row" in first
    assert "1 API call;" in second
