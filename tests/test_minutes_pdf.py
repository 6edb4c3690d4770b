"""The minutes of a general assembly as a print-ready page and as a PDF, in French and in
English: place, attendance (present and represented), the quorum, each poll, decisions."""

from __future__ import annotations

import io
import subprocess
import sys
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec
from typing import Any

import pytest
from pypdf import PdfReader
from sqlmodel import select

import cocreate.app
from cocreate import heavy, pdf
from cocreate.models import Decision, Member, Session
from tests.browsing import NEEDS_CHROMIUM, shoot
from tests.conftest import PASSWORD, OpenSession, open_session_for
from tests.test_polls import act, create, vote
from tests.test_roster import ROSTER, codes, import_csv, member_phone, record_proxy, set_cap

QUESTION = "Adopter le budget 2027 ?"


async def general_assembly(open_session: OpenSession) -> OpenSession:
    """A session held at a place: 2 members present, 1 represented, of 4 on the roster; a
    binding poll with a quorum of 75 %, reached; a decision taken without a vote."""
    made = await open_session.facilitator.post(
        f"/projects/{open_session.project_id}/sessions",
        {"title": "Assemblée générale 2026", "place": "Maison des associations, Lyon 7e"},
        htmx=False,
    )
    assert made.status_code == 303, made.text
    session_id = int(made.headers["location"].split("/")[2])
    opened = await open_session.facilitator.post(f"/sessions/{session_id}/open", htmx=False)
    assert opened.status_code == 303
    async with open_session.server.db.session() as db:
        session = await db.get(Session, session_id)
        assert session is not None
        assert session.join_code is not None
        code = session.join_code
    assembly = OpenSession(
        open_session.server,
        open_session.facilitator,
        open_session.project_id,
        session_id,
        code,
        open_session.devices,
    )
    await import_csv(assembly, ROSTER + "Denis Blanc;004;;Usagers\n")
    member_codes = await codes(assembly)
    await set_cap(assembly, 1)
    alice = await member_phone(assembly, member_codes["001"])
    bernard = await member_phone(assembly, member_codes["002"])
    assert await record_proxy(assembly, "003", "001") == 303
    poll_id = await create(
        assembly, question=QUESTION, method="yes_no", binding="1", quorum_percent="75"
    )
    await act(assembly, poll_id, "open")
    async with open_session.server.db.session() as db:
        chantal = (await db.exec(select(Member).where(Member.number == "003"))).one()
    await vote(alice, assembly, poll_id, {"choice": "for"})
    await vote(alice, assembly, poll_id, {"choice": "for", "as_member": str(chantal.id)})
    await vote(bernard, assembly, poll_id, {"choice": "against"})
    await act(assembly, poll_id, "close")
    return assembly


def pdf_text(body: bytes) -> str:
    reader = PdfReader(io.BytesIO(body))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


async def test_the_minutes_pdf_holds_attendance_quorum_and_decisions_in_two_languages(
    open_session: OpenSession,
) -> None:
    assembly = await general_assembly(open_session)
    async with open_session.server.db.session() as db:
        decision = (await db.exec(select(Decision))).one()
    url = f"/sessions/{assembly.session_id}/minutes"

    page = (await open_session.facilitator.get(url)).text
    assert "Maison des associations, Lyon 7e" in page
    assert "1 member represented by proxy:" in page
    assert "Members present or represented: 3 out of 4 on the roster." in page
    assert "Quorum: 75 % of 4 members, that is 3 present or represented." in page
    assert "Rules: Simple majority of votes expressed · quorum 75 % of members" in page
    assert decision.entry_hash in page

    english = await open_session.facilitator.get(url + ".pdf?lang=en")
    assert english.status_code == 200, english.text
    assert english.headers["content-type"] == "application/pdf"
    assert english.content.startswith(b"%PDF-")
    assert "attachment" in english.headers["content-disposition"]
    text = " ".join(pdf_text(english.content).split())
    for expected in (
        "Assemblée générale 2026",
        "Maison des associations, Lyon 7e",
        "Attendance",
        "2 members present",
        "Members present or represented: 3 out of 4 on the roster.",
        "Quorum: 75 % of 4 members, that is 3 present or represented.",
        "Quorum reached.",
        QUESTION,
        "Adopted",
        "3 ballots out of 4 voters",
    ):
        assert expected in text, (expected, text)

    french = await open_session.facilitator.get(url + ".pdf?lang=fr")
    assert french.status_code == 200
    texte = " ".join(pdf_text(french.content).split())
    for attendu in ("Présences", "Quorum atteint.", QUESTION, "Adoptée"):
        assert attendu in texte, (attendu, texte)
    assert "Attendance" not in texte

    unknown = await open_session.facilitator.get(url + ".pdf?lang=de")
    assert unknown.status_code == 400
    assert "French (fr) and English (en)" in unknown.text


