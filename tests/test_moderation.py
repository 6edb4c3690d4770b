"""The facilitator's console: pre-moderation, pins, corrections, merges, the room."""

from __future__ import annotations

import re

import pytest
from sqlmodel import col, select

from cocreate.models import Comment, Proposal, ProposalRevision, Vote
from tests.conftest import Browser, OpenSession, tally_of


async def proposal_ids(open_session: OpenSession) -> list[int]:
    async with open_session.server.db.session() as db:
        rows = await db.exec(
            select(Proposal.id)
            .where(Proposal.session_id == open_session.session_id)
            .order_by(Proposal.id)
        )
        return [pid for pid in rows.all() if pid is not None]


@pytest.mark.wire
async def test_pre_moderated_contributions_wait_for_approval_then_reach_every_phone(
    open_session: OpenSession,
) -> None:
    switched = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/room", {"premoderation": "1"}
    )
    assert "Pre-moderation on" in switched.text
    author, reader = await open_session.phone("Awa"), await open_session.phone("Ben")
    live = await reader.socket(open_session.code, "phone", last_seq=await open_session.seq())
    sent = await author.post(f"/s/{open_session.code}/proposals", {"text": "Un local partagé"})
    assert "It will show once the facilitator approves it." in sent.text
    (pid,) = await proposal_ids(open_session)
    assert "Un local partagé" not in (await reader.get(f"/s/{open_session.code}")).text
    screen_page = (await reader.get(f"/s/{open_session.code}/screen")).text
    assert "Un local partagé" not in screen_page
    console = (
        await open_session.facilitator.get(f"/sessions/{open_session.session_id}/console")
    ).text
    assert "Waiting for approval" in console
    # Nothing can be done with it before approval.
    refused = await reader.post(f"/s/{open_session.code}/proposals/{pid}/vote", {"choice": "for"})
    assert refused.status_code == 409
    assert not [f for f in await live.quiet() if "Un local partagé" in f]

    approved = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/proposals/{pid}/approve"
    )
    assert approved.status_code == 200
    assert "Waiting for approval" not in approved.text
    frame = await live.until_text("Un local partagé")
    assert 'hx-swap-oob="afterbegin:#wall"' in frame
    assert "Un local partagé" in (await reader.get(f"/s/{open_session.code}")).text
    await live.close()


@pytest.mark.wire
async def test_a_correction_keeps_the_authors_words_and_a_pin_puts_it_first(
    open_session: OpenSession,
) -> None:
    phone = await open_session.phone("Awa")
    await phone.post(f"/s/{open_session.code}/proposals", {"text": "Un jardin partgé"})
    await phone.post(f"/s/{open_session.code}/proposals", {"text": "Une cantine"})
    first, _ = await proposal_ids(open_session)
    live = await phone.socket(open_session.code, "phone", last_seq=await open_session.seq())
    base = f"/sessions/{open_session.session_id}/proposals/{first}"
    corrected = await open_session.facilitator.post(f"{base}/edit", {"text": "Un jardin partagé"})
    assert corrected.status_code == 200
    assert "Earlier texts:" in corrected.text
    assert "Un jardin partgé" in corrected.text
    frame = await live.until_text("Un jardin partagé")
    assert "corrected by the facilitator" in frame
    assert "partgé" not in frame  # phones see the corrected text only
    async with open_session.server.db.session() as db:
        kept = (await db.exec(select(ProposalRevision.text))).all()
    assert kept == ["Un jardin partgé"]
    empty = await open_session.facilitator.post(f"{base}/edit", {"text": "  "})
    assert empty.status_code == 422

    pinned = await open_session.facilitator.post(f"{base}/pin")
    assert "Unpin" in pinned.text
    await live.until_text("Pinned")
    page = (await phone.get(f"/s/{open_session.code}")).text
    assert page.index("Un jardin partagé") < page.index("Une cantine")
    await open_session.facilitator.post(f"{base}/unpin")
    page = (await phone.get(f"/s/{open_session.code}")).text
    assert page.index("Une cantine") < page.index("Un jardin partagé")
    await live.close()


