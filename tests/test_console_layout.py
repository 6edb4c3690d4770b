"""The console with a crowded room: 40 proposals and 20 needs on compact cards, sorted
and filtered as the address says (and kept so as cards arrive live), the room's counters
at the top; and building an agenda step after step, or from a saved script in one click.

The browser tests shoot the console at a laptop's size and a phone's width with that
crowd on it: tests/artifacts/<test>/*.png, for a person to look at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlmodel import col, select

from cocreate.models import Proposal, Step
from tests.browsing import ARTIFACTS, BROWSER_MARKS, LIVE_MS, Console, horizontal_overflow, shoot
from tests.conftest import ONCE, PASSWORD, Browser, OpenSession

CARD_RE = re.compile(r'<article id="proposal-(\d+)" class="card card--(idea|need)[^"]*"([^>]*)>')


@dataclass
class Crowd:
    """A workshop three steps in: 20 needs, 40 proposals, comments and votes on some."""

    phones: list[Browser]
    steps: dict[str, int]
    needs: list[int] = field(default_factory=list)
    ideas: list[int] = field(default_factory=list)
    most_voted: int = 0
    most_discussed: int = 0


async def add_step(open_session: OpenSession, kind: str, title: str) -> Any:
    data = {"kind": kind, "title": title, "prompt": "", "minutes": "", "auto_close": "1"}
    response = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/steps", data
    )
    assert response.status_code == 200, response.text
    return response


async def move(open_session: OpenSession, where: str) -> None:
    response = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/agenda/{where}"
    )
    assert response.status_code == 200, response.text


async def ids_of(open_session: OpenSession, kind: str) -> list[int]:
    async with open_session.server.db.session() as db:
        rows = await db.exec(
            select(Proposal.id)
            .where(Proposal.session_id == open_session.session_id, Proposal.kind == kind)
            .order_by(col(Proposal.id))
        )
        return [pid for pid in rows.all() if pid is not None]


async def crowded(open_session: OpenSession) -> Crowd:
    for kind, title in (
        ("needs", "Vos besoins"),
        ("ideas", "Vos idées"),
        ("discussion", "On en parle"),
        ("vote", "On vote"),
    ):
        await add_step(open_session, kind, title)
    async with open_session.server.db.session() as db:
        steps = {s.kind: s.id for s in (await db.exec(select(Step))).all() if s.id is not None}
    code = open_session.code
    phones = [await open_session.phone(f"Personne {n}") for n in range(10)]
    await move(open_session, "start")
    for n, phone in enumerate(phones):
        for k in range(2):
            said = await phone.post(
                f"/s/{code}/needs", {"text": f"Besoin {2 * n + k} : un lieu pour se retrouver"}
            )
            assert said.is_success, said.text
    await move(open_session, "next")
    for n, phone in enumerate(phones):
        for k in range(4):
            text = f"Idée {4 * n + k} : une cantine solidaire ouverte le soir et le week-end"
            said = await phone.post(f"/s/{code}/proposals", {"text": text})
            assert said.is_success, said.text
    crowd = Crowd(phones, steps, await ids_of(open_session, "need"), [])
    crowd.ideas = await ids_of(open_session, "idea")
    crowd.most_discussed, crowd.most_voted = crowd.ideas[3], crowd.ideas[5]
    await move(open_session, "next")  # discussion
    for phone in phones[:3]:
        said = await phone.post(
            f"/s/{code}/proposals/{crowd.most_discussed}/comments", {"text": "Et le budget ?"}
        )
        assert said.is_success, said.text
    await move(open_session, "next")  # vote
    for phone in phones[:6]:
        voted = await phone.post(f"/s/{code}/proposals/{crowd.most_voted}/vote", {"choice": "for"})
        assert voted.is_success, voted.text
    return crowd


def cards(page: str, kind: str = "idea") -> list[tuple[int, bool]]:
    """The cards of a kind in page order: (id, hidden by the filter)."""
    return [
        (int(pid), " hidden" in attrs)
        for pid, card_kind, attrs in CARD_RE.findall(page)
        if card_kind == kind
    ]


async def console(open_session: OpenSession, query: str = "") -> str:
    response = await open_session.facilitator.get(
        f"/sessions/{open_session.session_id}/console{query}"
    )
    assert response.status_code == 200, response.text
    return response.text


async def test_the_console_orders_its_walls_as_its_address_asks(
    open_session: OpenSession,
) -> None:
    crowd = await crowded(open_session)
    newest = cards(await console(open_session))
    assert [pid for pid, _ in newest] == sorted(crowd.ideas, reverse=True)
    supported = cards(await console(open_session, "?sort=support"))
    assert supported[0][0] == crowd.most_voted
    discussed = cards(await console(open_session, "?sort=discussed"))
    assert discussed[0][0] == crowd.most_discussed
    # Whatever the order, every card is there, once.
    for order in (newest, supported, discussed):
        assert sorted(pid for pid, _ in order) == crowd.ideas
    # The bar says which order is shown.
    page = await console(open_session, "?sort=discussed")
    assert re.search(r'<option value="discussed" selected>', page)


async def test_the_console_filters_hidden_waiting_and_by_step(
    open_session: OpenSession,
) -> None:
    crowd = await crowded(open_session)
    session_id = open_session.session_id
    hidden = crowd.ideas[7]
    assert (
        await open_session.facilitator.post(f"/sessions/{session_id}/proposals/{hidden}/hide")
    ).is_success
    page = await console(open_session, "?filter=hidden")
    shown = [pid for pid, filtered in cards(page) if not filtered]
    assert shown == [hidden]
    assert all(filtered for _, filtered in cards(page, "need"))
    assert "No need matches this filter." in page
    # By step: the needs were written during the needs step, the ideas during the next.
    page = await console(open_session, f"?filter=step-{crowd.steps['needs']}")
    assert not any(filtered for _, filtered in cards(page, "need"))
    assert all(filtered for _, filtered in cards(page))
    page = await console(open_session, f"?filter=step-{crowd.steps['ideas']}")
    assert sorted(pid for pid, filtered in cards(page) if not filtered) == crowd.ideas
    # Waiting for approval: only what pre-moderation holds back.
    await open_session.facilitator.post(f"/sessions/{session_id}/room", {"premoderation": "1"})
    await move(open_session, "end")  # a free wall: proposals are open again
    said = await crowd.phones[0].post(
        f"/s/{open_session.code}/proposals", {"text": "Une idée à valider"}
    )
    assert said.is_success, said.text
    waiting = max(await ids_of(open_session, "idea"))
    page = await console(open_session, "?filter=pending")
    assert [pid for pid, filtered in cards(page) if not filtered] == [waiting]
    assert "No need matches this filter." in page
    assert "1 waiting for approval" in page


async def test_an_unknown_order_or_filter_is_said_and_the_walls_still_shown(
    open_session: OpenSession,
) -> None:
    crowd = await crowded(open_session)
    page = await console(open_session, "?sort=loudest")
    assert "Unknown order: the walls are shown newest first." in page
    assert [pid for pid, _ in cards(page)] == sorted(crowd.ideas, reverse=True)
    page = await console(open_session, "?filter=step-x")
    assert "Unknown filter: every card is shown." in page
    assert not any(filtered for _, filtered in cards(page))


async def test_compact_cards_keep_counts_and_actions_on_their_line_details_on_demand(
    open_session: OpenSession,
) -> None:
    crowd = await crowded(open_session)
    page = await console(open_session)
    start = page.index(f'id="proposal-{crowd.most_voted}"')
    card = page[start : page.index("</article>", start)]
    line = card[card.index('class="card-line"') : card.index('class="card-more"')]
    assert re.search(r"For</span> <strong>6</strong>", line)
    assert "Hide" in line
    assert "Pin" in line
    details = card[card.index('class="card-more"') :]
    assert "Proposed by" in details
    assert 'id="tally-' in details
    assert "Correct, merge, link" in details
    # The counters at the top.
    counters = page[page.index('id="console-counters"') :]
    counters = counters[: counters.index("</p>")]
    for figure in ("40 proposals", "20 needs", "6 votes"):
        assert figure in counters


@pytest.mark.wire
async def test_live_votes_update_a_cards_counts_and_the_counters(
    open_session: OpenSession,
) -> None:
    crowd = await crowded(open_session)
    live = await open_session.facilitator.socket(
        open_session.code, "console", last_seq=await open_session.seq()
    )
    try:
        target = crowd.ideas[0]
        voted = await crowd.phones[7].post(
            f"/s/{open_session.code}/proposals/{target}/vote", {"choice": "for"}
        )
        assert voted.is_success
        frame = await live.until_text('id="console-counters"')
        assert "7 votes" in frame
        counts = re.search(
            rf'<p id="counts-{target}" class="card-counts" data-support="(\d+)"', frame
        )
        assert counts
        assert counts.group(1) == "1"
    finally:
        await live.close()


# --- building the agenda ---------------------------------------------------------------


async def test_the_add_a_step_panel_stays_open_with_the_focus_in_its_first_field(
    open_session: OpenSession,
) -> None:
    first = await add_step(open_session, "needs", "Vos besoins")
    assert re.search(r'<details class="step-add" id="step-add" data-stays-open open>', first.text)
    assert re.search(r'<select id="new-step-kind" name="kind" required autofocus>', first.text)
    second = await add_step(open_session, "ideas", "Vos idées")
    assert re.search(r'<details class="step-add" id="step-add" data-stays-open open>', second.text)
    # Without JavaScript: back on the console, the panel open for the next step.
    plain = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/steps",
        {"kind": "vote", "title": "On vote", "minutes": ""},
        htmx=False,
    )
    assert plain.status_code == 303
    assert plain.headers["location"].endswith("/console?added=step#step-add")
    page = await console(open_session, "?added=step")
    assert re.search(r'<details class="step-add" id="step-add" data-stays-open open>', page)
    # A plain console (another panel redrawn, a reload) keeps the agenda tidy: closed.
    assert not re.search(r'id="step-add" data-stays-open open', await console(open_session))


async def test_a_saved_script_adds_its_steps_in_one_click(open_session: OpenSession) -> None:
    await add_step(open_session, "needs", "Vos besoins")
    await add_step(open_session, "ideas", "Vos idées")
    saved = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/scripts", {"name": "Atelier court"}
    )
    assert saved.status_code == 200
    made = await open_session.facilitator.post(
        f"/projects/{open_session.project_id}/sessions", {"title": "Deuxième atelier"}, htmx=False
    )
    other = int(made.headers["location"].split("/")[2])
    page = (await open_session.facilitator.get(f"/sessions/{other}/console")).text
    button = re.search(
        r'<button type="submit" name="script_id" value="(\d+)">Add “Atelier court”</button>', page
    )
    assert button, "one button per saved script"
    assert "2 steps: Vos besoins · Vos idées" in page
    applied = await open_session.facilitator.post(
        f"/sessions/{other}/scripts/apply", {"script_id": button.group(1)}
    )
    assert applied.status_code == 200
    assert applied.text.count('<li class="agenda-step') == 2
    refused = await open_session.facilitator.post(
        f"/sessions/{other}/scripts/apply", {"script_id": ""}
    )
    assert refused.status_code == 422
    assert "Choose a facilitation script." in refused.text


# --- in a real browser -----------------------------------------------------------------


async def signed_in_page(
    browser: Any, open_session: OpenSession, width: int, height: int, locale: str = "en-GB"
) -> Any:
    context = await browser.new_context(viewport={"width": width, "height": height}, locale=locale)
    page = await context.new_page()
    base = open_session.server.base_url
    await page.goto(f"{base}/login")
    await page.fill("#email", "camille@example.org")
    await page.fill("#password", PASSWORD)
    await page.click("button.primary")
    return page


async def card_order(page: Any) -> list[int]:
    ids = await page.eval_on_selector_all(
        "#wall > .card:not([hidden])", "cards => cards.map(c => Number(c.dataset.id))"
    )
    return [int(i) for i in ids]


def in_a_browser(test: Any) -> Any:
    """A real-browser test (Chromium), run on one database only: a page's look does not
    depend on it."""
    for mark in (*BROWSER_MARKS, ONCE):
        test = mark(test)
    return test


@in_a_browser
async def test_a_crowded_console_at_a_laptops_size_and_a_phones_width(
    browser: Any, open_session: OpenSession, request: pytest.FixtureRequest
) -> None:
    crowd = await crowded(open_session)
    watcher = Console()
    name = request.node.name
    base = open_session.server.base_url
    path = f"{base}/sessions/{open_session.session_id}/console"

    page = watcher.watch(await signed_in_page(browser, open_session, 1366, 768), "console")
    await page.goto(path)
    await page.locator("#console-counters", has_text="40 proposals").wait_for(timeout=LIVE_MS)
    await shoot(page, f"{name}/1366-newest")
    # Compact: a proposal is one line, and 40 of them fit where they did not.
    height = await page.locator(f"#proposal-{crowd.ideas[0]}").evaluate("e => e.offsetHeight")
    assert height <= 50, height
    wall = await page.locator("#wall").evaluate("e => e.offsetHeight")
    assert wall <= 40 * 50, wall
    # Its text is read whole, not cut after a few words, at this size.
    assert await page.locator(f"#proposal-{crowd.ideas[0]}-text").evaluate(
        "e => e.scrollWidth <= e.clientWidth"
    )

    # Most supported, chosen in the bar: applied at once, kept in the address.
    await page.select_option("#wall-sort", "support")
    assert (await card_order(page))[0] == crowd.most_voted
    assert "sort=support" in page.url
    # A vote arriving live moves its card up in that order.
    riser = crowd.ideas[0]
    for phone in crowd.phones[:7]:
        if phone is crowd.phones[0]:
            continue
        voted = await phone.post(
            f"/s/{open_session.code}/proposals/{riser}/vote", {"choice": "for"}
        )
        assert voted.is_success
    voted = await crowd.phones[8].post(
        f"/s/{open_session.code}/proposals/{riser}/vote", {"choice": "for"}
    )
    assert voted.is_success
    for _ in range(LIVE_MS // 100):
        if (await card_order(page))[0] == riser:
            break
        await page.wait_for_timeout(100)
    assert (await card_order(page))[0] == riser
    await shoot(page, f"{name}/1366-supported-live")

    # A filter by step, and the details of a card on demand.
    await page.select_option("#wall-filter", f"step-{crowd.steps['needs']}")
    assert await card_order(page) == []
    assert await page.locator("#needs > .card:not([hidden])").count() == 20
    await page.select_option("#wall-filter", "all")
    await page.select_option("#wall-sort", "newest")
    await page.locator(f"#card-more-{crowd.most_voted} > summary").click()
    await shoot(page, f"{name}/1366-details")
    # The cards' quick actions are reachable from the keyboard with a name of their own.
    hide = page.get_by_role("button", name=f"Hide #{crowd.most_voted}", exact=True)
    assert await hide.count() == 1

    phone = watcher.watch(await signed_in_page(browser, open_session, 360, 640), "narrow")
    await phone.goto(path + "?sort=discussed")
    assert (await card_order(phone))[0] == crowd.most_discussed
    await shoot(phone, f"{name}/360-discussed")
    assert await phone.evaluate("document.documentElement.scrollWidth") <= 360
    assert watcher.errors == []


@in_a_browser
async def test_adding_steps_one_after_another_in_a_browser(
    browser: Any, open_session: OpenSession, request: pytest.FixtureRequest
) -> None:
    watcher = Console()
    page = watcher.watch(await signed_in_page(browser, open_session, 1366, 768), "console")
    await page.goto(f"{open_session.server.base_url}/sessions/{open_session.session_id}/console")
    for kind, title in (("needs", "Vos besoins"), ("ideas", "Vos idées"), ("vote", "On vote")):
        await page.select_option("#new-step-kind", kind)
        await page.fill("#new-step-title", title)
        await page.click("#step-add button.primary")
        await page.locator(".agenda-step", has_text=title).wait_for(timeout=LIVE_MS)
        # The console's own live frame redraws the agenda too: the panel stays open, the
        # focus back in its first field, ready for the next step.
        await page.wait_for_timeout(600)
        assert await page.locator("#step-add").evaluate("d => d.open")
        assert await page.evaluate("document.activeElement.id") == "new-step-kind"
        assert await page.input_value("#new-step-title") == ""
    await shoot(page, f"{request.node.name}/agenda-1366")
    assert await page.locator(".agenda-step").count() == 3
    assert watcher.errors == []


# The console's panels and walls with their heights, for the printed height budget.
PANEL_HEIGHTS = """() => Array.from(
  document.querySelectorAll("main > *, #walls > *, .console-columns > *")
).filter(e => e.offsetHeight).map(e => `${e.id || e.className} ${e.offsetHeight}`).join(", ")"""


async def top_of(page: Any, selector: str) -> tuple[float, float]:
    """(x, y) of an element's top left corner in the page."""
    box = await page.locator(selector).bounding_box()
    assert box, selector
    return box["x"], box["y"] + await page.evaluate("window.scrollY")