async def test_only_the_facilitator_gets_the_pdf(open_session: OpenSession) -> None:
    phone = await open_session.phone("Awa")
    refused = await phone.get(f"/sessions/{open_session.session_id}/minutes.pdf")
    assert refused.status_code == 403
    other = await open_session_for(open_session.server, open_session.facilitator, title="Autre")
    assert (
        await open_session.facilitator.get(f"/sessions/{other.session_id}/minutes.pdf")
    ).status_code == 200


def test_the_pdf_fetches_nothing_but_cocreates_own_files(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    html = (
        '<link rel="stylesheet" href="/static/css/cocreate.css">'
        '<img src="http://169.254.169.254/latest/meta-data/">'
        '<img src="file:///etc/passwd"><img src="/static/../../pyproject.toml">'
        "<p>Procès-verbal</p>"
    )
    asked: list[str] = []
    served: list[str] = []

    def spy(url: str) -> tuple[bytes, str]:
        asked.append(url)
        found = original(url)
        served.append(url)
        return found

    original = pdf.static_file
    monkeypatch.setattr(pdf, "static_file", spy)
    body = pdf.html_to_pdf(html)
    assert body.startswith(b"%PDF-")
    assert "Procès-verbal" in pdf_text(body)
    assert len(asked) == 4
    assert served == [pdf.BASE_URL + "static/css/cocreate.css"]


# A fresh interpreter where every warning is an error (as under pytest, or in a worker
# process of a server started with ``python -W error``), on a system without the optional
# HarfBuzz-Subset library: WeasyPrint's import then warns that it will need it.
WITHOUT_HARFBUZZ_SUBSET = """
import sys
import cffi

dlopen = cffi.FFI.dlopen


def no_subset(self, name, flags=0):
    if "harfbuzz-subset" in str(name):
        raise OSError(f"cannot load library {name!r}")
    return dlopen(self, name, flags)


cffi.FFI.dlopen = no_subset
from cocreate import pdf

sys.stdout.buffer.write(pdf.html_to_pdf("<p>Procès-verbal</p>"))
"""


def test_the_pdf_is_made_where_warnings_are_errors_without_harfbuzz_subset() -> None:
    made = subprocess.run(
        [sys.executable, "-W", "error", "-c", WITHOUT_HARFBUZZ_SUBSET],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert made.returncode == 0, made.stderr.decode()
    assert "Procès-verbal" in pdf_text(made.stdout)


class _BrokenEngine(MetaPathFinder):
    """WeasyPrint installed but failing to load, as cffi fails when the system's Pango
    lacks a function it needs."""

    def find_spec(self, name: str, path: object, target: object = None) -> ModuleSpec | None:
        if name.split(".")[0] == "weasyprint":
            raise AttributeError("function/symbol 'pango_font_map_get_serial' not found")
        return None


@pytest.fixture
def heavy_work_in_a_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server draws its PDF files in a thread of this process (as it does where no
    process pool can start), so that this process's WeasyPrint is the one it uses."""

    class NoProcessPool(heavy.ProcessPoolExecutor):
        def __init__(self, *args: object, **kwargs: object) -> None:
            raise OSError("no process pool in this test")

    monkeypatch.setattr(heavy, "ProcessPoolExecutor", NoProcessPool)
    monkeypatch.setattr(cocreate.app, "HeavyWork", heavy.HeavyWork)


async def test_a_pdf_engine_that_cannot_load_answers_503_with_the_reason(
    heavy_work_in_a_thread: None, open_session: OpenSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pdf, "_loaded", False)
    for name in [name for name in sys.modules if name.split(".")[0] == "weasyprint"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [_BrokenEngine(), *sys.meta_path])

    answer = await open_session.facilitator.get(
        f"/sessions/{open_session.session_id}/minutes.pdf?lang=en"
    )
    assert answer.status_code == 503, answer.text
    assert "This server cannot make PDF files: print the minutes page instead." in answer.text


@pytest.mark.browser
@NEEDS_CHROMIUM
async def test_a_screenshot_of_the_minutes_for_a_person_to_look_at(
    browser: Any, open_session: OpenSession
) -> None:
    assembly = await general_assembly(open_session)
    base = open_session.server.base_url
    for locale, name in (("fr-FR", "minutes-fr"), ("en-GB", "minutes-en")):
        context = await browser.new_context(viewport={"width": 800, "height": 1100}, locale=locale)
        page = await context.new_page()
        await page.goto(f"{base}/login")
        await page.fill("#email", "camille@example.org")
        await page.fill("#password", PASSWORD)
        await page.click("button.primary")
        await page.wait_for_url(f"{base}/projects")
        await page.goto(f"{base}/sessions/{assembly.session_id}/minutes")
        await page.emulate_media(media="print")
        assert QUESTION in await page.inner_text("main")
        await shoot(page, name)
        await context.close()
