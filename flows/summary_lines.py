"""A backfill's or sync's counts as the few plain lines the terminal shows."""

from __future__ import annotations

from typing import Any

from flows.media_step import describe_media
from warehouse.plain_numbers import counted


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """What a run did (RunSummary as a dict): counts, windows, calls, media, the API's news."""
    lines = [
        f"{summary['kind']} {summary['start']}..{summary['end']}: "
        f"{counted(summary['inserted'], 'new message')}, "
        f"{summary['updated']:,} known {'one' if summary['updated'] == 1 else 'ones'} changed, "
        f"{counted(summary['status_changes'], 'carrier status change')}, "
        f"{counted(summary['rejected'], 'rejected row')}",
        f"windows: {summary['windows']} ({summary['windows_skipped']} already archived), "
        f"{counted(summary['api_calls'], 'API call')}; {describe_media(summary['media'])}",
    ]
    lines.extend(f"note: the API sent {line}" for line in summary["notices"])
    # last, where a glance at the end of the output finds it (the log said it when it was met)
    lines.extend(f"warning: {line}" for line in summary.get("warnings", []))
    return lines
