"""Voting methods as the app offers them: their rules and ballots read from forms, and a
poll's count by the tally engine, shaped as the app stores and shows it.

Pure functions, no I/O: ``polls.py`` and ``ballot_file.py`` read the ballots and hand them
here. A ballot is stored as JSON in a canonical form (sorted keys, options named by their
id as text) so that the exported ballot file, its SHA-256 and the recount depend on
nothing but the ballots themselves. Counting, colleges' weights included, is the job of
the pure tally engine in ``cocreate.tally``; ``count()`` below reads a poll's frozen rules
into its arguments and its result into a ``Count`` (bars, details and ties as JSON), and
``withhold_college_figures`` keeps small colleges quiet in secret polls.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any, NamedTuple

from cocreate.errors import Invalid
from cocreate.i18n import N_
from cocreate.tally import cardinal, colleges, consent, judgment, schulze, yes_no
from cocreate.tally import ranked as irv
from cocreate.tally.base import Tie

MAX_SEATS = 20
# A college that casts fewer ballots than this in a secret poll could have its members'
# votes told apart: its figures are withheld (docs/ballot-file.md, "Small colleges").
SMALL_COLLEGE = 3
MAX_POINTS = 100
MAX_SCORE = 10
MAX_REASON_CHARS = 1_000


class Method(enum.StrEnum):
    YES_NO = "yes_no"
    CONSENT = "consent"
    APPROVAL = "approval"
    DOTS = "dots"
    SCORE = "score"
    IRV = "irv"
    STV = "stv"
    SCHULZE = "schulze"
    JUDGMENT = "judgment"


METHOD_LABELS: dict[Method, str] = {
    Method.YES_NO: N_("For / against / abstain"),
    Method.CONSENT: N_("Consent (sociocracy)"),
    Method.APPROVAL: N_("Approval voting"),
    Method.DOTS: N_("Dot voting"),
    Method.SCORE: N_("Score voting"),
    Method.IRV: N_("Instant-runoff (ranked)"),
    Method.STV: N_("Single transferable vote (several seats)"),
    Method.SCHULZE: N_("Schulze (Condorcet, ranked)"),
    Method.JUDGMENT: N_("Majority judgment"),
}

# Methods that vote on the question itself rather than choose between options.
OPTIONLESS = frozenset({Method.YES_NO, Method.CONSENT})

MAJORITY_RULES = (
    "simple",
    "absolute_of_expressed",
    "absolute_of_electorate",
    "two_thirds",
    "unanimity",
)
GRADES = ("excellent", "tres_bien", "bien", "assez_bien", "passable", "insuffisant", "a_rejeter")

Form = Mapping[str, str | Sequence[str]]


def parse_method(raw: str) -> Method:
    try:
        return Method(raw)
    except ValueError:
        raise Invalid(N_("Choose a voting method from the list.")) from None


def _int(raw: object, *, low: int, high: int, message: str) -> int:
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise Invalid(message, low=low, high=high) from None
    if not low <= value <= high:
        raise Invalid(message, low=low, high=high)
    return value


def parse_rules(method: Method, form: Mapping[str, str]) -> dict[str, Any]:
    """The rules of a poll from the facilitator's form, checked and with defaults."""
    if method is Method.YES_NO:
        majority = form.get("majority") or "simple"
        if majority not in MAJORITY_RULES:
            raise Invalid(N_("Choose a majority rule from the list."))
        return {
            "majority": majority,
            "abstentions_expressed": form.get("abstentions_expressed") == "1",
            "blank_expressed": form.get("blank_expressed") == "1",
        }
    if method in (Method.APPROVAL, Method.STV):
        seats = _int(
            form.get("seats") or 1,
            low=1,
            high=MAX_SEATS,
            message=N_("The number of seats must be between %(low)d and %(high)d."),
        )
        return {"seats": seats}
    if method is Method.DOTS:
        points = _int(
            form.get("points") or 5,
            low=1,
            high=MAX_POINTS,
            message=N_("The points per voter must be between %(low)d and %(high)d."),
        )
        cap = _int(
            form.get("cap") or points,
            low=1,
            high=points,
            message=N_("The cap per option must be between %(low)d and %(high)d."),
        )
        return {"points": points, "cap": cap}
    if method is Method.SCORE:
        high = _int(
            form.get("max_score") or 5,
            low=1,
            high=MAX_SCORE,
            message=N_("The highest score must be between %(low)d and %(high)d."),
        )
        return {"min": 0, "max": high}
    return {}


