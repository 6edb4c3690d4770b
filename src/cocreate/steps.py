"""The rules of an agenda, without the database: step kinds, what participants may do
during each, moving between steps, and the countdown's arithmetic.

Everything here is a pure function of its arguments (the current instant included), so
the console, the phones and the unit tests agree on what a step allows at any moment.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from cocreate.i18n import N_


class StepKind(enum.StrEnum):
    INFO = "info"  # a text the room reads
    NEEDS = "needs"  # participants describe the problem they face
    IDEAS = "ideas"  # participants propose solutions
    DISCUSSION = "discussion"  # comments and agree / disagree / pass
    GROUPING = "grouping"  # the facilitator merges duplicates
    VOTE = "vote"  # a poll, or the show of hands on proposals
    DECISION = "decision"  # the facilitator records what was decided


class Action(enum.StrEnum):
    """What a participant can do from their phone."""

    NEED = "need"
    PROPOSE = "propose"
    COMMENT = "comment"
    REACT = "react"
    VOTE = "vote"  # a show of hands on a proposal, or a ballot in a poll


ALLOWED: dict[StepKind, frozenset[Action]] = {
    StepKind.INFO: frozenset(),
    StepKind.NEEDS: frozenset({Action.NEED}),
    StepKind.IDEAS: frozenset({Action.PROPOSE}),
    StepKind.DISCUSSION: frozenset({Action.COMMENT, Action.REACT}),
    StepKind.GROUPING: frozenset(),
    StepKind.VOTE: frozenset({Action.VOTE}),
    StepKind.DECISION: frozenset(),
}

# With no agenda running, a session is a free-form wall: proposals, comments, reactions
# and votes are open; needs are gathered in a needs step.
FREE = frozenset(Action) - {Action.NEED}

# Shown to a participant whose action the step refuses (translated by the view).
REFUSALS: dict[Action, str] = {
    Action.NEED: N_("This is not the moment to describe needs: the current step is “%(step)s”."),
    Action.PROPOSE: N_("This is not the moment to propose: the current step is “%(step)s”."),
    Action.COMMENT: N_("Comments are closed during the current step, “%(step)s”."),
    Action.REACT: N_("Reactions are closed during the current step, “%(step)s”."),
    Action.VOTE: N_("This is not the moment to vote: the current step is “%(step)s”."),
}
TIME_UP = N_("Time is up for this step: its inputs are closed.")
NOT_ON_THE_FREE_WALL = N_("Needs are gathered during a needs step of the agenda.")

KIND_LABELS: dict[StepKind, str] = {
    StepKind.INFO: N_("Information"),
    StepKind.NEEDS: N_("Needs"),
    StepKind.IDEAS: N_("Ideas"),
    StepKind.DISCUSSION: N_("Discussion"),
    StepKind.GROUPING: N_("Grouping"),
    StepKind.VOTE: N_("Vote"),
    StepKind.DECISION: N_("Decision"),
}

# What each kind asks of the room, as the default prompt of a new step.
KIND_HINTS: dict[StepKind, str] = {
    StepKind.INFO: N_("Read together."),
    StepKind.NEEDS: N_("Describe a problem you face."),
    StepKind.IDEAS: N_("Propose a solution."),
    StepKind.DISCUSSION: N_("Comment and react: agree, disagree or pass."),
    StepKind.GROUPING: N_("The facilitator groups similar proposals."),
    StepKind.VOTE: N_("Vote."),
    StepKind.DECISION: N_("The facilitator records the decisions."),
}


def parse_kind(raw: str) -> StepKind | None:
    try:
        return StepKind(raw)
    except ValueError:
        return None


def allowed(kind: StepKind | None, *, inputs_open: bool = True) -> frozenset[Action]:
    """What participants may do during a step of this kind (None: no agenda running)."""
    if kind is None:
        return FREE
    return ALLOWED[kind] if inputs_open else frozenset()


# --- moving through the agenda -------------------------------------------------------


class Move(enum.StrEnum):
    START = "start"
    NEXT = "next"
    BACK = "back"
    END = "end"  # leave the agenda: the room goes back to the free-form wall


def target(positions: list[int], current: int | None, move: Move) -> int | None:
    """Index in ``positions`` (the agenda's steps in order) the move leads to.

    None means "no step" (the agenda not running). Raises ValueError when the move
    makes no sense from here (next after the last step, back before the first…)."""
    if not positions:
        raise ValueError("the agenda is empty")
    if move is Move.END:
        return None
    if move is Move.START:
        return 0
    if current is None:
        raise ValueError("the agenda is not running")
    if move is Move.NEXT:
        if current + 1 >= len(positions):
            raise ValueError("already on the last step")
        return current + 1
    if current == 0:
        raise ValueError("already on the first step")
    return current - 1


# --- the countdown -------------------------------------------------------------------


class TimerState(enum.StrEnum):
    NONE = "none"  # the step has no timer
    RUNNING = "running"
    PAUSED = "paused"
    DONE = "done"  # reached zero, or stopped


@dataclass(frozen=True, slots=True)
class Timer:
    """A countdown: ``total_s`` to run, ``elapsed_ms`` already run before the current
    run, which started at ``running_since`` (None while paused or done).

    The server's clock is the only one used: screens are told the remaining time, never a
    deadline, so a phone whose clock is wrong still counts down right."""

    total_s: int | None
    elapsed_ms: int = 0
    running_since: datetime | None = None

    def elapsed_at(self, now: datetime) -> int:
        run = 0
        if self.running_since is not None:
            run = max(0, int((now - self.running_since) / timedelta(milliseconds=1)))
        return self.elapsed_ms + run

    def remaining_ms(self, now: datetime) -> int | None:
        if self.total_s is None:
            return None
        return max(0, self.total_s * 1000 - self.elapsed_at(now))

    def state(self, now: datetime) -> TimerState:
        remaining = self.remaining_ms(now)
        if remaining is None:
            return TimerState.NONE
        if remaining == 0:
            return TimerState.DONE
        return TimerState.RUNNING if self.running_since is not None else TimerState.PAUSED

    def start(self, now: datetime) -> Timer:
        return replace(self, elapsed_ms=0, running_since=now if self.total_s else None)

    def pause(self, now: datetime) -> Timer:
        if self.state(now) is not TimerState.RUNNING:
            raise ValueError("the timer is not running")
        return replace(self, elapsed_ms=self.elapsed_at(now), running_since=None)

    def resume(self, now: datetime) -> Timer:
        if self.state(now) is not TimerState.PAUSED:
            raise ValueError("the timer is not paused")
        return replace(self, running_since=now)

    def add(self, now: datetime, seconds: int) -> Timer:
        """More time. A timer that had reached zero runs again with what was added."""
        if self.total_s is None:
            return Timer(total_s=seconds, running_since=now)
        elapsed = self.elapsed_at(now)
        if self.remaining_ms(now) == 0:
            # Time past zero is not owed: the new minute starts from zero.
            return Timer(total_s=self.total_s + seconds, elapsed_ms=self.total_s * 1000).resume(now)
        return replace(self, total_s=self.total_s + seconds, elapsed_ms=elapsed).restart(now)

    def restart(self, now: datetime) -> Timer:
        """Same timer, its current run re-based at ``now`` (keeps a paused one paused)."""
        if self.running_since is None:
            return self
        return replace(self, running_since=now)

    def stop(self, now: datetime) -> Timer:
        """Zero now: the step's time is up."""
        if self.total_s is None:
            raise ValueError("the step has no timer")
        return Timer(total_s=self.total_s, elapsed_ms=self.total_s * 1000)


def inputs_open(timer: Timer, auto_close: bool, now: datetime) -> bool:
    """A step's inputs close at zero when it says so; an untimed step stays open."""
    return not (auto_close and timer.state(now) is TimerState.DONE)
