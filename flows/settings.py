"""The one typed settings object, read once from the environment or `.env` at the entry point."""

from __future__ import annotations

import functools
import re
import zoneinfo
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from extract.media.url_policy import HostRule
from extract.voipms.windows import DEFAULT_MAX_LIMIT
from warehouse.memory_limit import size_bytes

DEFAULT_API_URL = "https://voip.ms/api/v1/rest.php"
SMALLEST_MEMORY_LIMIT = "64MB"
"""The least SMSARCHIVE_DUCKDB_MEMORY_LIMIT taken: below it DuckDB cannot pin the blocks a
merge needs, and fails before the limit can be raised."""
_SIZE = re.compile(r"(?i)\s*\d+(\.\d+)?\s*(b|kb|mb|gb|tb|kib|mib|gib|tib)\s*")
"""A DuckDB memory size: a number and its unit (`256MB`, `1.5 GiB`)."""


def without_login(url: str) -> str:
    """`url` as it may be shown: without any `user:password@` part it carries."""
    parts = urlsplit(url)
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


SCHEDULED_BUSY_WAIT_SECONDS = 1800.0
"""A scheduled run waits at least this long for a notebook to let go of the archive."""


def known_zone(name: str) -> bool:
    """True for an IANA time zone name both Python and DuckDB read: not `localtime` (the
    machine's own, a file DuckDB knows no zone of), nor the `posix/` and `right/` copies."""
    return name in _zone_names()


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones() - {"localtime"})


