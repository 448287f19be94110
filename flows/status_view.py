"""Renders the archive's status as terminal tables."""

from __future__ import annotations

import polars as pl
from rich.console import Console, Group
from rich.table import Table

from warehouse import ArchiveStatus


def _table(title: str, frame: pl.DataFrame, empty: str) -> Table | str:
    if frame.is_empty():
        return f"[bold]{title}[/bold]: {empty}"
    table = Table(title=title, title_justify="left", title_style="bold")
    for name in frame.columns:
        table.add_column(name, justify="right" if frame[name].dtype.is_numeric() else "left")
    for row in frame.iter_rows():
        table.add_row(*("" if value is None else str(value) for value in row))
    return table


def render_status(status: ArchiveStatus, console: Console) -> None:
    """Print every part of the status, saying plainly when a part is empty."""
    console.print(
        Group(
            f"schema version {status.schema_version}",
            _table("messages", status.messages, "none yet: run `smsarchive backfill`"),
            _table("date span", status.span, "none"),
            _table("windows done", status.windows, "none"),
            _table("last runs", status.last_runs, "none"),
            _table("media", status.media, "none"),
            _table("rejected rows", status.rejected, "none"),
            _table("carrier statuses that did not map", status.unmapped_statuses, "none"),
        )
    )
