"""Voting colleges (SCIC): each method's ballots counted per college, then weighed.

A société coopérative d'intérêt collectif may group its members into colleges whose
votes weigh a set share of the general assembly, whatever their size (loi n° 47-1775 of
10 September 1947, art. 19 octies; the statutes set the weights, adding up to 100 %).
A ballot of such a poll names its college, never its voter (:class:`CollegeBallot`); the
functions below take those ballots and the weights as plain data and return the weighed
result. ``docs/ballot-file.md`` ("Colleges") states the same rules for a recount.

Rules. Each college's ballots are counted with the poll's own rules
(``yes_no.tally_yes_no``): that gives its share of "for" — of for + against, of votes
expressed, or of its electorate, as the majority rule says. The assembly's share is the
weighted mean of the colleges' shares. A college weighted 0 % weighs nothing: its ballots
are counted and shown, and change no share. Under the rules whose base is the votes (simple,
absolute of votes expressed, two thirds, unanimity), a college in which nobody expressed a
vote has no share: it is left out and the other colleges' weights are scaled up to 100 %
(the usual statutory clause; otherwise an absent college would count as voting against).
Under the absolute majority of the electorate the base is the members, not the votes: every
college keeps its share F_c / N_c of its own electorate N_c (0 when nobody in it voted "for",
or when it has no member), and the weights are never scaled, so a silent college's weight
counts as not "for". The motion is adopted when the weighted share passes the rule's
threshold: more than half for the majorities, at least two thirds for two thirds, and for
unanimity no "against" in any college that weighs. An exact half under a strict majority is
a tie, which rejects. One more "for" ballot, in any college, never turns an adopted motion
into a rejected one (a property test checks it for every rule).

Options (approval, dot and score voting: :func:`weigh_approval`, :func:`weigh_dots`,
:func:`weigh_score`) are weighed the same way: each college gives every option a value
between 0 and 1 — the share of its ballots approving it, the share of its points it
received, or its mean score scaled to 0–1 — and the assembly's value is the weighted mean
over the colleges that cast ballots. Equal values are ordered by the lot, not by the
method's own tie rule (more supporters, higher median): those count ballots, and a ballot
of one college does not weigh what a ballot of another does. Dot and score voting elect
one option, approval ``seats`` of them. Ranked methods (IRV, STV, Schulze) and majority
judgment weigh each ballot instead, inside their own tallies (:func:`ranked_ballot_weights`,
:func:`judgment_ballot_weights`): a ballot of college c weighs w_c / n_c, n_c being the
ballots of that college that the method counts (for the ranked methods, those that rank
something; for majority judgment, every ballot, an ungraded option counting as "to
reject"); a ballot the method does not count (a blank ranking) weighs 0, and so does every
ballot of a college weighted 0 %. When no ballot weighs anything, nobody wins: the caller
reports that instead of counting. Consent needs no weights: one objection, from any
college, is enough.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Generic, TypeVar

from cocreate.tally.base import OptionId, Tie, lot_order
from cocreate.tally.cardinal import tally_approval, tally_dot_voting, tally_score
from cocreate.tally.yes_no import MajorityRule, YesNoResult, tally_yes_no

HALF = Fraction(1, 2)
TWO_THIRDS = Fraction(2, 3)
# The per-college counts below read totals only, never a ranking: no lot is drawn, so
# they need no seed.
NO_LOT = ""

Vote = TypeVar("Vote")
# Covariant: a ballot whose vote is a list is a ballot whose vote is a sequence.
Vote_co = TypeVar("Vote_co", covariant=True)


@dataclass(frozen=True, slots=True)
class CollegeBallot(Generic[Vote_co]):
    """One ballot of a poll weighed by college: the college it counts in, and its vote."""

    college: str
    vote: Vote_co


def by_college(
    *, colleges: Iterable[str], ballots: Iterable[CollegeBallot[Vote]]
) -> dict[str, list[Vote]]:
    """Each college's votes, in the order of ``ballots``; every college of ``colleges`` is
    there, a silent one with none. A ballot of another college has no weight: ValueError."""
    grouped: dict[str, list[Vote]] = {college: [] for college in colleges}
    for ballot in ballots:
        if ballot.college not in grouped:
            raise ValueError(f"a ballot from a college without a weight: {ballot.college!r}")
        grouped[ballot.college].append(ballot.vote)
    return grouped


def _check_weights(weights: Mapping[str, int]) -> None:
    if sum(weights.values()) != 100 or any(w < 0 for w in weights.values()):
        raise ValueError("college weights must be whole percentages adding up to 100")


@dataclass(frozen=True, slots=True)
class CollegeCount:
    """One college's own count, its weight, and its share of "for" (None: no vote)."""

    college: str
    weight_percent: int
    result: YesNoResult
    for_share: Fraction | None


