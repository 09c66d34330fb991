"""`qj report` and `qj verify` end to end on a small demo county (400 households, seed 7).

One batch runs the committed notebooks plus one made to fail, for the county and one town: the
failure is kept and marked, the others are complete, the exit status is non-zero, and no file of
the report folder (HTML, ipynb, CSV, the xlsx's XML) holds a full name, ID number or phone number
of the inputs. Without notebooks: two runs give byte-identical ledgers, workbook and summary;
verify says identical, refuses a changed input naming it, and sees an edited ledger.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import types
import zipfile
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from qjlib import cli
from qjlib.core.errors import QjError
from qjlib.core.params import ParamError
from qjlib.report.kernels import NOTEBOOKS_DIR
from qjlib.report.runner import run_report
from qjlib.report.verify import verify

pytestmark = pytest.mark.slow

PERIOD = "2019Q3"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """A private package cache for the module (notebook kernels inherit it)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("QJLIB_CACHE", str(tmp_path_factory.mktemp("cache")))
    mp.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    yield
    mp.undo()


@pytest.fixture(scope="module")
def small_demo(env, tmp_path_factory) -> Path:
    from qjlib.demo import write_demo

    out = tmp_path_factory.mktemp("demo400")
    write_demo(out, seed=7, households=400)
    return out


@pytest.fixture(scope="module")
def no_notebooks(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("no_notebooks")


def _failing_notebook(path: Path) -> None:
    params = new_code_cell('data_dir = "../data/demo"\nperiod = "2019Q3"\nscope = "county"\n'
                           'params_file = None\npii = "masked"\nresults_dir = None',
                           metadata={"tags": ["parameters"]})
    nb = new_notebook(cells=[
        new_markdown_cell("# 故意出错 · made to fail"), params,
        new_code_cell("raise RuntimeError('planted failure ' + scope)"),
        new_code_cell("print('never reached')"),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                "language": "python"}})
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def data(small_demo, tmp_path_factory) -> Path:
    """A copy of the small demo that the verify tests may change (and restore)."""
    out = tmp_path_factory.mktemp("data_copy") / "pkg"
    shutil.copytree(small_demo, out)
    return out


@pytest.fixture(scope="module")
def batch(data, tmp_path_factory):
    """The committed notebooks and one failing notebook, for the county and the first town."""
    nb_dir = tmp_path_factory.mktemp("notebooks")
    for p in sorted(NOTEBOOKS_DIR.glob("*.ipynb")):
        shutil.copy(p, nb_dir / p.name)
    _failing_notebook(nb_dir / "05_fails.ipynb")
    from qjlib.io.load import load_package

    towns = load_package(data, cache=True).towns
    town = towns.iloc[0]
    out = tmp_path_factory.mktemp("reports")
    run = run_report(data, PERIOD, out, scope=["county", town["town_code"]], jobs=2,
                     notebooks_dir_=nb_dir, progress=False, command=["pytest"])
    return run, nb_dir, town


def test_failed_notebook_is_kept_marked_and_the_batch_goes_on(batch):
    run, nb_dir, town = batch
    assert not run.ok
    m = run.manifest
    n_nb = len(list(nb_dir.glob("*.ipynb")))
    assert len(m["notebooks"]) == 2 * n_nb
    failed = [r for r in m["notebooks"] if r["status"] != "ok"]
    assert {(r["notebook"], r["scope"]) for r in failed} == {
        ("05_fails.ipynb", "county"), ("05_fails.ipynb", town["town_code"])}
    assert all("planted failure" in r["error"] for r in failed)
    assert sum("05_fails.ipynb" in f for f in run.failures) == 2
    county_fail = nbformat.read(run.folder / "县" / "05_fails.ipynb", as_version=4)
    errors = [o for c in county_fail.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.output_type == "error"]
    assert errors and errors[0]["ename"] == "RuntimeError"
    assert (run.folder / "县" / "05_fails.html").exists()
    # the other notebooks ran completely, for both scopes, each with its HTML
    for r in m["notebooks"]:
        if r["notebook"] == "05_fails.ipynb":
            continue
        assert r["status"] == "ok", r
        nb = nbformat.read(run.folder / r["ipynb"], as_version=4)
        assert all(c.get("execution_count") for c in nb.cells if c.cell_type == "code")
        assert (run.folder / r["html"]).stat().st_size > 10_000
    assert (run.folder / town["town"] / "00_data_quality.html").exists()


