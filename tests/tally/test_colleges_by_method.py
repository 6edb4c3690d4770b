"""Each method weighed by college, as pure functions of ``tally.colleges``: worked
examples computed by hand, edge cases, and properties (one college is the plain count,
the order of the ballots and the scale of the weights change nothing, a college never
weighs more than its weight)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cocreate.tally.base import Tie, lot_order
from cocreate.tally.cardinal import tally_approval, tally_dot_voting, tally_score
from cocreate.tally.colleges import (
    CollegeBallot,
    WeightedOptionsResult,
    approval_values,
    by_college,
    dot_values,
    judgment_ballot_weights,
    ranked_ballot_weights,
    score_values,
    tally_weighted_yes_no,
    weigh_approval,
    weigh_dots,
    weigh_score,
)
from cocreate.tally.judgment import tally_majority_judgment
from cocreate.tally.ranked import tally_irv
from cocreate.tally.schulze import tally_schulze
from cocreate.tally.yes_no import MajorityRule, tally_yes_no
from tests.strategies import (
    approval_ballots,
    college_weights,
    dot_ballots,
    judgment_ballots,
    ranked_ballots,
    score_ballots,
    yes_no_choices,
)

SEED = "0" * 64  # any fixed text: in the app, the SHA-256 of the ballot file
OPTIONS = ["X", "Y", "Z"]
COLLEGES = ["a", "b", "c"]
POINTS, CAP = 4, 2  # dot voting: dots per voter, most dots on one option
LOW, HIGH = 1, 5  # score voting: a scale that does not start at 0, to check the scaling
PROPERTIES = settings(max_examples=100, deadline=None)


def tagged(college: str, votes: Sequence[Any]) -> list[CollegeBallot[Any]]:
    return [CollegeBallot(college, vote) for vote in votes]


# --- worked examples, by hand ----------------------------------------------------------------


def test_a_scic_of_three_colleges_weighs_a_motion_50_30_20() -> None:
    """Salariés weigh 50 % (5 members), usagers 30 % (40), collectivités 20 % (3). The
    salariés vote 1 for, 4 against; the usagers 18 for, 2 against; the collectivités 1
    for, 1 against, 1 abstention. Head count: 20 for, 7 against, adopted.

    Simple majority, shares of for + against: 1/5, 18/20, 1/2; weighted,
    50 % × 1/5 + 30 % × 9/10 + 20 % × 1/2 = 10 % + 27 % + 10 % = 47 %: rejected.
    Absolute majority of the electorate, shares of the members: 1/5, 18/40, 1/3;
    1/10 + 27/200 + 1/15 = (60 + 81 + 40)/600 = 181/600, about 30 %: rejected."""
    weights = {"salaries": 50, "usagers": 30, "collectivites": 20}
    electorates = {"salaries": 5, "usagers": 40, "collectivites": 3}
    ballots = [  # in the order cast, colleges mixed
        *tagged("usagers", ["for"] * 9),
        *tagged("salaries", ["against", "for"]),
        *tagged("collectivites", ["abstain", "for"]),
        *tagged("usagers", ["against"] + ["for"] * 9 + ["against"]),
        *tagged("salaries", ["against"] * 3),
        *tagged("collectivites", ["against"]),
    ]
    grouped = by_college(colleges=weights, ballots=ballots)
    assert {c: len(v) for c, v in grouped.items()} == {
        "salaries": 5,
        "usagers": 20,
        "collectivites": 3,
    }
    head_count = tally_yes_no(ballots=[b.vote for b in ballots], rule=MajorityRule.SIMPLE)
    assert head_count.adopted
    simple = tally_weighted_yes_no(ballots=grouped, weights=weights, rule=MajorityRule.SIMPLE)
    assert {c.college: c.for_share for c in simple.colleges} == {
        "salaries": Fraction(1, 5),
        "usagers": Fraction(9, 10),
        "collectivites": Fraction(1, 2),
    }
    assert simple.for_share == Fraction(47, 100)
    assert not simple.adopted
    electorate = tally_weighted_yes_no(
        ballots=grouped,
        weights=weights,
        electorates=electorates,
        rule=MajorityRule.ABSOLUTE_OF_ELECTORATE,
    )
    assert electorate.for_share == Fraction(181, 600)
    assert not electorate.adopted


# A 60 %: two rankings and a blank; B 40 %: five rankings.
RANKED = [
    *tagged("A", [["Y", "Z"], ["Z", "Y"], []]),
    *tagged("B", [["X"]] * 4 + [["Z", "Y"]]),
]
RANKED_WEIGHTS = {"A": 60, "B": 40}


def test_an_instant_runoff_weighed_by_college() -> None:
    """A's two rankings share its 60 %: 3/10 each, its blank 0; B's five share 40 %: 2/25
    each. Round 1: X 4 × 2/25 = 8/25, Y 3/10, Z 3/10 + 2/25 = 19/50, out of 1: nobody has
    more than half; Y, the fewest (15/50 < 16/50), is eliminated and its ballot goes to Z.
    Round 2: X 8/25, Z 17/25: Z wins. By head count X wins at once, 4 of the 7 rankings."""
    weights = ranked_ballot_weights(ballots=RANKED, weights=RANKED_WEIGHTS)
    assert weights == [Fraction(3, 10), Fraction(3, 10), 0, *[Fraction(2, 25)] * 5]
    votes = [b.vote for b in RANKED]
    weighed = tally_irv(options=OPTIONS, ballots=votes, seed=SEED, weights=weights)
    assert [dict(r.counts) for r in weighed.rounds] == [
        {"X": Fraction(8, 25), "Y": Fraction(3, 10), "Z": Fraction(19, 50)},
        {"X": Fraction(8, 25), "Z": Fraction(17, 25)},
    ]
    assert [r.eliminated for r in weighed.rounds] == ["Y", None]
    assert weighed.winners == ("Z",)
    assert tally_irv(options=OPTIONS, ballots=votes, seed=SEED).winners == ("X",)


def test_schulze_weighed_by_college() -> None:
    """The same ballots. Z over Y: A's [Z, Y] 3/10 and B's [Z, Y] 2/25, so 19/50, against
    A's [Y, Z], 3/10; Z over X and Y over X: all but B's four [X], 17/25 against 8/25. Z
    beats both: the Condorcet winner. By head count X beats Y and Z, 4 to 3."""
    weights = ranked_ballot_weights(ballots=RANKED, weights=RANKED_WEIGHTS)
    votes = [b.vote for b in RANKED]
    weighed = tally_schulze(options=OPTIONS, ballots=votes, seed=SEED, weights=weights)
    assert (weighed.d["Z"]["Y"], weighed.d["Y"]["Z"]) == (Fraction(19, 50), Fraction(3, 10))
    assert (weighed.d["Z"]["X"], weighed.d["X"]["Z"]) == (Fraction(17, 25), Fraction(8, 25))
    assert weighed.winners == ("Z",)
    assert tally_schulze(options=OPTIONS, ballots=votes, seed=SEED).winners == ("X",)


def test_approval_weighed_by_college_with_a_silent_college() -> None:
    """A (50 %) approves X on 2 of its 4 ballots (one blank) and Y on 2: 1/2 each. B (30 %)
    approves Y on all 3 and Z on 1: 1, 1/3. C (20 %) is silent: left out, the others
    scale up to 80 %. X = 50 × 1/2 / 80 = 5/16; Y = (50 × 1/2 + 30 × 1) / 80 = 11/16;
    Z = 30 × 1/3 / 80 = 1/8. Two seats: Y, X."""
    ballots = {
        "A": [{"X"}, {"X", "Y"}, set(), {"Y"}],
        "B": [{"Y"}, {"Y"}, {"Y", "Z"}],
        "C": [],
    }
    result = weigh_approval(
        options=OPTIONS, ballots=ballots, weights={"A": 50, "B": 30, "C": 20}, seed=SEED, seats=2
    )
    assert result.per_college == {
        "A": {"X": Fraction(1, 2), "Y": Fraction(1, 2), "Z": 0},
        "B": {"X": 0, "Y": 1, "Z": Fraction(1, 3)},
    }
    assert result.counted_weight_percent == 80
    assert result.values == {"X": Fraction(5, 16), "Y": Fraction(11, 16), "Z": Fraction(1, 8)}
    assert result.winners == ("Y", "X")


def test_dot_voting_weighed_by_college() -> None:
    """5 dots, at most 3 on one option. A (70 %) places 6 dots, 4 on X, 2 on Y: 2/3, 1/3.
    B (30 %) places 5, 3 on Y, 2 on Z (its blank ballot places none): 3/5, 2/5.
    X = 70 % × 2/3 = 7/15; Y = 70 % × 1/3 + 30 % × 3/5 = 31/75; Z = 30 % × 2/5 = 3/25:
    X wins, though by head count Y has 5 dots to X's 4."""
    ballots = {"A": [{"X": 3, "Y": 2}, {"X": 1}], "B": [{"Y": 3, "Z": 2}, {}]}
    result = weigh_dots(
        options=OPTIONS,
        ballots=ballots,
        weights={"A": 70, "B": 30},
        points=5,
        cap_per_option=3,
        seed=SEED,
    )
    assert result.values == {"X": Fraction(7, 15), "Y": Fraction(31, 75), "Z": Fraction(3, 25)}
    assert result.winners == ("X",)
    every = [vote for votes in ballots.values() for vote in votes]
    assert tally_dot_voting(options=OPTIONS, ballots=every, points=5, seed=SEED).winners == ("Y",)


