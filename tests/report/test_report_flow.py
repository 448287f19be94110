"""The report end to end: a sandbox archive from the real backfill, the report flow, the CLI."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from PIL import Image
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from typer.testing import CliRunner

from flows.cli import app
from flows.logging_setup import OUR_LOGGERS, QUIET_PREFECT_CONFIG
from flows.report_flow import ARTIFACT_KEY
from warehouse.report import CHARTS, REPORT_TABLES

pytestmark = pytest.mark.slow

EXTERNAL_REFERENCE = re.compile(
    r"<(?:script|link|img|iframe|source)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//",
    re.IGNORECASE,
)
# the sandbox's account has no day near the send limit; the query tests cover that table
MAY_BE_EMPTY = {"near_send_limit"}


def test_report_flow_writes_page_charts_and_tables(sandbox_report: dict[str, Any]) -> None:
    folder = Path(sandbox_report["result"]["folder"])
    assert folder.parent == sandbox_report["data_dir"] / "reports"
    latest = folder.parent / "latest"
    assert latest.resolve() == folder.resolve()
    for name in REPORT_TABLES:
        csv = folder / f"{name}.csv"
        assert csv.stat().st_size > 0, name
        frame = pl.read_csv(csv)
        assert frame.width > 0, name
        if name not in MAY_BE_EMPTY:
            assert frame.height > 0, f"{name}.csv has no rows"
    for name in CHARTS:
        with Image.open(folder / f"{name}.png") as image:
            assert image.width > 300, name
            assert image.height > 100, name
            assert len(image.convert("RGB").getcolors(maxcolors=1 << 20) or []) > 8, name
    totals = pl.read_csv(folder / "totals.csv")
    assert totals["messages"].to_list() == [sandbox_report["account"].truth().height]


def test_report_page_draws_offline(sandbox_report: dict[str, Any]) -> None:
    page = Path(sandbox_report["result"]["html"]).read_text(encoding="utf-8")
    assert EXTERNAL_REFERENCE.search(page) is None
    assert "<script src" not in page.lower()
    assert page.count('class="chart"') == len(CHARTS)
    assert "vegaEmbed" in page


def test_report_flow_leaves_a_markdown_artifact(sandbox_report: dict[str, Any]) -> None:
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[ARTIFACT_KEY]))
        )
    # The session shares one Prefect server: other tests' report runs leave artifacts too.
    folder = str(sandbox_report["result"]["folder"])
    ours = [str(a.data) for a in artifacts if folder in str(a.data)]
    assert len(ours) == 1, f"no single report artifact naming {folder}"
    assert "delivery rate" in ours[0]


@pytest.mark.usefixtures("cli_logging")
def test_cli_report_for_one_did_by_month(sandbox_report: dict[str, Any], tmp_path: Path) -> None:
    data_dir: Path = sandbox_report["data_dir"]
    did = pl.read_csv(Path(sandbox_report["result"]["folder"]) / "volume_by_did.csv")["did"][0]
    out = tmp_path / "one-did"
    portal_form = str(did).removeprefix("+1")  # 10 digits, as the portal shows a DID
    done = CliRunner().invoke(
        app,
        ["report", "--start", "2024-02-01", "--end", "2024-02-29", "--did", portal_form,
         "--grain", "month", "--out", str(out)],
        env={"SMSARCHIVE_DATA_DIR": str(data_dir)},
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "delivery rate" in done.stdout
    assert str(out / "report.html") in done.stdout
    periods = pl.read_csv(out / "volume_by_period.csv", try_parse_dates=True)["period"]
    assert [str(p) for p in periods.unique()] == ["2024-02-01"]
    assert pl.read_csv(out / "volume_by_did.csv")["did"].unique().to_list() == [did]
    assert not (out.parent / "latest").exists()


@pytest.mark.usefixtures("cli_logging")
def test_cli_report_of_days_the_archive_does_not_hold_says_so(
    sandbox_report: dict[str, Any], tmp_path: Path
) -> None:
    for start, outside in (("2025-06-01", True), ("2024-02-01", False)):
        done = CliRunner().invoke(
            app,
            ["report", "--start", start, "--out", str(tmp_path / start)],
            env={"SMSARCHIVE_DATA_DIR": str(sandbox_report["data_dir"])},
        )
        assert done.exit_code == 0, done.output
        assert ("messages: 0 (" in done.stdout) is outside
        said = "note: no message of the archive is in this scope" in done.stdout
        assert said is outside, done.stdout


@pytest.mark.usefixtures("cli_logging")
def test_cli_report_into_an_export_folder_or_the_data_dir_is_refused(
    sandbox_report: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir: Path = sandbox_report["data_dir"]
    env = {"SMSARCHIVE_DATA_DIR": str(data_dir)}
    exported = tmp_path / "exported"
    done = CliRunner().invoke(app, ["export", "--out", str(exported)], env=env)
    assert done.exit_code == 0, done.output
    before = sorted(path.name for path in exported.iterdir())
    monkeypatch.chdir(tmp_path)  # a relative --out is the folder of that name here
    for out, said in (
        ("exported", "is an export folder (it holds _manifest.json, current, snapshots)"),
        (str(data_dir), "is a data dir (it holds archive.duckdb, landing)"),
    ):
        done = CliRunner().invoke(app, ["report", "--out", out], env=env)
        assert done.exit_code == 1, done.output
        assert said in done.output
        assert "give --out a folder of its own" in done.output
    # nothing was written there: the export into it goes on as before
    assert sorted(path.name for path in exported.iterdir()) == before
    done = CliRunner().invoke(app, ["export", "--out", str(exported)], env=env)
    assert done.exit_code == 0, done.output


@pytest.mark.usefixtures("cli_logging")
def test_cli_report_for_a_did_not_in_the_archive_says_so(
    sandbox_report: dict[str, Any], tmp_path: Path
) -> None:
    done = CliRunner().invoke(
        app,
        ["report", "--did", "+15559990000", "--out", str(tmp_path / "none")],
        env={"SMSARCHIVE_DATA_DIR": str(sandbox_report["data_dir"])},
    )
    assert done.exit_code == 1
    assert "error: the archive holds no message on DID +15559990000; its DIDs: +1" in done.output
    assert not (tmp_path / "none").exists()


@pytest.fixture
def cli_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Undo what the CLI's callback does to this process's logging and environment."""
    for name, value in (
        ("PREFECT_SERVER_ANALYTICS_ENABLED", "false"),
        ("PREFECT_LOGGING_SETTINGS_PATH", str(QUIET_PREFECT_CONFIG)),
        ("PREFECT_SERVER_LOGGING_LEVEL", "WARNING"),
    ):
        monkeypatch.setenv(name, os.environ.get(name, value))
    loggers = [logging.getLogger(name) for name in OUR_LOGGERS]
    saved = [(lg.handlers, lg.propagate, lg.level) for lg in loggers]
    yield
    for lg, (handlers, propagate, level) in zip(loggers, saved, strict=True):
        lg.handlers, lg.propagate = handlers, propagate
        lg.setLevel(level)


