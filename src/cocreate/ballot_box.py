"""The ballot box: votes on proposals written in batches, each acknowledged after its commit.

A general assembly votes in bursts: hundreds of phones within a second. Written one
by one, each vote is a dozen statements (who votes, the session, its step, the
proposal, the previous vote, the new one, its event); most of that is the same for
every vote of the burst. The box takes every ballot that arrived while the previous
batch was being written and casts them together (``contributions.vote_all``): the
rules read once, the votes and events written with a few statements, one commit. Each
phone still waits for the commit of its own vote, and a refused ballot gets its own
error without refusing the others. One voter alone is written at once, as before.
"""

from __future__ import annotations

from cocreate.batches import WriteBatches
from cocreate.contributions import Ballot, CastVote, vote_all
from cocreate.database import Database
from cocreate.live import LiveHub
from cocreate.models import key


class BallotBox(WriteBatches[Ballot, CastVote]):
    def __init__(self, db: Database, hub: LiveHub) -> None:
        super().__init__(db, vote_all, "votes")
        self._hub = hub

    async def cast(self, ballot: Ballot) -> CastVote:
        """Cast a vote; returns once it is committed, raises the rule that refused it."""
        return await self.submit(ballot)

    async def committed(self, outcomes: list[CastVote]) -> None:
        """Every screen is nudged once per session and batch, to its newest event."""
        latest: dict[int, int] = {}
        for outcome in outcomes:
            if outcome.event is not None:  # else the same choice again: nothing written
                session_id = key(outcome.session)
                latest[session_id] = max(latest.get(session_id, 0), outcome.event.seq)
        for session_id, seq in latest.items():
            self._hub.publish(session_id, seq)
