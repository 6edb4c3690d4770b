"""Sociocratic consent: a proposal passes when nobody objects.

Method. Consent decision-making asks "do you object?" rather than "do you agree?"; if no
one objects, there is consent (Sociocracy For All, "Consent decision making", seen at
https://staging.sociocracyforall.org/?p=562472). In Sociocracy 3.0 an objection is an
argument that reveals unintended consequences of the proposal, or worthwhile ways to
improve it, and proposals become agreements once all objections are resolved (J. Priest,
"A Concise Explanation of Sociocracy 3.0's Consent Decision Making", LinkedIn Pulse; see
also https://patterns.sociocracy30.org/principle-consent.html). An objection without its
reason cannot be integrated, so it is not a valid ballot here.

Each ballot takes one position:

- ``consent``: no objection (a reason may be given, it is ignored by the count);
- ``objection``: a reason is **required** (non-blank after trimming spaces);
- ``stand_aside``: the participant lets the proposal go ahead without joining it; the
  reason is optional. Stand-asides come from the consensus tradition, not from
  sociocracy; where a group's statutes use them they are "counted with the majority" and
  their reasons are recorded (S. Villines, cohousing-l, 14 July 2017). They never block.

Exact rule. A round *passes* if and only if it has at least one ballot and no objection.
The "at least one ballot" guard is ours: an unanswered round is not a decision, and the
result says so with ``reason == "no_ballots"`` rather than adopting a proposal nobody saw.

Objections (and stand-aside reasons) are listed sorted by reason text, then participant,
so that the ballot order never changes the result.

Rounds. When a round fails, the proposal is amended to integrate the objections and a new
round is held. :func:`summarize_consent_rounds` summarises the successive rounds of one
proposal in chronological order; the rounds stop at the first one that passes.

Tie rule. Consent never ranks options, so there is never a tie to break: ``ties`` is
always empty and no lot is drawn.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cocreate.tally.base import InvalidBallot, OptionId, Tie

# The position that carries the proposal, reported as the winner when a round passes.
CONSENT: OptionId = "consent"


class Position(enum.StrEnum):
    """What a participant answers in a consent round."""

    CONSENT = "consent"
    OBJECTION = "objection"
    STAND_ASIDE = "stand_aside"


class ConsentReason(enum.StrEnum):
    """Why a consent round passed or failed, for machines and translations."""

    NO_OBJECTION = "no_objection"
    OBJECTION = "objection"
    NO_BALLOTS = "no_ballots"


@dataclass(frozen=True, slots=True)
class ConsentBallot:
    """One participant's position on the proposal, with its reason when there is one."""

    position: str  # a Position value
    reason: str = ""
    participant: str | None = None  # who said it, when the round is not anonymous


@dataclass(frozen=True, slots=True)
class Statement:
    """A reason given in a round (an objection or a stand-aside) and who gave it."""

    reason: str
    participant: str | None = None


@dataclass(frozen=True, slots=True)
class ConsentResult:
    """Outcome of one consent round: it passes iff nobody objects."""

    passed: bool
    reason: ConsentReason
    consents: int  # number of ballots
    objection_count: int  # number of ballots
    stand_aside_count: int  # number of ballots
    objections: tuple[Statement, ...]  # sorted by reason, then participant
    stand_asides: tuple[Statement, ...]  # sorted by reason, then participant
    winners: tuple[OptionId, ...]  # ("consent",) when the round passes, else ()
    ties: tuple[Tie, ...]  # always empty: consent ranks nothing

    @property
    def ballots(self) -> int:
        return self.consents + self.objection_count + self.stand_aside_count


@dataclass(frozen=True, slots=True)
class ConsentHistory:
    """Successive consent rounds on one proposal and its amendments, oldest first."""

    rounds: tuple[ConsentResult, ...]
    passed: bool  # the last round passed
    passed_in_round: int | None  # 1-based number of the round that passed
    objections_per_round: tuple[int, ...]  # number of objections in each round
    total_objections: int  # across all rounds
    winners: tuple[OptionId, ...]  # ("consent",) when the last round passed, else ()
    ties: tuple[Tie, ...]  # always empty


def tally_consent(*, ballots: Iterable[ConsentBallot]) -> ConsentResult:
    """Count one consent round; see the module docstring for the exact rule."""
    consents = 0
    objections: list[Statement] = []
    stand_asides: list[Statement] = []
    for ballot in ballots:
        if not isinstance(ballot, ConsentBallot):
            raise InvalidBallot(f"a consent ballot must be a ConsentBallot, got {ballot!r}")
        if not isinstance(ballot.reason, str):
            raise InvalidBallot(f"a reason must be text, got {ballot.reason!r}")
        reason = ballot.reason.strip()
        if ballot.position == Position.CONSENT:
            consents += 1
        elif ballot.position == Position.OBJECTION:
            if not reason:
                raise InvalidBallot(
                    "an objection needs a reason: the circle cannot integrate an objection"
                    " it does not know"
                )
            objections.append(Statement(reason=reason, participant=ballot.participant))
        elif ballot.position == Position.STAND_ASIDE:
            stand_asides.append(Statement(reason=reason, participant=ballot.participant))
        else:
            raise InvalidBallot(
                f"unknown consent position {ballot.position!r}:"
                " expected consent, objection or stand_aside"
            )

    if objections:
        passed, why = False, ConsentReason.OBJECTION
    elif consents + len(stand_asides) == 0:
        passed, why = False, ConsentReason.NO_BALLOTS
    else:
        passed, why = True, ConsentReason.NO_OBJECTION
    return ConsentResult(
        passed=passed,
        reason=why,
        consents=consents,
        objection_count=len(objections),
        stand_aside_count=len(stand_asides),
        objections=_sorted(objections),
        stand_asides=_sorted(stand_asides),
        winners=(CONSENT,) if passed else (),
        ties=(),
    )


def summarize_consent_rounds(*, rounds: Sequence[ConsentResult]) -> ConsentHistory:
    """Summarise the rounds of one proposal, oldest first; none may follow a passed round."""
    if not rounds:
        raise ValueError("a consent history needs at least one round")
    for number, round_ in enumerate(rounds[:-1], start=1):
        if round_.passed:
            # A passed round is the decision; a later round would be a new proposal.
            raise ValueError(
                f"round {number} passed, so it must be the last one (got {len(rounds)} rounds)"
            )
    last_passed = rounds[-1].passed
    per_round = tuple(r.objection_count for r in rounds)
    return ConsentHistory(
        rounds=tuple(rounds),
        passed=last_passed,
        passed_in_round=len(rounds) if last_passed else None,
        objections_per_round=per_round,
        total_objections=sum(per_round),
        winners=(CONSENT,) if last_passed else (),
        ties=(),
    )


def _sorted(statements: list[Statement]) -> tuple[Statement, ...]:
    # Sorting by content is what makes the list independent of the ballot order.
    # The key covers every field, so equal keys mean equal statements: no order leaks in.
    return tuple(
        sorted(
            statements,
            key=lambda s: (s.reason, s.participant is not None, s.participant or ""),
        )
    )