@dataclass(frozen=True)
class BallotForm:
    """What a phone posted for one poll, with the poll's frozen options."""

    method: Method
    rules: Mapping[str, Any]
    options: Sequence[str]  # option ids as text, in the poll's order


def canonical(content: object) -> str:
    """The one JSON text of a ballot: sorted keys, no spaces."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _one(form: Form, name: str) -> str:
    value = form.get(name, "")
    if isinstance(value, str):
        return value.strip()
    raise Invalid(N_("This ballot is not valid: a field was sent twice."))


def parse_ballot(ballot: BallotForm, form: Form) -> object:
    """A phone's form as the ballot's canonical content; Invalid with a reason if it is not
    a valid ballot for this method and these rules."""
    reader = _READERS[ballot.method]
    return reader(ballot, form)


def _yes_no(ballot: BallotForm, form: Form) -> object:
    choice = _one(form, "choice")
    if choice not in ("for", "against", "abstain", "blank"):
        raise Invalid(N_("Choose for, against, abstain or blank."))
    return choice


def _consent(ballot: BallotForm, form: Form) -> object:
    choice = _one(form, "choice")
    reason = _one(form, "reason")
    if choice not in ("consent", "objection", "stand_aside"):
        raise Invalid(N_("Choose consent, objection or stand aside."))
    if len(reason) > MAX_REASON_CHARS:
        raise Invalid(N_("A reason has at most %(max)d characters."), max=MAX_REASON_CHARS)
    if choice == "objection" and not reason:
        raise Invalid(N_("An objection needs a reason: say what would make it acceptable."))
    return {"choice": choice, "reason": reason} if reason else {"choice": choice}


def _approval(ballot: BallotForm, form: Form) -> object:
    raw = form.get("approve", [])
    chosen = [raw] if isinstance(raw, str) else list(raw)
    unknown = [c for c in chosen if c not in ballot.options]
    if unknown or len(set(chosen)) != len(chosen):
        raise Invalid(N_("This ballot names an option that is not in the poll."))
    return sorted(chosen, key=ballot.options.index)


def _numbers(
    ballot: BallotForm, form: Form, prefix: str, *, low: int, high: int, message: str
) -> dict[str, int]:
    values: dict[str, int] = {}
    for option in ballot.options:
        raw = _one(form, f"{prefix}-{option}")
        if raw:
            values[option] = _int(raw, low=low, high=high, message=message)
    return values


def _dots(ballot: BallotForm, form: Form) -> object:
    points, cap = int(ballot.rules["points"]), int(ballot.rules["cap"])
    spread = _numbers(
        ballot,
        form,
        "points",
        low=0,
        high=cap,
        message=N_("Give each option between %(low)d and %(high)d points."),
    )
    if sum(spread.values()) > points:
        raise Invalid(N_("You have spread more points than you have (%(points)d)."), points=points)
    return {option: n for option, n in spread.items() if n}


def _score(ballot: BallotForm, form: Form) -> object:
    return _numbers(
        ballot,
        form,
        "score",
        low=int(ballot.rules["min"]),
        high=int(ballot.rules["max"]),
        message=N_("Scores go from %(low)d to %(high)d."),
    )


def _ranked(ballot: BallotForm, form: Form) -> object:
    ranks = _numbers(
        ballot,
        form,
        "rank",
        low=1,
        high=len(ballot.options),
        message=N_("Ranks go from %(low)d to %(high)d."),
    )
    if len(set(ranks.values())) != len(ranks):
        raise Invalid(N_("Give each option a different rank (or leave it out)."))
    return sorted(ranks, key=lambda option: ranks[option])


def _judgment(ballot: BallotForm, form: Form) -> object:
    grades: dict[str, str] = {}
    for option in ballot.options:
        grade = _one(form, f"grade-{option}") or "a_rejeter"  # ungraded: "À rejeter"
        if grade not in GRADES:
            raise Invalid(N_("Choose a grade from the list for each option."))
        grades[option] = grade
    return grades


# The widest ballot each method takes (a consent's reason aside): every option ranked,
# approved, given the cap of points, the highest score or the longest grade's name.
_WIDEST: dict[Method, Callable[[BallotForm], object]] = {
    Method.YES_NO: lambda b: max(("for", "against", "abstain", "blank"), key=len),
    Method.CONSENT: lambda b: {"choice": "stand_aside", "reason": ""},
    Method.APPROVAL: lambda b: list(b.options),
    Method.DOTS: lambda b: dict.fromkeys(b.options, int(b.rules["cap"])),
    Method.SCORE: lambda b: dict.fromkeys(b.options, int(b.rules["max"])),
    Method.IRV: lambda b: list(b.options),
    Method.STV: lambda b: list(b.options),
    Method.SCHULZE: lambda b: list(b.options),
    Method.JUDGMENT: lambda b: dict.fromkeys(b.options, max(GRADES, key=len)),
}
# A character of a reason takes at most 6 bytes in JSON: a control character is written
# \u00XX (other characters take at most 4 bytes of UTF-8).
MAX_JSON_BYTES_PER_CHAR = 6


def max_ballot_bytes(ballot: BallotForm) -> int:
    """The most bytes a valid ballot of this poll takes in its canonical form (UTF-8),
    college included: a secret poll pads every ballot to it, so that a ballot's length
    tells nothing of what it says (``sealed.py``)."""
    widest = _WIDEST[ballot.method](ballot)
    college_rules: Mapping[str, Any] = ballot.rules.get("colleges") or {}
    if college_rules:
        widest = {"college": max(college_rules, key=len), "vote": widest}
    size = len(canonical(widest).encode())
    if ballot.method is Method.CONSENT:
        size += MAX_JSON_BYTES_PER_CHAR * MAX_REASON_CHARS
    return size


_READERS: dict[Method, Callable[[BallotForm, Form], object]] = {
    Method.YES_NO: _yes_no,
    Method.CONSENT: _consent,
    Method.APPROVAL: _approval,
    Method.DOTS: _dots,
    Method.SCORE: _score,
    Method.IRV: _ranked,
    Method.STV: _ranked,
    Method.SCHULZE: _ranked,
    Method.JUDGMENT: _judgment,
}


# --- counting: route to the pure tally engine -------------------------------------------


class Figure(enum.StrEnum):
    """What a bar's figure is, for a reader of the stored result or the ballot file's
    recount. Pages read it from the label's notation (``figures.figure``), which tells
    the same and is there in results stored before the kind was."""

    COUNT = "count"  # ballots, approvals, points: "12"
    DECIMAL = "decimal"  # an average score, a single transferable vote's votes: "3.00"
    PERCENT = "percent"  # a weighted share of the assembly: "12.5 %"


@dataclass(frozen=True)
class Bar:
    """One bar of a result chart: an option (or a choice) and its value."""

    key: str
    value: float  # what the bar's length shows
    # The value as it reads, in the one machine-readable notation of the stored result,
    # the ballot file's recount and the CLI ("12", "3.00", "12.5 %"): pages write it in
    # their language with the ``figure`` filter (cocreate.figures).
    label: str
    kind: Figure = Figure.COUNT


@dataclass(frozen=True, kw_only=True)
class Count:
    """A poll's result as the app stores and shows it (JSON-able through ``as_json``)."""

    method: Method
    ballots: int
    winners: tuple[str, ...] = ()
    adopted: bool | None = None  # yes/no and consent: whether the motion passes
    counts: dict[str, int] = field(default_factory=dict)  # yes/no, consent: per choice
    bars: tuple[Bar, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)
    ties: tuple[dict[str, Any], ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "method": self.method.value,
            "ballots": self.ballots,
            "winners": list(self.winners),
            "adopted": self.adopted,
            "counts": self.counts,
            "bars": [
                {"key": b.key, "value": b.value, "label": b.label, "kind": b.kind.value}
                for b in self.bars
            ],
            "details": self.details,
            "ties": list(self.ties),
        }


