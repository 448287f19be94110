"""What `smsarchive --version` says: this version, its schemas and the libraries under it."""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version

from warehouse.export import EXPORT_SCHEMA_VERSION
from warehouse.migrate import known_migrations

LIBRARIES = ("duckdb", "polars", "prefect", "httpx")
"""The libraries whose version a bug report needs (read from their metadata: none is
imported, so the line comes at once)."""


def _installed(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "not installed"


def version_line() -> str:
    """`smsarchive 0.1.0 (archive schema 4, export schema 1; Python 3.11.7, duckdb …)`: the
    archive schema is the newest migration this version applies, as `status` names it."""
    libraries = ", ".join(f"{name} {_installed(name)}" for name in LIBRARIES)
    return (
        f"smsarchive {_installed('smsarchive')} (archive schema {known_migrations()[-1].version}, "
        f"export schema {EXPORT_SCHEMA_VERSION}; Python {platform.python_version()}, {libraries})"
    )
