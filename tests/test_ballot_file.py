"""Reading ballot files: whatever a file holds, it is counted or refused in one line."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cocreate import ballot_file
from cocreate.ballot_file import BallotFileError
from tests import strategies

COLLEGES = {
    "1": {"name": "Salariés", "weight": 70, "electorate": 3},
    "2": {"name": "Usagers", "weight": 30, "electorate": 5},
}
# A valid poll of each method: rules, options and two votes.
POLLS: dict[str, tuple[dict[str, Any], list[Any]]] = {
    "yes_no": ({"majority": "absolute_of_electorate"}, ["for", "abstain"]),
    "consent": ({}, [{"choice": "consent"}, {"choice": "objection", "reason": "Trop cher"}]),
    "approval": ({"seats": 1}, [["A", "B"], []]),
    "dots": ({"points": 5, "cap": 3}, [{"A": 3, "B": 2}, {}]),
    "score": ({"min": 0, "max": 5}, [{"A": 5, "B": 0}, {"C": 2}]),
    "irv": ({}, [["A", "B"], ["C"]]),
    "stv": ({"seats": 2}, [["A", "B"], []]),
    "schulze": ({}, [["C", "A"], ["A"]]),
    "judgment": ({}, [{"A": "bien", "B": "passable", "C": "a_rejeter"}, {}]),
}


def document(method: str, weighed: bool) -> dict[str, Any]:
    rules, votes = POLLS[method]
    options = [] if method in ("yes_no", "consent") else ["A", "B", "C"]
    if weighed and method != "consent":
        rules = {**rules, "colleges": COLLEGES}
        votes = [{"college": str(1 + i % 2), "vote": vote} for i, vote in enumerate(votes)]
    return {
        "format": "cocreate-ballots",
        "version": 1,
        "poll": {
            "question": f"Question ({method})",
            "method": method,
            "rules": rules,
            "secret": True,
            "electorate_size": 8,
            "options": [{"id": o, "label": f"Option {o}"} for o in options],
        },
        "ballots": votes,
    }


def as_file(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True).encode()


@pytest.mark.parametrize("weighed", [False, True])
@pytest.mark.parametrize("method", sorted(POLLS))
def test_a_valid_file_of_every_method_is_counted(method: str, weighed: bool) -> None:
    data = as_file(document(method, weighed))
    checked = ballot_file.read(data)
    assert checked.method == method
    assert ballot_file.count(checked).ballots == 2


json_values = strategies.json_values(
    st.none() | st.booleans() | st.integers(-3, 12) | st.text(max_size=6) | st.just("A"),
    st.text(max_size=6),
    max_items=3,
    max_leaves=6,
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON value, as a path of keys and indices."""
    found = [prefix]
    if isinstance(value, dict):
        for name, item in value.items():
            found += paths(item, (*prefix, name))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, (*prefix, index))
    return found


@settings(max_examples=600, deadline=None)
@given(
    method=st.sampled_from(sorted(POLLS)),
    weighed=st.booleans(),
    data=st.data(),
)
def test_any_change_to_a_file_is_counted_or_refused_in_one_line(
    method: str, weighed: bool, data: st.DataObject
) -> None:
    """Replace any value of a valid file by other JSON, or drop it: the file is either
    counted, or refused with BallotFileError and a one-line message, never another error."""
    changed: Any = copy.deepcopy(document(method, weighed))
    path = data.draw(st.sampled_from(paths(changed)))
    drop = bool(path) and data.draw(st.booleans())
    replacement = None if drop else data.draw(json_values)
    if not path:
        changed = replacement
    else:
        *parents, last = path
        holder = changed
        for step in parents:
            holder = holder[step]
        if drop:
            del holder[last]
        else:
            holder[last] = replacement
    try:
        ballot_file.count(ballot_file.read(as_file(changed)))
    except BallotFileError as error:
        message = str(error)
    else:
        return
    assert message
    assert "\n" not in message