class Settings(BaseSettings):
    """Everything smsarchive can be told; names are the environment variables, upper-cased."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
    )

    voipms_api_username: str | None = Field(default=None, description="VoIP.ms account e-mail")
    voipms_api_password: SecretStr | None = Field(
        default=None,
        description="API password (Main Menu → SOAP & REST/JSON API), not the portal one",
    )
    voipms_api_url: str = Field(default=DEFAULT_API_URL, description="API endpoint")
    voipms_account_timezone: str = Field(
        default="America/New_York", description="IANA zone the API's dates are in"
    )
    voipms_page_limit: int = Field(
        default=10_000,
        ge=1,
        le=DEFAULT_MAX_LIMIT,
        description="rows asked per getSMS/getMMS call",
    )
    voipms_media_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["voip.ms"],
        description="comma-separated host[:port] list media may be downloaded from",
    )
    voipms_max_concurrency: int = Field(
        default=4, ge=1, description="API calls in flight at once (and windows fetched at once)"
    )
    voipms_requests_per_minute: int | None = Field(
        default=60, ge=1, description="client-side cap on API calls a minute (empty = no cap)"
    )
    voipms_max_attempts: int = Field(
        default=6, ge=1, description="tries per API call before a transient error is final"
    )
    voipms_timeout_seconds: float = Field(
        default=60.0, gt=0, le=3600, allow_inf_nan=False, description="per-call HTTP timeout"
    )
    voipms_backoff_seconds: float = Field(
        default=2.0,
        ge=0,
        le=3600,
        allow_inf_nan=False,
        description="base wait between tries of a failed call (doubles each try, plus jitter)",
    )
    smsarchive_sync_lookback_days: int = Field(
        default=7,
        ge=0,
        le=3660,  # ten years: more is a typo (and past the calendar's end, a crash)
        description="days before the newest archived day that sync fetches again",
    )
    smsarchive_media_concurrency: int = Field(
        default=8, ge=1, description="media downloads in flight at once"
    )
    smsarchive_media_processes: int = Field(
        default=0,
        ge=0,
        description=(
            "processes the media downloads are spread over, each with its share of the "
            "downloads in flight (0: one per CPU, at most one per download in flight, when "
            "there are 1,000 files or more for each)"
        ),
    )
    smsarchive_duckdb_memory_limit: str = Field(
        default="256MB",
        description=(
            "memory DuckDB may use while backfill and sync write the archive (e.g. 256MB, "
            "2GB); past it, it spills to disk beside the archive"
        ),
    )
    smsarchive_busy_wait_seconds: float = Field(
        default=0,
        ge=0,
        allow_inf_nan=False,  # `inf` is no wait a timer can count down
        description=(
            "seconds backfill and sync wait when another run or a program (a notebook) has "
            "the archive open, before giving up; scheduled runs wait at least "
            f"{SCHEDULED_BUSY_WAIT_SECONDS:g}"
        ),
    )
    smsarchive_report_timezone: str | None = Field(
        default=None,
        description=(
            "IANA zone reports count local days and hours in (empty: VOIPMS_ACCOUNT_TIMEZONE)"
        ),
    )
    smsarchive_schedule_cron: str = Field(
        default="0 3 * * *",
        description="when `serve` runs sync, report and export (cron, in the account's zone)",
    )
    smsarchive_data_dir: Path = Field(
        default=Path("data"), description="archive.duckdb, media/, reports and export"
    )

    @field_validator("voipms_media_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip().lower() for part in value.split(",") if part.strip()]
        return value

    @field_validator("voipms_media_hosts")
    @classmethod
    def _hosts(cls, value: list[str]) -> list[str]:
        # refused here, before any call, not after a whole fetch when the media step starts
        for entry in value:
            try:
                HostRule.parse(entry)
            except ValueError as exc:
                raise ValueError(f"{exc}: write host or host:port, such as voip.ms") from None
        return value

    @field_validator("voipms_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
            shown = without_login(value.strip())
            raise ValueError(f"must be an http(s) URL such as {DEFAULT_API_URL}, not {shown!r}")
        return value.strip()

    @field_validator(
        "voipms_api_url",
        "voipms_account_timezone",
        "voipms_page_limit",
        "voipms_max_concurrency",
        "voipms_max_attempts",
        "voipms_timeout_seconds",
        "voipms_backoff_seconds",
        "smsarchive_sync_lookback_days",
        "smsarchive_media_concurrency",
        "smsarchive_media_processes",
        "smsarchive_busy_wait_seconds",
        "smsarchive_schedule_cron",
        "smsarchive_duckdb_memory_limit",
        mode="before",
    )
    @classmethod
    def _empty_is_its_default(cls, value: object, info: ValidationInfo) -> object:
        # `VOIPMS_PAGE_LIMIT=` left empty in .env means "the default", as an empty data dir
        # does; where empty means something else (no cap, no host, unset) it says so
        if isinstance(value, str) and not value.strip() and info.field_name is not None:
            return cls.model_fields[info.field_name].default
        return value

    @field_validator("smsarchive_data_dir", mode="before")
    @classmethod
    def _empty_is_the_default(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return Path("data")
        # `~/archive` as .env writes it (no shell expands it there): the home folder, as
        # DuckDB would read it, not a folder named `~` beside us
        if not isinstance(value, str | Path):
            return value
        try:
            return Path(value).expanduser()
        except RuntimeError:  # HOME unset, a user without a home folder
            raise ValueError(f"{value}: there is no home folder for ~ (HOME is unset)") from None

    @field_validator(
        "voipms_requests_per_minute",
        "voipms_api_password",
        "smsarchive_report_timezone",
        mode="before",
    )
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        # `VOIPMS_API_PASSWORD=` as .env.example leaves it is unset, not a password
        return None if value == "" else value

    @field_validator("voipms_api_username", mode="before")
    @classmethod
    def _login_trimmed(cls, value: object) -> object:
        # an e-mail holds no spaces: ` me@example.com ` is me@example.com (the API refuses it
        # as written), and a blank one is no login at all
        if isinstance(value, str):
            return value.strip() or None
        return value

    @field_validator("smsarchive_duckdb_memory_limit")
    @classmethod
    def _a_size(cls, value: str) -> str:
        if _SIZE.fullmatch(value) is None:
            raise ValueError(f"not a size such as 256MB or 2GB: {value!r}")
        if size_bytes(value) < size_bytes(SMALLEST_MEMORY_LIMIT):
            raise ValueError(f"{value} is too little for DuckDB: {SMALLEST_MEMORY_LIMIT} at least")
        return value

    @field_validator("voipms_account_timezone", "smsarchive_report_timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None and not known_zone(value):
            raise ValueError(f"not an IANA time zone: {value!r}")
        return value

    @property
    def report_timezone(self) -> str:
        """The zone reports read local days and hours in: the user's, else the API's."""
        return self.smsarchive_report_timezone or self.voipms_account_timezone

    @property
    def archive_path(self) -> Path:
        """The DuckDB file of the archive."""
        return self.smsarchive_data_dir / "archive.duckdb"

    @property
    def media_dir(self) -> Path:
        """Where media files are stored, named by sha256."""
        return self.smsarchive_data_dir / "media"

    @property
    def has_credentials(self) -> bool:
        """True when both the API user name and password are set."""
        return bool(self.voipms_api_username) and self.voipms_api_password is not None
