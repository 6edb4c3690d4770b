"""A result the facilitator has not revealed leaks nowhere: not in pages, fragments,
socket frames, answers to votes, result pages, ballot exports, the decisions panel, a
card's outcome, the published register or error messages.

Two kinds of results are hidden: the tallies of proposals during a vote step without
live results (and the outcome of those decided meanwhile), and a poll closed during the
vote step on it (and the decision it records). Phones and the projector watch over real
sockets the whole time; every frame they receive is kept and checked. Only the
facilitator (console, own register) sees results before the reveal.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlmodel import select

from cocreate.models import Decision
from tests.browsing import LIVE_MS, NEEDS_CHROMIUM, Console, shoot
from tests.conftest import SEQ_RE, Browser, LiveSocket, OpenSession, tally_of
from tests.test_agenda import STAGE, add_step, move
from tests.test_polls import act, create, vote

# What a drawn result looks like: a tally's rows, or a poll's result block.
RESULT_MARKUP = re.compile(r'tally-row--|class="tally-count"|class="poll-result"')


def leaks(html: str) -> list[str]:
    return RESULT_MARKUP.findall(html)


async def watchers(open_session: OpenSession, phone: Browser) -> tuple[LiveSocket, LiveSocket]:
    seq = await open_session.seq()
    screen = await open_session.projector()
    return (
        await phone.socket(open_session.code, "phone", last_seq=seq),
        await screen.socket(open_session.code, "screen", last_seq=seq),
    )


async def caught_up(open_session: OpenSession, live: LiveSocket) -> int:
    """Read until the frame of the session's last event; the number of frames seen (what
    comes after can only follow what happens next: every event sends a numbered frame)."""
    seq = await open_session.seq()

    def reached(frame: str) -> bool:
        found = SEQ_RE.search(frame)
        return found is not None and int(found.group(1)) >= seq

    if not any(reached(frame) for frame in live.frames):
        await live.until(reached)
    return len(live.frames)


@pytest.mark.wire
async def test_proposal_tallies_stay_hidden_everywhere_until_revealed(
    open_session: OpenSession,
) -> None:
    await add_step(open_session, "vote", "On vote")
    voters = [await open_session.phone(name) for name in ("Awa", "Bruno", "Chloé")]
    await voters[0].post(f"/s/{open_session.code}/proposals", {"text": "Un jardin"})
    page = (await voters[0].get(f"/s/{open_session.code}")).text
    proposal_id = int(re.findall(r'id="proposal-(\d+)"', page)[0])
    await move(open_session, "start")
    phone_live, screen_live = await watchers(open_session, voters[0])

    answers = []
    path = f"/s/{open_session.code}/proposals/{proposal_id}/vote"
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
        (await voters[1].get(f"/s/{open_session.code}")).text,
        (await voters[1].get(path)).text,
        (await (await open_session.projector()).get(f"/s/{open_session.code}/screen")).text,
    ]
    assert [leaks(html) for html in seen] == [[] for _ in seen]
    console = (
        await open_session.facilitator.get(f"/sessions/{open_session.session_id}/console")
    ).text
    assert tally_of(console, proposal_id) == {"for": 2, "against": 1, "abstain": 0}

    revealed = await open_session.facilitator.post(f"/sessions/{open_session.session_id}/reveal")
    assert revealed.status_code == 200
    frame = await screen_live.until_text(STAGE)
    assert tally_of(frame, proposal_id) == {"for": 2, "against": 1, "abstain": 0}
    await phone_live.close()
    await screen_live.close()


@pytest.mark.wire
async def test_a_closed_poll_stays_hidden_everywhere_until_revealed(
    open_session: OpenSession,
) -> None:
    voters = [await open_session.phone(name) for name in ("Awa", "Bruno", "Chloé")]
    poll_id = await create(open_session, question="Adopter le budget ?", method="yes_no")
    await add_step(open_session, "vote", "Le budget", poll_id=str(poll_id))
    await move(open_session, "start")
    await act(open_session, poll_id, "open")
    phone_live, screen_live = await watchers(open_session, voters[0])
    receipts = []
    for voter, choice in zip(voters, ("for", "for", "against"), strict=True):
        receipts.append(await vote(voter, open_session, poll_id, {"choice": choice}))
    await act(open_session, poll_id, "close")
    await phone_live.until_text("The facilitator will reveal the results.")
    await screen_live.until_text("The facilitator will reveal the results.")
    await phone_live.quiet()
    await screen_live.quiet()

    phone, stranger = voters[1], Browser(open_session.server)
    open_session.devices.append(stranger)
    result_page = await phone.get(f"/s/{open_session.code}/polls/{poll_id}")
    export = await stranger.get(f"/s/{open_session.code}/polls/{poll_id}/ballots.json")
    again = await phone.post(f"/s/{open_session.code}/polls/{poll_id}/ballot", {"choice": "for"})
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
        (await phone.get(f"/s/{open_session.code}")).text,
        (await phone.get(f"/s/{open_session.code}/polls/{poll_id}/ballots")).text,
        (await (await open_session.projector()).get(f"/s/{open_session.code}/screen")).text,
    ]
    assert [leaks(html) for html in seen] == [[] for _ in seen]
    # The facilitator sees the result at once, on the console and on the result page.
    console = (
        await open_session.facilitator.get(f"/sessions/{open_session.session_id}/console")
    ).text
    assert 'class="poll-result"' in console
    assert (
        await open_session.facilitator.get(f"/s/{open_session.code}/polls/{poll_id}")
    ).status_code == 200

    await open_session.facilitator.post(f"/sessions/{open_session.session_id}/reveal")
    frame = await screen_live.until_text('class="poll-result"')
    assert leaks(frame)
    assert (await phone.get(f"/s/{open_session.code}/polls/{poll_id}")).status_code == 200
    assert (
        await stranger.get(f"/s/{open_session.code}/polls/{poll_id}/ballots.json")
    ).status_code == 200
    await phone_live.close()
    await screen_live.close()


# What a decision's result looks like where decisions are listed: its outcome (as a
# badge, a class or a word), its counts, its choice.
DECIDED_MARKUP = re.compile(
    r"(?:badge|decision)--(?:adopted|rejected|deferred)|decision-counts|Chosen:"
    r"|\d+ for, \d+ against|\d+ · \d+ · \d+|>\s*(?:Adopted|Rejected|Deferred)\s*<"
)


def decided(html: str) -> list[str]:
    return DECIDED_MARKUP.findall(html)


@pytest.mark.wire
async def test_a_closed_polls_decision_waits_for_the_reveal_on_every_screen_and_page(
    open_session: OpenSession,
) -> None:
    published = await open_session.facilitator.post(
        f"/projects/{open_session.project_id}/publish", {"published": "1"}, htmx=False
    )
    assert published.status_code == 303
    voters = [await open_session.phone(name) for name in ("Awa", "Bruno", "Chloé")]
    poll_id = await create(open_session, question="Adopter le budget ?", method="yes_no")
    await add_step(open_session, "vote", "Le budget", poll_id=str(poll_id))
    await move(open_session, "start")
    await act(open_session, poll_id, "open")
    phone_live, screen_live = await watchers(open_session, voters[0])
    for voter, choice in zip(voters, ("for", "for", "against"), strict=True):
        await vote(voter, open_session, poll_id, {"choice": choice})
    await act(open_session, poll_id, "close")
    # The decisions panel is redrawn with the poll's close: it names the decision, not
    # its result.
    await phone_live.until_text("The facilitator will reveal the results.")
    frame = await screen_live.until_text('id="decisions"')
    assert "The facilitator will reveal the results." in "".join(screen_live.frames)
    assert "Adopter le budget ?" in frame[frame.index('id="decisions"') :]
    await caught_up(open_session, phone_live)
    await caught_up(open_session, screen_live)

    stranger = Browser(open_session.server)
    open_session.devices.append(stranger)
    register = f"/projects/{open_session.project_id}/decisions"
    async with open_session.server.db.session() as db:
        decision = (await db.exec(select(Decision).where(Decision.poll_id == poll_id))).one()
    entry = await stranger.get(f"{register}/{decision.id}")
    assert entry.status_code == 403
    assert "has not revealed the results yet" in entry.text
    seen = {
        "phone frames": "".join(phone_live.frames),
        "projector frames": "".join(screen_live.frames),
        "phone page": (await voters[1].get(f"/s/{open_session.code}")).text,
        "projector page": (
            await (await open_session.projector()).get(f"/s/{open_session.code}/screen")
        ).text,
        "public register": (await stranger.get(register)).text,
        "public decision": entry.text,
        "public impact": (await stranger.get(f"/projects/{open_session.project_id}/impact")).text,
    }
    assert {where: decided(html) for where, html in seen.items()} == {where: [] for where in seen}
    assert "Adopter le budget ?" in seen["public register"]
    # The facilitator sees it at once: on the console, on the register.
    console = (
        await open_session.facilitator.get(f"/sessions/{open_session.session_id}/console")
    ).text
    panel = console[console.index('id="decisions"') :]
    assert "2 for, 1 against, 0 abstaining" in panel
    owner = await open_session.facilitator.get(f"{register}/{decision.id}")
    assert owner.status_code == 200
    assert "badge--adopted" in owner.text

    await open_session.facilitator.post(f"/sessions/{open_session.session_id}/reveal")
    frame = await screen_live.until_text('id="decisions"')
    assert "2 for, 1 against, 0 abstaining" in frame
    assert "badge--adopted" in (await stranger.get(register)).text
    assert (await stranger.get(f"{register}/{decision.id}")).status_code == 200
    await phone_live.close()
    await screen_live.close()


@pytest.mark.wire
async def test_a_show_of_hands_decided_during_a_hidden_vote_step_waits_for_the_reveal(
    open_session: OpenSession,
) -> None:
    await add_step(open_session, "vote", "On vote")
    voters = [await open_session.phone(name) for name in ("Awa", "Bruno")]
    await voters[0].post(f"/s/{open_session.code}/proposals", {"text": "Un jardin"})
    page = (await voters[0].get(f"/s/{open_session.code}")).text
    proposal_id = int(re.findall(r'id="proposal-(\d+)"', page)[0])
    await move(open_session, "start")
    phone_live, screen_live = await watchers(open_session, voters[0])
    for voter in voters:
        voted = await voter.post(
            f"/s/{open_session.code}/proposals/{proposal_id}/vote", {"choice": "for"}
        )
        assert voted.status_code == 200
    recorded = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/proposals/{proposal_id}/decision",
        {"outcome": "adopted", "note": "Adopté à l'unanimité"},
    )
    assert recorded.status_code == 200
    assert "badge--adopted" in recorded.text  # the console's card
    await screen_live.until_text('id="decisions"')
    await phone_live.until_text(f'id="status-{proposal_id}"')
    await caught_up(open_session, phone_live)
    await caught_up(open_session, screen_live)
    seen = {
        "phone frames": "".join(phone_live.frames),
        "projector frames": "".join(screen_live.frames),
        "phone page": (await voters[1].get(f"/s/{open_session.code}")).text,
        "projector page": (
            await (await open_session.projector()).get(f"/s/{open_session.code}/screen")
        ).text,
    }
    assert {where: decided(html) for where, html in seen.items()} == {where: [] for where in seen}
    assert "Adopté à l&#39;unanimité" not in "".join(seen.values())

    await open_session.facilitator.post(f"/sessions/{open_session.session_id}/reveal")
    frame = await screen_live.until_text(STAGE)
    assert "badge--adopted" in frame
    assert "2 for, 0 against, 0 abstaining" in frame
    await phone_live.close()
    await screen_live.close()


@pytest.mark.browser
@NEEDS_CHROMIUM
async def test_the_projector_in_a_real_browser_tells_a_hidden_result_only_once_revealed(
    browser: Any, open_session: OpenSession
) -> None:
    """Chromium on the room's projector, at two common sizes, as htmx draws it live."""
    voters = [await open_session.phone(name) for name in ("Awa", "Bruno", "Chloé")]
    poll_id = await create(open_session, question="Adopter le budget ?", method="yes_no")
    await add_step(open_session, "vote", "Le budget", poll_id=str(poll_id))
    await move(open_session, "start")
    await act(open_session, poll_id, "open")
    console = Console()
    screens = {}
    for width, height in ((1920, 1080), (1280, 720)):
        context = await browser.new_context(viewport={"width": width, "height": height})
        page = console.watch(await context.new_page(), f"projector {width}x{height}")
        await page.goto(f"{open_session.server.base_url}/s/{open_session.code}/screen")
        screens[f"{width}x{height}"] = page
    # A phone connecting shows on each projector: its socket is live from here on.
    phone_live = await voters[0].socket(
        open_session.code, "phone", last_seq=await open_session.seq()
    )
    for page in screens.values():
        await page.wait_for_selector("text=1 person connected", timeout=LIVE_MS)
    for voter, choice in zip(voters, ("for", "for", "against"), strict=True):
        await vote(voter, open_session, poll_id, {"choice": choice})
    await act(open_session, poll_id, "close")

    for size, page in screens.items():
        await page.locator("#decisions .decision--veiled", has_text="Adopter le budget ?").wait_for(
            timeout=LIVE_MS
        )
        await page.locator(".poll-hidden").wait_for(timeout=LIVE_MS)
        text = await page.inner_text("main")
        assert decided(await page.content()) == [], size
        assert "Adopted" not in text
        await shoot(page, f"hidden-results/projector-{size}-before-reveal")

    # The published register, read by anyone: the decision is named, its result waits.
    await open_session.facilitator.post(
        f"/projects/{open_session.project_id}/publish", {"published": "1"}
    )
    reader = await (await browser.new_context(viewport={"width": 1366, "height": 768})).new_page()
    await reader.goto(
        f"{open_session.server.base_url}/projects/{open_session.project_id}/decisions"
    )
    row = reader.locator("tr", has_text="Adopter le budget ?")
    assert "The facilitator will reveal the result." in await row.inner_text()
    assert decided(await reader.content()) == []
    await shoot(reader, "hidden-results/register-before-reveal")

    await open_session.facilitator.post(f"/sessions/{open_session.session_id}/reveal")
    for size, page in screens.items():
        await page.locator("#decisions .decision-counts", has_text="2 for, 1 against").wait_for(
            timeout=LIVE_MS
        )
        await page.locator("#decisions .badge--adopted").wait_for(timeout=LIVE_MS)
        await page.locator(".poll-result").wait_for(timeout=LIVE_MS)
        await shoot(page, f"hidden-results/projector-{size}-after-reveal")
    assert console.errors == []
    await phone_live.close()
