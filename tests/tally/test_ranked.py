"""Instant-runoff voting and single transferable vote: published examples, ties, properties."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cocreate.tally.base import InvalidBallot, OptionId, Tie, lot_order
from cocreate.tally.ranked import (
    BACKWARDS,
    LOT,
    IRVRound,
    STVStage,
    tally_irv,
    tally_stv,
)
from tests.strategies import ranked_polls

SEED = "0f1e2d3c"  # any fixed string: the poll would pass the SHA-256 of its ballot file

# Hypothesis budget: small polls keep this file to a few seconds.
MAX_EXAMPLES = 150
OPTION_IDS = ("A", "B", "C", "D", "E")
MAX_BALLOTS = 15


def expand(groups: Sequence[tuple[int, Sequence[OptionId]]]) -> list[list[OptionId]]:
    """Turn (number of voters, ranking) groups into one ballot per voter."""
    return [list(ranking) for number, ranking in groups for _ in range(number)]


# --- Published examples -------------------------------------------------------------------

TENNESSEE = ("Memphis", "Nashville", "Chattanooga", "Knoxville")
TENNESSEE_BALLOTS = expand(
    [
        (42, ("Memphis", "Nashville", "Chattanooga", "Knoxville")),
        (26, ("Nashville", "Chattanooga", "Knoxville", "Memphis")),
        (15, ("Chattanooga", "Knoxville", "Nashville", "Memphis")),
        (17, ("Knoxville", "Chattanooga", "Nashville", "Memphis")),
    ]
)


def test_irv_tennessee_capital_elects_knoxville() -> None:
    """The "Tennessee capital" example, 100 voters standing for the published percentages.

    Preferences: electowiki, "Effects of different voting systems under similar
    circumstances" (the Tennessee example, copied from Wikipedia),
    https://electowiki.org/wiki/Effects_of_different_voting_systems_under_similar_circumstances
    — 42 % Memphis > Nashville > Chattanooga > Knoxville, 26 % Nashville > Chattanooga >
    Knoxville > Memphis, 15 % Chattanooga > Knoxville > Nashville > Memphis, 17 % Knoxville >
    Chattanooga > Nashville > Memphis. Instant-runoff count: Wikipedia, "Coombs' method",
    the revision following oldid 1407305 (its comparison with instant runoff, as captured
    at https://s.cnmilf.com/w/index.php?diff=next&oldid=1407305&title=Coombs%27_method ):
    "In the first round, Chattanooga, having the smallest vote, is eliminated. All of the
    votes for Chattanooga have Knoxville [as] a second choice ... Now, Nashville has the
    smallest vote, so it is eliminated ... they instead transfer to their third choice,
    Knoxville ... Knoxville now has 58% of the vote, which is a simple majority, making it
    the winner."
    """
    result = tally_irv(options=TENNESSEE, ballots=TENNESSEE_BALLOTS, seed=SEED)
    assert result.rounds == (
        IRVRound(
            counts={"Memphis": 42, "Nashville": 26, "Chattanooga": 15, "Knoxville": 17},
            exhausted=0,
            eliminated="Chattanooga",
        ),
        IRVRound(
            counts={"Memphis": 42, "Nashville": 26, "Knoxville": 32},
            exhausted=0,
            eliminated="Nashville",
        ),
        IRVRound(counts={"Memphis": 42, "Knoxville": 58}, exhausted=0, eliminated=None),
    )
    assert result.winner == "Knoxville"
    assert result.winners == ("Knoxville",)
    assert result.ties == ()
    assert (result.ballots, result.blank) == (100, 0)


FOOD = ("Oranges", "Pears", "Chocolate", "Strawberries", "Hamburgers")
FOOD_BALLOTS = expand(
    [
        (4, ("Oranges",)),
        (2, ("Pears", "Oranges")),
        (8, ("Chocolate", "Strawberries")),
        (4, ("Chocolate", "Hamburgers")),
        (1, ("Strawberries",)),
        (1, ("Hamburgers",)),
    ]
)


def test_stv_wikipedia_food_election() -> None:
    """Wikipedia, "Single transferable vote", section "Example" (food at a party).

    https://en.wikipedia.org/wiki/Single_transferable_vote — 20 guests, 3 seats. The ballot
    profile is the one transcribed from that article by independent test suites (e.g.
    VoteIT/STVPoll ``stvpoll_testing/test_wikipedia_example.py``, where Hamburgers is
    called "bonbon", as older revisions said "Sweets"). Published (older revision mirrored
    at https://www.liquisearch.com/single_transferable_vote/example): Droop quota 6;
    Chocolate elected at once, its surplus goes to Strawberries and Hamburgers in
    proportion to its voters' second choices; no one reaches the quota, so Pears, with the
    fewest votes, is eliminated; its votes give Oranges exactly the quota; Hamburgers is
    then eliminated and Strawberries wins the last seat; "The winners are Chocolate,
    Oranges and Strawberries." The per-stage figures below (12 votes, transfer value 1/2,
    4 and 2 transferred) follow from those ballots and that narrative.
    """
    result = tally_stv(options=FOOD, ballots=FOOD_BALLOTS, seats=3, seed=SEED)
    assert result.quota == 6
    assert result.winners == ("Chocolate", "Oranges", "Strawberries")
    assert result.ties == ()
    f = Fraction
    assert result.stages == (
        STVStage(
            kind="first",
            votes={
                "Oranges": f(4),
                "Pears": f(2),
                "Chocolate": f(12),
                "Strawberries": f(1),
                "Hamburgers": f(1),
            },
            elected=("Chocolate",),
            excluded=None,
            surplus_from=None,
            transfer_value=None,
            exhausted=f(0),
        ),
        STVStage(
            kind="surplus",
            votes={
                "Oranges": f(4),
                "Pears": f(2),
                "Chocolate": f(6),
                "Strawberries": f(5),
                "Hamburgers": f(3),
            },
            elected=(),
            excluded=None,
            surplus_from="Chocolate",
            transfer_value=f(1, 2),
            exhausted=f(0),
        ),
        STVStage(
            kind="exclusion",
            votes={"Oranges": f(6), "Chocolate": f(6), "Strawberries": f(5), "Hamburgers": f(3)},
            elected=("Oranges",),
            excluded="Pears",
            surplus_from=None,
            transfer_value=None,
            exhausted=f(0),
        ),
        STVStage(
            kind="exclusion",
            votes={"Oranges": f(6), "Chocolate": f(6), "Strawberries": f(5)},
            elected=("Strawberries",),
            excluded="Hamburgers",
            surplus_from=None,
            transfer_value=None,
            # 1 Hamburgers-only ballot + 4 Chocolate > Hamburgers ballots at value 1/2.
            exhausted=f(3),
        ),
    )


PRIMER = ("D1", "D2", "C1", "C2", "F")
PRIMER_BALLOTS = expand(
    [
        (21, ("D1", "D2", "F", "C1", "C2")),
        (19, ("D2", "D1", "F", "C1", "C2")),
        (40, ("C1", "C2", "F", "D1", "D2")),
        (6, ("C2", "C1", "F", "D1", "D2")),
        (7, ("F", "D1", "D2", "C1", "C2")),
        (6, ("F", "D1", "C1", "C2", "D2")),
        (1, ("F", "D1")),
    ]
)


def test_stv_weighted_inclusive_gregory_primer_example() -> None:
    """Lee Yingtong Li, STV primer, part 5 "Weighted inclusive Gregory method" (2022-06-16).

    https://yingtongli.me/blog/2022/06/16/stv-primer-5.html — 100 ballots, candidates Dog
    Owner 1 and 2 (D1, D2), Cat Owner 1 and 2 (C1, C2), Fish Owner (F), quota 26 (so 3
    seats). Published standings after the exclusion of Fish Owner: D1 35 (elected), D2 19,
    C1 26 (elected), C2 20, F 0; D1's surplus of 9 is then distributed by examining *all*
    35 of D1's ballots, skipping the already elected C1. The figures after that transfer
    (transfer value 9/35, D2 19 + 28 × 9/35 = 26.2, C2 20 + 6 × 9/35, 9/35 exhausted) are
    worked out here from the method's definition.
    """
    result = tally_stv(options=PRIMER, ballots=PRIMER_BALLOTS, seats=3, seed=SEED)
    assert result.quota == 26
    first, c1_surplus, f_excluded, d1_surplus = result.stages
    assert first.votes == {"D1": 21, "D2": 19, "C1": 40, "C2": 6, "F": 14}
    assert first.elected == ("C1",)
    assert c1_surplus.surplus_from == "C1"
    assert c1_surplus.transfer_value == Fraction(14, 40)
    # Published standings after the exclusion of Fish Owner.
    assert f_excluded.excluded == "F"
    assert f_excluded.votes == {"D1": 35, "D2": 19, "C1": 26, "C2": 20}
    assert f_excluded.elected == ("D1",)
    # D1's surplus of 9, over all of its 35 ballots.
    assert d1_surplus.surplus_from == "D1"
    assert d1_surplus.transfer_value == Fraction(9, 35)
    assert d1_surplus.votes == {
        "D1": 26,
        "D2": 19 + 28 * Fraction(9, 35),
        "C1": 26,
        "C2": 20 + 6 * Fraction(9, 35),
    }
    assert d1_surplus.votes["D2"] == Fraction(262, 10)
    assert d1_surplus.exhausted == Fraction(9, 35)
    assert d1_surplus.elected == ("D2",)
    assert result.winners == ("C1", "D1", "D2")
    assert result.ties == ()


# --- Tie rules (examples built from the rules' definitions) -------------------------------


def test_irv_elimination_tie_broken_backwards() -> None:
    """Built from the definition: B and C tie for last in round 2; C had fewer in round 1."""
    ballots = expand([(6, ("A",)), (5, ("B",)), (4, ("C", "B")), (1, ("D", "C")), (1, ("D",))])
    result = tally_irv(options=tuple("ABCD"), ballots=ballots, seed=SEED)
    assert [r.eliminated for r in result.rounds] == ["D", "C", None]
    assert result.rounds[1].counts == {"A": 6, "B": 5, "C": 5}
    assert result.ties == (Tie(options=("B", "C"), broken_by=BACKWARDS, chosen=("C",)),)
    # C's ballots go to B; the D > C ballot and the D ballot are exhausted.
    assert result.rounds[2] == IRVRound(counts={"A": 6, "B": 9}, exhausted=2, eliminated=None)
    assert result.winner == "B"


def test_irv_backwards_narrows_then_lot() -> None:
    """Built from the definition: A, B, C tie; round 1 rules out C only; the lot decides."""
    ballots = expand(
        [(3, ("A",)), (3, ("B",)), (4, ("C",)), (12, ("D",)), (1, ("E", "A")), (1, ("E", "B"))]
    )
    result = tally_irv(options=tuple("ABCDE"), ballots=ballots, seed=SEED)
    drawn = lot_order(["A", "B"], SEED)[0]
    assert result.rounds[1].counts == {"A": 4, "B": 4, "C": 4, "D": 12}
    assert result.ties == (
        Tie(options=("A", "B", "C"), broken_by=BACKWARDS, chosen=("A", "B")),
        Tie(options=("A", "B"), broken_by=LOT, chosen=(drawn,)),
    )
    assert result.rounds[1].eliminated == drawn
    assert result.winner == "D"


def test_irv_first_round_tie_is_drawn_by_lot_and_the_seed_decides() -> None:
    ballots = expand([(2, ("A",)), (2, ("B",))])
    seen: set[OptionId] = set()
    for seed in (f"seed-{i}" for i in range(16)):
        result = tally_irv(options=("A", "B"), ballots=ballots, seed=seed)
        loser = lot_order(["A", "B"], seed)[0]
        assert result.ties == (Tie(options=("A", "B"), broken_by=LOT, chosen=(loser,)),)
        assert result.winner != loser
        seen.add(result.winner)
    assert seen == {"A", "B"}  # the lot really depends on the seed


def test_stv_exclusion_tie_at_the_first_stage_is_drawn_by_lot() -> None:
    """Built from the definition: B and C tie for exclusion with no earlier stage to look at."""
    ballots = expand([(5, ("A",)), (2, ("B",)), (2, ("C",)), (3, ("D",))])
    # 12 ballots, 2 seats: quota 5. A is elected with no surplus, so stage 2 excludes.
    result = tally_stv(options=tuple("ABCD"), ballots=ballots, seats=2, seed=SEED)
    assert result.quota == 5
    assert result.stages[0].elected == ("A",)
    drawn = lot_order(["B", "C"], SEED)[0]
    other = "C" if drawn == "B" else "B"
    assert result.ties == (Tie(options=("B", "C"), broken_by=LOT, chosen=(drawn,)),)
    assert [stage.excluded for stage in result.stages] == [None, drawn, other]
    assert result.winners == ("A", "D")


def test_stv_tie_after_a_transfer_is_broken_backwards() -> None:
    """Built from the definition: C catches up with D through A's surplus, then they tie."""
    ballots = expand([(9, ("A", "C")), (3, ("B",)), (1, ("C",)), (4, ("D",))])
    # 17 ballots, 2 seats: quota 6. A's surplus 3 over 9 ballots: each passes 1/3 to C.
    result = tally_stv(options=tuple("ABCD"), ballots=ballots, seats=2, seed=SEED)
    assert result.quota == 6
    surplus = result.stages[1]
    assert surplus.transfer_value == Fraction(1, 3)
    assert surplus.votes == {"A": 6, "B": 3, "C": 4, "D": 4}
    # C and D tie for second place, but neither reaches the quota: the lowest, B, goes.
    assert result.stages[2].excluded == "B"
    assert result.stages[2].votes == {"A": 6, "C": 4, "D": 4}
    # C and D now tie for exclusion: at stage 1 C had 1 and D had 4, so C goes.
    assert result.stages[3].excluded == "C"
    assert result.ties == (Tie(options=("C", "D"), broken_by=BACKWARDS, chosen=("C",)),)
    assert result.winners == ("A", "D")


def test_stv_simultaneous_election_is_ordered_by_votes_then_tie_rule() -> None:
    ballots = expand([(4, ("A",)), (3, ("B",)), (3, ("C",))])
    # 10 ballots, 3 seats: quota 3. All three reach it at stage 1.
    result = tally_stv(options=tuple("CBA"), ballots=ballots, seats=3, seed=SEED)
    first = lot_order(["B", "C"], SEED)[0]
    second = "B" if first == "C" else "C"
    assert result.winners == ("A", first, second)
    assert result.stages[0].elected == ("A", first, second)
    assert result.ties == (Tie(options=("C", "B"), broken_by=LOT, chosen=(first,)),)


def test_stv_fewer_options_than_seats_elects_them_all() -> None:
    ballots = expand([(3, ("A", "B")), (1, ("B",))])
    result = tally_stv(options=tuple("AB"), ballots=ballots, seats=3, seed=SEED)
    assert result.winners == ("A", "B")
    assert len(result.stages) == 1


# --- Weighted ballots (SCIC colleges; examples built from the definition) ---------------


def college_weights(colleges: Sequence[tuple[Fraction, int]]) -> list[Fraction]:
    """One weight per ballot, college after college: its weight w_c over its n_c ballots."""
    return [weight / size for weight, size in colleges for _ in range(size)]


def test_irv_weighted_colleges_worked_example() -> None:
    """Built from the definition of the weights (module docstring), not from a publication.

    College A weighs 60 % and casts 2 ballots X > Y; college B weighs 40 % and casts 6
    ballots Y > X. Each A ballot weighs 60 % / 2 = 3/10 and each B ballot 40 % / 6 = 1/15,
    so X has 2 x 3/10 = 3/5 of the weight and Y 6 x 1/15 = 2/5: X has more than half and
    wins in the first round, whereas counting heads Y wins 6 to 2.
    """
    ballots = expand([(2, ("X", "Y")), (6, ("Y", "X"))])
    weights = college_weights([(Fraction(60, 100), 2), (Fraction(40, 100), 6)])
    assert weights == [Fraction(3, 10)] * 2 + [Fraction(1, 15)] * 6
    result = tally_irv(options=("X", "Y"), ballots=ballots, seed=SEED, weights=weights)
    assert result.rounds == (
        IRVRound(
            counts={"X": Fraction(3, 5), "Y": Fraction(2, 5)},
            exhausted=Fraction(0),
            eliminated=None,
        ),
    )
    assert all(isinstance(v, Fraction) for v in result.rounds[0].counts.values())
    assert result.winner == "X"
    assert (result.ballots, result.blank) == (8, 0)  # numbers of ballots, not weights
    assert result.ties == ()
    unweighted = tally_irv(options=("X", "Y"), ballots=ballots, seed=SEED)
    assert unweighted.rounds == (IRVRound(counts={"X": 2, "Y": 6}, exhausted=0, eliminated=None),)
    assert unweighted.winner == "Y"


def test_irv_weighted_blank_ballots_are_exhausted_with_their_weight() -> None:
    """Built from the definition: a blank weighs in neither the majority nor the counts."""
    ballots = [["A"], ["B"], ["B"], []]
    weights = [Fraction(1, 2), Fraction(1, 6), Fraction(1, 6), Fraction(1, 6)]
    result = tally_irv(options=tuple("AB"), ballots=ballots, seed=SEED, weights=weights)
    # A has 1/2 of the weight but 3/5 of the 5/6 that is not blank: a strict majority.
    assert result.rounds == (
        IRVRound(
            counts={"A": Fraction(1, 2), "B": Fraction(1, 3)},
            exhausted=Fraction(1, 6),
            eliminated=None,
        ),
    )
    assert (result.ballots, result.blank, result.winner) == (4, 1, "A")


def test_stv_weighted_colleges_worked_example_two_seats() -> None:
    """Built from the definition of the weights and of the exact Droop quota (module
    docstring), not from a publication.

    Three colleges, 2 seats. College A (50 %) casts 2 ballots P > Q, so each weighs 1/4;
    college B (30 %) casts 3 ballots R > Q, 1/10 each; college C (20 %) casts 5 ballots
    S > R, 1/25 each. The non-blank weight is 1, so the exact Droop quota is 1/3.

    Stage 1: P 1/2, R 3/10, S 1/5, Q 0; P exceeds 1/3 and is elected.
    Stage 2: P's surplus 1/2 - 1/3 = 1/6, transfer value (1/6) / (1/2) = 1/3; all of P's
    ballots pass to Q, which gets 1/2 x 1/3 = 1/6. No one else exceeds the quota.
    Stage 3: Q, lowest with 1/6, is excluded; its ballots (P > Q) have no continuing
    preference left and 1/6 is exhausted.
    Stage 4: S, lowest with 1/5, is excluded; its ballots pass to R: 3/10 + 1/5 = 1/2,
    which exceeds the quota. Winners P then R.

    Counting heads instead (10 ballots, whole-vote quota 10 // 3 + 1 = 4), S's 5 first
    preferences elect S at once and its surplus of 1 (transfer value 1/5) brings R to 4:
    winners S then R.
    """
    ballots = expand([(2, ("P", "Q")), (3, ("R", "Q")), (5, ("S", "R"))])
    weights = college_weights([(Fraction(1, 2), 2), (Fraction(3, 10), 3), (Fraction(1, 5), 5)])
    assert set(weights) == {Fraction(1, 4), Fraction(1, 10), Fraction(1, 25)}
    result = tally_stv(options=tuple("PQRS"), ballots=ballots, seats=2, seed=SEED, weights=weights)
    f = Fraction
    assert result.quota == f(1, 3)
    assert result.exact_quota
    assert result.stages == (
        STVStage(
            kind="first",
            votes={"P": f(1, 2), "Q": f(0), "R": f(3, 10), "S": f(1, 5)},
            elected=("P",),
            excluded=None,
            surplus_from=None,
            transfer_value=None,
            exhausted=f(0),
        ),
        STVStage(
            kind="surplus",
            votes={"P": f(1, 3), "Q": f(1, 6), "R": f(3, 10), "S": f(1, 5)},
            elected=(),
            excluded=None,
            surplus_from="P",
            transfer_value=f(1, 3),
            exhausted=f(0),
        ),
        STVStage(
            kind="exclusion",
            votes={"P": f(1, 3), "R": f(3, 10), "S": f(1, 5)},
            elected=(),
            excluded="Q",
            surplus_from=None,
            transfer_value=None,
            exhausted=f(1, 6),
        ),
        STVStage(
            kind="exclusion",
            votes={"P": f(1, 3), "R": f(1, 2)},
            elected=("R",),
            excluded="S",
            surplus_from=None,
            transfer_value=None,
            exhausted=f(1, 6),
        ),
    )
    assert result.winners == ("P", "R")
    assert (result.ballots, result.blank, result.ties) == (10, 0, ())

    unweighted = tally_stv(options=tuple("PQRS"), ballots=ballots, seats=2, seed=SEED)
    assert unweighted.quota == 4
    assert not unweighted.exact_quota
    assert unweighted.stages[1].transfer_value == f(1, 5)
    assert unweighted.winners == ("S", "R")


def test_stv_weighted_exact_quota_must_be_exceeded() -> None:
    """Built from the definition: with the exact quota, reaching it is not enough."""
    ballots = [["A"], ["B"], ["C", "A"]]
    weights = [Fraction(1, 2), Fraction(3, 10), Fraction(1, 5)]
    result = tally_stv(options=tuple("ABC"), ballots=ballots, seats=1, seed=SEED, weights=weights)
    assert result.quota == Fraction(1, 2)
    # A has exactly the quota at stage 1: not elected; C is excluded and A then exceeds it.
    assert result.stages[0].votes["A"] == result.quota
    assert result.stages[0].elected == ()
    assert result.stages[1].excluded == "C"
    assert result.stages[1].votes == {"A": Fraction(7, 10), "B": Fraction(3, 10)}
    assert result.stages[1].elected == ("A",)
    assert result.winners == ("A",)


def test_stv_equal_weights_give_the_unweighted_count_scaled() -> None:
    """Built from the definition: when one college votes alone, every ballot weighs the
    same and the count is the Order's, every figure times that weight (quota 6 / 20)."""
    weights = [Fraction(1, 20)] * len(FOOD_BALLOTS)
    result = tally_stv(options=FOOD, ballots=FOOD_BALLOTS, seats=3, seed=SEED, weights=weights)
    unweighted = tally_stv(options=FOOD, ballots=FOOD_BALLOTS, seats=3, seed=SEED)
    assert not result.exact_quota
    assert result.quota == unweighted.quota / 20 == Fraction(3, 10)
    assert result.winners == unweighted.winners == ("Chocolate", "Oranges", "Strawberries")
    for stage, plain in zip(result.stages, unweighted.stages, strict=True):
        assert stage.votes == {c: v / 20 for c, v in plain.votes.items()}
        assert stage.exhausted == plain.exhausted / 20
        assert stage.transfer_value == plain.transfer_value
        assert (stage.elected, stage.excluded) == (plain.elected, plain.excluded)


# --- Blank ballots ------------------------------------------------------------------------


def test_irv_blank_ballots_are_counted_but_never_weigh_in_the_majority() -> None:
    ballots = expand([(3, ("A",)), (2, ("B",)), (10, ())])
    result = tally_irv(options=tuple("AB"), ballots=ballots, seed=SEED)
    assert (result.ballots, result.blank) == (15, 10)
    assert result.rounds == (IRVRound(counts={"A": 3, "B": 2}, exhausted=10, eliminated=None),)
    assert result.winner == "A"


def test_stv_quota_counts_only_non_blank_ballots() -> None:
    ballots = expand([(3, ("A",)), (2, ("B",)), (1, ("C",)), (10, ())])
    result = tally_stv(options=tuple("ABC"), ballots=ballots, seats=1, seed=SEED)
    # 6 non-blank ballots, 1 seat: quota 6 // 2 + 1 = 4, whatever the 10 blanks.
    assert result.quota == 4
    assert result.stages[0].exhausted == 10
    assert result.winners == ("A",)


def test_all_blank_ballots_fall_back_to_the_lot() -> None:
    result = tally_irv(options=tuple("AB"), ballots=[[], []], seed=SEED)
    assert result.winner != lot_order(["A", "B"], SEED)[0]
    assert result.ties[0].broken_by == LOT


# --- Bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ballot",
    [["A", "Z"], ["A", "B", "A"], "AB", ["A", 3]],
    ids=["unknown option", "ranked twice", "string", "not an id"],
)
def test_bad_ballots_raise_invalid_ballot(ballot: Any) -> None:
    with pytest.raises(InvalidBallot, match="ballot 2"):
        tally_irv(options=tuple("ABC"), ballots=[["A"], ballot], seed=SEED)
    with pytest.raises(InvalidBallot, match="ballot 2"):
        tally_stv(options=tuple("ABC"), ballots=[["A"], ballot], seats=1, seed=SEED)


