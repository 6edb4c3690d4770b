"""How long screens wait when the live broker goes away, and once it is back.

Runs the scenario of tests/test_broker_outage.py ``--runs`` times for each broker: two
servers (each its own app, rooms and broker connection, as two processes) share a
session on PostgreSQL, a phone with a socket on each; the broker (a redis-server of the
bench's own, or PostgreSQL's LISTEN/NOTIFY behind a relay that is cut) is stopped, a
phone on the first server proposes, then the broker comes back. Printed, in seconds
from the write's answer to the frame showing it:

- own (away): on the phone of the server that took the write, broker away;
- other (away): on the other server's phone, broker away (the journal read often);
- other (back): the first write once the broker is back;
- other (after): a write a second later, nudged through the broker again.

Needs PostgreSQL (``--postgres``, default COCREATE_TEST_DATABASE_URL; its schema
``public`` is emptied) and redis-server installed. Never part of `make test`:
``python bench/broker_outage.py --runs 5``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
from pathlib import Path

from cocreate.live.hub import BROKER_DOWN_POLL_S

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = ("own_during", "other_during", "other_back", "other_after")
HEADINGS = ("own (away)", "other (away)", "other (back)", "other (after)")


async def run(runs: int) -> None:
    from tests.outages import OwnRedis
    from tests.test_broker_outage import Broker, Delays, RelayedListenNotify, measure

    for name, make in (("Redis", OwnRedis), ("PostgreSQL LISTEN/NOTIFY", RelayedListenNotify)):
        delays: list[Delays] = []
        for n in range(runs):
            broker: Broker = make()
            await broker.start()
            try:
                # Writes fall at different moments of the rooms' quick poll from run to run.
                settle_s = 0.5 + BROKER_DOWN_POLL_S * n / runs
                delays.append((await measure(broker, settle_s))[0])
            finally:
                await broker.stop()
        print(f"\n{name}: {runs} runs, seconds from a write's answer to the frame")
        print(f"{'':>8}" + "".join(f"{heading:>15}" for heading in HEADINGS))
        for label, pick in (("min", min), ("median", statistics.median), ("max", max)):
            figures = [pick(getattr(d, column) for d in delays) for column in COLUMNS]
            print(f"{label:>8}" + "".join(f"{figure:>15.3f}" for figure in figures))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "COCREATE_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
        help="a PostgreSQL database the bench may empty",
    )
    args = parser.parse_args()
    os.environ["COCREATE_TEST_DATABASE_URL"] = args.postgres
    os.environ.setdefault("COCREATE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    sys.path.insert(0, str(ROOT))  # the scenario is the test's
    asyncio.run(run(args.runs))


if __name__ == "__main__":
    main()
