"""Which database errors mean "unavailable, try again" (503) and which mean a bug (500),
each made for real: a lock held past the timeout, a read-only transaction, a missing
table, a syntax error."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from cocreate.database import Database, DatabaseUnavailable, core, is_outage
from tests.conftest import POSTGRES_URL


def test_sqlite_locked_past_its_timeout_is_an_outage_and_a_missing_table_a_bug(
    tmp_path: Path,
) -> None:
    path = tmp_path / "locked.db"
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as holder:
        holder.execute("CREATE TABLE t (x)")
        holder.execute("BEGIN IMMEDIATE")  # another process writing, and writing on
        engine = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
        try:
            with engine.connect() as connection:
                with pytest.raises(DBAPIError) as locked:
                    connection.exec_driver_sql("INSERT INTO t VALUES (1)")
                assert is_outage(locked.value)
                connection.rollback()
                with pytest.raises(DBAPIError) as missing:
                    connection.exec_driver_sql("SELECT * FROM no_such_table")
                assert not is_outage(missing.value)
        finally:
            engine.dispose()


async def run(database: Database, *statements: str) -> None:
    async with database.session() as db:
        for statement in statements:
            await core(db, sa.text(statement))


@pytest.mark.skipif(not POSTGRES_URL, reason="COCREATE_TEST_DATABASE_URL is not set")
async def test_postgresql_read_only_is_an_outage_and_a_syntax_error_a_bug() -> None:
    database = Database(POSTGRES_URL)
    try:
        # A standby after a failover answers writes this way (SQLSTATE 25006).
        with pytest.raises(DatabaseUnavailable):
            await run(database, "SET TRANSACTION READ ONLY", "CREATE TEMPORARY TABLE t (x int)")
        with pytest.raises(DBAPIError) as wrong:
            await run(database, "SELEC 1")
        assert not is_outage(wrong.value)
    finally:
        await database.dispose()
