"""Hypothesis strategies that several test modules draw from: rankings and ranked polls,
yes/no choices, approval, dot, score and judgment ballots, positive weights, college
weights, JSON values. What only one module draws stays there."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from hypothesis import strategies as st

from cocreate.tally.base import OptionId
from cocreate.tally.judgment import GRADE_KEYS

YES_NO_CHOICES = ("for", "against", "abstain", "blank")
RANKED_OPTION_IDS: tuple[OptionId, ...] = ("A", "B", "C", "D", "E")
MAX_RANKED_BALLOTS = 15

yes_no_choices = st.sampled_from(list(YES_NO_CHOICES))


def ranked_ballots(options: Sequence[OptionId]) -> st.SearchStrategy[list[OptionId]]:
    """A possibly truncated, possibly empty ranking of the options: an order of them, then
    how many of it are kept. (Drawn as a pair, not with flatmap, which made and checked a
    new strategy for every ballot drawn: a sixth of what the ranked property tests cost.)"""
    return st.tuples(st.permutations(options), st.integers(0, len(options))).map(
        lambda drawn: list(drawn[0][: drawn[1]])
    )


@st.composite
def ranked_polls(
    draw: st.DrawFn,
    option_ids: Sequence[OptionId] = RANKED_OPTION_IDS,
    max_ballots: int = MAX_RANKED_BALLOTS,
) -> tuple[list[OptionId], list[list[OptionId]]]:
    """Some of the options, in any order, and rankings of them."""
    count = draw(st.integers(1, len(option_ids)))
    options = draw(st.permutations(option_ids[:count]))
    ballots = draw(st.lists(ranked_ballots(options), max_size=max_ballots))
    return list(options), ballots


def approval_ballots(options: Sequence[OptionId]) -> st.SearchStrategy[frozenset[OptionId]]:
    """The options one voter approves, none to all."""
    return st.frozensets(st.sampled_from(options))


def dot_ballots(
    options: Sequence[OptionId], *, points: int, cap: int
) -> st.SearchStrategy[dict[OptionId, int]]:
    """Dots on at most points // cap options, at most ``cap`` on each: always within
    ``points``, so always a valid ballot (0 dots on an option included)."""
    return st.dictionaries(st.sampled_from(options), st.integers(0, cap), max_size=points // cap)


def score_ballots(
    options: Sequence[OptionId], *, low: int, high: int
) -> st.SearchStrategy[dict[OptionId, int]]:
    """Scores from ``low`` to ``high`` for some of the options (the others get ``low``)."""
    return st.dictionaries(st.sampled_from(options), st.integers(low, high), max_size=len(options))


def judgment_ballots(options: Sequence[OptionId]) -> st.SearchStrategy[dict[OptionId, str]]:
    """Grades for some of the options (the others are "to reject")."""
    return st.dictionaries(st.sampled_from(options), st.sampled_from(GRADE_KEYS))


@st.composite
def college_weights(draw: st.DrawFn, colleges: Sequence[str]) -> dict[str, int]:
    """Whole percentages adding up to 100, one per college, 0 % included: the college
    weights a SCIC's statutes may set."""
    cuts = sorted(
        draw(st.lists(st.integers(0, 100), min_size=len(colleges) - 1, max_size=len(colleges) - 1))
    )
    bounds = [0, *cuts, 100]
    return {college: bounds[i + 1] - bounds[i] for i, college in enumerate(colleges)}


def positive_fractions(largest: int) -> st.SearchStrategy[Fraction]:
    """Weights n/d with n and d from 1 to `largest`: few values, so that totals tie."""
    return st.builds(Fraction, st.integers(1, largest), st.integers(1, largest))


def json_values(
    scalars: st.SearchStrategy[Any],
    keys: st.SearchStrategy[str],
    *,
    max_items: int,
    max_keys: int | None = None,
    max_leaves: int,
) -> st.SearchStrategy[Any]:
    """Any JSON value: scalars, and lists and objects of JSON values."""
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=max_items) | st.dictionaries(keys, inner, max_size=max_keys)
        ),
        max_leaves=max_leaves,
    )
