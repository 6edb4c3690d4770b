"""Nanoseconds per link: ``cocreate.urls.url`` against Starlette's ``url_path_for``.

Run: ``python bench/urls.py`` (a few seconds; prints figures, asserts nothing). Three
routes: near the top of the table, in the middle and near its end (Starlette asks every
route before the one named). Then the same link drawn in a template, by ``url()`` and
spelled out as the templates did before, since a phone's page draws two links a card.
"""

from __future__ import annotations

import argparse
import timeit
from collections.abc import Callable

import jinja2
from starlette.routing import Router

from cocreate.app import routes
from cocreate.urls import url

CASES: list[tuple[str, dict[str, int | str]]] = [
    ("participant_session", {"code": "K7QX3P"}),  # 5th of the table
    ("console", {"session_id": 1234}),  # about the 70th
    ("api_project_indicators", {"project_id": 56}),  # near the end
]


def ns_per_call(call: Callable[[], object], number: int) -> float:
    """The best of five runs of ``number`` calls, in nanoseconds per call."""
    return min(timeit.repeat(call, number=number, repeat=5)) / number * 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=100_000, help="calls per run")
    number = parser.parse_args().number
    router = Router(routes=routes)
    url("home")  # the table, split once, before timing
    print(f"{'route':<24} {'url()':>9} {'url_path_for':>13} {'ratio':>7}")
    for name, params in CASES:
        assert url(name, **params) == str(router.url_path_for(name, **params))
        ours = ns_per_call(lambda: url(name, **params), number)  # noqa: B023
        theirs = ns_per_call(lambda: router.url_path_for(name, **params), number)  # noqa: B023
        print(f"{name:<24} {ours:>6.0f} ns {theirs:>10.0f} ns {theirs / ours:>6.1f}x")

    env = jinja2.Environment(autoescape=True)
    env.globals["url"] = url
    by_name = env.from_string("{{ url('vote', code=session.join_code, proposal_id=item.id) }}")
    spelled = env.from_string("/s/{{ session.join_code }}/proposals/{{ item.id }}/vote")
    context = {"session": {"join_code": "K7QX3P"}, "item": {"id": 42}}
    assert by_name.render(context) == spelled.render(context)
    print("a link drawn in a template:")
    print(f"  by url()      {ns_per_call(lambda: by_name.render(context), number // 10):>6.0f} ns")
    print(f"  spelled out   {ns_per_call(lambda: spelled.render(context), number // 10):>6.0f} ns")


if __name__ == "__main__":
    main()
