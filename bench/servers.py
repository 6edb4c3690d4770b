"""The processes under test and how they are read: the app, the baseline, /proc, the database.

Both servers run as their own processes on loopback, started fresh for every run, so
that their memory and CPU can be read from /proc without the load generator's.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from cocreate.database import make_engine

HOST = "127.0.0.1"
BENCH = Path(__file__).resolve().parent
LOG_NOTABLE = re.compile(r"Traceback|ERROR|CRITICAL|WARNING|Exception")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def rss_kib(pid: int) -> int:
    """Resident memory of a process, as the kernel counts it."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """This process's CPU time: the load generator's, to compare with the server's."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Cost:
    """What one phase took: wall time, and CPU of the server and of this load generator.

    When the load generator's CPU nears the wall time, it is the bottleneck and the
    server's figures are not to be trusted."""

    wall_s: float = 0.0
    server_cpu_s: float = 0.0
    bench_cpu_s: float = 0.0


class Meter:
    """Measures the cost of a phase: ``meter = Meter(pid)``, then ``meter.cost()``."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.wall = time.perf_counter()
        self.server = cpu_seconds(pid)
        self.bench = own_cpu_seconds()

    def cost(self) -> Cost:
        return Cost(
            wall_s=time.perf_counter() - self.wall,
            server_cpu_s=cpu_seconds(self.pid) - self.server,
            bench_cpu_s=own_cpu_seconds() - self.bench,
        )


async def wait_for_port(port: int, process: subprocess.Popen[bytes], within_s: float) -> None:
    """Until something accepts connections on the port (or the process has died)."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} while starting")
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection(HOST, port)
            writer.transport.abort()
            return
        await asyncio.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {within_s:.0f} s")


def stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


# --- the app -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Demo:
    """What `cocreate demo` prints: the live session and how the facilitator signs in."""

    code: str
    session_id: int
    email: str
    password: str


def parse_demo(output: str) -> Demo:
    code = re.search(r"/s/([A-Z0-9]{6})\b", output)
    session_id = re.search(r"/sessions/(\d+)/console", output)
    email = re.search(r"e-mail\s*:\s*(\S+)", output)
    password = re.search(r"password\s*:\s*(\S+)", output)
    if not (code and session_id and email and password):
        raise RuntimeError(f"cannot read the demo's details from:\n{output}")
    return Demo(code.group(1), int(session_id.group(1)), email.group(1), password.group(1))


class AppServer:
    """`cocreate serve` (one worker) on loopback, with an empty database and the demo."""

    def __init__(self, workdir: Path, database_url: str, pubsub_url: str) -> None:
        self.port = free_port()
        self.base = f"http://{HOST}:{self.port}"
        self.database_url = database_url
        self.workdir = workdir
        self.log_path = workdir / "server.log"
        self.env = os.environ | {
            "COCREATE_DATABASE_URL": database_url,
            "COCREATE_PUBSUB_URL": pubsub_url,
            "COCREATE_SECRET_KEY": "bench-" + "x" * 40,
            "COCREATE_HOST": HOST,
            "COCREATE_PORT": str(self.port),
            "COCREATE_DEFAULT_LOCALE": "en",
            # Every phone of the bench joins from this one address.
            "COCREATE_JOINS_PER_MINUTE": "0",
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def _cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "cocreate", *args],
            env=self.env,
            cwd=self.workdir,
            capture_output=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"cocreate {' '.join(args)} failed:\n{done.stderr.decode()}")
        return done.stdout.decode()

    async def start(self, *, fresh_postgres: bool) -> Demo:
        """Empty the database, migrate it, create the demo session, start serving."""
        if fresh_postgres:
            await reset_postgres(self.database_url)
        self._cli("db", "upgrade")
        demo = parse_demo(self._cli("demo"))
        self.process = self._launch()
        await wait_for_port(self.port, self.process, within_s=30)
        return demo

    def _launch(self) -> subprocess.Popen[bytes]:
        with self.log_path.open("wb") as log:
            # The access log goes to stdout: dropped. Warnings and errors are kept.
            return subprocess.Popen(
                [sys.executable, "-m", "cocreate", "serve"],
                env=self.env,
                cwd=self.workdir,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )

    def stop(self) -> None:
        stop(self.process)

    def notable_log_lines(self, limit: int = 20) -> tuple[int, list[str]]:
        """How many lines of the server's log are warnings or errors, and the first few."""
        if not self.log_path.exists():
            return 0, []
        lines = self.log_path.read_text(errors="replace").splitlines()
        notable = [line for line in lines if LOG_NOTABLE.search(line)]
        return len(notable), notable[:limit]


async def reset_postgres(url: str) -> None:
    """Drop and recreate schema ``public``: the run starts from an empty database.

    Only ever called under the explicit ``--postgres`` flag: it destroys every table."""
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
            await connection.execute(sa.text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()


class Tables:
    """Read-only looks into the app's database, from the load generator.

    Only a handful of reads per run (never one per vote at high rates): the session's
    current event number before and after a series of writes, and the votes stored."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)

    async def session_seq(self, session_id: int) -> int:
        async with self.engine.connect() as connection:
            result = await connection.execute(
                sa.text("SELECT seq FROM session WHERE id = :id"), {"id": session_id}
            )
            return int(result.scalar_one())

    async def vote_rows(self) -> int:
        """Every vote row, superseded ones included: one per acknowledged vote."""
        async with self.engine.connect() as connection:
            return int(
                (await connection.execute(sa.text("SELECT count(*) FROM vote"))).scalar_one()
            )

    async def dispose(self) -> None:
        await self.engine.dispose()


def start_profiler(pid: int, output: str) -> subprocess.Popen[bytes]:
    """py-spy sampling the server from outside; collapsed stacks, one line each."""
    beside = Path(sys.executable).with_name("py-spy")
    binary = str(beside) if beside.exists() else (shutil.which("py-spy") or "py-spy")
    rate = os.environ.get("PYSPY_RATE", "200")  # samples per second: more for short phases
    arguments = ["--pid", str(pid), "--format", "raw", "--rate", rate, "--nonblocking"]
    return subprocess.Popen(
        [binary, "record", *arguments, "--output", output],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop_profiler(profiler: subprocess.Popen[bytes] | None) -> None:
    if profiler is not None and profiler.poll() is None:
        profiler.send_signal(2)  # py-spy writes its output on SIGINT
        profiler.wait(timeout=60)


# --- the baseline ------------------------------------------------------------------------


class BaselineServer:
    """bench/baseline.py as its own process, sending frames of the app's vote frame size."""

    def __init__(self, frame_bytes: int) -> None:
        self.ws_port = free_port()
        self.http_port = free_port()
        self.base = f"http://{HOST}:{self.ws_port}"
        self.frame_bytes = frame_bytes
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def start(self) -> None:
        self.process = self._launch()
        await wait_for_port(self.http_port, self.process, within_s=30)
        await wait_for_port(self.ws_port, self.process, within_s=30)

    def _launch(self) -> subprocess.Popen[bytes]:
        ports = ["--ws-port", str(self.ws_port), "--http-port", str(self.http_port)]
        size = ["--frame-bytes", str(self.frame_bytes)]
        return subprocess.Popen(
            [sys.executable, str(BENCH / "baseline.py"), *ports, *size],
            stdout=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        stop(self.process)
