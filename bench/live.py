"""Load benchmark of one live session: N phones joined, connected and watching votes.

Starts the real server (`cocreate serve`, one worker) on loopback with a fresh database,
then acts as N phones from this process exactly as the phone page does: it loads the
page, joins with a name (form post with the CSRF token), opens the websocket without
compression and says hello. One more phone then votes, again and again, and every
phone's arrival time of the frame carrying each vote is recorded.

Prints a table and writes the figures as JSON under bench/results/. Never part of
`make test`: run `make bench` (or `python bench/live.py --help`).

What it measures so far: join storm (duration, handshake p50/p99), phones held and
dropped, votes acknowledged and found in the database, vote → every screen latency
(p50/p99 over votes of the time until the *last* phone has it), the spread of one
fan-out (first to last phone), server RSS per connected phone and server CPU time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import resource
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path

import httpx
import websockets

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
CODE_RE = re.compile(r"/s/([A-Z0-9]{6})\b")
PAGE_SEQ_RE = re.compile(r'id="live-seq" data-seq="(\d+)"')
COOKIE = "cocreate"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


@dataclass
class Phone:
    cookie: str = ""
    csrf: str = ""
    page_seq: int | None = None  # the event number the phone's page was drawn at
    socket: websockets.ClientConnection | None = None
    # (event number, arrival time) of every frame this phone received.
    frames: list[tuple[int, float]] = field(default_factory=list)

    def reached(self, seq: int) -> float | None:
        """When the first frame at or past this event number arrived."""
        return next((at for number, at in self.frames if number >= seq), None)


@dataclass
class Figures:
    participants: int
    held: int = 0
    dropped: int = 0
    join_storm_s: float = 0.0
    handshake_p50_ms: float = 0.0
    handshake_p99_ms: float = 0.0
    votes_sent: int = 0
    votes_acknowledged: int = 0
    votes_in_database: int = 0
    latency_p50_ms: float = 0.0
    latency_p99_ms: float = 0.0
    fan_out_spread_p50_ms: float = 0.0
    rss_per_phone_kib: float = 0.0
    server_cpu_s: float = 0.0


class Server:
    """`cocreate serve` on loopback, with a fresh database and the demo session."""

    def __init__(self, workdir: Path, database_url: str, pubsub_url: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = os.environ | {
            "COCREATE_DATABASE_URL": database_url,
            "COCREATE_PUBSUB_URL": pubsub_url,
            "COCREATE_SECRET_KEY": "bench-" + "x" * 40,
            "COCREATE_PORT": str(self.port),
            "COCREATE_DEFAULT_LOCALE": "en",
        }
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None
        self.code = ""

    def _cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "cocreate", *args],
            env=self.env,
            cwd=self.workdir,
            capture_output=True,
            check=True,
        )
        return done.stdout.decode()

    def launch(self) -> None:
        """Migrate a fresh database, create the demo session, start serving."""
        self._cli("db", "upgrade")
        demo = self._cli("demo")
        match = CODE_RE.search(demo)
        assert match, demo
        self.code = match.group(1)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cocreate", "serve"],
            env=self.env,
            cwd=self.workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    async def ready(self) -> None:
        async with httpx.AsyncClient(base_url=self.base) as http:
            for _ in range(200):
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/health")).status_code == 200:
                        return
                await asyncio.sleep(0.05)
        raise RuntimeError("the server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)


async def join(http: httpx.AsyncClient, code: str, name: str) -> Phone:
    """As the join page does: load it (session cookie, CSRF token), post the name."""
    phone = Phone()
    page = await http.get(f"/s/{code}")
    phone.cookie = page.cookies[COOKIE]
    token = CSRF_RE.search(page.text)
    assert token, page.text[:200]
    joined = await http.post(
        f"/s/{code}/join",
        data={"display_name": name, "csrf_token": token.group(1)},
        headers={"Cookie": f"{COOKIE}={phone.cookie}"},
    )
    assert joined.status_code == 303, joined.text[:300]
    phone.cookie = joined.cookies[COOKIE]
    session_page = await http.get(f"/s/{code}", headers={"Cookie": f"{COOKIE}={phone.cookie}"})
    token = CSRF_RE.search(session_page.text)
    assert token
    phone.csrf = token.group(1)
    drawn_at = PAGE_SEQ_RE.search(session_page.text)
    phone.page_seq = int(drawn_at.group(1)) if drawn_at else None
    return phone


async def connect(server: Server, phone: Phone) -> float:
    """Open the phone's websocket and say hello; the handshake's duration in seconds."""
    started = time.perf_counter()
    phone.socket = await websockets.connect(
        f"ws://127.0.0.1:{server.port}/ws/{server.code}/phone",
        origin=server.base,  # type: ignore[arg-type]
        additional_headers={"Cookie": f"{COOKIE}={phone.cookie}"},
        compression=None,
        open_timeout=60,
        max_queue=None,
    )
    # The page's script says hello with the event number the page was drawn at.
    await phone.socket.send(json.dumps({"last_seq": phone.page_seq}))
    return time.perf_counter() - started


VOTE_MARK = re.compile(r'id="live-seq" hx-swap-oob="true" data-seq="(\d+)"')


async def listen(phone: Phone) -> None:
    """Record the event number and arrival time of every frame."""
    assert phone.socket is not None
    with contextlib.suppress(websockets.ConnectionClosed):
        async for frame in phone.socket:
            now = time.perf_counter()
            match = VOTE_MARK.search(str(frame))
            if match is not None:
                phone.frames.append((int(match.group(1)), now))


async def run(args: argparse.Namespace) -> Figures:
    figures = Figures(participants=args.participants)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        database_url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
        server = Server(workdir, database_url, args.pubsub_url)
        server.launch()
        await server.ready()
        assert server.process is not None
        pid = server.process.pid
        limits = httpx.Limits(max_connections=args.concurrency)
        try:
            async with httpx.AsyncClient(
                base_url=server.base, limits=limits, timeout=60, follow_redirects=False
            ) as http:
                # One client for every phone: it must keep no cookie of its own, each phone
                # sends its own.
                http.cookies.jar.set_policy(DefaultCookiePolicy(allowed_domains=[]))
                # The voter joins and proposes what everyone will watch being voted on.
                voter = await join(http, server.code, "Voter")
                headers = {"Cookie": f"{COOKIE}={voter.cookie}", "HX-Request": "true"}
                await http.post(
                    f"/s/{server.code}/proposals",
                    data={"text": "Un jardin partagé", "csrf_token": voter.csrf},
                    headers=headers,
                )
                page = await http.get(f"/s/{server.code}", headers=headers)
                proposal_id = int(re.findall(r'id="proposal-(\d+)"', page.text)[0])

                rss_before = rss_kib(pid)
                cpu_before = cpu_seconds(pid)
                # Join storm: every phone joins and connects at once.
                gate = asyncio.Semaphore(args.concurrency)

                async def arrive(number: int) -> tuple[Phone, float]:
                    async with gate:
                        phone = await join(http, server.code, f"Phone {number}")
                        return phone, await connect(server, phone)

                storm_started = time.perf_counter()
                arrived = await asyncio.gather(
                    *(arrive(n) for n in range(args.participants)), return_exceptions=True
                )
                figures.join_storm_s = time.perf_counter() - storm_started
                failures = [a for a in arrived if isinstance(a, BaseException)]
                if failures:
                    print(f"{len(failures)} phones could not join; the first: {failures[0]!r}")
                phones = [a[0] for a in arrived if isinstance(a, tuple)]
                handshakes = [a[1] for a in arrived if isinstance(a, tuple)]
                figures.dropped = args.participants - len(phones)
                figures.handshake_p50_ms = 1000 * percentile(handshakes, 0.50)
                figures.handshake_p99_ms = 1000 * percentile(handshakes, 0.99)

                seq_of_vote: dict[int, int] = {}
                listeners = [asyncio.create_task(listen(p)) for p in phones]
                await asyncio.sleep(args.settle)
                figures.rss_per_phone_kib = (rss_kib(pid) - rss_before) / max(1, len(phones))

                sent_at: dict[int, float] = {}
                choices = ("for", "against", "abstain")
                for vote in range(args.votes):
                    started = time.perf_counter()
                    answer = await http.post(
                        f"/s/{server.code}/proposals/{proposal_id}/vote",
                        data={"choice": choices[vote % 3], "csrf_token": voter.csrf},
                        headers=headers,
                    )
                    figures.votes_sent += 1
                    if answer.status_code == 200:
                        figures.votes_acknowledged += 1
                        sent_at[vote] = started
                        seq_of_vote[vote] = read_seq(database_url)
                    await asyncio.sleep(args.interval)
                await asyncio.sleep(args.settle)

                latencies, spreads = [], []
                for vote, started in sent_at.items():
                    reached = [p.reached(seq_of_vote[vote]) for p in phones]
                    arrivals = [at for at in reached if at is not None]
                    if arrivals and len(arrivals) == len(phones):
                        latencies.append(max(arrivals) - started)
                        spreads.append(max(arrivals) - min(arrivals))
                figures.latency_p50_ms = 1000 * percentile(latencies, 0.50)
                figures.latency_p99_ms = 1000 * percentile(latencies, 0.99)
                figures.fan_out_spread_p50_ms = 1000 * percentile(spreads, 0.50)
                figures.held = sum(
                    1 for p in phones if p.socket is not None and p.socket.close_code is None
                )
                figures.dropped += len(phones) - figures.held
                figures.server_cpu_s = cpu_seconds(pid) - cpu_before
                figures.votes_in_database = count_votes(database_url)
                for task in listeners:
                    task.cancel()
                await asyncio.gather(
                    *(p.socket.close() for p in phones if p.socket is not None),
                    return_exceptions=True,
                )
        finally:
            server.stop()
    return figures


def _sqlite_path(database_url: str) -> str:
    if not database_url.startswith("sqlite:///"):
        raise SystemExit("counting in the database is done for SQLite only so far")
    return database_url.removeprefix("sqlite:///")


def read_seq(database_url: str) -> int:
    """The event number the last vote took (the session's latest)."""
    with contextlib.closing(sqlite3.connect(_sqlite_path(database_url))) as db:
        return int(db.execute("SELECT max(seq) FROM session").fetchone()[0])


def count_votes(database_url: str) -> int:
    """Every vote row, superseded ones included: one per acknowledged vote."""
    with contextlib.closing(sqlite3.connect(_sqlite_path(database_url))) as db:
        return int(db.execute("SELECT count(*) FROM vote").fetchone()[0])


def print_table(figures: Figures) -> None:
    rows = [
        ("participants", f"{figures.participants}"),
        ("held / dropped", f"{figures.held} / {figures.dropped}"),
        ("join storm", f"{figures.join_storm_s:.2f} s"),
        (
            "handshake p50 / p99",
            f"{figures.handshake_p50_ms:.0f} / {figures.handshake_p99_ms:.0f} ms",
        ),
        (
            "votes sent / acknowledged / in database",
            f"{figures.votes_sent} / {figures.votes_acknowledged} / {figures.votes_in_database}",
        ),
        (
            "vote → every screen p50 / p99",
            f"{figures.latency_p50_ms:.0f} / {figures.latency_p99_ms:.0f} ms",
        ),
        ("one fan-out, first to last phone (p50)", f"{figures.fan_out_spread_p50_ms:.0f} ms"),
        ("server RSS per phone", f"{figures.rss_per_phone_kib:.1f} KiB"),
        ("server CPU during the run", f"{figures.server_cpu_s:.1f} s"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", "-n", type=int, default=1000)
    parser.add_argument("--votes", type=int, default=20, help="votes to time")
    parser.add_argument("--interval", type=float, default=0.3, help="seconds between votes")
    parser.add_argument("--concurrency", type=int, default=200, help="joins in flight at once")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds to let frames land")
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    parser.add_argument("--pubsub-url", default="memory://")
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the server inherits it too
    figures = asyncio.run(run(args))
    print_table(figures)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"live-{args.participants}.json"
    out.write_text(json.dumps(asdict(figures), indent=2) + "\n")
    print(f"\nwritten to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
