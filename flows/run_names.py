"""Prefect flow run names that say what ran and when it started, not two random words."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime


def started_at(kind: str) -> Callable[[], str]:
    """A `flow_run_name` for Prefect: `<kind> <local date> <hh:mm>`, at the run's start."""

    def name() -> str:
        return f"{kind} {datetime.now().astimezone():%Y-%m-%d %H:%M}"

    return name
