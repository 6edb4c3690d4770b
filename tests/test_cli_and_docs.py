"""The command line, the README's promises and the settings they document."""

from __future__ import annotations

import asyncio
from pathlib import Path

from click.testing import CliRunner
from sqlmodel import col, select

from cocreate.accounts import authenticate
from cocreate.cli import main
from cocreate.database import Database
from cocreate.models import FacilitationScript, Facilitator, Step
from cocreate.settings import Settings, describe

ROOT = Path(__file__).resolve().parent.parent


def test_help_lists_the_commands_and_every_setting() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "db", "facilitator", "demo"):
        assert command in result.output
    for name, _default, _help in describe():
        assert name in result.output
    db_help = CliRunner().invoke(main, ["db", "--help"])
    assert "upgrade" in db_help.output
    facilitator_help = CliRunner().invoke(main, ["facilitator", "--help"])
    assert "add" in facilitator_help.output


def test_readme_documents_every_setting_with_its_default_and_both_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    for name, default, _help in describe():
        assert f"`{name}`" in readme
        assert (f"`{default}`" if default else "*(unset)*") in readme.split(f"`{name}`")[1][:80]
    assert "make run" in readme
    assert "make test" in readme


def test_settings_from_the_environment() -> None:
    settings = Settings.from_env(
        {"COCREATE_PORT": "9001", "COCREATE_HTTPS_ONLY": "true", "COCREATE_DEFAULT_LOCALE": "en"}
    )
    assert settings.port == 9001
    assert settings.https_only is True
    assert settings.default_locale == "en"
    assert Settings.from_env({}).database_url == "sqlite:///cocreate.db"
    assert "s3cr3t-value" not in repr(Settings(secret_key="s3cr3t-value"))


def test_facilitator_add_creates_an_account_with_an_argon2_hash(database_url: str) -> None:
    env = {"COCREATE_DATABASE_URL": database_url}
    result = CliRunner().invoke(
        main,
        ["facilitator", "add", "lea@example.org", "--name", "Léa", "--password", "un mot de passe"],
        env=env,
    )
    assert result.exit_code == 0, result.output
    again = CliRunner().invoke(
        main,
        ["facilitator", "add", "lea@example.org", "--name", "Léa", "--password", "un mot de passe"],
        env=env,
    )
    assert again.exit_code != 0
    assert "already exists" in again.output
    short = CliRunner().invoke(
        main, ["facilitator", "add", "x@example.org", "--name", "X", "--password", "court"], env=env
    )
    assert short.exit_code != 0
    assert "10 to 200 characters" in short.output

    async def check() -> None:
        database = Database(database_url)
        try:
            async with database.session() as db:
                stored = (await db.exec(select(Facilitator))).one()
                assert stored.password_hash.startswith("$argon2id$")
                assert await authenticate(
                    db=db, email="LEA@example.org ", password="un mot de passe"
                )
                assert await authenticate(db=db, email="lea@example.org", password="wrong") is None
        finally:
            await database.dispose()

    asyncio.run(check())


def test_demo_is_created_once_and_printed(database_url: str) -> None:
    env = {"COCREATE_DATABASE_URL": database_url}
    first = CliRunner().invoke(main, ["demo"], env=env)
    second = CliRunner().invoke(main, ["demo"], env=env)
    assert first.exit_code == 0, first.output
    assert first.output == second.output
    assert "demo@cocreate.example" in first.output
    assert "/s/" in first.output
    # Its session has an agenda ready to start, once, and the same saved as a script.

    async def stored() -> tuple[list[str], int]:
        handle = Database(database_url)
        try:
            async with handle.session() as db:
                kinds = (await db.exec(select(Step.kind).order_by(col(Step.position)))).all()
                scripts = (await db.exec(select(FacilitationScript))).all()
                return list(kinds), len(scripts)
        finally:
            await handle.dispose()

    kinds, scripts = asyncio.run(stored())
    assert kinds == ["info", "needs", "ideas", "discussion", "grouping", "vote", "decision"]
    assert scripts == 1


def test_several_workers_need_a_shared_fan_out() -> None:
    refused = CliRunner().invoke(
        main, ["serve", "--workers", "2"], env={"COCREATE_PUBSUB_URL": "memory://"}
    )
    assert refused.exit_code == 2
    assert "COCREATE_PUBSUB_URL" in refused.output
