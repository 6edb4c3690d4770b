"""Languages: catalogs, negotiation and the ``N_`` marker for strings translated later."""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path

from babel.support import NullTranslations, Translations

LOCALES = ("fr", "en")
LOCALE_NAMES = {"fr": "Français", "en": "English"}
DOMAIN = "messages"
LOCALE_DIR = Path(__file__).parent / "locale"


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown."""
    return message


@cache
def translations(locale: str) -> gettext.NullTranslations:
    """The compiled catalog of a language (English is the source language)."""
    if locale == "en":
        return NullTranslations()
    mo = LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.mo"
    if not mo.exists():
        raise RuntimeError(
            f"catalog {mo} is missing: compile it with `make catalogs` "
            "(pybabel compile -d src/cocreate/locale)"
        )
    with mo.open("rb") as fp:
        return Translations(fp, domain=DOMAIN)


def negotiate(accept_language: str, default: str) -> str:
    """The best of our languages for an Accept-Language header."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        language = tag.strip().lower().split("-")[0]
        if language in LOCALES and quality > 0:
            ranked.append((-quality, position, language))
    return min(ranked)[2] if ranked else default
