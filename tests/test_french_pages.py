"""French that reads as French: every page and fragment, in both languages.

A session in full swing (needs, proposals, comments, votes on proposals, a decision, a
closed poll of every voting method, a tied motion, an open poll and a draft) and a
general assembly (a roster, members present and represented, a binding poll) are shown
to a phone, the projector (with each of its presenter views) and the facilitator, in
French and in English: every page they can open, every fragment the server answered to
their actions and every live frame, the minutes as HTML and PDF, the register and each
decision, the roster and the result pages.

Each French page must read as French: no text of the English catalog left untranslated
(a msgid whose French differs), no identifier of the code ("tie_rejects", "yes_no",
"for" and "against" as the tally names them), no English word, numbers written the
French way ("50,0 %", "3,00") and no plural after a count of one ("1 bulletins"). An
English page shows no identifier of the code, no French-style percentage and no plural
after one either. What people wrote (texts, names) is French here, and the language
switch names each language in its own: both are left out of the check.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from babel.messages.pofile import read_po
from sqlmodel import select

from cocreate import figures, polls
from cocreate.models import College, Decision, Member, Poll, Proposal
from cocreate.templating import Templates
from tests.browsing import LIVE_MS, NEEDS_CHROMIUM, shoot
from tests.conftest import ONCE, Browser, OpenSession
from tests.test_agenda import add_step
from tests.test_minutes_pdf import general_assembly, pdf_text
from tests.test_polls import BALLOTS_BY_METHOD, act, create, vote
from tests.test_roster import import_csv

# What a page says does not depend on the database: once.
pytestmark = ONCE

CATALOG = Path(__file__).parent.parent / "src/cocreate/locale/fr/LC_MESSAGES/messages.po"

# Words of the tally and the models that must never reach a page as they are.
IDENTIFIER = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")  # tie_rejects, yes_no, stand_aside…
# Values of the code's enums, as a page would show them if a label were missing.
ENUM_VALUES = """for against abstain blank adopted rejected deferred consent approval dots irv stv
judgment backwards facilitator"""
# English words that no French sentence of cocreate has.
ENGLISH = """the and with of to by from this that these your you are is was has have will not
which who what when between poll polls ballot ballots winner winners round rounds tie settled
abstaining proposal proposals need needs step steps members member weighted weight yes back
close closed open edit delete save cancel download print results result details comments
elected eliminated average beats other choose sign out join people projector decisions
register voted add remove next previous stage stages share college colleges rules present
represented receipt receipts count counted turnout grade good very fairly insufficient reject
standing aside merged hidden pending waiting timer reveal language help skip show hands"""
HAND_PICKED = frozenset(re.findall(r"\S+", ENUM_VALUES + " " + ENGLISH))
# Left out of the check: the language switch (each language named in its own), code and
# figures (hashes, receipts, commands), and what people wrote (texts and names are French
# in this test, but a name is a name).
NAMES = {"Ana", "Ben", "camille", "Alice", "Bernard", "Chantal", "Denis"}
SKIPPED_TAGS = {"script", "style", "code", "kbd", "textarea"}
SHOWN_ATTRIBUTES = ("aria-label", "title", "placeholder", "alt")
VOID = frozenset(
    re.findall(r"\S+", "area base br col embed hr img input link meta source track wbr")
)


class VisibleText(HTMLParser):
    """The words a reader sees or hears on a page: text and the attributes a screen
    reader says, without the parts in another language (``lang``) or of code."""

    def __init__(self, language: str) -> None:
        super().__init__(convert_charrefs=True)
        self.language = language
        self.stack: list[bool] = []  # for each open element: whether its text is skipped
        self.parts: list[str] = []

    @property
    def skipping(self) -> bool:
        return any(self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        other_language = named.get("lang") not in (None, self.language)
        skip = tag in SKIPPED_TAGS or other_language or "hash" in (named.get("class") or "")
        if not self.skipping and not skip:
            for attribute in SHOWN_ATTRIBUTES:
                if named.get(attribute):
                    self.parts.append(str(named[attribute]))
            if tag == "input" and named.get("type") in ("submit", "button") and named.get("value"):
                self.parts.append(str(named["value"]))
        if tag not in VOID:
            self.stack.append(skip)

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)

    def text(self) -> str:
        return " ".join(" ".join(self.parts).split())


def visible(markup: str, language: str) -> str:
    parser = VisibleText(language)
    parser.feed(markup)
    parser.close()
    return parser.text()


with CATALOG.open("rb") as po:
    FRENCH_CATALOG = read_po(po, locale="fr")


def untranslated_patterns() -> list[tuple[str, re.Pattern[str]]]:
    """Each English text of the catalog whose French differs, as it would read on a page
    (its parameters standing for anything): found on a French page, it was not
    translated. Texts of one word are the English words' business."""
    patterns = []
    for message in FRENCH_CATALOG:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for msgid in ids:
            if msgid in strings or "<" in msgid:
                continue
            literal = re.split(r"%\(\w+\)[sd]|%[sd]", msgid.replace("%%", "%"))
            words = " ".join(literal).split()
            if len(words) < 2 or sum(len(w) for w in words) < 8:
                continue
            body = r".{1,200}?".join(
                r"\s+".join(re.escape(w) for w in part.split()) for part in literal
            )
            patterns.append((msgid, re.compile(r"(?<!\w)" + body.strip() + r"(?!\w)")))
    return patterns