@pytest.mark.parametrize("seats", [0, -1, True])
def test_stv_needs_at_least_one_seat(seats: int) -> None:
    with pytest.raises(ValueError, match="seats"):
        tally_stv(options=tuple("AB"), ballots=[["A"]], seats=seats, seed=SEED)


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ([Fraction(1)], "1 weights for 2 ballots"),
        ([Fraction(1)] * 3, "3 weights for 2 ballots"),
        ([Fraction(-1, 2), Fraction(1)], "ballot 1: a weight cannot be negative"),
        ([Fraction(1), 0.5], "ballot 2: a weight is a Fraction"),
        ([True, Fraction(1)], "ballot 1: a weight is a Fraction"),
        ([Fraction(1), "1/2"], "ballot 2: a weight is a Fraction"),
        ("11", "weights must be a sequence"),
    ],
    ids=["too few", "too many", "negative", "float", "bool", "string", "a string"],
)
def test_bad_weights_raise_value_error(weights: Any, message: str) -> None:
    ballots = [["A", "B"], ["B"]]
    with pytest.raises(ValueError, match=message):
        tally_irv(options=tuple("AB"), ballots=ballots, seed=SEED, weights=weights)
    with pytest.raises(ValueError, match=message):
        tally_stv(options=tuple("AB"), ballots=ballots, seats=1, seed=SEED, weights=weights)


