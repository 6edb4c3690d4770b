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
from tests.conftest import Room


async def shared_for(room: Room, stages: SharedStages, audience: Audience) -> dict[str, object]:
    async with room.server.db.session() as db:
        session = await db.get(Session, room.session_id)
        assert session is not None
        return await stages.get(db, session, audience)


def texts(context: dict[str, object]) -> list[str]:
    items = context["items"]
    assert isinstance(items, list)
    return [item.proposal.text for item in items]


async def test_pages_at_the_same_event_number_share_one_read(room: Room) -> None:
    stages = SharedStages()
    first = await shared_for(room, stages, Audience.PHONE)
    assert await shared_for(room, stages, Audience.PHONE) is first
    # Another audience, another entry.
    assert await shared_for(room, stages, Audience.SCREEN) is not first

    phone = await room.phone("Awa")
    await phone.post(f"/s/{room.code}/proposals", {"text": "Un composteur de quartier"})
    after = await shared_for(room, stages, Audience.PHONE)
    assert after is not first
    assert texts(after) == ["Un composteur de quartier"]


async def test_an_entry_is_read_again_after_its_time(
    room: Room, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache, "SHARED_STAGE_SECONDS", 0.0)
    stages = SharedStages()
    first = await shared_for(room, stages, Audience.PHONE)
    assert await shared_for(room, stages, Audience.PHONE) is not first


async def test_the_console_is_never_shared(room: Room) -> None:
    stages = SharedStages()
    first = await shared_for(room, stages, Audience.CONSOLE)
    assert await shared_for(room, stages, Audience.CONSOLE) is not first


async def test_a_phone_reloading_sees_what_another_just_proposed(room: Room) -> None:
    awa, bruno = await room.phone("Awa"), await room.phone("Bruno")
    before = await bruno.get(f"/s/{room.code}")
    assert "Une ressourcerie" not in before.text
    await awa.post(f"/s/{room.code}/proposals", {"text": "Une ressourcerie"})
    assert "Une ressourcerie" in (await bruno.get(f"/s/{room.code}")).text


async def test_what_is_a_phones_own_is_never_shared(room: Room) -> None:
    awa, bruno = await room.phone("Awa"), await room.phone("Bruno")
    await awa.post(f"/s/{room.code}/proposals", {"text": "Une ressourcerie"})
    page = await bruno.get(f"/s/{room.code}")
    proposal_id = re.findall(r'id="proposal-(\d+)"', page.text)[0]
    await bruno.post(f"/s/{room.code}/proposals/{proposal_id}/vote", {"choice": "for"})
    # Both pages drawn at the same event number, from the same shared part.
    mine, theirs = await bruno.get(f"/s/{room.code}"), await awa.get(f"/s/{room.code}")
    assert 'class="vote-for" aria-pressed="true"' in mine.text
    assert 'aria-pressed="true"' not in theirs.text
