"""A session's agenda in the database: building it, moving through it, its timer, and
the check every participant action goes through.

The rules themselves (what each kind of step allows, timer arithmetic) are in
``steps``; this module applies them to stored rows, one transaction per change, each
with its event so every screen follows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cocreate.errors import Conflict, Invalid, NotFound
from cocreate.events import AgendaChanged, SessionEvent, StepChanged, TimerChanged
from cocreate.figures import collation_key
from cocreate.i18n import N_
from cocreate.journal import record_event, session_change
from cocreate.models import (
    MAX_PROMPT_CHARS,
    MAX_STEP_MINUTES,
    MAX_STEPS,
    MAX_TITLE_CHARS,
    Decision,
    FacilitationScript,
    Facilitator,
    Poll,
    Session,
    Step,
    key,
    utcnow,
    whole_number,
)
from cocreate.projects import session_for
from cocreate.steps import (
    NOT_ON_THE_FREE_WALL,
    REFUSALS,
    TIME_UP,
    Action,
    Move,
    StepKind,
    Timer,
    TimerState,
    allowed,
    inputs_open,
    parse_kind,
    target,
)

TIMER_STEP_S = 60  # "add a minute"


def timer_of(step: Step) -> Timer:
    return Timer(
        total_s=step.timer_total_s if step.started_at else step.duration_s,
        elapsed_ms=step.timer_elapsed_ms,
        running_since=step.timer_running_since,
    )


def _store_timer(step: Step, timer: Timer) -> None:
    step.timer_total_s = timer.total_s
    step.timer_elapsed_ms = timer.elapsed_ms
    step.timer_running_since = timer.running_since


@dataclass(frozen=True)
class StepView:
    """A step as screens show it, at one instant of the server's clock."""

    step: Step
    number: int  # 1-based position in the agenda
    count: int  # steps in the agenda
    now: datetime
    # A poll of this vote step closed after its results were revealed: hidden until the
    # facilitator reveals again (``Stage.hides_poll``).
    closed_since_reveal: bool = False

    @property
    def id(self) -> int:
        return key(self.step)

    @property
    def kind(self) -> StepKind:
        return StepKind(self.step.kind)

    @property
    def timer(self) -> Timer:
        return timer_of(self.step)

    @property
    def remaining_ms(self) -> int | None:
        return self.timer.remaining_ms(self.now)

    @property
    def timer_state(self) -> TimerState:
        return self.timer.state(self.now)

    @property
    def inputs_open(self) -> bool:
        return inputs_open(self.timer, self.step.auto_close, self.now)

    @property
    def actions(self) -> frozenset[Action]:
        return allowed(self.kind, inputs_open=self.inputs_open)

    @property
    def results_shown(self) -> bool:
        return self.step.live_results or self.step.revealed_at is not None


@dataclass(frozen=True)
class Stage:
    """Where a session stands: its current step (None: no agenda running) and what
    participants may do now."""

    current: StepView | None
    has_agenda: bool

    @property
    def actions(self) -> frozenset[Action]:
        return self.current.actions if self.current else allowed(None)

    @property
    def kind(self) -> StepKind | None:
        return self.current.kind if self.current else None

    @property
    def results_shown(self) -> bool:
        """Tallies on phones and projector: live without an agenda or outside a vote step."""
        return self.current is None or self.current.results_shown or self.kind is not StepKind.VOTE

    def may(self, action: Action) -> bool:
        return action in self.actions

    def hides_poll(self, poll_id: int, closed_at: datetime | None) -> bool:
        """A poll's result waits for the reveal: the vote step on it keeps it hidden. A
        reveal shows the polls closed until then; one closed later in the same step waits
        for the next reveal, as the step's setting says."""
        view = self.current
        if view is None or view.kind is not StepKind.VOTE or view.step.live_results:
            return False
        if view.step.poll_id not in (None, poll_id):
            return False
        revealed = view.step.revealed_at
        return revealed is None or (closed_at is not None and closed_at > revealed)

    def hides_decision(self, decision: Decision) -> bool:
        """A decision's outcome and counts wait for the reveal as the result it records
        does: its poll's result, or its proposal's tally (a show of hands)."""
        if decision.poll_id is not None:
            # Written with the poll's closing, in the same transaction.
            return self.hides_poll(decision.poll_id, decision.decided_at)
        return decision.proposal_id is not None and not self.results_shown

    def veiled(self, decisions: Iterable[Decision]) -> frozenset[int]:
        """Ids of the decisions whose result waits for the reveal, on phones, the
        projector and public pages; a correction waits as the entry it corrects."""
        by_id = {key(d): d for d in decisions}

        def origin(decision: Decision) -> Decision:
            followed: set[int] = set()
            while (amended := decision.amends_id) in by_id and amended not in followed:
                followed.add(amended)
                decision = by_id[amended]
            return decision

        return frozenset(pid for pid, d in by_id.items() if self.hides_decision(origin(d)))