def test_options_must_be_unique_and_present() -> None:
    with pytest.raises(ValueError, match="unique"):
        tally_irv(options=("A", "A"), ballots=[], seed=SEED)
    with pytest.raises(ValueError, match="at least one"):
        tally_stv(options=(), ballots=[], seats=1, seed=SEED)


# --- Properties ---------------------------------------------------------------------------


def polls() -> st.SearchStrategy[tuple[list[OptionId], list[list[OptionId]]]]:
    return ranked_polls(OPTION_IDS, MAX_BALLOTS)


property_settings = settings(max_examples=MAX_EXAMPLES, deadline=None)


@property_settings
@given(poll=polls(), data=st.data())
def test_ballot_order_never_changes_a_result(
    poll: tuple[list[OptionId], list[list[OptionId]]], data: st.DataObject
) -> None:
    options, ballots = poll
    shuffled = data.draw(st.permutations(ballots))
    seats = data.draw(st.integers(1, len(options)))
    assert tally_irv(options=options, ballots=shuffled, seed=SEED) == tally_irv(
        options=options, ballots=ballots, seed=SEED
    )
    assert tally_stv(options=options, ballots=shuffled, seats=seats, seed=SEED) == tally_stv(
        options=options, ballots=ballots, seats=seats, seed=SEED
    )


