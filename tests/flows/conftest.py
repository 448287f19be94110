"""Helpers for flow tests: settings and environment pointing at a sandbox, a noting tracker."""

from __future__ import annotations

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
