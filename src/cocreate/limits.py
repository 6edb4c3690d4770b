"""Rate limits: token buckets, per client or per socket, kept in this process.

A bucket holds up to ``burst`` tokens and regains ``per_second`` of them each second;
an attempt spends one. Limits are per process: with several workers each keeps its
own (a client's allowance is then multiplied by their number, at most).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable

Clock = Callable[[], float]


class TokenBucket:
    """One allowance: ``take`` spends a token if there is one."""

    __slots__ = ("_burst", "_clock", "_per_second", "_stamp", "_tokens")

    def __init__(self, *, burst: int, per_second: float, clock: Clock = time.monotonic) -> None:
        self._burst = float(burst)
        self._per_second = per_second
        self._clock = clock
        self._tokens = float(burst)
        self._stamp = clock()

    def _refill(self) -> float:
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._per_second)
        self._stamp = now
        return self._tokens

    def take(self) -> bool:
        if self._refill() < 1.0:
            return False
        self._tokens -= 1.0
        return True

    def give_back(self) -> None:
        """Return a token spent on an attempt that turned out not to count."""
        self._tokens = min(self._burst, self._refill() + 1.0)

    def empty(self) -> bool:
        """No token left now (nothing is spent)."""
        return self._refill() < 1.0

    def full(self) -> bool:
        return self._refill() >= self._burst

    def seconds_until_one(self) -> int:
        """Whole seconds until a token is back (0 if there is one)."""
        missing = 1.0 - self._refill()
        return math.ceil(missing / self._per_second) if missing > 0 else 0


class RateLimit:
    """A bucket per key (a client's address, an address and an e-mail…), made on the
    key's first attempt. Past ``max_keys``, full buckets are forgotten (they are what
    a new bucket would be); should that not be enough, the oldest half too."""

    def __init__(
        self,
        *,
        burst: int,
        per_second: float,
        max_keys: int = 100_000,
        clock: Clock = time.monotonic,
    ) -> None:
        self.burst = burst
        self.per_second = per_second
        self._max_keys = max_keys
        self._clock = clock
        self._buckets: dict[Hashable, TokenBucket] = {}

    def take(self, who: Hashable) -> bool:
        """Spend one attempt of ``who``'s; False if none was left."""
        bucket = self._buckets.get(who)
        if bucket is None:
            if len(self._buckets) >= self._max_keys:
                self._forget_full()
            bucket = self._buckets[who] = TokenBucket(
                burst=self.burst, per_second=self.per_second, clock=self._clock
            )
        return bucket.take()

    def give_back(self, who: Hashable) -> None:
        """Return the attempt ``take`` spent, once it is known not to count."""
        bucket = self._buckets.get(who)
        if bucket is not None:
            bucket.give_back()

    def exhausted(self, who: Hashable) -> bool:
        bucket = self._buckets.get(who)
        return bucket is not None and bucket.empty()

    def retry_after(self, who: Hashable) -> int:
        bucket = self._buckets.get(who)
        return 0 if bucket is None else bucket.seconds_until_one()

    def __len__(self) -> int:
        return len(self._buckets)

    def _forget_full(self) -> None:
        kept = {who: b for who, b in self._buckets.items() if not b.full()}
        if len(kept) >= self._max_keys:  # a flood of new keys: the oldest half goes
            kept = dict(list(kept.items())[len(kept) // 2 :])
        self._buckets = kept
