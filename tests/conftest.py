"""Shared fixtures. `demo_dir`: the default demo county, generated once per test session.

It uses `data/demo` when it holds a complete package (the README's commands generate it there);
otherwise it generates one into a temporary folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "demo"


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    if (DEMO / "truth.json").exists() and not os.environ.get("QJ_FRESH_DEMO"):
        return DEMO
    from qjlib.demo import write_demo

    out = tmp_path_factory.mktemp("demo")
    write_demo(out, seed=2019, households=12000)
    return out


@pytest.fixture(scope="session")
def demo_truth(demo_dir) -> dict:
    import json

    return json.loads((demo_dir / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def demo_pkg(demo_dir):
    from qjlib.io.load import load_package

    return load_package(demo_dir)


@pytest.fixture(scope="session")
def demo_ctx(demo_pkg, demo_truth):
    """The demo county's run for the period its truth was planted for (2019Q3 by default)."""
    from qjlib.core.context import Context
    from qjlib.core.params import load_params

    return Context(demo_pkg, load_params(demo_truth["period"]))