def _fraction(value: Fraction) -> str:
    return (
        str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    )


def _decimal(value: Fraction | int) -> float:
    return round(float(value), 4)


def _ties(ties: Sequence[Tie]) -> tuple[dict[str, Any], ...]:
    return tuple(
        {"options": list(t.options), "broken_by": t.broken_by, "chosen": list(t.chosen)}
        for t in ties
    )


class CountInput(NamedTuple):
    """What a method's count takes. Ballot weights are given to the ranked methods and
    majority judgment only, in binding polls with weighted colleges; the others are
    weighed college by college (``_count_options_by_college``)."""

    rules: Mapping[str, Any]
    options: Sequence[str]
    ballots: Sequence[Any]
    seed: str
    weights: Sequence[Fraction] | None


def count(
    *,
    method: Method,
    rules: Mapping[str, Any],
    options: Sequence[str],
    ballots: Sequence[Any],
    electorate: int | None,
    seed: str,
) -> Count:
    """Count canonical ballots with the method's tally function."""
    if method is Method.YES_NO:
        return _count_yes_no(rules, ballots, electorate)
    if method is Method.CONSENT:
        return _count_consent(ballots)
    if not ballots:
        return Count(method=method, ballots=0)
    if "colleges" not in rules:
        return _COUNTERS[method](CountInput(rules, options, ballots, seed, None))
    tagged = _college_ballots(ballots)
    if method in WEIGHED_BALLOTS:
        weigh = (
            colleges.judgment_ballot_weights
            if method is Method.JUDGMENT
            else colleges.ranked_ballot_weights
        )
        weights = weigh(ballots=tagged, weights=_weights(rules))
        if not any(weights):  # only colleges weighted 0 % expressed something: nobody wins
            details = {"weighted": True, "counted_weight": 0}
            return Count(method=method, ballots=len(ballots), details=details)
        votes = [ballot.vote for ballot in tagged]
        return _COUNTERS[method](CountInput(rules, options, votes, seed, weights))
    return _count_options_by_college(method, rules, options, tagged, seed)


