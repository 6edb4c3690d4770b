"""What is left of a session: the printable minutes and the contributions as CSV."""

from __future__ import annotations

import csv
import io
import itertools
import re
from typing import Any

import pytest
from sqlmodel import col, select

from cocreate import agenda, moderation
from cocreate.minutes import CSV_COLUMNS, neutralise
from cocreate.models import Facilitator, Poll, Proposal
from cocreate.steps import Move
from tests.browsing import NEEDS_CHROMIUM, axe_problems
from tests.conftest import PASSWORD, Browser, OpenSession, signed_in

NEED = "Pas de local pour se retrouver le soir"
IDEA = "Une cuisine partagée ouverte le samedi"
HIDDEN = "Un texte que l'animatrice a masqué"
QUESTION = "Adopter le règlement de la cuisine ?"


async def _facilitator(open_session: OpenSession) -> Facilitator:
    async with open_session.server.db.session() as db:
        found = (
            await db.exec(select(Facilitator).where(Facilitator.email == "camille@example.org"))
        ).one()
        return found


async def _proposal_id(open_session: OpenSession, text: str) -> int:
    async with open_session.server.db.session() as db:
        proposal = (await db.exec(select(Proposal).where(Proposal.text == text))).one()
        assert proposal.id is not None
        return proposal.id


async def _need(open_session: OpenSession, phone: Browser, text: str) -> int:
    sent = await phone.post(f"/s/{open_session.code}/needs", {"text": text})
    assert sent.status_code == 200, sent.text
    return await _proposal_id(open_session, text)


async def _idea(open_session: OpenSession, phone: Browser, text: str, **fields: str) -> int:
    sent = await phone.post(f"/s/{open_session.code}/proposals", {"text": text, **fields})
    assert sent.status_code == 200, sent.text
    return await _proposal_id(open_session, text)


async def _react(
    open_session: OpenSession, phone: Browser, proposal_id: int, reaction: str
) -> None:
    sent = await phone.post(
        f"/s/{open_session.code}/proposals/{proposal_id}/reaction", {"reaction": reaction}
    )
    assert sent.status_code == 200, sent.text


async def _poll(open_session: OpenSession, phones: list[Browser], choices: list[str]) -> int:
    created = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/polls",
        {"question": QUESTION, "method": "yes_no", "secret": "1"},
        htmx=False,
    )
    assert created.status_code == 303, created.text
    async with open_session.server.db.session() as db:
        poll = (await db.exec(select(Poll).order_by(col(Poll.id).desc()))).first()
        assert poll is not None
        assert poll.id is not None
        poll_id = poll.id
    base = f"/sessions/{open_session.session_id}/polls/{poll_id}"
    assert (await open_session.facilitator.post(base + "/open", htmx=False)).status_code == 303
    for phone, choice in zip(phones, choices, strict=True):
        cast = await phone.post(
            f"/s/{open_session.code}/polls/{poll_id}/ballot", {"choice": choice}
        )
        assert cast.status_code == 200, cast.text
    assert (await open_session.facilitator.post(base + "/close", htmx=False)).status_code == 303
    return poll_id


