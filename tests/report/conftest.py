"""Fixtures for report tests: hand-made archives, and one sandbox archive reported by the flow."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from extract.voipms.sandbox.account import SandboxAccount
from extract.voipms.sandbox.server import SandboxServer
from extract.voipms.sandbox.spec import AccountSpec
from flows.archive_run import run_backfill
from flows.report_flow import report
from flows.runtime import use_settings
from tests.conftest import SANDBOX_PASSWORD, SANDBOX_USERNAME
from tests.flows.conftest import sandbox_settings
from tests.report.archive_rows import CONVERSATIONS, MEDIA, build_archive, busy_days
from warehouse import open_warehouse

REPORT_SPAN = (date(2024, 1, 1), date(2024, 3, 31))


@pytest.fixture(scope="module")
def conversations(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    """The hand-made conversations archive (see archive_rows.py), opened read-only."""
    path = build_archive(tmp_path_factory.mktemp("report") / "archive.duckdb", CONVERSATIONS, MEDIA)
    con = open_warehouse(path, read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def busy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    """An archive of days near the daily send limit, opened read-only."""
    path = build_archive(tmp_path_factory.mktemp("busy") / "archive.duckdb", busy_days())
    con = open_warehouse(path, read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="session")
def sandbox_report(
    prefect_server: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """A small sandbox backed up by the real backfill flow, then reported by the report flow."""
    account = SandboxAccount.generate(
        AccountSpec(
            seed=5, messages=300, start=REPORT_SPAN[0], end=REPORT_SPAN[1], dids=2, mms_share=0.1
        )
    )
    server = SandboxServer(account, username=SANDBOX_USERNAME, password=SANDBOX_PASSWORD).start()
    data_dir: Path = tmp_path_factory.mktemp("report-archive")
    settings = sandbox_settings(server, data_dir)
    try:
        with use_settings(settings):
            run_backfill(*REPORT_SPAN)
            result: dict[str, Any] = report(grain="week")
        yield {"result": result, "data_dir": data_dir, "account": account}
    finally:
        server.stop()
