"""Cross-site scripting (issue 7, item 2): what people write is shown as text, everywhere.

A corpus of payloads (tests/xss_payloads.py: script tags, event handlers, `javascript:`,
`data:` and `vbscript:` URLs, SVG, MathML, htmx and websocket attributes, template
syntax, Unicode tricks, entities…) is put into every field a person writes: participant
names, needs, proposals, comments, a facilitator's correction, decision notes, poll
questions, options and objections, step titles and prompts, a facilitation script's
name, a project's title, need and territory, a session's title and place, the roster's
member names, numbers and colleges; a decision recorded without a vote (its text and
note) and its correction; a decision's follow-up (who carries it out, each update, why it
was abandoned); questionnaire answers' comments; impact indicators' names and units and
their measurements' notes. Numbers and dates hold none (they are refused), but a refused
one is quoted back. The pages that show them are opened in a real headless Chromium:

* live: a phone, the projector and the console are open before anything is written, so
  every payload reaches them as htmx fragments over the websocket (the riskiest path);
* drawn by the server: the same pages reloaded, the join page, the minutes, the
  decisions register and each decision's page (with where it came from: needs,
  proposal, comments, poll; its follow-up; its questionnaire's results), the impact page
  and its SVG charts, poll results, the project pages, the roster and its voting-code
  sheet, a member's link, a proxy given, a participant's own link, the welcome-back page
  that link opens on another phone, a questionnaire on a phone (as a stranger, then
  answered); the facilitator's pages, and what anyone reads once decisions are
  published; refused forms and addresses echoing their input;
* exported: the contributions CSV (formulas neutralised) and a poll's ballot file.

Two of the browser profiles bypass the Content-Security-Policy: there, a payload that got
into the markup would really run, so "nothing ran" proves the escaping, not only the CSP.
The others keep the CSP and count its violations, which must stay at zero.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import markupsafe
import pytest
from sqlmodel import col, select

from cocreate.models import (
    Decision,
    Member,
    Poll,
    PollOption,
    Proposal,
    ProposalKind,
    Session,
    Survey,
    key,
)
from tests.browsing import LIVE_MS, NEEDS_CHROMIUM, Console
from tests.conftest import ONCE, PASSWORD, TLS, Browser, OpenSession, Server
from tests.xss_payloads import INERT, MARKER_RE, MARKERS, PAYLOADS, Payload

MAX_NAME = 60  # cocreate.models.MAX_NAME_CHARS
MAX_OPTION = 200  # cocreate.models.MAX_OPTION_CHARS
MAX_MEMBER_NAME = 120  # on the roster (cocreate.roster.parse_roster_csv)
MAX_NUMBER = 40  # cocreate.models.MAX_MEMBER_NUMBER_CHARS
MAX_OWNER = 120  # who carries a decision out: cocreate.models.MAX_OWNER_CHARS
MAX_UNIT = 40  # an indicator's unit: cocreate.models.MAX_UNIT_CHARS
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet would compute
EMAIL = "camille@example.org"  # the facilitator the `open_session` fixture signs in
OK = (200, 303)
WAIT_MS = 30_000  # hundreds of live fragments to swap, on a busy two-core machine

# Before any script of a page: count CSP violations, and give each marker a function that
# records its call (a payload calls `xssNN()` where it would run code).
INIT_SCRIPT = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample || ""}`);
}, true);
window.__xssCalls = [];
for (const marker of MARKERS) {
  window[marker] = () => { window.__xssCalls.push(marker); };
}
""".replace("MARKERS", json.dumps(MARKERS))

# One look at a page: the list of what is wrong with it (empty: all is well).
# - nothing a payload made: no event handler, no style attribute, no `javascript:`,
#   `data:` or `vbscript:` URL, no marker in a tag or attribute name, and a marker in an
#   attribute value only where the templates put user text (a form field's value, an
#   aria-label): anywhere else, a payload wrote it;
# - no htmx or websocket attribute (hx-*, data-hx-*, ws-*, sse-*) holding a marker;
# - no kind of element the templates never draw, and only their own scripts, style
#   sheets, metadata, image (the projector's QR code) and SVG (result charts, the QR
#   codes of the voting sheet);
# - no comment node holding a marker;
# - no CSP violation, no call of a payload's function;
# - every text expected on the page is in its textContent, exactly as stored: drawn as
#   text, not parsed (nor merely blocked). textContent keeps the source's whitespace, so
#   the comparison is exact; what the server itself normalises on the way in (stripping,
#   control characters, a step title's runs of spaces) is applied to the expected texts
#   beforehand (`cleaned`, `squeezed`). textContent leaves out input values, but not a
#   textarea's text: only texts also drawn as page text are expected.
CHECK_PAGE = r"""
(expected) => {
  const MARK = /xss\d\d/;
  const SCRIPT_URL = /^(javascript|data|vbscript):/i;
  const URL_ATTRS = new Set(["href", "src", "srcset", "action", "formaction", "xlink:href",
    "data", "srcdoc", "poster", "background", "codebase", "cite", "ping", "lowsrc",
    "dynsrc", "longdesc", "usemap", "manifest", "icon", "archive", "classid", "to",
    "values", "from", "by", "content"]);
  const VALUE_HOLDERS = new Set(["input", "option", "button"]);
  const HTMX_ATTR = /^(data-)?(hx-|ws-|sse-)/;
  const FORBIDDEN = "iframe, frame, frameset, object, embed, applet, base, math, style, " +
    "template, noscript, noembed, noframes, plaintext, xmp, listing, marquee, isindex, " +
    "keygen, video, audio, source, track, portal, bgsound, canvas, dialog";
  const problems = [];
  const show = (el) => {
    const html = el.outerHTML;
    return html.length > 200 ? html.slice(0, 200) + "…" : html;
  };
  for (const el of document.querySelectorAll(FORBIDDEN)) {
    problems.push(`an element the templates never draw: ${show(el)}`);
  }
  for (const el of document.querySelectorAll("script")) {
    if (!(el.getAttribute("src") || "").startsWith("/static/") || el.textContent.trim()) {
      problems.push(`script: ${show(el)}`);
    }
  }
  for (const el of document.querySelectorAll("link")) {
    const href = el.getAttribute("href") || "";
    if (el.parentElement !== document.head || !href.startsWith("/static/")) {
      problems.push(`link: ${show(el)}`);
    }
  }
  for (const el of document.querySelectorAll("meta")) {
    const known = el.hasAttribute("charset") ||
      ["viewport", "htmx-config"].includes(el.getAttribute("name"));
    if (el.parentElement !== document.head || !known || el.hasAttribute("http-equiv")) {
      problems.push(`meta: ${show(el)}`);
    }
  }
  for (const el of document.querySelectorAll("svg")) {
    if (!el.matches(".chart, .segno")) problems.push(`svg: ${show(el)}`);
  }
  for (const el of document.querySelectorAll("img")) {
    if (!el.classList.contains("qr")) problems.push(`img: ${show(el)}`);
  }
  for (const el of document.querySelectorAll("*")) {
    if (MARK.test(el.localName)) problems.push(`an element made by a payload: ${show(el)}`);
    for (const { name, value } of el.attributes) {
      if (name.startsWith("on")) problems.push(`event handler ${name}: ${show(el)}`);
      if (name === "style") problems.push(`style attribute: ${show(el)}`);
      if (MARK.test(name)) problems.push(`attribute ${name} made by a payload: ${show(el)}`);
      const userText = name === "aria-label" ||
        (name === "value" && VALUE_HOLDERS.has(el.localName));
      if (HTMX_ATTR.test(name) && MARK.test(value)) {
        problems.push(`htmx attribute ${name} made by a payload: ${show(el)}`);
      } else if (MARK.test(value) && !userText) {
        problems.push(`marker in attribute ${name}: ${show(el)}`);
      }
      if (URL_ATTRS.has(name) && SCRIPT_URL.test(value.replace(/[\u0000-\u0020]/g, ""))) {
        problems.push(`script URL in ${name}: ${show(el)}`);
      }
    }
  }
  const comments = document.createTreeWalker(document, NodeFilter.SHOW_COMMENT);
  while (comments.nextNode()) {
    if (MARK.test(comments.currentNode.data)) {
      problems.push(`comment node made by a payload: ${comments.currentNode.data.slice(0, 120)}`);
    }
  }
  if (window.__cspViolations.length) {
    problems.push(`CSP violations: ${window.__cspViolations.join(" | ")}`);
  }
  if (window.__xssCalls.length) problems.push(`payload code ran: ${window.__xssCalls.join(", ")}`);
  const text = document.documentElement.textContent;
  const missing = expected.filter((t) => !text.includes(t));
  if (missing.length) {
    problems.push(`${missing.length} of ${expected.length} texts not shown as written, ` +
      `such as ${JSON.stringify(missing.slice(0, 5))}`);
  }
  return problems;
}
"""


