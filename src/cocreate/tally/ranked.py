"""Ranked ballots: instant-runoff voting (one winner) and single transferable vote (k seats).

Ballots. A ranked ballot is a sequence of option ids, most preferred first. It may stop
early: the options it leaves out come after all the ranked ones, equally. A ballot that
names an unknown option, names the same option twice, or is a plain string (almost
certainly one option id passed where a ranking was meant) raises :class:`InvalidBallot`.
An empty ballot is a *blank*: it is counted and reported, and is exhausted from the start,
so it never weighs in a majority or a quota, like a blank ballot in French law, which does
not count among the votes expressed (Code électoral art. L65).

The order of the ballots never matters: identical rankings are grouped and every count is
a sum, exact in integers or :class:`fractions.Fraction`.

Weights. Both counts take an optional ``weights``, one per ballot, in the order of the
ballots: exact, non-negative :class:`fractions.Fraction` values. They exist for the
voting colleges of a SCIC (société coopérative d'intérêt collectif, loi n° 47-1775 of
10 September 1947, art. 19 octies): the statutes give each college ``c`` a weight ``w_c``,
the weights adding up to 100 %, and each college must weigh its share whatever its size.
So the app gives every ballot of college ``c`` the weight ``w_c / n_c``, where ``n_c`` is
the number of ballots of that college that rank something (a blank weighs 0; see
:func:`cocreate.tally.colleges.ballot_weights`). A ballot then counts for its weight wherever
it would count for one: every tally, majority, quota and exhausted pile below is a sum of
weights instead of a number of ballots, exact in fractions. A ballot of weight 0 (a college
weighted 0 %) is counted in ``ballots`` and changes nothing else: the count is the one of
the other ballots. Without weights every ballot weighs 1, and the counts are whole numbers
(IRV) or fractions of whole ballots (STV). ``ballots`` and ``blank`` still report numbers of
ballots, not weights. Scaling every weight by the same factor scales every figure and changes
neither the winners nor the ties.

Instant-runoff voting (:func:`tally_irv`). Rounds are counted until one is decided:

1. Each ballot counts for its highest-ranked option still *continuing* (not eliminated).
   A ballot with no continuing option left is *exhausted*.
2. An option with a strict majority of the continuing ballots (more than half of the
   ballots not exhausted; with weights, more than half of their weight) wins. So does the
   last continuing option.
3. Otherwise the option with the fewest votes is eliminated and the next round begins.

Every round reports the count of each continuing option, the exhausted ballots (blanks
included, cumulative), and the option eliminated (``None`` in the final round): whole
numbers of ballots without weights, exact fractions (sums of weights) with them.

Single transferable vote (:func:`tally_stv`) follows the counting rules 45 to 52 of the
Scottish Local Government Elections Order 2007 (SSI 2007/42, schedule 1), with one
deliberate change: arithmetic is exact (:class:`fractions.Fraction`) where the Order
truncates transfer values to five decimal places, so a recount can never differ by a
rounding and every stage adds up exactly.

- Quota, unweighted: the whole-vote Droop quota of the Order,
  ``floor(valid / (seats + 1)) + 1``, where ``valid`` is the number of non-blank ballots
  (rule 46), and a candidate is elected on *reaching* it (rule 47). It is an integer on
  purpose: it is the figure the Order prescribes and members can check it by hand, and
  since ``(seats + 1) * quota > valid`` no more than ``seats`` candidates can ever reach
  it. The quota is reported as a Fraction so that all the arithmetic is of one kind.
- Quota, weighted: rounding up to the next whole vote only makes sense when votes come in
  whole ballots, so with weights the count uses the *exact* Droop quota
  ``valid / (seats + 1)``, ``valid`` being the total weight of the non-blank ballots, and a
  candidate is elected on strictly *exceeding* it (the Newland–Britton rule); since
  ``(seats + 1) * quota = valid``, no more than ``seats`` candidates can exceed it
  (``STVResult.exact_quota`` is then True). One exception: when every non-blank ballot
  has the same weight ``w`` (a single college voted, say), the weights change nothing and
  the count is the unweighted one with every figure multiplied by ``w``: quota
  ``w * (floor(valid ballots / (seats + 1)) + 1)``, elected on reaching it (ballots of
  weight 0 are left out of this comparison and of ``valid ballots``: they weigh nothing). So weights
  all equal to 1 give exactly the unweighted count, and scaling the weights never changes
  the result but for its scale.
- Stage 1 counts first preferences (rule 45). At the end of every stage, each continuing
  candidate whose votes reach the quota (exceed it, with the exact quota) is elected
  (rule 47); those elected at the same stage are elected in decreasing order of votes.
  Then, when the continuing candidates are no more than the seats left, they are all
  elected, in decreasing order of votes, and the count ends (rule 52). It also ends when
  every seat is filled.
- Otherwise, while an elected candidate has a surplus (votes above the quota) not yet
  transferred, the largest surplus is transferred (rule 49); equal surpluses go in the
  order of election, which rule 49(2) comes down to (a candidate elected earlier had the
  quota at the last stage where the two differed; candidates elected at the same stage
  were ordered by the tie rule below). The transfer uses the Weighted Inclusive Gregory
  Method of rule 48: *every* ballot the candidate holds, not only the last parcel, passes to
  its next continuing preference, and its value is multiplied by the *transfer value*
  ``surplus / votes of the candidate``. Ballots with no continuing preference left carry
  their share of the surplus to the exhausted pile. The candidate keeps exactly the quota.
- Otherwise the continuing candidate with the fewest votes is excluded and each of its
  ballots passes, at the value it had, to its next continuing preference (rule 50).

Transfers skip candidates already elected or excluded. Every stage reports the votes of
the elected and continuing candidates, who was elected or excluded, whose surplus was
transferred and at which transfer value, and the exhausted value (blanks included,
cumulative): at every stage, votes plus exhausted equal the number of ballots (their total
weight, with weights) exactly.
Winners are listed in order of election, and there may be fewer than ``seats`` of them
when there are fewer options than seats.

Ties. The method's own rule comes first: *backwards tie-breaking*, as in the Order
(rules 49(2) and 51). The tied options are compared at the most recent earlier round
(IRV) or stage (STV) at which their votes differed: for an elimination or exclusion the
one that had fewer votes there goes; to order candidates elected at the same stage, the
one that had more votes there comes first. When that only splits off some of the tied
options, the comparison goes on further back among those still tied. Options still tied
after the first round or stage are separated by the reproducible lot of
:func:`cocreate.tally.base.lot_order`: the option it draws first is the one the tie-break
picks (the one eliminated or excluded, or the one elected first). Every tie broken is
reported: one :class:`~cocreate.tally.base.Tie` with ``broken_by="backwards"`` when the
rule settled or narrowed it (``chosen`` lists the options it picked out), one with
``broken_by="lot"`` when the lot was drawn.

:func:`check_ranked_ballots` is shared with :mod:`cocreate.tally.schulze`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Generic, Literal, TypeVar, overload

from cocreate.tally.base import InvalidBallot, OptionId, Tie, check_options, lot_order

__all__ = [
    "BACKWARDS",
    "LOT",
    "IRVResult",
    "IRVRound",
    "STVResult",
    "STVStage",
    "StageKind",
    "check_ranked_ballots",
    "tally_irv",
    "tally_stv",
]

# Names of the tie rules, as reported in ``Tie.broken_by``.
BACKWARDS = "backwards"
LOT = "lot"

StageKind = Literal["first", "surplus", "exclusion"]

# A vote count: whole ballots in unweighted IRV, exact fractions in STV and with weights.
_Votes = TypeVar("_Votes", int, Fraction)


@dataclass(frozen=True, slots=True)
class IRVRound(Generic[_Votes]):
    """One instant-runoff round: the count of each continuing option and what it decided.

    ``IRVRound[int]`` counts ballots (no weights); ``IRVRound[Fraction]`` sums weights.
    """

    counts: Mapping[OptionId, _Votes]  # ballots (weight) per continuing option, poll order
    exhausted: _Votes  # ballots (weight) with no continuing option left, blanks included
    eliminated: OptionId | None  # None in the final round, which found the winner


@dataclass(frozen=True, slots=True)
class IRVResult(Generic[_Votes]):
    """Outcome of an instant-runoff count: every round, the winner, the ties broken.

    ``IRVResult[int]`` without weights, ``IRVResult[Fraction]`` with them.
    """

    ballots: int  # ballots counted, blanks included (a number of ballots, even with weights)
    blank: int
    rounds: tuple[IRVRound[_Votes], ...]
    winner: OptionId
    winners: tuple[OptionId, ...]  # (winner,)
    ties: tuple[Tie, ...]


@dataclass(frozen=True, slots=True)
class STVStage:
    """One stage of an STV count: the votes at its end and what it decided."""

    kind: StageKind
    votes: Mapping[OptionId, Fraction]  # elected and continuing candidates, in poll order
    elected: tuple[OptionId, ...]  # elected at this stage, in order of election
    excluded: OptionId | None  # the candidate excluded at an "exclusion" stage
    surplus_from: OptionId | None  # the candidate whose surplus a "surplus" stage moved
    transfer_value: Fraction | None  # surplus / votes of surplus_from; None at other stages
    exhausted: Fraction  # value no longer with any candidate, blanks included (cumulative)


@dataclass(frozen=True, slots=True)
class STVResult:
    """Outcome of an STV count: quota, every stage, winners in order of election, ties."""

    seats: int
    ballots: int  # ballots counted, blanks included (a number of ballots, even with weights)
    blank: int
    quota: Fraction  # Droop quota of the non-blank ballots (their weight, with weights)
    exact_quota: bool  # True: exact Droop quota, elected on exceeding it; False: on reaching
    stages: tuple[STVStage, ...]
    winners: tuple[OptionId, ...]  # in order of election; at most ``seats`` of them
    ties: tuple[Tie, ...]


def check_ranked_ballots(
    *, options: Sequence[OptionId], ballots: Iterable[Sequence[OptionId]]
) -> list[tuple[OptionId, ...]]:
    """Validate ranked ballots against the options; return them as tuples, in input order."""
    known = set(options)
    checked: list[tuple[OptionId, ...]] = []
    for number, ballot in enumerate(ballots, start=1):
        # A string is a sequence of one-letter ids: "AB" would silently rank "A" then "B".
        if isinstance(ballot, str):
            raise InvalidBallot(f"ballot {number}: a ranking is a sequence of option ids")
        ranking = tuple(ballot)
        seen: set[OptionId] = set()
        for option in ranking:
            if not isinstance(option, str) or option not in known:
                raise InvalidBallot(f"ballot {number}: unknown option {option!r}")
            if option in seen:
                raise InvalidBallot(f"ballot {number}: option {option!r} is ranked twice")
            seen.add(option)
        checked.append(ranking)
    return checked


def _break_tie(
    tied: Sequence[OptionId],
    history: Sequence[Mapping[OptionId, _Votes]],
    *,
    fewest: bool,
    seed: str,
    ties: list[Tie],
) -> OptionId:
    """Pick one of ``tied`` (in poll order) by backwards tie-breaking, then by lot.

    ``history`` holds the counts of every round or stage so far, oldest first; the tied
    options are equal in the last one. ``fewest`` picks the option that had fewer votes
    (elimination), otherwise the one that had more (order of election). Records the ties.
    """
    remaining = list(tied)
    for counts in reversed(history):
        values = [counts[option] for option in remaining]
        target = min(values) if fewest else max(values)
        narrowed = [option for option in remaining if counts[option] == target]
        if len(narrowed) < len(remaining):
            remaining = narrowed
            if len(remaining) == 1:
                break
    if len(remaining) < len(tied):
        ties.append(Tie(options=tuple(tied), broken_by=BACKWARDS, chosen=tuple(remaining)))
    if len(remaining) == 1:
        return remaining[0]
    drawn = lot_order(remaining, seed)[0]
    ties.append(Tie(options=tuple(remaining), broken_by=LOT, chosen=(drawn,)))
    return drawn


def _check_weights(weights: Sequence[Fraction], ballots: int) -> list[Fraction]:
    """Validate one non-negative exact weight per ballot; return them as Fractions."""
    if isinstance(weights, str) or not isinstance(weights, Sequence):
        raise ValueError("weights must be a sequence, one weight per ballot")
    if len(weights) != ballots:
        raise ValueError(f"{len(weights)} weights for {ballots} ballots: give one per ballot")
    checked: list[Fraction] = []
    for number, weight in enumerate(weights, start=1):
        # Exact numbers only: a float weight would bring its binary rounding into the count.
        if isinstance(weight, bool) or not isinstance(weight, int | Fraction):
            raise ValueError(f"ballot {number}: a weight is a Fraction, not {weight!r}")
        if weight < 0:
            raise ValueError(f"ballot {number}: a weight cannot be negative, not {weight}")
        checked.append(Fraction(weight))
    return checked


def _group(
    rankings: Sequence[tuple[OptionId, ...]], weights: Sequence[Fraction]
) -> dict[tuple[OptionId, ...], Fraction]:
    """Total weight of each distinct ranking."""
    totals: dict[tuple[OptionId, ...], Fraction] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        totals[ranking] = totals.get(ranking, Fraction(0)) + weight
    return totals


def _count_irv(
    options: tuple[OptionId, ...],
    groups: Mapping[tuple[OptionId, ...], _Votes],
    zero: _Votes,
    seed: str,
) -> tuple[OptionId, list[IRVRound[_Votes]], list[Tie]]:
    """The rounds of an IRV count of ``groups`` (ballots or weight per ranking)."""
    total = sum(groups.values(), zero)
    continuing = list(options)
    history: list[dict[OptionId, _Votes]] = []
    rounds: list[IRVRound[_Votes]] = []
    ties: list[Tie] = []
    while True:
        in_race = set(continuing)
        counts = dict.fromkeys(continuing, zero)
        exhausted = zero
        for ranking, number in groups.items():
            top = next((option for option in ranking if option in in_race), None)
            if top is None:
                exhausted += number
            else:
                counts[top] += number
        history.append(counts)
        active = total - exhausted
        # Strictly more than half: twice the count beats the total without rounding.
        majority = [option for option in continuing if 2 * counts[option] > active]
        if majority or len(continuing) == 1:
            winner = majority[0] if majority else continuing[0]
            rounds.append(IRVRound(counts=counts, exhausted=exhausted, eliminated=None))
            return winner, rounds, ties
        fewest = min(counts.values())
        tied = [option for option in continuing if counts[option] == fewest]
        loser = (
            tied[0]
            if len(tied) == 1
            else _break_tie(tied, history, fewest=True, seed=seed, ties=ties)
        )
        rounds.append(IRVRound(counts=counts, exhausted=exhausted, eliminated=loser))
        continuing.remove(loser)


@overload
def tally_irv(
    *,
    options: Sequence[OptionId],
    ballots: Iterable[Sequence[OptionId]],
    seed: str,
    weights: None = None,
) -> IRVResult[int]: ...


@overload
def tally_irv(
    *,
    options: Sequence[OptionId],
    ballots: Iterable[Sequence[OptionId]],
    seed: str,
    weights: Sequence[Fraction],
) -> IRVResult[Fraction]: ...


@overload
def tally_irv(
    *,
    options: Sequence[OptionId],
    ballots: Iterable[Sequence[OptionId]],
    seed: str,
    weights: Sequence[Fraction] | None = None,
) -> IRVResult[int] | IRVResult[Fraction]: ...


def tally_irv(
    *,
    options: Sequence[OptionId],
    ballots: Iterable[Sequence[OptionId]],
    seed: str,
    weights: Sequence[Fraction] | None = None,
) -> IRVResult[int] | IRVResult[Fraction]:
    """Count ranked ballots by instant-runoff voting (rules in the module docstring).

    ``weights``: one non-negative Fraction per ballot, or None for one each. Without
    weights the counts are whole numbers of ballots; with them, exact sums of weights.
    """
    poll_options = check_options(options)
    checked = check_ranked_ballots(options=poll_options, ballots=ballots)
    blank = sum(1 for ranking in checked if not ranking)
    if weights is None:
        winner, rounds, ties = _count_irv(poll_options, Counter(checked), 0, seed)
        return IRVResult(
            ballots=len(checked),
            blank=blank,
            rounds=tuple(rounds),
            winner=winner,
            winners=(winner,),
            ties=tuple(ties),
        )
    groups = _group(checked, _check_weights(weights, len(checked)))
    weighted_winner, weighted_rounds, weighted_ties = _count_irv(
        poll_options, groups, Fraction(0), seed
    )
    return IRVResult(
        ballots=len(checked),
        blank=blank,
        rounds=tuple(weighted_rounds),
        winner=weighted_winner,
        winners=(weighted_winner,),
        ties=tuple(weighted_ties),
    )


@dataclass(slots=True)
class _Parcel:
    """Every ballot with one ranking: they always travel together at one value each."""

    ranking: tuple[OptionId, ...]
    weight: Fraction  # of its ballots together: their number, without weights
    value: Fraction  # value of each ballot, 1 until a surplus transfer reduces it
    position: int  # index in ranking of the candidate holding them; len(ranking) = exhausted

    @property
    def holder(self) -> OptionId | None:
        return self.ranking[self.position] if self.position < len(self.ranking) else None


class _STVCount:
    """The mutable state of one STV count; :func:`tally_stv` drives it stage by stage."""

    def __init__(
        self,
        options: tuple[OptionId, ...],
        checked: list[tuple[OptionId, ...]],
        weights: list[Fraction],
        seats: int,
        seed: str,
    ) -> None:
        self.options = options
        self.seats = seats
        self.seed = seed
        self.blank = sum(1 for ranking in checked if not ranking)
        # A ballot of weight 0 weighs nothing, not even in the choice of the quota.
        valid = [w for ranking, w in zip(checked, weights, strict=True) if ranking and w > 0]
        unit = valid[0] if valid else Fraction(1)
        # Equal weights change nothing: the Order's whole-vote quota, in units of the weight.
        self.exact_quota = any(weight != unit for weight in valid)
        if self.exact_quota:
            self.quota = sum(valid, Fraction(0)) / (seats + 1)
        else:
            self.quota = unit * (len(valid) // (seats + 1) + 1)
        groups = _group(checked, weights)
        self.parcels = [
            _Parcel(ranking=ranking, weight=weight, value=Fraction(1), position=0)
            for ranking, weight in groups.items()
            if ranking
        ]
        self.continuing = list(options)  # in poll order
        self.elected: list[OptionId] = []  # in order of election
        self.excluded: set[OptionId] = set()
        self.transferred: set[OptionId] = set()  # elected candidates whose surplus has moved
        self.votes = dict.fromkeys(options, Fraction(0))
        self.exhausted = groups.get((), Fraction(0))
        for parcel in self.parcels:
            self.votes[parcel.ranking[0]] += parcel.weight * parcel.value
        self.history: list[dict[OptionId, Fraction]] = []
        self.stages: list[STVStage] = []
        self.ties: list[Tie] = []

    @property
    def open_seats(self) -> int:
        return self.seats - len(self.elected)

    def _has_quota(self, candidate: OptionId) -> bool:
        """Reaches the whole-vote quota, or exceeds the exact one (rule 47)."""
        if self.exact_quota:
            return self.votes[candidate] > self.quota
        return self.votes[candidate] >= self.quota

    def _move(self, parcel: _Parcel) -> None:
        """Pass a parcel to its next continuing preference, or to the exhausted pile."""
        in_race = set(self.continuing)
        position = parcel.position + 1
        while position < len(parcel.ranking) and parcel.ranking[position] not in in_race:
            position += 1
        parcel.position = position
        holder = parcel.holder
        if holder is None:
            self.exhausted += parcel.weight * parcel.value
        else:
            self.votes[holder] += parcel.weight * parcel.value

    def _by_votes(self, candidates: list[OptionId]) -> list[OptionId]:
        """Order candidates elected at one stage: more votes first, ties by the tie rule."""
        ordered: list[OptionId] = []
        left = sorted(candidates, key=lambda c: -self.votes[c])
        while left:
            top = self.votes[left[0]]
            tied = [c for c in self.options if c in left and self.votes[c] == top]
            first = (
                tied[0]
                if len(tied) == 1
                else _break_tie(tied, self.history, fewest=False, seed=self.seed, ties=self.ties)
            )
            ordered.append(first)
            left.remove(first)
        return ordered

    def _elect(self, candidates: list[OptionId]) -> list[OptionId]:
        ordered = self._by_votes(candidates)
        for candidate in ordered:
            self.continuing.remove(candidate)
            self.elected.append(candidate)
        return ordered

    def end_stage(
        self,
        kind: StageKind,
        *,
        excluded: OptionId | None = None,
        surplus_from: OptionId | None = None,
        transfer_value: Fraction | None = None,
    ) -> None:
        """Record the stage, then elect at quota (rule 47) and fill the last seats (rule 52)."""
        standing = [c for c in self.options if c in self.elected or c in self.continuing]
        votes = {c: self.votes[c] for c in standing}
        self.history.append(votes)
        elected = self._elect([c for c in self.continuing if self._has_quota(c)])
        if 0 < len(self.continuing) <= self.open_seats:
            elected += self._elect(list(self.continuing))
        self.stages.append(
            STVStage(
                kind=kind,
                votes=votes,
                elected=tuple(elected),
                excluded=excluded,
                surplus_from=surplus_from,
                transfer_value=transfer_value,
                exhausted=self.exhausted,
            )
        )

    def next_stage(self) -> None:
        """Transfer the largest surplus (rules 48, 49), or else exclude the lowest (50, 51)."""
        pending = [
            c for c in self.elected if c not in self.transferred and self.votes[c] > self.quota
        ]
        if pending:
            # max() keeps the first of equal surpluses, i.e. the one elected first.
            candidate = max(pending, key=lambda c: self.votes[c])
            total = self.votes[candidate]
            transfer_value = (total - self.quota) / total
            self.transferred.add(candidate)
            self.votes[candidate] = self.quota
            for parcel in self.parcels:
                if parcel.holder == candidate:
                    parcel.value *= transfer_value
                    self._move(parcel)
            self.end_stage("surplus", surplus_from=candidate, transfer_value=transfer_value)
            return
        fewest = min(self.votes[c] for c in self.continuing)
        tied = [c for c in self.continuing if self.votes[c] == fewest]
        loser = (
            tied[0]
            if len(tied) == 1
            else _break_tie(tied, self.history, fewest=True, seed=self.seed, ties=self.ties)
        )
        self.continuing.remove(loser)
        self.excluded.add(loser)
        del self.votes[loser]
        for parcel in self.parcels:
            if parcel.holder == loser:
                self._move(parcel)
        self.end_stage("exclusion", excluded=loser)

    def done(self) -> bool:
        return self.open_seats == 0 or not self.continuing


def tally_stv(
    *,
    options: Sequence[OptionId],
    ballots: Iterable[Sequence[OptionId]],
    seats: int,
    seed: str,
    weights: Sequence[Fraction] | None = None,
) -> STVResult:
    """Count ranked ballots by STV for ``seats`` seats (rules in the module docstring).

    ``weights``: one non-negative Fraction per ballot, or None for one each. With
    unequal weights the quota is the exact Droop quota, exceeded to be elected.
    """
    poll_options = check_options(options)
    if isinstance(seats, bool) or not isinstance(seats, int) or seats < 1:
        raise ValueError("seats must be a whole number, at least 1")
    checked = check_ranked_ballots(options=poll_options, ballots=ballots)
    checked_weights = (
        [Fraction(1)] * len(checked) if weights is None else _check_weights(weights, len(checked))
    )
    count = _STVCount(poll_options, checked, checked_weights, seats, seed)
    count.end_stage("first")
    while not count.done():
        count.next_stage()
    return STVResult(
        seats=seats,
        ballots=len(checked),
        blank=count.blank,
        quota=count.quota,
        exact_quota=count.exact_quota,
        stages=tuple(count.stages),
        winners=tuple(count.elected),
        ties=tuple(count.ties),
    )