@pytest.mark.wire
async def test_merging_duplicates_keeps_authors_comments_reactions_and_votes_counted_once(
    open_session: OpenSession,
) -> None:
    awa, ben, chloe = (
        await open_session.phone("Awa"),
        await open_session.phone("Ben"),
        await open_session.phone("Chloé"),
    )
    await awa.post(f"/s/{open_session.code}/proposals", {"text": "Un jardin partagé"})
    await ben.post(f"/s/{open_session.code}/proposals", {"text": "Des potagers en commun"})
    kept, duplicate = await proposal_ids(open_session)
    # Awa votes on both (for, then against the duplicate); Chloé only on the duplicate.
    await awa.post(f"/s/{open_session.code}/proposals/{kept}/vote", {"choice": "for"})
    await awa.post(f"/s/{open_session.code}/proposals/{duplicate}/vote", {"choice": "against"})
    await chloe.post(f"/s/{open_session.code}/proposals/{duplicate}/vote", {"choice": "for"})
    await chloe.post(
        f"/s/{open_session.code}/proposals/{duplicate}/comments", {"text": "Bonne idée"}
    )
    await ben.post(f"/s/{open_session.code}/proposals/{duplicate}/reaction", {"reaction": "agree"})
    live = await chloe.socket(open_session.code, "phone", last_seq=await open_session.seq())

    merged = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/proposals/{duplicate}/merge", {"into": str(kept)}
    )
    assert merged.status_code == 200
    assert f'id="proposal-{duplicate}"' not in merged.text
    assert "Merged with 1 similar proposal" in merged.text
    frame = await live.until_text(f'id="proposal-{duplicate}" hx-swap-oob="delete"')
    assert "Proposed by Awa, Ben" in frame
    assert "Des potagers en commun" in frame  # what it was merged from

    page = (await chloe.get(f"/s/{open_session.code}")).text
    assert f'id="proposal-{duplicate}"' not in page
    # Awa counts once (her vote on the kept one stands); Chloé's vote came along.
    assert tally_of(page, kept) == {"for": 2, "against": 0, "abstain": 0}
    assert "Bonne idée" in page
    assert "Agree <strong>1</strong>" in page
    async with open_session.server.db.session() as db:
        current = (
            await db.exec(
                select(Vote.participant_id).where(
                    Vote.proposal_id == kept, col(Vote.superseded_at).is_(None)
                )
            )
        ).all()
        comments = (await db.exec(select(Comment.proposal_id))).all()
        history = (await db.exec(select(Vote).where(Vote.proposal_id == duplicate))).all()
    assert len(current) == len(set(current)) == 2
    assert comments == [kept]
    assert [v.superseded_at is not None for v in history] == [True]  # Awa's, kept as history

    again = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/proposals/{duplicate}/merge", {"into": str(kept)}
    )
    assert again.status_code == 409
    itself = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/proposals/{kept}/merge", {"into": str(kept)}
    )
    assert itself.status_code == 422
    nonsense = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/proposals/{kept}/merge", {"into": "abc"}
    )
    assert nonsense.status_code == 422
    await live.close()