async def _workshop(open_session: OpenSession) -> dict[str, int]:
    """An agenda half run, a need, an idea answering it, votes, a comment, a reaction, a
    hidden idea, a decision and a closed poll."""
    facilitator = await _facilitator(open_session)
    async with open_session.server.db.session() as db:
        await agenda.add_steps(
            db=db,
            facilitator=facilitator,
            session_id=open_session.session_id,
            drafts=[
                agenda.parse_step(
                    kind="needs", title="Nos difficultés", prompt="", minutes="5", auto_close=True
                ),
                agenda.parse_step(
                    kind="ideas", title="Des solutions", prompt="", minutes="10", auto_close=True
                ),
                agenda.parse_step(
                    kind="decision", title="On tranche", prompt="", minutes="", auto_close=True
                ),
            ],
        )
    aicha = await open_session.phone("Aïcha")
    bruno = await open_session.phone("Bruno")

    async def move(to: Move) -> None:
        async with open_session.server.db.session() as db:
            await agenda.go(
                db=db, facilitator=facilitator, session_id=open_session.session_id, move=to
            )

    await move(Move.START)
    need = await _need(open_session, aicha, NEED)
    await move(Move.NEXT)
    idea = await _idea(open_session, bruno, IDEA, need=str(need))
    hidden = await _idea(open_session, aicha, HIDDEN)
    await move(Move.END)  # the third step is never reached; the wall is free again

    await aicha.post(f"/s/{open_session.code}/proposals/{idea}/vote", {"choice": "for"})
    await bruno.post(f"/s/{open_session.code}/proposals/{idea}/vote", {"choice": "against"})
    await aicha.post(
        f"/s/{open_session.code}/proposals/{idea}/comments", {"text": "Et le dimanche ?"}
    )
    await _react(open_session, aicha, idea, "agree")
    hid = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/proposals/{hidden}/hide"
    )
    assert hid.status_code == 200
    decided = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/proposals/{idea}/decision",
        {"outcome": "adopted", "note": "À lancer en mars"},
    )
    assert decided.status_code == 200
    poll = await _poll(open_session, [aicha, bruno], ["for", "for"])
    return {"need": need, "idea": idea, "hidden": hidden, "poll": poll}


async def test_the_minutes_tell_the_session_in_english_and_in_french(
    open_session: OpenSession,
) -> None:
    ids = await _workshop(open_session)
    page = await open_session.facilitator.get(f"/sessions/{open_session.session_id}/minutes")
    assert page.status_code == 200, page.text
    html = page.text
    # Who, where, when
    assert "<h1>Atelier 1</h1>" in html
    assert "Un besoin réel" in html
    assert "Lyon" in html
    assert "Opened on" in html
    assert "Not closed yet" in html
    assert "camille" in html
    # Attendance and agenda
    assert "2 participants joined the session." in html
    assert '<th scope="row">Nos difficultés <span class="minutes-meta">Needs</span>' in html
    assert '<th scope="row">On tranche <span class="minutes-meta">Decision</span>' in html
    assert "5 min" in html
    assert "10 min" in html
    assert html.count("Started on") == 2
    assert html.count("Not reached") == 1
    # Contributions, with what was done with them
    assert NEED in html
    assert IDEA in html
    assert HIDDEN not in html
    assert "Not listed: 1 hidden by moderation." in html
    assert "By Bruno" in html
    assert "1 for, 1 against, 0 abstaining" in html
    assert "1 agree, 0 disagree, 0 pass" in html
    assert "1 comment" in html
    assert f'Answers: <a href="#contribution-{ids["need"]}">#{ids["need"]}</a>' in html
    assert f'Answered by: <a href="#contribution-{ids["idea"]}">#{ids["idea"]}</a>' in html
    # Polls and decisions
    assert QUESTION in html
    assert "2 for, 0 against, 0 abstaining, 0 blank" in html
    assert "À lancer en mars" in html
    assert html.count('badge badge--adopted">Adopted') >= 4  # idea, poll, both decisions
    decisions = html[html.index('id="decisions-title"') :]
    assert decisions.index(IDEA) < decisions.index(QUESTION)  # in the order taken
    # Printing and the spreadsheet
    assert f'href="/sessions/{open_session.session_id}/minutes.pdf?lang=fr"' in html
    assert f'href="/sessions/{open_session.session_id}/contributions.csv"' in html
    assert "<script>" not in html
    assert "style=" not in html
    headings = [int(h) for h in re.findall(r"<h([1-6])\b", html)]
    assert headings[0] == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(headings))

    french = Browser(open_session.server, language="fr")
    open_session.devices.append(french)
    await french.get("/login")
    signed = await french.post(
        "/login", {"email": "camille@example.org", "password": PASSWORD}, htmx=False
    )
    assert signed.status_code == 303
    page = await french.get(f"/sessions/{open_session.session_id}/minutes")
    assert page.status_code == 200
    html = page.text
    assert '<html lang="fr">' in html
    # French puts a no-break space before a colon.
    for text in ("Décisions", "Scrutins", "Territoire", "Adoptée", "Note\u00a0:", NEED, IDEA):
        assert text in html, text
    assert "Pour\u00a0: 1, contre\u00a0: 1, abstentions\u00a0: 0" in html