@property_settings
@given(poll=polls(), data=st.data())
def test_order_of_the_options_never_changes_the_winners(
    poll: tuple[list[OptionId], list[list[OptionId]]], data: st.DataObject
) -> None:
    options, ballots = poll
    reordered = data.draw(st.permutations(options))
    seats = data.draw(st.integers(1, len(options)))
    assert (
        tally_irv(options=reordered, ballots=ballots, seed=SEED).winner
        == tally_irv(options=options, ballots=ballots, seed=SEED).winner
    )
    assert (
        tally_stv(options=reordered, ballots=ballots, seats=seats, seed=SEED).winners
        == tally_stv(options=options, ballots=ballots, seats=seats, seed=SEED).winners
    )


@property_settings
@given(ballots=st.lists(st.sampled_from([[], ["A"]]), max_size=MAX_BALLOTS))
def test_irv_with_one_option_elects_it(ballots: list[list[OptionId]]) -> None:
    result = tally_irv(options=["A"], ballots=ballots, seed=SEED)
    assert result.winner == "A"
    assert result.ties == ()
    assert len(result.rounds) == 1


@property_settings
@given(poll=polls())
def test_irv_rounds_conserve_the_ballots(
    poll: tuple[list[OptionId], list[list[OptionId]]],
) -> None:
    options, ballots = poll
    result = tally_irv(options=options, ballots=ballots, seed=SEED)
    previous_exhausted = result.blank
    for round_ in result.rounds:
        assert sum(round_.counts.values()) + round_.exhausted == len(ballots)
        assert round_.exhausted >= previous_exhausted
        previous_exhausted = round_.exhausted
    assert len(result.rounds) <= len(options)
    eliminated = [r.eliminated for r in result.rounds[:-1]]
    assert len(set(eliminated)) == len(eliminated)
    assert set(eliminated) == set(options) - set(result.rounds[-1].counts)
    assert result.rounds[-1].eliminated is None
    assert result.winner in result.rounds[-1].counts


