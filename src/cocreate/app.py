"""The application: routes as a table of contents, middleware, lifespan."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import re
import time
from base64 import b64decode
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from itsdangerous import BadSignature, TimestampSigner
from starlette.applications import Starlette
from starlette.convertors import IntegerConvertor, register_url_convertor
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import Session as CookieSession
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Match, Mount, Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cocreate import accounts, participants, proposal_votes, pubsub, urls
from cocreate.assets import Assets, CompressPages
from cocreate.batches import WriteBatches
from cocreate.database import OUTAGES, Database
from cocreate.errors import RuleError, Throttled
from cocreate.heavy import HeavyWork
from cocreate.i18n import N_
from cocreate.live.cache import AtEventNumber, SharedStages
from cocreate.live.frames import FragmentRenderer
from cocreate.live.hub import LiveHub
from cocreate.live.socket import live_app
from cocreate.resources import resource_dir
from cocreate.roster import ROSTER_FILE_BYTES
from cocreate.sealed import BallotSeal
from cocreate.settings import Settings
from cocreate.templating import Templates
from cocreate.views import (
    api,
    decisions,
    exports,
    facilitator,
    impact,
    members,
    participant,
    polls,
    projector,
    public,
    sessions,
    surveys,
)
from cocreate.web import (
    EVERYONE,
    AppState,
    Limits,
    app_state,
    client_of,
    count_guess,
    is_htmx,
    locale_of,
    render,
    translate_error,
)

log = logging.getLogger(__name__)
QUIET_LOGGERS = ("aiosqlite", "asyncpg", "sqlalchemy.engine")

MAX_BODY_BYTES = 64 * 1024  # no form of ours is larger…
# …but a roster CSV (by route name: BodyLimit finds its path in the table).
LARGE_BODIES = {"import_roster": ROSTER_FILE_BYTES + MAX_BODY_BYTES}
# The cyclic garbage collector's thresholds. Python's defaults (700, 10, 10) suit a
# small heap; a process holding thousands of sockets has a million tracked objects, and
# each full collection walks them all (measured with 5,000 phones: 600 ms, the event
# loop stopped). Requests allocate in bursts, so with the defaults young collections ran
# every few hundred milliseconds during a vote and full ones every few seconds while
# phones joined. Larger thresholds make collections rarer; what they leave uncollected
# a little longer is young garbage, a few megabytes at most. The middle one stays
# small: the objects of sockets opened during a join storm survive young collections
# and wait in the middle generation until its next collection, which walks them all at
# once; at 20, that came after the storm, in the middle of a vote (290 ms at 5,000
# phones), at 2 it comes every 100,000 survivors or so (under 70 ms) during the storm.
GC_THRESHOLDS = (50_000, 2, 100)
SLOW_COLLECTION_S = 0.1  # a collection this long is logged: every screen waited


class _SlowCollections:
    """Logs the garbage collections that stopped the server long enough to notice (a
    full one walks every object: with thousands of phones, hundreds of ms)."""

    def __init__(self) -> None:
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        took = time.perf_counter() - self._started
        if took >= SLOW_COLLECTION_S:
            log.warning(
                "a garbage collection (generation %d, %d objects freed) stopped the server"
                " for %.0f ms",
                info["generation"],
                info["collected"],
                took * 1000,
            )


SESSION_COOKIE = "cocreate"
SESSION_MAX_AGE_S = 60 * 60 * 24 * 90  # a phone stays the same participant for 90 days

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)


class IdConvertor(IntegerConvertor):
    """``{name:id}``: a row's id in a path, of 10 digits at most (ids end at
    ``models.MAX_ID``, 2**31 - 1; ``web.int_param`` refuses what lies above): a longer
    number names nothing, and is no address here (404 at routing). Starlette's ``int``
    read any number of digits, and past 4,300 raised ValueError (a server error)."""

    regex = "[0-9]{1,10}"


register_url_convertor("id", IdConvertor())

S = "/s/{code}"
F = "/sessions/{session_id:id}"
P = "/proposals/{proposal_id:id}"
Q = "/polls/{poll_id:id}"
D = "/projects/{project_id:id}/decisions"
I = "/projects/{project_id:id}/impact"  # noqa: E741 - the impact pages, like D and F

# The static files, each linked by a name carrying a digest of its content (cached for a
# year by browsers) and sent compressed (``cocreate.assets``).
ASSETS = Assets(resource_dir("static"))

routes = [
    Route("/", public.home, name="home"),
    Route("/join", public.join_by_code, name="join_by_code"),
    Route("/language", public.set_language, methods=["POST"], name="set_language"),
    Route("/health", public.health, name="health"),
    # Participants, on their phones
    Route(S, participant.session_page, name="participant_session"),
    Route(S + "/join", participant.join, methods=["POST"], name="participant_join"),
    Route(S + "/proposals", participant.propose, methods=["POST"], name="propose"),
    Route(S + P + "/comments", participant.comment, methods=["POST"], name="comment"),
    Route(S + P + "/vote", participant.vote, methods=["POST"], name="vote"),
    Route(S + P + "/vote", participant.my_vote, methods=["GET"], name="my_vote"),
    Route(S + "/needs", participant.describe_need, methods=["POST"], name="describe_need"),
    Route(S + P + "/reaction", participant.react, methods=["POST"], name="react"),
    Route(S + "/polls/{poll_id:id}/ballot", polls.cast_ballot, methods=["POST"], name="ballot"),
    Route(S + "/polls/{poll_id:id}", polls.result_page, name="poll_result"),
    Route(S + "/polls/{poll_id:id}/ballots", polls.my_ballots, name="my_ballots"),
    Route(S + "/proxies", polls.declare_proxy, methods=["POST"], name="declare_proxy"),
    Route(S + "/polls/{poll_id:id}/ballots.json", polls.ballot_export, name="ballot_export"),
    Route(S + "/join-member", members.join_as_member, methods=["POST"], name="join_member"),
    Route("/m/{code}", members.member_link, name="member_link"),
    # The room's projector
    Route(S + "/screen", projector.screen, name="screen"),
    Route(S + "/qr.svg", projector.qr_code, name="qr_code"),
    # Facilitators
    Route("/login", facilitator.login_page, methods=["GET"], name="login_page"),
    Route("/login", facilitator.login, methods=["POST"], name="login"),
    Route("/logout", facilitator.logout, methods=["POST"], name="logout"),
    Route("/account/password", facilitator.password_page, name="password_page"),
    Route(
        "/account/password",
        facilitator.change_password,
        methods=["POST"],
        name="change_password",
    ),
    Route("/projects", facilitator.project_list, methods=["GET"], name="projects"),
    Route("/projects", facilitator.create_project, methods=["POST"], name="create_project"),
    Route("/projects/{project_id:id}", facilitator.project_page, name="project"),
    Route(
        "/projects/{project_id:id}/sessions",
        facilitator.create_session,
        methods=["POST"],
        name="create_session",
    ),
    Route(
        "/projects/{project_id:id}/publish",
        facilitator.publish_decisions,
        methods=["POST"],
        name="publish_decisions",
    ),
    Route(D, decisions.register_page, methods=["GET"], name="decisions"),
    Route(D, decisions.record_call, methods=["POST"], name="record_call"),
    Route(D + "/{decision_id:id}", decisions.decision_page, name="decision"),
    Route(D + "/{decision_id:id}/correction", decisions.correct, methods=["POST"], name="correct"),
    Route(
        D + "/{decision_id:id}/follow-up",
        decisions.update_follow_up,
        methods=["POST"],
        name="follow_up",
    ),
    Route(D + "/{decision_id:id}/survey", surveys.open_survey, methods=["POST"], name="survey"),
    Route(
        D + "/{decision_id:id}/survey/close",
        surveys.close_survey,
        methods=["POST"],
        name="close_survey",
    ),
    Route(I, impact.impact_page, methods=["GET"], name="impact"),
    Route(I, impact.add_indicator, methods=["POST"], name="add_indicator"),
    Route(
        I + "/{indicator_id:id}/measurements",
        impact.add_measurement,
        methods=["POST"],
        name="measure",
    ),
    Route(
        I + "/{indicator_id:id}/decisions",
        impact.link_decisions,
        methods=["POST"],
        name="link_impact",
    ),
    Route("/f/{code}", surveys.survey_page, methods=["GET"], name="survey_page"),
    Route("/f/{code}", surveys.answer_survey, methods=["POST"], name="answer_survey"),
    Route("/f/{code}/qr.svg", surveys.survey_qr, name="survey_qr"),
    Route(S + "/link", surveys.make_link, methods=["POST"], name="participant_link"),
    Route("/p/{token}", surveys.open_link, methods=["GET"], name="open_participant_link"),
    Route("/p/{token}", surveys.confirm_link, methods=["POST"], name="confirm_participant_link"),
    Route("/roster", members.roster_page, name="roster"),
    Route("/roster/import", members.import_roster, methods=["POST"], name="import_roster"),
    Route("/roster/member", members.save_member, methods=["POST"], name="save_member"),
    Route("/roster/colleges", members.set_colleges, methods=["POST"], name="set_colleges"),
    Route("/roster/settings", members.set_settings, methods=["POST"], name="roster_settings"),
    Route("/roster/sheet", members.voting_sheet, name="voting_sheet"),
    Route(F + "/console", facilitator.console, name="console"),
    Route(F + "/open", facilitator.open_session, methods=["POST"], name="open_session"),
    Route(F + "/close", facilitator.close_session, methods=["POST"], name="close_session"),
    Route(F + "/reopen", facilitator.reopen_session, methods=["POST"], name="reopen_session"),
    Route(F + P + "/hide", facilitator.hide_proposal, methods=["POST"], name="hide"),
    Route(F + P + "/restore", facilitator.restore_proposal, methods=["POST"], name="restore"),
    Route(F + P + "/close-vote", facilitator.close_vote, methods=["POST"], name="close_vote"),
    Route(F + P + "/decision", facilitator.record_decision, methods=["POST"], name="decide"),
    # The agenda, the timer and the room
    Route(F + "/steps", sessions.add_step, methods=["POST"], name="add_step"),
    Route(F + "/steps/{step_id:id}", sessions.edit_step, methods=["POST"], name="edit_step"),
    Route(F + "/steps/{step_id:id}/move", sessions.move_step, methods=["POST"], name="move_step"),
    Route(
        F + "/steps/{step_id:id}/delete",
        sessions.delete_step,
        methods=["POST"],
        name="delete_step",
    ),
    Route(F + "/agenda/{move}", sessions.go, methods=["POST"], name="agenda_move"),
    Route(F + "/present", projector.present, methods=["POST"], name="present"),
    Route(F + "/present/{move}", projector.present_move, methods=["POST"], name="present_move"),
    Route(F + "/timer/{op}", sessions.timer, methods=["POST"], name="timer"),
    Route(F + "/reveal", sessions.reveal, methods=["POST"], name="reveal"),
    Route(F + "/scripts", sessions.save_script, methods=["POST"], name="save_script"),
    Route(F + "/scripts/apply", sessions.apply_script, methods=["POST"], name="apply_script"),
    Route(F + "/room", sessions.room_settings, methods=["POST"], name="room_settings"),
    Route(F + "/people", sessions.people, name="people"),
    Route(
        F + "/participants/{participant_id:id}/remove",
        sessions.remove_participant,
        methods=["POST"],
        name="remove_participant",
    ),
    Route(F + P + "/approve", sessions.approve, methods=["POST"], name="approve"),
    Route(F + P + "/pin", sessions.pin, methods=["POST"], name="pin"),
    Route(F + P + "/unpin", sessions.unpin, methods=["POST"], name="unpin"),
    Route(F + P + "/edit", sessions.edit_text, methods=["POST"], name="edit_text"),
    Route(F + P + "/merge", sessions.merge, methods=["POST"], name="merge"),
    Route(F + P + "/needs", sessions.link_need, methods=["POST"], name="link_need"),
    # What is left of a session: minutes and contributions
    Route(F + "/minutes", exports.minutes_page, name="minutes"),
    Route(F + "/minutes.pdf", exports.minutes_pdf, name="minutes_pdf"),
    Route(F + "/contributions.csv", exports.contributions_csv, name="contributions_csv"),
    # Open data of a project, for its facilitator: proposals, ballots, decisions… as CSV, JSON
    Route(
        "/projects/{project_id:id}/export/{dataset}.{fmt}",
        exports.open_data,
        name="open_data",
    ),
    Route(F + "/polls", polls.create_poll, methods=["POST"], name="create_poll"),
    Route(F + "/polls/proposals", polls.poll_proposals, name="poll_proposals"),
    Route(F + Q + "/open", polls.open_poll, methods=["POST"], name="open_poll"),
    Route(F + Q + "/close", polls.close_poll, methods=["POST"], name="close_poll"),
    Route(F + Q + "/next-round", polls.next_round, methods=["POST"], name="next_round"),
    Route(F + "/proxies", polls.record_proxy, methods=["POST"], name="record_proxy"),
    Route(
        F + "/proxies/{proxy_id:id}/revoke",
        polls.revoke_proxy,
        methods=["POST"],
        name="revoke_proxy",
    ),
    # The read-only JSON API, with a facilitator's token (views/api.py), and its description
    Route("/api/v1/openapi.json", api.openapi, name="api_openapi"),
    Route("/api/v1/projects", api.projects, name="api_projects"),
    Route("/api/v1/projects/{project_id:id}", api.project, name="api_project"),
    Route(
        "/api/v1/projects/{project_id:id}/sessions",
        api.project_sessions,
        name="api_project_sessions",
    ),
    Route("/api/v1/sessions/{session_id:id}", api.session, name="api_session"),
    Route(
        "/api/v1/projects/{project_id:id}/decisions",
        api.project_decisions,
        name="api_project_decisions",
    ),
    Route(
        "/api/v1/projects/{project_id:id}/indicators",
        api.project_indicators,
        name="api_project_indicators",
    ),
    # Live updates, down only: served past the HTTP stack by LiveSockets
    WebSocketRoute("/ws/{code}/{audience}", live_app, name="live"),
    Mount("/static", app=ASSETS, name="static"),
]
urls.install(routes)  # every url() and static() is filled from this table
urls.install_assets(ASSETS.addresses())


class LiveSockets:
    """The websocket routes of the table (``/ws/{code}/{audience}``) go straight to their
    endpoint, past the HTTP stack.

    A socket lives as long as the phone stays, and every layer it passes through keeps a
    coroutine frame (and wraps every frame sent) for that long: Starlette itself, the
    router, the session middleware, the security headers, the body limit, the exception
    handlers — none of which a socket uses. Wrapped around the whole app, this saves
    each connected phone several KiB and each frame sent three calls. The session cookie
    is read here as SessionMiddleware reads it (a socket never changes the session, so
    it never writes it back).

    The routes stay declared in the table with the others, where Starlette would serve
    them too (through every layer): this only takes the short way to them. They are
    matched as the router matches them; their endpoints must be ASGI apps, not
    functions of a ``WebSocket``, since they are handed the server's own ``send``.
    """

    def __init__(
        self, app: ASGIApp, secret_key: str, max_age: int, sockets: list[WebSocketRoute]
    ) -> None:
        self.app = app
        self.signer = TimestampSigner(secret_key)
        self.max_age = max_age
        self.sockets = sockets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            for route in self.sockets:
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope.update(child_scope)
                    cookie = HTTPConnection(scope).cookies.get(SESSION_COOKIE)
                    scope["session"] = self._session(cookie)
                    await route.app(scope, receive, send)
                    return
        await self.app(scope, receive, send)

    def _session(self, cookie: str | None) -> CookieSession:
        if cookie:
            try:
                data = self.signer.unsign(cookie.encode(), max_age=self.max_age)
                return CookieSession(json.loads(b64decode(data)))
            except (BadSignature, ValueError):
                pass
        return CookieSession()


class SecurityHeaders:
    """CSP without inline scripts, and the usual hardening headers, on every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                headers.extend(
                    [
                        (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
                        (b"x-content-type-options", b"nosniff"),
                        (b"referrer-policy", b"same-origin"),
                        (b"x-frame-options", b"DENY"),
                    ]
                )
            await send(message)

        await self.app(scope, receive, send_with_headers)


class SecureCookies:
    """Cookies set in answer to an HTTPS request are marked ``Secure`` (behind a trusted
    proxy, its ``X-Forwarded-Proto`` says), whatever ``COCREATE_HTTPS_ONLY`` says: that
    setting makes every cookie ``Secure``, for a site that is only ever served over
    HTTPS; this covers one reached both ways, without breaking plain-HTTP development."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("scheme") != "https":
            await self.app(scope, receive, send)
            return

        async def send_secure(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    (name, value + b"; secure")
                    if name.lower() == b"set-cookie" and b"secure" not in value.lower()
                    else (name, value)
                    for name, value in message.get("headers", [])
                ]
            await send(message)

        await self.app(scope, receive, send_secure)


def _takes_member_code(path: str) -> bool:
    """The addresses that take a voting code: a member's link, the member's join form
    and the proxy form."""
    return path.startswith("/m/") or (
        path.startswith("/s/") and path.endswith(("/join-member", "/proxies"))
    )


class CodeGuesses:
    """A client that tried too many unknown join codes is refused every session page
    for a while (429), the sessions that exist included: answering those would tell
    a guesser which codes are live. The sockets do the same (``live``).

    Wrong voting codes likewise, on every address that takes one, counted per client
    and for all clients together: past either allowance, a right code waits too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        refusal: tuple[str, int] | None = None
        if path.startswith(("/s/", "/m/")):
            request = Request(scope, receive)
            limits, who = app_state(request).limits, client_of(request)
            if path.startswith("/s/") and limits.code_guesses.exhausted(who):
                refusal = (
                    N_("Too many unknown codes were tried from here. Try again in %(n)d s."),
                    limits.code_guesses.retry_after(who),
                )
            elif _takes_member_code(path) and limits.member_codes.exhausted(who):
                refusal = (
                    N_("Too many wrong voting codes were tried from here. Try again in %(n)d s."),
                    limits.member_codes.retry_after(who),
                )
            elif _takes_member_code(path) and limits.member_codes_all.exhausted(EVERYONE):
                refusal = (
                    N_(
                        "Too many wrong voting codes were tried on this server just now. "
                        "Try again in %(n)d s."
                    ),
                    limits.member_codes_all.retry_after(EVERYONE),
                )
        if refusal is None:
            await self.app(scope, receive, send)
            return
        message, seconds = refusal[0], max(1, refusal[1])
        text = app_state(request).templates.gettext(locale_of(request), message, n=seconds)
        response = _error_response(request, 429, text)
        response.headers["Retry-After"] = str(seconds)
        await response(scope, receive, send)


class BodyLimit:
    """Refuse request bodies over MAX_BODY_BYTES with 413, declared or streamed; a roster
    file may be larger."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.default_max_bytes = max_bytes
        self.large = {urls.url(name): size for name, size in LARGE_BODIES.items()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.large.get(scope["path"], self.default_max_bytes)
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > max_bytes):
                await _plain(send, 413, b"Request body too large.")
                return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise HTTPException(413, "Request body too large.")
            return message

        await self.app(scope, limited_receive, send)


async def _plain(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": body})


# The place beside a form where its refusal is said (the form's data-error-target, sent
# by the page's script): an element id, nothing else.
ERROR_TARGET = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,80}")


def _error_response(request: Request, status: int, message: str) -> Response:
    """Errors as users see them: beside the form that was refused, or in the page's
    message region, under htmx; else a page."""
    if is_htmx(request):
        beside = request.headers.get("X-Error-Target", "")
        target = f"#{beside}" if ERROR_TARGET.fullmatch(beside) else "#flash"
        response = render(request, "partials/flash.html", status_code=status, message=message)
        response.headers["HX-Retarget"] = target
        response.headers["HX-Reswap"] = "innerHTML"
        return response
    return render(request, "error.html", status_code=status, message=message, back=_back(request))


def _back(request: Request) -> str:
    """Where "Go back" leads: the page the user came from on this site, else home."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc == request.url.netloc and referer.path.startswith("/"):
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return urls.url("home")


async def rule_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RuleError)
    if api.is_api(request):  # the API answers JSON, in English
        return api.rule_error_response(exc)
    count_guess(request, exc)
    message = translate_error(app_state(request).templates, locale_of(request), exc)
    response = _error_response(request, exc.status_code, message)
    if isinstance(exc, Throttled):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


