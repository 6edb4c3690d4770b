"""Numbers, shares and days as a page's language writes them ("50,0 %" / "50.0%",
"58,5", "1er septembre"), and names in the order a reader of that language expects.

Results are stored and exported in one machine-readable notation (``voting.Bar.label``:
"12", "3.00", "12.5 %"; JSON and CSV files, ``cocreate recount``); pages write them
through these functions, with the page's locale, when they are drawn
(``templating.py``'s filters of the same names).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import cache
from typing import Any

from babel import Locale
from babel.dates import format_date
from babel.lists import format_list
from babel.numbers import format_decimal, format_percent

Number = int | float | Fraction | Decimal


def _decimal(value: Number) -> Decimal:
    if isinstance(value, Fraction):
        return Decimal(value.numerator) / Decimal(value.denominator)
    return value if isinstance(value, Decimal) else Decimal(str(value))


@cache
def _percent_pattern(locale: str, digits: int) -> str:
    """The locale's percent pattern ("#,##0 %" in French, "#,##0%" in English) with
    ``digits`` decimals."""
    pattern = str(Locale.parse(locale).percent_formats[None].pattern)
    return pattern.replace("0", "0." + "0" * digits, 1) if digits else pattern


def number(value: Number, locale: str) -> str:
    """A count ("1 234" / "1,234"); a fraction of a ballot (weighted) with two decimals
    at most."""
    if isinstance(value, int) or (isinstance(value, Fraction) and value.denominator == 1):
        return format_decimal(int(value), locale=locale)
    return format_decimal(_decimal(value), format="#,##0.##", locale=locale)


def decimal(value: Number, locale: str, digits: int = 2) -> str:
    """A number with exactly ``digits`` decimals: an average score "3,00" / "3.00"."""
    pattern = "#,##0." + "0" * digits if digits else "#,##0"
    return format_decimal(_decimal(value), format=pattern, locale=locale)


def percent(share: Number, locale: str, digits: int = 1) -> str:
    """A share of 1 as a percentage: "50,0 %" in French, "50.0%" in English."""
    return format_percent(_decimal(share), format=_percent_pattern(locale, digits), locale=locale)


def percent_of_100(value: Number, locale: str, digits: int = 0) -> str:
    """A percentage already counted out of 100 (a quorum, a college's weight: 25)."""
    return percent(_decimal(value) / 100, locale, digits)


def votes(value: Number, locale: str) -> str:
    """A round's count as stored (``voting.Count.details``): a whole number of ballots,
    or, weighted by college, a share of the assembly ("12,5 %")."""
    return number(value, locale) if isinstance(value, int) else percent(value, locale)


def figure(text: object, locale: str) -> str:
    """A figure stored in the machine-readable notation ("12", "3.00", "12.5 %", "2/3")
    as the page's language writes it, with as many decimals as it was stored with."""
    raw = str(text).strip()
    if raw.endswith("%"):
        amount = raw[:-1].strip()
        digits = len(amount.partition(".")[2])
        try:
            return percent(Decimal(amount) / 100, locale, digits)
        except InvalidOperation:
            return raw
    if "/" in raw:
        numerator, _, denominator = raw.partition("/")
        try:
            return number(Fraction(int(numerator), int(denominator)), locale)
        except (ValueError, ZeroDivisionError):
            return raw
    try:
        amount_ = Decimal(raw)
    except InvalidOperation:
        return raw
    return decimal(amount_, locale, len(raw.partition(".")[2]))


def day(value: date | datetime, locale: str) -> str:
    """A day written out: "1er septembre 2026" / "September 1, 2026"."""
    return first_of_month(format_date(value, "long", locale=locale), value, locale)


def first_of_month(text: str, value: date | datetime, locale: str) -> str:
    """A date Babel wrote ("1 septembre 2026", "1 sept. 2026, 14:05:07") with the first
    of the month as French writes it: "1er"."""
    if locale == "fr" and value.day == 1 and text.startswith("1 "):
        return "1er" + text[1:]
    return text


def listing(items: Iterable[object], locale: str) -> str:
    """Names in a sentence: "Rouge, Vert et Bleu" / "Rouge, Vert, and Bleu"."""
    return format_list([str(item) for item in items], locale=locale)


def collation_key(name: str) -> tuple[str, str]:
    """How a list of names sorts for a reader: accents and case do not matter
    ("Émilie" before "Jean-Luc", "éloïse" next to "Eloise"); names equal that way keep a
    stable order by their exact text."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    return plain.casefold(), name


_WHOLE = re.compile(r"%\((\w+)\)d")


def grouped(text: str, variables: Mapping[str, Any], locale: str) -> tuple[str, dict[str, Any]]:
    """A message's ``%(name)d`` counts of four digits or more, written as the language
    groups them ("5 000 membres", "5,000 members"); others left as they are. Returns the
    text and the variables to format it with."""
    large = {
        name
        for name, value in variables.items()
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 1000
    }
    if not large or "%(" not in text:
        return text, dict(variables)
    shown = dict(variables)

    def as_text(found: re.Match[str]) -> str:
        name = found.group(1)
        if name not in large:
            return found.group(0)
        shown[name] = format_decimal(variables[name], locale=locale)
        return f"%({name})s"

    return _WHOLE.sub(as_text, text), shown