def cleaned(text: str) -> str:
    """As the server stores a name, need, proposal or comment (models.clean_text):
    control characters (zero-width ones and direction overrides included) dropped."""
    return "".join(ch for ch in text if ch in "\n\t" or ch.isprintable()).strip()


def squeezed(text: str) -> str:
    """As the server stores a step's title: runs of whitespace made one space."""
    return " ".join(text.split())


def shortened(text: str, length: int) -> str:
    """As a template's `truncate(length, True, "…")` draws a text: whole when it is at
    most 5 characters too long (Jinja's leeway), else cut to end with "…"."""
    return text if len(text) <= length + 5 else text[: length - 1] + "…"


def bundle(start: int, limit: int, *, single_line: bool = False) -> str:
    """Payloads from `start` on (round the corpus), as many as fit in `limit` characters."""
    parts: list[str] = []
    size = -1
    for offset in range(len(PAYLOADS)):
        text = PAYLOADS[(start + offset) % len(PAYLOADS)].text
        if single_line and len(text.splitlines()) != 1:
            continue
        if size + 1 + len(text) <= limit:
            parts.append(text)
            size += 1 + len(text)
    return " ".join(parts)


def starting(prefix: str) -> int:
    """The index of the payload that starts so."""
    return next(n for n, payload in enumerate(PAYLOADS) if payload.text.startswith(prefix))


def spreadsheet_cell(text: str) -> str:
    """What the CSV must hold for a text: as written; a would-be formula behind a quote."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def ok(response: httpx.Response, *codes: int) -> httpx.Response:
    assert response.status_code in (codes or OK), (response.status_code, response.text[:800])
    return response


async def together(calls: Iterable[Awaitable[Any]], at_once: int = 8) -> list[Any]:
    """Requests sent a few at a time, as a room sends them (the server then batches the
    live fragments); each must succeed: 200, or 303 after a plain form."""
    gate = asyncio.Semaphore(at_once)

    async def one(call: Awaitable[Any]) -> Any:
        async with gate:
            result = await call
        if isinstance(result, httpx.Response):
            ok(result)
        return result

    return await asyncio.gather(*(one(call) for call in calls))


class Device(Browser):
    """A device as tests.conftest.Browser makes it, but with no connection reused once
    idle for 2 s: uvicorn closes one idle for 5 s, and a
    request sent on it at that moment fails (ReadError), a race that this long test, on
    a loaded machine, would otherwise lose now and then."""

    def __init__(self, server: Server, cookies: httpx.Cookies | None = None) -> None:
        self.server = server
        self.http = httpx.AsyncClient(
            base_url=server.base_url,
            headers={"Accept-Language": "en"},
            cookies=cookies,
            follow_redirects=False,
            timeout=10,
            verify=TLS,
            limits=httpx.Limits(keepalive_expiry=2),
        )
        self.csrf = ""


class Pages:
    """The browser's side: its profiles, every request they made, what they logged."""

    def __init__(self, browser: Any, base: str) -> None:
        self.browser = browser
        self.base = base
        self.console = Console()
        self.requests: list[tuple[str, str]] = []  # (which page, what URL)
        self.asked: set[str] = set()  # addresses the test opened with a payload in them

    async def page(self, who: str, *, bypass_csp: bool = False, **options: Any) -> Any:
        """A page in a profile of its own (its own cookies)."""
        ctx = await self.browser.new_context(bypass_csp=bypass_csp, **options)
        await ctx.add_init_script(INIT_SCRIPT)
        page = self.console.watch(await ctx.new_page(), who)
        page.on("request", lambda request: self.requests.append((who, request.url)))
        page.on("websocket", lambda ws: self.requests.append((who, ws.url)))
        return page

    def fetched_for_payloads(self) -> list[str]:
        """What the pages requested because a payload asked (a marker in the URL)."""
        return [
            f"{who}: {url}"
            for who, url in self.requests
            if MARKER_RE.search(url) and url not in self.asked
        ]

    async def sign_in(self, page: Any) -> None:
        await page.goto(f"{self.base}/login")
        await page.fill("#email", EMAIL)
        await page.fill("#password", PASSWORD)
        await page.click("button.primary")
        await page.wait_for_url(f"{self.base}/projects", timeout=LIVE_MS)

    async def join(self, page: Any, code: str, name: str, expected: list[str]) -> None:
        """Through the join form (the join page checked first), as a phone does."""
        await page.goto(f"{self.base}/s/{code}")
        await check(page, "join page", expected)
        await page.fill("#display_name", name)
        await page.click("button.primary")
        await page.wait_for_selector(".whoami", timeout=LIVE_MS)


async def check(page: Any, where: str, expected: list[str]) -> None:
    problems = await page.evaluate(CHECK_PAGE, expected)
    assert problems == [], f"{where} ({page.url}):\n" + "\n".join(problems)


async def visit(page: Any, url: str, where: str, expected: list[str]) -> None:
    """Open a page (until its load event: htmx has processed it by then) and check it."""
    response = await page.goto(url)
    assert response is not None, url
    assert response.status == 200, (url, response.status)
    await check(page, where, expected)


