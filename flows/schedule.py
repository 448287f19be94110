"""Prefect flow `nightly` and its schedule: sync, then report, then export, on a cron."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import traceback
from datetime import datetime
from typing import Any

from prefect import flow
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.schedules import Cron, Schedule

from flows.archive_run import run_sync
from flows.export_run import run_export
from flows.logging_setup import log_info_in_scheduled_runs, send_logs_to_prefect
from flows.report_flow import report
from flows.run_names import started_at
from flows.runtime import current_settings, use_settings
from flows.settings import SCHEDULED_BUSY_WAIT_SECONDS, Settings
from flows.summary_lines import summary_lines
from transform.zone_rules import zone_info

logger = logging.getLogger("smsarchive")

DEPLOYMENT_PREFIX = "smsarchive-nightly"
"""What the deployments `smsarchive serve` creates are named from (see deployment_name)."""

ONE_AT_A_TIME = ConcurrencyLimitConfig(
    limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW
)
"""A run due while another still runs is cancelled (skipped), never started beside it."""


NIGHTLY_TIMEOUT_SECONDS = 6 * 3600
"""A nightly run still going after this is stopped: with one run at a time, a run that hung
would otherwise have every later one cancelled (a sync waits for the archive at most
SCHEDULED_BUSY_WAIT_SECONDS, and the API client's calls are bounded, so this is a net)."""


@flow(
    name="nightly",
    flow_run_name=started_at("nightly"),
    log_prints=False,
    timeout_seconds=NIGHTLY_TIMEOUT_SECONDS,
)
def nightly() -> dict[str, Any]:
    """Sync the archive, then write the report and the parquet export from it.

    Takes no parameters: settings are read inside the flows (Prefect stores parameters).
    A failed sync fails the run before the report and export are touched. A failed report
    does not stop the export (it is the archive's copy, the report only a view of it): the
    export is written, then the run fails with the report's error. A notebook that has the
    archive open makes the sync wait (at least SCHEDULED_BUSY_WAIT_SECONDS, saying which
    process it waits for) rather than fail at once.
    """
    log_info_in_scheduled_runs()
    send_logs_to_prefect()
    with use_settings(scheduled_settings(current_settings())):
        try:
            done: dict[str, Any] = {"sync": run_sync()}
        except Exception as failed:
            # said here, on serve's terminal too: Prefect's own record of it goes to its API
            logger.error("nightly: the sync failed (%s); no report or export this run", failed)
            _let_go(failed)
            raise
        # what the CLI prints after a sync, in the run's log (Prefect's, and serve's terminal):
        # a night whose media all failed reads otherwise as a clean one
        for line in summary_lines(done["sync"]):
            logger.info("nightly: %s", line)
        try:
            done["report"] = report()
        except Exception as failed:
            logger.error("nightly: the report failed (%s); the export is written anyway", failed)
            try:
                run_export()
            except Exception as also:  # the run fails with the first error, this one said
                logger.error("nightly: the export failed too (%s)", also)
                _let_go(also)
            _let_go(failed)
            raise
        try:
            done["export"] = run_export()
        except Exception as failed:
            logger.error("nightly: the export failed (%s)", failed)
            _let_go(failed)
            raise
        return done


def _let_go(failed: BaseException) -> None:
    """Drop what the failed step's frames hold: Prefect keeps the error in the run's state, and
    a DuckDB connection its traceback held was still alive when the run's process exited,
    which nanobind reports in some forty lines on serve's terminal after every failed run."""
    traceback.clear_frames(failed.__traceback__)


def scheduled_settings(settings: Settings) -> Settings:
    """The settings a scheduled run uses: patient with an archive a notebook holds open."""
    wait = max(settings.smsarchive_busy_wait_seconds, SCHEDULED_BUSY_WAIT_SECONDS)
    return settings.model_copy(update={"smsarchive_busy_wait_seconds": wait})


def deployment_name(settings: Settings) -> str:
    """`smsarchive-nightly-<8 hex>`, one per data dir and account: two `serve`s (two accounts,
    or two archives) sharing a Prefect server never share a deployment, where the runs of one
    would be taken by the other's runner and one's Ctrl-C would pause the other's schedule."""
    key = f"{settings.smsarchive_data_dir.resolve()}\0{settings.voipms_api_username or ''}"
    return f"{DEPLOYMENT_PREFIX}-{hashlib.sha256(key.encode()).hexdigest()[:8]}"


def nightly_schedule(settings: Settings) -> Schedule:
    """SMSARCHIVE_SCHEDULE_CRON, read in the account's time zone; ValueError unless it is five
    fields (minute hour day month weekday) or a macro such as `@daily`. Prefect's own reading
    also takes a sixth field, of seconds, which turns `0 0 3 * * *` ("03:00", as Quartz has
    it) into a burst of runs a second apart on the 3rd of each month."""
    cron = settings.smsarchive_schedule_cron
    fields = cron.split()
    if not (len(fields) == 5 or (len(fields) == 1 and fields[0].startswith("@"))):
        raise ValueError(f"not a cron schedule of five fields: {cron!r}")
    return Cron(cron, timezone=settings.voipms_account_timezone)


def next_run_at(settings: Settings, after: datetime) -> datetime:
    """The first time at or after `after` (aware) that the schedule starts a run, in the
    account's time zone, read by Prefect's server's own code (the one that will start it);
    ValueError when the cron never comes due (30 February)."""
    from prefect.server.schemas.schedules import CronSchedule

    schedule = CronSchedule(
        cron=settings.smsarchive_schedule_cron, timezone=settings.voipms_account_timezone
    )
    (first,) = asyncio.run(schedule.get_dates(n=1, start=after))
    return first.astimezone(zone_info(settings.voipms_account_timezone))
