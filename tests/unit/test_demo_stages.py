"""The demo generator's stages run in order and each imports only earlier ones (read from the
source, function-level imports included): base → people → income → projects → cadres → plants →
quality → departments → county (the orchestrator) → departments_truth → truth → write → figure → next_quarter → the package's ``write_demo``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import qjlib.demo

DEMO = Path(qjlib.demo.__file__).resolve().parent
ORDER = ["base", "people", "income", "projects", "cadres", "plants", "quality", "departments",
         "departments_truth", "exit", "monitoring", "targets_truth", "targets", "county", "truth",
         "write", "figure", "next_quarter", "__init__"]


def _demo_imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("qjlib.demo"):
            if node.module == "qjlib.demo":
                out |= {a.name for a in node.names}
            else:
                out.add(node.module.split(".")[2])
        elif isinstance(node, ast.Import):
            out |= {a.name.split(".")[2] for a in node.names if a.name.startswith("qjlib.demo.")}
    return out


def test_every_demo_module_has_its_place_in_the_order():
    assert {p.stem for p in DEMO.glob("*.py")} == set(ORDER)


@pytest.mark.parametrize("stage", ORDER)
def test_a_stage_imports_only_earlier_stages(stage):
    earlier = set(ORDER[: ORDER.index(stage)])
    wrong = sorted(_demo_imports(DEMO / f"{stage}.py") - earlier)
    assert not wrong, f"qjlib.demo.{stage} imports later stages {wrong}"


@pytest.mark.parametrize("stage", ORDER)
def test_no_demo_module_is_over_600_lines(stage):
    assert len((DEMO / f"{stage}.py").read_text(encoding="utf-8").splitlines()) <= 600
