"""Marks Crashed, in Prefect, the flow runs of runs whose process died while they ran."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from uuid import UUID

import httpx
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterId,
    FlowRunFilter,
    FlowRunFilterParentFlowRunId,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.exceptions import ObjectNotFound, PrefectHTTPStatusError
from prefect.states import Crashed

from warehouse import writer_alive

logger = logging.getLogger("smsarchive")

DIED = "the process running it ended before the run finished (found by the next run)"


def close_dead_flow_runs(flow_run_ids: Sequence[str]) -> int:
    """Mark each flow run, and the flow runs it ran inside (`nightly`), Crashed unless final.

    A run killed outright (SIGKILL, power loss, the OOM killer) cannot tell Prefect, which
    would show it running for ever; the next run, which found it dead under the writer lock,
    calls this. A flow run Prefect does not know (another server) is skipped with a warning.
    Returns how many flow runs were marked.
    """
    marked = 0
    with get_client(sync_client=True) as client:
        for flow_run_id in flow_run_ids:
            try:
                for run in _with_parents(client, UUID(flow_run_id)):
                    if run.state is not None and run.state.is_final():
                        continue
                    _crash(client, run, DIED)
                    marked += 1
            # Prefect's view of an old run must never fail this one: anything goes to the log
            except (ObjectNotFound, PrefectHTTPStatusError, ValueError, httpx.HTTPError) as exc:
                logger.warning(
                    "Prefect flow run %s of a run that died could not be marked crashed: %s",
                    flow_run_id,
                    _why(exc),
                )
    if marked:
        logger.info("%d Prefect flow runs of runs that died marked Crashed", marked)
    return marked


def _why(exc: Exception) -> str:
    """What Prefect said, or what the error is where it said nothing (ObjectNotFound's text
    is "None")."""
    if isinstance(exc, ObjectNotFound):
        return "this Prefect server does not know it (another server ran it?)"
    return str(exc) or type(exc).__name__


def _crash(client: SyncPrefectClient, run: FlowRun, why: str) -> None:
    """Mark `run` Crashed, and the task run it ran in when it is a subflow: forced, as no
    process is there to move it on (which also frees a deployment's concurrency slot)."""
    client.set_flow_run_state(run.id, Crashed(message=why), force=True)
    if run.parent_task_run_id is not None:
        client.set_task_run_state(run.parent_task_run_id, Crashed(message=why), force=True)


def _with_parents(client: SyncPrefectClient, flow_run_id: UUID) -> Iterator[FlowRun]:
    """The flow run, then the flow run it is a subflow of, and so on up."""
    run: FlowRun | None = client.read_flow_run(flow_run_id)
    while run is not None:
        yield run
        if run.parent_task_run_id is None:
            return
        parent_task = client.read_task_run(run.parent_task_run_id)
        run = client.read_flow_run(parent_task.flow_run_id) if parent_task.flow_run_id else None


STOPPED_SERVE = "serve was stopped while it ran (found when serve started again)"

_UNFINISHED = FlowRunFilterState(
    type=FlowRunFilterStateType(any_=[StateType.PENDING, StateType.RUNNING, StateType.CANCELLING])
)
"""Runs in the states that hold the deployment's one slot (Scheduled and Late runs hold none)."""


def close_runs_of_a_stopped_serve(deployment: str, data_dir: Path | None = None) -> int:
    """Mark Crashed every unfinished flow run of `deployment` (`flow/name`), and its subflows.

    Called as `serve` starts, holding the archive's serve lock and before its runner takes
    any run: a run then still Running or Pending was left by a `serve` stopped while it ran
    (its process was killed with it). Left so, it would keep the deployment's concurrency
    slot, and every later scheduled run would be cancelled. But while a run writes to the
    archive in `data_dir` (a SIGKILL of serve leaves its run's process going), nothing is
    marked: that run ends, and says so, itself. Returns how many flow runs were marked; what
    Prefect refuses is said, never raised (serve starts all the same).
    """
    if data_dir is not None and writer_alive(data_dir):
        logger.warning(
            "a run still writes to the archive (the last serve's, it may be): its Prefect "
            "flow run is left to end by itself"
        )
        return 0
    marked = 0
    with get_client(sync_client=True) as client:
        try:
            found = client.read_deployment_by_name(deployment)
        except ObjectNotFound:
            return 0  # never served yet
        except (PrefectHTTPStatusError, httpx.HTTPError) as exc:
            logger.warning("the runs of %s could not be read: %s", deployment, exc)
            return 0
        left = client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[found.id])),
            flow_run_filter=FlowRunFilter(state=_UNFINISHED),
        )
        for run in left:
            for each in [run, *_unfinished_subflows(client, run.id)]:
                try:
                    _crash(client, each, STOPPED_SERVE)
                except (ObjectNotFound, PrefectHTTPStatusError, httpx.HTTPError) as exc:
                    logger.warning("flow run %s could not be marked crashed: %s", each.id, exc)
                    continue
                marked += 1
    if marked:
        logger.warning(
            "%d Prefect flow runs left running when serve last stopped marked Crashed "
            "(the archive's own record of a sync stopped so is closed by the next sync)",
            marked,
        )
    return marked


def _unfinished_subflows(client: SyncPrefectClient, flow_run_id: UUID) -> list[FlowRun]:
    """The unfinished flow runs run inside `flow_run_id`, and inside those, and so on."""
    children = client.read_flow_runs(
        flow_run_filter=FlowRunFilter(
            parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[flow_run_id]),
            state=_UNFINISHED,
        )
    )
    return [run for child in children for run in [child, *_unfinished_subflows(client, child.id)]]
