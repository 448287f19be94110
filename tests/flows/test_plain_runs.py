"""Without a Prefect API, commands run their steps as plain calls and never import Prefect."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from extract.voipms.sandbox.server import SandboxServer
from extract.voipms.sandbox.spec import AccountSpec
from flows.orchestration import configured_api_url
from tests.conftest import serving
from tests.flows.archive_checks import (
    archived_messages,
    assert_matches_truth,
    media_problems,
    truth_messages,
)
from tests.flows.conftest import sandbox_env

SPAN = (date(2024, 3, 1), date(2024, 8, 31))
RUN_IN_PROCESS = """
import sys
from flows.cli import app
try:
    app(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
else:
    code = 0
print("prefect imported:", "prefect" in sys.modules, file=sys.stderr)
sys.exit(code)
"""


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with serving(
        AccountSpec(seed=19, messages=600, start=SPAN[0], end=SPAN[1], dids=2, mms_share=0.2)
    ) as srv:
        yield srv


def _plain_env(server: SandboxServer, data_dir: Path, prefect_home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    return {**env, **sandbox_env(server, data_dir), "PREFECT_HOME": str(prefect_home)}


def _smsarchive(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", RUN_IN_PROCESS, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_backfill_sync_report_export_run_without_prefect(
    server: SandboxServer, tmp_path: Path
) -> None:
    env = _plain_env(server, tmp_path / "data", tmp_path / "prefect-home")
    for args in (
        ["backfill", "--start", SPAN[0].isoformat(), "--end", SPAN[1].isoformat()],
        ["sync"],
        ["report"],
        ["export"],
    ):
        done = _smsarchive(args, env)
        assert done.returncode == 0, done.stderr[-3000:]
        assert "prefect imported: False" in done.stderr, args
        assert "temporary server" not in done.stderr
    archive = tmp_path / "data" / "archive.duckdb"
    assert_matches_truth(archived_messages(archive), truth_messages(server.account))
    assert media_problems(archive, tmp_path / "data" / "media", server.account) == []
    assert (tmp_path / "data" / "reports" / "latest" / "report.html").is_file()
    assert (tmp_path / "data" / "export" / "current" / "messages").is_dir()
    assert not (tmp_path / "prefect-home").exists()  # no Prefect database was made


def test_the_api_url_comes_from_the_environment_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profiles = tmp_path / "profiles.toml"
    profiles.write_text(
        'active = "work"\n'
        '[profiles.work]\nPREFECT_API_URL = "http://127.0.0.1:4200/api"\n'
        "[profiles.ephemeral]\n",
        encoding="utf-8",
    )
    for name in ("PREFECT_API_URL", "PREFECT_PROFILE", "PREFECT_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PREFECT_PROFILES_PATH", str(profiles))
    assert configured_api_url() == "http://127.0.0.1:4200/api"
    monkeypatch.setenv("PREFECT_PROFILE", "ephemeral")
    assert configured_api_url() is None
    monkeypatch.setenv("PREFECT_API_URL", "http://10.0.0.5:4200/api")
    assert configured_api_url() == "http://10.0.0.5:4200/api"
    monkeypatch.setenv("PREFECT_API_URL", "")
    assert configured_api_url() is None
    monkeypatch.delenv("PREFECT_API_URL")
    monkeypatch.setenv("PREFECT_PROFILES_PATH", str(tmp_path / "missing.toml"))
    assert configured_api_url() is None
    # a user with no home folder (HOME unset, no passwd entry): no profile, not a crash
    monkeypatch.delenv("PREFECT_PROFILES_PATH")
    monkeypatch.delenv("HOME", raising=False)

    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    assert configured_api_url() is None


def test_a_failed_runs_detail_is_its_first_line_without_the_password() -> None:
    from pydantic import SecretStr

    from extract.voipms.redaction import secret_protected
    from flows.archive_run import DETAIL_CHARACTERS, failure_detail

    with secret_protected(SecretStr("hunter2-secret")):
        detail = failure_detail(RuntimeError("refused hunter2-secret\nsecond line"))
    assert detail.startswith("RuntimeError: refused ")
    assert "hunter2-secret" not in detail
    assert "second line" not in detail
    assert failure_detail(KeyError()) == "KeyError"
    assert len(failure_detail(ValueError("x" * 1000))) == DETAIL_CHARACTERS
    # a password that is a word of our own hint: the hint stays whole, not a mask over it
    from extract.voipms.errors import OWN_TEXTS

    hint = next(text for text in OWN_TEXTS if "password is wrong" in text)
    with secret_protected(SecretStr("wrong")):
        detail = failure_detail(RuntimeError(f"invalid_credentials: {hint}"))
    assert detail == f"RuntimeError: invalid_credentials: {hint}"[:DETAIL_CHARACTERS]


def test_a_run_stopped_from_outside_is_told_from_one_that_failed() -> None:
    import duckdb
    from prefect.exceptions import TerminationSignal

    from flows.interruptions import Terminated, stopped_from_outside

    assert stopped_from_outside(KeyboardInterrupt())
    assert stopped_from_outside(TerminationSignal(signal=15))  # a cancelled Prefect flow run
    assert not stopped_from_outside(RuntimeError("a bug"))
    # Ctrl-C or SIGTERM while DuckDB ran a query, or scanned a frame: DuckDB's own errors
    assert stopped_from_outside(RuntimeError("Query interrupted"))
    assert stopped_from_outside(Terminated())
    assert stopped_from_outside(
        duckdb.InvalidInputException("Python exception: registering 'b' failed: Terminated")
    )
    assert not stopped_from_outside(duckdb.InvalidInputException("a bad parameter"))
    # the word quoted in an error is not a stop; Prefect's own stop, wrapped, is one
    assert not stopped_from_outside(
        duckdb.ConstraintException("duplicate key 'Terminated' violates the primary key")
    )
    assert stopped_from_outside(
        duckdb.InvalidInputException("Detail: Python exception: prefect.TerminationSignal\n")
    )


def _no_home() -> Path:
    raise RuntimeError("Could not determine home directory.")


@pytest.mark.parametrize(
    ("args", "api_url"),
    [(["serve"], ""), (["-v", "sync"], "http://127.0.0.1:4200/api")],
)
def test_prefect_without_a_home_folder_is_one_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    api_url: str,
) -> None:
    from flows.cli import refuse_prefect_without_a_home

    monkeypatch.setenv("PREFECT_API_URL", api_url)
    monkeypatch.setattr(Path, "home", staticmethod(_no_home))  # a uid without a passwd entry
    with pytest.raises(SystemExit) as stopped:
        refuse_prefect_without_a_home(args)
    assert stopped.value.code == 1
    assert capsys.readouterr().err.startswith("error: Prefect (serve, or PREFECT_API_URL) needs")
    # a plain run needs none: Prefect is not imported
    monkeypatch.setenv("PREFECT_API_URL", "")
    refuse_prefect_without_a_home(["sync"])
