"""The minutes of a general assembly as a print-ready page and as a PDF, in French and in
English: place, attendance (present and represented), the quorum, each poll, decisions."""

from __future__ import annotations

import html
import io
import itertools
import re
import subprocess
import sys
from dataclasses import dataclass
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageFilter
from pypdf import PdfReader
from sqlmodel import select

import cocreate.app
from cocreate import heavy, pdf, polls
from cocreate.models import Decision, Member, Session
from tests.browsing import ARTIFACTS, NEEDS_CHROMIUM, shoot
from tests.conftest import PASSWORD, OpenSession, open_session_for
from tests.test_polls import BALLOTS_BY_METHOD, act, create, vote
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
    assert "Quorum: 75% of 4 members, that is 3 present or represented." in page
    assert "Rules: Simple majority of votes expressed · quorum 75% of members" in page
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
        "Quorum: 75% of 4 members, that is 3 present or represented.",
        "Quorum reached.",
        QUESTION,
        "Adopted",
        "3 ballots out of 4 voters",
    ):
        assert expected in text, (expected, text)

    french = await open_session.facilitator.get(url + ".pdf?lang=fr")
    assert french.status_code == 200
    texte = " ".join(pdf_text(french.content).split())
    for attendu in ("Présences", "Quorum atteint.", QUESTION, "Adoptée", "Quorum : 75 % de 4"):
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


# The charts of the PDF: every voting method's result, drawn as the page draws it.

# Options with long labels: a label that does not fit on one line of the chart wraps.
OPTIONS = (
    "Rénover la salle polyvalente du quartier des Pentes avant l'hiver prochain",
    "Jardin partagé",
    "Atelier vélo solidaire",
)


async def every_method(open_session: OpenSession) -> list[tuple[str, int]]:
    """One closed poll per voting method, two ballots each: (method, poll id) in order."""
    phones = [await open_session.phone("Une"), await open_session.phone("Deux")]
    made = []
    for method, (extra, ballots) in BALLOTS_BY_METHOD.items():
        poll_id = await create(
            open_session,
            question=f"Méthode {method}",
            method=method,
            options="\n".join(OPTIONS),
            **extra,
        )
        await act(open_session, poll_id, "open")
        async with open_session.server.db.session() as db:
            ids = [str(option.id) for option in await polls.poll_options(db, poll_id)]
        letters = dict(zip("ABC", ids, strict=False))  # none for yes/no, consent

        def fill(value: str | list[str], letters: dict[str, str] = letters) -> str | list[str]:
            if isinstance(value, list):
                return [letters.get(v, v) for v in value]
            return letters.get(value, value)

        def field_name(name: str, letters: dict[str, str] = letters) -> str:
            stem, _, letter = name.rpartition("-")
            return f"{stem}-{letters[letter]}" if stem and letter in letters else name

        for phone, ballot in zip(phones, ballots, strict=True):
            await vote(
                phone,
                open_session,
                poll_id,
                {field_name(name): fill(value) for name, value in ballot.items()},
            )
        await act(open_session, poll_id, "close")
        made.append((method, poll_id))
    return made


# The page's colours, as cocreate.css gives them: the PDF's charts must be drawn in them.
STYLESHEET = (Path(__file__).parent.parent / "static" / "css" / "cocreate.css").read_text()


def page_colour(selector_or_property: str) -> tuple[int, int, int]:
    """The colour of a custom property of :root (``--for``) or the fill of a class
    (``.grade--3``), in the page's stylesheet."""
    if selector_or_property.startswith("--"):
        found = re.search(re.escape(selector_or_property) + r":\s*#(\w{6})", STYLESHEET)
    else:
        found = re.search(re.escape(selector_or_property) + r" \{ fill: #(\w{6})", STYLESHEET)
    assert found, selector_or_property
    return (int(found[1][0:2], 16), int(found[1][2:4], 16), int(found[1][4:6], 16))


BAR_COLOURS = {name: page_colour(name) for name in ("--for", "--against", "--abstain", "--brand")}
GRADE_COLOURS = {f"grade {n}": page_colour(f".grade--{n}") for n in range(7)}
# The colours each method's chart shows with the ballots of BALLOTS_BY_METHOD: options
# that won in the brand's colour, the others in grey; grades from excellent (0) down.
EXPECTED_COLOURS = {
    "yes_no": {"--for", "--abstain"},
    "consent": {"--for", "--against"},
    "approval": {"--brand"},
    "dots": {"--brand", "--abstain"},
    "score": {"--brand", "--abstain"},
    "irv": {"--brand"},
    "stv": {"--brand"},  # two seats, two winners
    "schulze": {"--brand", "--abstain"},
    "judgment": {"grade 0", "grade 2", "grade 4", "grade 6"},
}
DPI = 80
PT = DPI / 72  # pixels per point
CHART_W, BAR_W = 320, 260  # the charts' width and their longest bar, in SVG units


