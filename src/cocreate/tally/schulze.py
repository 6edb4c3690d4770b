"""The Schulze method: a Condorcet method that settles majority cycles by strongest paths.

Ballots are ranked ballots as in :mod:`cocreate.tally.ranked` (same validation, through
:func:`cocreate.tally.ranked.check_ranked_ballots`): most preferred first, possibly
truncated. A ballot prefers every option it ranks to every option ranked after it and to
every option it leaves out; it expresses no preference between two options it leaves
out. A blank ballot expresses no preference at all: it is counted and reported only.

The method, as defined by Markus Schulze, "A new monotonic, clone-independent, reversal
symmetric, and Condorcet-consistent single-winner election method", Social Choice and
Welfare 36 (2011), 267-303:

1. ``d[X][Y]`` is the number of ballots that prefer X to Y.
2. The link from X to Y has strength ``d[X][Y]`` when ``d[X][Y] > d[Y][X]`` (X beats Y;
   the "winning votes" measure of a defeat) and does not exist otherwise.
3. ``p[X][Y]`` is the strength of the strongest path from X to Y, a path being as strong
   as its weakest link, and 0 when there is no path. It is computed by the Floyd–Warshall
   style widest-path algorithm.
4. X is *better* than Y when ``p[X][Y] > p[Y][X]``; Schulze proves this relation is
   transitive. The *potential winners* are the options no other option is better than:
   ``p[X][Y] >= p[Y][X]`` for every Y. There is always at least one.
5. The ranking is built in layers: the potential winners first, then the options no
   remaining option is better than, and so on. Options in one layer are tied.

So a Condorcet winner, an option that beats every other one pairwise, is always the only
potential winner.

Ties. When there are several potential winners, the method's own tie-breaking, the
"tie-breaking ranking of the candidates" (TBRC) that Schulze's paper builds from ballots
drawn at random, is deliberately *not* used: it needs a random draw anyway, and a plain
lot among the potential winners is easier to explain to members and to check in a
recount. The tie is broken
by the reproducible lot of :func:`cocreate.tally.base.lot_order`: the potential winner
it draws first wins, and the tie is reported in ``ties`` (``broken_by="lot"``). Ties
further down the ranking are left visible as layers of several options and decide
nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from cocreate.tally.base import OptionId, Tie, check_options, lot_order
from cocreate.tally.ranked import LOT, check_ranked_ballots

__all__ = ["SchulzeResult", "tally_schulze"]


@dataclass(frozen=True, slots=True)
class SchulzeResult:
    """Outcome of a Schulze count: pairwise counts, path strengths, ranking, winner."""

    ballots: int  # ballots counted, blanks included
    blank: int
    d: Mapping[OptionId, Mapping[OptionId, int]]  # d[X][Y]: ballots preferring X to Y, X != Y
    p: Mapping[OptionId, Mapping[OptionId, int]]  # p[X][Y]: strongest path from X to Y
    ranking: tuple[tuple[OptionId, ...], ...]  # layers, best first; poll order within one
    potential_winners: tuple[OptionId, ...]  # the first layer
    winners: tuple[OptionId, ...]  # the one winner, drawn by lot among potential winners
    ties: tuple[Tie, ...]


def tally_schulze(
    *, options: Sequence[OptionId], ballots: Iterable[Sequence[OptionId]], seed: str
) -> SchulzeResult:
    """Count ranked ballots by the Schulze method (rules in the module docstring)."""
    poll_options = check_options(options)
    checked = check_ranked_ballots(options=poll_options, ballots=ballots)
    rankings = Counter(checked)

    d = {x: {y: 0 for y in poll_options if y != x} for x in poll_options}
    for ranking, number in rankings.items():
        ranked = set(ranking)
        unranked = [option for option in poll_options if option not in ranked]
        for place, x in enumerate(ranking):
            for y in ranking[place + 1 :]:
                d[x][y] += number
            for y in unranked:
                d[x][y] += number

    p = {x: {y: d[x][y] if d[x][y] > d[y][x] else 0 for y in d[x]} for x in poll_options}
    for via in poll_options:
        for x in poll_options:
            if x == via:
                continue
            for y in poll_options:
                if y in (x, via):
                    continue
                p[x][y] = max(p[x][y], min(p[x][via], p[via][y]))

    layers: list[tuple[OptionId, ...]] = []
    left = list(poll_options)
    while left:
        layer = tuple(x for x in left if all(p[x][y] >= p[y][x] for y in left if y != x))
        layers.append(layer)
        left = [x for x in left if x not in layer]

    potential = layers[0]
    ties: list[Tie] = []
    if len(potential) == 1:
        winner = potential[0]
    else:
        winner = lot_order(potential, seed)[0]
        ties.append(Tie(options=potential, broken_by=LOT, chosen=(winner,)))

    return SchulzeResult(
        ballots=len(checked),
        blank=rankings[()],
        d=d,
        p=p,
        ranking=tuple(layers),
        potential_winners=potential,
        winners=(winner,),
        ties=tuple(ties),
    )
