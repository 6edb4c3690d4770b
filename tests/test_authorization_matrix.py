"""Who may do what: every route and every live audience, for every role, against one
policy table.

Roles: an anonymous visitor; a participant of session A; a participant of session B
(another facilitator's); a member of the cooperative who joined A with their voting
code; a member holding another member's proxy; A's facilitator; another facilitator.
Each case below names a route, the objects it acts on and the roles it allows; the
test sends it as every role and sorts the answer: refused (403, 401, or a redirect to
sign in) or let through (anything else: done, or refused by a rule of the session
such as a closed vote — which is not about who asks). Every route of the app must
appear in a case, so a new route cannot be added without deciding who may use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
import pytest
import websockets
from sqlmodel import col, select
from starlette.routing import Route

from cocreate.app import routes
from cocreate.models import (
    Decision,
    Indicator,
    Member,
    Participant,
    Poll,
    Proposal,
    Proxy,
    Step,
    Survey,
)
from tests.conftest import Browser, OpenSession, open_session_for, signed_in
from tests.test_roster import ROSTER, import_csv, record_proxy, set_cap

ROLES = (
    "anonymous",
    "participant_a",
    "participant_b",
    "member",
    "proxy_holder",
    "facilitator_a",
    "facilitator_other",
)
EVERYONE = frozenset(ROLES)
IN_A = frozenset({"participant_a", "member", "proxy_holder"})
MEMBERS_IN_A = frozenset({"member", "proxy_holder"})
FACILITATORS = frozenset({"facilitator_a", "facilitator_other"})
OWNER = frozenset({"facilitator_a"})
NOBODY: frozenset[str] = frozenset()


@dataclass
class World:
    """Session A with everything a route can act on, and a client per role."""

    open_session: OpenSession
    clients: dict[str, Browser]
    ids: dict[str, int | str] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    name: str  # the route's name
    method: str
    path: str  # with {placeholders} filled from World.ids
    allowed: frozenset[str]
    form: dict[str, str] = field(default_factory=dict)
    label: str = ""  # when one route has several cases

    def url(self, world: World) -> str:
        return self.path.format(**world.ids)


S, F = "/s/{code}", "/sessions/{session_id}"
P, Q = "/proposals/{proposal_id}", "/polls/{poll_id}"
D = "/projects/{project_id}/decisions"
CORRECTION = {"text": "Corrigé", "outcome": "adopted", "note": "Erreur de saisie"}
IMPACT = "/projects/{project_id}/impact/{indicator_id}"
INDICATOR = {"family": "social", "name": "Repas", "baseline": "0"}
MEASUREMENT = {"measured_on": "2026-01-01", "value": "3"}
FOLLOW_UP = {"owner": "Le bureau", "status": "in_progress", "progress": "20", "note": ""}

CASES: list[Case] = [
    # Everyone: the public pages, joining, signing in.
    Case("home", "GET", "/", EVERYONE),
    Case("join_by_code", "GET", "/join?code={code}", EVERYONE),
    Case("set_language", "POST", "/language", EVERYONE, {"locale": "fr", "next": "/"}),
    Case("health", "GET", "/health", EVERYONE),
    # The JSON API: its description for anyone; its data for a token (``Authorization:
    # Bearer``) only, never a cookie: no browser gets in, whoever is signed in (401).
    Case("api_openapi", "GET", "/api/v1/openapi.json", EVERYONE),
    Case("api_projects", "GET", "/api/v1/projects", NOBODY),
    Case("api_project", "GET", "/api/v1/projects/{project_id}", NOBODY),
    Case("api_project_sessions", "GET", "/api/v1/projects/{project_id}/sessions", NOBODY),
    Case("api_session", "GET", "/api/v1/sessions/{session_id}", NOBODY),
    Case("api_project_decisions", "GET", "/api/v1/projects/{project_id}/decisions", NOBODY),
    Case("api_project_indicators", "GET", "/api/v1/projects/{project_id}/indicators", NOBODY),
    Case("participant_session", "GET", S, EVERYONE),
    # Questionnaires: anyone with the link reads it; the session's participants answer.
    Case("survey_page", "GET", "/f/{survey_code}", EVERYONE),
    Case("survey_qr", "GET", "/f/{survey_code}/qr.svg", EVERYONE),
    Case("answer_survey", "POST", "/f/{survey_code}", IN_A, {"rating": "4", "comment": ""}),
    Case("participant_link", "POST", S + "/link", IN_A),
    Case("screen", "GET", S + "/screen", EVERYONE),
    Case("qr_code", "GET", S + "/qr.svg", EVERYONE),
    Case("member_link", "GET", "/m/{member_code}", EVERYONE),
    Case("login_page", "GET", "/login", EVERYONE),
    Case("login", "POST", "/login", EVERYONE, {"email": "x@example.org", "password": "no"}),
    # A closed poll's result and ballots are the room's to check (receipts).
    Case("poll_result", "GET", S + "/polls/{closed_poll_id}", EVERYONE),
    Case("ballot_export", "GET", S + "/polls/{closed_poll_id}/ballots.json", EVERYONE),
    # A member declares a proxy with their own voting code: the code is the credential.
    Case(
        "declare_proxy",
        "POST",
        S + "/proxies",
        EVERYONE,
        {"voting_code": "{spare_code}", "holder": "002"},
    ),
    # The participants of A.
    Case("propose", "POST", S + "/proposals", IN_A, {"text": "Une idée"}),
    Case("describe_need", "POST", S + "/needs", IN_A, {"text": "Un besoin"}),
    Case("comment", "POST", S + P + "/comments", IN_A, {"text": "Un avis"}),
    Case("vote", "POST", S + P + "/vote", IN_A, {"choice": "for"}),
    Case("my_vote", "GET", S + P + "/vote", IN_A),
    Case("react", "POST", S + P + "/reaction", IN_A, {"reaction": "agree"}),
    Case("ballot", "POST", S + Q + "/ballot", IN_A, {"choice": "for"}, "consultative"),
    Case("my_ballots", "GET", S + Q + "/ballots", IN_A),
    # A binding poll: members only; a proxy holder also votes for their principal.
    Case("ballot", "POST", S + "/polls/{binding_poll_id}/ballot", MEMBERS_IN_A, {"choice": "for"}),
    Case(
        "ballot",
        "POST",
        S + "/polls/{binding_poll_id}/ballot",
        frozenset({"proxy_holder"}),
        {"choice": "against", "as_member": "{principal_id}"},
        "as proxy",
    ),
    # Any facilitator: their own projects and roster.
    Case("projects", "GET", "/projects", FACILITATORS),
    Case("password_page", "GET", "/account/password", FACILITATORS),
    # A wrong current password: let through (and refused by the rule), nothing changes.
    Case(
        "change_password",
        "POST",
        "/account/password",
        FACILITATORS,
        {"current_password": "not it", "new_password": "x" * 12, "repeat_password": "x" * 12},
    ),
    Case("create_project", "POST", "/projects", FACILITATORS, {"title": "P", "need": "N"}),
    Case("roster", "GET", "/roster", FACILITATORS),
    Case("voting_sheet", "GET", "/roster/sheet", FACILITATORS),
    Case("save_member", "POST", "/roster/member", FACILITATORS, {"name": "Eve", "number": "9"}),
    Case("set_colleges", "POST", "/roster/colleges", FACILITATORS, {"weights": ""}),
    Case("roster_settings", "POST", "/roster/settings", FACILITATORS, {"proxy_cap": "2"}),
    # A's facilitator only.
    Case("project", "GET", "/projects/{project_id}", OWNER),
    Case("create_session", "POST", "/projects/{project_id}/sessions", OWNER, {"title": "T"}),
    Case("decisions", "GET", D, OWNER),  # not published
    Case("decision", "GET", D + "/{decision_id}", OWNER),  # not published
    Case("record_call", "POST", D, OWNER, {"text": "Un local", "outcome": "adopted", "note": "CA"}),
    Case("correct", "POST", D + "/{decision_id}/correction", OWNER, {**CORRECTION}),
    Case("follow_up", "POST", D + "/{decision_id}/follow-up", OWNER, {**FOLLOW_UP}),
    Case("survey", "POST", D + "/{asked_decision_id}/survey", OWNER),
    Case("impact", "GET", "/projects/{project_id}/impact", OWNER),  # not published
    Case("add_indicator", "POST", "/projects/{project_id}/impact", OWNER, {**INDICATOR}),
    Case(
        "measure",
        "POST",
        IMPACT + "/measurements",
        OWNER,
        {"measured_on": "2026-01-01", "value": "3"},
    ),
    Case("link_impact", "POST", IMPACT + "/decisions", OWNER, {"decision": "{decision_id}"}),
    Case("console", "GET", F + "/console", OWNER),
    Case("people", "GET", F + "/people", OWNER),
    Case("poll_proposals", "GET", F + "/polls/proposals", OWNER),
    Case("minutes", "GET", F + "/minutes", OWNER),
    Case("minutes_pdf", "GET", F + "/minutes.pdf", OWNER),
    Case("contributions_csv", "GET", F + "/contributions.csv", OWNER),
    Case("open_data", "GET", "/projects/{project_id}/export/ballots.csv", OWNER),
    Case("open_data", "GET", "/projects/{project_id}/export/decisions.json", OWNER, label="json"),
    Case("open_session", "POST", F + "/open", OWNER),
    Case("approve", "POST", F + P + "/approve", OWNER),
    Case("pin", "POST", F + P + "/pin", OWNER),
    Case("unpin", "POST", F + P + "/unpin", OWNER),
    Case("edit_text", "POST", F + P + "/edit", OWNER, {"text": "Une idée, corrigée"}),
    Case("link_need", "POST", F + P + "/needs", OWNER, {"need": "{need_id}"}),
    Case("merge", "POST", F + P + "/merge", OWNER, {"into": "{other_proposal_id}"}),
    Case("hide", "POST", F + P + "/hide", OWNER),
    Case("restore", "POST", F + P + "/restore", OWNER),
    Case("close_vote", "POST", F + P + "/close-vote", OWNER),
    Case("decide", "POST", F + P + "/decision", OWNER, {"outcome": "adopted", "note": ""}),
    Case("add_step", "POST", F + "/steps", OWNER, {"kind": "ideas", "title": "Idées"}),
    Case("edit_step", "POST", F + "/steps/{step_id}", OWNER, {"kind": "ideas", "title": "I"}),
    Case("move_step", "POST", F + "/steps/{step_id}/move", OWNER, {"direction": "down"}),
    Case("save_script", "POST", F + "/scripts", OWNER, {"name": "Mon déroulé"}),
    Case("apply_script", "POST", F + "/scripts/apply", OWNER, {"script_id": "0"}),
    Case("room_settings", "POST", F + "/room", OWNER, {"premoderation": ""}),
    Case("create_poll", "POST", F + "/polls", OWNER, {"question": "Q ?", "method": "yes_no"}),
    Case("open_poll", "POST", F + "/polls/{draft_poll_id}/open", OWNER),
    Case("close_poll", "POST", F + Q + "/close", OWNER),
    Case("next_round", "POST", F + Q + "/next-round", OWNER, {"question": "Q bis ?"}),
    Case("record_proxy", "POST", F + "/proxies", OWNER, {"principal": "004", "holder": "002"}),
    Case("agenda_move", "POST", F + "/agenda/start", OWNER),
    Case("timer", "POST", F + "/timer/pause", OWNER),
    Case("reveal", "POST", F + "/reveal", OWNER),
    Case("present", "POST", F + "/present", OWNER, {"shown": "join"}),
    Case("present_move", "POST", F + "/present/next", OWNER),
    Case("delete_step", "POST", F + "/steps/{step_id}/delete", OWNER),
    # Last: what changes who may do the rest.
    Case("import_roster", "POST", "/roster/import", FACILITATORS),  # an empty file: refused
    Case("revoke_proxy", "POST", F + "/proxies/{proxy_id}/revoke", OWNER),
    Case("publish_decisions", "POST", "/projects/{project_id}/publish", OWNER, {"published": "1"}),
    Case("remove_participant", "POST", F + "/participants/{participant_id}/remove", OWNER),
    Case("reopen_session", "POST", F + "/reopen", OWNER),  # open: refused by its rule
    Case("close_session", "POST", F + "/close", OWNER),
    # Joining again and signing out: sent from a copy of each client (see below).
    Case("participant_join", "POST", S + "/join", EVERYONE, {"display_name": "Encore"}),
    Case("join_member", "POST", S + "/join-member", EVERYONE, {"voting_code": "{spare_code}"}),
    Case("open_participant_link", "GET", "/p/{link_token}", EVERYONE),
    Case("confirm_participant_link", "POST", "/p/{link_token}", EVERYONE),
    Case("close_survey", "POST", D + "/{asked_decision_id}/survey/close", OWNER),
    # The very last: signing out revokes every cookie of the account, the role's own.
    Case("logout", "POST", "/logout", EVERYONE),
]
# Sent from a throwaway copy of the role's client: they change who the client is.
IDENTITY_CHANGING = {
    "participant_join",
    "join_member",
    "logout",
    "login",
    "confirm_participant_link",  # opening the link asks first: only confirming changes it
}


def refused(status: int, location: str) -> bool:
    return status in (401, 403) or (status in (302, 303) and location.startswith("/login"))


async def build_world(open_session: OpenSession) -> World:
    server, facilitator = open_session.server, open_session.facilitator
    await import_csv(open_session, ROSTER + "Denis Blanc;004;;Usagers\nEmma Noir;005;;Usagers\n")
    await set_cap(open_session, 2)
    assert await record_proxy(open_session, "003", "001") == 303  # Alice holds Chantal's proxy
    async with server.db.session() as db:
        members = {m.number: m for m in (await db.exec(select(Member))).all()}

    async def member_phone(number: str) -> Browser:
        phone = Browser(server)
        await phone.get(f"/s/{open_session.code}")
        joined = await phone.post(
            f"/s/{open_session.code}/join-member",
            {"voting_code": members[number].voting_code},
            htmx=False,
        )
        assert joined.status_code == 303, joined.text
        await phone.get(f"/s/{open_session.code}")
        return phone

    other = await signed_in(server, "dominique@example.org")
    session_b = await open_session_for(server, other, title="Atelier B")
    participant_b = Browser(server)
    await participant_b.get(f"/s/{session_b.code}")
    await participant_b.post(f"/s/{session_b.code}/join", {"display_name": "Bea"}, htmx=False)
    clients = {
        "anonymous": Browser(server),
        "participant_a": await open_session.phone("Awa"),
        "participant_b": participant_b,
        "member": await member_phone("002"),
        "proxy_holder": await member_phone("001"),
        "facilitator_a": facilitator,
        "facilitator_other": other,
    }
    await clients["anonymous"].get("/")
    open_session.devices.extend(c for c in clients.values() if c is not facilitator)

    awa = clients["participant_a"]
    for text in ("Une cuisine partagée", "Une cuisine commune"):
        assert (
            await awa.post(f"/s/{open_session.code}/proposals", {"text": text})
        ).status_code == 200

    async def poll(question: str, **extra: str) -> int:
        made = await facilitator.post(
            f"/sessions/{open_session.session_id}/polls",
            {"question": question, "method": "yes_no", "secret": "1", **extra},
            htmx=False,
        )
        assert made.status_code == 303, made.text
        async with server.db.session() as db:
            found = (await db.exec(select(Poll).where(Poll.question == question))).one()
        return int(found.id or 0)

    async def poll_action(poll_id: int, action: str) -> None:
        done = await facilitator.post(
            f"/sessions/{open_session.session_id}/polls/{poll_id}/{action}", htmx=False
        )
        assert done.status_code == 303, done.text

    consultative, binding = await poll("Avis ?"), await poll("Statuts ?", binding="1")
    closed, draft = await poll("Fermé ?"), await poll("Brouillon ?")
    for poll_id in (consultative, binding, closed):
        await poll_action(poll_id, "open")
    await poll_action(closed, "close")
    added = await facilitator.post(
        f"/sessions/{open_session.session_id}/steps",
        {"kind": "ideas", "title": "Idées"},
        htmx=False,
    )
    assert added.status_code in (200, 303), added.text
    async with server.db.session() as db:
        proposals = (await db.exec(select(Proposal).order_by(col(Proposal.id)))).all()
        step = (await db.exec(select(Step))).first()
        proxy = (await db.exec(select(Proxy))).one()
        awa_row = (
            await db.exec(select(Participant).where(Participant.display_name == "Awa"))
        ).one()
        decision = (await db.exec(select(Decision).where(Decision.poll_id == closed))).one()
    ideas = [p for p in proposals if p.kind == "idea"]
    assert step is not None
    asked = await asked_decision(open_session=open_session, awa=awa)
    return World(
        open_session,
        clients,
        {
            "code": open_session.code,
            "session_id": open_session.session_id,
            "project_id": open_session.project_id,
            "proposal_id": int(ideas[0].id or 0),
            "other_proposal_id": int(ideas[1].id or 0),
            # No need on the free wall (needs have a step of their own): any id will do,
            # what is checked is who may link.
            "need_id": int(ideas[1].id or 0),
            "poll_id": consultative,
            "binding_poll_id": binding,
            "closed_poll_id": closed,
            "draft_poll_id": draft,
            "step_id": int(step.id or 0),
            "decision_id": int(decision.id or 0),
            **asked,
            "proxy_id": int(proxy.id or 0),
            "participant_id": int(awa_row.id or 0),
            "principal_id": int(members["003"].id or 0),
            "member_code": members["005"].voting_code,
            "spare_code": members["004"].voting_code,
        },
    )


async def asked_decision(open_session: OpenSession, awa: Browser) -> dict[str, int | str]:
    """A decision taken in session A with an open questionnaire, an indicator, and Awa's
    own participant link."""
    facilitator, server = open_session.facilitator, open_session.server
    sent = await awa.post(f"/s/{open_session.code}/proposals", {"text": "Un jardin partagé"})
    assert sent.status_code == 200, sent.text
    async with server.db.session() as db:
        garden = (await db.exec(select(Proposal).where(Proposal.text == "Un jardin partagé"))).one()
    decided = await facilitator.post(
        f"/sessions/{open_session.session_id}/proposals/{garden.id}/decision",
        {"outcome": "adopted"},
    )
    assert decided.status_code == 200, decided.text
    async with server.db.session() as db:
        decision = (await db.exec(select(Decision).where(Decision.proposal_id == garden.id))).one()
    base = f"/projects/{open_session.project_id}"
    opened = await facilitator.post(f"{base}/decisions/{decision.id}/survey", htmx=False)
    assert opened.status_code == 303, opened.text
    made = await facilitator.post(f"{base}/impact", {**INDICATOR}, htmx=False)
    assert made.status_code == 303, made.text
    linked = await awa.post(f"/s/{open_session.code}/link", {}, htmx=False)
    assert linked.status_code == 200, linked.text
    async with server.db.session() as db:
        survey = (await db.exec(select(Survey))).one()
        indicator = (await db.exec(select(Indicator))).one()
        token = (
            await db.exec(select(Participant.link_token).where(Participant.display_name == "Awa"))
        ).one()
    assert token is not None
    return {
        "asked_decision_id": int(decision.id or 0),
        "survey_code": survey.code,
        "indicator_id": int(indicator.id or 0),
        "link_token": token,
    }


async def send(world: World, role: str, case: Case) -> tuple[int, str]:
    client = world.clients[role]
    if case.name in IDENTITY_CHANGING:
        client = Browser(world.open_session.server)
        client.http.cookies = httpx.Cookies(world.clients[role].http.cookies)
        client.csrf = world.clients[role].csrf
        world.open_session.devices.append(client)
    form = {k: v.format(**world.ids) for k, v in case.form.items()}
    if case.method == "GET":
        response = await client.http.get(case.url(world))
    elif case.name == "import_roster":
        response = await client.http.post(
            case.url(world),
            data={"csrf_token": client.csrf},
            files={"file": ("roster.csv", b"", "text/csv")},
        )
    else:
        response = await client.post(case.url(world), form)
    return response.status_code, response.headers.get("location", "")


async def test_every_route_answers_every_role_as_the_policy_says(open_session: OpenSession) -> None:
    named = {r.name for r in routes if isinstance(r, Route)}
    missing = named - {case.name for case in CASES}
    assert not missing, f"routes without a policy: {sorted(missing)}"
    world = await build_world(open_session)
    mismatches = []
    cells = 0
    for case in CASES:
        for role in ROLES:
            status, location = await send(world, role, case)
            cells += 1
            expected_allowed = role in case.allowed
            if refused(status, location) == expected_allowed or status >= 500:
                mismatches.append(
                    f"{case.name}{f' ({case.label})' if case.label else ''} {case.method} "
                    f"{case.url(world)} as {role}: {status} {location} "
                    f"(expected {'allowed' if expected_allowed else 'refused'})"
                )
    print(f"authorization matrix: {cells} cells, {cells - len(mismatches)} as the policy says")
    assert not mismatches, "\n".join(mismatches)


LIVE: list[tuple[str, frozenset[str]]] = [
    ("phone", IN_A),
    ("screen", EVERYONE),
    ("console", OWNER),
]


async def live_outcome(world: World, role: str, audience: str) -> int | None:
    """None if the socket was let in (its snapshot came), else its close code."""
    open_session = world.open_session
    ws = await websockets.connect(
        f"{open_session.server.ws_base}/ws/{open_session.code}/{audience}",
        origin=open_session.server.base_url,  # type: ignore[arg-type]
        additional_headers={"Cookie": world.clients[role].cookie_header()},
        compression=None,
    )
    try:
        await ws.send('{"last_seq": null}')
        frame = await ws.recv()
    except websockets.ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else -1
    finally:
        await ws.close()
    assert 'id="live-seq"' in str(frame)
    return None


@pytest.mark.wire
@pytest.mark.parametrize(("audience", "allowed"), LIVE)
async def test_every_live_audience_lets_in_only_whom_the_policy_says(
    open_session: OpenSession, audience: str, allowed: frozenset[str]
) -> None:
    world = await build_world(open_session)
    outcomes = {role: await live_outcome(world, role, audience) for role in ROLES}
    expected = {role: None if role in allowed else 1008 for role in ROLES}
    assert outcomes == expected