_HTTP_MESSAGES = {
    400: N_("The request could not be understood."),
    404: N_("This page does not exist."),
    405: N_("This address does not accept this kind of request."),
    413: N_("What you sent is too large."),
}


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if api.is_api(request):
        english = _HTTP_MESSAGES.get(exc.status_code) or str(exc.detail)
        return api.error_response(exc.status_code, english, exc.headers)
    locale = locale_of(request)
    templates = app_state(request).templates
    text = _HTTP_MESSAGES.get(exc.status_code)
    message = templates.gettext(locale, text) if text else str(exc.detail)
    return _error_response(request, exc.status_code, message)


async def database_unavailable(request: Request, exc: Exception) -> Response:
    """The database is away: say so, ask to retry (nothing of this request was kept)."""
    log.warning("database unavailable: %s: %s", type(exc).__name__, exc)
    if api.is_api(request):
        message = "The service is briefly unavailable. Try again in a moment."
        return api.error_response(503, message, {"Retry-After": "5"})
    message = app_state(request).templates.gettext(
        locale_of(request), N_("The service is briefly unavailable. Try again in a moment.")
    )
    response = _error_response(request, 503, message)
    response.headers["Retry-After"] = "5"
    return response


async def server_error(request: Request, exc: Exception) -> Response:
    if api.is_api(request):
        return api.error_response(500, "Internal error.")
    return HTMLResponse("Internal error.", status_code=500)


