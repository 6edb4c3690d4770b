"""Votes on proposals are cast in batches: every ballot is checked against the same rules
as a vote cast alone, a refused ballot gets its own answer without refusing the others,
and each vote keeps its own event; a phone's answer is its own vote."""

from __future__ import annotations

import asyncio
import re

from sqlmodel import col, select

from cocreate import proposal_votes
from cocreate.errors import Conflict, Forbidden, NotFound, RuleError
from cocreate.models import Choice, Event, Participant, Proposal, Session, Vote, utcnow
from cocreate.proposal_votes import CastVote, VoteOnProposal
from tests.conftest import CSRF_RE, Browser, OpenSession, same_token, tally_of


async def proposal(open_session: OpenSession, text: str) -> int:
    author = await open_session.phone(f"Author of {text}")
    await author.post(f"/s/{open_session.code}/proposals", {"text": text})
    page = await author.get(f"/s/{open_session.code}")
    return max(int(n) for n in re.findall(r'id="proposal-(\d+)"', page.text))


async def participant_id(open_session: OpenSession, name: str) -> int:
    async with open_session.server.db.session() as db:
        found = (await db.exec(select(Participant).where(Participant.display_name == name))).one()
    assert found.id is not None
    return found.id


def ballot(
    open_session: OpenSession, voter: int | None, proposal_id: int, choice: str
) -> VoteOnProposal:
    return VoteOnProposal(open_session.code, lambda _session_id: voter, proposal_id, Choice(choice))


async def test_a_batch_casts_the_good_ballots_and_refuses_each_bad_one_alone(
    open_session: OpenSession,
) -> None:
    idea = await proposal(open_session, "Un jardin partagé")
    hidden = await proposal(open_session, "Une proposition cachée")
    for name in ("Awa", "Bruno", "Chloé"):
        await open_session.phone(name)
    awa, bruno, chloe = [await participant_id(open_session, n) for n in ("Awa", "Bruno", "Chloé")]
    async with open_session.server.db.session() as db:
        removed = await db.get(Participant, bruno)
        concealed = await db.get(Proposal, hidden)
        assert removed is not None
        assert concealed is not None
        removed.removed_at = concealed.hidden_at = utcnow()
        db.add_all([removed, concealed])
        await db.commit()
    seq_before = await open_session.seq()

    async with open_session.server.db.write() as db:
        outcomes = await proposal_votes.vote_all(
            db,
            [
                ballot(open_session, awa, idea, "for"),
                ballot(open_session, bruno, idea, "for"),  # removed by the facilitator
                ballot(open_session, chloe, hidden, "for"),  # a hidden proposal
                ballot(open_session, chloe, 999_999, "for"),  # no such proposal
                ballot(open_session, None, idea, "for"),  # a phone that never joined
                ballot(open_session, awa, idea, "against"),  # Awa changes her mind at once
                ballot(open_session, chloe, idea, "abstain"),
            ],
        )

    kinds = [type(outcome) for outcome in outcomes]
    assert kinds == [CastVote, Forbidden, Conflict, NotFound, Forbidden, CastVote, CastVote]
    refusals = [o.message for o in outcomes if isinstance(o, RuleError)]
    assert refusals == [
        "The facilitator has removed you from this session.",
        "The facilitator has hidden this proposal.",
        "This proposal does not exist in this session.",
        "Join the session with a name first.",
    ]
    # One event per vote cast, numbered in the order the ballots came.
    cast = [o for o in outcomes if isinstance(o, CastVote)]
    assert [c.event.seq for c in cast] == [seq_before + 1, seq_before + 2, seq_before + 3]
    assert await open_session.seq() == seq_before + 3
    async with open_session.server.db.session() as db:
        events = (await db.exec(select(Event).where(Event.seq > seq_before))).all()
        votes = (await db.exec(select(Vote).order_by(col(Vote.id)))).all()
    assert [(e.seq, e.kind, e.subject_id) for e in events] == [
        (seq_before + n, "vote_cast", idea) for n in (1, 2, 3)
    ]
    # Awa's first vote is kept, superseded by the second: one current vote per voter.
    assert [(v.participant_id, v.choice, v.superseded_at is None) for v in votes] == [
        (awa, "for", False),
        (awa, "against", True),
        (chloe, "abstain", True),
    ]
    screen = await (await open_session.projector()).get(f"/s/{open_session.code}/screen")
    assert tally_of(screen.text, idea) == {"for": 0, "against": 1, "abstain": 1}


