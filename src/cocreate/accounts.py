"""Facilitator accounts: Argon2 password hashes, sign-in, sign-out everywhere.

A facilitator's cookie carries their account's session version; signing out and
changing the password add one to it, so every cookie issued before stops working."""

from __future__ import annotations

import asyncio
import functools

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cocreate.errors import Conflict, Invalid
from cocreate.i18n import N_
from cocreate.models import MAX_EMAIL_CHARS, MAX_NAME_CHARS, Facilitator

MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 200
_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified when the e-mail is unknown, so a wrong e-mail takes as long as a wrong
    password. Made at the first sign-in, not on import: hashing takes a tenth of a
    second, which every command and worker process would pay for nothing; the server
    makes it as it starts (``prepare``), so the first sign-in takes no longer."""
    return _hasher.hash("not a password of anyone")


def prepare() -> None:
    """Make what sign-in needs before the first one (the server's start, in a thread)."""
    _dummy_hash()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _check_new_password(password: str) -> None:
    if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        raise Invalid(
            N_("The password needs %(min)d to %(max)d characters."),
            min=MIN_PASSWORD_CHARS,
            max=MAX_PASSWORD_CHARS,
        )


def _clean_email(email: str) -> str:
    email = email.strip().lower()
    if not (3 <= len(email) <= MAX_EMAIL_CHARS) or "@" not in email:
        raise Invalid(N_("Enter a valid e-mail address."))
    return email


async def add_facilitator(
    *, db: AsyncSession, email: str, display_name: str, password: str
) -> Facilitator:
    email = _clean_email(email)
    display_name = display_name.strip()
    if not display_name or len(display_name) > MAX_NAME_CHARS:
        raise Invalid(N_("A name of 1 to %(max)d characters is needed."), max=MAX_NAME_CHARS)
    _check_new_password(password)
    existing = await db.exec(select(Facilitator).where(Facilitator.email == email))
    if existing.first() is not None:
        raise Conflict(N_("A facilitator with this e-mail already exists."))
    facilitator = Facilitator(
        email=email,
        display_name=display_name,
        password_hash=await asyncio.to_thread(hash_password, password),
    )
    db.add(facilitator)
    await db.commit()
    await db.refresh(facilitator)
    return facilitator


async def authenticate(*, db: AsyncSession, email: str, password: str) -> Facilitator | None:
    """The facilitator with these credentials, or None (the same delay either way)."""
    if len(password) > MAX_PASSWORD_CHARS:
        return None
    result = await db.exec(select(Facilitator).where(Facilitator.email == email.strip().lower()))
    facilitator = result.first()
    stored = facilitator.password_hash if facilitator else _dummy_hash()
    # Argon2 takes tens of milliseconds of CPU on purpose: keep it off the event loop.
    if not await asyncio.to_thread(_verify, stored, password):
        return None
    return facilitator


def needs_rehash(facilitator: Facilitator) -> bool:
    """True when the stored hash was made with weaker settings than today's."""
    return _hasher.check_needs_rehash(facilitator.password_hash)


async def store_hash(*, db: AsyncSession, facilitator_id: int, password_hash: str) -> None:
    facilitator = await db.get(Facilitator, facilitator_id)
    if facilitator is not None:
        facilitator.password_hash = password_hash
        db.add(facilitator)
        await db.commit()


async def password_is(facilitator: Facilitator, password: str) -> bool:
    """Whether this is the facilitator's password (checked in a thread)."""
    if len(password) > MAX_PASSWORD_CHARS:
        return False
    return await asyncio.to_thread(_verify, facilitator.password_hash, password)


async def new_password_hash(password: str, repeated: str | None = None) -> str:
    """The hash of an acceptable new password (made in a thread), or Invalid."""
    _check_new_password(password)
    if repeated is not None and repeated != password:
        raise Invalid(N_("The two new passwords differ."))
    return await asyncio.to_thread(hash_password, password)


async def replace_password(
    *, db: AsyncSession, facilitator_id: int, password_hash: str, replaced: str | None = None
) -> int:
    """Store a new password hash and revoke every session of the account; the new
    session version. ``replaced``: the hash the change was asked against — should
    another change have come first, this one is refused (Conflict)."""
    stored = col(Facilitator.password_hash)
    changed = await db.exec(
        sa.update(Facilitator)
        .where(col(Facilitator.id) == facilitator_id)
        .where(sa.true() if replaced is None else stored == replaced)
        .values(
            password_hash=password_hash,
            session_version=col(Facilitator.session_version) + 1,
        )
        .returning(col(Facilitator.session_version))
    )
    version = changed.scalar_one_or_none()
    if version is None:
        raise Conflict(N_("The password was changed meanwhile. Sign in again."))
    await db.commit()
    return int(version)


async def revoke_sessions(*, db: AsyncSession, facilitator_id: int) -> None:
    """Sign the account out everywhere: every cookie issued until now stops working."""
    await db.exec(
        sa.update(Facilitator)
        .where(col(Facilitator.id) == facilitator_id)
        .values(session_version=col(Facilitator.session_version) + 1)
    )
    await db.commit()
