"""The Schulze method: a Condorcet method that settles majority cycles by strongest paths.

Ballots are ranked ballots as in :mod:`cocreate.tally.ranked` (same validation, through
:func:`cocreate.tally.ranked.check_ranked_ballots`): most preferred first, possibly
truncated. A ballot prefers every option it ranks to every option ranked after it and to
every option it leaves out; it expresses no preference between two options it leaves
out. A blank ballot expresses no preference at all: it is counted and reported only.

Weights. ``weights``, when given, holds one weight per ballot, in the order of
``ballots``: a non-negative ``int`` or :class:`fractions.Fraction`. A list of another
length, or a weight that is negative, a bool or a float (its binary rounding would make the
count inexact), raises ``ValueError``. A ballot of weight 0 (a college weighted 0 %) is
counted in ``ballots`` and adds nothing to any ``d``. In a SCIC whose members vote in colleges
(see :mod:`cocreate.tally.colleges`), every ballot of college c weighs ``w_c / n_c``, the
college's weight over the number of its ballots, so that each college weighs its set share
whatever its turnout. A ballot that weighs w counts as w ballots would: ``d``, ``p`` and
``weight`` (the total weight of the ballots, blanks included) are sums of weights, exact
Fractions, while ``ballots`` and ``blank`` still count ballots. Weights need not add up to
1 or 100 %: multiplying every weight by one positive factor multiplies every ``d`` and
``p`` by it and changes neither the ranking nor the winner. Without weights (``None``)
every ballot weighs 1 and every count is a plain integer, ``weight`` being the number of
ballots.

The method, as defined by Markus Schulze, "A new monotonic, clone-independent, reversal
symmetric, and Condorcet-consistent single-winner election method", Social Choice and
Welfare 36 (2011), 267-303:

1. ``d[X][Y]`` is the number of ballots that prefer X to Y (with weights: their total
   weight).
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
from fractions import Fraction
from typing import TypeVar

from cocreate.tally.base import OptionId, Tie, check_options, lot_order
from cocreate.tally.ranked import LOT, check_ranked_ballots

__all__ = ["SchulzeResult", "tally_schulze"]

# A count of ballots: a whole number without weights, an exact sum of weights with them.
_Votes = TypeVar("_Votes", int, Fraction)


@dataclass(frozen=True, slots=True)
class SchulzeResult:
    """Outcome of a Schulze count: pairwise counts, path strengths, ranking, winner."""

    ballots: int  # ballots counted, blanks included
    blank: int
    weight: int | Fraction  # total weight of the ballots, blanks included (unweighted: ballots)
    # d[X][Y]: ballots (their total weight) preferring X to Y, X != Y; int when unweighted
    d: Mapping[OptionId, Mapping[OptionId, int | Fraction]]
    p: Mapping[OptionId, Mapping[OptionId, int | Fraction]]  # p[X][Y]: strongest path X to Y
    ranking: tuple[tuple[OptionId, ...], ...]  # layers, best first; poll order within one
    potential_winners: tuple[OptionId, ...]  # the first layer
    winners: tuple[OptionId, ...]  # the one winner, drawn by lot among potential winners
    ties: tuple[Tie, ...]


def tally_schulze(
    *,
    options: Sequence[OptionId],
    ballots: Iterable[Sequence[OptionId]],
    seed: str,
    weights: Sequence[Fraction] | None = None,
) -> SchulzeResult:
    """Count ranked ballots by the Schulze method (rules in the module docstring).

    ``weights``, when given, holds one non-negative weight per ballot, in the order
    of ``ballots``; ``None`` weighs every ballot 1. Bad weights raise ``ValueError``.
    """
    poll_options = check_options(options)
    exact_weights = None if weights is None else _check_weights(weights)
    checked = check_ranked_ballots(options=poll_options, ballots=ballots)
    blank = checked.count(())

    d: Mapping[OptionId, Mapping[OptionId, int | Fraction]]
    p: Mapping[OptionId, Mapping[OptionId, int | Fraction]]
    weight: int | Fraction
    if exact_weights is None:
        numbers = Counter(checked)
        d_numbers = _pairwise(poll_options, numbers, 0)
        d, p, weight = d_numbers, _strongest_paths(poll_options, d_numbers, 0), len(checked)
    else:
        if len(exact_weights) != len(checked):
            raise ValueError(
                f"{len(exact_weights)} weights for {len(checked)} ballots: "
                "there must be exactly one weight per ballot"
            )
        weighed: dict[tuple[OptionId, ...], Fraction] = {}
        for ranking, w in zip(checked, exact_weights, strict=True):
            weighed[ranking] = weighed.get(ranking, Fraction(0)) + w
        d_weights = _pairwise(poll_options, weighed, Fraction(0))
        d, p = d_weights, _strongest_paths(poll_options, d_weights, Fraction(0))
        weight = sum(exact_weights, Fraction(0))

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
        blank=blank,
        weight=weight,
        d=d,
        p=p,
        ranking=tuple(layers),
        potential_winners=potential,
        winners=(winner,),
        ties=tuple(ties),
    )


def _check_weights(weights: Sequence[Fraction]) -> list[Fraction]:
    """The weights as Fractions; ValueError unless each is a non-negative int or Fraction."""
    checked: list[Fraction] = []
    for number, w in enumerate(weights, start=1):
        # bool is an int, but True as a weight is surely a mistake; a float is inexact.
        if isinstance(w, bool) or not isinstance(w, int | Fraction):
            raise ValueError(f"weight {number}: {w!r} is not an int or a Fraction")
        if w < 0:
            raise ValueError(f"weight {number}: {w} is negative")
        checked.append(Fraction(w))
    return checked


def _pairwise(
    poll_options: Sequence[OptionId], counts: Mapping[tuple[OptionId, ...], _Votes], zero: _Votes
) -> dict[OptionId, dict[OptionId, _Votes]]:
    """d[X][Y]: the ballots (number or total weight) ranking X above Y or ranking Y not at all."""
    d = {x: {y: zero for y in poll_options if y != x} for x in poll_options}
    for ranking, number in counts.items():
        ranked = set(ranking)
        unranked = [option for option in poll_options if option not in ranked]
        for place, x in enumerate(ranking):
            for y in ranking[place + 1 :]:
                d[x][y] += number
            for y in unranked:
                d[x][y] += number
    return d


def _strongest_paths(
    poll_options: Sequence[OptionId], d: Mapping[OptionId, Mapping[OptionId, _Votes]], zero: _Votes
) -> dict[OptionId, dict[OptionId, _Votes]]:
    """p[X][Y]: strength of the strongest path from X to Y over the winning links of d."""
    p = {x: {y: d[x][y] if d[x][y] > d[y][x] else zero for y in d[x]} for x in poll_options}
    for via in poll_options:
        for x in poll_options:
            if x == via:
                continue
            for y in poll_options:
                if y in (x, via):
                    continue
                p[x][y] = max(p[x][y], min(p[x][via], p[via][y]))
    return p
