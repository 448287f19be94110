"""The nightly flow: a report that fails does not cost the night its export."""

from __future__ import annotations

import traceback
from pathlib import Path

import duckdb
import pytest
from pydantic import SecretStr

from extract.voipms.sandbox.server import SandboxServer
from flows.runtime import use_settings
from flows.schedule import nightly
from tests.flows.conftest import sandbox_settings
from warehouse.errors import ForeignExportFolderError

pytestmark = pytest.mark.usefixtures("prefect_server")


def _connections_held(failed: BaseException) -> list[str]:
    """The names of the DuckDB connections the frames of `failed`'s traceback still hold."""
    return [
        name
        for frame, _ in traceback.walk_tb(failed.__traceback__)
        for name, value in frame.f_locals.items()
        if isinstance(value, duckdb.DuckDBPyConnection)
    ]


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
    said = [record.getMessage() for record in caplog.records if record.name == "smsarchive"]
    # the sync's outcome, as the CLI would print it, is in the run's log
    assert any(line.startswith("nightly: windows: ") and "media: " in line for line in said), said
    assert any(
        "the report failed" in record.getMessage()
        and "export is written anyway" in record.getMessage()
        for record in caplog.records
    ), [record.getMessage() for record in caplog.records]


def test_a_failed_sync_is_said_and_nothing_after_it_runs(
    sandbox: SandboxServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data_dir = tmp_path / "data"
    settings = sandbox_settings(sandbox, data_dir).model_copy(
        update={"voipms_api_password": SecretStr("not-the-password")}
    )
    with use_settings(settings), pytest.raises(Exception, match="invalid_credentials") as failed:
        nightly()
    # the error Prefect keeps holds no DuckDB connection in its frames: one still alive when
    # the run's process exits is some forty lines of nanobind's on serve's terminal
    assert _connections_held(failed.value) == []
    said = [record.getMessage() for record in caplog.records if record.name == "smsarchive"]
    assert any(
        line.startswith("nightly: the sync failed (") and "no report or export" in line
        for line in said
    ), said
    assert not (data_dir / "export").exists()
    assert "not-the-password" not in caplog.text


def test_a_failed_export_is_said_and_holds_no_connection(
    sandbox: SandboxServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data_dir = tmp_path / "data"
    (data_dir / "export").mkdir(mode=0o700, parents=True)
    (data_dir / "export" / "notes.txt").write_text("mine\n")  # what no export made
    settings = sandbox_settings(sandbox, data_dir)
    with use_settings(settings), pytest.raises(ForeignExportFolderError) as failed:
        nightly()
    assert _connections_held(failed.value) == []
    said = [record.getMessage() for record in caplog.records if record.name == "smsarchive"]
    # said on serve's terminal too, where a sync's or a report's failure is said
    assert any(line.startswith("nightly: the export failed (") for line in said), said
    assert (data_dir / "export" / "notes.txt").read_text() == "mine\n"
