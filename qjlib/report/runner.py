"""The quarterly report: ``qj report`` (ledgers, summary, notebooks for the county and each town,
manifest) and ``qj verify`` (re-run from a manifest and compare).

``qj report DATA --period 2019Q3`` does, in this order:

1. validate the parameters (:func:`qjlib.params.load_params`): a typo stops the run first;
2. load the data package once (:func:`qjlib.load.load_package`, cached for the notebooks);
3. build every ledger (county-wide) and the summary figures (county, then each town of
   ``households.town``) in-process, with the analysis modules of :data:`qjlib.analyses.REGISTRY`;
4. write ``ledgers/<name>.csv``, ``ledgers.xlsx`` and ``summary.json`` (byte-identical for the same
   inputs and parameters: see :mod:`qjlib.ledgers`), masked unless ``--pii full``;
5. run every notebook of ``notebooks/`` (sorted) with papermill, for the county (``scope="county"``)
   and each town (its ASCII ``town_code``), in parallel, each kept as ``.ipynb`` and converted to a
   self-contained ``.html`` with the code hidden; a failing notebook is kept with its error marked
   and the batch goes on;
6. write ``manifest.json`` (inputs and their sha256, parameters, versions, times, per-notebook
   status) and list every failure; the exit status is non-zero if anything failed.

The report folder::

    <out>/<period>/manifest.json, summary.json, ledgers.xlsx, ledgers/<ledger>.csv,
                   县/<notebook>.ipynb|.html, <town name>/<notebook>.ipynb|.html

Analysis modules (the modules of :data:`qjlib.analyses.REGISTRY`) expose ``LEDGERS``,
``build_ledgers(ctx)`` and ``summary(ctx)``; one that does not exist yet is skipped with a note.
A module may also list in ``NOTEBOOK_RESULTS`` functions of a context (``{"analyse": ("county",
"towns")}``) whose results the runner saves, for the scopes named, while it computes the summary,
so that the notebooks read them (:meth:`qjlib.nb.Run.result`) instead of computing them again.
"""

from __future__ import annotations

import argparse
import atexit
import datetime as dt
import functools
import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd

from qjlib import analyses as analyses_registry
from qjlib.core.context import Context
from qjlib.core.errors import QjError
from qjlib.core.ledgers import LedgerSpec, prepare, sheet_names, write_csv, write_xlsx
from qjlib.core.params import Params, load_params
from qjlib.core.privacy import check_pii_mode
from qjlib.core.version import __version__
from qjlib.io.load import load_for

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS_DIR = ROOT / "notebooks"
COUNTY = "county"
COUNTY_FOLDER = "县"
SUMMARY_DIGITS = 6
CACHE_DIR = ".qj-work"  # per-run precomputed results for the notebooks; removed at the end
PACKAGES = ("pandas", "numpy", "scipy", "matplotlib", "papermill", "nbval", "nbconvert",
            "python-calamine", "xlsxwriter", "pyarrow")


# ---------------------------------------------------------------------------------------------
# Analysis modules


@dataclass
class Analyses:
    """The analysis modules found, in :data:`qjlib.analyses.REGISTRY` order, and those skipped (with why)."""

    modules: dict[str, ModuleType] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def specs(self) -> dict[str, LedgerSpec]:
        """Every ledger spec in module order, then the module's declaration order."""
        out: dict[str, LedgerSpec] = {}
        for mod_name, mod in self.modules.items():
            for name, spec in mod.LEDGERS.items():
                if name in out:
                    raise QjError(f"台账名 {name} 重复（{mod_name}）/ duplicate ledger name {name}")
                out[name] = spec
        return out


def load_analyses(names: Sequence[str] | None = None) -> Analyses:
    """The registered analyses (:data:`qjlib.analyses.REGISTRY`) named in ``names`` (default: all),
    in registry order. A name that is not registered (a manifest written by a later version, a
    typo) is skipped with a note."""
    found = Analyses()
    wanted = analyses_registry.names() if names is None else names
    for name in wanted:
        if name not in analyses_registry.REGISTRY:
            found.skipped[name] = f"未登记的分析 {name} / analysis {name} is not registered"
            continue
        found.modules[name] = analyses_registry.get(name)
    return found


# ---------------------------------------------------------------------------------------------
# Scopes: the county and its towns, from the data


@dataclass(frozen=True)
class Scope:
    code: str  # "county" or the town's ASCII code
    name: str  # Chinese: the county's name (or 全县) or the town's name
    folder: str  # the report sub-folder: 县 or the town's name
    town: str | None  # the town name for Context.restrict (None = county)


def county_name(pkg: Any) -> str:
    """The county's name from ``households.county`` when it has one value, else ``全县``."""
    hh = pkg["households"]
    if "county" in hh.columns:
        names = hh["county"].dropna().unique()
        if len(names) == 1 and str(names[0]).strip():
            return str(names[0]).strip()
    return "全县"


def towns(pkg: Any) -> list[Scope]:
    """Every town of ``households`` as a scope, sorted by town code."""
    hh = pkg["households"]
    pairs = hh[["town_code", "town"]].dropna().drop_duplicates().sort_values(["town_code", "town"])
    dup = pairs["town_code"].duplicated(keep=False)
    if dup.any():  # pragma: no cover - sha1 prefix collision
        raise QjError(f"乡镇代码冲突 / town code collision: {pairs[dup].to_dict('records')}")
    return [Scope(c, t, _folder_name(t), t) for c, t in zip(pairs["town_code"], pairs["town"],
                                                           strict=True)]


def _folder_name(name: str) -> str:
    bad = '<>:"/\\|?*'
    return "".join("_" if ch in bad or ord(ch) < 32 else ch for ch in str(name)).strip() or "_"


def all_scopes(pkg: Any) -> list[Scope]:
    return [Scope(COUNTY, county_name(pkg), COUNTY_FOLDER, None), *towns(pkg)]


