"""Bad input gets a clear error and stores nothing."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
import websockets
from sqlmodel import SQLModel, select

from cocreate.models import Poll, Proposal, Session
from tests.conftest import Browser, OpenSession


async def row_counts(open_session: OpenSession) -> dict[str, int]:
    counts = {}
    async with open_session.server.db.session() as db:
        for table in SQLModel.metadata.sorted_tables:
            result = await db.exec(sa.select(sa.func.count()).select_from(table))
            counts[table.name] = int(result.scalar_one())
    return counts


@pytest.fixture
async def phone(open_session: OpenSession) -> Browser:
    phone = await open_session.phone("Lina")
    await phone.post(f"/s/{open_session.code}/proposals", {"text": "Proposition existante"})
    return phone


async def existing_pid(open_session: OpenSession) -> int:
    async with open_session.server.db.session() as db:
        proposal = (await db.exec(select(Proposal))).one()
        assert proposal.id is not None
        return proposal.id


@pytest.mark.parametrize(
    ("path", "data", "status", "message"),
    [
        ("/proposals", {"text": ""}, 422, "Write your proposal before sending it."),
        ("/proposals", {"text": "   \n  "}, 422, "Write your proposal before sending it."),
        ("/proposals", {"text": "x" * 501}, 422, "A proposal has at most 500 characters"),
        ("/proposals", {}, 422, "Write your proposal before sending it."),
        ("/proposals/{pid}/comments", {"text": ""}, 422, "Write your comment before sending it."),
        ("/proposals/{pid}/comments", {"text": "y" * 1001}, 422, "A comment has at most 1,000"),
        ("/proposals/{pid}/vote", {"choice": "maybe"}, 422, "Choose for, against or abstain."),
        ("/proposals/{pid}/vote", {}, 422, "Choose for, against or abstain."),
        ("/proposals/999999/vote", {"choice": "for"}, 404, "This proposal does not exist"),
        ("/proposals/999999/comments", {"text": "ok"}, 404, "This proposal does not exist"),
        ("/proposals/99999999999999999999999/vote", {"choice": "for"}, 404, "does not exist"),
    ],
)
async def test_refused_contributions_say_why_and_store_nothing(
    open_session: OpenSession,
    phone: Browser,
    path: str,
    data: dict[str, str],
    status: int,
    message: str,
) -> None:
    path = path.format(pid=await existing_pid(open_session))
    before = await row_counts(open_session)
    for htmx in (True, False):
        response = await phone.post(f"/s/{open_session.code}{path}", data, htmx=htmx)
        assert response.status_code == status
        assert message in response.text
        if htmx:  # shown in the page's message region, the typed text left alone
            assert response.headers["HX-Retarget"] == "#flash"
    assert await row_counts(open_session) == before


async def test_a_stale_or_forged_form_is_refused(open_session: OpenSession, phone: Browser) -> None:
    before = await row_counts(open_session)
    no_token = await phone.post(
        f"/s/{open_session.code}/proposals", {"text": "Sans jeton"}, csrf=False
    )
    assert no_token.status_code == 403
    assert "This form has expired" in no_token.text
    phone.csrf = "forged"
    forged = await phone.post(f"/s/{open_session.code}/proposals", {"text": "Jeton faux"})
    assert forged.status_code == 403
    assert await row_counts(open_session) == before


async def test_unknown_and_malformed_codes(open_session: OpenSession) -> None:
    visitor = Browser(open_session.server)
    open_session.devices.append(visitor)
    unknown = await visitor.get("/s/ZZZZZZ")
    assert unknown.status_code == 404
    assert "No session has the code ZZZZZZ" in unknown.text
    short = await visitor.get("/s/AB")
    assert short.status_code == 422
    typed = await visitor.get(
        "/join", params={"code": open_session.code.lower()[:3] + " " + open_session.code[3:]}
    )
    assert typed.status_code == 303
    assert typed.headers["location"] == f"/s/{open_session.code}"
    empty = await visitor.get("/join", params={"code": ""})
    assert empty.status_code == 422
    assert "Type the code of 6 characters" in empty.text
    # A wrong code is said on the home page, beside the field, the code kept to mend.
    for code, status, message in (
        ("ZZZZZZ", 404, "No session has this code."),
        ("ABC", 422, "Type the code of 6 characters"),
    ):
        wrong = await visitor.get("/join", params={"code": code})
        assert wrong.status_code == status
        assert message in wrong.text
        assert 'aria-describedby="code-error"' in wrong.text
        assert f'value="{code}"' in wrong.text


async def test_codes_typed_on_the_home_page_count_as_guesses(open_session: OpenSession) -> None:
    """The home page's form says a wrong code beside its field, and a run of them is
    throttled as the same codes typed in the address are."""
    visitor = Browser(open_session.server)
    open_session.devices.append(visitor)
    statuses = [
        (await visitor.get("/join", params={"code": f"ZZZZ{n:02d}"})).status_code
        for n in range(70)  # past the burst of 60 a client may try at once
    ]
    assert statuses[0] == 404
    assert statuses[-1] == 429
    refused = await visitor.get("/join", params={"code": open_session.code})
    assert refused.status_code == 429
    assert "Too many unknown codes" in refused.text


async def test_joining_needs_a_sensible_name_and_an_open_session(open_session: OpenSession) -> None:
    visitor = Browser(open_session.server)
    open_session.devices.append(visitor)
    await visitor.get(f"/s/{open_session.code}")
    before = await row_counts(open_session)
    for name, message in (("", "Choose a name"), ("n" * 61, "This name is too long")):
        response = await visitor.post(
            f"/s/{open_session.code}/join", {"display_name": name}, htmx=False
        )
        assert response.status_code == 422
        assert message in response.text
    await open_session.facilitator.post(f"/sessions/{open_session.session_id}/close", htmx=False)
    closed = await visitor.post(
        f"/s/{open_session.code}/join", {"display_name": "Tard"}, htmx=False
    )
    assert closed.status_code == 409
    assert "This session is closed." in closed.text
    after = await row_counts(open_session)
    assert after["participant"] == before["participant"]


async def test_oversized_bodies_are_refused(open_session: OpenSession, phone: Browser) -> None:
    before = await row_counts(open_session)
    huge = await phone.http.post(
        f"/s/{open_session.code}/proposals",
        content=b"text=" + b"a" * 200_000,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert huge.status_code == 413
    assert await row_counts(open_session) == before


async def test_control_characters_are_dropped_from_text(
    open_session: OpenSession, phone: Browser
) -> None:
    response = await phone.post(
        f"/s/{open_session.code}/proposals", {"text": "Net\x1btoyé\x1b[31m"}
    )
    assert response.status_code == 200
    async with open_session.server.db.session() as db:
        texts = [p.text for p in (await db.exec(select(Proposal))).all()]
    assert "Nettoyé[31m" in texts


async def test_a_nul_character_refuses_the_whole_form(
    open_session: OpenSession, phone: Browser
) -> None:
    """PostgreSQL cannot store it (a server error there, found by the sweep): any form
    with one, a facilitator's included, is refused before anything is read from it."""
    before = await open_session.seq()
    async with open_session.server.db.session() as db:
        proposals = len((await db.exec(select(Proposal))).all())
    refused = await phone.post(f"/s/{open_session.code}/proposals", {"text": "Net\x00toyé"})
    assert refused.status_code == 400
    assert "NUL character" in refused.text
    titled = await open_session.facilitator.post(
        f"/projects/{open_session.project_id}/sessions", {"title": "a\x00b"}, htmx=False
    )
    assert titled.status_code == 400
    async with open_session.server.db.session() as db:
        assert len((await db.exec(select(Proposal))).all()) == proposals
        assert len((await db.exec(select(Session))).all()) == 1
    assert await open_session.seq() == before


