"""Proxies (procurations): an absent member's vote, held by another member for a session.

Rules: principal and holder are members of the session's organisation; a member gives at
most one proxy per session, and not while present (they then vote themselves); a holder
holds at most the organisation's cap. No chains: a member who gave their proxy holds
none, and a member who holds one cannot give their own. A principal arriving in person
takes their proxy back (``roster.join_as_member`` writes that, as part of the arrival:
this module reads the roster, so the roster does not call back here); a ballot the
holder already cast for them stays, signed in the register. A holder casts one ballot
per principal; the register keeps one vote per member either way. Every proxy stays in
the log, revoked ones included, with who took it back.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cocreate import roster
from cocreate.errors import Conflict, Invalid, NotFound
from cocreate.figures import collation_key
from cocreate.i18n import N_
from cocreate.journal import session_change
from cocreate.models import (
    DECLARED_BY_FACILITATOR,
    DECLARED_BY_MEMBER,
    REVOKED_BY_ARRIVAL,
    REVOKED_BY_FACILITATOR,
    Facilitator,
    Member,
    Organisation,
    Proxy,
    Session,
    key,
    utcnow,
)
from cocreate.projects import session_for


async def _member_by_number(db: AsyncSession, organisation: Organisation, number: str) -> Member:
    member = (
        await db.exec(
            select(Member).where(
                Member.organisation_id == key(organisation),
                Member.number == number.strip(),
                col(Member.archived_at).is_(None),
            )
        )
    ).first()
    if member is None:
        raise NotFound(N_("No member has the number %(number)s."), number=number.strip())
    return member


async def give(
    *, db: AsyncSession, session: Session, principal: Member, holder: Member, declared_by: str
) -> Proxy:
    """Record that ``holder`` votes for ``principal`` in this session."""
    organisation = await roster.organisation_of_session(db=db, session=session)
    if organisation is None or {principal.organisation_id, holder.organisation_id} != {
        organisation.id
    }:
        raise NotFound(N_("These members are not on this organisation's roster."))
    if principal.id == holder.id:
        raise Invalid(N_("A member cannot hold their own proxy."))
    async with session_change(db, key(session)) as (session, _):
        if session.closed_at is not None:
            raise Conflict(N_("This session is closed."))
        active = select(Proxy).where(
            Proxy.session_id == key(session), col(Proxy.revoked_at).is_(None)
        )
        if (await db.exec(active.where(Proxy.principal_id == key(principal)))).first():
            raise Conflict(N_("This member has already given a proxy for this session."))
        if (await db.exec(active.where(Proxy.principal_id == key(holder)))).first():
            raise Conflict(N_("A member who gave their own proxy cannot hold one."))
        if (await db.exec(active.where(Proxy.holder_id == key(principal)))).first():
            # No chains: the vote would pass on to someone its first owner never chose.
            if declared_by == DECLARED_BY_MEMBER:
                raise Conflict(
                    N_("You hold another member's proxy: you cannot give yours (no chains).")
                )
            raise Conflict(
                N_("%(name)s holds another member's proxy, so cannot give their own (no chains)."),
                name=principal.name,
            )
        if key(principal) in await roster.present_members(db=db, session_id=key(session)):
            raise Conflict(N_("This member is present: they vote themselves."))
        held = (await db.exec(active.where(Proxy.holder_id == key(holder)))).all()
        if len(held) >= organisation.proxy_cap:
            raise Conflict(
                N_("%(name)s already holds the most proxies the statutes allow (%(cap)d)."),
                name=holder.name,
                cap=organisation.proxy_cap,
            )
        proxy = Proxy(
            session_id=key(session),
            principal_id=key(principal),
            holder_id=key(holder),
            declared_by=declared_by,
        )
        db.add(proxy)
        await db.commit()
    await db.refresh(proxy)
    return proxy


async def record(
    *,
    db: AsyncSession,
    facilitator: Facilitator,
    session_id: int,
    principal_number: str,
    holder_number: str,
) -> Proxy:
    """The facilitator records a proxy, members named by their numbers."""
    session, _ = await session_for(db=db, facilitator=facilitator, session_id=session_id)
    organisation = await roster.organisation_for(db=db, facilitator=facilitator)
    principal = await _member_by_number(db, organisation, principal_number)
    holder = await _member_by_number(db, organisation, holder_number)
    return await give(
        db=db,
        session=session,
        principal=principal,
        holder=holder,
        declared_by=DECLARED_BY_FACILITATOR,
    )


async def declare(
    *, db: AsyncSession, session: Session, voting_code: str, holder_number: str
) -> Proxy:
    """A member, with their own voting code, gives their proxy to another member."""
    principal = await roster.member_by_code(db=db, session=session, code=voting_code)
    organisation = await db.get(Organisation, principal.organisation_id)
    assert organisation is not None
    holder = await _member_by_number(db, organisation, holder_number)
    return await give(
        db=db, session=session, principal=principal, holder=holder, declared_by=DECLARED_BY_MEMBER
    )


async def revoke(
    *, db: AsyncSession, facilitator: Facilitator, session_id: int, proxy_id: int
) -> None:
    await session_for(db=db, facilitator=facilitator, session_id=session_id)
    proxy = await db.get(Proxy, proxy_id)
    if proxy is None or proxy.session_id != session_id:
        raise NotFound(N_("This proxy does not exist."))
    if proxy.revoked_at is None:
        proxy.revoked_at, proxy.revoked_by = utcnow(), REVOKED_BY_FACILITATOR
        db.add(proxy)
        await db.commit()


async def withdrawn_from(*, db: AsyncSession, session_id: int, holder_id: int) -> list[Member]:
    """Members who gave this member their proxy for the session, then came in person."""
    return await _principals(db, session_id, holder_id, col(Proxy.revoked_by) == REVOKED_BY_ARRIVAL)


async def _principals(
    db: AsyncSession, session_id: int, holder_id: int, which: sa.ColumnElement[bool]
) -> list[Member]:
    """Members who gave this member their proxy for the session, by name, among ``which``."""
    rows = await db.exec(
        select(Member)
        .join(Proxy, col(Proxy.principal_id) == col(Member.id))
        .where(Proxy.session_id == session_id, Proxy.holder_id == holder_id, which)
    )
    return sorted(rows.all(), key=lambda member: collation_key(member.name))


@dataclass(frozen=True)
class ProxyLine:
    proxy: Proxy
    principal: Member
    holder: Member


async def log(*, db: AsyncSession, session_id: int) -> list[ProxyLine]:
    """Every proxy of the session, revoked ones included, oldest first."""
    principal, holder = aliased(Member), aliased(Member)
    rows = await db.exec(
        select(Proxy, principal, holder)
        .join(principal, col(principal.id) == col(Proxy.principal_id))
        .join(holder, col(holder.id) == col(Proxy.holder_id))
        .where(Proxy.session_id == session_id)
        .order_by(col(Proxy.recorded_at), col(Proxy.id))
    )
    return [ProxyLine(p, a, b) for p, a, b in rows.all()]


async def principals_of(*, db: AsyncSession, session_id: int, holder_id: int) -> list[Member]:
    """Members whose active proxy this member holds in the session."""
    return await _principals(db, session_id, holder_id, col(Proxy.revoked_at).is_(None))


async def represented(*, db: AsyncSession, session_id: int) -> set[int]:
    """Absent members represented: their active proxy's holder is present."""
    present = await roster.present_members(db=db, session_id=session_id)
    rows = await db.exec(
        select(Proxy.principal_id, Proxy.holder_id).where(
            Proxy.session_id == session_id, col(Proxy.revoked_at).is_(None)
        )
    )
    return {p for p, h in rows.all() if h in present and p not in present}
