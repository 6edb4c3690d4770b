"""The decisions register and a decision's page read on a phone and on a laptop: on a
phone each decision is a block of its own, its cells one under the other and named by
their column, with nothing past the screen's edge; on a laptop the register stays a
table, each decision one row.

The screenshots are kept under tests/artifacts/<test>/ for a person to look at.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from cocreate import polls
from tests.browsing import BROWSER_MARKS, Console, horizontal_overflow, shoot
from tests.conftest import ONCE, PASSWORD, OpenSession
from tests.test_polls import BALLOTS_BY_METHOD, act, create, vote

pytestmark = [*BROWSER_MARKS, ONCE]

# Options as people write them: long names, and a word longer than a phone is wide.
OPTIONS = (
    "Une navette solidaire entre les quartiers nord et le centre-ville, le samedi matin",
    "Un jardin partagé derrière la médiathèque",
    "Intercommunalité-mutualisation-des-équipements-sportifs-et-culturels",
)


async def decide_by_poll(open_session: OpenSession, method: str, phones: list[Any]) -> None:
    """A poll of ``method`` on OPTIONS, voted by two phones and closed: a decision."""
    extra, ballots = BALLOTS_BY_METHOD[method]
    poll_id = await create(
        open_session,
        question=f"Quel projet pour le quartier ? ({method})",
        method=method,
        options="\n".join(OPTIONS),
        **extra,
    )
    await act(open_session, poll_id, "open")
    async with open_session.server.db.session() as db:
        ids = dict(
            zip("ABC", [str(o.id) for o in await polls.poll_options(db, poll_id)], strict=False)
        )

    def fill(value: str | list[str]) -> str | list[str]:
        return [ids.get(v, v) for v in value] if isinstance(value, list) else ids.get(value, value)

    def field_name(name: str) -> str:
        stem, _, letter = name.rpartition("-")
        return f"{stem}-{ids[letter]}" if stem and letter in ids else name

    for phone, ballot in zip(phones, ballots, strict=True):
        await vote(
            phone, open_session, poll_id, {field_name(k): fill(v) for k, v in ballot.items()}
        )
    await act(open_session, poll_id, "close")


async def a_register(open_session: OpenSession) -> list[int]:
    """A register of decisions by several methods, one with its follow-up; their ids."""
    phones = [await open_session.phone("Émilie"), await open_session.phone("Jean-Luc")]
    for method in ("yes_no", "consent", "irv", "schulze", "judgment"):
        await decide_by_poll(open_session, method, phones)
    register = await open_session.facilitator.get(f"/projects/{open_session.project_id}/decisions")
    ids = [int(i) for i in re.findall(r'<tr id="decision-(\d+)"', register.text)]
    assert len(ids) == 5
    followed = await open_session.facilitator.post(
        f"/projects/{open_session.project_id}/decisions/{ids[0]}/follow-up",
        {
            "owner": "Le comité des habitantes et habitants du quartier nord",
            "due_on": "2027-03-01",
            "review_on": "",
            "status": "in_progress",
            "progress": "40",
            "note": "Premier devis reçu",
        },
        htmx=False,
    )
    assert followed.status_code in (200, 303), followed.text
    return ids


async def page_at(browser: Any, open_session: OpenSession, width: int, locale: str) -> Any:
    context = await browser.new_context(
        viewport={"width": width, "height": 640 if width < 600 else 768}, locale=locale
    )
    page = await context.new_page()
    await page.goto(f"{open_session.server.base_url}/login")
    await page.fill("#email", "camille@example.org")
    await page.fill("#password", PASSWORD)
    await page.click("button.primary")
    return page


# Text cut inside its own box: an element that clips what overflows it (not the text
# kept one pixel wide for screen readers).
CLIPPED = """() => Array.from(document.querySelectorAll("main *")).filter(e => {
  const style = getComputedStyle(e);
  if (style.overflowX === "visible" || e.closest(".visually-hidden")) return false;
  if (e.clientWidth <= 1) return false;  // text for screen readers only
  if (["PROGRESS", "INPUT", "TEXTAREA", "SELECT"].includes(e.tagName)) return false;
  return e.scrollWidth > e.clientWidth + 1;
}).map(e => e.id || e.className || e.tagName)"""


async def test_the_register_reads_on_a_phone_and_stays_a_table_on_a_laptop(
    browser: Any, open_session: OpenSession, request: pytest.FixtureRequest
) -> None:
    ids = await a_register(open_session)
    watcher = Console()
    name = request.node.name
    register = f"{open_session.server.base_url}/projects/{open_session.project_id}/decisions"
    for width, locale in ((360, "fr-FR"), (360, "en-GB"), (1366, "fr-FR")):
        page = watcher.watch(await page_at(browser, open_session, width, locale), f"{width}")
        await page.goto(register)
        await shoot(page, f"{name}/register-{width}-{locale}")
        print(
            f"register at {width} px ({locale}):",
            await page.evaluate("document.documentElement.scrollHeight"),
            "px tall",
        )
        # Nothing past the screen's edge, not even inside the table's own scroller.
        assert await page.evaluate("document.documentElement.scrollWidth") <= width
        # (On a phone the table's headings are kept for screen readers only.)
        assert await horizontal_overflow(page, skip="thead" if width < 600 else "") == []
        assert await page.evaluate(CLIPPED) == []
        row = page.locator(f"#decision-{ids[0]}")
        cells = [await cell.bounding_box() for cell in await row.locator("td").all()]
        assert all(cells)
        tops = [box["y"] for box in cells if box]
        if width < 600:
            # Stacked: each cell under the one before, as wide as the decision's block,
            # and named by its column.
            assert tops == sorted(tops)
            assert len(set(tops)) == len(tops)
            outcome = row.locator("td").nth(2)
            label = await outcome.evaluate("e => getComputedStyle(e, '::before').content")
            assert label.strip('"') in ("Outcome", "Issue")  # French: the outcome is the "issue"
        else:
            # A table: the decision's cells side by side on its row.
            assert max(tops) - min(tops) < 2
        await page.context.close()

    page = watcher.watch(await page_at(browser, open_session, 360, "fr-FR"), "decision")
    for decision_id in (ids[0], ids[-1]):
        await page.goto(f"{register}/{decision_id}")
        await shoot(page, f"{name}/decision-{decision_id}-360")
        assert await page.evaluate("document.documentElement.scrollWidth") <= 360
        assert await horizontal_overflow(page, skip="") == []
        assert await page.evaluate(CLIPPED) == []
    assert watcher.errors == []