def select_scopes(pkg: Any, wanted: Sequence[str] | None) -> list[Scope]:
    """The scopes named on the command line (``county``/``县``, a town name or code); all if None."""
    scopes = all_scopes(pkg)
    if not wanted:
        return scopes
    out: list[Scope] = []
    for w in wanted:
        hit = [s for s in scopes if w in (s.code, s.name, s.folder) or (w == "县" and s.town is None)]
        if not hit:
            avail = "、".join(f"{s.name}({s.code})" for s in scopes)
            raise QjError(f"未知范围 {w!r}，可选：{avail} / unknown scope {w!r}")
        out.extend(h for h in hit if h not in out)
    return out


def scope_context(county_ctx: Context, scope: Scope) -> Context:
    return county_ctx.restrict(scope.town)


# ---------------------------------------------------------------------------------------------
# Building ledgers and the summary


@dataclass
class Results:
    """What the analyses produced for one run (raw frames, before masking)."""

    ledgers: dict[str, tuple[LedgerSpec, pd.DataFrame]]
    ledger_module: dict[str, str]
    summary: dict[str, Any]
    errors: list[str]


def _error_text(e: BaseException) -> str:
    return f"{type(e).__name__}: {e}"


def build_ledgers(ctx: Context, analyses: Analyses, errors: list[str]) -> tuple[
        dict[str, tuple[LedgerSpec, pd.DataFrame]], dict[str, str]]:
    """Every module's ledgers for ``ctx``; a module that fails is recorded in ``errors`` and its
    ledgers are left out."""
    out: dict[str, tuple[LedgerSpec, pd.DataFrame]] = {}
    owner: dict[str, str] = {}
    specs = analyses.specs()
    for mod_name, mod in analyses.modules.items():
        try:
            frames = mod.build_ledgers(ctx)
        except Exception as e:  # noqa: BLE001 - one failing analysis must not stop the others
            errors.append(f"{mod_name}.build_ledgers: {_error_text(e)}")
            traceback.print_exc(file=sys.stderr)
            continue
        for name in mod.LEDGERS:
            if name not in frames:
                errors.append(f"{mod_name}.build_ledgers 未返回台账 {name} / did not return {name}")
                continue
            out[name] = (specs[name], frames[name])
            owner[name] = mod_name
    return out, owner


def module_summaries(ctx: Context, analyses: Analyses, errors: list[str], where: str) -> dict:
    figures: dict[str, Any] = {}
    for mod_name, mod in analyses.modules.items():
        try:
            figures[mod_name] = mod.summary(ctx)
        except Exception as e:  # noqa: BLE001
            errors.append(f"{mod_name}.summary({where}): {_error_text(e)}")
            traceback.print_exc(file=sys.stderr)
            figures[mod_name] = {"available": False, "reason": "计算出错 / analysis failed"}
    return figures


def result_file(work: Path, module: str, name: str, scope_code: str) -> Path:
    """Where the runner saves ``module.name(ctx)`` of a scope for the notebooks."""
    return work / f"result-{module}.{name}.{scope_code}.pkl"


def save_results(ctx: Context, analyses: Analyses, work: Path | None, scope_code: str) -> None:
    """Save the ``NOTEBOOK_RESULTS`` of every module for ``ctx`` (computed already, for the
    summary, when the function is :func:`qjlib.context.per_context`). One that fails is not
    saved: the notebook then computes it and shows the error where it happens."""
    import pickle

    if work is None:
        return
    kind = "county" if ctx.scope is None else "towns"
    for mod_name, mod in analyses.modules.items():
        for name, kinds in getattr(mod, "NOTEBOOK_RESULTS", {}).items():
            if kind not in kinds:
                continue
            try:
                value = getattr(mod, name)(ctx)
            except Exception:  # noqa: BLE001 - reported by the summary or the notebook
                continue
            with open(result_file(work, mod_name, name, scope_code), "wb") as f:
                pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)


def town_summaries(data: str, params_record: dict[str, Any], modules: Sequence[str],
                   scopes: Sequence[Scope], work: str | None = None) -> tuple[dict[str, Any],
                                                                             list[str]]:
    """Summary figures of some towns, in a worker process: the package comes from the cache the
    runner filled, the parameters from their record (the same values as the runner's). With
    ``work``, the towns' ``NOTEBOOK_RESULTS`` are saved there."""
    params = Params.from_record(params_record)
    county_ctx = Context(load_for(Path(data), params), params)
    analyses = load_analyses(modules)
    errors: list[str] = []
    out = {}
    for s in scopes:
        ctx = scope_context(county_ctx, s)
        out[s.code] = {"name": s.name, **module_summaries(ctx, analyses, errors, s.code)}
        save_results(ctx, analyses, Path(work) if work else None, s.code)
    return out, errors


