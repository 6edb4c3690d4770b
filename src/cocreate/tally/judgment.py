"""Majority judgment (jugement majoritaire) of Balinski and Laraki.

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

Merit profile. Per option: the number of grades of each level (``counts``, aligned with
``GRADES``) and their shares of the ballots as exact ``Fraction``.

Majority grade. The median of the option's grades. With an even number of ballots there are
two middle grades and the majority grade is the LOWER one (Balinski and Laraki's "lower
middlemost"; in Wikipedia's wording, "the lower middle if the number is even"). Equivalently:
the best grade that more than half of the voters give at least.

Ranking. Options are ranked by majority grade. Between options with the same majority grade
alpha, the majority gauge (p, alpha, q) decides, where p is the share of grades strictly
better than alpha and q the share strictly worse (Balinski and Laraki 2007, 2011):

* an option with p > q is "alpha+": it ranks above every option "alpha-" of the same grade,
  and among the "alpha+" the larger p ranks higher;
* an option with q >= p is "alpha-", and among the "alpha-" the larger q ranks lower.

Equality p = q counts as "-": with the lower middlemost, removing majority grades from such a
profile makes its median fall, not rise, so "-" is what the majority value below says too
(Mieux Voter's reference code makes the same choice: on equal adhesion and contestation
groups it "favors contestation", ``ProposalTallyAnalysis`` in the Java library above).

When majority grade and gauge are both equal, the majority value decides: remove one
majority grade from each tied option and compare the new majority grades, and so on; the
option whose sequence of successive majority grades is first better ranks higher
(Balinski and Laraki's "majority value" and "majority ranking"). Since every option has the
same number of grades, this sequence is the option's sorted grades read from the lower
middle outward (middle, then alternately the nearest grade on each side), so it is computed
in one pass. The gauge never contradicts the majority value (a property test checks it): it
settles most ties early and gives the readable verdict ("bien+", "bien-").

Options whose majority values are equal have identical merit profiles; nothing in the ballots
separates them and the documented lot of ``base.lot_order`` with the poll's ``seed`` orders
them. Each such group is reported in ``ties`` (``broken_by="lot"``, ``chosen`` = the group in
the order the lot placed it). Ties the method itself settled are not reported.

Pure and deterministic: the result depends only on the options, the multiset of ballots (not
their order) and the seed.
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
    counts: tuple[int, ...]  # number of each grade, aligned with GRADES (best first)
    shares: tuple[Fraction, ...]  # counts / number of ballots
    majority_grade: str  # grade key of the lower median
    p: Fraction  # share of grades strictly better than the majority grade
    q: Fraction  # share of grades strictly worse than the majority grade

    @property
    def total(self) -> int:
        """Number of grades, i.e. of ballots."""
        return sum(self.counts)

    @property
    def gauge_sign(self) -> str:
        """ "+" when p > q, else "-" (Balinski and Laraki's alpha+ / alpha-)."""
        return "+" if self.p > self.q else "-"

    @property
    def majority_gauge(self) -> str:
        """The majority grade and its sign, e.g. "bien+"."""
        return self.majority_grade + self.gauge_sign

    def count(self, grade: str) -> int:
        return self.counts[_INDEX[grade]]

    def share(self, grade: str) -> Fraction:
        return self.shares[_INDEX[grade]]

    def majority_value(self) -> tuple[str, ...]:
        """Successive majority grades, removing one majority grade at each step."""
        return tuple(GRADE_KEYS[i] for i in _majority_value(self.counts))


@dataclass(frozen=True, slots=True)
class MajorityJudgmentResult:
    winners: tuple[OptionId, ...]
    ranking: tuple[OptionId, ...]  # best first
    profiles: tuple[MeritProfile, ...]  # in the order of the poll's options
    ties: tuple[Tie, ...]  # groups nothing but the lot could order, in ranking order
    ballot_count: int

    def profile(self, option: OptionId) -> MeritProfile:
        for profile in self.profiles:
            if profile.option == option:
                return profile
        raise KeyError(option)


def tally_majority_judgment(
    *, options: Sequence[OptionId], ballots: Iterable[Ballot], seed: str
) -> MajorityJudgmentResult:
    """Count majority-judgment ballots; rank the options by the rules of the module docstring.

    Raises ``InvalidBallot`` for a ballot that is not a mapping, names an unknown option or
    gives an unknown grade, and ``ValueError`` for bad options or when there is no ballot
    (no median exists then).
    """
    opts = check_options(options)
    known = frozenset(opts)
    counts = {option: [0] * len(GRADES) for option in opts}
    ballot_count = 0
    for ballot in ballots:
        if not isinstance(ballot, Mapping):
            raise InvalidBallot(f"a ballot must map options to grades, got {ballot!r}")
        for option, grade in ballot.items():
            if option not in known:
                raise InvalidBallot(f"unknown option {option!r}")
            if not isinstance(grade, str) or grade not in _INDEX:
                raise InvalidBallot(f"unknown grade {grade!r} for option {option!r}")
        for option in opts:
            counts[option][_INDEX[ballot.get(option, UNGRADED)]] += 1
        ballot_count += 1
    if ballot_count == 0:
        raise ValueError("majority judgment needs at least one ballot")

    profiles = tuple(_profile(option, tuple(counts[option]), ballot_count) for option in opts)
    keys = {profile.option: _rank_key(profile) for profile in profiles}
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


def _profile(option: OptionId, counts: tuple[int, ...], total: int) -> MeritProfile:
    median = _median_index(counts)
    above = sum(counts[:median])
    below = sum(counts[median + 1 :])
    return MeritProfile(
        option=option,
        counts=counts,
        shares=tuple(Fraction(count, total) for count in counts),
        majority_grade=GRADE_KEYS[median],
        p=Fraction(above, total),
        q=Fraction(below, total),
    )


def _median_index(counts: Sequence[int]) -> int:
    """Index (best first) of the lower middlemost grade: the grade at position n // 2."""
    position = sum(counts) // 2
    seen = 0
    for index, count in enumerate(counts):
        seen += count
        if seen > position:
            return index
    raise ValueError("no grades")


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


def _rank_key(profile: MeritProfile) -> tuple[int, int, Fraction, tuple[int, ...]]:
    """Sort key, smaller is better: majority grade, then gauge, then majority value."""
    grade = _INDEX[profile.majority_grade]
    if profile.p > profile.q:  # alpha+: above every alpha-, larger p first
        return (grade, 0, -profile.p, _majority_value(profile.counts))
    # alpha- (q >= p): below every alpha+, larger q last
    return (grade, 1, profile.q, _majority_value(profile.counts))
