"""Majority judgment: worked examples from published sources, then properties.

Grades of other scales are mapped onto ours by keeping their order (only the order of grades
matters to majority judgment): Excellent -> excellent, Good -> bien, Fair/Passable ->
passable, Poor -> insuffisant, Reject -> a_rejeter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from random import Random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cocreate.tally.base import InvalidBallot, lot_order
from cocreate.tally.judgment import (
    GRADE_KEYS,
    GRADES,
    UNGRADED,
    MajorityJudgmentResult,
    grade_label,
    tally_majority_judgment,
)

SEED = "0" * 64


def ballots_from_columns(columns: Mapping[str, Sequence[str | None]]) -> list[dict[str, str]]:
    """Ballot k gives each option the k-th grade of its column (None: left ungraded).

    Majority judgment reads each option's grades on its own, so pairing the columns in any
    order gives the same result; this is how published merit profiles become ballots.
    """
    lengths = {len(column) for column in columns.values()}
    assert len(lengths) == 1
    ballots: list[dict[str, str]] = []
    for k in range(lengths.pop()):
        ballot = {}
        for option, grades in columns.items():
            grade = grades[k]
            if grade is not None:
                ballot[option] = grade
        ballots.append(ballot)
    return ballots


def column(*runs: tuple[int, str | None]) -> list[str | None]:
    return [grade for count, grade in runs for _ in range(count)]


def tally(columns: Mapping[str, Sequence[str | None]], seed: str = SEED) -> MajorityJudgmentResult:
    return tally_majority_judgment(
        options=list(columns), ballots=ballots_from_columns(columns), seed=seed
    )


# --- the scale -----------------------------------------------------------------------------


def test_scale_is_the_french_one_best_first_with_stable_keys() -> None:
    assert GRADE_KEYS == (
        "excellent",
        "tres_bien",
        "bien",
        "assez_bien",
        "passable",
        "insuffisant",
        "a_rejeter",
    )
    assert [grade.label for grade in GRADES] == [
        "Excellent",
        "Très bien",
        "Bien",
        "Assez bien",
        "Passable",
        "Insuffisant",
        "À rejeter",
    ]
    assert grade_label("tres_bien") == "Très bien"
    assert UNGRADED == "a_rejeter"


# --- worked examples -----------------------------------------------------------------------


def test_wikipedia_condorcet_criterion_example() -> None:
    """Wikipedia, "Condorcet criterion", section on majority judgment (read in the mirror
    liquisearch.com/condorcet_criterion/compliance_of_methods/non-complying_methods/
    majority_judgment). 35 voters rate A "excellent", B "fair", C "poor"; 34 rate C
    "excellent", B "fair", A "poor"; 31 rate B "excellent", C "good", A "fair". Published:
    B only gets the median rating "fair", C the median rating "good", and C wins.
    A's majority grade ("fair", with p = 35/100 > q = 34/100) is derived from the definition.
    """
    result = tally(
        {
            "A": column((35, "excellent"), (34, "insuffisant"), (31, "passable")),
            "B": column((35, "passable"), (34, "passable"), (31, "excellent")),
            "C": column((35, "insuffisant"), (34, "excellent"), (31, "bien")),
        }
    )
    assert result.profile("B").majority_grade == "passable"
    assert result.profile("C").majority_grade == "bien"
    assert result.winners == ("C",)
    a = result.profile("A")
    assert (a.majority_grade, a.p, a.q) == ("passable", Fraction(35, 100), Fraction(34, 100))
    assert result.ranking == ("C", "A", "B")  # A: Fair+ with p = 35%, B: Fair+ with p = 31%
    assert result.ties == ()


def test_wikipedia_lower_median_and_median_removal_example() -> None:
    """Wikipedia, "Majority judgment" (revision read in the mirror 108.161.137.60/piglix/
    Majority_Judgment): X is rated (Good, Good, Fair, Poor) and Y (Excellent, Fair, Fair,
    Fair). "If the middle falls between two different grades, the lower of the two is used":
    both medians are Fair. "After removing one Fair from each list, the new lists are
    (Good, Good, Poor) and (Excellent, Fair, Fair)", so "X would win with a recalculated
    median of Good". The gauges (X: p = 1/2, Y: p = 1/4) are derived from the definition.
    """
    result = tally(
        {
            "X": ["bien", "bien", "passable", "insuffisant"],
            "Y": ["excellent", "passable", "passable", "passable"],
        }
    )
    x, y = result.profile("X"), result.profile("Y")
    assert x.majority_grade == y.majority_grade == "passable"
    assert x.majority_value()[:2] == ("passable", "bien")
    assert y.majority_value()[:2] == ("passable", "passable")
    assert result.winners == ("X",)
    assert (x.p, x.q, x.majority_gauge) == (Fraction(1, 2), Fraction(1, 4), "passable+")
    assert (y.p, y.q, y.majority_gauge) == (Fraction(1, 4), Fraction(0), "passable+")


def test_wikipedia_tennessee_capital_example() -> None:
    """The Tennessee capital example of Wikipedia's "Majority judgment" article, in the
    revision electowiki copied (electowiki.org/wiki/Majority_Judgment?diff=prev&diffonly=1&
    oldid=1348, "Updated following Wikipedia"): four ratings "Excellent", "Good", "Fair",
    "Poor", "each voter assigned four different ratings to the four cities", in the order of
    their preferences (42% Memphis > Nashville > Chattanooga > Knoxville, 26% Nashville >
    Chattanooga > Knoxville > Memphis, 15% Chattanooga > Knoxville > Nashville > Memphis,
    17% Knoxville > Chattanooga > Nashville > Memphis, as in Wikipedia's other Tennessee
    examples, e.g. the fact-index.com copy of "Coombs' method").

    Checked against the published chart: Nashville 26% Excellent, 42% Good, 32% Fair, 0%
    Poor; Chattanooga 15%, 43%, 42%, 0%. The stated conclusion was not in the part of the
    page we could read: the majority grades (Nashville and Chattanooga Good, Knoxville Fair,
    Memphis Poor) and Nashville's win (Good- with q = 32% against Chattanooga's q = 42%) are
    derived from the definition.
    """
    e, g, f, p = "excellent", "bien", "passable", "insuffisant"
    groups = {  # voters, and the grade each group gives to M, N, C, K
        42: (e, g, f, p),
        26: (p, e, g, f),
        15: (p, f, e, g),
        17: (p, f, g, e),
    }
    columns = {
        city: column(*((voters, grades[i]) for voters, grades in groups.items()))
        for i, city in enumerate(("Memphis", "Nashville", "Chattanooga", "Knoxville"))
    }
    result = tally(columns)

    nashville, chattanooga = result.profile("Nashville"), result.profile("Chattanooga")
    assert [nashville.count(grade) for grade in (e, g, f, p)] == [26, 42, 32, 0]
    assert [chattanooga.count(grade) for grade in (e, g, f, p)] == [15, 43, 42, 0]
    assert nashville.share(e) == Fraction(26, 100)

    grades = {city: result.profile(city).majority_grade for city in columns}
    assert grades == {"Memphis": p, "Nashville": g, "Chattanooga": g, "Knoxville": f}
    assert (nashville.p, nashville.q) == (Fraction(26, 100), Fraction(32, 100))
    assert (chattanooga.p, chattanooga.q) == (Fraction(15, 100), Fraction(42, 100))
    assert result.winners == ("Nashville",)
    assert result.ranking == ("Nashville", "Chattanooga", "Knoxville", "Memphis")


def test_mieux_voter_readme_demo_with_seven_grades() -> None:
    """Mieux Voter's reference library, MieuxVoter/majority-judgment-library-java,
    MajorityJudgmentDeliberatorTest.testDemoUsage ("the basic demo usage of the README"):
    tallies, worst grade first, {4, 5, 2, 1, 3, 1, 2} and {3, 6, 2, 1, 3, 1, 2}; the second
    proposal ranks 1, the first 2. Seven grades, like ours.
    """
    worst_first = {"first": (4, 5, 2, 1, 3, 1, 2), "second": (3, 6, 2, 1, 3, 1, 2)}
    columns = {
        name: column(*((count, GRADE_KEYS[-1 - i]) for i, count in enumerate(counts)))
        for name, counts in worst_first.items()
    }
    result = tally(columns)
    assert result.ranking == ("second", "first")
    first, second = result.profile("first"), result.profile("second")
    # Same majority grade and same gauge (p = 9/18 for both): the majority value decides.
    assert first.majority_gauge == second.majority_gauge == "insuffisant+"
    assert first.p == second.p == Fraction(1, 2)


def test_mieux_voter_collected_tally_demo() -> None:
    """MieuxVoter/majority-judgment-library-java, testDemoUsageCollectedTally: grades REJECT,
    PASSABLE, GOOD, EXCELLENT; first proposal 2 REJECT, 3 PASSABLE, 3 EXCELLENT; second
    2 REJECT, 4 GOOD, 2 EXCELLENT; third 2 REJECT, 1 PASSABLE, 3 GOOD, 2 EXCELLENT.
    Published ranks: 3, 1, 2 (an even number of judges, 8).
    """
    result = tally(
        {
            "first": column((2, "a_rejeter"), (3, "passable"), (3, "excellent")),
            "second": column((2, "a_rejeter"), (4, "bien"), (2, "excellent")),
            "third": column((2, "a_rejeter"), (1, "passable"), (3, "bien"), (2, "excellent")),
        }
    )
    assert result.ranking == ("second", "third", "first")


def test_mieux_voter_few_judgments_assertions() -> None:
    """MieuxVoter/majority-judgment-library-java, src/test/resources/assertions.json,
    "Few judgments": tallies (worst first, three grades) [1,1,1], [1,0,2], [3,0,0], [2,0,1],
    [0,3,0]; published ranks 3, 1, 5, 4, 2.
    """
    scale = ("a_rejeter", "passable", "bien")  # Mieux Voter's 0 == REJECT, 1 == PASSABLE...
    tallies = {"a": (1, 1, 1), "b": (1, 0, 2), "c": (3, 0, 0), "d": (2, 0, 1), "e": (0, 3, 0)}
    columns = {name: column(*zip(counts, scale, strict=True)) for name, counts in tallies.items()}
    result = tally(columns)
    ranks = {option: result.ranking.index(option) + 1 for option in tallies}
    assert ranks == {"a": 3, "b": 1, "c": 5, "d": 4, "e": 2}


def test_mieux_voter_static_default_grade_is_the_worst() -> None:
    """MieuxVoter/majority-judgment-library-java, testWithStaticDefaultGrade ("worst grade"
    == 0): 3 participants; the first proposal got one judgment of the best grade, the second
    three of the middle grade; missing judgments count as the worst grade. Published ranks:
    2 and 1. Here the missing judgments are options left out of the ballots.
    """
    ballots = [
        {"first": "bien", "second": "passable"},
        {"second": "passable"},
        {"second": "passable"},
    ]
    result = tally_majority_judgment(options=["first", "second"], ballots=ballots, seed=SEED)
    assert result.ranking == ("second", "first")
    first = result.profile("first")
    assert (first.count("a_rejeter"), first.majority_grade) == (2, "a_rejeter")


# Orsay, 22 April 2007: 1,733 ballots from the three polling stations of the experiment, as
# published ballot by ballot by Mieux Voter (MieuxVoter/majority-judgment-datasets,
# ballots/2007_presidentielle_orsay/bureau_01.csv, bureau_06.csv, bureau_12.csv). Counts per
# candidate: Très bien, Bien, Assez bien, Passable, Insuffisant, À rejeter, then "sans opinion
# / blanc" (no grade given).
ORSAY_2007 = {
    "Besancenot": (71, 172, 282, 276, 392, 484, 56),
    "Buffet": (43, 132, 217, 356, 457, 453, 75),
    "Schivardi": (8, 18, 67, 164, 431, 945, 100),
    "Bayrou": (236, 532, 434, 256, 146, 78, 51),
    "Bové": (26, 104, 197, 278, 444, 612, 72),
    "Voynet": (51, 162, 303, 410, 452, 280, 75),
    "de Villiers": (41, 111, 150, 196, 273, 887, 75),
    "Royal": (289, 393, 331, 291, 211, 187, 31),
    "Nihous": (6, 31, 91, 190, 462, 828, 125),
    "Le Pen": (52, 80, 108, 112, 93, 1242, 46),
    "Laguiller": (37, 91, 176, 288, 447, 603, 91),
    "Sarkozy": (331, 343, 247, 200, 123, 459, 30),
}

# The same results in percent, as compiled on forum.mieuxvoter.fr ("Données brutes sur les
# expérimentations de méthodes alternatives de vote", post 9), columns À rejeter, no grade,
# Insuffisant, Passable, Assez bien, Bien, Très bien. Royal's and Le Pen's rows there are
# shifted by a typo (a stray value), so they are left out.
ORSAY_2007_PERCENT = {
    "Laguiller": (34.8, 5.3, 25.9, 16.6, 10.2, 5.3, 2.1),
    "Besancenot": (27.9, 3.2, 22.6, 16, 16.3, 9.9, 4.1),
    "Buffet": (26.1, 4.3, 26.4, 20.6, 12.5, 7.6, 2.5),
    "Schivardi": (54.6, 5.8, 24.9, 9.5, 3.9, 1, 0.5),
    "Bové": (35.3, 4.2, 25.7, 16, 11.4, 6, 1.5),
    "Voynet": (16.2, 4.3, 26.1, 23.7, 17.5, 9.3, 2.9),
    "Bayrou": (4.5, 2.9, 8.4, 14.8, 25.1, 30.7, 13.6),
    "Sarkozy": (26.5, 1.7, 7.1, 11.5, 14.3, 19.8, 19.1),
    "Nihous": (47.8, 7.2, 26.7, 11, 5.3, 1.8, 0.3),
    "de Villiers": (51.2, 4.3, 15.8, 11.3, 8.7, 6.4, 2.4),
}


def test_orsay_2007_experiment() -> None:
    """The Orsay experiment of Balinski and Laraki (PNAS 2007; "Majority Judgment", MIT Press
    2011): 12 candidates of the 2007 French presidential election, graded Très bien ...
    À rejeter; here "sans opinion" counts as À rejeter (this module's convention for an
    ungraded option). Bayrou comes first, as they report.

    Sources of the figures: the ballots published by Mieux Voter (``ORSAY_2007``). Each
    count agrees within two ballots (0.12 point) with the percentages compiled on Mieux
    Voter's forum (``ORSAY_2007_PERCENT``, rounded to one decimal; six cells are one ballot
    above ours). The PNAS table itself was not reachable from here: the majority grades,
    gauges and the ranking below are derived from the definition, not copied from it.
    """
    columns = {
        name: column(
            *((count, GRADE_KEYS[i + 1]) for i, count in enumerate(counts[:6])),
            (counts[6], None),
        )
        for name, counts in ORSAY_2007.items()
    }
    result = tally(columns)
    assert result.ballot_count == 1733

    for name, counts in ORSAY_2007.items():
        profile = result.profile(name)
        assert profile.counts == (0, *counts[:5], counts[5] + counts[6])
    for name, published in ORSAY_2007_PERCENT.items():
        very_good, good, fairly_good, passable, poor, reject, no_grade = ORSAY_2007[name]
        ours = (reject, no_grade, poor, passable, fairly_good, good, very_good)
        for count, percent in zip(ours, published, strict=True):
            assert abs(count - Fraction(str(percent)) * 1733 / 100) <= 2

    assert result.winners == ("Bayrou",)
    bayrou = result.profile("Bayrou")
    assert bayrou.majority_gauge == "assez_bien+"
    assert (bayrou.p, bayrou.q) == (Fraction(768, 1733), Fraction(531, 1733))
    assert [(name, result.profile(name).majority_gauge) for name in result.ranking] == [
        ("Bayrou", "assez_bien+"),
        ("Royal", "assez_bien-"),
        ("Sarkozy", "assez_bien-"),
        ("Voynet", "passable-"),
        ("Besancenot", "insuffisant+"),
        ("Buffet", "insuffisant+"),
        ("Bové", "insuffisant-"),
        ("Laguiller", "insuffisant-"),
        ("Nihous", "a_rejeter+"),
        ("de Villiers", "a_rejeter+"),
        ("Schivardi", "a_rejeter+"),
        ("Le Pen", "a_rejeter+"),
    ]
    assert result.ties == ()


# --- ties, lot and bad input ---------------------------------------------------------------


def test_identical_profiles_are_ordered_by_the_documented_lot_and_reported() -> None:
    columns = {
        "a": ["bien", "passable", "insuffisant"],
        "b": ["passable", "insuffisant", "bien"],  # the same grades as a
        "c": ["excellent", "excellent", "excellent"],
        "d": ["a_rejeter"] * 3,
    }
    result = tally(columns, seed="poll-42")
    drawn = tuple(lot_order(["a", "b"], "poll-42"))
    assert result.ranking == ("c", *drawn, "d")
    assert len(result.ties) == 1
    tie = result.ties[0]
    assert (tie.options, tie.broken_by, tie.chosen) == (("a", "b"), "lot", drawn)
    assert tally(columns, seed="poll-42") == result


def test_a_tie_for_first_place_gives_one_winner_by_lot() -> None:
    ballots = [{"a": "bien", "b": "bien"}, {"a": "passable", "b": "passable"}]
    for seed in ("one", "two", "three", "four"):
        result = tally_majority_judgment(options=["a", "b"], ballots=ballots, seed=seed)
        assert result.winners == (lot_order(["a", "b"], seed)[0],)
        assert result.ties[0].chosen == tuple(lot_order(["a", "b"], seed))


def test_ties_settled_by_the_method_are_not_reported() -> None:
    result = tally({"a": ["bien", "passable"], "b": ["bien", "insuffisant"]})
    assert result.ranking == ("a", "b")  # both lower medians differ: passable vs insuffisant
    assert result.ties == ()


@pytest.mark.parametrize(
    ("ballot", "message"),
    [
        ({"z": "bien"}, "unknown option"),
        ({"a": "Bien"}, "unknown grade"),
        ({"a": "très bien"}, "unknown grade"),
        ({"a": None}, "unknown grade"),
        ({"a": 3}, "unknown grade"),
        (["a", "bien"], "must map"),
    ],
)
def test_bad_ballots_raise_invalid_ballot(ballot: object, message: str) -> None:
    with pytest.raises(InvalidBallot, match=message):
        tally_majority_judgment(
            options=["a", "b"],
            ballots=[{"a": "bien"}, ballot],  # type: ignore[list-item]
            seed=SEED,
        )


def test_no_ballot_and_bad_options_raise_value_error() -> None:
    with pytest.raises(ValueError, match="at least one ballot"):
        tally_majority_judgment(options=["a"], ballots=[], seed=SEED)
    with pytest.raises(ValueError, match="unique"):
        tally_majority_judgment(options=["a", "a"], ballots=[{}], seed=SEED)
    with pytest.raises(ValueError, match="at least one option"):
        tally_majority_judgment(options=[], ballots=[{}], seed=SEED)


def test_an_empty_ballot_rejects_every_option() -> None:
    result = tally_majority_judgment(options=["a", "b"], ballots=[{}, {}], seed=SEED)
    assert {profile.majority_grade for profile in result.profiles} == {"a_rejeter"}
    assert result.profile("a").shares == (*[Fraction(0)] * 6, Fraction(1))


def test_equal_p_and_q_counts_as_minus() -> None:
    """p = q is "alpha-": with the lower middlemost, removing majority grades from such a
    profile makes the median fall (Mieux Voter's reference code likewise "favors
    contestation" on equal groups: ProposalTallyAnalysis in
    MieuxVoter/majority-judgment-library-java). Built from the definition.
    """
    odd = tally({"spread": ["tres_bien", "bien", "passable"], "flat": ["bien"] * 3})
    assert odd.ranking == ("flat", "spread")
    assert odd.profile("spread").majority_gauge == "bien-"
    assert odd.profile("spread").majority_value() == ("bien", "passable", "tres_bien")
    even = tally(
        {
            "spread": ["tres_bien", "bien", "bien", "passable"],
            "flat": ["bien"] * 4,
            "up": ["tres_bien", "tres_bien", "bien", "passable"],
        }
    )
    assert even.ranking == ("up", "flat", "spread")  # bien+, bien- (q = 0), bien- (q = 1/4)


# --- properties ----------------------------------------------------------------------------

OPTIONS = ("a", "b", "c", "d")


OPTION_LISTS = st.lists(st.sampled_from(OPTIONS), min_size=1, max_size=4, unique=True)
LEVEL_LISTS = st.lists(st.sampled_from(GRADE_KEYS), min_size=1, max_size=3, unique=True)


@st.composite
def polls(draw: st.DrawFn) -> tuple[list[str], list[dict[str, str]]]:
    """1 to 4 options, 1 to 9 ballots, grades from a few levels so that ties are frequent."""
    options = draw(OPTION_LISTS)
    levels = draw(LEVEL_LISTS)
    # Each option's grade on a ballot: one of the levels or none, drawn as its index, as
    # sampled_from draws it. Hypothesis keeps these strategies by their arguments: built
    # from the drawn values (sampled_from of a list, fixed_dictionaries), new ones were
    # made and checked for every example: a third of what the properties below cost.
    grades = [*levels, None]
    each = st.lists(st.integers(0, len(levels)), min_size=len(options), max_size=len(options))
    rows = draw(st.lists(each, min_size=1, max_size=9))
    ballots = [dict(zip(options, (grades[g] for g in row), strict=True)) for row in rows]
    return options, [{o: g for o, g in ballot.items() if g is not None} for ballot in ballots]


def grade_index(grade: str) -> int:
    return GRADE_KEYS.index(grade)


def given_grades(ballots: list[dict[str, str]], option: str) -> list[int]:
    return [grade_index(ballot.get(option, UNGRADED)) for ballot in ballots]


def naive_majority_value(grades: list[int]) -> tuple[int, ...]:
    """Definition, literally: take the lower median, remove it, start again."""
    remaining = sorted(grades)  # best first
    sequence = []
    while remaining:
        sequence.append(remaining.pop(len(remaining) // 2))
    return tuple(sequence)


@settings(max_examples=200)
@given(polls(), st.randoms(use_true_random=False))
def test_ballot_order_never_changes_the_result(
    poll: tuple[list[str], list[dict[str, str]]], rng: Random
) -> None:
    options, ballots = poll
    shuffled = list(ballots)
    rng.shuffle(shuffled)
    first = tally_majority_judgment(options=options, ballots=ballots, seed="s")
    assert tally_majority_judgment(options=options, ballots=shuffled, seed="s") == first


@settings(max_examples=200)
@given(polls())
def test_profiles_add_up_and_majority_grade_lies_between_given_grades(
    poll: tuple[list[str], list[dict[str, str]]],
) -> None:
    options, ballots = poll
    result = tally_majority_judgment(options=options, ballots=ballots, seed="s")
    assert result.ballot_count == len(ballots)
    assert sorted(result.ranking) == sorted(options)
    for profile in result.profiles:
        grades = given_grades(ballots, profile.option)
        assert sum(profile.counts) == len(ballots)
        assert sum(profile.shares) == 1
        assert min(grades) <= grade_index(profile.majority_grade) <= max(grades)
        assert profile.p + profile.q + profile.share(profile.majority_grade) == 1
        # More than half give at least the majority grade; at least half at most it.
        assert 2 * sum(g <= grade_index(profile.majority_grade) for g in grades) > len(grades)
        assert 2 * sum(g >= grade_index(profile.majority_grade) for g in grades) >= len(grades)


@settings(max_examples=200)
@given(polls())
def test_ranking_is_the_majority_value_order_gauge_never_contradicts_it(
    poll: tuple[list[str], list[dict[str, str]]],
) -> None:
    """Balinski and Laraki's majority ranking, computed the slow way, then the lot."""
    options, ballots = poll
    result = tally_majority_judgment(options=options, ballots=ballots, seed="s")
    values = {o: naive_majority_value(given_grades(ballots, o)) for o in options}
    expected: list[str] = []
    for value in sorted(set(values.values())):
        expected.extend(lot_order([o for o in options if values[o] == value], "s"))
    assert list(result.ranking) == expected
    for profile in result.profiles:
        value = values[profile.option]
        assert tuple(grade_index(g) for g in profile.majority_value()) == value
        assert grade_index(profile.majority_grade) == value[0]


