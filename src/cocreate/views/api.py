"""The read-only JSON API (``/api/v1/…``) and its OpenAPI description.

A script (a dashboard, a funder's report, an open data portal) reads a facilitator's
projects with a token made by ``cocreate token create``, sent as ``Authorization:
Bearer <token>``. It reads exactly what that facilitator may: a project of someone
else answers 404, as one that does not exist, so a token tells nothing of other
facilitators' projects. Only GET: nothing here changes anything but a token's
``last_used_at``, so no CSRF token is asked (a cookie is not a credential here).

Everything under ``/api/`` answers JSON, errors included (``{"error": "…"}`` in
English): ``app.py``'s error handlers ask ``is_api`` before rendering a page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from functools import wraps
from typing import Any

from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response

from cocreate import opendata, tokens
from cocreate.errors import RuleError
from cocreate.models import MAX_ID, key, utcnow
from cocreate.views.access import Endpoint, public_page, wearing
from cocreate.web import app_state, int_param

API_PREFIX = "/api/"
# No credential of ours is longer: a longer header is refused before any lookup.
MAX_AUTHORIZATION_CHARS = 512
NO_STORE = {"Cache-Control": "no-store"}  # the documents are private to a facilitator


def is_api(conn: HTTPConnection) -> bool:
    """True for the API's addresses, whose every answer (errors too) is JSON."""
    return conn.url.path.startswith(API_PREFIX)


def error_response(
    status_code: int, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": message}, status_code=status_code, headers={**NO_STORE, **(headers or {})}
    )


def rule_error_response(error: RuleError) -> JSONResponse:
    """A rule's refusal (404 for an object the caller cannot read…), in English."""
    message = error.message % error.params if error.params else error.message
    return error_response(error.status_code, message)


def _unauthorized(message: str, error: str | None = None) -> JSONResponse:
    """401 with the challenge RFC 6750 asks for (``error=…`` once a token was sent)."""
    challenge = f'Bearer realm="cocreate", error="{error}"' if error else 'Bearer realm="cocreate"'
    return error_response(401, message, {"WWW-Authenticate": challenge})


async def authenticate(request: Request) -> tokens.Bearer | JSONResponse:
    """The caller of a token sent as ``Authorization: Bearer``, or the 401 to answer."""
    header = request.headers.get("authorization", "")
    if not header:
        return _unauthorized("An API token is needed: send Authorization: Bearer <token>.")
    scheme, _, secret = header.partition(" ")
    secret = secret.strip()
    malformed = not secret or len(header) > MAX_AUTHORIZATION_CHARS or secret.split() != [secret]
    if scheme.lower() != "bearer" or malformed:  # a token is one word (RFC 6750's token68)
        return _unauthorized("The Authorization header must be: Bearer <token>.", "invalid_request")
    state = app_state(request)
    async with state.db.session() as db:
        caller = await tokens.bearer(db=db, secret=secret)
    if caller is None:
        return _unauthorized("This token is unknown or was revoked.", "invalid_token")
    now = utcnow()
    if caller.needs_touch(now):
        async with state.db.write() as db:
            await tokens.touch(db=db, token_id=key(caller.token), now=now)
    return caller


Document = dict[str, Any]
ApiHandler = Callable[[Request, tokens.Bearer], Awaitable[Document]]


def api_read(handler: ApiHandler) -> Endpoint:
    """A GET of the API: the caller's token checked first (401 without a valid one), the
    document answered as JSON (views/access.py has the whole family)."""

    @wraps(handler)
    async def endpoint(request: Request) -> Response:
        caller = await authenticate(request)
        if isinstance(caller, Response):
            return caller
        return JSONResponse(await handler(request, caller), headers=NO_STORE)

    return wearing("api_read", endpoint)


@api_read
async def projects(request: Request, caller: tokens.Bearer) -> Document:
    async with app_state(request).db.session() as db:
        return await opendata.project_list(db=db, facilitator=caller.facilitator)