def small_colleges(rules: Mapping[str, Any], ballots: Sequence[Any]) -> list[str]:
    """The colleges of a poll weighed by college that cast 1 or 2 ballots (fewer than
    SMALL_COLLEGE): in a secret poll their figures would tell their members' votes."""
    if "colleges" not in rules:
        return []
    cast = colleges.by_college(colleges=rules["colleges"], ballots=_college_ballots(ballots))
    return sorted(college for college, votes in cast.items() if 0 < len(votes) < SMALL_COLLEGE)


def withhold_college_figures(counted: Count) -> Count:
    """The count without any per-college figure: none of the colleges' own rows, lest
    the small college's be the total minus the others. Marked ``small_colleges``."""
    details = {k: v for k, v in counted.details.items() if k not in ("colleges", "college_values")}
    return replace(counted, details={**details, "small_colleges": True})


# With weighted colleges, resolutions and options are weighed college by college
# (``tally.colleges``); ranked methods and majority judgment weigh each ballot instead.
WEIGHED_BALLOTS = frozenset({Method.IRV, Method.STV, Method.SCHULZE, Method.JUDGMENT})


def _college_ballots(ballots: Sequence[Any]) -> list[colleges.CollegeBallot[Any]]:
    """The canonical ballots of a poll weighed by college, ``{"college": id, "vote": …}``."""
    return [colleges.CollegeBallot(str(ballot["college"]), ballot["vote"]) for ballot in ballots]


def _weights(rules: Mapping[str, Any]) -> dict[str, int]:
    """Each college's weight in %, as the poll's rules froze it."""
    return {college: int(frozen["weight"]) for college, frozen in rules["colleges"].items()}


def _score_scale(rules: Mapping[str, Any]) -> tuple[int, int]:
    """A score poll's lowest and highest score, the tally's defaults when a hand-made
    ballot file leaves them out (the app always writes them)."""
    return (
        int(rules.get("min", cardinal.DEFAULT_MIN_SCORE)),
        int(rules.get("max", cardinal.DEFAULT_MAX_SCORE)),
    )


def _num(value: int | Fraction) -> int | float:
    """A count for JSON: whole numbers stay whole, weighted ones become decimals."""
    return value if isinstance(value, int) else _decimal(value)


