"""The projector is one screen: whatever the step, the size of the screen and the length
of the wall, it fits the window — no scrollbar (nobody in the room can scroll it), nothing
cut off at an edge, no word cut in two — and it shows only what the step is about.

Screenshots are written under tests/artifacts/projector-fit/ for a person to look at.
"""

from __future__ import annotations

from typing import Any

import pytest

from cocreate import polls
from tests.browsing import BROWSER_MARKS, LIVE_MS, Console, shoot
from tests.conftest import ONCE, OpenSession
from tests.test_polls import BALLOTS_BY_METHOD, act, create, vote

pytestmark = [*BROWSER_MARKS, ONCE]

SIZES = [(1920, 1080), (1280, 720), (1024, 768)]
# 200 characters with its number: a label wraps between words, never inside one.
LONG = (
    "Une navette solidaire entre les hameaux et le bourg, conduite par des bénévoles "
    "formés, réservable par téléphone la veille, pour les personnes âgées isolées et les "
    "familles sans voiture du canton."
)
assert len(LONG) == 196, len(LONG)

# What the page measures: its height and width against the window's, and every card,
# poll and decision shown that does not lie wholly inside the window.
MEASURE = """() => {
  const doc = document.documentElement;
  const shown = [...document.querySelectorAll(
    '#stage .card, #stage .poll, #stage .decision, .screen-join > *, #stage .step-head')]
    .filter(e => e.getClientRects().length > 0);
  const outside = shown.filter(e => {
    const r = e.getBoundingClientRect();
    return r.top < -1 || r.left < -1 || r.bottom > innerHeight + 1 || r.right > innerWidth + 1;
  }).map(e => e.className + ': ' + e.textContent.trim().slice(0, 40));
  return {
    height: doc.scrollHeight, width: doc.scrollWidth,
    viewHeight: innerHeight, viewWidth: innerWidth,
    bodyHeight: document.body.scrollHeight,
    shown: shown.length, outside,
    cards: [...document.querySelectorAll('#stage .card')]
      .filter(e => e.getClientRects().length > 0).length,
  };
}"""


async def add_step(open_session: OpenSession, kind: str, title: str) -> None:
    added = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/steps",
        {"kind": kind, "title": title, "prompt": "", "minutes": "10", "auto_close": "1"},
    )
    assert added.status_code == 200, added.text


async def move(open_session: OpenSession, where: str) -> None:
    moved = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/agenda/{where}"
    )
    assert moved.status_code == 200, moved.text


async def wall_of(open_session: OpenSession, count: int) -> None:
    """An agenda of ideas, discussion and vote, and `count` proposals of 200 characters
    sent by phones during the ideas step; the room left on the discussion."""
    for kind, title in (("ideas", "Vos idées"), ("discussion", "On en discute")):
        await add_step(open_session, kind, title)
    await move(open_session, "start")
    phones = [await open_session.phone(name) for name in ("Aïcha", "Bruno")]
    for number in range(count):
        text = f"{number + 1:02d}. {LONG}"
        sent = await phones[number % 2].post(f"/s/{open_session.code}/proposals", {"text": text})
        assert sent.status_code == 200, sent.text
    await move(open_session, "next")


async def assert_fits(page: Any, label: str, *, cards: bool = True) -> dict[str, Any]:
    measured: dict[str, Any] = await page.evaluate(MEASURE)
    assert measured["height"] == measured["viewHeight"], (label, measured)
    assert measured["bodyHeight"] <= measured["viewHeight"], (label, measured)
    assert measured["width"] <= measured["viewWidth"], (label, measured)
    assert not measured["outside"], (label, measured)
    assert measured["cards"] >= 1 or not cards, (label, measured)
    return measured


@pytest.mark.parametrize("count", [2, 40])
async def test_the_projector_fits_the_screen_and_shows_only_the_step(
    browser: Any, open_session: OpenSession, count: int
) -> None:
    await wall_of(open_session, count)
    console = Console()
    for width, height in SIZES:
        context = await browser.new_context(viewport={"width": width, "height": height})
        page = console.watch(await context.new_page(), f"projector {width}x{height}")
        await page.goto(f"{open_session.server.base_url}/s/{open_session.code}/screen")
        await page.locator("#stage .step-title", has_text="On en discute").wait_for()
        label = f"{count} proposals at {width}x{height}"
        # A discussion has no vote: neither "Vote open" nor empty tallies on the screen.
        assert await page.locator("#stage .card-status:visible").count() == 0, label
        assert await page.locator("#stage .tally:visible").count() == 0, label
        assert await page.get_by_text("Vote open").filter(visible=True).count() == 0, label
        measured = await assert_fits(page, label)
        await shoot(page, f"projector-fit/{count}-proposals-{width}x{height}")
        pager = page.locator("#screen-pager")
        if count == 2:
            assert measured["cards"] == 2, (label, measured)
            assert await pager.is_hidden(), label
        else:
            # Forty do not fit: they are paged, the pager says where the room is.
            assert measured["cards"] < count, (label, measured)
            assert "Page 1 of" in await pager.inner_text(), label
        await context.close()
    assert not console.errors, console.errors


