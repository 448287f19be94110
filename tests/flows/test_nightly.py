"""The nightly flow: a report that fails does not cost the night its export."""

from __future__ import annotations

from pathlib import Path

import pytest

from extract.voipms.sandbox.server import SandboxServer
from flows.runtime import use_settings
from flows.schedule import nightly
from tests.flows.conftest import sandbox_settings

pytestmark = pytest.mark.usefixtures("prefect_server")


def test_a_failed_report_still_leaves_the_export_then_fails_the_run(
    sandbox: SandboxServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    (data_dir / "reports").write_text("a file where the reports' folder should be\n")
    settings = sandbox_settings(sandbox, data_dir)
    with use_settings(settings), pytest.raises((FileExistsError, NotADirectoryError)):
        nightly()
    assert (data_dir / "export" / "current" / "messages").is_dir()
    assert any(
        "the report failed" in record.getMessage()
        and "export is written anyway" in record.getMessage()
        for record in caplog.records
    ), [record.getMessage() for record in caplog.records]
