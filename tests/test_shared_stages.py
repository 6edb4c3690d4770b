"""The part of a stage every phone sees alike is read once per event number and shared
by the pages drawn meanwhile; any change of the session (a new event) is on the very
next page, and the facilitator's console is never drawn from it."""

from __future__ import annotations

import re

import pytest

from cocreate.live import cache
from cocreate.live.cache import SharedStages
from cocreate.live.regions import Audience
from cocreate.models import Session
from tests.conftest import OpenSession


async def shared_for(
    open_session: OpenSession, stages: SharedStages, audience: Audience
) -> dict[str, object]:
    async with open_session.server.db.session() as db:
        session = await db.get(Session, open_session.session_id)
        assert session is not None
        return await stages.get(db, session, audience)


def texts(context: dict[str, object]) -> list[str]:
    items = context["items"]
    assert isinstance(items, list)
    return [item.proposal.text for item in items]


async def test_pages_at_the_same_event_number_share_one_read(open_session: OpenSession) -> None:
    stages = SharedStages()
    first = await shared_for(open_session, stages, Audience.PHONE)
    assert await shared_for(open_session, stages, Audience.PHONE) is first
    # Another audience, another entry.
    assert await shared_for(open_session, stages, Audience.SCREEN) is not first

    phone = await open_session.phone("Awa")
    await phone.post(f"/s/{open_session.code}/proposals", {"text": "Un composteur de quartier"})
    after = await shared_for(open_session, stages, Audience.PHONE)
    assert after is not first
    assert texts(after) == ["Un composteur de quartier"]


async def test_an_entry_is_read_again_after_its_time(
    open_session: OpenSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache, "SHARED_STAGE_SECONDS", 0.0)
    stages = SharedStages()
    first = await shared_for(open_session, stages, Audience.PHONE)
    assert await shared_for(open_session, stages, Audience.PHONE) is not first


async def test_the_console_is_never_shared(open_session: OpenSession) -> None:
    stages = SharedStages()
    first = await shared_for(open_session, stages, Audience.CONSOLE)
    assert await shared_for(open_session, stages, Audience.CONSOLE) is not first


async def test_a_phone_reloading_sees_what_another_just_proposed(open_session: OpenSession) -> None:
    awa, bruno = await open_session.phone("Awa"), await open_session.phone("Bruno")
    before = await bruno.get(f"/s/{open_session.code}")
    assert "Une ressourcerie" not in before.text
    await awa.post(f"/s/{open_session.code}/proposals", {"text": "Une ressourcerie"})
    assert "Une ressourcerie" in (await bruno.get(f"/s/{open_session.code}")).text


async def test_what_is_a_phones_own_is_never_shared(open_session: OpenSession) -> None:
    awa, bruno = await open_session.phone("Awa"), await open_session.phone("Bruno")
    await awa.post(f"/s/{open_session.code}/proposals", {"text": "Une ressourcerie"})
    page = await bruno.get(f"/s/{open_session.code}")
    proposal_id = re.findall(r'id="proposal-(\d+)"', page.text)[0]
    await bruno.post(f"/s/{open_session.code}/proposals/{proposal_id}/vote", {"choice": "for"})
    # Both pages drawn at the same event number, from the same shared part.
    mine, theirs = (
        await bruno.get(f"/s/{open_session.code}"),
        await awa.get(f"/s/{open_session.code}"),
    )
    assert 'class="vote-for" aria-pressed="true"' in mine.text
    assert 'aria-pressed="true"' not in theirs.text