@pytest.mark.usefixtures("cli_logging")
def test_cli_report_refuses_a_bad_grain(tmp_path: Path) -> None:
    done = CliRunner().invoke(
        app, ["report", "--grain", "year"], env={"SMSARCHIVE_DATA_DIR": str(tmp_path)}
    )
    assert done.exit_code == 2
    assert done.stderr.startswith("error: --grain")


@pytest.mark.usefixtures("cli_logging")
@pytest.mark.parametrize(
    ("days", "says"),
    [
        (["--start", "2999-01-01"], "--start 2999-01-01 is after today"),
        (["--start", "2024-01-01", "--end", "2999-01-01"], "--end 2999-01-01 is after today"),
        (["--start", "1990-01-01", "--end", "1990-02-01"], "--end 1990-02-01 is before 2000-01-01"),
    ],
)
def test_cli_report_refuses_days_no_message_can_be_on(
    tmp_path: Path, days: list[str], says: str
) -> None:
    done = CliRunner().invoke(app, ["report", *days], env={"SMSARCHIVE_DATA_DIR": str(tmp_path)})
    assert done.exit_code == 2
    assert done.stderr.startswith(f"error: {says}")
    assert not (tmp_path / "reports").exists()


@pytest.mark.usefixtures("cli_logging")
@pytest.mark.parametrize("account", ["", " "])
def test_cli_report_refuses_an_empty_account(tmp_path: Path, account: str) -> None:
    done = CliRunner().invoke(
        app, ["report", "--account", account], env={"SMSARCHIVE_DATA_DIR": str(tmp_path)}
    )
    assert done.exit_code == 2
    assert done.stderr.startswith("error: --account takes an account's e-mail")


@pytest.mark.usefixtures("cli_logging")
def test_cli_report_without_an_archive_says_so(tmp_path: Path) -> None:
    done = CliRunner().invoke(app, ["report"], env={"SMSARCHIVE_DATA_DIR": str(tmp_path)})
    assert done.exit_code == 1
    assert done.stderr.startswith("error: there is no archive at")
    assert not (tmp_path / "reports").exists()


@pytest.mark.usefixtures("cli_logging")
@pytest.mark.parametrize("zone", ["Mars/Olympus", "localtime", "posix/Europe/Paris"])
def test_cli_report_refuses_a_zone_that_is_not_one(tmp_path: Path, zone: str) -> None:
    # localtime is a file Python reads as a zone, and DuckDB does not
    done = CliRunner().invoke(
        app, ["report", "--tz", zone], env={"SMSARCHIVE_DATA_DIR": str(tmp_path)}
    )
    assert done.exit_code == 2
    assert done.stderr.startswith("error: --tz must be an IANA time zone")