UNTRANSLATED = untranslated_patterns()


def english_words() -> frozenset[str]:
    """The catalog's English texts of one word whose French differs ("Winner", "Edit"),
    but for words some French text of the catalog uses as well ("Excellent", "Code")."""
    single: set[str] = set()
    french: set[str] = set()
    for message in FRENCH_CATALOG:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            french |= {word.lower() for word in re.findall(r"[^\W\d_]+", text)}
        for msgid in ids:
            word = msgid.strip(" .:…")
            if re.fullmatch(r"[A-Za-z]+", word) and msgid not in strings:
                single.add(word.lower())
    return frozenset(single - french)


FRENCH_FORBIDDEN = HAND_PICKED | english_words()


# A count of one followed by a plural noun: a count shown without ngettext.
PLURAL_AFTER_ONE = {
    "fr": re.compile(
        r"(?<![\d,.\u202f])1 (?:bulletins|points|membres|sociétaires|procurations|participant·es"
        r"|réponses|commentaires|inscrit·es|inscrits|options|idées|besoins|approbations"
        r"|consentements|objections|mesures|codes)\b"
    ),
    "en": re.compile(
        r"(?<![\d,.])1 (?:ballots|points|members|proxies|participants|answers|comments|voters"
        r"|options|ideas|needs|approvals|consents|objections|measurements|codes)\b"
    ),
}


def problems(where: str, markup: str, language: str) -> list[str]:
    """What does not read right on a page shown in ``language``, one line each."""
    text = re.sub(r"https?://\S+", " ", visible(markup, language))  # a join link
    text = re.sub(r"\b[0-9a-f]{16,}\b", " ", text)  # a seal or a fingerprint (in a PDF's text)
    for name in NAMES:
        text = re.sub(rf"\b{name}\b", " ", text)
    found = [f"{where}: identifier {m!r}" for m in sorted(set(IDENTIFIER.findall(text)))]
    found += [
        f"{where}: identifier {word!r}"
        for word in ("irv", "stv")
        if re.search(rf"\b{word}\b", text)
    ]
    found += [f"{where}: plural after one {m!r}" for m in PLURAL_AFTER_ONE[language].findall(text)]
    if language == "fr":
        words = {w.lower() for w in re.findall(r"[^\W\d_]+", text)}
        found += [f"{where}: English word {w!r}" for w in sorted(words & FRENCH_FORBIDDEN)]
        found += [f"{where}: untranslated {msgid!r}" for msgid, p in UNTRANSLATED if p.search(text)]
        found += [f"{where}: English number {m!r}" for m in re.findall(r"\d\.\d+\s?%?|\d%", text)]
    else:
        found += [f"{where}: French number {m!r}" for m in re.findall(r"\d,\d+\s?%|\d\s%", text)]
    return found


# --- the session -----------------------------------------------------------------------


@dataclass
class Seen:
    """Every page, fragment and frame shown, by where it was shown and in which language."""

    pages: dict[tuple[str, str], str] = field(default_factory=dict)

    def add(self, where: str, language: str, markup: str) -> None:
        self.pages[(where, language)] = markup


# Where each device is in OpenSession.devices: the facilitator's browser first, then the
# phones and the projector in the order ``furnish`` brings them in.
ANA, BEN, SCREEN = 1, 2, 3


