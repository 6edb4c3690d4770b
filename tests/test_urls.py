"""Links come from the route table: ``url(name, **params)`` and ``static(path)``.

No template or Python file spells a route's path (a renamed route would leave it dead);
every name a link uses is a route's, with that route's parameters, checked here by
reading the sources, so a wrong link fails the suite before any page draws it; and one
that slips through fails its render, loudly, never an empty ``href``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import jinja2
import pytest
from jinja2 import nodes
from starlette.routing import Router

import cocreate
from cocreate.app import LARGE_BODIES, routes
from cocreate.resources import resource_dir
from cocreate.templating import Templates
from cocreate.urls import BadParameter, UnknownRoute, paths, static, url
from cocreate.views.api import OPENAPI

SOURCES = Path(cocreate.__file__).parent
TEMPLATES = resource_dir("templates")
STATIC = resource_dir("static")
TABLE = {route.name: route for route in paths().routes()}

# The first part of every route's path ("sessions", "s", "api"…): a quoted text that
# starts with "/" and one of them is a route's path spelled out. (The home page's "/"
# cannot be told from a separator in code: it is url("home") all the same.)
FIRST_PARTS = sorted({route.template.split("/")[1] for route in TABLE.values()} - {""})
SPELLED_PATH = re.compile(r"""["'`]/(?:""" + "|".join(map(re.escape, FIRST_PARTS)) + r")(?![\w.-])")

# Paths left as text in Python, each for a reason: they match the path of a request
# (before any routing, so a lookup would cost what url() saves), or describe it.
ALLOWED_IN_PYTHON: dict[tuple[str, str], str] = {
    ("app.py", "/s/"): "CodeGuesses: the addresses that take a join code, matched",
    ("app.py", "/m/"): "CodeGuesses: a member's link, matched",
    ("views/api.py", "/api/"): "is_api: every address under it answers JSON, matched",
    ("pdf.py", "/static/"): "the PDF engine's fetcher reads the static mount's files, matched",
    **{
        ("views/api.py", path): "the API's description, checked against the table in test_api"
        for path in OPENAPI["paths"]
    },
}


def sample_params(name: str) -> dict[str, int | str]:
    """Values the route named ``name`` could have matched, for each of its parameters."""
    samples: dict[str, int | str] = {"dataset": "ballots", "fmt": "csv", "path": "css/app.css"}
    route = TABLE[name]
    return {
        param: samples.get(param, 7 if check.__name__ == "_whole_number" else "K7QX3P")
        for param, check in route.params
    }


# --- the builder ------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(TABLE))
def test_every_route_gets_the_path_starlette_would_give(name: str) -> None:
    params = sample_params(name)
    assert url(name, **params) == str(Router(routes=routes).url_path_for(name, **params))


def test_a_wrong_name_or_parameter_raises_rather_than_giving_a_link() -> None:
    with pytest.raises(UnknownRoute):
        url("sessions_console", session_id=3)
    with pytest.raises(BadParameter, match="missing"):
        url("console")
    with pytest.raises(BadParameter, match="unexpected"):
        url("console", session_id=3, proposal_id=4)
    for wrong in ("3", None, True, -1, 2.0):
        with pytest.raises(BadParameter):
            url("console", session_id=wrong)  # type: ignore[arg-type]
    for wrong in ("", "a/b", None, 3):
        with pytest.raises(BadParameter):
            url("participant_session", code=wrong)  # type: ignore[arg-type]


def test_text_is_encoded_where_it_needs_to_be_and_left_alone_elsewhere() -> None:
    assert url("participant_session", code="K7QX3P") == "/s/K7QX3P"
    assert url("open_participant_link", token="a-b_c") == "/p/a-b_c"
    assert url("open_participant_link", token="a b?c#d") == "/p/a%20b%3Fc%23d"
    # A static file is linked by a name carrying a digest of its content.
    assert static("/css/cocreate.css") == static("css/cocreate.css")
    assert re.fullmatch(r"/static/css/cocreate\.[0-9a-f]{12}\.css", static("css/cocreate.css"))


def test_an_unknown_route_or_a_missing_value_fails_the_render(tmp_path: Path) -> None:
    (tmp_path / "unknown.html").write_text("<a href=\"{{ url('sessions_console') }}\">")
    (tmp_path / "missing.html").write_text("<a href=\"{{ url('console') }}\">")
    (tmp_path / "none.html").write_text(
        "<a href=\"{{ url('participant_session', code=session.join_code) }}\">"
    )
    (tmp_path / "fine.html").write_text("<a href=\"{{ url('console', session_id=s.id) }}\">")
    templates = Templates(timezone="UTC", directory=tmp_path)
    with pytest.raises(UnknownRoute):
        templates.render("unknown.html", locale="en")
    with pytest.raises(BadParameter):
        templates.render("missing.html", locale="en")
    with pytest.raises(BadParameter):
        templates.render("none.html", locale="en", session={"join_code": None})
    with pytest.raises(jinja2.UndefinedError):
        templates.render("fine.html", locale="en")
    assert (
        templates.render("fine.html", locale="en", s={"id": 3}) == '<a href="/sessions/3/console">'
    )


# --- the templates ----------------------------------------------------------------------


def template_sources() -> Iterator[tuple[str, str]]:
    for path in sorted(TEMPLATES.rglob("*.html")):
        yield str(path.relative_to(TEMPLATES)), path.read_text(encoding="utf-8")


