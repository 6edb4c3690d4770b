"""Command line: serve, db upgrade, facilitator add and password, token create, list and
revoke, recount, verify, demo."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

from cocreate.settings import Settings, describe

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from cocreate.models import Facilitator

WS_MAX_MESSAGE_BYTES = 4 * 1024  # uvicorn refuses bigger websocket frames with 1009
T = TypeVar("T")
MAX_ID = 2**31 - 1  # ids end here (models.MAX_ID): imported lazily, like the rest


def _settings_help() -> str:
    lines = ["Settings, read from the environment:", "", "\b"]  # \b: click keeps these lines
    for name, default, text in describe():
        lines += [f"{name}  (default: {default or 'unset'})", f"    {text}"]
    return "\n".join(lines)


@click.group(epilog=_settings_help(), context_settings={"max_content_width": 100})
@click.version_option(package_name="cocreate")
def main() -> None:
    """cocreate: live co-construction and democratic decisions."""


@dataclass(frozen=True)
class Reach:
    """Where `--lan` listens, the base of the links it prints, and what it says about it."""

    bind: str
    base: str
    notice: list[str]


def on_the_lan(settings: Settings, port: int) -> Reach:
    """Listen on the local network, links on this machine's address there (or on
    COCREATE_PUBLIC_URL when set); on this computer only when there is no network."""
    from cocreate.lan import ALL_INTERFACES, LOOPBACK, lan_address

    if settings.public_url:
        base = settings.public_url.rstrip("/")
        return Reach(
            ALL_INTERFACES,
            base,
            [
                f"  On every network of this computer, port {port}: anyone on them can reach it.",
                f"  Join links and QR codes use COCREATE_PUBLIC_URL: {base}",
            ],
        )
    address = lan_address()
    if address is None:
        base = f"http://{LOOPBACK}:{port}"
        return Reach(
            LOOPBACK,
            base,
            [
                "  No local network found (is this computer connected to the Wi-Fi?):",
                f"  serving on this computer only, at {base}; phones cannot join.",
                "  Connect to the room's network and start again.",
            ],
        )
    base = f"http://{address}:{port}"
    return Reach(
        ALL_INTERFACES,
        base,
        [
            f"  On the local network at {base}",
            "  Anyone on this network (the room's Wi-Fi) can reach it: phones join there.",
            "  Join links and QR codes use this address (set COCREATE_PUBLIC_URL for another).",
        ],
    )


LAN_HELP = (
    "Listen on the local network, and put this machine's address there in join links and "
    "QR codes (unless COCREATE_PUBLIC_URL is set): phones on the same Wi-Fi can join. "
    "What `make run` does."
)


@main.command()
@click.option("--host", default=None, help="Address to bind (default: COCREATE_HOST).")
@click.option("--port", default=None, type=int, help="Port (default: COCREATE_PORT).")
@click.option("--lan", is_flag=True, help=LAN_HELP)
@click.option("--reload", is_flag=True, help="Restart when the code changes (development).")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes; more than one needs COCREATE_PUBSUB_URL redis:// or postgresql://.",
)
def serve(host: str | None, port: int | None, lan: bool, reload: bool, workers: int) -> None:
    """Serve cocreate over HTTP and websockets (on this computer only, 127.0.0.1, unless
    --host, COCREATE_HOST or --lan say otherwise)."""
    import uvicorn

    settings = Settings.from_env()
    if workers > 1 and settings.pubsub_url.startswith("memory://"):
        raise click.UsageError(
            "with --workers above 1, processes must share live updates: "
            "set COCREATE_PUBSUB_URL to redis://… or postgresql://…"
        )
    if lan and host:
        raise click.UsageError("--lan chooses the address to listen on: leave --host out")
    port = port or settings.port
    bind = host or settings.host
    if lan:
        reach = on_the_lan(settings, port)
        click.echo("\n".join(["", *reach.notice, ""]))
        bind = reach.bind
        # The app, made by uvicorn (in this process or in each worker), reads it there.
        os.environ["COCREATE_PUBLIC_URL"] = reach.base
    # A server started for a room: its workers start with it, not with the first PDF.
    os.environ.setdefault("COCREATE_WARM_UP", "true")
    uvicorn.run(
        "cocreate.app:create_app",
        factory=True,
        host=bind,
        port=port,
        reload=reload,
        workers=workers,
        ws="websockets-sansio",
        ws_max_size=WS_MAX_MESSAGE_BYTES,
        ws_per_message_deflate=False,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        server_header=False,
    )


@main.group()
def db() -> None:
    """Database schema."""


@db.command()
def upgrade() -> None:
    """Apply every migration to the database (creates it if needed)."""
    from cocreate.migrate import upgrade as run_upgrade

    settings = Settings.from_env()
    run_upgrade(settings.database_url)
    click.echo("Database is up to date.")


@main.group()
def facilitator() -> None:
    """Facilitator accounts."""


@facilitator.command("add")
@click.argument("email")
@click.option("--name", prompt="Display name", help="Name shown to participants.")
@click.password_option(help="At least 10 characters (prompted when left out).")
def facilitator_add(email: str, name: str, password: str) -> None:
    """Create a facilitator account."""
    from cocreate import accounts
    from cocreate.database import Database
    from cocreate.errors import RuleError

    async def run() -> None:
        database = Database(Settings.from_env().database_url)
        try:
            async with database.session() as session:
                await accounts.add_facilitator(
                    db=session, email=email, display_name=name, password=password
                )
        finally:
            await database.dispose()

    try:
        asyncio.run(run())
    except RuleError as error:
        raise click.ClickException(error.message % error.params) from error
    click.echo(f"Facilitator {email} created.")


@facilitator.command("password")
@click.argument("email")
@click.password_option(help="At least 10 characters (prompted when left out).")
def facilitator_password(email: str, password: str) -> None:
    """Set a facilitator's password (a forgotten one, or one that leaked); every
    browser signed in to the account is signed out."""
    from cocreate import accounts
    from cocreate.models import key

    async def change(db: AsyncSession, account: Facilitator) -> int:
        password_hash = await accounts.new_password_hash(password)
        return await accounts.replace_password(
            db=db, facilitator_id=key(account), password_hash=password_hash
        )

    _with_facilitator(email, change)
    click.echo(f"Password of {email} changed; every browser signed in to it was signed out.")


@main.command()
@click.argument("ballot_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def recount(ballot_file: Path) -> None:
    """Recount a poll from its exported ballot file alone, and print the result.

    Exit status 1, with one line saying why, for a file that cannot be counted."""
    from cocreate.ballot_file import BallotFileError, count, read

    name = click.format_filename(ballot_file)
    try:
        data = ballot_file.read_bytes()
    except OSError as error:
        raise click.ClickException(f"{name}: cannot be read ({error.strerror})") from None
    try:
        checked = read(data)
        result = count(checked)
    except BallotFileError as error:
        raise click.ClickException(f"{name} is not a ballot file we can count: {error}") from None
    click.echo(f"Question : {checked.question}")
    click.echo(f"Method   : {result.method.value}")
    click.echo(f"Ballots  : {result.ballots}")
    click.echo(f"SHA-256  : {checked.sha256}")
    if result.adopted is not None:
        click.echo(f"Adopted  : {'yes' if result.adopted else 'no'}")
    for choice, value in result.counts.items():
        click.echo(f"  {choice:<12} {value}")
    if result.winners:
        click.echo("Winners  : " + ", ".join(checked.label(w) for w in result.winners))
    for bar in result.bars:
        if result.adopted is None:
            click.echo(f"  {checked.label(bar.key):<40} {bar.label}")
    for tie in result.ties:
        click.echo(f"Tie      : {', '.join(tie['options'])} settled by {tie['broken_by']}")
    click.echo(json.dumps(result.as_json(), sort_keys=True))


@main.command()
@click.argument("project", type=click.IntRange(1))
def verify(project: int) -> None:
    """Check the chain of seals of a project's decision register (PROJECT is its number);
    name the first entry that does not match and exit with 1 if one does not."""
    from cocreate.database import Database
    from cocreate.errors import RuleError
    from cocreate.register import Verification
    from cocreate.register import verify as check_register

    async def run() -> Verification:
        database = Database(Settings.from_env().database_url)
        try:
            async with database.session() as session:
                return await check_register(session, project)
        finally:
            await database.dispose()

    try:
        result = asyncio.run(run())
    except RuleError as error:
        raise click.ClickException(f"project {project}: " + error.message % error.params) from error
    if result.intact:
        click.echo(f"Project {project}: the register's {result.entries} entries are intact.")
        click.echo(f"Last seal: {result.head}")
        return
    which = f" (decision {result.decision_id})" if result.decision_id is not None else ""
    click.echo(f"Project {project}: entry {result.first_bad}{which} does not match.", err=True)
    click.echo(f"  {result.reason}", err=True)
    raise SystemExit(1)


@main.group()
def token() -> None:
    """API tokens: keys to the read-only JSON API (/api/v1/…) of a facilitator."""


def _with_facilitator(email: str, action: Callable[..., Awaitable[T]]) -> T:
    """Run ``action(db, facilitator)`` for the facilitator with this e-mail; a clean
    error when there is none, or when a rule refuses the action."""
    from cocreate import tokens
    from cocreate.database import Database
    from cocreate.errors import RuleError

    async def run() -> T:
        database = Database(Settings.from_env().database_url)
        try:
            async with database.session() as session:
                found = await tokens.facilitator_by_email(db=session, email=email)
                if found is None:
                    raise click.ClickException(f"no facilitator has the e-mail {email}")
                return await action(session, found)
        finally:
            await database.dispose()

    try:
        return asyncio.run(run())
    except RuleError as error:
        raise click.ClickException(error.message % error.params) from error


@token.command("create")
@click.argument("email")
@click.option("--name", required=True, help="What the token is for (a dashboard, a portal…).")
def token_create(email: str, name: str) -> None:
    """Make a token for the facilitator with this e-mail, and print it once."""
    from cocreate import tokens

    made = _with_facilitator(
        email, lambda db, facilitator: tokens.create(db=db, facilitator=facilitator, name=name)
    )
    click.echo(f"Token {made.token.id} ({made.token.name}) for {email}:")
    click.echo(made.secret)
    click.echo("Keep it now: it is stored only as a hash and will not be shown again.")
    click.echo("Send it as the header  Authorization: Bearer <token>")


@token.command("list")
@click.argument("email")
def token_list(email: str) -> None:
    """List the facilitator's tokens (never the tokens themselves: they are not kept)."""
    from cocreate import tokens
    from cocreate.models import iso_utc

    found = _with_facilitator(
        email, lambda db, facilitator: tokens.tokens_of(db=db, facilitator=facilitator)
    )
    if not found:
        click.echo(f"{email} has no API token.")
        return
    for row in found:
        used = iso_utc(row.last_used_at) if row.last_used_at else "never"
        state = f"revoked {iso_utc(row.revoked_at)}" if row.revoked_at else "active"
        click.echo(
            f"{row.id:>6}  {row.name}  created {iso_utc(row.created_at)}  last used {used}  {state}"
        )