@settings(max_examples=200)
@given(polls(), st.data())
def test_an_option_graded_at_least_as_high_by_everyone_ranks_above(
    poll: tuple[list[str], list[dict[str, str]]], data: st.DataObject
) -> None:
    options, ballots = poll
    # Add an option "x" that each voter grades at least as high as options[0], one strictly.
    base = options[0]
    improved = []
    for ballot in ballots:
        floor = grade_index(ballot.get(base, UNGRADED))
        improved.append(data.draw(st.integers(0, floor)))
    strict = [k for k, ballot in enumerate(ballots) if grade_index(ballot.get(base, UNGRADED))]
    if not strict:  # everyone gave options[0] Excellent: make one of them better impossible
        return
    k = data.draw(st.sampled_from(strict))
    improved[k] = min(improved[k], grade_index(ballots[k].get(base, UNGRADED)) - 1)
    with_x = [{**b, "x": GRADE_KEYS[g]} for b, g in zip(ballots, improved, strict=True)]
    result = tally_majority_judgment(options=[*options, "x"], ballots=with_x, seed="s")
    assert result.ranking.index("x") < result.ranking.index(base)


@settings(max_examples=200)
@given(polls(), st.sampled_from(GRADE_KEYS))
def test_a_ballot_above_the_majority_grade_never_lowers_it(
    poll: tuple[list[str], list[dict[str, str]]], grade: str
) -> None:
    options, ballots = poll
    option = options[0]
    before = tally_majority_judgment(options=options, ballots=ballots, seed="s")
    old = grade_index(before.profile(option).majority_grade)
    if grade_index(grade) < old:  # strictly better than the majority grade
        after = tally_majority_judgment(
            options=options, ballots=[*ballots, {option: grade}], seed="s"
        )
        assert grade_index(after.profile(option).majority_grade) <= old
    if grade_index(grade) > old:  # and a worse one never raises it
        after = tally_majority_judgment(
            options=options, ballots=[*ballots, {option: grade}], seed="s"
        )
        assert grade_index(after.profile(option).majority_grade) >= old