def _percent(share: Fraction) -> str:
    """A weighted share of 1 in the stored notation, as a percentage: "12.5 %"."""
    return f"{float(share) * 100:.1f} %"


def _bar(option: str, value: int | Fraction) -> Bar:
    """A ranked method's bar: a number of ballots, or a weighted share of the assembly."""
    if isinstance(value, int):
        return Bar(option, value, str(value))
    return Bar(option, _num(value), _percent(value), Figure.PERCENT)


def _count_options_by_college(
    method: Method,
    rules: Mapping[str, Any],
    options: Sequence[str],
    ballots: Sequence[colleges.CollegeBallot[Any]],
    seed: str,
) -> Count:
    """Approval, dots or score in a cooperative with voting colleges: per college, weighted."""
    colleges_rules: Mapping[str, Mapping[str, Any]] = rules["colleges"]
    by_college = colleges.by_college(colleges=colleges_rules, ballots=ballots)
    weights = _weights(rules)
    if method is Method.APPROVAL:
        result = colleges.weigh_approval(
            options=options,
            ballots=by_college,
            weights=weights,
            seed=seed,
            seats=int(rules.get("seats", 1)),
        )
    elif method is Method.DOTS:
        result = colleges.weigh_dots(
            options=options,
            ballots=by_college,
            weights=weights,
            points=int(rules["points"]),
            cap_per_option=int(rules["cap"]),
            seed=seed,
        )
    else:
        low, high = _score_scale(rules)
        result = colleges.weigh_score(
            options=options,
            ballots=by_college,
            weights=weights,
            min_score=low,
            max_score=high,
            seed=seed,
        )
    return Count(
        method=method,
        ballots=len(ballots),
        winners=result.winners,
        bars=tuple(
            Bar(o, _decimal(result.values[o] * 100), _percent(result.values[o]), Figure.PERCENT)
            for o in result.ranking
        ),
        details={
            "ranking": list(result.ranking),
            "counted_weight": result.counted_weight_percent,
            "college_values": [
                {
                    "college": college,
                    "name": colleges_rules[college]["name"],
                    "weight": int(colleges_rules[college]["weight"]),
                    "ballots": len(by_college[college]),
                    "values": {
                        o: _decimal(v * 100) for o, v in result.per_college.get(college, {}).items()
                    },
                }
                for college in sorted(colleges_rules)
            ],
        },
        ties=_ties(result.ties),
    )


def _count_yes_no(
    rules: Mapping[str, Any], ballots: Sequence[Any], electorate: int | None
) -> Count:
    if "colleges" in rules:
        return _count_colleges(rules, ballots)
    result = yes_no.tally_yes_no(
        ballots=ballots,
        rule=yes_no.MajorityRule(rules.get("majority", "simple")),
        electorate=electorate,
        abstentions_count_as_expressed=bool(rules.get("abstentions_expressed")),
        blank_count_as_expressed=bool(rules.get("blank_expressed")),
    )
    counts = {
        "for": result.counts.for_votes,
        "against": result.counts.against,
        "abstain": result.counts.abstentions,
        "blank": result.counts.blanks,
    }
    return Count(
        method=Method.YES_NO,
        ballots=len(ballots),
        winners=result.winners,
        adopted=result.adopted,
        counts=counts,
        bars=tuple(Bar(k, v, str(v)) for k, v in counts.items()),
        details={
            "rule": result.rule.value,
            "expressed": result.expressed,
            "for_needed": result.for_needed,
            "threshold": _fraction(result.threshold),
            "threshold_base": result.threshold_base.value,
            "reason": result.reason.value,
        },
        ties=_ties(result.ties),
    )


