"""A facilitator's account: signing out and changing the password revoke every cookie
issued before, on every browser and every copy of it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import websockets
from click.testing import CliRunner
from sqlmodel import select

from cocreate.cli import main
from cocreate.models import Facilitator, Project
from tests.browsing import ARTIFACTS, LIVE_MS, NEEDS_CHROMIUM, axe_problems
from tests.conftest import ONCE, PASSWORD, Browser, OpenSession, Server, signed_in

NEW_PASSWORD = "a new and longer password"


def copy_of(browser: Browser) -> Browser:
    """Another device holding a saved copy of this browser's cookie (and its CSRF token):
    what a thief of the cookie, or a forgotten tab, would have."""
    thief = Browser(browser.server)
    for cookie in browser.http.cookies.jar:
        thief.http.cookies.set(cookie.name, cookie.value)
    thief.csrf = browser.csrf
    return thief


async def shut_out(browser: Browser, open_session: OpenSession) -> None:
    """Nothing of the facilitator's opens for this browser: pages send it to sign in,
    forms are refused and change nothing, the console's socket is closed."""
    for path in ("/projects", f"/projects/{open_session.project_id}", "/account/password"):
        page = await browser.get(path)
        assert page.status_code == 303, path
        assert page.headers["location"].startswith("/login?next="), path
    console = await browser.get(f"/sessions/{open_session.session_id}/console")
    assert console.status_code == 303
    created = await browser.post("/projects", {"title": "Intrus", "need": "Rien"}, htmx=False)
    assert created.status_code == 403
    async with open_session.server.db.session() as db:
        titles = [p.title for p in (await db.exec(select(Project))).all()]
    assert "Intrus" not in titles

    async def open_and_listen() -> None:
        socket = await browser.socket(open_session.code, "console")  # its hello may be refused
        await asyncio.wait_for(socket.ws.recv(), 5)

    with pytest.raises(websockets.ConnectionClosed) as closed:
        await open_and_listen()
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1008, "not allowed")


@pytest.mark.wire
async def test_a_cookie_saved_before_sign_out_opens_nothing_after_it(
    open_session: OpenSession,
) -> None:
    laptop = open_session.facilitator
    phone = Browser(open_session.server)  # the same facilitator, signed in on a second browser
    open_session.devices.append(phone)
    await phone.get("/login")
    signed = await phone.post(
        "/login", {"email": "camille@example.org", "password": PASSWORD}, htmx=False
    )
    assert signed.status_code == 303
    saved = copy_of(laptop)
    open_session.devices.append(saved)
    # Before signing out, the copy is as good as the original: the test can fail.
    assert (await saved.get(f"/projects/{open_session.project_id}")).status_code == 200
    console = await saved.socket(open_session.code, "console")
    assert 'id="live-seq"' in await console.until_text('id="live-seq"')
    await console.close()

    out = await laptop.post("/logout", htmx=False)
    assert out.status_code == 303
    await shut_out(saved, open_session)
    await shut_out(phone, open_session)  # signed in elsewhere before: signed out too
    await shut_out(laptop, open_session)
    # Signing in again works, and the new cookie opens the projects.
    await laptop.get("/login")
    again = await laptop.post(
        "/login", {"email": "camille@example.org", "password": PASSWORD}, htmx=False
    )
    assert again.status_code == 303
    assert (await laptop.get(f"/projects/{open_session.project_id}")).status_code == 200
    await shut_out(saved, open_session)  # the old copy stays dead


async def test_a_signed_out_cookie_cannot_sign_the_account_out_again(
    open_session: OpenSession,
) -> None:
    """Only a current cookie revokes: a stale copy posting /logout changes nothing for
    the facilitator who signed in since."""
    saved = copy_of(open_session.facilitator)
    open_session.devices.append(saved)
    await open_session.facilitator.post("/logout", htmx=False)
    await open_session.facilitator.get("/login")
    await open_session.facilitator.post(
        "/login", {"email": "camille@example.org", "password": PASSWORD}, htmx=False
    )
    await saved.post("/logout", htmx=False)
    assert (await open_session.facilitator.get("/projects")).status_code == 200