@dataclass
class Written:
    """What the test wrote, as the server keeps it: what the pages must show as text."""

    project: list[str]  # title, need, session title
    territory: str
    step_titles: list[str]
    vote_step: list[str]  # the current step's title and prompt
    script_name: str
    names: list[str]  # one per payload, in the corpus' order
    phones: list[Device]  # theirs, in the same order
    needs: dict[int, str]
    ideas: dict[int, str]  # as corrected
    earlier_text: str  # the corrected idea's text before its correction
    merged: int  # an idea merged into another (its text is listed in that one's card)
    comments: list[str]
    notes: dict[int, str]  # per decided idea
    questions: list[str]
    ranked: list[str]  # the closed ranked poll's options
    open_options: list[str]  # the options of the polls still open
    reasons: list[str]  # objections in the closed, named consent poll
    voters: list[str]  # who objected
    polls: dict[str, int]
    members: list[str]  # the roster: one member per payload
    numbers: list[str]  # their member numbers (payloads too, when short enough)
    colleges: list[str]
    voting_codes: list[str]


@dataclass
class Scene:
    """The session under test, its facilitator's client, the pages open on it."""

    open_session: OpenSession
    fac: Device
    project_id: int
    session_id: int
    code: str
    pages: Pages
    live: dict[str, Any]  # by name: the pages open before anything is written

    async def caught_up(self) -> None:
        """Wait until every live page has swapped in the fragments of the session's events
        so far (and what they trigger has been sent)."""
        async with self.open_session.server.db.session() as db:
            session = await db.get(Session, self.session_id, populate_existing=True)
            assert session is not None
        waits = await asyncio.gather(
            *(
                page.wait_for_function(
                    "seq => Number(document.getElementById('live-seq')?.dataset.seq) >= seq",
                    arg=session.seq,
                    timeout=WAIT_MS,
                )
                for page in self.live.values()
            ),
            return_exceptions=True,
        )
        for (where, page), waited in zip(self.live.items(), waits, strict=True):
            if isinstance(waited, Exception):  # a payload may have broken the page: say how
                await check(page, f"{where}, stuck before event {session.seq}", [])
                raise AssertionError(
                    f"{where} never showed event {session.seq}; it shows {page.url}; "
                    f"payloads fetched {self.pages.fetched_for_payloads()}"
                ) from waited
        await asyncio.sleep(0.3)


