"""Jinja2 templates, one environment per language so each render is self-contained.

Fragments for live updates come from the same partials as the first page render
(one partial per region of the screen).
"""

from __future__ import annotations

import gettext
import json
from collections.abc import Callable, Iterable, MutableMapping
from datetime import UTC, date, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from babel.dates import format_datetime
from markupsafe import Markup, escape

from cocreate import figures
from cocreate.i18n import LOCALE_NAMES, LOCALES, translations
from cocreate.resources import resource_dir
from cocreate.steps import KIND_HINTS, KIND_LABELS, StepKind
from cocreate.urls import static, url
from cocreate.voting import SMALL_COLLEGE


def clock(milliseconds: int) -> str:
    """A countdown as read on a clock: 4:05, or 1:02:03 past an hour (rounded up, so
    it shows 0:00 only when the time is really up)."""
    seconds = -(-max(0, milliseconds) // 1000)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def _in_locale(format_: Callable[..., str]) -> Callable[..., str]:
    """A filter that writes its value in the page's language, ``format_(value, locale,
    *args)``. It reads the locale from the rendering context, not from the environment:
    Jinja computes a filter of a constant (``100|percent100``) once, when it compiles the
    template, and the compiled code is shared by every language's environment."""

    @jinja2.pass_context
    def filter_(context: jinja2.runtime.Context, value: Any, *args: Any) -> str:
        return format_(value, context["locale"], *args)

    return filter_


# Numbers as the page's language writes them (cocreate.figures): a count, a number with
# fixed decimals, a share of 1 as a percentage, a percentage counted out of 100 (a weight,
# a quorum), a figure stored in the machine notation, a round's votes; a day; a list.
_LOCALE_FILTERS = {
    "day": _in_locale(figures.day),
    "number": _in_locale(figures.number),
    "decimal": _in_locale(figures.decimal),
    "percent": _in_locale(figures.percent),
    "percent100": _in_locale(figures.percent_of_100),
    "figure": _in_locale(figures.figure),
    "votes": _in_locale(figures.votes),
    # Each name escaped first, so that a label already markup (a translation) is not
    # escaped twice: the list is markup.
    "listing": _in_locale(
        lambda items, locale: Markup(  # noqa: S704 (every item is escaped)
            figures.listing([escape(item) for item in items], locale)
        )
    ),
}


class _CompiledTemplates(jinja2.BytecodeCache):
    """Compiled templates kept in memory for the whole process: every environment (one
    per language, one set per app instance) compiles each template once, not each time."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_COMPILED = _CompiledTemplates()


def _gettext_functions(catalog: gettext.NullTranslations, locale: str) -> dict[str, Any]:
    """``_``, ``gettext`` and ``ngettext`` as the i18n extension's new-style functions
    behave with autoescape on (the translation is markup, its ``%(name)s`` parameters
    are escaped, ``%`` is always applied), as plain functions: the extension's go
    through three context calls each, which was most of a small fragment's rendering
    (a vote's answer: 110 µs, 8 strings)."""

    static: dict[str, Markup] = {}  # most strings have no parameters: formatted once

    def _format(translated: str, variables: dict[str, Any]) -> Markup:
        # The catalog's text is ours, as in the templates; what users wrote comes in
        # through the parameters, which Markup's % escapes. Large counts are grouped.
        text, shown = figures.grouped(translated, variables, locale)
        return Markup(text) % shown  # noqa: S704

    def _gettext(message: str, /, **variables: Any) -> Markup:
        if variables:
            return _format(catalog.gettext(message), variables)
        text = static.get(message)
        if text is None:
            text = static[message] = _format(catalog.gettext(message), variables)
        return text

    def _ngettext(singular: str, plural: str, count: int, /, **variables: Any) -> Markup:
        variables.setdefault("num", count)
        return _format(catalog.ngettext(singular, plural, count), variables)

    return {"_": _gettext, "gettext": _gettext, "ngettext": _ngettext}


class _Environment(jinja2.Environment):
    """Jinja's environment, with each template's globals in a plain dict.

    Jinja chains a template's globals to the environment's (a ``ChainMap``) and, on each
    ``{% import %}``, compares them key by key with the importing template's: with the
    macros imported by most templates, that comparison was a twentieth of a phone page's
    drawing. This app sets every global before loading a template, so a copy is the
    same and compares as a set, in C."""

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return {**self.globals, **(d or {})}


class Templates:
    def __init__(self, *, timezone: str, directory: Path | None = None) -> None:
        self.directory = directory or resource_dir("templates")
        self.zone = ZoneInfo(timezone)
        self._envs = {locale: self._environment(locale) for locale in LOCALES}

    def _environment(self, locale: str) -> jinja2.Environment:
        env = _Environment(
            loader=jinja2.FileSystemLoader(self.directory),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            extensions=["jinja2.ext.i18n"],
            bytecode_cache=_COMPILED,
            # Templates ship with the code: never stat their files again on each render
            # (with auto_reload, every include of every card did). `serve --reload`
            # restarts the process on a change anyway.
            auto_reload=False,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
        env.globals.update(_gettext_functions(translations(locale), locale))
        env.globals.update(
            locale=locale,
            locales=LOCALES,
            locale_names=LOCALE_NAMES,
            kind_labels=KIND_LABELS,
            kind_hints=KIND_HINTS,
            step_kinds=list(StepKind),
            small_college=SMALL_COLLEGE,
            url=url,  # every link to a route: url("console", session_id=…) (cocreate.urls)
            static=static,  # and to a static file: static("css/cocreate.css")
        )
        env.filters["clock"] = clock
        env.filters["when"] = lambda value: self.format_when(value, locale)
        env.filters.update(_LOCALE_FILTERS)
        # Names in the reader's order, accents and case aside (a roster, the people).
        env.filters["get_or_none"] = lambda mapping, name: mapping.get(name)
        env.filters["from_json"] = json.loads
        env.filters["as_number"] = lambda value: None if value is None else float(Fraction(value))
        return env

    def format_when(self, value: datetime | None, locale: str) -> str:
        if value is None:
            return ""
        aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value
        local = aware.astimezone(self.zone)
        return figures.first_of_month(
            format_datetime(local, "medium", locale=locale), local, locale
        )

    def today(self) -> date:
        """Today where the meetings happen (due dates are days there)."""
        return datetime.now(self.zone).date()

    def render(self, template_name: str, /, *, locale: str, **context: Any) -> str:
        return self._envs[locale].get_template(template_name).render(context)

    def prepare(self, template_names: Iterable[str]) -> None:
        """Compile these templates now (blocking: run it off the loop), for every
        language, rather than on the first request that renders them."""
        for env in self._envs.values():
            for name in template_names:
                env.get_template(name)

    def macros(self, template_name: str, /, *, locale: str) -> Any:
        """A template's macros, to be called from Python (each returns markup)."""
        return self._envs[locale].get_template(template_name).module

    def gettext(self, locale: str, message: str, **params: Any) -> str:
        text = translations(locale).gettext(message)
        if not params:
            return text
        text, shown = figures.grouped(text, params, locale)
        return text % shown
