"""A result the facilitator has not revealed leaks nowhere: not in pages, fragments,
socket frames, answers to votes, result pages, ballot exports or error messages.

Two kinds of results are hidden: the tallies of proposals during a vote step without
live results, and a poll closed during the vote step on it. Phones and the projector
watch over real sockets the whole time; every frame they receive is kept and checked.
Only the console (the facilitator) sees results before the reveal.
"""

from __future__ import annotations

import re

from tests.conftest import Browser, LiveSocket, Room, tally_of
from tests.test_agenda import STAGE, add_step, move
from tests.test_polls import act, create, vote

# What a drawn result looks like: a tally's rows, or a poll's result block.
RESULT_MARKUP = re.compile(r'tally-row--|class="tally-count"|class="poll-result"')


def leaks(html: str) -> list[str]:
    return RESULT_MARKUP.findall(html)


async def watchers(room: Room, phone: Browser) -> tuple[LiveSocket, LiveSocket]:
    seq = await room.seq()
    screen = await room.projector()
    return (
        await phone.socket(room.code, "phone", last_seq=seq),
        await screen.socket(room.code, "screen", last_seq=seq),
    )


async def test_proposal_tallies_stay_hidden_everywhere_until_revealed(room: Room) -> None:
    await add_step(room, "vote", "On vote")
    voters = [await room.phone(name) for name in ("Awa", "Bruno", "Chloé")]
    await voters[0].post(f"/s/{room.code}/proposals", {"text": "Un jardin"})
    page = (await voters[0].get(f"/s/{room.code}")).text
    proposal_id = int(re.findall(r'id="proposal-(\d+)"', page)[0])
    await move(room, "start")
    phone_live, screen_live = await watchers(room, voters[0])

    answers = []
    path = f"/s/{room.code}/proposals/{proposal_id}/vote"
    for voter, choice in zip(voters, ("for", "for", "against"), strict=True):
        answer = await voter.post(path, {"choice": choice})
        assert answer.status_code == 200
        answers.append(answer.text)
    # A refused vote's error message says why, not how the others voted.
    refused = await voters[0].post(path, {"choice": "x"})
    assert refused.status_code == 422
    await phone_live.until_text(f'id="tally-{proposal_id}"')
    await screen_live.until_text(f'id="tally-{proposal_id}"')
    await phone_live.quiet()
    await screen_live.quiet()

    seen = [
        *answers,
        refused.text,
        *phone_live.frames,
        *screen_live.frames,
        (await voters[1].get(f"/s/{room.code}")).text,
        (await voters[1].get(path)).text,
        (await (await room.projector()).get(f"/s/{room.code}/screen")).text,
    ]
    assert [leaks(html) for html in seen] == [[] for _ in seen]
    console = (await room.facilitator.get(f"/sessions/{room.session_id}/console")).text
    assert tally_of(console, proposal_id) == {"for": 2, "against": 1, "abstain": 0}

    revealed = await room.facilitator.post(f"/sessions/{room.session_id}/reveal")
    assert revealed.status_code == 200
    frame = await screen_live.until_text(STAGE)
    assert tally_of(frame, proposal_id) == {"for": 2, "against": 1, "abstain": 0}
    await phone_live.close()
    await screen_live.close()


async def test_a_closed_poll_stays_hidden_everywhere_until_revealed(room: Room) -> None:
    voters = [await room.phone(name) for name in ("Awa", "Bruno", "Chloé")]
    poll_id = await create(room, question="Adopter le budget ?", method="yes_no")
    await add_step(room, "vote", "Le budget", poll_id=str(poll_id))
    await move(room, "start")
    await act(room, poll_id, "open")
    phone_live, screen_live = await watchers(room, voters[0])
    receipts = []
    for voter, choice in zip(voters, ("for", "for", "against"), strict=True):
        receipts.append(await vote(voter, room, poll_id, {"choice": choice}))
    await act(room, poll_id, "close")
    await phone_live.until_text("The facilitator will reveal the results.")
    await screen_live.until_text("The facilitator will reveal the results.")
    await phone_live.quiet()
    await screen_live.quiet()

    phone, stranger = voters[1], Browser(room.server)
    room.devices.append(stranger)
    result_page = await phone.get(f"/s/{room.code}/polls/{poll_id}")
    export = await stranger.get(f"/s/{room.code}/polls/{poll_id}/ballots.json")
    again = await phone.post(f"/s/{room.code}/polls/{poll_id}/ballot", {"choice": "for"})
    assert result_page.status_code == export.status_code == 403
    assert "has not revealed the results yet" in result_page.text
    assert again.status_code == 409  # closed: said, with no count
    seen = [
        *receipts,
        result_page.text,
        export.text,
        again.text,
        *phone_live.frames,
        *screen_live.frames,
        (await phone.get(f"/s/{room.code}")).text,
        (await phone.get(f"/s/{room.code}/polls/{poll_id}/ballots")).text,
        (await (await room.projector()).get(f"/s/{room.code}/screen")).text,
    ]
    assert [leaks(html) for html in seen] == [[] for _ in seen]
    # The facilitator sees the result at once, on the console and on the result page.
    console = (await room.facilitator.get(f"/sessions/{room.session_id}/console")).text
    assert 'class="poll-result"' in console
    assert (await room.facilitator.get(f"/s/{room.code}/polls/{poll_id}")).status_code == 200

    await room.facilitator.post(f"/sessions/{room.session_id}/reveal")
    frame = await screen_live.until_text('class="poll-result"')
    assert leaks(frame)
    assert (await phone.get(f"/s/{room.code}/polls/{poll_id}")).status_code == 200
    assert (await stranger.get(f"/s/{room.code}/polls/{poll_id}/ballots.json")).status_code == 200
    await phone_live.close()
    await screen_live.close()
