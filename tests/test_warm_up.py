"""A server started for a room (`cocreate serve`) starts its worker processes with it,
each loading the PDF engine, so that the first minutes asked for do not wait for them;
the apps the tests make by the hundred leave them to the first heavy request.

How long the first PDF takes is measured by ``bench/pdf.py``, not asserted here."""

from __future__ import annotations

import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from typing import Any

import pytest
from click.testing import CliRunner

import cocreate.app
from cocreate import cli
from cocreate.heavy import HeavyWork
from cocreate.settings import Settings
from cocreate.templating import Templates
from cocreate.views import exports
from tests.conftest import ONCE, start_server

pytestmark = ONCE  # worker processes and settings: the same on any database


def pid(_: None) -> int:
    """In a worker: which one it is."""
    return os.getpid()


def engine_loaded_within(seconds: float) -> bool:
    """In a worker: whether the PDF engine is loaded there within ``seconds``, with no
    PDF asked of this worker."""
    from cocreate import pdf

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if pdf._loaded and "weasyprint" in sys.modules:
            return True
        time.sleep(0.05)
    return False


async def test_a_started_worker_is_up_and_loads_the_pdf_engine_before_any_work() -> None:
    heavy = HeavyWork(workers=1)
    try:
        up = heavy.start()
        pool = heavy._pool
        assert isinstance(pool, ProcessPoolExecutor)
        # The worker is started before any work is asked (no public list of the workers
        # before Python 3.14), and loads the PDF engine by itself.
        started = [process.pid for process in pool._processes.values()]
        assert len(started) == 1
        assert up.result(timeout=60) == started[0]
        assert await heavy.run(engine_loaded_within, 60.0)
        assert await heavy.run(pid, None) == started[0]
    finally:
        heavy.close()


async def test_work_asked_while_the_worker_starts_waits_for_it_not_for_a_second_one() -> None:
    heavy = HeavyWork(workers=2)
    try:
        up = heavy.start()
        first = await heavy.run(pid, None)  # at once: the worker is still starting
        assert first == up.result(timeout=0)
        pool = heavy._pool
        assert isinstance(pool, ProcessPoolExecutor)
        assert [process.pid for process in pool._processes.values()] == [first]
    finally:
        heavy.close()


class Recorded(HeavyWork):
    started = 0

    def start(self) -> None:
        Recorded.started += 1


@pytest.mark.parametrize("warm_up", [True, False])
async def test_the_app_starts_its_workers_with_it_only_when_told(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, warm_up: bool
) -> None:
    monkeypatch.setattr(cocreate.app, "HeavyWork", Recorded)
    Recorded.started = 0
    prepared: list[tuple[str, ...]] = []
    prepare = Templates.prepare
    monkeypatch.setattr(
        Templates,
        "prepare",
        lambda self, names: (prepared.append(tuple(names)), prepare(self, names)),
    )
    server, task, _ = await start_server(replace(settings, warm_up=warm_up))
    try:
        assert Recorded.started == (1 if warm_up else 0)
        # The minutes' templates compiled at the start (every one of them exists).
        assert prepared == ([exports.MINUTES_TEMPLATES] if warm_up else [])
    finally:
        server.should_exit = True
        await task


def test_cocreate_serve_turns_the_warm_up_on_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[Settings] = []

    def run(*args: Any, **kwargs: Any) -> None:
        seen.append(Settings.from_env())

    monkeypatch.setattr("uvicorn.run", run)
    monkeypatch.delenv("COCREATE_WARM_UP", raising=False)
    assert CliRunner().invoke(cli.main, ["serve"]).exit_code == 0
    monkeypatch.setenv("COCREATE_WARM_UP", "false")
    assert CliRunner().invoke(cli.main, ["serve"]).exit_code == 0
    assert [s.warm_up for s in seen] == [True, False]
    assert not Settings.from_env({}).warm_up  # an app made otherwise: off