async def test_only_the_sessions_facilitator_reads_its_minutes_and_contributions(
    open_session: OpenSession,
) -> None:
    await _idea(open_session, await open_session.phone("Karim"), "À protéger")
    minutes = f"/sessions/{open_session.session_id}/minutes"
    export = f"/sessions/{open_session.session_id}/contributions.csv"
    other = await signed_in(open_session.server, "dominique@example.org")
    open_session.devices.append(other)
    for path in (minutes, export):
        refused = await other.get(path)
        assert refused.status_code == 403, path
        assert "À protéger" not in refused.text

    anonymous = Browser(open_session.server)
    open_session.devices.append(anonymous)
    sent_away = await anonymous.get(minutes)
    assert sent_away.status_code == 303
    assert (
        sent_away.headers["location"] == f"/login?next=/sessions/{open_session.session_id}/minutes"
    )
    refused = await anonymous.get(export)
    assert refused.status_code == 403
    assert "À protéger" not in refused.text

    assert (await open_session.facilitator.get("/sessions/999999/minutes")).status_code == 404
    assert (
        await open_session.facilitator.get("/sessions/999999/contributions.csv")
    ).status_code == 404


async def test_the_csv_lists_every_contribution_safely_for_spreadsheets(
    open_session: OpenSession,
) -> None:
    facilitator = await _facilitator(open_session)
    aicha = await open_session.phone("Aïcha")
    eve = await open_session.phone("@Eve")
    # Needs are gathered in a needs step; then the agenda ends and the wall is free.
    base = f"/sessions/{open_session.session_id}"
    step = {"kind": "needs", "title": "Besoins", "prompt": "", "minutes": "", "auto_close": "1"}
    assert (await open_session.facilitator.post(f"{base}/steps", step)).status_code == 200
    assert (await open_session.facilitator.post(f"{base}/agenda/start")).status_code == 200
    need = await _need(open_session, aicha, NEED)
    duplicate = await _need(open_session, eve, "Pas de salle le soir")
    assert (await open_session.facilitator.post(f"{base}/agenda/end")).status_code == 200
    tricky = 'Une "cuisine", partagée;\nouverte le samedi'
    idea = await _idea(open_session, aicha, tricky, need=str(need))
    formulas = ['=HYPERLINK("http://evil.example","clic")', "+1", "@SUM(A1:A9)", "-2+3"]
    formula_ids = [await _idea(open_session, eve, text) for text in formulas]
    hidden = await _idea(open_session, eve, HIDDEN)
    await aicha.post(f"/s/{open_session.code}/proposals/{idea}/vote", {"choice": "for"})
    await eve.post(f"/s/{open_session.code}/proposals/{idea}/vote", {"choice": "abstain"})
    await _react(open_session, eve, idea, "disagree")
    await _react(open_session, aicha, idea, "pass")
    comment_text = 'Oui,\n"vraiment" — à tester'
    sent = await eve.post(
        f"/s/{open_session.code}/proposals/{idea}/comments", {"text": comment_text}
    )
    assert sent.status_code == 200
    await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/proposals/{hidden}/hide"
    )
    async with open_session.server.db.session() as db:
        await moderation.merge(
            db=db,
            facilitator=facilitator,
            session_id=open_session.session_id,
            duplicate_id=duplicate,
            into_id=need,
        )
    async with open_session.server.db.session() as db:
        await moderation.set_room(
            db=db, facilitator=facilitator, session_id=open_session.session_id, premoderation=True
        )
    waiting = await _idea(open_session, aicha, "En attente de validation")

    response = await open_session.facilitator.get(
        f"/sessions/{open_session.session_id}/contributions.csv"
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="session-{open_session.session_id}-contributions.csv"'
    )
    assert response.content.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for Excel
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    assert tuple(rows[0]) == CSV_COLUMNS
    records = [dict(zip(CSV_COLUMNS, row, strict=True)) for row in rows[1:]]
    by_id = {(r["type"], int(r["id"])): r for r in records}
    assert [r["type"] for r in records] == ["need", "need", "idea", "comment"] + ["idea"] * 6

    assert by_id["need", need]["status"] == "shown"
    assert by_id["need", need]["author"] == "Aïcha"
    assert by_id["need", duplicate]["status"] == f"merged into {need}"
    assert by_id["need", duplicate]["author"] == "'@Eve"
    first = by_id["idea", idea]
    assert first["text"] == tricky  # quotes, commas and newlines come back as written
    assert first["answers_needs"] == str(need)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", first["created_at"])
    votes = [first[c] for c in ("votes_for", "votes_against", "votes_abstain")]
    assert votes == ["1", "0", "1"]
    assert [first[c] for c in ("agree", "disagree", "pass")] == ["0", "1", "1"]
    assert first["parent_id"] == ""
    for text, pid in zip(formulas, formula_ids, strict=True):
        assert by_id["idea", pid]["text"] == "'" + text
    assert by_id["idea", hidden]["status"] == "hidden"
    assert by_id["idea", waiting]["status"] == "pending"
    comment = next(r for r in records if r["type"] == "comment")
    assert comment["parent_id"] == str(idea)
    assert comment["text"] == comment_text
    assert comment["author"] == "'@Eve"
    assert comment["votes_for"] == comment["answers_needs"] == ""
    # Each comment follows the proposal it is on.
    assert records.index(comment) == records.index(first) + 1

    # The minutes count what the room did not see, and credit merged duplicates.
    html = (await open_session.facilitator.get(f"/sessions/{open_session.session_id}/minutes")).text
    assert "<p>1 need described.</p>" in html
    assert "1 duplicate merged in" in html
    assert "By Aïcha, @Eve" in html
    assert (
        "<p>5 ideas proposed. Not listed: 1 hidden by moderation. Not listed: 1 never approved.</p>"
        in html
    )
    assert "En attente de validation" not in html
    assert "=HYPERLINK(&#34;http://evil.example&#34;,&#34;clic&#34;)" in html  # escaped