async def write_everything(scene: Scene, project: list[str], territory: str) -> Written:
    """Every payload into every field, through HTTP, with the live pages open (the phone
    also tries to propose too early, to see a refusal that names a step)."""
    open_session, fac, code, live = scene.open_session, scene.fac, scene.code, scene.live
    server, project_id, session_id = open_session.server, scene.project_id, scene.session_id
    base = f"/sessions/{session_id}"

    # The agenda: step titles and prompts, and the agenda saved as a named script.
    kinds = ("needs", "ideas", "discussion", "vote")
    step_titles = [bundle(10 + 17 * n, 200) for n in range(len(kinds))]
    step_prompts = [bundle(40 + 13 * n, 2000) for n in range(len(kinds))]
    for kind, title, prompt in zip(kinds, step_titles, step_prompts, strict=True):
        step = {"kind": kind, "title": title, "prompt": prompt, "minutes": "", "auto_close": "1"}
        if kind == "vote":
            step["live_results"] = "1"  # closed polls show their results on every screen
        ok(await fac.post(f"{base}/steps", step), 200)
    script_name = bundle(60, 200)
    ok(await fac.post(f"{base}/scripts", {"name": script_name}), 200)
    ok(await fac.post(f"{base}/agenda/start"), 200)

    # One participant per payload, named by it. A name longer than 60 characters is
    # refused: the phone then takes the payload's first 60 characters.
    async def join(payload: Payload) -> tuple[Device, str]:
        device = Device(server)
        open_session.devices.append(device)
        ok(await device.get(f"/s/{code}"), 200)
        name = payload.text
        if len(cleaned(name)) > MAX_NAME:
            refused = await device.post(f"/s/{code}/join", {"display_name": name}, htmx=False)
            assert refused.status_code == 422, refused.text
            name = name[:MAX_NAME]
        ok(await device.post(f"/s/{code}/join", {"display_name": name}, htmx=False), 303)
        return device, cleaned(name)

    joined = await together(join(payload) for payload in PAYLOADS)
    phones: list[Device] = [device for device, _ in joined]
    names: list[str] = [name for _, name in joined]

    async def ids_of(kind: ProposalKind) -> list[int]:
        """Needs or ideas in the corpus' order (each text holds its own marker)."""
        async with server.db.session() as db:
            found = await db.exec(
                select(Proposal.id, Proposal.text).where(
                    Proposal.session_id == session_id, Proposal.kind == kind
                )
            )
            by_text = {text: pid for pid, text in found.all() if pid is not None}
        return [by_text[cleaned(p.text)] for p in PAYLOADS]

    # Needs, during the needs step.
    await together(
        device.post(f"/s/{code}/needs", {"text": payload.text})
        for device, payload in zip(phones, PAYLOADS, strict=True)
    )
    need_ids = await ids_of(ProposalKind.NEED)
    # A first look, live: the needs and their authors' names, on every page.
    await scene.caught_up()
    seen = [*(cleaned(p.text) for p in PAYLOADS), *names]
    for where, page in live.items():
        await check(page, f"{where}, live, with the needs", seen)
    phone = live["phone"]
    # Proposing now is refused, and the refusal names the step by its title: escaped in
    # the answer, and shown as text in the message region of a phone that tries.
    refused = await phones[0].post(f"/s/{code}/proposals", {"text": "too early"})
    assert refused.status_code == 409, refused.text
    assert str(markupsafe.escape(squeezed(step_titles[0]))) in refused.text
    await phone.evaluate("document.getElementById('propose').parentElement.hidden = false")
    await phone.fill("#proposal-text", PAYLOADS[0].text)
    await phone.evaluate("document.querySelector('#propose form').requestSubmit()")
    await phone.wait_for_selector("#flash .error", timeout=LIVE_MS)
    await check(phone, "phone showing a refusal", [squeezed(step_titles[0])])
    ok(await fac.post(f"{base}/agenda/next"), 200)

    # Ideas, each answering its author's need (the card quotes the need).
    await together(
        device.post(f"/s/{code}/proposals", {"text": payload.text, "need": str(need_id)})
        for device, payload, need_id in zip(phones, PAYLOADS, need_ids, strict=True)
    )
    idea_ids = await ids_of(ProposalKind.IDEA)
    ok(await fac.post(f"{base}/agenda/next"), 200)

    # Comments, during the discussion: each on the next phone's idea.
    await together(
        device.post(
            f"/s/{code}/proposals/{idea_ids[(n + 1) % len(idea_ids)]}/comments",
            {"text": payload.text},
        )
        for n, (device, payload) in enumerate(zip(phones, PAYLOADS, strict=True))
    )

    # The facilitator corrects an idea, merges one into another, decides on a quarter.
    ideas = {pid: cleaned(p.text) for pid, p in zip(idea_ids, PAYLOADS, strict=True)}
    correction = PAYLOADS[starting("-2+3+cmd")].text  # a spreadsheet formula
    ok(await fac.post(f"{base}/proposals/{idea_ids[0]}/edit", {"text": correction}), 200)
    earlier_text, ideas[idea_ids[0]] = ideas[idea_ids[0]], cleaned(correction)
    merged = idea_ids[1]
    ok(await fac.post(f"{base}/proposals/{merged}/merge", {"into": str(idea_ids[2])}), 200)
    outcomes = ("adopted", "rejected", "deferred")
    notes = {
        pid: PAYLOADS[(n + 7) % len(PAYLOADS)].text
        for n, pid in enumerate(idea_ids)
        if n % 4 == 0 and pid != merged
    }
    await together(
        fac.post(f"{base}/proposals/{pid}/decision", {"outcome": outcomes[n % 3], "note": note})
        for n, (pid, note) in enumerate(notes.items())
    )

    # Polls: payloads as questions and options (one per line: options of one line only).
    option_texts = [
        p.text.strip()
        for p in PAYLOADS
        if len(p.text.splitlines()) == 1 and len(p.text.strip()) <= MAX_OPTION
    ]
    ranked, graded, approved = option_texts[:30], option_texts[30:60], option_texts[60:90]
    assert len(approved) >= 2
    specs = {
        "ranked": ("irv", ranked, True),  # closed: its rounds, option by option
        "judgment": ("judgment", graded, True),  # open: each option graded on phones
        "consent": ("consent", [], False),  # closed, named: who objected, and why
        "approval": ("approval", approved, True),  # open
    }
    questions = [bundle(3 + 11 * n, 300, single_line=True) for n in range(len(specs))]
    for (method, options, secret), question in zip(specs.values(), questions, strict=True):
        form = {
            "question": question,
            "method": method,
            "options": "\n".join(options),
            "csrf_token": fac.csrf,
        }
        if secret:
            form["secret"] = "1"
        ok(await fac.http.post(f"{base}/polls", data=form), 303)
    async with server.db.session() as db:
        found = await db.exec(
            select(Poll.id).where(Poll.session_id == session_id).order_by(col(Poll.id))
        )
        polls = dict(zip(specs, [pid for pid in found.all() if pid is not None], strict=True))
        ranked_options = [
            oid
            for oid in (
                await db.exec(
                    select(PollOption.id)
                    .where(PollOption.poll_id == polls["ranked"])
                    .order_by(col(PollOption.position))
                )
            ).all()
            if oid is not None
        ]
    for poll_id in polls.values():
        ok(await fac.post(f"{base}/polls/{poll_id}/open", htmx=False), 303)
    # Opening the first poll moved the agenda to the vote step, where phones see them.
    voters = list(range(8))
    reasons = [PAYLOADS[(n + 45) % len(PAYLOADS)].text for n in voters]
    await together(
        phones[n].post(
            f"/s/{code}/polls/{polls['ranked']}/ballot",
            {f"rank-{ranked_options[n]}": "1", f"rank-{ranked_options[n + 5]}": "2"},
        )
        for n in voters
    )
    await together(
        phones[n].post(
            f"/s/{code}/polls/{polls['consent']}/ballot",
            {"choice": "objection", "reason": reason},
        )
        for n, reason in zip(voters, reasons, strict=True)
    )
    for closing in ("ranked", "consent"):
        ok(await fac.post(f"{base}/polls/{polls[closing]}/close", htmx=False), 303)
    # Each page has swapped in the fragments up to the last event (the roster's changes
    # below are not sent live).
    await scene.caught_up()
    ok(await fac.post(f"/projects/{project_id}/publish", {"published": "1"}, htmx=False), 303)

    # The roster: a member per payload, named by it (numbers and colleges are payloads too,
    # when short enough); the first two come with their voting code, the third gives the
    # first a proxy.
    members = [p.text.strip()[:MAX_MEMBER_NAME].strip() for p in PAYLOADS]
    numbers = [p.text.strip() if len(p.text.strip()) <= MAX_NUMBER else p.marker for p in PAYLOADS]
    colleges = [p.text.strip()[:MAX_NAME].strip() for p in PAYLOADS[3::10]]
    lines = io.StringIO()
    sheet = csv.writer(lines)
    sheet.writerow(["name", "number", "email", "college"])
    for n, (name, number) in enumerate(zip(members, numbers, strict=True)):
        sheet.writerow([name, number, "", colleges[n % len(colleges)]])
    imported = ok(await fac.post("/roster/import", {"csv": lines.getvalue()}, htmx=False), 200)
    assert f"Import done: {len(members)} added, 0 updated." in imported.text
    async with server.db.session() as db:
        found_codes = await db.exec(select(Member.number, Member.voting_code))
        code_of = dict(found_codes.all())
    voting_codes = [code_of[number] for number in numbers]
    for n in (0, 1):
        device = Device(server)
        open_session.devices.append(device)
        ok(await device.get(f"/s/{code}"), 200)
        sent = {"voting_code": voting_codes[n]}
        ok(await device.post(f"/s/{code}/join-member", sent, htmx=False), 303)
    proxy = {"principal": numbers[2], "holder": numbers[0]}
    ok(await fac.post(f"{base}/proxies", proxy, htmx=False), 303)

    return Written(
        project=project,
        territory=territory,
        step_titles=[squeezed(title) for title in step_titles],
        vote_step=[squeezed(step_titles[-1]), step_prompts[-1].strip()],
        script_name=script_name.strip(),
        names=names,
        phones=phones,
        needs={nid: cleaned(p.text) for nid, p in zip(need_ids, PAYLOADS, strict=True)},
        ideas=ideas,
        earlier_text=earlier_text,
        merged=merged,
        comments=[cleaned(payload.text) for payload in PAYLOADS],
        notes={pid: note.strip() for pid, note in notes.items()},
        questions=questions,
        ranked=ranked,
        open_options=graded + approved,
        reasons=[reason.strip() for reason in reasons],
        voters=[names[n] for n in voters],
        polls=polls,
        members=members,
        numbers=numbers,
        colleges=colleges,
        voting_codes=voting_codes,
    )


@dataclass
class Aftermath:
    """What became of the decisions, as the test wrote it: the register, the follow-up,
    the questionnaires and the impact indicators; what each page must show as text."""

    register: list[str]  # the register's page (besides the project's texts)
    decisions: dict[int, list[str]]  # each decision's page, by its id
    new_fields: list[int]  # the decisions holding the new fields (every profile opens them)
    call: int  # the decision taken without a vote (a follow-up date is refused there)
    impact: list[str]  # the impact page, as anyone reads it once published
    impact_owner: list[str]  # and as its facilitator reads it (with its forms' lists)
    indicator: int  # an indicator (a measurement is refused there)
    surveys: dict[str, list[str]]  # each questionnaire's phone page, by its code
    surveyed: list[int]  # the decisions asked about, in the order of `surveys`
    asked: list[str]  # what the welcome-back page lists: the decisions asked about
    returning: tuple[str, str]  # a participant named by a payload: their link, their name


