"""The decisions register, a decision's page and the minutes tell each poll's result in
its method's own terms: no "for · against · abstain" for methods without for and against."""

from __future__ import annotations

import re

import pytest

from cocreate import polls, register
from tests.conftest import OpenSession
from tests.test_polls import BALLOTS_BY_METHOD, act, create, vote

# What each method's decision says, the options being Alpha, Beta and Gamma and the
# ballots those of ``BALLOTS_BY_METHOD``.
EXPECTED: dict[str, list[str]] = {
    "yes_no": ["1 for, 0 against, 0 abstaining"],
    "consent": ["1 consent, 1 objection, 0 standing aside", "Objections:", "Trop cher pour nous"],
    "approval": [
        "Winners: Beta and Alpha",
        "Beta — 2 approvals",
        "Alpha — 1 approval",
        "Gamma — 0 approvals",
    ],
    "dots": ["Winner: Alpha", "Alpha — 3 points", "Gamma — 2 points", "Beta — 1 point"],
    "score": ["Winner: Beta", "Beta — average 3.00 out of 5", "Gamma — average 0.50 out of 5"],
    "irv": ["Winner:", "Round 1:", "eliminated:"],
    "stv": ["Elected:", "Stage 1:", "elected: ", "Quota:"],
    # Alpha and Gamma each beat Beta, and tie: the lot chooses.
    "schulze": [
        "Winner:",
        "Alpha — beats 1 other option head to head",
        "settled by a reproducible draw",
        "Gamma — beats 1 other option head to head",
        "Beta — beats 0 other options head to head",
    ],
    "judgment": ["Winner: Alpha", "Alpha — majority grade: Good", "Beta — majority grade:"],
}


def text_of(html: str) -> str:
    """A page's words, tags and runs of spaces taken out."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace(" ,", ",")


def section(html: str, start: str, end: str) -> str:
    begin = html.index(start)
    return html[begin : html.index(end, begin)]


@pytest.mark.parametrize("method", sorted(BALLOTS_BY_METHOD))
async def test_each_decision_tells_its_result_in_its_methods_terms(
    open_session: OpenSession, method: str
) -> None:
    extra, ballots = BALLOTS_BY_METHOD[method]
    phones = [await open_session.phone("Une"), await open_session.phone("Deux")]
    poll_id = await create(
        open_session,
        question=f"Méthode {method}",
        method=method,
        options="Alpha\nBeta\nGamma",
        **extra,
    )
    await act(open_session, poll_id, "open")
    async with open_session.server.db.session() as db:
        ids = dict(
            zip("ABC", [str(o.id) for o in await polls.poll_options(db, poll_id)], strict=False)
        )

    def fill(value: str | list[str]) -> str | list[str]:
        return [ids.get(v, v) for v in value] if isinstance(value, list) else ids.get(value, value)

    def field_name(name: str) -> str:
        stem, _, letter = name.rpartition("-")
        return f"{stem}-{ids[letter]}" if stem and letter in ids else name

    for phone, ballot in zip(phones, ballots, strict=True):
        await vote(
            phone, open_session, poll_id, {field_name(k): fill(v) for k, v in ballot.items()}
        )
    await act(open_session, poll_id, "close")

    facilitator = open_session.facilitator
    register = (await facilitator.get(f"/projects/{open_session.project_id}/decisions")).text
    row = section(register, '<tr id="decision-', "</tr>")
    decision_id = int(re.search(r'id="decision-(\d+)"', row).group(1))  # type: ignore[union-attr]
    page = (
        await facilitator.get(f"/projects/{open_session.project_id}/decisions/{decision_id}")
    ).text
    minutes = (await facilitator.get(f"/sessions/{open_session.session_id}/minutes")).text
    shown = {
        "register": text_of(row),
        "decision page": text_of(section(page, "<dl", "</dl>")),
        "minutes": text_of(section(minutes, f'id="decision-{decision_id}"', "minutes-meta hash")),
    }
    for where, words in shown.items():
        for expected in EXPECTED[method]:
            assert expected in words, (where, expected, words)
        if method != "yes_no":
            assert "for, 0 against" not in words, where
            assert "0 · 0 · 0" not in words, where


def test_weighted_instant_runoff_rounds_read_as_shares_and_stv_stages_name_the_elected() -> None:
    irv = register.method_result(
        {
            "method": "irv",
            "ballots": 5,
            "winners": ["2"],
            "details": {
                "rounds": [
                    {"counts": {"1": 0.45, "2": 0.4, "3": 0.15}, "eliminated": "3"},
                    {"counts": {"1": 0.45, "2": 0.55}, "eliminated": None},
                ]
            },
        },
        {"1": "Alpha", "2": "Beta", "3": "Gamma"},
    )
    assert irv.winners == ["Beta"]
    assert [(r.votes, r.eliminated) for r in irv.rounds] == [
        ([("Alpha", "45.0 %"), ("Beta", "40.0 %"), ("Gamma", "15.0 %")], ["Gamma"]),
        ([("Beta", "55.0 %"), ("Alpha", "45.0 %")], []),
    ]
    stv = register.method_result(
        {
            "method": "stv",
            "ballots": 3,
            "winners": ["1", "3"],
            "details": {
                "quota": "2",
                "stages": [
                    {
                        "votes": {"1": 2, "2": 0, "3": 1},
                        "shown": {"1": "2.00", "2": "0.00", "3": "1.00"},
                        "elected": ["1"],
                        "excluded": None,
                    },
                    {"votes": {"3": 1}, "shown": {"3": "1.00"}, "elected": [], "excluded": "2"},
                ],
            },
        },
        {"1": "Alpha", "2": "Beta", "3": "Gamma"},
    )
    assert stv.quota == "2"
    assert [(r.elected, r.eliminated) for r in stv.rounds] == [(["Alpha"], []), ([], ["Beta"])]