@token.command("revoke")
@click.argument("email")
@click.argument("token_id", type=click.IntRange(1, MAX_ID))
def token_revoke(email: str, token_id: int) -> None:
    """Revoke one of the facilitator's tokens (TOKEN_ID as `token list` shows it)."""
    from cocreate import tokens

    _with_facilitator(
        email,
        lambda db, facilitator: tokens.revoke(db=db, facilitator=facilitator, token_id=token_id),
    )
    click.echo(f"Token {token_id} of {email} is revoked: it no longer opens the API.")


@main.command()
@click.option("--lan", is_flag=True, help="Print links on this machine's local network address.")
def demo(lan: bool) -> None:
    """Create (once) a demo facilitator, project and live session, and print how to use
    them, with a new password for the facilitator each time."""
    from cocreate.app import routes
    from cocreate.demo import ensure_demo
    from cocreate.urls import install, url

    install(routes)  # the links below are filled from the app's route table

    settings = Settings.from_env()
    details = asyncio.run(ensure_demo(settings.database_url))
    base = settings.public_url.rstrip("/") or f"http://{settings.host}:{settings.port}"
    notice: list[str] = []
    if lan:
        reach = on_the_lan(settings, settings.port)
        base, notice = reach.base, ["", *reach.notice]
    phone = url("participant_session", code=details.join_code)
    click.echo(
        "\n".join(
            [
                "",
                "  cocreate demo is ready",
                f"  Facilitator sign-in : {base}{url('login_page')}",
                f"      e-mail          : {details.email}",
                f"      password        : {details.password}",
                f"  Console             : {base}{url('console', session_id=details.session_id)}",
                f"  Join (phones)       : {base}{phone}   code {details.join_code}",
                f"  Projector           : {base}{url('screen', code=details.join_code)}",
                *notice,
                "",
            ]
        )
    )
