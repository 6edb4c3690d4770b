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
    SealedBallot,
    Session,
    VoterRegister,
)
from tests.conftest import Browser, Room


async def create(room: Room, **fields: str | list[str]) -> int:
    data: dict[str, str | list[str]] = {"secret": "1", **fields}
    created = await room.facilitator.http.post(
        f"/sessions/{room.session_id}/polls",
        data={**data, "csrf_token": room.facilitator.csrf},
    )
    assert created.status_code == 303, created.text
    async with room.server.db.session() as db:
        poll = (await db.exec(select(Poll).order_by(sa.desc(Poll.id)))).first()
        assert poll is not None
        assert poll.id is not None
        return poll.id


async def act(room: Room, poll_id: int, action: str) -> None:
    response = await room.facilitator.post(
        f"/sessions/{room.session_id}/polls/{poll_id}/{action}", htmx=False
    )
    assert response.status_code == 303, response.text


async def vote(phone: Browser, room: Room, poll_id: int, data: dict[str, str | list[str]]) -> str:
    form: dict[str, str | list[str]] = {**data, "csrf_token": phone.csrf}
    response = await phone.http.post(
        f"/s/{room.code}/polls/{poll_id}/ballot", data=form, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200, response.text
    return response.text


@pytest.mark.wire
async def test_a_secret_two_thirds_poll_from_draft_to_decision(room: Room) -> None:
    phones = [await room.phone(name) for name in ("Ana", "Ben", "Cleo", "Dan")]
    live = await phones[0].socket(room.code, "phone", last_seq=await room.seq())
    screen = await room.projector()
    live_screen = await screen.socket(room.code, "screen", last_seq=await room.seq())
    poll_id = await create(
        room, question="Adopter les nouveaux statuts ?", method="yes_no", majority="two_thirds"
    )
    assert "Adopter les nouveaux statuts" not in (await phones[0].get(f"/s/{room.code}")).text

    await act(room, poll_id, "open")
    frame = await live.until_text(f'id="poll-{poll_id}"')
    assert "Adopter les nouveaux statuts" in frame
    assert 'name="choice" value="for"' in frame  # the ballot itself reaches the phones

    receipt_page = await vote(phones[0], room, poll_id, {"choice": "for"})
    assert "Your ballot is in the box." in receipt_page
    for phone, choice in zip(phones[1:], ("for", "against", "abstain"), strict=True):
        await vote(phone, room, poll_id, {"choice": choice})
    await live_screen.until_text("4 ballots cast")
    # A secret poll shows how many voted, never how, until it closes.
    assert not any("poll-result" in f for f in live_screen.frames + live.frames)

    again = await phones[0].post(f"/s/{room.code}/polls/{poll_id}/ballot", {"choice": "against"})
    assert again.status_code == 409
    assert "You have already voted in this poll." in again.text

    await act(room, poll_id, "close")
    frame = await live_screen.until(lambda f: f'id="poll-{poll_id}"' in f and "Adopted" in f)
    assert "2 for, 1 against, 1 abstaining, 0 blank" in frame

    async with room.server.db.session() as db:
        decision = (await db.exec(select(Decision).where(Decision.poll_id == poll_id))).one()
        poll = await db.get(Poll, poll_id)
        assert poll is not None
    # 2 of 3 votes expressed reach two thirds exactly: adopted.
    assert decision.outcome == "adopted"
    assert (decision.votes_for, decision.votes_against, decision.votes_abstain) == (2, 1, 1)
    assert (decision.turnout, decision.electorate_size) == (4, 4)
    assert decision.method == "yes_no"

    # Anyone in the room can fetch the ballots and recount them to the same result.
    export = await phones[1].get(f"/s/{room.code}/polls/{poll_id}/ballots.json")
    assert export.status_code == 200
    assert (
        hashlib.sha256(export.content).hexdigest() == poll.ballots_sha256 == decision.ballots_sha256
    )
    assert sorted(json.loads(export.content)["ballots"]) == ["abstain", "against", "for", "for"]
    assert polls.recount(export.content).as_json() == json.loads(poll.result or "")

    register = await room.facilitator.get(f"/projects/{room.project_id}/decisions")
    assert "Adopter les nouveaux statuts" in register.text
    assert "For / against / abstain" in register.text
    assert poll.ballots_sha256 in register.text

    result = await phones[2].get(f"/s/{room.code}/polls/{poll_id}")
    assert result.status_code == 200
    assert poll.ballots_sha256 in result.text
    assert "4 counted receipts" in result.text
    await live.close()
    await live_screen.close()


async def test_a_secret_poll_keeps_no_link_between_voter_and_choice(room: Room) -> None:
    phones = [await room.phone(name) for name in ("Eve", "Fanny", "Gus")]
    poll_id = await create(room, question="Qui ?", method="approval", options="Rouge\nVert\nBleu")
    await act(room, poll_id, "open")
    async with room.server.db.session() as db:
        options = [str(o.id) for o in await polls.poll_options(db, poll_id)]
    for phone, chosen in zip(phones, ([options[0]], [options[0], options[1]], []), strict=True):
        await vote(phone, room, poll_id, {"approve": chosen} if chosen else {})
    async with room.server.db.session() as db:
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

    await act(room, poll_id, "close")
    async with room.server.db.session() as db:
        ballots = (await db.exec(select(Ballot))).all()
        left_sealed = (await db.exec(select(SealedBallot))).all()
    ballot_columns = set(Ballot.model_fields)
    assert left_sealed == []
    assert len(ballots) == 3
    assert all(b.voter_id is None for b in ballots)
    assert not {"participant_id", "cast_at", "created_at", "receipt"} & ballot_columns
    assert len({b.id for b in ballots}) == 3
    assert all(len(b.id) == 32 for b in ballots)
    page = await phones[0].get(f"/s/{room.code}/polls/{poll_id}")
    assert "Winner:" in page.text
    assert "Rouge" in page.text
    assert "Who voted what" not in page.text  # secret: never published


async def test_a_named_ranked_poll_publishes_who_voted_what(room: Room) -> None:
    phones = [await room.phone(name) for name in ("Hana", "Ivo", "Jade")]
    poll_id = await create(
        room, question="Quel lieu ?", method="schulze", options="Gare\nMarché\nÉcole", secret="0"
    )
    await act(room, poll_id, "open")
    async with room.server.db.session() as db:
        a, b, c = [str(o.id) for o in await polls.poll_options(db, poll_id)]
    rankings = [{a: "1", b: "2", c: "3"}, {b: "1", a: "2"}, {a: "1", c: "2"}]
    for phone, ranks in zip(phones, rankings, strict=True):
        await vote(phone, room, poll_id, {f"rank-{k}": v for k, v in ranks.items()})
    await act(room, poll_id, "close")
    page = await phones[0].get(f"/s/{room.code}/polls/{poll_id}")
    assert "Who voted what" in page.text
    assert "Hana" in page.text
    assert "Pairwise preferences" in page.text
    async with room.server.db.session() as db:
        decision = (await db.exec(select(Decision).where(Decision.poll_id == poll_id))).one()
    assert decision.summary == "Gare"  # Gare beats Marché 2–1 and École 3–0


@pytest.mark.parametrize("method", ["approval", "stv"])
async def test_more_seats_than_options_is_refused_when_the_poll_is_prepared(
    room: Room, method: str
) -> None:
    """Five seats between two options could never be counted: closing such a poll failed
    and left it open. It is refused with a reason before anything is stored."""
    refused = await room.facilitator.http.post(
        f"/sessions/{room.session_id}/polls",
        data={
            "question": "Qui ?",
            "method": method,
            "seats": "5",
            "options": "Awa\nBruno",
            "secret": "1",
            "csrf_token": room.facilitator.csrf,
        },
    )
    assert refused.status_code == 422  # as every refused form of the console
    assert "5 seats to fill need at least 5 options." in refused.text
    async with room.server.db.session() as db:
        assert (await db.exec(select(Poll))).all() == []


async def test_bad_ballots_are_refused_with_a_reason(room: Room) -> None:
    phone = await room.phone("Kim")
    poll_id = await create(
        room, question="Points", method="dots", options="A\nB\nC", points="5", cap="3"
    )
    refused_before_open = await phone.post(f"/s/{room.code}/polls/{poll_id}/ballot", {})
    assert refused_before_open.status_code == 409
    await act(room, poll_id, "open")
    async with room.server.db.session() as db:
        a, b, _ = [str(o.id) for o in await polls.poll_options(db, poll_id)]
    too_many = await phone.post(
        f"/s/{room.code}/polls/{poll_id}/ballot", {f"points-{a}": "3", f"points-{b}": "3"}
    )
    assert too_many.status_code == 422
    assert "You have 5 points to spread, no more." in too_many.text
    over_cap = await phone.post(f"/s/{room.code}/polls/{poll_id}/ballot", {f"points-{a}": "4"})
    assert over_cap.status_code == 422
    async with room.server.db.session() as db:
        assert (await db.exec(select(Ballot))).all() == []
        assert (await db.exec(select(VoterRegister))).all() == []


async def test_rules_and_options_freeze_when_the_poll_opens(room: Room) -> None:
    poll_id = await create(room, question="Gel ?", method="yes_no")
    draft = polls.PollDraft(
        "Gel, vraiment ?", voting.Method.YES_NO, {"majority": "unanimity"}, True, [], []
    )
    async with room.server.db.session() as db:
        facilitator = (await db.exec(select(Facilitator))).one()
        await polls.update_poll(
            db=db, facilitator=facilitator, session_id=room.session_id, poll_id=poll_id, draft=draft
        )
    await act(room, poll_id, "open")
    async with room.server.db.session() as db:
        with pytest.raises(Conflict, match="can no longer change"):
            await polls.update_poll(
                db=db,
                facilitator=facilitator,
                session_id=room.session_id,
                poll_id=poll_id,
                draft=draft,
            )
        poll = await db.get(Poll, poll_id)
        assert poll is not None
        assert poll.question == "Gel, vraiment ?"
        assert json.loads(poll.rules)["majority"] == "unanimity"


async def _voters(room: Room, count: int) -> list[Participant]:
    async with room.server.db.session() as db:
        session = await db.get(Session, room.session_id)
        assert session is not None
        return [
            await participants.join(db=db, session=session, display_name=f"Membre {n}")
            for n in range(count)
        ]


async def _cast(room: Room, voter: Participant, poll_id: int, choice: str) -> bool:
    async with room.server.db.session() as db:
        session = await db.get(Session, room.session_id)
        assert session is not None
        try:
            await polls.cast_ballot(
                db=db,
                session=session,
                voter=voter,
                poll_id=poll_id,
                form={"choice": choice},
                seal=room.server.seal,
            )
        except Conflict:
            return False
        return True


async def test_concurrent_ballots_one_member_one_vote(room: Room) -> None:
    voters = await _voters(room, 100)
    poll_id = await create(room, question="Cent voix", method="yes_no")
    await act(room, poll_id, "open")
    results = await asyncio.gather(*(_cast(room, v, poll_id, "for") for v in voters))
    assert all(results)
    repeats = await asyncio.gather(*(_cast(room, voters[0], poll_id, "against") for _ in range(10)))
    assert not any(repeats)
    async with room.server.db.session() as db:
        # A secret poll: its ballots stay sealed until it closes.
        assert len((await db.exec(select(SealedBallot))).all()) == 100
        assert len((await db.exec(select(VoterRegister))).all()) == 100


async def test_ballots_racing_the_close_are_counted_or_refused_never_lost(room: Room) -> None:
    voters = await _voters(room, 30)
    poll_id = await create(room, question="Course", method="yes_no")
    await act(room, poll_id, "open")

    # The close races the ballots once the first of them is answered (counted, then).
    first_answered = asyncio.Event()

    async def close() -> None:
        await first_answered.wait()
        await act(room, poll_id, "close")

    async def cast(voter: Participant) -> bool:
        counted = await _cast(room, voter, poll_id, "for")
        first_answered.set()
        return counted

    outcomes = await asyncio.gather(close(), *(cast(v) for v in voters))
    accepted = sum(1 for o in outcomes[1:] if o)
    assert accepted >= 1
    async with room.server.db.session() as db:
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
async def test_every_method_from_phone_to_result_page(room: Room, method: str) -> None:
    extra, ballots = BALLOTS_BY_METHOD[method]
    phones = [await room.phone("Une"), await room.phone("Deux")]
    live = await phones[0].socket(room.code, "phone", last_seq=await room.seq())
    poll_id = await create(
        room, question=f"Méthode {method}", method=method, options="Alpha\nBeta\nGamma", **extra
    )
    await act(room, poll_id, "open")
    frame = await live.until_text(f'id="poll-{poll_id}"')
    assert 'class="ballot stack"' in frame
    async with room.server.db.session() as db:
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
        await vote(phone, room, poll_id, form)
    await act(room, poll_id, "close")
    await live.until(lambda f: f'id="poll-{poll_id}"' in f and "poll-result" in f)
    page = await phones[1].get(f"/s/{room.code}/polls/{poll_id}")
    assert page.status_code == 200
    assert "<svg" in page.text
    if method == "score":  # averages and medians, as the issue asks
        assert "Median" in page.text
    export = await phones[1].get(f"/s/{room.code}/polls/{poll_id}/ballots.json")
    async with room.server.db.session() as db:
        poll = await db.get(Poll, poll_id)
        assert poll is not None
    assert polls.recount(export.content).as_json() == json.loads(poll.result or "")
    assert json.loads(poll.result or "")["ballots"] == 2
    await live.close()


@pytest.mark.wire
async def test_consent_rounds_amend_the_proposal_until_no_one_objects(room: Room) -> None:
    phones = [await room.phone("Lou"), await room.phone("Max")]
    live = await phones[0].socket(room.code, "phone", last_seq=await room.seq())
    first = await create(room, question="Ouvrir le samedi", method="consent")
    await act(room, first, "open")
    await vote(phones[0], room, first, {"choice": "consent"})
    await vote(phones[1], room, first, {"choice": "objection", "reason": "Personne le samedi"})
    await act(room, first, "close")
    console = await room.facilitator.get(f"/sessions/{room.session_id}/console")
    assert "Personne le samedi" in console.text
    assert "Amend the proposal and open a new round" in console.text

    amended = await room.facilitator.post(
        f"/sessions/{room.session_id}/polls/{first}/next-round",
        {"question": "Ouvrir le samedi, avec deux bénévoles d'astreinte"},
        htmx=False,
    )
    assert amended.status_code == 303
    frame = await live.until_text("deux bénévoles")
    assert 'name="choice" value="consent"' in frame  # the new round is open at once
    async with room.server.db.session() as db:
        second = (await db.exec(select(Poll).where(Poll.previous_id == first))).one()
    assert second.id is not None
    for phone in phones:
        await vote(phone, room, second.id, {"choice": "consent"})
    await act(room, second.id, "close")
    page = await phones[1].get(f"/s/{room.code}/polls/{second.id}")
    assert "Consent given" in page.text
    assert "Earlier rounds" in page.text
    assert "Personne le samedi" in page.text
    again = await room.facilitator.post(
        f"/sessions/{room.session_id}/polls/{second.id}/next-round", {"question": "?"}, htmx=False
    )
    assert again.status_code == 409
    twice = await room.facilitator.post(
        f"/sessions/{room.session_id}/polls/{first}/next-round", {"question": "?"}, htmx=False
    )
    assert twice.status_code == 409
    await live.close()


async def test_logs_of_a_secret_vote_name_no_choice_and_no_receipt(
    room: Room, caplog: pytest.LogCaptureFixture
) -> None:
    phone = await room.phone("Nina")
    poll_id = await create(room, question="Secret ?", method="yes_no")
    await act(room, poll_id, "open")
    caplog.set_level(logging.DEBUG)
    page = await vote(phone, room, poll_id, {"choice": "against"})
    receipt = re.search(r"Your receipt code: ([0-9A-F]+)", page)
    assert receipt is not None
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert receipt.group(1) not in logged
    assert "against" not in logged


@pytest.mark.wire
async def test_a_frame_never_counts_ballots_of_a_poll_it_shows_closed(room: Room) -> None:
    """Ballots and the close drawn in one frame (a screen catching up, or a busy room):
    the closed card has no turnout line, so the frame must not carry one to update
    (htmx would report a region without a target on every screen)."""
    phones = [await room.phone(name) for name in ("Ana", "Ben")]
    poll_id = await create(room, question="Un local partagé ?", method="yes_no")
    await act(room, poll_id, "open")
    before_ballots = await room.seq()
    for phone in phones:
        await vote(phone, room, poll_id, {"choice": "for"})
    await act(room, poll_id, "close")
    screen = await room.projector()
    live = await screen.socket(room.code, "screen", last_seq=before_ballots)
    frame = await live.until(lambda f: f'id="poll-{poll_id}"' in f)
    assert "Adopted" in frame
    assert f'id="poll-turnout-{poll_id}"' not in frame
    await live.close()
