"""Refreshing the committed notebooks: execute each in place (on the data its parameters cell
names — the demo county), then tidy it so that its outputs are what nbval re-computes.

The command is ``qj notebooks refresh NOTEBOOK…`` (:mod:`qjlib.cli`), which first writes the demo
county when it is absent.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from qjlib.core.errors import QjError
from qjlib.report.kernels import execute


def tidy_notebook(nb: Any) -> Any:
    """Strip run metadata (papermill, timings), number the code cells, hide code cells but the
    parameters cell, and check that the parameters cell is tagged ``parameters``."""
    nb.metadata.pop("papermill", None)
    nb.metadata.pop("widgets", None)
    tagged = False
    count = 0
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        count += 1
        cell.execution_count = count
        for out in cell.get("outputs", []):
            if "execution_count" in out:
                out["execution_count"] = count
        is_params = "parameters" in cell.metadata.get("tags", [])
        tagged |= is_params
        if is_params:  # left in sight: the analyst sees what to change
            cell.metadata.get("jupyter", {}).pop("source_hidden", None)
            if not cell.metadata.get("jupyter", True):
                del cell.metadata["jupyter"]
        else:
            cell.metadata.setdefault("jupyter", {})["source_hidden"] = True
    if not tagged:
        raise QjError("笔记本缺少标记为 parameters 的参数单元 / no cell tagged 'parameters'")
    return nb


def refresh(paths: Iterable[Path]) -> None:
    """Execute each notebook in place with its parameters cell's defaults (cwd = its folder),
    then :func:`tidy_notebook` it; a notebook that fails is left as it was."""
    import nbformat

    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    for path in paths:
        path = Path(path).resolve()
        print(f"[qj] refresh {path.name}", file=sys.stderr, flush=True)
        tmp = path.with_name(f".{path.stem}.refresh.ipynb")
        try:
            execute(path, tmp, timeout=None)
            nb = tidy_notebook(nbformat.read(tmp, as_version=4))
            nbformat.write(nb, path)
        finally:
            tmp.unlink(missing_ok=True)
