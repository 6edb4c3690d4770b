"""Small colleges in a real browser: the poll form on the console, the result on a phone."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from cocreate.models import College
from tests.browsing import BROWSER_MARKS, Console, axe_problems, shoot
from tests.conftest import PASSWORD, OpenSession
from tests.test_polls import act, create, vote
from tests.test_roster import codes, import_csv, member_phone

pytestmark = BROWSER_MARKS


async def test_the_small_colleges_on_the_poll_form_and_the_result_page(
    browser: Any, open_session: OpenSession
) -> None:
    base = open_session.server.base_url
    console = Console()
    await import_csv(
        open_session,
        "nom;numéro;collège\nF1;1;Fondateurs\nP1;2;Partenaires locaux\nP2;3;Partenaires locaux\n"
        "S1;4;Salariés\nS2;5;Salariés\nS3;6;Salariés\n",
    )
    async with open_session.server.db.session() as db:
        ids = {c.name: c.id for c in (await db.exec(select(College))).all()}
    weights = {
        f"weight-{ids['Fondateurs']}": "20",
        f"weight-{ids['Partenaires locaux']}": "20",
        f"weight-{ids['Salariés']}": "60",
    }
    assert (
        await open_session.facilitator.post("/roster/colleges", weights, htmx=False)
    ).status_code == 303

    desk = await browser.new_context(viewport={"width": 1366, "height": 768})
    fac = console.watch(await desk.new_page(), "console")
    await fac.goto(f"{base}/login")
    await fac.fill("#email", "camille@example.org")
    await fac.fill("#password", PASSWORD)
    await fac.click("button.primary")
    await fac.goto(f"{base}/sessions/{open_session.session_id}/console")
    await fac.click("#new-poll summary")
    legend = fac.locator(".small-colleges legend")
    assert await legend.inner_text() == "Small colleges"
    items = await fac.locator(".small-colleges li").all_inner_texts()
    assert items == ["Fondateurs: 1 member", "Partenaires locaux: 2 members"]
    confirm = fac.get_by_label("Open it even so, as a secret poll")
    assert not await confirm.is_checked()
    await fac.locator(".small-colleges").scroll_into_view_if_needed()
    await shoot(fac, "small-colleges-poll-form-1366")
    assert await axe_problems(fac) == []

    member_codes = await codes(open_session)
    phones = {
        n: await member_phone(open_session, member_codes[n]) for n in ("1", "2", "4", "5", "6")
    }
    poll_id = await create(
        open_session,
        question="Fusionner avec la Ruche ?",
        method="yes_no",
        binding="1",
        small_colleges="1",
    )
    await act(open_session, poll_id, "open")
    await vote(phones["1"], open_session, poll_id, {"choice": "against"})
    for n in ("2", "4", "5", "6"):
        await vote(phones[n], open_session, poll_id, {"choice": "for"})
    await act(open_session, poll_id, "close")

    pocket = await browser.new_context(
        viewport={"width": 360, "height": 640}, is_mobile=True, has_touch=True
    )
    phone = console.watch(await pocket.new_page(), "phone")
    await phone.goto(f"{base}/s/{open_session.code}/polls/{poll_id}")
    await phone.locator(".check-count > summary").click()  # one tap away, as every poll's
    text = await phone.inner_text("main")
    assert "No per-college figures" in text
    assert "kept for its facilitator" in text
    assert await phone.locator("table.data").count() == 0
    assert await phone.evaluate("document.documentElement.scrollWidth") <= 360
    await shoot(phone, "small-colleges-result-360")
    assert await axe_problems(phone) == []
    assert console.errors == []
    await desk.close()
    await pocket.close()
