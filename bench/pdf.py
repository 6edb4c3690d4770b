"""Seconds until the PDF minutes of a session: the first a fresh server makes, and the next.

Run: ``python bench/pdf.py`` (a minute or two; prints figures, asserts nothing). Each
round starts a fresh ``cocreate serve`` on SQLite with the demo session (as bench/live.py
does), signs the facilitator in over HTTP and times ``GET /sessions/ID/minutes.pdf``:

- ``first, cold``: the PDF is asked for as soon as the server answers (the facilitator
  signed in): the worst case, a worker still starting or warming up, if not started by
  this request (``COCREATE_WARM_UP=false``);
- ``first, after pause``: the same after a pause of ``--pause`` seconds, without any
  QR code before (a session held without a projector);
- ``first, after QR``: the projector's QR code came first (the workers started with it),
  then a pause of ``--pause`` seconds, as a facilitator would take before asking for the
  minutes; then the PDF;
- ``next``: the PDFs asked for after the first, alternately in French and in English.

The machine may be shared: the load average is printed with the figures, and the median
and the worst of the rounds are given, not one run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import tempfile
import time
from pathlib import Path
from statistics import median

import httpx
from servers import HOST, AppServer, Demo

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def sign_in(client: httpx.Client, demo: Demo) -> None:
    page = client.get("/login")
    token = CSRF.search(page.text)
    form = {"email": demo.email, "password": demo.password, "csrf_token": token[1] if token else ""}
    signed_in = client.post("/login", data=form)
    if signed_in.status_code != 303:
        raise RuntimeError(f"sign-in answered {signed_in.status_code}")


def timed_pdf(client: httpx.Client, session_id: int, lang: str) -> float:
    start = time.perf_counter()
    answer = client.get(f"/sessions/{session_id}/minutes.pdf", params={"lang": lang})
    took = time.perf_counter() - start
    if answer.status_code != 200 or not answer.content.startswith(b"%PDF-"):
        raise RuntimeError(f"the PDF answered {answer.status_code}: {answer.text[:200]}")
    return took


def one_round(
    after_qr: bool, pause_s: float, nexts: int, *, pause_first: bool = False
) -> tuple[float, list[float]]:
    """(first PDF, next PDFs) in seconds, on a fresh server."""
    with tempfile.TemporaryDirectory(prefix="cocreate-bench-pdf-") as workdir:
        server = AppServer(Path(workdir), f"sqlite:///{Path(workdir) / 'bench.db'}", "memory://")
        try:
            demo = asyncio.run(server.start(fresh_postgres=False))
            base = f"http://{HOST}:{server.port}"
            with httpx.Client(base_url=base, timeout=120) as client:
                sign_in(client, demo)
                if after_qr:
                    client.get(f"/s/{demo.code}/qr.svg").raise_for_status()
                if after_qr or pause_first:
                    time.sleep(pause_s)
                first = timed_pdf(client, demo.session_id, "fr")
                langs = ("en", "fr")
                return first, [
                    timed_pdf(client, demo.session_id, langs[n % 2]) for n in range(nexts)
                ]
        finally:
            server.stop()


def line(label: str, figures: list[float]) -> str:
    return f"{label:<18} median {median(figures):5.2f} s   worst {max(figures):5.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="fresh servers per scenario")
    parser.add_argument("--pause", type=float, default=5.0, help="seconds after the QR code")
    parser.add_argument("--next", type=int, default=4, help="PDFs after the first, per round")
    options = parser.parse_args()
    cold: list[float] = []
    after_qr: list[float] = []
    after_pause: list[float] = []
    nexts: list[float] = []
    for _ in range(options.rounds):
        first, more = one_round(after_qr=False, pause_s=0, nexts=options.next)
        cold.append(first)
        nexts.extend(more)
        first, more = one_round(after_qr=True, pause_s=options.pause, nexts=0)
        after_qr.append(first)
        first, more = one_round(after_qr=False, pause_s=options.pause, nexts=0, pause_first=True)
        after_pause.append(first)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(line("first, cold", cold))
    print(line("first, after pause", after_pause))
    print(line("first, after QR", after_qr))
    print(line("next", nexts))


if __name__ == "__main__":
    main()
