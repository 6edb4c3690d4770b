"""Ballots and buttons that fit a thumb, on a phone of 360×640: every vote, reaction and
ballot control is at least 44×44 CSS pixels (WCAG 2.5.8 asks 24; a shaking hand on a
cheap phone needs more), and none makes the page scroll sideways."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import select

from cocreate.models import Ballot, PollOption
from tests.browsing import BROWSER_MARKS, LIVE_MS, Console, phone_joined, shoot
from tests.conftest import ONCE, OpenSession
from tests.test_agenda import add_step, move
from tests.test_polls import act, create

pytestmark = [*BROWSER_MARKS, ONCE]

MIN_PX = 44
CONTROLS = (
    ".vote-buttons button, .reaction-buttons button, .grade-choice, "
    "form.ballot label.choice, form.ballot button, .comments-box > summary"
)
MEASURE = """selector => [...document.querySelectorAll(selector)]
  .filter(e => e.getClientRects().length > 0)
  .map(e => {
    const r = e.getBoundingClientRect();
    return {what: e.className + ' ' + e.textContent.trim().slice(0, 30),
            width: Math.round(r.width), height: Math.round(r.height)};
  })"""


async def test_every_vote_reaction_and_ballot_control_fits_a_thumb(
    browser: Any, open_session: OpenSession
) -> None:
    code, sid = open_session.code, open_session.session_id
    other = await open_session.phone("Bruno")
    sent = await other.post(f"/s/{code}/proposals", {"text": "Une navette solidaire"})
    assert sent.status_code == 200
    polls = [
        await create(open_session, question="Ouvrir le samedi ?", method="yes_no"),
        await create(
            open_session,
            question="Quel nom ?",
            method="judgment",
            options="La Marmite\nLe Grenier",
        ),
        await create(open_session, question="Acheter un four", method="consent"),
        await create(
            open_session, question="Quels jours ?", method="approval", options="Lundi\nMardi"
        ),
    ]
    for poll_id in polls:
        await act(open_session, poll_id, "open")
    watch = Console()
    page = await phone_joined(browser, open_session.server.base_url, code, watch)
    await page.locator("fieldset.grade-row").first.wait_for(timeout=LIVE_MS)
    measured = await page.evaluate(MEASURE, CONTROLS)
    kinds = {m["what"].split(" ")[0] for m in measured}
    assert {"vote-for", "reaction", "grade-choice", "choice"} <= kinds, kinds
    small = [m for m in measured if m["width"] < MIN_PX or m["height"] < MIN_PX]
    assert small == [], small
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360
    await shoot(page, "thumbs/phone-controls-360")
    assert sid
    assert watch.errors == []


async def test_a_ranked_ballot_is_tapped_in_order_and_cast_as_shown(
    browser: Any, open_session: OpenSession
) -> None:
    """Tap the options in order of preference, move one up, take one out: the ballot
    cast is the order shown, never two options on one rank."""
    poll_id = await create(
        open_session,
        question="Quel projet d'abord ?",
        method="irv",
        options="Une navette\nUn jardin\nUne crèche",
        secret="",  # a named poll: its ballot is readable at once
    )
    await act(open_session, poll_id, "open")
    watch = Console()
    page = await phone_joined(browser, open_session.server.base_url, open_session.code, watch)
    ballot = page.locator(f"#poll-{poll_id} form.ballot")
    pool = ballot.locator(".rank-pool")
    order = ballot.locator(".rank-order")
    await pool.get_by_role("button", name="Rank “Un jardin” number 1").click()
    await pool.get_by_role("button", name="Rank “Une crèche” number 2").click()
    await pool.get_by_role("button", name="Rank “Une navette” number 3").click()
    assert await order.locator(".rank-chosen").all_inner_texts() == [
        "1. Un jardin",
        "2. Une crèche",
        "3. Une navette",
    ]
    await order.get_by_role("button", name="Move “Une navette” up").click()
    await order.get_by_role("button", name="Take “Un jardin” out of my order").click()
    assert await order.locator(".rank-chosen").all_inner_texts() == [
        "1. Une navette",
        "2. Une crèche",
    ]
    assert await ballot.locator("select").first.is_hidden()  # the drop-downs carry it
    await shoot(page, "thumbs/ranked-tapped-360")
    small = [
        m
        for m in await page.evaluate(MEASURE, ".rank-chosen, .rank-move, .rank-add")
        if m["width"] < MIN_PX or m["height"] < MIN_PX
    ]
    assert small == [], small
    await ballot.locator("button.primary").click()
    confirm = ballot.locator(".ballot-confirm")
    assert await confirm.locator("li").all_inner_texts() == ["1. Une navette", "2. Une crèche"]
    await confirm.get_by_role("button", name="Confirm and cast").click()
    await page.locator(f"#poll-{poll_id} .ballot--done").wait_for(timeout=LIVE_MS)
    async with open_session.server.db.session() as db:
        (cast,) = (await db.exec(select(Ballot).where(Ballot.poll_id == poll_id))).all()
        options = {
            o.id: o.label
            for o in (await db.exec(select(PollOption).where(PollOption.poll_id == poll_id)))
        }
    ranking = json.loads(cast.content)
    assert [options[int(o)] for o in ranking] == ["Une navette", "Une crèche"], ranking
    assert watch.errors == []


async def test_reacting_one_proposal_at_a_time(browser: Any, open_session: OpenSession) -> None:
    """Many proposals to react to, on a phone: one card at a time, the next one coming
    after each reaction, as in Pol.is; the whole list a tap away."""
    await add_step(open_session, "ideas", "Vos idées")
    await add_step(open_session, "discussion", "On en parle")
    await move(open_session, "start")
    bruno = await open_session.phone("Bruno")
    texts = ["Une navette", "Un jardin", "Une crèche"]
    for text in texts:
        sent = await bruno.post(f"/s/{open_session.code}/proposals", {"text": text})
        assert sent.status_code == 200
    await move(open_session, "next")
    watch = Console()
    page = await phone_joined(browser, open_session.server.base_url, open_session.code, watch)
    bar = page.locator(".one-by-one")
    await bar.get_by_role("button", name="One at a time").click()
    shown = page.locator("#wall > .card:visible")
    count = bar.locator(".one-by-one-count")
    await count.filter(has_text="Proposal 1 of 3").wait_for(timeout=LIVE_MS)
    assert await shown.count() == 1
    first = await shown.locator(".card-text").inner_text()
    await shoot(page, "thumbs/one-at-a-time-360")
    await shown.locator("button.reaction--agree").click()
    await count.filter(has_text="Proposal 2 of 3").wait_for(timeout=LIVE_MS)
    assert await shown.count() == 1
    assert await shown.locator(".card-text").inner_text() != first
    await bar.get_by_role("button", name="Previous").click()
    await count.filter(has_text="Proposal 1 of 3").wait_for(timeout=LIVE_MS)
    assert await shown.locator("button.reaction--agree[aria-pressed='true']").count() == 1
    await bar.get_by_role("button", name="One at a time").click()  # the whole list again
    assert await shown.count() == 3
    small = [
        m
        for m in await page.evaluate(MEASURE, ".one-by-one button")
        if m["width"] < MIN_PX or m["height"] < MIN_PX
    ]
    assert small == [], small
    assert watch.errors == []
