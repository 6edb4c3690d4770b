"""Projects and their sessions: creating and listing them, opening and closing a
session, publishing a project's decisions, and finding a session by its join code.

Closing a session is the one change here that live screens hear of: it writes its event
to the journal (``journal.py``) in the same transaction.

Authorization lives here: every function that acts for a facilitator checks that the
project is theirs, whatever the page showed.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cocreate.database import core
from cocreate.errors import Conflict, Forbidden, Invalid, NotFound, UnknownCode
from cocreate.events import SessionClosed, SessionReopened
from cocreate.i18n import N_
from cocreate.journal import record_event, session_change
from cocreate.models import (
    JOIN_CODE_LENGTH,
    MAX_NEED_CHARS,
    MAX_PLACE_CHARS,
    MAX_TERRITORY_CHARS,
    MAX_TITLE_CHARS,
    Facilitator,
    Project,
    Session,
    utcnow,
)

# No look-alikes: no 0/O, 1/I/L, and no U/V pair, so a code read aloud or from the back
# of a room is typed right.
JOIN_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTWXYZ23456789"


def new_join_code() -> str:
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))


def normalize_join_code(raw: str) -> str:
    """What a participant typed, as a code: spaces and dashes dropped, upper case."""
    return "".join(ch for ch in raw.upper() if ch.isalnum())[: JOIN_CODE_LENGTH * 2]


def _text(value: str, *, field: str, max_chars: int, required: bool) -> str:
    value = value.strip()
    if required and not value:
        raise Invalid(N_("%(field)s cannot be empty."), field=field)
    if len(value) > max_chars:
        raise Invalid(
            N_("%(field)s is too long: at most %(max)d characters."), field=field, max=max_chars
        )
    return value


async def create_project(
    *, db: AsyncSession, owner: Facilitator, title: str, need: str, territory: str
) -> Project:
    assert owner.id is not None
    project = Project(
        owner_id=owner.id,
        title=_text(title, field=N_("Title"), max_chars=MAX_TITLE_CHARS, required=True),
        need=_text(need, field=N_("Social need"), max_chars=MAX_NEED_CHARS, required=True),
        territory=_text(
            territory, field=N_("Territory"), max_chars=MAX_TERRITORY_CHARS, required=False
        ),
    )
    db.add(project)
    await db.commit()
    await db.refresh(project)
    return project


async def projects_of(*, db: AsyncSession, owner: Facilitator) -> list[Project]:
    result = await db.exec(
        select(Project).where(Project.owner_id == owner.id).order_by(col(Project.id).desc())
    )
    return list(result.all())


async def project_for(*, db: AsyncSession, facilitator: Facilitator, project_id: int) -> Project:
    """The project if this facilitator runs it; 404 if unknown, 403 if someone else's."""
    project = await db.get(Project, project_id)
    if project is None:
        raise NotFound(N_("This project does not exist."))
    if project.owner_id != facilitator.id:
        raise Forbidden(N_("This project is run by another facilitator."))
    return project


async def session_for(
    *, db: AsyncSession, facilitator: Facilitator, session_id: int
) -> tuple[Session, Project]:
    session = await db.get(Session, session_id)
    if session is None:
        raise NotFound(N_("This session does not exist."))
    project = await project_for(db=db, facilitator=facilitator, project_id=session.project_id)
    return session, project


async def sessions_of(*, db: AsyncSession, project: Project) -> list[Session]:
    result = await db.exec(
        select(Session).where(Session.project_id == project.id).order_by(col(Session.id).desc())
    )
    return list(result.all())


async def create_session(
    *, db: AsyncSession, facilitator: Facilitator, project_id: int, title: str, place: str = ""
) -> Session:
    project = await project_for(db=db, facilitator=facilitator, project_id=project_id)
    assert project.id is not None
    session = Session(
        project_id=project.id,
        title=_text(title, field=N_("Title"), max_chars=MAX_TITLE_CHARS, required=True),
        place=_text(place, field=N_("Place"), max_chars=MAX_PLACE_CHARS, required=False),
    )
    db.add(session)
    await db.commit()
    await db.refresh(session)
    return session


async def open_session(*, db: AsyncSession, facilitator: Facilitator, session_id: int) -> Session:
    """Open the session to participants under a fresh, unique join code."""
    session, _ = await session_for(db=db, facilitator=facilitator, session_id=session_id)
    if session.closed_at is not None:
        raise Conflict(N_("This session is closed; create a new one."))
    if session.opened_at is not None:
        return session
    for _ in range(20):
        code = new_join_code()
        taken = await db.exec(select(Session.id).where(Session.join_code == code))
        if taken.first() is None:
            break
    else:  # pragma: no cover - 29**6 codes; twenty collisions in a row do not happen
        raise Conflict(N_("No join code is free; try again."))
    session.join_code = code
    session.opened_at = utcnow()
    db.add(session)
    await db.commit()
    await db.refresh(session)
    return session


