"""Voting colleges: a motion counted per college, then weighted (SCIC)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cocreate.tally.colleges import tally_weighted_yes_no, weigh_options
from cocreate.tally.yes_no import MajorityRule, tally_yes_no
from tests.strategies import yes_no_choices

WEIGHTS = {"salaries": 50, "usagers": 30, "collectivites": 20}
BALLOTS = {
    "salaries": ["for"] * 10,
    "usagers": ["for"] * 2 + ["against"] * 8,
    "collectivites": ["for", "against"],
}


def test_weights_outvote_headcount() -> None:
    """Built from the definition (loi n° 47-1775, art. 19 octies: each college weighs a share
    set by the statutes). Head count: 13 for, 9 against. Weighted: 50 % × 10/10 +
    30 % × 2/10 + 20 % × 1/2 = 66 %: a simple majority, but just short of two thirds."""
    simple = tally_weighted_yes_no(ballots=BALLOTS, weights=WEIGHTS, rule=MajorityRule.SIMPLE)
    assert simple.for_share == Fraction(33, 50)
    assert simple.adopted
    assert simple.counted_weight_percent == 100
    shares = {c.college: c.for_share for c in simple.colleges}
    assert shares == {"salaries": 1, "usagers": Fraction(1, 5), "collectivites": Fraction(1, 2)}
    two_thirds = tally_weighted_yes_no(
        ballots=BALLOTS, weights=WEIGHTS, rule=MajorityRule.TWO_THIRDS
    )
    assert not two_thirds.adopted


def test_a_college_that_did_not_vote_is_left_out_and_weights_scale_up() -> None:
    """(50 % × 1 + 30 % × 1/5) / 80 % = 7/10."""
    ballots = {k: v for k, v in BALLOTS.items() if k != "collectivites"}
    result = tally_weighted_yes_no(ballots=ballots, weights=WEIGHTS, rule=MajorityRule.SIMPLE)
    assert result.counted_weight_percent == 80
    assert result.for_share == Fraction(7, 10)
    silent = next(c for c in result.colleges if c.college == "collectivites")
    assert silent.for_share is None
    abstaining = tally_weighted_yes_no(
        ballots={**ballots, "collectivites": ["abstain", "abstain"]},
        weights=WEIGHTS,
        rule=MajorityRule.SIMPLE,
    )
    assert abstaining.for_share == Fraction(7, 10)  # abstentions express nothing


def test_exact_half_rejects_as_a_tie_and_unanimity_needs_every_college() -> None:
    half = tally_weighted_yes_no(
        ballots={"a": ["for"], "b": ["against"]},
        weights={"a": 50, "b": 50},
        rule=MajorityRule.SIMPLE,
    )
    assert half.for_share == Fraction(1, 2)
    assert not half.adopted
    assert half.ties
    unanimity = tally_weighted_yes_no(
        ballots={"a": ["for"] * 9, "b": ["for", "against"]},
        weights={"a": 90, "b": 10},
        rule=MajorityRule.UNANIMITY,
    )
    assert not unanimity.adopted


def test_weights_must_add_up_to_100() -> None:
    with pytest.raises(ValueError, match="100"):
        tally_weighted_yes_no(ballots={}, weights={"a": 60, "b": 30}, rule=MajorityRule.SIMPLE)


MAJORITIES = [MajorityRule.SIMPLE, MajorityRule.ABSOLUTE_OF_EXPRESSED, MajorityRule.TWO_THIRDS]
choices = st.lists(yes_no_choices, max_size=30)


@settings(max_examples=150, deadline=None)
@given(ballots=choices, rule=st.sampled_from(MAJORITIES))
def test_one_college_at_100_percent_is_the_plain_count(
    ballots: list[str], rule: MajorityRule
) -> None:
    weighted = tally_weighted_yes_no(ballots={"all": ballots}, weights={"all": 100}, rule=rule)
    plain = tally_yes_no(ballots=ballots, rule=rule)
    assert weighted.adopted == plain.adopted


@settings(max_examples=150, deadline=None)
@given(a=choices, b=choices)
def test_ballot_order_within_colleges_does_not_matter(a: list[str], b: list[str]) -> None:
    first = tally_weighted_yes_no(
        ballots={"a": a, "b": b}, weights={"a": 70, "b": 30}, rule=MajorityRule.SIMPLE
    )
    second = tally_weighted_yes_no(
        ballots={"a": a[::-1], "b": sorted(b)}, weights={"a": 70, "b": 30}, rule=MajorityRule.SIMPLE
    )
    assert (first.for_share, first.adopted) == (second.for_share, second.adopted)


def test_options_weighed_across_colleges() -> None:
    """Built from the definition: college A (60 %) approves X on 8 of 10 ballots and Y on 4;
    college B (40 %) approves X on 1 of 5 and Y on all 5. Head count ties X and Y at 9;
    weighted, X = 60 % × 0.8 + 40 % × 0.2 = 56 % and Y = 60 % × 0.4 + 40 % × 1 = 64 %."""
    result = weigh_options(
        options=["X", "Y"],
        per_college={
            "A": {"X": Fraction(8, 10), "Y": Fraction(4, 10)},
            "B": {"X": Fraction(1, 5), "Y": Fraction(5, 5)},
        },
        weights={"A": 60, "B": 40},
        seed="s",
    )
    assert result.values == {"X": Fraction(14, 25), "Y": Fraction(16, 25)}
    assert result.winners == ("Y",)
    only_a = weigh_options(
        options=["X", "Y"],
        per_college={"A": {"X": Fraction(8, 10), "Y": Fraction(4, 10)}},
        weights={"A": 60, "B": 40},
        seed="s",
    )
    assert only_a.counted_weight_percent == 60
    assert only_a.values == {"X": Fraction(4, 5), "Y": Fraction(2, 5)}


@settings(max_examples=100, deadline=None)
@given(
    shares=st.lists(st.fractions(min_value=0, max_value=1), min_size=3, max_size=3),
    seed=st.text(max_size=5),
)
def test_equal_weighted_values_are_ordered_by_the_lot(shares: list[Fraction], seed: str) -> None:
    per_college = {"A": dict(zip("XYZ", shares, strict=True))}
    result = weigh_options(
        options=list("XYZ"), per_college=per_college, weights={"A": 100}, seed=seed, seats=3
    )
    assert sorted(result.ranking) == ["X", "Y", "Z"]
    values = [result.values[o] for o in result.ranking]
    assert values == sorted(values, reverse=True)
