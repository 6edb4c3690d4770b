"""An action sent twice counts once: a phone's join, need, proposal and comment carry a
key the phone made, and the same key again (a retry after no answer, a double tap, the
same request racing itself, a server restarted between the two) stores nothing more and
is answered as the first time was."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from sqlmodel import col, func, select

from cocreate.database import Database
from cocreate.models import ActionKey, Comment, Participant, Proposal, ProposalKind
from cocreate.settings import Settings
from tests.browsing import LIVE_MS, NEEDS_CHROMIUM, Console, phone_joined
from tests.conftest import (
    Browser,
    OpenSession,
    Server,
    open_session_for,
    signed_in,
    start_server,
)


def new_key() -> str:
    return secrets.token_urlsafe(16)  # 22 characters: what the page's script makes


async def count(open_session: OpenSession, model: type, *where: object) -> int:
    async with open_session.server.db.session() as db:
        query = select(func.count()).select_from(model)
        for condition in where:
            query = query.where(condition)
        return (await db.exec(query)).one()


async def test_a_proposal_a_need_and_a_comment_sent_twice_are_stored_once(
    open_session: OpenSession,
) -> None:
    code = open_session.code
    phone = await open_session.phone("Awa")
    proposal_key = new_key()
    for _ in range(2):
        sent = await phone.post(
            f"/s/{code}/proposals", {"text": "Une navette", "action_key": proposal_key}
        )
        assert sent.status_code == 200, sent.text
    assert await count(open_session, Proposal, col(Proposal.kind) == ProposalKind.IDEA) == 1
    async with open_session.server.db.session() as db:
        proposal = (await db.exec(select(Proposal))).first()
        assert proposal is not None
    comment_key = new_key()
    for _ in range(3):
        said = await phone.post(
            f"/s/{code}/proposals/{proposal.id}/comments",
            {"text": "Oui !", "action_key": comment_key},
        )
        assert said.status_code == 200, said.text
    assert await count(open_session, Comment) == 1
    # Another key is another action: the same words twice are two comments.
    again = await phone.post(
        f"/s/{code}/proposals/{proposal.id}/comments", {"text": "Oui !", "action_key": new_key()}
    )
    assert again.status_code == 200
    assert await count(open_session, Comment) == 2
    # Without a key (a plain form, a script), as before: each post is stored.
    for _ in range(2):
        plain = await phone.post(f"/s/{code}/proposals", {"text": "Sans clé"})
        assert plain.status_code == 200
    assert await count(open_session, Proposal, col(Proposal.text) == "Sans clé") == 2


async def test_a_need_sent_twice_in_a_needs_step_is_stored_once(
    open_session: OpenSession,
) -> None:
    sid, code = open_session.session_id, open_session.code
    added = await open_session.facilitator.post(
        f"/sessions/{sid}/steps", {"kind": "needs", "title": "Vos besoins", "minutes": ""}
    )
    assert added.status_code == 200, added.text
    started = await open_session.facilitator.post(f"/sessions/{sid}/agenda/start")
    assert started.status_code == 200
    phone = await open_session.phone("Awa")
    need_key = new_key()
    for _ in range(2):
        sent = await phone.post(
            f"/s/{code}/needs", {"text": "Pas de bus le soir", "action_key": need_key}
        )
        assert sent.status_code == 200, sent.text
    assert await count(open_session, Proposal, col(Proposal.kind) == ProposalKind.NEED) == 1


async def test_the_same_proposal_racing_itself_is_stored_once(open_session: OpenSession) -> None:
    """Twenty copies of one request at once (a phone retrying on a flaky network)."""
    phone = await open_session.phone("Awa")
    action_key = new_key()
    form = {"text": "Une crèche", "action_key": action_key, "csrf_token": phone.csrf}
    answers = await asyncio.gather(
        *(
            phone.http.post(
                f"/s/{open_session.code}/proposals", data=form, headers={"HX-Request": "true"}
            )
            for _ in range(20)
        )
    )
    assert {answer.status_code for answer in answers} == {200}
    assert await count(open_session, Proposal) == 1


async def test_a_join_sent_twice_makes_one_participant(open_session: OpenSession) -> None:
    """A double tap on "join", or a retry after no answer: the second request comes
    without the cookie the first one's answer would have set."""
    code = open_session.code
    action_key = new_key()
    for _ in range(2):
        phone = Browser(open_session.server)
        await phone.get(f"/s/{code}")
        answer = await phone.post(
            f"/s/{code}/join", {"display_name": "Awa", "action_key": action_key}, htmx=False
        )
        assert answer.status_code == 303, answer.text
        page = await phone.get(f"/s/{code}")
        assert "You take part as Awa" in page.text
        await phone.close()
    assert await count(open_session, Participant) == 1

    # Ten copies at once, each from a phone without a cookie yet: one participant more.
    racing_key = new_key()
    phones = [Browser(open_session.server) for _ in range(10)]
    for phone in phones:
        await phone.get(f"/s/{code}")
    answers = await asyncio.gather(
        *(
            phone.post(
                f"/s/{code}/join", {"display_name": "Bruno", "action_key": racing_key}, htmx=False
            )
            for phone in phones
        )
    )
    assert {answer.status_code for answer in answers} == {303}
    assert await count(open_session, Participant, col(Participant.display_name) == "Bruno") == 1
    for phone in phones:
        assert "You take part as Bruno" in (await phone.get(f"/s/{code}")).text
        await phone.close()
    # Another key, the same name: another person, who happens to share a name.
    other = await open_session.phone("Bruno")
    assert other.csrf
    assert await count(open_session, Participant, col(Participant.display_name) == "Bruno") == 2