@api_read
async def project(request: Request, caller: tokens.Bearer) -> Document:
    async with app_state(request).db.session() as db:
        found = await opendata.owned_project(
            db=db, facilitator=caller.facilitator, project_id=int_param(request, "project_id")
        )
        return await opendata.project_detail(db=db, project=found)


@api_read
async def project_sessions(request: Request, caller: tokens.Bearer) -> Document:
    async with app_state(request).db.session() as db:
        found = await opendata.owned_project(
            db=db, facilitator=caller.facilitator, project_id=int_param(request, "project_id")
        )
        return await opendata.session_list(db=db, project=found)


@api_read
async def session(request: Request, caller: tokens.Bearer) -> Document:
    async with app_state(request).db.session() as db:
        found, _ = await opendata.owned_session(
            db=db, facilitator=caller.facilitator, session_id=int_param(request, "session_id")
        )
        return await opendata.session_detail(db=db, session=found)


@api_read
async def project_decisions(request: Request, caller: tokens.Bearer) -> Document:
    async with app_state(request).db.session() as db:
        found = await opendata.owned_project(
            db=db, facilitator=caller.facilitator, project_id=int_param(request, "project_id")
        )
        return await opendata.decisions(db=db, facilitator=caller.facilitator, project=found)


@api_read
async def project_indicators(request: Request, caller: tokens.Bearer) -> Document:
    async with app_state(request).db.session() as db:
        found = await opendata.owned_project(
            db=db, facilitator=caller.facilitator, project_id=int_param(request, "project_id")
        )
        return await opendata.indicators(db=db, project=found)


@public_page
async def openapi(request: Request) -> Response:
    """The API's description, for anyone (it says how to ask, not what is there)."""
    return JSONResponse(OPENAPI)


# --- the OpenAPI 3.1 description ---------------------------------------------------------


def _ref(name: str) -> Document:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: Document) -> Document:
    return {"anyOf": [schema, {"type": "null"}]}