async def steps_of(db: AsyncSession, session_id: int) -> list[Step]:
    result = await db.exec(
        select(Step).where(Step.session_id == session_id).order_by(col(Step.position))
    )
    return list(result.all())


async def stage_of(db: AsyncSession, session: Session, now: datetime | None = None) -> Stage:
    now = now or utcnow()
    steps = await steps_of(db, key(session))
    for number, step in enumerate(steps, start=1):
        if step.id == session.current_step_id:
            late = False
            if step.kind == StepKind.VOTE.value and step.revealed_at and not step.live_results:
                query = select(Poll.id).where(
                    Poll.session_id == key(session), col(Poll.closed_at) > step.revealed_at
                )
                if step.poll_id is not None:
                    query = query.where(Poll.id == step.poll_id)
                late = (await db.exec(query.limit(1))).first() is not None
            view = StepView(step, number, len(steps), now, closed_since_reveal=late)
            return Stage(view, has_agenda=True)
    return Stage(None, has_agenda=bool(steps))


async def require(db: AsyncSession, session: Session, action: Action) -> Stage:
    """Refuse a participant's action the current step does not allow (inside a write);
    the stage that allows it otherwise."""
    stage = await stage_of(db, session)
    if stage.may(action):
        return stage
    if stage.current is None:
        raise Conflict(NOT_ON_THE_FREE_WALL)
    if action in allowed(stage.kind):
        raise Conflict(TIME_UP)
    raise Conflict(REFUSALS[action], step=stage.current.step.title)


# --- building the agenda -------------------------------------------------------------


@dataclass(frozen=True)
class StepDraft:
    kind: StepKind
    title: str
    prompt: str
    minutes: int | None
    auto_close: bool
    poll_id: int | None
    live_results: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "title": self.title,
            "prompt": self.prompt,
            "minutes": self.minutes,
            "auto_close": self.auto_close,
            "live_results": self.live_results,
        }


def parse_step(
    *,
    kind: str,
    title: str,
    prompt: str,
    minutes: str,
    auto_close: bool,
    poll_id: str = "",
    live_results: bool = False,
) -> StepDraft:
    """A step as the console's form (or a saved script) describes it, checked."""
    step_kind = parse_kind(kind)
    if step_kind is None:
        raise Invalid(N_("Choose what kind of step this is."))
    title = " ".join(title.split())
    if not title:
        raise Invalid(N_("Give the step a title."))
    if len(title) > MAX_TITLE_CHARS:
        raise Invalid(N_("A step's title has at most %(max)d characters."), max=MAX_TITLE_CHARS)
    prompt = prompt.strip().replace("\r\n", "\n")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise Invalid(N_("A step's text has at most %(max)d characters."), max=MAX_PROMPT_CHARS)
    duration: int | None = None
    if minutes.strip():
        duration = whole_number(minutes.strip())
        if duration is None or not 1 <= duration <= MAX_STEP_MINUTES:
            raise Invalid(
                N_("A step lasts from 1 to %(max)d minutes (or leave it empty: no timer)."),
                max=MAX_STEP_MINUTES,
            )
    poll: int | None = None
    if poll_id.strip():
        if step_kind is not StepKind.VOTE:
            raise Invalid(N_("Only a vote step has a poll."))
        poll = whole_number(poll_id.strip())
        if poll is None:
            raise Invalid(N_("Choose one of the session's polls."))
    return StepDraft(
        kind=step_kind,
        title=title,
        prompt=prompt,
        minutes=duration,
        auto_close=auto_close,
        poll_id=poll,
        live_results=live_results and step_kind is StepKind.VOTE,
    )


