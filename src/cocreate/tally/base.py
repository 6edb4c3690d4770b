"""What every tally method shares: option ids, the documented tie rule, result basics.

Ties. Each method first applies its own published tie-breaking rule (documented in its
module). When options are still tied after it, the tie is broken **by lot**, drawn
reproducibly: options are ordered by ``SHA-256(seed + "\\x00" + option_id)``, smallest
first. The poll passes as ``seed`` the SHA-256 of its exported ballot file, so a recount
draws the same lot. Results always report a tie that had to be broken, and how.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

OptionId = str


class InvalidBallot(ValueError):
    """A ballot that the method cannot count (unknown option, too many points…)."""


@dataclass(frozen=True, slots=True)
class Tie:
    """Options that the method's own rules could not separate, and how it was settled."""

    options: tuple[OptionId, ...]
    broken_by: str  # "lot", or the name of the method's own rule that settled it
    chosen: tuple[OptionId, ...]  # the option(s) the tie-break picked


def lot_order(options: Iterable[OptionId], seed: str) -> list[OptionId]:
    """The reproducible lot: options sorted by SHA-256 of seed and option id."""
    return sorted(options, key=lambda o: hashlib.sha256(f"{seed}\x00{o}".encode()).hexdigest())


def check_options(options: Sequence[OptionId]) -> tuple[OptionId, ...]:
    if not options:
        raise ValueError("a poll needs at least one option")
    if len(set(options)) != len(options):
        raise ValueError("option ids must be unique")
    return tuple(options)
