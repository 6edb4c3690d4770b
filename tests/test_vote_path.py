"""docs/live.md tells a vote's path from the phone to every screen in one page, naming at
most six modules, and that page is the path a vote really takes.

The steps of the page's first section name a module and a function each; a real vote,
from a phone's post to the projector's frame, is traced (``sys.setprofile``: the app,
its server and the test run on one thread and one event loop) and each named function
must be called, in the order the page tells.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from tests.conftest import OpenSession, tally_of
from tests.test_live_session import proposal_id_of

LIVE_MD = Path(__file__).resolve().parent.parent / "docs" / "live.md"
SECTION = "## A vote, from the phone to every screen"
SRC = Path(__file__).resolve().parent.parent / "src" / "cocreate"
MAX_MODULES = 6
PAGE_LINES = 50  # one screen of a laptop, one page printed
STEP = re.compile(r"^\d+\. `(?P<module>[\w/]+\.py)` — `(?P<function>[\w.]+)`", re.MULTILINE)
MODULE = re.compile(r"`(?P<module>[\w/]+\.py)`")


def vote_path() -> tuple[str, list[tuple[str, str]]]:
    """The section's text, and its steps as (dotted module, qualified name)."""
    text = LIVE_MD.read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    section = text[start : end if end != -1 else None]
    steps = [
        ("cocreate." + m["module"].removesuffix(".py").replace("/", "."), m["function"])
        for m in STEP.finditer(section)
    ]
    return section, steps


def test_the_vote_path_fits_one_page_and_names_at_most_six_modules() -> None:
    section, steps = vote_path()
    named = set(MODULE.findall(section))
    assert len(section.splitlines()) <= PAGE_LINES
    assert len(named) <= MAX_MODULES, sorted(named)
    as_paths = {m.removeprefix("cocreate.").replace(".", "/") + ".py" for m, _ in steps}
    assert as_paths == named, "every module the section names is one of its steps"
    for module, _ in steps:
        assert (SRC / (module.removeprefix("cocreate.").replace(".", "/") + ".py")).is_file()


@pytest.mark.wire
async def test_a_real_vote_takes_the_path_the_page_tells(open_session: OpenSession) -> None:
    _, steps = vote_path()
    assert len(steps) >= 5
    phone = await open_session.phone("Aïcha")
    screen = await open_session.projector()
    text = "Une cuisine partagée ouverte le samedi"
    proposed = await phone.post(f"/s/{open_session.code}/proposals", {"text": text})
    assert proposed.status_code == 200
    pid = await proposal_id_of(open_session, text)
    seq = await open_session.seq()
    live_screen = await screen.socket(open_session.code, "screen", last_seq=seq)

    calls: list[tuple[str, str]] = []  # (module, qualified name) of each call, first only
    seen: set[tuple[str, str]] = set()

    def profile(frame: FrameType, event: str, _arg: Any) -> None:
        if event != "call":
            return
        module = frame.f_globals.get("__name__", "")
        if module.startswith("cocreate."):
            where = (module, frame.f_code.co_qualname)
            if where not in seen:
                seen.add(where)
                calls.append(where)

    sys.setprofile(profile)
    try:
        voted = await phone.post(f"/s/{open_session.code}/proposals/{pid}/vote", {"choice": "for"})
        frame = await live_screen.until(lambda f: f'id="tally-{pid}"' in f)
    finally:
        sys.setprofile(None)
    assert voted.status_code == 200
    assert tally_of(frame, pid)["for"] == 1  # the projector shows the vote

    missing = [step for step in steps if step not in seen]
    assert missing == [], f"named on the page, never called by a vote: {missing}"
    assert sorted(steps, key=calls.index) == steps, "the page tells the steps out of order"
