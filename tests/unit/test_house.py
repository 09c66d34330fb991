"""The house's promises that are not about imports (those are in test_layers.py): every analysis
is registered and provides what the report and the notebooks rely on, and no room grows a module
or a function too long to read."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import qjlib
from qjlib import analyses
from qjlib.core.ledgers import LedgerSpec

PKG = Path(qjlib.__file__).resolve().parent
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80  # code lines: the docstring, which states the definition, is not counted


@pytest.mark.parametrize("name", analyses.names())
def test_every_registered_analysis_provides_the_protocol(name):
    module = analyses.get(name)
    assert isinstance(module, analyses.Analysis)
    assert module.NAME == name
    assert all(isinstance(s, LedgerSpec) and s.name == k for k, s in module.LEDGERS.items())
    for fn, scopes in module.NOTEBOOK_RESULTS.items():
        assert callable(getattr(module, fn)) and set(scopes) <= {"county", "towns"}


def test_ledger_names_are_unique_across_analyses():
    names = [k for n in analyses.names() for k in analyses.get(n).LEDGERS]
    assert len(names) == len(set(names))


def test_every_analysis_module_is_registered():
    modules = set(analyses.REGISTRY.values())
    with_ledgers = {f"qjlib.analyses.{p.stem}" for p in (PKG / "analyses").glob("*.py")
                    if "\nLEDGERS" in p.read_text(encoding="utf-8")}
    assert with_ledgers <= modules


FILES = sorted(PKG.rglob("*.py"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PKG)))
def test_modules_and_functions_stay_readable(path):
    text = path.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= MAX_MODULE_LINES
    long = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            lines = node.end_lineno - node.lineno + 1
            doc = node.body[0]
            if isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant) and isinstance(
                    doc.value.value, str):
                lines -= doc.end_lineno - doc.lineno + 1
            if lines > MAX_FUNCTION_LINES:
                long.append(f"{node.name} ({lines} lines)")
    assert not long, f"functions over {MAX_FUNCTION_LINES} code lines: {long}"
