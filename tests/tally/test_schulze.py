"""The Schulze method: published examples, the lot on tied winners, properties."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cocreate.tally.base import InvalidBallot, OptionId, Tie, lot_order
from cocreate.tally.ranked import LOT, tally_irv
from cocreate.tally.schulze import tally_schulze
from tests.strategies import positive_fractions, ranked_polls

SEED = "0f1e2d3c"  # any fixed string: the poll would pass the SHA-256 of its ballot file

# Hypothesis budget: small polls keep this file to a few seconds.
MAX_EXAMPLES = 150
OPTION_IDS = ("A", "B", "C", "D", "E")
MAX_BALLOTS = 15
WEIGHTED_MAX_EXAMPLES = 100  # the budget for each property of weighted ballots


def expand(groups: Sequence[tuple[int, Sequence[OptionId]]]) -> list[list[OptionId]]:
    """Turn (number of voters, ranking) groups into one ballot per voter."""
    return [list(ranking) for number, ranking in groups for _ in range(number)]


def matrix(options: str, rows: Sequence[Sequence[int | None]]) -> dict[str, dict[str, int]]:
    """A published square table (row X, column Y; None on the diagonal) as m[X][Y]."""
    return {
        x: {y: value for y, value in zip(options, row, strict=True) if value is not None}
        for x, row in zip(options, rows, strict=True)
    }


# --- Published examples -------------------------------------------------------------------


def test_schulze_45_voter_example() -> None:
    """The 45-voter, 5-candidate example of the Schulze method, winner E.

    Wikipedia, "Schulze method", section "Example" (ballots and the d[*,*] table, as
    mirrored at https://www.liquisearch.com/schulze_method/example), and Markus Schulze,
    "Schulze method examples", Example 1 (ballots, d[*,*], the strongest paths, p[*,*] and
    "the Schulze ranking is E > A > C > B > D"), as stored at
    https://pinocchiopedia.com/wiki/User:MarkusSchulze/Schulze_method_examples .
    """
    ballots = expand(
        [
            (5, "ACBED"),
            (5, "ADECB"),
            (8, "BEDAC"),
            (3, "CABED"),
            (7, "CAEBD"),
            (2, "CBADE"),
            (7, "DCEBA"),
            (8, "EBADC"),
        ]
    )
    result = tally_schulze(options=tuple("ABCDE"), ballots=ballots, seed=SEED)
    assert result.d == matrix(
        "ABCDE",
        [
            [None, 20, 26, 30, 22],
            [25, None, 16, 33, 18],
            [19, 29, None, 17, 24],
            [15, 12, 28, None, 14],
            [23, 27, 21, 31, None],
        ],
    )
    assert result.p == matrix(
        "ABCDE",
        [
            [None, 28, 28, 30, 24],
            [25, None, 28, 33, 24],
            [25, 29, None, 29, 24],
            [25, 28, 28, None, 24],
            [25, 28, 28, 31, None],
        ],
    )
    assert result.ranking == (("E",), ("A",), ("C",), ("B",), ("D",))
    assert result.potential_winners == ("E",)
    assert result.winners == ("E",)
    assert result.ties == ()
    assert (result.ballots, result.blank) == (45, 0)


TENNESSEE = ("Memphis", "Nashville", "Chattanooga", "Knoxville")
TENNESSEE_BALLOTS = expand(
    [
        (42, ("Memphis", "Nashville", "Chattanooga", "Knoxville")),
        (26, ("Nashville", "Chattanooga", "Knoxville", "Memphis")),
        (15, ("Chattanooga", "Knoxville", "Nashville", "Memphis")),
        (17, ("Knoxville", "Chattanooga", "Nashville", "Memphis")),
    ]
)


def test_schulze_tennessee_capital_elects_the_condorcet_winner_nashville() -> None:
    """The "Tennessee capital" example, 100 voters standing for the published percentages.

    Wikipedia, "Condorcet method", section "Example: Voting on the location of Tennessee's
    capital" (as mirrored at https://liquisearch.com/condorcet_method/
    example_-_voting_on_the_location_of_tennessees_capital): pairwise results Memphis 42 %
    against 58 % for each of the three others, Nashville 68 % v Chattanooga 32 % and 68 % v
    Knoxville 32 %, Chattanooga 83 % v Knoxville 17 %; ranking Nashville 1st, Chattanooga
    2nd, Knoxville 3rd, Memphis 4th. Instant runoff elects Knoxville on the same ballots
    (see ``test_irv_tennessee_capital_elects_knoxville``).
    """
    result = tally_schulze(options=TENNESSEE, ballots=TENNESSEE_BALLOTS, seed=SEED)
    assert result.d == {
        "Memphis": {"Nashville": 42, "Chattanooga": 42, "Knoxville": 42},
        "Nashville": {"Memphis": 58, "Chattanooga": 68, "Knoxville": 68},
        "Chattanooga": {"Memphis": 58, "Nashville": 32, "Knoxville": 83},
        "Knoxville": {"Memphis": 58, "Nashville": 32, "Chattanooga": 17},
    }
    assert result.ranking == (("Nashville",), ("Chattanooga",), ("Knoxville",), ("Memphis",))
    assert result.winners == ("Nashville",)
    assert result.ties == ()
    irv = tally_irv(options=TENNESSEE, ballots=TENNESSEE_BALLOTS, seed=SEED)
    assert irv.winner == "Knoxville"


EXAMPLE_4 = expand([(3, "ABCD"), (2, "DABC"), (2, "DBCA"), (2, "CBDA")])


def test_schulze_example_with_two_potential_winners_is_settled_by_lot() -> None:
    """Electowiki (wiki.electorama.com), "Schulze method", revision 70012, Example 4.

    http://wiki.electorama.com/w/index.php?title=Schulze_method&oldid=70012#Example_4 ,
    9 voters: 3 ABCD, 2 DABC, 2 DBCA, 2 CBDA. The ballots and the strongest-path strengths
    below are as transcribed from that revision in the test suite of the Rust ``schulze``
    crate (``example4``). That B and D are both potential winners, and the pairwise counts,
    are worked out here from the method's definition.
    """
    result = tally_schulze(options=tuple("ABCD"), ballots=EXAMPLE_4, seed=SEED)
    assert result.d == matrix(
        "ABCD",
        [
            [None, 5, 5, 3],
            [4, None, 7, 5],
            [4, 2, None, 5],
            [6, 4, 4, None],
        ],
    )
    assert result.p == matrix(
        "ABCD",
        [
            [None, 5, 5, 5],
            [5, None, 7, 5],
            [5, 5, None, 5],
            [6, 5, 5, None],
        ],
    )
    assert result.potential_winners == ("B", "D")
    assert result.ranking == (("B", "D"), ("A", "C"))
    drawn = lot_order(["B", "D"], SEED)[0]
    assert result.winners == (drawn,)
    assert result.ties == (Tie(options=("B", "D"), broken_by=LOT, chosen=(drawn,)),)


def test_the_seed_decides_between_potential_winners() -> None:
    winners: set[OptionId] = set()
    for seed in (f"seed-{i}" for i in range(16)):
        result = tally_schulze(options=tuple("ABCD"), ballots=EXAMPLE_4, seed=seed)
        assert result.winners == (lot_order(["B", "D"], seed)[0],)
        winners.update(result.winners)
    assert winners == {"B", "D"}


# --- Ballot semantics ---------------------------------------------------------------------


def test_unranked_options_are_tied_below_the_ranked_ones() -> None:
    result = tally_schulze(options=tuple("ABC"), ballots=[["A"], ["B", "A"]], seed=SEED)
    assert result.d == {
        "A": {"B": 1, "C": 2},
        "B": {"A": 1, "C": 1},
        "C": {"A": 0, "B": 0},
    }


def test_blank_ballots_are_counted_and_express_no_preference() -> None:
    result = tally_schulze(options=tuple("AB"), ballots=[[], [], ["B"]], seed=SEED)
    assert (result.ballots, result.blank) == (3, 2)
    assert result.d == {"A": {"B": 0}, "B": {"A": 1}}
    assert result.winners == ("B",)


def test_no_ballots_at_all_is_a_tie_of_every_option() -> None:
    result = tally_schulze(options=tuple("ABC"), ballots=[], seed=SEED)
    assert result.potential_winners == ("A", "B", "C")
    assert result.ranking == (("A", "B", "C"),)
    assert result.ties == (
        Tie(options=("A", "B", "C"), broken_by=LOT, chosen=(lot_order("ABC", SEED)[0],)),
    )


@pytest.mark.parametrize(
    "ballot",
    [["A", "Z"], ["A", "B", "A"], "AB", ["A", None]],
    ids=["unknown option", "ranked twice", "string", "not an id"],
)
def test_bad_ballots_raise_invalid_ballot(ballot: Any) -> None:
    with pytest.raises(InvalidBallot, match="ballot 2"):
        tally_schulze(options=tuple("ABC"), ballots=[["A"], ballot], seed=SEED)


# --- Properties ---------------------------------------------------------------------------


def polls() -> st.SearchStrategy[tuple[list[OptionId], list[list[OptionId]]]]:
    return ranked_polls(OPTION_IDS, MAX_BALLOTS)


def prefers(ballot: Sequence[OptionId], x: OptionId, y: OptionId) -> bool:
    """Independent reading of one ballot: x is ranked, and y is ranked after it or not at all."""
    if x not in ballot:
        return False
    return y not in ballot or ballot.index(x) < ballot.index(y)


property_settings = settings(max_examples=MAX_EXAMPLES, deadline=None)


@property_settings
@given(poll=polls(), data=st.data())
def test_ballot_order_never_changes_the_result(
    poll: tuple[list[OptionId], list[list[OptionId]]], data: st.DataObject
) -> None:
    options, ballots = poll
    shuffled = data.draw(st.permutations(ballots))
    assert tally_schulze(options=options, ballots=shuffled, seed=SEED) == tally_schulze(
        options=options, ballots=ballots, seed=SEED
    )


@property_settings
@given(poll=polls(), data=st.data())
def test_order_of_the_options_never_changes_the_winner(
    poll: tuple[list[OptionId], list[list[OptionId]]], data: st.DataObject
) -> None:
    options, ballots = poll
    reordered = data.draw(st.permutations(options))
    assert (
        tally_schulze(options=reordered, ballots=ballots, seed=SEED).winners
        == tally_schulze(options=options, ballots=ballots, seed=SEED).winners
    )


@property_settings
@given(poll=polls())
def test_a_condorcet_winner_always_wins(
    poll: tuple[list[OptionId], list[list[OptionId]]],
) -> None:
    options, ballots = poll
    result = tally_schulze(options=options, ballots=ballots, seed=SEED)
    for x in options:
        for y in options:
            if x != y:
                assert result.d[x][y] == sum(prefers(b, x, y) for b in ballots)
    condorcet = [
        x for x in options if all(result.d[x][y] > result.d[y][x] for y in options if y != x)
    ]
    if condorcet:
        assert result.winners == (condorcet[0],)
        assert result.potential_winners == (condorcet[0],)
        assert result.ties == ()


@property_settings
@given(poll=polls())
def test_ranking_is_a_consistent_layering_of_all_options(
    poll: tuple[list[OptionId], list[list[OptionId]]],
) -> None:
    options, ballots = poll
    result = tally_schulze(options=options, ballots=ballots, seed=SEED)
    flat = [option for layer in result.ranking for option in layer]
    assert sorted(flat) == sorted(options)
    assert result.potential_winners == result.ranking[0]
    assert result.winners[0] in result.potential_winners
    rank = {option: i for i, layer in enumerate(result.ranking) for option in layer}
    for x in options:
        for y in options:
            if x != y and result.p[x][y] > result.p[y][x]:
                # "Better" is transitive (Schulze 2011), so it never points up the ranking.
                assert rank[x] < rank[y]
    assert (len(result.ties) == 1) == (len(result.potential_winners) > 1)


@property_settings
@given(poll=polls(), seed=st.text(max_size=8))
def test_the_lot_with_a_fixed_seed_is_stable(
    poll: tuple[list[OptionId], list[list[OptionId]]], seed: str
) -> None:
    options, ballots = poll
    first = tally_schulze(options=options, ballots=ballots, seed=seed)
    assert tally_schulze(options=options, ballots=ballots, seed=seed) == first
    for tie in first.ties:
        assert tie.chosen == (lot_order(tie.options, seed)[0],)


# --- Weighted ballots (SCIC colleges) -----------------------------------------------------


def test_weighted_colleges_worked_example_from_the_definition() -> None:
    """Worked out here from the definition (not a published example).

    College A weighs 60 % and casts 2 ballots X>Y>Z, each weighing 60 % / 2 = 3/10;
    college B weighs 40 % and casts 6 ballots Z>Y>X, each weighing 40 % / 6 = 1/15. In
    weighted terms X beats Z (and Y) by 60 to 40: X is the Condorcet winner. Counting
    heads, Z beats X by 6 to 2 and wins instead.
    """
    ballots = expand([(2, "XYZ"), (6, "ZYX")])
    weights = [Fraction(3, 10)] * 2 + [Fraction(1, 15)] * 6
    result = tally_schulze(options=tuple("XYZ"), ballots=ballots, seed=SEED, weights=weights)
    sixty, forty = Fraction(60, 100), Fraction(40, 100)
    assert result.d == {
        "X": {"Y": sixty, "Z": sixty},
        "Y": {"X": forty, "Z": sixty},
        "Z": {"X": forty, "Y": forty},
    }
    assert result.p == {
        "X": {"Y": sixty, "Z": sixty},
        "Y": {"X": 0, "Z": sixty},
        "Z": {"X": 0, "Y": 0},
    }
    assert result.ranking == (("X",), ("Y",), ("Z",))
    assert result.winners == ("X",)
    assert result.ties == ()
    assert (result.ballots, result.blank, result.weight) == (8, 0, 1)

    heads = tally_schulze(options=tuple("XYZ"), ballots=ballots, seed=SEED)
    assert (heads.d["Z"]["X"], heads.d["X"]["Z"]) == (6, 2)
    assert heads.ranking == (("Z",), ("Y",), ("X",))
    assert heads.winners == ("Z",)


def test_weighted_blank_ballots_weigh_in_the_total_only() -> None:
    result = tally_schulze(
        options=tuple("AB"),
        ballots=[[], ["B"]],
        seed=SEED,
        weights=[Fraction(1, 3), Fraction(1, 6)],
    )
    assert (result.ballots, result.blank, result.weight) == (2, 1, Fraction(1, 2))
    assert result.d == {"A": {"B": 0}, "B": {"A": Fraction(1, 6)}}
    assert result.winners == ("B",)


def test_without_weights_every_count_stays_a_plain_integer() -> None:
    result = tally_schulze(options=tuple("ABCD"), ballots=EXAMPLE_4, seed=SEED)
    values = [v for m in (result.d, result.p) for row in m.values() for v in row.values()]
    assert all(type(v) is int for v in values)
    assert type(result.weight) is int
    assert result.weight == result.ballots == 9


@pytest.mark.parametrize(
    ("ballots", "weights", "message"),
    [
        ([["A"], ["B"]], [Fraction(1)], "1 weights for 2 ballots"),
        ([["A"]], [Fraction(1), Fraction(1)], "2 weights for 1 ballots"),
        ([], [Fraction(1)], "1 weights for 0 ballots"),
        ([["A"]], [], "0 weights for 1 ballots"),
        ([["A"]], [Fraction(-1, 2)], "weight 1: -1/2 is negative"),
        ([["A"]], [-1], "weight 1: -1 is negative"),
        ([["A"]], [0.5], "weight 1: 0.5 is not an int or a Fraction"),
        ([["A"]], [True], "weight 1: True is not an int or a Fraction"),
        ([["A"]], ["1/2"], "weight 1: '1/2' is not an int or a Fraction"),
    ],
    ids=[
        "too few",
        "too many",
        "weights without ballots",
        "ballots without weights",
        "negative fraction",
        "negative int",
        "float",
        "bool",
        "string",
    ],
)
def test_bad_weights_raise_value_error(
    ballots: list[list[OptionId]], weights: list[Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        tally_schulze(options=tuple("AB"), ballots=ballots, seed=SEED, weights=weights)


def test_whole_number_weights_are_accepted() -> None:
    whole: list[Any] = [3, 1]  # typed as Fractions, but an int is exact too
    result = tally_schulze(options=tuple("AB"), ballots=[["A"], ["B"]], seed=SEED, weights=whole)
    assert result.d == {"A": {"B": 3}, "B": {"A": 1}}
    assert result.weight == 4
    assert result.winners == ("A",)


positive_weights = positive_fractions(6)


@st.composite
def weighted_polls(
    draw: st.DrawFn,
) -> tuple[list[OptionId], list[list[OptionId]], list[Fraction]]:
    options, ballots = draw(polls())
    weights = draw(st.lists(positive_weights, min_size=len(ballots), max_size=len(ballots)))
    return options, ballots, weights


weighted_settings = settings(max_examples=WEIGHTED_MAX_EXAMPLES, deadline=None)


@weighted_settings
@given(poll=polls())
def test_weights_all_one_give_the_unweighted_result(
    poll: tuple[list[OptionId], list[list[OptionId]]],
) -> None:
    options, ballots = poll
    ones = [Fraction(1)] * len(ballots)
    assert tally_schulze(options=options, ballots=ballots, seed=SEED, weights=ones) == (
        tally_schulze(options=options, ballots=ballots, seed=SEED)
    )


@weighted_settings
@given(
    poll=weighted_polls(),
    factor=st.builds(Fraction, st.integers(1, 50), st.integers(1, 50)),
)
def test_scaling_every_weight_never_changes_the_ranking(
    poll: tuple[list[OptionId], list[list[OptionId]], list[Fraction]], factor: Fraction
) -> None:
    options, ballots, weights = poll
    result = tally_schulze(options=options, ballots=ballots, seed=SEED, weights=weights)
    scaled = tally_schulze(
        options=options, ballots=ballots, seed=SEED, weights=[factor * w for w in weights]
    )
    assert scaled.ranking == result.ranking
    assert scaled.potential_winners == result.potential_winners
    assert scaled.winners == result.winners
    assert scaled.ties == result.ties
    assert scaled.weight == factor * result.weight
    for x in options:
        for y in options:
            if x != y:
                assert scaled.d[x][y] == factor * result.d[x][y]
                assert scaled.p[x][y] == factor * result.p[x][y]


@weighted_settings
@given(poll=weighted_polls())
def test_a_condorcet_winner_of_the_weighted_matrix_always_wins(
    poll: tuple[list[OptionId], list[list[OptionId]], list[Fraction]],
) -> None:
    options, ballots, weights = poll
    result = tally_schulze(options=options, ballots=ballots, seed=SEED, weights=weights)
    assert result.weight == sum(weights, Fraction(0))
    for x in options:
        for y in options:
            if x != y:
                expected = sum(
                    (w for b, w in zip(ballots, weights, strict=True) if prefers(b, x, y)),
                    Fraction(0),
                )
                assert result.d[x][y] == expected
    condorcet = [
        x for x in options if all(result.d[x][y] > result.d[y][x] for y in options if y != x)
    ]
    if condorcet:
        assert result.winners == (condorcet[0],)
        assert result.potential_winners == (condorcet[0],)
        assert result.ties == ()


@weighted_settings
@given(poll=polls(), data=st.data())
def test_a_whole_weight_counts_as_that_many_ballots(
    poll: tuple[list[OptionId], list[list[OptionId]]], data: st.DataObject
) -> None:
    options, ballots = poll
    copies = data.draw(st.lists(st.integers(1, 3), min_size=len(ballots), max_size=len(ballots)))
    weighted = tally_schulze(
        options=options, ballots=ballots, seed=SEED, weights=[Fraction(k) for k in copies]
    )
    repeated = [b for b, k in zip(ballots, copies, strict=True) for _ in range(k)]
    heads = tally_schulze(options=options, ballots=repeated, seed=SEED)
    assert (weighted.d, weighted.p, weighted.weight) == (heads.d, heads.p, heads.ballots)
    assert (weighted.ranking, weighted.winners, weighted.ties) == (
        heads.ranking,
        heads.winners,
        heads.ties,
    )


@weighted_settings
@given(poll=weighted_polls(), data=st.data())
def test_weighted_ballot_order_never_changes_the_result(
    poll: tuple[list[OptionId], list[list[OptionId]], list[Fraction]], data: st.DataObject
) -> None:
    options, ballots, weights = poll
    pairs = data.draw(st.permutations(list(zip(ballots, weights, strict=True))))
    shuffled = tally_schulze(
        options=options,
        ballots=[b for b, _ in pairs],
        seed=SEED,
        weights=[w for _, w in pairs],
    )
    assert shuffled == tally_schulze(options=options, ballots=ballots, seed=SEED, weights=weights)
