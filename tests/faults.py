"""Phones voting through a real server while the database fails under them, and what
they were answered: the tests of a database restart and of a full or read-only disk.

A phone votes again and again on one proposal, changing its mind at every vote. Told
503, it taps the same vote again shortly (a person would wait the Retry-After; the
test would not). Every answer is recorded; the tests then check that each was a vote
taken (200) or a clear "try again" (503 with Retry-After), and that the votes stored
are exactly the ones acknowledged.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
from sqlmodel import col, select

from cocreate.models import Choice, Participant, Proposal, Vote
from tests.conftest import Browser, OpenSession

CHOICES = (Choice.FOR, Choice.AGAINST, Choice.ABSTAIN)  # a change of mind every vote
TAP_AGAIN_S = 0.05  # how soon a phone told 503 sends the same vote again
REFUSAL = "The service is briefly unavailable"


@dataclass
class Answers:
    """What the phones were answered, all together."""

    statuses: Counter[int] = field(default_factory=Counter)
    refusals_without_retry_after: int = 0
    unreadable_refusals: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)  # a status other than 200 and 503
    dropped: list[str] = field(default_factory=list)  # no answer at all
    acknowledged = 0
    longest_wait_s = 0.0  # from sending a vote to its answer, whatever the answer
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    def took(self, seconds: float) -> None:
        self.longest_wait_s = max(self.longest_wait_s, seconds)

    async def acknowledge(self) -> None:
        async with self._changed:
            self.acknowledged += 1
            self._changed.notify_all()

    async def reach(self, count: int) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self.acknowledged >= count)

    def check_refusal(self, answer: httpx.Response) -> None:
        if not answer.headers.get("retry-after"):
            self.refusals_without_retry_after += 1
        if REFUSAL not in answer.text or "Traceback" in answer.text:
            self.unreadable_refusals.append(answer.text[:200])


class Phone:
    """A phone voting again and again on one proposal; what it was told is kept."""

    def __init__(self, name: str, browser: Browser, code: str, proposal_id: int) -> None:
        self.name = name
        self.browser = browser
        self.path = f"/s/{code}/proposals/{proposal_id}/vote"
        self.acknowledged: list[str] = []

    async def vote(self, answers: Answers, stop: asyncio.Event) -> None:
        while not stop.is_set():
            choice = CHOICES[len(self.acknowledged) % len(CHOICES)]
            started = time.perf_counter()
            try:
                answer = await self.browser.post(self.path, {"choice": choice})
            except httpx.TransportError as error:
                answers.dropped.append(f"{self.name}: {error!r}")
                await asyncio.sleep(TAP_AGAIN_S)
                continue
            answers.took(time.perf_counter() - started)
            answers.statuses[answer.status_code] += 1
            if answer.status_code == 200:
                pressed = f'value="{choice}" class="vote-{choice}" aria-pressed="true"'
                if pressed not in answer.text:
                    answers.unexpected.append(f"200 without the vote: {answer.text[:200]}")
                self.acknowledged.append(choice)
                await answers.acknowledge()
            elif answer.status_code == 503:
                answers.check_refusal(answer)
                await asyncio.sleep(TAP_AGAIN_S)
            else:
                answers.unexpected.append(f"{answer.status_code}: {answer.text[:300]}")
                await asyncio.sleep(TAP_AGAIN_S)


async def phones_in(open_session: OpenSession, count: int) -> tuple[int, list[Phone]]:
    """A proposal and ``count`` phones in the room, ready to vote on it."""
    author = await open_session.phone("Autrice")
    made = await author.post(f"/s/{open_session.code}/proposals", {"text": "Un jardin partagé"})
    assert made.status_code == 200, made.text
    async with open_session.server.db.session() as db:
        proposal_id = (await db.exec(select(Proposal.id))).one()
    assert proposal_id is not None
    phones = []
    for number in range(count):
        name = f"Phone {number}"
        phones.append(Phone(name, await open_session.phone(name), open_session.code, proposal_id))
    return proposal_id, phones


class Health:
    """``GET /health`` polled every few milliseconds: what it said, and when."""

    POLL_S = 0.02

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.said: list[tuple[float, int]] = []  # (time.perf_counter(), status)
        self.dropped: list[str] = []

    async def watch(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                answer = await self.browser.http.get("/health")
            except httpx.TransportError as error:
                self.dropped.append(repr(error))
            else:
                self.said.append((time.perf_counter(), answer.status_code))
            await asyncio.sleep(self.POLL_S)

    async def healthy_after(self, moment: float) -> None:
        """Wait until /health has said 200 after ``moment``."""
        while not any(at > moment and status == 200 for at, status in self.said):  # noqa: ASYNC110 - polling a server
            await asyncio.sleep(self.POLL_S)

    def unavailable_s(self) -> float:
        """How long /health said 503, in total (the polls' spacing as resolution)."""
        total, since = 0.0, None
        for at, status in self.said:
            if status != 200 and since is None:
                since = at
            elif status == 200 and since is not None:
                total, since = total + at - since, None
        return total


async def stored_votes(
    open_session: OpenSession, proposal_id: int
) -> dict[str, list[tuple[str, bool]]]:
    """Each phone's votes on the proposal as stored, in order: (choice, still current)."""
    async with open_session.server.db.session() as db:
        rows = await db.exec(
            select(Participant.display_name, Vote.choice, Vote.superseded_at)
            .join(Participant, col(Participant.id) == Vote.participant_id)
            .where(Vote.proposal_id == proposal_id)
            .order_by(col(Vote.id))
        )
        stored: dict[str, list[tuple[str, bool]]] = {}
        for name, choice, superseded_at in rows.all():
            stored.setdefault(name, []).append((str(choice), superseded_at is None))
    return stored


def check_nothing_acknowledged_lost(
    phones: list[Phone], stored: dict[str, list[tuple[str, bool]]]
) -> None:
    for phone in phones:
        rows = stored.get(phone.name, [])
        # Every vote the phone was told of is stored, in order, once; nothing else.
        assert [choice for choice, _ in rows] == phone.acknowledged, phone.name
        # One current vote: the last one acknowledged.
        assert [current for _, current in rows] == [False] * (len(rows) - 1) + [True]