def builder_calls(tree: nodes.Template) -> Iterator[tuple[str, nodes.Call]]:
    for call in tree.find_all(nodes.Call):
        if isinstance(call.node, nodes.Name) and call.node.name in ("url", "static"):
            yield call.node.name, call


def test_no_template_spells_a_route_path() -> None:
    spelled = [
        f"{name}:{source.count(chr(10), 0, match.start()) + 1}: {match.group()}…"
        for name, source in template_sources()
        for match in SPELLED_PATH.finditer(source)
    ]
    assert not spelled, "write url('name', …) or static('…'):\n" + "\n".join(spelled)


def test_every_link_in_the_templates_names_a_route_with_its_parameters() -> None:
    env = jinja2.Environment(extensions=["jinja2.ext.i18n"], autoescape=True)  # to parse
    wrong, links = [], 0
    for name, source in template_sources():
        tree = env.parse(source)
        calls = list(builder_calls(tree))
        called = {id(call.node) for _, call in calls}
        for used in tree.find_all(nodes.Name):
            if used.name in ("url", "static") and id(used) not in called:
                wrong.append(f"{name}:{used.lineno}: {used.name} used but not called")
        for builder, call in calls:
            links += 1
            where = f"{name}:{call.lineno}"
            first = call.args[0] if call.args else None
            if len(call.args) != 1 or not isinstance(first, nodes.Const) or call.dyn_args:
                wrong.append(f"{where}: {builder}() takes one quoted name or path")
                continue
            if call.dyn_kwargs:
                wrong.append(f"{where}: {builder}(**…) cannot be checked: name each parameter")
            elif builder == "static":
                if call.kwargs or not (STATIC / str(first.value)).is_file():
                    wrong.append(f"{where}: no static file {first.value!r}")
            elif first.value not in TABLE:
                wrong.append(f"{where}: no route is named {first.value!r}")
            elif {kw.key for kw in call.kwargs} != TABLE[first.value].names:
                given = sorted(kw.key for kw in call.kwargs)
                expected = sorted(TABLE[first.value].names)
                wrong.append(f"{where}: {first.value} takes {expected}, given {given}")
    assert links > 100  # the reading found the links
    assert not wrong, "\n".join(wrong)


# --- the Python sources -----------------------------------------------------------------


def python_sources() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(SOURCES.rglob("*.py")):
        yield path.relative_to(SOURCES).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def route_table_texts(tree: ast.Module) -> set[int]:
    """The texts that make up the route table itself (app.py): each route's path and the
    prefixes its paths are built from (S, F…)."""
    inside: set[int] = set()
    prefixes: set[str] = set()
    for call in ast.walk(tree):
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)
            and call.func.id in ("Route", "WebSocketRoute", "Mount")
            and call.args
        ):
            for node in ast.walk(call.args[0]):
                inside.add(id(node))
                if isinstance(node, ast.Name):
                    prefixes.add(node.id)
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id in prefixes for target in statement.targets
        ):
            inside.update(id(node) for node in ast.walk(statement.value))
    return inside


def texts(tree: ast.Module) -> Iterator[ast.Constant]:
    """Every text of a module but its docstrings (prose, that may name addresses)."""
    docstrings = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        ):
            yield node


def test_no_python_file_spells_a_route_path() -> None:
    spelled, allowed_seen = [], set()
    for name, tree in python_sources():
        table = route_table_texts(tree) if name == "app.py" else set()
        for node in texts(tree):
            if id(node) in table or not SPELLED_PATH.match(repr(node.value)):
                continue
            if (name, node.value) in ALLOWED_IN_PYTHON:
                allowed_seen.add((name, node.value))
            else:
                spelled.append(f"{name}:{node.lineno}: {node.value!r}")
    assert not spelled, "write url('name', …):\n" + "\n".join(spelled)
    assert allowed_seen == set(ALLOWED_IN_PYTHON), "an allowance is no longer needed"


def test_every_link_in_the_code_names_a_route_with_its_parameters() -> None:
    wrong, links, by_variable = [], 0, []
    for name, tree in python_sources():
        for call in ast.walk(tree):
            if not isinstance(call, ast.Call):
                continue
            func = call.func
            builder = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if builder != "url" or name == "urls.py":
                continue
            links += 1
            where = f"{name}:{call.lineno}"
            first = call.args[0] if call.args else None
            if not isinstance(first, ast.Constant):
                by_variable.append(where)
                continue
            if any(keyword.arg is None for keyword in call.keywords):
                wrong.append(f"{where}: url(**…) cannot be checked: name each parameter")
            elif first.value not in TABLE:
                wrong.append(f"{where}: no route is named {first.value!r}")
            elif {k.arg for k in call.keywords} != TABLE[first.value].names:
                given = sorted(str(k.arg) for k in call.keywords)
                expected = sorted(TABLE[first.value].names)
                wrong.append(f"{where}: {first.value} takes {expected}, given {given}")
    assert links > 30  # the reading found the links
    assert not wrong, "\n".join(wrong)
    # One link names its route through a variable: the roster's larger body limit.
    assert [where.split(":")[0] for where in by_variable] == ["app.py"]
    assert all(TABLE[route].names == frozenset() for route in LARGE_BODIES)
