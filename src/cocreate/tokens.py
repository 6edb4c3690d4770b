"""API tokens: a facilitator's key to the read-only API (``/api/v1/…``).

A token is a random secret shown once, when it is made; only its SHA-256 is stored, so
a copy of the database lets nobody call the API. The secret carries a prefix (``cc_``)
so that one pasted where it should not be (a repository, a chat) is recognised by
secret scanners and by people. Looking a token up by its hash is safe against timing:
what an attacker could learn from the index is a prefix of a hash, not of a secret.

A token reads what its facilitator may read, nothing more, until it is revoked; a
revoked token is kept (with ``revoked_at``) so the list shows every token ever made.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cocreate.errors import Conflict, Invalid, NotFound
from cocreate.i18n import N_
from cocreate.models import MAX_TOKEN_NAME_CHARS, ApiToken, Facilitator, key, utcnow

TOKEN_PREFIX = "cc_"  # noqa: S105 - the mark of our tokens, not a secret
TOKEN_BYTES = 32  # 256 random bits: 43 characters of URL-safe base64
# Anything longer is no token of ours: refused before hashing.
MAX_TOKEN_CHARS = 200
# ``last_used_at`` is written at most this often per token: a script polling the API
# every second must not turn each read into a write.
LAST_USED_RESOLUTION = timedelta(seconds=60)


@dataclass(frozen=True)
class NewToken:
    """A token just made: its row, and the secret, which exists nowhere else."""

    token: ApiToken
    secret: str


def digest(secret: str) -> str:
    """What is stored of a token: the hex SHA-256 of the whole secret, prefix included."""
    return hashlib.sha256(secret.encode()).hexdigest()


def looks_like_token(secret: str) -> bool:
    """Ours by its shape: the prefix, then URL-safe base64, within bounds."""
    body = secret.removeprefix(TOKEN_PREFIX)
    return (
        secret.startswith(TOKEN_PREFIX)
        and len(secret) <= MAX_TOKEN_CHARS
        and body.isascii()
        and body != ""
        and all(ch.isalnum() or ch in "-_" for ch in body)
    )


async def facilitator_by_email(*, db: AsyncSession, email: str) -> Facilitator | None:
    result = await db.exec(select(Facilitator).where(Facilitator.email == email.strip().lower()))
    return result.first()


async def create(*, db: AsyncSession, facilitator: Facilitator, name: str) -> NewToken:
    """Make a token for the facilitator; the name says what it is for (a dashboard…)."""
    name = name.strip()
    if not name or len(name) > MAX_TOKEN_NAME_CHARS:
        raise Invalid(N_("A name of 1 to %(max)d characters is needed."), max=MAX_TOKEN_NAME_CHARS)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    token = ApiToken(facilitator_id=key(facilitator), name=name, token_sha256=digest(secret))
    db.add(token)
    await db.commit()
    await db.refresh(token)
    return NewToken(token=token, secret=secret)


async def tokens_of(*, db: AsyncSession, facilitator: Facilitator) -> list[ApiToken]:
    """Every token the facilitator ever made, revoked ones included, oldest first."""
    result = await db.exec(
        select(ApiToken)
        .where(ApiToken.facilitator_id == key(facilitator))
        .order_by(col(ApiToken.id))
    )
    return list(result.all())


async def revoke(*, db: AsyncSession, facilitator: Facilitator, token_id: int) -> ApiToken:
    """Revoke one of the facilitator's tokens: NotFound for another's (or none)."""
    token = await db.get(ApiToken, token_id)
    if token is None or token.facilitator_id != key(facilitator):
        raise NotFound("This facilitator has no token with this number.")
    if token.revoked_at is not None:
        raise Conflict("This token was already revoked.")
    token.revoked_at = utcnow()
    db.add(token)
    await db.commit()
    await db.refresh(token)
    return token


@dataclass(frozen=True)
class Bearer:
    """Who is calling the API, and with which token."""

    facilitator: Facilitator
    token: ApiToken

    def needs_touch(self, now: datetime) -> bool:
        """True when ``last_used_at`` is older than its resolution (or never set)."""
        used = self.token.last_used_at
        return used is None or now - used >= LAST_USED_RESOLUTION


async def bearer(*, db: AsyncSession, secret: str) -> Bearer | None:
    """The facilitator a token stands for, or None: unknown, malformed or revoked."""
    if not looks_like_token(secret):
        return None
    row = (
        await db.exec(
            select(ApiToken, Facilitator)
            .join(Facilitator, col(Facilitator.id) == col(ApiToken.facilitator_id))
            .where(ApiToken.token_sha256 == digest(secret), col(ApiToken.revoked_at).is_(None))
        )
    ).first()
    if row is None:
        return None
    token, facilitator = row
    return Bearer(facilitator=facilitator, token=token)


async def touch(*, db: AsyncSession, token_id: int, now: datetime) -> None:
    """Note that a token was used now, unless that was noted less than a resolution ago
    (checked again in the statement: two requests at once write it once)."""
    await db.exec(
        sa.update(ApiToken)
        .where(
            col(ApiToken.id) == token_id,
            sa.or_(
                col(ApiToken.last_used_at).is_(None),
                col(ApiToken.last_used_at) <= now - LAST_USED_RESOLUTION,
            ),
        )
        .values(last_used_at=now)
    )
    await db.commit()
