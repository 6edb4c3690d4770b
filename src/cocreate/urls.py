"""The addresses of the app's routes, by name: ``url("console", session_id=3)``.

Every route of the table in ``app.py`` is named, and this is the one way to write a
link to one, in Python and in templates (where ``url`` and ``static`` are globals)::

    see_other(url("console", session_id=session_id) + "#polls")
    <form action="{{ url('propose', code=session.join_code) }}">
    <script src="{{ static('js/cocreate.js') }}">

Starlette's ``url_path_for`` finds a route by asking every route of the table in turn
(each one that is not it raises an exception, caught) and splits its path with a
regular expression on every call: a twentieth of a phone's join, the one time it was
used there. Here the table is split once, when ``app.py`` declares it (``install``):
each name leads to its path's pieces and parameters, and a
call checks the values and joins them (``bench/urls.py`` measures both).

A link is never left empty or wrong: an unknown name raises ``UnknownRoute``; a missing
or unexpected parameter, or a value its route could not have matched (an id that is not
a whole number, a text that is empty or holds a ``/``), raises ``BadParameter``. In a
template that is at render time, loudly, and tests/test_urls.py checks every name and
parameter the templates and the code use against the table. Text is percent-encoded
where it needs to be (join codes, tokens and the app's own words never do).

Paths are as the app serves them at its root; a link that must carry the prefix the app
is mounted under (``root_path``) adds it (``web.mounted``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.convertors import Convertor, IntegerConvertor, PathConvertor, StringConvertor
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute

ParamValue = int | str
_PARAMETER = re.compile(r"\{(\w+)\}")


class UnknownRoute(LookupError):
    """No route of the table has this name."""


class BadParameter(ValueError):
    """A parameter is missing, unexpected, or not a value its route could match."""


def _whole_number(route: str, name: str, value: object) -> str:
    if type(value) is not int or value < 0:  # bool is not an id, nor "3"
        raise BadParameter(f"{route}: {name} must be a whole number, not {value!r}")
    return str(value)


def _text(route: str, name: str, value: object) -> str:
    if type(value) is not str or not value or "/" in value:
        raise BadParameter(f"{route}: {name} must be a text without '/', not {value!r}")
    if value.isascii() and value.isalnum():  # codes and our own words: nothing to encode
        return value
    return quote(value, safe="")


def _file_path(route: str, name: str, value: object) -> str:
    if type(value) is not str:
        raise BadParameter(f"{route}: {name} must be a path, not {value!r}")
    return value.lstrip("/")


Check = Callable[[str, str, object], str]


def _check_for(convertor: Convertor[Any]) -> Check:
    if isinstance(convertor, IntegerConvertor):  # ``int`` and our ``id``
        return _whole_number
    if isinstance(convertor, PathConvertor):
        return _file_path
    if isinstance(convertor, StringConvertor):
        return _text

    def other(route: str, name: str, value: object) -> str:  # float, uuid: none of ours yet
        try:
            return quote(convertor.to_string(value), safe="/")
        except (AssertionError, TypeError, ValueError) as error:
            raise BadParameter(f"{route}: {name} cannot be {value!r}") from error

    return other


Format = Callable[[Mapping[str, object]], str]


def _formatter(name: str, pieces: tuple[str, ...], params: tuple[tuple[str, Check], ...]) -> Format:
    """The function that fills one route's parameters in, made once per route: one of
    a fixed shape for the usual counts of parameters (a call then only checks and joins:
    this runs for every link of every page), a loop for the others."""
    names = frozenset(param for param, _ in params)

    def mismatch(values: Mapping[str, object]) -> BadParameter:
        missing, unexpected = sorted(names - values.keys()), sorted(values.keys() - names)
        return BadParameter(f"{name}: missing {missing}, unexpected {unexpected}")

    if not params:
        (path,) = pieces

        def none(values: Mapping[str, object]) -> str:
            if values:
                raise mismatch(values)
            return path

        return none
    if len(params) == 1:
        ((p, check),), (before, after) = params, pieces

        def one(values: Mapping[str, object]) -> str:
            if len(values) != 1 or p not in values:
                raise mismatch(values)
            return before + check(name, p, values[p]) + after

        return one
    if len(params) == 2:
        ((p1, check1), (p2, check2)), (before, between, after) = params, pieces

        def two(values: Mapping[str, object]) -> str:
            if len(values) != 2 or p1 not in values or p2 not in values:
                raise mismatch(values)
            return (
                before + check1(name, p1, values[p1]) + between + check2(name, p2, values[p2])
            ) + after

        return two

    def many(values: Mapping[str, object]) -> str:
        if values.keys() != names:
            raise mismatch(values)
        parts = [pieces[0]]
        for (param, check), text in zip(params, pieces[1:], strict=True):
            parts.append(check(name, param, values[param]))
            parts.append(text)
        return "".join(parts)

    return many


@dataclass(frozen=True, slots=True)
class RoutePath:
    """One route's path, split: the text before each parameter, then after the last."""

    name: str
    template: str  # "/sessions/{session_id}/console": the path as documents write it
    params: tuple[tuple[str, Check], ...]
    names: frozenset[str]
    format: Format  # the parameters' values -> the path

    @classmethod
    def of(cls, name: str, path_format: str, convertors: Mapping[str, Convertor[Any]]) -> RoutePath:
        texts = _PARAMETER.split(path_format)  # text, parameter, text, …, text
        params = tuple((param, _check_for(convertors[param])) for param in texts[1::2])
        pieces = tuple(texts[::2])
        return cls(
            name, path_format, params, frozenset(convertors), _formatter(name, pieces, params)
        )