@dataclass(frozen=True, slots=True)
class WeightedYesNoResult:
    """A for/against motion weighed across colleges."""

    colleges: tuple[CollegeCount, ...]
    counted_weight_percent: int  # weights of the colleges that expressed a vote
    for_share: Fraction | None  # weighted share of "for"; None when no college voted
    adopted: bool
    winners: tuple[OptionId, ...]
    ties: tuple[Tie, ...]


def tally_weighted_yes_no(
    *,
    ballots: Mapping[str, Sequence[str]],
    weights: Mapping[str, int],
    rule: MajorityRule,
    electorates: Mapping[str, int] | None = None,
    abstentions_count_as_expressed: bool = False,
    blank_count_as_expressed: bool = False,
) -> WeightedYesNoResult:
    """Count each college (``ballots`` by college id), then weigh (``weights`` in %)."""
    _check_weights(weights)
    unknown = set(ballots) - set(weights)
    if unknown:
        raise ValueError(f"ballots from colleges without a weight: {sorted(unknown)}")
    counts: list[CollegeCount] = []
    for college in sorted(weights):
        result = tally_yes_no(
            ballots=ballots.get(college, ()),
            rule=rule,
            electorate=(electorates or {}).get(college),
            abstentions_count_as_expressed=abstentions_count_as_expressed,
            blank_count_as_expressed=blank_count_as_expressed,
        )
        share: Fraction | None
        if rule is MajorityRule.ABSOLUTE_OF_ELECTORATE:
            # The base is the college's members: silent, it still weighs, as not "for".
            base = result.base_count
            share = Fraction(result.counts.for_votes, base) if base else Fraction(0)
        elif result.expressed > 0 and result.base_count > 0:
            share = Fraction(result.counts.for_votes, result.base_count)
        else:
            share = None
        counts.append(CollegeCount(college, weights[college], result, share))
    voting = [c for c in counts if c.for_share is not None and c.weight_percent > 0]
    counted = sum(c.weight_percent for c in voting)
    if not counted:
        return WeightedYesNoResult(tuple(counts), 0, None, False, (), ())
    weighted = sum(
        (c.weight_percent * c.for_share for c in voting if c.for_share is not None), Fraction(0)
    )
    share = weighted / counted
    ties: tuple[Tie, ...] = ()
    if rule is MajorityRule.UNANIMITY:
        adopted = all(c.result.counts.against == 0 for c in voting) and share > 0
    elif rule is MajorityRule.TWO_THIRDS:
        adopted = share >= TWO_THIRDS
    else:
        adopted = share > HALF
        if share == HALF:
            ties = (Tie(("against", "for"), "tie_rejects", ("against",)),)
    return WeightedYesNoResult(
        colleges=tuple(counts),
        counted_weight_percent=counted,
        for_share=share,
        adopted=adopted,
        winners=("for",) if adopted else (),
        ties=ties,
    )


@dataclass(frozen=True, slots=True)
class WeightedOptionsResult:
    """Options compared across colleges: each college's normalised values, then weighted."""

    per_college: Mapping[str, Mapping[OptionId, Fraction]]  # absent: the college had no ballot
    counted_weight_percent: int
    values: Mapping[OptionId, Fraction]  # weighted value of each option, 0 to 1
    ranking: tuple[OptionId, ...]
    winners: tuple[OptionId, ...]
    ties: tuple[Tie, ...]