def _apply(step: Step, draft: StepDraft) -> None:
    step.kind = draft.kind.value
    step.title = draft.title
    step.prompt = draft.prompt
    step.duration_s = draft.minutes * 60 if draft.minutes else None
    step.auto_close = draft.auto_close
    step.poll_id = draft.poll_id
    step.live_results = draft.live_results


async def _check_poll(db: AsyncSession, session_id: int, poll_id: int | None) -> None:
    if poll_id is None:
        return
    poll = await db.get(Poll, poll_id)
    if poll is None or poll.session_id != session_id:
        raise Invalid(N_("Choose one of the session's polls."))


def _editable(session: Session) -> None:
    if session.closed_at is not None:
        raise Conflict(N_("This session is closed."))


async def add_steps(
    *, db: AsyncSession, facilitator: Facilitator, session_id: int, drafts: list[StepDraft]
) -> SessionEvent:
    """Append steps at the end of the agenda."""
    await session_for(db=db, facilitator=facilitator, session_id=session_id)
    async with session_change(db, session_id) as (session, seq):
        _editable(session)
        steps = await steps_of(db, session_id)
        if len(steps) + len(drafts) > MAX_STEPS:
            raise Invalid(N_("An agenda has at most %(max)d steps."), max=MAX_STEPS)
        position = steps[-1].position + 1 if steps else 1
        for offset, draft in enumerate(drafts):
            await _check_poll(db, session_id, draft.poll_id)
            step = Step(session_id=session_id, position=position + offset, kind="", title="")
            _apply(step, draft)
            db.add(step)
        return await record_event(db, session_id, seq, AgendaChanged, session_id)


async def _step_in(db: AsyncSession, session_id: int, step_id: int) -> Step:
    step = await db.get(Step, step_id, populate_existing=True)
    if step is None or step.session_id != session_id:
        raise NotFound(N_("This step is not on the session's agenda."))
    return step


def _not_started(step: Step) -> None:
    if step.started_at is not None:
        raise Conflict(N_("This step has already started: it can no longer be changed."))


async def edit_step(
    *,
    db: AsyncSession,
    facilitator: Facilitator,
    session_id: int,
    step_id: int,
    draft: StepDraft,
) -> SessionEvent:
    await session_for(db=db, facilitator=facilitator, session_id=session_id)
    async with session_change(db, session_id) as (session, seq):
        _editable(session)
        step = await _step_in(db, session_id, step_id)
        _not_started(step)
        await _check_poll(db, session_id, draft.poll_id)
        _apply(step, draft)
        db.add(step)
        return await record_event(db, session_id, seq, AgendaChanged, session_id)


async def delete_step(
    *, db: AsyncSession, facilitator: Facilitator, session_id: int, step_id: int
) -> SessionEvent:
    await session_for(db=db, facilitator=facilitator, session_id=session_id)
    async with session_change(db, session_id) as (session, seq):
        _editable(session)
        step = await _step_in(db, session_id, step_id)
        _not_started(step)
        await db.delete(step)
        return await record_event(db, session_id, seq, AgendaChanged, session_id)


async def move_step(
    *, db: AsyncSession, facilitator: Facilitator, session_id: int, step_id: int, up: bool
) -> SessionEvent | None:
    """Swap a step with the one above (or below); steps already run stay where they are."""
    await session_for(db=db, facilitator=facilitator, session_id=session_id)
    async with session_change(db, session_id) as (session, seq):
        _editable(session)
        steps = await steps_of(db, session_id)
        index = next((i for i, s in enumerate(steps) if s.id == step_id), None)
        if index is None:
            raise NotFound(N_("This step is not on the session's agenda."))
        other = index - 1 if up else index + 1
        if not 0 <= other < len(steps):
            await db.rollback()
            return None
        a, b = steps[index], steps[other]
        _not_started(a)
        _not_started(b)
        a.position, b.position = b.position, a.position
        db.add_all([a, b])
        return await record_event(db, session_id, seq, AgendaChanged, session_id)