async def test_decision_needs_a_known_outcome(open_session: OpenSession, phone: Browser) -> None:
    pid = await existing_pid(open_session)
    before = await row_counts(open_session)
    path = f"/sessions/{open_session.session_id}/proposals/{pid}/decision"
    bad = await open_session.facilitator.post(path, {"outcome": "maybe"})
    assert bad.status_code == 422
    assert "Choose adopted, rejected or deferred." in bad.text
    long_note = await open_session.facilitator.post(
        path, {"outcome": "adopted", "note": "n" * 2001}
    )
    assert long_note.status_code == 422
    assert await row_counts(open_session) == before
    assert (await open_session.facilitator.post(path, {"outcome": "adopted"})).status_code == 200
    twice = await open_session.facilitator.post(path, {"outcome": "rejected"})
    assert twice.status_code == 409
    assert "already recorded" in twice.text


@pytest.mark.wire
async def test_websocket_refuses_foreign_origins(open_session: OpenSession, phone: Browser) -> None:
    with pytest.raises(websockets.InvalidStatus) as refused:
        await websockets.connect(
            f"{open_session.server.ws_base}/ws/{open_session.code}/phone",
            origin="http://evil.example",  # type: ignore[arg-type]
            additional_headers={"Cookie": phone.cookie_header()},
        )
    assert refused.value.response.status_code == 403


@pytest.mark.wire
@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("x" * 5000, 1009),
        (b"\x00\x01binary", 1003),
        ("not json", 1008),
        (json.dumps({"last_seq": -4}), 1008),
        (json.dumps({"last_seq": "abc"}), 1008),
        (json.dumps([1, 2]), 1008),
    ],
)
async def test_websocket_closes_on_bad_messages_with_a_code(
    open_session: OpenSession, phone: Browser, message: str | bytes, code: int
) -> None:
    ws = await websockets.connect(
        f"{open_session.server.ws_base}/ws/{open_session.code}/phone",
        origin=open_session.server.base_url,  # type: ignore[arg-type]
        additional_headers={"Cookie": phone.cookie_header()},
    )
    await ws.send(message)
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await ws.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == code