@property_settings
@given(poll=polls())
def test_stv_with_one_seat_elects_the_irv_winner_when_irv_breaks_no_tie(
    poll: tuple[list[OptionId], list[list[OptionId]]],
) -> None:
    options, ballots = poll
    irv = tally_irv(options=options, ballots=ballots, seed=SEED)
    stv = tally_stv(options=options, ballots=ballots, seats=1, seed=SEED)
    if not irv.ties:
        assert stv.winners == (irv.winner,)
    if not irv.ties and not stv.ties:
        # Without ties both counts eliminate the same options in the same order.
        excluded = [stage.excluded for stage in stv.stages if stage.excluded is not None]
        eliminated = [r.eliminated for r in irv.rounds if r.eliminated is not None]
        assert excluded[: len(eliminated)] == eliminated


@property_settings
@given(poll=polls(), data=st.data())
def test_stv_elects_at_most_k_and_conserves_every_vote(
    poll: tuple[list[OptionId], list[list[OptionId]]], data: st.DataObject
) -> None:
    options, ballots = poll
    seats = data.draw(st.integers(1, len(options) + 1))
    result = tally_stv(options=options, ballots=ballots, seats=seats, seed=SEED)
    assert len(result.winners) == min(seats, len(options))
    assert len(set(result.winners)) == len(result.winners)
    assert set(result.winners) <= set(options)
    assert [c for stage in result.stages for c in stage.elected] == list(result.winners)
    for stage in result.stages:
        # Exact arithmetic: nothing is lost to rounding, ever.
        assert sum(stage.votes.values()) + stage.exhausted == len(ballots)
        assert all(isinstance(v, Fraction) for v in stage.votes.values())
        for candidate in stage.elected:
            # Below the quota only when filling the last seats, which ends the count.
            assert stage.votes[candidate] >= result.quota or stage is result.stages[-1]


