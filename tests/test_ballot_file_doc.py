"""docs/ballot-file.md lets an auditor recount without cocreate: its worked examples are
recounted here by a small implementation written from that page alone (it imports
nothing of cocreate's tally), and compared with the page's stated results and with
``cocreate recount``."""

from __future__ import annotations

import hashlib
import json
import re
from fractions import Fraction as F
from pathlib import Path
from typing import Any

import pytest

from cocreate import polls

DOC = Path(__file__).resolve().parent.parent / "docs" / "ballot-file.md"
EXAMPLE = re.compile(
    r"File `(?P<name>[\w.]+)` \(SHA-256 `(?P<sha>[0-9a-f]{64})`\):\n\n```json\n(?P<text>.*?)\n```"
    r".*?\*\*Result:\*\* `(?P<result>\{.*?\})`",
    re.DOTALL,
)
GRADES = ["excellent", "tres_bien", "bien", "assez_bien", "passable", "insuffisant", "a_rejeter"]


# --- the independent recount, from the page ----------------------------------------------


def key(seed: str, option: str) -> str:
    return hashlib.sha256((seed + "\u0000" + option).encode()).hexdigest()


def by_lot(seed: str, options: list[str]) -> list[str]:
    return sorted(options, key=lambda o: key(seed, o))


def rank(options: list[str], criteria: list[dict[str, Any]], seed: str) -> list[str]:
    """Highest first by each criterion in turn, then the lot."""
    lot = by_lot(seed, options)
    return sorted(options, key=lambda o: ([-c[o] for c in criteria], lot.index(o)))


def yes_no(rules: dict[str, Any], votes: list[str], n: int | None) -> bool:
    f, a = votes.count("for"), votes.count("against")
    e = f + a
    e += votes.count("abstain") if rules.get("abstentions_expressed") else 0
    e += votes.count("blank") if rules.get("blank_expressed") else 0
    majority = rules.get("majority", "simple")
    if majority == "simple":
        return f > a
    if majority == "absolute_of_expressed":
        return e > 0 and 2 * f > e
    if majority == "absolute_of_electorate":
        assert n is not None
        return 2 * f > n
    if majority == "two_thirds":
        return e > 0 and 3 * f >= 2 * e
    return a == 0 and f >= 1


def yes_no_colleges(rules: dict[str, Any], ballots: list[dict[str, Any]]) -> bool:
    majority = rules.get("majority", "simple")
    total, counted, unanimous = F(0), 0, True
    for college, c in rules["colleges"].items():
        votes = [b["vote"] for b in ballots if b["college"] == college]
        f, a = votes.count("for"), votes.count("against")
        e = f + a
        e += votes.count("abstain") if rules.get("abstentions_expressed") else 0
        e += votes.count("blank") if rules.get("blank_expressed") else 0
        share: F | None = None
        if majority in ("simple", "unanimity") and e > 0 and f + a > 0:
            share = F(f, f + a)
        elif majority in ("absolute_of_expressed", "two_thirds") and e > 0:
            share = F(f, e)
        elif majority == "absolute_of_electorate":
            share = F(f, c["electorate"]) if c["electorate"] else F(0)
        if share is not None and c["weight"] > 0:
            total += c["weight"] * share
            counted += c["weight"]
            unanimous = unanimous and a == 0
    if not counted:
        return False
    s = total / counted
    if majority == "two_thirds":
        return s >= F(2, 3)
    if majority == "unanimity":
        return unanimous
    return s > F(1, 2)


def option_values(
    method: str, rules: dict[str, Any], options: list[str], votes: list[Any]
) -> dict[str, F] | None:
    """One college's value of each option, 0 to 1 (approval, dots, score)."""
    if method == "approval":
        return {o: F(sum(o in v for v in votes), len(votes)) for o in options}
    if method == "dots":
        placed = sum(sum(v.values()) for v in votes)
        return {o: F(sum(v.get(o, 0) for v in votes), placed) for o in options} if placed else None
    low, high = rules.get("min", 0), rules.get("max", 5)
    return {
        o: (F(sum(v.get(o, low) for v in votes), len(votes)) - low) / (high - low) for o in options
    }


