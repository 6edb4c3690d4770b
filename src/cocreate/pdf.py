"""Print-ready pages as PDF, with WeasyPrint (extra ``cocreate[pdf]``, and the Pango
library of the system).

The page is laid out from cocreate's own files only: the fetcher reads ``/static/``
from the package and refuses every other address, so text written by participants can
never make the server fetch anything (no SSRF, no local file read).
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import warnings
from html import unescape
from typing import Any
from urllib.parse import urljoin, urlsplit

from cocreate.assets import Assets
from cocreate.resources import resource_dir

log = logging.getLogger(__name__)

# Relative addresses in the page resolve against this; no request ever goes there.
BASE_URL = "https://cocreate.invalid/"


# WeasyPrint's import warns, as a DeprecationWarning, when the system lacks the optional
# HarfBuzz-Subset library (Debian: libharfbuzz-subset0; it then subsets fonts with
# fontTools). Where warnings are errors (pytest's ``filterwarnings = error``, or
# ``python -W error`` and PYTHONWARNINGS, which the worker processes inherit) that notice
# failed the import, and the PDF route answered 500 on such machines only. Only this
# notice is silenced, and only while importing.
HARFBUZZ_SUBSET_NOTICE = r"HarfBuzz-Subset will be required"

_loading = threading.Lock()  # catch_warnings changes the process's filters: one at a time
_loaded = False
# One PDF at a time in a process (a worker takes one job at a time anyway): the first
# request's PDF, come while the warm-up draws its own, waits for it instead of parsing
# the stylesheet again beside it and splitting the CPU with it.
_drawing = threading.RLock()


PDF_VARIANT = "pdf/ua-1"

# The rules of the stylesheet that draw the charts (server-drawn SVG): their selectors
# name one of these classes.
CHART_CLASS = re.compile(r"\.(?:chart|grade|cell)\b")
CUSTOM_PROPERTY = re.compile(r"var\(\s*(--[\w-]+)\s*\)")
SVG_START = re.compile(r"<svg\b[^>]*>")
# A stylesheet linked from the page's head, as base.html writes it.
STYLESHEET_LINK = re.compile(r'<link rel="stylesheet" href="(?P<href>[^"]*)">')


class PdfUnavailable(RuntimeError):
    """WeasyPrint or the system's Pango library is missing or cannot load."""


def load_engine() -> None:
    """Import WeasyPrint, once per process; PdfUnavailable, with the reason, when it cannot
    load for any reason."""
    global _loaded
    with _loading:
        if _loaded:
            return
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings(
                    "ignore", message=HARFBUZZ_SUBSET_NOTICE, category=DeprecationWarning
                )
                import weasyprint.urls  # noqa: F401 (and weasyprint itself)
        # Not only ImportError (not installed) and OSError (no Pango): a library too old,
        # or a warning turned into an error, is no reason for a 500 either.
        except Exception as error:  # whatever it is, the request will tell
            raise PdfUnavailable(f"{type(error).__name__}: {error}") from error
        _loaded = True


def static_file(url: str) -> tuple[bytes, str]:
    """The bytes and type of one of cocreate's static files named by an address of the
    page; ValueError for any other address."""
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}/" == BASE_URL and parts.path.startswith("/static/"):
        asset = _assets().file(parts.path.removeprefix("/static/"))
        if asset is not None:  # by its name in the page (with its digest) or its plain one
            return asset.body("identity"), asset.media_type.split(";")[0]
    raise ValueError(f"the PDF may only use cocreate's own files, not {url}")


@functools.cache
def _assets() -> Assets:
    return Assets(resource_dir("static"))


@functools.cache
def chart_style() -> str:
    """The stylesheet's chart rules as an SVG ``<style>`` element, custom properties
    replaced by their values.

    WeasyPrint draws an inline SVG as an image of its own: the page's stylesheet does not
    reach it (only a ``<style>`` inside it does) and it knows no ``var()``. Without these
    rules the bars were black and the labels at SVG's default size, larger than the
    headings and cut at the chart's edge. The rules are the page's own, so the PDF's
    colours stay those of the screen. The page itself cannot carry such an element: its
    Content-Security-Policy refuses inline styles."""
    import tinycss2  # type: ignore[import-untyped]  # (WeasyPrint's own parser)

    css = (resource_dir("static") / "css" / "cocreate.css").read_text(encoding="utf-8")
    rules = [
        rule
        for rule in tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
        if rule.type == "qualified-rule"  # not those of @media: no screen, no print here
    ]
    values: dict[str, str] = {}
    for rule in rules:
        if tinycss2.serialize(rule.prelude).strip() == ":root":
            for declaration in tinycss2.parse_blocks_contents(rule.content):
                if declaration.type == "declaration" and declaration.name.startswith("--"):
                    values[declaration.name] = tinycss2.serialize(declaration.value).strip()
    kept = []
    for rule in rules:
        selectors = tinycss2.serialize(rule.prelude).strip()
        if CHART_CLASS.search(selectors):
            body = CUSTOM_PROPERTY.sub(
                lambda found: values.get(found[1], "initial"), tinycss2.serialize(rule.content)
            )
            kept.append(f"{selectors} {{{' '.join(body.split())}}}")
    return "<style>" + "\n".join(kept) + "</style>"