async def test_a_key_is_checked_and_is_no_other_phones_to_reuse(
    open_session: OpenSession,
) -> None:
    code = open_session.code
    awa, ben = await open_session.phone("Awa"), await open_session.phone("Ben")
    for bad in ("short", "x" * 65, "pas de blancs ni accents é" * 2, "a/b" * 10):
        refused = await awa.post(f"/s/{code}/proposals", {"text": "Une idée", "action_key": bad})
        assert refused.status_code == 422, (bad, refused.status_code)
        assert "key is not valid: reload the page" in refused.text
    assert await count(open_session, Proposal) == 0
    action_key = new_key()
    sent = await awa.post(f"/s/{code}/proposals", {"text": "Une idée", "action_key": action_key})
    assert sent.status_code == 200
    copied = await ben.post(f"/s/{code}/proposals", {"text": "Autre", "action_key": action_key})
    assert copied.status_code == 409
    assert "sent from another phone" in copied.text
    assert await count(open_session, Proposal) == 1


async def test_the_database_keeps_a_digest_of_each_key_not_the_key(
    open_session: OpenSession,
) -> None:
    """The key of a join brings a phone back to its participant: a copy of the
    database must not give it."""
    action_key = new_key()
    phone = Browser(open_session.server)
    await phone.get(f"/s/{open_session.code}")
    joined = await phone.post(
        f"/s/{open_session.code}/join",
        {"display_name": "Awa", "action_key": action_key},
        htmx=False,
    )
    assert joined.status_code == 303
    await phone.close()
    async with open_session.server.db.session() as db:
        rows = (await db.exec(select(ActionKey))).all()
    assert len(rows) == 1
    assert action_key not in repr(rows[0].model_dump())
    assert len(rows[0].digest) == 64
    assert rows[0].participant_id is not None


@pytest.mark.wire
async def test_a_key_outlives_a_server_restart(settings: Settings) -> None:
    """The retry comes after the server went down and up again: still stored once."""
    uv, task, base = await start_server(settings)
    port = int(base.rsplit(":", 1)[1])
    db = Database(settings.database_url)
    server = Server(base_url=base, database_url=settings.database_url, db=db)
    facilitator = await signed_in(server, "camille@example.org")
    open_session = await open_session_for(server, facilitator)
    phone = await open_session.phone("Awa")
    action_key = new_key()
    try:
        first = await phone.post(
            f"/s/{open_session.code}/proposals", {"text": "Avant", "action_key": action_key}
        )
        assert first.status_code == 200
        uv.should_exit = True
        await task
        uv, task, _ = await start_server(settings, port=port)
        for _attempt in range(50):  # the phone's retry, once the server answers again
            try:
                again = await phone.post(
                    f"/s/{open_session.code}/proposals",
                    {"text": "Avant", "action_key": action_key},
                )
                break
            except httpx.TransportError:
                await asyncio.sleep(0.1)
        assert again.status_code == 200, again.text
        assert await count(open_session, Proposal) == 1
    finally:
        await phone.close()
        await facilitator.close()
        await db.dispose()
        uv.should_exit = True
        await task


