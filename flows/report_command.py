"""`smsarchive report`: writes the report with the settings read once, returns what to print."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from flows.orchestration import prefect_wanted
from flows.prefect_outage import kept_if_prefect_stops
from flows.prefect_results import prefect_results_in
from flows.report_run import make_report
from flows.runtime import use_settings
from flows.settings import Settings
from warehouse.connection import missing_archive
from warehouse.errors import WarehouseError
from warehouse.report import Grain


def run_report(
    settings: Settings,
    *,
    start: date | None,
    end: date | None,
    did: str | None,
    grain: Grain | None,
    out: Path | None,
    account: str | None = None,
    timezone: str | None = None,
) -> dict[str, Any]:
    """Write the report (as the `report` flow when Prefect is configured); folder, page, summary."""
    if not settings.archive_path.exists():
        raise WarehouseError(missing_archive(settings.archive_path))
    asked: dict[str, Any] = {
        "start": start,
        "end": end,
        "did": did,
        "grain": grain,
        "out": out,
        "account": account,
        "timezone": timezone,
    }
    if not prefect_wanted():
        return make_report(settings, **asked).result
    from flows.report_flow import report

    with use_settings(settings), prefect_results_in(settings.smsarchive_data_dir):
        result: dict[str, Any] = kept_if_prefect_stops(
            lambda: report(**asked), settings.smsarchive_data_dir
        )
    return result
