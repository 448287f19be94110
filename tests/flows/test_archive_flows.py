"""The archive's promise, end to end through real Prefect flows against the sandbox."""

from __future__ import annotations

import logging
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from pydantic import SecretStr

from extract.voipms.sandbox.account import SandboxAccount
from extract.voipms.sandbox.server import SandboxServer
from extract.voipms.sandbox.spec import AccountSpec
from flows.archive_run import run_backfill, run_sync
from flows.runtime import use_settings
from flows.settings import Settings
from tests.conftest import SANDBOX_PASSWORD, SANDBOX_USERNAME
from tests.flows.archive_checks import (
    archived_messages,
    assert_matches_truth,
    media_problems,
    stable_snapshot,
    table,
    truth_messages,
)
from tests.flows.conftest import SPAN, sandbox_settings

pytestmark = pytest.mark.usefixtures("prefect_server")

SPEC = AccountSpec(seed=11, messages=2500, start=SPAN[0], end=SPAN[1], dids=3, mms_share=0.2)


@dataclass
class Archived:
    """A sandbox, the settings pointing at it, and the first backfill's summary."""

    account: SandboxAccount
    server: SandboxServer
    settings: Settings
    summary: dict[str, Any]


@pytest.fixture(scope="module")
def archived(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archived]:
    """One backfill, shared by the module: tests only read it (`own_copy` is for changing)."""
    account = SandboxAccount.generate(SPEC)
    server = SandboxServer(account, username=SANDBOX_USERNAME, password=SANDBOX_PASSWORD).start()
    settings = sandbox_settings(server, tmp_path_factory.mktemp("archive"))
    ours = logging.getLogger("smsarchive")
    level = ours.level
    ours.setLevel(logging.INFO)  # as the CLI sets it (configure_logging)
    try:
        with use_settings(settings):
            summary = run_backfill(*SPAN)
        yield Archived(account, server, settings, summary)
    finally:
        ours.setLevel(level)
        server.stop()


@pytest.fixture
def own_copy(archived: Archived, tmp_path: Path) -> Iterator[Archived]:
    """The backfilled data dir copied, against a sandbox of its own (the same account): a test
    that runs more, or changes the account, leaves `archived` as every other test expects."""
    account = SandboxAccount.generate(SPEC)
    server = SandboxServer(account, username=SANDBOX_USERNAME, password=SANDBOX_PASSWORD).start()
    data_dir = tmp_path / "data"
    shutil.copytree(archived.settings.smsarchive_data_dir, data_dir)
    try:
        yield Archived(account, server, sandbox_settings(server, data_dir), archived.summary)
    finally:
        server.stop()


def test_backfill_archives_every_message_once_as_it_truly_is(archived: Archived) -> None:
    truth = truth_messages(archived.account)
    got = archived_messages(archived.settings.archive_path)
    assert got.height == truth.height == archived.summary["inserted"]
    assert got.select("kind", "message_id").is_duplicated().sum() == 0
    assert_matches_truth(got, truth)


def test_backfill_stores_every_media_file_and_marks_expired_ones(archived: Archived) -> None:
    settings = archived.settings
    assert media_problems(settings.archive_path, settings.media_dir, archived.account) == []
    assert archived.account.truth_media()["expired"].any(), "the fixture must hold expired media"


def test_backfill_lands_raw_answers_and_checkpoints_every_window(archived: Archived) -> None:
    landed = table(archived.settings.archive_path, "SELECT method, path, rows FROM raw_landing")
    windows = table(archived.settings.archive_path, "SELECT * FROM window_checkpoints")
    assert windows.height == archived.summary["windows"] == 4
    assert sorted(set(landed["method"])) == ["getMMS", "getSMS"]
    assert landed.height == 2 * windows.height
    for path in landed["path"]:
        assert (archived.settings.smsarchive_data_dir / path).is_file()
    assert int(landed.filter(pl.col("method") == "getSMS")["rows"].sum()) == (
        archived.account.truth().height
    )


def test_rerunning_backfill_changes_nothing(own_copy: Archived) -> None:
    before = stable_snapshot(own_copy.settings.archive_path)
    own_copy.server.reset_counts()
    with use_settings(own_copy.settings):
        again = run_backfill(*SPAN)
    assert again["windows_skipped"] == again["windows"]
    assert again["inserted"] == again["updated"] == 0
    assert set(own_copy.server.call_counts()) <= {"getDIDsInfo"}
    # Other window boundaries force every message to be fetched and merged again.
    with use_settings(own_copy.settings):
        shifted = run_backfill(date(2024, 2, 15), SPAN[1])
    assert shifted["inserted"] == 0
    assert shifted["status_changes"] == 0
    after = stable_snapshot(own_copy.settings.archive_path)
    for name, frame in before.items():
        assert_frame_equal(after[name], frame, check_row_order=True)


