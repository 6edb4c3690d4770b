"""What every HTTP handler shares: typed app state, language, CSRF, forms, responses."""

from __future__ import annotations

import asyncio
import base64
import binascii
import ipaddress
import secrets
import time
from collections.abc import Hashable
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from cocreate import qr
from cocreate.database import Database
from cocreate.errors import RuleError, UnknownCode, UnknownMemberCode
from cocreate.heavy import HeavyWork
from cocreate.i18n import LOCALES, N_, negotiate
from cocreate.limits import Clock, RateLimit
from cocreate.models import MAX_ID, Facilitator
from cocreate.settings import JOINS_PER_MINUTE, Settings
from cocreate.templating import Templates

if TYPE_CHECKING:
    from cocreate.batches import WriteBatches
    from cocreate.live.cache import AtEventNumber, SharedStages
    from cocreate.live.hub import LiveHub
    from cocreate.participants import Arrival, Arrived
    from cocreate.proposal_votes import CastVote, VoteOnProposal
    from cocreate.sealed import BallotSeal

MAX_FORM_FIELDS = 100  # a ballot has a field per option (30 at most), a poll form a few more
MAX_FORM_PART_BYTES = 16 * 1024
MAX_REMEMBERED_SESSIONS = 20  # participant identities a phone's cookie keeps
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True)
class AppState:
    """Resources made in the lifespan; handlers reach them through ``request.state``."""

    settings: Settings
    db: Database
    templates: Templates
    hub: LiveHub
    ballots: WriteBatches[VoteOnProposal, CastVote]  # votes on proposals, cast in batches
    arrivals: WriteBatches[Arrival, Arrived]  # phones joining by name
    stages: SharedStages
    # What phones see alike, drawn once per event number: (template, session id, …,
    # language) -> page (arriving phones' pages; a vote's answer, per proposal and choice).
    phone_pages: AtEventNumber[tuple[Hashable, ...], str]
    limits: Limits
    seal: BallotSeal  # secret polls' ballots while they are open
    heavy: HeavyWork  # QR codes and PDF files, drawn in worker processes


# Unknown join codes tried from one client: a room's typos fit in the burst, and at one
# a second a guesser needs two months on average to find one of a hundred live sessions
# (29^6, about 595 million codes).
CODE_GUESS_BURST = 60
CODE_GUESSES_PER_S = 1.0
# Wrong voting codes (8 characters of 29: 29^8, about 5 x 10^11 codes; a roster of
# 20,000 at most), per client: a room's typos behind one address fit in the burst, and
# at one every 10 s a client finds a code of the largest roster once in some 8 years.
MEMBER_CODE_GUESS_BURST = 60
MEMBER_CODE_GUESSES_PER_S = 0.1
# …and from every client together (many addresses): once in some 9 months at one a
# second. Ten addresses or more guessing flat out hold every member code back for as
# long as they keep at it: the room then joins by name, and the facilitator records
# proxies.
MEMBER_CODE_GUESS_BURST_ALL = 600
MEMBER_CODE_GUESSES_PER_S_ALL = 1.0
EVERYONE = "everyone"  # the key of the limits counted for all clients together
# Failed sign-ins: per client, and per client and e-mail (a password guessed slowly).
SIGN_IN_BURST_PER_CLIENT = 20
SIGN_INS_PER_S_PER_CLIENT = 1 / 10
SIGN_IN_BURST_PER_ACCOUNT = 5
SIGN_INS_PER_S_PER_ACCOUNT = 1 / 60


def join_limit(per_minute: int, clock: Clock = time.monotonic) -> RateLimit | None:
    """The joins by name one client address may make (a phone joining again counts
    too): ``per_minute`` at once, then as many a minute; 0, no limit."""
    if per_minute <= 0:
        return None
    return RateLimit(burst=per_minute, per_second=per_minute / 60, clock=clock)


