"""Nanoseconds per link: ``cocreate.urls.url`` against Starlette's ``url_path_for``.

Run: ``python bench/urls.py`` (a few seconds; prints figures, asserts nothing). Three
routes: near the top of the table, in the middle and near its end (Starlette asks every
route before the one named). Then a link drawn in a template, by ``url()`` and spelled out as the
templates did before, in a loop as a wall of cards draws them.
"""

from __future__ import annotations

import argparse
import timeit
from collections.abc import Callable

import jinja2
from starlette.routing import Router

from cocreate.app import routes
from cocreate.urls import url

LINKS = 100  # a wall of 100 cards, a form each
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
    loop = '{%% for item in items %%}<a href="%s"></a>{%% endfor %%}'
    by_name = env.from_string(loop % "{{ url('vote', code=code, proposal_id=item.id) }}")
    spelled = env.from_string(loop % "/s/{{ code }}/proposals/{{ item.id }}/vote")
    context = {"code": "K7QX3P", "items": [{"id": n} for n in range(LINKS)]}
    assert by_name.render(context) == spelled.render(context)
    print(f"a link drawn in a template (a loop of {LINKS} links, per link):")
    for label, template in (("by url()", by_name), ("spelled out", spelled)):
        draw = template.render
        per_link = ns_per_call(lambda: draw(context), number // LINKS) / LINKS  # noqa: B023
        print(f"  {label:<13} {per_link:>6.0f} ns")


if __name__ == "__main__":
    main()