def test_score_voting_weighed_by_college_on_a_scale_from_1() -> None:
    """Scores from 1 to 5, an unscored option getting 1. A (50 %): X 5 and 3, average 4,
    scaled (4 − 1)/(5 − 1) = 3/4; Y 1 and 1, scaled 0. B (50 %): X 1, scaled 0; Y 5,
    scaled 1. X = 3/8, Y = 1/2: Y wins; by head count X, averaging 3 to Y's 7/3."""
    ballots = {"A": [{"X": 5, "Y": 1}, {"X": 3}], "B": [{"Y": 5}]}
    result = weigh_score(
        options=["X", "Y"],
        ballots=ballots,
        weights={"A": 50, "B": 50},
        min_score=1,
        max_score=5,
        seed=SEED,
    )
    assert result.per_college == {"A": {"X": Fraction(3, 4), "Y": 0}, "B": {"X": 0, "Y": 1}}
    assert result.values == {"X": Fraction(3, 8), "Y": Fraction(1, 2)}
    assert result.winners == ("Y",)
    every = [vote for votes in ballots.values() for vote in votes]
    plain = tally_score(options=["X", "Y"], ballots=every, seed=SEED, min_score=1, max_score=5)
    assert plain.winners == ("X",)


def test_an_empty_ballot_weighs_in_majority_judgment_but_not_in_a_ranked_count() -> None:
    """A (50 %) casts a ballot and an empty one, B (50 %) one ballot. In majority judgment
    the empty ballot grades everything "to reject" and is one of A's two: 1/4, 1/4, 1/2.
    As a ranking it would be blank: A's other ballot carries A's whole 1/2."""
    weights = {"A": 50, "B": 50}
    graded = [*tagged("A", [{"X": "excellent"}, {}]), *tagged("B", [{"Y": "excellent"}])]
    ranked = [*tagged("A", [["X"], []]), *tagged("B", [["Y"]])]
    quarter, half = Fraction(1, 4), Fraction(1, 2)
    assert judgment_ballot_weights(ballots=graded, weights=weights) == [quarter, quarter, half]
    assert ranked_ballot_weights(ballots=ranked, weights=weights) == [half, 0, half]