@dataclass(frozen=True)
class Limits:
    """What one client may try, and how fast (see ``cocreate.limits``)."""

    code_guesses: RateLimit
    sign_ins: RateLimit
    sign_ins_per_account: RateLimit
    joins: RateLimit | None  # None: no limit (COCREATE_JOINS_PER_MINUTE=0)
    member_codes: RateLimit  # wrong voting codes, per client…
    member_codes_all: RateLimit  # …and of all clients together (key: EVERYONE)

    @classmethod
    def default(cls) -> Limits:
        return cls(
            code_guesses=RateLimit(burst=CODE_GUESS_BURST, per_second=CODE_GUESSES_PER_S),
            sign_ins=RateLimit(
                burst=SIGN_IN_BURST_PER_CLIENT, per_second=SIGN_INS_PER_S_PER_CLIENT
            ),
            sign_ins_per_account=RateLimit(
                burst=SIGN_IN_BURST_PER_ACCOUNT, per_second=SIGN_INS_PER_S_PER_ACCOUNT
            ),
            joins=join_limit(JOINS_PER_MINUTE),
            member_codes=RateLimit(
                burst=MEMBER_CODE_GUESS_BURST, per_second=MEMBER_CODE_GUESSES_PER_S
            ),
            member_codes_all=RateLimit(
                burst=MEMBER_CODE_GUESS_BURST_ALL, per_second=MEMBER_CODE_GUESSES_PER_S_ALL
            ),
        )

    @classmethod
    def for_settings(cls, settings: Settings) -> Limits:
        """The defaults, but for what the settings change."""
        limits = cls.default()
        if settings.joins_per_minute != JOINS_PER_MINUTE:
            limits = replace(limits, joins=join_limit(settings.joins_per_minute))
        return limits


def count_guess(request: Request, exc: Exception) -> None:
    """A wrong join code or voting code counts against the client (and, for voting
    codes, against everyone): past the allowance, even a right one waits (``limits``)."""
    limits = app_state(request).limits
    if isinstance(exc, UnknownCode):
        limits.code_guesses.take(client_of(request))
    elif isinstance(exc, UnknownMemberCode):
        limits.member_codes.take(client_of(request))
        limits.member_codes_all.take(EVERYONE)


def client_of(conn: HTTPConnection) -> str:
    """Who a limit counts: the client's address (the proxy's client, behind a trusted
    proxy); an IPv6 client by its /64, which one machine usually has whole."""
    address = conn.client.host if conn.client else ""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return address


def app_state(conn: HTTPConnection) -> AppState:
    state: AppState = conn.state.app
    return state


def locale_of(conn: HTTPConnection) -> str:
    chosen = conn.session.get("locale")
    if chosen in LOCALES:
        return str(chosen)
    return negotiate(
        conn.headers.get("accept-language", ""), app_state(conn).settings.default_locale
    )


def _session_token(conn: HTTPConnection) -> str:
    token = conn.session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        conn.session[CSRF_FIELD] = token
    return token


def csrf_token(conn: HTTPConnection) -> str:
    """The visitor's CSRF token as a page carries it: masked afresh for each answer (a
    random pad, then the token XOR the pad), so that no two pages carry the same
    characters for it. Pages are sent compressed; an attacker measuring their sizes
    while making a browser load them (BREACH) has nothing constant to guess."""
    secret = _session_token(conn).encode()
    pad = secrets.token_bytes(len(secret))
    masked = pad + bytes(a ^ b for a, b in zip(pad, secret, strict=True))
    return base64.urlsafe_b64encode(masked).decode().rstrip("=")


def unmasked_csrf(sent: str) -> str:
    """The token a masked one stands for (anything else: itself, which then fails)."""
    try:
        raw = base64.urlsafe_b64decode(sent + "=" * (-len(sent) % 4))
    except (ValueError, binascii.Error):
        return sent
    half = len(raw) // 2
    if len(raw) % 2 or half == 0:
        return sent
    return bytes(a ^ b for a, b in zip(raw[:half], raw[half:], strict=True)).decode(
        "ascii", errors="replace"
    )


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


