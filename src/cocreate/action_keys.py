"""An action sent twice counts once: the key a phone gives each of its actions.

A phone on a bad network sends again what got no answer, and a thumb taps twice. Each
action a phone takes (joining, a need, a proposal, a comment) carries a key the phone
made (an idempotency key, ``action_key`` in the form). The write that performs the
action first claims its key in the same transaction; a key claimed already means the
action is stored already, and the write does nothing but answer as the first did. The
claim is a row of its own with a unique key, inserted with "on conflict do nothing":
two processes sending the same key at once (PostgreSQL, several workers) store it once,
and a key outlives a restart.

Only a digest of the key is stored: the key brings a phone back to the participant it
joined as, so a copy of the database must not give the keys.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from cocreate.database import core
from cocreate.errors import Conflict, Invalid
from cocreate.i18n import N_
from cocreate.models import ActionKey, utcnow

FIELD = "action_key"  # the form field a phone's action carries it in
# What a phone makes: 128 random bits or more, base64url or hexadecimal.
_KEY = re.compile(r"[A-Za-z0-9_-]{22,64}")


def parse(raw: str) -> str | None:
    """The key of a form (None: an action without one, as a plain form sends)."""
    if raw == "":
        return None
    if not _KEY.fullmatch(raw):
        raise Invalid(N_("This action's key is not valid: reload the page and try again."))
    return raw


def digest(action_key: str) -> str:
    return hashlib.sha256(action_key.encode()).hexdigest()


@dataclass(frozen=True)
class Claim:
    """A key claimed by a write: ``first`` if this write is the action's first."""

    session_id: int
    digest: str
    first: bool
    participant_id: int | None  # who took the action (for a join: who it made)
    subject_id: int | None  # what it made (a proposal, a need, a comment)


def _insert(dialect: str) -> sa.Insert:
    unique = ["session_id", "digest"]
    if dialect == "postgresql":
        return postgresql.insert(ActionKey).on_conflict_do_nothing(index_elements=unique)
    return sqlite.insert(ActionKey).on_conflict_do_nothing(index_elements=unique)


async def claim(
    db: AsyncSession, *, session_id: int, action_key: str, participant_id: int | None
) -> Claim:
    """Claim ``action_key`` for an action in the session, in the write's transaction.

    Not the first time: the earlier claim, whose action is stored. A key another phone's
    action claimed (a key copied, not a retry) is refused."""
    hashed = digest(action_key)
    dialect = db.sync_session.get_bind().dialect.name
    inserted = await core(
        db,
        _insert(dialect)
        .values(
            session_id=session_id,
            digest=hashed,
            participant_id=participant_id,
            created_at=utcnow(),
        )
        .returning(col(ActionKey.digest)),
    )
    if inserted.first() is not None:
        return Claim(session_id, hashed, True, participant_id, None)
    row = (
        await core(
            db,
            sa.select(col(ActionKey.participant_id), col(ActionKey.subject_id)).where(
                col(ActionKey.session_id) == session_id, col(ActionKey.digest) == hashed
            ),
        )
    ).one()
    if participant_id is not None and row.participant_id not in (None, participant_id):
        raise Conflict(N_("This action was sent from another phone: reload the page."))
    return Claim(session_id, hashed, False, row.participant_id, row.subject_id)


async def settle(
    db: AsyncSession,
    claim: Claim,
    *,
    participant_id: int | None = None,
    subject_id: int | None = None,
) -> None:
    """Write down what the action claimed made: a retry is answered with it."""
    values: dict[str, int | None] = {"subject_id": subject_id}
    if participant_id is not None:
        values["participant_id"] = participant_id
    await core(
        db,
        sa.update(ActionKey)
        .where(
            col(ActionKey.session_id) == claim.session_id,
            col(ActionKey.digest) == claim.digest,
        )
        .values(**values),
    )