def _count_colleges(rules: Mapping[str, Any], ballots: Sequence[Any]) -> Count:
    """A for/against motion of a cooperative with voting colleges: per college, weighted."""
    colleges_rules: Mapping[str, Mapping[str, Any]] = rules["colleges"]
    result = colleges.tally_weighted_yes_no(
        ballots=colleges.by_college(colleges=colleges_rules, ballots=_college_ballots(ballots)),
        weights=_weights(rules),
        electorates={c: int(r["electorate"]) for c, r in colleges_rules.items()},
        rule=yes_no.MajorityRule(rules.get("majority", "simple")),
        abstentions_count_as_expressed=bool(rules.get("abstentions_expressed")),
        blank_count_as_expressed=bool(rules.get("blank_expressed")),
    )
    counts = {"for": 0, "against": 0, "abstain": 0, "blank": 0}
    table = []
    for college in result.colleges:
        c = college.result.counts
        row = {
            "for": c.for_votes,
            "against": c.against,
            "abstain": c.abstentions,
            "blank": c.blanks,
        }
        for name, value in row.items():
            counts[name] += value
        table.append(
            {
                "college": college.college,
                "name": colleges_rules[college.college]["name"],
                "weight": college.weight_percent,
                **row,
                "share": None if college.for_share is None else _decimal(college.for_share),
            }
        )
    share = result.for_share
    return Count(
        method=Method.YES_NO,
        ballots=len(ballots),
        winners=result.winners,
        adopted=result.adopted,
        counts=counts,
        bars=tuple(Bar(k, v, str(v)) for k, v in counts.items()),
        details={
            "rule": rules.get("majority", "simple"),
            "colleges": table,
            "weighted_for_share": None if share is None else _fraction(share),
            "weighted_for_percent": None if share is None else _decimal(share * 100),
            "counted_weight": result.counted_weight_percent,
        },
        ties=_ties(result.ties),
    )


def _count_consent(ballots: Sequence[Any]) -> Count:
    result = consent.tally_consent(
        ballots=[
            consent.ConsentBallot(position=b["choice"], reason=b.get("reason", "")) for b in ballots
        ]
    )
    counts = {
        "consent": result.consents,
        "objection": result.objection_count,
        "stand_aside": result.stand_aside_count,
    }
    return Count(
        method=Method.CONSENT,
        ballots=len(ballots),
        winners=result.winners,
        adopted=result.passed,
        counts=counts,
        bars=tuple(Bar(k, v, str(v)) for k, v in counts.items()),
        details={
            "objections": [s.reason for s in result.objections],
            "stand_asides": [s.reason for s in result.stand_asides if s.reason],
        },
        ties=(),
    )


def _count_approval(given: CountInput) -> Count:
    rules, options, ballots, seed, _weights = given
    result = cardinal.tally_approval(
        options=options, ballots=ballots, seed=seed, seats=int(rules.get("seats", 1))
    )
    return Count(
        method=Method.APPROVAL,
        ballots=result.ballots,
        winners=result.winners,
        bars=tuple(Bar(o, result.approvals[o], str(result.approvals[o])) for o in result.ranking),
        details={"blank": result.blank_ballots, "ranking": list(result.ranking)},
        ties=_ties(result.ties),
    )


def _count_dots(given: CountInput) -> Count:
    rules, options, ballots, seed, _weights = given
    result = cardinal.tally_dot_voting(
        options=options,
        ballots=ballots,
        points=int(rules["points"]),
        cap_per_option=int(rules["cap"]),
        seed=seed,
    )
    return Count(
        method=Method.DOTS,
        ballots=result.ballots,
        winners=result.winners,
        bars=tuple(Bar(o, result.totals[o], str(result.totals[o])) for o in result.ranking),
        details={
            "points_cast": result.points_cast,
            "supporters": dict(result.supporters),
            "ranking": list(result.ranking),
        },
        ties=_ties(result.ties),
    )


def _count_score(given: CountInput) -> Count:
    rules, options, ballots, seed, _weights = given
    low, high = _score_scale(rules)
    result = cardinal.tally_score(
        options=options, ballots=ballots, seed=seed, min_score=low, max_score=high
    )
    bars = []
    details: dict[str, Any] = {"ranking": list(result.ranking), "max": result.max_score}
    for option in result.ranking:
        score = result.scores[option]
        average = score.average if score.average is not None else Fraction(0)
        bars.append(Bar(option, _decimal(average), f"{float(average):.2f}", Figure.DECIMAL))
        details[option] = {"average": _fraction(average), "median": score.median}
    return Count(
        method=Method.SCORE,
        ballots=result.ballots,
        winners=result.winners,
        bars=tuple(bars),
        details=details,
        ties=_ties(result.ties),
    )