def create_app(settings: Settings | None = None) -> ASGIApp:
    settings = settings or Settings.from_env()
    secret_key = settings.signing_key()
    # Database libraries log every statement with its parameters (INFO, DEBUG): a secret
    # ballot and the register row written beside it would be linked in the logs.
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger(name).level))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, AppState]]:
        gc.set_threshold(*GC_THRESHOLDS)
        db = Database(settings.database_url, reads_only_in_sessions=True)
        templates = Templates(timezone=settings.timezone)
        broker = pubsub.from_url(settings.pubsub_url)
        await broker.connect()
        stages = SharedStages()
        hub = LiveHub(db=db, pubsub=broker, renderer=FragmentRenderer(templates, stages))
        db.announce_with(hub.publish)  # every committed write reaches the screens
        collections = _SlowCollections()
        gc.callbacks.append(collections)
        heavy = HeavyWork()
        if settings.warm_up:
            await asyncio.to_thread(heavy.start)  # starts processes: not on the loop
            # 0.1 s of CPU at the start rather than on the first minutes asked for.
            await asyncio.to_thread(templates.prepare, exports.MINUTES_TEMPLATES)
        await asyncio.to_thread(accounts.prepare)
        try:
            yield {
                "app": AppState(
                    settings=settings,
                    db=db,
                    templates=templates,
                    hub=hub,
                    ballots=WriteBatches(db, proposal_votes.vote_all, "votes"),
                    arrivals=WriteBatches(db, participants.join_all, "joins"),
                    stages=stages,
                    phone_pages=AtEventNumber(
                        participant.PHONE_PAGE_SECONDS, participant.PHONE_PAGE_ENTRIES
                    ),
                    limits=Limits.for_settings(settings),
                    seal=BallotSeal(secret_key),
                    heavy=heavy,
                )
            }
        finally:
            heavy.close()
            await hub.close()
            await broker.disconnect()
            await db.dispose()
            gc.callbacks.remove(collections)

    site = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(CompressPages),
            Middleware(BodyLimit),
            Middleware(SecureCookies),
            Middleware(
                SessionMiddleware,
                secret_key=secret_key,
                session_cookie=SESSION_COOKIE,
                max_age=SESSION_MAX_AGE_S,
                same_site="lax",
                https_only=settings.https_only,
            ),
            Middleware(CodeGuesses),  # inside the session: its pages are in the user's language
        ],
        exception_handlers={
            RuleError: rule_error,
            HTTPException: http_error,
            **dict.fromkeys(OUTAGES, database_unavailable),
            500: server_error,
        },
    )
    # Outside Starlette itself: a socket keeps no frame of Starlette's or of its error
    # middleware (which lets websockets through untouched) for its whole life.
    return LiveSockets(
        site,
        secret_key=secret_key,
        max_age=SESSION_MAX_AGE_S,
        sockets=[route for route in routes if isinstance(route, WebSocketRoute)],
    )
