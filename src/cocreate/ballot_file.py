"""Reading a ballot file, as ``cocreate recount`` and the count at closing both do.

A ballot file (docs/ballot-file.md) is the exact bytes a closed poll publishes: UTF-8 JSON
without a byte-order mark. :func:`read` checks every field a count uses before anything
is counted, and refuses what it cannot count with :class:`BallotFileError`, whose message
is one line naming the field: a file that is not UTF-8 (re-saved as UTF-16, or with a
byte-order mark, it would be counted with a lot seeded by other bytes than the ones the
poll published), not JSON, nested deeper than any ballot file is, with a key twice in one
object, a field missing or of the wrong type, a rule out of its range, a ballot that is
not one of its method, or one that names an unknown option or college. Fields the count
does not use are ignored. :func:`count` then counts it with ``voting.count``, seeded with
the SHA-256 of the very bytes read.
"""

from __future__ import annotations

import codecs
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cocreate import voting
from cocreate.voting import MAJORITY_RULES, MAX_POINTS, MAX_SCORE, MAX_SEATS, Method

FORMAT = "cocreate-ballots"
VERSION = 1
SHOWN_CHARS = 60  # of a wrong value quoted in an error message
YES_NO = ("for", "against", "abstain", "blank")
CONSENT = ("consent", "objection", "stand_aside")


class BallotFileError(ValueError):
    """A file that cannot be counted; the message is one line saying why."""


@dataclass(frozen=True)
class Option:
    id: str
    label: str


@dataclass(frozen=True)
class BallotFile:
    """A ballot file, checked: everything its count needs, and the seed of its lot."""

    question: str
    method: Method
    rules: Mapping[str, Any]
    secret: bool
    electorate: int | None
    options: tuple[Option, ...]
    ballots: list[Any]
    sha256: str  # of the exact bytes read: the seed of the lot

    def label(self, option_id: str) -> str:
        return next((o.label for o in self.options if o.id == option_id), option_id)


