"""A phone that loses its connection catches up exactly what it missed."""

from __future__ import annotations

import re

import pytest

from tests.conftest import OpenSession, frame_seq
from tests.test_live_session import proposal_id_of


@pytest.mark.wire
async def test_reconnect_with_last_seen_number_gets_exactly_the_missed_events(
    open_session: OpenSession,
) -> None:
    phone = await open_session.phone("Farid")
    other = await open_session.phone("Gaëlle")
    live = await phone.socket(open_session.code, "phone", last_seq=await open_session.seq())

    await other.post(f"/s/{open_session.code}/proposals", {"text": "Avant la coupure"})
    seen = await live.until_text("Avant la coupure")
    last_seen = frame_seq(seen)
    await live.close()  # the phone goes into a tunnel

    await other.post(f"/s/{open_session.code}/proposals", {"text": "Pendant la coupure 1"})
    await other.post(f"/s/{open_session.code}/proposals", {"text": "Pendant la coupure 2"})
    missed_pid = await proposal_id_of(open_session, "Pendant la coupure 1")
    await other.post(f"/s/{open_session.code}/proposals/{missed_pid}/vote", {"choice": "for"})
    latest = await open_session.seq()
    assert latest == last_seen + 3

    back = await phone.socket(open_session.code, "phone", last_seq=last_seen)
    frame = await back.until(lambda f: 'id="live-seq"' in f)
    assert frame_seq(frame) == latest
    assert "Pendant la coupure 1" in frame
    assert "Pendant la coupure 2" in frame
    assert f'id="tally-{missed_pid}"' in frame
    assert "Avant la coupure" not in frame  # already shown: not sent twice
    assert await back.quiet() == []  # and nothing else follows

    # The stream goes on after the catch-up, each event once.
    await other.post(f"/s/{open_session.code}/proposals", {"text": "Après le retour"})
    after = await back.until_text("Après le retour")
    assert frame_seq(after) == latest + 1
    assert await back.quiet() == []
    await back.close()


@pytest.mark.wire
async def test_a_phone_up_to_date_gets_nothing_on_connect(open_session: OpenSession) -> None:
    phone = await open_session.phone("Hugo")
    await phone.post(f"/s/{open_session.code}/proposals", {"text": "Déjà sur la page"})
    live = await phone.socket(open_session.code, "phone", last_seq=await open_session.seq())
    assert await live.quiet() == []
    await live.close()


@pytest.mark.wire
async def test_a_phone_without_a_number_gets_a_full_snapshot(open_session: OpenSession) -> None:
    phone = await open_session.phone("Inès")
    await phone.post(f"/s/{open_session.code}/proposals", {"text": "Une idée ancienne"})
    pid = await proposal_id_of(open_session, "Une idée ancienne")
    await phone.post(f"/s/{open_session.code}/proposals/{pid}/vote", {"choice": "against"})
    live = await phone.socket(open_session.code, "phone", last_seq=None)
    frame = await live.until_text('id="wall"')
    assert frame_seq(frame) == await open_session.seq()
    assert "Une idée ancienne" in frame
    # The snapshot is this phone's own: it shows its vote.
    assert 'value="against" class="vote-against" aria-pressed="true"' in frame
    await live.close()


@pytest.mark.wire
async def test_a_number_from_the_future_gets_a_snapshot_not_silence(
    open_session: OpenSession,
) -> None:
    phone = await open_session.phone("Jules")
    await phone.post(f"/s/{open_session.code}/proposals", {"text": "Vraie proposition"})
    live = await phone.socket(open_session.code, "phone", last_seq=10_000)
    frame = await live.until_text('id="wall"')
    assert "Vraie proposition" in frame
    await live.close()


async def test_without_javascript_the_page_does_not_claim_to_be_live(
    open_session: OpenSession,
) -> None:
    """Only the page's script makes it live: the page as served says nothing, and the
    script says "Connecting…", then "Live" or "Reconnecting…"."""
    phone = await open_session.phone("Awa")
    page = (await phone.get(f"/s/{open_session.code}")).text
    status = re.search(r'<p class="connection"[^>]*>(.*?)</p>', page)
    assert status is not None
    assert " hidden" in status.group(0)
    assert status.group(1) == ""
    assert 'data-online="Live"' in status.group(0)
    console = (
        await open_session.facilitator.get(f"/sessions/{open_session.session_id}/console")
    ).text
    status = re.search(r'<p class="connection"[^>]*>(.*?)</p>', console)
    assert status is not None
    assert status.group(1) == ""
