"""Presenter mode in real browsers: the facilitator switches what the projector shows
from the console and from the projector's own keyboard; the room's projector follows
live and stays fitted to its screen.

Screenshots are written under tests/artifacts/projector-presenter/ for a person to look at.
"""

from __future__ import annotations

from typing import Any

from tests.browsing import BROWSER_MARKS, LIVE_MS, Console, shoot
from tests.conftest import ONCE, PASSWORD, OpenSession
from tests.test_polls import BALLOTS_BY_METHOD
from tests.test_projector_fit import LONG, assert_fits, closed_polls
from tests.test_projector_presenter import ideas, present, stored

pytestmark = [*BROWSER_MARKS, ONCE]

COMMENTS = [
    "Avec des parents bénévoles le mercredi ?",
    "Il faudrait un minibus accessible aux fauteuils.",
    "La mairie prête déjà un véhicule le samedi.",
]


async def test_the_console_and_the_projectors_keyboard_drive_the_room_projector(
    browser: Any, open_session: OpenSession
) -> None:
    base = open_session.server.base_url
    first, second = await ideas(open_session, "Un jardin partagé", LONG)
    phone = open_session.devices[-1]
    for text in COMMENTS:
        said = await phone.post(
            f"/s/{open_session.code}/proposals/{second}/comments", {"text": text}
        )
        assert said.status_code == 200, said.text
    polls = await closed_polls(open_session, ["judgment"])
    console = Console()

    room_ctx = await browser.new_context(viewport={"width": 1920, "height": 1080})
    room = console.watch(await room_ctx.new_page(), "room projector")
    await room.goto(f"{base}/s/{open_session.code}/screen")
    await room.wait_for_selector("#presenting", state="attached")

    fac_ctx = await browser.new_context(viewport={"width": 1366, "height": 768})
    fac = console.watch(await fac_ctx.new_page(), "console")
    await fac.goto(f"{base}/login")
    await fac.fill("#email", "camille@example.org")
    await fac.fill("#password", PASSWORD)
    await fac.click("button.primary")
    await fac.goto(f"{base}/sessions/{open_session.session_id}/console")
    panel = fac.locator("#presenter")

    # One proposal with its comments, large, and nothing else.
    await panel.locator(f"input[value='proposal:{second}']").check()
    await panel.locator("button.primary").click()
    card = room.locator(f"#proposal-{second}")
    await card.locator(".comments", has_text=COMMENTS[0]).wait_for(timeout=LIVE_MS)
    assert await room.locator(f"#proposal-{first}").is_hidden()
    for text in COMMENTS:
        assert await card.get_by_text(text).is_visible()
    await assert_fits(room, "one proposal")
    await shoot(room, "projector-presenter/proposal-1920x1080")
    await panel.locator(".presenter-now", has_text="Proposal").wait_for(timeout=LIVE_MS)
    await shoot(fac, "projector-presenter/console-1366x768")

    # Next, on the console: the next thing of the step, the other proposal.
    await panel.locator("button", has_text="Next").click()
    await room.locator(f"#proposal-{first}").wait_for(timeout=LIVE_MS)
    assert await card.is_hidden()

    # How to join, alone.
    await panel.locator("input[value='join']").check()
    await panel.locator("button.primary").click()
    await room.locator("#stage").wait_for(state="hidden", timeout=LIVE_MS)
    assert await room.locator(".screen-code").is_visible()
    await assert_fits(room, "join", cards=False)
    await shoot(room, "projector-presenter/join-1920x1080")

    # The poll's result, alone and fitted.
    poll_id = polls["judgment"]
    await panel.locator(f"input[value='result:{poll_id}']").check()
    await panel.locator("button.primary").click()
    await room.locator(f"#poll-{poll_id}.is-presented").wait_for(timeout=LIVE_MS)
    await assert_fits(room, "result")
    await shoot(room, "projector-presenter/judgment-1920x1080")

    # The facilitator's laptop on the projector: → moves on, as Next does.
    own_ctx = await browser.new_context(viewport={"width": 1280, "height": 720})
    own = console.watch(await own_ctx.new_page(), "facilitator's projector")
    await own_ctx.add_cookies(await fac_ctx.cookies())
    await own.goto(f"{base}/s/{open_session.code}/screen")
    await own.wait_for_selector("#presenter-keys", state="attached")
    await own.keyboard.press("ArrowRight")
    await room.locator("#decisions").wait_for(timeout=LIVE_MS)
    await own.locator("body.presenting--decisions").wait_for(timeout=LIVE_MS)
    assert await stored(open_session) == ("decisions", None)
    await assert_fits(room, "decisions", cards=False)
    await shoot(room, "projector-presenter/decisions-1920x1080")
    await own.keyboard.press("ArrowLeft")
    await room.locator(f"#poll-{poll_id}.is-presented").wait_for(timeout=LIVE_MS)
    await assert_fits(own, "result at 1280x720")
    await shoot(own, "projector-presenter/judgment-1280x720")

    # The room's projector, opened by nobody in particular: its arrows do nothing.
    await room.keyboard.press("ArrowRight")
    await room.wait_for_timeout(500)
    assert await stored(open_session) == ("result", poll_id)
    assert not console.errors, console.errors


async def test_every_methods_result_reads_from_the_back_of_the_room(
    browser: Any, open_session: OpenSession
) -> None:
    made = await closed_polls(open_session, sorted(BALLOTS_BY_METHOD))
    console = Console()
    context = await browser.new_context(viewport={"width": 1280, "height": 720})
    room = console.watch(await context.new_page(), "projector")
    explained = {
        "irv": "is eliminated: its ballots go to their next choice",
        "stv": "Votes needed to be elected",
        "schulze": "one-to-one",
        "judgment": "Une navette solidaire — Good",
    }
    for method, poll_id in made.items():
        assert await present(open_session, f"result:{poll_id}") == 200
        await room.goto(f"{open_session.server.base_url}/s/{open_session.code}/screen")
        poll = room.locator(f"#poll-{poll_id}.is-presented")
        await poll.wait_for(timeout=LIVE_MS)
        text = await poll.inner_text()
        if method in explained:
            assert explained[method] in text, (method, text)
        for secret in ("receipt", "SHA", "sha256", "recount", "cocreate "):
            assert secret not in text, (method, secret, text)
        await assert_fits(room, f"{method} result", cards=False)
        await shoot(room, f"projector-presenter/result-{method}-1280x720")
    assert not console.errors, console.errors