class Paths:
    """The paths of a route table's named routes, split once."""

    def __init__(self, routes: Iterable[BaseRoute]) -> None:
        self._paths: dict[str, RoutePath] = {}
        for route in routes:
            if not isinstance(route, Route | WebSocketRoute | Mount) or route.name is None:
                continue
            if route.name in self._paths:
                raise ValueError(f"two routes are named {route.name!r}")
            path = RoutePath.of(route.name, route.path_format, route.param_convertors)
            self._paths[route.name] = path

    def __call__(self, name: str, /, **params: ParamValue) -> str:
        return self.path(name, params)

    def path(self, name: str, params: Mapping[str, object]) -> str:
        return self.route(name).format(params)

    def route(self, name: str) -> RoutePath:
        try:
            return self._paths[name]
        except KeyError:
            raise UnknownRoute(f"no route is named {name!r}") from None

    def routes(self) -> list[RoutePath]:
        return list(self._paths.values())


_table: Paths | None = None
_fill: dict[str, Format] = {}  # the app's table's formats by route name, once split


def install(routes: Iterable[BaseRoute]) -> None:
    """Split the app's route table (``cocreate.app.routes``), once: ``app.py`` hands it
    over as soon as it is declared. Handed over, not imported from here: the table
    imports every view, and the views import this module."""
    global _table
    if _table is None:
        _table = Paths(routes)
        _fill.update((path.name, path.format) for path in _table.routes())


def paths() -> Paths:
    """The app's route table, split (importing ``cocreate.app`` installs it)."""
    if _table is None:
        raise UnknownRoute("no route table yet: import cocreate.app, which installs it")
    return _table


def _unknown(name: str) -> Format:
    paths()  # no table installed yet: says so
    if name in _fill:
        return _fill[name]
    raise UnknownRoute(f"no route is named {name!r}")


def url(name: str, /, **params: ParamValue) -> str:
    """The path of the route named ``name``, its parameters filled in."""
    return (_fill.get(name) or _unknown(name))(params)


_assets: dict[str, str] = {}  # a static file's name -> the name it is linked by


def install_assets(addresses: Mapping[str, str]) -> None:
    """The names static files are linked by, which carry a digest of their content
    (``cocreate.assets``): ``app.py`` hands them over with the route table."""
    _assets.update(addresses)


def static(path: str) -> str:
    """The address of one of the app's static files: ``static("css/cocreate.css")``."""
    name = path.lstrip("/")
    return (_fill.get("static") or _unknown("static"))({"path": _assets.get(name, name)})
