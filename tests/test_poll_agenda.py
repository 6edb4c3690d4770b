"""Polls and the agenda: a poll is never open where the room cannot see it; a
consultative poll shows its result and decides nothing; a reveal shows the polls closed
until then, not those closed later in the same step."""

from __future__ import annotations

import re

from sqlmodel import select

from cocreate import polls
from cocreate.models import Decision, Poll, Session
from tests.conftest import Browser, OpenSession
from tests.test_agenda import add_step, move, steps
from tests.test_polls import act, create, vote

HIDDEN = "The facilitator will reveal the results."


def card(page: str, poll_id: int) -> str:
    """One poll's card in a page (empty if the page has none)."""
    found = re.search(rf'<article id="poll-{poll_id}".*?</article>', page, re.S)
    return found.group(0) if found else ""


def polls_shown(page: str) -> bool:
    """Whether the stage's polls section is shown (not rendered ``hidden``)."""
    section = re.search(r'<section class="polls-section"[^>]*>', page)
    assert section is not None
    return " hidden" not in section.group(0)


async def poll(open_session: OpenSession, poll_id: int) -> Poll:
    async with open_session.server.db.session() as db:
        found = await db.get(Poll, poll_id)
        assert found is not None
        return found


async def current_step_title(open_session: OpenSession) -> str | None:
    async with open_session.server.db.session() as db:
        session = await db.get(Session, open_session.session_id)
        assert session is not None
        current = session.current_step_id
    return next((s.title for s in await steps(open_session) if s.id == current), None)


async def decisions(open_session: OpenSession) -> list[Decision]:
    async with open_session.server.db.session() as db:
        result = await db.exec(
            select(Decision).where(Decision.project_id == open_session.project_id)
        )
        return list(result.all())


async def test_opening_a_poll_moves_the_agenda_to_its_vote_step(
    open_session: OpenSession,
) -> None:
    phone = await open_session.phone("Awa")
    poll_id = await create(open_session, question="Adopter le budget ?", method="yes_no")
    await add_step(open_session, "info", "Accueil")
    await add_step(open_session, "vote", "Un autre vote")
    await add_step(open_session, "vote", "Le budget", poll_id=str(poll_id))
    await move(open_session, "start")
    assert not polls_shown((await phone.get(f"/s/{open_session.code}")).text)

    opened = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/polls/{poll_id}/open", htmx=False
    )
    assert opened.status_code == 303
    # Its own step, not the first vote step that would show it.
    assert await current_step_title(open_session) == "Le budget"
    console = (await open_session.facilitator.get(opened.headers["location"])).text
    assert "The agenda moved to step “Le budget”, so phones and the projector show it." in console

    page = (await phone.get(f"/s/{open_session.code}")).text
    assert polls_shown(page)
    assert "Adopter le budget ?" in card(page, poll_id)
    screen = (await (await open_session.projector()).get(f"/s/{open_session.code}/screen")).text
    assert polls_shown(screen)
    assert "Adopter le budget ?" in card(screen, poll_id)
    # And the phone may vote in it at once.
    await vote(phone, open_session, poll_id, {"choice": "for"})


async def test_opening_a_poll_goes_to_a_vote_step_for_any_poll_when_it_has_none(
    open_session: OpenSession,
) -> None:
    phone = await open_session.phone("Awa")
    poll_id = await create(
        open_session, question="Quelle date ?", method="approval", options="Lundi\nMardi"
    )
    await add_step(open_session, "vote", "Vote précédent")
    await add_step(open_session, "discussion", "On en parle")
    await add_step(open_session, "vote", "On vote")
    await move(open_session, "start")
    await move(open_session, "next")
    await act(open_session, poll_id, "open")
    assert await current_step_title(open_session) == "On vote"  # the next, not the one before
    page = (await phone.get(f"/s/{open_session.code}")).text
    assert polls_shown(page)
    assert "Quelle date ?" in card(page, poll_id)


async def test_a_poll_no_step_would_show_stays_a_draft_and_the_console_says_why(
    open_session: OpenSession,
) -> None:
    phone = await open_session.phone("Awa")
    poll_id = await create(open_session, question="Adopter le budget ?", method="yes_no")
    await add_step(open_session, "discussion", "On en parle")
    await move(open_session, "start")

    refused = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/polls/{poll_id}/open"
    )
    assert refused.status_code == 409
    assert "The agenda is on “On en parle”, where phones and the projector show no poll" in (
        refused.text
    )
    assert (await poll(open_session, poll_id)).opened_at is None
    assert await current_step_title(open_session) == "On en parle"
    assert "Adopter le budget ?" not in (await phone.get(f"/s/{open_session.code}")).text