# --- edge cases ---------------------------------------------------------------------------


def test_a_college_without_members_is_left_out_unless_the_base_is_the_electorate() -> None:
    """a (50 %, 10 members) votes 6 for; b (50 %) has no member and no ballot. Under a
    simple majority b has no share and a weighs 100 %: adopted. Under the absolute majority
    of the electorate b keeps its weight with a share of 0: 50 % × 6/10 = 3/10, rejected."""
    grouped = by_college(colleges=["a", "b"], ballots=tagged("a", ["for"] * 6))
    assert grouped == {"a": ["for"] * 6, "b": []}
    weights = {"a": 50, "b": 50}
    simple = tally_weighted_yes_no(ballots=grouped, weights=weights, rule=MajorityRule.SIMPLE)
    assert (simple.for_share, simple.counted_weight_percent, simple.adopted) == (
        Fraction(1),
        50,
        True,
    )
    electorate = tally_weighted_yes_no(
        ballots=grouped,
        weights=weights,
        electorates={"a": 10, "b": 0},
        rule=MajorityRule.ABSOLUTE_OF_ELECTORATE,
    )
    assert (electorate.for_share, electorate.adopted) == (Fraction(3, 10), False)


def test_a_college_of_blank_rankings_weighs_nothing_and_the_others_keep_their_share() -> None:
    ballots = [*tagged("A", [[], []]), *tagged("B", [["X"], ["Y"]])]
    weights = ranked_ballot_weights(ballots=ballots, weights={"A": 70, "B": 30})
    assert weights == [0, 0, Fraction(3, 20), Fraction(3, 20)]


