"""The house's rooms and the one-way doors between them (docs/design.md, "Layers").

Every ``import`` of a qjlib module inside qjlib — at module level or inside a function — is read
from the source (no code is run), and held against the rules:

- ``core`` imports only ``core``; ``io`` only ``core`` and ``io``;
- ``analyses`` never imports ``pages``, ``report``, ``cli`` or ``demo``;
- ``pages`` never imports ``report``, ``cli`` or ``demo``;
- ``report`` never imports ``cli`` or ``demo``;
- nothing imports ``demo`` but ``cli`` (and the tests);
- no import cycle between modules anywhere.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import qjlib

PKG = Path(qjlib.__file__).resolve().parent

ALLOWED: dict[str, set[str]] = {
    "core": {"core"},
    "io": {"core", "io"},
    "analyses": {"core", "io", "analyses"},
    "pages": {"core", "io", "analyses", "pages"},
    "report": {"core", "io", "analyses", "pages", "report"},
    "demo": {"core", "io", "pages", "demo"},
    "cli": {"core", "io", "analyses", "pages", "report", "demo"},
    "": {"core", "io", "analyses", "pages", "report", "demo", "cli", ""},  # qjlib/__init__, __main__
}


def _module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """The qjlib modules ``path`` imports (a ``from qjlib.x import y`` names ``qjlib.x.y`` when
    that is a module, else ``qjlib.x``)."""
    me = _module_name(path)
    is_pkg = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == "qjlib"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = me.split(".")[: len(me.split(".")) - node.level + (1 if is_pkg else 0)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.split(".")[0] != "qjlib":
                continue
            for a in node.names:
                sub = f"{mod}.{a.name}"
                out.add(sub if sub in MODULES else mod)
    return {m for m in out if m != me}


FILES = sorted(PKG.rglob("*.py"))
MODULES = {_module_name(p) for p in FILES}
GRAPH = {_module_name(p): _imports(p) for p in FILES}


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] != "__main__" else ""


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_each_module_imports_only_the_rooms_below_it(module):
    room = _room(module)
    wrong = sorted(m for m in GRAPH[module] if _room(m) not in ALLOWED[room])
    assert not wrong, f"{module} (room {room or 'qjlib'}) imports {wrong}"


def test_nothing_but_the_cli_imports_the_demo():
    users = sorted(m for m, deps in GRAPH.items()
                   if _room(m) not in ("demo", "cli") and any(_room(d) == "demo" for d in deps))
    assert users == []


def test_there_is_no_import_cycle():
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for d in sorted(GRAPH.get(m, ())):
            if d not in GRAPH:
                continue
            if state.get(d) == 1:
                cycle = stack[stack.index(d):] + [d]
                pytest.fail("import cycle: " + " → ".join(cycle))
            if d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(GRAPH):
        if m not in state:
            visit(m)


def test_the_rules_see_every_room():
    assert {_room(m) for m in GRAPH} == set(ALLOWED)