def solid(image: Image.Image, colour: tuple[int, int, int], size: int = 5) -> Image.Image:
    """A mask of the blocks of at least size × size pixels of this colour (give or take
    2 per channel: a filled shape, not the edge of a letter)."""
    difference = ImageChops.difference(image, Image.new("RGB", image.size, colour))
    red, green, blue = difference.split()
    furthest = ImageChops.lighter(ImageChops.lighter(red, green), blue)
    return furthest.point(lambda v: 255 if v <= 2 else 0).filter(ImageFilter.MinFilter(size))


def dark_blocks(image: Image.Image) -> Image.Image:
    """A mask of the solid blocks of black or near (7 × 7 pixels: more than any stroke of
    a letter at this resolution)."""
    return image.convert("L").point(lambda v: 255 if v < 60 else 0).filter(ImageFilter.MinFilter(7))


@dataclass
class Word:
    text: str
    x_min: float
    y_min: float
    x_max: float


def words_of(path: Path) -> list[list[Word]]:
    """The words of each page, with their boxes in points, as poppler reads them."""
    xhtml = subprocess.run(
        ["pdftotext", "-bbox", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    pages = []
    for page in xhtml.split("<page ")[1:]:
        pages.append(
            [
                Word(html.unescape(m["text"]), float(m["x0"]), float(m["y0"]), float(m["x1"]))
                for m in re.finditer(
                    r'<word xMin="(?P<x0>[\d.]+)" yMin="(?P<y0>[\d.]+)" '
                    r'xMax="(?P<x1>[\d.]+)" yMax="[\d.]+">(?P<text>[^<]*)</word>',
                    page,
                )
            ]
        )
    return pages


def rasterised(path: Path, name: str) -> list[Image.Image]:
    """The pages as images, also left under tests/artifacts/ for a person to look at."""
    for old in ARTIFACTS.glob(f"{name}-*.png"):
        old.unlink()
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(DPI), str(path), str(ARTIFACTS / name)], check=True
    )
    return [
        Image.open(page).convert("RGB")
        for page in sorted(
            ARTIFACTS.glob(f"{name}-*.png"), key=lambda p: int(p.stem.split("-")[-1])
        )
    ]


async def test_the_charts_of_the_pdf_have_the_pages_colours_and_whole_labels(
    open_session: OpenSession,
) -> None:
    made = await every_method(open_session)
    for lang in ("fr", "en"):
        await check_the_charts(open_session, made, lang)


async def check_the_charts(
    open_session: OpenSession, made: list[tuple[str, int]], lang: str
) -> None:
    answer = await open_session.facilitator.get(
        f"/sessions/{open_session.session_id}/minutes.pdf?lang={lang}"
    )
    assert answer.status_code == 200, answer.text
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"minutes-charts-{lang}.pdf"
    path.write_bytes(answer.content)
    images = rasterised(path, f"minutes-charts-{lang}")
    pages = words_of(path)
    assert len(images) == len(pages)

    # No bar is drawn in black, anywhere.
    for number, image in enumerate(images, 1):
        assert dark_blocks(image).getbbox() is None, f"a black block on page {number}"

    # Each poll's chart, between its heading and the next one (or the decisions), in
    # its own colours. (The polls come first; the decisions repeat their questions.)
    headings = [
        (number, word.y_min)
        for number, words in enumerate(pages)
        for word, after in itertools.pairwise(words)
        if word.text == "Méthode" and after.text in EXPECTED_COLOURS
    ][: len(made)]
    bar_widths = []
    for index, (method, _) in enumerate(made):
        number, top = headings[index]
        below = [y for n, y in headings[index + 1 :] if n == number] + [
            w.y_min for w in pages[number] if w.text in ("Décisions", "Decisions") and w.y_min > top
        ]
        if method == "judgment":  # (not the legend's swatches, below the chart)
            below += [w.y_min for w in pages[number] if w.text == "Excellent" and w.y_min > top]
        bottom = min(below, default=images[number].height / PT)
        band = images[number].crop((0, int(top * PT), images[number].width, int(bottom * PT)))
        shown = {
            name
            for name, colour in (BAR_COLOURS | GRADE_COLOURS).items()
            if solid(band, colour).getbbox() is not None
        }
        assert shown == EXPECTED_COLOURS[method], (lang, method, shown)
        if method != "judgment":  # the longest bar is BAR_W units long
            boxes = [solid(band, BAR_COLOURS[name]).getbbox() for name in shown]
            left = min(box[0] for box in boxes if box) - 2
            right = max(box[2] for box in boxes if box) + 2
            bar_widths.append((right - left) / PT)

    # Every label is whole: not shortened, and as wide as the chart at most (an SVG
    # text longer than its chart is cut at the edge). The lines of the labels are
    # those the page draws.
    chart_width = max(bar_widths) * CHART_W / BAR_W
    text = " ".join(word.text for words in pages for word in words)
    assert "…" not in text
    for option in OPTIONS:
        assert option.split()[-1] in text
    page = await open_session.facilitator.get(
        f"/sessions/{open_session.session_id}/minutes", headers={"Accept-Language": lang}
    )
    lines = [html.unescape(line) for line in re.findall(r"<tspan[^>]*>([^<]*)</tspan>", page.text)]
    assert lines
    for line in set(lines):
        expected = line.split()
        found = [
            words[start + len(expected) - 1].x_max - words[start].x_min
            for words in pages
            for start in range(len(words) - len(expected) + 1)
            if [w.text for w in words[start : start + len(expected)]] == expected
        ]
        assert found, (lang, line)
        assert max(found) <= chart_width + 1, (lang, line, max(found), chart_width)