async def speak(browser: Browser, language: str) -> None:
    """Choose a language with the switch every page has."""
    chosen = await browser.post("/language", {"locale": language, "next": "/"}, htmx=False)
    assert chosen.status_code == 303, chosen.text


async def furnish(open_session: OpenSession, seen: Seen) -> dict[str, int]:
    """A workshop in full swing, its actions done in French by French-speaking devices:
    what each action answered is kept as a fragment to check."""
    sid, code, fac = open_session.session_id, open_session.code, open_session.facilitator
    await speak(fac, "fr")
    await add_step(open_session, "needs", "Besoins")
    await add_step(open_session, "ideas", "Idées")
    await add_step(open_session, "discussion", "Discussion")
    await add_step(open_session, "vote", "Vote")
    ana, ben = await open_session.phone("Ana"), await open_session.phone("Ben")
    for phone in (ana, ben):
        await speak(phone, "fr")
    screen = await open_session.projector()
    assert open_session.devices[ANA : SCREEN + 1] == [ana, ben, screen]
    await speak(screen, "fr")
    seq = await open_session.seq()
    lives = {
        "phone": await ben.socket(code, "phone", last_seq=seq),
        "projector": await screen.socket(code, "screen", last_seq=seq),
        "console": await fac.socket(code, "console", last_seq=seq),
    }

    def keep(where: str, answer: object) -> None:
        text = getattr(answer, "text", "")
        status = getattr(answer, "status_code", 0)
        assert status in (200, 303), (where, status, text)
        assert 'class="error"' not in text, (where, text)
        if text:
            seen.add(f"fragment: {where}", "fr", text)

    keep("agenda start", await fac.post(f"/sessions/{sid}/agenda/start"))
    keep(
        "a need", await ana.post(f"/s/{code}/needs", {"text": "Pas de lieu pour se réunir le soir"})
    )
    keep("agenda next", await fac.post(f"/sessions/{sid}/agenda/next"))
    texts = ("Une cuisine partagée ouverte le samedi", "Un atelier vélo dans la cour")
    for text in texts:
        keep("a proposal", await ana.post(f"/s/{code}/proposals", {"text": text}))
    async with open_session.server.db.session() as db:
        ids = [
            (await db.exec(select(Proposal.id).where(Proposal.text == text))).one()
            for text in texts
        ]
    keep("agenda next", await fac.post(f"/sessions/{sid}/agenda/next"))
    keep(
        "a comment",
        await ben.post(f"/s/{code}/proposals/{ids[0]}/comments", {"text": "Et le dimanche ?"}),
    )
    keep(
        "a reaction",
        await ben.post(f"/s/{code}/proposals/{ids[0]}/reaction", {"reaction": "agree"}),
    )
    keep("agenda next", await fac.post(f"/sessions/{sid}/agenda/next"))
    for phone, choice in ((ana, "for"), (ben, "against")):
        keep("a vote", await phone.post(f"/s/{code}/proposals/{ids[0]}/vote", {"choice": choice}))
    keep(
        "a decision",
        await fac.post(
            f"/sessions/{sid}/proposals/{ids[1]}/decision",
            {"outcome": "adopted", "note": "À lancer en mars"},
        ),
    )

    made: dict[str, int] = {}
    for method, (extra, ballots) in BALLOTS_BY_METHOD.items():
        poll_id = await create(
            open_session,
            question=f"Scrutin {len(made) + 1}",
            method=method,
            options="Rouge\nVert\nBleu",
            secret="0",  # who voted what, in words, on the result page
            **extra,
        )
        await act(open_session, poll_id, "open")
        async with open_session.server.db.session() as db:
            letters = dict(
                zip("ABC", [str(o.id) for o in await polls.poll_options(db, poll_id)], strict=False)
            )

        def fill(value: str | list[str], letters: dict[str, str] = letters) -> str | list[str]:
            if isinstance(value, list):
                return [letters.get(v, v) for v in value]
            return letters.get(value, value)

        def named(name: str, letters: dict[str, str] = letters) -> str:
            stem, _, letter = name.rpartition("-")
            return f"{stem}-{letters[letter]}" if stem and letter in letters else name

        for phone, ballot in zip((ana, ben), ballots, strict=True):
            answer = await vote(
                phone, open_session, poll_id, {named(k): fill(v) for k, v in ballot.items()}
            )
            seen.add(f"fragment: a ballot ({method})", "fr", answer)
        await act(open_session, poll_id, "close")
        made[method] = poll_id
    # A motion tied for and against: the tie rejects it.
    tie = await create(open_session, question="Égalité ?", method="yes_no")  # secret: receipts
    await act(open_session, tie, "open")
    for phone, choice in ((ana, "for"), (ben, "against")):
        await vote(phone, open_session, tie, {"choice": choice})
    await act(open_session, tie, "close")
    made["tie"] = tie
    # One ballot only: every count of one must read in the singular.
    single = await create(
        open_session, question="Un seul avis ?", method="dots", options="Rouge\nVert", points="1"
    )
    await act(open_session, single, "open")
    async with open_session.server.db.session() as db:
        red = str((await polls.poll_options(db, single))[0].id)
    await vote(ana, open_session, single, {f"points-{red}": "1"})
    await act(open_session, single, "close")
    made["single"] = single
    keep("reveal the results", await fac.post(f"/sessions/{sid}/reveal"))
    # An open poll for the phones' ballot, and the console's draft.
    made["open"] = await create(
        open_session, question="Quelles couleurs ?", method="judgment", options="Rouge\nVert"
    )
    await act(open_session, made["open"], "open")
    await create(open_session, question="Un brouillon", method="yes_no")

    # The projector's presenter views, one after the other.
    for shown in ("join", f"proposal:{ids[0]}", f"turnout:{made['open']}", "decisions", "step"):
        keep(f"present {shown}", await fac.post(f"/sessions/{sid}/present", {"shown": shown}))
        seen.add(f"projector showing {shown}", "fr", (await screen.get(f"/s/{code}/screen")).text)
    for method, poll_id in made.items():
        if method == "open":
            continue
        keep(
            "present a result",
            await fac.post(f"/sessions/{sid}/present", {"shown": f"result:{poll_id}"}),
        )
        seen.add(
            f"projector: result ({method})", "fr", (await screen.get(f"/s/{code}/screen")).text
        )
    await fac.post(f"/sessions/{sid}/present", {"shown": "step"})

    # A consent round with an objection, then the amended proposal's round.
    made["second round"] = await consent_rounds(open_session, ana, ben)
    keep("reveal the later results", await fac.post(f"/sessions/{sid}/reveal"))
    # A poll of every method open at once: the phones show every kind of ballot.
    for number, (method, (extra, _ballots)) in enumerate(BALLOTS_BY_METHOD.items(), 1):
        poll_id = await create(
            open_session,
            question=f"Scrutin ouvert {number}",
            method=method,
            options="Rouge\nVert\nBleu",
            **extra,
        )
        await act(open_session, poll_id, "open")

    for name, live in lives.items():
        await live.quiet(1.0)
        for index, frame in enumerate(live.frames):
            seen.add(f"{name} frame {index}", "fr", frame)
        await live.close()
    return made


