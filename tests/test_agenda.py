"""A facilitated session: the agenda, moving through it, the timer, what each step
allows — with a real server, real phones and a projector on websockets."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from cocreate.models import Poll, Step
from tests.conftest import OpenSession, open_session_for, signed_in, tally_of

STAGE = 'id="stage"'


async def add_step(open_session: OpenSession, kind: str, title: str, **extra: str) -> None:
    data = {"kind": kind, "title": title, "prompt": "", "minutes": "", "auto_close": "1"}
    response = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/steps", data | extra
    )
    assert response.status_code == 200, response.text
    assert title in response.text


async def move(open_session: OpenSession, where: str) -> str:
    response = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/agenda/{where}"
    )
    assert response.status_code == 200, response.text
    return response.text


async def steps(open_session: OpenSession) -> list[Step]:
    async with open_session.server.db.session() as db:
        result = await db.exec(
            select(Step)
            .where(Step.session_id == open_session.session_id)
            .order_by(col(Step.position))
        )
        return list(result.all())


async def workshop(open_session: OpenSession) -> None:
    await add_step(open_session, "needs", "Vos difficultés", prompt="Qu'est-ce qui vous gêne ?")
    await add_step(open_session, "ideas", "Vos idées")
    await add_step(open_session, "discussion", "On en parle")
    await add_step(open_session, "vote", "On vote")
    await add_step(open_session, "decision", "On décide")


@pytest.mark.wire
async def test_phones_and_projector_follow_the_facilitator_from_step_to_step(
    open_session: OpenSession,
) -> None:
    await workshop(open_session)
    phone = await open_session.phone("Awa")
    screen = await open_session.projector()
    phone_live = await phone.socket(open_session.code, "phone", last_seq=await open_session.seq())
    screen_live = await screen.socket(
        open_session.code, "screen", last_seq=await open_session.seq()
    )

    console = await move(open_session, "start")
    assert "Step 1 of 5" in console
    for live in (phone_live, screen_live):
        frame = await live.until_text(STAGE)
        assert "Vos difficultés" in frame
        assert "Qu&#39;est-ce qui vous gêne ?" in frame
        assert "stage--needs" in frame
    # The page drawn now shows the step too, with the need form and not the proposal one.
    page = (await phone.get(f"/s/{open_session.code}")).text
    assert "Describe a need" in page
    assert re.search(r'<div hidden>\s*<section id="propose"', page)

    await move(open_session, "next")
    frame = await phone_live.until_text(STAGE)
    assert "Vos idées" in frame
    assert "stage--ideas" in frame
    await screen_live.until_text("stage--ideas")
    await move(open_session, "back")
    assert "stage--needs" in await phone_live.until_text(STAGE)
    console = await move(open_session, "end")
    assert "Start the agenda" in console
    assert "stage--free" in await phone_live.until_text(STAGE)
    for socket in (phone_live, screen_live):
        await socket.close()


async def test_each_step_refuses_what_it_does_not_ask_for_with_a_reason(
    open_session: OpenSession,
) -> None:
    await workshop(open_session)
    awa, ben = await open_session.phone("Awa"), await open_session.phone("Ben")
    code = open_session.code

    await move(open_session, "start")  # needs
    refused = await awa.post(f"/s/{code}/proposals", {"text": "Une idée trop tôt"})
    assert refused.status_code == 409
    assert "This is not the moment to propose" in refused.text
    assert "Vos difficultés" in refused.text
    need = await awa.post(f"/s/{code}/needs", {"text": "Pas de crèche le soir"})
    assert need.status_code == 200
    assert "Thank you! Your need is on the wall." in need.text

    await move(open_session, "next")  # ideas
    refused = await ben.post(f"/s/{code}/needs", {"text": "Trop tard"})
    assert refused.status_code == 409
    assert "This is not the moment to describe needs" in refused.text
    page = (await ben.get(f"/s/{code}")).text
    need_id = re.search(r'name="need" value="(\d+)"', page)
    assert need_id, "the idea form offers the needs to answer"
    sent = await ben.post(
        f"/s/{code}/proposals", {"text": "Une garde partagée", "need": need_id.group(1)}
    )
    assert sent.status_code == 200
    proposal_id = int(re.findall(r'id="proposal-(\d+)"', (await ben.get(f"/s/{code}")).text)[0])
    vote = await awa.post(f"/s/{code}/proposals/{proposal_id}/vote", {"choice": "for"})
    assert vote.status_code == 409
    assert "This is not the moment to vote" in vote.text

    await move(open_session, "next")  # discussion
    said = await awa.post(f"/s/{code}/proposals/{proposal_id}/comments", {"text": "Oui !"})
    assert said.status_code == 200
    reacted = await awa.post(f"/s/{code}/proposals/{proposal_id}/reaction", {"reaction": "agree"})
    assert reacted.status_code == 200
    assert 'value="agree" class="reaction reaction--agree" aria-pressed="true"' in reacted.text
    bad = await awa.post(f"/s/{code}/proposals/{proposal_id}/reaction", {"reaction": "love"})
    assert bad.status_code == 422
    assert "Choose agree, disagree or pass." in bad.text
    await ben.post(f"/s/{code}/proposals/{proposal_id}/reaction", {"reaction": "pass"})
    refused = await ben.post(f"/s/{code}/proposals/{proposal_id}/vote", {"choice": "for"})
    assert refused.status_code == 409

    await move(open_session, "next")  # vote
    assert (await awa.post(f"/s/{code}/proposals/{proposal_id}/vote", {"choice": "for"})).is_success
    refused = await awa.post(f"/s/{code}/proposals/{proposal_id}/comments", {"text": "Encore"})
    assert refused.status_code == 409
    assert "Comments are closed" in refused.text

    # The console shows it all: the need, the link, the reactions.
    console = (
        await open_session.facilitator.get(f"/sessions/{open_session.session_id}/console")
    ).text
    assert "Pas de crèche le soir" in console
    assert "Answers:" in console
    assert "Agree <strong>1</strong>" in console
    assert "Pass <strong>1</strong>" in console


VOTE_SHOWN = '<div class="card-vote">'
VOTE_HIDDEN = '<div class="card-vote" hidden>'


@pytest.mark.wire
async def test_phones_and_projector_show_a_proposals_vote_only_where_the_step_has_one(
    open_session: OpenSession,
) -> None:
    """No "Vote open" nor empty tallies while the room proposes or discusses: on phones
    and on the projector, in the page and in the frames that follow the room."""
    await workshop(open_session)
    awa = await open_session.phone("Awa")
    screen = await open_session.projector()
    code = open_session.code
    await move(open_session, "start")
    await move(open_session, "next")  # ideas
    phone_live = await awa.socket(code, "phone", last_seq=await open_session.seq())
    screen_live = await screen.socket(code, "screen", last_seq=await open_session.seq())
    sent = await awa.post(f"/s/{code}/proposals", {"text": "Une garde partagée"})
    assert sent.status_code == 200, sent.text
    for live in (phone_live, screen_live):
        card = await live.until_text("Une garde partagée")
        assert VOTE_HIDDEN in card
        assert VOTE_SHOWN not in card

    steps = (("next", False), ("next", True), ("next", False), ("back", True))
    for where, shown in steps:  # discussion, vote, decision (nobody voted), vote
        await move(open_session, where)
        for live in (phone_live, screen_live):
            frame = await live.until_text(STAGE)
            assert (VOTE_SHOWN in frame) is shown, (where, frame)
            assert (VOTE_HIDDEN in frame) is not shown, (where, frame)
        for page in (
            (await awa.get(f"/s/{code}")).text,
            (await screen.get(f"/s/{code}/screen")).text,
        ):
            assert (VOTE_SHOWN in page) is shown
            assert (VOTE_HIDDEN in page) is not shown
    # Once voted on, the decision step shows the proposal's vote.
    proposal_id = int(re.findall(r'id="proposal-(\d+)"', (await awa.get(f"/s/{code}")).text)[0])
    voted = await awa.post(f"/s/{code}/proposals/{proposal_id}/vote", {"choice": "for"})
    assert voted.status_code == 200, voted.text
    await move(open_session, "next")
    assert VOTE_SHOWN in (await awa.get(f"/s/{code}")).text
    # The console shows a proposal's vote whatever the step.
    await move(open_session, "back")
    await move(open_session, "back")
    await move(open_session, "back")  # discussion
    console = await open_session.facilitator.get(f"/sessions/{open_session.session_id}/console")
    assert VOTE_SHOWN in console.text
    assert VOTE_HIDDEN not in console.text
    for socket in (phone_live, screen_live):
        await socket.close()


@pytest.mark.wire
async def test_results_stay_hidden_on_phones_and_projector_until_revealed(
    open_session: OpenSession,
) -> None:
    await add_step(open_session, "vote", "On vote")
    phone = await open_session.phone("Awa")
    await phone.post(
        f"/s/{open_session.code}/proposals", {"text": "Un jardin"}
    )  # free wall: allowed
    proposal_id = int(
        re.findall(r'id="proposal-(\d+)"', (await phone.get(f"/s/{open_session.code}")).text)[0]
    )
    await move(open_session, "start")
    await phone.post(f"/s/{open_session.code}/proposals/{proposal_id}/vote", {"choice": "for"})
    screen = await open_session.projector()
    page = (await screen.get(f"/s/{open_session.code}/screen")).text
    assert "Results are hidden until the facilitator reveals them." in page
    assert "tally-row--for" not in page
    console = (
        await open_session.facilitator.get(f"/sessions/{open_session.session_id}/console")
    ).text
    assert tally_of(console, proposal_id)["for"] == 1  # the console always sees them
    live = await screen.socket(open_session.code, "screen", last_seq=await open_session.seq())
    revealed = await open_session.facilitator.post(f"/sessions/{open_session.session_id}/reveal")
    assert revealed.status_code == 200
    frame = await live.until_text(STAGE)
    assert tally_of(frame, proposal_id)["for"] == 1
    await live.close()


async def test_the_agenda_is_edited_reordered_and_frozen_once_started(
    open_session: OpenSession,
) -> None:
    await add_step(open_session, "info", "Bienvenue")
    await add_step(open_session, "needs", "Besoins", minutes="5")
    first, second = await steps(open_session)
    assert second.duration_s == 300
    base = f"/sessions/{open_session.session_id}/steps"
    moved = await open_session.facilitator.post(f"{base}/{second.id}/move", {"direction": "up"})
    assert moved.status_code == 200
    assert [s.title for s in await steps(open_session)] == ["Besoins", "Bienvenue"]
    edited = await open_session.facilitator.post(
        f"{base}/{first.id}",
        {"kind": "info", "title": "Accueil", "prompt": "Café", "minutes": "2", "auto_close": "1"},
    )
    assert edited.status_code == 200
    assert "Accueil" in edited.text
    await move(open_session, "start")  # "Besoins" has started
    frozen = await open_session.facilitator.post(
        f"{base}/{second.id}",
        {"kind": "needs", "title": "Autre", "prompt": "", "minutes": "", "auto_close": "1"},
    )
    assert frozen.status_code == 409
    assert "This step has already started" in frozen.text
    deleted = await open_session.facilitator.post(f"{base}/{second.id}/delete")
    assert deleted.status_code == 409
    assert [s.title for s in await steps(open_session)] == ["Besoins", "Accueil"]


async def test_bad_steps_are_refused_with_a_reason_and_nothing_is_stored(
    open_session: OpenSession,
) -> None:
    base = f"/sessions/{open_session.session_id}/steps"
    cases = [
        ({"kind": "party", "title": "x"}, "Choose what kind of step this is."),
        ({"kind": "ideas", "title": "   "}, "Give the step a title."),
        ({"kind": "ideas", "title": "x", "minutes": "0"}, "A step lasts from 1 to 240 minutes"),
        ({"kind": "ideas", "title": "x", "minutes": "abc"}, "A step lasts from 1 to 240 minutes"),
        ({"kind": "ideas", "title": "x" * 201}, "at most 200 characters"),
        ({"kind": "ideas", "title": "x", "poll_id": "3"}, "Only a vote step has a poll."),
        ({"kind": "vote", "title": "x", "poll_id": "99999"}, "Choose one of the session"),
    ]
    for data, message in cases:
        response = await open_session.facilitator.post(base, data)
        assert response.status_code == 422, data
        assert message in response.text, (data, response.text)
    assert await steps(open_session) == []
    empty = await open_session.facilitator.post(f"/sessions/{open_session.session_id}/agenda/start")
    assert empty.status_code == 409
    assert "The agenda is empty" in empty.text
    unknown = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/agenda/sideways"
    )
    assert unknown.status_code == 422
    await add_step(open_session, "info", "Seule étape")
    await move(open_session, "start")
    last = await open_session.facilitator.post(f"/sessions/{open_session.session_id}/agenda/next")
    assert last.status_code == 409
    assert "This is the last step" in last.text
    # Participants cannot move the room.
    phone = await open_session.phone("Awa")
    assert (await phone.post(f"/sessions/{open_session.session_id}/agenda/next")).status_code == 403


@pytest.mark.wire
async def test_timer_pause_extend_and_stop_close_and_reopen_the_inputs(
    open_session: OpenSession,
) -> None:
    await add_step(open_session, "ideas", "Idées", minutes="3")
    phone = await open_session.phone("Awa")
    await move(open_session, "start")
    live = await phone.socket(open_session.code, "phone", last_seq=await open_session.seq())
    timer = f"/sessions/{open_session.session_id}/timer"

    paused = await open_session.facilitator.post(f"{timer}/pause")
    assert "Resume" in paused.text
    frame = await live.until_text('id="timer"')
    assert 'data-running="false"' in frame
    assert "paused" in frame
    remaining = int(re.search(r'data-remaining-ms="(\d+)"', frame).group(1))  # type: ignore[union-attr]
    assert 170_000 < remaining <= 180_000

    await open_session.facilitator.post(f"{timer}/add")
    frame = await live.until_text('id="timer"')
    extended = int(re.search(r'data-remaining-ms="(\d+)"', frame).group(1))  # type: ignore[union-attr]
    assert extended == remaining + 60_000  # paused: not a millisecond lost

    await open_session.facilitator.post(f"{timer}/resume")
    await open_session.facilitator.post(f"{timer}/stop")
    frame = await live.until(lambda f: 'id="timer"' in f and "timer--done" in f)
    assert 'data-remaining-ms="0"' in frame
    refused = await phone.post(f"/s/{open_session.code}/proposals", {"text": "Trop tard"})
    assert refused.status_code == 409
    assert "Time is up for this step" in refused.text
    page = (await phone.get(f"/s/{open_session.code}")).text
    assert "stage--ideas inputs-closed" in page

    await open_session.facilitator.post(f"{timer}/add")  # one more minute: open again
    assert (
        await phone.post(f"/s/{open_session.code}/proposals", {"text": "Juste à temps"})
    ).is_success
    bad = await open_session.facilitator.post(f"{timer}/rewind")
    assert bad.status_code == 422
    await live.close()


async def test_a_facilitation_script_is_saved_and_reused_in_another_session(
    open_session: OpenSession,
) -> None:
    await workshop(open_session)
    saved = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/scripts", {"name": "Atelier besoins → décision"}
    )
    assert saved.status_code == 200
    made = await open_session.facilitator.post(
        f"/projects/{open_session.project_id}/sessions", {"title": "Deuxième atelier"}, htmx=False
    )
    other = int(made.headers["location"].split("/")[2])
    console = (await open_session.facilitator.get(f"/sessions/{other}/console")).text
    script_id = re.search(
        r'name="script_id" value="(\d+)">Add “Atelier besoins → décision”</button>', console
    )
    assert script_id
    applied = await open_session.facilitator.post(
        f"/sessions/{other}/scripts/apply", {"script_id": script_id.group(1)}
    )
    assert applied.status_code == 200
    for title in ("Vos difficultés", "Vos idées", "On en parle", "On vote", "On décide"):
        assert title in applied.text
    # Someone else's script is not theirs to use.
    stranger = await signed_in(open_session.server, "other@example.org")
    open_session.devices.append(stranger)
    theirs = await open_session_for(open_session.server, stranger, "Ailleurs")
    stolen = await stranger.post(
        f"/sessions/{theirs.session_id}/scripts/apply", {"script_id": script_id.group(1)}
    )
    assert stolen.status_code == 404


async def test_a_vote_step_keeps_its_polls_result_hidden_until_revealed(
    open_session: OpenSession,
) -> None:
    created = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/polls",
        {"secret": "1", "question": "Adopter la charte ?", "method": "yes_no"},
        htmx=False,
    )
    assert created.status_code == 303
    async with open_session.server.db.session() as db:
        poll_id = (await db.exec(select(sa.func.max(Poll.id)))).one()
    await add_step(open_session, "vote", "La charte", poll_id=str(poll_id))
    phone = await open_session.phone("Awa")
    await move(open_session, "start")
    base = f"/sessions/{open_session.session_id}/polls/{poll_id}"
    assert (await open_session.facilitator.post(f"{base}/open", htmx=False)).status_code == 303
    cast = await phone.post(f"/s/{open_session.code}/polls/{poll_id}/ballot", {"choice": "for"})
    assert cast.status_code == 200
    assert (await open_session.facilitator.post(f"{base}/close", htmx=False)).status_code == 303

    page = (await phone.get(f"/s/{open_session.code}")).text
    assert "The facilitator will reveal the results." in page
    result = f"/s/{open_session.code}/polls/{poll_id}"
    hidden = await phone.get(result)
    assert hidden.status_code == 403
    assert "not revealed the results yet" in hidden.text
    assert (await phone.get(f"{result}/ballots.json")).status_code == 403
    assert (
        await open_session.facilitator.get(result)
    ).status_code == 200  # the facilitator sees it

    await open_session.facilitator.post(f"/sessions/{open_session.session_id}/reveal")
    assert (await phone.get(result)).status_code == 200
    assert (
        "The facilitator will reveal the results."
        not in (await phone.get(f"/s/{open_session.code}")).text
    )


async def test_without_an_agenda_needs_wait_for_a_needs_step(open_session: OpenSession) -> None:
    phone = await open_session.phone("Awa")
    refused = await phone.post(f"/s/{open_session.code}/needs", {"text": "Un besoin hors étape"})
    assert refused.status_code == 409
    assert "Needs are gathered during a needs step of the agenda." in refused.text
    assert (await phone.post(f"/s/{open_session.code}/proposals", {"text": "Une idée"})).is_success