async def test_a_poll_opened_on_its_vote_step_or_without_agenda_leaves_the_agenda_alone(
    open_session: OpenSession,
) -> None:
    phone = await open_session.phone("Awa")
    free = await create(open_session, question="Sans ordre du jour ?", method="yes_no")
    opened = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/polls/{free}/open", htmx=False
    )
    assert opened.status_code == 303
    assert "step_moved" not in opened.headers["location"]
    assert "Sans ordre du jour ?" in card((await phone.get(f"/s/{open_session.code}")).text, free)


async def test_a_consultative_poll_shows_its_result_and_records_no_decision(
    open_session: OpenSession,
) -> None:
    phone = await open_session.phone("Awa")
    sounding = await create(
        open_session,
        question="Quelle date vous convient ?",
        method="approval",
        options="Lundi\nMardi",
        consultative="1",
    )
    binding = await create(open_session, question="Adopter le budget ?", method="yes_no")
    page = (await phone.get(f"/s/{open_session.code}")).text
    console = (
        await open_session.facilitator.get(f"/sessions/{open_session.session_id}/console")
    ).text
    assert "consultative: decides nothing" in card(console, sounding)
    assert "consultative" not in card(console, binding)
    for poll_id in (sounding, binding):
        await act(open_session, poll_id, "open")
    page = (await phone.get(f"/s/{open_session.code}")).text
    assert "consultative: decides nothing" in card(page, sounding)
    async with open_session.server.db.session() as db:
        options = await polls.poll_options(db, sounding)
    await vote(phone, open_session, sounding, {"approve": str(options[1].id)})
    await vote(phone, open_session, binding, {"choice": "for"})
    for poll_id in (sounding, binding):
        await act(open_session, poll_id, "close")

    page = (await phone.get(f"/s/{open_session.code}")).text
    assert "Winner:" in card(page, sounding)
    assert "Mardi" in card(page, sounding)
    assert "no decision is recorded" in card(page, sounding)
    assert [d.proposal_text for d in await decisions(open_session)] == ["Adopter le budget ?"]
    register = (
        await open_session.facilitator.get(f"/projects/{open_session.project_id}/decisions")
    ).text
    assert "Adopter le budget ?" in register
    assert "Quelle date vous convient ?" not in register


async def test_a_poll_cannot_be_both_binding_and_consultative(open_session: OpenSession) -> None:
    refused = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/polls",
        {"question": "Les deux ?", "method": "yes_no", "binding": "1", "consultative": "1"},
    )
    assert refused.status_code == 422
    assert "choose binding or consultative" in refused.text
    async with open_session.server.db.session() as db:
        assert (await db.exec(select(Poll))).first() is None


async def test_a_poll_closed_after_the_reveal_waits_for_the_next_one(
    open_session: OpenSession,
) -> None:
    phone: Browser = await open_session.phone("Awa")
    first = await create(open_session, question="Premier ?", method="yes_no")
    second = await create(open_session, question="Second ?", method="yes_no")
    await add_step(open_session, "vote", "On vote")  # results hidden until revealed
    await move(open_session, "start")
    reveal = f"/sessions/{open_session.session_id}/reveal"

    await act(open_session, first, "open")
    await vote(phone, open_session, first, {"choice": "for"})
    await act(open_session, first, "close")
    assert HIDDEN in card((await phone.get(f"/s/{open_session.code}")).text, first)
    assert (await open_session.facilitator.post(reveal)).status_code == 200

    await act(open_session, second, "open")
    await vote(phone, open_session, second, {"choice": "against"})
    await act(open_session, second, "close")
    page = (await phone.get(f"/s/{open_session.code}")).text
    assert 'class="poll-result"' in card(page, first)  # revealed, it stays so
    assert HIDDEN in card(page, second)
    assert 'class="poll-result"' not in card(page, second)
    result = await phone.get(f"/s/{open_session.code}/polls/{second}")
    assert result.status_code == 403
    # The console offers the reveal again, and it shows the second poll too.
    console = (
        await open_session.facilitator.get(f"/sessions/{open_session.session_id}/console")
    ).text
    assert "Reveal the results" in console
    assert (await open_session.facilitator.post(reveal)).status_code == 200
    page = (await phone.get(f"/s/{open_session.code}")).text
    assert 'class="poll-result"' in card(page, second)
    assert (await phone.get(f"/s/{open_session.code}/polls/{second}")).status_code == 200