def weigh_options(
    *,
    options: Sequence[OptionId],
    per_college: Mapping[str, Mapping[OptionId, Fraction]],
    weights: Mapping[str, int],
    seed: str,
    seats: int = 1,
) -> WeightedOptionsResult:
    """Weigh colleges' normalised values of each option (a share of approvals, of points,
    or a mean score scaled to 0–1), as for resolutions: a college without ballots is left
    out and the others' weights scale up. Ranked by weighted value; equal values are
    ordered by the reproducible lot."""
    _check_weights(weights)
    voting = {c: v for c, v in per_college.items() if weights.get(c, 0) > 0}
    counted = sum(weights[c] for c in voting)
    values = {
        option: (
            sum((weights[c] * v.get(option, Fraction(0)) for c, v in voting.items()), Fraction(0))
            / counted
            if counted
            else Fraction(0)
        )
        for option in options
    }
    ranking: list[OptionId] = []
    ties: list[Tie] = []
    for value in sorted(set(values.values()), reverse=True):
        group = [o for o in options if values[o] == value]
        if len(group) > 1:
            drawn = tuple(lot_order(group, seed))
            if len(ranking) < seats < len(ranking) + len(group):  # the tie decides a seat
                ties.append(Tie(tuple(group), "lot", drawn[: seats - len(ranking)]))
            ranking.extend(drawn)
        else:
            ranking.extend(group)
    return WeightedOptionsResult(
        per_college=per_college,
        counted_weight_percent=counted,
        values=values,
        ranking=tuple(ranking),
        winners=tuple(ranking[:seats]) if counted else (),
        ties=tuple(ties),
    )


def ballot_weights(
    *, weights: Mapping[str, int], colleges: Sequence[str], counted: Sequence[bool]
) -> list[Fraction]:
    """The weight of each ballot, for the methods that weigh ballots (ranked, majority
    judgment): ballot i, of college ``colleges[i]``, weighs w_c / 100 / n_c when
    ``counted[i]``, n_c being the number of counted ballots of its college, and 0 otherwise
    (a ballot the method does not count, or any ballot of a college weighted 0 %). So the
    ballots of a college that counted something weigh exactly its share, w_c / 100."""
    _check_weights(weights)
    if len(colleges) != len(counted):
        raise ValueError("one college and one counted flag per ballot")
    unknown = set(colleges) - set(weights)
    if unknown:
        raise ValueError(f"ballots from colleges without a weight: {sorted(unknown)}")
    n = dict.fromkeys(weights, 0)
    for college, counts in zip(colleges, counted, strict=True):
        n[college] += 1 if counts else 0
    return [
        Fraction(weights[college], 100 * n[college]) if counts else Fraction(0)
        for college, counts in zip(colleges, counted, strict=True)
    ]


def ranked_ballot_weights(
    *, ballots: Sequence[CollegeBallot[Sequence[OptionId]]], weights: Mapping[str, int]
) -> list[Fraction]:
    """The weight of each ranked ballot (IRV, STV, Schulze), in the order of ``ballots``: a
    ballot that ranks something counts in its college's n_c; a blank ranking counts for
    nobody (``ranked.py``: it is exhausted from the start) and weighs 0."""
    return ballot_weights(
        weights=weights,
        colleges=[ballot.college for ballot in ballots],
        counted=[bool(ballot.vote) for ballot in ballots],
    )


def judgment_ballot_weights(
    *, ballots: Sequence[CollegeBallot[Mapping[OptionId, str]]], weights: Mapping[str, int]
) -> list[Fraction]:
    """The weight of each majority-judgment ballot, in the order of ``ballots``: every
    ballot counts in its college's n_c, an empty one too, since it grades every option "to
    reject" (``judgment.py``), so a college weighs its whole share on every option."""
    return ballot_weights(
        weights=weights,
        colleges=[ballot.college for ballot in ballots],
        counted=[True] * len(ballots),
    )


# --- a college's value of each option, 0 to 1 (None: it gave none) -------------------------


def approval_values(
    *, options: Sequence[OptionId], ballots: Sequence[Collection[OptionId]]
) -> dict[OptionId, Fraction] | None:
    """The share of the college's ballots, blank ones included, approving each option;
    None when it cast no ballot."""
    if not ballots:
        return None
    approved = tally_approval(options=options, ballots=ballots, seed=NO_LOT)
    return {o: Fraction(approved.approvals[o], approved.ballots) for o in options}