async def consent_rounds(open_session: OpenSession, ana: Browser, ben: Browser) -> int:
    """A consent round that met an objection, and the amended proposal's round."""
    first = await create(open_session, question="Ouvrir le samedi ?", method="consent")
    await act(open_session, first, "open")
    await vote(ana, open_session, first, {"choice": "consent"})
    await vote(ben, open_session, first, {"choice": "objection", "reason": "Personne le samedi"})
    await act(open_session, first, "close")
    amended = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/polls/{first}/next-round",
        {"question": "Ouvrir le samedi matin ?"},
        htmx=False,
    )
    assert amended.status_code == 303, amended.text
    async with open_session.server.db.session() as db:
        second = (await db.exec(select(sa.func.max(Poll.id)))).one()
    assert second is not None
    assert second != first
    for phone in (ana, ben):
        await vote(phone, open_session, second, {"choice": "consent"})
    await act(open_session, second, "close")
    return second


async def weighted_polls(assembly: OpenSession) -> dict[str, int]:
    """Named binding polls of the general assembly, weighed by college (employees 70 %,
    users 30 %): their results are shares of the assembly, in per cent."""
    fac = assembly.facilitator
    async with assembly.server.db.session() as db:
        ids = {c.name: c.id for c in (await db.exec(select(College))).all()}
    weights = {f"weight-{ids['Salariés']}": "70", f"weight-{ids['Usagers']}": "30"}
    assert (await fac.post("/roster/colleges", weights, htmx=False)).status_code == 303
    alice, bernard = assembly.devices[-2:]  # the members' phones, the last to join
    made = {}
    ballots = {
        "yes_no": ({}, {"choice": "for"}, {"choice": "against"}),
        "approval": ({}, {"approve": ["A"]}, {"approve": ["B"]}),
        "irv": ({}, {"rank-A": "1", "rank-B": "2"}, {"rank-B": "1"}),
        "stv": ({"seats": "2"}, {"rank-A": "1"}, {"rank-B": "1", "rank-C": "2"}),
    }
    for number, (method, (extra, first, second)) in enumerate(ballots.items(), 1):
        poll_id = await create(
            assembly,
            question=f"Scrutin pondéré {number}",
            method=method,
            binding="1",
            secret="0",
            options="Rouge\nVert\nBleu",
            **extra,
        )
        await act(assembly, poll_id, "open")
        async with assembly.server.db.session() as db:
            letters = dict(
                zip("ABC", [str(o.id) for o in await polls.poll_options(db, poll_id)], strict=False)
            )
        for phone, ballot in ((alice, first), (bernard, second)):
            form = {
                (f"rank-{letters[k[-1]]}" if k.startswith("rank-") else k): (
                    [letters[v] for v in value] if isinstance(value, list) else value
                )
                for k, value in ballot.items()
            }
            await vote(phone, assembly, poll_id, form)
        await act(assembly, poll_id, "close")
        made[method] = poll_id
    # One left open: Alice's ballots, her own and the one she holds by proxy.
    made["open"] = await create(
        assembly, question="Scrutin pondéré ouvert", method="yes_no", binding="1", secret="0"
    )
    await act(assembly, made["open"], "open")
    return made


