"""The accounts an archive holds messages of."""

from __future__ import annotations

import duckdb

from warehouse.queries import read_query


def archived_accounts(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every account the archive holds a message of, in order."""
    return [str(row[0]) for row in con.execute(read_query("select_archived_accounts")).fetchall()]


def named_accounts(accounts: list[str], name: str) -> list[str]:
    """The archived `accounts` an e-mail names: itself when archived, else those it equals
    but for case and surrounding spaces (an e-mail's case means nothing)."""
    if name in accounts:
        return [name]
    return [a for a in accounts if a.strip().casefold() == name.strip().casefold()]


def archived_spelling(accounts: list[str], login: str) -> str:
    """The name the archive keeps `login`'s messages under: `login` itself, or the one archived
    account it names (typed otherwise one day, the account is still archived once)."""
    named = named_accounts(accounts, login)
    return named[0] if len(named) == 1 else login