async def close_session(
    *, db: AsyncSession, facilitator: Facilitator, session_id: int
) -> SessionClosed:
    await session_for(db=db, facilitator=facilitator, session_id=session_id)
    async with session_change(db, session_id) as (session, seq):
        if session.opened_at is None:
            raise Conflict(N_("This session was never opened."))
        if session.closed_at is not None:
            raise Conflict(N_("This session is already closed."))
        session.closed_at = utcnow()
        db.add(session)
        return await record_event(db, session_id, seq, SessionClosed, session_id)


def reopenable(session: Session, zone: ZoneInfo, now: datetime | None = None) -> bool:
    """A closed session may be reopened the day it was closed (in the app's time zone):
    a session closed by mistake goes on; one closed yesterday stays closed."""
    if session.closed_at is None:
        return False
    closed = session.closed_at
    closed = closed.replace(tzinfo=UTC) if closed.tzinfo is None else closed
    today = (now or utcnow()).astimezone(zone).date()
    return closed.astimezone(zone).date() == today


async def reopen_session(
    *, db: AsyncSession, facilitator: Facilitator, session_id: int, zone: ZoneInfo
) -> SessionReopened:
    """Open again, under the same join code, a session closed earlier the same day."""
    await session_for(db=db, facilitator=facilitator, session_id=session_id)
    async with session_change(db, session_id) as (session, seq):
        if session.closed_at is None:
            raise Conflict(N_("This session is not closed."))
        if not reopenable(session, zone):
            raise Conflict(
                N_(
                    "This session was closed on an earlier day: it can no longer be"
                    " reopened. Create a new session to go on."
                )
            )
        session.closed_at = None
        db.add(session)
        return await record_event(db, session_id, seq, SessionReopened, session_id)


async def set_decisions_published(
    *, db: AsyncSession, facilitator: Facilitator, project_id: int, published: bool
) -> Project:
    project = await project_for(db=db, facilitator=facilitator, project_id=project_id)
    project.decisions_published_at = utcnow() if published else None
    db.add(project)
    await db.commit()
    await db.refresh(project)
    return project


# Built once: every phone request starts here, and building the statement (and its
# cache key) cost a third of the read.
_BY_CODE = select(Session).where(Session.join_code == sa.bindparam("code"))
_BY_CODE_LOCKED = _BY_CODE.with_for_update().execution_options(populate_existing=True)


_WITH_PROJECT = (
    select(Session, Project)
    .join(Project, col(Project.id) == col(Session.project_id))
    .where(Session.join_code == sa.bindparam("code"))
)


_NUMBERS_BY_CODE = sa.select(col(Session.id), col(Session.project_id), col(Session.seq)).where(
    col(Session.join_code) == sa.bindparam("code")
)


class SessionNumbers(NamedTuple):
    id: int
    project_id: int
    seq: int  # the number of the session's last event


def _checked_code(code: str) -> str:
    code = normalize_join_code(code)
    if len(code) != JOIN_CODE_LENGTH:
        raise Invalid(N_("A join code has %(n)d characters."), n=JOIN_CODE_LENGTH)
    return code


def _no_session(code: str) -> UnknownCode:
    return UnknownCode(
        N_("No session has the code %(code)s. Check it with the facilitator."), code=code
    )


async def session_by_code(*, db: AsyncSession, code: str, lock: bool = False) -> Session:
    """The session of a join code; ``lock``: read afresh and locked until the write's
    transaction ends (PostgreSQL; SQLite's writer holds the whole file already)."""
    code = _checked_code(code)
    result = await db.exec(_BY_CODE_LOCKED if lock else _BY_CODE, params={"code": code})
    session = result.first()
    if session is None:
        raise _no_session(code)
    return session


async def session_numbers_by_code(*, db: AsyncSession, code: str) -> SessionNumbers:
    """A join code's session as numbers only, in a plain read: no ORM object (a socket
    keeps numbers, and a join storm opens thousands of them)."""
    code = _checked_code(code)
    row = (await core(db, _NUMBERS_BY_CODE, {"code": code})).first()
    if row is None:
        raise _no_session(code)
    session_id, project_id, seq = row
    assert session_id is not None  # a stored row's
    return SessionNumbers(session_id, project_id, seq)


async def session_and_project_by_code(*, db: AsyncSession, code: str) -> tuple[Session, Project]:
    """The session of a join code and its project, in one read (the phone's pages)."""
    code = _checked_code(code)
    row = (await db.exec(_WITH_PROJECT, params={"code": code})).first()
    if row is None:
        raise _no_session(code)
    session, project = row
    return session, project