async def refusals(open_session: OpenSession, made: dict[str, int], seen: Seen) -> None:
    """What people are told when something is refused, in French: a wrong password, a
    name left empty, a ballot that breaks the poll's rules, a poll already closed."""
    code, server = open_session.code, open_session.server
    stranger, newcomer = Browser(server), Browser(server)
    open_session.devices += [stranger, newcomer]
    for browser in (stranger, newcomer):
        await speak(browser, "fr")
    async with server.db.session() as db:
        option = (await polls.poll_options(db, made["open"]))[0].id
    told = {
        "wrong password": await stranger.post(
            "/login", {"email": "camille@example.org", "password": "pas le bon"}, htmx=False
        ),
        "empty name": await newcomer.post(f"/s/{code}/join", {"display_name": " "}, htmx=False),
        "a grade not on the list": await open_session.devices[ANA].post(
            f"/s/{code}/polls/{made['open']}/ballot", {f"grade-{option}": "génial"}
        ),
        "closed poll": await open_session.devices[ANA].post(
            f"/s/{code}/polls/{made['tie']}/ballot", {"choice": "for"}
        ),
    }
    for what, answer in told.items():
        assert 400 <= answer.status_code < 500, (what, answer.status_code)
        seen.add(f"refused: {what}", "fr", answer.text)


async def aftermath(open_session: OpenSession) -> dict[str, tuple[Browser, str]]:
    """What follows the workshop: a decision followed up, the participants surveyed on
    it, a personal link to come back with, an indicator measured. The pages it opens."""
    fac, pid, code = open_session.facilitator, open_session.project_id, open_session.code
    ana, ben = open_session.devices[ANA], open_session.devices[BEN]
    async with open_session.server.db.session() as db:
        first = (await db.exec(select(sa.func.min(Decision.id)))).one()
    decision = f"/projects/{pid}/decisions/{first}"
    followed = await fac.post(
        decision + "/follow-up",
        {
            "owner": "Camille",
            "due_on": "2026-09-01",
            "review_on": "2026-10-01",
            "status": "in_progress",
            "progress": "30",
            "note": "Devis demandés",
        },
        htmx=False,
    )
    assert followed.status_code == 303, followed.text
    assert (await fac.post(decision + "/survey", htmx=False)).status_code == 303
    found = re.search(r"/f/([a-z0-9]{10})/qr\.svg", (await fac.get(decision)).text)
    assert found is not None
    survey = f"/f/{found.group(1)}"
    answered = await ana.post(survey, {"rating": "4", "comment": "Bien"}, htmx=False)
    assert answered.status_code == 303, answered.text
    shown = await ben.post(f"/s/{code}/link", {}, htmx=False)
    link = re.search(r'id="my-link" class="copyable" readonly value="([^"]+)"', shown.text)
    assert link is not None
    path = link.group(1).removeprefix(open_session.server.base_url)
    new_phone = Browser(open_session.server)
    open_session.devices.append(new_phone)
    indicator = await fac.post(
        f"/projects/{pid}/impact",
        {
            "family": "social",
            "name": "Repas servis",
            "unit": "repas",
            "baseline": "0",
            "target": "1 200",
        },
        htmx=False,
    )
    assert indicator.status_code == 303, indicator.text
    indicator_id = re.search(r"#indicator-(\d+)", indicator.headers["location"])
    assert indicator_id is not None
    for day, value in (("2026-09-01", "150"), ("2026-10-01", "480,5")):
        measured = await fac.post(
            f"/projects/{pid}/impact/{indicator_id.group(1)}/measurements",
            {"measured_on": day, "value": value, "note": "Registre"},
            htmx=False,
        )
        assert measured.status_code == 303, measured.text
    return {
        "decision followed up": (fac, decision),
        "survey": (ana, survey),
        "personal link": (new_phone, path),
        "impact (facilitator)": (fac, f"/projects/{pid}/impact"),
    }


