"""`cocreate db upgrade` on an empty database gives exactly the schema of the models."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner
from sqlmodel import SQLModel, col, select

from cocreate import (
    models,  # noqa: F401  (registers the tables)
    register,
)
from cocreate.cli import main
from cocreate.database import Database, make_engine
from cocreate.migrate import upgrade
from cocreate.models import Decision
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


def test_decisions_recorded_before_the_register_are_sealed_in_order(tmp_path: Path) -> None:
    """Upgrading a database with decisions (0006) chains them, oldest first, per project."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0006")
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO facilitator (id, email, display_name, password_hash, created_at)"
                    " VALUES (1, 'a@example.org', 'A', 'x', '2026-01-01 10:00:00')"
                )
            )
            connection.execute(
                sa.text(
                    "INSERT INTO project (id, owner_id, title, need, territory, created_at)"
                    " VALUES (:id, 1, 'P', '', '', '2026-01-01 10:00:00')"
                ),
                [{"id": 1}, {"id": 2}],
            )
            connection.execute(
                sa.text(
                    "INSERT INTO session (id, project_id, title, seq, created_at, premoderation)"
                    " VALUES (:id, :id, 'S', 0, '2026-01-01 10:00:00', 0)"
                ),
                [{"id": 1}, {"id": 2}],
            )
            # Inserted out of order: the register follows the dates.
            connection.execute(
                sa.text(
                    "INSERT INTO decision (id, project_id, session_id, decided_by_id,"
                    " proposal_text, outcome, votes_for, votes_against, votes_abstain, note,"
                    " decided_at, method, summary) VALUES (:id, :project, :project, 1, :text,"
                    " 'adopted', 1, 0, 0, '', :at, 'show_of_hands', '')"
                ),
                [
                    {"id": n, "project": p, "text": f"D{n}", "at": f"2026-02-0{d} 12:00:00.12"}
                    for n, p, d in ((1, 1, 3), (2, 2, 1), (3, 1, 2), (4, 1, 5))
                ],
            )
    finally:
        engine.dispose()
    upgrade(url)

    async def check() -> dict[int, tuple[bool, int, list[str]]]:
        database = Database(url)
        found = {}
        try:
            async with database.session() as db:
                for project in (1, 2):
                    verification = await register.verify(db, project)
                    rows = await db.exec(
                        select(Decision)
                        .where(Decision.project_id == project)
                        .order_by(col(Decision.position))
                    )
                    texts = [d.proposal_text for d in rows.all()]
                    found[project] = (verification.intact, verification.entries, texts)
        finally:
            await database.dispose()
        return found

    assert asyncio.run(check()) == {
        1: (True, 3, ["D3", "D1", "D4"]),
        2: (True, 1, ["D2"]),
    }


def test_ballots_stored_before_sealing_are_rewritten_apart_from_their_receipts(
    tmp_path: Path,
) -> None:
    """Upgrading (0008) rewrites a secret poll's stored ballots in the order of their
    content, moves the receipts to a table of their own, and leaves nothing of the old
    rows in the file: the order in which they were cast is gone."""
    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    upgrade(url, "0008")
    cast = [f'"ballot {n:02d}"' for n in (7, 3, 11, 0, 9, 5, 1, 10, 2, 8, 4, 6)]
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO facilitator (id, email, display_name, password_hash, created_at)"
                    " VALUES (1, 'a@example.org', 'A', 'x', '2026-01-01 10:00:00');"
                )
            )
            connection.execute(
                sa.text(
                    "INSERT INTO project (id, owner_id, title, need, territory, created_at,"
                    " register_length, register_head) VALUES (1, 1, 'P', '', '', "
                    "'2026-01-01 10:00:00', 0, :genesis)"
                ),
                {"genesis": "0" * 64},
            )
            connection.execute(
                sa.text(
                    "INSERT INTO session (id, project_id, title, place, seq, created_at,"
                    " premoderation) VALUES (1, 1, 'S', '', 0, '2026-01-01 10:00:00', 0)"
                )
            )
            connection.execute(
                sa.text(
                    "INSERT INTO poll (id, session_id, question, method, rules, secret,"
                    " binding, created_at) VALUES (1, 1, 'Q', 'yes_no', '{}', 1, 0,"
                    " '2026-01-01 10:00:00')"
                )
            )
            for number, content in enumerate(cast):  # one at a time, as voters cast them
                connection.execute(
                    sa.text(
                        "INSERT INTO ballot (id, poll_id, content, receipt)"
                        " VALUES (:id, 1, :content, :receipt)"
                    ),
                    {"id": f"{number:02d}" * 16, "content": content, "receipt": f"R{number:011d}"},
                )
    finally:
        engine.dispose()

    upgrade(url)

    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            receipts = connection.execute(sa.text("SELECT code FROM ballot_receipt")).all()
            columns = {c["name"] for c in sa.inspect(connection).get_columns("ballot")}
            without_rowid = connection.execute(
                sa.text("SELECT sql FROM sqlite_master WHERE name = 'ballot'")
            ).scalar_one()
    finally:
        engine.dispose()
    assert sorted(code for (code,) in receipts) == [f"R{n:011d}" for n in range(12)]
    assert "receipt" not in columns
    assert "WITHOUT ROWID" in without_rowid
    wal = path.with_name(path.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0  # emptied after the upgrade
    data = path.read_bytes()
    places = {content: data.find(content.encode()) for content in cast}
    assert all(place >= 0 for place in places.values())
    found = sorted(places, key=places.__getitem__)
    assert found in (sorted(cast), sorted(cast)[::-1])  # the content's order, not the casting's
    assert data.count(b'"ballot 07"') == 1  # no older copy left in a freed page