def test_a_college_with_no_ballot_has_no_value() -> None:
    assert approval_values(options=OPTIONS, ballots=[]) is None
    assert score_values(options=OPTIONS, ballots=[], min_score=0, max_score=5) is None
    assert dot_values(options=OPTIONS, ballots=[], points=5, cap_per_option=5) is None
    assert dot_values(options=OPTIONS, ballots=[{}, {"X": 0}], points=5, cap_per_option=5) is None


def test_when_everybody_abstains_nothing_is_adopted() -> None:
    grouped = {"a": ["abstain", "blank"], "b": ["abstain"]}
    result = tally_weighted_yes_no(
        ballots=grouped, weights={"a": 60, "b": 40}, rule=MajorityRule.SIMPLE
    )
    assert (result.for_share, result.counted_weight_percent) == (None, 0)
    assert (result.adopted, result.winners, result.ties) == (False, (), ())


def test_blank_ballots_only_approve_nothing_and_place_no_dot() -> None:
    """Approval: every college gives every option 0, so they tie and the lot orders them.
    Dots: no college placed a dot, so none has values, nothing weighs and nobody wins."""
    weights = {"a": 60, "b": 40}
    approval = weigh_approval(
        options=OPTIONS, ballots={"a": [set()], "b": [set(), set()]}, weights=weights, seed=SEED
    )
    assert approval.values == dict.fromkeys(OPTIONS, 0)
    assert approval.ranking == tuple(lot_order(OPTIONS, SEED))
    assert approval.winners == approval.ranking[:1]
    dots = weigh_dots(
        options=OPTIONS,
        ballots={"a": [{}], "b": [{}]},
        weights=weights,
        points=5,
        cap_per_option=5,
        seed=SEED,
    )
    assert (dots.per_college, dots.counted_weight_percent, dots.winners) == ({}, 0, ())


def test_equal_weighted_values_go_to_the_lot_not_to_more_supporters() -> None:
    """X has 2 dots from one voter, Y 1 dot from each of two. Without colleges Y wins on
    supporters; weighed, both have half the college's dots, and the lot decides, since a
    supporter of one college does not weigh what a supporter of another does."""
    ballots = [{"X": 2}, {"Y": 1}, {"Y": 1}]
    plain = tally_dot_voting(options=["X", "Y"], ballots=ballots, points=2, seed=SEED)
    assert plain.winners == ("Y",)
    weighed = weigh_dots(
        options=["X", "Y"],
        ballots={"a": ballots},
        weights={"a": 100},
        points=2,
        cap_per_option=2,
        seed=SEED,
    )
    assert weighed.values == {"X": Fraction(1, 2), "Y": Fraction(1, 2)}
    drawn = lot_order(["X", "Y"], SEED)[0]
    assert weighed.winners == (drawn,)
    assert weighed.ties == (Tie(("X", "Y"), "lot", (drawn,)),)


def test_a_ballot_from_a_college_without_a_weight_is_refused() -> None:
    stray = tagged("z", [["X"]])
    with pytest.raises(ValueError, match="without a weight"):
        by_college(colleges=["a"], ballots=stray)
    with pytest.raises(ValueError, match="without a weight"):
        ranked_ballot_weights(ballots=stray, weights={"a": 100})
    with pytest.raises(ValueError, match="without a weight"):
        weigh_approval(options=OPTIONS, ballots={"z": [{"X"}]}, weights={"a": 100}, seed=SEED)


def test_weights_must_add_up_to_100_in_every_method() -> None:
    weights = {"a": 60, "b": 30}
    with pytest.raises(ValueError, match="100"):
        weigh_score(
            options=OPTIONS, ballots={}, weights=weights, min_score=0, max_score=5, seed=SEED
        )
    with pytest.raises(ValueError, match="100"):
        judgment_ballot_weights(ballots=[], weights=weights)


# --- properties ---------------------------------------------------------------------------