async def every_page(
    open_session: OpenSession, made: dict[str, int], assembly: OpenSession, member_phone: Browser
) -> dict[str, tuple[Browser, str]]:
    """Every page a phone, the projector, a stranger and the facilitator can open."""
    code, sid, pid = open_session.code, open_session.session_id, open_session.project_id
    fac = open_session.facilitator
    phone, screen = open_session.devices[BEN], open_session.devices[SCREEN]
    published = await fac.post(f"/projects/{pid}/publish", {"published": "1"}, htmx=False)
    assert published.status_code == 303
    stranger = Browser(open_session.server)
    open_session.devices.append(stranger)
    async with open_session.server.db.session() as db:
        decisions = (await db.exec(select(Decision.id))).all()
    pages: dict[str, tuple[Browser, str]] = {
        "home": (stranger, "/"),
        "login": (stranger, "/login"),
        "join page": (stranger, f"/s/{code}"),
        "phone": (phone, f"/s/{code}"),
        "projector": (screen, f"/s/{code}/screen"),
        "projects": (fac, "/projects"),
        "project": (fac, f"/projects/{pid}"),
        "password": (fac, "/account/password"),
        "console": (fac, f"/sessions/{sid}/console"),
        "people": (fac, f"/sessions/{sid}/people"),
        "minutes": (fac, f"/sessions/{sid}/minutes"),
        "register": (fac, f"/projects/{pid}/decisions"),
        "register (public)": (stranger, f"/projects/{pid}/decisions"),
        "impact": (fac, f"/projects/{pid}/impact"),
        "roster": (fac, "/roster"),
        "voting sheet": (fac, "/roster/sheet"),
        "assembly console": (fac, f"/sessions/{assembly.session_id}/console"),
        "assembly minutes": (fac, f"/sessions/{assembly.session_id}/minutes"),
        "assembly people": (fac, f"/sessions/{assembly.session_id}/people"),
        "member's phone": (member_phone, f"/s/{assembly.code}"),
    }
    for method, poll_id in made.items():
        if method == "open":  # no result yet: phones show its ballot
            continue
        pages[f"result page ({method})"] = (phone, f"/s/{code}/polls/{poll_id}")
        pages[f"result page, facilitator ({method})"] = (fac, f"/s/{code}/polls/{poll_id}")
    for decision_id in decisions:
        pages[f"decision {decision_id}"] = (stranger, f"/projects/{pid}/decisions/{decision_id}")
    return pages


@dataclass
class Populated:
    seen: Seen
    made: dict[str, int]  # the workshop's polls, by method
    assembly: OpenSession
    member: Browser  # a member's phone in the assembly
    proxy_holder: Browser  # the phone of a member who holds another's proxy
    weighted: dict[str, int]  # the assembly's polls weighed by college, by method


async def populate(open_session: OpenSession) -> Populated:
    seen = Seen()
    made = await furnish(open_session, seen)
    assembly = await general_assembly(open_session)
    alice, bernard = assembly.devices[-2:]  # general_assembly's members, the last to join
    return Populated(seen, made, assembly, bernard, alice, await weighted_polls(assembly))


