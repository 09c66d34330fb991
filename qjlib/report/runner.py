"""The quarterly report, ``qj report`` (:func:`run_report`): ledgers, summary, notebooks for the
county and each town, manifest. Re-running from a manifest and comparing is ``qj verify``
(:mod:`qjlib.report.verify`).

``qj report DATA --period 2019Q3`` does, in this order:

1. validate the parameters (:func:`qjlib.core.params.load_params`): a typo stops the run first;
2. load the data package once (:func:`qjlib.io.load.load_for`, cached for the notebooks);
3. build every ledger (county-wide) and the summary figures (county, then each town of
   ``households.town``) in-process, with the analyses of :data:`qjlib.analyses.REGISTRY`
   (:mod:`qjlib.report.compute`);
4. write ``ledgers/<name>.csv``, ``ledgers.xlsx`` and ``summary.json`` (byte-identical for the same
   inputs and parameters: see :mod:`qjlib.report.outputs`), masked unless ``--pii full``;
5. run every notebook of ``notebooks/`` (sorted) with papermill, for the county (``scope="county"``)
   and each town (its ASCII ``town_code``), in parallel, each kept as ``.ipynb`` and converted to a
   self-contained ``.html`` with the code hidden (:mod:`qjlib.report.kernels`); a failing notebook
   is kept with its error marked and the batch goes on;
6. write ``manifest.json`` (:mod:`qjlib.report.manifest`: inputs and their sha256, parameters,
   versions, times, per-notebook status) and list every failure; the exit status is non-zero if
   anything failed.

The report folder::

    <out>/<period>/manifest.json, summary.json, ledgers.xlsx, ledgers/<ledger>.csv,
                   县/<notebook>.ipynb|.html, <town name>/<notebook>.ipynb|.html
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qjlib.analyses import Analyses, departments, load_analyses
from qjlib.core.context import Context
from qjlib.core.errors import QjError
from qjlib.core.params import load_params
from qjlib.core.privacy import check_pii_mode
from qjlib.core.pseudonym import prepare_key
from qjlib.core.scopes import Scope, all_scopes, select_scopes
from qjlib.io.load import load_for
from qjlib.report.collect import carry_responses
from qjlib.report.compute import Results, compute, write_work_cache
from qjlib.report.kernels import (
    NotebookJob,
    list_notebooks,
    notebooks_dir,
    process_pool,
    run_notebooks,
)
from qjlib.report.lifecycle import Previous, load_previous, previous_folder
from qjlib.report.manifest import manifest_record, now, write_manifest
from qjlib.report.outputs import write_outputs, write_workbook

CACHE_DIR = ".qj-work"  # per-run precomputed results for the notebooks; removed at the end


@dataclass
class ReportRun:
    """What :func:`run_report` did (also written to ``manifest.json``)."""

    folder: Path
    """The report folder, ``<out>/<period>``."""
    manifest: dict[str, Any]
    """The manifest as written to ``manifest.json`` (before rounding)."""
    failures: list[str]
    """Every failed analysis and notebook, one line each (empty when all went well)."""

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
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
    as_of: str | None = None,
    previous: str | None = None,
) -> ReportRun:
    """The whole ``qj report`` (see the module docstring); returns the manifest and failures."""
    started, t0 = now(), time.perf_counter()
    check_pii_mode(pii)
    params = load_params(period, params_file, as_of=as_of)
    nb_dir = notebooks_dir(notebooks_dir_)
    nbs = list_notebooks(nb_dir, notebooks) if nb_dir.is_dir() else []
    data = Path(data).resolve()
    if not data.is_dir():
        raise QjError(f"数据包目录不存在：{data} / data package folder not found")
    _say(f"读取数据包 loading {data}")
    pkg = load_for(data, params)
    if key_note := prepare_key(pkg):  # issue #16: the county's pseudonymisation key, first use
        _say(key_note)
    for name in sorted(k for k, v in params.sources.items() if "占位" in v):  # placeholder defaults (#18)
        _say(f"警告 warning: 参数 {name} 仍为占位默认值，须设定本县数值 / still the placeholder default: "
             "set the county's own figure")
    county_ctx = Context(pkg, params)
    if standard_note := departments.standard_warning(county_ctx):  # issue #16
        _say(standard_note)
    analyses = load_analyses()
    for name, why in analyses.skipped.items():
        _say(f"跳过分析 {name}：{why}")
    scopes = select_scopes(pkg, scope)
    n_jobs = jobs or os.cpu_count() or 1
    folder = Path(out).resolve() / params.period
    prev = _previous(previous, out, params.period, folder)
    work = folder / CACHE_DIR
    shutil.rmtree(work, ignore_errors=True)  # nothing left from an interrupted run is reused
    with process_pool(n_jobs) as pool:
        t_compute = time.perf_counter()
        res, outputs, prepared = _analyses_and_outputs(county_ctx, analyses, pool, n_jobs,
                                                       folder, work if nbs else None, pii,
                                                       prev)
        compute_seconds = round(time.perf_counter() - t_compute, 2)

        def workbook() -> None:  # written here while the workers run the notebooks
            outputs.update(write_workbook(prepared, folder, params.asof))

        t_nb = time.perf_counter()
        base = {"data_dir": str(data), "period": params.period,
                "params_file": None if params_file is None else str(Path(params_file).resolve()),
                "pii": pii, "results_dir": str(work)}
        nb_results = _notebooks(nbs, scopes, folder, work, base, analyses, res, n_jobs,
                                progress, pool, workbook)
        shutil.rmtree(work, ignore_errors=True)
        notebooks_seconds = round(time.perf_counter() - t_nb, 2)

    failures = [f"分析 analysis: {e}" for e in res.errors] + [
        f"笔记本 notebook {r['ipynb']}: {r['error']}" for r in nb_results if r["status"] != "ok"
    ]
    manifest = manifest_record(
        command=list(command) if command is not None else sys.argv, county_ctx=county_ctx,
        data=data, folder=folder, pii=pii, analyses=analyses, scopes=scopes, outputs=outputs,
        notebooks=nb_results, failures=failures, started=started,
        seconds={"total": round(time.perf_counter() - t0, 2), "analyses": compute_seconds,
                 "notebooks": notebooks_seconds})
    responses, note = carry_responses(folder, outputs)  # a folder already collected (lifecycle.md)
    if note:
        _say(note)
    if responses is not None:
        manifest["responses"] = responses
    write_manifest(manifest, folder)
    return ReportRun(folder, manifest, failures)


def _analyses_and_outputs(county_ctx: Context, analyses: Analyses, pool: ProcessPoolExecutor,
                          n_jobs: int, folder: Path, work: Path | None, pii: str,
                          prev: Previous | None = None) -> tuple[Results, dict[str, Any], dict]:
    """Ledgers and summary of every scope (the towns' in the ``pool`` when ``n_jobs > 1``; with
    ``work``, the notebooks' results saved there), written to ``folder`` but for the workbook:
    the results, the outputs' record and the prepared ledgers for :func:`write_workbook`."""
    scopes_all = all_scopes(county_ctx.pkg)
    _say(f"计算台账与汇总 ledgers and summary: {len(scopes_all) - 1} 个乡镇 towns")
    res = compute(county_ctx, analyses, scopes_all, pool if n_jobs > 1 else None, n_jobs, work)
    folder.mkdir(parents=True, exist_ok=True)
    outputs = write_outputs(res, folder, pii, county_ctx.params.asof, xlsx=False, previous=prev,
                            params_record=county_ctx.params.record())
    prepared = outputs.pop("_workbooks")
    return res, outputs, prepared


def _notebooks(nbs: Sequence[Path], scopes: Sequence[Scope], folder: Path, work: Path,
               base: dict[str, Any], analyses: Analyses, res: Results, n_jobs: int,
               progress: bool, pool: ProcessPoolExecutor,
               workbook: Callable[[], None]) -> list[dict]:
    """Run every notebook for every scope into ``folder/<scope folder>/`` (the precomputed results
    in ``work``), calling ``workbook()`` while the workers run; each result with its output paths
    relative to ``folder``. Without notebooks only ``workbook()`` is called."""
    if not nbs:
        workbook()
        return []
    write_work_cache(work, analyses, res)
    job_list = [NotebookJob(nb, s, folder / s.folder / nb.name, {**base, "scope": s.code})
                for s in scopes for nb in nbs]
    _say(f"运行笔记本 running {len(job_list)} notebooks ({len(nbs)} × {len(scopes)} "
         f"scopes) on {n_jobs} processes")
    nb_results = run_notebooks(job_list, n_jobs, progress, pool, workbook)
    for j, r in zip(job_list, nb_results, strict=True):
        r["ipynb"] = j.output.relative_to(folder).as_posix()
        r["html"] = j.output.with_suffix(".html").relative_to(folder).as_posix()
    return nb_results


def _previous(option: str | None, out: str | Path, period: str, folder: Path
              ) -> Previous | None:
    """The previous report of ``--previous`` (:func:`qjlib.report.lifecycle.previous_folder`),
    read; never this report's own folder."""
    prev_dir = previous_folder(option, Path(out), period)
    if prev_dir is None:
        return None
    if prev_dir.resolve() == folder.resolve():
        raise QjError(f"--previous 不能是本期报告目录 {folder} / --previous is this report's folder")
    _say(f"上期报告 previous report: {prev_dir}")
    return load_previous(prev_dir)


def _say(msg: str) -> None:
    print(f"[qj] {msg}", file=sys.stderr, flush=True)
