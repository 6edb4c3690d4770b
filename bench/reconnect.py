"""Seconds until phones cut off the network are caught up again, in a real browser.

Run: ``python bench/reconnect.py`` (a few minutes; prints figures, asserts nothing).
Starts ``cocreate serve`` on SQLite with the demo session (as bench/live.py does) behind
a TCP proxy that cuts the network for real (bench/netcut.py: open connections reset,
new ones refused), and ``--phones`` phone pages in Debian's Chromium (a browser context
each: their own cookie), joined through the proxy and live. Then:

- ``cut``, ``--cuts`` times: the network goes for ``--cut-seconds``; meanwhile another
  participant, on the server's side of the cut, sends a proposal; the network comes
  back, and for each phone the time from then until its page shows that proposal (it
  reconnected and was sent what it missed, without a reload) is taken.
- ``restart``: the server is stopped and started again on the same port and database;
  a proposal is sent as soon as it answers; for each phone, the time from the server
  answering again until its page shows it.

Targets (issue 22): p95 within 2 s after the network returns, 5 s after a restart. The
phones' script backs off to 1.5 s at most between tries (static/js/cocreate.js), and
tries at once on the browser's ``online`` event, which a cut proxy does not fire: these
figures are the worst case of a network that comes back without a word.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from netcut import NetCut
from pdf import sign_in
from playwright.async_api import async_playwright
from servers import HOST, AppServer, Demo, wait_for_port

CHROMIUM = os.environ.get("COCREATE_CHROMIUM", "/usr/bin/chromium")
# A phone's page is in the foreground, in its own browser: here a hundred share one, and
# Chromium would align the timers of those it deems in the background to whole seconds.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def report(label: str, seconds: list[float], target: float) -> None:
    print(
        f"{label:<26} n={len(seconds):<4} p50 {statistics.median(seconds):5.2f} s   "
        f"p95 {percentile(seconds, 0.95):5.2f} s   max {max(seconds):5.2f} s   "
        f"(target p95 ≤ {target:.0f} s)"
    )


async def join(browser: Any, base: str, code: str, number: int) -> Any:
    context = await browser.new_context(viewport={"width": 360, "height": 640})
    page = await context.new_page()
    await page.goto(f"{base}/s/{code}")
    await page.fill("#display_name", f"Phone {number}")
    await page.click("button.primary")
    await page.locator(".connection", has_text="Live").wait_for(timeout=60_000)
    return page


async def caught_up(page: Any, text: str, since: float) -> float:
    await page.locator("#wall .card", has_text=text).wait_for(timeout=120_000)
    return time.monotonic() - since


def propose(base: str, code: str, text: str) -> None:
    """Another participant, on the server's side of the cut, sends a proposal."""
    with httpx.Client(base_url=base, timeout=30) as client:
        page = client.get(f"/s/{code}")
        token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        joined = client.post(
            f"/s/{code}/join", data={"display_name": "Sender", "csrf_token": token}
        )
        assert joined.status_code == 303, joined.status_code
        page = client.get(f"/s/{code}")
        token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        sent = client.post(f"/s/{code}/proposals", data={"text": text, "csrf_token": token})
        assert sent.status_code in (200, 303), sent.status_code


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="cocreate-bench-reconnect-") as workdir:
        server = AppServer(Path(workdir), f"sqlite:///{Path(workdir) / 'bench.db'}", "memory://")
        demo: Demo = await server.start(fresh_postgres=False)
        direct = f"http://{HOST}:{server.port}"
        with httpx.Client(base_url=direct) as client:
            sign_in(client, demo)  # the demo is ready to be served
        proxy = await NetCut(HOST, server.port).start()
        try:
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
                pages: list[Any] = []
                for start in range(0, args.phones, 10):
                    pages += await asyncio.gather(
                        *(
                            join(browser, proxy.base_url, demo.code, n)
                            for n in range(start, min(start + 10, args.phones))
                        )
                    )
                print(f"{len(pages)} phones live; load average {os.getloadavg()[0]:.1f}")

                after_cut: list[float] = []
                for cut in range(args.cuts):
                    proxy.cut()
                    await asyncio.sleep(args.cut_seconds / 2)
                    text = f"Pendant la coupure {cut + 1}"
                    await asyncio.to_thread(propose, direct, demo.code, text)
                    await asyncio.sleep(args.cut_seconds / 2)
                    back = time.monotonic()
                    proxy.restore()
                    after_cut += await asyncio.gather(*(caught_up(p, text, back) for p in pages))

                assert server.process is not None
                server.stop()
                await asyncio.sleep(args.cut_seconds / 4)
                server.process = server._launch()
                await wait_for_port(server.port, server.process, within_s=30)
                answering = time.monotonic()
                await asyncio.to_thread(propose, direct, demo.code, "Après le redémarrage")
                after_restart = await asyncio.gather(
                    *(caught_up(p, "Après le redémarrage", answering) for p in pages)
                )
                await browser.close()
        finally:
            await proxy.close()
            server.stop()
    print(f"load average {os.getloadavg()[0]:.1f} (the machine may be shared)")
    report(f"after a {args.cut_seconds:.0f} s cut", after_cut, 2)
    report("after a server restart", list(after_restart), 5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phones", type=int, default=100)
    parser.add_argument("--cuts", type=int, default=3)
    parser.add_argument("--cut-seconds", type=float, default=20.0)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
