"""A Prefect-mode command stopped by its user ends its flow run Cancelled, saying why."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from pathlib import Path
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterId,
    FlowRunFilterName,
)
from prefect.client.schemas.objects import StateType
from prefect.client.schemas.sorting import FlowRunSort
from prefect.exceptions import Abort
from prefect.settings import PREFECT_API_URL, temporary_settings

from extract.voipms.sandbox.faults import FaultConfig
from extract.voipms.sandbox.spec import AccountSpec
from flows.stopped_runs import cancelled_if_stopped, stop_behind
from flows.unrecorded_ends import FILE, record_unrecorded_ends
from tests.conftest import serving
from tests.flows.conftest import SPAN, backfill_running, sandbox_env, without_our_settings
from tests.goes_dark_proxy import GoesDarkProxy

STOPS = [
    (signal.SIGINT, 130, "interrupted; nothing is lost", "stopped by Ctrl-C"),
    (signal.SIGTERM, 143, "stopped by SIGTERM; nothing is lost", "stopped by SIGTERM"),
]
"""The signal, the exit code and error line it ends the command with, and the state's why."""


@pytest.mark.usefixtures("prefect_server")
@pytest.mark.parametrize(("stop", "code", "said", "why"), STOPS)
def test_a_backfill_stopped_midway_is_cancelled_in_prefect_not_crashed(
    tmp_path: Path, stop: signal.Signals, code: int, said: str, why: str
) -> None:
    name = f"backfill {SPAN[0]}..{SPAN[1]}"
    returncode, err = _backfill_stopped_midway(
        tmp_path, str(PREFECT_API_URL.value()), lambda: None, stop
    )
    assert returncode == code, err
    assert f"error: {said}" in err
    assert "Traceback" not in err
    with get_client(sync_client=True) as client:
        [run] = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[name])),
            sort=FlowRunSort.START_TIME_DESC,
            limit=1,
        )
        assert run.state is not None
        assert run.state.type == StateType.CANCELLED, run.state
        assert run.state.message == f"{why}; nothing is lost, rerun to continue"
        history = [state.type for state in client.read_flow_run_states(run.id)]
        assert StateType.CRASHED not in history
        tasks = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id]))
        )
    states = {task.name: task.state.type for task in tasks if task.state is not None}
    # the windows in flight when it stopped did nothing wrong of their own: not Failed
    assert StateType.FAILED not in states.values(), states
    assert StateType.CANCELLED in states.values(), states


def _backfill_stopped_midway(
    data_dir: Path, api_url: str, before: Callable[[], object], stop: signal.Signals
) -> tuple[int, str]:
    """A CLI backfill in Prefect mode (`api_url`), `before()` called and `stop` sent once its
    windows are well under way: its exit code and stderr."""
    # four windows of ~1,000 messages in pages of 50, each call 0.2 s: seconds of calls apiece
    spec = AccountSpec(seed=5, messages=4000, start=SPAN[0], end=SPAN[1], dids=2)
    with serving(spec) as server:
        server.set_faults(FaultConfig(latency_s=0.2))
        env = {
            **without_our_settings(),
            **sandbox_env(server, data_dir),
            "VOIPMS_PAGE_LIMIT": "50",
            "PREFECT_API_URL": api_url,
        }
        with backfill_running(
            cwd=data_dir,
            env=env,
            ready=lambda: server.call_counts().get("getSMS", 0) >= 8,
            within_s=120,
            every_s=0.1,
        ) as child:
            before()
            child.send_signal(stop)
            _, err = child.communicate(timeout=120)
    return child.returncode, err


def test_outside_a_flow_run_a_stop_is_left_as_it_is() -> None:
    with pytest.raises(KeyboardInterrupt), cancelled_if_stopped():
        raise KeyboardInterrupt


def test_an_error_is_no_stop() -> None:
    with pytest.raises(ValueError, match="bad row"), cancelled_if_stopped():
        raise ValueError("bad row")


def test_only_a_cancelled_runs_signal_carries_a_stop() -> None:
    assert stop_behind(Abort("the API said abort")) is None


@pytest.mark.usefixtures("prefect_server")
@pytest.mark.parametrize(("stop", "code", "said", "why"), STOPS)
def test_a_backfill_stopped_while_its_prefect_server_is_gone_is_noted_cancelled_for_later(
    tmp_path: Path, stop: signal.Signals, code: int, said: str, why: str
) -> None:
    proxy = GoesDarkProxy(str(PREFECT_API_URL.value()))
    try:
        # the server killed, then its user stops the run
        returncode, err = _backfill_stopped_midway(tmp_path, proxy.url, proxy.go_dark, stop)
        assert returncode == code, err
        assert err.splitlines()[-1].startswith(f"error: {said}"), err  # the last word
        assert "Traceback" not in err
        assert (
            f"this run was stopped while the Prefect server at {proxy.url} did not answer: "
            "Prefect shows it running until the next run reaches the server" in err
        )
        [note] = json.loads((tmp_path / FILE).read_text())
        assert note["cancelled"] == f"{why}; nothing is lost, rerun to continue"
        proxy.come_back()
        with temporary_settings({PREFECT_API_URL: proxy.url}):
            assert record_unrecorded_ends(tmp_path, proxy.url) == 1
    finally:
        proxy.close()
    assert not (tmp_path / FILE).exists()
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(UUID(note["flow_run_id"]))
    assert run.state is not None
    assert run.state.type == StateType.CANCELLED, run.state
    assert run.state.message == f"{why}; nothing is lost, rerun to continue"
