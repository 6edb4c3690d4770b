"""What happened in a session: small frozen records, numbered per session.

The domain writes one ``Event`` row per change in the same transaction as the change;
once the write is on disk the writer announces the session's new number to the live hub
(``Database.announce_with``), which nudges the other processes. Listeners read the rows
back from the database, so a lost or reordered nudge loses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True, slots=True)
class SessionEvent:
    kind: ClassVar[str]
    seq: int
    subject_id: int


@dataclass(frozen=True, slots=True)
class ProposalAdded(SessionEvent):
    """A participant put a proposal forward."""

    kind = "proposal_added"


@dataclass(frozen=True, slots=True)
class CommentAdded(SessionEvent):
    """A participant commented on a proposal (subject: the comment)."""

    kind = "comment_added"


@dataclass(frozen=True, slots=True)
class VoteCast(SessionEvent):
    """A participant voted, or changed their vote, on a proposal."""

    kind = "vote_cast"


@dataclass(frozen=True, slots=True)
class ProposalHidden(SessionEvent):
    """The facilitator hid a proposal from phones and projector."""

    kind = "proposal_hidden"


@dataclass(frozen=True, slots=True)
class ProposalRestored(SessionEvent):
    """The facilitator showed a hidden proposal again."""

    kind = "proposal_restored"


@dataclass(frozen=True, slots=True)
class VoteClosed(SessionEvent):
    """The facilitator closed the vote on a proposal."""

    kind = "vote_closed"


@dataclass(frozen=True, slots=True)
class DecisionRecorded(SessionEvent):
    """The facilitator recorded a decision (subject: the proposal decided on)."""

    kind = "decision_recorded"


@dataclass(frozen=True, slots=True)
class SessionClosed(SessionEvent):
    """The facilitator closed the session (subject: the session)."""

    kind = "session_closed"


@dataclass(frozen=True, slots=True)
class SessionReopened(SessionEvent):
    """The facilitator reopened, the day it was closed, a session closed by mistake
    (subject: the session)."""

    kind = "session_reopened"


@dataclass(frozen=True, slots=True)
class PollChanged(SessionEvent):
    """A poll was created or edited before opening (subject: the poll)."""

    kind = "poll_changed"


@dataclass(frozen=True, slots=True)
class PollOpened(SessionEvent):
    """The facilitator opened a poll: its rules, options and electorate froze."""

    kind = "poll_opened"


@dataclass(frozen=True, slots=True)
class BallotCast(SessionEvent):
    """Someone voted in a poll (subject: the poll; never the ballot or the voter)."""

    kind = "ballot_cast"


@dataclass(frozen=True, slots=True)
class PollClosed(SessionEvent):
    """The facilitator closed a poll; its result is recorded as a decision."""

    kind = "poll_closed"


@dataclass(frozen=True, slots=True)
class AgendaChanged(SessionEvent):
    """A step was added, edited, moved or removed (subject: the session)."""

    kind = "agenda_changed"


@dataclass(frozen=True, slots=True)
class StepChanged(SessionEvent):
    """The room moved to another step, or its results were revealed (subject: session)."""

    kind = "step_changed"


@dataclass(frozen=True, slots=True)
class TimerChanged(SessionEvent):
    """The current step's timer was paused, resumed, extended or stopped (subject: step)."""

    kind = "timer_changed"


@dataclass(frozen=True, slots=True)
class ProposalChanged(SessionEvent):
    """The facilitator corrected, pinned or unpinned a proposal."""

    kind = "proposal_changed"


@dataclass(frozen=True, slots=True)
class ProposalApproved(SessionEvent):
    """A proposal waiting for moderation was approved: it appears on every screen."""

    kind = "proposal_approved"


@dataclass(frozen=True, slots=True)
class ProposalMerged(SessionEvent):
    """A duplicate was merged into another proposal (subject: the duplicate)."""

    kind = "proposal_merged"


@dataclass(frozen=True, slots=True)
class ReactionCast(SessionEvent):
    """A participant agreed, disagreed or passed on a proposal (subject: the proposal)."""

    kind = "reaction_cast"


@dataclass(frozen=True, slots=True)
class RoomChanged(SessionEvent):
    """The room was locked or unlocked, pre-moderation switched, or someone removed."""

    kind = "room_changed"


@dataclass(frozen=True, slots=True)
class ProxyWithdrawn(SessionEvent):
    """A member came in person: the proxy they had given is taken back (subject: it)."""

    kind = "proxy_withdrawn"


@dataclass(frozen=True, slots=True)
class PresenterChanged(SessionEvent):
    """The facilitator chose what the projector shows (subject: the session)."""

    kind = "presenter_changed"


EVENT_TYPES: dict[str, type[SessionEvent]] = {
    cls.kind: cls
    for cls in (
        ProposalAdded,
        CommentAdded,
        VoteCast,
        ProposalHidden,
        ProposalRestored,
        VoteClosed,
        DecisionRecorded,
        SessionClosed,
        SessionReopened,
        PollChanged,
        PollOpened,
        BallotCast,
        PollClosed,
        AgendaChanged,
        StepChanged,
        TimerChanged,
        ProposalChanged,
        ProposalApproved,
        ProposalMerged,
        ReactionCast,
        RoomChanged,
        ProxyWithdrawn,
        PresenterChanged,
    )
}


def from_row(kind: str, seq: int, subject_id: int) -> SessionEvent:
    return EVENT_TYPES[kind](seq=seq, subject_id=subject_id)
