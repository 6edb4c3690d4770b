"""Presenter mode: the facilitator chooses what the room's projector shows, from the
console or the projector's own keyboard; only the session's facilitator may, and the
choice reaches every projector live."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from cocreate import polls
from cocreate.models import Proposal, Session
from tests.conftest import OpenSession, open_session_for, signed_in
from tests.test_polls import act, create, vote

PRESENTING = re.compile(r'id="presenting" data-view="(\w+)" data-subject="(\d*)"')


def presenting(html: str) -> tuple[str, str]:
    found = PRESENTING.search(html)
    assert found, html[:2000]
    return found.group(1), found.group(2)


async def stored(open_session: OpenSession) -> tuple[str | None, int | None]:
    async with open_session.server.db.session() as db:
        session = await db.get(Session, open_session.session_id)
        assert session is not None
        return session.presenting, session.presenting_id


async def ideas(open_session: OpenSession, *texts: str) -> list[int]:
    phone = await open_session.phone("Aïcha")
    for text in texts:
        sent = await phone.post(f"/s/{open_session.code}/proposals", {"text": text})
        assert sent.status_code == 200, sent.text
    async with open_session.server.db.session() as db:
        rows = await db.exec(
            select(Proposal.id).where(Proposal.session_id == open_session.session_id)
        )
        return sorted(pid for pid in rows.all() if pid is not None)


async def present(open_session: OpenSession, shown: str) -> int:
    answer = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/present", {"shown": shown}
    )
    return answer.status_code


@pytest.mark.wire
async def test_the_facilitator_puts_one_thing_on_the_projector_live(
    open_session: OpenSession,
) -> None:
    first, second = await ideas(open_session, "Une navette solidaire", "Un jardin partagé")
    projector = await open_session.projector()
    page = await projector.get(f"/s/{open_session.code}/screen")
    assert presenting(page.text) == ("step", "")
    live = await projector.socket(open_session.code, "screen", last_seq=await open_session.seq())

    answer = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/present", {"shown": f"proposal:{first}"}
    )
    assert answer.status_code == 200, answer.text
    assert "Une navette solidaire" in answer.text  # the panel says what is shown
    frame = await live.until_text('id="presenting"')
    assert presenting(frame) == ("proposal", str(first))
    assert await stored(open_session) == ("proposal", first)
    # A page loaded now shows the same.
    page = await projector.get(f"/s/{open_session.code}/screen")
    assert presenting(page.text) == ("proposal", str(first))

    assert await present(open_session, "join") == 200
    assert presenting(await live.until_text('id="presenting"')) == ("join", "")
    assert await present(open_session, "step") == 200
    assert presenting(await live.until_text('id="presenting"')) == ("step", "")
    assert await stored(open_session) == (None, None)
    await live.close()
    assert second


@pytest.mark.wire
async def test_every_console_is_offered_what_arrives_to_put_on_the_projector(
    open_session: OpenSession,
) -> None:
    """A proposal sent, corrected or hidden and a poll opened change what the presenter
    panel offers: every console's panel is redrawn live, not only at the next step."""
    (first,) = await ideas(open_session, "Une navette solidaire")
    fac, sid = open_session.facilitator, open_session.session_id
    console = await fac.socket(open_session.code, "console", last_seq=await open_session.seq())
    phone = await open_session.phone("Bruno")
    sent = await phone.post(f"/s/{open_session.code}/proposals", {"text": "Un jardin partagé"})
    assert sent.status_code == 200, sent.text
    frame = await console.until(lambda f: 'id="presenter"' in f and "Un jardin partagé" in f)
    assert f"Proposal #{first}: Une navette solidaire" in frame
    hidden = await fac.post(f"/sessions/{sid}/proposals/{first}/hide")
    assert hidden.status_code == 200, hidden.text
    frame = await console.until(lambda f: 'id="presenter"' in f)
    assert "Une navette solidaire" not in frame.split('id="presenter"', 1)[1]
    poll_id = await create(open_session, question="Quel jour ?", method="yes_no")
    await act(open_session, poll_id, "open")
    frame = await console.until(lambda f: 'id="presenter"' in f and "Turnout of the poll" in f)
    assert "Quel jour ?" in frame
    await console.close()


async def test_next_and_previous_walk_through_the_step(open_session: OpenSession) -> None:
    first, second = await ideas(open_session, "Une navette solidaire", "Un jardin partagé")
    base = f"/sessions/{open_session.session_id}/present"
    fac = open_session.facilitator
    # The free wall: the step, its proposals newest first, then its decisions.
    walk = [("proposal", second), ("proposal", first), ("decisions", None)]
    for expected in walk:
        moved = await fac.post(base + "/next")
        assert moved.status_code == 200, moved.text
        assert await stored(open_session) == expected
    last = await fac.post(base + "/next")
    assert last.status_code == 409
    assert "last thing of this step" in last.text
    assert await stored(open_session) == ("decisions", None)  # nothing lost
    for expected in [("proposal", first), ("proposal", second), (None, None)]:
        assert (await fac.post(base + "/back")).status_code == 200
        assert await stored(open_session) == expected
    first_again = await fac.post(base + "/back")
    assert first_again.status_code == 409
    assert "first thing of this step" in first_again.text


