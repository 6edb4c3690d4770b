"""Joining a session from a phone: with htmx the name's answer is the session page
itself (one round trip less on a poor network); without JS, a redirect to it."""

from __future__ import annotations

import asyncio

from sqlmodel import func, select

from cocreate.errors import Conflict, Invalid, UnknownCode
from cocreate.models import Participant, Proposal, Vote, VoterRegister
from cocreate.participants import Arrival, Arrived, join_all
from tests.conftest import (
    CSRF_RE,
    Browser,
    OpenSession,
    open_session_for,
    same_token,
    without_tokens,
)
from tests.test_polls import act, create


async def participants_of(open_session: OpenSession) -> list[Participant]:
    async with open_session.server.db.session() as db:
        return list((await db.exec(select(Participant))).all())


async def participants(open_session: OpenSession) -> int:
    async with open_session.server.db.session() as db:
        return int((await db.exec(select(func.count()).select_from(Participant))).one())


async def test_the_answer_to_a_name_is_the_page_a_reload_shows(open_session: OpenSession) -> None:
    # Something on the wall, with votes, so the page has a stage of its own to draw.
    author = await open_session.phone("Aïcha")
    await author.post(f"/s/{open_session.code}/proposals", {"text": "Un jardin partagé"})
    async with open_session.server.db.session() as db:
        proposal = (await db.exec(select(Proposal))).one()
    await author.post(f"/s/{open_session.code}/proposals/{proposal.id}/vote", {"choice": "for"})

    phone = Browser(open_session.server)
    open_session.devices.append(phone)
    join_page = await phone.get(f"/s/{open_session.code}")
    assert 'id="flash"' in join_page.text  # where a refused name is said
    joined = await phone.post(f"/s/{open_session.code}/join", {"display_name": "Bruno"})

    assert joined.status_code == 200, joined.text
    # The address stays the session's: a reload (or a bookmark) loads the same page.
    assert joined.headers["hx-replace-url"] == f"/s/{open_session.code}"
    assert "You take part as Bruno." in joined.text
    assert "Un jardin partagé" in joined.text
    assert f'name="next" value="/s/{open_session.code}"' in joined.text  # the language switch
    assert f'ws-connect="/ws/{open_session.code}/phone"' in joined.text
    reloaded = await phone.get(f"/s/{open_session.code}")
    # Drawn without reading the newcomer's votes and reactions (there are none yet),
    # the page is the one drawn by reading them.
    assert without_tokens(reloaded.text) == without_tokens(joined.text)
    assert await participants(open_session) == 2


async def test_a_refused_name_is_said_in_the_message_region_and_nothing_is_stored(
    open_session: OpenSession,
) -> None:
    phone = Browser(open_session.server)
    open_session.devices.append(phone)
    await phone.get(f"/s/{open_session.code}")
    for name in ("   ", "x" * 61):
        refused = await phone.post(f"/s/{open_session.code}/join", {"display_name": name})
        assert refused.status_code == 422
        assert refused.headers["hx-retarget"] == "#flash"
        assert "You take part" not in refused.text
    assert (
        "Choose a name that others will see."
        in (await phone.post(f"/s/{open_session.code}/join", {"display_name": ""})).text
    )
    assert await participants(open_session) == 0
    # Still at the join form, and a good name then joins.
    assert 'id="display_name"' in (await phone.get(f"/s/{open_session.code}")).text
    joined = await phone.post(f"/s/{open_session.code}/join", {"display_name": "Chloé"})
    assert joined.status_code == 200
    assert await participants(open_session) == 1


async def test_without_javascript_the_name_is_answered_with_a_redirect(
    open_session: OpenSession,
) -> None:
    phone = Browser(open_session.server)
    open_session.devices.append(phone)
    await phone.get(f"/s/{open_session.code}")
    joined = await phone.post(f"/s/{open_session.code}/join", {"display_name": "Dana"}, htmx=False)
    assert joined.status_code == 303
    assert joined.headers["location"] == f"/s/{open_session.code}"
    page = await phone.get(f"/s/{open_session.code}")
    assert "You take part as Dana." in page.text