def test_a_flow_runs_log_in_prefect_says_what_it_did(archived: Archived) -> None:
    from uuid import UUID

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.client.schemas.objects import FlowRun
    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()  # the log worker sends in batches: wait for them
    runs = table(
        archived.settings.archive_path,
        "SELECT flow_run_id FROM sync_runs WHERE kind = 'backfill' ORDER BY run_id LIMIT 1",
    )
    flow_run_id = UUID(runs["flow_run_id"][0])
    with get_client(sync_client=True) as client:
        run: FlowRun = client.read_flow_run(flow_run_id)
        logs = client.read_logs(
            log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]))
        )
        tasks = client.read_task_runs()
    assert run.name == f"backfill {SPAN[0]}..{SPAN[1]}"
    ours = [log.message for log in logs if log.name.split(".")[0] in {"smsarchive", "flows"}]
    assert any(message.startswith("windows: ") for message in ours), ours
    named = {task.name for task in tasks if task.flow_run_id == flow_run_id}
    assert f"prepare-window {SPAN[0]}..{SPAN[0].replace(month=4, day=1)}" in named, named


def test_sync_archives_new_messages_and_keeps_status_changes(
    own_copy: Archived, caplog: pytest.LogCaptureFixture
) -> None:
    account, settings = own_copy.account, own_copy.settings
    recent = (
        account.truth()
        .filter(
            (pl.col("direction") == "outbound")
            & (pl.col("local_date") >= date(2024, 12, 26))
            & (pl.col("carrier_status") != "Delivered")
        )
        .head(3)
    )
    assert recent.height == 3
    for row in recent.iter_rows(named=True):
        account.set_carrier_status(row["kind"], row["id"], "Delivered")
    added = account.add_messages(
        6, datetime(2024, 12, 30, 12, tzinfo=UTC), datetime(2024, 12, 31, 20, tzinfo=UTC)
    )
    with caplog.at_level(logging.DEBUG), use_settings(settings):
        summary = run_sync()
    # Tasks take clients and connections; none may be hashed for a cache key.
    cache_trouble = [r.getMessage() for r in caplog.records if "cache" in r.getMessage().lower()]
    assert cache_trouble == []
    assert any("Finished in state Completed" in r.getMessage() for r in caplog.records)
    assert summary["inserted"] == len(added)
    assert summary["status_changes"] == recent.height
    got = archived_messages(settings.archive_path)
    assert_matches_truth(got, truth_messages(account))
    for row in recent.iter_rows(named=True):
        history = table(
            settings.archive_path,
            "SELECT carrier_status FROM carrier_status_history "
            "WHERE kind = $kind AND message_id = $id ORDER BY seen_at",
            {"kind": row["kind"], "id": str(row["id"])},
        )["carrier_status"].to_list()
        assert history == [row["carrier_status"], "Delivered"]
    runs = table(settings.archive_path, "SELECT kind, outcome FROM sync_runs")
    assert ("sync", "ok") in runs.rows()
    assert re.fullmatch(r"sync \d{4}-\d\d-\d\d \d\d:\d\d", flow_run_name(settings, "sync"))


def flow_run_name(settings: Settings, kind: str) -> str:
    """The name Prefect gave the latest run of `kind` recorded in the archive."""
    from uuid import UUID

    from prefect.client.orchestration import get_client

    runs = table(
        settings.archive_path,
        "SELECT flow_run_id FROM sync_runs WHERE kind = $kind ORDER BY run_id DESC LIMIT 1",
        {"kind": kind},
    )
    with get_client(sync_client=True) as client:
        return client.read_flow_run(UUID(runs["flow_run_id"][0])).name


def test_what_prefect_records_of_a_failed_run_stays_in_the_data_dir(
    archived: Archived, tmp_path: Path
) -> None:
    from prefect.settings import PREFECT_LOCAL_STORAGE_PATH

    from extract.voipms.errors import PermanentError

    elsewhere = Path(PREFECT_LOCAL_STORAGE_PATH.value())
    before = set(os.listdir(elsewhere)) if elsewhere.is_dir() else set()
    wrong = sandbox_settings(
        archived.server, tmp_path / "data", voipms_api_password=SecretStr("not-it")
    )
    with use_settings(wrong), pytest.raises(PermanentError):
        run_backfill(*SPAN)
    kept = wrong.smsarchive_data_dir / "prefect-results"
    assert [p.name for p in kept.iterdir()]  # the failed flow run's exception, pickled
    assert kept.stat().st_mode & 0o777 == 0o700
    assert wrong.smsarchive_data_dir.stat().st_mode & 0o777 == 0o700
    after = set(os.listdir(elsewhere)) if elsewhere.is_dir() else set()
    assert after == before
