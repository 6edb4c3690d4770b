"""The decision register: every decision with where it came from, sealed in a chain that
`cocreate verify` checks; corrections as new entries; random tampering always caught."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import random
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlmodel import col, select

from cocreate import accounts, projects, register
from cocreate.cli import main
from cocreate.database import Database
from cocreate.models import GENESIS_HASH, Decision, Outcome, Project
from tests.conftest import OpenSession, signed_in
from tests.test_live_session import proposal_id_of


def verify_cli(database_url: str, project_id: int) -> tuple[int, str]:
    result = CliRunner().invoke(
        main, ["verify", str(project_id)], env={"COCREATE_DATABASE_URL": database_url}
    )
    return result.exit_code, result.output


async def test_every_decision_joins_the_register_with_where_it_came_from(
    open_session: OpenSession,
) -> None:
    code, session_id = open_session.code, open_session.session_id
    steps = (("needs", "Besoins"), ("ideas", "Idées"), ("discussion", "Débat"), ("vote", "Vote"))
    for kind, title in steps:
        await open_session.facilitator.post(
            f"/sessions/{session_id}/steps",
            {"kind": kind, "title": title, "prompt": "", "minutes": "", "auto_close": "1"},
        )
    phone = await open_session.phone("Awa")
    await open_session.facilitator.post(f"/sessions/{session_id}/agenda/start")
    await phone.post(f"/s/{code}/needs", {"text": "Les enfants n'ont pas de lieu le soir"})
    need_id = await proposal_id_of(open_session, "Les enfants n'ont pas de lieu le soir")
    await open_session.facilitator.post(f"/sessions/{session_id}/agenda/next")
    proposed = await phone.post(
        f"/s/{code}/proposals", {"text": "Ouvrir la salle des fêtes le soir", "need": str(need_id)}
    )
    assert proposed.status_code == 200, proposed.text
    idea_id = await proposal_id_of(open_session, "Ouvrir la salle des fêtes le soir")
    await open_session.facilitator.post(f"/sessions/{session_id}/agenda/next")
    said = await phone.post(
        f"/s/{code}/proposals/{idea_id}/comments", {"text": "Avec des bénévoles"}
    )
    assert said.status_code == 200, said.text
    await open_session.facilitator.post(f"/sessions/{session_id}/agenda/next")
    await phone.post(f"/s/{code}/proposals/{idea_id}/vote", {"choice": "for"})

    # 1: a show of hands on the idea.
    decided = await open_session.facilitator.post(
        f"/sessions/{session_id}/proposals/{idea_id}/decision", {"outcome": "adopted", "note": ""}
    )
    assert decided.status_code == 200, decided.text
    # 2: a poll, with its rules.
    made = await open_session.facilitator.post(
        f"/sessions/{session_id}/polls",
        {"question": "Le mercredi aussi ?", "method": "yes_no", "majority": "two_thirds"},
        htmx=False,
    )
    assert made.status_code == 303, made.text
    async with open_session.server.db.session() as db:
        poll_id = (await db.exec(sa.text("SELECT id FROM poll"))).scalar_one()
    for action in ("open", "close"):
        done = await open_session.facilitator.post(
            f"/sessions/{session_id}/polls/{poll_id}/{action}", htmx=False
        )
        assert done.status_code == 303, done.text
    # 3: a facilitator's call, taken outside cocreate; the note says how.
    base = f"/projects/{open_session.project_id}/decisions"
    no_how = await open_session.facilitator.post(
        base, {"text": "Assurer la salle", "outcome": "adopted", "note": " "}, htmx=False
    )
    assert no_how.status_code == 422
    assert "Say how it was decided" in no_how.text
    called = await open_session.facilitator.post(
        base,
        {"text": "Assurer la salle", "outcome": "adopted", "note": "Bureau du 3 mars"},
        htmx=False,
    )
    assert called.status_code == 303, called.text
    call_url = called.headers["location"]
    # 4: its correction, a new entry naming the one it amends.
    correction = await open_session.facilitator.post(
        call_url + "/correction",
        {"text": "Assurer la salle et le matériel", "outcome": "adopted", "note": "Oubli"},
        htmx=False,
    )
    assert correction.status_code == 303, correction.text

    async with open_session.server.db.session() as db:
        entries = (await db.exec(select(Decision).order_by(col(Decision.position)))).all()
    assert [d.position for d in entries] == [1, 2, 3, 4]
    assert [d.method for d in entries] == ["show_of_hands", "yes_no", "facilitator", "facilitator"]
    assert entries[2].session_id is None
    assert entries[3].amends_id == entries[2].id
    assert entries[2].proposal_text == "Assurer la salle"  # never edited in place
    assert all(d.prev_hash == p.entry_hash for p, d in itertools.pairwise(entries))

    # Need → proposal → comments → result, copied when it was decided.
    origin = json.loads(entries[0].provenance)
    assert origin["proposals"] == [
        {
            "id": idea_id,
            "text": "Ouvrir la salle des fêtes le soir",
            "needs": ["Les enfants n'ont pas de lieu le soir"],
            "comments": ["Avec des bénévoles"],
        }
    ]
    poll_origin = json.loads(entries[1].provenance)["poll"]
    assert poll_origin["question"] == "Le mercredi aussi ?"
    assert poll_origin["rules"]["majority"] == "two_thirds"
    assert poll_origin["result"]["method"] == "yes_no"

    page = await open_session.facilitator.get(
        f"/projects/{open_session.project_id}/decisions/{entries[0].id}"
    )
    assert page.status_code == 200
    for text in ("Les enfants n&#39;ont pas de lieu le soir", "Avec des bénévoles", "Seal"):
        assert text in page.text
    assert entries[0].entry_hash in page.text

    register_page = (await open_session.facilitator.get(base)).text
    assert "The register's 4 entries are intact" in register_page
    assert entries[3].entry_hash in register_page
    assert "Corrected by entry 4." in register_page
    assert "Corrects entry 3." in register_page

    assert await asyncio.to_thread(
        verify_cli, open_session.server.database_url, open_session.project_id
    ) == (
        0,
        f"Project {open_session.project_id}: the register's 4 entries are intact.\n"
        f"Last seal: {entries[3].entry_hash}\n",
    )


async def test_a_correction_names_an_entry_of_the_same_project(open_session: OpenSession) -> None:
    other = await signed_in(open_session.server, "dominique@example.org")
    made = await other.post("/projects", {"title": "Autre", "need": "N"}, htmx=False)
    other_project = int(made.headers["location"].rsplit("/", 1)[1])
    called = await other.post(
        f"/projects/{other_project}/decisions",
        {"text": "Leur décision", "outcome": "adopted", "note": "CA"},
        htmx=False,
    )
    theirs = int(called.headers["location"].rsplit("/", 1)[1])
    # Through my project's address, their entry is not found; through theirs, not mine.
    fix = {"text": "Détournée", "outcome": "rejected", "note": "Pour voir"}
    mine = f"/projects/{open_session.project_id}/decisions/{theirs}/correction"
    assert (await open_session.facilitator.post(mine, fix, htmx=False)).status_code == 404
    through_theirs = f"/projects/{other_project}/decisions/{theirs}/correction"
    assert (await open_session.facilitator.post(through_theirs, fix, htmx=False)).status_code == 403
    async with open_session.server.db.session() as db:
        assert len((await db.exec(select(Decision))).all()) == 1
    await other.close()


async def test_decisions_taken_at_once_get_one_place_each_in_the_chain(
    open_session: OpenSession,
) -> None:
    base = f"/projects/{open_session.project_id}/decisions"

    async def call(n: int) -> int:
        form = {"text": f"Décision {n}", "outcome": "adopted", "note": "Assemblée"}
        return (await open_session.facilitator.post(base, form, htmx=False)).status_code

    assert await asyncio.gather(*(call(n) for n in range(12))) == [303] * 12
    async with open_session.server.db.session() as db:
        found = await register.verify(db, open_session.project_id)
    assert found.intact, found.reason
    assert found.entries == 12


# --- tampering -------------------------------------------------------------------------

ENTRIES = 8
# Columns a tamperer may change, and a new value for each (from the row's own values).
EDITS = {
    "proposal_text": lambda d: d.proposal_text + " (modifié)",
    "outcome": lambda d: "rejected" if d.outcome == "adopted" else "adopted",
    "votes_for": lambda d: d.votes_for + 1,
    "note": lambda d: d.note + ".",
    "method": lambda d: "schulze",
    "summary": lambda d: "Option B",
    "provenance": lambda d: d.provenance.replace("[]", "[1]"),
    "decided_by_id": lambda d: d.decided_by_id + 1,
    "decided_at": lambda d: d.decided_at.replace(year=d.decided_at.year - 1),
    "prev_hash": lambda d: "f" * 64,
    "entry_hash": lambda d: "e" * 64,
    "turnout": lambda d: (d.turnout or 0) + 5,
    "quorum_met": lambda d: not d.quorum_met,
}


async def build_register(database_url: str) -> tuple[Database, int]:
    database = Database(database_url)
    async with database.session() as db:
        owner = await accounts.add_facilitator(
            db=db, email="registre@example.org", display_name="Reg", password="x" * 12
        )
        await accounts.add_facilitator(
            db=db, email="autre@example.org", display_name="Autre", password="x" * 12
        )
        project = await projects.create_project(
            db=db, owner=owner, title="Registre", need="Besoin", territory=""
        )
        pid = project.id
        assert pid is not None
        for n in range(1, ENTRIES + 1):
            await register.record_call(
                db=db,
                facilitator=owner,
                project_id=pid,
                text=f"Décision {n}",
                outcome=Outcome.ADOPTED,
                note=f"Besoin exprimé à la réunion {n}",
            )
        first = (await db.exec(select(Decision).where(Decision.position == 2))).one()
        await register.record_correction(
            db=db,
            facilitator=owner,
            project_id=pid,
            decision_id=first.id or 0,
            text="Décision 2, corrigée",
            outcome=Outcome.ADOPTED,
            note="Erreur",
        )
    return database, pid


async def tampered(database: Database, project_id: int, tamper: str) -> register.Verification:
    """Verify the register as it is with one tampering, then undo it (a rollback)."""
    async with database.session() as db:
        rows = {
            d.position: d
            for d in (
                await db.exec(select(Decision).where(Decision.project_id == project_id))
            ).all()
        }
        table = sa.table(
            "decision", *(sa.column(c) for c in (*EDITS, "id", "position", "amends_id"))
        )
        kind, _, rest = tamper.partition(":")
        if kind == "edit":
            column, position = rest.split("@")
            row = rows[int(position)]
            await db.exec(
                table.update().where(table.c.id == row.id).values({column: EDITS[column](row)})
            )
        elif kind == "delete":
            await db.exec(table.delete().where(table.c.id == rows[int(rest)].id))
        elif kind == "swap":
            a, b = (rows[int(p)] for p in rest.split("-"))
            for row_id, position in ((a.id, -1), (b.id, a.position), (a.id, b.position)):
                await db.exec(table.update().where(table.c.id == row_id).values(position=position))
        elif kind == "amends":
            row = rows[int(rest)]
            await db.exec(table.update().where(table.c.id == row.id).values(amends_id=rows[1].id))
        found = await register.verify(db, project_id)
        await db.rollback()
    return found


def expected_first_bad(tamper: str) -> int:
    kind, _, rest = tamper.partition(":")
    if kind == "edit":
        return int(rest.split("@")[1])
    if kind == "swap":
        return min(int(p) for p in rest.split("-"))
    return int(rest)


async def test_verify_names_the_first_entry_that_was_tampered_with(database_url: str) -> None:
    database, project_id = await build_register(database_url)
    length = ENTRIES + 1
    try:
        async with database.session() as db:
            untouched = await register.verify(db, project_id)
        assert untouched.intact
        assert untouched.entries == length

        draw = random.Random(20261129)
        tampers = [f"edit:{column}@{draw.randint(1, length)}" for column in EDITS]
        tampers += [f"edit:{draw.choice(list(EDITS))}@{n}" for n in range(1, length + 1)]
        tampers += [f"delete:{n}" for n in (1, draw.randint(2, length - 1), length)]
        tampers += [f"swap:{a}-{b}" for a, b in (sorted(draw.sample(range(1, length + 1), 2)),)]
        tampers += ["swap:1-2", f"swap:{length - 1}-{length}", f"amends:{draw.randint(2, 8)}"]
        for tamper in tampers:
            found = await tampered(database, project_id, tamper)
            assert found.first_bad == expected_first_bad(tamper), (tamper, found)

        # The command line names it too, and fails.
        async with database.session() as db:
            last = (await db.exec(select(Decision).where(Decision.position == length))).one()
            await db.exec(sa.delete(Decision).where(col(Decision.id) == last.id))
            await db.commit()
        status, output = await asyncio.to_thread(verify_cli, database_url, project_id)
        assert status == 1
        assert f"Project {project_id}: entry {length} does not match." in output
        assert f"entry {length} is missing" in output
        async with database.session() as db:
            project = await db.get(Project, project_id)
            assert project is not None
            project.register_length -= 1
            project.register_head = last.prev_hash  # a tamperer who knows to cover up…
            db.add(project)
            await db.commit()
        assert (await asyncio.to_thread(verify_cli, database_url, project_id))[
            0
        ] == 0  # …is caught by a kept seal only
    finally:
        await database.dispose()


def test_verify_of_an_unknown_project_says_so(database_url: str) -> None:
    status, output = verify_cli(database_url, 404)
    assert status == 1
    assert "project 404: This project does not exist." in output


@pytest.mark.parametrize("tamper", ["edit:note@1", "delete:1"])
async def test_the_register_page_says_when_the_chain_is_broken(
    open_session: OpenSession, tamper: str
) -> None:
    base = f"/projects/{open_session.project_id}/decisions"
    for n in (1, 2):
        form = {"text": f"Décision {n}", "outcome": "adopted", "note": "CA"}
        await open_session.facilitator.post(base, form, htmx=False)
    async with open_session.server.db.session() as db:
        first = (await db.exec(select(Decision).where(Decision.position == 1))).one()
        if tamper == "delete:1":
            await db.exec(sa.delete(Decision).where(col(Decision.id) == first.id))
        else:
            first.note = "Réécrit"
            db.add(first)
        await db.commit()
    page = (await open_session.facilitator.get(base)).text
    assert re.search(r'role="alert">Entry 1 of the register does not match its seal', page)


def test_the_documented_example_seals_as_the_documentation_says() -> None:
    """docs/register.md lets anyone check a register without cocreate: its example must
    be what the code seals."""
    text = (Path(__file__).parent.parent / "docs" / "register.md").read_text()
    example = re.search(r"```json\n(.+?)\n```", text, re.S)
    stated = re.search(r"Its seal, chained to 64 zeros:\n\n    ([0-9a-f]{64})", text)
    assert example is not None
    assert stated is not None
    content = json.loads(example.group(1))
    assert register.seal(GENESIS_HASH, content) == stated.group(1)
    # The example is the content of a real entry, as sealed_content builds it.
    decision = Decision(
        project_id=3,
        position=1,
        decided_by_id=1,
        decided_at=datetime(2026, 9, 2, 18, 30, tzinfo=UTC),
        proposal_text=content["text"],
        outcome=Outcome.ADOPTED,
        votes_for=0,
        votes_against=0,
        votes_abstain=0,
        note=content["note"],
        method="facilitator",
        provenance=content["provenance"],
    )
    assert register.sealed_content(decision, None) == content


def reseal(previous: str, entry: dict[str, Any]) -> str:
    """docs/register.md's recipe, applied to an entry of the published decisions file."""
    content = {
        "format": 1,
        "project": entry["project_id"],
        "position": entry["position"],
        "session": entry["session_id"],
        "proposal": entry["proposal_id"],
        "poll": entry["poll_id"],
        "amends": entry["amends_position"],
        "decided_by": entry["decided_by_id"],
        "decided_at": entry["decided_at"],
        "text": entry["text"],
        "outcome": entry["outcome"],
        "votes": [entry["votes"][k] for k in ("for", "against", "abstain")],
        "method": entry["method"],
        "summary": entry["summary"],
        "electorate": entry["electorate_size"],
        "turnout": entry["turnout"],
        "quorum_met": entry["quorum_met"],
        "ballots_sha256": entry["ballots_sha256"],
        "note": entry["note"],
        "provenance": json.dumps(entry["provenance"], ensure_ascii=False, sort_keys=True),
    }
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{previous}\n{canonical}".encode()).hexdigest()


