"""A failed transaction ends without its rollback hiding why it failed."""

from __future__ import annotations

import duckdb
import pytest

from warehouse.transactions import roll_back


def test_a_rollback_undoes_the_open_transaction() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (x INTEGER)")
    con.begin()
    con.execute("INSERT INTO t VALUES (1)")
    roll_back(con)
    assert con.execute("SELECT count(*) FROM t").fetchone() == (0,)


def test_with_no_transaction_left_to_roll_back_the_first_error_stands() -> None:
    # as after a commit that failed (a full disk): DuckDB has already ended the transaction
    con = duckdb.connect()
    con.begin()
    con.execute("ROLLBACK")
    with pytest.raises(duckdb.TransactionException):
        con.rollback()  # what the bare call did: this error replaced the commit's
    roll_back(con)  # says nothing: the error being handled is the one to raise