@settings(max_examples=200)
@given(polls())
def test_removing_an_option_keeps_the_order_of_the_others(
    poll: tuple[list[str], list[dict[str, str]]],
) -> None:
    """Independence of irrelevant alternatives, which majority judgment satisfies."""
    options, ballots = poll
    if len(options) < 2:
        return
    gone = options[-1]
    full = tally_majority_judgment(options=options, ballots=ballots, seed="s")
    rest = tally_majority_judgment(
        options=options[:-1],
        ballots=[{o: g for o, g in b.items() if o != gone} for b in ballots],
        seed="s",
    )
    assert rest.ranking == tuple(o for o in full.ranking if o != gone)


@settings(max_examples=200)
@given(
    st.lists(st.sampled_from(OPTIONS), min_size=1, max_size=4, unique=True),
    st.sampled_from(GRADE_KEYS),
    st.integers(1, 9),
    st.text(max_size=8),
)
def test_unanimous_grades_give_that_majority_grade_and_a_stable_lot(
    options: list[str], grade: str, voters: int, seed: str
) -> None:
    ballots = [{option: grade for option in options}] * voters
    result = tally_majority_judgment(options=options, ballots=ballots, seed=seed)
    for profile in result.profiles:
        assert (profile.majority_grade, profile.p, profile.q) == (grade, Fraction(0), Fraction(0))
    assert result.ranking == tuple(lot_order(options, seed))
    assert result.winners == result.ranking[:1]
    if len(options) > 1:
        assert [(t.options, t.chosen) for t in result.ties] == [(tuple(options), result.ranking)]
    assert tally_majority_judgment(options=options, ballots=ballots, seed=seed) == result


