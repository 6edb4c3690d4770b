"""A phone on a bad network: what its owner did while the connection was cut waits on the
phone, says so, and is sent once the network is back (stored once, shown as sent or
refused with its reason); the live connection comes back by itself and catches up.

The cut is a real one: a TCP proxy between the browser and the server resets the open
connections (the websocket included) and refuses new ones (bench/netcut.py, which the
reconnection benchmark uses too).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from bench.netcut import NetCut
from sqlmodel import select

from cocreate.models import Ballot, Proposal, Vote
from tests.browsing import BROWSER_MARKS, LIVE_MS, Console, phone_joined, shoot
from tests.conftest import ONCE, OpenSession
from tests.test_polls import act, create

pytestmark = [*BROWSER_MARKS, ONCE]

# What the page logs of the requests the cut broke: expected, and nothing else.
CUT = (
    "Failed to load",
    "ERR_CONNECTION",
    "htmx:sendError",
    "htmx:afterRequest",
    "WebSocket",
    "[object Event]",  # htmx logs the websocket error event as such
)


@pytest.fixture
async def netcut(open_session: OpenSession) -> AsyncIterator[NetCut]:
    host, port = open_session.server.base_url.removeprefix("http://").rsplit(":", 1)
    proxy = await NetCut(host, int(port)).start()
    yield proxy
    await proxy.close()


async def phone_through(browser: Any, netcut: NetCut, code: str, watch: Console) -> Any:
    """A phone that joined through the proxy: its network can be cut."""
    return await phone_joined(browser, netcut.base_url, code, watch)


async def stored(open_session: OpenSession, model: type) -> list[Any]:
    async with open_session.server.db.session() as db:
        return list((await db.exec(select(model))).all())


async def test_a_vote_and_a_proposal_made_while_cut_are_sent_once_when_the_network_is_back(
    browser: Any, open_session: OpenSession, netcut: NetCut
) -> None:
    watch = Console()
    code = open_session.code
    other = await open_session.phone("Bruno")
    sent = await other.post(f"/s/{code}/proposals", {"text": "Une navette solidaire"})
    assert sent.status_code == 200
    (navette,) = await stored(open_session, Proposal)
    page = await phone_through(browser, netcut, code, watch)
    card = page.locator(f"#proposal-{navette.id}")

    netcut.cut()
    await page.locator(".connection", has_text="Reconnecting…").wait_for(timeout=LIVE_MS)
    await card.locator("button.vote-for").click()
    outbox = page.locator("#outbox")
    await outbox.get_by_text(
        "Your vote “For”: will be sent as soon as the network is back."
    ).wait_for(timeout=LIVE_MS)
    await page.fill("#proposal-text", "Un jardin partagé")
    await page.click("#propose button.primary")
    await outbox.get_by_text("Your proposal “Un jardin partagé”: will be sent").wait_for(
        timeout=LIVE_MS
    )
    assert await page.input_value("#proposal-text") == ""  # in the outbox, not to retype
    kept = await page.evaluate(f"localStorage.getItem('cocreate-outbox-{code}')")
    assert "Un jardin partagé" in kept  # a reload would not lose it
    await shoot(page, "phone-network/cut-outbox-360")
    assert await stored(open_session, Vote) == []
    assert len(await stored(open_session, Proposal)) == 1

    restored = time.monotonic()
    netcut.restore()
    await page.locator(".connection", has_text="Live").wait_for(timeout=LIVE_MS)
    print(f"back live {time.monotonic() - restored:.2f} s after the network came back")
    await outbox.get_by_text("Your vote “For”: sent.").wait_for(timeout=LIVE_MS)
    await outbox.get_by_text("Your proposal “Un jardin partagé”: sent.").wait_for(timeout=LIVE_MS)
    await card.locator("button.vote-for[aria-pressed='true']").wait_for(timeout=LIVE_MS)
    await page.locator("#wall .card", has_text="Un jardin partagé").wait_for(timeout=LIVE_MS)
    await shoot(page, "phone-network/back-sent-360")
    votes = await stored(open_session, Vote)
    assert [(v.proposal_id, v.choice) for v in votes] == [(navette.id, "for")]
    texts = sorted(p.text for p in await stored(open_session, Proposal))
    assert texts == ["Un jardin partagé", "Une navette solidaire"]
    assert await page.evaluate(f"localStorage.getItem('cocreate-outbox-{code}')") == "[]"
    assert [e for e in watch.errors if not any(t in e for t in CUT)] == []


async def test_what_the_server_refuses_meanwhile_is_said_with_its_reason(
    browser: Any, open_session: OpenSession, netcut: NetCut
) -> None:
    watch = Console()
    code, sid = open_session.code, open_session.session_id
    other = await open_session.phone("Bruno")
    await other.post(f"/s/{code}/proposals", {"text": "Une navette solidaire"})
    (navette,) = await stored(open_session, Proposal)
    page = await phone_through(browser, netcut, code, watch)

    netcut.cut()
    await page.locator(f"#proposal-{navette.id} button.vote-against").click()
    await page.locator("#outbox").get_by_text("will be sent").wait_for(timeout=LIVE_MS)
    closed = await open_session.facilitator.post(
        f"/sessions/{sid}/proposals/{navette.id}/close-vote"
    )
    assert closed.status_code == 200, closed.text
    netcut.restore()
    refused = page.locator("#outbox .outbox-item--refused")
    await refused.wait_for(timeout=LIVE_MS)
    assert "Your vote “Against”: not taken." in await refused.inner_text()
    assert "closed" in (await refused.inner_text()).lower()
    await shoot(page, "phone-network/refused-360")
    assert await stored(open_session, Vote) == []
    assert [e for e in watch.errors if not any(t in e for t in CUT)] == []


async def test_a_ballot_never_waits_on_the_phone(
    browser: Any, open_session: OpenSession, netcut: NetCut
) -> None:
    """A secret ballot is sent only while connected: cut, the phone says it was not
    sent, and nothing is kept to send later."""
    watch = Console()
    code = open_session.code
    poll_id = await create(open_session, question="Ouvrir le samedi ?", method="yes_no")
    await act(open_session, poll_id, "open")
    page = await phone_through(browser, netcut, code, watch)
    ballot = page.locator(f"#poll-{poll_id}")
    await ballot.get_by_role("button", name="For").first.wait_for(timeout=LIVE_MS)
    netcut.cut()
    await ballot.get_by_role("button", name="For").first.click()
    await ballot.get_by_role("button", name="Confirm and cast").click()
    await page.locator("#flash").get_by_text("Your ballot was not sent").wait_for(timeout=LIVE_MS)
    await shoot(page, "phone-network/ballot-not-sent-360")
    netcut.restore()
    await page.locator(".connection", has_text="Live").wait_for(timeout=LIVE_MS)
    await page.wait_for_timeout(500)
    assert await stored(open_session, Ballot) == []
    assert await page.locator("#outbox").is_hidden()
    assert [e for e in watch.errors if not any(t in e for t in CUT)] == []
