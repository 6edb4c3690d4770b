"""Two consoles on one session: a co-facilitator's (or a second tab of the same
facilitator) works every form that reaches it live.

Live fragments are drawn once for every console, without anyone's CSRF token; the
page puts its own in as a form leaves. Console B here loads its page before anything
exists, so every form it uses came to it over the websocket.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from cocreate import participants, proposals
from cocreate.database import Database
from cocreate.models import Decision, Participant, Poll, Proposal, Session, Step
from cocreate.settings import Settings
from tests.browsing import BROWSER_MARKS, LIVE_MS, Console, count_requests, settled, shoot
from tests.conftest import (
    PASSWORD,
    Browser,
    OpenSession,
    Server,
    open_session_for,
    signed_in,
    start_server,
)

pytestmark = BROWSER_MARKS


async def console_page(browser: Any, open_session: OpenSession, watch: Console, who: str) -> Any:
    context = await count_requests(
        await browser.new_context(viewport={"width": 1366, "height": 768})
    )
    page = watch.watch(await context.new_page(), who)
    base = open_session.server.base_url
    await page.goto(f"{base}/login")
    await page.fill("#email", "camille@example.org")
    await page.fill("#password", PASSWORD)
    await page.click("button.primary")
    await page.goto(f"{base}/sessions/{open_session.session_id}/console")
    await page.locator(".connection", has_text="Live").wait_for(timeout=LIVE_MS)
    return page


async def proposal_ids(open_session: OpenSession) -> dict[str, int]:
    async with open_session.server.db.session() as db:
        rows = await db.exec(select(Proposal).where(Proposal.session_id == open_session.session_id))
        return {p.text: p.id for p in rows.all() if p.id is not None}


async def fresh(open_session: OpenSession, model: Any, ident: int) -> Any:
    async with open_session.server.db.session() as db:
        return await db.get(model, ident)


async def create_poll(open_session: OpenSession, question: str, method: str) -> int:
    a = open_session.facilitator
    made = await a.post(
        f"/sessions/{open_session.session_id}/polls",
        {"question": question, "method": method, "secret": "1"},
        htmx=False,
    )
    assert made.status_code == 303, made.text
    async with open_session.server.db.session() as db:
        poll = (await db.exec(select(Poll).order_by(sa.desc(Poll.id)))).first()
        assert poll is not None
        assert poll.id is not None
        return poll.id


async def open_details(card: Any) -> None:
    """Open a compact card's details, unless they are open already (the console keeps a
    disclosure open across the redraws of its card)."""
    details = card.locator(".card-more").first
    if not await details.evaluate("d => d.open"):
        await details.locator("> summary").click()


async def create_poll_on(page: Any, open_session: OpenSession, question: str, method: str) -> int:
    """Console A prepares a poll with its own form."""
    await page.locator("summary", has_text="Prepare a poll").click()
    await page.fill("#poll-question", question)
    await page.select_option("#poll-method", method)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Create the poll").click()
    async with open_session.server.db.session() as db:
        poll = (await db.exec(select(Poll).where(Poll.question == question))).one()
        assert poll.id is not None
        return poll.id


async def test_a_second_console_works_every_form_that_reached_it_live(
    browser: Any, open_session: OpenSession
) -> None:
    watch = Console()
    code, sid = open_session.code, open_session.session_id
    b = await console_page(browser, open_session, watch, "console B")  # before anything
    a_page = await console_page(browser, open_session, watch, "console A")
    a = open_session.facilitator  # console A's device, for what it sends without a page

    pia = await open_session.phone("Pia")
    await open_session.phone("Quentin")
    for text in ("Un jardin partagé", "Une cantine", "Une cantine solidaire", "Un repair café"):
        sent = await pia.post(f"/s/{code}/proposals", {"text": text})
        assert sent.status_code == 200, sent.text
    ids = await proposal_ids(open_session)
    garden, canteen = ids["Un jardin partagé"], ids["Une cantine"]
    duplicate, repair = ids["Une cantine solidaire"], ids["Un repair café"]
    for step in ("Idées", "Débat", "Pause café"):
        added = await a.post(
            f"/sessions/{sid}/steps",
            {"kind": "ideas", "title": step, "prompt": "", "minutes": "5", "auto_close": "1"},
        )
        assert added.status_code == 200, added.text
    yes_no = await create_poll_on(a_page, open_session, "Ouvrir le samedi ?", "yes_no")
    consent = await create_poll_on(a_page, open_session, "Acheter un four", "consent")

    for ident in (garden, canteen, duplicate, repair):
        await b.locator(f"#proposal-{ident}").wait_for(timeout=LIVE_MS)
    await b.locator(f"#poll-{consent}").wait_for(timeout=LIVE_MS)
    await b.locator("#agenda", has_text="Débat").wait_for(timeout=LIVE_MS)
    await shoot(b, "two-consoles/b-live-1366")

    # Proposals (htmx forms, which the page's header token already carried).
    card = b.locator(f"#proposal-{garden}")
    await card.get_by_role("button", name=re.compile(r"^Pin\b")).click()
    await card.get_by_role("button", name="Unpin").wait_for(timeout=LIVE_MS)
    assert (await fresh(open_session, Proposal, garden)).pinned_at is not None
    await card.get_by_role("button", name="Hide").click()
    await card.get_by_role("button", name="Show again").wait_for(timeout=LIVE_MS)
    assert (await fresh(open_session, Proposal, garden)).hidden_at is not None
    await card.get_by_role("button", name="Show again").click()
    await card.get_by_role("button", name="Hide").wait_for(timeout=LIVE_MS)
    assert (await fresh(open_session, Proposal, garden)).hidden_at is None
    await card.get_by_role("button", name="Unpin").click()
    await card.get_by_role("button", name=re.compile(r"^Pin\b")).wait_for(timeout=LIVE_MS)
    assert (await fresh(open_session, Proposal, garden)).pinned_at is None
    await settled(b, open_session)
    await open_details(card)  # the compact card's details
    await card.get_by_role("button", name="Close the vote").click()
    await card.get_by_role("button", name="Close the vote").wait_for(
        state="detached", timeout=LIVE_MS
    )
    assert (await fresh(open_session, Proposal, garden)).vote_closed_at is not None

    card = b.locator(f"#proposal-{repair}")
    await settled(b, open_session)
    await open_details(card)
    await card.locator("summary", has_text="Record the decision").click()
    await card.get_by_label("Adopted").check()
    await card.get_by_role("button", name="Record the decision").click()
    # Drawn in the card, whose details stay open across its redraws.
    await b.locator(f"#proposal-{repair} .decision-recorded").wait_for(timeout=LIVE_MS)
    async with open_session.server.db.session() as db:
        decided = await db.exec(select(Decision).where(Decision.proposal_id == repair))
        assert decided.one().outcome == "adopted"

    card = b.locator(f"#proposal-{duplicate}")
    await settled(b, open_session)
    await open_details(card)
    await card.locator("summary", has_text="Correct, merge, link").click()
    await card.locator(f"#merge-{duplicate}").fill(str(canteen))
    await settled(b, open_session)
    await card.locator("summary", has_text="Merge into it").click()
    await card.get_by_role("button", name="Merge for good").click()
    await b.locator(f"#proposal-{duplicate}").wait_for(state="detached", timeout=LIVE_MS)
    assert (await fresh(open_session, Proposal, duplicate)).merged_into_id == canteen
    card = b.locator(f"#proposal-{canteen}")
    await settled(b, open_session)
    await open_details(card)
    await card.locator("summary", has_text="Correct, merge, link").click()
    await card.locator(f"#edit-{canteen}").fill("Une cantine solidaire et ouverte")
    await card.get_by_role("button", name="Save the correction").click()
    await card.get_by_text("Une cantine solidaire et ouverte").first.wait_for(timeout=LIVE_MS)
    assert (await fresh(open_session, Proposal, canteen)).text == "Une cantine solidaire et ouverte"

    # The agenda (redrawn live when console A added its steps).
    agenda = b.locator("#agenda")
    await agenda.get_by_role("button", name="Move “Pause café” up").click()
    await (
        agenda.locator("li", has_text="Pause café")
        .get_by_role("button", name="Move “Pause café” down")
        .wait_for(timeout=LIVE_MS)
    )
    await agenda.get_by_role("button", name="Remove “Pause café”").click()
    await agenda.locator("li", has_text="Pause café").wait_for(state="detached", timeout=LIVE_MS)
    debate = agenda.locator("li", has_text="Débat")
    await settled(b, open_session)
    await debate.locator("summary", has_text="Edit").click()
    await debate.get_by_label("Title (what the room sees)").fill("Débat ouvert")
    await debate.get_by_role("button", name="Save the step").click()
    await agenda.locator("li", has_text="Débat ouvert").wait_for(timeout=LIVE_MS)
    async with open_session.server.db.session() as db:
        titles = (
            await db.exec(
                select(Step.title).where(Step.session_id == sid).order_by(col(Step.position))
            )
        ).all()
        assert list(titles) == ["Idées", "Débat ouvert"]
    await agenda.get_by_role("button", name="Start the agenda").click()
    await agenda.get_by_text("Step 1 of 2").wait_for(timeout=LIVE_MS)
    await agenda.get_by_role("button", name="Pause").click()
    await agenda.get_by_role("button", name="Resume").wait_for(timeout=LIVE_MS)
    await agenda.get_by_role("button", name="Next step").click()
    await agenda.get_by_text("Step 2 of 2").wait_for(timeout=LIVE_MS)
    session = await fresh(open_session, Session, sid)
    assert session.current_step_id is not None
    await agenda.get_by_role("button", name="+1 minute").click()
    await agenda.get_by_role("button", name="Leave the agenda (free wall)").click()
    await agenda.get_by_role("button", name="Start the agenda").wait_for(timeout=LIVE_MS)
    assert (await fresh(open_session, Session, sid)).current_step_id is None

    # The room: lock it, then remove a participant (the list is read when opened).
    room = b.locator("#room")
    await room.get_by_role("button", name="Lock the room (no new joins)").click()
    await room.get_by_role("button", name="Unlock the room").wait_for(timeout=LIVE_MS)
    assert (await fresh(open_session, Session, sid)).locked_at is not None
    await room.get_by_role("button", name="Pre-moderate contributions").click()
    await room.get_by_role("button", name="Stop pre-moderation").wait_for(timeout=LIVE_MS)
    sent = await pia.post(f"/s/{code}/proposals", {"text": "Une idée à valider"})
    assert sent.status_code == 200, sent.text
    pending = (await proposal_ids(open_session))["Une idée à valider"]
    card = b.locator(f"#proposal-{pending}")
    await card.get_by_role("button", name="Approve").click(timeout=LIVE_MS)  # arrived live
    await card.get_by_role("button", name="Approve").wait_for(state="detached", timeout=LIVE_MS)
    assert (await fresh(open_session, Proposal, pending)).pending is False
    await settled(b, open_session)
    await room.locator("summary", has_text="Participants").click()
    await room.locator("summary", has_text="Remove…").first.wait_for(timeout=LIVE_MS)
    await room.locator("li", has_text="Quentin").locator("summary").click()
    await room.get_by_role("button", name="Remove Quentin").click()
    await (
        b.locator("#room li", has_text="Quentin")
        .locator(".badge--hidden")
        .wait_for(state="attached", timeout=LIVE_MS)
    )
    async with open_session.server.db.session() as db:
        removed = await db.exec(select(Participant).where(col(Participant.removed_at).is_not(None)))
        assert [p.display_name for p in removed.all()] == ["Quentin"]

    # Polls: forms whose answer loads the console again (a refusal stays beside them).
    # Each one B uses arrived live, so console A moves the next poll along after each of
    # B's reloads.
    async with b.expect_navigation():
        await b.locator(f"#poll-{consent}").get_by_role("button", name="Open the poll").click()
    assert (await fresh(open_session, Poll, consent)).opened_at is not None
    await b.locator(".connection", has_text="Live").wait_for(timeout=LIVE_MS)

    async with a_page.expect_navigation():
        await a_page.locator(f"#poll-{yes_no}").get_by_role("button", name="Open the poll").click()
    poll = b.locator(f"#poll-{yes_no}")
    await poll.locator("summary", has_text="Close the poll and count").wait_for(timeout=LIVE_MS)
    await settled(b, open_session)
    await poll.locator("summary", has_text="Close the poll and count").click()
    async with b.expect_navigation():
        await poll.get_by_role("button", name="Close and count now").click()
    assert (await fresh(open_session, Poll, yes_no)).closed_at is not None
    await b.locator(".connection", has_text="Live").wait_for(timeout=LIVE_MS)

    objected = await pia.http.post(
        f"/s/{code}/polls/{consent}/ballot",
        data={"choice": "objection", "reason": "Trop cher", "csrf_token": pia.csrf},
        headers={"HX-Request": "true"},
    )
    assert objected.status_code == 200, objected.text
    await a_page.locator(f"#poll-{consent}").locator("summary", has_text="Close the poll").click()
    async with a_page.expect_navigation():
        await a_page.get_by_role("button", name="Close and count now").click()
    poll = b.locator(f"#poll-{consent}")
    await poll.locator("summary", has_text="Amend the proposal").wait_for(timeout=LIVE_MS)
    await settled(b, open_session)
    await poll.locator("summary", has_text="Amend the proposal").click()
    await poll.locator("textarea").fill("Acheter un four d'occasion")
    await poll.get_by_role("button", name="Open the new round").click()
    await b.locator(".poll-question", has_text="four d'occasion").wait_for(timeout=LIVE_MS)
    async with open_session.server.db.session() as db:
        second = (await db.exec(select(Poll).where(Poll.previous_id == consent))).one()
        assert second.question == "Acheter un four d'occasion"
        assert second.opened_at is not None

    await shoot(b, "two-consoles/b-after-1366")
    # Console A followed what B did, live.
    await a_page.locator(".poll-question", has_text="four d'occasion").wait_for(timeout=LIVE_MS)
    assert await a_page.locator(f"#proposal-{duplicate}").count() == 0
    await a_page.locator(f"#proposal-{canteen}", has_text="solidaire et ouverte").wait_for()
    await shoot(a_page, "two-consoles/a-after-1366")
    assert "Forbidden" not in await b.content()
    assert [e for e in watch.errors if "favicon" not in e] == []


async def test_what_a_facilitator_opened_or_typed_survives_the_redraws_of_its_card(
    browser: Any, open_session: OpenSession
) -> None:
    """A card is redrawn whole by the other console's actions (a frame) and by this
    console's own answers (a merge answers with both walls): what was open stays open,
    what was being typed stays typed, and the form that was sent is closed by its answer."""
    watch = Console()
    code, sid = open_session.code, open_session.session_id
    pia = await open_session.phone("Pia")
    for text in ("Une cantine", "Une cantine solidaire", "Un repair café"):
        sent = await pia.post(f"/s/{code}/proposals", {"text": text})
        assert sent.status_code == 200, sent.text
    ids = await proposal_ids(open_session)
    canteen, duplicate, repair = (
        ids["Une cantine"],
        ids["Une cantine solidaire"],
        ids["Un repair café"],
    )
    b = await console_page(browser, open_session, watch, "console B")
    a = open_session.facilitator

    kept = b.locator(f"#proposal-{repair}")
    await open_details(kept)
    await kept.locator("summary", has_text="Correct, merge, link").click()
    await kept.locator(f"#need-link-{repair}").fill("12")
    await kept.locator("summary", has_text="Record the decision").click()
    await kept.locator(f"#note-{repair}").fill("À revoir en mars")
    # Console A pins it: a frame redraws the whole card on B.
    pinned = await a.post(f"/sessions/{sid}/proposals/{repair}/pin")
    assert pinned.status_code == 200, pinned.text
    await kept.get_by_role("button", name="Unpin").wait_for(timeout=LIVE_MS)
    await settled(b, open_session)
    assert await kept.locator(".card-more").evaluate("d => d.open")
    assert await kept.locator("details.edit").evaluate("d => d.open")
    assert await kept.locator("details.decide").evaluate("d => d.open")
    assert await kept.locator(f"#need-link-{repair}").input_value() == "12"
    assert await kept.locator(f"#note-{repair}").input_value() == "À revoir en mars"

    # B merges the duplicate: its answer redraws both walls; the frame of the merge may
    # come before it or after. The other cards stay as they were; the merged one is gone.
    target = b.locator(f"#proposal-{canteen}")
    await open_details(target)
    card = b.locator(f"#proposal-{duplicate}")
    await open_details(card)
    await card.locator("summary", has_text="Correct, merge, link").click()
    await card.locator(f"#merge-{duplicate}").fill(str(canteen))
    await card.locator("summary", has_text="Merge into it").click()
    await card.get_by_role("button", name="Merge for good").click()
    await card.wait_for(state="detached", timeout=LIVE_MS)
    await settled(b, open_session)
    assert await target.locator(".card-more").evaluate("d => d.open")
    assert not await target.locator("details.edit").evaluate("d => d.open")
    assert await kept.locator("details.decide").evaluate("d => d.open")
    assert await kept.locator(f"#note-{repair}").input_value() == "À revoir en mars"

    # B saves a correction: its own form's disclosure closes, the card's details stay.
    await kept.locator(f"#edit-{repair}").fill("Un repair café mensuel")
    await kept.get_by_role("button", name="Save the correction").click()
    await kept.locator(".card-text", has_text="mensuel").wait_for(timeout=LIVE_MS)
    await settled(b, open_session)
    assert await kept.locator(".card-more").evaluate("d => d.open")
    assert not await kept.locator("details.edit").evaluate("d => d.open")
    assert await kept.locator(f"#note-{repair}").input_value() == "À revoir en mars"
    await shoot(b, "two-consoles/kept-open-1366")
    assert [e for e in watch.errors if "favicon" not in e] == []


async def test_a_post_without_or_with_a_wrong_token_is_still_refused(
    open_session: OpenSession,
) -> None:
    a = open_session.facilitator
    sid = open_session.session_id
    poll_id = await create_poll(open_session, "Ouvrir le dimanche ?", "yes_no")
    path = f"/sessions/{sid}/polls/{poll_id}/open"
    bare = await a.http.post(path, data={})
    assert bare.status_code == 403
    wrong = await a.http.post(path, data={"csrf_token": "not-the-token"})
    assert wrong.status_code == 403
    header = await a.http.post(path, headers={"X-CSRF-Token": "not-the-token"})
    assert header.status_code == 403
    assert (await fresh(open_session, Poll, poll_id)).opened_at is None
    other = Browser(open_session.server)  # a token of someone else's page
    await other.get("/")
    stolen = await a.http.post(path, data={"csrf_token": other.csrf})
    assert stolen.status_code == 403
    await other.close()
    assert (await fresh(open_session, Poll, poll_id)).opened_at is None
    done = await a.post(path, htmx=False)
    assert done.status_code == 303
    assert (await fresh(open_session, Poll, poll_id)).opened_at is not None


async def confirm_by_keyboard(page: Any, scope: Any, summary: str, button: str) -> None:
    """Open a confirming disclosure and press its button, with the keyboard alone."""
    confirm = scope.locator("summary", has_text=summary)
    assert not await scope.get_by_role("button", name=button).is_visible()  # asks first
    await confirm.focus()
    await page.keyboard.press("Enter")
    await page.keyboard.press("Tab")
    focused = await page.evaluate("document.activeElement.textContent.trim()")
    assert focused == button
    await shoot(page, "two-consoles/confirm-" + button.lower().replace(" ", "-") + "-360")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")


async def test_irreversible_actions_ask_first_without_javascript_and_by_keyboard(
    browser: Any, open_session: OpenSession
) -> None:
    code, sid = open_session.code, open_session.session_id
    pia = await open_session.phone("Pia")
    await open_session.phone("Quentin")
    for text in ("Une cantine", "Une cantine solidaire"):
        sent = await pia.post(f"/s/{code}/proposals", {"text": text})
        assert sent.status_code == 200, sent.text
    ids = await proposal_ids(open_session)
    canteen, duplicate = ids["Une cantine"], ids["Une cantine solidaire"]
    poll_id = await create_poll(open_session, "Ouvrir le samedi ?", "yes_no")
    opened = await open_session.facilitator.post(
        f"/sessions/{sid}/polls/{poll_id}/open", htmx=False
    )
    assert opened.status_code == 303

    context = await browser.new_context(
        viewport={"width": 360, "height": 640}, java_script_enabled=False
    )
    page = await context.new_page()
    base = open_session.server.base_url
    await page.goto(f"{base}/login")
    await page.fill("#email", "camille@example.org")
    await page.fill("#password", PASSWORD)
    await page.click("button.primary")
    await page.goto(f"{base}/sessions/{sid}/console")

    poll = page.locator(f"#poll-{poll_id}")
    await poll.locator("summary").last.focus()
    await page.keyboard.press("Enter")
    await shoot(page, "two-consoles/confirm-close-poll-360")
    await page.keyboard.press("Enter")  # and closed again, untouched
    await confirm_by_keyboard(
        page, page.locator(f"#poll-{poll_id}"), "Close the poll and count", "Close and count now"
    )
    assert (await fresh(open_session, Poll, poll_id)).closed_at is not None

    card = page.locator(f"#proposal-{duplicate}")
    await open_details(card)
    await card.locator("summary", has_text="Correct, merge, link").click()
    await card.locator(f"#merge-{duplicate}").fill(str(canteen))
    await confirm_by_keyboard(page, card, "Merge into it", "Merge for good")
    assert (await fresh(open_session, Proposal, duplicate)).merged_into_id == canteen

    room = page.locator("#room")
    await room.locator("summary", has_text="Participants").click()
    person = room.locator("li", has_text="Quentin")
    await confirm_by_keyboard(page, person, "Remove…", "Remove Quentin")
    async with open_session.server.db.session() as db:
        removed = await db.exec(select(Participant).where(col(Participant.removed_at).is_not(None)))
        assert [p.display_name for p in removed.all()] == ["Quentin"]

    head = page.locator(".console-head")
    await head.locator("summary").focus()
    await page.keyboard.press("Enter")
    await shoot(page, "two-consoles/confirm-close-session-360")
    await page.keyboard.press("Enter")
    await confirm_by_keyboard(page, head, "Close the session", "Close the session now")
    assert (await fresh(open_session, Session, sid)).closed_at is not None
    refused = await pia.post(f"/s/{code}/proposals", {"text": "Après la clôture"})
    assert refused.status_code >= 400
    await shoot(page, "two-consoles/closed-reopen-360")

    async with page.expect_navigation():
        await page.get_by_role("button", name="Reopen the session").click()
    assert (await fresh(open_session, Session, sid)).closed_at is None
    assert await page.locator("summary", has_text="Close the session").count() == 1
    again = await pia.post(f"/s/{code}/proposals", {"text": "Après la réouverture"})
    assert again.status_code == 200, again.text


async def test_a_session_closed_on_an_earlier_day_cannot_be_reopened(
    open_session: OpenSession,
) -> None:
    a, sid = open_session.facilitator, open_session.session_id
    closed = await a.post(f"/sessions/{sid}/close", htmx=False)
    assert closed.status_code == 303
    console = await a.get(f"/sessions/{sid}/console")
    assert "Reopen the session" in console.text

    async with open_session.server.db.session() as db:
        session = await db.get(Session, sid)
        assert session is not None
        assert session.closed_at is not None
        session.closed_at = session.closed_at - timedelta(days=1)
        db.add(session)
        await db.commit()
    console = await a.get(f"/sessions/{sid}/console")
    assert "Reopen the session" not in console.text
    refused = await a.post(f"/sessions/{sid}/reopen", htmx=False)
    assert refused.status_code == 409
    assert "closed on an earlier day" in refused.text
    assert (await fresh(open_session, Session, sid)).closed_at is not None

    other = await signed_in(open_session.server, "dominique@example.org")
    stranger = await other.post(f"/sessions/{sid}/reopen", htmx=False)
    assert stranger.status_code in (403, 404)
    await other.close()


async def test_reopening_is_refused_for_a_session_that_is_open(
    open_session: OpenSession,
) -> None:
    refused = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/reopen", htmx=False
    )
    assert refused.status_code == 409
    assert "This session is not closed." in refused.text


async def test_the_console_says_it_is_cut_off_and_catches_up_after_a_restart(
    browser: Any, settings: Settings
) -> None:
    uv, task, base = await start_server(settings)
    port = int(base.rsplit(":", 1)[1])
    db = Database(settings.database_url)
    server = Server(base_url=base, database_url=settings.database_url, db=db)
    facilitator = await signed_in(server, "camille@example.org")
    open_session = await open_session_for(server, facilitator)
    try:
        page = await console_page(browser, open_session, Console(), "console")
        uv.should_exit = True  # the server goes down; the console sees code 1012 and retries
        await task
        await page.locator(".connection", has_text="Reconnecting…").wait_for(timeout=LIVE_MS)
        await shoot(page, "two-consoles/console-reconnecting-1366")
        async with db.session() as session_db:  # meanwhile, another server wrote this
            session = await session_db.get(Session, open_session.session_id)
            assert session is not None
            other = await participants.join(db=session_db, session=session, display_name="Q")
            made, _ = await proposals.propose(
                db=session_db, session=session, author=other, text="Pendant la panne"
            )
            missed_id = made.id

        uv, task, _ = await start_server(settings, port=port)
        missed = page.locator(f"#proposal-{missed_id}")
        await missed.wait_for(timeout=20_000)  # htmx's backoff, then the catch-up
        await page.locator(".connection", has_text="Live").wait_for(timeout=LIVE_MS)
        assert await page.locator(".card", has_text="Pendant la panne").count() == 1
        # What came in the catch-up works like the rest of the console.
        await missed.get_by_role("button", name="Hide").click()
        await missed.get_by_role("button", name="Show again").wait_for(timeout=LIVE_MS)
        assert missed_id is not None
        async with db.session() as session_db:
            hidden = await session_db.get(Proposal, missed_id)
            assert hidden is not None
            assert hidden.hidden_at is not None
    finally:
        await facilitator.close()
        await db.dispose()
        uv.should_exit = True
        await task
