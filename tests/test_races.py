"""Races: the same vote sent many times at once, votes racing the close of a vote, two
consoles moderating the same proposal at once. The invariants hold whatever the order:
one current vote per voter, one tally once a vote is closed, no moderation lost.
(Polls' own races — ballots racing the close, one member one ballot — are in
tests/test_polls.py.)"""

from __future__ import annotations

import asyncio
import itertools
import re

import httpx
from sqlmodel import col, func, select

from cocreate.models import Event, Proposal, ProposalRevision, Vote
from tests.conftest import PASSWORD, Browser, OpenSession, tally_of


async def proposal(open_session: OpenSession, text: str) -> tuple[Browser, int]:
    author = await open_session.phone(f"Autrice de {text}")
    await author.post(f"/s/{open_session.code}/proposals", {"text": text})
    page = await author.get(f"/s/{open_session.code}")
    return author, max(int(n) for n in re.findall(r'id="proposal-(\d+)"', page.text))


async def test_a_vote_sent_many_times_at_once_is_one_vote(open_session: OpenSession) -> None:
    phone, idea = await proposal(open_session, "Un four à pain partagé")
    path = f"/s/{open_session.code}/proposals/{idea}/vote"
    answers = await asyncio.gather(*(phone.post(path, {"choice": "for"}) for _ in range(20)))
    assert [a.status_code for a in answers] == [200] * 20
    # Then a burst of changes of mind, in no particular order: one of them is current.
    mixed = ["against", "abstain", "for"] * 5
    answers = await asyncio.gather(*(phone.post(path, {"choice": c}) for c in mixed))
    assert [a.status_code for a in answers] == [200] * 15
    async with open_session.server.db.session() as db:
        votes = (await db.exec(select(Vote).order_by(col(Vote.id)))).all()
        vote_events = (
            await db.exec(select(func.count()).select_from(Event).where(Event.kind == "vote_cast"))
        ).one()
    current = [v for v in votes if v.superseded_at is None]
    assert len(current) == 1
    assert votes[0].choice == "for"
    assert sum(1 for v in votes if v.choice == "for") <= 6  # the 20 first count once
    # No two rows in a row with the same choice: a repeat writes nothing.
    assert all(a.choice != b.choice for a, b in itertools.pairwise(votes))
    assert vote_events == len(votes)
    screen = await (await open_session.projector()).get(f"/s/{open_session.code}/screen")
    tally = tally_of(screen.text, idea)
    assert sum(tally.values()) == 1
    assert tally[current[0].choice] == 1


async def test_votes_racing_the_close_are_counted_or_refused_and_the_tally_holds(
    open_session: OpenSession,
) -> None:
    _, idea = await proposal(open_session, "Une cantine solidaire")
    phones = [await open_session.phone(f"Votant {n}") for n in range(30)]
    path = f"/s/{open_session.code}/proposals/{idea}/vote"

    async def close() -> int:
        closed = await open_session.facilitator.post(
            f"/sessions/{open_session.session_id}/proposals/{idea}/close-vote"
        )
        return closed.status_code

    async def vote(phone: Browser) -> httpx.Response:
        return await phone.post(path, {"choice": "for"})

    # The close in the middle of the votes: half of them answered before it is sent,
    # the other half sent with it, racing it.
    before, racing = phones[: len(phones) // 2], phones[len(phones) // 2 :]
    early = await asyncio.gather(*(vote(p) for p in before))
    assert [a.status_code for a in early] == [200] * len(before)
    closed, *late = await asyncio.gather(close(), *(vote(p) for p in racing))
    assert closed == 200
    answers = [*early, *late]
    accepted = sum(1 for a in answers if a.status_code == 200)
    refused = [a for a in answers if a.status_code != 200]
    assert all(a.status_code == 409 for a in refused), [a.text for a in refused]
    async with open_session.server.db.session() as db:
        closed = await db.get(Proposal, idea)
        assert closed is not None
        assert closed.vote_closed_at is not None
        votes = (await db.exec(select(Vote).where(Vote.proposal_id == idea))).all()
    assert len(votes) == accepted  # every acknowledged vote is there, and only those
    assert all(v.cast_at <= closed.vote_closed_at for v in votes)
    # The closed vote has one tally, the same on every screen and every reload.
    screens = [await open_session.projector() for _ in range(2)]
    tallies = [
        tally_of((await s.get(f"/s/{open_session.code}/screen")).text, idea) for s in screens
    ]
    assert tallies[0] == tallies[1] == {"for": accepted, "against": 0, "abstain": 0}
    late = await phones[0].post(path, {"choice": "against"})
    assert late.status_code == 409


async def test_two_consoles_moderating_one_proposal_at_once_lose_nothing(
    open_session: OpenSession,
) -> None:
    _, idea = await proposal(open_session, "Un atelier vélo")
    # The facilitator in two tabs, each with its own cookie session.
    other_tab = await signed_in_again(open_session)
    base = f"/sessions/{open_session.session_id}/proposals/{idea}"
    tabs = [open_session.facilitator, other_tab]
    edits = [f"Un atelier vélo, version {n}" for n in range(6)]
    answers = await asyncio.gather(
        *(tabs[n % 2].post(f"{base}/edit", {"text": text}) for n, text in enumerate(edits)),
        open_session.facilitator.post(f"{base}/pin"),
        other_tab.post(f"{base}/close-vote"),
    )
    assert [a.status_code for a in answers] == [200] * len(answers), [a.text for a in answers]
    async with open_session.server.db.session() as db:
        final = await db.get(Proposal, idea, populate_existing=True)
        assert final is not None
        history = (
            await db.exec(
                select(ProposalRevision.text)
                .where(ProposalRevision.proposal_id == idea)
                .order_by(col(ProposalRevision.id))
            )
        ).all()
    # Every change is there: pinned, vote closed, and the text one of the edits, with
    # every text it replaced kept in order (none lost to another tab's write).
    assert final.pinned_at is not None
    assert final.vote_closed_at is not None
    assert final.text in edits
    assert history[0] == "Un atelier vélo"
    assert len(history) == len(edits)
    assert sorted([*history[1:], final.text]) == sorted(edits)
    await other_tab.close()


async def signed_in_again(open_session: OpenSession) -> Browser:
    """A second browser signed in as the session's facilitator."""
    tab = Browser(open_session.server)
    await tab.get("/login")
    response = await tab.post(
        "/login", {"email": "camille@example.org", "password": PASSWORD}, htmx=False
    )
    assert response.status_code == 303, response.text
    await tab.get("/projects")
    return tab