async def test_anyone_can_check_the_published_register_without_cocreate(
    open_session: OpenSession,
) -> None:
    base = f"/projects/{open_session.project_id}/decisions"
    phone = await open_session.phone("Awa")
    await phone.post(f"/s/{open_session.code}/proposals", {"text": "Un « café » des parents"})
    idea = await proposal_id_of(open_session, "Un « café » des parents")
    await phone.post(f"/s/{open_session.code}/proposals/{idea}/comments", {"text": "Oui, le mardi"})
    await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/proposals/{idea}/decision", {"outcome": "adopted"}
    )
    called = await open_session.facilitator.post(
        base, {"text": "Assurer le local", "outcome": "adopted", "note": "CA"}, htmx=False
    )
    await open_session.facilitator.post(
        called.headers["location"] + "/correction",
        {"text": "Assurer le local et le matériel", "outcome": "adopted", "note": "Oubli"},
        htmx=False,
    )
    published = await open_session.facilitator.http.get(
        f"/projects/{open_session.project_id}/export/decisions.json"
    )
    document = json.loads(published.content)
    previous = GENESIS_HASH
    entries = sorted(document["decisions"], key=lambda e: e["position"])
    assert len(entries) == 3
    for entry in entries:
        assert entry["seal"]["prev_hash"] == previous
        assert reseal(previous, entry) == entry["seal"]["entry_hash"], entry["position"]
        previous = entry["seal"]["entry_hash"]
    assert document["verification"]["head"] == previous