def dot_values(
    *,
    options: Sequence[OptionId],
    ballots: Sequence[Mapping[OptionId, int]],
    points: int,
    cap_per_option: int,
) -> dict[OptionId, Fraction] | None:
    """The share of the dots the college placed that went to each option; None when it
    placed none (no ballot, or only blank ones): a share of nothing is no value."""
    dots = tally_dot_voting(
        options=options, ballots=ballots, points=points, cap_per_option=cap_per_option, seed=NO_LOT
    )
    if not dots.points_cast:
        return None
    return {o: Fraction(dots.totals[o], dots.points_cast) for o in options}


def score_values(
    *,
    options: Sequence[OptionId],
    ballots: Sequence[Mapping[OptionId, int]],
    min_score: int,
    max_score: int,
) -> dict[OptionId, Fraction] | None:
    """Each option's average score in the college (an unscored option counting as
    ``min_score``, ``cardinal.py``), scaled to 0–1: (average − min) / (max − min). None
    when the college cast no ballot."""
    if not ballots:
        return None
    scored = tally_score(
        options=options, ballots=ballots, seed=NO_LOT, min_score=min_score, max_score=max_score
    )
    values: dict[OptionId, Fraction] = {}
    for option in options:
        average = scored.scores[option].average
        assert average is not None  # one score per ballot, and there are ballots
        values[option] = (average - min_score) / (max_score - min_score)
    return values


# --- options weighed across colleges ---------------------------------------------------------


def weigh_approval(
    *,
    options: Sequence[OptionId],
    ballots: Mapping[str, Sequence[Collection[OptionId]]],
    weights: Mapping[str, int],
    seed: str,
    seats: int = 1,
) -> WeightedOptionsResult:
    """Approval voting weighed by college (``ballots`` by college id, ``weights`` in %):
    the first ``seats`` options by weighted share of approvals win."""
    return _weigh(
        options=options,
        ballots=ballots,
        weights=weights,
        seed=seed,
        seats=seats,
        value=lambda votes: approval_values(options=options, ballots=votes),
    )


def weigh_dots(
    *,
    options: Sequence[OptionId],
    ballots: Mapping[str, Sequence[Mapping[OptionId, int]]],
    weights: Mapping[str, int],
    points: int,
    cap_per_option: int,
    seed: str,
) -> WeightedOptionsResult:
    """Dot voting weighed by college: the option with the largest weighted share of the
    dots wins (one option, as without colleges)."""
    return _weigh(
        options=options,
        ballots=ballots,
        weights=weights,
        seed=seed,
        seats=1,
        value=lambda votes: dot_values(
            options=options, ballots=votes, points=points, cap_per_option=cap_per_option
        ),
    )


def weigh_score(
    *,
    options: Sequence[OptionId],
    ballots: Mapping[str, Sequence[Mapping[OptionId, int]]],
    weights: Mapping[str, int],
    min_score: int,
    max_score: int,
    seed: str,
) -> WeightedOptionsResult:
    """Score voting weighed by college: the option with the highest weighted mean of the
    colleges' scaled averages wins (one option, as without colleges)."""
    return _weigh(
        options=options,
        ballots=ballots,
        weights=weights,
        seed=seed,
        seats=1,
        value=lambda votes: score_values(
            options=options, ballots=votes, min_score=min_score, max_score=max_score
        ),
    )


def _weigh(
    *,
    options: Sequence[OptionId],
    ballots: Mapping[str, Sequence[Vote]],
    weights: Mapping[str, int],
    seed: str,
    seats: int,
    value: Callable[[Sequence[Vote]], Mapping[OptionId, Fraction] | None],
) -> WeightedOptionsResult:
    """Each college's values (a college weighted 0 % too: they are shown), then weighed."""
    unknown = set(ballots) - set(weights)
    if unknown:
        raise ValueError(f"ballots from colleges without a weight: {sorted(unknown)}")
    per_college = {}
    for college in sorted(ballots):
        values = value(ballots[college])
        if values is not None:
            per_college[college] = values
    return weigh_options(
        options=options, per_college=per_college, weights=weights, seed=seed, seats=seats
    )