@property_settings
@given(poll=polls(), data=st.data())
def test_the_lot_with_a_fixed_seed_is_stable(
    poll: tuple[list[OptionId], list[list[OptionId]]], data: st.DataObject
) -> None:
    options, ballots = poll
    seed = data.draw(st.text(max_size=8))
    assert lot_order(options, seed) == lot_order(list(reversed(options)), seed)
    first = tally_irv(options=options, ballots=ballots, seed=seed)
    assert tally_irv(options=options, ballots=ballots, seed=seed) == first
    for tie in first.ties:
        if tie.broken_by == LOT:
            assert tie.chosen == (lot_order(tie.options, seed)[0],)


# --- Properties of the weights ------------------------------------------------------------

# Hypothesis budget for the weighted properties (at most 100 examples each).
weights_settings = settings(max_examples=100, deadline=None)

# Few distinct weights, so that rankings share weights and equal totals (ties) still occur.
WEIGHTS = tuple(Fraction(w) for w in ("1", "2", "1/2", "3/10", "1/15", "2/9"))


@st.composite
def weighted_polls(
    draw: st.DrawFn,
) -> tuple[list[OptionId], list[list[OptionId]], list[Fraction]]:
    options, ballots = draw(polls())
    size = len(ballots)
    weights = draw(st.lists(st.sampled_from(WEIGHTS), min_size=size, max_size=size))
    return options, ballots, weights


