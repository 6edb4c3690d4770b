"""Printing the figures as tables, and writing them as JSON under bench/results/."""

from __future__ import annotations

import json
import math
import os
import platform
import time
import timeit
from dataclasses import asdict
from pathlib import Path
from typing import Any

from figures import AppRun, Latency, Options, Pair, Storm, median_ratios
from servers import Cost

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def number(value: float, digits: int = 0) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


def pair_of(first: float, second: float, unit: str = "ms") -> str:
    return f"{slash(first, second)} {unit}"


def print_section(title: str, rows: list[tuple[str, str]]) -> None:
    print(f"\n{title}")
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")


def print_grid(title: str, header: list[str], rows: list[list[str]]) -> None:
    print(f"\n{title}")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = [
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("  " + "  ".join(cells))


def storm_rows(storm: Storm, what: str) -> list[tuple[str, str]]:
    rows = [
        ("phones connected / failed", f"{storm.connected:,} / {storm.failed:,}"),
        ("duration, rate", f"{number(storm.duration_s, 1)} s, {number(storm.joins_per_s)}/s"),
    ]
    if what == "app":
        rows.append(("join (page + name) p50 / p99", pair_of(storm.join_p50_ms, storm.join_p99_ms)))
    rows += [
        ("handshake p50 / p99", pair_of(storm.handshake_p50_ms, storm.handshake_p99_ms)),
        ("server RSS per connected phone", f"{number(storm.rss_per_phone_kib, 1)} KiB"),
    ]
    rows += [(f"failure ×{count}", reason) for reason, count in storm.failures.items()]
    return rows


def latency_rows(latency: Latency) -> list[tuple[str, str]]:
    return [
        (
            "votes sent / acknowledged / reached all",
            f"{latency.votes_sent} / {latency.votes_acknowledged} / {latency.votes_everywhere}",
        ),
        ("vote → every screen p50 / p99", pair_of(latency.latency_p50_ms, latency.latency_p99_ms)),
        (
            "one fan-out, first → last p50 / p99",
            pair_of(latency.fan_out_p50_ms, latency.fan_out_p99_ms),
        ),
        ("acknowledgement p50 / p99", pair_of(latency.ack_p50_ms, latency.ack_p99_ms)),
        ("vote frame", f"{latency.frame_bytes:,} B"),
    ]


def slash(*values: float, digits: int = 0) -> str:
    return " / ".join(number(v, digits) for v in values)


def counts(tally: dict[str, int]) -> str:
    return ", ".join(f"{name} ×{count}" for name, count in tally.items()) or "none"


def print_app(app: AppRun, options: Options) -> None:
    print(
        f"\ncocreate, one live session: {app.participants:,} phones, {app.database}, "
        f"{app.pubsub} pub/sub, one worker"
    )
    print_section("join storm", storm_rows(app.storm, "app"))
    if app.latency is not None:
        rows = latency_rows(app.latency)
        if not app.latency.event_numbers_checked:
            rows.append(("warning", "the votes' event numbers disagree with the database"))
        print_section(f"votes one at a time ({options.votes}, {options.interval:g} s apart)", rows)
    for step in app.steps:
        print_section(
            f"facilitator: agenda/{step.move} (HTTP {step.status})",
            [
                ("POST → every phone", f"{number(step.latency_ms)} ms"),
                ("fan-out, first → last", f"{number(step.fan_out_ms)} ms"),
                ("phones reached, frame", f"{step.reached:,}, {step.frame_bytes:,} B"),
            ],
        )
    if app.rates:
        print_rates(app, options)
    print_section("at the end", end_rows(app))
    for line in app.server_log_first[:5]:
        print(f"    {line[:150]}")


def print_rates(app: AppRun, options: Options) -> None:
    header = ["rate/s", "sent", "acked", "achieved/s", "ack p50/p99 ms", "last s ack p50"]
    header += ["screen p50/p99 ms", "catch-up ms", "behind", "refused"]
    rows = [
        [
            f"{r.rate:,}",
            f"{r.sent:,}",
            f"{r.acknowledged:,}",
            number(r.achieved_per_s),
            slash(r.ack_p50_ms, r.ack_p99_ms),
            number(r.ack_last_second_p50_ms),
            slash(r.screen_p50_ms, r.screen_p99_ms),
            number(r.catch_up_ms),
            f"{r.phones_behind:,}",
            counts(r.refused),
        ]
        for r in app.rates
    ]
    print_grid(
        f"votes at a fixed rate, {options.vote_seconds:g} s each, {options.voters} voters at most",
        header,
        rows,
    )


def end_rows(app: AppRun) -> list[tuple[str, str]]:
    agree = "equal" if app.votes_acknowledged == app.votes_in_database else "MISMATCH"
    held = f"{app.held:,} / {app.dropped:,}"
    if app.hold_s:
        held += f" after a {app.hold_s:g} s hold"
    votes = f"{app.votes_sent:,} / {app.votes_acknowledged:,} / {app.votes_in_database:,}"
    return [
        ("phones held / dropped", held),
        ("close codes seen", counts(app.close_codes)),
        ("votes sent / acknowledged / in database", f"{votes} ({agree})"),
        ("server RSS", f"{app.server_rss_kib / 1024:,.1f} MiB"),
        ("server log: warnings and errors", f"{app.server_log_notable:,}"),
    ]


def cost_rows(pairs: list[Pair]) -> list[list[str]]:
    first = pairs[0]
    phases: list[tuple[str, Cost]] = [("app: storm", first.app.storm.cost)]
    if first.app.latency is not None:
        phases.append(("app: votes one at a time", first.app.latency.cost))
    phases += [(f"app: agenda/{s.move}", s.cost) for s in first.app.steps]
    phases += [(f"app: {r.rate:,} votes/s", r.cost) for r in first.app.rates]
    phases.append(("app: whole run", first.app.cost))
    if first.baseline is not None:
        phases += [
            ("baseline: storm", first.baseline.storm.cost),
            ("baseline: votes one at a time", first.baseline.latency.cost),
        ]
    return [
        [
            name,
            number(c.wall_s, 1),
            number(c.server_cpu_s, 1),
            number(c.bench_cpu_s, 1),
            busy(c.server_cpu_s, c.wall_s),
            busy(c.bench_cpu_s, c.wall_s),
        ]
        for name, c in phases
    ]


def busy(cpu_s: float, wall_s: float) -> str:
    """Share of the phase a process spent on CPU: near 100 %, it was the bottleneck."""
    return f"{100 * cpu_s / wall_s:.0f} %" if wall_s >= 0.05 else "—"


def print_comparison(pairs: list[Pair]) -> None:
    rows = []
    for run, pair in enumerate(pairs, 1):
        app, base, r = pair.app, pair.baseline, pair.ratios
        if base is None or r is None or app.latency is None:
            continue
        rows.append(
            [
                str(run),
                slash(app.latency.latency_p50_ms, app.latency.latency_p99_ms),
                slash(base.latency.latency_p50_ms, base.latency.latency_p99_ms),
                slash(app.latency.fan_out_p50_ms, base.latency.fan_out_p50_ms),
                slash(app.storm.rss_per_phone_kib, base.storm.rss_per_phone_kib, digits=1),
                slash(r.latency_p50, r.latency_p99, digits=2),
                number(r.fan_out_p50, 2),
                number(r.rss_per_connection, 2),
            ]
        )
    if not rows:
        return
    m = median_ratios(pairs)
    latency = slash(m["latency_p50"], m["latency_p99"], digits=2)
    ratios = [number(m[name], 2) for name in ("fan_out_p50", "rss_per_connection")]
    rows.append(["median", "", "", "", "", latency, *ratios])
    header = [
        "run",
        "app p50/p99 ms",
        "base p50/p99 ms",
        "fan-out ms app/base",
        "KiB/conn app/base",
        "latency ×",
        "fan-out ×",
        "memory ×",
    ]
    print_grid("app compared with the websockets baseline: app / baseline", header, rows)


def python_pace_us() -> float:
    """How long this machine takes, today, for a fixed piece of pure Python (best of
    five, microseconds; lower is faster). Virtual machines of the same description
    differ by two or three times in this figure, and so do the absolute figures of
    their runs: compare absolute figures only between runs of similar pace (the
    ratios to the baseline, measured side by side, need no such care)."""
    loop = "sum(i * i for i in range(10_000))"
    return min(timeit.repeat(loop, number=20, repeat=5)) / 20 * 1e6


def print_report(pairs: list[Pair], options: Options, pace_us: float) -> None:
    print(f"\nthis machine's Python pace: {pace_us:,.0f} µs per reference loop (lower is faster)")
    print_app(pairs[0].app, options)
    print_comparison(pairs)
    print_grid(
        "where the time went (run 1): seconds of wall time and of CPU, share of CPU busy",
        ["phase", "wall s", "server CPU s", "bench CPU s", "server busy", "bench busy"],
        cost_rows(pairs),
    )


def plain(value: Any) -> Any:
    """JSON has no NaN: figures not measured are written as null."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def write_results(pairs: list[Pair], options: Options, pace_us: float) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = "-postgres" if options.postgres else ""
    out = RESULTS / f"live-{options.participants}{suffix}.json"
    config = asdict(options) | {
        "scenarios": sorted(options.scenarios),
        "postgres": bool(options.postgres),  # URLs may carry credentials: not written
        "redis": bool(options.redis),
        "profile": bool(options.profile),
        "python": platform.python_version(),
        "cpus": len(os.sched_getaffinity(0)),
        "python_pace_us": round(pace_us),
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    document = {
        "config": config,
        "runs": [asdict(p) for p in pairs],
        "median_ratios": median_ratios(pairs),
    }
    out.write_text(json.dumps(plain(document), indent=2, ensure_ascii=False) + "\n")
    return out
