"""Majority judgment (jugement majoritaire) of Balinski and Laraki, optionally weighted.

Each voter grades every option on a common scale of words, here the usual French one, best
first: Excellent, Très bien, Bien, Assez bien, Passable, Insuffisant, À rejeter (``GRADES``,
with stable machine keys; the labels are data, the app translates them). The method is the
one of M. Balinski and R. Laraki, "A theory of measuring, electing, and ranking", PNAS
104(21):8720-8725 (2007), and "Majority Judgment: Measuring, Ranking, and Electing" (MIT
Press, 2011).

Ballots. A ballot maps options to grade keys. An option the voter left ungraded counts as
"À rejeter", so every option has exactly one grade per ballot and the same number of grades.
This is the usual convention of French majority-judgment practice: the reference libraries
of the Mieux Voter association fill missing judgments with a static default grade, the worst
one ("0 == REJECT": ``StaticDefaultTally`` / ``TallyWithDefaultGrade`` in
MieuxVoter/majority-judgment-library-java). A ballot naming an unknown option, or giving
something that is not one of the grade keys, raises ``InvalidBallot``.

Weights. ``weights``, if given, is aligned with the ballots and gives each ballot a
non-negative exact weight (``Fraction``; a different length or a weight < 0 raises
``ValueError``, and so does a total weight of 0: there is no median of nothing). In a SCIC
the app gives every ballot of college c the weight w_c / n_c, the college's weight over its
number of ballots, every ballot counting (an empty ballot grades every option "to reject").
A ballot of weight 0 (a college weighted 0 %) is counted in ``ballot_count`` and adds nothing
to any merit profile. Without weights every ballot weighs 1, and all
that follows reads "number of ballots" for "weight": the results are those of plain majority
judgment. A weighted tally is exactly the plain tally of the electorate in which every ballot
is cloned in proportion to its weight (k * w copies of a ballot of weight w, for any k that
makes every k * w a whole number; a property test checks it), so only the ratios of the
weights matter: multiplying all of them by one factor changes the counts and nothing else.

Merit profile. Per option: the total weight of each grade (``counts``, aligned with
``GRADES``: whole numbers without weights, ``Fraction`` with weights) and their shares of the
total weight, exact ``Fraction`` adding up to 1. Lay the grades out best first along [0, 1):
with s_i the share of grade i (0 = Excellent) and C_i = s_0 + ... + s_i (C_(-1) = 0), grade i
covers [C_(i-1), C_i). Write Q(x), for 0 <= x < 1, for the grade whose interval contains x, and
Q-(x), for 0 < x <= 1, for the grade i with C_(i-1) < x <= C_i (the one just below x).

Majority grade. Q(1/2): the best grade g such that the grades at least as good as g weigh
MORE than half the total weight. Without weights this is the median of the option's grades,
and with an even number of ballots the LOWER of the two middle grades (Balinski and Laraki's
"lower middlemost"; in Wikipedia's wording, "the lower middle if the number is even"): with
n ballots, the number of grades at least as good as g is a whole number, which exceeds n / 2
exactly when it exceeds n // 2, so Q(1/2) is the grade at 0-based position n // 2 of the
option's grades sorted best first, for n odd and even alike. Equivalently: the best grade that
more than half of the voters (of the weight) give at least.

Ranking. Options are ranked by majority grade. Between options with the same majority grade
alpha, the majority gauge (p, alpha, q) decides, where p is the share (of the total weight)
of grades strictly better than alpha and q the share strictly worse (Balinski and Laraki 2007,
2011):

* an option with p > q is "alpha+": it ranks above every option "alpha-" of the same grade,
  and among the "alpha+" the larger p ranks higher;
* an option with q >= p is "alpha-", and among the "alpha-" the larger q ranks lower.

Equality p = q counts as "-": with the lower middlemost, removing majority grades from such a
profile makes its median fall, not rise, so "-" is what the majority value below says too
(Mieux Voter's reference code makes the same choice: on equal adhesion and contestation
groups it "favors contestation", ``ProposalTallyAnalysis`` in the Java library above).

When majority grade and gauge are both equal, the majority value decides: Balinski and
Laraki's "majority value" and "majority ranking" remove one majority grade from each tied
option, compare the new majority grades, and so on; the option whose sequence of successive
majority grades is first better ranks higher. Removing "one grade" has no meaning with
fractional weights, so the majority value is read from the profile laid out on [0, 1), from
the middle outward: for 0 <= t < 1/2,

    U(t) = Q(1/2 + t)   (the grade at distance t on the worse side of the middle),
    L(t) = Q-(1/2 - t)  (the grade at distance t on the better side),

and the majority value is the function t -> (U(t), L(t)). Two options compare at the first t
where their pairs differ, and there by U, then by L (the better grade ranks higher). Both are
step functions, constant on [b, b') between the points where 1/2 + t or 1/2 - t crosses some
C_i, so the comparison samples every option at all those points (``majority_value_steps``
shows an option's steps). This is what removing an equal tiny weight epsilon from the
majority grade at each step gives, in the limit (or exactly, at the scale of one ballot, in
the cloned electorate above): the removed weight is always the band [1/2 - t, 1/2 + t) and
the next majority grade lies at one of its two edges.

Reduction to the unweighted rule. With n ballots, weights 1, the k-th grade of the sorted
list (0-based, best first) covers [k/n, (k+1)/n). For n = 2m, on t in [j/n, (j+1)/n) the pair
is (grade m + j, grade m - 1 - j): the reading is grades m, m - 1, m + 1, m - 2, ... For
n = 2m + 1, the pair is (grade m, grade m) on [0, 1/2n), then (grade m + 1 + j, grade
m - 1 - j) on each next interval of length 1/n: the reading is m, m, m + 1, m - 1, m + 2, ...
These are exactly the successive majority grades obtained by removing one majority grade at a
time (the lower median of the remaining grades is next to the removed ones: on the worse side
when both sides are equally long, else on the better side), except that an odd n repeats the
first one, at the same place for all options since they all have n grades; so the order of
the options is exactly the unweighted one (a property test checks it against the definition
applied literally, and that weights all 1 give identical results).

The gauge never contradicts the majority value: with majority grade alpha covering
[p, 1 - q), U leaves alpha, for a worse grade, at t = 1/2 - q and L leaves it, for a better
one, at t = 1/2 - p. If p > q the better side moves first, so every "alpha+" ranks above every
"alpha-", the larger p earlier; if q >= p the worse side moves first (U is compared first when
both move together), the larger q earlier. The gauge settles most ties early and gives the
readable verdict ("bien+", "bien-").

Options whose majority values are equal have the same shares (Q gives back every C_i), i.e.
identical merit profiles up to the total weight, which is the same for all options; nothing
in the ballots separates them and the documented lot of ``base.lot_order`` with the poll's
``seed`` orders them. Each such group is reported in ``ties`` (``broken_by="lot"``,
``chosen`` = the group in the order the lot placed it). Ties the method itself settled are
not reported.

Pure and deterministic: the result depends only on the options, the multiset of ballots
(with their weights; not their order) and the seed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Final

from cocreate.tally.base import InvalidBallot, OptionId, Tie, check_options, lot_order

__all__ = [
    "GRADES",
    "GRADE_KEYS",
    "UNGRADED",
    "Ballot",
    "Grade",
    "MajorityJudgmentResult",
    "MeritProfile",
    "grade_label",
    "tally_majority_judgment",
]


@dataclass(frozen=True, slots=True)
class Grade:
    """One word of the grading scale: a stable machine key and its French label."""

    key: str
    label: str


#: The grading scale, best first. Keys are stable (stored in ballots); labels are data.
GRADES: Final[tuple[Grade, ...]] = (
    Grade("excellent", "Excellent"),
    Grade("tres_bien", "Très bien"),
    Grade("bien", "Bien"),
    Grade("assez_bien", "Assez bien"),
    Grade("passable", "Passable"),
    Grade("insuffisant", "Insuffisant"),
    Grade("a_rejeter", "À rejeter"),
)

GRADE_KEYS: Final[tuple[str, ...]] = tuple(grade.key for grade in GRADES)

#: The grade an option left ungraded on a ballot counts as.
UNGRADED: Final[str] = "a_rejeter"

_INDEX: Final[dict[str, int]] = {key: i for i, key in enumerate(GRADE_KEYS)}
_LABELS: Final[dict[str, str]] = {grade.key: grade.label for grade in GRADES}

#: A ballot: option id -> grade key. Options left out count as ``UNGRADED``.
Ballot = Mapping[OptionId, str]


def grade_label(key: str) -> str:
    """The French label of a grade key ("tres_bien" -> "Très bien")."""
    return _LABELS[key]


@dataclass(frozen=True, slots=True)
class MeritProfile:
    """How the voters graded one option, and what majority judgment reads from it."""

    option: OptionId
    # Total weight of each grade, aligned with GRADES (best first): the number of ballots
    # (int) without weights, a Fraction with weights.
    counts: tuple[int | Fraction, ...]
    shares: tuple[Fraction, ...]  # counts / total weight
    majority_grade: str  # grade key of the (weighted) lower median
    p: Fraction  # share of grades strictly better than the majority grade
    q: Fraction  # share of grades strictly worse than the majority grade

    @property
    def total(self) -> int | Fraction:
        """Total weight of the grades: the number of ballots without weights."""
        return sum(self.counts, 0)

    @property
    def gauge_sign(self) -> str:
        """ "+" when p > q, else "-" (Balinski and Laraki's alpha+ / alpha-)."""
        return "+" if self.p > self.q else "-"

    @property
    def majority_gauge(self) -> str:
        """The majority grade and its sign, e.g. "bien+"."""
        return self.majority_grade + self.gauge_sign

    def count(self, grade: str) -> int | Fraction:
        return self.counts[_INDEX[grade]]

    def share(self, grade: str) -> Fraction:
        return self.shares[_INDEX[grade]]

    def majority_value(self) -> tuple[str, ...]:
        """Successive majority grades, removing one majority grade at each step.

        Needs whole counts (always the case without weights). Raises ``ValueError`` for a
        profile with fractional counts: read ``majority_value_steps`` instead.
        """
        whole: list[int] = []
        for count in self.counts:
            if isinstance(count, Fraction):
                if count.denominator != 1:
                    raise ValueError(
                        "removing one grade at a time needs whole counts; "
                        "use majority_value_steps() for a weighted profile"
                    )
                whole.append(count.numerator)
            else:
                whole.append(count)
        return tuple(GRADE_KEYS[i] for i in _majority_value(whole))

    def majority_value_steps(self) -> tuple[tuple[Fraction, str, str], ...]:
        """The majority value t -> (U(t), L(t)) of the module docstring, as steps (t, U, L):
        from t until the next step's t (or 1/2), the grade at distance t from the middle on
        the worse side is U, on the better side L. Consecutive steps differ."""
        steps: list[tuple[Fraction, str, str]] = []
        for t in sorted(_breakpoints(self.shares)):
            upper, lower = _reading_at(self.shares, t)
            if not steps or steps[-1][1:] != (GRADE_KEYS[upper], GRADE_KEYS[lower]):
                steps.append((t, GRADE_KEYS[upper], GRADE_KEYS[lower]))
        return tuple(steps)


@dataclass(frozen=True, slots=True)
class MajorityJudgmentResult:
    winners: tuple[OptionId, ...]
    ranking: tuple[OptionId, ...]  # best first
    profiles: tuple[MeritProfile, ...]  # in the order of the poll's options
    ties: tuple[Tie, ...]  # groups nothing but the lot could order, in ranking order
    ballot_count: int  # the number of ballots, weighted or not

    def profile(self, option: OptionId) -> MeritProfile:
        for profile in self.profiles:
            if profile.option == option:
                return profile
        raise KeyError(option)


def tally_majority_judgment(
    *,
    options: Sequence[OptionId],
    ballots: Iterable[Ballot],
    seed: str,
    weights: Sequence[Fraction] | None = None,
) -> MajorityJudgmentResult:
    """Count majority-judgment ballots; rank the options by the rules of the module docstring.

    ``weights``, aligned with ``ballots``, weighs each ballot (None: every ballot weighs 1).

    Raises ``InvalidBallot`` for a ballot that is not a mapping, names an unknown option or
    gives an unknown grade, ``ValueError`` for bad options, when there is no ballot (no median
    exists then), or when the weights are not as many as the ballots, negative or all 0, and
    ``TypeError`` for a weight that is not a ``Fraction`` (or an ``int``).
    """
    opts = check_options(options)
    known = frozenset(opts)
    checked = None if weights is None else _check_weights(weights)
    zero: int | Fraction = 0 if checked is None else Fraction(0)
    counts: dict[OptionId, list[int | Fraction]] = {option: [zero] * len(GRADES) for option in opts}
    ballot_count = 0
    for ballot in ballots:
        if not isinstance(ballot, Mapping):
            raise InvalidBallot(f"a ballot must map options to grades, got {ballot!r}")
        for option, grade in ballot.items():
            if option not in known:
                raise InvalidBallot(f"unknown option {option!r}")
            if not isinstance(grade, str) or grade not in _INDEX:
                raise InvalidBallot(f"unknown grade {grade!r} for option {option!r}")
        if checked is None:
            weight: int | Fraction = 1
        elif ballot_count < len(checked):
            weight = checked[ballot_count]
        else:
            raise ValueError(f"weights must match the ballots: only {len(checked)} weights")
        for option in opts:
            counts[option][_INDEX[ballot.get(option, UNGRADED)]] += weight
        ballot_count += 1
    if ballot_count == 0:
        raise ValueError("majority judgment needs at least one ballot")
    if checked is not None and len(checked) != ballot_count:
        raise ValueError(
            f"weights must match the ballots: {len(checked)} weights for {ballot_count} ballots"
        )
    if checked is not None and not any(checked):
        raise ValueError("majority judgment needs at least one ballot that weighs something")

    profiles = tuple(_profile(option, tuple(counts[option])) for option in opts)
    # The majority values are step functions: sample them all where any of them steps.
    points = sorted(set().union(*(_breakpoints(profile.shares) for profile in profiles)))
    keys = {profile.option: _rank_key(profile, points) for profile in profiles}
    ordered = sorted(opts, key=lambda option: keys[option])

    ranking: list[OptionId] = []
    ties: list[Tie] = []
    start = 0
    while start < len(ordered):
        end = start + 1
        while end < len(ordered) and keys[ordered[end]] == keys[ordered[start]]:
            end += 1
        group = ordered[start:end]
        if len(group) == 1:
            ranking.extend(group)
        else:
            drawn = tuple(lot_order(group, seed))
            ranking.extend(drawn)
            tied = tuple(option for option in opts if option in group)
            ties.append(Tie(options=tied, broken_by="lot", chosen=drawn))
        start = end

    return MajorityJudgmentResult(
        winners=(ranking[0],),
        ranking=tuple(ranking),
        profiles=profiles,
        ties=tuple(ties),
        ballot_count=ballot_count,
    )


_HALF: Final[Fraction] = Fraction(1, 2)


def _check_weights(weights: Sequence[Fraction]) -> tuple[Fraction, ...]:
    checked: list[Fraction] = []
    for weight in weights:
        if isinstance(weight, bool) or not isinstance(weight, Fraction | int):
            raise TypeError(f"a weight must be an exact Fraction, got {weight!r}")
        if weight < 0:
            raise ValueError(f"weights must be >= 0, got {weight}")
        checked.append(Fraction(weight))
    return tuple(checked)


def _profile(option: OptionId, counts: tuple[int | Fraction, ...]) -> MeritProfile:
    total = sum(counts, Fraction(0))
    shares = tuple(Fraction(count) / total for count in counts)
    median = _quantile(shares, _HALF)
    return MeritProfile(
        option=option,
        counts=counts,
        shares=shares,
        majority_grade=GRADE_KEYS[median],
        p=sum(shares[:median], Fraction(0)),
        q=sum(shares[median + 1 :], Fraction(0)),
    )


def _quantile(shares: Sequence[Fraction], x: Fraction) -> int:
    """Q(x), 0 <= x < 1: index (best first) of the grade i with C_(i-1) <= x < C_i.

    Q(1/2) is the (weighted) lower median: without weights, the grade at position n // 2.
    """
    cumulative = Fraction(0)
    for index, share in enumerate(shares):
        cumulative += share
        if x < cumulative:
            return index
    raise ValueError(f"no grade at {x}")


def _quantile_below(shares: Sequence[Fraction], x: Fraction) -> int:
    """Q-(x), 0 < x <= 1: index (best first) of the grade i with C_(i-1) < x <= C_i."""
    cumulative = Fraction(0)
    for index, share in enumerate(shares):
        cumulative += share
        if x <= cumulative:
            return index
    raise ValueError(f"no grade below {x}")


def _reading_at(shares: Sequence[Fraction], t: Fraction) -> tuple[int, int]:
    """(U(t), L(t)) = (Q(1/2 + t), Q-(1/2 - t)), 0 <= t < 1/2: the majority value at t."""
    return _quantile(shares, _HALF + t), _quantile_below(shares, _HALF - t)


def _breakpoints(shares: Sequence[Fraction]) -> set[Fraction]:
    """The t in [0, 1/2) where U or L may change: 0 and where 1/2 +- t meets some C_i."""
    points = {Fraction(0)}
    cumulative = Fraction(0)
    for share in shares:
        cumulative += share
        if 0 < cumulative < 1:
            points.add(abs(cumulative - _HALF))
    return points


def _majority_value(counts: Sequence[int]) -> tuple[int, ...]:
    """Successive lower medians (grade indices, best = 0) removing one median each time.

    In the grades sorted best first, the lower median sits at n // 2. Removing it leaves the
    next lower median right beside it: on the worse side when both sides are equally long,
    else on the better side. So the sequence reads the sorted grades outward from n // 2.
    """
    ordered = [index for index, count in enumerate(counts) for _ in range(count)]
    middle = len(ordered) // 2
    better = middle - 1  # next unread position on the better side
    worse = middle + 1  # next unread position on the worse side
    sequence = [ordered[middle]] if ordered else []
    while better >= 0 or worse < len(ordered):
        if better + 1 == len(ordered) - worse:  # as many left on each side
            sequence.append(ordered[worse])
            worse += 1
        else:
            sequence.append(ordered[better])
            better -= 1
    return tuple(sequence)


def _rank_key(
    profile: MeritProfile, points: Sequence[Fraction]
) -> tuple[int, int, Fraction, tuple[tuple[int, int], ...]]:
    """Sort key, smaller is better: majority grade, then gauge, then majority value (sampled
    at ``points``, which must contain the breakpoints of every profile compared)."""
    grade = _INDEX[profile.majority_grade]
    value = tuple(_reading_at(profile.shares, t) for t in points)
    if profile.p > profile.q:  # alpha+: above every alpha-, larger p first
        return (grade, 0, -profile.p, value)
    # alpha- (q >= p): below every alpha+, larger q last
    return (grade, 1, profile.q, value)
