"""Logging for the command line: our progress lines on stderr, Prefect quiet unless verbose."""

from __future__ import annotations

import logging
import os
from pathlib import Path

QUIET_PREFECT_CONFIG = Path(__file__).with_name("prefect_logging.yml")
OUR_LOGGERS = ("smsarchive", "extract", "transform", "warehouse", "flows")


def configure_logging(*, verbose: bool) -> None:
    """Set up handlers once, before Prefect sets up its own (it reads these variables then)."""
    # A temporary Prefect server must not try to phone home from an offline machine.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    if not verbose:
        os.environ.setdefault("PREFECT_LOGGING_SETTINGS_PATH", str(QUIET_PREFECT_CONFIG))
        os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", "%H:%M:%S"))
    for name in OUR_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.propagate = False
        logger.setLevel(logging.DEBUG if verbose else logging.INFO)