# --- weighted ballots ----------------------------------------------------------------------

POSITIVE = st.fractions(min_value=Fraction(1, 30), max_value=Fraction(5), max_denominator=30)


def weighted(
    options: Sequence[str], ballots: Sequence[Mapping[str, str]], weights: Sequence[Fraction]
) -> MajorityJudgmentResult:
    return tally_majority_judgment(options=options, ballots=ballots, seed="s", weights=weights)


def test_scic_colleges_worked_example() -> None:
    """Built from the definition (no published source): college A weighs 60 % and casts 2
    ballots (weight 3/10 each), grading X "excellent" and Y "passable"; college B weighs 40 %
    and casts 6 ballots (weight 1/15 each), grading X "insuffisant" and Y "bien". X's
    "excellent" carries 60 % of the weight, more than half: it is X's majority grade and X
    wins. Counted by heads, 6 of the 8 ballots grade X "insuffisant" and Y "bien": Y wins.
    """
    ballots = [{"X": "excellent", "Y": "passable"}] * 2 + [{"X": "insuffisant", "Y": "bien"}] * 6
    weights = [Fraction(3, 10)] * 2 + [Fraction(1, 15)] * 6
    result = weighted(["X", "Y"], ballots, weights)
    x, y = result.profile("X"), result.profile("Y")
    assert result.ballot_count == 8
    assert (x.count("excellent"), x.count("insuffisant")) == (Fraction(3, 5), Fraction(2, 5))
    assert x.total == y.total == 1
    assert (x.majority_grade, x.p, x.q, x.majority_gauge) == (
        "excellent",
        Fraction(0),
        Fraction(2, 5),
        "excellent-",
    )
    assert (y.majority_grade, y.p, y.q, y.majority_gauge) == (
        "passable",
        Fraction(2, 5),
        Fraction(0),
        "passable+",
    )
    assert result.winners == ("X",)
    assert result.ranking == ("X", "Y")
    # The majority value read outward from the middle: Excellent covers [0, 3/5), so the
    # worse side reaches Insuffisant at t = 3/5 - 1/2.
    assert x.majority_value_steps() == (
        (Fraction(0), "excellent", "excellent"),
        (Fraction(1, 10), "insuffisant", "excellent"),
    )
    with pytest.raises(ValueError, match="whole counts"):
        x.majority_value()

    heads = tally_majority_judgment(options=["X", "Y"], ballots=ballots, seed="s")
    assert heads.profile("X").majority_grade == "insuffisant"
    assert heads.profile("Y").majority_grade == "bien"
    assert heads.winners == ("Y",)


