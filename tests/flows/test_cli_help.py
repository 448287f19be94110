"""Every `smsarchive` command has help that helps: a summary and a description of every option."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from flows.cli import app

COMMAND = typer.main.get_command(app)
NAMES = sorted(COMMAND.commands)  # type: ignore[attr-defined]


def test_the_commands_the_design_and_readme_name_exist() -> None:
    named = {"backfill", "sync", "status", "report", "export", "serve", "sandbox", "demo"}
    assert named | {"replay"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_command_help(name: str) -> None:
    result = CliRunner().invoke(app, [name, "--help"])
    assert result.exit_code == 0, result.output
    command = COMMAND.commands[name]  # type: ignore[attr-defined]
    assert command.help
    assert len(command.help.strip()) > 20
    undocumented = [
        p.name
        for p in command.params
        if p.param_type_name == "option" and not getattr(p, "help", None) and p.name != "help"
    ]
    assert undocumented == []
    assert "<bool>" not in result.output  # flags shown bare: `--refetch`, not `--refetch <bool>`
    # every value is named for what it is (PORT, N, SHARE), not for its Python type
    assert re.search(r"<(int|float|text)", result.output) is None, result.output


def test_the_top_level_help_shows_flags_bare() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "--verbose" in result.output
    assert "<bool>" not in result.output


def test_entry_point_runs_from_the_venv() -> None:
    exe = Path(sys.executable).parent / "smsarchive"
    result = subprocess.run(
        [str(exe), "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "Archive every SMS and MMS" in result.stdout
    for name in NAMES:
        assert name in result.stdout


def _paragraphs(output: str) -> list[list[str]]:
    """The help's prose above its option boxes, as paragraphs of rendered lines."""
    prose = output.split("╭")[0].splitlines()
    paragraphs: list[list[str]] = [[]]
    for line in prose:
        if line.strip():
            paragraphs[-1].append(line.rstrip())
        elif paragraphs[-1]:
            paragraphs.append([])
    return [p for p in paragraphs if p]


@pytest.mark.parametrize("name", NAMES)
def test_command_help_is_wrapped_to_the_terminal_not_the_source(name: str) -> None:
    # at 80 columns a line of prose ends early only where its paragraph ends: a docstring's
    # own line breaks (wrapped at 100 in the source) would cut sentences midway
    result = CliRunner().invoke(app, [name, "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    for paragraph in _paragraphs(result.output)[1:]:  # [0] is the usage line
        for line, following in itertools.pairwise(paragraph):
            next_word = following.split()[0]
            assert len(line) + 1 + len(next_word) > 80 - 2, (line, following)


def test_the_top_level_help_names_what_a_first_run_needs() -> None:
    result = CliRunner().invoke(app, ["--help"], terminal_width=200)
    assert result.exit_code == 0
    said = " ".join(result.output.split())
    for needed in ("smsarchive demo", "VOIPMS_API_USERNAME", "VOIPMS_API_PASSWORD"):
        assert needed in said, said
    assert "SMSARCHIVE_DATA_DIR, where the archive" in said


@pytest.mark.parametrize(
    ("option", "hint"), [("--verbose", "smsarchive -v …"), ("--version", "smsarchive --version")]
)
def test_a_top_level_option_after_the_command_says_where_it_goes(option: str, hint: str) -> None:
    exe = Path(sys.executable).parent / "smsarchive"
    result = subprocess.run(
        [str(exe), "status", option], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2
    assert f"No such option: {option} (it goes before the command: {hint})" in result.stderr


def test_the_cli_turns_prefects_usage_data_off_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from prefect._internal.analytics.enabled import is_telemetry_enabled

    from flows.logging_setup import configure_logging

    monkeypatch.delenv("PREFECT_SERVER_ANALYTICS_ENABLED", raising=False)
    monkeypatch.setenv("DO_NOT_TRACK", "0")
    configure_logging(verbose=False)  # the user's own choice stands
    assert os.environ["DO_NOT_TRACK"] == "0"
    monkeypatch.delenv("DO_NOT_TRACK")
    configure_logging(verbose=False)
    assert os.environ["DO_NOT_TRACK"] == "1"
    assert os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"
    assert not is_telemetry_enabled()


def test_version_names_this_version_its_schemas_and_the_libraries_under_it() -> None:
    from importlib.metadata import version

    from warehouse.export import EXPORT_SCHEMA_VERSION
    from warehouse.migrate import known_migrations

    result = CliRunner().invoke(app, ["--version", "status"])  # eager: no command runs
    assert result.exit_code == 0, result.output
    [line] = result.output.splitlines()
    newest = known_migrations()[-1].version
    assert line.startswith(
        f"smsarchive {version('smsarchive')} (archive schema {newest}, "
        f"export schema {EXPORT_SCHEMA_VERSION}; Python {sys.version.split()[0]}, "
    ), line
    for library in ("duckdb", "polars", "prefect", "httpx"):
        assert f"{library} {version(library)}" in line


@pytest.mark.parametrize("name", ["", *NAMES])
def test_at_80_columns_no_word_of_the_help_is_cut(name: str) -> None:
    # rich cuts a word too long for its column with an ellipsis (`--redownload-missing-me…`,
    # `SMSARCHIVE_BUSY_WAIT_SECO…`); folded, the rest is on the next line
    result = CliRunner().invoke(
        app, [name, "--help"] if name else ["--help"], env={"COLUMNS": "80"}
    )
    assert result.exit_code == 0, result.output
    command = COMMAND.commands[name] if name else COMMAND  # type: ignore[attr-defined]
    written = [command.help or "", *(getattr(p, "help", None) or "" for p in command.params)]
    assert result.output.count("…") == " ".join(written).count("…"), result.output
