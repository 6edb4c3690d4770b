"""Bad input sweep (issue 7, item 1): generated requests against every route and socket.

What is swept
-------------
Every route of ``cocreate.app.routes`` (one added later is swept without touching this
file), with each of its methods and some it does not take, as four clients: a phone
that joined session A, A's facilitator, the facilitator of another session B, and an
anonymous visitor; with a valid, missing, forged or another client's CSRF token (or the
token in the header, or twice), with or without ``HX-Request``, each request from its
own client address (``X-Forwarded-For``: the per-address limits on guessed codes and
failed sign-ins would otherwise answer 429 to most of the sweep). Five tests:

- Any route, any client, any path: forms (query strings for GET) whose keys are the
  app's field names (the templates' ``name="…"`` attributes, the views' ``field(form,
  "…")`` and ``form.get("…")`` calls; ids filled into ``grade-{{ option.id }}``-like
  names) or random text, keys repeated or missing, values real (every enum value, the
  templates' ``value="…"`` literals, ids of A and B, voting codes) or hostile: control
  characters and NUL, right-to-left and emoji text, format strings, digits that
  ``str.isdigit`` takes and ``int`` does not, numbers past 64 bits or of 5,000 digits,
  text past every per-field limit.
- Each POST route's own form (its fields read from the templates' forms that post to
  it), sent as its own client would (the phone for ``/s/…``, the facilitator for
  ``/sessions/…``, ``/projects…`` and ``/roster…``, mostly), with a valid token to a real
  address, each field left out, sent once or twice, with a real or a hostile value: the
  requests that get past the checks every route shares.
- Path parameters: ids of A's own objects, of B's, 0, 2**63 and beyond, 5,000 digits,
  negative, non-numeric and non-ASCII text (an ``{x:id}`` route answers 404 to those at
  routing); join codes of A and B, typed loosely, unknown, short, long; voting codes;
  every ``Move`` and timer operation, and text.
- Bodies: more than ``MAX_FORM_FIELDS`` fields, past ``MAX_BODY_BYTES`` (declared, or
  streamed without a length), a part past ``MAX_FORM_PART_BYTES``, invalid UTF-8 (raw
  and percent-encoded), raw bytes, malformed multipart (no or a wrong boundary,
  truncated, not closed, a part without a name or with a broken header, a file where
  none is taken) and wrong content types.
- Live sockets: handshakes for every audience, client, code and origin, then generated
  hellos (``last_seq`` of every kind), JSON, text, oversized text, binary frames, floods.

The invariant
-------------
Every answer is below 500. A request answered 4xx stored nothing: a fingerprint of the
database (every row of every table, read back in one statement) is the same after as
before. A socket stays open after a valid hello (checked with a ping) or ends with a
close frame whose code is in ``CLOSE_CODES`` and which gives a reason; for a phone of A
and A's screen, the code is the one the messages call for. Sockets store nothing. The
figure (requests and socket messages tried, answers by status, close codes) is printed
in pytest's summary, and the last test checks its floor.

How Hypothesis drives it
------------------------
Each test is an async ``@given(st.data())`` test: pytest-asyncio runs every example on
the test's event loop, where the server of the ``open_session`` fixture runs too, and each
example draws one request (or one socket) from strategies made once for this world
(its ids, its codes). The fixtures are function-scoped, which Hypothesis warns about:
suppressed, since sharing one server and its state across the examples is the point
(thousands of requests cannot each start a server). ``derandomize=True`` makes the
examples the same on every run: CI is reproducible. Shrinking is off: replayed against a
server the earlier examples changed, a shrunk request is not the same request; the
failure message prints the request that failed (route, client, headers, body) instead.
One request per example: Hypothesis follows an example with a few mutated copies of
it, which would send most of a batch again unchanged; a request already sent is not
sent again (counted as a repeat).

What a request changes stays changed, with two exceptions that would stop the sweep
from reaching the rest: who a client is (each client sends its saved cookie with every
request and keeps none it is given, so joining again leaves it as it was), and A or B
closed or locked, a phone removed, or a facilitator signed out (which revokes every
cookie of the account): put back in the database after an accepted request of
``RESTORING_ROUTES``.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import re
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, urlencode

import httpx
import pytest
import sqlalchemy as sa
import websockets
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlmodel import SQLModel, col, select
from starlette.convertors import IntegerConvertor
from starlette.routing import Route

import cocreate
from cocreate import agenda, models, proposal_votes, proposals, register, steps, voting
from cocreate.app import MAX_BODY_BYTES, routes
from cocreate.live.socket import FLOOD_BURST, MAX_WS_MESSAGE_BYTES
from cocreate.models import (
    MAX_ID,
    College,
    FacilitationScript,
    Facilitator,
    Member,
    Organisation,
    Participant,
    Poll,
    PollOption,
    Project,
    Proposal,
    Proxy,
    Session,
    Step,
)
from cocreate.resources import resource_dir
from cocreate.web import CSRF_FIELD, CSRF_HEADER, MAX_FORM_FIELDS, MAX_FORM_PART_BYTES
from tests import strategies
from tests.conftest import Browser, OpenSession, open_session_for, signed_in
from tests.test_roster import ROSTER, import_csv, record_proxy, set_cap

# Examples per test: each is one request (or one socket and its messages); an example
# that repeats a request already sent is not sent again. The floors below are what the
# figure must reach.
HTTP_FORM_EXAMPLES = 650
HTTP_FIELD_EXAMPLES = 850
HTTP_ID_EXAMPLES = 350
HTTP_BODY_EXAMPLES = 450
SOCKET_EXAMPLES = 150
MIN_REQUESTS = 2000
MIN_SOCKET_MESSAGES = 500

# Each sweep must send at least this share of its examples (the rest repeat a request
# already sent), whichever pytest-xdist worker it runs on.
MIN_SENT_SHARE = 0.85

SWEEP: Counter[str] = Counter()  # the figure: requests, answers by status, socket messages
SWEEPS_DONE: set[str] = set()  # the sweeps that ran to the end in this process

CLIENTS = ("phone", "facilitator", "other_facilitator", "anonymous")
CSRF_MODES = ("valid", "valid", "valid", "missing", "forged", "foreign", "header", "twice")
OTHER_METHODS = ("PUT", "PATCH", "DELETE", "OPTIONS")
# Routes whose success stops the sweep from reaching the rest: after one, the sessions
# are opened and unlocked again and the phones put back (see ``restore``).
# Signing out revokes every cookie of the account, the client's saved one included.
RESTORING_ROUTES = frozenset({"close_session", "remove_participant", "room_settings", "logout"})
CLOSE_CODES = frozenset({1003, 1008, 1009, 1013})
AUDIENCES = ("phone", "screen", "console")
MAX_QUERY_CHARS = 8_000  # httpx refuses longer addresses
SERVER_WS_MAX_SIZE = 4096  # uvicorn's frame limit in tests/conftest.py: past it, 1009

SWEEP_SETTINGS = settings(
    deadline=None,
    derandomize=True,
    database=None,
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=(
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.large_base_example,
    ),
)

# --- what the app reads from forms, found in its own sources ----------------------------

SOURCES = Path(cocreate.__file__).parent
TEMPLATES = resource_dir("templates")
_FIELD_CALLS = re.compile(
    r"""(?:field\((?:a\.)?form,\s*|form\.get(?:list)?\(|\.flag\()"(\w+)"|"(\w+)" in a\.form"""
)
_NAME_ATTRS = re.compile(r'\bname="([^"]+)"')
_VALUE_ATTRS = re.compile(r'\bvalue="([^"{}]*)"')
_JINJA = re.compile(r"\{\{(.*?)\}\}")


def _texts(folder: Path, pattern: str) -> Iterable[str]:
    for path in sorted(folder.rglob(pattern)):
        yield path.read_text(encoding="utf-8")


def _variants(template: str, other: str, literal: Any = str) -> list[str]:
    """A template's attribute with each ``{{ … }}`` replaced: by each word quoted in it
    (``{{ 'pin' if … else 'unpin' }}``), else by ``other``; the rest through ``literal``."""
    variants = [""]
    for piece in re.split(r"(\{\{.*?\}\})", template):
        inner = _JINJA.fullmatch(piece)
        words = re.findall(r"'(\w+)'", inner.group(1)) if inner else [literal(piece)]
        choices = words or [other]
        variants = [v + choice for v in variants for choice in choices]
    return variants


def field_names() -> tuple[list[str], list[str]]:
    """(plain names, names with ``{id}`` where the template fills in an object's id)."""
    plain: set[str] = set()
    for text in _texts(SOURCES, "*.py"):
        for match in _FIELD_CALLS.finditer(text):
            plain.add(match.group(1) or match.group(2))
    for text in _texts(TEMPLATES, "*.html"):
        for name in _NAME_ATTRS.findall(text):
            plain.update(_variants(name, "{id}"))
    plain -= {"viewport", "htmx-config"}  # <meta name="…">
    return sorted(n for n in plain if "{id}" not in n), sorted(n for n in plain if "{id}" in n)


def known_values() -> list[str]:
    """Every value the forms offer: the enums' and the templates' literal ones."""
    values = {"", "0", "1", "on", "true", "up", "down"}
    for text in _texts(TEMPLATES, "*.html"):
        values.update(_VALUE_ATTRS.findall(text))
    for module in (models, voting, steps, agenda, proposals, proposal_votes, register):
        for item in vars(module).values():
            if isinstance(item, type) and issubclass(item, enum.Enum):
                values.update(str(member.value) for member in item)
    values.update(agenda.TIMER_OPS)
    values.update(voting.MAJORITY_RULES)
    values.update(voting.GRADES)
    return sorted(values)


FIELD_NAMES, TEMPLATED_NAMES = field_names()
KNOWN_VALUES = known_values()

SWEPT = [route for route in routes if isinstance(route, Route)]
ROUTE_METHODS = sorted(
    {(route.name, method) for route in SWEPT for method in (route.methods or {"GET"})}
)
ROUTES_BY_NAME = {route.name: route for route in SWEPT}
POSTS = sorted(name for name, method in ROUTE_METHODS if method == "POST")
_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")
_FORMS = re.compile(r"<form\b(.*?)</form>", re.DOTALL)
_FORM_TARGET = re.compile(r'\b(?:action|hx-post)="([^"]+)"')
_MACROS = re.compile(r"\{%-? macro (\w+)\(.*?%\}(.*?)\{%-? endmacro", re.DOTALL)


def route_fields() -> dict[str, list[str]]:
    """The fields of each POST route: the names in the templates' forms posting to it,
    with those of the macros they call (``{{ base }}/steps`` posts to any route ending
    in /steps); every name the app reads for a route no form posts to."""
    samples = {"move": steps.Move.START.value, "op": agenda.TIMER_OPS[0]}
    addresses = {
        name: _PARAM.sub(lambda m: samples.get(m.group(1), "1"), ROUTES_BY_NAME[name].path)
        for name in POSTS
    }
    found: dict[str, set[str] | None] = dict.fromkeys(POSTS)
    templates = list(_texts(TEMPLATES, "*.html"))
    macros = {
        name: _NAME_ATTRS.findall(body) for t in templates for name, body in _MACROS.findall(t)
    }
    for text in templates:
        for form in _FORMS.findall(text):
            target = _FORM_TARGET.search(form)
            if target is None:
                continue
            attributes = _NAME_ATTRS.findall(form)
            for called in re.findall(r"(\w+)\(", form):
                attributes += macros.get(called, [])
            names = {v for name in attributes for v in _variants(name, "{id}")} - {CSRF_FIELD}
            # `{{ base }}/steps`: the address begins with anything; other `{{ … }}`, a segment
            address = re.sub(r"^\{\{.*?\}\}", "{{ 'PREFIX' }}", target.group(1))
            for pattern in _variants(address, "[^/]*", re.escape):
                pattern = pattern.replace("PREFIX", ".*")
                for route, sample in addresses.items():
                    if re.fullmatch(pattern, sample):
                        found[route] = (found[route] or set()) | names
    return {name: FIELD_NAMES if names is None else sorted(names) for name, names in found.items()}


ROUTE_FIELDS = route_fields()
WITH_FIELDS = sorted(name for name, fields in ROUTE_FIELDS.items() if fields)

# Hostile values, each for a reason.
NASTY_TEXTS = [
    "\x00",
    "a\x00b",
    "\x00" * 40,
    "\x1b[31mrouge\x1b[0m",
    "\x07\x08\x0b\x0c\x7f\x85",
    "ligne\r\nautre\rligne",
    "\u202eesrever\u202c",  # right-to-left override
    "\u200f\u200e\u2066\u2069\u061c",  # bidi marks and isolates
    "مرحبا بكم في الورشة",
    "שלום עולם",
    "😀👩‍👩‍👧‍👦🏳️‍🌈🇫🇷",
    "e\u0301\u0301\u0301\u0301",  # stacked combining accents
    "\ufeff\u200b\u2060",  # BOM, zero width
    "\uffff\U0010ffff",  # noncharacters
    "%(n)d %s {0} {{ 7*7 }} ${x}",  # format strings
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "   ",
    "\t\n",
    "null",
    "[]",
    "{}",
]
# Numbers as text, in three kinds drawn alike (see ``numbers``).
ODD_NUMBERS = ["-1", "-0", "+1", " 7 ", "1.5", "1e3", "0x10", "NaN", "inf", "00", ""]
NOT_ASCII_DIGITS = ["²", "¹²³", "٣", "١٢", "१", "１"]  # isdigit(); int() refuses some
BIG_NUMBERS = [
    str(2**31),
    str(2**63 - 1),
    str(2**63),  # past 64 bits: the database refuses them
    str(2**64),
    "9" * 40,
    "9" * 5000,  # past int()'s 4,300 digits
]
numbers = st.one_of(
    st.sampled_from(ODD_NUMBERS),
    st.sampled_from(NOT_ASCII_DIGITS),
    st.sampled_from(BIG_NUMBERS),
    st.integers(-(2**70), 2**70).map(str),
)
LONG_UNITS = ["a", "é", "😀", "\x00", "7", "\u202e", "ab\n"]
LONG_SIZES = [61, 201, 501, 1001, 2001, 5001]  # past the limits of names, titles, texts, notes
HUGE_SIZES = [MAX_FORM_PART_BYTES + 1, 40_000, MAX_BODY_BYTES + 1, 3 * MAX_BODY_BYTES]


# --- the world: two sessions with something of every kind, and four clients -------------


@dataclass(frozen=True)
class Client:
    name: str
    cookie: str  # the Cookie header it sends with every request (it keeps no new one)
    csrf: str


@dataclass(eq=False)
class World:
    open_session: OpenSession
    http: httpx.AsyncClient
    clients: dict[str, Client]
    code: str  # A's join code
    other_code: str  # B's
    ids: dict[str, list[int]]  # A's objects, by path parameter name
    other_ids: dict[str, list[int]]  # B's
    voting_codes: list[str]
    phone_participants: list[int]
    sessions: list[int]
    fingerprint: dict[str, list[str]] | None = None  # as the last request left it
    forwarded: int = 0  # requests sent: each from its own address
    strategies: Strategies | None = None
    sent: set[tuple[object, ...]] = field(default_factory=set)  # requests sent already

    def __repr__(self) -> str:  # in Hypothesis's report of a failure: short
        return f"World(A={self.code}, B={self.other_code})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))

    def all_ids(self) -> list[int]:
        return sorted({i for ids in (*self.ids.values(), *self.other_ids.values()) for i in ids})


async def _furnish(open_session: OpenSession, phone: Browser, *, full: bool) -> None:
    """A roster, proposals, polls, steps (and, ``full``, a proxy, a comment, a vote, a
    reaction, polls of several methods, a saved script): something for every route to
    act on."""
    fac, base = open_session.facilitator, f"/sessions/{open_session.session_id}"
    await import_csv(open_session, ROSTER + "Denis Blanc;004;;Usagers\nEmma Noir;005;;Usagers\n")
    for text in ("Une cuisine partagée", "Un jardin ouvert")[: 2 if full else 1]:
        made = await phone.post(f"/s/{open_session.code}/proposals", {"text": text})
        assert made.status_code == 200, made.text
    polls: list[dict[str, str]] = [{"question": "Avis ?", "method": "yes_no"}]
    if full:
        await set_cap(open_session, 2)
        assert await record_proxy(open_session, "003", "001") == 303
        async with open_session.server.db.session() as db:
            pid = (
                await db.exec(
                    select(Proposal.id).where(Proposal.session_id == open_session.session_id)
                )
            ).first()
        for action, form in (("comments", {"text": "Oui !"}), ("vote", {"choice": "for"})):
            done = await phone.post(f"/s/{open_session.code}/proposals/{pid}/{action}", form)
            assert done.status_code == 200, done.text
        reacted = await phone.post(
            f"/s/{open_session.code}/proposals/{pid}/reaction", {"reaction": "agree"}
        )
        assert reacted.status_code == 200, reacted.text
        options = "Lundi\nMardi\nJeudi"
        polls += [
            {"question": "Statuts ?", "method": "yes_no", "binding": "1"},
            {"question": "Fermé ?", "method": "yes_no"},
            {"question": "Brouillon ?", "method": "yes_no"},
            {"question": "Dots ?", "method": "dots", "options": options},
            {"question": "Judgment ?", "method": "judgment", "options": options},
            {"question": "IRV ?", "method": "irv", "options": options},
        ]
    for form in polls:
        made = await fac.post(f"{base}/polls", {"secret": "1", **form}, htmx=False)
        assert made.status_code == 303, made.text
    async with open_session.server.db.session() as db:
        poll_ids = {
            p.question: p.id
            for p in (
                await db.exec(select(Poll).where(Poll.session_id == open_session.session_id))
            ).all()
        }
    for question, poll_id in poll_ids.items():
        if question != "Brouillon ?":
            opened = await fac.post(f"{base}/polls/{poll_id}/open", htmx=False)
            assert opened.status_code == 303, opened.text
    if full:
        closed = await fac.post(f"{base}/polls/{poll_ids['Fermé ?']}/close", htmx=False)
        assert closed.status_code == 303, closed.text
    for step in ({"kind": "ideas", "title": "Idées"}, {"kind": "vote", "title": "Vote"}):
        added = await fac.post(f"{base}/steps", step)
        assert added.status_code == 200, added.text
    if full:
        saved = await fac.post(f"{base}/scripts", {"name": "Mon déroulé"})
        assert saved.status_code == 200, saved.text


async def _ids_of(open_session: OpenSession) -> dict[str, list[int]]:
    """The ids of one session's objects, by the path parameter that names them."""
    sid = open_session.session_id
    async with open_session.server.db.session() as db:

        async def ids(statement: Any) -> list[int]:
            return sorted(int(i) for i in (await db.exec(statement)).all() if i is not None)

        poll_ids = await ids(select(Poll.id).where(Poll.session_id == sid))
        session = await db.get(Session, sid)
        assert session is not None
        project = await db.get(Project, session.project_id)
        assert project is not None
        organisation = (
            await db.exec(select(Organisation).where(Organisation.owner_id == project.owner_id))
        ).first()
        org_id = organisation.id if organisation else -1
        return {
            "session_id": [sid],
            "project_id": [open_session.project_id],
            "proposal_id": await ids(select(Proposal.id).where(Proposal.session_id == sid)),
            "poll_id": poll_ids,
            "option_id": await ids(
                select(PollOption.id).where(col(PollOption.poll_id).in_(poll_ids))
            ),
            "step_id": await ids(select(Step.id).where(Step.session_id == sid)),
            "participant_id": await ids(
                select(Participant.id).where(Participant.session_id == sid)
            ),
            "proxy_id": await ids(select(Proxy.id).where(Proxy.session_id == sid)),
            "member_id": await ids(select(Member.id).where(Member.organisation_id == org_id)),
            "college_id": await ids(select(College.id).where(College.organisation_id == org_id)),
            "script_id": await ids(
                select(FacilitationScript.id).where(FacilitationScript.owner_id == project.owner_id)
            ),
        }


def _client(name: str, browser: Browser) -> Client:
    return Client(name, browser.cookie_header(), browser.csrf)


@pytest.fixture
async def world(open_session: OpenSession) -> AsyncIterator[World]:
    server = open_session.server
    phone = await open_session.phone("Lina")
    await _furnish(open_session, phone, full=True)
    other = await signed_in(server, "dominique@example.org")
    session_b = await open_session_for(server, other, title="Atelier B")
    open_session.devices.append(other)
    phone_b = await session_b.phone("Bea")
    open_session.devices.append(phone_b)
    await _furnish(session_b, phone_b, full=False)
    anonymous = Browser(server)
    open_session.devices.append(anonymous)
    await anonymous.get("/")
    async with server.db.session() as db:
        codes = sorted(m.voting_code for m in (await db.exec(select(Member))).all())
        phones = (
            await db.exec(
                select(Participant.id).where(
                    col(Participant.session_id).in_([open_session.session_id, session_b.session_id])
                )
            )
        ).all()
    async with server.client(timeout=30) as http:
        built = World(
            open_session=open_session,
            http=http,
            clients={
                "phone": _client("phone", phone),
                "facilitator": _client("facilitator", open_session.facilitator),
                "other_facilitator": _client("other_facilitator", other),
                "anonymous": _client("anonymous", anonymous),
            },
            code=open_session.code,
            other_code=session_b.code,
            ids=await _ids_of(open_session),
            other_ids=await _ids_of(session_b),
            voting_codes=codes,
            phone_participants=[int(i) for i in phones if i is not None],
            sessions=[open_session.session_id, session_b.session_id],
        )
        yield built


# --- the database's fingerprint, and putting the sweep's world back ----------------------


TABLES = [table.name for table in SQLModel.metadata.sorted_tables]
_ROWS_SQL: dict[str, str] = {}  # by dialect: made once, read thousands of times


def _rows_sql(dialect: sa.Dialect) -> str:
    """One statement reading every row of every table, each row as a JSON array."""
    if dialect.name not in _ROWS_SQL:
        _ROWS_SQL[dialect.name] = _rows_sql_for(dialect)
    return _ROWS_SQL[dialect.name]


def _rows_sql_for(dialect: sa.Dialect) -> str:
    quote_name = dialect.identifier_preparer.quote
    as_json = "json_build_array({})::text" if dialect.name == "postgresql" else "json_array({})"
    hexadecimal = "encode({}, 'hex')" if dialect.name == "postgresql" else "hex({})"
    selects = []
    for table in SQLModel.metadata.sorted_tables:  # names from the metadata, not from input
        row = as_json.format(
            ", ".join(
                # JSON holds no bytes (a sealed ballot): they are read as hexadecimal text.
                hexadecimal.format(quote_name(column.name))
                if isinstance(column.type, sa.LargeBinary)
                else quote_name(column.name)
                for column in table.columns
            )
        )
        selects.append(f"SELECT '{table.name}', {row} FROM {quote_name(table.name)}")  # noqa: S608
    return " UNION ALL ".join(selects)


async def fingerprint(world: World) -> dict[str, list[str]]:
    """Every table's rows, read back in full (one statement: a couple of ms)."""
    engine = world.open_session.server.db.engine
    found: dict[str, list[str]] = {name: [] for name in TABLES}
    async with engine.connect() as connection:
        for name, row in (await connection.exec_driver_sql(_rows_sql(engine.dialect))).all():
            found[name].append(row)
    for rows in found.values():
        rows.sort()
    return found


def changes(before: dict[str, list[str]], after: dict[str, list[str]]) -> str:
    lines = []
    for name in before:
        if before[name] != after[name]:
            added = sorted(set(after[name]) - set(before[name]))
            gone = sorted(set(before[name]) - set(after[name]))
            lines.append(f"  {name}: +{added[:3]} -{gone[:3]}")
    return "\n".join(lines)


async def restore(world: World) -> None:
    """A and B open and unlocked again, the phones back in their sessions, the
    facilitators' cookies valid again."""
    async with world.open_session.server.db.session() as db:
        await db.exec(sa.update(Facilitator).values(session_version=0))
        await db.exec(
            sa.update(Session)
            .where(col(Session.id).in_(world.sessions))
            .values(closed_at=None, locked_at=None)
        )
        await db.exec(
            sa.update(Participant)
            .where(col(Participant.id).in_(world.phone_participants))
            .values(removed_at=None)
        )
        await db.commit()


# --- one request: sent, checked, counted ------------------------------------------------


@dataclass
class Attempt:
    route: str
    method: str
    path: str
    client: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    stream: bool = False  # sent in chunks, without a Content-Length
    note: str = ""

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.describe())

    def describe(self) -> str:
        body = self.body or b""
        shown = body[:600] + (f"… ({len(body)} bytes)".encode() if len(body) > 600 else b"")
        return (
            f"{self.route}: {self.method} {self.path[:300]} as {self.client} ({self.note})\n"
            f"  headers: {self.headers}\n  body{' (streamed)' if self.stream else ''}: {shown!r}"
        )


async def _chunks(body: bytes, size: int = 16_384) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


async def attempt(world: World, sent: Attempt) -> None:
    """Send one request; fail with the request if the server errs or a refusal stored."""
    signature = (sent.client, sent.method, sent.path, tuple(sent.headers.items()), sent.body)
    if signature in world.sent:
        SWEEP["repeats not sent"] += 1
        return
    before = world.fingerprint or await fingerprint(world)
    client = world.clients[sent.client]
    world.forwarded += 1
    headers = {"X-Forwarded-For": f"10.{world.forwarded // 250 % 250}.{world.forwarded % 250}.1"}
    if client.cookie:
        headers["Cookie"] = client.cookie
    headers.update(sent.headers)
    content: bytes | AsyncIterator[bytes] | None = sent.body
    if sent.stream and sent.body is not None:
        content = _chunks(sent.body)
    request = world.http.build_request(sent.method, sent.path, content=content, headers=headers)
    try:
        response = await world.http.send(request)
    except httpx.TransportError as dropped:
        pytest.fail(f"no answer ({dropped!r})\n{sent.describe()}")
    world.http.cookies.clear()  # the client stays who it was (see the module's doc)
    SWEEP["requests"] += 1
    SWEEP[f"answered {response.status_code}"] += 1
    status = response.status_code
    assert status < 500, f"server error {status}\n{sent.describe()}\n{response.text[:800]}"
    after = await fingerprint(world)
    if status >= 400:
        assert after == before, (
            f"refused with {status} but stored:\n{changes(before, after)}\n{sent.describe()}"
        )
    elif sent.route in RESTORING_ROUTES:
        await restore(world)
        after = await fingerprint(world)
    world.fingerprint = after
    world.sent.add(signature)  # after the checks: Hypothesis replays a failure as it was


# --- strategies --------------------------------------------------------------------------

FORM = "application/x-www-form-urlencoded"
MOVES = [move.value for move in steps.Move]

text_values = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
long_values = st.builds(
    lambda unit, size: unit * size, st.sampled_from(LONG_UNITS), st.sampled_from(LONG_SIZES)
)


def _filled(path: str) -> Any:
    """A function putting values into the path's parameters, in order."""

    def fill(values: tuple[str, ...]) -> str:
        found = iter(values)
        return _PARAM.sub(lambda _: next(found), path)

    return fill


class Strategies:
    """What the sweeps draw from, made once per world: Hypothesis validates a strategy
    when first drawn from, and strategies made afresh for every draw spent most of the
    sweep's time there."""

    def __init__(self, world: World) -> None:
        self.world = world
        any_id = world.all_ids()
        names = {*world.ids, *world.other_ids}
        self.ids = {
            name: self._ids(world.ids.get(name) or any_id, world.other_ids.get(name) or any_id)
            for name in names
        }
        self.any_id = self._ids(any_id, any_id)
        self.codes = st.one_of(
            st.just(world.code),
            st.just(world.code),
            st.just(world.other_code),
            st.sampled_from(
                [
                    world.code.lower(),
                    f" {world.code[:3]}-{world.code[3:]} ",
                    world.code + "X",
                    world.code * 3,
                    "AB",
                    "",
                ]
            ),
            st.text("ABCDEFGHJKLMNPQRSTUVWXYZ23456789", min_size=6, max_size=6),
            st.sampled_from(world.voting_codes),
            text_values,
            st.sampled_from(NASTY_TEXTS),
        )
        self.member_codes = st.sampled_from(world.voting_codes) | self.codes
        self.values = st.one_of(
            st.sampled_from(KNOWN_VALUES),
            st.sampled_from(KNOWN_VALUES),
            self.any_id,
            st.sampled_from(world.voting_codes),
            numbers,
            numbers,
            st.sampled_from(NASTY_TEXTS),
            text_values,
            st.lists(st.sampled_from([*NASTY_TEXTS, "Oui", "Non"]), max_size=40).map("\n".join),
            long_values,
        )
        templated = st.builds(
            lambda name, id_: name.replace("{id}", id_),
            st.sampled_from(TEMPLATED_NAMES),
            self.ids["option_id"] | self.ids["college_id"],
        )
        self.keys = st.one_of(
            st.sampled_from(FIELD_NAMES),
            st.sampled_from(FIELD_NAMES),
            st.sampled_from(FIELD_NAMES),
            templated,
            st.just(CSRF_FIELD),
            text_values,
            st.sampled_from(NASTY_TEXTS),
        )
        self.pairs = st.lists(st.tuples(self.keys, self.values), max_size=10)
        self.plain_pairs = st.lists(
            st.tuples(st.sampled_from(FIELD_NAMES), st.sampled_from(KNOWN_VALUES) | self.any_id),
            max_size=6,
        )
        self.paths = {name: self._paths(route) for name, route in ROUTES_BY_NAME.items()}
        self.real_paths = {name: self._real_paths(route) for name, route in ROUTES_BY_NAME.items()}
        self.csrf = {client: csrf_setup(self, client) for client in CLIENTS}
        self.option_ids = (
            st.sampled_from(
                world.ids["option_id"] + world.ids["college_id"] + world.other_ids["college_id"]
            ).map(str)
            | self.ids["option_id"]
        )
        self.form_attempts = form_attempts(self)
        self.field_attempts = field_attempts(self)
        self.id_attempts = id_attempts(self)
        self.body_attempts = body_attempts(self)
        self.handshakes = handshakes(self)

    @staticmethod
    def _ids(own: list[int], other: list[int]) -> st.SearchStrategy[str]:
        """Ids as text: mostly the session's own, or another's, or edge cases."""
        return st.one_of(
            st.sampled_from(own).map(str),
            st.sampled_from(own).map(str),
            st.sampled_from(other).map(str),
            numbers,
        )

    def _parameter(self, route: Route, name: str) -> Any:
        if isinstance(route.param_convertors[name], IntegerConvertor):
            return self.ids.get(name, self.any_id)
        if name == "code":
            return self.member_codes if route.path.startswith("/m/") else self.codes
        if name == "move":
            return st.sampled_from(MOVES) | text_values
        if name == "op":
            return st.sampled_from(agenda.TIMER_OPS) | text_values
        return st.sampled_from(KNOWN_VALUES) | text_values

    def _paths(self, route: Route) -> st.SearchStrategy[str]:
        """The route's path with generated parameters, each quoted as one segment."""
        parameters = [
            self._parameter(route, name).map(lambda v: quote(v, safe=""))
            for name in _PARAM.findall(route.path)
        ]
        return st.tuples(*parameters).map(_filled(route.path))

    def _real_paths(self, route: Route) -> st.SearchStrategy[str]:
        """The route's path with A's own ids and code: the request reaches its handler."""
        parameters: list[st.SearchStrategy[str]] = []
        for name in _PARAM.findall(route.path):
            if name == "code" and route.path.startswith("/m/"):
                parameters.append(st.sampled_from(self.world.voting_codes))
            elif name == "code":
                parameters.append(st.just(self.world.code))
            elif name == "move":
                parameters.append(st.sampled_from(MOVES))
            elif name == "op":
                parameters.append(st.sampled_from(agenda.TIMER_OPS))
            else:
                real = self.world.ids.get(name) or self.world.all_ids()
                parameters.append(st.sampled_from(real).map(str))
        return st.tuples(*parameters).map(_filled(route.path))


def encode_pairs(pairs: list[tuple[str, str]]) -> bytes:
    return urlencode(pairs).encode()


def multipart(
    parts: list[tuple[str, str | bytes, str | None]], boundary: str, *, close: bool = True
) -> bytes:
    """A multipart/form-data body: (name, value, filename or None) per part."""
    out = b""
    for name, value, filename in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        data = value if isinstance(value, bytes) else value.encode()
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        out += data + b"\r\n"
    if close:
        out += f"--{boundary}--\r\n".encode()
    return out


@st.composite
def csrf_setup(
    draw: st.DrawFn, s: Strategies, client: str
) -> tuple[list[tuple[str, str]], dict[str, str], str]:
    """(CSRF pairs for the form, headers, the mode drawn); HX-Request or not."""
    mode = draw(st.sampled_from(CSRF_MODES), label="csrf")
    token = s.world.clients[client].csrf
    others = [c.csrf for c in s.world.clients.values() if c.csrf and c.csrf != token]
    headers: dict[str, str] = {}
    pairs: list[tuple[str, str]] = []
    if mode == "valid":
        pairs = [(CSRF_FIELD, token)]
    elif mode == "forged":
        pairs = [(CSRF_FIELD, draw(st.sampled_from(["forged", token[:-1], token + "x", ""])))]
    elif mode == "foreign" and others:
        pairs = [(CSRF_FIELD, draw(st.sampled_from(others)))]
    elif mode == "header":
        headers[CSRF_HEADER] = token
    elif mode == "twice":
        pairs = [(CSRF_FIELD, "forged"), (CSRF_FIELD, token)]
    if draw(st.booleans(), label="htmx"):
        headers["HX-Request"] = "true"
    return pairs, headers, mode


@st.composite
def form_attempts(draw: st.DrawFn, s: Strategies) -> Attempt:
    """Any route, any client; forms (or query strings) of real and hostile fields."""
    name, method = draw(st.sampled_from(ROUTE_METHODS), label="route")
    if draw(st.integers(0, 30)) == 0:
        method = draw(st.sampled_from(OTHER_METHODS))
    client = draw(st.sampled_from(CLIENTS), label="client")
    path = draw(st.one_of(s.real_paths[name], s.real_paths[name], s.paths[name]), label="path")
    csrf_pairs, headers, mode = draw(s.csrf[client])
    pairs = draw(s.pairs, label="fields")
    if method in ("GET", "HEAD"):
        if pairs:  # past 8,000 characters cut, maybe in the middle of an escape
            path += "?" + urlencode(pairs)[:MAX_QUERY_CHARS]
        return Attempt(name, method, path, client, headers, note=f"query, csrf {mode}")
    position = draw(st.integers(0, len(pairs)))
    pairs[position:position] = csrf_pairs
    headers["Content-Type"] = FORM
    return Attempt(name, method, path, client, headers, encode_pairs(pairs), note=f"csrf {mode}")


def natural_clients(route: Route) -> list[str]:
    """Whom a route's forms are for, by its address: a phone's, the facilitator's, or
    anyone's."""
    if route.path.startswith("/s/"):
        return ["phone"]
    if route.path.startswith(("/sessions/", "/projects", "/roster")):
        return ["facilitator"]
    return list(CLIENTS)


@st.composite
def field_attempts(draw: st.DrawFn, s: Strategies) -> Attempt:
    """A POST route's own form, as its own client sends it (valid token, real path),
    each field left out, sent once or twice, with a real or a hostile value."""
    name = draw(st.sampled_from(WITH_FIELDS), label="route")
    route = ROUTES_BY_NAME[name]
    client = draw(st.sampled_from(natural_clients(route) * 8 + list(CLIENTS)), label="client")
    path = draw(s.real_paths[name], label="path")
    fields = ROUTE_FIELDS[name]
    if fields is FIELD_NAMES:  # no form posts there: some of every name the app reads
        fields = draw(st.lists(st.sampled_from(FIELD_NAMES), max_size=6))
    pairs: list[tuple[str, str]] = []
    for key in fields:
        keys = [key]
        if "{id}" in key:  # ``grade-{{ option.id }}``: one per option, for a few of them
            ids = draw(st.lists(s.option_ids, min_size=1, max_size=4))
            keys = [key.replace("{id}", id_) for id_ in ids]
        for filled in keys:
            for _ in range(draw(st.sampled_from([0, 1, 1, 1, 2]))):
                pairs.append((filled, draw(s.values, label=filled)))
    position = draw(st.integers(0, len(pairs)))
    pairs.insert(position, (CSRF_FIELD, s.world.clients[client].csrf))
    headers = {"Content-Type": FORM}
    if draw(st.booleans(), label="htmx"):
        headers["HX-Request"] = "true"
    return Attempt(name, "POST", path, client, headers, encode_pairs(pairs), note="own form")


WITH_PARAMETERS = [(n, m) for n, m in ROUTE_METHODS if "{" in ROUTES_BY_NAME[n].path]


@st.composite
def id_attempts(draw: st.DrawFn, s: Strategies) -> Attempt:
    """Routes with parameters, every parameter generated; a plausible form."""
    name, method = draw(st.sampled_from(WITH_PARAMETERS), label="route")
    client = draw(st.sampled_from(CLIENTS), label="client")
    path = draw(s.paths[name], label="path")
    csrf_pairs, headers, mode = draw(s.csrf[client])
    if method in ("GET", "HEAD"):
        return Attempt(name, method, path, client, headers, note=f"csrf {mode}")
    headers["Content-Type"] = FORM
    body = encode_pairs(csrf_pairs + draw(s.plain_pairs, label="fields"))
    return Attempt(name, method, path, client, headers, body, note=f"csrf {mode}")


BODY_KINDS = (
    "too_many_fields",
    "huge_field",
    "huge_streamed",
    "invalid_utf8",
    "raw_bytes",
    "multipart",
    "broken_multipart",
    "wrong_type",
)
MULTIPART_FLAWS = (
    "no_boundary",
    "wrong_boundary",
    "truncated",
    "unclosed",
    "no_name",
    "bad_header",
    "garbage",
    "empty",
    "part_too_big",
    "file_here",
    "many_parts",
)
# Files sent where a form has none, or as a roster: cp1252, UTF-16 with a NUL, empty, a
# field past the csv module's 128 KiB, a NUL in a cell, old Mac line endings.
UPLOADS = [
    b"name,number\nZo\xe9,77\n",
    b"\xff\xfe\x00",
    b"",
    b"name,number\n" + b"x" * (128 * 1024 + 1) + b",1\n",
    b"nom;num\xc3\xa9ro\nDe\x00nis;004\n",
    b"name,number\rA,1\rB,2\r",
]
INVALID_UTF8 = [b"\xff\xfe", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80"]
RAW_BODIES = [b"&&&===&", b"a=%", b"%zz=1", b"=", b"&", b"a=1;b=2", b"\x00", b"+" * 100]
WRONG_TYPES = [
    "application/json",
    "text/plain",
    "",
    "application/x-www-form-urlencoded; charset=utf-16",
    "multipart/mixed; boundary=x",
    "image/png",
    "multipart/form-data; boundary=",
]


@st.composite
def body_attempts(draw: st.DrawFn, s: Strategies) -> Attempt:
    """A POST route, mostly as its own client would reach it, with a malformed or
    oversized body."""
    name, method = draw(st.sampled_from(POSTS), label="route"), "POST"
    client = draw(st.sampled_from(CLIENTS), label="client")
    path = draw(st.one_of(s.real_paths[name], s.real_paths[name], s.paths[name]), label="path")
    csrf_pairs, headers, mode = draw(s.csrf[client])
    kind = draw(st.sampled_from(BODY_KINDS), label="body")
    note, stream = f"{kind}, csrf {mode}", False
    headers["Content-Type"] = FORM
    if kind == "too_many_fields":
        count = draw(st.integers(MAX_FORM_FIELDS + 1, 4 * MAX_FORM_FIELDS))
        pairs = draw(s.plain_pairs) or [("text", "Bonjour")]
        body = encode_pairs(csrf_pairs + (pairs * count)[:count])
    elif kind in ("huge_field", "huge_streamed"):
        key = draw(st.sampled_from(FIELD_NAMES))
        unit = quote_plus(draw(st.sampled_from(LONG_UNITS))).encode()
        size = draw(st.sampled_from(HUGE_SIZES)) // len(unit) + 1
        body = encode_pairs([*csrf_pairs, (key, "")]) + unit * size
        stream = kind == "huge_streamed"
    elif kind == "invalid_utf8":
        key = draw(st.sampled_from(FIELD_NAMES)).encode()
        junk = draw(st.sampled_from(INVALID_UTF8))
        if draw(st.booleans()):  # percent-encoded, or raw
            junk = b"".join(b"%%%02X" % byte for byte in junk)
        body = encode_pairs(csrf_pairs) + b"&" + key + b"=" + junk + b"&" + junk + b"=" + junk
    elif kind == "raw_bytes":
        prefix = encode_pairs(csrf_pairs) + b"&" if csrf_pairs else b""
        body = prefix + draw(st.binary(max_size=200) | st.sampled_from(RAW_BODIES))
    elif kind == "multipart":
        pairs = draw(s.pairs.map(lambda p: p[:6]))
        parts: list[tuple[str, str | bytes, str | None]] = [
            (k, v, None) for k, v in csrf_pairs + pairs
        ]
        if draw(st.booleans()):
            filename = draw(st.sampled_from(["roster.csv", "", "../../etc/passwd", "é😀.csv"]))
            payload = draw(st.sampled_from(UPLOADS))
            parts.append((draw(st.sampled_from(["file", "csv", "text"])), payload, filename))
        boundary = draw(st.sampled_from(["sweep", "x" * 70, "a'b(c)", "----WebKit1234"]))
        body = multipart(parts, boundary)
        headers["Content-Type"] = f'multipart/form-data; boundary="{boundary}"'
    elif kind == "broken_multipart":
        flaw = draw(st.sampled_from(MULTIPART_FLAWS))
        note = f"broken multipart ({flaw}), csrf {mode}"
        parts = [(k, v, None) for k, v in csrf_pairs] + [("text", "Bonjour", None)]
        body = multipart(parts, "sweep")
        headers["Content-Type"] = "multipart/form-data; boundary=sweep"
        if flaw == "no_boundary":
            headers["Content-Type"] = "multipart/form-data"
        elif flaw == "wrong_boundary":
            headers["Content-Type"] = "multipart/form-data; boundary=other"
        elif flaw == "truncated":
            body = body[: draw(st.integers(0, len(body) - 1))]
        elif flaw == "unclosed":
            body = multipart(parts, "sweep", close=False)
        elif flaw == "no_name":
            body = b"--sweep\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n" + body
        elif flaw == "bad_header":
            body = b"--sweep\r\nno colon here\r\n\r\nvalue\r\n" + body
        elif flaw == "garbage":
            body = draw(st.binary(max_size=300))
        elif flaw == "empty":
            body = b""
        elif flaw == "part_too_big":
            big = "x" * (MAX_FORM_PART_BYTES + 1)
            body = multipart([*parts, ("text", big, None)], "sweep")
        elif flaw == "file_here":
            body = multipart([*parts, ("text", b"hello", "hello.txt")], "sweep")
        else:  # many_parts
            body = multipart(parts + [("text", "x", None)] * (MAX_FORM_FIELDS + 1), "sweep")
    else:  # wrong_type
        content_type = draw(st.sampled_from(WRONG_TYPES))
        del headers["Content-Type"]
        if content_type:
            headers["Content-Type"] = content_type
        token = s.world.clients[client].csrf
        body = draw(
            st.sampled_from(
                [
                    encode_pairs([*csrf_pairs, ("text", "Bonjour")]),
                    json.dumps({CSRF_FIELD: token, "text": "Bonjour"}).encode(),
                    b"\x89PNG\r\n\x1a\n",
                ]
            )
        )
    return Attempt(name, method, path, client, headers, body, stream=stream, note=note)


def strategies_of(world: World) -> Strategies:
    if world.strategies is None:
        world.strategies = Strategies(world)
    return world.strategies


# --- the HTTP sweeps ---------------------------------------------------------------------


async def sweep(world: World, data: st.DataObject, strategy: Any) -> None:
    """One example, one request: Hypothesis follows each example with a few mutated
    copies of it, which re-send most of a batch of requests unchanged."""
    await attempt(world, data.draw(strategy, label="request"))


@settings(SWEEP_SETTINGS, max_examples=HTTP_FORM_EXAMPLES)
@given(data=st.data())
async def test_generated_forms_on_every_route(world: World, data: st.DataObject) -> None:
    """Any route, any client, forms and query strings of real and hostile fields."""
    await sweep(world, data, strategies_of(world).form_attempts)


@settings(SWEEP_SETTINGS, max_examples=HTTP_FIELD_EXAMPLES)
@given(data=st.data())
async def test_every_form_with_generated_values(world: World, data: st.DataObject) -> None:
    """Each route's own fields, as its own client sends them, with hostile values."""
    await sweep(world, data, strategies_of(world).field_attempts)


@settings(SWEEP_SETTINGS, max_examples=HTTP_ID_EXAMPLES)
@given(data=st.data())
async def test_generated_ids_and_codes_in_every_path(world: World, data: st.DataObject) -> None:
    """Other sessions' ids, huge, negative and non-numeric ids, unknown codes."""
    await sweep(world, data, strategies_of(world).id_attempts)


@settings(SWEEP_SETTINGS, max_examples=HTTP_BODY_EXAMPLES)
@given(data=st.data())
async def test_malformed_and_oversized_bodies(world: World, data: st.DataObject) -> None:
    """Too many fields, oversized, invalid UTF-8, broken multipart, wrong content types."""
    await sweep(world, data, strategies_of(world).body_attempts)


# --- the live sockets --------------------------------------------------------------------

json_values = strategies.json_values(
    st.none() | st.booleans() | st.integers() | st.floats() | text_values,
    text_values,
    max_items=4,
    max_keys=4,
    max_leaves=8,
)
last_seqs = st.one_of(
    st.none(),
    st.just(""),
    st.integers(0, 50),
    st.sampled_from([2**31, 2**63 - 1, 2**63, 2**64, 10**30]),
    st.integers(-5, -1),
    numbers,
    numbers,
    numbers,
    st.floats(allow_nan=True),
    st.booleans(),
    text_values,
    json_values,
)


def hello_outcome(last: object) -> int | None:
    """The close code a hello with this ``last_seq`` gets (None: it is taken): an event
    number, as a number or as ASCII digits, up to the largest number stored."""
    if last is None or last == "":
        return None
    if isinstance(last, str) and last.isascii() and last.isdigit() and len(last) < 20:
        last = int(last)
    if isinstance(last, int) and not isinstance(last, bool) and 0 <= last <= MAX_ID:
        return None
    return 1008


@dataclass(frozen=True)
class Message:
    data: str | bytes
    as_hello: int | None  # the close code it gets as the first message (None: taken)
    after: int | None  # the close code it gets after the hello (None: ignored)

    def __repr__(self) -> str:
        shown = self.data[:80]
        more = f"… ({len(self.data)})" if len(self.data) > 80 else ""
        return f"Message({shown!r}{more}, {self.as_hello}, {self.after})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


def _text(text: str) -> Message:
    if len(text.encode()) > MAX_WS_MESSAGE_BYTES:  # or the server's SERVER_WS_MAX_SIZE
        return Message(text, 1009, 1009)
    try:
        hello = json.loads(text)
    except ValueError:
        return Message(text, 1008, None)
    if not isinstance(hello, dict):
        return Message(text, 1008, None)
    return Message(text, hello_outcome(hello.get("last_seq")), None)


def _hello(last: object) -> Message:
    return _text(json.dumps({"last_seq": last}))


def _binary(data: bytes) -> Message:
    code = 1009 if len(data) > SERVER_WS_MAX_SIZE else 1003
    return Message(data, code, code)


messages = st.one_of(
    last_seqs.map(_hello),
    json_values.map(lambda v: _text(json.dumps(v))),
    text_values.map(_text),
    st.sampled_from(NASTY_TEXTS).map(_text),
    long_values.map(_text),
    st.sampled_from(["x" * 4097, "😀" * 1100, "y" * 20_000]).map(_text),
    st.binary(max_size=64).map(_binary),
    st.sampled_from([b"\x00" * 5000, b"{}"]).map(_binary),
)
# Mostly a hello first (``last_seq`` of every kind), then anything.
conversations = st.builds(
    lambda first, rest: [first, *rest],
    st.one_of(last_seqs.map(_hello), last_seqs.map(_hello), messages),
    st.lists(messages, max_size=3),
)


@dataclass(frozen=True)
class Handshake:
    code: str
    audience: str
    client: str | None  # whose cookie, None: no cookie
    origin: str | None

    def certain(self, world: World) -> bool:
        """A socket surely let in: a phone of A, or A's screen."""
        if self.origin != world.open_session.server.base_url or self.code != world.code:
            return False
        return (self.audience, self.client) in {("phone", "phone"), ("screen", "anonymous")}


@st.composite
def handshakes(draw: st.DrawFn, s: Strategies) -> Handshake:
    base = s.world.open_session.server.base_url
    if draw(st.integers(0, 2)):
        return Handshake(s.world.code, "phone", "phone", base)
    return Handshake(
        code=draw(s.codes),
        audience=draw(st.sampled_from(AUDIENCES) | text_values),
        client=draw(st.sampled_from([*CLIENTS, None])),
        origin=draw(
            st.sampled_from([base, base, base, "http://evil.example", "null", None, base + "/"])
        ),
    )


async def _until_closed(ws: websockets.ClientConnection) -> None:
    with contextlib.suppress(websockets.ConnectionClosed):
        while True:
            await ws.recv()


async def open_socket(world: World, handshake: Handshake) -> websockets.ClientConnection | int:
    """The socket, or the HTTP status of a refused handshake."""
    world.forwarded += 1
    headers = {"X-Forwarded-For": f"10.250.{world.forwarded // 250 % 250}.{world.forwarded % 250}"}
    if handshake.client is not None:
        headers["Cookie"] = world.clients[handshake.client].cookie
    path = f"/ws/{quote(handshake.code, safe='')}/{quote(handshake.audience, safe='')}"
    try:
        return await websockets.connect(
            world.open_session.server.ws_base + path,
            origin=handshake.origin,  # type: ignore[arg-type]
            additional_headers=headers,
            compression=None,
            open_timeout=10,
            max_size=None,
        )
    except websockets.InvalidStatus as refused:
        return refused.response.status_code


@pytest.mark.wire
@settings(SWEEP_SETTINGS, max_examples=SOCKET_EXAMPLES)
@given(data=st.data())
async def test_generated_socket_handshakes_and_messages(world: World, data: st.DataObject) -> None:
    """A close frame with a code and a reason for anything but a valid hello; never a
    server error; nothing stored."""
    before = world.fingerprint or await fingerprint(world)
    handshake = data.draw(strategies_of(world).handshakes, label="handshake")
    sent = data.draw(conversations, label="messages")
    if data.draw(st.integers(0, 9), label="flood") == 0:
        sent = [_hello(None)] + [_text("{}")] * (FLOOD_BURST + 5)
    where = f"{handshake} then {sent}"
    SWEEP["sockets"] += 1
    ws = await open_socket(world, handshake)
    if isinstance(ws, int):
        assert 400 <= ws < 500, f"handshake answered {ws}: {where}"
        assert handshake.origin not in (world.open_session.server.base_url, None) or ws == 403, (
            where
        )
        SWEEP[f"socket refused {ws}"] += 1
        return
    expected: int | None = None  # the close code the messages call for
    try:
        for number, message in enumerate(sent):
            if expected is not None:
                break  # the server closes now: what would follow could race its close
            try:
                await ws.send(message.data)
            except websockets.ConnectionClosed:
                break
            SWEEP["socket messages"] += 1
            expected = message.as_hello if number == 0 else message.after
            if expected is None and number > FLOOD_BURST:
                expected = 1008  # too many messages
        if expected is None:  # still open, or closed by a refusal of the handshake
            with contextlib.suppress(websockets.ConnectionClosed):
                await asyncio.wait_for(await ws.ping(), 5)
        else:
            with contextlib.suppress(TimeoutError):  # still open: failed below
                await asyncio.wait_for(_until_closed(ws), 5)
        received = ws.protocol.close_rcvd
        if received is None:
            assert ws.protocol.state is websockets.State.OPEN, f"closed without a frame: {where}"
            assert expected is None, f"expected a close {expected}, still open: {where}"
            SWEEP["socket left open (valid hello)"] += 1
        else:
            SWEEP[f"socket closed {received.code}"] += 1
            assert received.code in CLOSE_CODES, f"closed {received}: {where}"
            assert received.reason, f"closed {received.code} without a reason: {where}"
            if handshake.certain(world):
                assert received.code == expected, f"closed {received}, expected {expected}: {where}"
    finally:
        await ws.close()
    after = await fingerprint(world)
    assert after == before, f"a socket stored:\n{changes(before, after)}\n{where}"
    world.fingerprint = after


# --- the figure --------------------------------------------------------------------------


def figure() -> str:
    errors = sum(n for k, n in SWEEP.items() if k.startswith("answered 5"))
    answers = ", ".join(f"{k[9:]}: {n}" for k, n in sorted(SWEEP.items()) if k[:9] == "answered ")
    closes = ", ".join(f"{k[14:]}: {n}" for k, n in sorted(SWEEP.items()) if "closed" in k)
    return (
        f"input sweep: {SWEEP['requests']} requests ({answers}), {errors} server errors, "
        f"{SWEEP['repeats not sent']} repeats not sent; {SWEEP['sockets']} sockets, "
        f"{SWEEP['socket messages']} socket messages (closed {closes}; "
        f"{SWEEP['socket left open (valid hello)']} left open after a valid hello)"
    )


class _Figure:
    """Prints the figure in pytest's summary, output capture or not."""

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if SWEEP["requests"] or SWEEP["sockets"]:
            terminalreporter.write_line(figure())


@pytest.fixture(scope="module", autouse=True)
def _report_the_figure(request: pytest.FixtureRequest) -> None:
    if not request.config.pluginmanager.has_plugin("input-sweep-figure"):
        request.config.pluginmanager.register(_Figure(), "input-sweep-figure")


# What each sweep must add to the figure: (counted, at least).
SWEEP_FLOORS = {
    "test_generated_forms_on_every_route": ("requests", HTTP_FORM_EXAMPLES * MIN_SENT_SHARE),
    "test_every_form_with_generated_values": ("requests", HTTP_FIELD_EXAMPLES * MIN_SENT_SHARE),
    "test_generated_ids_and_codes_in_every_path": ("requests", HTTP_ID_EXAMPLES * MIN_SENT_SHARE),
    "test_malformed_and_oversized_bodies": ("requests", HTTP_BODY_EXAMPLES * MIN_SENT_SHARE),
    "test_generated_socket_handshakes_and_messages": ("socket messages", SOCKET_EXAMPLES * 3),
}


@pytest.fixture(autouse=True)
def _each_sweep_reaches_its_floor(request: pytest.FixtureRequest) -> Iterator[None]:
    before = SWEEP.copy()
    yield
    name = request.node.name
    if name in SWEEP_FLOORS:
        counted, floor = SWEEP_FLOORS[name]
        added = SWEEP[counted] - before[counted]
        assert added >= floor, f"{name}: {added} {counted}, fewer than {floor:.0f}"
        SWEEPS_DONE.add(name)


def test_the_sweep_reached_its_floor() -> None:
    """Runs last in this module: the figure of the tests above, when they all ran in
    this process (pytest-xdist may deal some of them to another worker; each checks
    its own floor wherever it runs)."""
    if len(SWEEPS_DONE) < len(SWEEP_FLOORS):
        pytest.skip(f"only {sorted(SWEEPS_DONE)} of the sweeps ran here")
    print(figure())
    assert SWEEP["requests"] >= MIN_REQUESTS, figure()
    assert SWEEP["socket messages"] >= MIN_SOCKET_MESSAGES, figure()
    assert not any(k.startswith("answered 5") for k in SWEEP), figure()