def _count_irv(given: CountInput) -> Count:
    _rules, options, ballots, seed, weights = given
    result = irv.tally_irv(options=options, ballots=ballots, seed=seed, weights=weights)
    last: dict[str, int | Fraction] = dict(result.rounds[-1].counts)
    total = sum(weights) if weights else result.ballots
    return Count(
        method=Method.IRV,
        ballots=result.ballots,
        winners=result.winners,
        bars=tuple(_bar(o, last[o]) for o in sorted(last, key=lambda o: last[o], reverse=True)),
        details={
            "rounds": [
                {
                    "counts": {o: _num(n) for o, n in r.counts.items()},
                    "exhausted": _num(r.exhausted),
                    "eliminated": r.eliminated,
                }
                for r in result.rounds
            ],
            "total": _num(total),
            "weighted": weights is not None,
        },
        ties=_ties(result.ties),
    )


def _count_stv(given: CountInput) -> Count:
    rules, options, ballots, seed, weights = given
    result = irv.tally_stv(
        options=options,
        ballots=ballots,
        seats=int(rules.get("seats", 1)),
        seed=seed,
        weights=weights,
    )
    last = result.stages[-1].votes

    def shown(votes: Fraction) -> str:  # weighted votes read as a share of the assembly
        return _percent(votes) if weights else f"{float(votes):.2f}"

    return Count(
        method=Method.STV,
        ballots=result.ballots,
        winners=result.winners,
        bars=tuple(
            Bar(o, _decimal(v), shown(v), Figure.PERCENT if weights else Figure.DECIMAL)
            for o, v in sorted(last.items(), key=lambda kv: -kv[1])
        ),
        details={
            "total": _num(sum(weights) if weights else result.ballots),
            "weighted": weights is not None,
            "quota": _fraction(result.quota),
            "stages": [
                {
                    "kind": s.kind,
                    "votes": {o: _decimal(v) for o, v in s.votes.items()},
                    "shown": {o: shown(v) for o, v in s.votes.items()},
                    "elected": list(s.elected),
                    "excluded": s.excluded,
                    "transfer_value": _fraction(s.transfer_value) if s.transfer_value else None,
                }
                for s in result.stages
            ],
        },
        ties=_ties(result.ties),
    )


def _count_schulze(given: CountInput) -> Count:
    _rules, options, ballots, seed, weights = given
    result = schulze.tally_schulze(options=options, ballots=ballots, seed=seed, weights=weights)
    beats = {
        x: sum(1 for y in options if y != x and result.d[x][y] > result.d[y][x]) for x in options
    }
    ranking = [o for layer in result.ranking for o in layer]
    return Count(
        method=Method.SCHULZE,
        ballots=result.ballots,
        winners=result.winners,
        bars=tuple(Bar(o, beats[o], str(beats[o])) for o in ranking),
        details={
            "d": {x: {y: _num(v) for y, v in row.items()} for x, row in result.d.items()},
            "p": {x: {y: _num(v) for y, v in row.items()} for x, row in result.p.items()},
            "weighted": weights is not None,
            "ranking": [list(layer) for layer in result.ranking],
        },
        ties=_ties(result.ties),
    )


def _count_judgment(given: CountInput) -> Count:
    _rules, options, ballots, seed, weights = given
    result = judgment.tally_majority_judgment(
        options=options, ballots=ballots, seed=seed, weights=weights
    )
    profiles = {p.option: p for p in result.profiles}
    return Count(
        method=Method.JUDGMENT,
        ballots=result.ballot_count,
        winners=result.winners,
        bars=(),
        details={
            "ranking": list(result.ranking),
            "profiles": {
                o: {"counts": [_num(c) for c in p.counts], "majority_grade": p.majority_grade}
                for o, p in profiles.items()
            },
        },
        ties=_ties(result.ties),
    )


Counter = Callable[[CountInput], Count]
_COUNTERS: dict[Method, Counter] = {
    Method.APPROVAL: _count_approval,
    Method.DOTS: _count_dots,
    Method.SCORE: _count_score,
    Method.IRV: _count_irv,
    Method.STV: _count_stv,
    Method.SCHULZE: _count_schulze,
    Method.JUDGMENT: _count_judgment,
}
