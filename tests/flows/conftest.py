"""Helpers for flow tests: settings and environment pointing at a sandbox, a noting tracker,
and the child `smsarchive` processes some tests start."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from pydantic import SecretStr

from extract.voipms.sandbox.server import SandboxServer
from flows.settings import Settings


class Notes:
    """A progress tracker (flows.progress.Tracker) that keeps the note of every advance."""

    def __init__(self) -> None:
        self.notes: list[str] = []

    def advance(self, note: str = "") -> None:
        self.notes.append(note)

    def grow(self, count: int) -> None:
        self.notes.append(f"+{count}")


def sandbox_settings(server: SandboxServer, data_dir: Path, **overrides: object) -> Settings:
    """Settings that point every part of smsarchive at `server`, archiving into `data_dir`."""
    values: dict[str, object] = {
        "voipms_api_url": server.url,
        "voipms_api_username": server.username,
        "voipms_api_password": SecretStr(server.password),
        "voipms_media_hosts": [server.media_host],
        "voipms_requests_per_minute": None,
        "voipms_page_limit": 400,
        "smsarchive_data_dir": data_dir,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def sandbox_env(server: SandboxServer, data_dir: Path) -> dict[str, str]:
    """The same settings as environment variables, for a child `smsarchive` process."""
    return {
        "VOIPMS_API_URL": server.url,
        "VOIPMS_API_USERNAME": server.username,
        "VOIPMS_API_PASSWORD": server.password,
        "VOIPMS_MEDIA_HOSTS": server.media_host,
        "VOIPMS_REQUESTS_PER_MINUTE": "",
        "VOIPMS_PAGE_LIMIT": "400",
        "SMSARCHIVE_DATA_DIR": str(data_dir),
    }


SPAN = (date(2024, 1, 1), date(2024, 12, 31))

SMSARCHIVE = str(Path(sys.executable).parent / "smsarchive")


def without_our_settings() -> dict[str, str]:
    """This process's environment without any VOIPMS_ or SMSARCHIVE_ setting: a child
    `smsarchive` then has only the settings its test gives it, never the machine's."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("VOIPMS_", "SMSARCHIVE_"))}


def wait_while_running(
    child: subprocess.Popen[str], ready: Callable[[], bool], *, within_s: float, every_s: float
) -> None:
    """Ask `ready()` every `every_s` until it holds; fail if `child` ends first (with what it
    said) or `within_s` passes."""
    deadline = time.monotonic() + within_s
    while not ready():
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, f"not ready within {within_s:g} s"
        time.sleep(every_s)


@contextmanager
def backfill_running(
    *,
    cwd: Path,
    env: dict[str, str],
    ready: Callable[[], bool],
    within_s: float,
    every_s: float,
    stdout: int = subprocess.PIPE,
) -> Iterator[subprocess.Popen[str]]:
    """A child `smsarchive backfill` of SPAN, yielded once `ready()` holds (asked as
    `wait_while_running` does), its stderr piped; killed at the block's end if still running."""
    child = subprocess.Popen(
        [SMSARCHIVE, "backfill", "--start", str(SPAN[0]), "--end", str(SPAN[1])],
        cwd=cwd,
        env=env,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_while_running(child, ready, within_s=within_s, every_s=every_s)
        yield child
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
