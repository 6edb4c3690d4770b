"""`cocreate db upgrade` on an empty database gives exactly the schema of the models."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner
from sqlmodel import SQLModel

from cocreate import models  # noqa: F401  (registers the tables)
from cocreate.cli import main


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