def compute(county_ctx: Context, analyses: Analyses, scopes: Iterable[Scope],
            pool: ProcessPoolExecutor | None = None, n_jobs: int = 1,
            work: Path | None = None) -> Results:
    """County-wide ledgers; summary figures for the county (top level) and every town; with
    ``work``, the modules' ``NOTEBOOK_RESULTS`` of every scope saved there (:func:`save_results`).

    With a ``pool`` (and the package loaded with ``cache=True``), the towns' figures are computed
    in ``n_jobs`` worker processes while this process builds the county's; the result is the
    same as the serial computation (assembled by town code, errors in town order).
    """
    errors: list[str] = []
    town_scopes = [s for s in scopes if s.town is not None]
    if work is not None:
        work.mkdir(parents=True, exist_ok=True)
    futures = []
    if pool is not None and town_scopes:
        chunks = [town_scopes[i::n_jobs] for i in range(max(1, n_jobs))]
        futures = [pool.submit(town_summaries, str(county_ctx.pkg.root),
                               county_ctx.params.record(), list(analyses.modules), c,
                               None if work is None else str(work))
                   for c in chunks if c]
    ledgers, owner = build_ledgers(county_ctx, analyses, errors)
    summary: dict[str, Any] = {
        "period": county_ctx.period,
        "as_of": county_ctx.asof.date().isoformat(),
        "income_year": county_ctx.income_year,
        "county": county_name(county_ctx.pkg),
        "analyses": list(analyses.modules),
        **module_summaries(county_ctx, analyses, errors, COUNTY),
    }
    save_results(county_ctx, analyses, work, COUNTY)
    towns_out: dict[str, Any] = {}
    town_errors: list[str] = []
    if futures:
        for fut in futures:
            figures, errs = fut.result()
            towns_out.update(figures)
            town_errors.extend(errs)
    else:
        for s in town_scopes:
            ctx = scope_context(county_ctx, s)
            towns_out[s.code] = {"name": s.name, **module_summaries(ctx, analyses, town_errors,
                                                                    s.code)}
            save_results(ctx, analyses, work, s.code)
    order = {s.code: i for i, s in enumerate(town_scopes)}
    town_errors.sort(key=lambda e: order.get(e.split("(", 1)[-1].split(")", 1)[0], -1))
    summary["towns"] = {s.code: towns_out[s.code] for s in town_scopes}
    return Results(ledgers, owner, summary, errors + town_errors)


def jsonable(obj: Any, digits: int = SUMMARY_DIGITS) -> Any:
    """JSON-ready copy: floats rounded to ``digits`` (NaN/inf → null, -0.0 → 0.0), numpy and
    pandas scalars to Python, dates to ISO text, mapping keys to text, tuples to lists."""
    import numpy as np

    if isinstance(obj, dict):
        return {str(k): jsonable(v, digits) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        items = sorted(obj, key=str) if isinstance(obj, (set, frozenset)) else obj
        return [jsonable(v, digits) for v in items]
    if isinstance(obj, pd.Series):
        return jsonable(obj.to_dict(), digits)
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist(), digits)
    if obj is None or obj is pd.NA or obj is pd.NaT:
        return None
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        return None if not math.isfinite(x) else round(x, digits) + 0.0
    if isinstance(obj, (pd.Timestamp, dt.date)):
        return obj.date().isoformat() if isinstance(obj, pd.Timestamp) else obj.isoformat()
    return str(obj) if not isinstance(obj, str) else obj


def summary_bytes(summary: dict) -> bytes:
    return (json.dumps(jsonable(summary), ensure_ascii=False, sort_keys=True, indent=2) + "\n"
            ).encode("utf-8")


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_outputs(res: Results, folder: Path, pii: str, as_of: pd.Timestamp,
                  xlsx: bool = True) -> dict[str, Any]:
    """``ledgers/*.csv``, ``summary.json`` and (``xlsx=True``) ``ledgers.xlsx`` into ``folder``;
    their sha256 and row counts for the manifest. With ``xlsx=False`` the prepared ledgers are
    returned under ``"_prepared"`` for :func:`write_workbook` (the runner writes the workbook
    while the notebooks run)."""
    led_dir = folder / "ledgers"
    led_dir.mkdir(parents=True, exist_ok=True)
    prepared: dict[str, tuple[LedgerSpec, pd.DataFrame]] = {}
    ledgers: dict[str, dict[str, Any]] = {}
    for name, (spec, df) in res.ledgers.items():
        p = prepare(df, spec, pii)
        prepared[name] = (spec, p)
        sha = write_csv(p, led_dir / f"{name}.csv", spec)
        ledgers[name] = {"file": f"ledgers/{name}.csv", "rows": len(p), "sha256": sha,
                         "module": res.ledger_module[name], "title_zh": spec.title_zh}
    data = summary_bytes(res.summary)
    (folder / "summary.json").write_bytes(data)
    out: dict[str, Any] = {"ledgers": ledgers, "summary.json": _sha256_bytes(data)}
    if xlsx:
        out["ledgers.xlsx"] = write_workbook(prepared, folder, as_of)
    else:
        out["_prepared"] = prepared
    return out


def write_workbook(prepared: dict[str, tuple[LedgerSpec, pd.DataFrame]], folder: Path,
                   as_of: pd.Timestamp) -> str:
    """``ledgers.xlsx`` of the prepared ledgers, created = the as-of date; returns its sha256."""
    created = dt.datetime.combine(as_of.date(), dt.time())
    return write_xlsx(prepared, folder / "ledgers.xlsx", created)


# ---------------------------------------------------------------------------------------------
# Precomputed results for the notebooks (so 60 notebook runs do not redo the analyses)


def ledger_sheets(specs: dict[str, LedgerSpec]) -> dict[str, str]:
    """Ledger name → its ``ledgers.xlsx`` sheet name (the writer's computation)."""
    return dict(zip(specs, sheet_names(specs.values()), strict=True))


def write_work_cache(work: Path, analyses: Analyses, res: Results) -> None:
    """What the notebooks reuse instead of recomputing (:func:`qjlib.nb.open_run`,
    ``results_dir``): ``meta.pkl`` (the summary of every scope, the ledger specs, owners and
    sheet names) and ``ledgers-<module>.pkl`` (the county ledgers of one module, raw), so a
    notebook loads and imports only what it shows."""
    import pickle

    work.mkdir(parents=True, exist_ok=True)
    specs = analyses.specs()
    owners = {n: m for m, mod in analyses.modules.items() for n in mod.LEDGERS}
    meta = {"summary": res.summary, "specs": specs, "owners": owners,
            "sheets": ledger_sheets(specs)}
    with open(work / "meta.pkl", "wb") as f:
        pickle.dump(meta, f, protocol=pickle.HIGHEST_PROTOCOL)
    for mod in analyses.modules:
        frames = {n: df for n, (_, df) in res.ledgers.items() if res.ledger_module[n] == mod}
        with open(work / f"ledgers-{mod}.pkl", "wb") as f:
            pickle.dump(frames, f, protocol=pickle.HIGHEST_PROTOCOL)


