"""Provider drift end to end: the run goes on where it safely can and says what it met."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from prefect.settings import PREFECT_API_URL

from extract.voipms.sandbox.account import SandboxAccount
from extract.voipms.sandbox.drift import DriftConfig
from extract.voipms.sandbox.server import SandboxServer
from extract.voipms.sandbox.spec import AccountSpec
from flows.archive_run import PlainSteps, WindowsFailedError, archive, run_backfill
from flows.runtime import use_settings
from tests.conftest import SANDBOX_PASSWORD, SANDBOX_USERNAME, serving
from tests.flows.archive_checks import (
    archived_messages,
    assert_matches_truth,
    media_problems,
    table,
    truth_messages,
)
from tests.flows.conftest import sandbox_env, sandbox_settings

pytestmark = pytest.mark.usefixtures("prefect_server")

SPAN = (date(2024, 1, 1), date(2024, 12, 31))
BROKEN_WINDOW = (date(2024, 4, 2), date(2024, 7, 2))
"""The second 92-day window of SPAN; the new error code hits calls touching BAD_DAY."""
BAD_DAY = date(2024, 5, 1)
NEW_STATUS = "Quantum entangled"
DRIFT = DriftConfig(
    extra_fields=(("billing_code", "X1"),),
    numeric_fields=("id", "type"),
    error_code="sms_archive_paused",
    error_days=(BAD_DAY, BAD_DAY),
)
SMSARCHIVE = str(Path(sys.executable).parent / "smsarchive")


@dataclass
class DriftedRun:
    server: SandboxServer
    data_dir: Path
    first: subprocess.CompletedProcess[str]
    second: dict[str, object]


@pytest.fixture(scope="module")
def drifted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DriftedRun]:
    """A backfill while the API has drifted (CLI), then one after the error code went away."""
    account = SandboxAccount.generate(
        AccountSpec(seed=31, messages=900, start=SPAN[0], end=SPAN[1], dids=2, mms_share=0.2)
    )
    outbound = account.truth().filter(
        (pl.col("direction") == "outbound") & (pl.col("local_date") < BROKEN_WINDOW[0])
    )
    first_outbound = outbound.row(0, named=True)
    account.set_carrier_status(first_outbound["kind"], first_outbound["id"], NEW_STATUS)
    server = SandboxServer(
        account, username=SANDBOX_USERNAME, password=SANDBOX_PASSWORD, drift=DRIFT
    ).start()
    data_dir = tmp_path_factory.mktemp("drift")
    try:
        first = subprocess.run(
            [SMSARCHIVE, "backfill", "--start", SPAN[0].isoformat(), "--end", SPAN[1].isoformat()],
            env={
                **os.environ,
                **sandbox_env(server, data_dir),
                "PREFECT_API_URL": str(PREFECT_API_URL.value()),
            },
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        # The provider fixes its error; the new field, types and status stay.
        server.set_drift(DriftConfig(extra_fields=DRIFT.extra_fields, numeric_fields=("id",)))
        with use_settings(sandbox_settings(server, data_dir)):
            second = run_backfill(*SPAN)
        yield DriftedRun(server, data_dir, first, second)
    finally:
        server.stop()


def test_a_new_error_code_spoils_only_its_window_and_says_so(drifted: DriftedRun) -> None:
    first = drifted.first
    assert first.returncode == 1, first.stderr[-3000:]
    error_lines = [line for line in first.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1, first.stderr[-3000:]
    error = error_lines[0]
    # the broken window cut in two seven times, down to its bad day
    assert "error: 1 day could not be archived" in error
    assert f"({BAD_DAY}..{BAD_DAY}: VoIP.ms getSMS: sms_archive_paused" in error
    assert "rerun" in error
    # what it archived all the same, before the error line (a Prefect flow's run here)
    said = first.stdout.splitlines()
    assert said[0].startswith(f"backfill {SPAN[0]}..{SPAN[1]}: "), first.stdout
    assert " new messages, " in said[0]
    assert said[1].startswith("windows: ")
    runs = table(drifted.data_dir / "archive.duckdb", "SELECT * FROM sync_runs ORDER BY run_id")
    assert runs["outcome"].to_list() == ["failed", "ok"]
    assert runs["windows_merged"].to_list()[0] == 10
    # what status shows of it: which days, and why
    detail = runs["detail"].to_list()[0]
    assert detail.startswith("WindowsFailedError: 1 day could not be archived")
    assert f"{BAD_DAY}..{BAD_DAY}: " in detail
    assert "sms_archive_paused" in detail
    # every other day of the broken window is archived
    days = table(  # the windows the first run merged (the second merged the bad day alone)
        drifted.data_dir / "archive.duckdb",
        "SELECT window_start, window_end FROM window_checkpoints WHERE completed_at <= "
        "(SELECT finished_at FROM sync_runs ORDER BY run_id LIMIT 1) ORDER BY window_start",
    )
    held = {
        first + timedelta(days=n)
        for first, last in days.rows()
        for n in range((last - first).days + 1)
    }
    broken = {
        BROKEN_WINDOW[0] + timedelta(days=n)
        for n in range((BROKEN_WINDOW[1] - BROKEN_WINDOW[0]).days + 1)
    }
    assert broken - held == {BAD_DAY}


def test_the_run_tells_what_it_met_once(drifted: DriftedRun) -> None:
    out = drifted.first.stdout + drifted.first.stderr
    for expected in (
        "'getSMS.billing_code'",
        "'getMMS.billing_code'",
        "'getSMS.id' (number, not string)",
        "'getSMS.type' (number, not string)",
        f"'{NEW_STATUS}'",
        "'getSMS: sms_archive_paused'",
    ):
        assert expected in out, (expected, out[-3000:])
    # Met again by the second run, but not new: not announced again.
    assert drifted.second["notices"] == []


def test_what_it_met_is_kept_in_provider_notices(drifted: DriftedRun) -> None:
    notices = table(
        drifted.data_dir / "archive.duckdb",
        "SELECT kind, subject FROM provider_notices ORDER BY kind, subject",
    )
    got = set(notices.iter_rows())
    assert {
        ("unknown_field", "getSMS.billing_code"),
        ("unknown_field", "getMMS.billing_code"),
        ("changed_type", "getSMS.id"),
        ("changed_type", "getMMS.id"),
        ("changed_type", "getSMS.type"),
        ("unmapped_status", NEW_STATUS),
        ("unknown_error", "getSMS: sms_archive_paused"),
    } <= got


def test_after_the_provider_recovers_the_archive_is_whole(drifted: DriftedRun) -> None:
    archive = drifted.data_dir / "archive.duckdb"
    # the bad day alone is fetched again: every other day is held by a settled window
    assert (drifted.second["windows"], drifted.second["windows_skipped"]) == (11, 10)
    assert_matches_truth(archived_messages(archive), truth_messages(drifted.server.account))
    assert media_problems(archive, drifted.data_dir / "media", drifted.server.account) == []
    status = table(
        archive,
        "SELECT carrier_status, status FROM messages WHERE carrier_status = $s",
        {"s": NEW_STATUS},
    )
    assert status.rows() == [(NEW_STATUS, "unknown")]
    # The unknown field is not lost: every landed row keeps it as received.
    landed = list((drifted.data_dir / "landing").rglob("*"))
    assert any(p.is_file() and b'"billing_code"' in p.read_bytes() for p in landed)


def test_when_every_window_failed_the_error_does_not_say_others_were_archived(
    tmp_path: Path,
) -> None:
    spec = AccountSpec(seed=3, messages=50, start=date(2024, 1, 1), end=date(2024, 1, 31))
    with serving(spec) as server:
        server.set_drift(DriftConfig(error_code="sms_archive_paused"))
        settings = sandbox_settings(server, tmp_path / "data")
        with use_settings(settings), pytest.raises(WindowsFailedError) as failed:
            archive(settings, "backfill", date(2024, 1, 1), date(2024, 1, 31), PlainSteps())
    said = str(failed.value)  # the window cut once, its halves failed alike: said as one
    assert said.startswith("31 days could not be archived (2024-01-01..2024-01-31: ")
    assert said.endswith("; a rerun fetches them again")
    assert "every other window" not in said
