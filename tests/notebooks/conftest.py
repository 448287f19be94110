"""Fixtures for notebook tests: a small sandbox archived through the real backfill flow."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from extract.voipms.sandbox.account import SandboxAccount
from extract.voipms.sandbox.server import SandboxServer
from extract.voipms.sandbox.spec import AccountSpec
from flows.archive_run import run_backfill
from flows.runtime import use_settings
from tests.conftest import SANDBOX_PASSWORD, SANDBOX_USERNAME
from tests.flows.conftest import SPAN, sandbox_settings

KERNEL_NAME = "smsarchive-test-venv"


@pytest.fixture(scope="module")
def archive_dir(prefect_server: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A data dir holding a small sandbox account, archived by the real backfill flow."""
    account = SandboxAccount.generate(
        AccountSpec(seed=5, messages=600, start=SPAN[0], end=SPAN[1], dids=2, mms_share=0.25)
    )
    server = SandboxServer(account, username=SANDBOX_USERNAME, password=SANDBOX_PASSWORD).start()
    data_dir = tmp_path_factory.mktemp("notebook-archive")
    try:
        with use_settings(sandbox_settings(server, data_dir)):
            run_backfill(*SPAN)
    finally:
        server.stop()
    return data_dir


@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A kernelspec whose interpreter is this venv's python, found through JUPYTER_PATH."""
    jupyter_path = tmp_path_factory.mktemp("jupyter")
    spec_dir = jupyter_path / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "smsarchive venv",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PATH", str(jupyter_path))
        patch.setenv("JUPYTER_PLATFORM_DIRS", "1")
        yield KERNEL_NAME