def town_rows(df: pd.DataFrame, town: str) -> pd.DataFrame:
    """The rows of a county ledger that concern ``town``: its ``town`` cell is the town, or lists
    it among several (``乙镇、甲镇``, a helper working in two towns). A ledger without a ``town``
    column is returned whole."""
    if "town" not in df.columns:
        return df
    cell = df["town"].astype("str")
    keep = (cell.str.strip() == town).to_numpy(dtype=bool, copy=True)
    several = cell.str.contains("、", regex=False).to_numpy()
    if several.any():  # only these cells are split (the rest is one vectorised comparison)
        parts = cell[several].str.split("、").explode()
        hit = parts.index[parts.str.strip() == town]
        keep |= df.index.isin(hit)
    return df.loc[keep]


# ---------------------------------------------------------------------------------------------
# Notebooks


@dataclass(frozen=True)
class NotebookJob:
    notebook: Path
    scope: Scope
    output: Path
    parameters: dict[str, Any]


def notebooks_dir(path: str | Path | None = None) -> Path:
    """``path``, else env ``QJ_NOTEBOOKS``, else the repository's ``notebooks/``."""
    return Path(path or os.environ.get("QJ_NOTEBOOKS") or NOTEBOOKS_DIR)


def list_notebooks(folder: Path, only: Sequence[str] | None = None) -> list[Path]:
    """The folder's notebooks, sorted by file name; ``only`` selects by name (``.ipynb`` optional)."""
    found = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))
    if not only:
        return found
    by = {p.name: p for p in found} | {p.stem: p for p in found}
    missing = [n for n in only if n not in by]
    if missing:
        raise QjError(f"找不到笔记本 {', '.join(missing)}（可选：{', '.join(p.name for p in found)}）"
                      f" / notebook(s) not found: {', '.join(missing)}")
    return sorted({by[n] for n in only})


@functools.lru_cache(maxsize=1)
def _html_exporter() -> Any:
    """One HTML exporter per process (its templates load once): code and prompts hidden."""
    from nbconvert import HTMLExporter

    return HTMLExporter(exclude_input=True, exclude_input_prompt=True,
                        exclude_output_prompt=True, embed_images=True)


def export_html(nb_path: Path, html_path: Path, title: str) -> None:
    """A self-contained HTML page of an executed notebook: code hidden, prompts hidden, images
    embedded, no scripts from the internet (the notebooks need no MathJax or widgets)."""
    import re

    import nbformat

    nb = nbformat.read(nb_path, as_version=4)
    heading = next((line[2:].strip() for c in nb.cells if c.cell_type == "markdown"
                    for line in c.source.splitlines() if line.startswith("# ")), None)
    nb.metadata["title"] = f"{title} · {heading}" if heading else title
    body, _ = _html_exporter().from_notebook_node(nb)
    body = _image_alts(nb, body)
    body = re.sub(r'<script[^>]*\bsrc="https?://[^"]*"[^>]*>\s*</script>\s*', "", body)
    body = re.sub(r'<script type="module">(?:(?!</script>).)*?mermaid.*?</script>\s*', "", body,
                  flags=re.DOTALL)
    body = re.sub(r"<html([^>]*)\blang=\"[^\"]*\"", r'<html\1lang="zh-CN"', body, count=1)
    html_path.write_text(body, encoding="utf-8")


_NO_ALT = 'alt="No description has been provided for this image"'


def _image_alts(nb: Any, body: str) -> str:
    """Give each PNG output of the page its chart title as alternative text (the ``alt`` that
    :func:`qjlib.plotting.show` puts in the output's metadata), in place of nbconvert's English
    placeholder; images without one get ``图表 chart``."""
    import html as _html

    alts = [out.get("metadata", {}).get("image/png", {}).get("alt") or "图表 chart"
            for cell in nb.cells if cell.cell_type == "code"
            for out in cell.get("outputs", []) if "image/png" in out.get("data", {})]
    parts = body.split(_NO_ALT)
    if len(parts) - 1 != len(alts):  # not the outputs we know: leave the page as it is
        return body
    out = [parts[0]]
    for alt, rest in zip(alts, parts[1:], strict=True):
        out.append(f'alt="{_html.escape(alt, quote=True)}"')
        out.append(rest)
    return "".join(out)


# One kernel per worker process, reused from notebook to notebook: a fresh kernel costs the
# interpreter start plus the imports of pandas, matplotlib and qjlib (about 2 s) for every one of
# the batch's notebooks. Before each notebook the kernel's namespace, history and execution count
# are reset (``InteractiveShell.reset(new_session=True)``), so a notebook sees nothing of the one
# before; after a failure the kernel is replaced. After the reset the garbage of the notebook is
# collected, and what is still alive (modules, the package read once, font caches) is frozen out
# of the cyclic garbage collector (``gc.freeze``), so that neither the next reset nor the
# collections during the next notebook traverse it again (a full collection of it costs 85 ms).
_KERNELS: dict[tuple[str, str], Any] = {}


def _reset_kernel(kc: Any, timeout: float = 60) -> None:
    reply = kc.execute_interactive(
        "get_ipython().reset(new_session=True, aggressive=False)\n"
        "import gc as _gc; _gc.collect(); _gc.freeze(); del _gc",
        store_history=False, silent=True, timeout=timeout)
    if reply["content"].get("status") != "ok":
        raise RuntimeError("kernel reset failed")