# --- moving through it ---------------------------------------------------------------


async def go(
    *, db: AsyncSession, facilitator: Facilitator, session_id: int, move: Move
) -> SessionEvent:
    """Start the agenda, go to the next step or back, or end it; every screen follows.

    The step left keeps its timer paused; a step entered for the first time starts its
    timer, one entered again resumes where it was."""
    await session_for(db=db, facilitator=facilitator, session_id=session_id)
    async with session_change(db, session_id) as (session, seq):
        if session.opened_at is None:
            raise Conflict(N_("Open the session before starting its agenda."))
        _editable(session)
        steps = await steps_of(db, session_id)
        if not steps:
            raise Conflict(N_("The agenda is empty: add a step first."))
        ids = [key(s) for s in steps]
        current = ids.index(session.current_step_id) if session.current_step_id in ids else None
        try:
            index = target(ids, current, move)
        except ValueError:
            messages = {
                Move.NEXT: N_("This is the last step of the agenda."),
                Move.BACK: N_("This is the first step of the agenda."),
            }
            raise Conflict(messages.get(move, N_("The agenda is not running."))) from None
        enter(db, session, steps, steps[index] if index is not None else None)
        return await record_event(db, session_id, seq, StepChanged, session_id)


def enter(db: AsyncSession, session: Session, steps: Sequence[Step], entered: Step | None) -> None:
    """Make ``entered`` the current step (None: end the agenda), inside a write that
    records ``StepChanged``. The step left keeps its timer paused; a step entered for the
    first time starts its timer, one entered again resumes where it was."""
    now = utcnow()
    for leaving in steps:
        if leaving.id == session.current_step_id and leaving is not entered:
            timer = timer_of(leaving)
            if timer.state(now) is TimerState.RUNNING:
                _store_timer(leaving, timer.pause(now))
                db.add(leaving)
    if entered is not None:
        if entered.started_at is None:
            entered.started_at = now
            _store_timer(entered, Timer(total_s=entered.duration_s).start(now))
        else:
            timer = timer_of(entered)
            if timer.state(now) is TimerState.PAUSED:
                _store_timer(entered, timer.resume(now))
        db.add(entered)
    session.current_step_id = entered.id if entered is not None else None
    # Another step: the projector shows it, not what was chosen in the last one.
    session.presenting, session.presenting_id = None, None
    db.add(session)


class NoVoteStep(Exception):
    """The agenda runs a step that does not show polls, and none of its vote steps
    would show this one."""


def vote_step_for(steps: Sequence[Step], current_id: int | None, poll_id: int) -> Step | None:
    """The step an agenda must move to for a poll opened now to be seen and voted on
    phones and the projector, or None if it is seen where the agenda stands (no agenda
    running, or a vote step). The step naming the poll wins, even over a vote step on
    another poll; else, from a step that does not show polls, a vote step naming no poll:
    the next one after the current step, else the nearest before it. Raises
    ``NoVoteStep`` when the agenda has none."""
    current = next((s for s in steps if s.id == current_id), None)
    if current is None:
        return None  # no agenda running: the free-form wall shows every poll
    votes = [s for s in steps if s.kind == StepKind.VOTE.value]
    if current.kind == StepKind.VOTE.value and current.poll_id in (None, poll_id):
        return None
    own = next((s for s in votes if s.poll_id == poll_id), None)
    if own is not None:
        return own
    if current.kind == StepKind.VOTE.value:
        return None  # a vote step on another poll shows this one too
    free = [s for s in votes if s.poll_id is None]
    after = [s for s in free if s.position > current.position]
    before = [s for s in free if s.position < current.position]
    if after:
        return after[0]
    if before:
        return before[-1]
    raise NoVoteStep


TIMER_OPS = ("pause", "resume", "add", "stop")  # the console's four timer buttons


