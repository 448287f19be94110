"""Whether a run goes through Prefect: only when there is a Prefect server to talk to."""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path


def prefect_wanted() -> bool:
    """True inside a Prefect flow run or when a Prefect API URL is configured.

    Prefect 3 with no PREFECT_API_URL starts a temporary server for every command (10-20 s
    on a small machine), and importing Prefect alone takes seconds. A one-off `sync`,
    `backfill`, `report` or `export` needs neither: without a configured Prefect API they
    run the same steps as plain calls and never import Prefect. With PREFECT_API_URL set
    (environment or active Prefect profile), or inside a flow run (`serve`'s schedule), they
    are Prefect flows with tasks, retries, logs and artifacts.
    """
    if "prefect" in sys.modules:
        # Prefect is loaded anyway (a flow run, a test harness): ask it, it knows best.
        from prefect.context import FlowRunContext
        from prefect.settings import PREFECT_API_URL

        return FlowRunContext.get() is not None or bool(PREFECT_API_URL.value())
    return bool(configured_api_url())


def configured_api_url() -> str | None:
    """PREFECT_API_URL from the environment, else from the active Prefect profile, if any."""
    from_env = os.environ.get("PREFECT_API_URL")
    if from_env is not None:
        return from_env or None
    try:
        home = Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()
        path = Path(os.environ.get("PREFECT_PROFILES_PATH") or home / "profiles.toml")
        profiles = tomllib.loads(path.expanduser().read_text(encoding="utf-8"))
    # RuntimeError: no home folder to be found (HOME unset, a user without one)
    except (RuntimeError, OSError, tomllib.TOMLDecodeError):
        return None
    active = os.environ.get("PREFECT_PROFILE") or profiles.get("active") or "ephemeral"
    profile = profiles.get("profiles", {}).get(active, {})
    value = profile.get("PREFECT_API_URL") if isinstance(profile, dict) else None
    return str(value) if value else None