def _shared_kernel(kernel: str, cwd: Path) -> tuple[Any, Any]:
    """This process's kernel for ``kernel`` (started on first use, in ``cwd``), reset, and its
    client. The client stays connected from notebook to notebook: a new client's
    ``wait_for_ready`` costs 0.2 s or more of idle waiting on the IOPub channel each time."""
    key = (kernel, str(cwd))
    km = _KERNELS.get(key)
    if km is not None and km.is_alive():
        try:
            _reset_kernel(km._qj_client)
            return km, km._qj_client
        except Exception:  # noqa: BLE001 - a kernel that cannot reset is replaced
            _drop_kernel(key)
    sockets = Path(tempfile.mkdtemp(prefix="qj-kernel-"))
    km = _kernel_manager(kernel, sockets)
    km.start_kernel(cwd=str(cwd), extra_arguments=["--HistoryManager.enabled=False"])
    km._qj_sockets = sockets  # removed with the kernel
    _KERNELS[key] = km
    if len(_KERNELS) == 1:
        atexit.register(_drop_all_kernels)
    kc = km.client()
    kc.start_channels()
    km._qj_client = kc
    kc.wait_for_ready(timeout=60)
    return km, kc


_ENGINE = "qj-kept-client"


def _register_engine() -> None:
    """Register with papermill an nbclient engine that runs on the kernel client it is given
    (``kc=``) instead of connecting a new one: nbclient would otherwise connect a client with
    the kernel manager's session identity for every notebook, which leaves the kernel's replies
    to whichever socket connected last."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.exceptions import PapermillException
    from papermill.log import logger

    try:
        papermill_engines.get_engine(_ENGINE)
        return
    except PapermillException:
        pass

    class KeptClientEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, log_output: bool = False,
                                     stdout_file: Any = None, stderr_file: Any = None,
                                     start_timeout: int = 60, execution_timeout: Any = None,
                                     kc: Any = None, **kwargs: Any) -> Any:
            for k in ("input_path", "timeout", "startup_timeout"):
                kwargs.pop(k, None)
            client = PapermillNotebookClient(
                nb_man, timeout=execution_timeout, startup_timeout=start_timeout,
                kernel_name=kernel_name, log=logger, log_output=log_output,
                stdout_file=stdout_file, stderr_file=stderr_file, **kwargs)
            if kc is not None:
                kc.allow_stdin = False  # as nbclient sets on the clients it connects
                client.kc = kc
            return client.execute()

    papermill_engines.register(_ENGINE, KeptClientEngine)


def _drop_kernel(key: tuple[str, str]) -> None:
    km = _KERNELS.pop(key, None)
    if km is None:
        return
    try:
        kc = getattr(km, "_qj_client", None)
        if kc is not None:
            kc.stop_channels()
        if km.has_kernel:
            km.shutdown_kernel(now=True)
    finally:
        shutil.rmtree(getattr(km, "_qj_sockets", ""), ignore_errors=True)


def _drop_all_kernels() -> None:
    for key in list(_KERNELS):
        _drop_kernel(key)


def execute(notebook: Path, output: Path, parameters: dict[str, Any] | None = None,
            kernel: str = "python3", timeout: int | None = 1800, reuse: bool = True) -> None:
    """Execute ``notebook`` into ``output`` with papermill (cwd = the notebook's folder), on a
    kernel reached through private Unix sockets where the OS has them; raises what papermill
    raises (the output then holds the notebook with its error marked). With ``reuse`` the
    process's kernel is reset and reused (see ``_shared_kernel``); otherwise a kernel is started
    for this notebook alone."""
    import papermill as pm

    if reuse:
        _register_engine()
        km, kc = _shared_kernel(kernel, notebook.parent)
        try:
            pm.execute_notebook(
                str(notebook), str(output), parameters=parameters or None, kernel_name=kernel,
                engine_name=_ENGINE, km=km, kc=kc, cwd=str(notebook.parent), progress_bar=False,
                log_output=False,
                request_save_on_cell_execute=False, execution_timeout=timeout,
            )
        except BaseException:
            _drop_kernel((kernel, str(notebook.parent)))  # the next notebook gets a fresh one
            raise
        return
    with tempfile.TemporaryDirectory(prefix="qj-kernel-") as sockets:
        km = _kernel_manager(kernel, Path(sockets))
        try:
            pm.execute_notebook(
                str(notebook), str(output), parameters=parameters or None, kernel_name=kernel,
                km=km, cwd=str(notebook.parent), progress_bar=False, log_output=False,
                request_save_on_cell_execute=False, execution_timeout=timeout,
            )
        finally:  # a kernel manager passed in is not shut down by papermill
            if km.has_kernel:
                km.shutdown_kernel(now=True)


def run_notebook(job: NotebookJob, kernel: str = "python3", timeout: int = 1800,
                 reuse: bool = True) -> dict[str, Any]:
    """Execute one notebook with papermill and export its HTML; never raises. ``reuse``: run it
    on this process's reset kernel (see ``_shared_kernel``) rather than a kernel of its own."""
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    t0 = time.perf_counter()
    status, error = "ok", None
    job.output.parent.mkdir(parents=True, exist_ok=True)
    try:
        execute(job.notebook, job.output, job.parameters, kernel, timeout, reuse=reuse)
    except Exception as e:  # noqa: BLE001 - the batch goes on; papermill keeps the notebook
        status, error = "failed", _short_error(e)
    if job.output.exists():
        try:
            export_html(job.output, job.output.with_suffix(".html"), job.scope.name)
        except Exception as e:  # noqa: BLE001
            status = "failed"
            error = (error + "; " if error else "") + f"HTML: {_short_error(e)}"
    return {"notebook": job.notebook.name, "scope": job.scope.code, "scope_name": job.scope.name,
            "ipynb": None, "status": status, "error": error,
            "seconds": round(time.perf_counter() - t0, 2)}


def _kernel_manager(kernel: str, sockets: Path) -> Any:
    """A kernel manager talking to the kernel over private Unix sockets (in ``sockets``) where
    the OS has them, else over local TCP."""
    from jupyter_client.manager import KernelManager

    if os.name == "posix":
        return KernelManager(kernel_name=kernel, transport="ipc", ip=str(sockets / "kernel"))
    return KernelManager(kernel_name=kernel)  # pragma: no cover - Windows


def _short_error(e: BaseException) -> str:
    name = getattr(e, "ename", None) or type(e).__name__
    value = getattr(e, "evalue", None) or str(e).strip().splitlines()[-1:] or [""]
    value = value if isinstance(value, str) else value[0]
    return f"{name}: {value}"[:500]


def process_pool(n_jobs: int) -> ProcessPoolExecutor:
    """Worker processes for the towns' figures and the notebooks (spawned: no fork of a process
    holding Arrow threads)."""
    import multiprocessing as mp

    return ProcessPoolExecutor(max_workers=max(1, n_jobs), mp_context=mp.get_context("spawn"))


def run_notebooks(jobs: Sequence[NotebookJob], n_jobs: int, progress: bool = True,
                  pool: ProcessPoolExecutor | None = None,
                  while_waiting: Callable[[], None] | None = None,
                  reuse_kernels: bool = True) -> list[dict]:
    """Execute the jobs on ``n_jobs`` worker processes (or ``pool``), with a progress bar;
    results in job order. ``while_waiting`` runs in this process once the jobs are submitted.
    ``reuse_kernels=False`` starts a kernel per notebook (papermill's own way)."""
    from tqdm import tqdm

    if not jobs:
        if while_waiting is not None:
            while_waiting()
        return []
    results: dict[int, dict] = {}
    own = pool is None
    pool = pool or process_pool(n_jobs)
    bar = None
    try:
        futures = {pool.submit(run_notebook, j, reuse=reuse_kernels): i
                   for i, j in enumerate(jobs)}
        if while_waiting is not None:
            while_waiting()
        bar = tqdm(total=len(jobs), desc="笔记本 notebooks", unit="nb", disable=not progress,
                   file=sys.stderr, dynamic_ncols=True)
        for fut in as_completed(futures):
            i = futures[fut]
            results[i] = fut.result()
            r = results[i]
            bar.set_postfix_str(f"{r['scope_name']}/{r['notebook']} {r['status']}")
            bar.update(1)
    finally:
        if bar is not None:
            bar.close()
        if own:
            pool.shutdown()
    return [results[i] for i in range(len(jobs))]


# ---------------------------------------------------------------------------------------------
# Manifest


def git_state(path: Path = ROOT) -> dict[str, Any]:
    """The git commit of the qjlib checkout and whether its tree has uncommitted changes."""
    def git(*args: str) -> str | None:
        try:
            r = subprocess.run(["git", "-C", str(path), *args], capture_output=True, text=True,
                               timeout=20, check=False)
        except (OSError, subprocess.SubprocessError):
            return None
        return r.stdout.strip() if r.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    dirty = None if commit is None else bool(git("status", "--porcelain", "--untracked-files=no"))
    return {"commit": commit, "dirty": dirty}


def package_versions() -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str | None] = {}
    for p in PACKAGES:
        try:
            out[p] = version(p)
        except PackageNotFoundError:
            out[p] = None
    return out


