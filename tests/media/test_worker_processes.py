"""Downloads spread over child processes: same results as threads, and children that stop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import psutil
import pytest

import extract
from extract.media import MediaItem, MediaResult, download_media, stored_path
from extract.media.worker_processes import (
    MediaWorkerError,
    WorkerSettings,
    _threads_each,
    child_command,
    processes_for,
    run_in_processes,
)
from tests.media import media_server as srv
from tests.media.media_server import MediaServer
from tests.media.samples import SAMPLES, png

UA = "smsarchive-tests/1"


@pytest.mark.parametrize(
    ("items", "concurrency", "cpus", "expected"),
    [
        (50_000, 8, 2, 2),  # one per CPU
        (50_000, 8, 16, 8),  # at most one per download in flight
        (1_500, 8, 2, 1),  # too few items to pay for a second process
        (2_000, 8, 2, 2),
        (50_000, 1, 2, 1),
        (0, 8, 2, 1),
    ],
)
def test_processes_for(items: int, concurrency: int, cpus: int, expected: int) -> None:
    assert processes_for(items, concurrency, cpus) == expected


@pytest.mark.parametrize(
    ("concurrency", "processes", "expected"),
    [(8, 2, [4, 4]), (8, 3, [3, 3, 2]), (3, 3, [1, 1, 1]), (5, 2, [3, 2])],
)
def test_threads_are_shared_out_evenly(
    concurrency: int, processes: int, expected: list[int]
) -> None:
    assert _threads_each(concurrency, processes) == expected


def _comparable(result: MediaResult[int]) -> tuple[object, ...]:
    return (result.key, result.state, result.sha256, result.size_bytes, result.content_type)


def test_children_import_ours_not_a_package_of_the_same_name_where_they_run(
    server: MediaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # smsarchive run from a project of the user's own that has an `extract` package
    project = tmp_path / "project"
    (project / "extract").mkdir(parents=True)
    (project / "extract" / "__init__.py").write_text('raise ImportError("the user project")\n')
    monkeypatch.chdir(project)
    urls = [server.add(srv.body(png() + bytes([n]))) for n in range(4)]
    items = [MediaItem(key=n, url=url) for n, url in enumerate(urls)]
    results = download_media(
        items,
        media_dir=tmp_path / "media",
        processes=2,
        allowed_hosts=[server.host],
        user_agent=UA,
        timeout=5.0,
    )
    assert [r.state for r in results] == ["stored"] * 4


def test_processes_give_what_threads_give(server: MediaServer, tmp_path: Path) -> None:
    urls = [server.add(srv.body(data)) for data, _ in SAMPLES.values()]
    urls += [server.add(srv.body(b"Not found")), "http://elsewhere.example/x.png"]
    urls += [server.add(srv.body(png() + bytes([n]))) for n in range(20)]
    items = [MediaItem(key=n, url=url) for n, url in enumerate(urls)]
    seen: list[tuple[int, str]] = []

    def on_result(result: MediaResult[int]) -> None:
        seen.append((result.key, threading.current_thread().name))

    options = {"allowed_hosts": [server.host], "user_agent": UA, "timeout": 5.0}
    by_threads = download_media(items, media_dir=tmp_path / "t", processes=1, **options)
    by_processes = download_media(
        items, media_dir=tmp_path / "p", processes=3, on_result=on_result, **options
    )

    assert [_comparable(r) for r in by_processes] == [_comparable(r) for r in by_threads]
    assert {r.state for r in by_processes} == {"stored", "expired", "failed"}
    assert sorted(key for key, _ in seen) == list(range(len(urls)))
    assert {name for _, name in seen} == {threading.current_thread().name}
    assert [r.url for r in by_processes] == urls
    for result in by_processes:
        if result.sha256 is not None:
            assert stored_path(tmp_path / "p", result.sha256).is_file()
    assert {r.attempts for r in by_processes if r.url.startswith("http://elsewhere")} == {0}


def _settings(server: MediaServer, media_dir: Path, **changes: object) -> WorkerSettings:
    settings = WorkerSettings(
        media_dir=str(media_dir),
        allowed_hosts=[server.host],
        user_agent=UA,
        max_bytes=10**6,
        concurrency=2,
        timeout=5.0,
        attempt_timeout=None,
        max_attempts=2,
        backoff=0.01,
        backoff_max=0.05,
        durable=False,
    )
    return replace(settings, **changes)  # type: ignore[arg-type]


def test_a_failing_child_is_reported(server: MediaServer, tmp_path: Path) -> None:
    items = [MediaItem(key=n, url=server.add(srv.body(png()))) for n in range(4)]
    finished: list[int] = []
    broken = _settings(server, tmp_path, allowed_hosts=["no such host/"])
    with pytest.raises(MediaWorkerError, match="bad media host entry"):
        run_in_processes(items, broken, 2, lambda index, _: finished.append(index))
    assert finished == []


def test_a_child_stops_when_its_parent_goes(server: MediaServer, tmp_path: Path) -> None:
    urls = [server.add(srv.slow(0.05, png() + bytes([n % 256, n // 256]))) for n in range(400)]
    child = subprocess.Popen(
        [sys.executable, "-m", "extract.media.download_worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None
    child.stdin.write(json.dumps(asdict(_settings(server, tmp_path))) + "\n")
    child.stdin.write(json.dumps(list(enumerate(urls))) + "\n")
    child.stdin.flush()
    assert child.stdout is not None
    first = child.stdout.readline()  # downloading
    assert json.loads(first)[1] == "stored"
    child.stdin.close()  # what the parent's death does to the pipe
    with child.stdout:
        output = child.stdout.read()
    assert child.wait(timeout=30) == 1
    lines = [json.loads(line) for line in output.splitlines()]
    assert ["done"] not in lines
    assert len(lines) < 20  # of 400: it stopped taking new items at once


def test_an_interrupted_parent_stops_its_children(server: MediaServer, tmp_path: Path) -> None:
    urls = [server.add(srv.slow(0.05, png() + bytes([n % 256, n // 256]))) for n in range(200)]
    items = [MediaItem(key=n, url=url) for n, url in enumerate(urls)]
    finished: list[int] = []

    def finish(index: int, _: MediaResult[int]) -> None:
        finished.append(index)
        raise KeyboardInterrupt  # Ctrl-C while the first result is being recorded

    with pytest.raises(KeyboardInterrupt):
        run_in_processes(items, _settings(server, tmp_path), 2, finish)
    assert len(finished) == 1
    workers = [
        child
        for child in psutil.Process().children(recursive=True)
        if "extract.media.download_worker" in " ".join(child.cmdline())
    ]
    assert workers == []  # stopped and reaped, not left running


def test_a_child_downloads_its_share_slice_by_slice(server: MediaServer, tmp_path: Path) -> None:
    urls = [server.add(srv.body(png() + bytes([n]))) for n in range(8)]
    code = "import extract.media.download_worker as w; w.SLICE = 3; raise SystemExit(w.main())"
    given = json.dumps(asdict(_settings(server, tmp_path))) + "\n"
    given += json.dumps(list(enumerate(urls))) + "\n"
    with subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as child:
        assert child.stdin is not None
        assert child.stdout is not None
        child.stdin.write(given)
        child.stdin.flush()  # and kept open: closed means stop
        lines = [json.loads(child.stdout.readline()) for _ in range(len(urls) + 1)]
        child.stdin.close()
        assert child.wait(timeout=30) == 0
    assert lines[-1] == ["done"]
    assert sorted(line[0] for line in lines[:-1]) == list(range(8))  # three slices: 3, 3, 2
    assert {line[1] for line in lines[:-1]} == {"stored"}


def _ended_within(seconds: float, run: Callable[[], None]) -> BaseException | None:
    """What `run` raised (None: nothing), failing the test if it has not ended in `seconds`."""
    outcome: list[BaseException | None] = []

    def target() -> None:
        try:
            run()
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout=seconds)
    assert not thread.is_alive(), "still waiting for the children's output"
    return outcome[0]


def _four_files(
    server: MediaServer, tmp_path: Path, *, processes: int
) -> tuple[BaseException | None, dict[int, str]]:
    """Four files downloaded by `processes` children: what was raised, and each file's state."""
    items = [MediaItem(key=n, url=server.add(srv.body(png() + bytes([n])))) for n in range(4)]
    finished: dict[int, str] = {}
    failure = _ended_within(
        60,
        lambda: run_in_processes(
            items,
            _settings(server, tmp_path / "media"),
            processes,
            lambda index, result: finished.update({index: result.state}),
        ),
    )
    return failure, finished