def styled_charts(html: str) -> str:
    """The page, each of its SVG charts carrying the stylesheet's chart rules."""
    style = chart_style()
    return SVG_START.sub(lambda start: start[0] + style, html)


class _StaticOnly:
    """WeasyPrint's fetcher of addresses, serving ``static_file`` and nothing else."""

    @staticmethod
    def make() -> Any:
        from weasyprint.urls import URLFetcher, URLFetcherResponse

        class StaticOnly(URLFetcher):  # type: ignore[misc]
            def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
                body, mime_type = static_file(url)
                return URLFetcherResponse(url, body, {"Content-Type": mime_type})

        return StaticOnly()


@functools.lru_cache(maxsize=4)
def _parsed_stylesheet(url: str, body: bytes) -> Any:
    """A stylesheet parsed for print, once per content: parsing cocreate.css took a
    third of the time of a short PDF, again for every file."""
    from weasyprint import CSS

    return CSS(
        string=body.decode("utf-8"),
        base_url=url,
        url_fetcher=_StaticOnly.make(),
        media_type="print",
    )


def html_to_pdf(html: str) -> bytes:
    """The page as a tagged A4 PDF (blocking and CPU-bound: run it off the loop);
    PdfUnavailable when WeasyPrint cannot load."""
    with _drawing:
        return _html_to_pdf(html)


def _html_to_pdf(html: str) -> bytes:
    load_engine()
    from weasyprint import HTML

    # The page's stylesheets, read as the page would (only cocreate's files), and
    # handed to WeasyPrint parsed, in their order, instead of their links.
    stylesheets = []
    for link in STYLESHEET_LINK.finditer(html):
        url = urljoin(BASE_URL, unescape(link["href"]))
        body, _ = static_file(url)
        stylesheets.append(_parsed_stylesheet(url, body))
    html = STYLESHEET_LINK.sub("", html)
    document = HTML(
        string=styled_charts(html),
        base_url=BASE_URL,
        url_fetcher=_StaticOnly.make(),
        media_type="print",
    )
    # Tagged (PDF/UA-1): a screen reader reads the headings, lists and tables in their
    # order, and the language of the page's <html lang> becomes the file's /Lang.
    pdf = document.write_pdf(stylesheets=stylesheets, pdf_variant=PDF_VARIANT)
    assert pdf is not None
    return bytes(pdf)


# A page of the minutes' kinds of content (headings, facts, tables, lists, badges, the
# monospace of a seal, a chart): each loads fonts, faces and code paths of its own, which
# the first minutes would otherwise load.
WARM_UP_PAGE = (
    '<!doctype html><html lang="fr"><head><link rel="stylesheet" href="/static/css/cocreate.css">'
    '</head><body><main class="page minutes"><p class="kicker">Projet</p><h1>Procès-verbal</h1>'
    '<dl class="facts minutes-facts"><dt>Séance</dt><dd>1<sup>er</sup> septembre</dd></dl>'
    '<section class="minutes-section"><h2>Ordre du jour</h2><div class="table-wrap">'
    '<table class="data minutes-agenda"><caption class="visually-hidden">1</caption><thead><tr>'
    '<th scope="col">N°</th><th scope="col">Étape</th></tr></thead><tbody><tr><th scope="row">'
    '1 <span class="minutes-meta">2</span></th><td class="num">3</td></tr></tbody></table></div>'
    '</section><section class="minutes-section"><h2>Décisions</h2><ol class="minutes-items '
    'minutes-decisions"><li><span class="badge badge--adopted">Adoptée</span> <span '
    'class="minutes-ref">#4</span> <p class="minutes-text">Une <strong>idée</strong> <em>5</em>'
    '</p><span class="minutes-meta hash">SHA-256 0123abcd</span></li></ol><div class="minutes-'
    'poll"><h3>Sondage</h3><svg class="chart" viewBox="0 0 320 50" role="img"><rect class="'
    'chart-bar chart-bar--winner" x="0" y="0" width="100" height="14"></rect><text class="chart-'
    'label" x="0" y="30">Assez bien</text><text class="chart-value" x="300" y="30">6</text></svg>'
    '<ul class="grade-legend"><li><span class="swatch grade--0"></span>Très bien</li></ul></div>'
    '<ul class="minutes-members"><li>Émilie</li></ul><p class="empty-hint">—</p></section>'
    "</main></body></html>"
)


def warm_up() -> None:
    """Load WeasyPrint and make a small PDF, so that the first minutes asked for do not
    wait for the import, the fonts and the stylesheet (seconds on a busy machine). Never
    raises: a server that cannot make PDF files says so when one is asked for."""
    try:
        html_to_pdf(WARM_UP_PAGE)
    except Exception as error:  # whatever it is, the request will tell
        log.info("the PDF engine was not warmed up: %s", error)