async def read_form(
    request: Request, *, max_files: int = 0, max_part_size: int = MAX_FORM_PART_BYTES
) -> FormData:
    """The posted form, bounded in size, after checking its CSRF token (403 otherwise)."""
    try:
        form = await request.form(
            max_files=max_files, max_fields=MAX_FORM_FIELDS, max_part_size=max_part_size
        )
    except HTTPException:
        raise
    except Exception as exc:  # malformed body: multipart or urlencoded parsers disagree
        raise HTTPException(400, "Malformed form.") from exc
    try:
        if any(isinstance(value, str) and "\x00" in value for _, value in form.multi_items()):
            # Never meaningful in text, and PostgreSQL cannot store it: refused whole.
            raise RuleErrorResponse(400, N_("The form contains a NUL character."))
        sent = request.headers.get(CSRF_HEADER) or form.get(CSRF_FIELD)
        expected = request.session.get(CSRF_FIELD)
        if (
            not isinstance(sent, str)
            or not isinstance(expected, str)
            or not (
                secrets.compare_digest(unmasked_csrf(sent).encode(), expected.encode())
                # A page drawn before tokens were masked: its token as it was.
                or secrets.compare_digest(sent.encode(), expected.encode())
            )
        ):
            raise RuleErrorResponse(
                403, N_("This form has expired. Reload the page and try again.")
            )
    except BaseException:
        await form.close()  # an uploaded file's spooled copy, never read: let it go now
        raise
    return form


def field(form: FormData, name: str) -> str:
    value = form.get(name, "")
    if isinstance(value, UploadFile):
        raise RuleErrorResponse(400, N_("Files are not accepted here."))
    return value


# Days a form may name: past ones (written afterwards) and a plan's horizon.
FIRST_YEAR, LAST_YEAR = 1900, 2200


def day_field(form: FormData, name: str) -> date | None:
    """A date field (year-month-day, as <input type="date"> sends it); None when left
    empty; 422 naming what was typed when it is not a day we can store."""
    raw = field(form, name).strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        day = None
    if day is None or not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise RuleErrorResponse(
            422, N_("“%(value)s” is not a date (year-month-day)."), value=raw[:20]
        )
    return day


def form_fields(form: FormData) -> dict[str, str | list[str]]:
    """The form as plain text fields; a name sent several times keeps all its values."""
    fields: dict[str, str | list[str]] = {}
    for name in form:
        values = form.getlist(name)
        if any(isinstance(v, UploadFile) for v in values):
            raise RuleErrorResponse(400, N_("Files are not accepted here."))
        texts = [str(v) for v in values]
        fields[name] = texts[0] if len(texts) == 1 else texts
    return fields


def int_param(request: Request, name: str) -> int:
    value = int(request.path_params[name])
    if not 0 < value <= MAX_ID:
        raise RuleErrorResponse(404, N_("This page does not exist."))
    return value


class RuleErrorResponse(RuleError):
    """A refusal decided in the web layer (CSRF, form shape), answered like a rule error."""

    def __init__(self, status_code: int, message: str, **params: Any) -> None:
        super().__init__(message, **params)
        self.status_code = status_code


def translate_error(templates: Templates, locale: str, error: RuleError) -> str:
    params = {
        key: templates.gettext(locale, value) if key == "field" else value
        for key, value in error.params.items()
    }
    return templates.gettext(locale, error.message, **params)


def _answer_defaults(request: Request, context: dict[str, Any]) -> None:
    """What a page or fragment answering a request is drawn for unless told otherwise:

    ``page_path``, the address it is shown at (another for a page answering a form
    posted elsewhere); ``audience``, the phone (most fragments answer a phone's form: the
    console, the screen and the minutes say theirs); ``oob``, false (an answer is swapped
    in where it was asked for; only live frames swap in out of band, ``live.frames``)."""
    context.setdefault("page_path", request.url.path)
    context.setdefault("audience", "phone")
    context.setdefault("oob", False)