async def test_a_locked_room_takes_no_one_new_and_a_removed_participant_can_no_longer_act(
    open_session: OpenSession,
) -> None:
    awa = await open_session.phone("Awa")
    locked = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/room", {"locked": "1"}
    )
    assert "Unlock the room" in locked.text
    late = Browser(open_session.server)
    open_session.devices.append(late)
    page = (await late.get(f"/s/{open_session.code}")).text
    assert "The room is locked" in page
    assert 'id="display_name"' not in page
    refused = await late.post(f"/s/{open_session.code}/join", {"display_name": "Zoé"}, htmx=False)
    assert refused.status_code == 409
    assert "The room is locked" in refused.text
    # Those already in keep taking part.
    assert (await awa.post(f"/s/{open_session.code}/proposals", {"text": "Toujours là"})).is_success
    await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/room", {"locked": "0"}
    )
    joined = await late.post(f"/s/{open_session.code}/join", {"display_name": "Zoé"}, htmx=False)
    assert joined.status_code == 303
    people = await open_session.facilitator.get(f"/sessions/{open_session.session_id}/people")
    assert "Zoé" in people.text  # the console's list, read when opened
    assert (await late.get(f"/sessions/{open_session.session_id}/people")).status_code == 303

    console = (
        await open_session.facilitator.get(f"/sessions/{open_session.session_id}/console")
    ).text
    awa_id = re.search(
        r'/participants/(\d+)/remove"[^>]*>\s*<input[^>]*>\s*<details class="confirm">\s*'
        r'<summary>Remove…<span class="visually-hidden"> \(Awa\)</span></summary>',
        console,
    )
    assert awa_id, "the console lists Awa with a remove button, behind a confirmation"
    removed = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/participants/{awa_id.group(1)}/remove"
    )
    assert "Removed" in removed.text
    blocked = await awa.post(f"/s/{open_session.code}/proposals", {"text": "Encore moi"})
    assert blocked.status_code == 403
    assert "removed you" in blocked.text
    # What she sent before stays.
    assert "Toujours là" in (await late.get(f"/s/{open_session.code}")).text


@pytest.mark.wire
async def test_the_console_counts_who_is_connected_per_role(open_session: OpenSession) -> None:
    phone = await open_session.phone("Awa")
    screen = await open_session.projector()
    console = await open_session.facilitator.socket(
        open_session.code, "console", last_seq=await open_session.seq()
    )
    phone_live = await phone.socket(open_session.code, "phone", last_seq=await open_session.seq())
    screen_live = await screen.socket(
        open_session.code, "screen", last_seq=await open_session.seq()
    )
    frame = await console.until(
        lambda f: 'id="presence"' in f and "1 person connected" in f and "1 projector" in f
    )
    assert "1 console" in frame
    for socket in (console, phone_live, screen_live):
        await socket.close()


async def test_the_decisions_page_shows_the_chain_from_need_to_decision(
    open_session: OpenSession,
) -> None:
    await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/steps",
        {"kind": "needs", "title": "Besoins", "prompt": "", "minutes": "", "auto_close": "1"},
    )
    for kind, title in (("ideas", "Idées"), ("vote", "Vote")):
        await open_session.facilitator.post(
            f"/sessions/{open_session.session_id}/steps",
            {"kind": kind, "title": title, "prompt": "", "minutes": "", "auto_close": "1"},
        )
    awa = await open_session.phone("Awa")
    await open_session.facilitator.post(f"/sessions/{open_session.session_id}/agenda/start")
    await awa.post(
        f"/s/{open_session.code}/needs", {"text": "Les enfants n'ont pas de lieu le soir"}
    )
    (need,) = await proposal_ids(open_session)
    await open_session.facilitator.post(f"/sessions/{open_session.session_id}/agenda/next")
    await awa.post(
        f"/s/{open_session.code}/proposals",
        {"text": "Ouvrir la salle des fêtes", "need": str(need)},
    )
    _, idea = await proposal_ids(open_session)
    await open_session.facilitator.post(f"/sessions/{open_session.session_id}/agenda/next")
    await awa.post(f"/s/{open_session.code}/proposals/{idea}/vote", {"choice": "for"})
    decided = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/proposals/{idea}/decision", {"outcome": "adopted"}
    )
    assert decided.status_code == 200
    page = (
        await open_session.facilitator.get(f"/projects/{open_session.project_id}/decisions")
    ).text
    chain = page[page.index("Need:") :]
    assert chain.index("Les enfants n&#39;ont pas de lieu le soir") < chain.index(
        "Ouvrir la salle des fêtes"
    )
    assert "Show of hands" in chain
    assert "Adopted" in chain