@weights_settings
@given(poll=polls(), data=st.data())
def test_weights_all_one_give_the_unweighted_result(
    poll: tuple[list[OptionId], list[list[OptionId]]], data: st.DataObject
) -> None:
    options, ballots = poll
    ones = [Fraction(1)] * len(ballots)
    seats = data.draw(st.integers(1, len(options) + 1))
    # Fractions equal to whole numbers compare (and hash) equal to them: Fraction(3) == 3.
    weighted: object = tally_irv(options=options, ballots=ballots, seed=SEED, weights=ones)
    assert weighted == tally_irv(options=options, ballots=ballots, seed=SEED)
    assert tally_stv(
        options=options, ballots=ballots, seats=seats, seed=SEED, weights=ones
    ) == tally_stv(options=options, ballots=ballots, seats=seats, seed=SEED)


@weights_settings
@given(
    poll=weighted_polls(),
    factor=st.fractions(min_value=Fraction(1, 10), max_value=10, max_denominator=10),
    data=st.data(),
)
def test_scaling_every_weight_never_changes_the_winners(
    poll: tuple[list[OptionId], list[list[OptionId]], list[Fraction]],
    factor: Fraction,
    data: st.DataObject,
) -> None:
    options, ballots, weights = poll
    scaled = [factor * weight for weight in weights]
    seats = data.draw(st.integers(1, len(options)))
    irv = tally_irv(options=options, ballots=ballots, seed=SEED, weights=weights)
    irv_scaled = tally_irv(options=options, ballots=ballots, seed=SEED, weights=scaled)
    assert irv_scaled.winners == irv.winners
    assert irv_scaled.ties == irv.ties
    stv = tally_stv(options=options, ballots=ballots, seats=seats, seed=SEED, weights=weights)
    stv_scaled = tally_stv(options=options, ballots=ballots, seats=seats, seed=SEED, weights=scaled)
    assert stv_scaled.winners == stv.winners
    assert stv_scaled.ties == stv.ties
    assert stv_scaled.exact_quota == stv.exact_quota
    if stv.exact_quota:
        assert stv_scaled.quota == factor * stv.quota


