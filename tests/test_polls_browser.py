"""Polls that follow the agenda, a consultative poll, and decisions told in their
method's terms, seen in a real browser at the sizes that matter."""

from __future__ import annotations

from typing import Any

from cocreate import polls
from tests.browsing import BROWSER_MARKS, Console, axe_problems, shoot
from tests.conftest import PASSWORD, OpenSession
from tests.test_agenda import add_step, move
from tests.test_polls import act, create, vote

pytestmark = BROWSER_MARKS

PROJECTORS = ((1920, 1080), (1280, 720), (1024, 768))


async def test_a_poll_opened_off_its_step_reaches_every_screen(
    browser: Any, open_session: OpenSession
) -> None:
    base = open_session.server.base_url
    console = Console()
    sounding = await create(
        open_session,
        question="Quel jour pour le prochain atelier ?",
        method="approval",
        options="Lundi soir\nMercredi midi\nSamedi matin",
        consultative="1",
    )
    await add_step(open_session, "info", "Accueil")
    await add_step(open_session, "vote", "Le jour du prochain atelier", poll_id=str(sounding))
    await move(open_session, "start")

    desk = await browser.new_context(viewport={"width": 1366, "height": 768})
    fac = console.watch(await desk.new_page(), "console")
    await fac.goto(f"{base}/login")
    await fac.fill("#email", "camille@example.org")
    await fac.fill("#password", PASSWORD)
    await fac.click("button.primary")
    await fac.goto(f"{base}/sessions/{open_session.session_id}/console")
    await fac.locator(f"#poll-{sounding} button", has_text="Open the poll").click()
    banner = fac.get_by_role("status").filter(has_text="The agenda moved to step")
    assert "“Le jour du prochain atelier”" in await banner.inner_text()
    await fac.locator("#polls-panel").scroll_into_view_if_needed()
    await shoot(fac, "polls-opened-moves-agenda-console-1366")
    assert await axe_problems(fac) == []
    await fac.click("#new-poll summary")
    consultative = fac.get_by_label("Consultative poll (a sounding)")
    assert not await consultative.is_checked()
    await consultative.scroll_into_view_if_needed()
    await shoot(fac, "polls-form-consultative-1366")
    assert await axe_problems(fac) == []

    pocket = await browser.new_context(
        viewport={"width": 360, "height": 640}, is_mobile=True, has_touch=True
    )
    phone = console.watch(await pocket.new_page(), "phone")
    await phone.goto(f"{base}/s/{open_session.code}")
    await phone.fill("#display_name", "Awa")
    await phone.locator("form button[type=submit]").first.click()
    card = phone.locator(f"#poll-{sounding}")
    await card.get_by_label("Samedi matin").wait_for()
    assert "consultative: decides nothing" in await card.inner_text()
    assert await phone.evaluate("document.documentElement.scrollWidth") <= 360
    await shoot(phone, "polls-consultative-phone-360")
    assert await axe_problems(phone) == []

    for width, height in PROJECTORS:
        wall = await browser.new_context(viewport={"width": width, "height": height})
        screen = console.watch(await wall.new_page(), "projector")
        await screen.goto(f"{base}/s/{open_session.code}/screen")
        assert await screen.locator(f"#poll-{sounding}").is_visible()
        await shoot(screen, f"polls-consultative-projector-{width}")
        await wall.close()
    assert console.errors == []
    await desk.close()
    await pocket.close()


async def test_decisions_in_their_methods_terms_on_the_register_and_the_minutes(
    browser: Any, open_session: OpenSession
) -> None:
    base = open_session.server.base_url
    console = Console()
    phones = [await open_session.phone(name) for name in ("Awa", "Bruno", "Chloé")]
    options = "Un jardin partagé\nUne ressourcerie\nUn café associatif"
    made = {
        "dots": await create(
            open_session,
            question="Nos priorités",
            method="dots",
            options=options,
            points="3",
            cap="3",
        ),
        "judgment": await create(
            open_session, question="Quel projet ?", method="judgment", options=options
        ),
        "irv": await create(open_session, question="Quel lieu ?", method="irv", options=options),
        "consent": await create(open_session, question="Adopter la charte ?", method="consent"),
    }
    for poll_id in made.values():
        await act(open_session, poll_id, "open")
    for n, phone in enumerate(phones):
        ids = {}
        for method, poll_id in made.items():
            async with open_session.server.db.session() as db:
                ids[method] = [str(o.id) for o in await polls.poll_options(db, poll_id)]
        first, second, _third = ids["dots"][n:] + ids["dots"][:n]
        await vote(
            phone, open_session, made["dots"], {f"points-{first}": "2", f"points-{second}": "1"}
        )
        grades = ("excellent", "bien", "passable")
        await vote(
            phone,
            open_session,
            made["judgment"],
            {f"grade-{o}": grades[(i + n) % 3] for i, o in enumerate(ids["judgment"])},
        )
        ranked = ids["irv"][n:] + ids["irv"][:n] if n < 2 else ids["irv"]
        await vote(
            phone,
            open_session,
            made["irv"],
            {f"rank-{o}": str(i + 1) for i, o in enumerate(ranked)},
        )
        choice = (
            {"choice": "objection", "reason": "Le point 3 exclut les bénévoles"}
            if n == 0
            else {"choice": "consent"}
        )
        await vote(phone, open_session, made["consent"], choice)
    for poll_id in made.values():
        await act(open_session, poll_id, "close")

    desk = await browser.new_context(viewport={"width": 1366, "height": 768})
    fac = console.watch(await desk.new_page(), "console")
    await fac.goto(f"{base}/login")
    await fac.fill("#email", "camille@example.org")
    await fac.fill("#password", PASSWORD)
    await fac.click("button.primary")
    await fac.goto(f"{base}/projects/{open_session.project_id}/decisions")
    register = await fac.inner_text("table")
    assert "for · against · abstain" not in register
    assert "Round 1:" in register
    assert "majority grade:" in register
    assert "Le point 3 exclut les bénévoles" in register
    await shoot(fac, "polls-register-methods-1366")
    assert await axe_problems(fac) == []
    await fac.goto(f"{base}/sessions/{open_session.session_id}/minutes")
    await fac.locator("#decisions-title").scroll_into_view_if_needed()
    await shoot(fac, "polls-minutes-methods-1366")

    pocket = await browser.new_context(
        viewport={"width": 360, "height": 640}, is_mobile=True, has_touch=True
    )
    small = console.watch(await pocket.new_page(), "phone")
    await small.context.add_cookies(await desk.cookies())
    await small.goto(f"{base}/projects/{open_session.project_id}/decisions")
    assert await small.evaluate("document.documentElement.scrollWidth") <= 360
    await shoot(small, "polls-register-methods-360")
    assert console.errors == []
    await desk.close()
    await pocket.close()