@pytest.mark.wire
async def test_changing_the_password_signs_out_every_other_cookie(
    open_session: OpenSession,
) -> None:
    laptop = open_session.facilitator
    saved = copy_of(laptop)
    open_session.devices.append(saved)
    assert (await saved.get("/projects")).status_code == 200
    page = await laptop.get("/projects")
    assert 'href="/account/password"' in page.text
    form = await laptop.get("/account/password")
    assert form.status_code == 200
    assert 'autocomplete="current-password"' in form.text

    async def change(current: str, new: str, repeat: str | None = None) -> str:
        answer = await laptop.post(
            "/account/password",
            {"current_password": current, "new_password": new, "repeat_password": repeat or new},
            htmx=False,
        )
        return f"{answer.status_code} {answer.headers.get('location', '')}{answer.text}"

    # Refused, each with its reason, and nothing changes.
    assert (await change("not my password", NEW_PASSWORD)).startswith("400 ")
    assert "The current password is wrong." in await change("not my password", NEW_PASSWORD)
    short = await change(PASSWORD, "short")
    assert short.startswith("422 ")
    assert "The password needs 10 to 200 characters." in short
    differ = await change(PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "!")
    assert differ.startswith("422 ")
    assert "The two new passwords differ." in differ
    assert (await saved.get("/projects")).status_code == 200

    changed = await change(PASSWORD, NEW_PASSWORD)
    assert changed.startswith("303 /account/password?changed=1")
    done = await laptop.get("/account/password?changed=1")
    assert "Your password was changed." in done.text
    # This browser stays signed in; every cookie from before the change is dead.
    assert (await laptop.get(f"/projects/{open_session.project_id}")).status_code == 200
    await shut_out(saved, open_session)
    # The old password no longer opens the account; the new one does.
    visitor = Browser(open_session.server)
    open_session.devices.append(visitor)
    await visitor.get("/login")
    old = await visitor.post(
        "/login", {"email": "camille@example.org", "password": PASSWORD}, htmx=False
    )
    assert old.status_code == 400
    new = await visitor.post(
        "/login", {"email": "camille@example.org", "password": NEW_PASSWORD}, htmx=False
    )
    assert new.status_code == 303


async def test_the_current_password_is_guessed_no_faster_than_at_sign_in(
    open_session: OpenSession,
) -> None:
    """A borrowed cookie is no way around the sign-in limits to learn the password."""
    answers = []
    for n in range(6):
        answer = await open_session.facilitator.post(
            "/account/password",
            {"current_password": f"guess {n}", "new_password": NEW_PASSWORD},
            htmx=False,
        )
        answers.append(answer.status_code)
    assert answers == [400, 400, 400, 400, 400, 429]


async def test_facilitator_password_on_the_command_line_signs_out_every_browser(
    server: Server,
) -> None:
    laptop = await signed_in(server, "lea@example.org")
    try:
        assert (await laptop.get("/projects")).status_code == 200
        env = {"COCREATE_DATABASE_URL": server.database_url}
        result = await asyncio.to_thread(
            CliRunner().invoke,
            main,
            ["facilitator", "password", "lea@example.org"],
            input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n",
            env=env,
        )
        assert result.exit_code == 0, result.output
        assert "every browser signed in to it was signed out" in result.output
        assert (await laptop.get("/projects")).status_code == 303
        await laptop.get("/login")
        signed = await laptop.post(
            "/login", {"email": "lea@example.org", "password": NEW_PASSWORD}, htmx=False
        )
        assert signed.status_code == 303
        short = await asyncio.to_thread(
            CliRunner().invoke,
            main,
            ["facilitator", "password", "lea@example.org", "--password", "court"],
            env=env,
        )
        assert short.exit_code == 1
        assert "10 to 200 characters" in short.output
        nobody = await asyncio.to_thread(
            CliRunner().invoke,
            main,
            ["facilitator", "password", "nobody@example.org", "--password", NEW_PASSWORD],
            env=env,
        )
        assert nobody.exit_code == 1
        assert "no facilitator has the e-mail nobody@example.org" in nobody.output
    finally:
        await laptop.close()
    async with server.db.session() as db:
        lea = (await db.exec(select(Facilitator))).one()
    assert lea.session_version == 1


@pytest.mark.browser
@NEEDS_CHROMIUM
@ONCE
async def test_a_phone_changes_the_password_without_javascript(
    browser: Any, server: Server
) -> None:
    """The account's page on a 360 px phone with JavaScript off: labelled fields, no
    barrier axe finds, the change done by the plain form."""
    await (await signed_in(server, "lea@example.org")).close()
    context = await browser.new_context(
        viewport={"width": 360, "height": 640}, java_script_enabled=False, locale="fr-FR"
    )
    page = await context.new_page()
    try:
        await page.goto(f"{server.base_url}/login")
        await page.fill("#email", "lea@example.org")
        await page.fill("#password", PASSWORD)
        await page.click("button.primary")
        await page.wait_for_url(f"{server.base_url}/projects", timeout=LIVE_MS)
        await page.click("a[href='/account/password']")
        await page.fill("#current_password", PASSWORD)
        await page.fill("#new_password", NEW_PASSWORD)
        await page.fill("#repeat_password", NEW_PASSWORD)
        await page.click("button.primary")
        await page.wait_for_url("**/account/password?changed=1", timeout=LIVE_MS)
        assert "Votre mot de passe a été changé." in await page.inner_text("main")
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"the page is {width} px wide"
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "account-password-phone.png"), full_page=True)
    finally:
        await context.close()
    # axe needs JavaScript: the same page, looked at with it.
    context = await browser.new_context(viewport={"width": 360, "height": 640}, locale="fr-FR")
    page = await context.new_page()
    try:
        await page.goto(f"{server.base_url}/login")
        await page.fill("#email", "lea@example.org")
        await page.fill("#password", NEW_PASSWORD)
        await page.click("button.primary")
        await page.wait_for_url(f"{server.base_url}/projects", timeout=LIVE_MS)
        await page.goto(f"{server.base_url}/account/password")
        assert await axe_problems(page) == []
    finally:
        await context.close()
