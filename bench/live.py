"""Load benchmark of one live session: N phones joined, connected, voting and watching.

Starts the real server (`cocreate serve`, one worker) on loopback with an empty database
(a fresh SQLite file by default; ``--postgres URL`` empties that database's schema
``public`` first, ``--redis URL`` carries live updates through Redis) and the demo
session, then acts as N phones from this process (bench/phones.py: a lean HTTP and
websocket client on uvloop, so that the load generator is not the bottleneck) exactly
as the phone page does: load the page (cookie, CSRF token), post a name, load the page
again (new token, the page's event number), open the websocket without compression
with the site's Origin and the cookie, and say hello with that event number.

Scenarios (``--scenarios``, all by default):

- storm: all N phones join and connect at once (``--concurrency`` in flight): its
  duration, join and handshake p50/p99, server memory per connected phone. Always run,
  since every other scenario needs the phones connected.
- latency: one more phone votes ``--votes`` times, one vote at a time. For each vote,
  the time from sending it until the *last* phone has a frame at or past its event
  number (the ``live-seq`` marker every frame carries), and the fan-out: first to last
  phone receiving that frame. A vote's event number is not read per vote from the
  database: only the voter writes, so the k-th acknowledged vote is event first + k;
  the database is read before and after to check that this held.
- step: the facilitator signs in and starts the agenda while every phone is connected:
  the time from the POST until every phone has the new step; then ends it, back to the
  free wall where votes are allowed.
- rates: votes at each of ``--vote-rates`` per second for ``--vote-seconds``, spread
  over ``--voters`` phones (one keep-alive connection each, one vote in flight each):
  votes sent and acknowledged, achieved rate (up to the last answer, so a little under
  the rate asked even when every vote is answered in time), acknowledgement p50/p99
  and p50 of the votes sent in the last second (about the whole window's when the
  server keeps up; a queue makes it grow), an estimate of vote → every screen (the
  k-th vote sent is taken for event first + k; exact when the server commits in
  arrival order), and how long the screens took to catch up after the last vote.
- baseline: bench/baseline.py, the least a Python server can do (``websockets`` and
  ``broadcast``), is run as its own process with the same phones and the same votes,
  frames of the size of the app's vote frame. Absolute times on a shared machine drift
  by ±30 % between runs; the ratios app/baseline measured side by side hold. With
  ``--runs R``, app and baseline alternate R times (the first app run does every chosen
  scenario, later ones the storm and latency the ratios need) and the median ratio is
  reported.

Also: phones held and dropped at the end (``--hold S`` keeps them connected S seconds
first, answering the server's pings), votes sent, acknowledged and found in the
database (rows of table ``vote``: must be equal), and for every phase the wall time,
the server's CPU time (/proc) and this process's own (getrusage): when the latter nears
the wall time, the load generator is the bottleneck and the figures are not the
server's. Server memory is its VmRSS.

Prints tables and writes every figure as JSON under bench/results/. Never part of
`make test`: run `make bench N=1000` or `python bench/live.py --help`.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import math
import re
import resource
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from statistics import median

from figures import (
    AppRun,
    BaselineRun,
    Latency,
    Options,
    Pair,
    Rate,
    Step,
    Storm,
    ms,
    percentile,
    ratios,
)
from phones import HttpConnection, LiveSocket, Reach, Response, Watch, open_socket
from report import ROOT, print_report, python_pace_us, write_results
from servers import (
    HOST,
    AppServer,
    BaselineServer,
    Demo,
    Meter,
    Tables,
    rss_kib,
    start_profiler,
    stop_profiler,
)

SCENARIOS = ("storm", "latency", "rates", "step", "baseline")
COOKIE = "cocreate"
CSRF = b'name="csrf_token" value="'
PAGE_SEQ = b'id="live-seq" data-seq="'
PROPOSAL_ID = re.compile(rb'id="proposal-(\d+)"')
CHOICES = ("for", "against", "abstain")
HTMX = {"HX-Request": "true"}
RATE_SAMPLES = 200  # event numbers timed per vote rate: enough for a p99, cheap per frame
STARTED = time.perf_counter()


def say(message: str) -> None:
    """Progress on stderr, so that a long run shows it is alive."""
    print(f"[{time.perf_counter() - STARTED:6.1f} s] {message}", file=sys.stderr, flush=True)


# --- options -----------------------------------------------------------------------------


def parse_options(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add = parser.add_argument
    add("--participants", "-n", type=int, default=1000, help="phones joined and connected")
    add("--scenarios", default=",".join(SCENARIOS), help=f"any of {', '.join(SCENARIOS)}")
    add("--runs", type=int, default=3, help="app/baseline pairs, alternating (ratios' median)")
    add("--votes", type=int, default=20, help="votes timed one at a time (latency)")
    add("--interval", type=float, default=0.2, help="seconds of quiet between timed votes")
    add("--vote-rates", default="100,1000,3000", help="votes per second, comma-separated")
    add("--vote-seconds", type=float, default=15.0, help="how long each vote rate lasts")
    add("--voters", type=int, default=300, help="phones voting in the rates scenario")
    add("--concurrency", type=int, default=200, help="phones joining at once in the storm")
    add("--settle", type=float, default=2.0, help="seconds of quiet after the storm")
    add("--timeout", type=float, default=30.0, help="longest wait for frames to arrive")
    add("--hold", type=float, default=0.0, help="seconds to keep every phone connected")
    add("--postgres", default="", help="postgresql:// URL; its schema public is DROPPED")
    add("--redis", default="", help="redis:// URL for live updates (default: in memory)")
    add(
        "--profile",
        default="",
        help="write py-spy's collapsed stacks of the server here (PYSPY_RATE samples/s)",
    )
    args = parser.parse_args(argv)
    scenarios = frozenset(s.strip() for s in args.scenarios.split(",") if s.strip())
    if unknown := scenarios - set(SCENARIOS):
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    if "baseline" in scenarios:
        scenarios |= {"latency"}  # the baseline is compared on the app's latency figures
    if args.postgres and not args.postgres.startswith(("postgresql://", "postgres://")):
        parser.error("--postgres takes a postgresql:// URL")
    return Options(
        participants=args.participants,
        scenarios=scenarios | {"storm"},
        runs=max(1, args.runs) if "baseline" in scenarios else 1,
        votes=args.votes,
        interval=args.interval,
        vote_rates=tuple(int(r) for r in args.vote_rates.split(",") if r.strip()),
        vote_seconds=args.vote_seconds,
        voters=args.voters,
        concurrency=args.concurrency,
        settle=args.settle,
        timeout=args.timeout,
        hold=args.hold,
        postgres=args.postgres,
        redis=args.redis,
        profile=args.profile,
    )


# --- phones ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """Where the phones go: the server's port, its origin and the session's join code."""

    port: int
    origin: str
    code: str


@dataclass(eq=False)
class Phone:
    """One participant: what its page holds (cookie, CSRF token, event number), its socket."""

    name: str
    cookie: str = ""
    csrf: str = ""
    page_seq: int | None = None
    socket: LiveSocket | None = None
    http: HttpConnection | None = None  # opened when this phone votes
    votes_cast: int = 0  # each vote changes the phone's choice (a repeated one stores nothing)

    @property
    def cookie_header(self) -> str:
        return f"{COOKIE}={self.cookie}" if self.cookie else ""

    def keep(self, response: Response) -> None:
        """A browser keeps every cookie the server sets; so does the phone."""
        self.cookie = response.cookies.get(COOKIE, self.cookie)

    def close(self) -> None:
        if self.socket is not None:
            self.socket.abort()
        if self.http is not None:
            self.http.abort()


def require(response: Response, status: int, what: str) -> Response:
    if response.status != status:
        snippet = response.body[:200].decode(errors="replace")
        raise RuntimeError(f"{what}: HTTP {response.status}, expected {status}: {snippet!r}")
    return response


async def join(site: Site, phone: Phone, http: HttpConnection) -> None:
    """As the join page does: load it (cookie, token), post the name as htmx does, and
    the answer is the session page."""
    page = require(await http.request("GET", f"/s/{site.code}"), 200, "join page")
    phone.keep(page)
    token = page.between(CSRF)
    if token is None:
        raise RuntimeError("no CSRF token on the join page")
    form = {"display_name": phone.name, "csrf_token": token}
    joined = await http.request(
        "POST",
        f"/s/{site.code}/join",
        cookie=phone.cookie_header,
        form=form,
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )
    read_session_page(phone, require(joined, 200, "join"))


async def load_session_page(site: Site, phone: Phone, http: HttpConnection) -> Response:
    """The session page: its CSRF token and the event number it was drawn at."""
    page = await http.request("GET", f"/s/{site.code}", cookie=phone.cookie_header)
    read_session_page(phone, require(page, 200, "session page"))
    return page


def read_session_page(phone: Phone, page: Response) -> None:
    phone.keep(page)
    token = page.between(CSRF)
    if token is None:
        raise RuntimeError("no CSRF token on the session page")
    phone.csrf = token
    drawn_at = page.between(PAGE_SEQ)
    phone.page_seq = int(drawn_at) if drawn_at else None


async def connect(site: Site, phone: Phone, watch: Watch, within_s: float) -> float:
    """Open the phone's websocket and say hello, as the page's script does; the handshake's
    duration in seconds (connect until 101)."""
    started = time.perf_counter()
    phone.socket = await open_socket(
        HOST,
        site.port,
        f"/ws/{site.code}/phone",
        origin=site.origin,
        cookie=phone.cookie_header,
        watch=watch,
        seen=phone.page_seq or 0,
        within_s=within_s,
    )
    handshake = time.perf_counter() - started
    phone.socket.send_text(json.dumps({"last_seq": phone.page_seq}))
    return handshake


Arrival = tuple[Phone, float, float]  # the phone, its join's and its handshake's seconds


async def storm(
    count: int, concurrency: int, arrive: Callable[[int], Awaitable[Arrival]]
) -> tuple[list[Phone], Storm]:
    """Every phone arrives at once, ``concurrency`` of them in flight at any moment."""
    gate = asyncio.Semaphore(concurrency)

    async def gated(number: int) -> Arrival:
        async with gate:
            return await arrive(number)

    started = time.perf_counter()
    arrived = await asyncio.gather(*(gated(n) for n in range(count)), return_exceptions=True)
    duration = time.perf_counter() - started
    done = [a for a in arrived if isinstance(a, tuple)]
    failures = Counter(
        f"{type(a).__name__}: {str(a)[:80]}" for a in arrived if isinstance(a, BaseException)
    )
    figures = Storm(
        phones=count,
        connected=len(done),
        failed=count - len(done),
        duration_s=duration,
        joins_per_s=len(done) / duration if duration > 0 else math.nan,
        join_p50_ms=ms(percentile((a[1] for a in done), 0.50)),
        join_p99_ms=ms(percentile((a[1] for a in done), 0.99)),
        handshake_p50_ms=ms(percentile((a[2] for a in done), 0.50)),
        handshake_p99_ms=ms(percentile((a[2] for a in done), 0.99)),
        failures=dict(failures.most_common(5)),
    )
    return [a[0] for a in done], figures


async def reached_everyone(reach: Reach, watch: Watch, within_s: float) -> bool:
    """Until every connected phone has the event (arrival times are taken by the sockets
    as frames land; this only waits)."""
    deadline = time.perf_counter() + within_s
    while reach.count < watch.open:
        if time.perf_counter() > deadline:
            return False
        await asyncio.sleep(0.005)
    return True


async def caught_up(sockets: list[LiveSocket], seq: int, within_s: float) -> list[LiveSocket]:
    """Until every open socket has event ``seq``; the ones still behind after ``within_s``."""
    deadline = time.perf_counter() + within_s
    while True:
        behind = [s for s in sockets if s.is_open and s.seen < seq]
        if not behind or time.perf_counter() > deadline:
            return behind
        await asyncio.sleep(0.05)


Cast = Callable[[], Awaitable[bool]]  # send one vote; whether it was acknowledged


async def time_votes(
    cast: Cast, first_seq: int, watch: Watch, options: Options, meter: Meter
) -> Latency:
    """Votes one at a time, each timed until the last phone has it.

    Each vote waits for the previous one to reach every phone and for ``--interval`` of
    quiet: what is measured is one vote's way to every screen, not a queue."""
    watch.forget()
    figures = Latency()
    timed: list[tuple[float, float, Reach]] = []  # sent at, acknowledged at, its reach
    for _ in range(options.votes):
        reach = watch.expect(first_seq + figures.votes_acknowledged + 1)
        started = time.perf_counter()
        acknowledged = await cast()
        figures.votes_sent += 1
        if acknowledged:
            figures.votes_acknowledged += 1
            timed.append((started, time.perf_counter(), reach))
            if await reached_everyone(reach, watch, options.timeout):
                figures.votes_everywhere += 1
        await asyncio.sleep(options.interval)
    everywhere = [(s, a, r) for s, a, r in timed if r.count >= watch.open]
    latencies = [r.last - s for s, _, r in everywhere]
    fan_outs = [r.last - r.first for _, _, r in everywhere]
    acks = [a - s for s, a, _ in timed]
    figures.latency_p50_ms = ms(percentile(latencies, 0.50))
    figures.latency_p99_ms = ms(percentile(latencies, 0.99))
    figures.fan_out_p50_ms = ms(percentile(fan_outs, 0.50))
    figures.fan_out_p99_ms = ms(percentile(fan_outs, 0.99))
    figures.ack_p50_ms = ms(percentile(acks, 0.50))
    figures.ack_p99_ms = ms(percentile(acks, 0.99))
    sizes = [r.frame_bytes for _, _, r in timed if r.count]
    figures.frame_bytes = int(median(sizes)) if sizes else 0
    figures.cost = meter.cost()
    return figures