@pytest.mark.browser
@NEEDS_CHROMIUM
async def test_a_phone_whose_answer_was_lost_sends_again_and_is_stored_once(
    browser: Any, open_session: OpenSession
) -> None:
    """The proposal reaches the server, its answer never reaches the phone (the network
    dropped it): the phone sends it again, and the room sees one proposal. Other words
    are another proposal, with another key."""
    base, code = open_session.server.base_url, open_session.code
    watch = Console()
    page = await phone_joined(browser, base, code, watch)
    lost = {"answers": 0}
    sent_keys: list[str] = []

    async def drop_the_first_answer(route: Any) -> None:
        sent_keys.append(parse_qs(route.request.post_data or "")["action_key"][0])
        response = await route.fetch()  # the server does the work...
        assert response.status == 200
        if lost["answers"] == 0:
            lost["answers"] += 1
            await route.abort("connectionreset")  # ...and its answer is lost
        else:
            await route.fulfill(response=response)

    await page.route(f"**/s/{code}/proposals", drop_the_first_answer)
    await page.fill("#proposal-text", "Une navette solidaire")
    await page.click("#propose button.primary")
    await expect_count(open_session, 1)
    # No answer: the phone keeps it and sends it again by itself, with the same key.
    outbox = page.locator("#outbox")
    await outbox.get_by_text("will be sent").wait_for(timeout=LIVE_MS)
    await outbox.get_by_text("“Une navette solidaire”: sent.").wait_for(timeout=LIVE_MS)
    assert len(sent_keys) == 2
    assert sent_keys[0] == sent_keys[1]
    assert await count(open_session, Proposal) == 1
    await page.locator("#wall .card", has_text="Une navette solidaire").wait_for(timeout=LIVE_MS)
    assert await page.locator("#wall .card", has_text="Une navette solidaire").count() == 1

    await page.fill("#proposal-text", "Un jardin partagé")
    await page.click("#propose button.primary")
    await page.locator("#wall .card", has_text="Un jardin partagé").wait_for(timeout=LIVE_MS)
    assert len(set(sent_keys)) == 2
    assert await count(open_session, Proposal) == 2
    # The lost answer is the one error the page met (the request's, logged by htmx).
    lost_answer = ("Failed to load", "htmx:sendError", "htmx:afterRequest")
    assert [e for e in watch.errors if not any(t in e for t in lost_answer)] == []


async def expect_count(open_session: OpenSession, expected: int) -> None:
    for _ in range(100):
        if await count(open_session, Proposal) == expected:
            return
        await asyncio.sleep(0.05)
    assert await count(open_session, Proposal) == expected


async def test_a_join_refused_then_sent_again_with_its_key_makes_one_participant(
    open_session: OpenSession,
) -> None:
    """A join refused (the room locked) leaves its key claimed by nobody: sent again
    once the room opens, and again, it still makes one participant."""
    code, sid = open_session.code, open_session.session_id
    room = f"/sessions/{sid}/room"
    assert (await open_session.facilitator.post(room, {"locked": "1"})).status_code == 200
    action_key = new_key()
    phone = Browser(open_session.server)
    open_session.devices.append(phone)
    await phone.get(f"/s/{code}")
    refused = await phone.post(
        f"/s/{code}/join", {"display_name": "Awa", "action_key": action_key}, htmx=False
    )
    assert refused.status_code >= 400
    assert (await open_session.facilitator.post(room, {"locked": "0"})).status_code == 200
    for _ in range(2):
        again = Browser(open_session.server)  # each time without the cookie of the last
        open_session.devices.append(again)
        await again.get(f"/s/{code}")
        joined = await again.post(
            f"/s/{code}/join", {"display_name": "Awa", "action_key": action_key}, htmx=False
        )
        assert joined.status_code == 303, joined.text
    assert await count(open_session, Participant, col(Participant.display_name) == "Awa") == 1