def _child_startup(monkeypatch: pytest.MonkeyPatch, folder: Path, code: str) -> None:
    """Every child runs `code` as it starts (a library printing to stdout, say)."""
    folder.mkdir()
    (folder / "sitecustomize.py").write_text(code)
    monkeypatch.setenv("PYTHONPATH", str(folder))


def test_a_stray_line_on_a_childs_output_is_skipped(
    server: MediaServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _child_startup(monkeypatch, tmp_path / "site", "print('hello from a library')\nprint('[1]')\n")
    failure, finished = _four_files(server, tmp_path, processes=2)
    assert failure is None
    assert finished == dict.fromkeys(range(4), "stored")
    skipped = [r for r in caplog.records if "that is not a result" in r.getMessage()]
    assert len(skipped) == 4  # two lines from each child


def test_a_childs_unreadable_output_fails_the_downloads_not_hangs_them(
    server: MediaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = "import sys\nsys.stdout.buffer.write(b'\\xff\\xfe\\n'); sys.stdout.buffer.flush()\n"
    _child_startup(monkeypatch, tmp_path / "site", code)
    failure, _ = _four_files(server, tmp_path, processes=2)
    assert isinstance(failure, MediaWorkerError)
    assert "its output could not be read" in str(failure)


def test_a_result_run_into_other_output_is_left_pending_and_said(
    server: MediaServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # written to the file descriptor, with no line end: the child's first result is glued to it
    _child_startup(monkeypatch, tmp_path / "site", "import os\nos.write(1, b'noise')\n")
    failure, finished = _four_files(server, tmp_path, processes=1)
    assert failure is None
    assert sorted(finished.values()) == ["stored"] * 3
    assert "media download process 1 sent 3 results of 4" in caplog.text


def _ctrl_c_repeatedly(process: subprocess.Popen[str], seconds: float) -> None:
    """SIGINT to `process` every 20 ms for `seconds`, as a terminal's Ctrl-C held down reaches
    every process of its group, from 0.15 s on (the interpreter itself has started)."""
    time.sleep(0.15)
    ends = time.monotonic() + seconds
    while time.monotonic() < ends and process.poll() is None:
        process.send_signal(signal.SIGINT)
        time.sleep(0.02)


def _child(**popen: Any) -> subprocess.Popen[str]:
    """A download child as run_in_processes starts one (its command line and import path)."""
    env = {**os.environ, "PYTHONPATH": str(Path(extract.__file__).resolve().parents[1])}
    return subprocess.Popen(child_command(), text=True, env=env, **popen)


def test_a_child_leaves_ctrl_c_to_its_parent_from_its_first_import(
    server: MediaServer, tmp_path: Path
) -> None:
    pipes = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    with _child(**pipes) as child:
        _ctrl_c_repeatedly(child, 1.0)  # while it imports httpx and its own modules, and after
        given = json.dumps(asdict(_settings(server, tmp_path))) + "\n"
        given += json.dumps([[0, server.add(srv.body(png()))]]) + "\n"
        assert child.stdin is not None
        child.stdin.write(given)
        child.stdin.flush()  # and kept open, as the parent does until it has every result
        assert child.stdout is not None
        lines = [json.loads(child.stdout.readline()) for _ in range(2)]
        child.stdin.close()
        errors = child.stderr.read() if child.stderr else ""
    assert "Traceback" not in errors, errors
    assert "KeyboardInterrupt" not in errors
    assert child.returncode == 0
    assert lines[0][1] == "stored"
    assert lines[1] == ["done"]


def test_a_child_told_to_stop_at_once_ends_without_a_word(tmp_path: Path) -> None:
    # the parent stopped (Ctrl-C) as it started the child: stdin closed before any line
    with _child(stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as child:
        output, errors = child.communicate("", timeout=30)
    assert "Traceback" not in errors, errors
    assert child.returncode == 1
    assert output == "" or json.loads(output)[0] == "error"


@pytest.mark.parametrize("when", ["sending the share", "downloading"])
def test_a_child_whose_parent_was_killed_ends_without_a_word(
    server: MediaServer, tmp_path: Path, when: str
) -> None:
    # kill -9 of the parent closes both pipes at once: the child reads what it was sent so
    # far, and its results have no reader
    urls = [server.add(srv.slow(0.05, png() + bytes([n % 256, n // 256]))) for n in range(200)]
    pipes = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    with _child(**pipes) as child:
        assert child.stdin is not None
        assert child.stdout is not None
        child.stdin.write(json.dumps(asdict(_settings(server, tmp_path))) + "\n")
        share = json.dumps(list(enumerate(urls)))
        if when == "sending the share":
            child.stdin.write(share[: len(share) // 2])  # cut off midway, no line end
        else:
            child.stdin.write(share + "\n")
            child.stdin.flush()
            assert json.loads(child.stdout.readline())[1] == "stored"
        child.stdout.close()
        if when == "downloading":  # a result or two meets the closed pipe before the EOF
            time.sleep(0.3)
        child.stdin.close()
        errors = child.stderr.read() if child.stderr else ""
        assert child.wait(timeout=30) == 1
    assert errors == ""
