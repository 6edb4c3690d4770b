"""The whole loop with a facilitator, two phones and a projector connected at once."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from cocreate.models import Decision, Proposal, Vote
from tests.conftest import OpenSession, frame_seq, tally_of


async def proposal_id_of(open_session: OpenSession, text: str) -> int:
    async with open_session.server.db.session() as db:
        proposal = (await db.exec(select(Proposal).where(Proposal.text == text))).one()
        assert proposal.id is not None
        return proposal.id


@pytest.mark.wire
async def test_two_phones_projector_and_console_follow_the_session_live(
    open_session: OpenSession,
) -> None:
    phone_a = await open_session.phone("Aïcha")
    phone_b = await open_session.phone("Bruno")
    screen = await open_session.projector()
    seq = await open_session.seq()
    live_a = await phone_a.socket(open_session.code, "phone", last_seq=seq)
    live_b = await phone_b.socket(open_session.code, "phone", last_seq=seq)
    live_screen = await screen.socket(open_session.code, "screen", last_seq=seq)
    live_console = await open_session.facilitator.socket(open_session.code, "console", last_seq=seq)

    # The projector counts the phones connected.
    await live_screen.until(lambda f: 'id="presence"' in f and "2 people connected" in f)

    # Phone A proposes: phone B, the projector and the console receive the card.
    text = "Une cuisine partagée ouverte le samedi"
    sent = await phone_a.post(f"/s/{open_session.code}/proposals", {"text": text})
    assert sent.status_code == 200
    assert "Your proposal is on the wall" in sent.text
    pid = await proposal_id_of(open_session, text)
    for live in (live_a, live_b, live_screen, live_console):
        frame = await live.until_text(f'id="proposal-{pid}"')
        assert text in frame
        assert 'hx-swap-oob="afterbegin:#wall"' in frame
    assert "Aïcha" in frame  # the author's name is shown

    # Phone B votes for, then changes to against: tallies update on every screen.
    voted = await phone_b.post(f"/s/{open_session.code}/proposals/{pid}/vote", {"choice": "for"})
    assert voted.status_code == 200
    assert 'aria-pressed="true"' in voted.text
    assert 'value="for"' in voted.text
    for live in (live_a, live_screen, live_console):
        frame = await live.until_text(f'id="tally-{pid}"')
        assert tally_of(frame, pid) == {"for": 1, "against": 0, "abstain": 0}
    await phone_b.post(f"/s/{open_session.code}/proposals/{pid}/vote", {"choice": "against"})
    await phone_a.post(f"/s/{open_session.code}/proposals/{pid}/vote", {"choice": "for"})
    frame = await live_screen.until(
        lambda f: (
            f'id="tally-{pid}"' in f and tally_of(f, pid) == {"for": 1, "against": 1, "abstain": 0}
        )
    )
    async with open_session.server.db.session() as db:
        votes = (await db.exec(select(Vote).where(Vote.proposal_id == pid))).all()
    # One current vote per participant; the earlier one is kept in history.
    assert len(votes) == 3
    assert sum(v.superseded_at is None for v in votes) == 2

    # A comment reaches the other phone and the console.
    await phone_b.post(
        f"/s/{open_session.code}/proposals/{pid}/comments", {"text": "Et le dimanche ?"}
    )
    for live in (live_a, live_console):
        frame = await live.until_text("Et le dimanche ?")
        assert f'id="comments-{pid}"' in frame
        assert "Bruno" in frame

    # The facilitator hides it: it disappears from phones and projector, greyed on the console.
    hidden = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/proposals/{pid}/hide"
    )
    assert hidden.status_code == 200
    assert "card--hidden" in hidden.text
    for live in (live_a, live_b, live_screen):
        frame = await live.until_text(f'id="proposal-{pid}" hx-swap-oob="delete"')
    frame = await live_console.until(lambda f: "card--hidden" in f)
    assert text in frame
    page = await phone_b.get(f"/s/{open_session.code}")
    assert text not in page.text
    refused = await phone_b.post(f"/s/{open_session.code}/proposals/{pid}/vote", {"choice": "for"})
    assert refused.status_code == 409

    # Restored: it comes back everywhere.
    await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/proposals/{pid}/restore"
    )
    for live in (live_a, live_b, live_screen):
        frame = await live.until(lambda f: f'id="proposal-{pid}"' in f and "delete" not in f)
        assert text in frame

    # The facilitator records the decision: the vote closes, everyone sees the outcome.
    decided = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/proposals/{pid}/decision",
        {"outcome": "adopted", "note": "À lancer en mars"},
    )
    assert decided.status_code == 200
    frame = await live_screen.until_text('id="decisions"')
    assert "Adopted" in frame
    assert "1 for, 1 against, 0 abstaining" in frame
    frame = await live_b.until_text(f'id="vote-{pid}"')
    assert "Voting on this proposal is closed." in frame
    late = await phone_b.post(f"/s/{open_session.code}/proposals/{pid}/vote", {"choice": "abstain"})
    assert late.status_code == 409

    decisions = await open_session.facilitator.get(f"/projects/{open_session.project_id}/decisions")
    assert decisions.status_code == 200
    assert text in decisions.text
    assert "Adopted" in decisions.text
    assert "1 for, 1 against, 0 abstaining" in decisions.text
    async with open_session.server.db.session() as db:
        decision = (await db.exec(select(Decision))).one()
    assert (decision.votes_for, decision.votes_against, decision.votes_abstain) == (1, 1, 0)
    assert decision.note == "À lancer en mars"

    # Every frame carries the session's sequence number, which only grows.
    seqs = [frame_seq(f) for f in live_b.frames if 'id="live-seq"' in f]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == len(seqs)
    for live in (live_a, live_b, live_screen, live_console):
        await live.close()


@pytest.mark.wire
async def test_closing_the_session_reaches_every_phone_and_stops_contributions(
    open_session: OpenSession,
) -> None:
    phone = await open_session.phone("Chloé")
    await phone.post(f"/s/{open_session.code}/proposals", {"text": "Encore ouverte"})
    live = await phone.socket(open_session.code, "phone", last_seq=await open_session.seq())
    closed = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/close", htmx=False
    )
    assert closed.status_code == 303
    frame = await live.until_text('id="session-status"')
    assert "This session is closed: thank you for taking part." in frame
    assert 'id="stage" class="stage stage--free" hx-swap-oob="true"' in frame
    assert 'id="propose" class="propose" hidden' in frame
    assert "Voting on this proposal is closed." in frame
    refused = await phone.post(f"/s/{open_session.code}/proposals", {"text": "Trop tard"})
    assert refused.status_code == 409
    assert "This session is closed." in refused.text
    await live.close()


async def test_every_action_works_as_a_plain_form_without_javascript(
    open_session: OpenSession,
) -> None:
    phone = await open_session.phone("Dominique")
    sent = await phone.post(
        f"/s/{open_session.code}/proposals", {"text": "Un jardin partagé"}, htmx=False
    )
    assert sent.status_code == 303
    pid = await proposal_id_of(open_session, "Un jardin partagé")
    voted = await phone.post(
        f"/s/{open_session.code}/proposals/{pid}/vote", {"choice": "abstain"}, htmx=False
    )
    assert voted.status_code == 303
    commented = await phone.post(
        f"/s/{open_session.code}/proposals/{pid}/comments", {"text": "Bonne idée"}, htmx=False
    )
    assert commented.status_code == 303
    page = await phone.get(f"/s/{open_session.code}")
    assert "Un jardin partagé" in page.text
    assert "Bonne idée" in page.text
    assert tally_of(page.text, pid) == {"for": 0, "against": 0, "abstain": 1}
    assert re.search(r'value="abstain" class="vote-abstain" aria-pressed="true"', page.text)


async def test_the_same_phone_stays_the_same_participant(open_session: OpenSession) -> None:
    phone = await open_session.phone("Émile")
    first = await phone.get(f"/s/{open_session.code}")
    again = await phone.get(f"/s/{open_session.code}")
    assert "You take part as Émile." in first.text
    assert "You take part as Émile." in again.text
    async with open_session.server.db.session() as db:
        from cocreate.models import Participant

        assert len((await db.exec(select(Participant))).all()) == 1
