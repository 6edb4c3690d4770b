"""The figures a run measures, kept as dataclasses: printed as tables, written as JSON.

Times are in milliseconds (``_ms``) or seconds (``_s``); a figure that could not be
measured (nothing arrived, the scenario was not run) is NaN, written as null."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from statistics import median

from servers import Cost


def percentile(values: Iterable[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def ms(seconds: float) -> float:
    return 1000 * seconds


@dataclass(frozen=True)
class Options:
    participants: int
    scenarios: frozenset[str]
    runs: int
    votes: int
    interval: float
    vote_rates: tuple[int, ...]
    vote_seconds: float
    voters: int
    concurrency: int
    settle: float
    timeout: float
    hold: float
    postgres: str
    redis: str
    profile: str


@dataclass
class Storm:
    phones: int = 0
    connected: int = 0
    failed: int = 0
    duration_s: float = math.nan
    joins_per_s: float = math.nan
    join_p50_ms: float = math.nan  # the join page and the name (answered with the session)
    join_p99_ms: float = math.nan
    handshake_p50_ms: float = math.nan  # websocket: connect until 101
    handshake_p99_ms: float = math.nan
    rss_per_phone_kib: float = math.nan
    failures: dict[str, int] = field(default_factory=dict)
    cost: Cost = field(default_factory=Cost)


@dataclass
class Latency:
    votes_sent: int = 0
    votes_acknowledged: int = 0
    votes_everywhere: int = 0  # reached every connected phone before the timeout
    latency_p50_ms: float = math.nan  # vote sent → last phone has it
    latency_p99_ms: float = math.nan
    fan_out_p50_ms: float = math.nan  # first → last phone receiving the vote's frame
    fan_out_p99_ms: float = math.nan
    ack_p50_ms: float = math.nan
    ack_p99_ms: float = math.nan
    frame_bytes: int = 0  # the vote's frame, as the phones received it
    event_numbers_checked: bool = True  # the database agrees with first + k
    cost: Cost = field(default_factory=Cost)


@dataclass
class Step:
    move: str
    status: int = 0
    latency_ms: float = math.nan  # POST sent → last phone has the step
    fan_out_ms: float = math.nan
    reached: int = 0
    frame_bytes: int = 0
    cost: Cost = field(default_factory=Cost)


@dataclass
class Rate:
    rate: int
    seconds: float
    sent: int = 0
    acknowledged: int = 0
    refused: dict[str, int] = field(default_factory=dict)  # status or error → count
    offered_per_s: float = math.nan
    achieved_per_s: float = math.nan  # acknowledged / (last acknowledgement − start)
    ack_p50_ms: float = math.nan
    ack_p99_ms: float = math.nan
    # Of the votes sent in the window's last second: a server not keeping up has a queue
    # by then, and these wait for it (kept up: about the whole window's p50).
    ack_last_second_p50_ms: float = math.nan
    screen_p50_ms: float = math.nan  # estimated vote → every screen (k-th sent ↔ event k)
    screen_p99_ms: float = math.nan
    catch_up_ms: float = math.nan  # last acknowledgement → last phone has the last vote
    phones_behind: int = 0  # still without the last vote after the timeout
    frames_per_phone: float = math.nan
    cost: Cost = field(default_factory=Cost)


@dataclass
class AppRun:
    participants: int
    database: str
    pubsub: str
    full: bool
    storm: Storm = field(default_factory=Storm)
    latency: Latency | None = None
    steps: list[Step] = field(default_factory=list)
    rates: list[Rate] = field(default_factory=list)
    hold_s: float = 0.0
    held: int = 0
    dropped: int = 0
    close_codes: dict[str, int] = field(default_factory=dict)
    votes_sent: int = 0
    votes_acknowledged: int = 0
    votes_in_database: int = 0
    server_rss_kib: int = 0
    cost: Cost = field(default_factory=Cost)
    server_log_notable: int = 0
    server_log_first: list[str] = field(default_factory=list)


@dataclass
class BaselineRun:
    frame_bytes: int
    storm: Storm = field(default_factory=Storm)
    latency: Latency = field(default_factory=Latency)
    held: int = 0
    dropped: int = 0
    cost: Cost = field(default_factory=Cost)


@dataclass
class Ratios:
    """App / baseline, measured side by side: the figures that hold across machines."""

    latency_p50: float
    latency_p99: float
    fan_out_p50: float
    rss_per_connection: float


def ratio(app: float, baseline: float) -> float:
    return app / baseline if baseline > 0 and not math.isnan(baseline) else math.nan


def ratios(app: AppRun, baseline: BaselineRun) -> Ratios:
    assert app.latency is not None
    return Ratios(
        latency_p50=ratio(app.latency.latency_p50_ms, baseline.latency.latency_p50_ms),
        latency_p99=ratio(app.latency.latency_p99_ms, baseline.latency.latency_p99_ms),
        fan_out_p50=ratio(app.latency.fan_out_p50_ms, baseline.latency.fan_out_p50_ms),
        rss_per_connection=ratio(app.storm.rss_per_phone_kib, baseline.storm.rss_per_phone_kib),
    )


@dataclass
class Pair:
    app: AppRun
    baseline: BaselineRun | None = None
    ratios: Ratios | None = None


def median_ratios(pairs: list[Pair]) -> dict[str, float]:
    measured = [asdict(p.ratios) for p in pairs if p.ratios is not None]
    if not measured:
        return {}
    return {
        name: median(m[name] for m in measured if not math.isnan(m[name]))
        if any(not math.isnan(m[name]) for m in measured)
        else math.nan
        for name in measured[0]
    }
