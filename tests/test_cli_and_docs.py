"""The command line, the README's promises and the settings they document."""

from __future__ import annotations

import asyncio
import codecs
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlmodel import col, select

from cocreate import ballot_file
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
        row = f"| `{name}` |"  # its row of the settings table (the prose may name it before)
        assert row in readme
        assert (f"`{default}`" if default else "*(unset)*") in readme.split(row)[1][:80]
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
    # The first as a user runs it: a fresh interpreter, which has imported nothing yet.
    first = subprocess.run(
        [sys.executable, "-m", "cocreate", "demo"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    second = CliRunner().invoke(main, ["demo"], env=env)
    assert first.returncode == 0, first.stderr

    def but_the_password(output: str) -> str:  # a new one each time (tests/test_lan.py)
        return re.sub(r"password\s*: \S+", "password : …", output)

    assert but_the_password(first.stdout) == but_the_password(second.output)
    assert "demo@cocreate.example" in first.stdout
    assert "/s/" in first.stdout
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


# --- cocreate recount: a file it cannot count is one line and exit status 1 --------------


DROP = object()  # a field left out of the file


def ballot_document(**changes: Any) -> dict[str, Any]:
    """A valid ballot file of a binding approval poll weighed by college, as a dict;
    ``changes`` replace (or DROP) top-level fields, or poll fields named ``poll_NAME``."""
    poll: dict[str, Any] = {
        "question": "Quel lieu ?",
        "method": "approval",
        "rules": {
            "seats": 1,
            "colleges": {
                "1": {"name": "Salariés", "weight": 60, "electorate": 3},
                "2": {"name": "Usagers", "weight": 40, "electorate": 4},
            },
        },
        "secret": True,
        "electorate_size": 7,
        "options": [{"id": "10", "label": "Halle"}, {"id": "11", "label": "Gare"}],
    }
    document: dict[str, Any] = {
        "format": "cocreate-ballots",
        "version": 1,
        "poll": poll,
        "ballots": [
            {"college": "1", "vote": ["10"]},
            {"college": "2", "vote": ["11"]},
            {"college": "2", "vote": ["10", "11"]},
        ],
    }
    for name, value in changes.items():
        target, field = (poll, name[5:]) if name.startswith("poll_") else (document, name)
        if value is DROP:
            del target[field]
        else:
            target[field] = value
    return document


def as_file(document: object) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True).encode()


GOOD = as_file(ballot_document())
MALFORMED: dict[str, bytes] = {
    # The seven files of the issue that printed a traceback, and those counted wrongly.
    "the file is a JSON array": b"[]",
    "poll is a list": as_file(ballot_document(poll=[])),
    "rules is null": as_file(ballot_document(poll_rules=None)),
    "an option without label": as_file(
        ballot_document(poll_options=[{"id": "10"}, {"id": "11", "label": "Gare"}])
    ),
    "no question": as_file(ballot_document(poll_question=DROP)),
    "a college poll whose ballot lacks its college": as_file(ballot_document(ballots=[["10"]])),
    "a college poll whose ballot has only its vote": as_file(
        ballot_document(ballots=[{"vote": ["10"]}])
    ),
    "JSON nested 100,000 deep": GOOD.replace(
        b'"ballots": [', b'"ballots": [' + b"[" * 100_000 + b"]" * 100_000 + b",", 1
    ),
    "ballots is null": as_file(ballot_document(ballots=None)),
    "UTF-16": GOOD.decode().encode("utf-16"),
    "UTF-16 without a byte-order mark": GOOD.decode().encode("utf-16-le"),
    "a byte-order mark": codecs.BOM_UTF8 + GOOD,
    # More of the same kind.
    "an empty file": b"",
    "not JSON": b"ballots: for, against\n",
    "NaN": GOOD.replace(b'"electorate_size": 7', b'"electorate_size": NaN'),
    "a key twice": GOOD.replace(b'"seats": 1', b'"seats": 1, "seats": 2'),
    "no ballots": as_file(ballot_document(ballots=DROP)),
    "an unknown method": as_file(ballot_document(poll_method="raffle")),
    "an unknown option on two lines": as_file(
        ballot_document(ballots=[{"college": "1", "vote": ["Gare\nCentrale"]}])
    ),
    "an unknown college": as_file(ballot_document(ballots=[{"college": "3", "vote": ["10"]}])),
    "weights not adding up to 100": GOOD.replace(b'"weight": 40', b'"weight": 41'),
    "a number of 5,000 digits": GOOD.replace(
        b'"electorate_size": 7', b'"electorate_size": ' + b"9" * 5000
    ),
    "an objection without its reason": as_file(
        ballot_document(
            poll_method="consent",
            poll_rules={},
            poll_options=[],
            ballots=[{"choice": "consent"}, {"choice": "objection", "reason": " "}],
        )
    ),
}


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The real command line, in a process of its own, as an auditor runs it."""
    return subprocess.run(
        [sys.executable, "-m", "cocreate", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_recount_counts_a_good_file(tmp_path: Path) -> None:
    """The control for the malformed files below: 60 % × 1 + 40 % × 1/2 for the hall."""
    assert ballot_file.read(GOOD).method == "approval"
    path = tmp_path / "ballots.json"
    path.write_bytes(GOOD)
    done = run_cli("recount", str(path))
    assert done.returncode == 0, done.stderr
    assert "Winners  : Halle" in done.stdout


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_file_recount_cannot_count_is_one_line_and_exit_status_1(
    case: str, tmp_path: Path
) -> None:
    path = tmp_path / "ballots.json"
    path.write_bytes(MALFORMED[case])
    done = run_cli("recount", str(path))
    assert "Traceback" not in done.stdout + done.stderr
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"Error: {path} is not a ballot file we can count: "), lines[0]
    assert len(lines[0]) < 300


def test_recount_without_a_readable_file_is_a_usage_error(tmp_path: Path) -> None:
    for args in (
        ("recount",),
        ("recount", str(tmp_path / "missing.json")),
        ("recount", str(tmp_path)),
    ):
        done = run_cli(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert "Traceback" not in done.stderr
        assert "Usage:" in done.stderr
