"""Cardinal methods: approval voting, dot voting and score voting.

All three fill ``seats`` (default 1) with the best-ranked options and report the full
``ranking``, best first. Totals are sums, so the order of the ballots cannot matter.

Approval voting (Brams & Fishburn, "Approval Voting", 1983). Each ballot is the set of
options the voter approves, of any size; the empty set is a blank ballot, counted in
``blank_ballots`` but approving nothing. An option's score is the number of ballots
approving it; the most approved options win. A ballot approving every option adds one
to every score and so changes no ranking.
Tie rule: approval voting has no published rule of its own to separate equal approval
counts, so a tie that decides a seat goes straight to the lot.

Dot voting ("dotmocracy", multi-voting). Each participant has ``points`` dots to place on
the options, all on one or spread out, at most ``cap_per_option`` dots on one option
(default: no cap beyond ``points``). A ballot maps option → dots; options left out get 0;
a ballot placing no dot is blank. Totals are summed; the most dotted options win. A ballot
may place fewer than ``points`` dots (unused dots are simply not cast).
Tie rule: equal totals are separated by the number of participants who gave the option
at least one dot ("more_supporters"), because five dots from one person are not five
people's support (Diceman, dotmocracy.org, "How do Dotmocracy Sheets compare to
multi-voting with stickers?"); then by lot.

Score voting (range voting). Each ballot maps option → an integer score in
[``min_score``, ``max_score``] (default 0–5). Rule for options a ballot leaves out: they
count as ``min_score``. This is the "Range (score-summing, blanks treated as zero score, no
quorum rule)" system of the Fedora Elections Guide (docs.fedoraproject.org, "Information
on Range Voting") and the "simplified form" of score voting described by the Center for
Election Science ("Score Voting", electology.org, 2015); the other form, skipping unscored
options, lets an option scored by a single enthusiast beat options everybody rated unless
a quorum rule is added, which is why those forms "frequently make use of quotas". So every
option gets exactly one score from every ballot, and ``count`` equals the number of
ballots (``scored_by`` says how many scored it explicitly).
For each option the result gives the sum, the average (an exact Fraction), the median and
the count. The median is the *lower* median: with the n scores sorted ascending it is the
one at 0-based position ⌊(n − 1)/2⌋, i.e. the middle one when n is odd and the lower of
the two middle ones when n is even. It is Balinski & Laraki's "majority-grade" ("Majority
Judgment", MIT Press, 2011): the highest score that an absolute majority of the ballots
give or exceed, and always a score somebody actually gave. With no ballot at all,
average and median are None.
Winner: highest average. Tie rule: equal averages are separated by the higher median
("higher_median"), then by lot.

Lot. A tie that the rules above cannot settle and that decides who gets a seat is broken
with :func:`cocreate.tally.base.lot_order` and the poll's ``seed``: the tied options
earlier in the lot order rank first. Each rule that had to separate options at the seat
boundary is reported in ``ties``: ``options`` are the options it had to separate (sorted by
id), ``broken_by`` names the rule, and ``chosen`` are those of them that won a seat.
Ties among options that all win, or all lose, decide nothing and are not reported; the
``ranking`` still orders them by the same rules, lot last.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from types import MappingProxyType

from cocreate.tally.base import InvalidBallot, OptionId, Tie, check_options, lot_order

# Names of the tie rules, as reported in ``Tie.broken_by``.
LOT = "lot"
MORE_SUPPORTERS = "more_supporters"
HIGHER_MEDIAN = "higher_median"

# Default score scale (points on the ballot's scale).
DEFAULT_MIN_SCORE = 0
DEFAULT_MAX_SCORE = 5

_Key = Fraction | int


@dataclass(frozen=True, slots=True)
class ApprovalResult:
    """Approval counts per option, the ranking and the options elected."""

    options: tuple[OptionId, ...]
    seats: int
    ballots: int  # number of ballots, blank ones included
    blank_ballots: int  # ballots approving no option
    approvals: Mapping[OptionId, int]  # number of ballots approving each option
    ranking: tuple[OptionId, ...]  # best first
    winners: tuple[OptionId, ...]  # the first ``seats`` of the ranking
    ties: tuple[Tie, ...]


@dataclass(frozen=True, slots=True)
class DotVotingResult:
    """Dots per option, the ranking and the options elected."""

    options: tuple[OptionId, ...]
    seats: int
    points: int  # dots each participant may place
    cap_per_option: int  # dots one participant may place on one option
    ballots: int  # number of ballots, blank ones included
    blank_ballots: int  # ballots placing no dot
    points_cast: int  # dots placed on all ballots together
    totals: Mapping[OptionId, int]  # dots received by each option
    supporters: Mapping[OptionId, int]  # ballots giving each option at least one dot
    ranking: tuple[OptionId, ...]  # best first
    winners: tuple[OptionId, ...]  # the first ``seats`` of the ranking
    ties: tuple[Tie, ...]


@dataclass(frozen=True, slots=True)
class OptionScore:
    """Score statistics of one option (scores in points of the ballot's scale)."""

    total: int  # sum of the scores
    average: Fraction | None  # total / count; None when there is no ballot
    median: int | None  # lower median; None when there is no ballot
    count: int  # scores counted: one per ballot, unscored ones as min_score
    scored_by: int  # ballots that gave this option a score explicitly


@dataclass(frozen=True, slots=True)
class ScoreResult:
    """Score statistics per option, the ranking and the options elected."""

    options: tuple[OptionId, ...]
    seats: int
    min_score: int
    max_score: int
    ballots: int  # number of ballots
    scores: Mapping[OptionId, OptionScore]
    ranking: tuple[OptionId, ...]  # best first
    winners: tuple[OptionId, ...]  # the first ``seats`` of the ranking
    ties: tuple[Tie, ...]


def tally_approval(
    *,
    options: Sequence[OptionId],
    ballots: Iterable[Collection[OptionId]],
    seed: str,
    seats: int = 1,
) -> ApprovalResult:
    """Count approval ballots (sets of approved options); see the module docstring."""
    opts = check_options(options)
    _check_seats(seats, opts)
    known = set(opts)
    approvals = dict.fromkeys(opts, 0)
    count = blanks = 0
    for ballot in ballots:
        count += 1
        if isinstance(ballot, str | bytes | Mapping) or not isinstance(ballot, Collection):
            raise InvalidBallot(f"an approval ballot must be a set of option ids, got {ballot!r}")
        try:
            approved = set(ballot)
        except TypeError as exc:
            raise InvalidBallot(f"an approval ballot must hold option ids: {exc}") from exc
        if len(approved) != len(ballot):
            raise InvalidBallot(f"an approval ballot names an option twice: {ballot!r}")
        _check_known(approved, known)
        if not approved:
            blanks += 1
        for option in approved:
            approvals[option] += 1
    ranking, ties = _rank(opts, [("approvals", approvals)], seats=seats, seed=seed)
    return ApprovalResult(
        options=opts,
        seats=seats,
        ballots=count,
        blank_ballots=blanks,
        approvals=MappingProxyType(approvals),
        ranking=ranking,
        winners=ranking[:seats],
        ties=ties,
    )


def tally_dot_voting(
    *,
    options: Sequence[OptionId],
    ballots: Iterable[Mapping[OptionId, int]],
    points: int,
    seed: str,
    cap_per_option: int | None = None,
    seats: int = 1,
) -> DotVotingResult:
    """Count dot-voting ballots (option → dots); see the module docstring."""
    opts = check_options(options)
    _check_seats(seats, opts)
    if not _is_int(points) or points < 1:
        raise ValueError(f"points must be a positive integer, got {points!r}")
    cap = points if cap_per_option is None else cap_per_option
    if not _is_int(cap) or not 1 <= cap <= points:
        raise ValueError(f"cap_per_option must be an integer from 1 to {points}, got {cap!r}")
    known = set(opts)
    totals = dict.fromkeys(opts, 0)
    supporters = dict.fromkeys(opts, 0)
    count = blanks = cast = 0
    for ballot in ballots:
        count += 1
        if not isinstance(ballot, Mapping):
            raise InvalidBallot(f"a dot-voting ballot must map options to dots, got {ballot!r}")
        _check_known(ballot.keys(), known)
        placed = 0
        for option, dots in ballot.items():
            if not _is_int(dots) or dots < 0:
                raise InvalidBallot(
                    f"dots on {option!r} must be a non-negative integer, got {dots!r}"
                )
            if dots > cap:
                raise InvalidBallot(
                    f"{dots} dots on {option!r} is over the cap of {cap} dots per option"
                )
            placed += dots
        if placed > points:
            raise InvalidBallot(f"a ballot places {placed} dots, more than the {points} allowed")
        if placed == 0:
            blanks += 1
        cast += placed
        for option, dots in ballot.items():
            if dots:
                totals[option] += dots
                supporters[option] += 1
    ranking, ties = _rank(
        opts,
        [("dots", totals), (MORE_SUPPORTERS, supporters)],
        seats=seats,
        seed=seed,
    )
    return DotVotingResult(
        options=opts,
        seats=seats,
        points=points,
        cap_per_option=cap,
        ballots=count,
        blank_ballots=blanks,
        points_cast=cast,
        totals=MappingProxyType(totals),
        supporters=MappingProxyType(supporters),
        ranking=ranking,
        winners=ranking[:seats],
        ties=ties,
    )


def tally_score(
    *,
    options: Sequence[OptionId],
    ballots: Iterable[Mapping[OptionId, int]],
    seed: str,
    min_score: int = DEFAULT_MIN_SCORE,
    max_score: int = DEFAULT_MAX_SCORE,
    seats: int = 1,
) -> ScoreResult:
    """Count score ballots (option → score); unscored options count as ``min_score``."""
    opts = check_options(options)
    _check_seats(seats, opts)
    if not _is_int(min_score) or not _is_int(max_score) or min_score >= max_score:
        raise ValueError(
            f"the score scale needs integers min_score < max_score, got {min_score!r}–{max_score!r}"
        )
    known = set(opts)
    given: dict[OptionId, list[int]] = {o: [] for o in opts}
    count = 0
    for ballot in ballots:
        count += 1
        if not isinstance(ballot, Mapping):
            raise InvalidBallot(f"a score ballot must map options to scores, got {ballot!r}")
        _check_known(ballot.keys(), known)
        for option, score in ballot.items():
            if not _is_int(score):
                raise InvalidBallot(f"the score of {option!r} must be an integer, got {score!r}")
            if not min_score <= score <= max_score:
                raise InvalidBallot(
                    f"score {score} for {option!r} is out of range {min_score}–{max_score}"
                )
        for option, score in ballot.items():
            given[option].append(score)

    stats: dict[OptionId, OptionScore] = {}
    for option in opts:
        explicit = given[option]
        # Unscored counts as min_score: every ballot gives every option one score.
        scores = sorted([min_score] * (count - len(explicit)) + explicit)
        total = sum(scores)
        stats[option] = OptionScore(
            total=total,
            average=Fraction(total, count) if count else None,
            median=scores[(count - 1) // 2] if count else None,
            count=count,
            scored_by=len(explicit),
        )
    # With no ballot every average is None: all options tie and the lot orders them.
    averages: dict[OptionId, _Key] = {o: s.average or 0 for o, s in stats.items()}
    medians: dict[OptionId, _Key] = {
        o: s.median if s.median is not None else min_score for o, s in stats.items()
    }
    ranking, ties = _rank(
        opts,
        [("average", averages), (HIGHER_MEDIAN, medians)],
        seats=seats,
        seed=seed,
    )
    return ScoreResult(
        options=opts,
        seats=seats,
        min_score=min_score,
        max_score=max_score,
        ballots=count,
        scores=MappingProxyType(stats),
        ranking=ranking,
        winners=ranking[:seats],
        ties=ties,
    )


def _rank(
    options: tuple[OptionId, ...],
    criteria: Sequence[tuple[str, Mapping[OptionId, _Key]]],
    *,
    seats: int,
    seed: str,
) -> tuple[tuple[OptionId, ...], tuple[Tie, ...]]:
    """Order options best first by each criterion (higher is better) then lot; report ties.

    Only the seat boundary matters for ``ties``: the options equal on the first criterion
    with the last seated option are the tied group; each later criterion that narrows it
    is reported, and the lot if it still straddles the boundary.
    """
    lot_position = {option: i for i, option in enumerate(lot_order(options, seed))}

    def key(option: OptionId, depth: int) -> tuple[_Key, ...]:
        return tuple(values[option] for _, values in criteria[:depth])

    ranking = tuple(
        sorted(
            options,
            key=lambda o: (tuple(-v for v in key(o, len(criteria))), lot_position[o]),
        )
    )
    if seats >= len(ranking):
        return ranking, ()
    seated = set(ranking[:seats])
    last = ranking[seats - 1]

    def straddles(group: list[OptionId]) -> bool:
        return any(o in seated for o in group) and any(o not in seated for o in group)

    def tie(group: list[OptionId], rule: str) -> Tie:
        return Tie(
            options=tuple(sorted(group)),
            broken_by=rule,
            chosen=tuple(o for o in ranking if o in seated and o in group),
        )

    group = [o for o in ranking if key(o, 1) == key(last, 1)]
    if not straddles(group):
        return ranking, ()
    ties: list[Tie] = []
    for depth in range(2, len(criteria) + 1):
        narrower = [o for o in group if key(o, depth) == key(last, depth)]
        if len(narrower) < len(group):
            ties.append(tie(group, criteria[depth - 1][0]))
            group = narrower
            if not straddles(group):
                return ranking, tuple(ties)
    ties.append(tie(group, LOT))
    return ranking, tuple(ties)


def _check_seats(seats: int, options: tuple[OptionId, ...]) -> None:
    if not _is_int(seats) or not 1 <= seats <= len(options):
        raise ValueError(f"seats must be an integer from 1 to {len(options)}, got {seats!r}")


def _check_known(named: Iterable[object], known: set[OptionId]) -> None:
    unknown = sorted(repr(o) for o in named if o not in known)
    if unknown:
        raise InvalidBallot(f"unknown option {unknown[0]} on a ballot")


def _is_int(value: object) -> bool:
    # bool is an int subclass, but True is no number of dots or score.
    return isinstance(value, int) and not isinstance(value, bool)
