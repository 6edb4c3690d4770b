"""The needs an idea answers, as each reader may see them.

An idea is linked to needs of its session (``ProposalNeed``). A need the room does not
see — hidden by the facilitator, or waiting for approval under pre-moderation — must not
reach a phone, the projector, a public page, a download, the API or the minutes through
an idea that answers it. So every reader of the links goes through ``answered``, every
new link through ``refusal``, and the register, which copies the needs' texts when a
decision is taken, is read through ``withheld_texts``.

A need merged into another lives on in the one kept, which moderation linked to every
idea that answered the duplicate: the duplicate's own links are never read, and its
text counts as hidden when the one it lives on in is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cocreate.errors import Conflict, NotFound, RuleError
from cocreate.i18n import N_
from cocreate.models import Proposal, ProposalKind, ProposalNeed, ProposalRevision

NO_SUCH_NEED = N_("This need does not exist in this session.")
NEED_HIDDEN = N_("The facilitator has hidden this need: a proposal cannot answer it.")
NEED_PENDING = N_(
    "This need is waiting for the facilitator's approval: a proposal can answer it once "
    "it is approved."
)


@dataclass(frozen=True)
class LinkedNeed:
    """A need an idea answers, and whether the room sees it."""

    id: int
    text: str
    hidden: bool  # hidden by the facilitator
    pending: bool  # waiting for approval

    @property
    def shown(self) -> bool:
        return not (self.hidden or self.pending)


def refusal(need: Proposal | None, session_id: int) -> RuleError | None:
    """Why an idea of this session may not answer this need now; None if it may."""
    if (
        need is None
        or need.session_id != session_id
        or need.kind != ProposalKind.NEED
        or need.merged_into_id is not None
    ):
        return NotFound(NO_SUCH_NEED)
    if need.hidden_at is not None:
        return Conflict(NEED_HIDDEN)
    if need.pending:
        return Conflict(NEED_PENDING)
    return None


async def answered(
    db: AsyncSession, proposal_ids: Iterable[int], *, withheld: bool
) -> dict[int, list[LinkedNeed]]:
    """The needs each idea answers, in the order they were described: those the room
    sees, and with ``withheld`` (the facilitator's console) those it does not."""
    ids = list(proposal_ids)
    found: dict[int, list[LinkedNeed]] = defaultdict(list)
    if not ids:
        return found
    need = aliased(Proposal)
    query = (
        select(ProposalNeed.proposal_id, need)
        .join(need, col(need.id) == col(ProposalNeed.need_id))
        .where(col(ProposalNeed.proposal_id).in_(ids), col(need.merged_into_id).is_(None))
        .order_by(col(need.id))
    )
    if not withheld:
        query = query.where(col(need.hidden_at).is_(None), col(need.pending).is_(False))
    for proposal_id, row in (await db.exec(query)).all():
        assert row.id is not None
        found[proposal_id].append(
            LinkedNeed(row.id, row.text, row.hidden_at is not None, row.pending)
        )
    return found


async def answering(db: AsyncSession, need_ids: Iterable[int]) -> list[int]:
    """The ideas that answer any of these needs (to redraw when a need changes)."""
    ids = list(need_ids)
    if not ids:
        return []
    rows = await db.exec(
        select(ProposalNeed.proposal_id)
        .where(col(ProposalNeed.need_id).in_(ids))
        .distinct()
        .order_by(col(ProposalNeed.proposal_id))
    )
    return list(rows.all())


async def withheld_texts(db: AsyncSession, session_ids: Iterable[int]) -> dict[int, frozenset[str]]:
    """By session, the texts of needs the room does not see now (hidden, waiting, or
    merged into one that is), earlier texts included, that no need it sees shares.

    The register copied needs' texts when it decided, and is never edited: its readers
    leave these out of what they show."""
    ids = list(session_ids)
    if not ids:
        return {}
    rows = (
        await db.exec(
            select(Proposal).where(
                col(Proposal.session_id).in_(ids), Proposal.kind == ProposalKind.NEED
            )
        )
    ).all()
    by_id = {row.id: row for row in rows if row.id is not None}

    def unseen(need_id: int) -> bool:
        followed: set[int] = set()
        current: int | None = need_id
        while current is not None and current in by_id and current not in followed:
            followed.add(current)
            need = by_id[current]
            if need.hidden_at is not None or need.pending:
                return True
            current = need.merged_into_id
        return False

    out = {need_id for need_id in by_id if unseen(need_id)}
    texts: dict[int, set[str]] = defaultdict(set)
    for need_id in out:
        texts[by_id[need_id].session_id].add(by_id[need_id].text)
    if out:
        for need_id, text in (
            await db.exec(
                select(ProposalRevision.proposal_id, ProposalRevision.text).where(
                    col(ProposalRevision.proposal_id).in_(sorted(out))
                )
            )
        ).all():
            texts[by_id[need_id].session_id].add(text)
    shown: dict[int, set[str]] = defaultdict(set)
    for need_id, need in by_id.items():
        if need_id not in out:
            shown[need.session_id].add(need.text)
    return {sid: frozenset(texts[sid] - shown[sid]) for sid in ids}