@pytest.fixture
async def shown(open_session: OpenSession) -> Seen:
    populated = await populate(open_session)
    seen, made, assembly, member = (
        populated.seen,
        populated.made,
        populated.assembly,
        populated.member,
    )
    pages = await every_page(open_session, made, assembly, member)
    pages |= await aftermath(open_session)
    await refusals(open_session, populated.made, seen)
    async with open_session.server.db.session() as db:
        absent = (await db.exec(select(Member).where(Member.number == "004"))).one()
    absent_phone = Browser(open_session.server)
    open_session.devices.append(absent_phone)  # closed with the others after the test
    pages["member's link"] = (absent_phone, f"/m/{absent.voting_code}")
    pages["ballots held by proxy"] = (
        populated.proxy_holder,
        f"/s/{assembly.code}/polls/{populated.weighted.pop('open')}/ballots",
    )
    for method, poll_id in populated.weighted.items():
        pages[f"weighted result ({method})"] = (member, f"/s/{assembly.code}/polls/{poll_id}")
    browsers = {id(b): b for b, _ in pages.values()}
    for language in ("fr", "en"):
        for browser in browsers.values():
            await speak(browser, language)
        for where, (browser, path) in pages.items():
            answer = await browser.get(path)
            assert answer.status_code == 200, (where, language, answer.status_code)
            seen.add(where, language, answer.text)
        for name, session_id in (
            ("workshop", open_session.session_id),
            ("assembly", assembly.session_id),
        ):
            answer = await open_session.facilitator.get(
                f"/sessions/{session_id}/minutes.pdf?lang={language}", timeout=60
            )
            assert answer.status_code == 200
            seen.add(f"{name}'s minutes PDF", language, html.escape(pdf_text(answer.content)))
    return seen


ARTIFACTS = Path(__file__).parent / "artifacts" / "french_pages"


@pytest.mark.wire
async def test_every_page_reads_in_its_language(shown: Seen) -> None:
    # What the check read, page by page, for a person to look at (tests/artifacts).
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for (where, language), markup in shown.pages.items():
        name = re.sub(r"[^\w]+", "-", f"{language}-{where}").strip("-")
        (ARTIFACTS / f"{name}.txt").write_text(visible(markup, language))
        (ARTIFACTS / f"{name}.html").write_text(markup)
    found = [
        problem
        for (where, language), markup in shown.pages.items()
        for problem in problems(where, markup, language)
    ]
    assert found == [], "\n".join(found)
    # The check sees what it must: a French result page, its figures in French.
    assert any(where.startswith("result page") for where, _ in shown.pages)


def test_the_check_catches_what_it_is_for() -> None:
    english = '<p>Égalité entre against, for (tie_rejects)</p><p lang="en">English</p>'
    found = problems("p", english, "fr")
    assert "p: identifier 'tie_rejects'" in found
    assert "p: English word 'against'" in found
    assert "p: English word 'for'" in found
    assert not any("'english'" in f for f in found)  # the switch names English in English
    assert problems("p", "<p>50.0 %</p>", "fr") == ["p: English number '0.0 %'"]
    assert problems("p", "<p>50,0\u00a0%</p>", "fr") == []
    assert problems("p", "<p>Aucun bulletin n’a été déposé.</p>", "fr") == []
    assert problems("p", "<p>No ballot was cast.</p>", "fr")
    assert problems("p", "<p>50.0%</p>", "en") == []
    assert problems("p", "<p>1 bulletins sur 5 inscrit·es</p>", "fr") == [
        "p: plural after one '1 bulletins'"
    ]
    assert problems("p", "<p>1 bulletin sur 1 inscrit·e, 21 bulletins</p>", "fr") == []


