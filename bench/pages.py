"""What a phone downloads, and how long it waits, on a slow mobile network.

Run: ``python bench/pages.py`` (a minute; prints figures, asserts nothing). Starts
``cocreate serve`` on SQLite with the demo session (as bench/live.py does), adds 10
proposals and 4 open polls, and opens the phone's pages in Debian's Chromium with its
network emulated as slow 3G (400 kbit/s down and up, 400 ms of latency), its cache empty:

- ``join page, first visit``: bytes transferred (headers and bodies, as compressed on
  the wire) and responses, and the time until the page's load event;
- ``session page``: after joining, the session page's HTML alone, and as sent
  (gzip-compressed, its CSRF token masked afresh: SECURITY.md says why that is safe);
- ``join page, second visit``: what the browser asks again (static files are kept a
  year: nothing but the page).

Targets (issue 22): join page first visit ≤ 45 KB transferred and ≤ 1.5 s at slow 3G;
session page with 10 proposals and 4 polls ≤ 20 KB compressed.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from pdf import sign_in
from playwright.async_api import async_playwright
from servers import HOST, AppServer

CHROMIUM = os.environ.get("COCREATE_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SLOW_3G = {
    "offline": False,
    "latency": 400,
    "downloadThroughput": 400_000 / 8,
    "uploadThroughput": 400_000 / 8,
}


def populate(base: str, demo: Any) -> None:
    """10 proposals by a participant, 4 polls opened by the facilitator."""
    with httpx.Client(base_url=base, timeout=30) as phone:
        token = _token(phone.get(f"/s/{demo.code}").text)
        phone.post(f"/s/{demo.code}/join", data={"display_name": "Bench", "csrf_token": token})
        token = _token(phone.get(f"/s/{demo.code}").text)
        for n in range(10):
            text = f"Proposition {n + 1} : une idée de taille ordinaire pour le quartier"
            phone.post(f"/s/{demo.code}/proposals", data={"text": text, "csrf_token": token})
    with httpx.Client(base_url=base, timeout=30) as fac:
        sign_in(fac, demo)
        console = fac.get(f"/sessions/{demo.session_id}/console").text
        token = _token(console)
        for n, method in enumerate(("yes_no", "judgment", "approval", "irv")):
            fac.post(
                f"/sessions/{demo.session_id}/polls",
                data={
                    "question": f"Question {n + 1} ?",
                    "method": method,
                    "options": "Option A\nOption B\nOption C",
                    "secret": "1",
                    "csrf_token": token,
                },
            )
        console = fac.get(f"/sessions/{demo.session_id}/console").text
        for poll_id in sorted(set(_poll_ids(console))):
            fac.post(
                f"/sessions/{demo.session_id}/polls/{poll_id}/open",
                data={"csrf_token": token},
            )


def _token(html: str) -> str:
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def _poll_ids(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'<article id="poll-(\d+)"', html)]


async def visit(
    browser: Any, url: str, context: Any | None = None
) -> tuple[Any, Any, dict[str, float]]:
    context = context or await browser.new_context(viewport={"width": 360, "height": 640})
    page = await context.new_page()
    cdp = await context.new_cdp_session(page)
    await cdp.send("Network.enable")
    await cdp.send("Network.emulateNetworkConditions", SLOW_3G)
    figures = {"bytes": 0.0, "responses": 0.0}

    def finished(event: dict[str, Any]) -> None:
        figures["bytes"] += event.get("encodedDataLength", 0)
        figures["responses"] += 1

    cdp.on("Network.loadingFinished", finished)
    start = time.monotonic()
    await page.goto(url, wait_until="load")
    figures["seconds"] = time.monotonic() - start
    await asyncio.sleep(0.5)  # the last loadingFinished events
    return context, page, figures


async def run() -> None:
    with tempfile.TemporaryDirectory(prefix="cocreate-bench-pages-") as workdir:
        server = AppServer(Path(workdir), f"sqlite:///{Path(workdir) / 'bench.db'}", "memory://")
        demo = await server.start(fresh_postgres=False)
        base = f"http://{HOST}:{server.port}"
        try:
            await asyncio.to_thread(populate, base, demo)
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
                context, page, first = await visit(browser, f"{base}/s/{demo.code}")
                print(
                    f"join page, first visit   {first['bytes'] / 1024:6.1f} KB in "
                    f"{first['responses']:.0f} responses, load after {first['seconds']:.2f} s"
                    "   (targets ≤ 45 KB, ≤ 1.5 s at slow 3G)"
                )
                _, _, second = await visit(browser, f"{base}/s/{demo.code}", context)
                print(
                    f"join page, second visit  {second['bytes'] / 1024:6.1f} KB in "
                    f"{second['responses']:.0f} responses, load after {second['seconds']:.2f} s"
                )
                await page.fill("#display_name", "Phone")
                await page.click("button.primary")
                await page.locator(".connection", has_text="Live").wait_for(timeout=60_000)
                cookies = {c["name"]: c["value"] for c in await context.cookies()}
                await browser.close()
            async with httpx.AsyncClient(base_url=base, cookies=cookies) as phone:
                answer = await phone.get(f"/s/{demo.code}", headers={"Accept-Encoding": "gzip"})
            print(
                f"session page (10 proposals, 4 polls)  {len(answer.content) / 1024:6.1f} KB, "
                f"{int(answer.headers['content-length']) / 1024:5.1f} KB as sent "
                f"({answer.headers.get('content-encoding', 'uncompressed')})"
                "   (target ≤ 20 KB compressed)"
            )
        finally:
            server.stop()
    print(f"load average {os.getloadavg()[0]:.1f} (the machine may be shared)")


if __name__ == "__main__":
    asyncio.run(run())
