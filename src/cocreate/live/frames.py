"""Live frames: the regions a batch touched, drawn as out-of-band swaps.

A batch is read from the database once (``live.regions``), then rendered once per
audience and language; the same bytes go to every socket of that group. Every region
is drawn by the partial the page itself includes; what no partial draws (the frame's
event number, a card removed, a card or poll inserted) by the macros of
``templates/live/oob.html``.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup
from sqlmodel.ext.asyncio.session import AsyncSession

from cocreate import wall
from cocreate.live.cache import SharedStages
from cocreate.live.regions import (
    AGENDA,
    APPROVED,
    CARD_INSERT,
    CLOSED,
    COMMENTS,
    DECISIONS,
    HIDE,
    MERGED,
    POLL_REGIONS,
    POLL_TURNOUT,
    PRESENTABLE,
    PRESENTER,
    REACTIONS,
    REDRAW,
    RESTORE,
    SESSION,
    SESSION_WIDE,
    STAGE,
    TALLY,
    TIMER,
    WITHDRAWN,
    Audience,
    Batch,
    panel_context,
    presenter_context,
    stage_context,
)
from cocreate.models import ProposalKind, Session, key
from cocreate.polls import PollView
from cocreate.templating import Templates
from cocreate.wall import WallItem

OOB_MACROS = "live/oob.html"


class FragmentRenderer:
    """Draws live regions with the page's own partials, as out-of-band swaps."""

    def __init__(self, templates: Templates, stages: SharedStages | None = None) -> None:
        self.templates = templates
        self.stages = stages or SharedStages()

    def _region(
        self,
        name: str,
        audience: Audience,
        locale: str,
        session: Session | None,
        **context: object,
    ) -> str:
        """One partial as an out-of-band swap, with the defaults a broadcast needs: no CSRF
        field (htmx sends the page's token as a header; the page's script puts it in a
        plain form as it is posted) and nobody's own vote."""
        defaults: dict[str, object] = {
            "my_choice": None,
            "my_reaction": None,
            "lazy_vote": False,
            "sent": False,
            "error": None,
            "text": "",
            "needs": [],
        }
        return self.templates.render(
            f"partials/{name}.html",
            locale=locale,
            audience=audience.value,
            oob=True,
            csrf_token=None,
            session=session,
            **(defaults | context),
        )

    def _oob(self, locale: str) -> Any:
        """The macros of ``live/oob.html`` (in the language's environment, as templates
        are; they draw no text)."""
        return self.templates.macros(OOB_MACROS, locale=locale)

    def seq_marker(self, seq: int, locale: str) -> str:
        return str(self._oob(locale).event_number(int(seq)))

    def _removed(self, proposal_id: int, locale: str) -> str:
        return str(self._oob(locale).removed(f"proposal-{proposal_id}"))

    def _inserted(self, target: str, html: str, locale: str) -> str:
        # The card or poll was drawn by its own partial, escaped there: put in as it is.
        return str(self._oob(locale).inserted(target, Markup(html)))  # noqa: S704

    def render_batch(self, batch: Batch, audience: Audience, locale: str) -> str:
        parts = [self.seq_marker(batch.last_seq, locale)]
        for region, pid in batch.regions:
            if region in POLL_REGIONS:
                parts += self._draw_poll(batch, region, batch.polls.get(pid), audience, locale)
                continue
            if region in SESSION_WIDE:
                parts += self._draw_session(batch, region, audience, locale)
                continue
            if region == MERGED:
                parts.append(self._removed(pid, locale))
                kept = batch.items.get(batch.merged.get(pid, 0))
                if kept is not None:
                    parts += self._draw(batch, REDRAW, kept, audience, locale)
                continue
            parts += self._draw(batch, region, batch.items.get(pid), audience, locale)
        if batch.counts is not None and audience is Audience.CONSOLE:
            parts.append(
                self._region("counters", audience, locale, batch.session, counts=batch.counts)
            )
        touched = {region for region, _ in batch.regions}
        if (
            audience is Audience.CONSOLE
            and touched & PRESENTABLE
            and not touched & {STAGE, PRESENTER}  # which draw the panel already
        ):
            parts += self._draw_presenter(batch, audience, locale)
        return "".join(parts)

    def _draw_session(
        self, batch: Batch, region: str, audience: Audience, locale: str
    ) -> list[str]:
        """Regions of the whole session: the stage, the console's panels, the timer."""

        def draw(name: str, **context: object) -> str:
            return self._region(name, audience, locale, batch.session, **context)

        console = audience is Audience.CONSOLE
        if region == DECISIONS:
            return (
                []
                if audience is Audience.PHONE
                else [draw("decisions", decisions=batch.decisions, stage=batch.stage)]
            )
        if region == TIMER:
            return [draw("timer", stage=batch.stage)]
        if region == WITHDRAWN:
            return self._draw_withdrawn(batch, audience, locale)
        if region == SESSION:
            parts = [draw("session_status")]
            if not console:
                parts.append(draw("stage", **batch.stage_context))
            return parts
        if region == PRESENTER:
            return self._draw_presenter(batch, audience, locale)
        if region == STAGE:
            # Another step: the projector shows it, and the console's presenter panel
            # offers its things.
            if console:
                return [
                    draw("agenda", **batch.console_context),
                    *self._draw_presenter(batch, audience, locale),
                ]
            return [
                draw("stage", **batch.stage_context),
                *self._draw_presenter(batch, audience, locale),
            ]
        if not console:
            return []
        if region == AGENDA:
            return [draw("agenda", **batch.console_context)]
        return [draw("room", **batch.console_context)]  # ROOM

    def _draw_presenter(self, batch: Batch, audience: Audience, locale: str) -> list[str]:
        """What the facilitator put on the projector: the projector's marker, the
        console's presenter panel; phones show nothing of it."""
        if audience is Audience.PHONE:
            return []
        name = "presenter" if audience is Audience.CONSOLE else "presenting"
        return [self._region(name, audience, locale, batch.session, **batch.presenter_context)]

    def _card(
        self, batch: Batch, item: WallItem, audience: Audience, locale: str, *, oob: bool = False
    ) -> str:
        """A whole card; on a phone its vote region then loads the phone's own vote."""
        return self.templates.render(
            "partials/card.html",
            locale=locale,
            audience=audience.value,
            oob=oob,
            csrf_token=None,
            session=batch.session,
            stage=batch.stage,
            item=item,
            my_choice=None,
            my_reaction=None,
            lazy_vote=audience is Audience.PHONE,
        )

    def _draw(
        self,
        batch: Batch,
        region: str,
        item: WallItem | None,
        audience: Audience,
        locale: str,
    ) -> list[str]:
        """The fragments one touched region of a proposal needs on one audience's screens."""

        def draw(name: str, **context: object) -> str:
            return self._region(name, audience, locale, batch.session, stage=batch.stage, **context)

        phone, console = audience is Audience.PHONE, audience is Audience.CONSOLE
        if item is None:
            return []
        if not console and not item.shown and region != HIDE:
            return []
        if region == HIDE and not console:
            return [self._removed(item.id, locale)]
        if region == APPROVED and console:
            region = REDRAW
        if region in (CARD_INSERT, RESTORE, APPROVED) and not (console and region == RESTORE):
            wall_id = "needs" if item.kind == ProposalKind.NEED else "wall"
            above = batch.above.get(item.id) if region != CARD_INSERT else None
            target = f"afterend:#proposal-{above}" if above else f"afterbegin:#{wall_id}"
            return [self._inserted(target, self._card(batch, item, audience, locale), locale)]
        if region == REDRAW:
            return [self._card(batch, item, audience, locale, oob=True)]
        # The console's compact card shows the counts on its one line too.
        counts = [draw("card_counts", item=item)] if console else []
        if region == TALLY:
            return [draw("tally", item=item), *counts]
        if region == REACTIONS:
            return [draw("reaction_counts", item=item), *counts]
        if region == COMMENTS:
            # The projector too: it shows a proposal's comments when it is presented.
            return [draw("comments", item=item), draw("comment_count", item=item), *counts]
        if console:  # hidden, restored, vote closed, decided: the console redraws the card
            return [draw("card", item=item)]
        parts = [draw("status", item=item)]
        if phone and region == CLOSED:
            parts.append(draw("vote", item=item))
        return parts

    def _draw_withdrawn(self, batch: Batch, audience: Audience, locale: str) -> list[str]:
        """A proxy taken back: every phone loads its own ballots of the open binding
        polls again (as when one opens), the holder's without the principal's and
        saying why."""
        if audience is not Audience.PHONE:
            return []
        return [
            self._region(
                "ballots",
                audience,
                locale,
                batch.session,
                view=view,
                identities=None,
                signed=set(),
                withdrawn=[],
                reloading=True,
            )
            for view in batch.binding_polls
        ]

    def _draw_poll(
        self,
        batch: Batch,
        region: str,
        view: PollView | None,
        audience: Audience,
        locale: str,
    ) -> list[str]:
        """A poll's card when it appears, opens or closes; its turnout as ballots come in.
        Drafts are the console's only; phones and projector never see a running tally."""
        if view is None or (view.state == "draft" and audience is not Audience.CONSOLE):
            return []
        if region == POLL_TURNOUT:
            if view.state != "open":
                # Drawn as it is now: a closed card has no turnout line to update (its
                # close, in this frame or an earlier one, redraws the whole card).
                return []
            return [self._region("poll_turnout", audience, locale, batch.session, view=view)]
        card = self.templates.render(
            "partials/poll.html",
            locale=locale,
            audience=audience.value,
            oob=False,
            csrf_token=None,
            session=batch.session,
            stage=batch.stage,
            view=view,
            identities=None,  # a binding poll's card loads this phone's own ballots
            signed=set(),
        )
        # Inserted at the top; the page's script drops an older copy of the same card.
        return [self._inserted("afterbegin:#polls", card, locale)]

    def presence(
        self,
        audience: Audience,
        locale: str,
        connected: int,
        joined: int,
        roles: dict[Audience, int],
    ) -> str:
        return self._region(
            "presence", audience, locale, None, connected=connected, joined=joined, roles=roles
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
        seq = session.seq  # read before the state: the state is at least this recent
        parts = [
            self.seq_marker(seq, locale),
            self._region("session_status", audience, locale, session),
        ]
        if audience is Audience.CONSOLE:
            context = await stage_context(db, session, audience)
            context |= await panel_context(db, session)
            context |= await presenter_context(db, session)
            wall.assign_steps([*context["items"], *context["needs"]], context["steps"])
            context["counts"] = await wall.counts(db, key(session))
            for name in ("counters", "walls", "decisions", "agenda", "room", "polls", "presenter"):
                parts.append(self._region(name, audience, locale, session, **context))
        else:
            context = await stage_context(db, session, audience, participant_id, shared=self.stages)
            parts.append(self._region("stage", audience, locale, session, **context))
            if audience is Audience.SCREEN:
                presenting = await presenter_context(db, session)
                parts.append(self._region("presenting", audience, locale, session, **presenting))
        return "".join(parts)