async def write_the_aftermath(scene: Scene, w: Written) -> Aftermath:
    """Payloads into what follows the session: a decision recorded without a vote and its
    correction, follow-ups (who carries it out, the updates, why it was abandoned),
    questionnaires answered by the phones, impact indicators (names, units, measurement
    notes) linked to the decisions; and a participant's own link, asked for over HTTP."""
    fac, server, code = scene.fac, scene.open_session.server, scene.code
    at = f"/projects/{scene.project_id}"
    session_title = w.project[2]

    # A decision taken without a vote, then corrected by a new entry.
    call_text, call_note = bundle(13, 500), bundle(29, 2000)
    call = {"text": call_text, "outcome": "adopted", "note": call_note}
    made = ok(await fac.post(f"{at}/decisions", call, htmx=False), 303)
    call_id = int(made.headers["location"].rsplit("/", 1)[1])
    fix_text, fix_note = bundle(starting("</textarea>"), 500), bundle(71, 2000)
    fix = {"text": fix_text, "outcome": "deferred", "note": fix_note}
    made = ok(await fac.post(f"{at}/decisions/{call_id}/correction", fix, htmx=False), 303)
    fix_id = int(made.headers["location"].rsplit("/", 1)[1])
    async with server.db.session() as db:
        found = await db.exec(select(Decision).where(Decision.project_id == scene.project_id))
        decided = list(found.all())
    by_proposal = {d.proposal_id: d for d in decided if d.proposal_id is not None}
    by_poll = {d.poll_id: d for d in decided if d.poll_id is not None}

    # What each decision's page shows: its text, note and session; for a proposal, the
    # need it answers and the comment on it (the provenance); for a poll, its options.
    texts = {call_id: call_text.strip(), fix_id: fix_text.strip()}
    pages = {call_id: [call_note.strip()], fix_id: [fix_note.strip()]}
    need_texts, idea_ids = list(w.needs.values()), list(w.ideas)
    for pid, note in w.notes.items():
        n = idea_ids.index(pid)  # its author's need; commented on by the previous phone
        decision = by_proposal[pid]
        texts[key(decision)] = w.ideas[pid]
        pages[key(decision)] = [note, session_title, need_texts[n], w.comments[n - 1]]
    summaries = []  # what the polls chose, as the server words it: their options
    for kind, question, options in (("ranked", 0, w.ranked), ("consent", 2, [])):
        decision = by_poll[w.polls[kind]]
        summary = [decision.summary] if decision.summary else []
        texts[key(decision)] = w.questions[question]
        pages[key(decision)] = [session_title, *options, *summary]
        summaries += summary
    assert sorted(texts) == sorted(key(d) for d in decided)

    # The follow-up: a decision of the session is carried out, then abandoned (its reason
    # is shown on the phones asked about it); the ranked poll's is planned; the call done.
    first = by_proposal[next(iter(w.notes))]
    ranked = by_poll[w.polls["ranked"]]
    assert first.outcome != "rejected", first  # those have something to carry out
    assert ranked.outcome != "rejected", ranked
    owners = [bundle(5 + 19 * n, MAX_OWNER) for n in range(3)]
    updates = [
        (first, "in_progress", owners[0], bundle(2, 2000)),
        (first, "abandoned", owners[0], bundle(47, 2000)),
        (ranked, "planned", owners[1], bundle(starting("</text>"), 2000)),
        (call_id, "done", owners[2], bundle(83, 2000)),
    ]
    for decision, status, owner, note in updates:
        did = decision if isinstance(decision, int) else key(decision)
        change = {
            "owner": owner,
            "due_on": "2027-03-01",
            "review_on": "2026-01-10",
            "status": status,
            "progress": "40",
            "note": note,
        }
        ok(await fac.post(f"{at}/decisions/{did}/follow-up", change, htmx=False), 303)
        pages[did] += [owner.strip(), note.strip()]
    reason = updates[1][3].strip()
    follow_up_owners = [owner.strip() for owner in owners]

    # Questionnaires on those two: eight phones answer, each comment a bundle.
    surveyed = [key(first), key(ranked)]
    for did in surveyed:
        ok(await fac.post(f"{at}/decisions/{did}/survey", htmx=False), 303)
    async with server.db.session() as db:
        found_codes = await db.exec(select(Survey.decision_id, Survey.code))
        code_of = dict(found_codes.all())
    codes = [code_of[did] for did in surveyed]
    answers = [bundle(11 * n + 1, 1000) for n in range(8)]
    await together(
        w.phones[n].post(
            f"/f/{codes[n % 2]}", {"rating": str(n % 5 + 1), "comment": answer}, htmx=False
        )
        for n, answer in enumerate(answers)
    )
    comments = [answer.strip() for answer in answers]
    for n, comment in enumerate(comments):
        pages[surveyed[n % 2]].append(comment)

    # Impact indicators, one per family: names, units and measurement notes are payloads;
    # each tells the impact of the decisions above (their texts, shortened).
    linked = [call_id, fix_id, *surveyed]
    written: list[str] = []
    indicators = []
    for n, family in enumerate(("social", "ecological", "political")):
        name, unit = bundle(7 + 29 * n, 200), bundle(50 + 13 * n, MAX_UNIT)
        indicator = {"family": family, "name": name, "unit": unit, "baseline": "0", "target": "100"}
        made = ok(await fac.post(f"{at}/impact", indicator, htmx=False), 303)
        indicators.append(int(made.headers["location"].rsplit("-", 1)[1]))
        written += [name.strip(), unit.strip()]
        for k, (day, value) in enumerate((("2026-01-15", "12,5"), ("2026-06-01", "42"))):
            note = bundle(31 + 17 * (2 * n + k), 2000)
            measured = {"measured_on": day, "value": value, "note": note}
            to = f"{at}/impact/{indicators[-1]}/measurements"
            ok(await fac.post(to, measured, htmx=False), 303)
            written.append(note.strip())
        links = {"decision": [str(did) for did in linked], "csrf_token": fac.csrf}
        ok(await fac.http.post(f"{at}/impact/{indicators[-1]}/decisions", data=links), 303)
    impact = [
        w.project[0],
        *written,
        *(shortened(texts[did], 60) for did in linked),
        *(shortened(texts[did], 80) for did in surveyed),
        *comments,
    ]

    # A participant named by a payload asks for their own link (another phone opens it).
    answer = ok(await w.phones[0].post(f"/s/{code}/link", htmx=False), 200)
    match = re.search(r'/p/([\w-]+)"', answer.text)
    assert match, answer.text[:800]

    register = [
        *texts.values(),
        call_note.strip(),
        fix_note.strip(),
        *w.notes.values(),
        *(need_texts[idea_ids.index(pid)] for pid in w.notes),
        *summaries,
        *follow_up_owners,
    ]
    return Aftermath(
        register=register,
        decisions={did: [texts[did], *shown] for did, shown in pages.items()},
        new_fields=[call_id, fix_id, *surveyed, key(by_poll[w.polls["consent"]])],
        call=call_id,
        impact=impact,
        impact_owner=[*impact, *(shortened(text, 80) for text in texts.values())],
        indicator=indicators[0],
        surveys={
            code: [session_title, texts[did], *([reason] if did == key(first) else [])]
            for code, did in zip(codes, surveyed, strict=True)
        },
        surveyed=surveyed,
        asked=[texts[did] for did in surveyed],
        returning=(f"/p/{match.group(1)}", w.names[0]),
    )


