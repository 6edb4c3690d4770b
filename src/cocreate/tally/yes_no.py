"""For / against / abstain / blank on one motion, under a configurable majority rule.

Method. Each ballot is one of ``"for"``, ``"against"``, ``"abstain"`` or ``"blank"``. The
ballots are counted, then the motion is adopted or rejected by comparing the "for" count
with a threshold, a fraction of a base count, chosen by the :class:`MajorityRule`.

Votes expressed. By default only "for" and "against" are *expressed* (French *suffrages
exprimés*): abstentions and blank ballots are recorded and reported but count neither for
nor against, as Code électoral art. L65 says of blank ballots since the loi n° 2014-172 of
21 February 2014 ("ils n'entrent pas en compte pour la détermination des suffrages
exprimés"), and as Robert's Rules of Order Newly Revised (11th ed., §44) says of blanks
and abstentions. Statutes that say otherwise set ``abstentions_count_as_expressed`` and/or
``blank_count_as_expressed``; the counted ones then join the base of the rules that use
votes expressed, where they weigh like "against".

Rules, exactly (F = for, A = against, E = votes expressed, N = electorate):

- ``SIMPLE``: F > A. Abstentions and blanks never matter, even when counted as expressed.
- ``ABSOLUTE_OF_EXPRESSED``: F > E/2.
- ``ABSOLUTE_OF_ELECTORATE``: F > N/2; N (``electorate``) is required and may not be
  smaller than the number of ballots.
- ``TWO_THIRDS``: F ≥ 2E/3 ("at least", so exactly two thirds adopts; RONR §44).
- ``UNANIMITY``: A = 0 and F ≥ 1. Abstentions and blanks never break unanimity.

Thresholds are exact :class:`fractions.Fraction` values: "exactly two thirds" is never a
rounding question.

Tie rule. A motion is never decided by lot. Under ``SIMPLE`` an exact tie (F = A) rejects
the motion: the status quo stands, as in every deliberative assembly (RONR §44: a tie is
not "more than half"). The tie is reported in ``ties`` and by ``reason == "tie"``. No other
rule has a tie to break: a threshold is either met or not. No ``seed`` is therefore taken.
"""

from __future__ import annotations

import enum
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from cocreate.tally.base import InvalidBallot, OptionId, Tie

# Shares of a base count (dimensionless fractions).
HALF = Fraction(1, 2)
TWO_THIRDS = Fraction(2, 3)
ALL = Fraction(1)

# The only option a yes/no vote can elect, and the one that stands when it is not adopted.
FOR: OptionId = "for"
AGAINST: OptionId = "against"
# Name of this method's own tie rule, as reported in ``Tie.broken_by``.
TIE_REJECTS = "tie_rejects"


class Choice(enum.StrEnum):
    """What a yes/no ballot can say."""

    FOR = "for"
    AGAINST = "against"
    ABSTAIN = "abstain"
    BLANK = "blank"


class MajorityRule(enum.Enum):
    """The majority a motion needs to be adopted."""

    SIMPLE = "simple"
    ABSOLUTE_OF_EXPRESSED = "absolute_of_expressed"
    ABSOLUTE_OF_ELECTORATE = "absolute_of_electorate"
    TWO_THIRDS = "two_thirds"
    UNANIMITY = "unanimity"


class ThresholdBase(enum.StrEnum):
    """What the threshold is a fraction of."""

    FOR_AND_AGAINST = "for_and_against"
    EXPRESSED = "expressed"
    ELECTORATE = "electorate"


class Reason(enum.StrEnum):
    """Why the motion was adopted or rejected, for machines and translations."""

    ADOPTED = "adopted"
    TIE = "tie"  # SIMPLE only: as many for as against
    THRESHOLD_NOT_MET = "threshold_not_met"
    UNANIMITY_BROKEN = "unanimity_broken"  # UNANIMITY: at least one against
    NO_VOTES_EXPRESSED = "no_votes_expressed"  # no ballot counted as expressed


@dataclass(frozen=True, slots=True)
class YesNoCounts:
    """How many ballots of each kind were cast (numbers of ballots)."""

    for_votes: int = 0
    against: int = 0
    abstentions: int = 0
    blanks: int = 0

    @property
    def total(self) -> int:
        return self.for_votes + self.against + self.abstentions + self.blanks


@dataclass(frozen=True, slots=True)
class YesNoResult:
    """Outcome of a yes/no vote: counts, the threshold applied and the decision."""

    rule: MajorityRule
    counts: YesNoCounts
    expressed: int  # ballots counted as votes expressed
    electorate: int | None
    threshold: Fraction  # share of ``threshold_base`` that "for" must reach
    threshold_base: ThresholdBase
    base_count: int  # the number of ballots (or electors) the threshold is a share of
    strict: bool  # True: "for" must exceed threshold × base; False: reach it
    for_needed: int  # smallest "for" count that meets the threshold against this base
    adopted: bool
    reason: Reason
    winners: tuple[OptionId, ...]  # ("for",) when adopted, else ()
    ties: tuple[Tie, ...]


