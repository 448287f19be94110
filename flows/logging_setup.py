"""Logging for the command line: our progress lines on stderr, Prefect quiet unless verbose."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from pathlib import Path
from typing import ClassVar, TextIO

from flows.connection_errors import a_connection_error

QUIET_PREFECT_CONFIG = Path(__file__).with_name("prefect_logging.yml")
OUR_LOGGERS = ("smsarchive", "extract", "transform", "warehouse", "flows")


def configure_logging(*, verbose: bool) -> None:
    """Set up handlers once, before Prefect sets up its own (it reads these variables then)."""
    # A temporary Prefect server must not try to phone home from an offline machine, nor
    # Prefect's client send usage data (or print its first-run notice) for an archive of
    # private messages: DO_NOT_TRACK=0 in the environment turns it back on.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    if not verbose:
        os.environ.setdefault("PREFECT_LOGGING_SETTINGS_PATH", str(QUIET_PREFECT_CONFIG))
        os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")
    handler = CurrentStderrHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", "%H:%M:%S"))
    for name in OUR_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.propagate = False
        logger.setLevel(logging.DEBUG if verbose else logging.INFO)


class CurrentStderrHandler(logging.StreamHandler[TextIO]):
    """Writes to `sys.stderr` as it is at each record: while progress bars are drawn, that is
    their stream, which prints each line above the bars instead of through them. Prefect's
    console handler in the quiet config is one too (its own Rich console would tear them)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _: TextIO) -> None:  # StreamHandler.__init__ sets it: always stderr
        pass


class PrefectOutageLines(logging.Filter):
    """Prefect's lines about a server that stopped answering, short and at most one of each
    kind in ten minutes (a long-lived `serve` says a later outage again).

    Without it, each event Prefect could not send is an ERROR line holding the whole event
    (kilobytes), and each attempt a connection warning, every ~7 s until the run's end.
    """

    UNSENT = "Service %r failed to process item %r"
    NO_SOCKET = "Unable to connect to %r."
    NO_EMITTER = "Unable to connect to the events WebSocket"
    NO_STREAM = "Failed to connect to the events stream"
    KINDS = (UNSENT, NO_SOCKET, NO_EMITTER, NO_STREAM)
    QUIET_S = 600.0
    SAID: ClassVar[threading.Event] = threading.Event()
    """Set once a line about a lost server came, in this process: a run's end then says
    whether the server answers again (`flows.prefect_outage.work_done`)."""
    HUSHED: ClassVar[threading.Event] = threading.Event()
    """Set once the command has said the server is gone and dropped what Prefect could not
    send (`flows.prefect_outage.drop_undeliverable_events`): no more of these lines, which
    would otherwise come after the command's last word, as Prefect gives up at exit."""

    def __init__(self) -> None:
        super().__init__()
        self._said_at: dict[str, float] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        kind = next((k for k in self.KINDS if message.startswith(k)), None)
        if kind is None:
            if self._a_cancelled_callback(record):
                return False
            self._without_traceback(record)
            return True
        self.SAID.set()
        if self.HUSHED.is_set():
            return False
        with self._lock:
            last = self._said_at.get(kind)
            if last is not None and record.created - last < self.QUIET_S:
                return False
            self._said_at[kind] = record.created
        if kind == self.UNSENT and isinstance(record.args, tuple) and record.args:
            record.msg = "Service %r could not send an item to the Prefect API (more are not shown)"
            record.args = record.args[:1]
        elif "network settings" in message and isinstance(record.args, tuple) and record.args:
            # Prefect's advice on websockets and PREFECT_DEBUG_MODE fits a firewall, not this
            record.msg = (
                "Unable to connect to %r (%s): the run's events may not reach the Prefect server "
                "(more are not shown)"
            )
            record.args = (record.args[0], record.args[1] if len(record.args) > 1 else "")
        elif kind == self.NO_EMITTER and isinstance(record.args, tuple) and record.args:
            # Prefect's advice to upgrade its client fits a server with authentication, not
            # this one: its client is the server's own version
            record.msg = (
                "Unable to connect to the events WebSocket (%s): serve's runner sends no events "
                "(more are not shown); its runs go on"
            )
            record.args = record.args[:1]
        return True

    @staticmethod
    def _a_cancelled_callback(record: logging.LogRecord) -> bool:
        """asyncio's report of a done-callback that met its task cancelled: Prefect's runner
        leaves one as serve stops (its cancellation watch asks a cancelled task for its
        error), a traceback of 60 lines about nothing that went wrong."""
        return (
            record.name == "asyncio"
            and record.exc_info is not None
            and isinstance(record.exc_info[1], asyncio.CancelledError)
        )

    @staticmethod
    def _without_traceback(record: logging.LogRecord) -> None:
        """A Prefect line whose error is a lost connection says that error in a few words:
        its traceback (about 40 lines a time) tells nothing more of a server that went."""
        if not record.name.startswith("prefect") or not record.exc_info:
            return
        error = record.exc_info[1]
        if error is None or not a_connection_error(error):
            return
        record.msg = f"{record.getMessage()} ({type(error).__name__}: {error})"
        record.args = None
        record.exc_info = None
        record.exc_text = None


class _InARun(logging.Filter):
    """Passes the records made inside a Prefect flow or task run (the API takes no other)."""

    def filter(self, record: logging.LogRecord) -> bool:
        from prefect.context import FlowRunContext, TaskRunContext

        return FlowRunContext.get() is not None or TaskRunContext.get() is not None


def send_logs_to_prefect() -> None:
    """Our loggers' records made inside a flow run, INFO and above, also go to the Prefect
    API: the UI's log of a run then says what it archived, as the terminal does. Called by
    each flow as it starts (once is enough; again changes nothing). The loggers' levels are
    the CLI's (`configure_logging`), or `log_info_in_scheduled_runs`'.

    Logging handlers that fail then say nothing, for the rest of the process (the stdlib's
    advice for production). Prefect's log sender otherwise writes "--- Error logging to API
    ---" and its error to stderr, unended, for each batch it could not send. That happens in
    its own thread, at any moment of an outage, even before the run knows the server is
    gone. The outage lines and the run's end already say the server was lost."""
    from prefect.logging.handlers import APILogHandler

    logging.raiseExceptions = False

    for name in OUR_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(handler, APILogHandler) for handler in logger.handlers):
            handler = APILogHandler()
            handler.setLevel(logging.INFO)
            handler.addFilter(_InARun())
            logger.addHandler(handler)


def log_info_in_scheduled_runs() -> None:
    """In a run `serve` starts (its own process, whose logging the CLI did not set up), our
    loggers make INFO records, not only the root's WARNING and above."""
    for name in OUR_LOGGERS:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() > logging.INFO:
            logger.setLevel(logging.INFO)
