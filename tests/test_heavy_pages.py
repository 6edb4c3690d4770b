"""One facilitator's heavy request does not freeze the server: while a roster's sheet
of 5,000 QR codes, its import, or the minutes of a large assembly as PDF are drawn,
every other request is still answered, ``/health`` within a second.

The server runs in this test's process and loop, as the other real-server tests:
``/health`` is polled from another client every 50 ms while the heavy page is drawn;
a page drawn on the loop would hold every answer until it is done (the sheet of 5,000
members: a minute and more)."""

from __future__ import annotations

import asyncio
import io
import re
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime

import httpx
import pytest
import segno
import sqlalchemy as sa
from sqlmodel import col, select

from cocreate import qr
from cocreate.database import core
from cocreate.heavy import HeavyWork
from cocreate.models import Comment, Member, Participant, Proposal, Vote
from tests.conftest import ONCE, Browser, OpenSession
from tests.test_minutes_pdf import pdf_text

HEALTH_WITHIN_S = 1.0
POLL_EVERY_S = 0.05
SHEET_MEMBERS = 5_000
ASSEMBLY_MEMBERS = 1_000
WALL_PEOPLE, WALL_IDEAS, WALL_VOTES = 2_000, 3_000, 20_000
# The sheet takes a minute or more of CPU on a loaded two-core machine.
LONG_S = 900


async def health_while(
    open_session: OpenSession, heavy: Callable[[], Awaitable[httpx.Response]]
) -> tuple[httpx.Response, list[float]]:
    """The heavy request's answer, and how long each ``/health`` asked meanwhile took."""
    watcher = Browser(open_session.server)
    open_session.devices.append(watcher)
    drawn = asyncio.create_task(heavy())
    waits: list[float] = []
    while not drawn.done():
        start = time.perf_counter()
        answer = await watcher.http.get("/health", timeout=LONG_S)
        waits.append(time.perf_counter() - start)
        assert answer.status_code == 200
        await asyncio.sleep(POLL_EVERY_S)
    return await drawn, waits


def roster_csv(count: int) -> str:
    lines = (f"Membre {n:05d};{n:05d};;Collège {n % 3}" for n in range(count))
    return "nom;numéro;courriel;collège\n" + "\n".join(lines) + "\n"


