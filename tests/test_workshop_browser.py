"""A whole facilitated workshop in a real browser: a console on a tablet, the room's
projector and two phones follow an agenda from needs to decision.

Screenshots of every audience at every step are written under tests/artifacts/ (ignored
by git) for a person to look at.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browsing import BROWSER_MARKS, LIVE_MS, Console, count_requests, settled, shoot
from tests.conftest import ONCE, PASSWORD, OpenSession

# What a page looks like and how it is reached does not depend on the database: once.
pytestmark = [*BROWSER_MARKS, ONCE]

AGENDA = [
    ("needs", "Ce qui vous manque", "2"),
    ("ideas", "Vos solutions", ""),
    ("discussion", "On en discute", ""),
    ("vote", "On vote", ""),
    ("decision", "On décide", ""),
]
CLOCK = re.compile(r"^(\d+):(\d\d)$")
# A phone whose clock is five hours fast: the countdown must not care.
WRONG_CLOCK = "(() => { const real = Date.now; Date.now = () => real() + 5 * 3600e3; })();"


def seconds(clock: str) -> int:
    match = CLOCK.match(clock.strip())
    assert match, clock
    return int(match.group(1)) * 60 + int(match.group(2))


async def test_a_workshop_from_needs_to_decision_on_every_screen(
    browser: Any, open_session: OpenSession, request: pytest.FixtureRequest
) -> None:
    base = open_session.server.base_url
    console = Console()
    name = request.node.name

    async def snap(step: int, label: str) -> None:
        for who, page in (
            ("console", fac),
            ("projector", screen),
            ("aicha", aicha),
            ("bruno", bruno),
        ):
            await shoot(page, f"{name}/{step}-{label}-{who}")

    tablet = await count_requests(
        await browser.new_context(viewport={"width": 1024, "height": 768}, has_touch=True)
    )
    fac = console.watch(await tablet.new_page(), "console")
    await fac.goto(f"{base}/login")
    await fac.fill("#email", "camille@example.org")
    await fac.fill("#password", PASSWORD)
    await fac.click("button.primary")
    await fac.goto(f"{base}/sessions/{open_session.session_id}/console")

    # The facilitator builds the agenda on the console.
    for kind, title, minutes in AGENDA:
        add = fac.locator("details.step-add")
        if not await add.evaluate("d => d.open"):
            await add.locator("summary").click()
        await fac.select_option("#new-step-kind", kind)
        await fac.fill("#new-step-title", title)
        await fac.fill("#new-step-minutes", minutes)
        await fac.click("details.step-add button.primary")
        await fac.locator(".agenda-step", has_text=title).wait_for(timeout=LIVE_MS)
        # The step's live frame redraws the agenda too: typing the next one before it has
        # arrived could be undone by it.
        await settled(fac, open_session)
    assert await fac.locator(".agenda-step").count() == len(AGENDA)

    projector = await browser.new_context(viewport={"width": 1280, "height": 720})
    screen = console.watch(await projector.new_page(), "projector")
    await screen.goto(f"{base}/s/{open_session.code}/screen")

    phones = []
    for who, language, wrong_clock in (("Aïcha", "fr-FR", False), ("Bruno", "en-GB", True)):
        ctx = await browser.new_context(
            viewport={"width": 360, "height": 640}, is_mobile=True, has_touch=True, locale=language
        )
        if wrong_clock:
            await ctx.add_init_script(WRONG_CLOCK)
        page = console.watch(await ctx.new_page(), who)
        await page.goto(f"{base}/s/{open_session.code}")
        await page.fill("#display_name", who)
        await page.click("button.primary")
        await page.wait_for_selector(".connection")
        phones.append(page)
    aicha, bruno = phones
    await screen.wait_for_selector("text=2 people connected", timeout=LIVE_MS)
    await snap(0, "free-wall")

    # 1. Needs: everyone switches at once; the countdown is the same everywhere.
    await fac.click("text=Start the agenda")
    await screen.locator("#stage .step-title", has_text="Ce qui vous manque").wait_for(
        timeout=LIVE_MS
    )
    await aicha.locator("#need-title", has_text="Décrire un besoin").wait_for(timeout=LIVE_MS)
    await bruno.locator("#need-title", has_text="Describe a need").wait_for(timeout=LIVE_MS)
    assert await bruno.locator("#propose").is_hidden()
    clocks = [
        seconds(await page.inner_text("#timer .timer-clock")) for page in (screen, aicha, bruno)
    ]
    assert all(100 <= c <= 120 for c in clocks), clocks
    assert max(clocks) - min(clocks) <= 3, clocks
    await aicha.fill("#need-text", "Pas de mode de garde après 18 h")
    await aicha.click("#need-form button.primary")
    for page in (bruno, screen, fac):
        await page.locator("#needs .card", has_text="Pas de mode de garde").wait_for(
            timeout=LIVE_MS
        )
    await snap(1, "needs")

    # 2. Ideas: Bruno answers Aïcha's need.
    await fac.click("text=Next step")
    await bruno.locator("#propose-title").wait_for(timeout=LIVE_MS)
    assert await bruno.locator("#need-form").is_hidden()
    assert await screen.locator(".needs-section").is_hidden()
    await bruno.fill("#proposal-text", "Une crèche associative ouverte le soir")
    await bruno.check("#propose input[name='need']")
    await bruno.click("#propose button.primary")
    idea = "Une crèche associative ouverte le soir"
    for page in (aicha, screen):
        card = page.locator("#wall .card", has_text=idea)
        await card.wait_for(timeout=LIVE_MS)
        assert "Pas de mode de garde" in await card.inner_text()
    assert await aicha.locator("form.vote").count() == 0  # no voting yet
    await snap(2, "ideas")

    # 3. Discussion: comments and reactions, live on the projector.
    await fac.click("text=Next step")
    card = aicha.locator("#wall .card", has_text=idea)
    await card.locator("button.reaction--agree").wait_for(timeout=LIVE_MS)
    await card.locator("button.reaction--agree").click()
    await card.locator("button.reaction--agree[aria-pressed='true']").wait_for(timeout=LIVE_MS)
    await card.locator("summary").click()
    await card.locator("textarea").fill("Avec des parents bénévoles ?")
    await card.locator(".comment-form button").click()
    screen_card = screen.locator("#wall .card", has_text=idea)
    await screen_card.locator(".reaction-summary", has_text="Agree 1").wait_for(timeout=LIVE_MS)
    await screen_card.locator(".card-comments", has_text="1").wait_for(timeout=LIVE_MS)
    await snap(3, "discussion")

    # 4. Vote: results hidden on the projector until the facilitator reveals them.
    await fac.click("text=Next step")
    for page in phones:
        button = page.locator("#wall .card", has_text=idea).locator("button.vote-for")
        await button.wait_for(timeout=LIVE_MS)
        await button.click()
        await page.locator("#wall .card button.vote-for[aria-pressed='true']").wait_for(
            timeout=LIVE_MS
        )
    assert await aicha.locator(".comment-form").count() == 0
    await screen_card.locator("text=Results are hidden").wait_for(timeout=LIVE_MS)
    await snap(4, "vote")
    await fac.click("text=Reveal the results")
    await (
        screen.locator("#wall .card", has_text=idea)
        .locator(".tally-row--for .tally-count", has_text="2")
        .wait_for(timeout=LIVE_MS)
    )
    await snap(5, "vote-revealed")

    # 5. Decision: recorded on the console, on every screen at once.
    await fac.click("text=Next step")
    await screen.locator("#stage .step-title", has_text="On décide").wait_for(timeout=LIVE_MS)
    fac_card = fac.locator("#wall .card", has_text=idea)
    # The console's compact card keeps its decision form in its details.
    await fac_card.locator(".card-more > summary").click()
    await fac_card.locator(".decide summary").click()
    await fac_card.locator("input[value='adopted']").check()
    await fac_card.locator("button", has_text="Record the decision").click()
    await screen.locator("#decisions", has_text=idea).wait_for(timeout=LIVE_MS)
    await (
        aicha.locator("#wall .card", has_text=idea)
        .locator(".badge", has_text="Adoptée")
        .wait_for(timeout=LIVE_MS)
    )
    await snap(6, "decision")

    for page in phones:
        assert await page.evaluate("document.documentElement.scrollWidth") <= 360
    assert console.errors == []
