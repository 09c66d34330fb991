"""Computing a report: every analysis's ledgers (county-wide) and summary figures (the county and
each town), and the results the notebooks reuse (so that 60 notebook runs do not redo the
analyses).

Analysis modules (:func:`qjlib.analyses.load_analyses`) expose ``LEDGERS``, ``build_ledgers(ctx)``
and ``summary(ctx)``. A module may also list in ``NOTEBOOK_RESULTS`` functions of a context
(``{"analyse": ("county", "towns")}``) whose results are saved, for the scopes named, while the
summary is computed, so that the notebooks read them (:meth:`qjlib.pages.nb.Run.result`) instead of
computing them again. One failing analysis is recorded and the others go on.
"""

from __future__ import annotations

import datetime as dt
import math
import pickle
import sys
import traceback
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import pandas as pd

from qjlib.analyses import Analyses, load_analyses
from qjlib.core.context import Context
from qjlib.core.ledgers import LedgerSpec, ledger_sheets
from qjlib.core.params import Params
from qjlib.core.scopes import COUNTY, Scope, county_name, result_file, scope_context
from qjlib.io.load import load_for

SUMMARY_DIGITS = 6  # decimals of every float of summary.json and manifest.json


@dataclass
class Results:
    """What the analyses produced for one run (raw frames, before masking)."""

    ledgers: dict[str, tuple[LedgerSpec, pd.DataFrame]]
    ledger_module: dict[str, str]
    summary: dict[str, Any]
    errors: list[str]
    ledger_params: dict[str, list[str]] = field(default_factory=dict)
    """Ledger → the parameters its module read while building it (:class:`ReadLog`)."""
    lifecycle: dict[str, Any] | None = None
    """With ``--previous``: the reconciliation for the notebook 90 (``summary``, the ``items``
    disputed or recurred, the ``gone`` rows), set by :func:`qjlib.report.outputs.write_outputs`."""


def _error_text(e: BaseException) -> str:
    return f"{type(e).__name__}: {e}"


@dataclass(frozen=True)
class ReadLog(Params):
    """The run's parameters, noting in ``read`` the name of every one read (by ``get`` or the
    poverty lines): which parameters a ledger's definition depends on (``lifecycle.md`` §3)."""

    read: set[str] = field(default_factory=set, compare=False, repr=False)

    def get(self, name: str) -> Any:
        """The parameter's value (:meth:`Params.get`), noting the name."""
        self.read.add(name)
        return super().get(name)

    __getitem__ = get

    @property
    def poverty_lines(self) -> pd.Series:
        """:attr:`Params.poverty_lines`, noting ``poverty_line``."""
        self.read.add("poverty_line")
        return super().poverty_lines


def build_ledgers(ctx: Context, analyses: Analyses, errors: list[str],
                  params_read: dict[str, list[str]] | None = None) -> tuple[
        dict[str, tuple[LedgerSpec, pd.DataFrame]], dict[str, str]]:
    """Every module's ledgers for ``ctx``; a module that fails is recorded in ``errors`` and its
    ledgers are left out. ``params_read`` receives, per ledger, the parameters its module read
    while building (results cached in the context by an earlier module count for that one only,
    so the names under the module's own prefix, ``helpers.`` for ``helpers``, are added)."""
    out: dict[str, tuple[LedgerSpec, pd.DataFrame]] = {}
    owner: dict[str, str] = {}
    specs = analyses.specs()
    params = ctx.params
    log = ReadLog(**{f.name: getattr(params, f.name) for f in fields(Params)})
    # the frozen context is given the logging parameters for the build only (same values, so
    # what its memo caches stays valid) and its own back afterwards
    object.__setattr__(ctx, "params", log)
    try:
        for mod_name, mod in analyses.modules.items():
            log.read.clear()
            try:
                frames = mod.build_ledgers(ctx)
            except Exception as e:  # noqa: BLE001 - one failing analysis must not stop the others
                errors.append(f"{mod_name}.build_ledgers: {_error_text(e)}")
                traceback.print_exc(file=sys.stderr)
                continue
            read = sorted(log.read | {n for n in params.record()["values"] if n.startswith(mod_name + ".")})
            for name in mod.LEDGERS:
                if name not in frames:
                    errors.append(f"{mod_name}.build_ledgers 未返回台账 {name} / did not return "
                                  f"{name}")
                    continue
                out[name] = (specs[name], frames[name])
                owner[name] = mod_name
                if params_read is not None:
                    params_read[name] = read
    finally:
        object.__setattr__(ctx, "params", params)
    return out, owner


def module_summaries(ctx: Context, analyses: Analyses, errors: list[str], where: str) -> dict:
    """Every module's ``summary(ctx)`` by module name; a module that fails is recorded in
    ``errors`` (``module.summary(where)``) and stands as ``{"available": False, …}``."""
    figures: dict[str, Any] = {}
    for mod_name, mod in analyses.modules.items():
        try:
            figures[mod_name] = mod.summary(ctx)
        except Exception as e:  # noqa: BLE001
            errors.append(f"{mod_name}.summary({where}): {_error_text(e)}")
            traceback.print_exc(file=sys.stderr)
            figures[mod_name] = {"available": False, "reason": "计算出错 / analysis failed"}
    return figures


def save_results(ctx: Context, analyses: Analyses, work: Path | None, scope_code: str) -> None:
    """Save the ``NOTEBOOK_RESULTS`` of every module for ``ctx`` (computed already, for the
    summary, when the function is :func:`qjlib.core.context.per_context`). One that fails is not
    saved: the notebook then computes it and shows the error where it happens."""
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
    params_read: dict[str, list[str]] = {}
    ledgers, owner = build_ledgers(county_ctx, analyses, errors, params_read)
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
    return Results(ledgers, owner, summary, errors + town_errors, params_read)


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


def write_work_cache(work: Path, analyses: Analyses, res: Results) -> None:
    """What the notebooks reuse instead of recomputing (:func:`qjlib.pages.nb.open_run`,
    ``results_dir``): ``meta.pkl`` (the summary of every scope, the ledger specs, owners and
    sheet names), ``ledgers-<module>.pkl`` (the county ledgers of one module, raw), so a
    notebook loads and imports only what it shows, and ``lifecycle.pkl`` after ``--previous``."""
    work.mkdir(parents=True, exist_ok=True)
    specs = analyses.specs()
    meta = {"summary": res.summary, "specs": specs, "owners": analyses.owners(),
            "sheets": ledger_sheets(specs)}
    with open(work / "meta.pkl", "wb") as f:
        pickle.dump(meta, f, protocol=pickle.HIGHEST_PROTOCOL)
    if res.lifecycle is not None:
        with open(work / "lifecycle.pkl", "wb") as f:
            pickle.dump(res.lifecycle, f, protocol=pickle.HIGHEST_PROTOCOL)
    for mod in analyses.modules:
        frames = {n: df for n, (_, df) in res.ledgers.items() if res.ledger_module[n] == mod}
        with open(work / f"ledgers-{mod}.pkl", "wb") as f:
            pickle.dump(frames, f, protocol=pickle.HIGHEST_PROTOCOL)