Weigher = Callable[[Mapping[str, Sequence[Any]], Mapping[str, int]], WeightedOptionsResult]
WEIGHERS: dict[str, tuple[st.SearchStrategy[Any], Weigher]] = {
    "approval": (
        approval_ballots(OPTIONS),
        lambda ballots, weights: weigh_approval(
            options=OPTIONS, ballots=ballots, weights=weights, seed=SEED
        ),
    ),
    "dots": (
        dot_ballots(OPTIONS, points=POINTS, cap=CAP),
        lambda ballots, weights: weigh_dots(
            options=OPTIONS,
            ballots=ballots,
            weights=weights,
            points=POINTS,
            cap_per_option=CAP,
            seed=SEED,
        ),
    ),
    "score": (
        score_ballots(OPTIONS, low=LOW, high=HIGH),
        lambda ballots, weights: weigh_score(
            options=OPTIONS,
            ballots=ballots,
            weights=weights,
            min_score=LOW,
            max_score=HIGH,
            seed=SEED,
        ),
    ),
}
methods = st.sampled_from(sorted(WEIGHERS))


def per_college(votes: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, list[Any]]]:
    """Each of the colleges' ballots, a silent college included now and then."""
    return st.fixed_dictionaries({c: st.lists(votes, max_size=6) for c in COLLEGES})


def plain_key(method: str, ballots: Sequence[Any]) -> dict[str, Fraction | int]:
    """What the plain count ranks options by (before its own tie rules)."""
    if method == "approval":
        return dict(tally_approval(options=OPTIONS, ballots=ballots, seed=SEED).approvals)
    if method == "dots":
        dots = tally_dot_voting(
            options=OPTIONS, ballots=ballots, points=POINTS, cap_per_option=CAP, seed=SEED
        )
        return dict(dots.totals)
    score = tally_score(options=OPTIONS, ballots=ballots, seed=SEED, min_score=LOW, max_score=HIGH)
    return {o: s.average or 0 for o, s in score.scores.items()}


@PROPERTIES
@given(method=methods, data=st.data())
def test_one_college_at_100_percent_ranks_as_the_plain_count(
    method: str, data: st.DataObject
) -> None:
    """Its values are the plain totals over one constant (ballots, dots placed, the
    scale), so the weighted ranking follows the plain one, and an option the plain count
    puts first alone wins. Approval breaks ties by the lot in both: the same ranking."""
    votes, weigh = WEIGHERS[method]
    ballots = data.draw(st.lists(votes, min_size=1, max_size=12))
    weighed = weigh({"all": ballots}, {"all": 100})
    if not weighed.per_college:  # only blank dot ballots: no value, nobody wins
        assert method == "dots"
        assert weighed.winners == ()
        return
    key = plain_key(method, ballots)
    in_order = [key[o] for o in weighed.ranking]
    assert in_order == sorted(in_order, reverse=True)
    first = [o for o in OPTIONS if key[o] == max(key.values())]
    if len(first) == 1:
        assert weighed.winners == tuple(first)
    if method == "approval":
        assert (
            weighed.ranking == tally_approval(options=OPTIONS, ballots=ballots, seed=SEED).ranking
        )


@PROPERTIES
@given(ballots=st.lists(ranked_ballots(OPTIONS), min_size=1, max_size=12))
def test_one_college_at_100_percent_is_the_plain_ranked_count_scaled(
    ballots: list[list[str]],
) -> None:
    """Every ranking weighs 1/n (n rankings not blank): every IRV and Schulze figure is
    the plain one over n, and the same options win."""
    weights = ranked_ballot_weights(ballots=tagged("all", ballots), weights={"all": 100})
    n = sum(1 for b in ballots if b)
    if not n:
        assert not any(weights)
        return
    plain = tally_irv(options=OPTIONS, ballots=ballots, seed=SEED)
    weighed = tally_irv(options=OPTIONS, ballots=ballots, seed=SEED, weights=weights)
    assert weighed.winners == plain.winners
    assert [dict(r.counts) for r in weighed.rounds] == [
        {o: Fraction(v, n) for o, v in r.counts.items()} for r in plain.rounds
    ]
    plain_schulze = tally_schulze(options=OPTIONS, ballots=ballots, seed=SEED)
    schulze = tally_schulze(options=OPTIONS, ballots=ballots, seed=SEED, weights=weights)
    assert schulze.winners == plain_schulze.winners
    assert schulze.d == {
        x: {y: Fraction(v, n) for y, v in row.items()} for x, row in plain_schulze.d.items()
    }