@pytest.mark.browser
@NEEDS_CHROMIUM
@ONCE
# The battery opens every page a payload reaches, in a real browser, as four people:
# 80 to 120 s on a busy 2-core machine, close to the suite's 120 s per test.
@pytest.mark.timeout(300)
async def test_no_payload_runs_or_turns_into_markup_anywhere(
    browser: Any, open_session: OpenSession
) -> None:
    server = open_session.server
    base = server.base_url
    fac = Device(
        server, cookies=open_session.facilitator.http.cookies
    )  # the facilitator, signed in
    fac.csrf = open_session.facilitator.csrf
    open_session.devices.append(fac)

    # A project and a session whose every title (and place) is made of payloads.
    project_title, project_need = bundle(0, 200), bundle(5, 2000)
    territory, session_title = bundle(20, 200), bundle(starting("</title>"), 200)
    place = bundle(37, 200)
    project_fields = {"title": project_title, "need": project_need, "territory": territory}
    created = ok(await fac.post("/projects", project_fields, htmx=False), 303)
    project_id = int(created.headers["location"].rsplit("/", 1)[1])
    session_fields = {"title": session_title, "place": place}
    made = ok(await fac.post(f"/projects/{project_id}/sessions", session_fields, htmx=False), 303)
    session_id = int(made.headers["location"].split("/")[2])
    ok(await fac.post(f"/sessions/{session_id}/open", htmx=False), 303)
    async with server.db.session() as db:
        session = await db.get(Session, session_id)
        assert session is not None
        assert session.join_code
        code = session.join_code
    project = [project_title.strip(), project_need.strip(), session_title.strip()]

    # The pages, open before anything else is written: a phone, the projector and the
    # console. The phone comes twice: once under the CSP, once without it (there, what got
    # into the markup would run). The console without CSP is opened at the end.
    pages = Pages(browser, base)
    desk = {"viewport": {"width": 1280, "height": 900}}
    handheld = {"viewport": {"width": 360, "height": 640}, "is_mobile": True, "has_touch": True}
    console = await pages.page("console", **desk)
    raw_console = await pages.page("console without CSP", bypass_csp=True, **desk)
    screen = await pages.page("projector", viewport={"width": 1600, "height": 900})
    phone = await pages.page("phone", **handheld)
    raw_phone = await pages.page("phone without CSP", bypass_csp=True, **handheld)
    raw_phone_name = PAYLOADS[starting('"><img')].text

    async def open_console(page: Any) -> None:
        await pages.sign_in(page)
        await page.goto(f"{base}/sessions/{session_id}/console")

    await asyncio.gather(
        open_console(console),
        pages.sign_in(raw_console),
        screen.goto(f"{base}/s/{code}/screen"),
        pages.join(phone, code, "Témoin", project),
        # This one joins with a payload as its name: the page htmx swaps in greets it.
        pages.join(raw_phone, code, raw_phone_name, project),
    )
    assert await raw_phone.inner_text(".whoami") == f"You take part as {raw_phone_name}."
    live = {
        "phone": phone,
        "phone without CSP": raw_phone,
        "projector": screen,
        "console": console,
    }
    # Every page is connected (the console counts them) before anything is written.
    await console.wait_for_function(
        """() => {
          const said = document.getElementById("presence").textContent;
          return ["2 people connected", "1 projector", "1 console"].every((t) => said.includes(t));
        }""",
        timeout=LIVE_MS,
    )
    for where, page in live.items():
        await check(page, f"{where}, before", [session_title.strip()])

    scene = Scene(open_session, fac, project_id, session_id, code, pages, live)
    w = await write_everything(scene, project, territory)
    after = await write_the_aftermath(scene, w)

    # What each page must show as text.
    ideas = list(w.ideas.values())  # the merged one is listed in the card it joined
    everywhere = [session_title.strip(), *w.needs.values(), *ideas, *w.names, *w.questions]
    phone_texts = [*everywhere, *project, *w.vote_step, *w.comments, *w.open_options]
    console_texts = [
        *everywhere,
        project_title.strip(),
        *w.comments,
        *w.notes.values(),
        *w.step_titles,
        w.script_name,
        w.earlier_text,
        *w.open_options,
    ]
    expected = {
        "phone": phone_texts,
        "phone without CSP": [*phone_texts, cleaned(raw_phone_name)],
        "projector": [*everywhere, *w.vote_step, *w.open_options],
        "console": console_texts,
    }

    # Live: each page has swapped in every fragment (write_everything waited for them).
    for where, page in live.items():
        await check(page, f"{where}, live", expected[where])

    # Drawn by the server: the same pages, reloaded. The console now lists the members
    # present and the proxy too (neither is a live event).
    present = [w.members[0], w.members[1], w.numbers[0], w.numbers[1]]
    proxies = [w.members[2], w.members[0], w.numbers[2], w.numbers[0]]
    members_present = [name[:MAX_NAME] for name in present[:2]]  # as participants' names
    expected["console"] = [*console_texts, *members_present, *proxies]

    async def reload(where: str, page: Any) -> None:
        await page.reload()  # until its load event: htmx has processed the page
        await check(page, f"{where}, reloaded", expected[where])

    await asyncio.gather(*(reload(where, page) for where, page in live.items()))

    # What is left of the session, and the other pages that show what people wrote.
    minutes = [
        *project,
        w.territory,
        place.strip(),
        *w.step_titles,
        *w.needs.values(),
        *(text for pid, text in w.ideas.items() if pid != w.merged),
        *w.names,
        *w.questions,
        *w.notes.values(),
        *present,
        *proxies,
    ]
    ranked = [w.questions[0], session_title.strip(), *w.ranked]
    consent = [w.questions[2], *w.reasons, *w.voters]
    at = {
        "minutes": f"{base}/sessions/{session_id}/minutes",
        "decisions": f"{base}/projects/{project_id}/decisions",
        "ranked poll": f"{base}/s/{code}/polls/{w.polls['ranked']}",
        "consent poll": f"{base}/s/{code}/polls/{w.polls['consent']}",
        "project": f"{base}/projects/{project_id}",
        "projects": f"{base}/projects",
        "console": f"{base}/sessions/{session_id}/console",
        "roster": f"{base}/roster",
        "sheet": f"{base}/roster/sheet",
        "member link": f"{base}/m/{w.voting_codes[3]}",
    }
    roster = [*w.members, *w.numbers, *w.colleges]
    member_link = [w.members[3], session_title.strip()]

    # Back to the people concerned, in the browser. The phone named by a payload asks for
    # its own link, and opens it on another phone (without CSP either): greeted by its
    # name, it is asked about the decisions, and answers on the questionnaire's page (a
    # comment of payloads, typed in the textarea). Another participant named by a payload
    # opens theirs on a phone under the CSP, after a look at a questionnaire as a stranger.
    codes = list(after.surveys)
    typed = bundle(starting("</textarea>"), 1000)
    after.decisions[after.surveyed[0]].append(typed.strip())
    after.impact.append(typed.strip())
    after.impact_owner.append(typed.strip())
    # The project's and session's titles, the decisions asked about (and the name).
    session_shown = session_title.strip()
    welcome = [project_title.strip(), session_shown, *after.asked]
    returning = await pages.page("returning phone", **handheld)
    raw_returning = await pages.page("returning phone without CSP", bypass_csp=True, **handheld)

    async def come_back_without_csp() -> None:
        await raw_phone.goto(f"{base}/s/{code}")
        # (a click could land on the stage, which the payloads make very long)
        await raw_phone.evaluate("document.querySelector('details.my-link form').requestSubmit()")
        await raw_phone.wait_for_selector("#my-link", timeout=LIVE_MS)
        me = cleaned(raw_phone_name)
        await check(raw_phone, "participant's link, without CSP", [session_title.strip(), me])
        link = await raw_phone.input_value("#my-link")
        # Asked first (saying whom the phone would become), then welcomed.
        await visit(raw_returning, link, "personal link, without CSP", [session_shown, me])
        async with raw_returning.expect_navigation(timeout=LIVE_MS):
            await raw_returning.click("form[action^='/p/'] button")
        await check(raw_returning, "welcome back, without CSP", [*welcome, me])
        await raw_returning.click(f"a[href='/f/{codes[0]}']")
        await raw_returning.wait_for_selector("#survey-comment", timeout=LIVE_MS)
        asked = after.surveys[codes[0]]
        await check(raw_returning, "questionnaire, without CSP", asked)
        await raw_returning.check("input[name=rating][value='2']")
        await raw_returning.fill("#survey-comment", typed)
        await raw_returning.click("form[action^='/f/'] button.primary")
        await raw_returning.wait_for_selector(".notice[role=status]", timeout=LIVE_MS)
        assert await raw_returning.input_value("#survey-comment") == typed.strip()
        await check(raw_returning, "questionnaire answered, without CSP", [*asked, typed.strip()])

    async def come_back() -> None:
        survey = f"{base}/f/{codes[1]}"
        await visit(returning, survey, "questionnaire, a stranger", after.surveys[codes[1]])
        link, name = after.returning
        await visit(returning, base + link, "personal link", [session_shown, name])
        async with returning.expect_navigation(timeout=LIVE_MS):
            await returning.click("form[action^='/p/'] button")
        await check(returning, "welcome back", [*welcome, name])
        await visit(returning, survey, "questionnaire", after.surveys[codes[1]])

    await asyncio.gather(come_back_without_csp(), come_back())

    register = [*project, *after.register]
    decision_pages = {did: f"{at['decisions']}/{did}" for did in after.decisions}
    at["impact"] = f"{base}/projects/{project_id}/impact"

    async def decisions_pages(page: Any, who: str) -> None:
        """Each decision's page as its facilitator sees it without CSP (what anyone sees
        is a part of it); elsewhere, those holding the new fields."""
        for did, url in decision_pages.items():
            if page is raw_console or did in after.new_fields:
                await visit(page, url, f"decision {did}, {who}", after.decisions[did])

    async def facilitator_pages(page: Any, who: str) -> None:
        await visit(page, at["minutes"], f"minutes, {who}", minutes)
        await visit(page, at["decisions"], f"decisions, {who}", register)
        await decisions_pages(page, who)
        await visit(page, at["impact"], f"impact, {who}", after.impact_owner)
        await visit(page, at["consent poll"], f"consent poll's result, {who}", consent)
        await visit(page, at["roster"], f"roster, {who}", roster)
        if page is raw_console:  # the console, drawn by the server, without CSP at last
            await visit(page, at["console"], f"console, {who}", expected["console"])
            return
        await visit(page, at["ranked poll"], f"ranked poll's result, {who}", ranked)
        await visit(page, at["project"], f"project, {who}", [*project, w.territory])
        await visit(page, at["projects"], f"projects, {who}", project[:2])
        await visit(page, at["sheet"], f"voting codes, {who}", [*w.members, *w.numbers])

    async def participant_pages(page: Any, who: str) -> None:
        await visit(page, at["decisions"], f"published decisions, {who}", register)
        await decisions_pages(page, f"published, {who}")
        await visit(page, at["impact"], f"published impact, {who}", after.impact)
        for survey, shown in after.surveys.items():
            await visit(page, f"{base}/f/{survey}", f"questionnaire, {who}", shown)
        await visit(page, at["consent poll"], f"consent poll's result, {who}", consent)
        await visit(page, at["member link"], f"a member's link, {who}", member_link)

    await asyncio.gather(
        facilitator_pages(console, "facilitator"),
        facilitator_pages(raw_console, "facilitator without CSP"),
        participant_pages(phone, "phone"),
        participant_pages(raw_phone, "phone without CSP"),
    )
    # Through forms, in the browser without CSP. A member gives a proxy with their link:
    # the answer names the member who holds it.
    await raw_phone.goto(at["member link"])
    ours = raw_phone.locator(f"details:has(form[action='/s/{code}/proxies'])")
    await ours.locator("summary").click()
    await ours.locator("input[name=holder]").fill(w.numbers[1])
    await ours.locator("button").click()
    await raw_phone.wait_for_selector(".notice", timeout=LIVE_MS)
    await check(raw_phone, "proxy given, without CSP", [w.members[1], session_title.strip()])
    # A refused form shows what was typed again, as text in its fields.
    await raw_console.goto(at["projects"])
    await raw_console.fill("#title", "   ")  # past `required`, refused by the server
    await raw_console.fill("#need", project_need)
    await raw_console.click("form[action='/projects'] button.primary")
    await raw_console.wait_for_selector("p.error", timeout=LIVE_MS)
    assert await raw_console.input_value("#need") == project_need
    await check(raw_console, "refused project, without CSP", [project_need.strip()])
    # What an address carries is shown back too: where to go after signing in, an unknown
    # page's own address (the language switcher's), a refused sign-in's e-mail address.
    reflected = quote(raw_phone_name, safe="")
    for path, status in ((f"/login?next=/{reflected}", 200), (f"/{reflected}", 404)):
        response = await raw_phone.goto(base + path)
        assert response is not None
        assert response.status == status, path
        pages.asked.add(response.url)
        await check(raw_phone, f"reflected from {path}, without CSP", [])
    await raw_phone.goto(f"{base}/login")
    await raw_phone.evaluate(
        """(email) => {
          const form = document.querySelector("form[action='/login']");
          form.email.value = email;  // not an e-mail address: past the browser's checks
          form.password.value = "not the password";
          form.submit();
        }""",
        raw_phone_name,
    )
    await raw_phone.wait_for_selector("p.error", timeout=LIVE_MS)
    assert await raw_phone.input_value("#email") == raw_phone_name
    await check(raw_phone, "refused sign-in, without CSP", [])
    # A refused roster says which line is wrong, quoting it.
    await raw_console.goto(at["roster"])
    twice = w.numbers[5]
    await raw_console.fill("#roster-csv", f'name,number\nA,"{twice}"\nB,"{twice}"\n')
    await raw_console.click("form[action='/roster/import'] button.primary")
    await raw_console.wait_for_selector(".error-lines", timeout=LIVE_MS)
    said = f"Line 3: The member number {twice} appears twice."
    await check(raw_console, "refused roster, without CSP", [said])
    # A number and a date that are not one are quoted back (their first characters).
    value = PAYLOADS[starting("<plaintext")].text
    await raw_console.goto(at["impact"])
    await raw_console.fill(f"#m-{after.indicator}-value", value)
    await raw_console.click(f"form[action$='/impact/{after.indicator}/measurements'] button")
    await raw_console.wait_for_selector("p.error", timeout=LIVE_MS)
    said = f"“{value[:30]}” is not a number (the value)."
    await check(raw_console, "refused measurement, without CSP", [said])
    day = PAYLOADS[starting("<base")].text
    await raw_console.goto(f"{at['decisions']}/{after.call}")
    await raw_console.evaluate(
        """(day) => {
          const due = document.getElementById("fu-due");
          due.type = "text";  // a date field takes no other text
          due.value = day;
        }""",
        day,
    )
    await raw_console.click("form[action$='/follow-up'] button.primary")
    await raw_console.wait_for_selector("p.error", timeout=LIVE_MS)
    said = f"“{day[:20]}” is not a date (year-month-day)."
    await check(raw_console, "refused follow-up date, without CSP", [said])

    # Nothing a payload asked for was fetched; nothing complained about the CSP.
    fetched = pages.fetched_for_payloads()
    assert fetched == [], "\n".join(fetched)
    errors = pages.console.errors
    assert [e for e in errors if "policy" in e.lower() or "refused" in e.lower()] == []
    # The only errors logged: the refusals asked for, of a proposal (409), of forms (422),
    # of a sign-in (400), and the unknown address (404).
    assert [e for e in errors if not any(f" {n} (" in e for n in (400, 404, 409, 422))] == []

    # The exports: the CSV holds every text as written, a would-be formula behind a quote.
    export = ok(await fac.get(f"/sessions/{session_id}/contributions.csv"), 200)
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"), newline="")))
    records = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    authors = dict(zip(w.needs, w.names, strict=True)) | dict(zip(w.ideas, w.names, strict=True))
    texts = w.needs | w.ideas
    for record in records:
        if record["type"] != "comment":
            pid = int(record["id"])
            assert record["text"] == spreadsheet_cell(texts[pid]), record
            assert record["author"] == spreadsheet_cell(authors[pid]), record
    assert sorted(r["type"] for r in records) == sorted(
        ["need"] * len(PAYLOADS) + ["idea"] * len(PAYLOADS) + ["comment"] * len(PAYLOADS)
    )
    comments = [r for r in records if r["type"] == "comment"]
    assert sorted(r["text"] for r in comments) == sorted(map(spreadsheet_cell, w.comments))
    assert sorted(r["author"] for r in comments) == sorted(map(spreadsheet_cell, w.names))
    quoted = {r["text"][:2] for r in records if r["text"].startswith("'")}
    assert quoted >= {"'=", "'+", "'-", "'@"}  # formulas of each kind were among them
    # A poll's ballot file is JSON, which no browser draws as a page.
    ballots = ok(await fac.get(f"/s/{code}/polls/{w.polls['consent']}/ballots.json"), 200)
    assert ballots.headers["content-type"].startswith("application/json")
    assert ballots.headers["x-content-type-options"] == "nosniff"
    reasons = [ballot["reason"] for ballot in json.loads(ballots.content)["ballots"]]
    assert sorted(reasons) == sorted(w.reasons)