@pytest.mark.browser
@NEEDS_CHROMIUM
async def test_the_wrapped_labels_on_a_phone_the_projector_and_the_minutes_page(
    browser: Any, open_session: OpenSession
) -> None:
    """Screenshots for a person to look at: the charts as a phone, the projector and the
    minutes page show them, with the long label on several lines, nothing wider than
    the screen."""
    made = dict(await every_method(open_session))
    base = open_session.server.base_url
    pocket = await browser.new_context(
        viewport={"width": 360, "height": 640}, is_mobile=True, has_touch=True
    )
    phone = await pocket.new_page()
    for method in ("judgment", "dots", "yes_no"):
        await phone.goto(f"{base}/s/{open_session.code}/polls/{made[method]}")
        labels = await phone.locator("svg.chart text.chart-label").evaluate_all(
            "labels => labels.map(l => [...l.children].map(line => line.textContent).join(' '))"
        )
        assert labels
        if method != "yes_no":  # the long label, whole, on several lines
            assert any(OPTIONS[0] in label for label in labels), labels
        assert await phone.evaluate("document.documentElement.scrollWidth") <= 360
        await shoot(phone, f"chart-labels-{method}-360")
    await pocket.close()
    for width, height in ((1920, 1080), (1280, 720), (1024, 768)):
        wall = await browser.new_context(viewport={"width": width, "height": height})
        screen = await wall.new_page()
        await screen.goto(f"{base}/s/{open_session.code}/polls/{made['judgment']}")
        assert await screen.evaluate("document.documentElement.scrollWidth") <= width
        await shoot(screen, f"chart-labels-judgment-{width}")
        await screen.goto(f"{base}/s/{open_session.code}/screen")
        assert await screen.evaluate("document.documentElement.scrollWidth") <= width
        await shoot(screen, f"chart-labels-projector-{width}")
        await wall.close()
    desk = await browser.new_context(viewport={"width": 1366, "height": 768})
    page = await desk.new_page()
    await page.goto(f"{base}/login")
    await page.fill("#email", "camille@example.org")
    await page.fill("#password", PASSWORD)
    await page.click("button.primary")
    await page.wait_for_url(f"{base}/projects")
    await page.goto(f"{base}/sessions/{open_session.session_id}/minutes")
    await page.locator(f"#poll-{made['judgment']}-q").scroll_into_view_if_needed()
    await shoot(page, "chart-labels-minutes-1366")
    await desk.close()


def structure_types(node: Any, seen: set[str] | None = None, depth: int = 0) -> set[str]:
    """The types of the structure elements under a node of the PDF's structure tree."""
    seen = set() if seen is None else seen
    node = node.get_object() if hasattr(node, "get_object") else node
    if isinstance(node, list):
        for child in node:
            structure_types(child, seen, depth + 1)
    elif isinstance(node, dict) and depth < 60:
        if "/S" in node:
            seen.add(str(node["/S"]).lstrip("/"))
        if "/K" in node:
            structure_types(node["/K"], seen, depth + 1)
    return seen


async def test_the_pdf_is_tagged_and_in_the_language_asked_for(
    open_session: OpenSession,
) -> None:
    """A screen reader reads the minutes in their language, by their structure (PDF/UA)."""
    assembly = await general_assembly(open_session)
    for lang in ("fr", "en"):
        answer = await open_session.facilitator.get(
            f"/sessions/{assembly.session_id}/minutes.pdf?lang={lang}"
        )
        assert answer.status_code == 200, answer.text
        reader = PdfReader(io.BytesIO(answer.content))
        catalog = reader.trailer["/Root"]
        assert catalog["/Lang"] == lang
        assert catalog["/MarkInfo"]["/Marked"]
        types = structure_types(catalog["/StructTreeRoot"])
        assert {"H1", "H2", "H3", "P", "L", "Table"} <= types, types
        metadata = catalog["/Metadata"].get_object().get_data().decode()
        assert "pdfuaid:part" in metadata
        title = reader.metadata.title if reader.metadata else None
        assert title
        assert "Assemblée générale 2026" in title
