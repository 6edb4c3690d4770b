"""The agenda's rules without a database: what each step allows, moves, the countdown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cocreate.steps import (
    ALLOWED,
    Action,
    Move,
    StepKind,
    Timer,
    TimerState,
    allowed,
    inputs_open,
    target,
)

T0 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


# --- what participants may do ----------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "actions"),
    [
        (StepKind.INFO, set()),
        (StepKind.NEEDS, {Action.NEED}),
        (StepKind.IDEAS, {Action.PROPOSE}),
        (StepKind.DISCUSSION, {Action.COMMENT, Action.REACT}),
        (StepKind.GROUPING, set()),
        (StepKind.VOTE, {Action.VOTE}),
        (StepKind.DECISION, set()),
    ],
)
def test_each_step_allows_only_its_own_actions(kind: StepKind, actions: set[Action]) -> None:
    assert allowed(kind) == actions
    for action in Action:
        assert (action in allowed(kind)) == (action in actions)


def test_every_kind_has_rules() -> None:
    assert set(ALLOWED) == set(StepKind)


def test_without_an_agenda_the_free_wall_is_open_to_all_but_needs() -> None:
    assert allowed(None) == set(Action) - {Action.NEED}


def test_closed_inputs_allow_nothing() -> None:
    for kind in StepKind:
        assert allowed(kind, inputs_open=False) == set()


# --- moving through the agenda ---------------------------------------------------------


def test_start_next_back_end() -> None:
    steps = [10, 20, 30]
    assert target(steps, None, Move.START) == 0
    assert target(steps, 0, Move.NEXT) == 1
    assert target(steps, 1, Move.NEXT) == 2
    assert target(steps, 2, Move.BACK) == 1
    assert target(steps, 1, Move.END) is None
    assert target(steps, 2, Move.START) == 0


@pytest.mark.parametrize(
    ("current", "move", "reason"),
    [
        (2, Move.NEXT, "last step"),
        (0, Move.BACK, "first step"),
        (None, Move.NEXT, "not running"),
        (None, Move.BACK, "not running"),
    ],
)
def test_moves_that_lead_nowhere_are_refused(current: int | None, move: Move, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        target([10, 20, 30], current, move)


def test_an_empty_agenda_cannot_start() -> None:
    with pytest.raises(ValueError, match="empty"):
        target([], None, Move.START)


# --- the countdown ---------------------------------------------------------------------


def test_a_running_timer_counts_down_to_zero_and_stays_there() -> None:
    timer = Timer(total_s=120).start(T0)
    assert timer.state(T0) is TimerState.RUNNING
    assert timer.remaining_ms(at(0)) == 120_000
    assert timer.remaining_ms(at(30.5)) == 89_500
    assert timer.remaining_ms(at(120)) == 0
    assert timer.state(at(120)) is TimerState.DONE
    assert timer.remaining_ms(at(500)) == 0


def test_pause_keeps_the_remaining_time_until_resume() -> None:
    timer = Timer(total_s=60).start(T0).pause(at(20))
    assert timer.state(at(20)) is TimerState.PAUSED
    # However long the pause, nothing is lost.
    assert timer.remaining_ms(at(20)) == 40_000
    assert timer.remaining_ms(at(1_000)) == 40_000
    resumed = timer.resume(at(1_000))
    assert resumed.remaining_ms(at(1_010)) == 30_000
    assert resumed.remaining_ms(at(1_040)) == 0
    # Several pauses add up.
    again = resumed.pause(at(1_015)).resume(at(2_000))
    assert again.remaining_ms(at(2_000)) == 25_000


def test_pause_and_resume_refuse_the_wrong_state() -> None:
    running = Timer(total_s=60).start(T0)
    with pytest.raises(ValueError, match="not paused"):
        running.resume(at(1))
    paused = running.pause(at(1))
    with pytest.raises(ValueError, match="not running"):
        paused.pause(at(2))
    with pytest.raises(ValueError, match="not running"):
        running.pause(at(61))  # already at zero


def test_add_a_minute_while_running_paused_or_done() -> None:
    running = Timer(total_s=60).start(T0).add(at(50), 60)
    assert running.remaining_ms(at(50)) == 70_000
    assert running.state(at(50)) is TimerState.RUNNING
    paused = Timer(total_s=60).start(T0).pause(at(10)).add(at(30), 60)
    assert paused.state(at(30)) is TimerState.PAUSED
    assert paused.remaining_ms(at(99)) == 110_000
    # After zero, the added minute starts now: time past zero is not owed.
    done = Timer(total_s=60).start(T0).add(at(90), 60)
    assert done.state(at(90)) is TimerState.RUNNING
    assert done.remaining_ms(at(90)) == 60_000
    assert done.remaining_ms(at(150)) == 0


def test_a_step_without_timer_gets_one_when_a_minute_is_added() -> None:
    timer = Timer(total_s=None).start(T0)
    assert timer.state(at(5)) is TimerState.NONE
    assert timer.remaining_ms(at(5)) is None
    added = timer.add(at(5), 60)
    assert added.remaining_ms(at(35)) == 30_000


def test_stop_brings_the_timer_to_zero() -> None:
    timer = Timer(total_s=300).start(T0).stop(at(10))
    assert timer.state(at(10)) is TimerState.DONE
    assert timer.remaining_ms(at(10)) == 0
    with pytest.raises(ValueError, match="no timer"):
        Timer(total_s=None).stop(at(10))


def test_inputs_close_at_zero_only_when_the_step_says_so() -> None:
    timer = Timer(total_s=60).start(T0)
    assert inputs_open(timer, auto_close=True, now=at(59))
    assert not inputs_open(timer, auto_close=True, now=at(60))
    assert inputs_open(timer, auto_close=False, now=at(600))
    assert inputs_open(Timer(total_s=None), auto_close=True, now=at(600))
    # A paused timer never reaches zero.
    assert inputs_open(timer.pause(at(30)), auto_close=True, now=at(600))


def test_a_clock_going_backwards_never_gives_more_than_the_total() -> None:
    timer = Timer(total_s=60).start(T0)
    assert timer.remaining_ms(at(-5)) == 60_000
