"""Refreshing the committed notebooks: tidy outputs, and ``qj notebooks refresh`` (the demo county
written first when absent)."""

from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from qjlib import cli
from qjlib.core.errors import QjError
from qjlib.report import refresh as refresh_mod
from qjlib.report.refresh import tidy_notebook


def _notebook(tagged: bool = True) -> nbformat.NotebookNode:
    params = new_code_cell("x = 1", metadata={"tags": ["parameters"]} if tagged else {})
    cells = [new_markdown_cell("# t"), params, new_code_cell("x")]
    for i, c in enumerate(cells):
        c.metadata["papermill"] = {"duration": 0.1}
        c.metadata["execution"] = {"iopub.status.busy": "2019-01-01T00:00:00"}
        if c.cell_type == "code":
            c.execution_count = 10 + i
    cells[2].outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "1"},
                                               execution_count=12)]
    book = new_notebook(cells=cells)
    book.metadata["papermill"] = {"input_path": "/abs/path.ipynb", "start_time": "2019"}
    return book


def test_tidy_notebook_strips_run_metadata_and_hides_code():
    book = _notebook()
    book.cells[1].metadata["jupyter"] = {"source_hidden": True}
    book = tidy_notebook(book)
    assert "papermill" not in book.metadata
    code = [c for c in book.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == [1, 2]
    assert code[1].outputs[0]["execution_count"] == 2
    assert code[1].metadata["jupyter"]["source_hidden"]
    assert "jupyter" not in code[0].metadata  # the parameters cell stays in sight
    assert all("papermill" not in c.metadata and "execution" not in c.metadata for c in book.cells)
    assert "jupyter" not in book.cells[0].metadata  # markdown stays visible


def test_tidy_notebook_requires_a_parameters_cell():
    with pytest.raises(QjError, match="parameters"):
        tidy_notebook(_notebook(tagged=False))


def test_qj_notebooks_refresh_writes_the_demo_county_when_absent(tmp_path, monkeypatch):
    import qjlib.demo

    calls: list = []
    monkeypatch.setattr(qjlib.demo, "write_demo", lambda out: calls.append(("demo", out)))
    monkeypatch.setattr(refresh_mod, "refresh", lambda paths: calls.append(("refresh", paths)))
    args = cli._parser().parse_args(["notebooks", "refresh", "a.ipynb", "b.ipynb"])
    assert cli.notebooks_main(args, demo_dir=tmp_path / "demo") == 0
    assert calls == [("demo", tmp_path / "demo"),
                     ("refresh", [args.notebooks[0], args.notebooks[1]])]
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "truth.json").write_text("{}", encoding="utf-8")
    calls.clear()
    assert cli.notebooks_main(args, demo_dir=tmp_path / "demo") == 0
    assert [c[0] for c in calls] == ["refresh"]  # present: not written again