@PROPERTIES
@given(ballots=st.lists(judgment_ballots(OPTIONS), min_size=1, max_size=12))
def test_one_college_at_100_percent_is_the_plain_majority_judgment(
    ballots: list[dict[str, str]],
) -> None:
    weights = judgment_ballot_weights(ballots=tagged("all", ballots), weights={"all": 100})
    assert weights == [Fraction(1, len(ballots))] * len(ballots)
    plain = tally_majority_judgment(options=OPTIONS, ballots=ballots, seed=SEED)
    weighed = tally_majority_judgment(options=OPTIONS, ballots=ballots, seed=SEED, weights=weights)
    assert weighed.ranking == plain.ranking
    assert [p.shares for p in weighed.profiles] == [p.shares for p in plain.profiles]


@PROPERTIES
@given(method=methods, data=st.data())
def test_the_order_of_the_ballots_within_a_college_changes_nothing(
    method: str, data: st.DataObject
) -> None:
    votes, weigh = WEIGHERS[method]
    ballots = data.draw(per_college(votes))
    weights = data.draw(college_weights(COLLEGES))
    shuffled = {c: data.draw(st.permutations(v)) for c, v in ballots.items()}
    assert weigh(shuffled, weights) == weigh(ballots, weights)


@PROPERTIES
@given(data=st.data())
def test_the_order_of_ranked_ballots_changes_nothing(data: st.DataObject) -> None:
    """The weights follow their ballots, whatever order the ballots come in."""
    ballots = data.draw(
        st.lists(st.builds(CollegeBallot, st.sampled_from(COLLEGES), ranked_ballots(OPTIONS)))
    )
    weights = data.draw(college_weights(COLLEGES))
    shuffled = data.draw(st.permutations(ballots))

    def irv(tagged_ballots: Sequence[CollegeBallot[list[str]]]) -> Any:
        ballot_weights = ranked_ballot_weights(ballots=tagged_ballots, weights=weights)
        if not any(ballot_weights):
            return None  # nothing weighs: nobody wins, whatever the order
        votes = [b.vote for b in tagged_ballots]
        result = tally_irv(options=OPTIONS, ballots=votes, seed=SEED, weights=ballot_weights)
        return result.rounds, result.winners, result.ties

    assert irv(shuffled) == irv(ballots)


