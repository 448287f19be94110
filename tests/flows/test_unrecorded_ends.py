"""A flow run whose end its Prefect server missed is marked Completed by the next run."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import time
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from prefect import flow
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.objects import StateType
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect.states import Completed, Running

from flows.unrecorded_ends import FILE, note_unrecorded_end, record_unrecorded_ends

pytestmark = pytest.mark.usefixtures("prefect_server")

ELSEWHERE = "http://127.0.0.1:1/api"


@flow(name="unrecorded-ends")
def unrecorded() -> None:
    """Stands for `sync`."""


def _running(client: SyncPrefectClient) -> UUID:
    run = client.create_flow_run(unrecorded)
    client.set_flow_run_state(run.id, Running(), force=True)
    return run.id


def _notes(data_dir: Path) -> list[dict[str, str]]:
    path = data_dir / FILE
    return json.loads(path.read_text()) if path.exists() else []


def test_noted_runs_of_this_server_are_completed_and_others_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    here = str(PREFECT_API_URL.value())
    with get_client(sync_client=True) as client:
        left_running, ended_since, elsewhere = _running(client), _running(client), _running(client)
        client.set_flow_run_state(ended_since, Completed(message="by hand"), force=True)
    unknown = uuid4()
    for run_id, server in [
        (left_running, here),
        (ended_since, here),
        (unknown, here),
        (elsewhere, ELSEWHERE),
    ]:
        note_unrecorded_end(tmp_path, str(run_id), server)
    assert len(_notes(tmp_path)) == 4

    with caplog.at_level(logging.INFO, logger="smsarchive"):
        assert record_unrecorded_ends(tmp_path, here) == 1
    with get_client(sync_client=True) as client:
        left = client.read_flow_run(left_running).state
        since = client.read_flow_run(ended_since).state
        other = client.read_flow_run(elsewhere).state
    assert left is not None
    assert left.type == StateType.COMPLETED
    assert "recorded by the next run" in str(left.message)
    assert since is not None
    assert since.message == "by hand"  # a final state is left alone
    assert other is not None
    assert other.type == StateType.RUNNING
    assert f"{unknown}, whose end was not recorded, could not be marked" in caplog.text
    # what was settled is forgotten; the other server's run waits for a run against it
    assert [note["flow_run_id"] for note in _notes(tmp_path)] == [str(elsewhere)]
    assert record_unrecorded_ends(tmp_path, here) == 0


def test_notes_wait_while_the_server_does_not_answer(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        gone = f"http://127.0.0.1:{probe.getsockname()[1]}/api"
    note_unrecorded_end(tmp_path, str(uuid4()), gone)
    with temporary_settings(updates={PREFECT_API_URL: gone}):
        assert record_unrecorded_ends(tmp_path, gone) == 0
    assert len(_notes(tmp_path)) == 1


def test_a_note_that_cannot_be_kept_is_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    in_the_way = tmp_path / "a file"
    in_the_way.write_text("not a folder")
    note_unrecorded_end(in_the_way, str(uuid4()), ELSEWHERE)  # raises nothing
    assert "its end could not be noted for the next run" in caplog.text


def test_a_damaged_notes_file_fails_no_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    here = str(PREFECT_API_URL.value())
    (tmp_path / FILE).write_bytes(b"\xff\xfe not text, not json")
    assert record_unrecorded_ends(tmp_path, here) == 0
    note_unrecorded_end(tmp_path, str(uuid4()), here)  # a damaged file is written over
    assert len(_notes(tmp_path)) == 1
    assert (tmp_path / FILE).stat().st_mode & 0o777 == 0o600  # owner only, as the data dir

    elsewhere = tmp_path / "elsewhere"
    (elsewhere / FILE).mkdir(parents=True)  # no file can be read or written there
    assert record_unrecorded_ends(elsewhere, here) == 0
    assert "could not be recorded: Is a directory" in caplog.text


def test_notes_made_at_the_same_moment_by_several_commands_are_all_kept(tmp_path: Path) -> None:
    # an export beside a sync, both losing their server: each process reads, adds, writes back
    each, processes = 100, 4
    noting = (
        "import sys, time; from pathlib import Path; "
        "from flows.unrecorded_ends import note_unrecorded_end\n"
        "time.sleep(max(float(sys.argv[4]) - time.time(), 0))\n"  # all start together
        f"for n in range({each}): "
        "note_unrecorded_end(Path(sys.argv[1]), f'{sys.argv[2]}-{n}', sys.argv[3])"
    )
    go = time.time() + 3  # every process imported by then
    started = [
        subprocess.Popen(
            [sys.executable, "-c", noting, str(tmp_path), f"p{p}", ELSEWHERE, str(go)],
            cwd=Path(__file__).parents[2],
        )
        for p in range(processes)
    ]
    assert [process.wait(timeout=60) for process in started] == [0] * processes
    assert len({note["flow_run_id"] for note in _notes(tmp_path)}) == each * processes


def test_nothing_noted_is_nothing_to_record_even_without_a_data_dir(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    here = str(PREFECT_API_URL.value())
    assert record_unrecorded_ends(tmp_path / "not made yet", here) == 0  # a first run
    assert record_unrecorded_ends(tmp_path, here) == 0
    assert list(tmp_path.iterdir()) == []  # no lock file left where nothing was noted
    assert caplog.text == ""