async def test_the_same_choice_again_is_answered_and_writes_nothing(
    open_session: OpenSession,
) -> None:
    """A second tap, or a phone retrying a vote whose answer it never got (the server
    went down after the commit): the vote counts once, with no new row and no event."""
    idea = await proposal(open_session, "Une ressourcerie")
    await open_session.phone("Awa")
    awa = await participant_id(open_session, "Awa")
    async with open_session.server.db.write() as db:
        [first] = await proposal_votes.vote_all(db, [ballot(open_session, awa, idea, "for")])
    seq_before = await open_session.seq()

    async with open_session.server.db.write() as db:
        outcomes = await proposal_votes.vote_all(
            db,
            [
                ballot(open_session, awa, idea, "for"),  # the same again: nothing to write
                ballot(open_session, awa, idea, "against"),  # a change of mind
                ballot(open_session, awa, idea, "against"),  # and its repeat within the batch
                ballot(open_session, awa, idea, "for"),  # back to "for": a change again
            ],
        )
    assert all(isinstance(o, CastVote) for o in outcomes)
    assert [o.event is None for o in outcomes if isinstance(o, CastVote)] == [
        True,
        False,
        True,
        False,
    ]
    assert await open_session.seq() == seq_before + 2
    async with open_session.server.db.session() as db:
        votes = (await db.exec(select(Vote).order_by(col(Vote.id)))).all()
    assert [(v.choice, v.superseded_at is None) for v in votes] == [
        ("for", False),
        ("against", False),
        ("for", True),
    ]
    # Over HTTP, the repeat is answered as a vote is: the phone's choice, pressed.
    phone = open_session.devices[-1]
    again = await phone.post(f"/s/{open_session.code}/proposals/{idea}/vote", {"choice": "for"})
    assert again.status_code == 200
    assert 'value="for" class="vote-for" aria-pressed="true"' in again.text
    assert await open_session.seq() == seq_before + 2
    assert isinstance(first, CastVote)


async def test_a_step_that_allows_no_vote_refuses_the_whole_batch_and_writes_nothing(
    open_session: OpenSession,
) -> None:
    idea = await proposal(open_session, "Un atelier vélo")
    await open_session.phone("Awa")
    awa = await participant_id(open_session, "Awa")
    async with open_session.server.db.session() as db:
        session = await db.get(Session, open_session.session_id)
        assert session is not None
        session.closed_at = utcnow()
        db.add(session)
        await db.commit()
    seq_before = await open_session.seq()
    async with open_session.server.db.write() as db:
        outcomes = await proposal_votes.vote_all(
            db, [ballot(open_session, awa, idea, "for"), ballot(open_session, awa, idea, "against")]
        )
    assert [getattr(o, "message", None) for o in outcomes] == ["This session is closed."] * 2
    assert await open_session.seq() == seq_before
    async with open_session.server.db.session() as db:
        assert (await db.exec(select(Vote))).all() == []


async def test_phones_voting_together_each_get_their_own_answer(open_session: OpenSession) -> None:
    """Thirty phones vote at the same instant, one of them removed just before: each
    phone's answer shows its own vote, the removed one is told why, and the tally on
    the projector counts each vote once."""
    idea = await proposal(open_session, "Une cantine solidaire")
    phones = [await open_session.phone(f"Phone {n}") for n in range(30)]
    removed = await participant_id(open_session, "Phone 7")
    await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/participants/{removed}/remove"
    )
    choices = ["for", "against", "abstain"]
    answers = await asyncio.gather(
        *(
            phone.post(f"/s/{open_session.code}/proposals/{idea}/vote", {"choice": choices[n % 3]})
            for n, phone in enumerate(phones)
        )
    )
    for n, answer in enumerate(answers):
        if n == 7:
            assert answer.status_code == 403
            assert "removed you" in answer.text
            continue
        assert answer.status_code == 200, answer.text
        pressed = re.findall(r'value="(\w+)" class="vote-\w+" aria-pressed="true"', answer.text)
        assert pressed == [choices[n % 3]], f"phone {n} sees its own vote"
    screen = await (await open_session.projector()).get(f"/s/{open_session.code}/screen")
    assert tally_of(screen.text, idea) == {"for": 10, "against": 9, "abstain": 10}


async def test_the_answer_drawn_once_for_a_batch_carries_each_phones_token(
    open_session: OpenSession,
) -> None:
    """Voters of one batch choosing alike share one drawing of their answer: each still
    gets the CSRF token of its own page (its next vote is accepted), in its language,
    and once the vote is closed nobody is answered with the open buttons."""
    idea = await proposal(open_session, "Un atelier vélo")
    phones = [await open_session.phone(f"Phone {n}") for n in range(12)]
    french = Browser(open_session.server, language="fr")
    await french.post(f"/s/{open_session.code}/join", {"display_name": "Zoé"})
    await french.get(f"/s/{open_session.code}")
    tokens = [phone.csrf for phone in phones]
    assert len(set(tokens)) == len(tokens)
    vote = f"/s/{open_session.code}/proposals/{idea}/vote"
    answers = await asyncio.gather(
        *(phone.post(vote, {"choice": "for"}) for phone in [*phones, french])
    )
    for phone, answer in zip([*phones, french], answers, strict=True):
        assert answer.status_code == 200, answer.text
        (token,) = CSRF_RE.findall(answer.text)
        assert same_token(token, phone.csrf)
        assert all(not same_token(token, other.csrf) for other in phones if other is not phone)
    assert "Vous avez voté" in answers[-1].text
    assert "You voted" in answers[0].text
    # The next vote of each phone, with the token its answer carried, is accepted.
    again = await asyncio.gather(*(phone.post(vote, {"choice": "against"}) for phone in phones))
    assert [a.status_code for a in again] == [200] * len(phones)
    assert all('value="against" class="vote-against" aria-pressed="true"' in a.text for a in again)

    closed = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/proposals/{idea}/close-vote"
    )
    assert closed.status_code < 400, closed.text
    late = await phones[0].post(vote, {"choice": "for"})
    assert late.status_code == 409
    assert "closed" in late.text
    await french.close()