def test_cells_that_a_spreadsheet_would_run_get_a_quote() -> None:
    for dangerous in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise(dangerous) == "'" + dangerous
    for harmless in ("Une idée", "1", " =1", "'déjà"):
        assert neutralise(harmless) == harmless
    assert neutralise(12) == "12"
    assert neutralise(None) == ""


@pytest.mark.browser
@NEEDS_CHROMIUM
async def test_the_minutes_pass_axe_on_a_phone_in_both_languages(
    browser: Any, open_session: OpenSession
) -> None:
    await _workshop(open_session)
    base = open_session.server.base_url
    for locale in ("en-GB", "fr-FR"):
        context = await browser.new_context(
            viewport={"width": 360, "height": 640}, locale=locale, is_mobile=True
        )
        page = await context.new_page()
        await page.goto(f"{base}/login")
        await page.fill("#email", "camille@example.org")
        await page.fill("#password", PASSWORD)
        await page.click("button.primary")
        await page.wait_for_url(f"{base}/projects")
        await page.goto(f"{base}/sessions/{open_session.session_id}/minutes")
        problems = await axe_problems(page)
        assert problems == [], (locale, problems)
        # Nothing pushes the page sideways at 360 px (wide tables scroll in place).
        assert await page.evaluate("document.documentElement.scrollWidth") <= 360
        await context.close()