def drawn_as_before(url: str) -> str:
    """A member's QR code as the sheet drew it on the loop before (the same bytes)."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(
        buffer, kind="svg", scale=4, border=1, xmldecl=False, svgns=True, omitsize=True
    )
    return buffer.getvalue().decode()


@ONCE  # the drawing does not depend on the database, and takes a minute
@pytest.mark.timeout(LONG_S)
async def test_the_server_answers_while_a_5000_member_roster_is_imported_and_drawn(
    open_session: OpenSession,
) -> None:
    facilitator = open_session.facilitator

    async def import_roster() -> httpx.Response:
        return await facilitator.http.post(
            "/roster/import",
            data={"csrf_token": facilitator.csrf},
            files={"file": ("roster.csv", roster_csv(SHEET_MEMBERS).encode(), "text/csv")},
            timeout=LONG_S,
        )

    imported, waits = await health_while(open_session, import_roster)
    assert imported.status_code == 200, imported.text
    assert f"Import done: {SHEET_MEMBERS:,} added, 0 updated." in imported.text
    assert max(waits) < HEALTH_WITHIN_S, f"/health waited {max(waits):.2f} s during the import"

    async def sheet() -> httpx.Response:
        return await facilitator.http.get("/roster/sheet", timeout=LONG_S)

    drawn, waits = await health_while(open_session, sheet)
    assert drawn.status_code == 200
    assert len(waits) > 10  # the drawing took a while: /health was asked meanwhile
    assert max(waits) < HEALTH_WITHIN_S, f"/health waited {max(waits):.2f} s during the sheet"
    # Every member has their card, each QR code as it was drawn before.
    assert drawn.text.count('<li class="code-card">') == SHEET_MEMBERS
    async with open_session.server.db.session() as db:
        members = (await db.exec(select(Member).order_by(col(Member.number)))).all()
    for member in (members[0], members[SHEET_MEMBERS // 2], members[-1]):
        url = f"{open_session.server.base_url}/m/{member.voting_code}"
        assert drawn_as_before(url) in drawn.text
    assert drawn.text.index(members[0].voting_code) < drawn.text.index(members[1].voting_code)


@ONCE
@pytest.mark.timeout(LONG_S)
async def test_the_server_answers_while_the_minutes_of_a_large_assembly_are_drawn(
    open_session: OpenSession,
) -> None:
    """An assembly where a thousand members came: the minutes list each of them."""
    imported = await open_session.facilitator.http.post(
        "/roster/import",
        data={"csrf_token": open_session.facilitator.csrf},
        files={"file": ("roster.csv", roster_csv(ASSEMBLY_MEMBERS).encode(), "text/csv")},
        timeout=LONG_S,
    )
    assert imported.status_code == 200, imported.text
    async with open_session.server.db.session() as db:
        ids = (await db.exec(select(Member.id))).all()
        await core(
            db,
            sa.insert(Participant),
            [
                {"session_id": open_session.session_id, "display_name": f"M{n}", "member_id": n}
                for n in ids
            ],
        )
        await db.commit()
    minutes = f"/sessions/{open_session.session_id}/minutes"
    for path in (minutes, f"/sessions/{open_session.session_id}/console"):

        async def page(path: str = path) -> httpx.Response:
            return await open_session.facilitator.http.get(path, timeout=LONG_S)

        shown, waits = await health_while(open_session, page)
        assert shown.status_code == 200, path
        assert max(waits) < HEALTH_WITHIN_S, f"/health waited {max(waits):.2f} s for {path}"

    async def pdf() -> httpx.Response:
        return await open_session.facilitator.http.get(minutes + ".pdf?lang=fr", timeout=LONG_S)

    drawn, waits = await health_while(open_session, pdf)
    assert drawn.status_code == 200, drawn.text
    assert len(waits) > 10
    assert max(waits) < HEALTH_WITHIN_S, f"/health waited {max(waits):.2f} s during the PDF"
    text = " ".join(pdf_text(drawn.content).split())
    # "1 000", grouped as French writes it (a narrow no-break space, a space once read).
    assert f"{ASSEMBLY_MEMBERS:,} membres présents".replace(",", " ") in text
    assert re.search(r"Membre 00999 \(00999\)", text), text[-500:]


@ONCE
@pytest.mark.timeout(LONG_S)
async def test_the_server_answers_while_a_wall_of_thousands_of_contributions_is_read(
    open_session: OpenSession,
) -> None:
    """A long day of consultation: 3,000 ideas, 6,000 comments, 20,000 votes. The
    console, the projector, the minutes and the downloads read all of it: seconds of
    work that ran on the loop (``/health`` waited as long as the page, 1 to 3 s here),
    now read apart. Each page's answer is its whole wall."""
    now = datetime.now(UTC)
    async with open_session.server.db.session() as db:
        await core(
            db,
            sa.insert(Participant),
            [
                {"session_id": open_session.session_id, "display_name": f"P{n}"}
                for n in range(WALL_PEOPLE)
            ],
        )
        people = (await db.exec(select(Participant.id))).all()
        await core(
            db,
            sa.insert(Proposal),
            [
                {
                    "session_id": open_session.session_id,
                    "author_id": people[n % WALL_PEOPLE],
                    "text": f"Idée {n:04d} : " + "une navette solidaire " * 4,
                    "created_at": now,
                }
                for n in range(WALL_IDEAS)
            ],
        )
        ideas = (await db.exec(select(Proposal.id).order_by(col(Proposal.id)))).all()
        await core(
            db,
            sa.insert(Comment),
            [
                {
                    "proposal_id": ideas[n % WALL_IDEAS],
                    "author_id": people[n % WALL_PEOPLE],
                    "text": f"Commentaire {n} : " + "avec des bénévoles " * 4,
                }
                for n in range(2 * WALL_IDEAS)
            ],
        )
        await core(
            db,
            sa.insert(Vote),
            [
                {
                    "proposal_id": ideas[n % WALL_IDEAS],
                    "participant_id": people[n // WALL_IDEAS],
                    "choice": "for",
                    "cast_at": now,
                }
                for n in range(WALL_VOTES)
            ],
        )
        await db.commit()
    screen = await open_session.projector()
    session = f"/sessions/{open_session.session_id}"
    pages = {
        f"{session}/console": open_session.facilitator,
        f"/s/{open_session.code}/screen": screen,
        f"{session}/minutes": open_session.facilitator,
        f"{session}/contributions.csv": open_session.facilitator,
        f"/projects/{open_session.project_id}/export/proposals.json": open_session.facilitator,
    }
    for path, reader in pages.items():

        async def page(path: str = path, reader: Browser = reader) -> httpx.Response:
            return await reader.http.get(path, timeout=LONG_S)

        shown, waits = await health_while(open_session, page)
        assert shown.status_code == 200, path
        assert f"Idée {WALL_IDEAS - 1:04d}" in shown.text, path
        assert max(waits) < HEALTH_WITHIN_S, f"/health waited {max(waits):.2f} s for {path}"


async def test_a_server_going_away_stops_its_drawing_at_once() -> None:
    """Queued chunks are dropped and a worker still drawing is stopped: nobody waits
    for a sheet whose server is gone (nor does the server's shutdown)."""
    heavy = HeavyWork(workers=1)
    urls = [f"http://127.0.0.1/m/{n:08d}" for n in range(2_000)]
    sheet = asyncio.create_task(heavy.map(qr.card_svgs, urls, chunk=200))
    first = await heavy.run(qr.card_svgs, urls[:1])  # the worker is up, the sheet queued
    assert first == [drawn_as_before(urls[0])]
    pool = heavy._pool
    assert isinstance(pool, ProcessPoolExecutor)
    workers = list(pool._processes.values())  # (no public list before Python 3.14)
    heavy.close()
    with pytest.raises((BrokenProcessPool, asyncio.CancelledError)):
        await asyncio.wait_for(sheet, 10)
    for worker in workers:
        worker.join(5)
        assert not worker.is_alive()