# Found by the input sweep (tests/test_input_sweep.py): numbers `str.isdigit` takes but
# `int` refuses ('²'), numbers past 64 bits (the database refuses them) and past 4,300
# digits (`int` refuses them) were server errors where a form or an address takes an id.
NOT_IDS = ["²", str(2**64), "9" * 5000]


@pytest.mark.parametrize(
    ("who", "path", "form", "status"),
    [
        ("phone", "/s/{code}/proposals", {"text": "Avec un besoin", "need": "{n}"}, 422),
        ("facilitator", "{base}/scripts/apply", {"script_id": "{n}"}, 422),
        ("facilitator", "{base}/proposals/{pid}/merge", {"into": "{n}"}, 422),
        ("facilitator", "{base}/proposals/{pid}/needs", {"need": "{n}"}, 422),
        ("facilitator", "{base}/steps", {"kind": "ideas", "title": "T", "minutes": "{n}"}, 422),
        ("facilitator", "{base}/steps", {"kind": "vote", "title": "T", "poll_id": "{n}"}, 422),
        (
            "facilitator",
            "{base}/polls",
            {"question": "Q ?", "method": "yes_no", "proposal": "{n}"},
            404,
        ),
        (
            "facilitator",
            "{base}/polls",
            {"question": "Q ?", "method": "yes_no", "quorum_percent": "{n}"},
            422,
        ),
        ("facilitator", "/roster/colleges", {"weight-{n}": "100"}, 422),
        ("facilitator", "/roster/colleges", {"weight-1": "{n}"}, 422),
        ("facilitator", "/roster/settings", {"proxy_cap": "{n}"}, 422),
    ],
)
async def test_numbers_that_are_no_ids_are_refused_and_store_nothing(
    open_session: OpenSession,
    phone: Browser,
    who: str,
    path: str,
    form: dict[str, str],
    status: int,
) -> None:
    client = phone if who == "phone" else open_session.facilitator
    pid = await existing_pid(open_session)
    before = await row_counts(open_session)
    for number in NOT_IDS:
        names = {
            "n": number,
            "code": open_session.code,
            "base": f"/sessions/{open_session.session_id}",
        }
        data = {k.format(pid=pid, **names): v.format(**names) for k, v in form.items()}
        response = await client.post(path.format(pid=pid, **names), data, htmx=False)
        assert response.status_code == status, (number[:30], response.text)
    assert await row_counts(open_session) == before


async def test_a_ballot_for_a_member_that_is_no_id_is_refused(
    open_session: OpenSession, phone: Browser
) -> None:
    base = f"/sessions/{open_session.session_id}/polls"
    made = await open_session.facilitator.post(
        base, {"question": "Q ?", "method": "yes_no"}, htmx=False
    )
    assert made.status_code == 303, made.text
    async with open_session.server.db.session() as db:
        poll_id = (await db.exec(select(Poll.id))).one()
    assert (
        await open_session.facilitator.post(f"{base}/{poll_id}/open", htmx=False)
    ).status_code == 303
    before = await row_counts(open_session)
    for number in NOT_IDS:
        ballot = await phone.post(
            f"/s/{open_session.code}/polls/{poll_id}/ballot", {"choice": "for", "as_member": number}
        )
        assert ballot.status_code == 404
        assert "No member has this number." in ballot.text
    assert await row_counts(open_session) == before


async def test_ids_past_64_bits_in_an_address_are_no_page(
    open_session: OpenSession, phone: Browser
) -> None:
    before = await row_counts(open_session)
    for huge in ("9" * 20, "9" * 5000):
        for path in (
            f"/sessions/{huge}/console",
            f"/projects/{huge}",
            f"/s/{open_session.code}/polls/{huge}",
        ):
            response = await open_session.facilitator.get(path)
            assert response.status_code == 404, path
            assert "This page does not exist." in response.text
        vote = await phone.post(f"/s/{open_session.code}/proposals/{huge}/vote", {"choice": "for"})
        assert vote.status_code == 404
    assert await row_counts(open_session) == before


@pytest.mark.wire
@pytest.mark.parametrize("last_seq", ["²", str(2**64), 2**64])
async def test_websocket_hello_with_a_number_that_is_no_event_number(
    open_session: OpenSession, phone: Browser, last_seq: str | int
) -> None:
    """'²' was a server error (the socket dropped without a close frame)."""
    ws = await websockets.connect(
        f"{open_session.server.ws_base}/ws/{open_session.code}/phone",
        origin=open_session.server.base_url,  # type: ignore[arg-type]
        additional_headers={"Cookie": phone.cookie_header()},
    )
    await ws.send(json.dumps({"last_seq": last_seq}))
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await ws.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1008
    assert closed.value.rcvd.reason == "last_seq must be a whole number"
