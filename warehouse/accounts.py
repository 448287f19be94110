"""The accounts an archive holds messages of."""

from __future__ import annotations

import duckdb

from warehouse.queries import read_query


def archived_accounts(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every account the archive holds a message of, in order."""
    return [str(row[0]) for row in con.execute(read_query("select_archived_accounts")).fetchall()]


def archived_spelling(accounts: list[str], login: str) -> str:
    """The name the archive keeps `login`'s messages under: `login` itself, or the one archived
    account it equals but for case (an e-mail's case means nothing: typed otherwise one day,
    the account is still archived once)."""
    if login in accounts:
        return login
    same = [account for account in accounts if account.casefold() == login.casefold()]
    return same[0] if len(same) == 1 else login