# --- the app -----------------------------------------------------------------------------


class Facilitator:
    """Signs in as the demo's facilitator and moves the agenda, from the console's forms."""

    def __init__(self, site: Site, demo: Demo) -> None:
        self.site = site
        self.demo = demo
        self.http = HttpConnection(HOST, site.port)
        self.me = Phone("facilitator")  # a browser like any other: a cookie and a token

    async def sign_in(self) -> None:
        page = require(await self.http.request("GET", "/login"), 200, "login page")
        self.me.keep(page)
        form = {
            "email": self.demo.email,
            "password": self.demo.password,
            "csrf_token": page.between(CSRF) or "",
        }
        signed_in = await self.http.request(
            "POST", "/login", cookie=self.me.cookie_header, form=form
        )
        self.me.keep(require(signed_in, 303, "sign-in"))
        console = await self.http.request(
            "GET", f"/sessions/{self.demo.session_id}/console", cookie=self.me.cookie_header
        )
        self.me.keep(require(console, 200, "console"))
        self.me.csrf = console.between(CSRF) or ""

    async def move(self, move: str) -> int:
        answer = await self.http.request(
            "POST",
            f"/sessions/{self.demo.session_id}/agenda/{move}",
            cookie=self.me.cookie_header,
            form={"csrf_token": self.me.csrf},
        )
        self.me.keep(answer)
        return answer.status