def render(
    request: Request, template: str, /, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """A full page or a partial, in the request's language, with the shared context
    (and the defaults of ``_answer_defaults``)."""
    state = app_state(request)
    locale = locale_of(request)
    _answer_defaults(request, context)
    html = state.templates.render(
        template,
        locale=locale,
        request=request,
        csrf_token=csrf_token(request),
        facilitator_id=request.session.get("facilitator_id"),
        **context,
    )
    return HTMLResponse(html, status_code=status_code)


async def render_large(
    request: Request, template: str, /, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """``render`` for a page whose size grows with the data (thousands of members or
    cards: a second of drawing): drawn in a thread, so the loop keeps serving."""
    templates, locale = app_state(request).templates, locale_of(request)
    _answer_defaults(request, context)
    context.update(
        request=request,
        csrf_token=csrf_token(request),  # (on the loop: it may write the session)
        facilitator_id=request.session.get("facilitator_id"),
    )

    def draw() -> bytes:
        return templates.render(template, locale=locale, **context).encode()

    return HTMLResponse(await asyncio.to_thread(draw), status_code=status_code)


# Stands for each visitor's CSRF token in a page drawn once for all (random: no text
# of a page can contain it by chance, nor a visitor guess it).
CSRF_MARK = "csrf-mark-" + secrets.token_hex(16)


def render_for_all(request: Request, template: str, /, **context: Any) -> str:
    """A page as every visitor of this language sees it when no facilitator is signed
    in, drawn with ``CSRF_MARK`` where each one's token goes (see ``for_visitor``)."""
    _answer_defaults(request, context)
    return app_state(request).templates.render(
        template,
        locale=locale_of(request),
        request=request,
        csrf_token=CSRF_MARK,
        facilitator_id=None,
        **context,
    )


def for_visitor(request: Request, page: str) -> HTMLResponse:
    """A page drawn by ``render_for_all``, with this visitor's token in it."""
    return HTMLResponse(page.replace(CSRF_MARK, csrf_token(request)))


def mounted(conn: HTTPConnection, path: str) -> str:
    """A path of ours as the browser must ask for it: under the prefix the app is
    mounted at, if any (``root_path``), as Starlette's ``url_for`` gives it."""
    return str(conn.scope.get("root_path", "")) + path


def public_url(request: Request, path: str) -> str:
    """An absolute link to print or put in a QR code: from COCREATE_PUBLIC_URL, else
    from this request's host."""
    base = app_state(request).settings.public_url.rstrip("/")
    return (base or f"{request.url.scheme}://{request.url.netloc}") + path


async def qr_svg(request: Request, url: str) -> Response:
    """A link as an SVG QR code, drawn on the server (in a worker process: several
    milliseconds of CPU each, which anyone could ask for in a loop)."""
    body = await app_state(request).heavy.run_cached(qr.link_svg, url)
    return Response(
        body,
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=3600"},
    )


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def go_to(request: Request, url: str) -> Response:
    """After a form: to ``url``. A plain form is redirected; a form sent by htmx (so that
    a refusal stays on the page, beside it) is told to load ``url`` as a page."""
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": url})
    return see_other(url)


# The signed cookie's keys naming a facilitator: their id, and their account's session
# version when it was issued (``cocreate.accounts``).
FACILITATOR_ID = "facilitator_id"
SESSION_VERSION = "facilitator_version"


def cookie_is_current(session: dict[str, Any], facilitator: Facilitator | None) -> bool:
    """Whether a cookie naming this facilitator was issued since they last signed out or
    changed their password."""
    version = session.get(SESSION_VERSION)
    return (
        facilitator is not None
        and isinstance(version, int)
        and version == facilitator.session_version
    )


async def current_facilitator(request: Request) -> Facilitator | None:
    facilitator_id = request.session.get(FACILITATOR_ID)
    if not isinstance(facilitator_id, int):
        return None
    async with app_state(request).db.session() as db:
        facilitator = await db.get(Facilitator, facilitator_id)
    if not cookie_is_current(request.session, facilitator):
        # Revoked: the cookie sent back forgets whom it named.
        request.session.pop(FACILITATOR_ID, None)
        request.session.pop(SESSION_VERSION, None)
        return None
    return facilitator


def remember_participant(request: Request, session_id: int, participant_id: int) -> None:
    known: dict[str, int] = dict(request.session.get("participants", {}))
    known.pop(str(session_id), None)
    known[str(session_id)] = participant_id
    while len(known) > MAX_REMEMBERED_SESSIONS:
        known.pop(next(iter(known)))
    request.session["participants"] = known


def remembered_participant(conn: HTTPConnection, session_id: int) -> int | None:
    known = conn.session.get("participants", {})
    value = known.get(str(session_id)) if isinstance(known, dict) else None
    return value if isinstance(value, int) else None


def remembers_a_participant(conn: HTTPConnection) -> bool:
    """Whether this phone has taken part in any session (its cookie says so)."""
    return bool(conn.session.get("participants"))


def no_content() -> Response:
    return Response(status_code=204)
