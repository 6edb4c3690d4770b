"""`cocreate db upgrade` on an empty database gives exactly the schema of the models."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner
from sqlmodel import SQLModel

from cocreate import models  # noqa: F401  (registers the tables)
from cocreate.cli import main
from cocreate.database import make_engine
from tests.conftest import POSTGRES_URL, empty_postgres


def test_db_upgrade_on_an_empty_database_matches_the_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    result = CliRunner().invoke(main, ["db", "upgrade"], env={"COCREATE_DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, SQLModel.metadata) == []
            tables = set(sa.inspect(connection).get_table_names())
            journal = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
    finally:
        engine.dispose()
    assert {t.name for t in SQLModel.metadata.sorted_tables} <= tables
    assert journal == "wal"


def test_db_upgrade_twice_changes_nothing(tmp_path: Path) -> None:
    env = {"COCREATE_DATABASE_URL": f"sqlite:///{tmp_path / 'twice.db'}"}
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    again = runner.invoke(main, ["db", "upgrade"], env=env)
    assert again.exit_code == 0
    assert "up to date" in again.output


@pytest.mark.skipif(not POSTGRES_URL, reason="COCREATE_TEST_DATABASE_URL is not set")
def test_db_upgrade_on_an_empty_postgresql_matches_the_models() -> None:
    empty_postgres(POSTGRES_URL)
    env = {"COCREATE_DATABASE_URL": POSTGRES_URL}
    result = CliRunner().invoke(main, ["db", "upgrade"], env=env)
    assert result.exit_code == 0, result.output

    async def differences() -> tuple[list[object], set[str]]:
        engine = make_engine(POSTGRES_URL)
        try:
            async with engine.connect() as connection:

                def compare(sync: sa.Connection) -> tuple[list[object], set[str]]:
                    context = MigrationContext.configure(sync, opts={"compare_type": True})
                    tables = set(sa.inspect(sync).get_table_names())
                    return list(compare_metadata(context, SQLModel.metadata)), tables

                return await connection.run_sync(compare)
        finally:
            await engine.dispose()

    diff, tables = asyncio.run(differences())
    assert diff == []
    assert {t.name for t in SQLModel.metadata.sorted_tables} <= tables
    again = CliRunner().invoke(main, ["db", "upgrade"], env=env)
    assert again.exit_code == 0
    assert "up to date" in again.output
