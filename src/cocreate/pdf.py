"""Print-ready pages as PDF, with WeasyPrint (extra ``cocreate[pdf]``, and the Pango
library of the system).

The page is laid out from cocreate's own files only: the fetcher reads ``/static/``
from the package and refuses every other address, so text written by participants can
never make the server fetch anything (no SSRF, no local file read).
"""

from __future__ import annotations

import mimetypes
import threading
import warnings
from typing import Any
from urllib.parse import urlsplit

from cocreate.resources import resource_dir

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
        except Exception as error:
            raise PdfUnavailable(f"{type(error).__name__}: {error}") from error
        _loaded = True


def static_file(url: str) -> tuple[bytes, str]:
    """The bytes and type of one of cocreate's static files named by an address of the
    page; ValueError for any other address."""
    parts = urlsplit(url)
    static = resource_dir("static").resolve()
    if f"{parts.scheme}://{parts.netloc}/" == BASE_URL and parts.path.startswith("/static/"):
        path = (static / parts.path.removeprefix("/static/")).resolve()
        if path.is_relative_to(static) and path.is_file():
            return path.read_bytes(), mimetypes.guess_type(path.name)[0] or "text/plain"
    raise ValueError(f"the PDF may only use cocreate's own files, not {url}")


def html_to_pdf(html: str) -> bytes:
    """The page as an A4 PDF (blocking and CPU-bound: run it off the loop); PdfUnavailable
    when WeasyPrint cannot load."""
    load_engine()
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnly(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            body, mime_type = static_file(url)
            return URLFetcherResponse(url, body, {"Content-Type": mime_type})

    document = HTML(string=html, base_url=BASE_URL, url_fetcher=StaticOnly(), media_type="print")
    pdf = document.write_pdf()
    assert pdf is not None
    return bytes(pdf)
