"""Pieces of the report: summary JSON, scopes, town rows of a ledger, notebook lists."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
import tqdm

from qjlib.analyses import load_analyses
from qjlib.core import scopes as sc
from qjlib.core.errors import QjError
from qjlib.report import compute, kernels
from qjlib.report.html import export_html
from qjlib.report.outputs import summary_bytes


def test_jsonable_rounds_and_converts():
    obj = {2019: np.float64(0.12345678912), "b": [np.int64(3), float("nan"), -0.0, np.inf],
           "c": pd.Timestamp("2019-09-30"), "d": (1, 2), "e": np.bool_(True), "f": pd.NA}
    assert compute.jsonable(obj) == {"2019": 0.123457, "b": [3, None, 0.0, None],
                                    "c": "2019-09-30", "d": [1, 2], "e": True, "f": None}
    assert str(compute.jsonable(-0.0)) == "0.0"


def test_summary_bytes_sorted_and_stable():
    a = summary_bytes({"b": {"y": 1, "x": 0.1 + 0.2}, "a": "甲镇"})
    b = summary_bytes({"a": "甲镇", "b": {"x": 0.30000000000000004, "y": 1}})
    assert a == b
    text = a.decode("utf-8")
    assert text.index('"a"') < text.index('"b"') and '"甲镇"' in text  # not \\u-escaped
    assert json.loads(text)["b"]["x"] == 0.3


def test_town_rows_of_a_ledger():
    df = pd.DataFrame({"helper_id": ["a", "b", "c", "d"],
                       "town": ["甲镇", "乙镇、 甲镇", "乙镇 ", None]})
    assert sc.town_rows(df, "甲镇")["helper_id"].tolist() == ["a", "b"]
    assert sc.town_rows(df, "乙镇")["helper_id"].tolist() == ["b", "c"]
    assert sc.town_rows(df, "甲")["helper_id"].tolist() == []  # whole names only
    no_town = pd.DataFrame({"project_id": ["p"]})
    assert sc.town_rows(no_town, "甲镇").equals(no_town)


def test_list_notebooks_sorted_and_selected(tmp_path):
    for n in ("20_b.ipynb", "00_a.ipynb", ".hidden.ipynb", "notes.txt"):
        (tmp_path / n).write_text("{}", encoding="utf-8")
    assert [p.name for p in kernels.list_notebooks(tmp_path)] == ["00_a.ipynb", "20_b.ipynb"]
    assert [p.name for p in kernels.list_notebooks(tmp_path, ["20_b", "00_a.ipynb"])] == [
        "00_a.ipynb", "20_b.ipynb"]
    with pytest.raises(QjError, match="30_c"):
        kernels.list_notebooks(tmp_path, ["30_c"])


def test_notebooks_dir_from_argument_env_or_repo(tmp_path, monkeypatch):
    monkeypatch.delenv("QJ_NOTEBOOKS", raising=False)
    assert kernels.notebooks_dir() == kernels.NOTEBOOKS_DIR
    monkeypatch.setenv("QJ_NOTEBOOKS", str(tmp_path))
    assert kernels.notebooks_dir() == tmp_path
    assert kernels.notebooks_dir(tmp_path / "x") == tmp_path / "x"


class _Pkg:
    def __init__(self, hh: pd.DataFrame) -> None:
        self.hh = hh

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.hh


def _pkg() -> _Pkg:
    from qjlib.core.definitions import town_codes

    hh = pd.DataFrame({"hh_id": ["1", "2", "3"], "county": ["某县"] * 3,
                       "town": ["乙镇", "甲镇", "乙镇"]})
    return _Pkg(hh.assign(town_code=town_codes(hh["town"])))


def test_scopes_come_from_the_data_sorted_by_code():
    from qjlib.core.definitions import town_code

    scopes = sc.all_scopes(_pkg())
    assert scopes[0] == sc.Scope("county", "某县", "县", None)
    towns = scopes[1:]
    assert sorted(s.code for s in towns) == [s.code for s in towns]
    assert {(s.code, s.name, s.folder, s.town) for s in towns} == {
        (town_code(t), t, t, t) for t in ("甲镇", "乙镇")}


def test_select_scopes_by_name_code_or_county():
    from qjlib.core.definitions import town_code

    pkg = _pkg()
    assert [s.name for s in sc.select_scopes(pkg, None)][0] == "某县"
    got = sc.select_scopes(pkg, ["县", "甲镇", town_code("乙镇"), "甲镇"])
    assert [s.name for s in got] == ["某县", "甲镇", "乙镇"]
    with pytest.raises(QjError, match="丙镇") as e:
        sc.select_scopes(pkg, ["丙镇"])
    assert "甲镇" in str(e.value)  # lists what is available


def test_county_name_falls_back_when_not_unique():
    pkg = _pkg()
    pkg.hh.loc[0, "county"] = "另一县"
    assert sc.county_name(pkg) == "全县"


def test_missing_analysis_module_is_skipped_with_a_note():
    found = load_analyses(["quality", "no_such_analysis"])
    assert list(found.modules) == ["quality"]
    assert "no_such_analysis" in found.skipped
    assert set(found.specs()) == {"rejects", "findings"}


def test_html_images_carry_their_chart_titles(tmp_path):
    import base64

    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(16)).decode()
    nb = new_notebook(cells=[new_markdown_cell("# 标题"), new_code_cell("x", outputs=[
        new_output("display_data", {"image/png": png},
                   metadata={"image/png": {"alt": '各乡镇"纯收入"构成'}}),
        new_output("display_data", {"image/png": png}),
    ])])
    path = tmp_path / "a.ipynb"
    nbformat.write(nb, path)
    export_html(path, tmp_path / "a.html", "甲镇")
    page = (tmp_path / "a.html").read_text(encoding="utf-8")
    assert 'alt="各乡镇&quot;纯收入&quot;构成"' in page and 'alt="图表 chart"' in page
    assert "No description" not in page


def _fake_runs(monkeypatch) -> threading.Event:
    """run_notebook replaced by an instant one; the event is set when the bar first moves."""
    moved = threading.Event()
    update = tqdm.tqdm.update

    def moving(self, n=1):
        update(self, n)
        moved.set()

    monkeypatch.setattr(tqdm.tqdm, "update", moving)
    monkeypatch.setattr(kernels, "run_notebook", lambda job, reuse=True: {
        "scope_name": "县", "notebook": job, "status": "ok"})
    return moved


def test_the_bar_moves_while_the_workbook_is_written(monkeypatch):
    moved = _fake_runs(monkeypatch)
    seen = []
    with ThreadPoolExecutor(2) as pool:
        out = kernels.run_notebooks(["a", "b", "c"], 2, progress=False, pool=pool,
                                    while_waiting=lambda: seen.append(moved.wait(timeout=20)))
    assert seen == [True]  # the notebooks were being counted while the workbook was written
    assert [r["notebook"] for r in out] == ["a", "b", "c"]


def test_a_failed_workbook_is_raised_once_the_notebooks_are_done(monkeypatch):
    _fake_runs(monkeypatch)

    def workbook():
        raise OSError("磁盘已满 disk full")

    with ThreadPoolExecutor(2) as pool, pytest.raises(OSError, match="disk full"):
        kernels.run_notebooks(["a", "b"], 2, progress=False, pool=pool, while_waiting=workbook)