async def test_bad_choices_are_refused_with_a_reason_and_change_nothing(
    open_session: OpenSession,
) -> None:
    (only,) = await ideas(open_session, "Une navette solidaire")
    assert await present(open_session, f"proposal:{only}") == 200
    fac = open_session.facilitator
    base = f"/sessions/{open_session.session_id}/present"
    for shown, reason in [
        ("slideshow", "Choose what the projector shows."),
        ("proposal:abc", "Choose which proposal or poll the projector shows."),
        ("proposal:", "Choose which proposal or poll the projector shows."),
        ("proposal:999999", "Choose a proposal the room can see."),
        ("result:999999", "Choose one of the session&#39;s open or closed polls."),
    ]:
        answer = await fac.post(base, {"shown": shown})
        assert 400 <= answer.status_code < 500, (shown, answer.status_code)
        assert reason in answer.text, (shown, answer.text[:500])
        assert await stored(open_session) == ("proposal", only), shown
    wrong_move = await fac.post(base + "/sideways")
    assert 400 <= wrong_move.status_code < 500


async def test_only_the_sessions_facilitator_drives_the_projector(
    open_session: OpenSession,
) -> None:
    (only,) = await ideas(open_session, "Une navette solidaire")
    base = f"/sessions/{open_session.session_id}/present"
    phone = open_session.devices[-1]
    other = await signed_in(open_session.server, "dominique@example.org")
    open_session.devices.append(other)
    await open_session_for(open_session.server, other, "Autre atelier")
    projector = await open_session.projector()
    for who in (phone, other, projector):
        for path, form in ((base, {"shown": f"proposal:{only}"}), (base + "/next", {})):
            answer = await who.post(path, form)
            assert answer.status_code in (403, 404), (path, answer.status_code)
        # Their projector page has no keys to drive it.
        page = await who.get(f"/s/{open_session.code}/screen")
        assert page.status_code == 200
        assert 'id="presenter-keys"' not in page.text
    assert await stored(open_session) == (None, None)
    # The facilitator's own projector page has them.
    page = await open_session.facilitator.get(f"/s/{open_session.code}/screen")
    assert 'id="presenter-keys"' in page.text


async def test_a_schulze_result_says_in_plain_words_why_the_winner_wins(
    open_session: OpenSession,
) -> None:
    phones = [await open_session.phone("Une"), await open_session.phone("Deux")]
    poll_id = await create(
        open_session, question="Quel projet ?", method="schulze", options="Alpha\nBeta\nGamma"
    )
    await act(open_session, poll_id, "open")
    async with open_session.server.db.session() as db:
        alpha, beta, _ = [str(o.id) for o in await polls.poll_options(db, poll_id)]
    for phone in phones:
        await vote(phone, open_session, poll_id, {f"rank-{alpha}": "1", f"rank-{beta}": "2"})
    await act(open_session, poll_id, "close")
    projector = await open_session.projector()
    page = await projector.get(f"/s/{open_session.code}/screen")
    assert "Alpha beats each other option in a one-to-one comparison." in page.text
    for hidden in ("receipt", "Details, receipts and ballots", "sha256"):
        assert hidden not in page.text.split('id="stage"', 1)[1], hidden


async def test_a_polls_turnout_while_open_its_result_once_closed(
    open_session: OpenSession,
) -> None:
    poll_id = await create(open_session, question="Adopter le budget ?", method="yes_no")
    fac = open_session.facilitator
    base = f"/sessions/{open_session.session_id}/present"
    draft = await fac.post(base, {"shown": f"turnout:{poll_id}"})
    assert draft.status_code == 422  # a draft is not the room's to see
    assert "open or closed polls" in draft.text
    await act(open_session, poll_id, "open")
    early = await fac.post(base, {"shown": f"result:{poll_id}"})
    assert early.status_code == 409
    assert "This poll has no result yet: close it first." in early.text
    assert await present(open_session, f"turnout:{poll_id}") == 200
    assert await stored(open_session) == ("turnout", poll_id)
    await act(open_session, poll_id, "close")
    late = await fac.post(base, {"shown": f"turnout:{poll_id}"})
    assert late.status_code == 409
    assert "This poll is closed: show its result instead." in late.text
    assert await present(open_session, f"result:{poll_id}") == 200
    assert await stored(open_session) == ("result", poll_id)
