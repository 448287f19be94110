"""A command's flow run stopped by its user (Ctrl-C, SIGTERM) ends Cancelled in Prefect."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import State
from prefect.context import FlowRunContext
from prefect.exceptions import Abort, TerminationSignal
from prefect.settings import PREFECT_API_URL
from prefect.states import Cancelled

from flows.interruptions import NOTHING_LOST, stopped_from_outside, terminated
from flows.prefect_outage import prefect_answers, stopped_unrecorded


class _StoppedRun(Abort):
    """Prefect's signal that the flow run's state is already final (its engine then records
    no crash), carrying the stop it stands for."""

    def __init__(self, stop: BaseException, state: object) -> None:
        super().__init__(str(getattr(state, "message", "")))
        self.stop = stop
        self.state = state


def why_stopped(exc: BaseException) -> str:
    """The Cancelled state's message for a run stopped by `exc`."""
    by = "SIGTERM" if terminated(exc) or isinstance(exc, TerminationSignal) else "Ctrl-C"
    return f"stopped by {by}; {NOTHING_LOST}"


@contextmanager
def cancelled_if_stopped() -> Iterator[None]:
    """Around a command's flow body: stopped by its user, the flow run is set Cancelled, with
    why, where Prefect's engine would mark it Crashed ("aborted by an interrupt signal", as
    for a lost machine). The stop then reaches the command as it was (`stop_behind`), which
    says it as it always has. Left to Prefect: a subflow (the nightly run's parts: the runner
    that started the run owns its end). A stop while the Prefect server does not answer is
    noted for the next run that reaches it (`prefect_outage.stopped_unrecorded`)."""
    try:
        yield
    except BaseException as exc:
        context = FlowRunContext.get()
        if (
            not stopped_from_outside(exc)
            or context is None
            or context.flow_run is None
            or context.flow_run.parent_task_run_id is not None
        ):
            raise
        wanted: State[Any] = Cancelled(message=why_stopped(exc))
        if not prefect_answers(PREFECT_API_URL.value()):
            # recorded by the next run that reaches the server; Prefect asks nothing more
            stopped_unrecorded(str(context.flow_run.id), str(wanted.message))
            raise _StoppedRun(exc, wanted) from exc
        try:
            with get_client(sync_client=True) as client:
                set_to = client.set_flow_run_state(context.flow_run.id, wanted, force=True)
        except Exception:  # the server went meanwhile: Prefect's engine says it crashed
            raise exc from None
        raise _StoppedRun(exc, set_to.state or wanted) from exc


def stop_behind(exc: BaseException) -> BaseException | None:
    """The user's stop a flow run was cancelled for (`cancelled_if_stopped`), else None."""
    return exc.stop if isinstance(exc, _StoppedRun) else None
