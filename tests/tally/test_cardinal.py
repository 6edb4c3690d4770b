"""Approval, dot and score voting: published worked examples, bad ballots, and properties."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cocreate.tally.base import InvalidBallot, Tie, lot_order
from cocreate.tally.cardinal import (
    HIGHER_MEDIAN,
    LOT,
    MORE_SUPPORTERS,
    OptionScore,
    tally_approval,
    tally_dot_voting,
    tally_score,
)
from tests import strategies

PROPERTIES = settings(max_examples=150, deadline=None)
SEED = "3f1c0ffee"  # any fixed string: in the app it is the SHA-256 of the ballot file

OPTIONS = ("a", "b", "c", "d", "e")
option_lists = st.lists(st.sampled_from(OPTIONS), min_size=1, max_size=5, unique=True)
approval_ballots = st.lists(strategies.approval_ballots(OPTIONS), max_size=25)
# At most 2 options × 2 dots: always within 4 points and a cap of 2 per option.
dot_ballots = st.lists(strategies.dot_ballots(OPTIONS, points=4, cap=2), max_size=25)
score_ballots = st.lists(strategies.score_ballots(OPTIONS, low=0, high=5), max_size=25)
seats = st.integers(1, len(OPTIONS))

# The Tennessee capital example: 42 % Memphis, 26 % Nashville, 15 % Chattanooga and 17 %
# Knoxville voters, each ranking the cities by distance (electowiki, "Effects of different
# voting systems under similar circumstances", https://electowiki.org/wiki/Effects_of_
# different_voting_systems_under_similar_circumstances).
TENNESSEE = (
    (42, ("Memphis", "Nashville", "Chattanooga", "Knoxville")),
    (26, ("Nashville", "Chattanooga", "Knoxville", "Memphis")),
    (15, ("Chattanooga", "Knoxville", "Nashville", "Memphis")),
    (17, ("Knoxville", "Chattanooga", "Nashville", "Memphis")),
)


# --- Approval: published examples ---------------------------------------------------------


def test_approval_lackner_skowron_running_example() -> None:
    """M. Lackner & P. Skowron, "Multi-Winner Voting with Approval Preferences" (Springer
    Briefs in Intelligent Systems, 2023), Example 1 (the running profile: 3×{a,b},
    3×{a,c}, 2×{a,d}, {b,c,f}, {e}, {f}, {g}; candidates a–h; committee size 4) and
    Example 2 (AV), as encoded in the book's companion code, abcvoting
    examples/abcbook/example02.py, and its expected output: approval scores a 8, b 4, c 4,
    d 2, e 1, f 2, g 1, h 0; the winning committees are {a,b,c,d} and {a,b,c,f}.
    The last seat is an approval tie between d and f, which this engine breaks by lot.
    """
    a, b, c, d, e, f, g, h = "abcdefgh"
    ballots = [{a, b}] * 3 + [{a, c}] * 3 + [{a, d}] * 2 + [{b, c, f}, {e}, {f}, {g}]
    result = tally_approval(options=list("abcdefgh"), ballots=ballots, seats=4, seed=SEED)

    assert dict(result.approvals) == {a: 8, b: 4, c: 4, d: 2, e: 1, f: 2, g: 1, h: 0}
    assert result.ballots == 12
    assert set(result.winners) in ({a, b, c, d}, {a, b, c, f})
    lot_pick = lot_order([d, f], SEED)[0]
    assert set(result.winners) == {a, b, c, lot_pick}
    # b and c tie too, but both win: only the d/f tie decided a seat.
    assert result.ties == (Tie(options=(d, f), broken_by=LOT, chosen=(lot_pick,)),)

    single = tally_approval(options=list("abcdefgh"), ballots=ballots, seed=SEED)
    assert single.winners == (a,)
    assert single.ties == ()


def test_approval_tennessee_top_two() -> None:
    """Wikipedia, "STAR voting", section "Example" (seen via https://wikisum.wiki/wiki/
    STAR_voting): "In approval voting, with each voter selecting their top two cities,
    Nashville would also win because of the significant boost from Memphis residents."
    Only the winner is published; the approval counts (per 100 voters) are derived here
    from the published preferences: Memphis 42, Nashville 42+26 = 68, Chattanooga
    26+15+17 = 58, Knoxville 15+17 = 32.
    """
    ballots = [set(order[:2]) for share, order in TENNESSEE for _ in range(share)]
    result = tally_approval(options=TENNESSEE[0][1], ballots=ballots, seed=SEED)
    assert result.winners == ("Nashville",)
    assert dict(result.approvals) == {
        "Memphis": 42,
        "Nashville": 68,
        "Chattanooga": 58,
        "Knoxville": 32,
    }
    assert result.ranking == ("Nashville", "Chattanooga", "Memphis", "Knoxville")
    assert result.ties == ()


def test_approval_blank_ballots_are_counted_but_approve_nothing() -> None:
    result = tally_approval(options=["x", "y"], ballots=[set(), {"y"}, frozenset()], seed=SEED)
    assert (result.ballots, result.blank_ballots) == (3, 2)
    assert dict(result.approvals) == {"x": 0, "y": 1}
    assert result.winners == ("y",)


@pytest.mark.parametrize(
    ("ballot", "message"),
    [
        ({"x", "zz"}, "unknown option 'zz'"),
        ("x", "must be a set of option ids"),
        ({"x": 1}, "must be a set of option ids"),
        (["x", "x"], "names an option twice"),
        (3, "must be a set of option ids"),
        ([["x"]], "must hold option ids"),
    ],
)
def test_approval_bad_ballots(ballot: object, message: str) -> None:
    with pytest.raises(InvalidBallot, match=message):
        tally_approval(options=["x", "y"], ballots=[{"y"}, ballot], seed=SEED)  # type: ignore[list-item]


def test_approval_checks_options_and_seats() -> None:
    with pytest.raises(ValueError, match="unique"):
        tally_approval(options=["x", "x"], ballots=[], seed=SEED)
    with pytest.raises(ValueError, match="seats"):
        tally_approval(options=["x", "y"], ballots=[], seats=3, seed=SEED)
    with pytest.raises(ValueError, match="seats"):
        tally_approval(options=["x", "y"], ballots=[], seats=0, seed=SEED)


# --- Dot voting ---------------------------------------------------------------------------


def test_dot_voting_breadth_breaks_equal_totals() -> None:
    """Dot voting as defined by dotmocracy.org, "What is Dotmocracy?"
    (http://dotmocracy.org/what_is/): "Participants are each given a set number of dot
    stickers [...] they may place any number of their dots on any number of the options
    [...] Options with the most dots at the end of voting 'win'"; the number of dots and
    the dots allowed per option are the two settings of e.g. PollUnit's dot voting
    (https://pollunit.com/tutorials/dot_voting). No worked example with figures was found;
    this one is built from J. Diceman's remark that multi-voting "makes it impossible to
    tell the difference [...] between five dots from one person, or five people with one
    dot each" (http://dotmocracy.org/compare_traditional): here the engine can, and its tie
    rule prefers the option five people support.
    """
    ballots: list[dict[str, int]] = [
        {"mural": 5},
        {"garden": 1, "library": 1},
        {"garden": 1, "library": 1},
        {"garden": 1, "library": 1},
        {"garden": 1, "library": 1},
        {"garden": 1},
        {},
    ]
    result = tally_dot_voting(
        options=["mural", "garden", "library"], ballots=ballots, points=5, seed=SEED
    )
    assert dict(result.totals) == {"mural": 5, "garden": 5, "library": 4}
    assert dict(result.supporters) == {"mural": 1, "garden": 5, "library": 4}
    assert result.points_cast == 14
    assert (result.ballots, result.blank_ballots) == (7, 1)
    assert result.cap_per_option == 5
    assert result.winners == ("garden",)
    assert result.ranking == ("garden", "mural", "library")
    assert result.ties == (
        Tie(options=("garden", "mural"), broken_by=MORE_SUPPORTERS, chosen=("garden",)),
    )

    # With two seats both tied options win: nothing had to be broken.
    two = tally_dot_voting(
        options=["mural", "garden", "library"], ballots=ballots, points=5, seats=2, seed=SEED
    )
    assert set(two.winners) == {"mural", "garden"}
    assert two.ties == ()


def test_dot_voting_equal_totals_and_supporters_go_to_the_lot() -> None:
    ballots = [{"x": 2}, {"y": 2}, {"z": 1}]
    result = tally_dot_voting(options=["x", "y", "z"], ballots=ballots, points=3, seed=SEED)
    pick = lot_order(["x", "y"], SEED)[0]
    assert result.winners == (pick,)
    assert result.ties == (Tie(options=("x", "y"), broken_by=LOT, chosen=(pick,)),)


@pytest.mark.parametrize(
    ("ballot", "message"),
    [
        ({"x": 3}, "over the cap of 2 dots per option"),
        ({"x": 2, "y": 2}, "places 4 dots, more than the 3 allowed"),
        ({"x": -1}, "non-negative integer"),
        ({"x": 1.0}, "non-negative integer"),
        ({"x": True}, "non-negative integer"),
        ({"nope": 1}, "unknown option 'nope'"),
        ({"x", "y"}, "must map options to dots"),
    ],
)
def test_dot_voting_bad_ballots(ballot: object, message: str) -> None:
    with pytest.raises(InvalidBallot, match=message):
        tally_dot_voting(
            options=["x", "y"],
            ballots=[{"y": 1}, ballot],  # type: ignore[list-item]
            points=3,
            cap_per_option=2,
            seed=SEED,
        )


def test_dot_voting_checks_its_settings() -> None:
    with pytest.raises(ValueError, match="points must be a positive integer"):
        tally_dot_voting(options=["x"], ballots=[], points=0, seed=SEED)
    with pytest.raises(ValueError, match="cap_per_option must be an integer from 1 to 3"):
        tally_dot_voting(options=["x"], ballots=[], points=3, cap_per_option=4, seed=SEED)


# --- Score voting -------------------------------------------------------------------------


def test_score_fedora_elections_guide_example() -> None:
    """N. Jones, "Fedora Elections Guide" (Fedora Project, 2008, edition 1.0), §1.2 "Range
    Voting Example", Table 1.1 "Simple Example Ballot" (https://docs.fedoraproject.org/
    en-US/Fedora_Contributor_Documentation/1/html/Fedora_Elections_Guide/chap-Fedora_
    Elections_Guide-Range_Voting.html): three voters score seven candidates A–G; published
    totals A 14, B 12, C 15, D 7, E 13, F 6, G 8, and "Candidate C would be declared the
    winner [...] as opposed to Candidate A's 14 votes". The scale is 0 to the number of
    candidates (here 7), blanks scored 0, as on the Fedora elections app's voting form
    ("select a value between 0 and ${len(candidates)}", pagure.io/elections 0.1.0).
    Erratum: the table's own rows give C 4 + 7 + 6 = 17, not 15; every other total and the
    winner are as published.
    """
    rows = {
        "voter A": (0, 3, 4, 4, 6, 0, 4),
        "voter B": (7, 2, 7, 2, 3, 5, 0),
        "voter C": (7, 7, 6, 1, 4, 1, 4),
    }
    candidates = ("A", "B", "C", "D", "E", "F", "G")
    ballots = [dict(zip(candidates, row, strict=True)) for row in rows.values()]
    result = tally_score(options=candidates, ballots=ballots, max_score=7, seed=SEED)

    totals = {o: s.total for o, s in result.scores.items()}
    assert totals == {"A": 14, "B": 12, "C": 17, "D": 7, "E": 13, "F": 6, "G": 8}
    assert result.winners == ("C",)
    assert result.ranking == ("C", "A", "E", "B", "G", "D", "F")
    assert result.scores["C"] == OptionScore(
        total=17, average=Fraction(17, 3), median=6, count=3, scored_by=3
    )
    assert result.scores["A"].average == Fraction(14, 3)
    assert result.scores["A"].median == 7
    assert result.ties == ()


def test_unscored_options_count_as_min_score() -> None:
    ballots = [{"x": 5}, {"x": 4, "y": 5}, {}, {"y": 1}]
    result = tally_score(options=["x", "y"], ballots=ballots, min_score=1, seed=SEED)
    assert result.scores["x"] == OptionScore(
        total=5 + 4 + 1 + 1, average=Fraction(11, 4), median=1, count=4, scored_by=2
    )
    assert result.scores["y"] == OptionScore(
        total=1 + 5 + 1 + 1, average=Fraction(8, 4), median=1, count=4, scored_by=2
    )
    assert result.winners == ("x",)


def test_median_is_the_lower_median_for_an_even_count() -> None:
    ballots = [{"x": s} for s in (5, 1, 4, 2)]
    stats = tally_score(options=["x"], ballots=ballots, seed=SEED).scores["x"]
    assert stats.median == 2  # not 3 (the mean of 2 and 4) nor 4 (the upper median)
    assert stats.average == 3


def test_equal_averages_go_to_the_higher_median_then_the_lot() -> None:
    ballots = [{"x": 0, "y": 3, "z": 3}, {"x": 5, "y": 3, "z": 3}, {"x": 5, "y": 4, "z": 4}]
    result = tally_score(options=["x", "y", "z"], ballots=ballots, seed=SEED)
    assert {o: s.average for o, s in result.scores.items()} == dict.fromkeys("xyz", Fraction(10, 3))
    assert result.winners == ("x",)
    assert result.ties == (Tie(options=("x", "y", "z"), broken_by=HIGHER_MEDIAN, chosen=("x",)),)

    two = tally_score(options=["x", "y", "z"], ballots=ballots, seats=2, seed=SEED)
    pick = lot_order(["y", "z"], SEED)[0]
    assert two.winners == ("x", pick)
    assert two.ties == (
        Tie(options=("x", "y", "z"), broken_by=HIGHER_MEDIAN, chosen=("x", pick)),
        Tie(options=("y", "z"), broken_by=LOT, chosen=(pick,)),
    )


def test_score_without_ballots_is_all_lot() -> None:
    result = tally_score(options=["x", "y"], ballots=[], seed=SEED)
    assert result.scores["x"] == OptionScore(
        total=0, average=None, median=None, count=0, scored_by=0
    )
    assert result.ranking == tuple(lot_order(["x", "y"], SEED))
    assert [t.broken_by for t in result.ties] == [LOT]


@pytest.mark.parametrize(
    ("ballot", "message"),
    [
        ({"x": 6}, "out of range 0–5"),
        ({"x": -1}, "out of range 0–5"),
        ({"x": 2.5}, "must be an integer"),
        ({"x": Fraction(1)}, "must be an integer"),
        ({"x": False}, "must be an integer"),
        ({"w": 1}, "unknown option 'w'"),
        (["x"], "must map options to scores"),
    ],
)
def test_score_bad_ballots(ballot: object, message: str) -> None:
    with pytest.raises(InvalidBallot, match=message):
        tally_score(options=["x", "y"], ballots=[{"x": 1}, ballot], seed=SEED)  # type: ignore[list-item]


def test_score_checks_its_scale() -> None:
    with pytest.raises(ValueError, match="min_score < max_score"):
        tally_score(options=["x"], ballots=[], min_score=5, max_score=5, seed=SEED)


# --- The lot --------------------------------------------------------------------------------


def test_the_lot_depends_on_the_seed_only() -> None:
    ballots = [{"x"}, {"y"}]
    picks = {
        tally_approval(options=["x", "y"], ballots=ballots, seed=str(n)).winners[0]
        for n in range(20)
    }
    assert picks == {"x", "y"}  # different seeds draw different lots…
    again = [tally_approval(options=["y", "x"], ballots=ballots, seed="7") for _ in range(3)]
    assert again[0] == again[1] == again[2]  # …and one seed always draws the same


# --- Properties ---------------------------------------------------------------------------


def _same_outcome(one: object, other: object) -> None:
    for field in ("ranking", "winners", "ties"):
        assert getattr(one, field) == getattr(other, field)


@PROPERTIES
@given(ballots=approval_ballots, seats=seats, seed=st.text(max_size=8), data=st.data())
def test_approval_ballot_order_never_changes_the_result(
    ballots: list[frozenset[str]], seats: int, seed: str, data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(ballots))
    assert tally_approval(options=OPTIONS, ballots=ballots, seats=seats, seed=seed) == (
        tally_approval(options=OPTIONS, ballots=shuffled, seats=seats, seed=seed)
    )


@PROPERTIES
@given(ballots=dot_ballots, seats=seats, data=st.data())
def test_dot_voting_ballot_order_never_changes_the_result(
    ballots: list[dict[str, int]], seats: int, data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(ballots))

    def tally(bs: list[dict[str, int]]) -> object:
        return tally_dot_voting(
            options=OPTIONS, ballots=bs, points=4, cap_per_option=2, seats=seats, seed=SEED
        )

    assert tally(ballots) == tally(shuffled)


@PROPERTIES
@given(ballots=score_ballots, seats=seats, data=st.data())
def test_score_ballot_order_never_changes_the_result(
    ballots: list[dict[str, int]], seats: int, data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(ballots))
    assert tally_score(options=OPTIONS, ballots=ballots, seats=seats, seed=SEED) == (
        tally_score(options=OPTIONS, ballots=shuffled, seats=seats, seed=SEED)
    )


@PROPERTIES
@given(ballots=approval_ballots)
def test_approval_counts_are_preserved(ballots: list[frozenset[str]]) -> None:
    result = tally_approval(options=OPTIONS, ballots=ballots, seed=SEED)
    assert result.ballots == len(ballots)
    assert result.blank_ballots == sum(not b for b in ballots)
    assert sum(result.approvals.values()) == sum(len(b) for b in ballots)


@PROPERTIES
@given(ballots=dot_ballots)
def test_dot_totals_are_the_sum_of_the_points(ballots: list[dict[str, int]]) -> None:
    result = tally_dot_voting(
        options=OPTIONS, ballots=ballots, points=4, cap_per_option=2, seed=SEED
    )
    assert result.ballots == len(ballots)
    assert (
        sum(result.totals.values()) == result.points_cast == sum(sum(b.values()) for b in ballots)
    )
    for option in OPTIONS:
        assert result.totals[option] == sum(b.get(option, 0) for b in ballots)
        assert result.supporters[option] == sum(b.get(option, 0) > 0 for b in ballots)


@PROPERTIES
@given(ballots=approval_ballots, seats=seats, seed=st.text(max_size=8))
def test_approving_everything_changes_no_ranking(
    ballots: list[frozenset[str]], seats: int, seed: str
) -> None:
    before = tally_approval(options=OPTIONS, ballots=ballots, seats=seats, seed=seed)
    after = tally_approval(
        options=OPTIONS, ballots=[*ballots, frozenset(OPTIONS)], seats=seats, seed=seed
    )
    _same_outcome(before, after)
    assert all(after.approvals[o] == before.approvals[o] + 1 for o in OPTIONS)


@PROPERTIES
@given(ballots=score_ballots, options=option_lists, data=st.data())
def test_the_lot_is_stable_whatever_the_option_order(
    ballots: list[dict[str, int]], options: list[str], data: st.DataObject
) -> None:
    kept = [{o: s for o, s in b.items() if o in options} for b in ballots]
    reordered = data.draw(st.permutations(options))
    first = tally_score(options=options, ballots=kept, seed=SEED)
    _same_outcome(first, tally_score(options=options, ballots=kept, seed=SEED))
    _same_outcome(first, tally_score(options=reordered, ballots=kept, seed=SEED))


@PROPERTIES
@given(ballots=score_ballots.filter(bool))
def test_lower_median_is_the_best_score_an_absolute_majority_gives(
    ballots: list[dict[str, int]],
) -> None:
    result = tally_score(options=OPTIONS, ballots=ballots, seed=SEED)
    n = len(ballots)
    for option, stats in result.scores.items():
        scores = [b.get(option, 0) for b in ballots]
        majority_backed = [s for s in range(6) if 2 * sum(x >= s for x in scores) > n]
        assert stats.median == max(majority_backed)
        assert stats.count == n
        assert stats.total == sum(scores)
        assert stats.average == Fraction(sum(scores), n)


@PROPERTIES
@given(ballots=score_ballots, seats=seats)
def test_score_winners_have_the_best_averages(ballots: list[dict[str, int]], seats: int) -> None:
    result = tally_score(options=OPTIONS, ballots=ballots, seats=seats, seed=SEED)
    assert len(result.winners) == seats
    assert result.winners == result.ranking[:seats]
    if ballots:
        worst_winner = min(result.scores[o].average or 0 for o in result.winners)
        best_loser = max(
            (result.scores[o].average or 0 for o in result.ranking[seats:]), default=-1
        )
        assert worst_winner >= best_loser