def tally_yes_no(
    *,
    ballots: Iterable[str],
    rule: MajorityRule,
    electorate: int | None = None,
    abstentions_count_as_expressed: bool = False,
    blank_count_as_expressed: bool = False,
) -> YesNoResult:
    """Count yes/no ballots and apply ``rule``; see the module docstring for the rules."""
    # Counting first makes the result independent of ballot order by construction.
    try:
        tally = Counter(ballots)
    except TypeError as exc:  # an unhashable ballot (a list, a dict…) is no yes/no ballot
        raise InvalidBallot(f"a yes/no ballot must be a string: {exc}") from exc
    valid = {c.value for c in Choice}
    unknown = sorted(str(k) for k in tally if k not in valid)
    if unknown:
        raise InvalidBallot(
            f"unknown yes/no ballot {unknown[0]!r}: expected one of for, against, abstain, blank"
        )
    counts = YesNoCounts(
        for_votes=tally[Choice.FOR.value],
        against=tally[Choice.AGAINST.value],
        abstentions=tally[Choice.ABSTAIN.value],
        blanks=tally[Choice.BLANK.value],
    )
    return tally_yes_no_counts(
        counts=counts,
        rule=rule,
        electorate=electorate,
        abstentions_count_as_expressed=abstentions_count_as_expressed,
        blank_count_as_expressed=blank_count_as_expressed,
    )


def tally_yes_no_counts(
    *,
    counts: YesNoCounts,
    rule: MajorityRule,
    electorate: int | None = None,
    abstentions_count_as_expressed: bool = False,
    blank_count_as_expressed: bool = False,
) -> YesNoResult:
    """Apply ``rule`` to counts already totalled, e.g. a show of hands or a published record."""
    for name in ("for_votes", "against", "abstentions", "blanks"):
        value = getattr(counts, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"count {name} must be a non-negative integer, got {value!r}")
    if electorate is not None:
        if isinstance(electorate, bool) or not isinstance(electorate, int) or electorate < 0:
            raise ValueError(f"electorate must be a non-negative integer, got {electorate!r}")
        if electorate < counts.total:
            raise ValueError(
                f"electorate ({electorate}) is smaller than the number of ballots ({counts.total})"
            )

    expressed = counts.for_votes + counts.against
    if abstentions_count_as_expressed:
        expressed += counts.abstentions
    if blank_count_as_expressed:
        expressed += counts.blanks

    threshold, base, strict = _threshold(rule)
    if base is ThresholdBase.ELECTORATE:
        if electorate is None:
            raise ValueError("the absolute majority of the electorate needs the electorate size")
        base_count = electorate
    elif base is ThresholdBase.EXPRESSED:
        base_count = expressed
    else:
        base_count = counts.for_votes + counts.against

    for_needed = _smallest_meeting(threshold * base_count, strict=strict)
    if rule is MajorityRule.UNANIMITY:
        # Unanimity of nobody is not a decision: at least one "for" is required.
        for_needed = max(for_needed, 1)

    ties: tuple[Tie, ...] = ()
    if expressed == 0 and base is not ThresholdBase.ELECTORATE:
        adopted, reason = False, Reason.NO_VOTES_EXPRESSED
    elif counts.for_votes >= for_needed:
        adopted, reason = True, Reason.ADOPTED
    elif rule is MajorityRule.SIMPLE and counts.for_votes == counts.against > 0:
        adopted, reason = False, Reason.TIE
        ties = (Tie(options=(AGAINST, FOR), broken_by=TIE_REJECTS, chosen=(AGAINST,)),)
    elif rule is MajorityRule.UNANIMITY and counts.against > 0:
        adopted, reason = False, Reason.UNANIMITY_BROKEN
    else:
        adopted, reason = False, Reason.THRESHOLD_NOT_MET

    return YesNoResult(
        rule=rule,
        counts=counts,
        expressed=expressed,
        electorate=electorate,
        threshold=threshold,
        threshold_base=base,
        base_count=base_count,
        strict=strict,
        for_needed=for_needed,
        adopted=adopted,
        reason=reason,
        winners=(FOR,) if adopted else (),
        ties=ties,
    )


def _threshold(rule: MajorityRule) -> tuple[Fraction, ThresholdBase, bool]:
    """The share of which base that "for" must exceed (strict) or reach under ``rule``."""
    if rule is MajorityRule.SIMPLE:
        # F > (F + A) / 2 is the same inequality as F > A.
        return HALF, ThresholdBase.FOR_AND_AGAINST, True
    if rule is MajorityRule.ABSOLUTE_OF_EXPRESSED:
        return HALF, ThresholdBase.EXPRESSED, True
    if rule is MajorityRule.ABSOLUTE_OF_ELECTORATE:
        return HALF, ThresholdBase.ELECTORATE, True
    if rule is MajorityRule.TWO_THIRDS:
        return TWO_THIRDS, ThresholdBase.EXPRESSED, False
    # UNANIMITY: F ≥ 1 × (F + A) is the same inequality as A = 0.
    return ALL, ThresholdBase.FOR_AND_AGAINST, False


def _smallest_meeting(bound: Fraction, *, strict: bool) -> int:
    """Smallest whole number of votes that exceeds (strict) or reaches ``bound``."""
    return math.floor(bound) + 1 if strict else math.ceil(bound)