class AppBench:
    """One run against the app: the server, its phones, and every scenario chosen."""

    def __init__(self, options: Options, workdir: Path, full: bool) -> None:
        self.options = options
        database_url = options.postgres or f"sqlite:///{workdir / 'bench.db'}"
        self.server = AppServer(workdir, database_url, options.redis or "memory://")
        self.tables = Tables(database_url)
        self.watch = Watch()
        self.phones: list[Phone] = []
        self.voter = Phone("Voter")
        self.full = full
        self.figures = AppRun(
            participants=options.participants,
            database="postgresql" if options.postgres else "sqlite",
            pubsub="redis" if options.redis else "memory",
            full=full,
        )
        self.site = Site(0, "", "")
        self.demo: Demo | None = None
        self.proposal_id = 0

    async def run(self) -> AppRun:
        profiler = None
        try:
            self.demo = await self.server.start(fresh_postgres=bool(self.options.postgres))
            self.site = Site(self.server.port, self.server.base, self.demo.code)
            if self.options.profile and self.full:
                profiler = start_profiler(self.server.pid, self.options.profile)
            await self._scenarios()
        finally:
            for phone in [*self.phones, self.voter]:
                phone.close()
            stop_profiler(profiler)
            self.server.stop()
            await self.tables.dispose()
            notable, first = self.server.notable_log_lines()
            self.figures.server_log_notable, self.figures.server_log_first = notable, first
        return self.figures

    async def _scenarios(self) -> None:
        options, figures = self.options, self.figures
        meter = Meter(self.server.pid)
        await self._propose()
        say(f"app: join storm, {options.participants} phones")
        await self._storm()
        if "latency" in options.scenarios:
            say(f"app: {options.votes} votes timed one at a time")
            figures.latency = await self._latency()
        if self.full and "step" in options.scenarios:
            say("app: the facilitator starts the agenda, then ends it")
            figures.steps = await self._steps()
        if self.full and "rates" in options.scenarios:
            for rate in options.vote_rates:
                say(f"app: {rate} votes/s for {options.vote_seconds:g} s")
                figures.rates.append(await self._rate(rate))
        if self.full and options.hold > 0:
            say(f"app: holding every phone for {options.hold:g} s")
            await hold(options.hold, self.watch)
            figures.hold_s = options.hold
        self._count_held()
        figures.votes_in_database = await self.tables.vote_rows()
        figures.server_rss_kib = rss_kib(self.server.pid)
        figures.cost = meter.cost()

    async def _propose(self) -> None:
        """The voter joins and proposes what everyone will watch being voted on."""
        self.voter.http = HttpConnection(HOST, self.site.port)
        await join(self.site, self.voter, self.voter.http)
        proposed = await self.voter.http.request(
            "POST",
            f"/s/{self.site.code}/proposals",
            cookie=self.voter.cookie_header,
            form={"text": "Un jardin partagé", "csrf_token": self.voter.csrf},
            headers=HTMX,
        )
        require(proposed, 200, "proposal")
        page = await load_session_page(self.site, self.voter, self.voter.http)
        found = PROPOSAL_ID.search(page.body)
        if found is None:
            raise RuntimeError("the proposal is not on the session page")
        self.proposal_id = int(found.group(1))

    async def _storm(self) -> None:
        options = self.options

        async def arrive(number: int) -> Arrival:
            phone = Phone(f"Phone {number}")
            http = HttpConnection(HOST, self.site.port)
            started = time.perf_counter()
            try:
                await join(self.site, phone, http)
            finally:
                http.abort()  # the page is loaded; a reset leaves no port in TIME_WAIT
            joined = time.perf_counter() - started
            return phone, joined, await connect(self.site, phone, self.watch, options.timeout)

        rss_before = rss_kib(self.server.pid)
        meter = Meter(self.server.pid)
        self.phones, figures = await storm(options.participants, options.concurrency, arrive)
        figures.cost = meter.cost()
        await asyncio.sleep(options.settle)  # hellos answered, catch-ups sent
        grown = rss_kib(self.server.pid) - rss_before
        figures.rss_per_phone_kib = grown / max(1, figures.connected)
        self.figures.storm = figures
        freeze_garbage()

    async def _latency(self) -> Latency:
        choices = itertools.cycle(CHOICES)
        voter, path = self.voter, self._vote_path()
        assert voter.http is not None

        async def cast() -> bool:
            assert voter.http is not None
            answer = await voter.http.request(
                "POST",
                path,
                cookie=voter.cookie_header,
                form={"choice": next(choices), "csrf_token": voter.csrf},
                headers=HTMX,
            )
            return answer.status == 200

        assert self.demo is not None
        first = await self.tables.session_seq(self.demo.session_id)
        figures = await time_votes(cast, first, self.watch, self.options, Meter(self.server.pid))
        last = await self.tables.session_seq(self.demo.session_id)
        figures.event_numbers_checked = last == first + figures.votes_acknowledged
        if not figures.event_numbers_checked:
            say(f"warning: {figures.votes_acknowledged} votes took events {first}→{last}")
        self.figures.votes_sent += figures.votes_sent
        self.figures.votes_acknowledged += figures.votes_acknowledged
        return figures

    def _vote_path(self) -> str:
        return f"/s/{self.site.code}/proposals/{self.proposal_id}/vote"

    async def _steps(self) -> list[Step]:
        """Start the agenda (every phone is sent the first step), then end it."""
        assert self.demo is not None
        facilitator = Facilitator(self.site, self.demo)
        try:
            await facilitator.sign_in()
            steps = []
            for move in ("start", "end"):
                meter = Meter(self.server.pid)
                seq = await self.tables.session_seq(self.demo.session_id)
                self.watch.forget()
                reach = self.watch.expect(seq + 1)
                started = time.perf_counter()
                step = Step(move, status=await facilitator.move(move))
                if step.status < 400 and await reached_everyone(
                    reach, self.watch, self.options.timeout
                ):
                    step.latency_ms = ms(reach.last - started)
                    step.fan_out_ms = ms(reach.last - reach.first)
                step.reached, step.frame_bytes = reach.count, reach.frame_bytes
                step.cost = meter.cost()
                steps.append(step)
                await asyncio.sleep(self.options.interval)
            return steps
        finally:
            facilitator.http.abort()

    async def _rate(self, rate: int) -> Rate:
        assert self.demo is not None
        voters = [p for p in self.phones if p.socket is not None][: self.options.voters]
        first = await self.tables.session_seq(self.demo.session_id)
        meter = Meter(self.server.pid)
        frames_before = self.watch.frames
        expect_samples(self.watch, first, round(rate * self.options.vote_seconds))
        window = await vote_at_rate(
            rate, self.options.vote_seconds, voters, self.site.port, self._vote_path()
        )
        figures = window.figures
        last = await self.tables.session_seq(self.demo.session_id)
        sockets = [p.socket for p in self.phones if p.socket is not None]
        behind = await caught_up(sockets, last, self.options.timeout)
        open_sockets = [s for s in sockets if s.is_open]
        if open_sockets and not behind and window.last_answer:
            figures.catch_up_ms = ms(max(s.seen_at for s in open_sockets) - window.last_answer)
        figures.phones_behind = len(behind)
        if open_sockets:
            figures.frames_per_phone = (self.watch.frames - frames_before) / len(open_sockets)
        screens_estimate(figures, window, first, last, self.watch)
        figures.cost = meter.cost()
        self.figures.votes_sent += figures.sent
        self.figures.votes_acknowledged += figures.acknowledged
        await asyncio.sleep(self.options.interval)
        return figures

    def _count_held(self) -> None:
        sockets = [p.socket for p in self.phones if p.socket is not None]
        self.figures.held = sum(1 for s in sockets if s.is_open)
        self.figures.dropped = self.options.participants - self.figures.held
        codes = Counter(str(s.close_code) for s in sockets if s.close_code is not None)
        self.figures.close_codes = dict(codes)