@in_a_browser
async def test_the_console_uses_a_wide_screens_width_and_stays_compact_on_a_phone(
    browser: Any, open_session: OpenSession, request: pytest.FixtureRequest
) -> None:
    crowd = await crowded(open_session)
    watcher = Console()
    name = request.node.name
    path = f"{open_session.server.base_url}/sessions/{open_session.session_id}/console"
    heights: dict[str, int] = {}
    sizes = (
        (360, 640, "en-GB"),
        (360, 640, "fr-FR"),
        (1366, 768, "en-GB"),
        (1920, 1080, "en-GB"),
    )
    for width, height, locale in sizes:
        page = watcher.watch(
            await signed_in_page(browser, open_session, width, height, locale),
            f"console-{width}-{locale}",
        )
        await page.goto(path)
        await page.locator(".connection").wait_for(timeout=LIVE_MS)
        await shoot(page, f"{name}/{width}-{locale}")
        heights[f"{width}-{locale}"] = await page.evaluate("document.documentElement.scrollHeight")
        parts = await page.evaluate(PANEL_HEIGHTS)
        print(f"console at {width} px wide ({locale}), panel by panel: {parts}")
        assert await horizontal_overflow(page) == []
        agenda, room, presenter = [
            await top_of(page, selector) for selector in ("#agenda", "#room", "#presenter")
        ]
        if width >= 1366:
            # The room and the projector's panel beside the agenda, not under it beside
            # an empty column; on a wide screen the three side by side.
            agenda_bottom = agenda[1] + await page.locator("#agenda").evaluate(
                "e => e.offsetHeight"
            )
            assert room[0] > agenda[0], (agenda, room)
            assert presenter[0] > agenda[0], (agenda, presenter)
            assert abs(room[1] - agenda[1]) < 2
            assert presenter[1] < agenda_bottom
            if width >= 1920:
                assert abs(presenter[1] - agenda[1]) < 2
                assert presenter[0] > room[0]
            # Closing the session asks first, beside the join code: its question read
            # whole, within the page.
            await page.locator("#close-session summary").click()
            await page.locator("#close-session").screenshot(
                path=str(ARTIFACTS / f"{name}/{width}-{locale}-close.png")
            )
            assert await horizontal_overflow(page) == []
        else:
            # One column: each panel under the one before, at the page's left.
            assert agenda[0] == room[0] == presenter[0]
            assert agenda[1] < room[1] < presenter[1]
            # A compact card on a phone: its number, text, counts and actions in a few
            # short lines, its actions within reach.
            card = page.locator(f"#proposal-{crowd.most_voted}")
            assert await card.evaluate("e => e.offsetHeight") <= 110
            hide = card.locator(f"form[action$='/proposals/{crowd.most_voted}/hide'] button")
            box = await hide.bounding_box()
            assert box
            assert box["x"] + box["width"] <= width
            assert box["height"] >= 24
            # Its details open under it, the whole text read.
            await card.locator(".card-more > summary").click()
            assert await card.locator(".card-text").evaluate(
                "e => e.scrollWidth <= e.clientWidth && e.scrollHeight <= e.clientHeight"
            )
            assert await horizontal_overflow(page) == []
            await card.scroll_into_view_if_needed()
            await page.screenshot(path=str(ARTIFACTS / f"{name}/{width}-{locale}-details.png"))
        await page.context.close()
    # The height of the whole console with 40 proposals and 20 needs, for a person to
    # follow (about 14,600 px at 360 px wide before its cards were made compact there).
    print(f"console height: {heights}")
    assert heights["360-en-GB"] < 7300, heights
    assert heights["360-fr-FR"] < 7300, heights
    assert watcher.errors == []