@pytest.mark.browser
@NEEDS_CHROMIUM
async def test_french_results_for_a_person_to_look_at(
    browser: Any, open_session: OpenSession
) -> None:
    """Screenshots under tests/artifacts/: a result on a phone (360×640), on the
    projector (1280×720) and the register (1366×768), in French."""
    populated = await populate(open_session)
    base, code = open_session.server.base_url, open_session.code
    phone = await (
        await browser.new_context(
            viewport={"width": 360, "height": 640}, locale="fr-FR", is_mobile=True, has_touch=True
        )
    ).new_page()
    await phone.goto(f"{base}/s/{code}")
    await phone.fill("#display_name", "Chloé")
    await phone.click("button.primary")
    await phone.wait_for_selector(".connection", timeout=LIVE_MS)
    for method in ("judgment", "tie", "score", "stv"):
        await phone.goto(f"{base}/s/{code}/polls/{populated.made[method]}")
        assert await phone.evaluate("document.documentElement.lang") == "fr"
        await shoot(phone, f"french-phone-result-{method}")

    screen = await (
        await browser.new_context(viewport={"width": 1280, "height": 720}, locale="fr-FR")
    ).new_page()
    for method in ("judgment", "tie", "schulze", "irv"):
        shown = f"result:{populated.made[method]}"
        presented = await open_session.facilitator.post(
            f"/sessions/{open_session.session_id}/present", {"shown": shown}
        )
        assert presented.status_code == 200, presented.text
        await screen.goto(f"{base}/s/{code}/screen")
        await screen.wait_for_load_state("networkidle")
        await screen.screenshot(path=str(ARTIFACTS.parent / f"french-projector-{method}.png"))

    published = await open_session.facilitator.post(
        f"/projects/{open_session.project_id}/publish", {"published": "1"}, htmx=False
    )
    assert published.status_code == 303
    register = await (
        await browser.new_context(viewport={"width": 1366, "height": 768}, locale="fr-FR")
    ).new_page()
    await register.goto(f"{base}/projects/{open_session.project_id}/decisions")
    assert "Égalité : 1 pour, 1 contre" in await register.inner_text("main")
    await shoot(register, "french-register")


def test_figures_are_written_the_way_each_language_writes_them() -> None:
    assert [figures.percent(Fraction(1, 2), lang) for lang in ("fr", "en")] == [
        "50,0\u00a0%",
        "50.0%",
    ]
    assert [figures.decimal(Fraction(117, 2), lang, 1) for lang in ("fr", "en")] == ["58,5", "58.5"]
    assert [figures.decimal(3, lang) for lang in ("fr", "en")] == ["3,00", "3.00"]
    assert [figures.number(1234, lang) for lang in ("fr", "en")] == ["1\u202f234", "1,234"]
    # What results store (the machine notation of bars and rounds), as pages write it.
    assert [figures.figure("12.5 %", lang) for lang in ("fr", "en")] == ["12,5\u00a0%", "12.5%"]
    assert [figures.figure("3.00", lang) for lang in ("fr", "en")] == ["3,00", "3.00"]
    assert figures.figure("12", "fr") == "12"
    assert figures.day(date(2026, 9, 1), "fr") == "1er septembre 2026"
    assert figures.day(date(2026, 9, 2), "fr") == "2 septembre 2026"
    assert figures.day(date(2026, 9, 1), "en") == "September 1, 2026"
    templates = Templates(timezone="Europe/Paris")
    noon = datetime(2026, 9, 1, 10, 5, tzinfo=UTC)  # 12:05 in Paris
    assert templates.format_when(noon, "fr").startswith("1er sept. 2026")
    assert templates.format_when(noon + timedelta(days=1), "fr").startswith("2 sept. 2026")
    assert figures.listing(["Rouge", "Vert", "Bleu"], "fr") == "Rouge, Vert et Bleu"


async def test_names_sort_as_a_reader_expects(open_session: OpenSession) -> None:
    """Accents and case do not change where a name goes: "Émilie" before "Jean-Luc"."""
    await import_csv(
        open_session,
        "nom;numéro\nZoé Martin;1\nJean-Luc Roux;2\némilie Blanc;3\nÉmilie Durand;4\n"
        "alain Brun;5\nEloïse Petit;6\n",
    )
    expected = [
        "alain Brun",
        "Eloïse Petit",
        "émilie Blanc",
        "Émilie Durand",
        "Jean-Luc Roux",
        "Zoé Martin",
    ]
    roster = (await open_session.facilitator.get("/roster")).text
    assert sorted(expected, key=roster.index) == expected
    for name in ("Jean-Luc", "Émilie", "zoé", "Eve", "Ève"):
        await open_session.phone(name)
    people = (
        await open_session.facilitator.get(f"/sessions/{open_session.session_id}/people")
    ).text
    joined = ["Émilie", "Eve", "Ève", "Jean-Luc", "zoé"]
    assert sorted(joined, key=lambda name: people.index(f"<li>{name} ")) == joined


def test_the_french_catalog_is_whole_and_typeset() -> None:
    """Every text translated (none empty or fuzzy), with the typographic apostrophe
    ("l’étape", not "l'étape"), as most of the catalog writes it."""
    for message in FRENCH_CATALOG:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), message.id
        assert "fuzzy" not in message.flags, message.id
        for text in strings:
            assert not re.search(r"\w'\w", text), text
