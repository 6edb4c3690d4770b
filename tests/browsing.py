"""What the real-browser tests share: Debian's Chromium driven by Playwright.

`playwright install` cannot download browsers where we run: the tests use the system's
Chromium (COCREATE_CHROMIUM, else /usr/bin/chromium) and skip, saying why, without it —
except in CI, where a missing browser is a failure, not a skip.
Screenshots go under tests/artifacts/ (ignored by git) for a person to look at.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("COCREATE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
LIVE_MS = 5_000  # "within a second" with room to spare on a loaded CI machine
ARTIFACTS = Path(__file__).parent / "artifacts"

AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
    "resultTypes": ["violations"],
}
BLOCKING = {"serious", "critical"}

# In CI (.ci/run installs Chromium) a missing browser fails the tests instead of skipping.
IN_CI = bool(os.environ.get("CI"))
NEEDS_CHROMIUM = pytest.mark.skipif(
    shutil.which(CHROMIUM) is None and not IN_CI, reason="Chromium is not installed"
)
BROWSER_MARKS = [pytest.mark.browser, NEEDS_CHROMIUM]


@pytest.fixture(scope="session")
async def chromium() -> AsyncIterator[Any]:
    """One Chromium per worker, with its Playwright driver: starting both took seconds per
    test (a Node.js process, then the browser's), a fresh context takes a fraction of one.
    The tests of a worker share one event loop (pyproject.toml), the one they run on."""
    if IN_CI:
        import playwright.async_api as playwright_api
    else:
        playwright_api = pytest.importorskip("playwright.async_api")
    async with playwright_api.async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def browser(chromium: Any) -> AsyncIterator[Any]:
    """The worker's Chromium for one test, which opens its pages in contexts of its own
    (a profile each: cookies, storage, cache). Those left open are closed after the test:
    the next one starts with none, as with a browser of its own."""
    assert chromium.is_connected(), "Chromium went away during an earlier test"
    yield chromium
    for context in chromium.contexts:
        await context.close()


class Console:
    """Collects what pages log: CSP violations and htmx errors land here."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def watch(self, page: Any, who: str) -> Any:
        page.on(
            "console",
            lambda m: m.type == "error" and self.errors.append(f"{who}: {m.text} {m.location}"),
        )
        page.on("pageerror", lambda e: self.errors.append(f"{who}: {e}"))
        return page


async def phone_joined(
    browser: Any, base: str, code: str, watch: Console, name: str = "Awa"
) -> Any:
    """A phone of 360×640 that joined the session by name and is live (its page)."""
    context = await browser.new_context(
        viewport={"width": 360, "height": 640}, is_mobile=True, has_touch=True
    )
    page = watch.watch(await context.new_page(), "phone")
    await page.goto(f"{base}/s/{code}")
    await page.fill("#display_name", name)
    await page.click("button.primary")
    await page.locator(".connection", has_text="Live").wait_for(timeout=LIVE_MS)
    return page


async def shoot(page: Any, name: str) -> None:
    """A full-page screenshot as tests/artifacts/<name>.png (Playwright makes folders)."""
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


# What sticks out of the page's width: the page itself, or any element reaching past its
# right edge (text cut there), outside closed disclosures and boxes that scroll sideways.
OVERFLOW = """skip => {
  const width = document.documentElement.clientWidth;
  const out = [];
  const page = document.documentElement.scrollWidth;
  if (page > width) out.push(`page ${page}`);
  for (const e of document.querySelectorAll("main *")) {
    if (e.closest(skip)) continue;
    const box = e.getBoundingClientRect();
    if (box.width && box.right > width + 0.5) {
      out.push(`${e.id || e.className || e.tagName} ${Math.round(box.right)}`);
    }
  }
  return out.slice(0, 10);
}"""


SCROLLS_OR_HIDDEN = "[hidden], details:not([open]) > :not(summary), .table-wrap"


async def horizontal_overflow(page: Any, skip: str = SCROLLS_OR_HIDDEN) -> list[str]:
    """What sticks out sideways on the page (OVERFLOW): nothing, on a page that fits.
    Elements inside ``skip`` (by default: hidden, or in a box that scrolls sideways) are
    not looked at; screen readers' text (.visually-hidden) never is."""
    return list(await page.evaluate(OVERFLOW, ", ".join(filter(None, [skip, ".visually-hidden"]))))


# Counts this page's requests still waiting for their answer (and for the swap that
# follows it: htmx swaps in the answer's "load"). htmx marks the element that asked with
# .htmx-request, but a live frame may remove that element while its answer is on the way.
IN_FLIGHT = """(() => {
  let waiting = 0;
  Object.defineProperty(window, "cocreateWaiting", { get: () => waiting });
  const send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function (...args) {
    waiting += 1;
    this.addEventListener("loadend", () => setTimeout(() => { waiting -= 1; }, 0));
    return send.apply(this, args);
  };
})();"""


async def count_requests(context: Any) -> Any:
    """Pages of this browser context count their requests in flight (for ``settled``)."""
    await context.add_init_script(IN_FLIGHT)
    return context


async def settled(page: Any, open_session: Any) -> None:
    """The page has drawn every event so far and waits for no answer: a disclosure opened
    now is not closed by a redraw still on its way. Its context went through
    ``count_requests``."""
    seq = await open_session.seq()
    await page.wait_for_function(
        "seq => Number(document.getElementById('live-seq').dataset.seq) >= seq"
        " && window.cocreateWaiting === 0",
        arg=seq,
        timeout=LIVE_MS,
    )


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"[{violation['impact']}] {violation['id']}: {violation['help']}")
        for node in violation["nodes"]:
            summary = node.get("failureSummary", "").replace("\n", " ")
            lines.append(f"    {', '.join(map(str, node['target']))}: {node['html'][:200]}")
            if summary:
                lines.append(f"        {summary}")
    return "\n".join(lines)


async def axe_problems(page: Any) -> list[str]:
    """Serious and critical violations; the minor and moderate ones only as information."""
    import axe_playwright_python.async_playwright as axe_playwright

    results = await axe_playwright.Axe().run(page, options=AXE_OPTIONS)
    violations = results.response["violations"]
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    if not blocking:
        return []
    others = [v for v in violations if v["impact"] not in BLOCKING]
    return [
        f"axe-core:\n{describe(blocking)}\n"
        f"(minor and moderate, for information: {describe(others) or 'none'})"
    ]
