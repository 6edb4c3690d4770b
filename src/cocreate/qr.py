"""QR codes as SVG, drawn with segno: pure functions, run in worker processes
(``cocreate.heavy``): one code costs several milliseconds of CPU, a roster's sheet
thousands of them."""

from __future__ import annotations

import io

import segno


def link_svg(url: str) -> bytes:
    """A link as a large standalone SVG QR code (the projector's, a questionnaire's)."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(
        buffer, kind="svg", scale=10, border=2, dark="#111", light="#fff", xmldecl=False
    )
    return buffer.getvalue()


def card_svg(url: str) -> str:
    """A link as a small SVG QR code to put inside a page (a member's voting card)."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(
        buffer, kind="svg", scale=4, border=1, xmldecl=False, svgns=True, omitsize=True
    )
    return buffer.getvalue().decode()


def card_svgs(urls: list[str]) -> list[str]:
    """``card_svg`` of each link, in order (one piece of work for a worker)."""
    return [card_svg(url) for url in urls]
