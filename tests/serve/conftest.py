"""Fixtures for serve tests: Prefect's test server, shared with the flow tests' definition."""

from __future__ import annotations

from tests.flows.conftest import prefect_server

__all__ = ["prefect_server"]
