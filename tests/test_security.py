"""Cookies, headers and sign-in as a security reviewer would check them."""

from __future__ import annotations

from argon2 import PasswordHasher
from sqlmodel import select

from cocreate import accounts
from cocreate.models import Facilitator
from tests.conftest import PASSWORD, Browser, OpenSession, Server, signed_in


async def test_every_html_response_has_a_csp_without_inline_scripts(
    open_session: OpenSession,
) -> None:
    phone = await open_session.phone("Nour")
    for browser, path in (
        (phone, "/"),
        (phone, f"/s/{open_session.code}"),
        (phone, f"/s/{open_session.code}/screen"),
        (open_session.facilitator, f"/sessions/{open_session.session_id}/console"),
        (phone, "/nowhere"),
    ):
        response = await browser.get(path)
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert "unsafe-eval" not in policy
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "<script>" not in response.text
        assert " style=" not in response.text
        assert " on" + "click=" not in response.text


async def test_session_cookie_is_signed_httponly_and_samesite(server: Server) -> None:
    facilitator = await signed_in(server, "sam@example.org")
    try:
        browser = Browser(server)
        await browser.get("/login")
        response = await browser.post(
            "/login", {"email": "sam@example.org", "password": PASSWORD}, htmx=False
        )
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie
        assert "samesite=lax" in cookie
        assert "secure" not in cookie  # plain HTTP (development): a Secure one would be lost
        # Over HTTPS (here as a trusted proxy says it), the cookie is Secure.
        newcomer = Browser(server)
        over_https = await newcomer.http.get("/login", headers={"X-Forwarded-Proto": "https"})
        assert "; secure" in over_https.headers["set-cookie"].lower()
        await newcomer.close()
        # A tampered cookie is not a session.
        browser.http.cookies.set("cocreate", "forged." + "a" * 40)
        assert (await browser.get("/projects")).status_code == 303
        await browser.close()
    finally:
        await facilitator.close()


async def test_sign_in_errors_and_sign_out(server: Server) -> None:
    facilitator = await signed_in(server, "zoe@example.org")
    try:
        wrong = Browser(server)
        await wrong.get("/login")
        response = await wrong.post(
            "/login", {"email": "zoe@example.org", "password": "not it at all"}, htmx=False
        )
        assert response.status_code == 400
        assert "Wrong e-mail or password." in response.text
        unknown = await wrong.post(
            "/login", {"email": "nobody@example.org", "password": PASSWORD}, htmx=False
        )
        assert unknown.status_code == 400
        await wrong.close()

        assert (await facilitator.get("/projects")).status_code == 200
        out = await facilitator.post("/logout", htmx=False)
        assert out.status_code == 303
        assert (await facilitator.get("/projects")).status_code == 303
    finally:
        await facilitator.close()


async def test_login_only_redirects_inside_the_site(server: Server) -> None:
    facilitator = await signed_in(server, "max@example.org")
    try:
        browser = Browser(server)
        await browser.get("/login")
        response = await browser.post(
            "/login",
            {"email": "max@example.org", "password": PASSWORD, "next": "https://evil.example"},
            htmx=False,
        )
        assert response.headers["location"] == "/projects"
        await browser.close()
    finally:
        await facilitator.close()


async def stored_facilitator(server: Server, email: str) -> Facilitator:
    async with server.db.session() as db:
        return (await db.exec(select(Facilitator).where(Facilitator.email == email))).one()


async def test_signing_in_upgrades_a_hash_made_with_weaker_settings(server: Server) -> None:
    """A hash from older, weaker Argon2 settings is replaced at the next sign-in (through
    the writer), and the password still works."""
    await (await signed_in(server, "ines@example.org")).close()
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, hash_len=16)
    ines = await stored_facilitator(server, "ines@example.org")
    ines.password_hash = old_hash = weak.hash(PASSWORD)
    async with server.db.session() as db:
        db.add(ines)
        await db.commit()
    assert accounts.needs_rehash(await stored_facilitator(server, "ines@example.org"))
    again = Browser(server)
    try:
        await again.get("/login")
        signed = await again.post(
            "/login", {"email": "ines@example.org", "password": PASSWORD}, htmx=False
        )
        assert signed.status_code == 303
    finally:
        await again.close()
    ines = await stored_facilitator(server, "ines@example.org")
    assert ines.password_hash != old_hash
    assert not accounts.needs_rehash(ines)
    assert accounts._verify(ines.password_hash, PASSWORD)
