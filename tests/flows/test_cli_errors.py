"""The CLI's failures a person can act on end in one line on stderr and a non-zero exit."""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
import typer
from prefect.settings import PREFECT_API_URL
from typer.testing import CliRunner, Result

from extract.voipms.errors import error_for_status
from extract.voipms.sandbox.faults import FaultConfig
from extract.voipms.sandbox.server import SandboxServer
from flows import sandbox_command
from flows.cli import app, friendly_errors
from tests.conftest import SANDBOX_PASSWORD
from tests.flows.conftest import SMSARCHIVE, sandbox_env, wait_while_running, without_our_settings
from warehouse import open_warehouse


def _smsarchive(
    args: tuple[str, ...], *, cwd: Path | str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`smsarchive ARGS` with `env` as its only settings (none of ours inherited)."""
    return subprocess.run(
        [SMSARCHIVE, *args],
        cwd=cwd,
        env={**without_our_settings(), **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    prefect = {"PREFECT_API_URL": str(PREFECT_API_URL.value())}
    # run in the data dir: no stray .env is read
    return _smsarchive(args, cwd=env["SMSARCHIVE_DATA_DIR"], env={**prefect, **env}, timeout=180)


def _login_env(data_dir: Path, **more: str) -> dict[str, str]:
    """Settings of a data dir and a login, `more` beside them (for commands that stop before
    any call to the API)."""
    return {
        "SMSARCHIVE_DATA_DIR": str(data_dir),
        "VOIPMS_API_USERNAME": "me@example.com",
        "VOIPMS_API_PASSWORD": "pw",
        **more,
    }


def _error_lines(stderr: str) -> list[str]:
    assert "Traceback" not in stderr, stderr
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def _backfill(data_dir: Path, *days: str) -> Result:
    """`smsarchive backfill --start D [--end D]` in this process."""
    days_given = ["--start", days[0], *(["--end", days[1]] if len(days) > 1 else [])]
    return CliRunner().invoke(
        app, ["backfill", *days_given], env={"SMSARCHIVE_DATA_DIR": str(data_dir)}
    )


def test_start_after_end_is_refused(tmp_path: Path) -> None:
    result = _backfill(tmp_path, "2024-03-01", "2024-02-01")
    assert result.exit_code == 2
    assert "--start 2024-03-01 is after --end 2024-02-01" in result.output


def test_a_start_after_today_names_today_not_an_end_never_given(tmp_path: Path) -> None:
    result = _backfill(tmp_path, "2099-01-01")
    assert result.exit_code == 2
    assert "--start 2099-01-01 is after today (" in result.output
    assert "--end" not in result.output


def test_a_start_before_voipms_existed_is_refused(tmp_path: Path) -> None:
    result = _backfill(tmp_path, "0224-01-01", "2024-01-31")
    assert result.exit_code == 2
    assert "--start 0224-01-01 is before 2000-01-01" in result.output
    assert not (tmp_path / "archive.duckdb").exists()


def test_an_end_after_today_is_refused(tmp_path: Path) -> None:
    """Days not over yet would be marked archived, and later syncs would start after them."""
    tomorrow = (datetime.now(ZoneInfo("America/New_York")) + timedelta(days=1)).date()
    result = _backfill(tmp_path, "2024-03-01", tomorrow.isoformat())
    assert result.exit_code == 2
    assert f"--end {tomorrow} is after today" in result.output
    assert not (tmp_path / "archive.duckdb").exists()


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


def test_the_apis_request_cap_says_which_settings_stay_under_it(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    sandbox.set_faults(FaultConfig(api_limit=1.0))  # every call over the cap
    try:
        env = {**sandbox_env(sandbox, tmp_path / "data"), "VOIPMS_MAX_ATTEMPTS": "1"}
        result = _plain(env, "backfill", "--start", "2024-01-01", "--end", "2024-01-31")
    finally:
        sandbox.set_faults(FaultConfig())
    assert result.returncode == 1
    [line] = _error_lines(result.stderr)
    assert "api_limit_exceeded: the API's per-minute request cap was reached" in line
    assert line.endswith(
        "nothing is lost, rerun to continue, or lower VOIPMS_REQUESTS_PER_MINUTE (calls a "
        "minute) or VOIPMS_MAX_CONCURRENCY (calls at once) to stay under it"
    )


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
    assert result.returncode == 2  # a setting to make, as every other
    [line] = _error_lines(result.stderr)
    assert "VOIPMS_API_USERNAME" in line
    assert "VOIPMS_API_PASSWORD" in line


def _bare(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`smsarchive ARGS` as a person types it, with no settings at all."""
    return _smsarchive(args, cwd=cwd, env={"COLUMNS": "60"})


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["backfill", "--start", "2024-13-01"], "'2024-13-01' is no day of the calendar"),
        (["backfill", "--start", "2024-02-30"], "'2024-02-30' is no day of the calendar"),
        (["backfill", "--start", "2024-1-5"], "'2024-1-5' is not a day written YYYY-MM-DD"),
        (["report", "--start", "2024-W01-1"], "'2024-W01-1' is not a day written YYYY-MM-DD"),
        (["report", "--end", "20240101"], "'20240101' is not a day written YYYY-MM-DD"),
        (["backfill", "--strat", "2024-01-01"], "No such option: --strat"),
        (["sandbox", "--start", "2024-02-01", "--end", "2024-01-01"], "end must not be before"),
        (["sandbox", "--port", "99999"], "less than or equal to 65535"),
        (["report", "--did", "abc"], "--did takes a phone number"),
    ],
)
def test_a_command_line_it_cannot_take_is_one_error_line(
    args: list[str], says: str, tmp_path: Path
) -> None:
    result = _bare(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert _error_lines(result.stderr) == result.stderr.splitlines(), result.stderr
    (line,) = _error_lines(result.stderr)
    assert says in line


def _catches_sigterm(pid: int) -> bool:
    """Whether the process has a handler of its own for SIGTERM (/proc's SigCgt mask)."""
    status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    (mask,) = [line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:")]
    return bool(int(mask, 16) & (1 << (signal.SIGTERM - 1)))


def test_sigterm_while_the_sandbox_is_still_generating_is_a_quiet_stop(tmp_path: Path) -> None:
    server = subprocess.Popen(
        [SMSARCHIVE, "sandbox", "--port", "0", "--messages", "5000000"],
        cwd=tmp_path,
        env=without_our_settings(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # its handler is in: it is generating
        wait_while_running(server, lambda: _catches_sigterm(server.pid), within_s=60, every_s=0.02)
        server.terminate()
        _, said = server.communicate(timeout=60)
    finally:
        server.kill()
    assert server.returncode == 0, said
    assert "Traceback" not in said
    assert "export VOIPMS_API_URL" not in said  # it never came to serve


def test_the_sandbox_export_line_pastes_whole_in_a_narrow_terminal(tmp_path: Path) -> None:
    """Printed on one line however narrow the terminal; pasted, it exports all four."""
    server = subprocess.Popen(
        [SMSARCHIVE, "sandbox", "--port", "0", "--messages", "20"],
        cwd=tmp_path,
        env={**without_our_settings(), "COLUMNS": "40"},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        lines = []
        for line in server.stderr:
            lines.append(line)
            if line.startswith("Ctrl-C"):
                break
    finally:
        server.terminate()  # SIGTERM, as a service manager stops it: a normal stop
        code = server.wait(timeout=30)
        if server.stderr is not None:
            server.stderr.close()
    assert code == 0
    (export,) = [line.strip() for line in lines if line.strip().startswith("export ")]
    shell = subprocess.run(
        ["bash", "-c", f"{export}; env"], env={}, capture_output=True, text=True, check=True
    )
    exported = dict(line.split("=", 1) for line in shell.stdout.splitlines() if "=" in line)
    assert exported["VOIPMS_API_URL"].startswith("http://127.0.0.1:")
    assert exported["VOIPMS_API_USERNAME"] == sandbox_command.SANDBOX_USERNAME
    assert exported["VOIPMS_API_PASSWORD"] == sandbox_command.SANDBOX_PASSWORD
    assert exported["VOIPMS_MEDIA_HOSTS"].startswith("127.0.0.1")


def test_a_sandbox_on_a_port_in_use_is_one_error_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _bare("sandbox", "--port", str(port), "--messages", "20", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert _error_lines(result.stderr) == result.stderr.splitlines(), result.stderr
    (line,) = _error_lines(result.stderr)
    assert f"cannot listen on port {port}" in line


def _plain(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`smsarchive ARGS` with these settings alone, as a plain run (no Prefect)."""
    cwd = Path(env["SMSARCHIVE_DATA_DIR"]).parent
    return _smsarchive(args, cwd=cwd, env={"PREFECT_API_URL": "", **env})


def test_a_damaged_archive_is_one_error_line_for_every_command(tmp_path: Path) -> None:
    archive = tmp_path / "archive.duckdb"
    open_warehouse(archive).close()
    with archive.open("r+b") as file:
        file.truncate(100_000)  # its blocks end before the file says they do
    env = _login_env(tmp_path)
    for command in (["status"], ["report"], ["export"], ["sync"]):
        result = _plain(env, *command)
        assert result.returncode == 1, (command, result.stderr)
        (line,) = _error_lines(result.stderr)
        assert f"the archive {archive} cannot be opened" in line, command
        assert "restore it from a backup" in line


def _archive_of_many_messages(archive: Path) -> None:
    """An archive of 200,000 messages, written to its file (blocks of data to damage)."""
    con = open_warehouse(archive)
    con.execute(
        "INSERT INTO messages (provider, account, kind, message_id, direction, sent_at, "
        "sent_at_local, body, body_raw, body_source, carrier_status, status, segments, "
        "encoding, media_count, first_seen_at, last_seen_at) "
        "SELECT 'voipms', 'me@example.com', 'sms', CAST(i AS VARCHAR), 'inbound', "
        "TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_seconds(i), '', md5(CAST(i AS VARCHAR)), "
        "'', 'getSMS', '', 'received', 1, 'gsm7', 0, now(), now() FROM range(200000) r(i)"
    )
    con.execute("CHECKPOINT")
    con.close()


@pytest.mark.parametrize(
    ("damage", "said"),
    [("a block", "Corrupt database file"), ("cut short", "IO Error: Could not read enough")],
)
def test_an_archive_damaged_inside_or_cut_short_is_one_error_line(
    tmp_path: Path, damage: str, said: str
) -> None:
    archive = tmp_path / "archive.duckdb"
    _archive_of_many_messages(archive)
    size = archive.stat().st_size
    if damage == "a block":  # the file opens; a block fails its checksum once it is read
        with archive.open("r+b") as file:  # the headers and the metadata at the end are spared
            file.seek(size // 5)
            file.write(os.urandom(size * 3 // 5))
    else:  # a copy that stopped midway, a disk that lost the file's end
        os.truncate(archive, size // 2)
    env = _login_env(tmp_path)
    for command in (["status"], ["report"], ["export", "--out", str(tmp_path / "out")]):
        result = _plain(env, *command)
        assert result.returncode == 1, (command, result.stderr)
        (line,) = _error_lines(result.stderr)
        assert f"the archive {archive} is damaged ({said}" in line, command
        assert "restore it from a backup" in line


def test_a_damaged_log_of_a_stopped_run_is_one_error_line_saying_what_to_move(
    tmp_path: Path,
) -> None:
    archive = tmp_path / "archive.duckdb"
    open_warehouse(archive).close()
    con = open_warehouse(archive)  # a run stopped before it finished leaves its log
    con.execute("PRAGMA disable_checkpoint_on_shutdown")
    con.execute("SET checkpoint_threshold = '1TB'")
    con.execute(
        "INSERT INTO provider_notices (provider, account, kind, subject, first_seen_at, "
        "last_seen_at) SELECT 'voipms', 'me@example.com', 'unknown_field', 'f' || i, now(), "
        "now() FROM range(20000) r(i)"
    )
    con.close()
    log = Path(f"{archive}.wal")
    size = log.stat().st_size
    with log.open("r+b") as file:  # a few bytes may land where no checksum covers them
        file.seek(size // 4)
        file.write(b"\xaa" * (size // 2))
    env = _login_env(tmp_path)
    for command in (["status"], ["report"], ["export", "--out", str(tmp_path / "out")], ["sync"]):
        result = _plain(env, *command)
        assert result.returncode == 1, (command, result.stderr)
        (line,) = _error_lines(result.stderr)
        assert f"the archive's log {log}, left by a run that was stopped" in line, command
        assert "Corrupt WAL file" in line
        assert "move it aside" in line


def test_an_archive_gone_from_beside_its_landed_answers_is_said_lost(tmp_path: Path) -> None:
    window = tmp_path / "landing" / "voipms" / "me_example.com" / "2024-01-01_2024-04-01"
    window.mkdir(parents=True)
    for method in ("getSMS", "getMMS"):
        (window / f"{method}.20240402T000000000000Z.json").write_text("[]")
    env = _login_env(tmp_path)
    for command in (["status"], ["report"], ["export"]):
        result = _plain(env, *command)
        assert result.returncode == 1, (command, result.stderr)
        (line,) = _error_lines(result.stderr)
        assert f"there is no archive at {tmp_path / 'archive.duckdb'}, but" in line, command
        assert "holds 2 answers earlier runs landed: the archive was lost or moved" in line
        assert "`smsarchive replay`" in line
    assert not (tmp_path / "archive.duckdb").exists()


def test_a_full_disk_without_a_file_name_names_the_data_dir_and_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tmp_path / "data" / "archive.duckdb"
    with pytest.raises(typer.Exit) as stopped, friendly_errors(archive=archive):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert stopped.value.exit_code == 1
    (line,) = _error_lines(capsys.readouterr().err)
    assert line == (
        f"error: the disk of {archive.parent} is full (No space left on device): free some "
        "space: nothing archived is lost, the next run goes on"
    )
    # a command writing elsewhere (report --out) names that folder's disk
    usb = tmp_path / "usb" / "reports"
    with pytest.raises(typer.Exit), friendly_errors(archive=archive, writes=usb):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    (line,) = _error_lines(capsys.readouterr().err)
    assert line.startswith(f"error: the disk of {usb} is full")


def test_a_data_dir_that_is_a_file_is_one_error_line(tmp_path: Path) -> None:
    in_the_way = tmp_path / "data"
    in_the_way.write_text("not a folder")
    env = _login_env(in_the_way)
    # every command alike: none advises a backfill into it
    for command in (["backfill", "--start", "2024-01-01", "--end", "2024-01-02"], ["status"],
                    ["report"], ["export"], ["replay"]):  # fmt: skip
        shown = _plain(env, *command)
        assert shown.returncode == 1, shown.stderr
        assert _error_lines(shown.stderr) == [
            f"error: SMSARCHIVE_DATA_DIR {in_the_way} is a file, not a folder"
        ], command


def _exit_code_when_signalled_in_a_query(signum: int) -> int:
    """The exit code friendly_errors gives when `signum` arrives while DuckDB runs a query:
    DuckDB takes the signal's exception itself and raises its own error instead."""
    con = duckdb.connect()
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signum))
    timer.start()
    try:
        with pytest.raises(typer.Exit) as stopped, friendly_errors():
            # long enough to be interrupted (a second or more), short should a signal be missed
            con.execute("SELECT count(*) FROM range(3000000000) t(i) WHERE i % 7 = 3").fetchall()
    finally:
        timer.cancel()
        con.close()
    return int(stopped.value.exit_code)


def test_ctrl_c_while_duckdb_runs_a_query_is_the_interrupted_line() -> None:
    assert _exit_code_when_signalled_in_a_query(signal.SIGINT) == 130


def test_sigterm_while_duckdb_runs_a_query_is_the_sigterm_line_not_ctrl_c() -> None:
    # DuckDB's plain 'Query interrupted' after SIGTERM
    assert _exit_code_when_signalled_in_a_query(signal.SIGTERM) == 143
    # the next command in this process starts afresh: its Ctrl-C is a Ctrl-C
    assert _exit_code_when_signalled_in_a_query(signal.SIGINT) == 130


@pytest.mark.parametrize(
    ("setting", "value", "command", "says"),
    [
        ("VOIPMS_API_URL", "notaurl", "sync", "VOIPMS_API_URL: must be an http(s) URL"),
        ("VOIPMS_API_URL", "ftp://me:s3cret@voip.ms/x", "sync", "not 'ftp://voip.ms/x'"),
        ("SMSARCHIVE_SCHEDULE_CRON", "61 * * *", "serve", "not a cron schedule of five fields"),
        # Prefect would read a sixth field as seconds: 03:00 a day, to Quartz; not to cron
        ("SMSARCHIVE_SCHEDULE_CRON", "0 0 3 * * *", "serve", "not a cron schedule of five"),
        ("SMSARCHIVE_SCHEDULE_CRON", "0 3 30 2 *", "serve", "'0 3 30 2 *' never comes due"),
        ("SMSARCHIVE_SYNC_LOOKBACK_DAYS", "1000000", "sync", "SMSARCHIVE_SYNC_LOOKBACK_DAYS"),
        # refused before any call, not once the whole fetch is done and media are due
        ("VOIPMS_MEDIA_HOSTS", "voip.ms:abc", "sync", "bad port in media host entry"),
        ("VOIPMS_MEDIA_HOSTS", "voip.ms, https://x", "sync", "write host or host:port"),
        ("SMSARCHIVE_DUCKDB_MEMORY_LIMIT", "1MB", "sync", "64MB at least"),
        ("VOIPMS_TIMEOUT_SECONDS", "inf", "sync", "should be a finite number"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it(
    setting: str, value: str, command: str, says: str, tmp_path: Path
) -> None:
    env = {
        "SMSARCHIVE_DATA_DIR": str(tmp_path / "data"),
        "VOIPMS_API_USERNAME": "me@example.com",
        "VOIPMS_API_PASSWORD": "pw",
        setting: value,
    }
    result = _plain(env, command)
    assert result.returncode == 2, result.stderr
    (line,) = _error_lines(result.stderr)
    assert f"bad setting: {setting}: " in line
    assert says in line
    assert "Value error" not in line
    assert "s3cret" not in result.stderr


def test_duckdb_failing_to_write_its_file_is_one_line_and_a_bug_is_not_hidden(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SMSARCHIVE_DATA_DIR", str(tmp_path))
    full = duckdb.IOException("Could not write file: No space left on device")
    with pytest.raises(typer.Exit) as stopped, friendly_errors():
        raise full
    assert stopped.value.exit_code == 1
    (line,) = _error_lines(capsys.readouterr().err)
    assert line == (
        f"error: DuckDB could not read or write a file ({full}) (free some space: nothing "
        "archived is lost, the next run goes on)"
    )
    # a commit that could not write its log comes as a TransactionException
    commit = duckdb.TransactionException(
        'Failed to commit: Could not write file "/d/archive.duckdb.wal": No space left on device'
    )
    with pytest.raises(typer.Exit), friendly_errors():
        raise commit
    (line,) = _error_lines(capsys.readouterr().err)
    assert line.startswith(f"error: DuckDB could not read or write a file ({commit}) (free")
    with pytest.raises(duckdb.BinderException), friendly_errors():
        duckdb.connect().execute("SELECT no_such_column")


def test_a_prefect_server_that_does_not_answer_is_one_error_line(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/api"
    open_warehouse(tmp_path / "archive.duckdb").close()
    behind_a_login = f"http://me:hunter2@127.0.0.1:{port}/api"
    env = {
        "SMSARCHIVE_DATA_DIR": str(tmp_path),
        "VOIPMS_API_USERNAME": "me@example.com",
        "VOIPMS_API_PASSWORD": "pw",
        "PREFECT_API_URL": url,
    }
    runs = [
        (["sync"], url),
        (["export", "--out", str(tmp_path / "o")], url),
        (["export", "--out", str(tmp_path / "p")], behind_a_login),
    ]
    for command, api in runs:
        result = _smsarchive(
            tuple(command), cwd=tmp_path, env={**env, "PREFECT_API_URL": api}, timeout=120
        )
        assert result.returncode == 1, (command, result.stderr)
        (line,) = _error_lines(result.stderr)
        assert f"the Prefect server at PREFECT_API_URL={url} does not answer" in line, command
        assert "unset PREFECT_API_URL" in line
        assert "hunter2" not in result.stderr


def test_an_error_line_never_shows_the_configured_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from warehouse import WarehouseError

    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("VOIPMS_API_PASSWORD", "pa ss+wörd")
    with pytest.raises(typer.Exit), friendly_errors():
        raise WarehouseError("the provider said: pa ss+wörd, also pa+ss%2Bw%C3%B6rd")
    (line,) = _error_lines(capsys.readouterr().err)
    assert "ss+w" not in line
    assert "ss%2B" not in line


def test_a_password_that_is_a_word_of_our_hints_leaves_them_whole(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # blanked out of "the API user name", it would garble the line and show where it was
    monkeypatch.setenv("VOIPMS_API_PASSWORD", "API")
    refused = error_for_status("invalid_credentials", "getSMS")
    with pytest.raises(typer.Exit), friendly_errors():
        raise refused
    (line,) = _error_lines(capsys.readouterr().err)
    assert line == f"error: {refused}"
    assert "the API user name or API password is wrong" in line
    # the API's own words are still blanked, even run into a hint of ours
    echoed = error_for_status("bad_request API", "getSMS")
    with pytest.raises(typer.Exit), friendly_errors():
        raise echoed
    (line,) = _error_lines(capsys.readouterr().err)
    assert line.startswith("error: VoIP.ms getSMS: bad_request **********: the API answered")


def test_an_error_line_quoting_the_providers_data_sends_no_control_to_the_terminal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from flows.cli import fail

    with pytest.raises(typer.Exit):
        fail("no message on DID \x1b]0;PWNED\x07\x1b[2J")  # a DID as a hostile API sent it
    err = capsys.readouterr().err
    assert "\x1b" not in err
    assert "\x07" not in err
    assert "DID \\x1b]0;PWNED\\x07\\x1b[2J" in err


def test_sigterm_while_duckdb_reads_a_frame_is_the_sigterm_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import pyarrow as pa

    from flows.interruptions import Terminated

    def batches() -> Iterator[pa.RecordBatch]:
        yield pa.record_batch([pa.array([1])], names=["a"])
        raise Terminated  # as SIGTERM's handler raises it while DuckDB reads the frame

    frame = pa.RecordBatchReader.from_batches(pa.schema([("a", pa.int64())]), batches())
    con = duckdb.connect()
    con.register("frame", frame)
    try:
        with pytest.raises(typer.Exit) as stopped, friendly_errors():
            # DuckDB wraps it in its own error, naming Terminated inside
            con.execute("SELECT count(*) FROM frame").fetchall()
    finally:
        con.close()
    assert stopped.value.exit_code == 143
    assert _error_lines(capsys.readouterr().err) == [
        "error: stopped by SIGTERM; nothing is lost, rerun to continue"
    ]


def test_a_database_closed_by_a_full_disk_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tmp_path / "data" / "archive.duckdb"
    fatal = duckdb.FatalException(
        "FATAL Error: Failed: database has been invalidated because of a previous fatal error."
        '\nOriginal error: "Could not write file "/d/archive.duckdb.wal": No space left on device"'
    )
    with pytest.raises(typer.Exit) as stopped, friendly_errors(archive=archive):
        raise fatal
    assert stopped.value.exit_code == 1
    (line,) = _error_lines(capsys.readouterr().err)
    assert line.startswith(f"error: the disk of {archive.parent} is full (DuckDB: FATAL")
    assert line.endswith("free some space: nothing archived is lost, the next run goes on")


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (
            # python-dotenv warns and goes on without it: the archive would go to ./data
            "SMSARCHIVE_DATA_DIR='/srv/Bob's texts'\n",
            "line 1 (SMSARCHIVE_DATA_DIR) cannot be read: quote a value holding spaces",
        ),
        (
            "VOIPMS_API_USERNAME=me@example.com\nexport VOIPMS_API_PASSWORD = 'hunter2'x'\n",
            "line 2 (VOIPMS_API_PASSWORD) cannot be read",
        ),
        (b"SMSARCHIVE_DATA_DIR=/srv/caf\xe9\n", "is not UTF-8 text"),
        (None, "cannot be read: Is a directory"),  # a folder in its place
    ],
)
def test_a_dot_env_that_cannot_be_read_is_one_error_line_without_its_values(
    tmp_path: Path, content: str | bytes | None, said: str
) -> None:
    dot_env = tmp_path / ".env"
    if content is None:
        dot_env.mkdir()
    elif isinstance(content, bytes):
        dot_env.write_bytes(content)
    else:
        dot_env.write_text(content)
    shown = _smsarchive(("status",), cwd=tmp_path, env={"PREFECT_API_URL": ""})
    assert shown.returncode == 2, shown.stderr
    [line] = _error_lines(shown.stderr)
    assert line.startswith(f"error: bad setting: {dot_env}"), line
    assert said in line
    assert "hunter2" not in shown.stderr
    assert "Bob" not in shown.stderr
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize("linked", ["data", "data/landing"])
def test_a_folder_linked_to_a_disk_not_mounted_is_one_error_line_asking_so(
    tmp_path: Path, linked: str
) -> None:
    data_dir = tmp_path / "data"
    gone = tmp_path / "usb" / linked.replace("/", "-")  # on a disk not mounted: nothing there
    if linked != "data":
        data_dir.mkdir()
    (tmp_path / linked).symlink_to(gone)
    never_reached = "http://127.0.0.1:9/api/v1/rest.php"
    env = _login_env(data_dir, VOIPMS_API_URL=never_reached)
    # every command alike: none says there is no archive yet, or advises a backfill
    for command in (["backfill", "--start", "2024-01-01", "--end", "2024-01-02"], ["sync"],
                    ["status"], ["report"], ["export"], ["replay"]):  # fmt: skip
        shown = _plain(env, *command)
        assert shown.returncode == 1, shown.stderr
        assert _error_lines(shown.stderr) == [
            f"error: cannot use {tmp_path / linked}: it is a link to {gone}, which is not "
            "there (is the disk that holds it mounted?)"
        ], command


@pytest.mark.parametrize(
    ("content", "env"),
    [
        ("OTHER_TOOL_TOKEN='it's'\nSMSARCHIVE_DATA_DIR=data\n", {}),  # another tool's line
        ("SMSARCHIVE_DATA_DIR='/srv/Bob's texts'\n", {"SMSARCHIVE_DATA_DIR": "data"}),
    ],
)
def test_a_dot_env_line_that_sets_nothing_of_ours_is_a_warning(
    tmp_path: Path, content: str, env: dict[str, str]
) -> None:
    (tmp_path / ".env").write_text(content)
    shown = _smsarchive(("status",), cwd=tmp_path, env={"PREFECT_API_URL": "", **env})
    assert f"warning: {tmp_path / '.env'} line 1 (" in shown.stderr
    assert "cannot be read, and is ignored" in shown.stderr
    assert "python-dotenv" not in shown.stderr  # its own word on the same line: said once
    assert _error_lines(shown.stderr) == [
        f"error: there is no archive at {Path('data') / 'archive.duckdb'} yet: run "
        "`smsarchive backfill` or `sync` first"
    ]
    assert "it's" not in shown.stderr
    assert "Bob" not in shown.stderr


def test_a_data_dir_on_a_disk_fstab_names_but_nothing_mounts_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    usb = tmp_path / "usb"
    usb.mkdir()  # an empty mount point: the disk is not connected
    fstab = tmp_path / "fstab"
    fstab.write_text(f"LABEL=usb {usb} exfat noauto,user 0 0\n")
    monkeypatch.setattr("warehouse.unmounted_disks.FSTAB", fstab)
    data_dir = usb / "texts"
    env = {**_login_env(data_dir), "VOIPMS_API_URL": "http://127.0.0.1:9/api/v1/rest.php"}
    for command in (["backfill", "--start", "2024-01-01", "--end", "2024-01-02"], ["sync"],
                    ["status"], ["report"], ["export"], ["replay"]):  # fmt: skip
        shown = CliRunner().invoke(app, command, env=env)
        assert shown.exit_code == 1, shown.output
        assert _error_lines(shown.stderr) == [
            f"error: cannot use {data_dir}: it is on {usb}, which {fstab} names as a mount "
            f"point, but nothing is mounted there (is the disk connected? `mount {usb}`)"
        ], command
    assert list(usb.iterdir()) == []  # nothing made on the disk below


@pytest.mark.parametrize("command", [["backfill", "--start", "2024-01-01"], ["serve"]])
def test_no_login_is_a_setting_to_make_for_every_command_that_calls_the_api(
    tmp_path: Path, command: list[str]
) -> None:
    env = {"SMSARCHIVE_DATA_DIR": str(tmp_path / "data"), "VOIPMS_API_PASSWORD": ""}
    shown = _plain(env, *command)
    assert shown.returncode == 2, shown.stderr
    [line] = _error_lines(shown.stderr)
    assert "VOIPMS_API_USERNAME and VOIPMS_API_PASSWORD" in line


def test_ctrl_c_while_the_command_line_loads_is_one_line(tmp_path: Path) -> None:
    # a terminal's Ctrl-C held down from the first moment: the first lands while polars,
    # DuckDB and httpx are imported, before any command's own handler is there
    env = {**without_our_settings(), "SMSARCHIVE_DATA_DIR": str(tmp_path / "data")}
    child = subprocess.Popen(
        [SMSARCHIVE, "status"], cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True
    )
    # once a compiled library of the command line is mapped, the interpreter has started
    # (its own SIGINT handler is in) and the command's imports are under way
    maps = Path(f"/proc/{child.pid}/maps")
    deadline = time.monotonic() + 60
    while not any(name in maps.read_text() for name in ("pydantic_core", "polars", "duckdb")):
        assert time.monotonic() < deadline
        time.sleep(0.005)
    while child.poll() is None:
        child.send_signal(signal.SIGINT)
        time.sleep(0.02)
    assert child.stderr is not None
    errors = child.stderr.read()
    child.stderr.close()
    assert errors == "error: interrupted while smsarchive started; nothing was done\n"
    assert child.returncode == 130
    assert not (tmp_path / "data").exists()


def test_a_refused_temp_folder_of_ours_is_said_of_the_folder_written_into(tmp_path: Path) -> None:
    from flows.cli import _os_error_line

    out = tmp_path / "reports"
    staging = out / ".report-abc123.writing"
    refused = PermissionError(errno.EACCES, "Permission denied", str(staging))
    assert _os_error_line(refused, out) == f"cannot write into {out}: Permission denied"
    # a file the person named, or another failure, keeps its own name
    theirs = PermissionError(errno.EACCES, "Permission denied", str(out / "report.html"))
    assert _os_error_line(theirs, out) == f"cannot use {out / 'report.html'}: Permission denied"
    full = OSError(errno.EIO, "Input/output error", str(staging))
    assert _os_error_line(full, out) == f"cannot use {staging}: Input/output error"
