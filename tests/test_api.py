"""The read-only JSON API: tokens made by the command line, scoped to their facilitator,
every endpoint's content after a real session, JSON errors, a valid OpenAPI document,
and Schemathesis finding no server error and no answer outside the document."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import jsonschema
import pytest
import schemathesis
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings
from openapi_spec_validator import validate as validate_openapi
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlmodel import col, select
from starlette.routing import Route

from cocreate import opendata, tokens
from cocreate.app import routes
from cocreate.cli import main
from cocreate.models import (
    ApiToken,
    Decision,
    FollowUpUpdate,
    Indicator,
    utcnow,
)
from cocreate.views.api import OPENAPI
from tests.conftest import Browser, OpenSession, Server, open_session_for, signed_in
from tests.test_live_session import proposal_id_of
from tests.test_polls import act, create, vote

TOKEN_RE = re.compile(r"^cc_[A-Za-z0-9_-]{43}$", re.MULTILINE)
HOSTILE_IDEA = '=HYPERLINK("http://evil.example/","clic")'
HOSTILE_CALL = "=1+1 Assurer la salle"


# --- the command line --------------------------------------------------------------------


def cli(database_url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env={"COCREATE_DATABASE_URL": database_url})
    return result.exit_code, result.output


async def new_token(server: Server, email: str, name: str = "Tableau de bord") -> str:
    """A token made as a facilitator makes one: with ``cocreate token create``."""
    code, output = await asyncio.to_thread(
        cli, server.database_url, "token", "create", email, "--name", name
    )
    assert code == 0, output
    found = TOKEN_RE.findall(output)
    assert len(found) == 1, output
    return found[0]


async def api(
    server: Server, path: str, token: str | None = None, **headers: str
) -> httpx.Response:
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with server.client(timeout=10) as client:
        return await client.get(path, headers=headers)


async def test_tokens_are_made_listed_and_revoked_from_the_command_line(
    open_session: OpenSession,
) -> None:
    server = open_session.server
    code, output = await asyncio.to_thread(
        cli, server.database_url, "token", "create", "camille@example.org", "--name", "Portail"
    )
    assert code == 0, output
    assert "will not be shown again" in output
    secret = TOKEN_RE.findall(output)[0]
    async with server.db.session() as db:
        row = (await db.exec(select(ApiToken))).one()
    # Only the SHA-256 is kept: nothing stored is the secret or contains it.
    assert row.token_sha256 == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in row.model_dump_json()
    assert row.name == "Portail"
    assert row.last_used_at is None

    code, listed = await asyncio.to_thread(
        cli, server.database_url, "token", "list", "camille@example.org"
    )
    assert code == 0
    assert f"{row.id:>6}  Portail" in listed
    assert "last used never  active" in listed
    assert secret not in listed

    assert (await api(server, "/api/v1/projects", secret)).status_code == 200
    code, listed = await asyncio.to_thread(
        cli, server.database_url, "token", "list", "camille@example.org"
    )
    assert "last used never" not in listed
    assert "active" in listed

    code, revoked = await asyncio.to_thread(
        cli, server.database_url, "token", "revoke", "camille@example.org", str(row.id)
    )
    assert code == 0, revoked
    assert "is revoked" in revoked
    refused = await api(server, "/api/v1/projects", secret)
    assert refused.status_code == 401
    assert refused.json() == {"error": "This token is unknown or was revoked."}
    code, listed = await asyncio.to_thread(
        cli, server.database_url, "token", "list", "camille@example.org"
    )
    assert "revoked 20" in listed
    code, again = await asyncio.to_thread(
        cli, server.database_url, "token", "revoke", "camille@example.org", str(row.id)
    )
    assert (code, "already revoked" in again) == (1, True)


async def test_the_command_line_names_a_facilitator_by_e_mail_and_revokes_only_theirs(
    server: Server,
) -> None:
    code, output = await asyncio.to_thread(
        cli, server.database_url, "token", "create", "nobody@example.org", "--name", "X"
    )
    assert code == 1
    assert "Error: no facilitator has the e-mail nobody@example.org" in output
    assert "Traceback" not in output
    for email in ("camille@example.org", "dominique@example.org"):
        await (await signed_in(server, email)).close()
    await new_token(server, "camille@example.org")
    async with server.db.session() as db:
        camilles = (await db.exec(select(ApiToken))).one()
    code, output = await asyncio.to_thread(
        cli, server.database_url, "token", "revoke", "dominique@example.org", str(camilles.id)
    )
    assert code == 1
    assert "no token with this number" in output
    code, output = await asyncio.to_thread(
        cli, server.database_url, "token", "create", "camille@example.org", "--name", " "
    )
    assert code == 1
    assert "A name of 1 to 80 characters is needed." in output
    code, output = await asyncio.to_thread(
        cli, server.database_url, "token", "list", "dominique@example.org"
    )
    assert (code, output) == (0, "dominique@example.org has no API token.\n")


def test_only_our_tokens_shape_is_looked_up() -> None:
    made = tokens.TOKEN_PREFIX + "a" * 43
    assert tokens.looks_like_token(made)
    for wrong in ("", "cc_", "xx_" + "a" * 43, "cc_é", "cc_a b", "cc_" + "a" * 300, "cc_a\x00"):
        assert not tokens.looks_like_token(wrong), wrong


# --- who may read what ------------------------------------------------------------------


def assert_json_error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert isinstance(body["error"], str)
    assert body["error"]
    return body


async def test_the_api_asks_for_a_valid_token(open_session: OpenSession) -> None:
    server = open_session.server
    missing = await api(server, "/api/v1/projects")
    assert_json_error(missing, 401)
    assert missing.headers["www-authenticate"] == 'Bearer realm="cocreate"'
    for header in ("Basic Y2FtaWxsZTpzZWNyZXQ=", "Bearer", "Bearer  x y", "Token abc"):
        malformed = await api(server, "/api/v1/projects", Authorization=header)
        assert_json_error(malformed, 401)
        assert 'error="invalid_request"' in malformed.headers["www-authenticate"]
    for wrong in (tokens.TOKEN_PREFIX + "x" * 43, "cc_%C3%A9", "x" * 600):
        unknown = await api(server, "/api/v1/projects", wrong)
        assert_json_error(unknown, 401)
        assert "www-authenticate" in unknown.headers
    # The facilitator's signed-in browser is no credential here: its cookie is ignored.
    cookie_only = await open_session.facilitator.http.get("/api/v1/projects")
    assert_json_error(cookie_only, 401)
    assert "set-cookie" not in cookie_only.headers
    token = await new_token(server, "camille@example.org")
    lower_case = await api(server, "/api/v1/projects", Authorization=f"bearer {token}")
    assert lower_case.status_code == 200
    assert lower_case.headers["cache-control"] == "no-store"


async def test_a_token_reads_only_its_facilitators_projects(open_session: OpenSession) -> None:
    server = open_session.server
    other = await signed_in(server, "dominique@example.org")
    session_b = await open_session_for(server, other, title="Atelier B")
    open_session.devices.append(other)
    camille = await new_token(server, "camille@example.org")
    dominique = await new_token(server, "dominique@example.org")

    mine = (await api(server, "/api/v1/projects", dominique)).json()
    assert [p["id"] for p in mine["projects"]] == [session_b.project_id]
    assert [p["title"] for p in mine["projects"]] == ["Atelier B"]
    a = open_session.project_id
    # Another facilitator's project answers exactly as one that does not exist.
    missing = await api(server, "/api/v1/projects/999999", dominique)
    for path in (
        f"/api/v1/projects/{a}",
        f"/api/v1/projects/{a}/sessions",
        f"/api/v1/projects/{a}/decisions",
        f"/api/v1/projects/{a}/indicators",
    ):
        foreign = await api(server, path, dominique)
        assert assert_json_error(foreign, 404) == missing.json()
        assert (await api(server, path, camille)).status_code == 200
    session = await api(server, f"/api/v1/sessions/{open_session.session_id}", dominique)
    assert (
        assert_json_error(session, 404)
        == (await api(server, "/api/v1/sessions/999999", dominique)).json()
    )
    assert (await api(server, f"/api/v1/sessions/{session_b.session_id}", dominique)).is_success


async def test_a_token_is_noted_as_used_at_most_once_a_minute(open_session: OpenSession) -> None:
    server = open_session.server
    token = await new_token(server, "camille@example.org")

    async def last_used() -> Any:
        async with server.db.session() as db:
            return (await db.exec(select(ApiToken))).one().last_used_at

    assert await last_used() is None
    await api(server, "/api/v1/projects", token)
    first = await last_used()
    assert first is not None
    await api(server, "/api/v1/projects", token)
    assert await last_used() == first  # within the minute: no write
    earlier = utcnow() - tokens.LAST_USED_RESOLUTION - timedelta(seconds=1)
    async with server.db.session() as db:
        row = (await db.exec(select(ApiToken))).one()
        row.last_used_at = earlier
        db.add(row)
        await db.commit()
    await api(server, "/api/v1/projects", token)
    assert await last_used() > earlier


async def test_everything_under_api_answers_json(
    open_session: OpenSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = open_session.server
    token = await new_token(server, "camille@example.org")
    for path in (
        "/api/v1/projects/0",
        "/api/v1/projects/2147483648",
        "/api/v1/projects/99999999999",
        "/api/v1/projects/abc",
        "/api/v1/projects/%C2%B2",
        "/api/v1/sessions/-1",
        "/api/v1/nothing",
        "/api/",
    ):
        assert_json_error(await api(server, path, token), 404)
    async with server.client() as client:
        posted = await client.post("/api/v1/projects", headers={"Authorization": f"Bearer {token}"})
    assert_json_error(posted, 405)
    assert set(posted.headers["allow"].split(", ")) == {"GET", "HEAD"}

    def broken(**_: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(opendata, "project_list", broken)  # the server runs in this process
    assert_json_error(await api(server, "/api/v1/projects", token), 500)


# --- every endpoint, after a real session -------------------------------------------------


@dataclass
class Furnished:
    """Room A after a session with something for every endpoint to show."""

    idea_id: int
    need_id: int
    hidden_id: int
    hostile_id: int
    secret_poll_id: int
    named_poll_id: int
    show_of_hands: Decision
    call: Decision
    indicator_id: int
    phones: list[Browser]


async def furnish(open_session: OpenSession) -> Furnished:
    """Two phones, a secret and a named poll voted and closed, then an agenda: a need,
    an idea answering it, a comment, a vote and a show of hands; a decision taken
    outside a vote with its follow-up, and an impact indicator measured twice and
    linked to a decision."""
    code, sid, fac = open_session.code, open_session.session_id, open_session.facilitator
    awa, bruno = await open_session.phone("Awa"), await open_session.phone("Bruno")
    secret_poll = await create(open_session, question="Le mercredi aussi ?", method="yes_no")
    await act(open_session, secret_poll, "open")
    await vote(awa, open_session, secret_poll, {"choice": "for"})
    await vote(bruno, open_session, secret_poll, {"choice": "against"})
    await act(open_session, secret_poll, "close")
    named_poll = await create(open_session, question="Le samedi ?", method="yes_no", secret="0")
    await act(open_session, named_poll, "open")
    await vote(bruno, open_session, named_poll, {"choice": "abstain"})
    await act(open_session, named_poll, "close")
    for text in (HOSTILE_IDEA, "Une idée à masquer"):
        sent = await bruno.post(f"/s/{code}/proposals", {"text": text})
        assert sent.status_code == 200, sent.text
    hostile_id = await proposal_id_of(open_session, HOSTILE_IDEA)
    hidden_id = await proposal_id_of(open_session, "Une idée à masquer")
    hidden = await fac.post(f"/sessions/{sid}/proposals/{hidden_id}/hide")
    assert hidden.status_code == 200, hidden.text

    steps = (("needs", "Besoins"), ("ideas", "Idées"), ("discussion", "Débat"), ("vote", "Vote"))
    for kind, title in steps:
        added = await fac.post(f"/sessions/{sid}/steps", {"kind": kind, "title": title})
        assert added.status_code == 200, added.text
    await fac.post(f"/sessions/{sid}/agenda/start")
    await awa.post(f"/s/{code}/needs", {"text": "Les enfants n'ont pas de lieu le soir"})
    need_id = await proposal_id_of(open_session, "Les enfants n'ont pas de lieu le soir")
    await fac.post(f"/sessions/{sid}/agenda/next")
    proposed = await awa.post(
        f"/s/{code}/proposals", {"text": "Ouvrir la salle des fêtes le soir", "need": str(need_id)}
    )
    assert proposed.status_code == 200, proposed.text
    idea_id = await proposal_id_of(open_session, "Ouvrir la salle des fêtes le soir")
    await fac.post(f"/sessions/{sid}/agenda/next")
    said = await awa.post(f"/s/{code}/proposals/{idea_id}/comments", {"text": "Avec des bénévoles"})
    assert said.status_code == 200, said.text
    await fac.post(f"/sessions/{sid}/agenda/next")
    for phone, choice in ((awa, "for"), (bruno, "against")):
        voted = await phone.post(f"/s/{code}/proposals/{idea_id}/vote", {"choice": choice})
        assert voted.status_code == 200, voted.text
    decided = await fac.post(
        f"/sessions/{sid}/proposals/{idea_id}/decision", {"outcome": "adopted", "note": ""}
    )
    assert decided.status_code == 200, decided.text

    base = f"/projects/{open_session.project_id}/decisions"
    called = await fac.post(
        base, {"text": HOSTILE_CALL, "outcome": "adopted", "note": "Bureau du 3 mars"}, htmx=False
    )
    assert called.status_code == 303, called.text
    follow_up = {"owner": "Commission locaux", "due_on": "2026-06-30", "review_on": ""}
    for status, progress, note in (("in_progress", "40", "Devis demandé"), ("done", "", "")):
        done = await fac.post(
            called.headers["location"] + "/follow-up",
            {**follow_up, "status": status, "progress": progress, "note": note},
            htmx=False,
        )
        assert done.status_code == 303, done.text

    async with open_session.server.db.session() as db:
        show_of_hands = (
            await db.exec(select(Decision).where(Decision.proposal_id == idea_id))
        ).one()
        call = (await db.exec(select(Decision).where(Decision.method == "facilitator"))).one()
    impact = f"/projects/{open_session.project_id}/impact"
    made = await fac.post(
        impact,
        {
            "family": "social",
            "name": "Enfants accueillis le soir",
            "unit": "enfants",
            "baseline": "0",
            "target": "25,5",  # typed the French way, stored as 25.5
        },
        htmx=False,
    )
    assert made.status_code == 303, made.text
    async with open_session.server.db.session() as db:
        indicator_id = int((await db.exec(select(Indicator.id))).one() or 0)
    for day, value, note in (("2026-03-01", "12,5", "Mars"), ("2026-01-01", "4", "")):
        measured = await fac.post(
            f"{impact}/{indicator_id}/measurements",
            {"measured_on": day, "value": value, "note": note},
            htmx=False,
        )
        assert measured.status_code == 303, measured.text
    linked = await fac.post(
        f"{impact}/{indicator_id}/decisions", {"decision": str(show_of_hands.id)}, htmx=False
    )
    assert linked.status_code == 303, linked.text
    return Furnished(
        idea_id=idea_id,
        need_id=need_id,
        hidden_id=hidden_id,
        hostile_id=hostile_id,
        secret_poll_id=secret_poll,
        named_poll_id=named_poll,
        show_of_hands=show_of_hands,
        call=call,
        indicator_id=indicator_id,
        phones=[awa, bruno],
    )


def conforms(document: Any, schema_name: str) -> None:
    """The document matches its schema in the OpenAPI description (formats checked)."""
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": OPENAPI["components"]}
    jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(document)


async def test_every_endpoint_tells_what_the_session_did(open_session: OpenSession) -> None:
    server, pid = open_session.server, open_session.project_id
    made = await furnish(open_session)
    token = await new_token(server, "camille@example.org")

    async def get(path: str, schema: str) -> Any:
        response = await api(server, path, token)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        document = response.json()
        conforms(document, schema)
        return document

    listed = await get("/api/v1/projects", "ProjectList")
    assert [p["id"] for p in listed["projects"]] == [pid]
    project = await get(f"/api/v1/projects/{pid}", "ProjectDetail")
    assert project["title"] == "Atelier"
    assert project["need"] == "Un besoin réel"
    assert project["territory"] == "Lyon"
    assert project["counts"] == {"sessions": 1, "decisions": 4, "indicators": 1}
    assert project["register"]["length"] == 4
    assert project["decisions_published_at"] is None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", project["created_at"])

    sessions = await get(f"/api/v1/projects/{pid}/sessions", "SessionList")
    assert [(s["id"], s["title"], s["status"]) for s in sessions["sessions"]] == [
        (open_session.session_id, "Atelier 1", "open")
    ]
    session = await get(f"/api/v1/sessions/{open_session.session_id}", "SessionDetail")
    assert session["participants"] == 2
    # The room saw one need and two ideas (the hidden one is not counted).
    assert session["contributions"] == {"needs": 1, "ideas": 2}
    polls = {p["id"]: p for p in session["polls"]}
    assert set(polls) == {made.secret_poll_id, made.named_poll_id}
    secret_poll = polls[made.secret_poll_id]
    assert (secret_poll["secret"], secret_poll["method"]) == (True, "yes_no")
    assert secret_poll["result"]["counts"] == {"for": 1, "against": 1, "abstain": 0, "blank": 0}
    assert re.fullmatch(r"[0-9a-f]{64}", secret_poll["ballots_sha256"])
    assert polls[made.named_poll_id]["secret"] is False
    assert len(session["decision_ids"]) == 3  # two polls and a show of hands

    register = await get(f"/api/v1/projects/{pid}/decisions", "DecisionList")
    assert register["verification"]["intact"] is True
    assert register["verification"]["entries"] == 4
    entries = register["decisions"]
    assert [e["position"] for e in entries] == [1, 2, 3, 4]  # oldest first
    assert [e["method"] for e in entries] == ["yes_no", "yes_no", "show_of_hands", "facilitator"]
    assert all(
        e["seal"]["prev_hash"] == p["seal"]["entry_hash"] for p, e in itertools.pairwise(entries)
    )
    assert entries[-1]["seal"]["entry_hash"] == project["register"]["head"]
    hands = entries[2]
    assert hands["id"] == made.show_of_hands.id
    assert hands["text"] == "Ouvrir la salle des fêtes le soir"
    assert hands["votes"] == {"for": 1, "against": 1, "abstain": 0}
    assert hands["needs"] == ["Les enfants n'ont pas de lieu le soir"]
    assert hands["provenance"]["proposals"][0]["comments"] == ["Avec des bénévoles"]
    assert hands["session_title"] == "Atelier 1"
    assert hands["follow_up"] is None
    call = entries[3]
    assert (call["text"], call["note"], call["session_id"]) == (
        HOSTILE_CALL,
        "Bureau du 3 mars",
        None,
    )
    follow = call["follow_up"]
    assert (follow["owner"], follow["status"], follow["progress"]) == (
        "Commission locaux",
        "done",
        100,
    )
    assert follow["due_on"] == "2026-06-30"
    assert [(u["status"], u["progress"], u["note"]) for u in follow["updates"]] == [
        ("in_progress", 40, "Devis demandé"),
        ("done", 100, ""),
    ]
    async with server.db.session() as db:
        stored = (await db.exec(select(FollowUpUpdate).order_by(col(FollowUpUpdate.id)))).all()
    assert [u["written_at"] for u in follow["updates"]] == [
        s.written_at.strftime("%Y-%m-%dT%H:%M:%SZ") for s in stored
    ]

    indicators = await get(f"/api/v1/projects/{pid}/indicators", "IndicatorList")
    [indicator] = indicators["indicators"]
    assert indicator["family"] == "social"
    assert indicator["unit"] == "enfants"
    assert indicator["baseline"] == {"value": "0", "number": 0}
    assert indicator["target"] == {"value": "25.5", "number": 25.5}
    assert indicator["decision_ids"] == [made.show_of_hands.id]
    assert [(m["measured_on"], m["value"]) for m in indicator["measurements"]] == [
        ("2026-01-01", {"value": "4", "number": 4}),
        ("2026-03-01", {"value": "12.5", "number": 12.5}),
    ]


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("12.5", 12.5),
        ("12,5", 12.5),
        ("-3", -3),
        ("0.1", 0.1),
        ("1e3", 1000),
        ("9007199254740993", 9007199254740992.0),  # past 2**53: a float, as JSON reads it
        ("1e999999", None),  # finite for Decimal, infinite for a JSON reader
        ("NaN", None),
        ("Infinity", None),
        ("douze", None),
        ("", None),
    ],
)
def test_a_stored_decimal_is_also_given_as_a_number(text: str, number: float | None) -> None:
    assert opendata.decimal_number(text) == number
    assert opendata.measured(text) == {"value": text, "number": number}


# --- the description, and Schemathesis against it ----------------------------------------


def test_the_openapi_document_is_valid_and_describes_every_api_route() -> None:
    validate_openapi(OPENAPI)  # raises on any error; OpenAPI 3.1 recognised by its version
    assert OPENAPI["openapi"] == "3.1.0"
    described = set(OPENAPI["paths"])
    served = {
        re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
        for route in routes
        if isinstance(route, Route) and route.path.startswith("/api/")
    }
    assert served == described
    for path, item in OPENAPI["paths"].items():
        answers = item["get"]["responses"]
        if path != "/api/v1/openapi.json":
            assert {"200", "401", "404"} <= set(answers), path
            assert "security" not in item["get"]  # the document's: a bearer token
    assert OPENAPI["security"] == [{"bearer": []}]
    assert OPENAPI["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


async def test_the_served_description_is_the_document_and_needs_no_token(server: Server) -> None:
    served = await api(server, "/api/v1/openapi.json")
    assert served.status_code == 200
    assert served.json() == json.loads(json.dumps(OPENAPI))


SCHEMATHESIS_EXAMPLES = 25  # per operation and per run: about 300 requests, a few seconds


def fuzz(base_url: str, token: str, real_ids: dict[str, int]) -> int:
    """Schemathesis's cases for every operation, with generated ids then with the real
    ones (so that full documents are checked too); the number of requests sent."""
    schema = schemathesis.openapi.from_dict(json.loads(json.dumps(OPENAPI)))
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    sent = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        names = [p.name for p in operation.path_parameters]
        for fixed in ({}, {name: real_ids[name] for name in names}):
            if not names and fixed == {}:
                continue  # a path without ids: the real run covers it

            @given(case=operation.as_strategy(path_parameters=fixed or None))
            @settings(
                max_examples=SCHEMATHESIS_EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                phases=(Phase.explicit, Phase.generate),
                suppress_health_check=list(HealthCheck),
            )
            def check(case: schemathesis.Case) -> None:
                nonlocal sent
                sent += 1
                case.call_and_validate(
                    base_url=base_url,
                    headers={"Authorization": f"Bearer {token}"},
                    checks=checks,
                )

            check()
    return sent


@pytest.mark.wire
async def test_schemathesis_finds_no_server_error_and_nothing_undescribed(
    open_session: OpenSession,
) -> None:
    made = await furnish(open_session)
    token = await new_token(open_session.server, "camille@example.org")
    real_ids = {"project_id": open_session.project_id, "session_id": open_session.session_id}
    sent = await asyncio.to_thread(fuzz, open_session.server.base_url, token, real_ids)
    assert sent >= 7 * 2 * 3  # every operation ran, more than a handful of times each
    assert made.indicator_id