@weights_settings
@given(poll=weighted_polls(), data=st.data())
def test_weighted_counts_conserve_the_weight_exactly(
    poll: tuple[list[OptionId], list[list[OptionId]], list[Fraction]], data: st.DataObject
) -> None:
    options, ballots, weights = poll
    total = sum(weights, Fraction(0))
    irv = tally_irv(options=options, ballots=ballots, seed=SEED, weights=weights)
    for round_ in irv.rounds:
        assert all(isinstance(v, Fraction) for v in round_.counts.values())
        assert isinstance(round_.exhausted, Fraction)
        assert sum(round_.counts.values()) + round_.exhausted == total
    final = irv.rounds[-1]
    active = total - final.exhausted
    assert 2 * final.counts[irv.winner] > active or len(final.counts) == 1
    seats = data.draw(st.integers(1, len(options) + 1))
    stv = tally_stv(options=options, ballots=ballots, seats=seats, seed=SEED, weights=weights)
    assert len(stv.winners) == min(seats, len(options))
    valid = sum((w for b, w in zip(ballots, weights, strict=True) if b), Fraction(0))
    if stv.exact_quota:
        assert stv.quota == valid / (seats + 1)
    for stage in stv.stages:
        assert sum(stage.votes.values()) + stage.exhausted == total
        for candidate in stage.elected:
            if stage is not stv.stages[-1]:
                # Elected on the quota, not by filling the last seats.
                if stv.exact_quota:
                    assert stage.votes[candidate] > stv.quota
                else:
                    assert stage.votes[candidate] >= stv.quota