def test_weighted_majority_value_decides_after_the_gauge() -> None:
    """Built from the definition: both "bien-" with p = q = 1/4; reading outward, at
    t = 1/4 the worse side reaches "passable" for b but "a_rejeter" for a: b ranks first."""
    ballots = [
        {"a": "tres_bien", "b": "excellent"},
        {"a": "bien", "b": "bien"},
        {"a": "a_rejeter", "b": "passable"},
    ]
    result = weighted(["a", "b"], ballots, [Fraction(1, 4), Fraction(1, 2), Fraction(1, 4)])
    a, b = result.profile("a"), result.profile("b")
    assert a.majority_gauge == b.majority_gauge == "bien-"
    assert a.q == b.q == Fraction(1, 4)
    assert result.ranking == ("b", "a")
    assert result.ties == ()
    assert a.majority_value_steps()[1] == (Fraction(1, 4), "a_rejeter", "tres_bien")
    assert b.majority_value_steps()[1] == (Fraction(1, 4), "passable", "excellent")


def test_identical_weighted_profiles_go_to_the_lot() -> None:
    """a: "bien" on the ballot of weight 1/2, "passable" on both of weight 1/4; b the other
    way round. Both weigh 1/2 "bien" and 1/2 "passable": the lot orders them (by heads, b
    would win with two "bien" out of three)."""
    ballots = [
        {"a": "bien", "b": "passable"},
        {"a": "passable", "b": "bien"},
        {"a": "passable", "b": "bien"},
    ]
    for seed in ("one", "two", "three", "four"):
        result = tally_majority_judgment(
            options=["a", "b"],
            ballots=ballots,
            seed=seed,
            weights=[Fraction(1, 2), Fraction(1, 4), Fraction(1, 4)],
        )
        drawn = tuple(lot_order(["a", "b"], seed))
        assert result.profile("a").shares == result.profile("b").shares
        assert result.ranking == drawn
        assert [(t.options, t.broken_by, t.chosen) for t in result.ties] == [
            (("a", "b"), "lot", drawn)
        ]
    assert tally(
        {"a": ["bien", "passable", "passable"], "b": ["passable", "bien", "bien"]}
    ).ranking == ("b", "a")


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ([Fraction(1)], "must match the ballots: only 1 weights"),
        ([Fraction(1)] * 3, "must match the ballots: 3 weights for 2 ballots"),
        ([], "must match the ballots: only 0 weights"),
        ([Fraction(0), Fraction(0)], "at least one ballot that weighs something"),
        ([Fraction(-1, 3), Fraction(1)], "must be >= 0"),
    ],
)
def test_bad_weights_raise_value_error(weights: list[Fraction], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        tally_majority_judgment(
            options=["a"], ballots=[{"a": "bien"}, {}], seed=SEED, weights=weights
        )


def test_inexact_weights_raise_type_error() -> None:
    for bad in (0.5, True, "1"):
        with pytest.raises(TypeError, match="exact Fraction"):
            tally_majority_judgment(
                options=["a"],
                ballots=[{"a": "bien"}],
                seed=SEED,
                weights=[bad],  # type: ignore[list-item]
            )


@settings(max_examples=100)
@given(polls())
def test_weights_all_one_give_identical_results(
    poll: tuple[list[str], list[dict[str, str]]],
) -> None:
    options, ballots = poll
    plain = tally_majority_judgment(options=options, ballots=ballots, seed="s")
    ones = weighted(options, ballots, [Fraction(1)] * len(ballots))
    assert ones == plain
    assert (ones.ranking, ones.ties, ones.winners) == (plain.ranking, plain.ties, plain.winners)
    for profile in ones.profiles:
        assert all(isinstance(count, Fraction) for count in profile.counts)
        assert profile.majority_value() == plain.profile(profile.option).majority_value()
    assert all(type(c) is int for profile in plain.profiles for c in profile.counts)


@settings(max_examples=100)
@given(polls(), st.data())
def test_weighted_tally_is_the_plain_tally_of_the_cloned_electorate(
    poll: tuple[list[str], list[dict[str, str]]], data: st.DataObject
) -> None:
    """Weights unit * k: the same as k copies of each ballot, unweighted, and the ranking is
    Balinski and Laraki's majority ranking of those copies, computed the slow way."""
    options, ballots = poll
    copies = data.draw(st.lists(st.integers(1, 4), min_size=len(ballots), max_size=len(ballots)))
    unit = data.draw(POSITIVE)
    result = weighted(options, ballots, [unit * k for k in copies])
    cloned = [ballot for ballot, k in zip(ballots, copies, strict=True) for _ in range(k)]
    plain = tally_majority_judgment(options=options, ballots=cloned, seed="s")

    assert result.ballot_count == len(ballots)
    assert (result.ranking, result.ties) == (plain.ranking, plain.ties)
    for profile, reference in zip(result.profiles, plain.profiles, strict=True):
        assert profile.counts == tuple(unit * count for count in reference.counts)
        assert (profile.shares, profile.majority_grade, profile.p, profile.q) == (
            reference.shares,
            reference.majority_grade,
            reference.p,
            reference.q,
        )
    values = {o: naive_majority_value(given_grades(cloned, o)) for o in options}
    expected: list[str] = []
    for value in sorted(set(values.values())):
        expected.extend(lot_order([o for o in options if values[o] == value], "s"))
    assert list(result.ranking) == expected


@settings(max_examples=100)
@given(polls(), st.data())
def test_scaling_all_weights_never_changes_the_ranking(
    poll: tuple[list[str], list[dict[str, str]]], data: st.DataObject
) -> None:
    options, ballots = poll
    weights = data.draw(st.lists(POSITIVE, min_size=len(ballots), max_size=len(ballots)))
    factor = data.draw(POSITIVE)
    result = weighted(options, ballots, weights)
    scaled = weighted(options, ballots, [factor * w for w in weights])
    assert (scaled.ranking, scaled.ties, scaled.winners) == (
        result.ranking,
        result.ties,
        result.winners,
    )
    for profile, reference in zip(scaled.profiles, result.profiles, strict=True):
        assert profile.counts == tuple(factor * count for count in reference.counts)
        assert profile.shares == reference.shares
        assert profile.majority_value_steps() == reference.majority_value_steps()
        assert (profile.majority_grade, profile.p, profile.q) == (
            reference.majority_grade,
            reference.p,
            reference.q,
        )


@settings(max_examples=100)
@given(polls(), st.data(), st.randoms(use_true_random=False))
def test_weighted_profiles_gauge_and_majority_value_agree(
    poll: tuple[list[str], list[dict[str, str]]], data: st.DataObject, rng: Random
) -> None:
    """The definitions read on the weighted profile: the majority grade is the best grade
    that more than half of the weight gives at least; the majority value starts at it, its
    worse side leaves it at t = 1/2 - q and its better side at t = 1/2 - p; the ranking is
    the order of the majority values (the gauge never contradicts it), then the lot; the
    order of the (ballot, weight) pairs does not matter."""
    options, ballots = poll
    weights = data.draw(st.lists(POSITIVE, min_size=len(ballots), max_size=len(ballots)))
    result = weighted(options, ballots, weights)
    total = sum(weights, Fraction(0))
    half = Fraction(1, 2)
    for profile in result.profiles:
        grades = given_grades(ballots, profile.option)
        median = grade_index(profile.majority_grade)
        assert 2 * sum((w for g, w in zip(grades, weights, strict=True) if g <= median), 0) > total
        assert 2 * sum((w for g, w in zip(grades, weights, strict=True) if g < median), 0) <= total
        assert profile.total == total
        own = profile.majority_value_steps()
        assert own[0][:2] == (Fraction(0), profile.majority_grade)
        worse = [t for t, upper, _ in own if upper != profile.majority_grade]
        better = [t for t, _, lower in own if lower != profile.majority_grade]
        assert worse[:1] == ([half - profile.q] if profile.q else [])
        assert better[:1] == ([half - profile.p] if profile.p else [])

    steps = {p.option: p.majority_value_steps() for p in result.profiles}
    points = sorted({t for option_steps in steps.values() for t, _, _ in option_steps})

    def value(option: str) -> tuple[tuple[int, int], ...]:
        sampled = []
        for point in points:
            _, upper, lower = [s for s in steps[option] if s[0] <= point][-1]
            sampled.append((grade_index(upper), grade_index(lower)))
        return tuple(sampled)

    values = {o: value(o) for o in options}
    expected: list[str] = []
    for v in sorted(set(values.values())):
        expected.extend(lot_order([o for o in options if values[o] == v], "s"))
    assert list(result.ranking) == expected

    pairs = list(zip(ballots, weights, strict=True))
    rng.shuffle(pairs)
    shuffled = weighted(options, [b for b, _ in pairs], [w for _, w in pairs])
    assert shuffled == result
