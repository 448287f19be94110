"""Provider notices: what the API sent that this version did not expect, recorded once each."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import duckdb

from warehouse.queries import read_query
from warehouse.transactions import transaction

NoticeRow = tuple[str, str, str | None]
"""kind ('unknown_field', 'changed_type', 'unmapped_status', 'unknown_error'), subject, example."""


def record_notices(
    con: duckdb.DuckDBPyConnection,
    notices: Iterable[NoticeRow],
    *,
    provider: str,
    account: str,
    seen_at: datetime,
) -> list[NoticeRow]:
    """Upsert the notices in one transaction (first sighting kept, last sighting moved on).

    Returns the ones this archive had never met before, so a run can announce only those.
    """
    unique = sorted(set(notices), key=str)
    new: list[NoticeRow] = []
    if not unique:
        return new
    with transaction(con):
        for kind, subject, example in unique:
            params = {
                "provider": provider,
                "account": account,
                "kind": kind,
                "subject": subject,
                "example": example,
                "seen_at": seen_at,
            }
            # new when the insert took it: a sighting at the same instant as the first (a
            # replay of the answer that first showed it) is not new
            if con.execute(read_query("insert_provider_notice"), params).fetchall():
                new.append((kind, subject, example))
            else:
                con.execute(read_query("update_provider_notice"), params)
    return new
