"""Live fragments: what each audience's screen must swap after a batch of events.

A batch is read from the database once, then rendered once per audience and language;
the same bytes go to every socket of that group. Fragments are drawn from the current
state of the regions they touch, so replaying an event is harmless.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cocreate import contributions
from cocreate.contributions import WallItem
from cocreate.events import (
    CommentAdded,
    DecisionRecorded,
    ProposalAdded,
    ProposalHidden,
    ProposalRestored,
    SessionClosed,
    SessionEvent,
    VoteCast,
    VoteClosed,
)
from cocreate.models import Comment, Decision, Proposal, Session
from cocreate.templating import Templates


class Audience(enum.StrEnum):
    PHONE = "phone"
    SCREEN = "screen"
    CONSOLE = "console"


# Region keys a batch touches, in the order first touched.
CARD_INSERT = "card_insert"
COMMENTS = "comments"
TALLY = "tally"
HIDE = "hide"
RESTORE = "restore"
CLOSED = "closed"
DECIDED = "decided"
DECISIONS = "decisions"
SESSION = "session"

_REGION_OF: dict[type[SessionEvent], tuple[str, ...]] = {
    ProposalAdded: (CARD_INSERT,),
    CommentAdded: (COMMENTS,),
    VoteCast: (TALLY,),
    ProposalHidden: (HIDE,),
    ProposalRestored: (RESTORE,),
    VoteClosed: (CLOSED,),
    DecisionRecorded: (DECIDED, DECISIONS),
    SessionClosed: (SESSION,),
}


@dataclass
class Batch:
    session: Session
    last_seq: int
    regions: list[tuple[str, int]]
    items: dict[int, WallItem]
    # For a proposal shown again: the visible proposal just above it on the wall.
    above: dict[int, int | None] = field(default_factory=dict)
    decisions: list[Decision] = field(default_factory=list)
    wall: list[WallItem] = field(default_factory=list)


async def load_batch(db: AsyncSession, session: Session, events: list[SessionEvent]) -> Batch:
    assert session.id is not None
    assert events
    comment_ids = [e.subject_id for e in events if isinstance(e, CommentAdded)]
    proposal_of_comment: dict[int, int] = {}
    if comment_ids:
        rows = await db.exec(
            select(Comment.id, Comment.proposal_id).where(col(Comment.id).in_(comment_ids))
        )
        proposal_of_comment = {cid: pid for cid, pid in rows.all() if cid is not None}
    regions: dict[tuple[str, int], None] = {}
    for event in events:
        subject = event.subject_id
        if isinstance(event, CommentAdded):
            if subject not in proposal_of_comment:
                continue
            subject = proposal_of_comment[subject]
        for region in _REGION_OF[type(event)]:
            key = (region, 0 if region in (DECISIONS, SESSION) else subject)
            regions.setdefault(key, None)
    proposal_ids = {pid for region, pid in regions if region not in (DECISIONS, SESSION)}
    items = {
        item.id: item
        for item in await contributions.wall(
            db=db, session_id=session.id, include_hidden=True, proposal_ids=proposal_ids
        )
    }
    batch = Batch(session=session, last_seq=events[-1].seq, regions=list(regions), items=items)
    for region, pid in regions:
        if region == RESTORE:
            above = await db.exec(
                select(Proposal.id)
                .where(
                    Proposal.session_id == session.id,
                    col(Proposal.id) > pid,
                    col(Proposal.hidden_at).is_(None),
                )
                .order_by(col(Proposal.id))
                .limit(1)
            )
            batch.above[pid] = above.first()
    if any(region == DECISIONS for region, _ in regions):
        batch.decisions = await contributions.session_decisions(db=db, session_id=session.id)
    if any(region == SESSION for region, _ in regions):
        # A closed session closes every vote: phones redraw each vote region.
        batch.wall = await contributions.wall(db=db, session_id=session.id, include_hidden=False)
    return batch


class FragmentRenderer:
    def __init__(self, templates: Templates) -> None:
        self.templates = templates

    def _render(self, name: str, locale: str, audience: Audience, **context: object) -> str:
        return self.templates.render(
            name, locale=locale, audience=audience.value, oob=True, csrf_token=None, **context
        )

    def seq_marker(self, seq: int) -> str:
        return f'<div id="live-seq" hx-swap-oob="true" data-seq="{int(seq)}" hidden></div>'

    def card(
        self, item: WallItem, session: Session, audience: Audience, locale: str, **extra: object
    ) -> str:
        return self.templates.render(
            "partials/card.html",
            locale=locale,
            audience=audience.value,
            oob=False,
            csrf_token=None,
            item=item,
            session=session,
            my_choice=None,
            **{"lazy_vote": False, **extra},
        )

    def render_batch(self, batch: Batch, audience: Audience, locale: str) -> str:
        parts = [self.seq_marker(batch.last_seq)]
        session = batch.session
        public = audience is not Audience.CONSOLE
        for region, pid in batch.regions:
            item = batch.items.get(pid)
            if region == SESSION:
                parts.append(
                    self._render("partials/session_status.html", locale, audience, session=session)
                )
                if audience is Audience.PHONE:
                    parts.append(
                        self._render(
                            "partials/propose_form.html",
                            locale,
                            audience,
                            session=session,
                            error=None,
                            text="",
                        )
                    )
                    for item in batch.wall:
                        parts.append(
                            self._render(
                                "partials/vote.html",
                                locale,
                                audience,
                                item=item,
                                session=session,
                                my_choice=None,
                                lazy_vote=False,
                            )
                        )
                        parts.append(
                            self._render(
                                "partials/comment_form.html",
                                locale,
                                audience,
                                session=session,
                                proposal_id=item.id,
                                sent=False,
                            )
                        )
                continue
            if region == DECISIONS:
                if audience is not Audience.PHONE:
                    parts.append(
                        self._render(
                            "partials/decisions.html",
                            locale,
                            audience,
                            decisions=batch.decisions,
                            session=session,
                        )
                    )
                continue
            if item is None:
                continue
            if region in (CARD_INSERT, RESTORE):
                if public and item.hidden:
                    continue
                if audience is Audience.CONSOLE and region == RESTORE:
                    parts.append(
                        self._render(
                            "partials/card.html",
                            locale,
                            audience,
                            **self._card_context(item, session),
                        )
                    )
                    continue
                above = batch.above.get(pid) if region == RESTORE else None
                target = f"afterend:#proposal-{above}" if above else "afterbegin:#wall"
                card = self.card(item, session, audience, locale, lazy_vote=region == RESTORE)
                parts.append(f'<div hx-swap-oob="{target}">{card}</div>')
            elif region == HIDE:
                if public:
                    parts.append(f'<div id="proposal-{pid}" hx-swap-oob="delete"></div>')
                else:
                    parts.append(
                        self._render(
                            "partials/card.html",
                            locale,
                            audience,
                            **self._card_context(item, session),
                        )
                    )
            elif public and item.hidden:
                continue
            elif region == TALLY:
                parts.append(self._render("partials/tally.html", locale, audience, item=item))
            elif region == COMMENTS:
                if audience is not Audience.SCREEN:
                    parts.append(
                        self._render("partials/comments.html", locale, audience, item=item)
                    )
                parts.append(
                    self._render("partials/comment_count.html", locale, audience, item=item)
                )
            elif audience is Audience.CONSOLE:  # CLOSED, DECIDED: the console redraws the card
                parts.append(
                    self._render(
                        "partials/card.html", locale, audience, **self._card_context(item, session)
                    )
                )
            else:
                parts.append(self._render("partials/status.html", locale, audience, item=item))
                if audience is Audience.PHONE and region == CLOSED:
                    parts.append(
                        self._render(
                            "partials/vote.html",
                            locale,
                            audience,
                            item=item,
                            session=session,
                            my_choice=None,
                            lazy_vote=False,
                        )
                    )
        return "".join(parts)

    @staticmethod
    def _card_context(item: WallItem, session: Session) -> dict[str, object]:
        return {"item": item, "session": session, "my_choice": None, "lazy_vote": False}

    def presence(self, audience: Audience, locale: str, connected: int, joined: int) -> str:
        return self._render(
            "partials/presence.html", locale, audience, connected=connected, joined=joined
        )

    async def snapshot(
        self,
        db: AsyncSession,
        session: Session,
        audience: Audience,
        locale: str,
        participant_id: int | None,
    ) -> str:
        """Every live region afresh, for a socket too far behind to catch up event by event."""
        assert session.id is not None
        seq = session.seq  # read before the state: the state is at least this recent
        items = await contributions.wall(
            db=db, session_id=session.id, include_hidden=audience is Audience.CONSOLE
        )
        choices = (
            await contributions.choices_of(
                db=db, session_id=session.id, participant_id=participant_id
            )
            if participant_id is not None
            else {}
        )
        decisions = await contributions.session_decisions(db=db, session_id=session.id)
        parts = [
            self.seq_marker(seq),
            self._render(
                "partials/wall.html",
                locale,
                audience,
                items=items,
                session=session,
                choices=choices,
            ),
            self._render("partials/session_status.html", locale, audience, session=session),
        ]
        if audience is not Audience.PHONE:
            parts.append(
                self._render(
                    "partials/decisions.html",
                    locale,
                    audience,
                    decisions=decisions,
                    session=session,
                )
            )
        return "".join(parts)
