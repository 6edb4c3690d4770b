"""French and English: from the browser's preference, with a switcher; nothing untranslated."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from cocreate.i18n import LOCALE_DIR, negotiate
from cocreate.templating import Templates
from tests.conftest import Browser, Server

ROOT = Path(__file__).resolve().parent.parent


def test_language_negotiation() -> None:
    assert negotiate("fr-FR,fr;q=0.9,en;q=0.8", "en") == "fr"
    assert negotiate("en-GB,en;q=0.9,fr;q=0.5", "fr") == "en"
    assert negotiate("de-DE,de;q=0.9", "fr") == "fr"
    assert negotiate("de;q=1, en;q=0.2, fr;q=0.7", "en") == "fr"
    assert negotiate("fr;q=0, en;q=0.1", "fr") == "en"
    assert negotiate("", "fr") == "fr"
    assert negotiate("fr;q=abc", "en") == "en"


async def test_pages_follow_the_browser_then_the_switcher(server: Server) -> None:
    french = Browser(server, language="fr-FR,fr;q=0.9")
    try:
        home = await french.get("/")
        assert '<html lang="fr">' in home.text
        assert "Rejoindre une séance" in home.text
        switched = await french.post("/language", {"locale": "en", "next": "/login"}, htmx=False)
        assert switched.status_code == 303
        assert switched.headers["location"] == "/login"
        login = await french.get("/login")
        assert '<html lang="en">' in login.text
        assert "Facilitator sign-in" in login.text
        # Never an open redirect.
        away = await french.post(
            "/language", {"locale": "fr", "next": "//evil.example/"}, htmx=False
        )
        assert away.headers["location"] == "/"
    finally:
        await french.close()


def test_every_string_in_the_code_is_translated_into_french() -> None:
    with (LOCALE_DIR / "fr" / "LC_MESSAGES" / "messages.po").open("rb") as fp:
        catalog = read_po(fp)
    method_map = [("src/**.py", "python"), ("templates/**.html", "jinja2")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    missing = []
    seen = 0
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT),
        method_map,
        options,
        keywords={"_": None, "gettext": None, "ngettext": (1, 2), "N_": None},
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        seen += 1
        entry = catalog.get(msgid)
        translated = entry is not None and entry.string and not entry.fuzzy
        if isinstance(translated, tuple):
            translated = all(translated)
        if not translated:
            missing.append(msgid)
    assert seen > 100  # the extraction did find the strings
    assert missing == []


def test_template_translations_escape_what_users_wrote() -> None:
    """``_`` and ``ngettext`` in templates: the catalog's text, its parameters escaped,
    ``%%`` a percent sign, plurals by count, in each language."""
    templates = Templates(timezone="Europe/Paris", directory=ROOT / "templates")
    source = (
        '{{ _("Join") }}|{{ _("Weighted by college: %(percent)s %% for (the colleges that'
        ' voted weigh %(weight)d %%).", percent="<b>50</b>", weight=3) }}|'
        '{{ ngettext("%(num)d minute", "%(num)d minutes", n) }}'
    )
    for locale, join, minutes in (("en", "Join", "minutes"), ("fr", "Rejoindre", "minutes")):
        env = templates._envs[locale]
        one, many = (env.from_string(source).render(n=n) for n in (1, 5))
        parts = one.split("|")
        assert parts[0] == join
        assert re.search(r"&lt;b&gt;50&lt;/b&gt;\s%", parts[1])
        assert "<b>" not in parts[1]
        assert re.search(r"3\s%\)", parts[1])
        assert parts[2] == "1 minute"
        assert many.split("|")[2] == f"5 {minutes}"


def test_large_counts_in_messages_are_grouped_as_each_language_writes_them(
    tmp_path: Path,
) -> None:
    """A general assembly of thousands: "5 000 membres présents", "5,000 members
    present", in sentences and in the messages the server says."""
    (tmp_path / "count.html").write_text(
        '{{ ngettext("%(num)d member present", "%(num)d members present", n) }}'
        ' | {{ _("Page %(page)d of %(count)d", page=1, count=n) }}'
    )
    templates = Templates(timezone="Europe/Paris", directory=tmp_path)
    french = templates.render("count.html", locale="fr", n=5000)
    assert "5\u202f000" in french  # Babel's narrow no-break space, as French writes it
    english = templates.render("count.html", locale="en", n=5000)
    assert english.startswith("5,000 members present")
    assert "of 5,000" in english
    assert templates.render("count.html", locale="en", n=999).startswith("999 members")
    said = templates.gettext("en", "Try again in %(n)d s.", n=1200)
    assert said == "Try again in 1,200 s."