# The weights of a and b multiplied by k, or as they are beside a silent college c that
# takes the rest of the 100 %: the same ratio between a and b, at another scale.
scales = st.sampled_from([2, 4, 5, 10]).flatmap(
    lambda k: st.tuples(st.just(k), st.integers(0, 100 // k))
)


def scaled(k: int, a: int) -> tuple[dict[str, int], dict[str, int]]:
    small = {"a": a, "b": 100 // k - a, "c": 100 - 100 // k}
    return small, {"a": k * a, "b": k * small["b"], "c": 0}


@PROPERTIES
@given(method=methods, scale=scales, data=st.data())
def test_scaling_the_weights_changes_no_option_value(
    method: str, scale: tuple[int, int], data: st.DataObject
) -> None:
    votes, weigh = WEIGHERS[method]
    ballots = {**data.draw(per_college(votes)), "c": []}
    small, large = scaled(*scale)
    one, other = weigh(ballots, small), weigh(ballots, large)
    assert (one.values, one.ranking, one.winners) == (other.values, other.ranking, other.winners)


@PROPERTIES
@given(
    ballots=st.fixed_dictionaries({c: st.lists(yes_no_choices, max_size=8) for c in "ab"}),
    rule=st.sampled_from([r for r in MajorityRule if r is not MajorityRule.ABSOLUTE_OF_ELECTORATE]),
    scale=scales,
)
def test_scaling_the_weights_changes_no_motion(
    ballots: dict[str, list[str]], rule: MajorityRule, scale: tuple[int, int]
) -> None:
    """(Under the absolute majority of the electorate a silent college weighs, as not
    "for": there the silent college is a college like the others.)"""
    small, large = scaled(*scale)
    one, other = (
        tally_weighted_yes_no(ballots={**ballots, "c": []}, weights=weights, rule=rule)
        for weights in (small, large)
    )
    assert (one.for_share, one.adopted) == (other.for_share, other.adopted)


@PROPERTIES
@given(
    ballots=st.lists(st.builds(CollegeBallot, st.sampled_from("ab"), ranked_ballots(OPTIONS))),
    scale=scales,
)
def test_scaling_the_weights_scales_the_ranked_count_only(
    ballots: list[CollegeBallot[list[str]]], scale: tuple[int, int]
) -> None:
    k, _ = scale
    small, large = scaled(*scale)
    small_weights = ranked_ballot_weights(ballots=ballots, weights=small)
    large_weights = ranked_ballot_weights(ballots=ballots, weights=large)
    assert large_weights == [k * w for w in small_weights]
    if not any(small_weights):
        return
    votes = [b.vote for b in ballots]
    one = tally_irv(options=OPTIONS, ballots=votes, seed=SEED, weights=small_weights)
    other = tally_irv(options=OPTIONS, ballots=votes, seed=SEED, weights=large_weights)
    assert (one.winners, one.ties) == (other.winners, other.ties)
    assert [{o: k * v for o, v in r.counts.items()} for r in one.rounds] == [
        dict(r.counts) for r in other.rounds
    ]


@PROPERTIES
@given(
    ranked=st.lists(st.builds(CollegeBallot, st.sampled_from(COLLEGES), ranked_ballots(OPTIONS))),
    graded=st.lists(st.builds(CollegeBallot, st.sampled_from(COLLEGES), judgment_ballots(OPTIONS))),
    weights=college_weights(COLLEGES),
)
def test_a_college_s_ballots_weigh_its_weight_exactly_or_nothing(
    ranked: list[CollegeBallot[list[str]]],
    graded: list[CollegeBallot[dict[str, str]]],
    weights: dict[str, int],
) -> None:
    """Never more than its share: w_c / 100 when it cast a ballot the method counts, else
    0; so all the ballots together weigh at most 1."""
    # A ranking counts when it ranks something; a majority-judgment ballot always.
    for ballots, ballot_weights, counted in (
        (
            ranked,
            ranked_ballot_weights(ballots=ranked, weights=weights),
            [bool(b.vote) for b in ranked],
        ),
        (graded, judgment_ballot_weights(ballots=graded, weights=weights), [True] * len(graded)),
    ):
        for college in COLLEGES:
            mine = [i for i, b in enumerate(ballots) if b.college == college]
            own = sum((ballot_weights[i] for i in mine), Fraction(0))
            cast = any(counted[i] for i in mine)
            assert own == (Fraction(weights[college], 100) if cast else 0)
        assert sum(ballot_weights) <= 1


@PROPERTIES
@given(method=methods, data=st.data())
def test_an_option_s_value_is_a_weighted_mean_of_the_colleges_values(
    method: str, data: st.DataObject
) -> None:
    """Between the lowest and the highest value the colleges that count give it, and a
    college's part of it never more than its weight among them, w_c / W."""
    votes, weigh = WEIGHERS[method]
    ballots = data.draw(per_college(votes))
    weights = data.draw(college_weights(COLLEGES))
    result = weigh(ballots, weights)
    counting = {c: v for c, v in result.per_college.items() if weights[c] > 0}
    total = result.counted_weight_percent
    assert total == sum(weights[c] for c in counting)
    for option in OPTIONS:
        value = result.values[option]
        assert 0 <= value <= 1
        if not counting:
            assert value == 0
            continue
        given_values = [v[option] for v in counting.values()]
        assert min(given_values) <= value <= max(given_values)
        for college, values in counting.items():
            assert weights[college] * values[option] / total <= Fraction(weights[college], total)


@PROPERTIES
@given(
    ballots=st.fixed_dictionaries({c: st.lists(yes_no_choices, max_size=8) for c in COLLEGES}),
    weights=college_weights(COLLEGES),
    rule=st.sampled_from(list(MajorityRule)),
)
def test_the_share_of_for_is_a_weighted_mean_of_the_colleges_shares(
    ballots: dict[str, list[str]], weights: dict[str, int], rule: MajorityRule
) -> None:
    electorates = {c: len(v) + 2 for c, v in ballots.items()}
    result = tally_weighted_yes_no(
        ballots=ballots, weights=weights, electorates=electorates, rule=rule
    )
    shares = [
        c.for_share for c in result.colleges if c.for_share is not None and c.weight_percent > 0
    ]
    if result.for_share is None:
        assert not shares
        assert not result.adopted
    else:
        assert min(shares) <= result.for_share <= max(shares)