def _object(properties: Document, description: str = "") -> Document:
    """A closed object: every property present (maybe null), no other."""
    schema: Document = {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


def _list(item: Document) -> Document:
    return {"type": "array", "items": item}


ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
INT = {"type": "integer"}
COUNT = {"type": "integer", "minimum": 0}
TEXT = {"type": "string"}
BOOL = {"type": "boolean"}
TIME = {"type": "string", "format": "date-time", "description": "ISO 8601, UTC"}
DAY = {"type": "string", "format": "date"}
SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
FREE = {"type": "object", "description": "As recorded; its shape depends on the method."}

PROJECT = {
    "id": ID,
    "title": TEXT,
    "need": TEXT,
    "territory": TEXT,
    "created_at": TIME,
    "decisions_published_at": _nullable(TIME),
    "register": _object(
        {"length": COUNT, "head": SHA256},
        "The register's length and the seal of its last entry, as the project keeps them.",
    ),
}
SESSION = {
    "id": ID,
    "project_id": ID,
    "title": TEXT,
    "place": TEXT,
    "status": {"type": "string", "enum": ["draft", "open", "closed"]},
    "created_at": TIME,
    "opened_at": _nullable(TIME),
    "closed_at": _nullable(TIME),
}
VOTES = _object({"for": COUNT, "against": COUNT, "abstain": COUNT})
FOLLOW_UP_STATUS = {"type": "string", "enum": ["planned", "in_progress", "done", "abandoned"]}
MEASURED = _object(
    {"value": TEXT, "number": _nullable({"type": "number"})},
    "A decimal exactly as stored, and as a number (null when it is not a finite one).",
)

SCHEMAS: Document = {
    "Error": _object({"error": TEXT}, "What went wrong, in English."),
    "Project": _object(PROJECT),
    "ProjectDetail": _object(
        {
            **PROJECT,
            "counts": _object({"sessions": COUNT, "decisions": COUNT, "indicators": COUNT}),
        }
    ),
    "ProjectList": _object({"projects": _list(_ref("Project"))}),
    "Session": _object(SESSION),
    "SessionList": _object({"project_id": ID, "sessions": _list(_ref("Session"))}),
    "Poll": _object(
        {
            "id": ID,
            "question": TEXT,
            "method": TEXT,
            "rules": FREE,
            "secret": BOOL,
            "binding": BOOL,
            "options": _list(_object({"id": ID, "label": TEXT})),
            "opened_at": _nullable(TIME),
            "closed_at": _nullable(TIME),
            "previous_id": _nullable(ID),
            "electorate_size": _nullable(COUNT),
            "quorum_met": _nullable(BOOL),
            "result": _nullable(FREE),
            "ballots_sha256": _nullable(SHA256),
        },
        "A poll once opened; its result is frozen at closing (null before).",
    ),
    "SessionDetail": _object(
        {
            **SESSION,
            "participants": COUNT,
            "contributions": _object(
                {"needs": COUNT, "ideas": COUNT},
                "Needs and ideas the room saw (not hidden, approved, not merged).",
            ),
            "polls": _list(_ref("Poll")),
            "decision_ids": _list(ID),
        }
    ),
    "FollowUpUpdate": _object(
        {"written_at": TIME, "status": FOLLOW_UP_STATUS, "progress": COUNT, "note": TEXT}
    ),
    "FollowUp": _object(
        {
            "owner": TEXT,
            "due_on": _nullable(DAY),
            "review_on": _nullable(DAY),
            "status": FOLLOW_UP_STATUS,
            "progress": {"type": "integer", "minimum": 0, "maximum": 100},
            "reason": TEXT,
            "updated_at": TIME,
            "updates": _list(_ref("FollowUpUpdate")),
        },
        "Where carrying out the decision stands; its updates, oldest first.",
    ),
    "Decision": _object(
        {
            "id": ID,
            "position": {"type": "integer", "minimum": 1},
            "project_id": ID,
            "session_id": _nullable(ID),
            "session_title": _nullable(TEXT),
            "proposal_id": _nullable(ID),
            "poll_id": _nullable(ID),
            "decided_at": TIME,
            "decided_by_id": ID,
            "text": TEXT,
            "outcome": {"type": "string", "enum": ["adopted", "rejected", "deferred"]},
            "method": TEXT,
            "votes": VOTES,
            "summary": TEXT,
            "note": TEXT,
            "electorate_size": _nullable(COUNT),
            "turnout": _nullable(COUNT),
            "quorum_met": _nullable(BOOL),
            "ballots_sha256": _nullable(SHA256),
            "amends_id": _nullable(ID),
            "amends_position": _nullable(INT),
            "corrected_by": _list(INT),
            "needs": _list(TEXT),
            "provenance": {
                "type": "object",
                "description": "Needs, proposals, comments, poll and rules, copied when decided; "
                "without the needs moderation has hidden since (see withheld_needs).",
            },
            "withheld_needs": {
                "type": "integer",
                "minimum": 0,
                "description": "Needs copied when decided that moderation has hidden since: "
                "left out of needs and provenance here, kept in the sealed entry (when not "
                "0, check the seal with `cocreate verify`).",
            },
            "seal": _object({"prev_hash": SHA256, "entry_hash": SHA256}),
            "follow_up": _nullable(_ref("FollowUp")),
        },
        "An entry of the decision register; never edited (a correction is a new entry).",
    ),
    "Verification": _object(
        {
            "intact": BOOL,
            "entries": COUNT,
            "head": SHA256,
            "first_bad": _nullable(INT),
            "decision_id": _nullable(ID),
            "reason": TEXT,
        },
        "The check of the register's chain of seals, as `cocreate verify` prints it.",
    ),
    "DecisionList": _object(
        {
            "project_id": ID,
            "verification": _ref("Verification"),
            "decisions": _list(_ref("Decision")),
        }
    ),
    "Measured": MEASURED,
    "Indicator": _object(
        {
            "id": ID,
            "project_id": ID,
            "family": {"type": "string", "enum": ["social", "ecological", "political"]},
            "name": TEXT,
            "unit": TEXT,
            "baseline": _ref("Measured"),
            "target": _nullable(_ref("Measured")),
            "created_at": TIME,
            "decision_ids": _list(ID),
            "measurements": _list(
                _object(
                    {
                        "id": ID,
                        "measured_on": DAY,
                        "value": _ref("Measured"),
                        "note": TEXT,
                        "recorded_at": TIME,
                    }
                )
            ),
        }
    ),
    "IndicatorList": _object({"project_id": ID, "indicators": _list(_ref("Indicator"))}),
}


def _json(schema: Document, description: str) -> Document:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS: Document = {
    "401": {
        **_json(_ref("Error"), "No token, a malformed header, or an unknown or revoked token."),
        "headers": {"WWW-Authenticate": {"description": "The Bearer challenge.", "schema": TEXT}},
    },
    "404": _json(
        _ref("Error"),
        "No such object among the token's facilitator's: another facilitator's project or "
        "session answers 404 too, as one that does not exist.",
    ),
    "503": _json(_ref("Error"), "The database is briefly unavailable: try again."),
}


def _parameter(name: str, description: str) -> Document:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": ID}


PARAMETERS = {
    "project_id": _parameter("project_id", "A project's number."),
    "session_id": _parameter("session_id", "A session's number."),
}


def _get(operation_id: str, summary: str, schema: str, *params: str) -> Document:
    operation: Document = {
        "operationId": operation_id,
        "summary": summary,
        "responses": {"200": _json(_ref(schema), summary), **ERRORS},
    }
    if params:
        operation["parameters"] = [{"$ref": f"#/components/parameters/{p}"} for p in params]
    return {"get": operation}


OPENAPI: Document = {
    "openapi": "3.1.0",
    "info": {
        "title": "cocreate open data API",
        "version": "1",
        "description": (
            "Read-only access to a facilitator's projects: sessions, the decision register "
            "with its follow-up, and impact indicators. Make a token with `cocreate token "
            "create EMAIL --name NAME` and send it as `Authorization: Bearer <token>`. A "
            "token reads its facilitator's projects only: any other project or session "
            "answers 404, exactly as one that does not exist. Every answer is JSON, errors "
            'as `{"error": "…"}`. Times are ISO 8601 in UTC.'
        ),
        "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
    },
    "security": [{"bearer": []}],
    "paths": {
        "/api/v1/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This description (no token needed).",
                "security": [],
                "responses": {"200": _json({"type": "object"}, "The OpenAPI document.")},
            }
        },
        "/api/v1/projects": _get(
            "listProjects", "The token's facilitator's projects.", "ProjectList"
        ),
        "/api/v1/projects/{project_id}": _get(
            "getProject", "A project, with counts.", "ProjectDetail", "project_id"
        ),
        "/api/v1/projects/{project_id}/sessions": _get(
            "listSessions", "A project's sessions, oldest first.", "SessionList", "project_id"
        ),
        "/api/v1/sessions/{session_id}": _get(
            "getSession", "A session, its polls and its decisions.", "SessionDetail", "session_id"
        ),
        "/api/v1/projects/{project_id}/decisions": _get(
            "listDecisions",
            "The decision register, oldest entry first, with seals and follow-up.",
            "DecisionList",
            "project_id",
        ),
        "/api/v1/projects/{project_id}/indicators": _get(
            "listIndicators",
            "Impact indicators with their measurements and linked decisions.",
            "IndicatorList",
            "project_id",
        ),
    },
    "components": {
        "securitySchemes": {
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "description": "A token made by `cocreate token create` (it starts with cc_).",
            }
        },
        "parameters": PARAMETERS,
        "schemas": SCHEMAS,
    },
}
