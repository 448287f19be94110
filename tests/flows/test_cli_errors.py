"""The CLI's failures a person can act on end in one line on stderr and a non-zero exit."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from prefect.settings import PREFECT_API_URL
from typer.testing import CliRunner

from extract.voipms.sandbox.server import SandboxServer
from flows.cli import app
from tests.conftest import SANDBOX_PASSWORD
from tests.flows.conftest import sandbox_env

SMSARCHIVE = str(Path(sys.executable).parent / "smsarchive")


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("VOIPMS_", "SMSARCHIVE_"))}
    return subprocess.run(
        [SMSARCHIVE, *args],
        cwd=env["SMSARCHIVE_DATA_DIR"],  # no stray .env is read
        env={**clean, "PREFECT_API_URL": str(PREFECT_API_URL.value()), **env},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _error_lines(stderr: str) -> list[str]:
    assert "Traceback" not in stderr, stderr
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def test_start_after_end_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["backfill", "--start", "2024-03-01", "--end", "2024-02-01"],
        env={"SMSARCHIVE_DATA_DIR": str(tmp_path)},
    )
    assert result.exit_code == 2
    assert "--start 2024-03-01 is after --end 2024-02-01" in result.output


def test_a_malformed_date_is_refused() -> None:
    result = CliRunner().invoke(app, ["backfill", "--start", "2024-13-01"])
    assert result.exit_code == 2
    assert "2024-13-01" in result.output


@pytest.mark.usefixtures("prefect_server")
def test_wrong_password_is_one_actionable_line(sandbox: SandboxServer, tmp_path: Path) -> None:
    env = {**sandbox_env(sandbox, tmp_path), "VOIPMS_API_PASSWORD": "not-the-password"}
    result = _run(env, "backfill", "--start", "2024-01-01", "--end", "2024-01-31")
    assert result.returncode == 1
    [line] = _error_lines(result.stderr)
    assert "invalid_credentials" in line
    assert "SOAP & REST/JSON API" in line
    assert "not-the-password" not in result.stderr + result.stdout
    assert SANDBOX_PASSWORD not in result.stderr + result.stdout


@pytest.mark.usefixtures("prefect_server")
def test_unreachable_api_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        "VOIPMS_API_URL": f"http://127.0.0.1:{port}/api/v1/rest.php",
        "VOIPMS_API_USERNAME": "me@example.com",
        "VOIPMS_API_PASSWORD": "pw-unreachable",
        "VOIPMS_MAX_ATTEMPTS": "1",
        "SMSARCHIVE_DATA_DIR": str(tmp_path),
    }
    result = _run(env, "backfill", "--start", "2024-01-01", "--end", "2024-01-31")
    assert result.returncode == 1
    [line] = _error_lines(result.stderr)
    assert "connection" in line.lower()


@pytest.mark.usefixtures("prefect_server")
def test_missing_credentials_say_what_to_set(tmp_path: Path) -> None:
    result = _run({"SMSARCHIVE_DATA_DIR": str(tmp_path)}, "sync")
    assert result.returncode == 1
    [line] = _error_lines(result.stderr)
    assert "VOIPMS_API_USERNAME" in line
    assert "VOIPMS_API_PASSWORD" in line
