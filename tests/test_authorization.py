"""Console actions belong to the session's facilitator; sessions do not leak into each other."""

from __future__ import annotations

import pytest
import websockets
from sqlmodel import select

from cocreate.models import Decision, Proposal
from tests.conftest import Browser, OpenSession, open_session_for, signed_in


def console_actions(open_session: OpenSession, pid: int) -> list[tuple[str, dict[str, str]]]:
    base = f"/sessions/{open_session.session_id}"
    return [
        (f"{base}/proposals/{pid}/hide", {}),
        (f"{base}/proposals/{pid}/restore", {}),
        (f"{base}/proposals/{pid}/close-vote", {}),
        (f"{base}/proposals/{pid}/decision", {"outcome": "adopted", "note": ""}),
        (f"{base}/close", {}),
        (f"{base}/open", {}),
        (f"/projects/{open_session.project_id}/sessions", {"title": "Pirate"}),
        (f"/projects/{open_session.project_id}/publish", {"published": "1"}),
    ]


async def _proposal(open_session: OpenSession) -> tuple[Browser, int]:
    phone = await open_session.phone("Karim")
    await phone.post(f"/s/{open_session.code}/proposals", {"text": "À protéger"})
    async with open_session.server.db.session() as db:
        proposal = (await db.exec(select(Proposal))).one()
        assert proposal.id is not None
        return phone, proposal.id


async def test_participants_and_anonymous_visitors_get_403_on_console_actions(
    open_session: OpenSession,
) -> None:
    phone, pid = await _proposal(open_session)
    anonymous = Browser(open_session.server)
    open_session.devices.append(anonymous)
    seq_before = await open_session.seq()
    for who in (phone, anonymous):
        for path, data in console_actions(open_session, pid):
            response = await who.post(path, data)
            assert response.status_code == 403, (path, response.status_code)
            assert "facilitator" in response.text
    assert await open_session.seq() == seq_before
    async with open_session.server.db.session() as db:
        proposal = await db.get(Proposal, pid)
        assert proposal is not None
        assert proposal.hidden_at is None
        assert proposal.vote_closed_at is None
        assert (await db.exec(select(Decision))).all() == []


async def test_console_pages_send_strangers_to_sign_in(open_session: OpenSession) -> None:
    anonymous = Browser(open_session.server)
    open_session.devices.append(anonymous)
    for path in (
        f"/sessions/{open_session.session_id}/console",
        f"/projects/{open_session.project_id}",
        "/projects",
    ):
        response = await anonymous.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")


async def test_another_facilitator_cannot_run_someone_elses_session(
    open_session: OpenSession,
) -> None:
    _, pid = await _proposal(open_session)
    other = await signed_in(open_session.server, "other@example.org")
    open_session.devices.append(other)
    page = await other.get(f"/sessions/{open_session.session_id}/console")
    assert page.status_code == 403
    assert (await other.get(f"/projects/{open_session.project_id}")).status_code == 403
    for path, data in console_actions(open_session, pid):
        response = await other.post(path, data)
        assert response.status_code == 403, path
    decisions = await other.get(f"/projects/{open_session.project_id}/decisions")
    assert decisions.status_code == 403


async def test_a_participant_of_one_session_cannot_act_in_another(
    open_session: OpenSession,
) -> None:
    phone, pid = await _proposal(open_session)
    other_session = await open_session_for(
        open_session.server, open_session.facilitator, title="Autre atelier"
    )
    # Same phone, other session's code: its identity does not carry over.
    refused = await phone.post(f"/s/{other_session.code}/proposals", {"text": "Intrus"})
    assert refused.status_code == 403
    # A proposal of session A cannot be voted on through session B, even once joined there.
    await phone.get(f"/s/{other_session.code}")
    await phone.post(f"/s/{other_session.code}/join", {"display_name": "Karim"}, htmx=False)
    crossed = await phone.post(f"/s/{other_session.code}/proposals/{pid}/vote", {"choice": "for"})
    assert crossed.status_code == 404
    async with open_session.server.db.session() as db:
        assert len((await db.exec(select(Proposal))).all()) == 1


async def test_decisions_page_is_private_until_published(open_session: OpenSession) -> None:
    phone, _ = await _proposal(open_session)
    path = f"/projects/{open_session.project_id}/decisions"
    assert (await phone.get(path)).status_code == 403
    published = await open_session.facilitator.post(
        f"/projects/{open_session.project_id}/publish", {"published": "1"}, htmx=False
    )
    assert published.status_code == 303
    assert (await phone.get(path)).status_code == 200


@pytest.mark.wire
@pytest.mark.parametrize("audience", ["console", "phone"])
async def test_websockets_refuse_who_has_no_place_there(
    open_session: OpenSession, audience: str
) -> None:
    stranger = Browser(open_session.server)
    open_session.devices.append(stranger)

    async def hello_then_listen() -> None:
        # Refused right after the handshake: the close may come before the hello is sent.
        live = await stranger.socket(open_session.code, audience, last_seq=0)
        await live.ws.recv()

    with pytest.raises(websockets.ConnectionClosed) as closed:
        await hello_then_listen()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1008
