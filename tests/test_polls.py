"""Polls end to end: prepared on the console, voted from phones, counted, checked."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlmodel import select

from cocreate import participants, polls, voting
from cocreate.cli import main
from cocreate.errors import Conflict
from cocreate.models import (
    Ballot,
    Decision,
    Event,
    Facilitator,
    Participant,
    Poll,
    Proposal,
    SealedBallot,
    Session,
    VoterRegister,
)
from tests.conftest import Browser, OpenSession, signed_in


async def create(open_session: OpenSession, **fields: str | list[str]) -> int:
    data: dict[str, str | list[str]] = {"secret": "1", **fields}
    created = await open_session.facilitator.http.post(
        f"/sessions/{open_session.session_id}/polls",
        data={**data, "csrf_token": open_session.facilitator.csrf},
    )
    assert created.status_code == 303, created.text
    async with open_session.server.db.session() as db:
        poll = (await db.exec(select(Poll).order_by(sa.desc(Poll.id)))).first()
        assert poll is not None
        assert poll.id is not None
        return poll.id


async def act(open_session: OpenSession, poll_id: int, action: str) -> None:
    response = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/polls/{poll_id}/{action}", htmx=False
    )
    assert response.status_code == 303, response.text


async def vote(
    phone: Browser, open_session: OpenSession, poll_id: int, data: dict[str, str | list[str]]
) -> str:
    form: dict[str, str | list[str]] = {**data, "csrf_token": phone.csrf}
    response = await phone.http.post(
        f"/s/{open_session.code}/polls/{poll_id}/ballot", data=form, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200, response.text
    return response.text


@pytest.mark.wire
async def test_a_secret_two_thirds_poll_from_draft_to_decision(open_session: OpenSession) -> None:
    phones = [await open_session.phone(name) for name in ("Ana", "Ben", "Cleo", "Dan")]
    live = await phones[0].socket(open_session.code, "phone", last_seq=await open_session.seq())
    screen = await open_session.projector()
    live_screen = await screen.socket(
        open_session.code, "screen", last_seq=await open_session.seq()
    )
    poll_id = await create(
        open_session,
        question="Adopter les nouveaux statuts ?",
        method="yes_no",
        majority="two_thirds",
    )
    assert (
        "Adopter les nouveaux statuts" not in (await phones[0].get(f"/s/{open_session.code}")).text
    )

    await act(open_session, poll_id, "open")
    frame = await live.until_text(f'id="poll-{poll_id}"')
    assert "Adopter les nouveaux statuts" in frame
    assert 'name="choice" value="for"' in frame  # the ballot itself reaches the phones

    receipt_page = await vote(phones[0], open_session, poll_id, {"choice": "for"})
    assert "Your ballot is in the box." in receipt_page
    for phone, choice in zip(phones[1:], ("for", "against", "abstain"), strict=True):
        await vote(phone, open_session, poll_id, {"choice": choice})
    await live_screen.until_text("4 ballots cast")
    # A secret poll shows how many voted, never how, until it closes.
    assert not any("poll-result" in f for f in live_screen.frames + live.frames)

    again = await phones[0].post(
        f"/s/{open_session.code}/polls/{poll_id}/ballot", {"choice": "against"}
    )
    assert again.status_code == 409
    assert "You have already voted in this poll." in again.text

    await act(open_session, poll_id, "close")
    frame = await live_screen.until(lambda f: f'id="poll-{poll_id}"' in f and "Adopted" in f)
    assert "2 for, 1 against, 1 abstaining, 0 blank" in frame

    async with open_session.server.db.session() as db:
        decision = (await db.exec(select(Decision).where(Decision.poll_id == poll_id))).one()
        poll = await db.get(Poll, poll_id)
        assert poll is not None
    # 2 of 3 votes expressed reach two thirds exactly: adopted.
    assert decision.outcome == "adopted"
    assert (decision.votes_for, decision.votes_against, decision.votes_abstain) == (2, 1, 1)
    assert (decision.turnout, decision.electorate_size) == (4, 4)
    assert decision.method == "yes_no"

    # Anyone in the room can fetch the ballots and recount them to the same result.
    export = await phones[1].get(f"/s/{open_session.code}/polls/{poll_id}/ballots.json")
    assert export.status_code == 200
    assert (
        hashlib.sha256(export.content).hexdigest() == poll.ballots_sha256 == decision.ballots_sha256
    )
    assert sorted(json.loads(export.content)["ballots"]) == ["abstain", "against", "for", "for"]
    assert polls.recount(export.content).as_json() == json.loads(poll.result or "")

    register = await open_session.facilitator.get(f"/projects/{open_session.project_id}/decisions")
    assert "Adopter les nouveaux statuts" in register.text
    assert "For / against / abstain" in register.text
    assert poll.ballots_sha256 in register.text

    result = await phones[2].get(f"/s/{open_session.code}/polls/{poll_id}")
    assert result.status_code == 200
    assert poll.ballots_sha256 in result.text
    assert "4 counted receipts" in result.text
    # The digest, the recount's command line and the receipts are one tap away, under
    # "Check the count": the result reads without them.
    checks = re.search(r'<details class="check-count">(.*?)\n</details>', result.text, re.S)
    assert checks is not None
    for detail in (poll.ballots_sha256, "cocreate recount", "4 counted receipts"):
        assert detail in checks.group(1)
        assert detail not in result.text.replace(checks.group(0), "")
    await live.close()
    await live_screen.close()


async def test_a_secret_poll_keeps_no_link_between_voter_and_choice(
    open_session: OpenSession,
) -> None:
    phones = [await open_session.phone(name) for name in ("Eve", "Fanny", "Gus")]
    poll_id = await create(
        open_session, question="Qui ?", method="approval", options="Rouge\nVert\nBleu"
    )
    await act(open_session, poll_id, "open")
    async with open_session.server.db.session() as db:
        options = [str(o.id) for o in await polls.poll_options(db, poll_id)]
    for phone, chosen in zip(phones, ([options[0]], [options[0], options[1]], []), strict=True):
        await vote(phone, open_session, poll_id, {"approve": chosen} if chosen else {})
    async with open_session.server.db.session() as db:
        sealed = (await db.exec(select(SealedBallot))).all()
        open_ballots = (await db.exec(select(Ballot))).all()
        register = (await db.exec(select(VoterRegister))).all()
        events = (await db.exec(select(Event).where(Event.kind == "ballot_cast"))).all()
    # While open: sealed ballots, all of one size (the empty ballot as long as the fullest).
    assert len(sealed) == len(register) == 3
    assert open_ballots == []
    assert len({len(b.sealed) for b in sealed}) == 1
    assert not any(b'"ballot"' in b.sealed or b'"receipt"' in b.sealed for b in sealed)
    assert {e.subject_id for e in events} == {poll_id}  # events name the poll, not the ballot

    await act(open_session, poll_id, "close")
    async with open_session.server.db.session() as db:
        ballots = (await db.exec(select(Ballot))).all()
        left_sealed = (await db.exec(select(SealedBallot))).all()
    ballot_columns = set(Ballot.model_fields)
    assert left_sealed == []
    assert len(ballots) == 3
    assert all(b.voter_id is None for b in ballots)
    assert not {"participant_id", "cast_at", "created_at", "receipt"} & ballot_columns
    assert len({b.id for b in ballots}) == 3
    assert all(len(b.id) == 32 for b in ballots)
    page = await phones[0].get(f"/s/{open_session.code}/polls/{poll_id}")
    assert "Winner:" in page.text
    assert "Rouge" in page.text
    assert "Who voted what" not in page.text  # secret: never published


async def test_a_named_ranked_poll_publishes_who_voted_what(open_session: OpenSession) -> None:
    phones = [await open_session.phone(name) for name in ("Hana", "Ivo", "Jade")]
    poll_id = await create(
        open_session,
        question="Quel lieu ?",
        method="schulze",
        options="Gare\nMarché\nÉcole",
        secret="0",
    )
    await act(open_session, poll_id, "open")
    async with open_session.server.db.session() as db:
        a, b, c = [str(o.id) for o in await polls.poll_options(db, poll_id)]
    rankings = [{a: "1", b: "2", c: "3"}, {b: "1", a: "2"}, {a: "1", c: "2"}]
    for phone, ranks in zip(phones, rankings, strict=True):
        await vote(phone, open_session, poll_id, {f"rank-{k}": v for k, v in ranks.items()})
    await act(open_session, poll_id, "close")
    page = await phones[0].get(f"/s/{open_session.code}/polls/{poll_id}")
    assert "Who voted what" in page.text
    assert "Hana" in page.text
    assert "Pairwise preferences" in page.text
    async with open_session.server.db.session() as db:
        decision = (await db.exec(select(Decision).where(Decision.poll_id == poll_id))).one()
    assert decision.summary == "Gare"  # Gare beats Marché 2–1 and École 3–0


@pytest.mark.parametrize("method", ["approval", "stv"])
async def test_more_seats_than_options_is_refused_when_the_poll_is_prepared(
    open_session: OpenSession, method: str
) -> None:
    """Five seats between two options could never be counted: closing such a poll failed
    and left it open. It is refused with a reason before anything is stored."""
    refused = await open_session.facilitator.http.post(
        f"/sessions/{open_session.session_id}/polls",
        data={
            "question": "Qui ?",
            "method": method,
            "seats": "5",
            "options": "Awa\nBruno",
            "secret": "1",
            "csrf_token": open_session.facilitator.csrf,
        },
    )
    assert refused.status_code == 422  # as every refused form of the console
    assert "5 seats to fill need at least 5 options." in refused.text
    async with open_session.server.db.session() as db:
        assert (await db.exec(select(Poll))).all() == []


async def test_bad_ballots_are_refused_with_a_reason(open_session: OpenSession) -> None:
    phone = await open_session.phone("Kim")
    poll_id = await create(
        open_session, question="Points", method="dots", options="A\nB\nC", points="5", cap="3"
    )
    refused_before_open = await phone.post(f"/s/{open_session.code}/polls/{poll_id}/ballot", {})
    assert refused_before_open.status_code == 409
    await act(open_session, poll_id, "open")
    async with open_session.server.db.session() as db:
        a, b, _ = [str(o.id) for o in await polls.poll_options(db, poll_id)]
    too_many = await phone.post(
        f"/s/{open_session.code}/polls/{poll_id}/ballot", {f"points-{a}": "3", f"points-{b}": "3"}
    )
    assert too_many.status_code == 422
    assert "You have spread more points than you have (5)." in too_many.text
    over_cap = await phone.post(
        f"/s/{open_session.code}/polls/{poll_id}/ballot", {f"points-{a}": "4"}
    )
    assert over_cap.status_code == 422
    async with open_session.server.db.session() as db:
        assert (await db.exec(select(Ballot))).all() == []
        assert (await db.exec(select(VoterRegister))).all() == []


async def test_rules_and_options_freeze_when_the_poll_opens(open_session: OpenSession) -> None:
    poll_id = await create(open_session, question="Gel ?", method="yes_no")
    draft = polls.PollDraft(
        "Gel, vraiment ?", voting.Method.YES_NO, {"majority": "unanimity"}, True, [], []
    )
    async with open_session.server.db.session() as db:
        facilitator = (await db.exec(select(Facilitator))).one()
        await polls.update_poll(
            db=db,
            facilitator=facilitator,
            session_id=open_session.session_id,
            poll_id=poll_id,
            draft=draft,
        )
    await act(open_session, poll_id, "open")
    async with open_session.server.db.session() as db:
        with pytest.raises(Conflict, match="can no longer change"):
            await polls.update_poll(
                db=db,
                facilitator=facilitator,
                session_id=open_session.session_id,
                poll_id=poll_id,
                draft=draft,
            )
        poll = await db.get(Poll, poll_id)
        assert poll is not None
        assert poll.question == "Gel, vraiment ?"
        assert json.loads(poll.rules)["majority"] == "unanimity"


async def _voters(open_session: OpenSession, count: int) -> list[Participant]:
    async with open_session.server.db.session() as db:
        session = await db.get(Session, open_session.session_id)
        assert session is not None
        return [
            await participants.join(db=db, session=session, display_name=f"Membre {n}")
            for n in range(count)
        ]


async def _cast(open_session: OpenSession, voter: Participant, poll_id: int, choice: str) -> bool:
    async with open_session.server.db.session() as db:
        session = await db.get(Session, open_session.session_id)
        assert session is not None
        try:
            await polls.cast_ballot(
                db=db,
                session=session,
                voter=voter,
                poll_id=poll_id,
                form={"choice": choice},
                seal=open_session.server.seal,
            )
        except Conflict:
            return False
        return True


async def test_concurrent_ballots_one_member_one_vote(open_session: OpenSession) -> None:
    voters = await _voters(open_session, 100)
    poll_id = await create(open_session, question="Cent voix", method="yes_no")
    await act(open_session, poll_id, "open")
    results = await asyncio.gather(*(_cast(open_session, v, poll_id, "for") for v in voters))
    assert all(results)
    repeats = await asyncio.gather(
        *(_cast(open_session, voters[0], poll_id, "against") for _ in range(10))
    )
    assert not any(repeats)
    async with open_session.server.db.session() as db:
        # A secret poll: its ballots stay sealed until it closes.
        assert len((await db.exec(select(SealedBallot))).all()) == 100
        assert len((await db.exec(select(VoterRegister))).all()) == 100


async def test_ballots_racing_the_close_are_counted_or_refused_never_lost(
    open_session: OpenSession,
) -> None:
    voters = await _voters(open_session, 30)
    poll_id = await create(open_session, question="Course", method="yes_no")
    await act(open_session, poll_id, "open")

    # The close races the ballots once the first of them is answered (counted, then).
    first_answered = asyncio.Event()

    async def close() -> None:
        await first_answered.wait()
        await act(open_session, poll_id, "close")

    async def cast(voter: Participant) -> bool:
        counted = await _cast(open_session, voter, poll_id, "for")
        first_answered.set()
        return counted

    outcomes = await asyncio.gather(close(), *(cast(v) for v in voters))
    accepted = sum(1 for o in outcomes[1:] if o)
    assert accepted >= 1
    async with open_session.server.db.session() as db:
        poll = await db.get(Poll, poll_id)
        assert poll is not None
        assert poll.result is not None
        ballots = len((await db.exec(select(Ballot))).all())
    assert json.loads(poll.result)["counts"]["for"] == accepted == ballots


def test_recount_from_the_command_line(tmp_path: Path) -> None:
    data = polls.export_bytes(
        {
            "format": "cocreate-ballots",
            "version": 1,
            "poll": {
                "question": "Capitale ?",
                "method": "irv",
                "rules": {},
                "secret": True,
                "electorate_size": 100,
                "options": [
                    {"id": "M", "label": "Memphis"},
                    {"id": "N", "label": "Nashville"},
                    {"id": "C", "label": "Chattanooga"},
                    {"id": "K", "label": "Knoxville"},
                ],
            },
            # The Tennessee example (Wikipedia, "Instant-runoff voting"): Knoxville wins.
            "ballots": [["M", "N", "C", "K"]] * 42
            + [["N", "C", "K", "M"]] * 26
            + [["C", "K", "N", "M"]] * 15
            + [["K", "C", "N", "M"]] * 17,
        }
    )
    path = tmp_path / "ballots.json"
    path.write_bytes(data)
    result = CliRunner().invoke(main, ["recount", str(path)])
    assert result.exit_code == 0, result.output
    assert "Winners  : Knoxville" in result.output
    assert hashlib.sha256(data).hexdigest() in result.output
    path.write_text("{}")
    broken = CliRunner().invoke(main, ["recount", str(path)])
    assert broken.exit_code != 0
    assert "not a ballot file" in broken.output


BALLOTS_BY_METHOD: dict[str, tuple[dict[str, str], list[dict[str, str | list[str]]]]] = {
    # method: (extra poll fields, two ballots written with option placeholders A, B, C)
    "yes_no": ({"majority": "absolute_of_electorate"}, [{"choice": "for"}, {"choice": "blank"}]),
    "consent": (
        {},
        [{"choice": "consent"}, {"choice": "objection", "reason": "Trop cher pour nous"}],
    ),
    "approval": ({"seats": "2"}, [{"approve": ["A", "B"]}, {"approve": ["B"]}]),
    "dots": ({"points": "4", "cap": "3"}, [{"points-A": "3", "points-B": "1"}, {"points-C": "2"}]),
    "score": (
        {"max_score": "5"},
        [{"score-A": "5", "score-B": "2"}, {"score-B": "4", "score-C": "1"}],
    ),
    "irv": ({}, [{"rank-A": "1", "rank-B": "2"}, {"rank-B": "1", "rank-C": "2"}]),
    "stv": ({"seats": "2"}, [{"rank-A": "1", "rank-B": "2"}, {"rank-C": "1"}]),
    "schulze": ({}, [{"rank-C": "1", "rank-A": "2"}, {"rank-A": "1"}]),
    "judgment": ({}, [{"grade-A": "bien", "grade-B": "passable"}, {"grade-A": "excellent"}]),
}


@pytest.mark.wire
@pytest.mark.parametrize("method", sorted(BALLOTS_BY_METHOD))
async def test_every_method_from_phone_to_result_page(
    open_session: OpenSession, method: str
) -> None:
    extra, ballots = BALLOTS_BY_METHOD[method]
    phones = [await open_session.phone("Une"), await open_session.phone("Deux")]
    live = await phones[0].socket(open_session.code, "phone", last_seq=await open_session.seq())
    poll_id = await create(
        open_session,
        question=f"Méthode {method}",
        method=method,
        options="Alpha\nBeta\nGamma",
        **extra,
    )
    await act(open_session, poll_id, "open")
    frame = await live.until_text(f'id="poll-{poll_id}"')
    assert 'class="ballot stack"' in frame
    async with open_session.server.db.session() as db:
        ids = dict(
            zip("ABC", [str(o.id) for o in await polls.poll_options(db, poll_id)], strict=False)
        )

    def fill(value: str | list[str]) -> str | list[str]:
        return [ids.get(v, v) for v in value] if isinstance(value, list) else ids.get(value, value)

    def field_name(name: str) -> str:
        stem, _, letter = name.rpartition("-")
        return f"{stem}-{ids[letter]}" if stem and letter in ids else name

    for phone, ballot in zip(phones, ballots, strict=True):
        form = {field_name(name): fill(value) for name, value in ballot.items()}
        await vote(phone, open_session, poll_id, form)
    await act(open_session, poll_id, "close")
    await live.until(lambda f: f'id="poll-{poll_id}"' in f and "poll-result" in f)
    page = await phones[1].get(f"/s/{open_session.code}/polls/{poll_id}")
    assert page.status_code == 200
    assert "<svg" in page.text
    if method == "score":  # averages and medians, as the issue asks
        assert "Median" in page.text
    export = await phones[1].get(f"/s/{open_session.code}/polls/{poll_id}/ballots.json")
    async with open_session.server.db.session() as db:
        poll = await db.get(Poll, poll_id)
        assert poll is not None
    assert polls.recount(export.content).as_json() == json.loads(poll.result or "")
    assert json.loads(poll.result or "")["ballots"] == 2
    await live.close()


@pytest.mark.wire
async def test_consent_rounds_amend_the_proposal_until_no_one_objects(
    open_session: OpenSession,
) -> None:
    phones = [await open_session.phone("Lou"), await open_session.phone("Max")]
    live = await phones[0].socket(open_session.code, "phone", last_seq=await open_session.seq())
    first = await create(open_session, question="Ouvrir le samedi", method="consent")
    await act(open_session, first, "open")
    await vote(phones[0], open_session, first, {"choice": "consent"})
    await vote(
        phones[1], open_session, first, {"choice": "objection", "reason": "Personne le samedi"}
    )
    await act(open_session, first, "close")
    console = await open_session.facilitator.get(f"/sessions/{open_session.session_id}/console")
    assert "Personne le samedi" in console.text
    assert "Amend the proposal and open a new round" in console.text

    amended = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/polls/{first}/next-round",
        {"question": "Ouvrir le samedi, avec deux bénévoles d'astreinte"},
        htmx=False,
    )
    assert amended.status_code == 303
    frame = await live.until_text("deux bénévoles")
    assert 'name="choice" value="consent"' in frame  # the new round is open at once
    async with open_session.server.db.session() as db:
        second = (await db.exec(select(Poll).where(Poll.previous_id == first))).one()
    assert second.id is not None
    for phone in phones:
        await vote(phone, open_session, second.id, {"choice": "consent"})
    await act(open_session, second.id, "close")
    page = await phones[1].get(f"/s/{open_session.code}/polls/{second.id}")
    assert "Consent given" in page.text
    assert "Earlier rounds" in page.text
    assert "Personne le samedi" in page.text
    again = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/polls/{second.id}/next-round",
        {"question": "?"},
        htmx=False,
    )
    assert again.status_code == 409
    twice = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/polls/{first}/next-round",
        {"question": "?"},
        htmx=False,
    )
    assert twice.status_code == 409
    await live.close()


async def test_logs_of_a_secret_vote_name_no_choice_and_no_receipt(
    open_session: OpenSession, caplog: pytest.LogCaptureFixture
) -> None:
    phone = await open_session.phone("Nina")
    poll_id = await create(open_session, question="Secret ?", method="yes_no")
    await act(open_session, poll_id, "open")
    caplog.set_level(logging.DEBUG)
    page = await vote(phone, open_session, poll_id, {"choice": "against"})
    receipt = re.search(r"Your receipt code: ([0-9A-F]+)", page)
    assert receipt is not None
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert receipt.group(1) not in logged
    assert "against" not in logged


@pytest.mark.wire
async def test_a_frame_never_counts_ballots_of_a_poll_it_shows_closed(
    open_session: OpenSession,
) -> None:
    """Ballots and the close drawn in one frame (a screen catching up, or a busy room):
    the closed card has no turnout line, so the frame must not carry one to update
    (htmx would report a region without a target on every screen)."""
    phones = [await open_session.phone(name) for name in ("Ana", "Ben")]
    poll_id = await create(open_session, question="Un local partagé ?", method="yes_no")
    await act(open_session, poll_id, "open")
    before_ballots = await open_session.seq()
    for phone in phones:
        await vote(phone, open_session, poll_id, {"choice": "for"})
    await act(open_session, poll_id, "close")
    screen = await open_session.projector()
    live = await screen.socket(open_session.code, "screen", last_seq=before_ballots)
    frame = await live.until(lambda f: f'id="poll-{poll_id}"' in f)
    assert "Adopted" in frame
    assert f'id="poll-turnout-{poll_id}"' not in frame
    await live.close()


async def test_the_poll_form_offers_the_proposals_that_arrived_since_the_console_loaded(
    open_session: OpenSession,
) -> None:
    """The console's poll form reads the proposals when it opens, keeping its ticks; a
    hidden proposal is not offered, and another facilitator reads nothing."""
    sid, code = open_session.session_id, open_session.code
    console = (await open_session.facilitator.get(f"/sessions/{sid}/console")).text
    assert 'id="poll-proposals"' in console
    assert 'name="proposal"' not in console  # nothing proposed yet
    phone = await open_session.phone("Awa")
    for text in ("Une crèche le soir", "Une navette le dimanche", "Un texte à cacher"):
        sent = await phone.post(f"/s/{code}/proposals", {"text": text})
        assert sent.status_code == 200, sent.text
    async with open_session.server.db.session() as db:
        ids = {p.text: p.id for p in (await db.exec(select(Proposal))).all()}
    hidden = await open_session.facilitator.post(
        f"/sessions/{sid}/proposals/{ids['Un texte à cacher']}/hide"
    )
    assert hidden.status_code == 200, hidden.text
    console = await open_session.facilitator.get(f"/sessions/{sid}/console")
    assert console.status_code == 200
    assert f'name="proposal" value="{ids["Une crèche le soir"]}"' in console.text
    path = f"/sessions/{sid}/polls/proposals"
    listed = await open_session.facilitator.get(
        f"{path}?question=Q&proposal={ids['Une navette le dimanche']}&proposal=zz"
    )
    assert listed.status_code == 200
    boxes = re.findall(
        r'<input type="checkbox" name="proposal" value="(\d+)"( checked)?>', listed.text
    )
    assert sorted(boxes) == sorted(
        [(str(ids["Une navette le dimanche"]), " checked"), (str(ids["Une crèche le soir"]), "")]
    )
    assert "Un texte à cacher" not in listed.text

    other = await signed_in(open_session.server, "autre@example.org")
    refused = await other.get(path)
    assert refused.status_code in (403, 404)
    assert "Une crèche le soir" not in refused.text