def _show(value: object) -> str:
    """A value as JSON on one line (control characters escaped), cut if long."""
    try:
        text = json.dumps(value, ensure_ascii=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def _no_twice(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, value in pairs:
        if name in found:
            raise BallotFileError(f"the key {_show(name)} appears twice in one object")
        found[name] = value
    return found


def _no_constant(name: str) -> object:
    raise BallotFileError(f"{name} is not a number JSON allows")


def _parse(data: bytes) -> object:
    if data.startswith(codecs.BOM_UTF8):
        raise BallotFileError(
            "the file starts with a byte-order mark: it was re-saved, and the lot is seeded "
            "by the exact bytes the poll published; use the file as downloaded"
        )
    try:
        if b"\x00" in data:  # never in JSON text; every other character in UTF-16
            raise UnicodeDecodeError("utf-8", data, 0, 1, "NUL byte")
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BallotFileError(
            "the file is not UTF-8 text (re-saved as UTF-16?); use the file as downloaded"
        ) from None
    try:
        return json.loads(text, object_pairs_hook=_no_twice, parse_constant=_no_constant)
    except RecursionError:
        raise BallotFileError("the JSON is nested deeper than any ballot file") from None
    except json.JSONDecodeError as error:
        raise BallotFileError(
            f"not JSON: {error.msg} at line {error.lineno}, column {error.colno}"
        ) from None
    except BallotFileError:
        raise
    except ValueError:  # Python reads no integer of more than 4,300 digits
        raise BallotFileError("not JSON we can read: a number has too many digits") from None


def _object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BallotFileError(f"{where} must be a JSON object, not {_show(value)}")
    return value


def _list(value: object, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise BallotFileError(f"{where} must be a JSON array, not {_show(value)}")
    return value


def _text(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise BallotFileError(f"{where} must be text, not {_show(value)}")
    return value


def _whole(value: object, where: str, low: int, high: int | None = None) -> int:
    # true and false are no numbers, though Python's bool is an int.
    if isinstance(value, bool) or not isinstance(value, int):
        raise BallotFileError(f"{where} must be a whole number, not {_show(value)}")
    if value < low or (high is not None and value > high):
        bounds = f"from {low} to {high}" if high is not None else f"at least {low}"
        raise BallotFileError(f"{where} must be {bounds}, not {value}")
    return value


def _flag(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise BallotFileError(f"{where} must be true or false, not {_show(value)}")
    return value


def _field(document: Mapping[str, Any], name: str, where: str = "") -> Any:
    if name not in document:
        raise BallotFileError(f"{where}.{name} is missing" if where else f"{name} is missing")
    return document[name]


def _options(method: Method, raw: object) -> tuple[Option, ...]:
    options = []
    for number, item in enumerate(_list(raw, "poll.options"), start=1):
        where = f"poll.options[{number}]"
        entry = _object(item, where)
        option_id = _text(_field(entry, "id", where), f"{where}.id")
        if not option_id:
            raise BallotFileError(f"{where}.id must not be empty")
        options.append(Option(option_id, _text(_field(entry, "label", where), f"{where}.label")))
    if len({o.id for o in options}) != len(options):
        raise BallotFileError("poll.options: two options have the same id")
    if method in voting.OPTIONLESS and options:
        raise BallotFileError(f"poll.options must be empty for the method {method.value}")
    if method not in voting.OPTIONLESS and not options:
        raise BallotFileError(f"poll.options must list the options of the {method.value} poll")
    return tuple(options)


def _rules(method: Method, raw: object) -> dict[str, Any]:
    rules = _object(raw, "poll.rules")

    def whole(name: str, low: int, high: int) -> None:
        if name in rules:
            _whole(rules[name], f"poll.rules.{name}", low, high)

    if method is Method.YES_NO:
        majority = rules.get("majority", "simple")
        if majority not in MAJORITY_RULES:
            raise BallotFileError(
                f"poll.rules.majority must be one of {', '.join(MAJORITY_RULES)}, "
                f"not {_show(majority)}"
            )
        for name in ("abstentions_expressed", "blank_expressed"):
            if name in rules:
                _flag(rules[name], f"poll.rules.{name}")
    elif method in (Method.APPROVAL, Method.STV):
        whole("seats", 1, MAX_SEATS)
    elif method is Method.DOTS:
        points = _whole(_field(rules, "points", "poll.rules"), "poll.rules.points", 1, MAX_POINTS)
        _whole(_field(rules, "cap", "poll.rules"), "poll.rules.cap", 1, points)
    elif method is Method.SCORE:
        low = _whole(rules.get("min", 0), "poll.rules.min", 0, MAX_SCORE - 1)
        _whole(rules.get("max", 5), "poll.rules.max", low + 1, MAX_SCORE)
    whole("quorum_percent", 0, 100)
    if "colleges" in rules:
        if method is Method.CONSENT:
            raise BallotFileError("poll.rules.colleges: a consent poll is not weighed by college")
        _colleges(rules["colleges"])
    return rules


def _colleges(raw: object) -> None:
    colleges = _object(raw, "poll.rules.colleges")
    if not colleges:
        raise BallotFileError("poll.rules.colleges must name at least one college")
    for college, value in colleges.items():
        where = f"poll.rules.colleges.{_show(college)}"
        entry = _object(value, where)
        _text(_field(entry, "name", where), f"{where}.name")
        _whole(_field(entry, "weight", where), f"{where}.weight", 0, 100)
        _whole(_field(entry, "electorate", where), f"{where}.electorate", 0)
    total = sum(entry["weight"] for entry in colleges.values())
    if total != 100:
        raise BallotFileError(f"poll.rules.colleges: the weights add up to {total} %, not 100 %")


def _vote(method: Method, vote: object, known: frozenset[str], where: str) -> None:
    """Check one vote's shape for its method (docs/ballot-file.md, "Ballots")."""

    def option(value: object) -> None:
        if not isinstance(value, str) or value not in known:
            raise BallotFileError(f"{where} names an unknown option {_show(value)}")

    if method is Method.YES_NO:
        if vote not in YES_NO:
            raise BallotFileError(f"{where} must be one of {', '.join(YES_NO)}, not {_show(vote)}")
    elif method is Method.CONSENT:
        entry = _object(vote, where)
        if entry.get("choice") not in CONSENT or set(entry) - {"choice", "reason"}:
            raise BallotFileError(
                f'{where} must be {{"choice": consent | objection | stand_aside, "reason": '
                f"text}}, not {_show(vote)}"
            )
        _text(entry.get("reason", ""), f"{where}.reason")
    elif method in (Method.APPROVAL, Method.IRV, Method.STV, Method.SCHULZE):
        named = _list(vote, where)
        for value in named:
            option(value)
        if len(set(named)) != len(named):
            raise BallotFileError(f"{where} names an option twice")
    else:  # dots, score and judgment map options to a number or a grade
        for value, given in _object(vote, where).items():
            option(value)
            if method is Method.JUDGMENT:
                if given not in voting.GRADES:
                    raise BallotFileError(
                        f"{where}: {_show(given)} is not a grade ({', '.join(voting.GRADES)})"
                    )
            else:
                _whole(given, f"{where}.{_show(value)}", 0)


def _ballots(
    method: Method, rules: Mapping[str, Any], options: Sequence[Option], raw: object
) -> list[Any]:
    ballots = _list(raw, "ballots")
    known = frozenset(o.id for o in options)
    colleges = rules.get("colleges")
    for number, ballot in enumerate(ballots, start=1):
        where = f"ballot {number}"
        if colleges is None:
            _vote(method, ballot, known, where)
            continue
        entry = _object(ballot, f"{where} (a poll weighed by college)")
        if set(entry) != {"college", "vote"}:
            raise BallotFileError(
                f'{where} must be {{"college": id, "vote": …}} in a poll weighed by college, '
                f"not {_show(ballot)}"
            )
        if not isinstance(entry["college"], str) or entry["college"] not in colleges:
            raise BallotFileError(f"{where} names an unknown college {_show(entry['college'])}")
        _vote(method, entry["vote"], known, f"{where}'s vote")
    return ballots


def read(data: bytes) -> BallotFile:
    """Check a ballot file; BallotFileError (one line) for anything a count cannot use."""
    document = _object(_parse(data), "the file")
    if document.get("format") != FORMAT or document.get("version") != VERSION:
        raise BallotFileError(f"not a cocreate ballot file (format {FORMAT}, version {VERSION})")
    poll = _object(_field(document, "poll"), "poll")
    raw_method = _field(poll, "method", "poll")
    if not isinstance(raw_method, str) or raw_method not in {m.value for m in Method}:
        raise BallotFileError(
            f"poll.method must be one of {', '.join(m.value for m in Method)}, "
            f"not {_show(raw_method)}"
        )
    method = Method(raw_method)
    electorate = _field(poll, "electorate_size", "poll")
    options = _options(method, _field(poll, "options", "poll"))
    rules = _rules(method, _field(poll, "rules", "poll"))
    return BallotFile(
        question=_text(_field(poll, "question", "poll"), "poll.question"),
        method=method,
        rules=rules,
        secret=_flag(_field(poll, "secret", "poll"), "poll.secret"),
        electorate=None if electorate is None else _whole(electorate, "poll.electorate_size", 0),
        options=options,
        ballots=_ballots(method, rules, options, _field(document, "ballots")),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def count(ballot_file: BallotFile) -> voting.Count:
    """Count a checked file with its method's rules; the lot is seeded by its SHA-256.
    In a secret poll where a college cast 1 or 2 ballots, the result carries no
    per-college figure (``voting.withhold_college_figures``): the app stores, shows and
    exports that result, and a recount prints the same. BallotFileError when the
    method's own rules refuse the file (an objection without a reason, more dots than
    allowed, an electorate smaller than its ballots…)."""
    try:
        counted = voting.count(
            method=ballot_file.method,
            rules=ballot_file.rules,
            options=[o.id for o in ballot_file.options],
            ballots=ballot_file.ballots,
            electorate=ballot_file.electorate,
            seed=ballot_file.sha256,
        )
    except ValueError as error:  # the tally's InvalidBallot, or a rule it refuses
        reason = " ".join(str(error).split())
        raise BallotFileError(f"the ballots cannot be counted: {reason}") from None
    if ballot_file.secret and voting.small_colleges(ballot_file.rules, ballot_file.ballots):
        return voting.withhold_college_figures(counted)
    return counted
