"""The plan's dated targets (plan R10–R12, R15, R19; ``shared/contract/targets.md``): one engine that
evaluates every target of ``params/targets.yaml`` on the as-of date A.

For a target with checkpoints (month-day of C → threshold): each checkpoint on or before A is
**met** or **not met** by the value on the checkpoint date (:mod:`qjlib.analyses.targets_measures`);
the next checkpoint after A is **due** (its value on A beside it). The target's status is that of
its latest passed checkpoint, ``due`` when none has passed. An ``every_date`` target is judged by
its value on A. A target whose table is absent is ``not_measurable`` (naming the table), and so is
a checkpoint whose denominator is empty. Thresholds are compared exactly: a ratio ``num ÷ den``
(whole households, or money in fen) against ``p/q`` as ``q·num`` vs ``p·den``.

Town scope: the scope's households (the package restricted to the town), and of the targets'
tables the rows of those households (``loans``, ``relocation``, ``housing``), of the town
(``funds``, ``posts``, ``villages``, ``edge_households`` by their ``town``; a fund without a town
is the county's), and every visit (a visit counts when its target is in the scope).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from qjlib.analyses import targets_ledgers as tl
from qjlib.analyses.targets_measures import MEASURES, UNITS, TargetData
from qjlib.core.context import Context, per_context
from qjlib.core.exact import fraction
from qjlib.core.fmt import json_number
from qjlib.core.ids import isin
from qjlib.core.params import Params
from qjlib.core.targets_params import FAMILIES, Target, load_targets, parse_targets

NAME = "targets"  # its part of summary.json and its key in qjlib.analyses.REGISTRY
NOTEBOOK_RESULTS: dict[str, tuple[str, ...]] = {"evaluation": ("county", "towns"),
                                                "progress": ("county", "towns")}
LEDGERS = tl.SPECS
STATUSES = ("met", "not_met", "due", "not_measurable")
TABLES = ("secretary_visits", "funds", "fund_payments", "loans", "relocation", "housing", "posts",
          "edge_households", "villages", "insurance", "hospital")
"""The tables the targets read (besides ``households`` and ``members``), this contract's and the
other contracts' (``exit.md``, ``departments.md``, ``monitoring.md``)."""
MONEY_MEASURES = ("funds_poverty", "funds_integrated", "funds_previous_year", "loans_overdue_rate",
                  "health_reimbursement_ratio")


def targets(params: Params | None = None) -> tuple[Target, ...]:
    """The run's targets validated against the measures this code defines: those its parameters
    carry (``params/targets.yaml`` as read for the run, and as its manifest records it), else
    the file."""
    if params is not None and params.targets.get("tree") is not None:
        return parse_targets(params.targets["tree"], UNITS)
    return load_targets(UNITS)


def scoped_data(ctx: Context) -> TargetData:
    """The tables of the context's scope (module text), with A and the parameters."""
    pkg = ctx.pkg
    t = {n: pkg[n] for n in (*TABLES, "members") if pkg.has(n)}
    hh = pkg["households"]
    t["households"] = hh
    if ctx.scope is not None:
        for n in ("loans", "relocation", "housing"):
            if n in t:
                t[n] = t[n][isin(t[n]["hh_id"], hh["hh_id"])]
        for n in ("funds", "posts", "villages", "edge_households"):
            if n in t and "town" in t[n].columns:
                t[n] = t[n][(t[n]["town"] == ctx.scope).fillna(False).to_numpy(dtype=bool)]
    return TargetData(t, ctx.asof, ctx.params, figures=_figures_of_others(ctx))


def _figures_of_others(ctx: Context) -> dict[str, dict]:
    """The summary figures of the registered analysis ``health`` (departments.md's ``health.*``,
    read as they are) when the scope has its insurance or hospital table (as exit.py reads them)."""
    from qjlib import analyses

    if not (ctx.pkg.has("insurance") or ctx.pkg.has("hospital")) or "health" not in analyses.names():
        return {}
    return {"health": analyses.get("health").summary(ctx)}


@per_context
def data(ctx: Context) -> TargetData:
    """:func:`scoped_data`, computed once per context."""
    return scoped_data(ctx)


def checkpoint_day(year: int, cp: Any) -> pd.Timestamp:
    """A checkpoint's day in year C."""
    return pd.Timestamp(year=year, month=cp.month, day=cp.day)


def judge(target: Target, num: int, den: int | None, threshold: float) -> str:
    """``met`` / ``not_met`` of a value against a threshold (exactly); ``not_measurable`` when the
    denominator is empty."""
    if den is not None and den == 0:
        return "not_measurable"
    p, q = fraction(threshold)
    d = 1 if den is None else den
    ok = q * num >= p * d if target.direction == "at_least" else q * num <= p * d
    return "met" if ok else "not_met"


def _value(num: int, den: int | None) -> float | None:
    """A count as it is, a ratio ``num ÷ den`` (None when the denominator is empty)."""
    if den is None:
        return float(num)
    return None if den == 0 else num / den