async def control_timer(
    *, db: AsyncSession, facilitator: Facilitator, session_id: int, op: str
) -> SessionEvent:
    if op not in TIMER_OPS:
        raise Invalid(N_("Unknown timer action."))
    await session_for(db=db, facilitator=facilitator, session_id=session_id)
    async with session_change(db, session_id) as (session, seq):
        _editable(session)
        if session.current_step_id is None:
            raise Conflict(N_("The agenda is not running."))
        step = await _step_in(db, session_id, session.current_step_id)
        now = utcnow()
        timer = timer_of(step)
        try:
            if op == "pause":
                timer = timer.pause(now)
            elif op == "resume":
                timer = timer.resume(now)
            elif op == "add":
                timer = timer.add(now, TIMER_STEP_S)
            else:
                timer = timer.stop(now)
        except ValueError:
            raise Conflict(N_("The timer cannot do that now.")) from None
        _store_timer(step, timer)
        db.add(step)
        return await record_event(db, session_id, seq, TimerChanged, key(step))


async def reveal_results(
    *, db: AsyncSession, facilitator: Facilitator, session_id: int
) -> SessionEvent:
    """Show the current vote step's results on the projector and the phones."""
    await session_for(db=db, facilitator=facilitator, session_id=session_id)
    async with session_change(db, session_id) as (session, seq):
        if session.current_step_id is None:
            raise Conflict(N_("The agenda is not running."))
        step = await _step_in(db, session_id, session.current_step_id)
        if step.kind != StepKind.VOTE.value:
            raise Conflict(N_("Only a vote step has results to reveal."))
        # Again after polls closed since the last reveal: it shows them too.
        step.revealed_at = utcnow()
        db.add(step)
        return await record_event(db, session_id, seq, StepChanged, session_id)


# --- facilitation scripts ------------------------------------------------------------


async def save_script(
    *, db: AsyncSession, facilitator: Facilitator, session_id: int, name: str
) -> FacilitationScript:
    await session_for(db=db, facilitator=facilitator, session_id=session_id)
    name = " ".join(name.split())
    if not name:
        raise Invalid(N_("Name the script to find it again."))
    if len(name) > MAX_TITLE_CHARS:
        raise Invalid(N_("A name has at most %(max)d characters."), max=MAX_TITLE_CHARS)
    steps = await steps_of(db, session_id)
    if not steps:
        raise Conflict(N_("The agenda is empty: add a step first."))
    drafts = [
        StepDraft(
            kind=StepKind(s.kind),
            title=s.title,
            prompt=s.prompt,
            minutes=s.duration_s // 60 if s.duration_s else None,
            auto_close=s.auto_close,
            poll_id=None,  # polls belong to one session
            live_results=s.live_results,
        ).as_json()
        for s in steps
    ]
    script = FacilitationScript(owner_id=key(facilitator), name=name, steps=json.dumps(drafts))
    db.add(script)
    await db.commit()
    await db.refresh(script)
    return script


async def scripts_of(*, db: AsyncSession, facilitator: Facilitator) -> list[FacilitationScript]:
    result = await db.exec(
        select(FacilitationScript).where(FacilitationScript.owner_id == facilitator.id)
    )
    return sorted(result.all(), key=lambda script: collation_key(script.name))


def script_steps(script: FacilitationScript) -> list[StepDraft]:
    return [
        parse_step(
            kind=str(s.get("kind", "")),
            title=str(s.get("title", "")),
            prompt=str(s.get("prompt", "")),
            minutes=str(s.get("minutes") or ""),
            auto_close=bool(s.get("auto_close", True)),
            live_results=bool(s.get("live_results", False)),
        )
        for s in json.loads(script.steps)
    ]


async def apply_script(
    *, db: AsyncSession, facilitator: Facilitator, session_id: int, script_id: int
) -> SessionEvent:
    # Whose session first, as everywhere: a stranger learns nothing about the scripts.
    await session_for(db=db, facilitator=facilitator, session_id=session_id)
    script = await db.get(FacilitationScript, script_id)
    if script is None or script.owner_id != facilitator.id:
        raise NotFound(N_("This facilitation script does not exist."))
    return await add_steps(
        db=db, facilitator=facilitator, session_id=session_id, drafts=script_steps(script)
    )
