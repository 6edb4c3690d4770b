"""Print-ready pages as PDF, with WeasyPrint (extra ``cocreate[pdf]``, and the Pango
library of the system).

The page is laid out from cocreate's own files only: the fetcher reads ``/static/``
from the package and refuses every other address, so text written by participants can
never make the server fetch anything (no SSRF, no local file read).
"""

from __future__ import annotations

import mimetypes
from typing import Any
from urllib.parse import urlsplit

from cocreate.resources import resource_dir

# Relative addresses in the page resolve against this; no request ever goes there.
BASE_URL = "https://cocreate.invalid/"


class PdfUnavailable(RuntimeError):
    """WeasyPrint or the system's Pango library is missing."""


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
    """The page as an A4 PDF (blocking and CPU-bound: run it in a thread)."""
    try:
        from weasyprint import HTML
        from weasyprint.urls import URLFetcher, URLFetcherResponse
    except (ImportError, OSError) as error:  # OSError: the Pango library is not installed
        raise PdfUnavailable(str(error)) from error

    class StaticOnly(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            body, mime_type = static_file(url)
            return URLFetcherResponse(url, body, {"Content-Type": mime_type})

    document = HTML(string=html, base_url=BASE_URL, url_fetcher=StaticOnly(), media_type="print")
    pdf = document.write_pdf()
    assert pdf is not None
    return bytes(pdf)
