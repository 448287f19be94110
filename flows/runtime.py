"""The settings a run uses: read once at the entry point, never stored by Prefect."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flows.progress import Reporter
from flows.settings import Settings

_current: ContextVar[Settings | None] = ContextVar("smsarchive_settings", default=None)
_reporter: ContextVar[Reporter | None] = ContextVar("smsarchive_reporter", default=None)


@contextmanager
def use_settings(settings: Settings, reporter: Reporter | None = None) -> Iterator[Settings]:
    """Make `settings` the ones flows run with, for the duration of the block.

    Flows take no settings parameter on purpose: Prefect stores flow parameters in its
    database, and the API password must never be stored anywhere.
    """
    token = _current.set(settings)
    reporter_token = _reporter.set(reporter)
    try:
        yield settings
    finally:
        _reporter.reset(reporter_token)
        _current.reset(token)


def current_settings() -> Settings:
    """The settings of the running entry point, or the environment's when none were set."""
    settings = _current.get()
    if settings is None:
        settings = Settings()
        _current.set(settings)
    return settings


def current_reporter() -> Reporter:
    """The progress reporter of the running entry point (log lines when none was set)."""
    return _reporter.get() or Reporter(bars=False)
