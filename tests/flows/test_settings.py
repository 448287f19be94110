"""Settings: environment names from design.md, one typed object, the password a secret."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from flows.settings import DEFAULT_API_URL, Settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(__import__("os").environ):
        if name.startswith(("VOIPMS_", "SMSARCHIVE_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults_match_the_design() -> None:
    s = Settings()
    assert s.voipms_api_url == DEFAULT_API_URL == "https://voip.ms/api/v1/rest.php"
    assert s.voipms_account_timezone == "America/New_York"
    assert s.voipms_media_hosts == ["voip.ms"]
    assert s.smsarchive_data_dir == Path("data")
    assert not s.has_credentials


def test_environment_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOIPMS_API_USERNAME", "me@example.com")
    monkeypatch.setenv("VOIPMS_API_PASSWORD", "hunter2-xyz")
    monkeypatch.setenv("VOIPMS_MEDIA_HOSTS", "voip.ms, 127.0.0.1:8765")
    monkeypatch.setenv("VOIPMS_PAGE_LIMIT", "500")
    monkeypatch.setenv("VOIPMS_REQUESTS_PER_MINUTE", "")
    monkeypatch.setenv("SMSARCHIVE_DATA_DIR", "/tmp/archive")
    s = Settings()
    assert s.voipms_api_username == "me@example.com"
    assert isinstance(s.voipms_api_password, SecretStr)
    assert s.voipms_api_password.get_secret_value() == "hunter2-xyz"
    assert "hunter2-xyz" not in repr(s)
    assert "hunter2-xyz" not in str(s)
    assert s.voipms_media_hosts == ["voip.ms", "127.0.0.1:8765"]
    assert s.voipms_page_limit == 500
    assert s.voipms_requests_per_minute is None
    assert s.smsarchive_data_dir == Path("/tmp/archive")
    assert s.has_credentials


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("VOIPMS_API_USERNAME=dot@example.com\nVOIPMS_PAGE_LIMIT=7\n")
    s = Settings()
    assert s.voipms_api_username == "dot@example.com"
    assert s.voipms_page_limit == 7


def test_bad_timezone_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOIPMS_ACCOUNT_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ValidationError, match="IANA"):
        Settings()


@pytest.mark.parametrize("value", ["512MB", "2 GB", "1.5GiB", "300mb"])
def test_duckdb_memory_limit_takes_sizes(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("SMSARCHIVE_DUCKDB_MEMORY_LIMIT", value)
    assert Settings().smsarchive_duckdb_memory_limit == value


@pytest.mark.parametrize("value", ["lots", "80%", "512", "-1GB", "1GB; SET threads=1"])
def test_duckdb_memory_limit_refuses_what_is_not_a_size(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("SMSARCHIVE_DUCKDB_MEMORY_LIMIT", value)
    with pytest.raises(ValidationError, match="smsarchive_duckdb_memory_limit") as refused:
        Settings()
    assert "not a size such as 256MB or 2GB" in str(refused.value)


def test_an_empty_data_dir_is_the_default_not_the_current_folder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SMSARCHIVE_DATA_DIR", "")
    assert Settings(_env_file=None).smsarchive_data_dir == Path("data")  # type: ignore[call-arg]


def test_a_setting_left_empty_is_its_default_where_empty_means_nothing_else(
    tmp_path: Path,
) -> None:
    names = [
        "VOIPMS_API_URL", "VOIPMS_ACCOUNT_TIMEZONE", "VOIPMS_PAGE_LIMIT",
        "VOIPMS_MAX_CONCURRENCY", "VOIPMS_MAX_ATTEMPTS", "VOIPMS_TIMEOUT_SECONDS",
        "VOIPMS_BACKOFF_SECONDS", "SMSARCHIVE_SYNC_LOOKBACK_DAYS", "SMSARCHIVE_MEDIA_CONCURRENCY",
        "SMSARCHIVE_MEDIA_PROCESSES", "SMSARCHIVE_BUSY_WAIT_SECONDS", "SMSARCHIVE_SCHEDULE_CRON",
        "SMSARCHIVE_DUCKDB_MEMORY_LIMIT", "SMSARCHIVE_DATA_DIR",
    ]  # fmt: skip
    (tmp_path / ".env").write_text("".join(f"{name}=\n" for name in names))
    empty = Settings(_env_file=tmp_path / ".env")  # type: ignore[call-arg]
    default = Settings(_env_file=None)  # type: ignore[call-arg]
    assert empty.model_dump() == default.model_dump()
    # where empty means something of its own, it keeps meaning it
    (tmp_path / ".env").write_text("VOIPMS_REQUESTS_PER_MINUTE=\nVOIPMS_MEDIA_HOSTS=\n")
    own = Settings(_env_file=tmp_path / ".env")  # type: ignore[call-arg]
    assert own.voipms_requests_per_minute is None  # no cap
    assert own.voipms_media_hosts == []  # no host


def test_a_data_dir_under_home_written_with_a_tilde_is_under_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # as a .env line writes it: no shell expands the `~` there
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".env").write_text("SMSARCHIVE_DATA_DIR=~/texts\n")
    settings = Settings(_env_file=tmp_path / ".env")  # type: ignore[call-arg]
    assert settings.smsarchive_data_dir == tmp_path / "texts"
    assert settings.archive_path == tmp_path / "texts" / "archive.duckdb"


def test_env_example_names_every_setting_and_reads_back() -> None:
    example = Path(__file__).parents[2] / ".env.example"
    names = {
        line.split("=", 1)[0]
        for line in example.read_text(encoding="utf-8").splitlines()
        if "=" in line and not line.startswith("#")
    }
    assert names == {name.upper() for name in Settings.model_fields}
    read = Settings(_env_file=example)  # type: ignore[call-arg]
    assert read.smsarchive_schedule_cron == "0 3 * * *"


def test_a_page_limit_past_what_a_window_may_ask_is_refused() -> None:
    with pytest.raises(ValidationError, match="less than or equal to 1000000"):
        Settings(_env_file=None, voipms_page_limit=2_000_000)  # type: ignore[call-arg]


def test_env_example_copied_as_it_is_has_no_password(tmp_path: Path) -> None:
    # `cp .env.example .env` leaves VOIPMS_API_PASSWORD empty: unset, so runs refuse to start
    example = Path(__file__).resolve().parents[2] / ".env.example"
    (tmp_path / ".env").write_text(example.read_text())
    s = Settings()
    assert s.voipms_api_username == "you@example.com"
    assert s.voipms_api_password is None
    assert not s.has_credentials


def test_reports_read_the_users_zone_when_set_else_the_apis(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VOIPMS_ACCOUNT_TIMEZONE", "America/New_York")
    monkeypatch.setenv("SMSARCHIVE_REPORT_TIMEZONE", "")  # as .env.example leaves it
    assert Settings(_env_file=None).report_timezone == "America/New_York"  # type: ignore[call-arg]
    monkeypatch.setenv("SMSARCHIVE_REPORT_TIMEZONE", "America/Vancouver")
    assert Settings(_env_file=None).report_timezone == "America/Vancouver"  # type: ignore[call-arg]
    monkeypatch.setenv("SMSARCHIVE_REPORT_TIMEZONE", "Pacific/Nowhere")
    with pytest.raises(ValidationError, match="IANA"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_a_login_is_read_without_the_spaces_around_it_and_a_blank_one_is_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VOIPMS_API_USERNAME", "  me@example.com ")
    assert Settings().voipms_api_username == "me@example.com"
    monkeypatch.setenv("VOIPMS_API_USERNAME", "   ")
    blank = Settings()
    assert blank.voipms_api_username is None
    assert not blank.has_credentials


@pytest.mark.parametrize(
    "name", ["VOIPMS_TIMEOUT_SECONDS", "VOIPMS_BACKOFF_SECONDS", "SMSARCHIVE_BUSY_WAIT_SECONDS"]
)
@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_seconds_must_be_a_finite_number(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=name.lower()) as refused:
        Settings()
    assert "Input should be a finite number" in str(refused.value)  # not "less than 3600"
