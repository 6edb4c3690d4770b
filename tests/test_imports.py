"""The modules of ``src/cocreate`` import one another without a circle.

A circle means neither module can be read (or tested, or moved) without the other, and
it is one lazy import away from a half-initialised module at start-up. Every import
counts: at the top of a file, inside a function, and under ``TYPE_CHECKING`` (a
circle mypy alone sees is still a circle a reader walks). Importing ``a.b.c`` runs
``a/__init__.py`` and ``a/b/__init__.py`` first, so it counts as importing them too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"


def modules(root: Path = SRC) -> dict[str, Path]:
    """Every module under ``root`` by dotted name (a package by its own name)."""
    found: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _named(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> Iterator[str]:
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    base = node.module or ""
    if node.level:  # relative: from the module's own package upwards
        package = module.split(".") if is_package else module.split(".")[:-1]
        package = package[: len(package) - node.level + 1]
        base = ".".join([*package, base] if base else package)
    yield base
    # `from package import module` imports the module; `from module import name`
    # names something in it (the next step maps that back to the module).
    yield from (f"{base}.{alias.name}" for alias in node.names)


def imports(known: dict[str, Path]) -> dict[str, set[str]]:
    """For each module, the modules of ``known`` it makes Python run."""
    graph: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for target in _named(node, name, path.name == "__init__.py"):
                while target and target not in known:  # a name inside a module
                    target = target.rpartition(".")[0]
                # The module itself, and the packages that hold it, run first.
                while target:
                    if target != name and not name.startswith(target + "."):
                        graph[name].add(target)
                    target = target.rpartition(".")[0]
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_no_module_of_cocreate_imports_itself_through_others() -> None:
    graph = imports(modules())
    assert {"cocreate.database", "cocreate.live"} <= graph["cocreate.app"]  # it reads them
    assert circles(graph) == []


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        # a top-level circle
        ({"p/a.py": "import p.b\n", "p/b.py": "from p import a\n"}, [["p.a", "p.b"]]),
        # through a function body and a TYPE_CHECKING block
        (
            {
                "p/a.py": "def f():\n    from p.b import g\n",
                "p/b.py": "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from p.a import f\n",
            },
            [["p.a", "p.b"]],
        ),
        # through a package whose __init__ imports a module that imports back
        (
            {
                "p/__init__.py": "",
                "p/q/__init__.py": "from p.q.s import x\n",
                "p/q/s.py": "from p.w import y\n",
                "p/q/t.py": "x = 1\n",
                "p/w.py": "from p.q.t import x\n",
            },
            [["p.q", "p.q.s", "p.w"]],
        ),
        # relative imports, and a module importing its own package, are no circle
        (
            {
                "p/__init__.py": "",
                "p/a.py": "from . import b\nfrom .b import c\nimport p\n",
                "p/b.py": "c = 1\n",
            },
            [],
        ),
    ],
    ids=["top-level", "lazy-and-typing", "through-a-package", "none"],
)
def test_the_circle_finder_sees_every_kind_of_import(
    tmp_path: Path, files: dict[str, str], expected: list[list[str]]
) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert circles(imports(modules(tmp_path))) == expected