def evaluate_target(data: TargetData, target: Target) -> dict:
    """One target on A (module text): ``value``, ``numerator``/``denominator`` (yuan for money),
    ``status``, ``threshold`` and ``date`` (of its latest passed checkpoint, else the next due),
    ``checkpoints`` (each date, threshold, value, status), ``next_due``, ``missing`` tables."""
    m = MEASURES[target.measure]
    a = data.asof
    missing = [n for n in m.tables if not data.has(n)]
    scale = 100 if target.measure in MONEY_MEASURES else 1
    out: dict[str, Any] = {
        "id": target.id, "family": target.family, "plan": target.plan, "sentence": target.sentence,
        "measured": target.measured, "unit": target.unit, "direction": target.direction,
        "every_date": target.every_date is not None, "missing": missing, "value": None, "numerator": None, "denominator": None,
    }
    cps = ([(a, target.every_date)] if target.every_date is not None
           else [(checkpoint_day(data.year, c), c.threshold) for c in target.checkpoints])
    rows = []
    for day, thr in cps:
        row = {"date": day.date().isoformat(), "threshold": thr, "value": None, "status": "due"}
        if day <= a:
            if missing:
                row["status"] = "not_measurable"
            else:
                num, den = m.fn(data, day)
                row["value"], row["status"] = _value(num, den), judge(target, num, den, thr)
        rows.append(row)
    out["checkpoints"] = rows
    passed = [r for r, (d, _) in zip(rows, cps, strict=True) if d <= a]
    later = [r for r, (d, _) in zip(rows, cps, strict=True) if d > a]
    shown = passed[-1] if passed else later[0]
    out["status"] = "not_measurable" if missing else shown["status"]
    out["threshold"], out["date"] = shown["threshold"], shown["date"]
    out["next_due"] = ({"date": later[0]["date"], "threshold": later[0]["threshold"]} if later else None)
    if not missing:
        num, den = m.fn(data, a)
        out["numerator"] = num / scale
        out["denominator"] = None if den is None else den / scale
        # the very division of the published figures (yuan for money), so that it can be checked
        out["value"] = _value(out["numerator"], out["denominator"])
    return out


def evaluate(data: TargetData, targets_: tuple[Target, ...]) -> list[dict]:
    """Every target of ``targets_`` on A, in the order of :data:`FAMILIES`, then the file's."""
    return [evaluate_target(data, t) for t in targets_]


@per_context
def evaluation(ctx: Context) -> list[dict]:
    """The dispatch sheet of the scope: :func:`evaluate` of ``params/targets.yaml``."""
    return evaluate(data(ctx), targets(ctx.params))


@per_context
def progress(ctx: Context) -> pd.DataFrame:
    """Each measurable target's value at every month end of C up to A, and on A: columns
    ``id``, ``date``, ``value`` (the charts of progress against the checkpoints)."""
    d = data(ctx)
    a = d.asof
    days = [pd.Timestamp(year=d.year, month=mo, day=1) + pd.offsets.MonthEnd(0) for mo in range(1, a.month + 1)]
    days = sorted({x.normalize() for x in days if x <= a} | {a})
    rows = []
    for t in targets(ctx.params):
        m = MEASURES[t.measure]
        if not m.dated or any(not d.has(n) for n in m.tables):
            continue  # a figure known only on A has no month-by-month progress
        for day in days:
            num, den = m.fn(d, day)
            rows.append({"id": t.id, "date": day, "value": _value(num, den)})
    return pd.DataFrame(rows, columns=["id", "date", "value"])


def build_ledgers(ctx: Context) -> dict[str, pd.DataFrame]:
    """The eight ledgers of the contract for the scope (empty, with their columns, when a table
    they need is absent)."""
    return tl.build(data(ctx), targets(ctx.params))


def summary(ctx: Context) -> dict:
    """``targets.*``: per family and target name (``targets.funds.poverty.value``) the value on
    A, its status, threshold and date, numerator and denominator (yuan for money), the checkpoints,
    the next due and the missing tables; ``statuses`` (targets per status); and each ledger's
    row count (``targets.visit_missing`` …)."""
    ev = evaluation(ctx)
    out: dict[str, Any] = {"available": True, "as_of": ctx.asof.date().isoformat(), "year": int(ctx.asof.year)}
    for fam in FAMILIES:
        items = {e["id"].split(".", 1)[1]: _figures(e) for e in ev if e["family"] == fam}
        if items:
            out[fam] = items
    out["statuses"] = {s: sum(e["status"] == s for e in ev) for s in STATUSES}
    for name, df in build_ledgers(ctx).items():
        out[name] = len(df)
    return out


def _figures(e: dict) -> dict:
    """One target's figures for summary.json."""
    return {
        "value": json_number(e["value"]), "status": e["status"], "threshold": json_number(e["threshold"]),
        "date": e["date"], "numerator": json_number(e["numerator"]),
        "denominator": json_number(e["denominator"]),
        "checkpoints": [{"date": c["date"], "threshold": json_number(c["threshold"]),
                         "value": json_number(c["value"]), "status": c["status"]} for c in e["checkpoints"]],
        "next_due": e["next_due"], "missing": list(e["missing"]),
    }
