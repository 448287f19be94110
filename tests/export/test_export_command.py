"""`smsarchive export`: runs the Prefect flow, says where it wrote and how many rows."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.settings import Settings

ENV_KEYS = ("VOIPMS_API_USERNAME", "VOIPMS_API_PASSWORD", "VOIPMS_API_URL")


def _env(data_dir: Path) -> dict[str, str | None]:
    env: dict[str, str | None] = {"SMSARCHIVE_DATA_DIR": str(data_dir)}
    env.update(dict.fromkeys(ENV_KEYS))
    return env


def test_export_command_writes_into_out_and_prints_counts(
    archive: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "lake"
    result = CliRunner().invoke(
        app, ["export", "--out", str(out)], env=_env(archive.smsarchive_data_dir)
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "_manifest.json").read_text())
    assert f"exported to {out / 'current'}" in result.output
    for table, entry in manifest["tables"].items():
        assert f"{table:>24}: {entry['rows']:,} rows" in result.output


def test_export_command_defaults_to_the_data_dir(archive: Settings) -> None:
    result = CliRunner().invoke(app, ["export"], env=_env(archive.smsarchive_data_dir))
    assert result.exit_code == 0, result.output
    assert (archive.smsarchive_data_dir / "export" / "current" / "messages").is_dir()


def test_export_command_without_an_archive_says_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["export"], env=_env(tmp_path))
    assert result.exit_code == 1
    assert "error: there is no archive" in result.output
    assert not (tmp_path / "export").exists()


def test_an_out_that_is_a_file_is_said_so(archive: Settings, tmp_path: Path) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    result = CliRunner().invoke(
        app, ["export", "--out", str(a_file)], env=_env(archive.smsarchive_data_dir)
    )
    assert result.exit_code == 1
    assert f"--out {a_file} is a file, not a folder" in result.output
    assert a_file.read_text() == "mine"


def test_a_lock_file_planted_as_a_link_is_not_followed(archive: Settings, tmp_path: Path) -> None:
    out = tmp_path / "lake"
    out.mkdir()
    victim = tmp_path / "victim"
    (out / ".export.lock").symlink_to(victim)
    result = CliRunner().invoke(
        app, ["export", "--out", str(out)], env=_env(archive.smsarchive_data_dir)
    )
    assert result.exit_code == 1
    assert "error:" in result.output
    assert not victim.exists()  # not created through the link


def test_out_given_with_a_tilde_is_under_home(
    archive: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `--out=~/lake`: the shell expands no `~` after `=`
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    env = _env(archive.smsarchive_data_dir)
    result = CliRunner().invoke(app, ["export", "--out=~/lake"], env=env)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "home" / "lake" / "_manifest.json").is_file()
    assert not (tmp_path / "~").exists()


def test_a_refused_write_names_the_folder_and_another_failure_its_file(tmp_path: Path) -> None:
    from flows.export_command import _what_failed

    out = tmp_path / "lake"
    refused = PermissionError(errno.EACCES, "Permission denied", str(out / ".export.lock"))
    assert _what_failed(refused, out) == "Permission denied"  # said of the folder, by the caller
    planted = IsADirectoryError(errno.EISDIR, "Is a directory", str(out / ".export.lock"))
    assert _what_failed(planted, out) == f"Is a directory: {out / '.export.lock'}"
    elsewhere = PermissionError(errno.EACCES, "Permission denied", "/var/tmp/duckdb")
    assert _what_failed(elsewhere, out) == "Permission denied: /var/tmp/duckdb"


def test_a_lock_file_that_is_a_folder_is_said_without_an_errno(
    archive: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "lake"
    (out / ".export.lock").mkdir(parents=True)
    result = CliRunner().invoke(
        app, ["export", "--out", str(out)], env=_env(archive.smsarchive_data_dir)
    )
    assert result.exit_code == 1
    said = " ".join(result.output.split())
    assert f"error: could not write the export into {out}: Is a directory: " in said
    assert "[Errno" not in said
