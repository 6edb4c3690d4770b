"""The college rules as the app and the recount apply them (``voting.count``): a college
weighted 0 %, a silent college, an empty majority-judgment ballot, and monotonicity."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cocreate import voting
from cocreate.tally.judgment import tally_majority_judgment
from cocreate.tally.ranked import tally_irv, tally_stv
from cocreate.tally.schulze import tally_schulze
from cocreate.voting import MAJORITY_RULES, Method
from tests.strategies import college_weights, judgment_ballots, positive_fractions, ranked_ballots

SEED = "0" * 64
OPTIONS = ["X", "Y", "Z"]

# A vote of each method for X first (or for X alone).
FOR_X: dict[Method, Any] = {
    Method.YES_NO: "for",
    Method.APPROVAL: ["X"],
    Method.DOTS: {"X": 3},
    Method.SCORE: {"X": 5},
    Method.IRV: ["X", "Y", "Z"],
    Method.STV: ["X", "Y", "Z"],
    Method.SCHULZE: ["X", "Y", "Z"],
    Method.JUDGMENT: {"X": "excellent", "Y": "passable", "Z": "a_rejeter"},
}
FOR_Y: dict[Method, Any] = {
    Method.YES_NO: "against",
    Method.APPROVAL: ["Y"],
    Method.DOTS: {"Y": 3},
    Method.SCORE: {"Y": 5},
    Method.IRV: ["Y", "Z", "X"],
    Method.STV: ["Y", "Z", "X"],
    Method.SCHULZE: ["Y", "Z", "X"],
    Method.JUDGMENT: {"Y": "excellent", "Z": "passable", "X": "a_rejeter"},
}
RULES: dict[Method, dict[str, Any]] = {
    Method.YES_NO: {"majority": "simple"},
    Method.APPROVAL: {"seats": 1},
    Method.DOTS: {"points": 5, "cap": 3},
    Method.SCORE: {"min": 0, "max": 5},
    Method.STV: {"seats": 1},
}


def colleges(**weights: tuple[int, int]) -> dict[str, dict[str, Any]]:
    """College rules as a poll freezes them: name -> (weight %, electorate)."""
    return {
        name: {"name": name, "weight": weight, "electorate": electorate}
        for name, (weight, electorate) in weights.items()
    }


def tagged(college: str, votes: Sequence[Any]) -> list[dict[str, Any]]:
    return [{"college": college, "vote": vote} for vote in votes]


def count(
    method: Method, rules: Mapping[str, Any], ballots: Sequence[Any], electorate: int | None = None
) -> voting.Count:
    options = [] if method is Method.YES_NO else OPTIONS
    return voting.count(
        method=method,
        rules=rules,
        options=options,
        ballots=ballots,
        electorate=electorate,
        seed=SEED,
    )


@pytest.mark.parametrize("method", sorted(FOR_X))
def test_a_college_weighted_0_percent_weighs_nothing_in_every_method(method: Method) -> None:
    """The users weigh 100 % and prefer Y; the founders weigh 0 % and, five to one, prefer
    X. Their ballots are counted as ballots but weigh nothing: Y wins (or "for" fails)."""
    rules = {**RULES.get(method, {}), "colleges": colleges(users=(100, 5), founders=(0, 5))}
    ballots = tagged("users", [FOR_Y[method]]) + tagged("founders", [FOR_X[method]] * 5)
    result = count(method, rules, ballots)
    without = count(method, rules, tagged("users", [FOR_Y[method]]))
    assert result.ballots == 6
    assert result.winners == without.winners
    assert result.adopted == without.adopted
    if method is Method.YES_NO:
        assert result.adopted is False
    else:
        assert result.winners == ("Y",)


@pytest.mark.parametrize("method", sorted(FOR_X))
def test_when_only_a_college_weighted_0_percent_voted_nothing_is_decided(method: Method) -> None:
    rules = {**RULES.get(method, {}), "colleges": colleges(users=(100, 5), founders=(0, 5))}
    result = count(method, rules, tagged("founders", [FOR_X[method]] * 2))
    assert result.ballots == 2
    assert result.winners == ()
    assert result.adopted in (None, False)


def test_an_empty_majority_judgment_ballot_weighs_its_share_of_its_college() -> None:
    """An empty ballot grades every option "to reject"; it is one of its college's n_c
    ballots, so the college still weighs exactly its 50 % and every option's grades 100 %.
    Each of A's two ballots weighs 1/4, B's one ballot 1/2: X has "excellent" from 1/4 of
    the assembly, Y from 1/2; both have "to reject" as majority grade, and the larger share
    above it (p = 1/2 against 1/4) ranks Y first."""
    rules = {"colleges": colleges(A=(50, 2), B=(50, 1))}
    ballots = tagged("A", [{"X": "excellent"}, {}]) + tagged("B", [{"Y": "excellent"}])
    result = count(Method.JUDGMENT, rules, ballots)
    for option in OPTIONS:
        assert sum(result.details["profiles"][option]["counts"]) == pytest.approx(1.0)
    assert result.details["profiles"]["X"]["counts"][0] == 0.25
    assert result.details["profiles"]["Y"]["counts"][0] == 0.5
    assert result.winners == ("Y",)


def test_a_majority_of_the_electorate_counts_a_silent_college_as_not_for() -> None:
    """The case of the issue: two colleges of 10 members, 50 % each. 6 "for" in the first
    college alone reach 30 % of the weighted electorate, not more than half; one more "for"
    in the second college brings 35 %: both rejected, and the extra "for" never hurts."""
    rules = {"majority": "absolute_of_electorate", "colleges": colleges(a=(50, 10), b=(50, 10))}
    six = count(Method.YES_NO, rules, tagged("a", ["for"] * 6))
    seven = count(Method.YES_NO, rules, tagged("a", ["for"] * 6) + tagged("b", ["for"]))
    assert six.details["weighted_for_share"] == "3/10"
    assert six.adopted is False
    assert seven.details["weighted_for_share"] == "7/20"
    assert seven.adopted is False
    everyone = count(Method.YES_NO, rules, tagged("a", ["for"] * 6) + tagged("b", ["for"] * 5))
    assert everyone.adopted is True  # 30 % + 25 % of the electorate


# --- adding a "for" ballot never turns an adopted motion into a rejected one -------------

# "for" drawn more often than the others, so that adopted motions are common.
CHOICES = st.sampled_from(("for", "for", "for", "against", "abstain", "blank"))


@st.composite
def motions(draw: st.DrawFn) -> tuple[dict[str, Any], list[Any], int | None, str]:
    """A yes/no poll's rules and ballots, with or without colleges (silent ones, 0 % ones),
    and the college (or "") where one more "for" ballot goes: its electorate has room."""
    rules: dict[str, Any] = {
        "majority": draw(st.sampled_from(MAJORITY_RULES)),
        "abstentions_expressed": draw(st.booleans()),
        "blank_expressed": draw(st.booleans()),
    }
    if not draw(st.booleans()):
        ballots = draw(st.lists(CHOICES, max_size=12))
        return rules, ballots, len(ballots) + 1 + draw(st.integers(0, 3)), ""
    names = ["c0", "c1", "c2"][: draw(st.integers(1, 3))]
    target = draw(st.sampled_from(names))
    weights = draw(college_weights(names))  # zeros included
    ballots = []
    frozen = {}
    for name in names:
        # [] is a silent college: the target college is silent half of the time.
        silent = name == target and draw(st.booleans())
        votes = [] if silent else draw(st.lists(CHOICES, max_size=6))
        ballots += tagged(name, votes)
        room = (1 if name == target else 0) + draw(st.integers(0, 3))
        frozen[name] = {"name": name, "weight": weights[name], "electorate": len(votes) + room}
    rules["colleges"] = frozen
    return rules, ballots, None, target


ISSUE_CASE = (  # 6 "for" in one college of 10 (50 %), the other college of 10 silent
    {"majority": "absolute_of_electorate", "colleges": colleges(a=(50, 10), b=(50, 10))},
    tagged("a", ["for"] * 6),
    None,
    "b",
)


@settings(max_examples=1500, deadline=None)
@given(motion=motions())
@example(motion=ISSUE_CASE)
def test_one_more_for_ballot_never_turns_adopted_into_rejected(
    motion: tuple[dict[str, Any], list[Any], int | None, str],
) -> None:
    rules, ballots, electorate, college = motion
    extra: Any = {"college": college, "vote": "for"} if college else "for"
    before = count(Method.YES_NO, rules, ballots, electorate)
    after = count(Method.YES_NO, rules, [*ballots, extra], electorate)
    assert not (before.adopted and not after.adopted), (before.details, after.details)


# --- a ballot of weight 0 changes nothing but the number of ballots ----------------------

rankings = ranked_ballots(OPTIONS)
positive = positive_fractions(9)


@settings(max_examples=150, deadline=None)
@given(
    kept=st.lists(st.tuples(rankings, positive), min_size=1, max_size=8),
    weightless=st.lists(rankings, min_size=1, max_size=4),
)
def test_ballots_of_weight_0_change_no_ranked_count(
    kept: list[tuple[list[str], Fraction]], weightless: list[list[str]]
) -> None:
    ballots = [ranking for ranking, _ in kept]
    weights = [weight for _, weight in kept]
    more = ballots + weightless
    zeros = weights + [Fraction(0)] * len(weightless)
    irv, irv0 = (
        tally_irv(options=OPTIONS, ballots=b, seed=SEED, weights=w)
        for b, w in ((ballots, weights), (more, zeros))
    )
    assert (irv0.rounds, irv0.winners, irv0.ties) == (irv.rounds, irv.winners, irv.ties)
    assert irv0.ballots == irv.ballots + len(weightless)
    for seats in (1, 2):
        stv, stv0 = (
            tally_stv(options=OPTIONS, ballots=b, seats=seats, seed=SEED, weights=w)
            for b, w in ((ballots, weights), (more, zeros))
        )
        assert (stv0.quota, stv0.exact_quota, stv0.winners, stv0.ties) == (
            stv.quota,
            stv.exact_quota,
            stv.winners,
            stv.ties,
        )
        assert [s.votes for s in stv0.stages] == [s.votes for s in stv.stages]
    schulze, schulze0 = (
        tally_schulze(options=OPTIONS, ballots=b, seed=SEED, weights=w)
        for b, w in ((ballots, weights), (more, zeros))
    )
    assert (schulze0.d, schulze0.winners, schulze0.ranking) == (
        schulze.d,
        schulze.winners,
        schulze.ranking,
    )


@settings(max_examples=150, deadline=None)
@given(
    kept=st.lists(st.tuples(judgment_ballots(OPTIONS), positive), min_size=1, max_size=8),
    weightless=st.lists(judgment_ballots(OPTIONS), max_size=4),
)
def test_ballots_of_weight_0_change_no_majority_judgment(
    kept: list[tuple[dict[str, str], Fraction]], weightless: list[dict[str, str]]
) -> None:
    ballots = [ballot for ballot, _ in kept]
    weights = [weight for _, weight in kept]
    plain = tally_majority_judgment(options=OPTIONS, ballots=ballots, seed=SEED, weights=weights)
    more = tally_majority_judgment(
        options=OPTIONS,
        ballots=ballots + weightless,
        seed=SEED,
        weights=weights + [Fraction(0)] * len(weightless),
    )
    assert (more.ranking, more.profiles) == (plain.ranking, plain.profiles)
    assert more.ballot_count == plain.ballot_count + len(weightless)


@pytest.mark.parametrize("method", [Method.DOTS, Method.SCORE])
def test_dot_and_score_voting_elect_one_option_with_colleges_as_without(method: Method) -> None:
    rules = {**RULES[method], "seats": 2, "colleges": colleges(users=(100, 5))}
    votes = [FOR_X[method], FOR_Y[method], FOR_X[method]]
    assert count(method, rules, tagged("users", votes)).winners == ("X",)
