"""The room, as a facilitator runs it: a six-step workshop driven from two consoles (the
facilitator's and a co-facilitator's), five phones in French and English, and the
projector at three screen sizes at once, from the welcome to the decision.

Every screen is photographed at every step under tests/artifacts/room-workshop/ for a
person to look at; what can be measured is checked here: every screen follows the room
live, the projector always fits its screen and shows only what the step is about, no
phone scrolls sideways, and the decision lands in the register with its result.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from cocreate.models import Decision, Poll, Proposal
from tests.browsing import BROWSER_MARKS, LIVE_MS, Console, count_requests, settled, shoot
from tests.conftest import ONCE, PASSWORD, OpenSession
from tests.test_projector_fit import SIZES, assert_fits

# Six pages of one Chromium and ten live sockets: what the room looks like does not
# depend on the database, once is enough.
pytestmark = [*BROWSER_MARKS, ONCE, pytest.mark.timeout(300)]

AGENDA = [
    ("info", "Bienvenue", ""),
    ("needs", "Ce qui vous manque", "3"),
    ("ideas", "Vos solutions", ""),
    ("discussion", "On en discute", ""),
    ("vote", "On vote", ""),
    ("decision", "On décide", ""),
]
PHONES = [
    ("Aïcha", "fr-FR"),
    ("Bruno", "en-GB"),
    ("Chloé", "fr-FR"),
    ("Dédé", "fr-FR"),
    ("Emma", "en-GB"),
]
NEEDS = {
    "Aïcha": "Pas de mode de garde après 18 h",
    "Chloé": "Le bus ne passe plus le dimanche",
    "Emma": "Nowhere to meet in winter",
}
IDEAS = {
    "Bruno": "Une crèche associative ouverte le soir",
    "Dédé": "Une navette solidaire entre les hameaux et le bourg",
    "Emma": "Un local partagé chauffé pour les associations",
    "Chloé": "Une navette solidaire le dimanche",  # a duplicate, merged by the co-facilitator
}
QUESTION = "Quel projet lancer en premier ?"


async def sign_in(browser: Any, watch: Console, who: str, session_url: str, base: str) -> Any:
    context = await count_requests(
        await browser.new_context(viewport={"width": 1366, "height": 768})
    )
    page = watch.watch(await context.new_page(), who)
    await page.goto(f"{base}/login")
    await page.fill("#email", "camille@example.org")
    await page.fill("#password", PASSWORD)
    await page.click("button.primary")
    await page.goto(session_url)
    await page.locator(".connection", has_text="Live").wait_for(timeout=LIVE_MS)
    return page


async def test_a_six_step_workshop_with_two_consoles_five_phones_and_three_projectors(
    browser: Any, open_session: OpenSession
) -> None:
    base, code, sid = open_session.server.base_url, open_session.code, open_session.session_id
    watch = Console()
    console_url = f"{base}/sessions/{sid}/console"
    a = await sign_in(browser, watch, "console A", console_url, base)
    b = await sign_in(browser, watch, "console B", console_url, base)

    screens: list[tuple[str, Any]] = []
    for width, height in SIZES:
        context = await browser.new_context(viewport={"width": width, "height": height})
        page = watch.watch(await context.new_page(), f"projector {width}x{height}")
        await page.goto(f"{base}/s/{code}/screen")
        screens.append((f"{width}x{height}", page))

    phones: dict[str, Any] = {}
    for name, language in PHONES:
        context = await browser.new_context(
            viewport={"width": 360, "height": 640}, is_mobile=True, has_touch=True, locale=language
        )
        page = watch.watch(await context.new_page(), name)
        await page.goto(f"{base}/s/{code}")
        await page.fill("#display_name", name)
        await page.click("button.primary")
        await page.locator(".connection").wait_for(timeout=LIVE_MS)
        phones[name] = page

    async def snap(number: int, label: str) -> None:
        """Every screen, photographed; every projector fits; no phone scrolls sideways."""
        for who, page in (("console-a", a), ("console-b", b)):
            await shoot(page, f"room-workshop/{number}-{label}-{who}")
        for size, page in screens:
            await shoot(page, f"room-workshop/{number}-{label}-projector-{size}")
            await assert_fits(page, f"{label} at {size}", cards=False)
        for name, page in phones.items():
            assert await page.evaluate("document.documentElement.scrollWidth") <= 360, name
            await shoot(page, f"room-workshop/{number}-{label}-phone-{name}")

    async def no_proposal_votes(where: str) -> None:
        """Neither "Vote open", nor tallies, nor vote buttons on the proposals."""
        for page in [page for _, page in screens] + list(phones.values()):
            for text in ("Vote open", "Vote ouvert"):
                assert await page.get_by_text(text).filter(visible=True).count() == 0, where
            assert await page.locator(".card--idea .tally:visible").count() == 0, where
            assert await page.locator(".card--idea .vote:visible").count() == 0, where

    async def everywhere(selector: str, text: str, *, consoles: bool = True) -> None:
        pages = [page for _, page in screens] + list(phones.values())
        for page in pages + ([a, b] if consoles else []):
            await page.locator(selector, has_text=text).first.wait_for(timeout=LIVE_MS)

    for _, page in screens:
        await page.locator(".screen-join, #stage").first.wait_for(timeout=LIVE_MS)
        await page.get_by_text("5 people connected").wait_for(timeout=LIVE_MS)

    # Console A builds the agenda; console B sees it grow, live.
    for kind, title, minutes in AGENDA:
        add = a.locator("details.step-add")
        if not await add.evaluate("d => d.open"):
            await add.locator("summary").click()
        await a.select_option("#new-step-kind", kind)
        await a.fill("#new-step-title", title)
        await a.fill("#new-step-minutes", minutes)
        await a.click("details.step-add button.primary")
        await a.locator(".agenda-step", has_text=title).wait_for(timeout=LIVE_MS)
        await settled(a, open_session)
    for _, title, _minutes in AGENDA:
        await b.locator("#agenda .agenda-step", has_text=title).wait_for(timeout=LIVE_MS)

    # 1. Welcome: B puts the join screen on the projector, then the step.
    await a.get_by_role("button", name="Start the agenda").click()
    await everywhere(".step-title", "Bienvenue", consoles=False)
    await (
        b.locator("#presenter").get_by_label("How to join: code, QR code, people connected").check()
    )
    await b.locator("#presenter").get_by_role("button", name="Show").click()
    for _, page in screens:
        await page.locator(".screen-join").wait_for(timeout=LIVE_MS)
        assert code in (await page.locator(".screen-join").inner_text()).replace(" ", "")
    await snap(1, "welcome-join-screen")
    await b.locator("#presenter").get_by_role("button", name="Next").click()
    for _, page in screens:
        await page.locator("#stage .step-title", has_text="Bienvenue").wait_for(timeout=LIVE_MS)

    # 2. Needs: three phones describe one each; every screen shows them.
    await a.get_by_role("button", name="Next step").click()
    await (
        phones["Aïcha"]
        .locator("#need-title", has_text="Décrire un besoin")
        .wait_for(timeout=LIVE_MS)
    )
    await (
        phones["Bruno"].locator("#need-title", has_text="Describe a need").wait_for(timeout=LIVE_MS)
    )
    for name, text in NEEDS.items():
        await phones[name].fill("#need-text", text)
        await phones[name].click("#need-form button.primary")
    for text in NEEDS.values():
        await everywhere("#needs .card", text)
    await snap(2, "needs")

    # 3. Ideas: four proposals, one of them answering a need; B merges the duplicate.
    await a.get_by_role("button", name="Next step").click()
    for name, text in IDEAS.items():
        phone = phones[name]
        await phone.locator("#proposal-text").wait_for(timeout=LIVE_MS)
        await phone.fill("#proposal-text", text)
        if name == "Bruno":
            await phone.locator("#propose label", has_text=NEEDS["Aïcha"]).click()
        await phone.click("#propose button.primary")
    for text in IDEAS.values():
        await everywhere("#wall .card", text)
    async with open_session.server.db.session() as db:
        ids = {p.text: p.id for p in (await db.exec(select(Proposal))).all()}
    duplicate, kept = ids[IDEAS["Chloé"]], ids[IDEAS["Dédé"]]
    await settled(b, open_session)
    card = b.locator(f"#proposal-{duplicate}")
    await card.locator(".card-more > summary").click()
    await card.locator("summary", has_text="Correct, merge, link").click()
    await card.locator(f"#merge-{duplicate}").fill(str(kept))
    await card.locator("summary", has_text="Merge into it").click()
    await card.get_by_role("button", name="Merge for good").click()
    for page in [page for _, page in screens] + list(phones.values()) + [a]:
        await page.locator(f"#proposal-{duplicate}").wait_for(state="detached", timeout=LIVE_MS)
    await snap(3, "ideas")

    # 4. Discussion: reactions and comments; no vote shown anywhere but on the consoles.
    await a.get_by_role("button", name="Next step").click()
    crèche = ids[IDEAS["Bruno"]]
    for name in ("Aïcha", "Chloé", "Dédé"):
        reactions = phones[name].locator(f"#proposal-{crèche}")
        await reactions.locator("button.reaction--agree").click()
        await reactions.locator("button.reaction--agree[aria-pressed='true']").wait_for(
            timeout=LIVE_MS
        )
    phone_card = phones["Emma"].locator(f"#proposal-{crèche}")
    await phone_card.locator(".comments-box > summary").click()
    await phone_card.locator("textarea").fill("Who would run it in the evening?")
    await phone_card.locator(".comment-form button").click()
    await settled(b, open_session)
    await b.locator("#presenter").get_by_label(f"Proposal #{crèche}", exact=False).check()
    await b.locator("#presenter").get_by_role("button", name="Show").click()
    for _, page in screens:
        shown = page.locator(f"#proposal-{crèche}")
        await shown.get_by_text("Who would run it in the evening?").wait_for(timeout=LIVE_MS)
    await no_proposal_votes("a discussion")
    await snap(4, "discussion-one-proposal")

    # 5. Vote: A prepares a majority-judgment poll on the three ideas and opens it from
    # the discussion: the agenda moves to the vote step, saying so.
    await b.locator("#presenter").get_by_label("The current step").check()
    await b.locator("#presenter").get_by_role("button", name="Show").click()
    await a.locator("#new-poll > summary").click()
    await a.fill("#poll-question", QUESTION)
    await a.select_option("#poll-method", "judgment")
    for text in (IDEAS["Bruno"], IDEAS["Dédé"], IDEAS["Emma"]):
        await a.locator("#new-poll label.choice", has_text=text[:40]).locator("input").check()
    async with a.expect_navigation():
        await a.get_by_role("button", name="Create the poll").click()
    async with open_session.server.db.session() as db:
        poll = (await db.exec(select(Poll).where(Poll.question == QUESTION))).one()
    poll_card = a.locator(f"#poll-{poll.id}")
    async with a.expect_navigation():
        await poll_card.get_by_role("button", name="Open the poll").click()
    banner = a.get_by_role("status").filter(has_text="The agenda moved to step")
    assert "On vote" in await banner.inner_text()
    await everywhere(".step-title", "On vote", consoles=False)
    grades = {"Aïcha": 0, "Bruno": 1, "Chloé": 0, "Dédé": 2, "Emma": 1}
    for name, shift in grades.items():
        ballot = phones[name].locator(f"#poll-{poll.id}")
        rows = ballot.locator("fieldset.grade-row")
        await rows.first.wait_for(timeout=LIVE_MS)
        for index in range(await rows.count()):
            if name == "Dédé" and index == 2:
                continue  # left ungraded: the phone says it counts as "To reject"
            await rows.nth(index).locator("input[type=radio]").nth((index + shift) % 3).check()
        if name == "Aïcha":
            await ballot.scroll_into_view_if_needed()
            await shoot(phones[name], "room-workshop/5-ballot-grid-phone-Aïcha")
        await ballot.locator("button.primary").click()
        confirm = ballot.locator(".ballot-confirm")
        await confirm.wait_for(timeout=LIVE_MS)
        if name == "Dédé":
            warning = "Vous n’avez pas évalué 1 option : elle comptera « À rejeter »."
            assert warning in await confirm.inner_text()
            await shoot(phones[name], "room-workshop/5-ballot-confirm-phone-Dédé")
        await confirm.locator("button.primary").click()
        await ballot.locator(".ballot--done").wait_for(timeout=LIVE_MS)
    await no_proposal_votes("a vote on a poll")
    await b.locator(f"#poll-{poll.id} .poll-turnout", has_text="5").wait_for(timeout=LIVE_MS)
    await b.locator("#presenter").get_by_label("Turnout of the poll", exact=False).check()
    await b.locator("#presenter").get_by_role("button", name="Show").click()
    for _, page in screens:
        await page.get_by_text("5", exact=False).first.wait_for(timeout=LIVE_MS)
    await snap(5, "vote-turnout")

    # A closes and counts; the result waits for the reveal, then the room sees it.
    await settled(a, open_session)
    close = a.locator(f"#poll-{poll.id}")
    await close.locator("summary", has_text="Close the poll").click()
    async with a.expect_navigation():
        await close.get_by_role("button", name="Close and count now").click()
    await a.get_by_role("button", name="Reveal the results").click()
    await b.locator("#presenter").get_by_label("Result of the poll", exact=False).check()
    await b.locator("#presenter").get_by_role("button", name="Show").click()
    for _, page in screens:
        await page.locator(".screen-result").wait_for(timeout=LIVE_MS)
    await snap(6, "vote-result")

    # 6. Decision: the decisions on the projector; the register has the poll's result.
    await a.get_by_role("button", name="Next step").click()
    await everywhere(".step-title", "On décide", consoles=False)
    await b.locator("#presenter").get_by_label("The decisions").check()
    await b.locator("#presenter").get_by_role("button", name="Show").click()
    for _, page in screens:
        await (
            page.locator("#decisions, .decisions")
            .first.get_by_text(QUESTION)
            .wait_for(timeout=LIVE_MS)
        )
    await no_proposal_votes("a decision on a poll")
    await snap(7, "decision")
    async with open_session.server.db.session() as db:
        decision = (await db.exec(select(Decision).where(Decision.poll_id == poll.id))).one()
    assert decision.outcome == "adopted"
    await a.goto(f"{base}/projects/{open_session.project_id}/decisions")
    await a.get_by_text(QUESTION).first.wait_for()
    await shoot(a, "room-workshop/8-register-console-a")
    assert [e for e in watch.errors if "favicon" not in e] == []
