"""Consent rounds: the reference descriptions, bad ballots, and properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cocreate.tally.base import InvalidBallot
from cocreate.tally.consent import (
    ConsentBallot,
    ConsentReason,
    ConsentResult,
    Position,
    Statement,
    summarize_consent_rounds,
    tally_consent,
)

PROPERTIES = settings(max_examples=150, deadline=None)

reasons = st.text(alphabet="abc ", min_size=0, max_size=6)
participants = st.one_of(st.none(), st.sampled_from(["ana", "bob", "chloé"]))
consent_ballots = st.builds(
    ConsentBallot, position=st.just("consent"), reason=reasons, participant=participants
)
stand_aside_ballots = st.builds(
    ConsentBallot, position=st.just("stand_aside"), reason=reasons, participant=participants
)
objection_ballots = st.builds(
    ConsentBallot,
    position=st.just("objection"),
    reason=reasons.filter(lambda r: r.strip() != ""),
    participant=participants,
)
any_ballot = st.one_of(consent_ballots, stand_aside_ballots, objection_ballots)


def consent(n: int) -> list[ConsentBallot]:
    return [ConsentBallot(Position.CONSENT) for _ in range(n)]


# --- Reference descriptions (no published figures exist: examples built from the rule) ---


def test_no_objection_means_consent_sociocracy_for_all() -> None:
    """Sociocracy For All, "Consent decision making" (seen at
    https://staging.sociocracyforall.org/?p=562472): "instead of
    asking everyone, 'Do you agree?', we ask, 'Do you object?' If no one objects, there is
    consent." No figures are published; the round below is built from that rule: five
    members, none objects, so the proposal passes; one objection and it does not.
    """
    passed = tally_consent(ballots=consent(5))
    assert passed.passed
    assert passed.reason is ConsentReason.NO_OBJECTION
    assert passed.winners == ("consent",)
    assert passed.ties == ()
    assert (passed.consents, passed.objection_count, passed.stand_aside_count) == (5, 0, 0)

    objection = ConsentBallot(Position.OBJECTION, "we cannot pay it before June", "ana")
    blocked = tally_consent(ballots=[*consent(4), objection])
    assert not blocked.passed
    assert blocked.reason is ConsentReason.OBJECTION
    assert blocked.winners == ()
    assert blocked.objections == (Statement("we cannot pay it before June", "ana"),)


def test_rounds_until_objections_are_resolved_sociocracy_3_0() -> None:
    """Sociocracy 3.0, as summarised by J. Priest, "A Concise Explanation of Sociocracy
    3.0's Consent Decision Making" (LinkedIn Pulse, seen via dhirubhai.net/pulse/concise-
    explanation-sociocracy-30s-consent-decision-making-priest): an objection is "an argument
    relating to a (proposed) agreement or activity that reveals unintended consequences
    you'd rather avoid, or that demonstrates worthwhile ways to improve", and "proposals
    become agreements when all objections have been considered and resolved". No figures
    are published; built from that rule: round 1 meets two objections, the amended proposal
    meets none in round 2 and becomes the agreement.
    """
    first = tally_consent(
        ballots=[
            ConsentBallot(Position.OBJECTION, "the budget line is missing", "bob"),
            ConsentBallot(Position.CONSENT, participant="ana"),
            ConsentBallot(Position.OBJECTION, "no review date", "chloé"),
        ]
    )
    second = tally_consent(
        ballots=[
            ConsentBallot(Position.CONSENT, participant="bob"),
            ConsentBallot(Position.CONSENT, participant="ana"),
            ConsentBallot(Position.CONSENT, participant="chloé"),
        ]
    )
    history = summarize_consent_rounds(rounds=[first, second])
    assert history.passed
    assert history.passed_in_round == 2
    assert history.objections_per_round == (2, 0)
    assert history.total_objections == 2
    assert history.winners == ("consent",)
    assert history.rounds == (first, second)
    assert history.ties == ()

    stuck = summarize_consent_rounds(rounds=[first])
    assert not stuck.passed
    assert stuck.passed_in_round is None
    assert stuck.winners == ()


def test_stand_asides_do_not_block_and_keep_their_reasons() -> None:
    """S. Villines, cohousing-l mailing list, "Re: Risk Management", 14 July 2017
    (http://lists.cohousing.org/archives/cohousing-l/msg42021.html): "those eligible to vote
    can say yes, no, or stand aside. Stand asides are counted with the majority [...] The
    reasons are recorded in the minutes." Built from that rule: two stand-asides, one with
    a reason, and a consent; the proposal passes and the reasons are kept, sorted.
    """
    result = tally_consent(
        ballots=[
            ConsentBallot(Position.STAND_ASIDE, "  not affected by it ", "bob"),
            ConsentBallot(Position.CONSENT, participant="ana"),
            ConsentBallot(Position.STAND_ASIDE, participant="chloé"),
        ]
    )
    assert result.passed
    assert result.stand_aside_count == 2
    assert result.stand_asides == (Statement("", "chloé"), Statement("not affected by it", "bob"))


def test_a_round_with_stand_asides_only_passes() -> None:
    assert tally_consent(ballots=[ConsentBallot(Position.STAND_ASIDE)]).passed


def test_an_unanswered_round_is_no_decision() -> None:
    result = tally_consent(ballots=[])
    assert not result.passed
    assert result.reason is ConsentReason.NO_BALLOTS
    assert result.ballots == 0


# --- Bad ballots and bad histories --------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "   ", "\n\t"])
def test_objection_without_reason_is_rejected(reason: str) -> None:
    with pytest.raises(InvalidBallot, match="objection needs a reason"):
        tally_consent(ballots=[*consent(2), ConsentBallot(Position.OBJECTION, reason)])


@pytest.mark.parametrize("position", ["block", "Consent", "", "yes"])
def test_unknown_position_is_rejected(position: str) -> None:
    with pytest.raises(InvalidBallot, match="unknown consent position"):
        tally_consent(ballots=[ConsentBallot(position, "because")])


def test_ballot_of_the_wrong_type_is_rejected() -> None:
    with pytest.raises(InvalidBallot, match="must be a ConsentBallot"):
        tally_consent(ballots=["consent"])  # type: ignore[list-item]
    with pytest.raises(InvalidBallot, match="reason must be text"):
        tally_consent(ballots=[ConsentBallot(Position.OBJECTION, None)])  # type: ignore[arg-type]


def test_history_needs_rounds_and_stops_at_the_first_pass() -> None:
    passed = tally_consent(ballots=consent(2))
    with pytest.raises(ValueError, match="at least one round"):
        summarize_consent_rounds(rounds=[])
    with pytest.raises(ValueError, match="round 1 passed"):
        summarize_consent_rounds(rounds=[passed, passed])


# --- Properties ---------------------------------------------------------------------------


@PROPERTIES
@given(ballots=st.lists(any_ballot, max_size=30), data=st.data())
def test_ballot_order_never_changes_the_result(
    ballots: list[ConsentBallot], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(ballots))
    assert tally_consent(ballots=ballots) == tally_consent(ballots=shuffled)


@PROPERTIES
@given(ballots=st.lists(any_ballot, max_size=30))
def test_counts_are_preserved(ballots: list[ConsentBallot]) -> None:
    result = tally_consent(ballots=ballots)
    assert result.ballots == len(ballots)
    assert result.objection_count == len(result.objections)
    assert result.stand_aside_count == len(result.stand_asides)
    assert result.consents == sum(b.position == "consent" for b in ballots)
    assert result.passed == (bool(ballots) and result.objection_count == 0)


@PROPERTIES
@given(ballots=st.lists(any_ballot, max_size=30), objection=objection_ballots)
def test_a_single_objection_always_blocks(
    ballots: list[ConsentBallot], objection: ConsentBallot
) -> None:
    result = tally_consent(ballots=[*ballots, objection])
    assert not result.passed
    assert Statement(objection.reason.strip(), objection.participant) in result.objections


@PROPERTIES
@given(rounds=st.lists(st.lists(any_ballot, min_size=1, max_size=8), min_size=1, max_size=6))
def test_history_reports_every_round(rounds: list[list[ConsentBallot]]) -> None:
    results: list[ConsentResult] = []
    for ballots in rounds:
        results.append(tally_consent(ballots=ballots))
        if results[-1].passed:
            break
    history = summarize_consent_rounds(rounds=results)
    assert len(history.rounds) == len(results)
    assert history.total_objections == sum(r.objection_count for r in results)
    assert history.passed == results[-1].passed