@pytest.fixture(scope="module")
def cli_run(data, tmp_path_factory):
    """The same package through the command line, county only, with just a failing notebook."""
    nb_dir = tmp_path_factory.mktemp("nbs")
    _failing_notebook(nb_dir / "fails.ipynb")
    out = tmp_path_factory.mktemp("cli")
    mp = pytest.MonkeyPatch()
    mp.setenv("QJ_NOTEBOOKS", str(nb_dir))
    try:
        code = cli.main(["report", str(data), "--period", PERIOD, "--out", str(out),
                         "--scope", "county", "--jobs", "1"])
    finally:
        mp.undo()
    return code, out / PERIOD


def test_cli_exit_status_is_non_zero_when_a_notebook_fails(cli_run, data):
    code, folder = cli_run
    assert code == 1
    m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert [(r["notebook"], r["status"]) for r in m["notebooks"]] == [("fails.ipynb", "failed")]
    assert any("fails.ipynb" in f and "planted failure" in f for f in m["failures"])
    assert m["command"][:5] == ["qj", "report", str(data), "--period", PERIOD]


def test_report_folder_layout_and_manifest(batch, small_demo):
    run, _, town = batch
    f = run.folder
    assert f.name == PERIOD
    assert (f / "ledgers.xlsx").exists() and (f / "summary.json").exists()
    m = json.loads((f / "manifest.json").read_text(encoding="utf-8"))
    truth = json.loads((small_demo / "truth.json").read_text(encoding="utf-8"))
    by_file = {i["path"]: i for i in m["inputs"]}
    for spec in truth["files"]:
        rec = by_file[spec["file"]]
        assert rec["rows_read"] == spec["rows"]
        assert rec["rows_read"] == rec["rows_kept"] + rec["rows_rejected"]
        assert len(rec["sha256"]) == 64
    assert m["parameters"]["values"]["decline.n_declines"] == 3
    assert m["pii"] == "masked" and m["period"] == PERIOD and m["as_of"] == "2019-09-30"
    assert set(m["packages"]) >= {"pandas", "numpy", "scipy", "matplotlib", "papermill", "nbval",
                                  "python-calamine"}
    assert m["qjlib"]["version"] and "commit" in m["qjlib"]
    for name, rec in m["outputs"]["ledgers"].items():
        assert (f / rec["file"]).exists(), name
    html = (f / "县" / "00_data_quality.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN"' in html and "<title>" in html and "数据质量" in html
    assert "data:image/png;base64," in html  # charts embedded: one self-contained file
    assert "from qjlib import" not in html  # code hidden
    assert not re.search(r'<script[^>]+src="https?://', html) and "mermaid.esm" not in html
    summary = json.loads((f / "summary.json").read_text(encoding="utf-8"))
    assert summary["period"] == PERIOD and summary["income_year"] == 2019
    assert summary["towns"][town["town_code"]]["name"] == town["town"]
    # every town of the package has its figures, whatever --scope selected
    from qjlib.io.load import load_package

    assert set(summary["towns"]) == set(load_package(small_demo, cache=True).towns["town_code"])


def _pii_values(data: Path) -> tuple[set[str], set[str]]:
    """(long values: names of 3+ characters, ID numbers, phones; two-character names)."""
    from qjlib.io.load import load_package

    pkg = load_package(data, cache=True)
    values: set[str] = set()
    for table, cols in {"households": ["head_name", "head_id_number", "phone"],
                        "members": ["name", "id_number"],
                        "helpers": ["name", "id_number", "phone"]}.items():
        if pkg.has(table):
            for c in cols:
                if c in pkg[table].columns:
                    values |= set(pkg[table][c].dropna().astype("str").str.strip())
    values.discard("")
    short = {v for v in values if len(v) == 2}
    return values - short, short


_DIGITS = re.compile(r"[0-9Xx]{7,}")
_CJK = re.compile(r"[\u3400-\u9fff·]{3,}")
_CELL2 = re.compile(r"(?:^|[,>\"])([\u3400-\u9fff]{2})(?=[,<\"]|$)", re.MULTILINE)


def find_pii(text: str, long_values: set[str], short_names: set[str]) -> list[str]:
    """Personal values of the inputs found in ``text`` (linear time): every ID-number/phone-length
    window of each digit run, every 3+-character window of each run of Chinese characters, and
    two-character names standing as a whole cell (CSV, workbook string, HTML cell, JSON string)."""
    found: set[str] = set()
    lengths = sorted({len(v) for v in long_values})
    for run in (m.group() for m in _DIGITS.finditer(text)):
        run = run.upper()
        found |= {run[i:i + n] for n in (11, 18) for i in range(len(run) - n + 1)
                  if run[i:i + n] in long_values}
    for run in (m.group() for m in _CJK.finditer(text)):
        found |= {run[i:i + n] for n in lengths for i in range(len(run) - n + 1)
                  if run[i:i + n] in long_values}
    found |= {m for m in _CELL2.findall(text) if m in short_names}
    return sorted(found)[:5]


def test_find_pii_sees_planted_values():
    text = '<td>张三明</td>,61083019900101123X,"李四",13812345678,王平安全,张*明'
    assert find_pii(text, {"张三明", "61083019900101123X", "13812345678", "赵六一"}, {"李四"}) == [
        "13812345678", "61083019900101123X", "张三明", "李四"]
    assert find_pii("高杰村镇,张*明,610830********1234", {"张三明"}, {"高杰"}) == []


def _report_texts(folder: Path) -> dict[str, str]:
    out = {}
    for p in folder.rglob("*"):
        if p.suffix in (".html", ".ipynb", ".csv", ".json"):
            out[str(p.relative_to(folder))] = p.read_text(encoding="utf-8-sig")
        elif p.suffix == ".xlsx":
            with zipfile.ZipFile(io.BytesIO(p.read_bytes())) as z:
                for name in z.namelist():
                    if name.endswith(".xml"):
                        out[f"{p.name}:{name}"] = z.read(name).decode("utf-8")
    return out


def test_no_personal_information_in_any_report_file(batch, small_demo):
    run, _, _ = batch
    long_values, short_names = _pii_values(small_demo)
    assert len(long_values) > 500  # names, ID numbers and phones of the inputs
    texts = _report_texts(run.folder)
    assert any(k.endswith(".html") for k in texts) and any(":xl/" in k for k in texts)
    leaks = {k: found for k, t in texts.items() if (found := find_pii(t, long_values, short_names))}
    assert not leaks
    # but masked values are there: the ledgers still show whose row it is
    findings = (run.folder / "ledgers" / "findings.csv").read_text(encoding="utf-8-sig")
    assert re.search(r"\d{6}\*{8}[\dX]{4}", findings)


def test_unknown_parameter_stops_before_anything_runs(small_demo, tmp_path, capsys):
    p = tmp_path / "2019Q3.yaml"
    p.write_text("period: 2019Q3\noverrides:\n  income.low_operating_shar: 0.2\n", encoding="utf-8")
    with pytest.raises(ParamError, match="income.low_operating_shar"):
        run_report(small_demo, PERIOD, tmp_path / "out", params_file=p, progress=False)
    assert not (tmp_path / "out").exists()
    code = cli.main(["report", str(small_demo), "--period", PERIOD, "--params", str(p),
                     "--out", str(tmp_path / "out")])
    assert code == 1
    assert "income.low_operating_shar" in capsys.readouterr().err


def test_unknown_scope_lists_the_towns(small_demo, tmp_path, no_notebooks):
    with pytest.raises(QjError, match="没有这个镇"):
        run_report(small_demo, PERIOD, tmp_path / "out", scope=["没有这个镇"],
                   notebooks_dir_=no_notebooks, progress=False)


def _outputs(folder: Path) -> dict[str, bytes]:
    files = sorted((folder / "ledgers").glob("*.csv")) + [folder / "ledgers.xlsx",
                                                            folder / "summary.json"]
    return {p.name: p.read_bytes() for p in files}


def test_two_runs_are_byte_identical(batch, cli_run):
    """Another run (command line, one process: towns' figures computed serially, another scope
    and notebooks) gives the same bytes as the two-process run."""
    a, b = _outputs(batch[0].folder), _outputs(cli_run[1])
    assert len(a) >= 4 and a.keys() == b.keys()
    assert [k for k in a if a[k] != b[k]] == []
    mb = json.loads((cli_run[1] / "manifest.json").read_text(encoding="utf-8"))
    assert batch[0].manifest["outputs"] == mb["outputs"]


@pytest.fixture(scope="module")
def two_runs(batch, cli_run, data):
    return batch[0], types.SimpleNamespace(folder=cli_run[1]), data


def test_verify_says_identical(two_runs, capsys):
    a, _, _ = two_runs
    assert verify(a.folder / "manifest.json")
    out = capsys.readouterr().out
    assert "全部一致 / all identical" in out
    assert "= rejects: 一致 identical" in out and "≠" not in out
    summary = json.loads((a.folder / "summary.json").read_text(encoding="utf-8"))
    n = len(_flat(summary["decline"]))
    assert f"= decline: {n}/{n} 项一致 identical" in out
    town = next(iter(summary["towns"]))
    assert re.search(rf"= towns\.{town}\.income: (\d+)/\1 项一致", out)
    assert len(out.splitlines()) < 200  # counts per part, not every figure
    assert cli.main(["verify", "--all", str(a.folder / "manifest.json")]) == 0
    every = capsys.readouterr().out
    assert re.search(r"= decline\.flagged: \d+", every)
    assert len(every.splitlines()) > len(_flat(summary))


def _flat(d, prefix=""):
    if isinstance(d, dict):
        return {k2: v for k, x in d.items() for k2, v in _flat(x, f"{prefix}.{k}").items()}
    return {prefix: d}


def test_verify_names_a_changed_figure_and_an_edited_ledger(two_runs, capsys):
    """One figure of summary.json changed and one line added to a ledger: verify names both
    (one recomputation for the two)."""
    _, b, _ = two_runs
    path = b.folder / "summary.json"
    csv = b.folder / "ledgers" / "findings.csv"
    original, original_csv = path.read_bytes(), csv.read_bytes()
    summary = json.loads(original)
    was = summary["income"]["households"]
    summary["income"]["households"] = was + 1
    path.write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    csv.write_bytes(original_csv + b"x,y\n")
    try:
        assert not verify(b.folder / "manifest.json")
        out = capsys.readouterr().out
        assert f"≠ income.households: 报告 {was + 1} → 复算 {was}" in out
        n = len(_flat(summary["income"]))
        assert f"≠ income: {n - 1}/{n} 项一致 identical" in out and "存在不一致" in out
        assert "≠ findings" in out
        assert "≠ decline" not in out and "= decline:" in out  # the rest still identical
    finally:
        path.write_bytes(original)
        csv.write_bytes(original_csv)


def test_verify_refuses_a_changed_input_naming_it(two_runs, tmp_path):
    a, _, data = two_runs
    target = sorted(data.glob("*.csv"))[0]
    original = target.read_bytes()
    target.write_bytes(original + b"\n")
    try:
        with pytest.raises(QjError, match=re.escape(target.name)):
            verify(a.folder / "manifest.json")
    finally:
        target.write_bytes(original)
    gone = sorted(data.glob("*.xlsx"))[0]
    moved = tmp_path / gone.name
    shutil.move(gone, moved)
    try:
        with pytest.raises(QjError, match=re.escape(gone.name)):
            verify(a.folder / "manifest.json")
    finally:
        shutil.move(moved, gone)


@pytest.mark.slow
def test_full_personal_information_only_on_request_and_recorded(small_demo, tmp_path,
                                                                 no_notebooks):
    """--pii full shows the inputs' ID numbers in the ledgers and says so in the manifest; the
    default run records "masked"."""
    run = run_report(small_demo, PERIOD, tmp_path / "full", scope=["county"], pii="full",
                     notebooks_dir_=no_notebooks, progress=False)
    manifest = json.loads((run.folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["pii"] == "full"
    long_values, _ = _pii_values(small_demo)
    findings = (run.folder / "ledgers" / "findings.csv").read_text(encoding="utf-8-sig")
    assert find_pii(findings, long_values, set())  # an ID number with a bad checksum, unmasked
    masked = run_report(small_demo, PERIOD, tmp_path / "masked", scope=["county"],
                        notebooks_dir_=no_notebooks, progress=False)
    assert json.loads((masked.folder / "manifest.json").read_text(encoding="utf-8"))["pii"] == "masked"


def test_notebooks_read_the_results_the_runner_saved(small_demo, tmp_path):
    """``NOTEBOOK_RESULTS`` are saved once per scope they are declared for, and what a notebook
    reads through ``Run.result`` equals a fresh computation."""
    from qjlib.analyses import cadres as helpers
    from qjlib.analyses import industry, load_analyses
    from qjlib.core.context import Context
    from qjlib.core.params import load_params
    from qjlib.core.scopes import COUNTY, all_scopes, scope_context
    from qjlib.io.load import load_package
    from qjlib.pages import nb
    from qjlib.report.compute import compute

    pkg = load_package(small_demo, cache=True)
    params = load_params(PERIOD)
    analyses = load_analyses()
    scopes = all_scopes(pkg)
    work = tmp_path / "work"
    compute(Context(pkg, params), analyses, scopes, work=work)
    saved = sorted(p.name for p in work.glob("result-*.pkl"))
    towns = [s.code for s in scopes if s.town is not None]
    expected = sorted(
        f"result-{mod.NAME}.{fn}.{c}.pkl" for mod in analyses.modules.values()
        for fn, kinds in getattr(mod, "NOTEBOOK_RESULTS", {}).items()
        for c in ([COUNTY] if "county" in kinds else []) + (towns if "towns" in kinds else []))
    assert saved == expected and len(towns) >= 2
    assert {f"result-helpers.review.{COUNTY}.pkl", f"result-decline.analyse.{towns[0]}.pkl",
            f"result-industry.analyse.{COUNTY}.pkl"} <= set(saved)

    town = scopes[-1]
    run = nb.open_run(small_demo, PERIOD, town.code, results_dir=work)
    fresh_county = Context(load_package(small_demo), params)  # another object: computed anew
    pd.testing.assert_frame_equal(run.result("helpers", "review", county=True).table,
                                  helpers.review(fresh_county).table)
    fresh_town = scope_context(fresh_county, town)
    got, want = run.result("industry", "analyse"), industry.analyse(fresh_town)
    assert got is run.result("industry", "analyse")  # read once per notebook
    for name in ("rates", "by_village", "obligations", "dividends_by_entity"):
        pd.testing.assert_frame_equal(getattr(got, name), getattr(want, name))
    # without a report's results the notebook computes the same
    alone = nb.open_run(small_demo, PERIOD, town.code)
    pd.testing.assert_frame_equal(alone.result("industry", "analyse").rates, want.rates)
