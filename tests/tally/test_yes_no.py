"""Yes/no votes: published worked examples, the majority rules' edges, and properties."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cocreate.tally.base import InvalidBallot, Tie
from cocreate.tally.yes_no import (
    MajorityRule,
    Reason,
    ThresholdBase,
    YesNoCounts,
    tally_yes_no,
    tally_yes_no_counts,
)
from tests.strategies import yes_no_choices

PROPERTIES = settings(max_examples=150, deadline=None)

choices = yes_no_choices
rules = st.sampled_from(list(MajorityRule))


def ballots(for_: int = 0, against: int = 0, abstain: int = 0, blank: int = 0) -> list[str]:
    return ["for"] * for_ + ["against"] * against + ["abstain"] * abstain + ["blank"] * blank


# --- Published worked examples ------------------------------------------------------------


def test_french_presidential_2017_second_round_suffrages_exprimes() -> None:
    """Conseil constitutionnel, décision n° 2017-171 PDR of 10 May 2017 (proclamation).

    Figures as reported by lextimes.fr, "Présidentielle 2017 : Emmanuel Macron proclamé élu
    par le Conseil constitutionnel" and europe1.fr (same day): 47 568 693 registered
    electors, 35 467 327 voters, 3 021 499 blank ballots, 1 064 225 void ballots, hence
    31 381 603 votes expressed ("88,48 % des votants et 65,97 % des inscrits"); Emmanuel
    Macron 20 743 128 (66,10 %), Marine Le Pen 10 638 475 (33,90 %), elected for "ayant
    recueilli la majorité absolue des suffrages exprimés". Blank ballots are not expressed
    (Code électoral art. L65, loi n° 2014-172).

    Modelled as a motion: Macron = for, Le Pen = against. Void ballots have no counterpart
    here (the engine refuses an invalid ballot instead of counting it void); they were not
    expressed either, so leaving them out changes no published share.
    """
    counts = YesNoCounts(for_votes=20_743_128, against=10_638_475, blanks=3_021_499)
    result = tally_yes_no_counts(counts=counts, rule=MajorityRule.ABSOLUTE_OF_EXPRESSED)

    assert result.expressed == 31_381_603
    assert result.adopted
    assert result.reason is Reason.ADOPTED
    assert result.winners == ("for",)
    assert result.threshold == Fraction(1, 2)
    assert result.threshold_base is ThresholdBase.EXPRESSED
    assert result.for_needed == 15_690_802
    # The published percentages, to two decimals.
    assert round(Fraction(counts.for_votes, result.expressed) * 100, 2) == Fraction("66.10")
    assert round(Fraction(counts.against, result.expressed) * 100, 2) == Fraction("33.90")
    assert round(Fraction(result.expressed, 47_568_693) * 100, 2) == Fraction("65.97")
    # Blank + void + expressed = voters, as published.
    assert result.expressed + counts.blanks + 1_064_225 == 35_467_327

    # Not published, derived from the same figures: 66.10 % is a majority but under two
    # thirds, and fewer than half of the registered electors.
    two_thirds = tally_yes_no_counts(counts=counts, rule=MajorityRule.TWO_THIRDS)
    assert not two_thirds.adopted
    assert two_thirds.reason is Reason.THRESHOLD_NOT_MET
    of_electorate = tally_yes_no_counts(
        counts=counts, rule=MajorityRule.ABSOLUTE_OF_ELECTORATE, electorate=47_568_693
    )
    assert of_electorate.for_needed == 23_784_347
    assert not of_electorate.adopted


def test_majority_is_more_than_half_of_votes_cast_sylvester() -> None:
    """N. Sylvester, "The Complete Idiot's Guide to Robert's Rules" (Alpha, 2004),
    "Meaning of Vote" (https://www.oreilly.com/library/view/the-complete-idiots/
    9781615640348/h1_id_57.xhtml): "if 20 votes are cast, you need at least 11 votes. If
    19 votes are cast, you need at least 10 votes. [...] a 13 to 13 vote also fails."
    Rule: RONR (11th ed.) §44, majority = more than half of the votes cast.
    """
    twenty = tally_yes_no(ballots=ballots(for_=11, against=9), rule=MajorityRule.SIMPLE)
    assert twenty.for_needed == 11
    assert twenty.adopted
    nineteen = tally_yes_no(ballots=ballots(for_=10, against=9), rule=MajorityRule.SIMPLE)
    assert nineteen.for_needed == 10
    assert nineteen.adopted

    tie = tally_yes_no(ballots=ballots(for_=13, against=13), rule=MajorityRule.SIMPLE)
    assert not tie.adopted
    assert tie.reason is Reason.TIE
    assert tie.winners == ()
    assert tie.ties == (
        Tie(options=("against", "for"), broken_by="tie_rejects", chosen=("against",)),
    )


def test_majority_of_1000_votes_is_501_not_510() -> None:
    """California State Association of Parliamentarians, "Survival Tips on Robert's Rules
    of Order: Counting Votes; Voting Results" (http://roberts-rules.com/parl17.htm): "A
    Majority is 'more than half' of the votes cast [...] excluding blank votes and
    abstentions. Majority does not mean 51%. In a situation with 1000 votes, Majority =
    501 votes; but 51% = 510 votes."
    """
    adopted = tally_yes_no(
        ballots=ballots(for_=501, against=499, abstain=40, blank=7),
        rule=MajorityRule.ABSOLUTE_OF_EXPRESSED,
    )
    assert adopted.expressed == 1000  # blank ballots and abstentions excluded
    assert adopted.for_needed == 501
    assert adopted.adopted
    half = tally_yes_no(
        ballots=ballots(for_=500, against=500), rule=MajorityRule.ABSOLUTE_OF_EXPRESSED
    )
    assert not half.adopted
    assert half.reason is Reason.THRESHOLD_NOT_MET


def test_two_thirds_is_at_least_twice_as_many_for_as_against() -> None:
    """Official RONR Q&A forum, "Calculation of two thirds vote" (A. Kapur, July 2020,
    https://robertsrules.forumflash.com/topic/35640-calculation-of-two-thirds-vote/):
    "22 Y and 12 N for a total of 34 votes. 22 is not at least 2x12 so it is not 2/3. If
    the vote is 23 Y and 11 N [...] 2/3 is obtained [...] if there were 36 votes and the
    breakdown was 24Y and 12N, then the 2/3 threshold is achieved, because 24 = 2 x 12."
    Rule: RONR (11th ed.) §44, two-thirds vote = at least two thirds of the votes cast.
    """
    rule = MajorityRule.TWO_THIRDS
    assert not tally_yes_no(ballots=ballots(for_=22, against=12), rule=rule).adopted
    assert tally_yes_no(ballots=ballots(for_=23, against=11), rule=rule).adopted
    exactly = tally_yes_no(ballots=ballots(for_=24, against=12), rule=rule)
    assert exactly.adopted
    assert Fraction(24, exactly.expressed) == exactly.threshold == Fraction(2, 3)
    assert not exactly.strict
    assert exactly.for_needed == 24


def test_majority_vote_versus_majority_of_members_present() -> None:
    """Official RONR Q&A forum, "Majority vote vs majority vote present"
    (http://robertsrules.forumflash.com/index.php?/topic/29307-majority-vote-vs-majority-
    vote-present/): "If 20 members are present, but only 10 of them vote, it would take six
    votes to adopt something. [...] If 20 [members] are present, it requires 11 yes votes to
    pass something regardless of how many vote no and abstain."
    Rule: RONR (11th ed.) §44, "majority of the members present"; the members present are
    the ``electorate`` here.
    """
    cast = ballots(for_=6, against=4, abstain=10)
    majority = tally_yes_no(ballots=cast, rule=MajorityRule.SIMPLE)
    assert majority.adopted
    assert majority.for_needed == 6
    present = tally_yes_no(ballots=cast, rule=MajorityRule.ABSOLUTE_OF_ELECTORATE, electorate=20)
    assert present.for_needed == 11
    assert present.base_count == 20
    assert not present.adopted
    assert tally_yes_no(
        ballots=ballots(for_=11, abstain=9), rule=MajorityRule.ABSOLUTE_OF_ELECTORATE, electorate=20
    ).adopted


# --- Rules and options --------------------------------------------------------------------


def test_abstentions_and_blanks_count_only_when_statutes_say_so() -> None:
    cast = ballots(for_=6, against=4, abstain=2, blank=1)
    default = tally_yes_no(ballots=cast, rule=MajorityRule.ABSOLUTE_OF_EXPRESSED)
    assert default.expressed == 10
    assert default.adopted
    with_abstentions = tally_yes_no(
        ballots=cast, rule=MajorityRule.ABSOLUTE_OF_EXPRESSED, abstentions_count_as_expressed=True
    )
    assert with_abstentions.expressed == 12
    assert with_abstentions.for_needed == 7
    assert not with_abstentions.adopted
    with_both = tally_yes_no(
        ballots=cast,
        rule=MajorityRule.ABSOLUTE_OF_EXPRESSED,
        abstentions_count_as_expressed=True,
        blank_count_as_expressed=True,
    )
    assert with_both.expressed == 13
    # SIMPLE compares for with against only, whatever counts as expressed.
    simple = tally_yes_no(
        ballots=cast,
        rule=MajorityRule.SIMPLE,
        abstentions_count_as_expressed=True,
        blank_count_as_expressed=True,
    )
    assert simple.adopted
    assert simple.threshold_base is ThresholdBase.FOR_AND_AGAINST


def test_unanimity_needs_one_for_and_no_against() -> None:
    rule = MajorityRule.UNANIMITY
    assert tally_yes_no(ballots=ballots(for_=7, abstain=3, blank=1), rule=rule).adopted
    broken = tally_yes_no(ballots=ballots(for_=7, against=1), rule=rule)
    assert not broken.adopted
    assert broken.reason is Reason.UNANIMITY_BROKEN
    nobody = tally_yes_no(ballots=ballots(abstain=5), rule=rule)
    assert not nobody.adopted
    assert nobody.reason is Reason.NO_VOTES_EXPRESSED
    assert nobody.for_needed == 1


def test_no_ballot_at_all_rejects() -> None:
    for rule in MajorityRule:
        result = tally_yes_no(ballots=[], rule=rule, electorate=3)
        assert not result.adopted
        assert result.counts.total == 0
        assert result.ties == ()


def test_electorate_is_required_and_checked() -> None:
    with pytest.raises(ValueError, match="electorate size"):
        tally_yes_no(ballots=["for"], rule=MajorityRule.ABSOLUTE_OF_ELECTORATE)
    with pytest.raises(ValueError, match="smaller than the number of ballots"):
        tally_yes_no(ballots=ballots(for_=3), rule=MajorityRule.SIMPLE, electorate=2)
    with pytest.raises(ValueError, match="non-negative"):
        tally_yes_no_counts(counts=YesNoCounts(for_votes=-1), rule=MajorityRule.SIMPLE)


@pytest.mark.parametrize("bad", ["yes", "FOR", "", None, 1])
def test_unknown_ballot_is_rejected(bad: object) -> None:
    with pytest.raises(InvalidBallot, match="unknown yes/no ballot"):
        tally_yes_no(ballots=["for", bad], rule=MajorityRule.SIMPLE)  # type: ignore[list-item]


def test_unhashable_ballot_is_rejected() -> None:
    with pytest.raises(InvalidBallot, match="must be a string"):
        tally_yes_no(ballots=["for", ["for"]], rule=MajorityRule.SIMPLE)  # type: ignore[list-item]


# --- Properties ---------------------------------------------------------------------------


@PROPERTIES
@given(cast=st.lists(choices, max_size=60), rule=rules, data=st.data())
def test_ballot_order_never_changes_the_result(
    cast: list[str], rule: MajorityRule, data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(cast))
    electorate = len(cast) + 5
    assert tally_yes_no(ballots=cast, rule=rule, electorate=electorate) == tally_yes_no(
        ballots=shuffled, rule=rule, electorate=electorate
    )


@PROPERTIES
@given(cast=st.lists(choices, max_size=60), rule=rules)
def test_counts_are_preserved(cast: list[str], rule: MajorityRule) -> None:
    result = tally_yes_no(ballots=cast, rule=rule, electorate=len(cast))
    assert result.counts.total == len(cast)
    assert result.counts.for_votes == cast.count("for")
    assert result.counts.against == cast.count("against")
    assert result.counts.abstentions == cast.count("abstain")
    assert result.counts.blanks == cast.count("blank")


@PROPERTIES
@given(
    cast=st.lists(choices, max_size=60),
    rule=rules,
    with_abstentions=st.booleans(),
    with_blanks=st.booleans(),
)
def test_one_more_for_never_rejects_an_adopted_motion(
    cast: list[str], rule: MajorityRule, with_abstentions: bool, with_blanks: bool
) -> None:
    def tally(bs: list[str]) -> bool:
        return tally_yes_no(
            ballots=bs,
            rule=rule,
            electorate=len(cast) + 1,
            abstentions_count_as_expressed=with_abstentions,
            blank_count_as_expressed=with_blanks,
        ).adopted

    if tally(cast):
        assert tally([*cast, "for"])


@PROPERTIES
@given(k=st.integers(min_value=1, max_value=500), others=st.integers(0, 50))
def test_two_thirds_exactly_adopts_and_just_under_rejects(k: int, others: int) -> None:
    rule = MajorityRule.TWO_THIRDS
    exactly = tally_yes_no(ballots=ballots(for_=2 * k, against=k, abstain=others), rule=rule)
    assert exactly.adopted
    assert Fraction(exactly.counts.for_votes, exactly.expressed) == Fraction(2, 3)
    under = tally_yes_no(ballots=ballots(for_=2 * k - 1, against=k, blank=others), rule=rule)
    assert not under.adopted
    assert under.reason is Reason.THRESHOLD_NOT_MET


@PROPERTIES
@given(
    cast=st.lists(st.sampled_from(["for", "abstain", "blank"]), max_size=60).filter(
        lambda bs: "for" in bs
    ),
    data=st.data(),
)
def test_a_single_against_breaks_unanimity(cast: list[str], data: st.DataObject) -> None:
    rule = MajorityRule.UNANIMITY
    assert tally_yes_no(ballots=cast, rule=rule).adopted
    at = data.draw(st.integers(0, len(cast)))
    broken = tally_yes_no(ballots=[*cast[:at], "against", *cast[at:]], rule=rule)
    assert not broken.adopted
    assert broken.reason is Reason.UNANIMITY_BROKEN


@PROPERTIES
@given(cast=st.lists(choices, max_size=60), rule=rules)
def test_winners_follow_adoption(cast: list[str], rule: MajorityRule) -> None:
    result = tally_yes_no(ballots=cast, rule=rule, electorate=len(cast))
    assert result.winners == (("for",) if result.adopted else ())
    assert result.adopted == (result.reason is Reason.ADOPTED)
    # A tie is reported exactly when SIMPLE meets for = against with votes expressed.
    tied = rule is MajorityRule.SIMPLE and result.counts.for_votes == result.counts.against > 0
    assert bool(result.ties) == tied