def expect_samples(watch: Watch, first_seq: int, votes: int) -> None:
    """Time about ``RATE_SAMPLES`` of the events a vote rate will make, evenly spread:
    each expected number costs a little on every frame of every phone."""
    watch.forget()
    every = max(1, votes // RATE_SAMPLES)
    for k in range(every, votes + 1, every):
        watch.expect(first_seq + k)


@dataclass
class Window:
    """What one vote rate did: its figures, when votes were sent, the last answer's time."""

    figures: Rate
    sends: list[float]
    last_answer: float


async def vote_at_rate(
    rate: int, seconds: float, voters: list[Phone], port: int, path: str
) -> Window:
    """Votes sent on a fixed schedule (open loop), each by the next free voter.

    A voter has one keep-alive connection and one vote in flight, as a phone does. When
    every voter waits for an answer the schedule slips: the server is not keeping up,
    and the achieved rate shows it. No vote is sent after ``seconds``."""
    figures = Rate(rate=rate, seconds=seconds)
    if not voters:
        say("warning: no phone is connected, so none votes")
        return Window(figures, [], 0.0)
    free: asyncio.Queue[Phone] = asyncio.Queue()
    for voter in voters:
        voter.http = voter.http or HttpConnection(HOST, port)
        free.put_nowait(voter)
    outcomes: list[tuple[str, float, float]] = []  # status or error, sent at, answered at

    async def cast(voter: Phone, choice: str) -> None:
        assert voter.http is not None
        sent = time.perf_counter()
        try:
            answer = await voter.http.request(
                "POST",
                path,
                cookie=voter.cookie_header,
                form={"choice": choice, "csrf_token": voter.csrf},
                headers=HTMX,
            )
            outcome = str(answer.status)
        except Exception as error:
            outcome = type(error).__name__
        finally:
            free.put_nowait(voter)
        outcomes.append((outcome, sent, time.perf_counter()))

    tasks: list[asyncio.Task[None]] = []
    started = time.perf_counter()
    for k in range(max(1, round(rate * seconds))):
        delay = started + k / rate - time.perf_counter()
        if delay > 0.001:  # due later: wait; due now or overdue: send at once
            await asyncio.sleep(delay)
        voter = await free.get()
        if time.perf_counter() - started > seconds:
            break
        # A voter's every vote changes its choice: the server stores a vote that repeats
        # the current choice as nothing (a retry), and the figures are of stored votes.
        voter.votes_cast += 1
        tasks.append(asyncio.create_task(cast(voter, CHOICES[voter.votes_cast % 3])))
    await asyncio.gather(*tasks)
    summarize_rate(figures, outcomes, started)
    answers = [a for outcome, _, a in outcomes if outcome == "200"]
    return Window(figures, sorted(s for _, s, _ in outcomes), max(answers, default=0.0))


def summarize_rate(figures: Rate, outcomes: list[tuple[str, float, float]], started: float) -> None:
    acknowledged = [(s, a) for outcome, s, a in outcomes if outcome == "200"]
    figures.sent = len(outcomes)
    figures.acknowledged = len(acknowledged)
    figures.refused = dict(Counter(o for o, _, _ in outcomes if o != "200"))
    shortest = 1 / figures.rate
    if outcomes:
        last_send = max(s for _, s, _ in outcomes)
        figures.offered_per_s = len(outcomes) / max(last_send - started, shortest)
    if acknowledged:
        last_answer = max(a for _, a in acknowledged)
        figures.achieved_per_s = len(acknowledged) / max(last_answer - started, shortest)
        figures.ack_p50_ms = ms(percentile((a - s for s, a in acknowledged), 0.50))
        figures.ack_p99_ms = ms(percentile((a - s for s, a in acknowledged), 0.99))
        last_second = [a - s for s, a in acknowledged if s - started >= figures.seconds - 1]
        if last_second:
            figures.ack_last_second_p50_ms = ms(percentile(last_second, 0.50))


def screens_estimate(figures: Rate, window: Window, first: int, last: int, watch: Watch) -> None:
    """Vote → every screen under load, estimated: event first + k is taken to be the k-th
    vote sent. Exact when the server commits votes in the order they arrive; otherwise
    each sample is off by the reordering, which is small next to the queue it measures."""
    latencies = []
    for seq, reach in watch.reach.items():
        k = seq - first
        if seq <= last and k <= len(window.sends) and reach.count >= max(1, watch.open):
            latencies.append(reach.last - window.sends[k - 1])
    figures.screen_p50_ms = ms(percentile(latencies, 0.50))
    figures.screen_p99_ms = ms(percentile(latencies, 0.99))


async def hold(seconds: float, watch: Watch) -> None:
    """Keep every phone connected (the sockets answer the server's pings meanwhile)."""
    deadline = time.perf_counter() + seconds
    while (left := deadline - time.perf_counter()) > 0:
        await asyncio.sleep(min(60.0, left))
        say(f"holding: {watch.open} phones connected, {max(0.0, left - 60):.0f} s to go")


def freeze_garbage() -> None:
    """Move the phones out of the collector's sight: with 10,000 sockets alive, every
    full collection would otherwise stall the load generator and delay arrival times."""
    gc.collect()
    gc.freeze()


# --- the baseline -------------------------------------------------------------------------


async def run_baseline(options: Options, frame_bytes: int) -> BaselineRun:
    """The same phones and the same timed votes against bench/baseline.py."""
    server = BaselineServer(frame_bytes)
    figures = BaselineRun(frame_bytes=frame_bytes)
    watch = Watch()
    phones: list[Phone] = []
    http = HttpConnection(HOST, server.http_port)
    site = Site(server.ws_port, server.base, "BENCH")
    try:
        await server.start()
        meter = Meter(server.pid)

        async def arrive(number: int) -> Arrival:
            phone = Phone(f"Phone {number}", page_seq=0)
            return phone, 0.0, await connect(site, phone, watch, options.timeout)

        say(f"baseline: {options.participants} phones connect")
        rss_before = rss_kib(server.pid)
        storm_meter = Meter(server.pid)
        phones, figures.storm = await storm(options.participants, options.concurrency, arrive)
        figures.storm.cost = storm_meter.cost()
        await asyncio.sleep(options.settle)
        grown = rss_kib(server.pid) - rss_before
        figures.storm.rss_per_phone_kib = grown / max(1, figures.storm.connected)
        freeze_garbage()

        async def cast() -> bool:
            return (await http.request("POST", "/vote")).status == 200

        say(f"baseline: {options.votes} votes timed one at a time")
        figures.latency = await time_votes(cast, 0, watch, options, Meter(server.pid))
        figures.held = watch.open
        figures.dropped = options.participants - figures.held
        figures.cost = meter.cost()
    finally:
        for phone in phones:
            phone.close()
        http.abort()
        gc.unfreeze()
        server.stop()
    return figures


# --- the whole benchmark -------------------------------------------------------------------


async def run_app(options: Options, full: bool) -> AppRun:
    with tempfile.TemporaryDirectory(prefix="cocreate-bench-") as workdir:
        try:
            return await AppBench(options, Path(workdir), full).run()
        finally:
            gc.unfreeze()


async def benchmark(options: Options) -> list[Pair]:
    """App, baseline, app, baseline…: side by side, so that drifts hit both alike."""
    pairs = []
    for number in range(options.runs):
        say(f"run {number + 1} of {options.runs}")
        pair = Pair(await run_app(options, full=number == 0))
        latency = pair.app.latency
        if "baseline" in options.scenarios and latency is not None and latency.frame_bytes:
            pair.baseline = await run_baseline(options, latency.frame_bytes)
            pair.ratios = ratios(pair.app, pair.baseline)
        pairs.append(pair)
    return pairs


def raise_open_files_limit(options: Options) -> None:
    """Each phone is a socket here and one in the server (which inherits the limit), plus
    the voters' and the joining phones' HTTP connections."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    needed = options.participants + options.voters + options.concurrency + 100
    if hard < needed:
        say(f"warning: at most {hard} open files, about {needed} needed: phones will fail")


def main(argv: list[str] | None = None) -> None:
    options = parse_options(argv)
    raise_open_files_limit(options)
    pace_us = python_pace_us()  # before any server runs: the machine at rest
    try:
        import uvloop
    except ImportError:
        pairs = asyncio.run(benchmark(options))
    else:
        pairs = uvloop.run(benchmark(options))
    print_report(pairs, options, pace_us)
    out = write_results(pairs, options, pace_us)
    print(f"\nwritten to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
