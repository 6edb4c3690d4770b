"""Static files as a phone on a slow network should get them: linked by names carrying a
digest of their content and kept a year, sent compressed, asked again only when changed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cocreate.assets import IMMUTABLE, REVALIDATE, Assets
from cocreate.resources import resource_dir
from cocreate.urls import static
from tests.conftest import OpenSession


async def test_pages_link_static_files_by_their_digest_and_get_them_compressed(
    open_session: OpenSession,
) -> None:
    phone = await open_session.phone("Awa")
    page = (await phone.get(f"/s/{open_session.code}")).text
    linked = re.findall(r'(?:src|href)="(/static/[^"]+)"', page)
    assert static("js/cocreate.js") in linked
    assert all(re.search(r"\.[0-9a-f]{12}\.\w+$", path) for path in linked), linked
    source = (resource_dir("static") / "js" / "cocreate.js").read_bytes()
    for offer, encoding in (
        ("gzip, deflate, br", "br"),
        ("gzip", "gzip"),
        ("identity", None),
        ("br;q=0, gzip;q=0.5", "gzip"),
    ):
        answer = await phone.http.get(static("js/cocreate.js"), headers={"Accept-Encoding": offer})
        assert answer.status_code == 200
        assert answer.headers.get("content-encoding") == encoding, offer
        assert answer.headers["cache-control"] == IMMUTABLE
        assert "Accept-Encoding" in answer.headers["vary"]
        assert answer.content == source, offer  # as the client decoded it
        sent = int(answer.headers["content-length"])
        assert sent < len(source) / 2 if encoding else sent == len(source), (offer, sent)
    again = await phone.http.get(
        static("js/cocreate.js"), headers={"If-None-Match": answer.headers["etag"]}
    )
    assert again.status_code == 304
    assert again.content == b""


async def test_a_file_asked_by_its_plain_name_is_checked_again_at_each_use(
    open_session: OpenSession,
) -> None:
    visitor = open_session.facilitator
    plain = await visitor.http.get("/static/css/cocreate.css")
    assert plain.status_code == 200
    assert plain.headers["cache-control"] == REVALIDATE
    assert plain.headers["content-type"].startswith("text/css")
    for wrong in (
        "/static/css/nothing.css",
        "/static/../pyproject.toml",
        "/static/%2e%2e/pyproject.toml",
        "/static/css/cocreate.000000000000.css",
    ):
        assert (await visitor.http.get(wrong)).status_code == 404, wrong
    posted = await visitor.http.post("/static/css/cocreate.css")
    assert posted.status_code == 405


def test_a_changed_file_gets_a_new_name(tmp_path: Path) -> None:
    (tmp_path / "js").mkdir()
    script = tmp_path / "js" / "app.js"
    script.write_text("console.log(1);\n")
    before = Assets(tmp_path).address("js/app.js")
    script.write_text("console.log(2);\n")
    after = Assets(tmp_path).address("js/app.js")
    assert before != after
    assert re.fullmatch(r"js/app\.[0-9a-f]{12}\.js", after)
    assert Assets(tmp_path).address("js/unknown.js") == "js/unknown.js"


@pytest.mark.parametrize("name", ["css/cocreate.css", "js/cocreate.js", "icons/cocreate.svg"])
def test_the_minutes_pdf_reads_static_files_by_either_name(name: str) -> None:
    from cocreate import pdf

    addressed = static(name)
    body, media_type = pdf.static_file(f"{pdf.BASE_URL.rstrip('/')}{addressed}")
    assert body == (resource_dir("static") / name).read_bytes()
    plain, _ = pdf.static_file(f"{pdf.BASE_URL.rstrip('/')}/static/{name}")
    assert plain == body
    assert "/" in media_type


async def test_pages_go_compressed_each_with_its_token_masked_afresh(
    open_session: OpenSession,
) -> None:
    """A page is sent gzip-compressed to a browser that takes it; the CSRF token in it
    differs from one answer to the next (nothing constant for BREACH to guess), and each
    of them is taken back by the server."""
    phone = await open_session.phone("Awa")
    code = open_session.code
    pages = [
        await phone.http.get(f"/s/{code}", headers={"Accept-Encoding": "gzip"}) for _ in range(3)
    ]
    tokens = []
    for page in pages:
        assert page.headers["content-encoding"] == "gzip"
        assert "Accept-Encoding" in page.headers["vary"]
        assert int(page.headers["content-length"]) < len(page.content) / 2
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert found is not None
        tokens.append(found.group(1))
    assert len(set(tokens)) == 3
    for n, token in enumerate(tokens):
        sent = await phone.http.post(
            f"/s/{code}/proposals",
            data={"text": f"Idée {n}", "csrf_token": token},
            headers={"HX-Request": "true"},
        )
        assert sent.status_code == 200, sent.text
    tampered = tokens[0][:-2] + ("AA" if not tokens[0].endswith("AA") else "BB")
    refused = await phone.http.post(
        f"/s/{code}/proposals",
        data={"text": "Idée volée", "csrf_token": tampered},
        headers={"HX-Request": "true"},
    )
    assert refused.status_code == 403
    plain = await phone.http.get(f"/s/{code}", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