@pytest.mark.browser
@NEEDS_CHROMIUM
async def test_the_checks_catch_every_payload_left_unescaped(browser: Any) -> None:
    """The checks are not blind: each payload, written into a page raw (unescaped) in the
    places the templates put user text, is caught by them, except the few that are text
    even then (INERT: template syntax, entities, formulas…)."""
    ctx = await browser.new_context(bypass_csp=True)
    await ctx.add_init_script(INIT_SCRIPT)
    page = await ctx.new_page()
    contexts = (
        "<p>{}</p>",
        '<input value="{}">',
        "<input value='{}'>",
        "<input value={}>",
        "<textarea>{}</textarea>",
        '<svg class="chart"><text>{}</text></svg>',
    )
    missed = []
    for payload in PAYLOADS:
        raw = "".join(c.replace("{}", payload.text) for c in contexts)
        await page.evaluate("window.__xssCalls = []; window.__cspViolations = []")
        await page.set_content(f"<!doctype html><html><head></head><body>{raw}</body></html>")
        if not await page.evaluate(CHECK_PAGE, []):
            missed.append(payload.marker)
    assert missed == sorted(INERT)


def test_the_corpus_covers_every_kind_of_attack_and_fits_the_fields() -> None:
    """At least 55 payloads, 50 of which fit every field (a name: 60 characters) and all
    of which fit a proposal (500); each carries its own marker, and no other. The
    shortest fields take several at once: an indicator's unit (40), an owner (120)."""
    assert len(PAYLOADS) >= 55
    assert len(set(MARKERS)) == len(MARKERS)
    for payload in PAYLOADS:
        assert set(MARKER_RE.findall(payload.text)) == {payload.marker}, payload
    assert sum(len(cleaned(p.text)) <= MAX_NAME for p in PAYLOADS) >= 50
    assert all(len(cleaned(p.text)) <= 500 for p in PAYLOADS)
    assert sum(len(p.text) <= MAX_UNIT for p in PAYLOADS) >= 30
    for start in range(len(PAYLOADS)):
        assert len(MARKER_RE.findall(bundle(start, MAX_UNIT))) >= 1
        assert len(MARKER_RE.findall(bundle(start, MAX_OWNER))) >= 2
    kinds = {
        "script": "<script",
        "event handler": " on",
        "javascript: URL": "javascript:",
        "data: URL": "data:",
        "vbscript: URL": "vbscript:",
        "SVG": "<svg",
        "MathML": "<math",
        "style": "<style",
        "meta refresh": "http-equiv=refresh",
        "base": "<base",
        "htmx request": "hx-get",
        "htmx handler": "hx-on",
        "htmx out-of-band swap": "hx-swap-oob",
        "htmx as data-": "data-hx-",
        "websocket": "ws-connect",
        "template": "{{",
        "entity": "&#",
        "direction override": "\u202e",
        "zero-width": "\u200b",
        "formula": "=hyperlink",
    }
    for kind, needle in kinds.items():
        assert any(needle in p.text.lower() for p in PAYLOADS), kind
    assert max(len(p.text) for p in PAYLOADS) > 400  # very long attribute values too
