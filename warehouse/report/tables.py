"""Runs the report queries (`warehouse/sql/report_*.sql`) and returns one frame per table."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Final

import duckdb
import polars as pl

from warehouse.accounts import archived_accounts, named_accounts
from warehouse.errors import UnknownAccountError, UnknownDidError
from warehouse.queries import query_frame, read_query
from warehouse.report.params import ReportScope

REPORT_TABLES: Final[tuple[str, ...]] = (
    "totals",
    "volume_by_period",
    "volume_by_did",
    "segments_by_encoding",
    "top_contacts",
    "hour_by_weekday",
    "near_send_limit",
    "status_by_period",
    "status_by_did",
    "delivery_rate",
    "failures",
    "unmapped_statuses",
    "reply_stats",
    "media_by_type",
    "media_states",
)
"""Every report table, in the order the report shows them; `report_<name>.sql` answers each."""

PREPARED: Final[tuple[str, ...]] = (
    "scope",
    "local_messages",
    "messages",
    "threads",
    "thread_key",
    "media",
)
"""`report_prepare_<name>.sql`, in order: the scope and its messages with their local time (a
temp table and a temp view), then the temp tables the report tables read: messages counted per
DID, direction, kind, status, encoding and local day; conversations; media of the MMS in scope."""

_PARAMETER = re.compile(r"\$([a-z_]+)")


def _bound(query: str, scope: ReportScope) -> dict[str, object]:
    used = set(_PARAMETER.findall(read_query(query)))
    return {key: value for key, value in scope.parameters().items() if key in used}


def prepare(con: duckdb.DuckDBPyConnection, scope: ReportScope) -> None:
    """Make the temp tables the report tables read, for `scope`, on this connection.

    The archive's messages are read a few times here, not once per report table: on millions of
    messages each read costs about a second. `clean_up` drops them again.
    """
    for name in PREPARED:
        query = _prepare_query(name, scope)
        con.execute(read_query(query), _bound(query, scope)).fetchall()


def _prepare_query(name: str, scope: ReportScope) -> str:
    """`report_prepare_<name>`; for the media of the whole archive, the one without a join."""
    if name == "media" and scope.whole_archive:
        return "report_prepare_media_whole"
    return f"report_prepare_{name}"


def clean_up(con: duckdb.DuckDBPyConnection) -> None:
    """Drop what `prepare` made."""
    con.execute(read_query("report_cleanup")).fetchall()


def prepared_table(con: duckdb.DuckDBPyConnection, name: str, scope: ReportScope) -> pl.DataFrame:
    """One report table, read from what `prepare(con, scope)` made."""
    query = f"report_{name}"
    return query_frame(con, query, _bound(query, scope))


def report_table(con: duckdb.DuckDBPyConnection, name: str, scope: ReportScope) -> pl.DataFrame:
    """One report table: `warehouse/sql/report_<name>.sql` with the parameters it uses bound.

    Prepares the whole scope for it: to read several tables, `report_tables` is far cheaper.
    """
    if name not in REPORT_TABLES:
        raise ValueError(f"no report table {name!r}")
    prepare(con, scope)
    try:
        return prepared_table(con, name, scope)
    finally:
        clean_up(con)


def archived_account(con: duckdb.DuckDBPyConnection, account: str) -> str:
    """The archive's name of `account`: an e-mail typed in other case (or with spaces) is the
    account it names, if just one; UnknownAccountError otherwise."""
    accounts = archived_accounts(con)
    named = named_accounts(accounts, account)
    if len(named) == 1:
        return named[0]
    if named:
        raise UnknownAccountError(
            f"{account} names {len(named)} accounts of the archive ({', '.join(named)}): "
            "give one as written there"
        )
    raise UnknownAccountError(
        f"the archive holds no message of account {account}; "
        f"its accounts: {', '.join(accounts) or 'none yet'}"
    )


def report_tables(con: duckdb.DuckDBPyConnection, scope: ReportScope) -> dict[str, pl.DataFrame]:
    """Every report table for `scope`, by name, in `REPORT_TABLES` order.

    Raises UnknownAccountError or UnknownDidError for an account or a DID the archive holds
    no message of (an empty report of a mistyped one would look like a quiet number).
    """
    if scope.account is not None:
        scope = replace(scope, account=archived_account(con, scope.account))
    if scope.did is not None:
        of_account = {"account": scope.account}
        dids = [
            str(row[0])
            for row in con.execute(read_query("select_archived_dids"), of_account).fetchall()
        ]
        if scope.did not in dids:
            whose = f"account {scope.account}'s" if scope.account is not None else "its"
            raise UnknownDidError(
                f"the archive holds no message on DID {scope.did}"
                + (f" of account {scope.account}" if scope.account is not None else "")
                + f"; {whose} DIDs: {', '.join(dids) or 'none yet'}"
            )
    prepare(con, scope)
    try:
        return {name: prepared_table(con, name, scope) for name in REPORT_TABLES}
    finally:
        clean_up(con)