def options_colleges(
    method: str, rules: dict[str, Any], options: list[str], ballots: list[Any], seed: str
) -> list[str]:
    values = {o: F(0) for o in options}
    counted = 0
    for college, c in rules["colleges"].items():
        votes = [b["vote"] for b in ballots if b["college"] == college]
        mine = option_values(method, rules, options, votes) if votes else None
        if mine is not None and c["weight"] > 0:
            counted += c["weight"]
            for o in options:
                values[o] += c["weight"] * mine[o]
    if not counted:
        return []
    seats = rules.get("seats", 1) if method == "approval" else 1
    return rank(options, [{o: v / counted for o, v in values.items()}], seed)[:seats]


def weights_of(method: str, rules: dict[str, Any], ballots: list[dict[str, Any]]) -> list[F]:
    """w_c / 100 / n_c for each ballot the method counts, 0 for the others."""
    counts = [method == "judgment" or bool(b["vote"]) for b in ballots]
    n = {
        c: sum(1 for b, k in zip(ballots, counts, strict=True) if k and b["college"] == c)
        for c in rules["colleges"]
    }
    return [
        F(rules["colleges"][b["college"]]["weight"], 100 * n[b["college"]]) if k else F(0)
        for b, k in zip(ballots, counts, strict=True)
    ]


def backwards(tied: list[str], history: list[dict[str, F]], fewest: bool, seed: str) -> str:
    left = list(tied)
    for counts in reversed(history):
        pick = min if fewest else max
        target = pick(counts[o] for o in left)
        left = [o for o in left if counts[o] == target]
        if len(left) == 1:
            return left[0]
    return by_lot(seed, left)[0]


def irv(options: list[str], ballots: list[list[str]], weights: list[F], seed: str) -> str:
    continuing = list(options)
    history: list[dict[str, F]] = []
    while True:
        counts = {o: F(0) for o in continuing}
        active = F(0)
        for ballot, w in zip(ballots, weights, strict=True):
            top = next((o for o in ballot if o in continuing), None)
            if top is not None:
                counts[top] += w
                active += w
        history.append(counts)
        for o in continuing:
            if 2 * counts[o] > active:
                return o
        if len(continuing) == 1:
            return continuing[0]
        fewest = min(counts.values())
        tied = [o for o in continuing if counts[o] == fewest]
        continuing.remove(backwards(tied, history, True, seed))