async def test_phones_arriving_together_each_get_their_own_token_and_name(
    open_session: OpenSession,
) -> None:
    """The join page and the newcomer's page are drawn once for every phone arriving at
    the same moment: each still gets its own token and its own name, escaped."""
    names = ['<b>Zoé</b> & "Cie"', "Bruno"]
    phones = [Browser(open_session.server, language="fr") for _ in names]
    open_session.devices.extend(phones)
    pages = [(await phone.get(f"/s/{open_session.code}")).text for phone in phones]
    tokens = [phone.csrf for phone in phones]
    assert tokens[0] != tokens[1]
    assert all(token in page for token, page in zip(tokens, pages, strict=True))
    assert not any("-mark-" in page for page in pages)
    # Each token is the one its own cookie vouches for: the other phone's is refused.
    phones[0].csrf, phones[1].csrf = tokens[1], tokens[0]
    crossed = await phones[0].post(f"/s/{open_session.code}/join", {"display_name": names[0]})
    assert crossed.status_code == 403
    phones[0].csrf, phones[1].csrf = tokens
    joined = [
        await phone.post(f"/s/{open_session.code}/join", {"display_name": name})
        for phone, name in zip(phones, names, strict=True)
    ]
    assert [answer.status_code for answer in joined] == [200, 200]
    assert "Vous participez en tant que &lt;b&gt;Zoé&lt;/b&gt; &amp; &#34;Cie&#34;." in (
        joined[0].text
    )
    assert "Bruno" not in joined[0].text
    assert "Vous participez en tant que Bruno." in joined[1].text
    assert "Zoé" not in joined[1].text
    for phone, answer in zip(phones, joined, strict=True):
        assert all(same_token(token, phone.csrf) for token in CSRF_RE.findall(answer.text))
        assert "-mark-" not in answer.text
        # The same page a reload draws for this phone alone.
        reloaded = (await phone.get(f"/s/{open_session.code}")).text
        assert without_tokens(reloaded) == without_tokens(answer.text)
    assert await participants(open_session) == 2  # the crossed token stored nothing


async def test_a_facilitator_joining_by_name_keeps_their_menu(open_session: OpenSession) -> None:
    """Pages drawn for every arriving phone are never a signed-in facilitator's."""
    arriving = Browser(open_session.server)
    open_session.devices.append(arriving)
    await arriving.get(f"/s/{open_session.code}")  # the page drawn for all, first
    page = await open_session.facilitator.get(f"/s/{open_session.code}")
    assert "My projects" in page.text
    joined = await open_session.facilitator.post(
        f"/s/{open_session.code}/join", {"display_name": "Anim"}
    )
    assert joined.status_code == 200
    assert "My projects" in joined.text
    assert "You take part as Anim." in joined.text


async def test_phones_joining_together_are_written_together_each_as_itself(
    open_session: OpenSession,
) -> None:
    """Joins arriving together are written in one write: each refused one alone, and
    every participant stored under its own name, the one its phone is then shown."""
    other = await open_session_for(open_session.server, open_session.facilitator, "Autre atelier")
    await open_session.facilitator.post(f"/sessions/{other.session_id}/room", {"locked": "1"})
    arrivals = [Arrival(open_session.code, f"Voisine {n}") for n in range(12)]
    arrivals[3] = Arrival(open_session.code, "   ")  # no name
    arrivals[7] = Arrival(other.code, "Zoé")  # a locked room
    arrivals[9] = Arrival("ZZZZZZ", "Yann")  # no such session
    async with open_session.server.db.write() as db:
        outcomes = await join_all(db, arrivals)
    assert isinstance(outcomes[3], Invalid)
    assert isinstance(outcomes[7], Conflict)
    assert isinstance(outcomes[9], UnknownCode)
    stored = {p.id: p.display_name for p in await participants_of(open_session)}
    for arrival, outcome in zip(arrivals, outcomes, strict=True):
        if isinstance(outcome, Arrived):
            assert outcome.session.join_code == open_session.code
            assert stored[outcome.participant.id] == arrival.display_name
    assert len(stored) == 9

    # Over HTTP, at once: each phone is shown as itself, on its answer and on reload.
    phones = [Browser(open_session.server) for _ in range(15)]
    open_session.devices.extend(phones)
    for phone in phones:
        await phone.get(f"/s/{open_session.code}")
    answers = await asyncio.gather(
        *(
            phone.post(f"/s/{open_session.code}/join", {"display_name": f"Passante {n}"})
            for n, phone in enumerate(phones)
        )
    )
    for n, (phone, answer) in enumerate(zip(phones, answers, strict=True)):
        assert answer.status_code == 200
        assert f"You take part as Passante {n}." in answer.text
        assert (
            f"You take part as Passante {n}." in (await phone.get(f"/s/{open_session.code}")).text
        )
    assert len(await participants_of(open_session)) == 24