async def test_a_long_wall_turns_its_pages_and_a_new_card_still_fits(
    browser: Any, open_session: OpenSession
) -> None:
    await wall_of(open_session, 12)
    await move(open_session, "back")  # the ideas step: phones may still propose
    context = await browser.new_context(viewport={"width": 1280, "height": 720})
    page = await context.new_page()
    await page.goto(f"{open_session.server.base_url}/s/{open_session.code}/screen")
    pager = page.locator("#screen-pager")
    await pager.filter(has_text="Page 1 of").wait_for(timeout=LIVE_MS)
    first = await page.locator("#stage .card:visible").first.inner_text()
    # The page turns by itself: other cards, and the pager says so.
    await pager.filter(has_text="Page 2 of").wait_for(timeout=15_000)
    assert await page.locator("#stage .card:visible").first.inner_text() != first
    await assert_fits(page, "page 2")
    await shoot(page, "projector-fit/ideas-page-2-1280x720")
    # A proposal arriving live does not push the page past the screen.
    phone = open_session.devices[-1]
    sent = await phone.post(f"/s/{open_session.code}/proposals", {"text": "Un jardin partagé"})
    assert sent.status_code == 200, sent.text
    await page.locator("#stage .card", has_text="Un jardin partagé").wait_for(
        state="attached", timeout=LIVE_MS
    )
    await page.wait_for_timeout(300)
    await assert_fits(page, "after a new card")
    await context.close()


async def closed_polls(open_session: OpenSession, methods: list[str]) -> dict[str, int]:
    """One poll per method, two ballots each, closed: the projector shows their results."""
    phones = [await open_session.phone("Une"), await open_session.phone("Deux")]
    made = {}
    for method in methods:
        extra, ballots = BALLOTS_BY_METHOD[method]
        poll_id = await create(
            open_session,
            question=f"Quel lieu choisir pour la fête de quartier ? ({method})",
            method=method,
            options="Une navette solidaire\nLa salle des fêtes du bourg\nLe jardin partagé",
            **extra,
        )
        await act(open_session, poll_id, "open")
        async with open_session.server.db.session() as db:
            ids = dict(
                zip("ABC", [str(o.id) for o in await polls.poll_options(db, poll_id)], strict=False)
            )
        for phone, ballot in zip(phones, ballots, strict=True):
            form: dict[str, str | list[str]] = {}
            for name, value in ballot.items():
                stem, _, letter = name.rpartition("-")
                field = f"{stem}-{ids[letter]}" if stem and letter in ids else name
                form[field] = [ids[v] for v in value] if isinstance(value, list) else value
            await vote(phone, open_session, poll_id, form)
        await act(open_session, poll_id, "close")
        made[method] = poll_id
    return made


async def test_closed_polls_and_a_wall_fit_the_screen(
    browser: Any, open_session: OpenSession
) -> None:
    """The wall that grew to 4,547 px: ideas and four closed polls, on the free wall."""
    phone = await open_session.phone("Aïcha")
    for number in range(5):
        sent = await phone.post(f"/s/{open_session.code}/proposals", {"text": f"{number}. {LONG}"})
        assert sent.status_code == 200, sent.text
    await closed_polls(open_session, ["judgment", "irv", "schulze", "yes_no"])
    console = Console()
    for width, height in SIZES:
        context = await browser.new_context(viewport={"width": width, "height": height})
        page = console.watch(await context.new_page(), f"projector {width}x{height}")
        await page.goto(f"{open_session.server.base_url}/s/{open_session.code}/screen")
        await page.locator("#stage .poll").first.wait_for(state="attached")
        await assert_fits(page, f"polls at {width}x{height}")
        await shoot(page, f"projector-fit/polls-{width}x{height}")
        await context.close()
    assert not console.errors, console.errors