def stv(
    options: list[str], ballots: list[list[str]], weights: list[F], seats: int, seed: str
) -> list[str]:
    valid = [(b, w) for b, w in zip(ballots, weights, strict=True) if b and w > 0]
    units = {w for _, w in valid}
    exact = len(units) > 1
    if exact:
        quota = sum((w for _, w in valid), F(0)) / (seats + 1)
    else:
        quota = (units.pop() if units else F(1)) * (len(valid) // (seats + 1) + 1)
    # Each ballot: [ranking, weight × value, index of its holder].
    papers = [[b, w, 0] for b, w in valid]
    continuing, elected, transferred = list(options), [], set()
    votes = {o: F(0) for o in options}
    for b, w, _ in papers:
        votes[b[0]] += w
    history: list[dict[str, F]] = []

    def has_quota(o: str) -> bool:
        return votes[o] > quota if exact else votes[o] >= quota

    def elect(group: list[str]) -> None:
        while group:
            top = max(votes[o] for o in group)
            tied = [o for o in options if o in group and votes[o] == top]
            first = backwards(tied, history, False, seed)
            group.remove(first)
            continuing.remove(first)
            elected.append(first)

    def move(paper: list[Any]) -> None:
        ranking = paper[0]
        paper[2] += 1
        while paper[2] < len(ranking) and ranking[paper[2]] not in continuing:
            paper[2] += 1
        if paper[2] < len(ranking):
            votes[ranking[paper[2]]] += paper[1]

    def end_stage() -> None:
        history.append({o: votes[o] for o in options if o in continuing or o in elected})
        elect([o for o in continuing if has_quota(o)])
        if 0 < len(continuing) <= seats - len(elected):
            elect(list(continuing))

    end_stage()
    while len(elected) < seats and continuing:
        pending = [o for o in elected if o not in transferred and votes[o] > quota]
        if pending:
            top = max(votes[o] for o in pending)
            holder = next(o for o in elected if o in pending and votes[o] == top)
            value = (votes[holder] - quota) / votes[holder]
            transferred.add(holder)
            votes[holder] = quota
            for paper in papers:
                if paper[2] < len(paper[0]) and paper[0][paper[2]] == holder:
                    paper[1] *= value
                    move(paper)
        else:
            fewest = min(votes[o] for o in continuing)
            tied = [o for o in continuing if votes[o] == fewest]
            loser = backwards(tied, history, True, seed)
            continuing.remove(loser)
            for paper in papers:
                if paper[2] < len(paper[0]) and paper[0][paper[2]] == loser:
                    move(paper)
        end_stage()
    return elected


def schulze(
    options: list[str], ballots: list[list[str]], weights: list[F], seed: str
) -> tuple[str, list[str]]:
    """The winner, and the ranking (layers in the poll's order)."""
    d = {x: {y: F(0) for y in options} for x in options}
    for ballot, w in zip(ballots, weights, strict=True):
        for i, x in enumerate(ballot):
            for y in options:
                if y != x and (y not in ballot or ballot.index(y) > i):
                    d[x][y] += w
    p = {x: {y: d[x][y] if d[x][y] > d[y][x] else F(0) for y in options} for x in options}
    for k in options:
        for x in options:
            for y in options:
                if len({x, y, k}) == 3:
                    p[x][y] = max(p[x][y], min(p[x][k], p[k][y]))
    layers, left = [], list(options)
    while left:
        layer = [x for x in left if all(p[x][y] >= p[y][x] for y in left if y != x)]
        layers.append(layer)
        left = [x for x in left if x not in layer]
    return by_lot(seed, layers[0])[0], [o for layer in layers for o in layer]


def judgment(
    options: list[str], ballots: list[dict[str, str]], weights: list[F], seed: str
) -> list[str]:
    total = sum(weights, F(0))
    shares = {}
    for o in options:
        weight = [F(0)] * 7
        for ballot, w in zip(ballots, weights, strict=True):
            weight[GRADES.index(ballot.get(o, "a_rejeter"))] += w
        shares[o] = [x / total for x in weight]

    def cumulative(o: str) -> list[F]:
        return [sum(shares[o][: i + 1], F(0)) for i in range(7)]

    def q(o: str, x: F) -> int:
        return next(i for i, c in enumerate(cumulative(o)) if x < c)

    def q_below(o: str, x: F) -> int:
        return next(i for i, c in enumerate(cumulative(o)) if x <= c)

    points = sorted(
        {F(0)} | {abs(c - F(1, 2)) for o in options for c in cumulative(o) if 0 < c < 1}
    )

    def sort_key(o: str) -> tuple[Any, ...]:
        grade = q(o, F(1, 2))
        p, worse = sum(shares[o][:grade], F(0)), sum(shares[o][grade + 1 :], F(0))
        gauge = (0, -p) if p > worse else (1, worse)
        value = [(q(o, F(1, 2) + t), q_below(o, F(1, 2) - t)) for t in points]
        return (grade, *gauge, value)

    lot = by_lot(seed, options)
    return sorted(options, key=lambda o: (sort_key(o), lot.index(o)))


def recount(data: bytes) -> dict[str, Any]:
    """The result of a ballot file: {"adopted": …} or {"winners": […], "ranking": […]}."""
    document = json.loads(data.decode("utf-8"))
    seed = hashlib.sha256(data).hexdigest()
    poll, ballots = document["poll"], document["ballots"]
    method, rules = poll["method"], poll["rules"]
    options = [o["id"] for o in poll["options"]]
    colleges = "colleges" in rules
    if method == "yes_no":
        if colleges:
            return {"adopted": yes_no_colleges(rules, ballots)}
        return {"adopted": yes_no(rules, ballots, poll["electorate_size"])}
    if method in ("approval", "dots", "score"):
        if colleges:
            return {"winners": options_colleges(method, rules, options, ballots, seed)}
        if method == "approval":
            score = {o: sum(o in b for b in ballots) for o in options}
            ranking = rank(options, [score], seed)
            return {"winners": ranking[: rules.get("seats", 1)], "ranking": ranking}
        if method == "dots":
            totals = {o: sum(b.get(o, 0) for b in ballots) for o in options}
            supporters = {o: sum(1 for b in ballots if b.get(o, 0) > 0) for o in options}
            ranking = rank(options, [totals, supporters], seed)
            return {"winners": ranking[:1], "ranking": ranking}
        low = rules.get("min", 0)
        scores = {o: sorted(b.get(o, low) for b in ballots) for o in options}
        average = {o: F(sum(s), len(s)) for o, s in scores.items()}
        median = {o: s[(len(s) - 1) // 2] for o, s in scores.items()}
        ranking = rank(options, [average, median], seed)
        return {"winners": ranking[:1], "ranking": ranking}
    if colleges:
        weights = weights_of(method, rules, ballots)
        ballots = [b["vote"] for b in ballots]
        if not any(weights):
            return {"winners": []}
    else:
        weights = [F(1)] * len(ballots)
    if method == "irv":
        return {"winners": [irv(options, ballots, weights, seed)]}
    if method == "stv":
        return {"winners": stv(options, ballots, weights, rules.get("seats", 1), seed)}
    if method == "schulze":
        winner, ranking = schulze(options, ballots, weights, seed)
        return {"winners": [winner], "ranking": ranking}
    ranking = judgment(options, ballots, weights, seed)
    return {"winners": ranking[:1], "ranking": ranking}


# --- the tests ---------------------------------------------------------------------------

EXAMPLES = list(EXAMPLE.finditer(DOC.read_text()))


def test_the_page_has_a_worked_example_of_every_method_and_of_colleges() -> None:
    methods = set()
    for example in EXAMPLES:
        poll = json.loads(example["text"])["poll"]
        methods.add(poll["method"] + (" by college" if "colleges" in poll["rules"] else ""))
    assert methods >= {
        "yes_no",
        "approval",
        "dots",
        "score",
        "irv",
        "stv",
        "schulze",
        "judgment",
        "yes_no by college",
        "approval by college",
        "irv by college",
        "judgment by college",
    }


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["name"] for e in EXAMPLES])
def test_a_worked_example_recounted_from_the_page_alone(example: re.Match[str]) -> None:
    data = (example["text"] + "\n").encode()
    assert hashlib.sha256(data).hexdigest() == example["sha"], "the stated SHA-256"
    stated = json.loads(example["result"])
    mine = recount(data)
    counted = polls.recount(data)
    theirs = {"adopted": counted.adopted, "winners": list(counted.winners)}
    if "ranking" in counted.details:
        ranking = counted.details["ranking"]
        theirs["ranking"] = (
            [o for layer in ranking for o in layer]
            if ranking and isinstance(ranking[0], list)
            else ranking
        )
    for name, value in stated.items():
        assert mine[name] == value, (name, "this page's recount")
        assert theirs[name] == value, (name, "cocreate recount")


def test_the_lot_keys_printed_on_the_page_are_the_formula() -> None:
    text = DOC.read_text()
    example = next(e for e in EXAMPLES if e["name"] == "approval_lot.json")
    for option, printed in re.findall(r'key\("(\w+)"\) = ([0-9a-f]{64})', text):
        assert key(example["sha"], option) == printed
