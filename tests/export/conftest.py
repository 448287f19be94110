"""Fixtures for export tests: a real archive backfilled from the sandbox, and its first export."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from extract.voipms.sandbox.account import SandboxAccount
from extract.voipms.sandbox.server import SandboxServer
from extract.voipms.sandbox.spec import AccountSpec
from flows.archive_run import run_backfill
from flows.runtime import use_settings
from flows.settings import Settings
from tests.conftest import SANDBOX_PASSWORD, SANDBOX_USERNAME
from tests.flows.conftest import sandbox_settings
from warehouse.export import ExportResult, export_archive

SPAN = (date(2023, 12, 1), date(2024, 1, 31))
"""Two months across a new year, so every table has more than one year partition."""


@dataclass(frozen=True)
class Exported:
    """A backfilled archive and its first export."""

    settings: Settings
    out_dir: Path
    result: ExportResult


@pytest.fixture(scope="package")
def archive(tmp_path_factory: pytest.TempPathFactory, prefect_server: None) -> Iterator[Settings]:
    """A small sandbox account backfilled through the real Prefect flow."""
    account = SandboxAccount.generate(
        AccountSpec(seed=23, messages=500, start=SPAN[0], end=SPAN[1], dids=2, mms_share=0.3)
    )
    server = SandboxServer(account, username=SANDBOX_USERNAME, password=SANDBOX_PASSWORD).start()
    settings = sandbox_settings(server, tmp_path_factory.mktemp("archive"))
    try:
        with use_settings(settings):
            run_backfill(*SPAN)
        yield settings
    finally:
        server.stop()


@pytest.fixture(scope="package")
def exported(archive: Settings, tmp_path_factory: pytest.TempPathFactory) -> Exported:
    """The archive exported once into a folder of its own."""
    out_dir = tmp_path_factory.mktemp("export")
    return Exported(archive, out_dir, export_archive(archive.archive_path, out_dir))