def input_records(pkg: Any) -> list[dict[str, Any]]:
    """``pkg.inputs`` with rows read/kept/rejected per file from ``pkg.accounting``."""
    acc = pkg.accounting.groupby("file", sort=True)[["read", "kept", "rejected"]].sum()
    out = []
    for rec in sorted(pkg.inputs, key=lambda r: r["path"]):
        row = acc.loc[rec["path"]] if rec["path"] in acc.index else None
        out.append({
            **rec,
            "rows_read": None if row is None else int(row["read"]),
            "rows_kept": None if row is None else int(row["kept"]),
            "rows_rejected": None if row is None else int(row["rejected"]),
        })
    return out


def _now() -> str:
    return dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds")


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------
# qj report


@dataclass
class ReportRun:
    """What :func:`run_report` did (also written to ``manifest.json``)."""

    folder: Path
    manifest: dict[str, Any]
    failures: list[str]

    @property
    def ok(self) -> bool:
        return not self.failures


def run_report(
    data: str | Path,
    period: str,
    out: str | Path = "reports",
    params_file: str | Path | None = None,
    scope: Sequence[str] | None = None,
    pii: str = "masked",
    jobs: int | None = None,
    notebooks: Sequence[str] | None = None,
    notebooks_dir_: str | Path | None = None,
    progress: bool = True,
    command: Sequence[str] | None = None,
) -> ReportRun:
    """The whole ``qj report`` (see the module docstring); returns the manifest and failures."""
    started, t0 = _now(), time.perf_counter()
    check_pii_mode(pii)
    params = load_params(period, params_file)
    nb_dir = notebooks_dir(notebooks_dir_)
    nbs = list_notebooks(nb_dir, notebooks) if nb_dir.is_dir() else []
    data = Path(data).resolve()
    if not data.is_dir():
        raise QjError(f"数据包目录不存在：{data} / data package folder not found")
    _say(f"读取数据包 loading {data}")
    pkg = load_for(data, params)
    county_ctx = Context(pkg, params)
    analyses = load_analyses()
    for name, why in analyses.skipped.items():
        _say(f"跳过分析 {name}：{why}")
    scopes_all = all_scopes(pkg)
    scopes = select_scopes(pkg, scope)
    n_jobs = jobs or os.cpu_count() or 1
    folder = Path(out).resolve() / params.period
    work = folder / CACHE_DIR
    shutil.rmtree(work, ignore_errors=True)  # nothing left from an interrupted run is reused
    nb_results: list[dict] = []
    with process_pool(n_jobs) as pool:
        _say(f"计算台账与汇总 ledgers and summary: {len(scopes_all) - 1} 个乡镇 towns")
        t_compute = time.perf_counter()
        res = compute(county_ctx, analyses, scopes_all, pool if n_jobs > 1 else None, n_jobs,
                      work if nbs else None)
        folder.mkdir(parents=True, exist_ok=True)
        outputs = write_outputs(res, folder, pii, params.asof, xlsx=False)
        prepared = outputs.pop("_prepared")
        compute_seconds = round(time.perf_counter() - t_compute, 2)

        def workbook() -> None:  # written here while the workers run the notebooks
            outputs["ledgers.xlsx"] = write_workbook(prepared, folder, params.asof)

        t_nb = time.perf_counter()
        if not nbs:
            workbook()
        else:
            write_work_cache(work, analyses, res)
            base = {"data_dir": str(data), "period": params.period,
                    "params_file": (None if params_file is None
                                    else str(Path(params_file).resolve())),
                    "pii": pii, "results_dir": str(work)}
            job_list = [
                NotebookJob(nb, s, folder / s.folder / nb.name, {**base, "scope": s.code})
                for s in scopes for nb in nbs
            ]
            _say(f"运行笔记本 running {len(job_list)} notebooks ({len(nbs)} × {len(scopes)} "
                 f"scopes) on {n_jobs} processes")
            nb_results = run_notebooks(job_list, n_jobs, progress, pool, workbook)
            for j, r in zip(job_list, nb_results, strict=True):
                r["ipynb"] = j.output.relative_to(folder).as_posix()
                r["html"] = j.output.with_suffix(".html").relative_to(folder).as_posix()
        shutil.rmtree(work, ignore_errors=True)
        notebooks_seconds = round(time.perf_counter() - t_nb, 2)

    failures = [f"分析 analysis: {e}" for e in res.errors] + [
        f"笔记本 notebook {r['ipynb']}: {r['error']}" for r in nb_results if r["status"] != "ok"
    ]
    manifest = {
        "qjlib": {"version": __version__, **git_state()},
        "command": list(command) if command is not None else sys.argv,
        "period": params.period,
        "as_of": params.asof.date().isoformat(),
        "income_year": county_ctx.income_year,
        "data": {"root": str(data), "relative_to_manifest": os.path.relpath(data, folder)},
        "inputs": input_records(pkg),
        "accounting": jsonable(pkg.accounting.to_dict("records")),
        "notes": list(pkg.notes),
        "parameters": params.record(),
        "pii": pii,
        "python": sys.version.split()[0],
        "packages": package_versions(),
        "analyses": {"included": list(analyses.modules), "skipped": analyses.skipped},
        "scopes": [{"code": s.code, "name": s.name, "folder": s.folder} for s in scopes],
        "outputs": outputs,
        "notebooks": nb_results,
        "failures": failures,
        "started": started,
        "finished": _now(),
        "seconds": {"total": round(time.perf_counter() - t0, 2), "analyses": compute_seconds,
                    "notebooks": notebooks_seconds},
    }
    (folder / "manifest.json").write_text(
        json.dumps(jsonable(manifest, 6), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return ReportRun(folder, manifest, failures)


def _say(msg: str) -> None:
    print(f"[qj] {msg}", file=sys.stderr, flush=True)


def report_main(args: argparse.Namespace) -> int:
    """``qj report``: exit 0 when every analysis and notebook succeeded, 1 otherwise."""
    command = ["qj", "report", str(args.data), "--period", args.period, "--out", str(args.out),
               "--pii", args.pii]
    if args.params is not None:
        command += ["--params", str(args.params)]
    if args.scope:
        command += ["--scope", *args.scope]
    if args.jobs is not None:
        command += ["--jobs", str(args.jobs)]
    if args.notebooks:
        command += ["--notebooks", *args.notebooks]
    run = run_report(
        args.data, args.period, args.out, args.params, args.scope, args.pii, args.jobs,
        args.notebooks, command=command,
    )
    m = run.manifest
    ok_nb = sum(r["status"] == "ok" for r in m["notebooks"])
    print(f"报告已写入 report written to {run.folder}")
    print(f"  台账 ledgers: {len(m['outputs']['ledgers'])}，笔记本 notebooks: {ok_nb}/"
          f"{len(m['notebooks'])} 成功 ok，用时 {m['seconds']['total']} s")
    if run.failures:
        print(f"失败 {len(run.failures)} 项 / {len(run.failures)} failure(s):", file=sys.stderr)
        for f in run.failures:
            print(f"  - {f}", file=sys.stderr)
        return 1
    return 0


# ---------------------------------------------------------------------------------------------
# qj verify


def _flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(d, dict):
        out: dict[str, Any] = {}
        for k in sorted(d):
            out.update(_flatten(d[k], f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: d}


def _data_root(manifest: dict, manifest_path: Path) -> Path:
    root = Path(manifest["data"]["root"])
    if root.is_dir():
        return root
    rel = (manifest_path.parent / manifest["data"].get("relative_to_manifest", "")).resolve()
    if rel.is_dir():
        return rel
    raise QjError(f"找不到清单记录的数据包目录 {root} / data package folder not found")


def check_inputs(manifest: dict, root: Path) -> None:
    """Refuse (naming the file) when a recorded input is missing or its sha256 changed."""
    for rec in manifest["inputs"]:
        p = root / rec["path"]
        if not p.exists():
            raise QjError(f"输入文件缺失：{rec['path']}（清单记录于 {root}）/ input file missing: "
                          f"{rec['path']}")
        if _sha256_file(p) != rec["sha256"]:
            raise QjError(f"输入文件已改变（sha256 不一致）：{rec['path']} / input file changed since "
                          f"the report: {rec['path']}")


def verify(manifest_path: str | Path, out: Any = None, show_all: bool = False) -> bool:
    """Re-run the ledgers and summary from the manifest's inputs and parameters and compare with
    the report folder, ledger by ledger and figure by figure (printed to ``out``, default
    stdout): every ledger, every figure that differs, and per part of the summary (a module of
    the county, a module of a town) how many figures are identical; ``show_all`` lists every
    figure. True when everything is identical."""
    out = out or sys.stdout
    manifest_path = Path(manifest_path).resolve()
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise QjError(f"无法读取清单 {manifest_path}：{e} / cannot read manifest") from e
    folder = manifest_path.parent
    root = _data_root(manifest, manifest_path)
    check_inputs(manifest, root)
    print(f"输入文件 {len(manifest['inputs'])} 个，sha256 全部一致 / all inputs unchanged", file=out)

    rec_q = manifest.get("qjlib", {})
    now_q = {"version": __version__, **git_state()}
    if rec_q.get("version") != now_q["version"] or rec_q.get("commit") != now_q["commit"]:
        print(f"警告 warning: qjlib {rec_q.get('version')} @ {rec_q.get('commit')} 生成报告，现为 "
              f"{now_q['version']} @ {now_q['commit']} / the report was made by another qjlib "
              "version or commit", file=out)
    if now_q.get("dirty"):
        print("警告 warning: 当前 qjlib 工作区有未提交的修改 / the qjlib tree has uncommitted "
              "changes", file=out)

    params = Params.from_record(manifest["parameters"])
    pkg = load_for(root, params)
    recorded = {r["path"] for r in manifest["inputs"]}
    extra = sorted({r["path"] for r in pkg.inputs} - recorded)
    if extra:
        raise QjError(f"数据包中有清单未记录的文件：{', '.join(extra)} / files not in the manifest")
    county_ctx = Context(pkg, params)
    analyses = load_analyses(manifest.get("analyses", {}).get("included"))
    n_jobs = os.cpu_count() or 1
    with process_pool(n_jobs) as pool:
        res = compute(county_ctx, analyses, all_scopes(pkg), pool if n_jobs > 1 else None, n_jobs)
    recorded_errors = {f.removeprefix("分析 analysis: ") for f in manifest.get("failures", [])}
    all_same = True
    for e in res.errors:
        same = e in recorded_errors
        all_same &= same
        print(f"{'=' if same else '≠'} 出错 error: {e}"
              f"{'（报告生成时同样出错 / as in the recorded run）' if same else ''}", file=out)
    with tempfile.TemporaryDirectory(prefix="qj-verify-") as tmp:
        t = Path(tmp)
        write_outputs(res, t, manifest.get("pii", "masked"), params.asof)
        recorded_ledgers = manifest["outputs"]["ledgers"]
        print("台账 ledgers:", file=out)
        for name in sorted(set(recorded_ledgers) | set(res.ledgers)):
            new = t / "ledgers" / f"{name}.csv"
            if name not in recorded_ledgers or not new.exists():
                print(f"  ≠ {name}: {'新增 new' if name not in recorded_ledgers else '缺失 missing'}"
                      " / different", file=out)
                all_same = False
                continue
            old = folder / "ledgers" / f"{name}.csv"
            same, why = _same_file(old, new, recorded_ledgers[name]["sha256"])
            all_same &= same
            print(f"  {'=' if same else '≠'} {name}: {'一致 identical' if same else '不一致 different'}"
                  f"{why}", file=out)
        same, why = _same_file(folder / "ledgers.xlsx", t / "ledgers.xlsx",
                               manifest["outputs"]["ledgers.xlsx"])
        all_same &= same
        print(f"  {'=' if same else '≠'} ledgers.xlsx: {'一致 identical' if same else '不一致 different'}"
              f"{why}", file=out)

        old_sum_path = folder / "summary.json"
        old_sum = (json.loads(old_sum_path.read_text(encoding="utf-8"))
                   if old_sum_path.exists() else None)
        if old_sum is None:
            print("  ≠ summary.json: 报告目录中缺失 / missing from the report folder", file=out)
            all_same = False
        else:
            new_sum = json.loads((t / "summary.json").read_text(encoding="utf-8"))
            a, b = _flatten(old_sum), _flatten(new_sum)
            print("汇总数字 figures (summary.json):", file=out)
            n_same = 0
            parts: dict[str, list[int]] = {}
            for k in sorted(set(a) | set(b), key=lambda k: (_figure_part(k), k)):
                same = k in a and k in b and a[k] == b[k]
                n_same += same
                all_same &= same
                count = parts.setdefault(_figure_part(k), [0, 0])
                count[0] += same
                count[1] += 1
                if same and show_all:
                    print(f"  = {k}: {json.dumps(a[k], ensure_ascii=False)}", file=out)
                elif not same:
                    print(f"  ≠ {k}: 报告 {json.dumps(a.get(k, '(无)'), ensure_ascii=False)} → "
                          f"复算 {json.dumps(b.get(k, '(无)'), ensure_ascii=False)}", file=out)
            if not show_all:
                for part, (ok, n) in parts.items():
                    print(f"  {'=' if ok == n else '≠'} {part}: {ok}/{n} 项一致 identical",
                          file=out)
            print(f"  {n_same}/{len(set(a) | set(b))} 项一致 identical", file=out)
    print("结论 result: " + ("全部一致 / all identical" if all_same else "存在不一致 / differences found"),
          file=out)
    return all_same


def _figure_part(key: str) -> str:
    """The part of summary.json a flattened figure belongs to: ``income`` for ``income.shares.wage``,
    ``towns.T1a2b3c.income`` for a town's, ``总览 header`` for the top-level values (period…)."""
    parts = key.split(".")
    if len(parts) == 1:
        return "总览 header"
    return ".".join(parts[:3] if parts[0] == "towns" else parts[:1])


def _same_file(old: Path, new: Path, recorded_sha: str) -> tuple[bool, str]:
    """Compare the rebuilt file with the report's copy (or, when that is gone, its recorded hash)."""
    new_sha = _sha256_file(new)
    if old.exists():
        if old.read_bytes() == new.read_bytes():
            return True, ""
        if _sha256_file(old) != recorded_sha:
            return False, "（报告中的文件在生成后被改动 / the report's file was edited after the run）"
        return False, ""
    return new_sha == recorded_sha, "（按清单 sha256 比对 / compared with the recorded sha256）"


def verify_main(args: argparse.Namespace) -> int:
    """``qj verify MANIFEST``: exit 0 only when every ledger and figure is identical."""
    return 0 if verify(args.manifest, show_all=args.show_all) else 1
