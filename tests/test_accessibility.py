"""Accessibility in a real browser: axe-core and the keyboard, in English and in French.

axe-core (bundled by axe-playwright-python) must report no serious or critical WCAG 2 A/AA
violation on the phone, projector and console pages; every control on them must be reached
by pressing Tab, and no element may reorder the tab sequence with a positive tabindex.
Pages are furnished first (proposals, a vote, a comment, a decision, open and closed polls)
and every <details> is opened, so that cards, ballots and forms are checked too.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import select

from cocreate.models import Poll, Proposal
from tests.browsing import BROWSER_MARKS, LIVE_MS, axe_problems
from tests.conftest import ONCE, PASSWORD, OpenSession

# What a page looks like and how it is reached does not depend on the database: once.
pytestmark = [*BROWSER_MARKS, ONCE]

LANGUAGES = {"en": "en-GB", "fr": "fr-FR"}
AUDIENCES = ("phone", "projector", "console")
MAX_TABS = 400  # far more controls than any of these pages has

# A stable name for an element: its path from the nearest ancestor with an id. Radio
# buttons of one group are a single tab stop (arrows move within it), so they share a name.
KEY_OF = """
function keyOf(el) {
  if (!el || el === document.body || el === document.documentElement) return null;
  const pathOf = (node) => {
    const parts = [];
    for (; node && node !== document.body; node = node.parentElement) {
      if (node.id) { parts.unshift("#" + CSS.escape(node.id)); break; }
      let index = 1;
      for (let s = node.previousElementSibling; s; s = s.previousElementSibling) {
        if (s.tagName === node.tagName) index++;
      }
      parts.unshift(node.tagName.toLowerCase() + ":nth-of-type(" + index + ")");
    }
    return parts.join(" > ");
  };
  if (el.matches("input[type=radio]") && el.name) {
    const scope = el.form || el.closest("fieldset") || document.body;
    return "radio group " + JSON.stringify(el.name) + " in " + pathOf(scope);
  }
  return pathOf(el);
}
"""

ACTIVE_KEY = f"() => {{ {KEY_OF} return keyOf(document.activeElement); }}"

# Every control a keyboard user must reach: shown (not in a closed <details>, not hidden,
# not display:none), enabled, not inert. Plus any element with a positive tabindex.
CONTROLS = f"""() => {{
  {KEY_OF}
  const native = "a[href], button, input:not([type=hidden]), select, textarea, summary";
  const controls = {{}};
  for (const el of document.querySelectorAll(native + ", [tabindex]")) {{
    if (!el.matches(native) && el.tabIndex < 0) continue;  // a script's focus target only
    if (el.matches("summary") && el.parentElement.querySelector(":scope > summary") !== el) {{
      continue;  // only the first <summary> of a <details> is its toggle
    }}
    if (el.matches(":disabled") || el.closest("[inert]")) continue;
    if (!el.checkVisibility({{visibilityProperty: true, checkVisibilityCSS: true}})) continue;
    controls[keyOf(el)] = el.outerHTML.slice(0, 160);
  }}
  const positive = [...document.querySelectorAll("[tabindex]")]
    .filter((el) => parseInt(el.getAttribute("tabindex"), 10) > 0)
    .map((el) => el.outerHTML.slice(0, 160));
  return {{controls, positive}};
}}"""


async def create_poll(open_session: OpenSession, **fields: str) -> int:
    created = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/polls", {"secret": "1", **fields}, htmx=False
    )
    assert created.status_code == 303, created.text
    async with open_session.server.db.session() as db:
        poll_id = (await db.exec(select(sa.func.max(Poll.id)))).one()
    assert poll_id is not None
    return int(poll_id)


async def poll_action(open_session: OpenSession, poll_id: int, action: str) -> None:
    done = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/polls/{poll_id}/{action}", htmx=False
    )
    assert done.status_code == 303, done.text


@pytest.fixture
async def furnished(open_session: OpenSession) -> OpenSession:
    """A session in full swing: what the three pages show at their busiest."""
    ana, ben = await open_session.phone("Ana"), await open_session.phone("Ben")
    texts = ("Une cuisine partagée ouverte le samedi", "Un atelier vélo dans la cour")
    for text in texts:
        sent = await ana.post(f"/s/{open_session.code}/proposals", {"text": text})
        assert sent.status_code == 200, sent.text
    async with open_session.server.db.session() as db:
        ids = [
            (await db.exec(select(Proposal.id).where(Proposal.text == text))).one()
            for text in texts
        ]
    for phone, choice in ((ana, "for"), (ben, "against")):
        voted = await phone.post(
            f"/s/{open_session.code}/proposals/{ids[0]}/vote", {"choice": choice}
        )
        assert voted.status_code == 200, voted.text
    commented = await ben.post(
        f"/s/{open_session.code}/proposals/{ids[0]}/comments", {"text": "Et le dimanche ?"}
    )
    assert commented.status_code == 200, commented.text
    decided = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/proposals/{ids[1]}/decision",
        {"outcome": "adopted", "note": "À lancer en mars"},
    )
    assert decided.status_code == 200, decided.text

    closed = await create_poll(open_session, question="Adopter les statuts ?", method="yes_no")
    await poll_action(open_session, closed, "open")
    for phone, choice in ((ana, "for"), (ben, "against")):
        cast = await phone.post(f"/s/{open_session.code}/polls/{closed}/ballot", {"choice": choice})
        assert cast.status_code == 200, cast.text
    await poll_action(open_session, closed, "close")
    consent = await create_poll(open_session, question="Ouvrir le samedi ?", method="consent")
    await poll_action(open_session, consent, "open")
    approval = await create_poll(
        open_session, question="Quelles couleurs ?", method="approval", options="Rouge\nVert\nBleu"
    )
    await poll_action(open_session, approval, "open")
    await create_poll(open_session, question="Un brouillon", method="yes_no")  # the console's draft
    return open_session


async def open_page(browser: Any, open_session: OpenSession, audience: str, language: str) -> Any:
    base = open_session.server.base_url
    viewport, device = {
        "phone": ({"width": 360, "height": 640}, {"is_mobile": True, "has_touch": True}),
        "projector": ({"width": 1280, "height": 720}, {}),
        "console": ({"width": 1024, "height": 768}, {"has_touch": True}),  # a tablet
    }[audience]
    context = await browser.new_context(viewport=viewport, locale=LANGUAGES[language], **device)
    page = await context.new_page()
    if audience == "phone":
        await page.goto(f"{base}/s/{open_session.code}")
        await page.fill("#display_name", "Chloé")
        await page.click("button.primary")
        await page.wait_for_selector(".connection", timeout=LIVE_MS)
    elif audience == "projector":
        await page.goto(f"{base}/s/{open_session.code}/screen")
    else:
        await page.goto(f"{base}/login")
        await page.fill("#email", "camille@example.org")
        await page.fill("#password", PASSWORD)
        await page.click("button.primary")
        await page.wait_for_url(f"{base}/projects", timeout=LIVE_MS)
        await page.goto(f"{base}/sessions/{open_session.session_id}/console")
    await page.wait_for_load_state("networkidle")
    assert await page.evaluate("document.documentElement.lang") == language
    assert await page.locator(".card").count() >= 1  # the furnished wall is there
    # Open every <details>: the forms and comments inside are checked as well.
    await page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
    return page


async def keyboard_problems(page: Any) -> list[str]:
    """Press Tab until the focus comes back to where it started; what was never focused?"""
    found = await page.evaluate(CONTROLS)
    controls: dict[str, str] = found["controls"]
    assert controls, "nothing to reach: the page did not render its controls"
    reached: list[str] = []
    for _ in range(MAX_TABS):
        await page.keyboard.press("Tab")
        key = await page.evaluate(ACTIVE_KEY)
        if key is None:
            continue  # between the end of the page and its start again
        if reached and key == reached[0]:
            break  # back to the first: the whole cycle is known
        reached.append(key)
    problems = [
        f"never reached with Tab: {key}\n    {html}"
        for key, html in controls.items()
        if key not in reached
    ]
    problems += [f"a positive tabindex reorders the tab sequence: {h}" for h in found["positive"]]
    return problems


async def barriers(
    browser: Any, open_session: OpenSession, audience: str, showing: str = ""
) -> list[str]:
    """What axe and the Tab key find on one audience's page, in each language (on a page
    that shows ``showing``, a CSS selector, when given)."""
    problems = []
    for language in LANGUAGES:
        page = await open_page(browser, open_session, audience, language)
        if showing:
            assert await page.locator(showing).count() == 1, (audience, showing)
        found = await axe_problems(page) + await keyboard_problems(page)
        problems += [f"{audience} page in {language}: {problem}" for problem in found]
        await page.context.close()
    return problems


@pytest.mark.parametrize("audience", AUDIENCES)
async def test_axe_and_the_keyboard_find_no_barrier(
    browser: Any, furnished: OpenSession, audience: str
) -> None:
    problems = await barriers(browser, furnished, audience)
    assert not problems, "\n".join(problems)


@pytest.fixture
async def in_discussion(furnished: OpenSession) -> OpenSession:
    """The same session led by an agenda, on a timed discussion step: phones show the
    step, its countdown, comment forms and agree / disagree / pass buttons."""
    for kind, title in (("needs", "Ce qui manque"), ("discussion", "On en parle")):
        added = await furnished.facilitator.post(
            f"/sessions/{furnished.session_id}/steps",
            {
                "kind": kind,
                "title": title,
                "prompt": "Dix minutes",
                "minutes": "10",
                "auto_close": "1",
            },
        )
        assert added.status_code == 200, added.text
    await furnished.facilitator.post(f"/sessions/{furnished.session_id}/agenda/start")
    ana = furnished.devices[1]
    described = await ana.post(f"/s/{furnished.code}/needs", {"text": "Un lieu pour se retrouver"})
    assert described.status_code == 200, described.text
    await furnished.facilitator.post(f"/sessions/{furnished.session_id}/agenda/next")
    return furnished


@pytest.mark.parametrize("audience", AUDIENCES)
async def test_a_running_agenda_has_no_barrier_either(
    browser: Any, in_discussion: OpenSession, audience: str
) -> None:
    problems = await barriers(browser, in_discussion, audience, showing="#timer")
    assert not problems, "agenda running:\n" + "\n".join(problems)