async def test_a_phone_that_took_part_elsewhere_is_shown_the_join_page_of_another(
    open_session: OpenSession,
) -> None:
    other = await open_session_for(
        open_session.server, open_session.facilitator, "Assemblée de quartier"
    )
    phone = await open_session.phone("Awa")  # remembered in the first session
    page = await phone.get(f"/s/{other.code}")
    assert page.status_code == 200
    assert 'id="display_name"' in page.text
    assert "Assemblée de quartier" in page.text
    assert all(same_token(token, phone.csrf) for token in CSRF_RE.findall(page.text))
    assert "-mark-" not in page.text
    joined = await phone.post(f"/s/{other.code}/join", {"display_name": "Awa"})
    assert "You take part as Awa." in joined.text
    # Back in the first session, still as herself.
    assert "You take part as Awa." in (await phone.get(f"/s/{open_session.code}")).text


async def test_a_phone_that_joins_again_is_renamed_not_multiplied(
    open_session: OpenSession,
) -> None:
    """Posting the join form again with the same cookie once made a new participant each
    time: five joins, five ballots in one poll and five votes on one proposal. A second
    join now changes the name (a typo mended), never the identity."""
    author = await open_session.phone("Aïcha")
    await author.post(f"/s/{open_session.code}/proposals", {"text": "Un jardin partagé"})
    async with open_session.server.db.session() as db:
        proposal = (await db.exec(select(Proposal))).one()
    poll_id = await create(open_session, question="Un goûter ?", method="yes_no")
    await act(open_session, poll_id, "open")

    phone = Browser(open_session.server)
    open_session.devices.append(phone)
    await phone.get(f"/s/{open_session.code}")
    ballots = []
    for n in range(5):
        joined = await phone.post(f"/s/{open_session.code}/join", {"display_name": f"Bruno {n}"})
        assert joined.status_code == 200, joined.text
        assert f"You take part as Bruno {n}." in joined.text
        voted = await phone.post(
            f"/s/{open_session.code}/proposals/{proposal.id}/vote", {"choice": "for"}
        )
        assert voted.status_code == 200
        ballot = await phone.post(
            f"/s/{open_session.code}/polls/{poll_id}/ballot", {"choice": "for"}
        )
        ballots.append(ballot.status_code)
    assert ballots == [200, 409, 409, 409, 409]
    assert sorted(p.display_name for p in await participants_of(open_session)) == [
        "Aïcha",
        "Bruno 4",
    ]
    async with open_session.server.db.session() as db:
        votes = (await db.exec(select(Vote).where(Vote.proposal_id == proposal.id))).all()
        signatures = (await db.exec(select(VoterRegister))).all()
    assert len(votes) == 1
    assert len(signatures) == 1
    # The page offers it (the join form again), and without JavaScript it redirects.
    page = await phone.get(f"/s/{open_session.code}")
    assert 'id="rename-name" name="display_name" value="Bruno 4"' in page.text
    renamed = await phone.post(
        f"/s/{open_session.code}/join", {"display_name": "Bruno"}, htmx=False
    )
    assert renamed.status_code == 303
    assert "You take part as Bruno." in (await phone.get(f"/s/{open_session.code}")).text
    # In a locked room too: the phone is in already (a newcomer is refused).
    await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/room", {"locked": "1"}
    )
    assert (
        await phone.post(f"/s/{open_session.code}/join", {"display_name": "Bruno B."})
    ).is_success
    late = Browser(open_session.server)
    open_session.devices.append(late)
    await late.get(f"/s/{open_session.code}")
    assert (
        await late.post(f"/s/{open_session.code}/join", {"display_name": "Zoé"})
    ).status_code == 409
    assert sorted(p.display_name for p in await participants_of(open_session)) == [
        "Aïcha",
        "Bruno B.",
    ]


async def test_a_removed_participant_stays_out_of_the_session(open_session: OpenSession) -> None:
    awa = await open_session.phone("Awa")
    poll_id = await create(open_session, question="Un goûter ?", method="yes_no")
    await act(open_session, poll_id, "open")
    (awa_participant,) = await participants_of(open_session)
    removed = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/participants/{awa_participant.id}/remove"
    )
    assert removed.status_code == 200
    for htmx in (True, False):
        again = await awa.post(
            f"/s/{open_session.code}/join", {"display_name": "Awa, encore"}, htmx=htmx
        )
        assert again.status_code == 403
        assert "The facilitator has removed you from this session." in again.text
    ballot = await awa.post(f"/s/{open_session.code}/polls/{poll_id}/ballot", {"choice": "for"})
    assert ballot.status_code == 403
    assert [p.display_name for p in await participants_of(open_session)] == ["Awa"]
    async with open_session.server.db.session() as db:
        assert (await db.exec(select(VoterRegister))).all() == []
