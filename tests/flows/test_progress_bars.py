"""Progress bars on a terminal: a backfill's stages drawn as bars, its log lines above them."""

from __future__ import annotations

import errno
import io
import os
import re
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from extract.voipms.sandbox.server import SandboxServer
from flows.progress import BAR_WIDTH, progress_bars
from tests.flows.conftest import SMSARCHIVE, sandbox_env, without_our_settings

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _on_a_terminal(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    """`smsarchive ARGS` (or any command, given whole) with its stderr on a pseudo-terminal:
    exit code, stdout, and what the terminal was sent, ANSI escapes taken out and carriage
    returns made line ends."""
    main, side = os.openpty()
    try:
        child = subprocess.Popen(
            args if args[0].startswith("/") else [SMSARCHIVE, *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=side,
            text=True,
        )
    finally:
        os.close(side)
    sent = bytearray()
    try:
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError as exc:  # every end of the terminal's other side is closed
                if exc.errno != errno.EIO:
                    raise
                break
            if not chunk:
                break
            sent += chunk
    finally:
        os.close(main)
    assert child.stdout is not None
    with child.stdout:  # a few lines of summary: it cannot fill the pipe meanwhile
        out = child.stdout.read()
    code = child.wait(timeout=120)
    screen = ANSI.sub("", sent.decode("utf-8", "replace")).replace("\r", "\n")
    return code, out, screen


def test_a_backfill_on_a_terminal_draws_bars_and_keeps_its_log_lines_whole(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    env = {
        **without_our_settings(),
        **sandbox_env(sandbox, data_dir),
        "PREFECT_API_URL": "",  # a plain run: bars do not need Prefect
        "TERM": "xterm-256color",
        "COLUMNS": "120",
    }
    code, out, screen = _on_a_terminal(
        ["backfill", "--start", "2024-01-01", "--end", "2024-06-30"], env, tmp_path
    )
    assert code == 0, screen
    assert "archived" in out  # the summary, on stdout as ever
    lines = [line.strip() for line in screen.splitlines() if line.strip()]
    # two windows and the media stage, each drawn as a bar that reaches its end
    assert any(re.fullmatch(r"windows\s+━+\s+2/2\s+.*", line) for line in lines), screen
    media = [m for line in lines if (m := re.fullmatch(r"media\s+━+\s+(\d+)/(\d+)\s+.*", line))]
    assert media, screen
    assert media[-1].group(1) == media[-1].group(2) != "0", screen
    # bars instead of the progress lines a pipe gets; each window still named as it is done
    assert not any(re.search(r"INFO\s+media: \d+/\d+", line) for line in lines), screen
    assert any(re.search(r"INFO\s+windows: 2/2 \(2024-", line) for line in lines), screen
    # every log line starts a line of its own and is not cut by a bar
    logged = [line for line in lines if re.match(r"\d\d:\d\d:\d\d (INFO|WARNING)\s", line)]
    assert logged, screen
    assert not any("━" in line for line in logged), screen
    assert any("window" in line for line in logged), screen


def test_a_backfill_into_a_pipe_logs_its_progress_as_lines(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    env = {**without_our_settings(), **sandbox_env(sandbox, data_dir), "PREFECT_API_URL": ""}
    done = subprocess.run(
        [SMSARCHIVE, "backfill", "--start", "2024-01-01", "--end", "2024-06-30"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert re.search(r"INFO\s+windows: 2/2", done.stderr), done.stderr
    assert re.search(r"INFO\s+media: (\d+)/\1\n", done.stderr), done.stderr
    assert "━" not in done.stderr


def _backfill_env(sandbox: SandboxServer, data_dir: Path, **more: str) -> dict[str, str]:
    return {
        **without_our_settings(),
        **sandbox_env(sandbox, data_dir),
        "PREFECT_API_URL": "",
        "TERM": "xterm-256color",
        "COLUMNS": "120",
        **more,
    }


def test_a_stage_with_nothing_to_do_draws_no_bar(sandbox: SandboxServer, tmp_path: Path) -> None:
    env = _backfill_env(sandbox, tmp_path / "data")
    backfill = ["backfill", "--start", "2024-01-01", "--end", "2024-03-31"]
    assert _on_a_terminal(backfill, env, tmp_path)[0] == 0
    code, _, screen = _on_a_terminal(backfill, env, tmp_path)  # every window archived
    assert code == 0, screen
    assert "already archived" in screen
    assert "0/0" not in screen  # a bar of nothing would count its time for as long as it ran


def test_a_terminal_rich_cannot_animate_gets_the_progress_lines(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    env = _backfill_env(sandbox, tmp_path / "data", TERM="dumb")
    code, _, screen = _on_a_terminal(
        ["backfill", "--start", "2024-01-01", "--end", "2024-06-30"], env, tmp_path
    )
    assert code == 0, screen
    # a dumb terminal would show bars only once, at the end: lines instead, as in a pipe
    assert re.search(r"INFO\s+media: (\d+)/\1\n", screen), screen
    assert "━" not in screen


PREFECT_WARNS_WHILE_BARS_ARE_DRAWN = """
import logging, time
from flows.logging_setup import configure_logging
configure_logging(verbose=False)
from flows.progress import Reporter
reporter = Reporter()
assert reporter.bars
with reporter.running():
    tracker = reporter.stage("windows", 2)
    import prefect.main  # a run through Prefect loads it here, inside the bars
    time.sleep(0.3)
    tracker.advance()
    logging.getLogger("some.library").warning("a library's warning")
    time.sleep(0.3)
    tracker.advance()
"""


def test_prefects_console_lines_print_above_the_bars(tmp_path: Path) -> None:
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120"}
    env.pop("PREFECT_LOGGING_SETTINGS_PATH", None)  # the quiet config, as the CLI sets it
    code, _, screen = _on_a_terminal(
        [sys.executable, "-c", PREFECT_WARNS_WHILE_BARS_ARE_DRAWN], env, tmp_path
    )
    assert code == 0, screen
    # Prefect's root handler writes the line: on a line of its own, not after a bar
    assert re.search(
        r"^[0-9:.]+ \| WARNING \| some\.library - a library's warning$", screen, re.M
    ), screen


A_LONG_LINE_WHILE_BARS_ARE_DRAWN = """
import logging, time
from flows.logging_setup import configure_logging
configure_logging(verbose=False)
from flows.progress import Reporter
reporter = Reporter()
with reporter.running():
    tracker = reporter.stage("windows", 2)
    tracker.advance()
    logging.getLogger("smsarchive").info("archived into /" + "a-long-folder/" * 8 + "x.duckdb")
    time.sleep(0.2)
    tracker.advance()
"""


def test_a_long_log_line_above_the_bars_is_not_broken_into_lines(tmp_path: Path) -> None:
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "60"}
    code, _, screen = _on_a_terminal(
        [sys.executable, "-c", A_LONG_LINE_WHILE_BARS_ARE_DRAWN], env, tmp_path
    )
    assert code == 0, screen
    # the terminal wraps it: a path copied from it is whole
    assert "INFO    archived into /" + "a-long-folder/" * 8 + "x.duckdb\n" in screen, screen


A_PRINT_WHILE_BARS_ARE_DRAWN = """
import time
from flows.progress import Reporter
reporter = Reporter()
with reporter.running():
    tracker = reporter.stage("windows", 2)
    tracker.advance()
    print("a line for stdout")
    time.sleep(0.2)
    tracker.advance()
"""


def test_a_print_while_bars_are_drawn_stays_in_the_file_stdout_was_sent_to(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120"}
    code, out, screen = _on_a_terminal(
        [sys.executable, "-c", A_PRINT_WHILE_BARS_ARE_DRAWN], env, tmp_path
    )
    assert code == 0, screen
    assert "windows" in screen, screen  # the bars were drawn
    assert out == "a line for stdout\n"
    assert "a line for stdout" not in screen


def test_on_a_narrow_terminal_the_bar_gives_way_and_the_counts_are_whole() -> None:
    for width in (40, 50, 60, 80, 120):
        drawn = io.StringIO()
        console = Console(file=drawn, width=width, force_terminal=True, color_system=None)
        bars = progress_bars(console)
        bars.update(bars.add_task("media", total=140_000), completed=12_345)
        bars.update(bars.add_task("windows", total=89), completed=3)
        console.print(bars.get_renderable())
        lines = drawn.getvalue().splitlines()
        assert "…" not in drawn.getvalue(), (width, lines)
        assert "12345/140000" in lines[0], (width, lines)
        assert "3/89" in lines[1], (width, lines)
        assert all(len(line) <= width for line in lines), (width, lines)
        if width >= 80:  # room enough: rich's own bar, 40 wide
            assert lines[0].index("12345") > len("media   ") + BAR_WIDTH, lines
