"""The real thing: Chromium running htmx and its websocket extension under our CSP.

Phones are 360×640 touch screens. Screenshots of every audience are kept under
tests/artifacts/ for a look by eye.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from cocreate import participants, proposals
from cocreate.database import Database
from cocreate.models import Participant, Session
from cocreate.settings import Settings
from tests.browsing import BROWSER_MARKS, LIVE_MS, Console, shoot
from tests.conftest import PASSWORD, OpenSession, Server, open_session_for, signed_in, start_server

pytestmark = BROWSER_MARKS


async def test_phones_projector_and_console_in_a_real_browser(
    browser: Any, open_session: OpenSession
) -> None:
    base = open_session.server.base_url
    console = Console()

    facilitator_ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
    fac = console.watch(await facilitator_ctx.new_page(), "console")
    await fac.goto(f"{base}/login")
    await fac.fill("#email", "camille@example.org")
    await fac.fill("#password", PASSWORD)
    await fac.click("button.primary")
    await fac.goto(f"{base}/sessions/{open_session.session_id}/console")

    screen_ctx = await browser.new_context(viewport={"width": 1600, "height": 900})
    screen = console.watch(await screen_ctx.new_page(), "screen")
    await screen.goto(f"{base}/s/{open_session.code}/screen")
    assert await screen.inner_text(".screen-code") == open_session.code

    phones = []
    for name, language in (("Aïcha", "fr-FR"), ("Bruno", "en-GB")):
        ctx = await browser.new_context(
            viewport={"width": 360, "height": 640}, is_mobile=True, has_touch=True, locale=language
        )
        page = console.watch(await ctx.new_page(), name)
        await page.goto(f"{base}/s/{open_session.code}")
        await page.fill("#display_name", name)
        await page.click("button.primary")
        await page.wait_for_selector(".connection")
        phones.append(page)
    aicha, bruno = phones
    # The name's answer was swapped in at the session's own address: a reload keeps it.
    assert aicha.url == f"{base}/s/{open_session.code}"
    await aicha.reload()
    await aicha.wait_for_selector(".connection", timeout=LIVE_MS)
    assert await aicha.inner_text(".whoami") == "Vous participez en tant que Aïcha."
    assert await aicha.inner_text("h2#propose-title") == "Proposer une solution"
    await screen.wait_for_selector("text=2 people connected", timeout=LIVE_MS)

    text = "Une cuisine partagée ouverte le samedi"
    await aicha.fill("#proposal-text", text)
    await aicha.click("#propose button.primary")
    await aicha.wait_for_selector("text=Votre proposition est affichée sur le mur", timeout=LIVE_MS)
    assert await aicha.input_value("#proposal-text") == ""  # the form is ready for the next
    card = bruno.locator(".card", has_text=text)
    await card.wait_for(timeout=LIVE_MS)
    await screen.locator(".card", has_text=text).wait_for(timeout=LIVE_MS)
    await fac.locator(".card", has_text=text).wait_for(timeout=LIVE_MS)

    await card.locator("button.vote-for").click()
    await bruno.wait_for_selector("button.vote-for[aria-pressed='true']", timeout=LIVE_MS)
    screen_card = screen.locator(".card", has_text=text)
    await screen_card.locator(".tally-row--for .tally-count", has_text="1").wait_for(
        timeout=LIVE_MS
    )

    await card.locator("summary").click()
    await card.locator("textarea").fill("Et le dimanche ?")
    await card.locator(".comment-form button").click()
    aicha_card = aicha.locator(".card", has_text=text)
    await aicha_card.locator("summary", has_text="(1)").wait_for(timeout=LIVE_MS)

    # Nothing is wider than a 360 px phone.
    for phone in phones:
        width = await phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 360
    await shoot(aicha, "live-loop/phone-fr")
    await shoot(bruno, "live-loop/phone-en")
    await shoot(screen, "live-loop/projector")
    await shoot(fac, "live-loop/console")

    # The facilitator hides it: gone from phones and projector at once.
    await fac.locator(".card", has_text=text).locator("button", has_text="Hide").click()
    await card.wait_for(state="detached", timeout=LIVE_MS)
    await screen_card.wait_for(state="detached", timeout=LIVE_MS)
    await fac.locator(".card--hidden", has_text=text).wait_for(timeout=LIVE_MS)

    # Shown again and decided: the projector lists the decision.
    await fac.locator(".card", has_text=text).locator("button", has_text="Show again").click()
    await screen_card.wait_for(timeout=LIVE_MS)
    # Back on Bruno's phone, with his own vote still shown as his.
    await card.locator("button.vote-for[aria-pressed='true']").wait_for(timeout=LIVE_MS)
    fac_card = fac.locator(".card", has_text=text)
    # The console's compact card keeps its decision form in its details.
    await fac_card.locator(".card-more > summary").click()
    await fac_card.locator(".decide summary").click()
    await fac_card.locator("input[value='adopted']").check()
    await fac_card.locator("button", has_text="Record the decision").click()
    await screen.locator("#decisions", has_text=text).wait_for(timeout=LIVE_MS)
    await card.locator("text=Voting on this proposal is closed.").wait_for(timeout=LIVE_MS)
    await shoot(screen, "live-loop/projector-decided")

    # A proposal of blank lines gets past the browser but not the server: Aïcha is told why.
    await aicha.fill("#proposal-text", "   \n  ")
    await aicha.click("#propose button.primary")
    flash = aicha.locator("#flash .error")
    await flash.wait_for(timeout=LIVE_MS)
    assert "Écrivez votre proposition" in await flash.inner_text()
    await shoot(aicha, "live-loop/phone-error")
    await flash.click()  # a tap dismisses it
    await flash.wait_for(state="detached", timeout=LIVE_MS)

    # The facilitator closes the session: phones stop offering to propose, vote or comment.
    # It asks first: the button is behind a disclosure that says what closing does.
    await fac.locator("summary", has_text="Close the session").click()
    await fac.get_by_role("button", name="Close the session now").click()
    closed = aicha.locator("#session-status", has_text="séance est clôturée")
    await closed.wait_for(timeout=LIVE_MS)
    assert await aicha.locator("#propose").is_hidden()
    assert await aicha.locator(".comment-form").count() == 0
    assert await aicha.locator("form.vote").count() == 0
    await shoot(aicha, "live-loop/phone-closed")

    # Closed by mistake: the facilitator reopens it, and phones may propose again.
    await shoot(fac, "live-loop/console-closed")
    await fac.get_by_role("button", name="Reopen the session").click()
    await closed.wait_for(state="detached", timeout=LIVE_MS)
    await aicha.locator("#propose").wait_for(timeout=LIVE_MS)
    await shoot(aicha, "live-loop/phone-reopened")
    assert await aicha.locator(".comment-form").count() == 1
    await screen.locator("#session-status .banner").wait_for(state="detached", timeout=LIVE_MS)
    await shoot(screen, "live-loop/projector-reopened")
    await fac.locator(".connection", has_text="Live").wait_for(timeout=LIVE_MS)

    # htmx reports a failed request as a console error; that one was expected.
    assert [e for e in console.errors if "422" not in e] == []


async def test_a_phone_comes_back_after_a_server_restart_with_what_it_missed(
    browser: Any, settings: Settings
) -> None:
    uv, task, base = await start_server(settings)
    port = int(base.rsplit(":", 1)[1])
    db = Database(settings.database_url)
    server = Server(base_url=base, database_url=settings.database_url, db=db)
    facilitator = await signed_in(server, "camille@example.org")
    open_session = await open_session_for(server, facilitator)
    try:
        ctx = await browser.new_context(viewport={"width": 360, "height": 640}, is_mobile=True)
        phone = await ctx.new_page()
        await phone.goto(f"{base}/s/{open_session.code}")
        await phone.fill("#display_name", "Pia")
        await phone.click("button.primary")
        await phone.fill("#proposal-text", "Avant la panne")
        await phone.click("#propose button.primary")
        await phone.locator(".card", has_text="Avant la panne").wait_for(timeout=LIVE_MS)

        uv.should_exit = True  # the server goes down; phones see code 1012 and retry
        await task
        await phone.locator(".connection", has_text="Reconnecting").wait_for(timeout=LIVE_MS)
        async with db.session() as session_db:  # meanwhile, another server wrote this
            session = await session_db.get(Session, open_session.session_id)
            assert session is not None
            other = await participants.join(db=session_db, session=session, display_name="Q")
            await proposals.propose(
                db=session_db, session=session, author=other, text="Pendant la panne"
            )

        uv, task, _ = await start_server(settings, port=port)
        missed = phone.locator(".card", has_text="Pendant la panne")
        await missed.wait_for(timeout=20_000)  # htmx's backoff, then the catch-up
        await phone.locator(".connection", has_text="Live").wait_for(timeout=LIVE_MS)
        assert await missed.count() == 1
        assert await phone.locator(".card", has_text="Avant la panne").count() == 1
    finally:
        await facilitator.close()
        await db.dispose()
        uv.should_exit = True
        await task


async def test_a_majority_judgment_poll_on_real_phones(
    browser: Any, open_session: OpenSession
) -> None:
    base = open_session.server.base_url
    console = Console()
    fac_ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
    fac = console.watch(await fac_ctx.new_page(), "console")
    await fac.goto(f"{base}/login")
    await fac.fill("#email", "camille@example.org")
    await fac.fill("#password", PASSWORD)
    await fac.click("button.primary")
    screen_ctx = await browser.new_context(viewport={"width": 1600, "height": 900})
    screen = console.watch(await screen_ctx.new_page(), "screen")
    await screen.goto(f"{base}/s/{open_session.code}/screen")
    phones = []
    for name in ("Ama", "Bao"):
        ctx = await browser.new_context(
            viewport={"width": 360, "height": 640}, is_mobile=True, has_touch=True
        )
        page = console.watch(await ctx.new_page(), name)
        await page.goto(f"{base}/s/{open_session.code}")
        await page.fill("#display_name", name)
        await page.click("button.primary")
        await page.wait_for_selector(".connection")
        phones.append(page)

    await fac.goto(f"{base}/sessions/{open_session.session_id}/console")
    await fac.click("#new-poll summary")
    await fac.fill("#poll-question", "Quel nom pour le lieu ?")
    await fac.select_option("#poll-method", "judgment")
    await fac.fill("#poll-options", "La Marmite\nLe Grenier")
    await fac.click("#new-poll button.primary")
    await fac.locator(".poll", has_text="Quel nom").locator("button.primary").click()

    for phone, grades in zip(
        phones, (("excellent", "passable"), ("bien", "insuffisant")), strict=True
    ):
        ballot = phone.locator("form.ballot")
        await ballot.wait_for(timeout=LIVE_MS)  # the poll reached the phone by itself
        rows = ballot.locator("fieldset.grade-row")
        for index, grade in enumerate(grades):
            await rows.nth(index).locator(f"input[value='{grade}']").check()
        await ballot.locator("button.primary").click()
        # A ballot is final: the phone shows what it will cast and asks first.
        confirm = ballot.locator(".ballot-confirm")
        assert "La Marmite — " in await confirm.inner_text()
        await confirm.get_by_role("button", name="Confirm and cast").click()
        await phone.locator(".ballot--done", has_text="Your receipt code").wait_for(timeout=LIVE_MS)
    await screen.locator(".poll-turnout", has_text="2 ballots cast").wait_for(timeout=LIVE_MS)
    assert await screen.locator(".poll-result").count() == 0  # nothing shown before closing

    await fac.locator(".poll", has_text="Quel nom").locator("summary", has_text="Close").click()
    await fac.locator(".poll", has_text="Quel nom").locator("button.danger").click()
    await screen.locator(".chart--profile").wait_for(timeout=LIVE_MS)
    await screen.locator(".poll-outcome", has_text="La Marmite").wait_for(timeout=LIVE_MS)
    await phones[1].locator(".chart--profile").wait_for(timeout=LIVE_MS)
    await shoot(screen, "live-loop/projector-judgment")
    await shoot(phones[1], "phone-judgment")
    assert console.errors == []


async def test_a_phone_mends_its_name_without_becoming_someone_else(
    browser: Any, open_session: OpenSession
) -> None:
    ctx = await browser.new_context(
        viewport={"width": 360, "height": 640}, is_mobile=True, has_touch=True, locale="en-GB"
    )
    console = Console()
    page = console.watch(await ctx.new_page(), "phone")
    await page.goto(f"{open_session.server.base_url}/s/{open_session.code}")
    await page.fill("#display_name", "Brnuo")
    await page.click("button.primary")
    await page.wait_for_selector(".connection")
    await page.click(".rename summary")
    await page.fill("#rename-name", "Bruno")
    await shoot(page, "phone-rename")
    await page.click(".rename button")
    await page.wait_for_selector("text=You take part as Bruno.", timeout=LIVE_MS)
    assert page.url == f"{open_session.server.base_url}/s/{open_session.code}"
    async with open_session.server.db.session() as db:
        names = [p.display_name for p in (await db.exec(select(Participant))).all()]
    assert names == ["Bruno"]
    assert console.errors == []
