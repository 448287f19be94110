"""A run that died as a Prefect flow is marked Crashed in Prefect, with its parent flow run."""

from __future__ import annotations

import logging
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from prefect import flow, task
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.objects import StateType
from prefect.states import Completed, Pending, Running

from flows.dead_flow_runs import close_dead_flow_runs, close_runs_of_a_stopped_serve
from warehouse import writer_lock

pytestmark = pytest.mark.usefixtures("prefect_server")


@flow(name="dead-flow-runs-parent")
def parent() -> None:
    """Stands for `nightly`."""


@flow(name="dead-flow-runs-child")
def child() -> None:
    """Stands for `sync`."""


@task(name="dead-flow-runs-subflow")
def subflow_task() -> None:
    """Stands for the task run a subflow runs in."""


def _running(client: SyncPrefectClient, parent_task_run_id: UUID | None = None) -> UUID:
    """A flow run left Running, as a killed process leaves it."""
    run = client.create_flow_run(
        child if parent_task_run_id else parent, parent_task_run_id=parent_task_run_id
    )
    client.set_flow_run_state(run.id, Running(), force=True)
    return run.id


def _state(client: SyncPrefectClient, flow_run_id: UUID) -> StateType | None:
    state = client.read_flow_run(flow_run_id).state
    return state.type if state else None


def test_dead_flow_runs_and_their_parents_are_marked_crashed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with get_client(sync_client=True) as client:
        nightly = _running(client)
        wrapper = client.create_task_run(subflow_task, flow_run_id=nightly, dynamic_key="0")
        client.set_task_run_state(wrapper.id, Running(), force=True)
        sync = _running(client, parent_task_run_id=wrapper.id)
        lone = _running(client)
        finished = _running(client)
        client.set_flow_run_state(finished, Completed(), force=True)

        with caplog.at_level(logging.WARNING, logger="smsarchive"):
            marked = close_dead_flow_runs([str(sync), str(lone), str(finished), str(uuid4())])

        assert marked == 3  # sync, nightly above it, and the lone one
        assert _state(client, sync) == StateType.CRASHED
        assert _state(client, nightly) == StateType.CRASHED
        assert _state(client, lone) == StateType.CRASHED
        task_state = client.read_task_run(wrapper.id).state
        assert task_state is not None
        assert task_state.type == StateType.CRASHED
        # a finished one is left as it was
        assert _state(client, finished) == StateType.COMPLETED
    # one Prefect does not know is said, not raised
    assert "could not be marked crashed: this Prefect server does not know it" in caplog.text


def test_runs_a_stopped_serve_left_are_crashed_and_free_the_deployments_slot(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    with get_client(sync_client=True) as client:
        deployment = client.create_deployment(
            flow_id=client.create_flow(parent),
            name="stopped-serve",
            concurrency_limit=1,
            concurrency_options={"collision_strategy": "CANCEL_NEW"},
        )
        # the run serve was stopped in, in its report subflow, with its slot taken
        left = client.create_flow_run_from_deployment(deployment)
        for state in (Pending(), Running()):
            client.set_flow_run_state(left.id, state)
        wrapper = client.create_task_run(subflow_task, flow_run_id=left.id, dynamic_key="0")
        client.set_task_run_state(wrapper.id, Running(), force=True)
        report = _running(client, parent_task_run_id=wrapper.id)
        done = client.create_flow_run_from_deployment(deployment)
        client.set_flow_run_state(done.id, Completed(), force=True)
        other = _running(client)  # a run of no deployment: not serve's

        # a SIGKILL of serve left its run's process going: while it writes, it is let be
        with writer_lock(tmp_path):
            held = close_runs_of_a_stopped_serve("dead-flow-runs-parent/stopped-serve", tmp_path)
        assert held == 0
        assert _state(client, left.id) == StateType.RUNNING

        with caplog.at_level(logging.WARNING, logger="smsarchive"):
            marked = close_runs_of_a_stopped_serve("dead-flow-runs-parent/stopped-serve", tmp_path)

        assert marked == 2
        assert (_state(client, left.id), _state(client, report)) == (StateType.CRASHED,) * 2
        task_state = client.read_task_run(wrapper.id).state  # the report's task in nightly
        assert task_state is not None
        assert task_state.type == StateType.CRASHED
        assert _state(client, done.id) == StateType.COMPLETED
        assert _state(client, other) == StateType.RUNNING
        assert "left running when serve last stopped" in caplog.text
        # the next scheduled run is let run, not cancelled for want of the slot
        following = client.create_flow_run_from_deployment(deployment)
        for state in (Pending(), Running()):
            client.set_flow_run_state(following.id, state)
        assert _state(client, following.id) == StateType.RUNNING
    assert close_runs_of_a_stopped_serve("dead-flow-runs-parent/never-served") == 0
