"""The measures of the plan's dated targets (``shared/contract/targets.md``): one small function
per measure, each returning the exact numerator and denominator of its value on a day D of the
as-of year C.

A measure is ``fn(data, day) -> (num, den)``: ``num``, ``den`` whole numbers (households, loans,
persons, or money in **fen**, :func:`qjlib.core.exact.fen`, so that a ratio compared with a
threshold is exact), ``den`` ``None`` for a count. :data:`MEASURES` names each with its unit and
the tables it needs; ``params/targets.yaml`` refers to them by name. A new target is a YAML entry
and, at most, one function here.

The helpers that the ledgers share (:func:`visit_pools`, :func:`qualifying_visits`,
:func:`fund_paid`, :func:`overdue_on`, :func:`rebuild_households`) are defined once, here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from qjlib.core.exact import fen
from qjlib.core.ids import isin
from qjlib.core.params import Params


@dataclass(frozen=True)
class TargetData:
    """What the measures read: the scope's tables (``households`` always; the others when
    present), the as-of date A, its year C and the parameters."""

    tables: dict[str, pd.DataFrame]
    asof: pd.Timestamp
    params: Params
    figures: dict[str, dict] = field(default_factory=dict)
    """Other registered analyses' summary figures for the scope, by analysis name (``health``:
    departments.md's ``health.*``), read as they are, never recomputed."""

    @property
    def year(self) -> int:
        """C, the calendar year of the as-of date."""
        return int(self.asof.year)

    def has(self, name: str) -> bool:
        """Whether the scope has the table ``name``."""
        return name in self.tables

    def __getitem__(self, name: str) -> pd.DataFrame:
        """The table ``name``."""
        return self.tables[name]


Fraction = tuple[int, int | None]


@dataclass(frozen=True)
class Measure:
    """A measure: its function, its unit (``ratio`` or ``count``), the tables it needs, and
    whether it can be taken on any day (``dated``) or only on A (another analysis's figures)."""

    fn: Callable[[TargetData, pd.Timestamp], Fraction]
    unit: str
    tables: tuple[str, ...]
    dated: bool = True


# ---- visits (plan 五.2) ------------------------------------------------------------------------

VISIT_FAMILIES = {  # target id → (target_type, the parameter naming the levels, the pool's table)
    "visits.exit_households": ("household", "visits.levels.exit_households", "households"),
    "visits.exit_villages": ("village", "visits.levels.exit_villages", "villages"),
    "visits.edge_households": ("household", "visits.levels.edge_households", "edge_households"),
}


def visit_pools(data: TargetData, target_id: str) -> pd.DataFrame:
    """The targets a ``visits.*`` target must reach, with their ``town`` and ``village``:
    registered households with ``planned_exit_year`` = C; villages with ``planned_exit_year`` = C
    (``target`` = ``village_code``); edge households that are not registered households."""
    c = data.year
    if target_id == "visits.exit_households":
        hh = data["households"]
        sel = hh[(hh["planned_exit_year"] == c).fillna(False).to_numpy(dtype=bool)] \
            if "planned_exit_year" in hh.columns else hh.iloc[:0]
        return pd.DataFrame({"target": sel["hh_id"], "town": sel["town"], "village": sel["village"]})
    if target_id == "visits.exit_villages":
        v = data["villages"]
        sel = v[(v["planned_exit_year"] == c).fillna(False).to_numpy(dtype=bool)]
        return pd.DataFrame({"target": sel["village_code"], "town": sel["town"], "village": sel["village"]})
    e = data["edge_households"]
    sel = e[~isin(e["hh_id"], data["households"]["hh_id"])]
    return pd.DataFrame({"target": sel["hh_id"], "town": sel["town"], "village": sel["village"]})


def qualifying_visits(data: TargetData, target_id: str, day: pd.Timestamp) -> pd.DataFrame:
    """The secretaries' visits that count for ``target_id`` up to ``day``: its ``target_type``, a
    level of its parameter, dated from 1 January of C to ``day`` (both included)."""
    ttype, levels, _ = VISIT_FAMILIES[target_id]
    v = data["secretary_visits"]
    start = pd.Timestamp(year=data.year, month=1, day=1)
    m = ((v["target_type"] == ttype) & v["level"].isin(data.params.get(levels))
         & (v["date"] >= start) & (v["date"] <= day))
    return v[m.fillna(False).to_numpy(dtype=bool)]


def _visit_ratio(target_id: str) -> Callable[[TargetData, pd.Timestamp], Fraction]:
    def fn(data: TargetData, day: pd.Timestamp) -> Fraction:
        pool = visit_pools(data, target_id)["target"]
        seen = isin(pool, qualifying_visits(data, target_id, day)["target"])
        return int(seen.sum()), len(pool)

    fn.__doc__ = (f"``{target_id}``: targets of :func:`visit_pools` with a qualifying visit up to "
                  "the day ÷ all of them.")
    return fn


# ---- funds (plan 二.8(1)) ----------------------------------------------------------------------

def fund_paid(data: TargetData, day: pd.Timestamp) -> pd.Series:
    """Per ``fund_id`` of ``funds``: Σ payments dated on or before ``day``, in fen (refunds are
    negative; payments of unknown funds count for nothing)."""
    f, p = data["funds"], data["fund_payments"]
    p = p[(p["date"] <= day).fillna(False).to_numpy(dtype=bool)]
    paid = pd.Series(fen(p["amount"]), index=p["fund_id"].to_numpy()).groupby(level=0).sum()
    return paid.reindex(f["fund_id"].to_numpy(), fill_value=0.0)


def issued_by(funds: pd.DataFrame, day: pd.Timestamp) -> np.ndarray:
    """Allocations issued on or before ``day`` (a blank ``issued_date`` counts as issued)."""
    d = funds["issued_date"]
    return (d.isna() | (d <= day)).to_numpy(dtype=bool)


def _fund_ratio(data: TargetData, day: pd.Timestamp, sel: np.ndarray) -> Fraction:
    """Σ paid (to ``day``) of the selected allocations ÷ Σ issued of those issued by ``day``."""
    f = data["funds"]
    paid = fund_paid(data, day).to_numpy()
    den = fen(f["issued"])[sel & issued_by(f, day)]
    return int(np.nansum(paid[sel])), int(np.nansum(den))


def _flag(funds: pd.DataFrame, col: str) -> np.ndarray:
    return funds[col].fillna(False).to_numpy(dtype=bool)


def funds_poverty(data: TargetData, day: pd.Timestamp) -> Fraction:
    """``funds.poverty``: allocations of year C with ``poverty_fund`` 是: Σ payments ≤ day ÷ Σ
    ``issued`` of those issued by the day (fen)."""
    f = data["funds"]
    return _fund_ratio(data, day, (f["year"] == data.year).fillna(False).to_numpy(dtype=bool)
                       & _flag(f, "poverty_fund"))


def funds_integrated(data: TargetData, day: pd.Timestamp) -> Fraction:
    """``funds.integrated``: the same over allocations of year C with ``integrated`` 是."""
    f = data["funds"]
    return _fund_ratio(data, day, (f["year"] == data.year).fillna(False).to_numpy(dtype=bool)
                       & _flag(f, "integrated"))


def funds_previous_year(data: TargetData, day: pd.Timestamp) -> Fraction:
    """``funds.previous_year``: every allocation of year C − 1, payments up to the day of C."""
    f = data["funds"]
    return _fund_ratio(data, day, (f["year"] == data.year - 1).fillna(False).to_numpy(dtype=bool))


# ---- loans (plan 二.8(2)) ----------------------------------------------------------------------

def overdue_on(loans: pd.DataFrame, day: pd.Timestamp) -> np.ndarray:
    """Loans overdue on ``day``: ``balance`` > 0 and (``due_date`` < day or ``overdue_since`` ≤
    day). A loan due exactly on the day is not overdue yet."""
    m = (loans["balance"] > 0) & ((loans["due_date"] < day) | (loans["overdue_since"] <= day).fillna(False))
    return m.fillna(False).to_numpy(dtype=bool)


def loans_overdue_rate(data: TargetData, day: pd.Timestamp) -> Fraction:
    """``loans.overdue_rate``: Σ ``balance`` of loans overdue on the day ÷ Σ ``balance`` of loans
    with ``balance`` > 0 (fen; the balances are those of the export, as on A)."""
    ln = data["loans"]
    b = fen(ln["balance"])
    return int(np.nansum(b[overdue_on(ln, day)])), int(np.nansum(b[(ln["balance"] > 0).fillna(False).to_numpy(dtype=bool)]))


def loans_overdue_cleared(data: TargetData, day: pd.Timestamp) -> Fraction:
    """``loans.overdue_cleared``: loans overdue on the day (06-30) whose ``balance`` on A is
    still > 0 — they should have been cleared (a count). On A itself (the dispatch sheet's value
    beside the passed 06-30 step) it is every loan overdue on A."""
    return int(overdue_on(data["loans"], day).sum()), None


# ---- housing (plan 二.1; the housing table of exit.md) ------------------------------------------

def rebuild_households(data: TargetData, day: pd.Timestamp) -> pd.DataFrame:
    """The year's 危房改造 households (distinct ``hh_id`` with a row of ``rebuild_year`` = C), with
    ``completed`` / ``moved_in`` true when one of those rows is dated on or before ``day``."""
    h = data["housing"]
    h = h[(h["rebuild_year"] == data.year).fillna(False).to_numpy(dtype=bool)]
    done = pd.DataFrame({"hh_id": h["hh_id"].to_numpy(),
                         "completed": (h["completed"] <= day).fillna(False).to_numpy(dtype=bool),
                         "moved_in": (h["moved_in"] <= day).fillna(False).to_numpy(dtype=bool)})
    return done.groupby("hh_id", sort=True, as_index=False).agg(completed=("completed", "any"),
                                                               moved_in=("moved_in", "any"))


def housing_rebuilt(data: TargetData, day: pd.Timestamp) -> Fraction:
    """``housing.rebuilt``: the year's 危房改造 households completed by the day ÷ all of them."""
    r = rebuild_households(data, day)
    return int(r["completed"].sum()), len(r)


def housing_moved_in(data: TargetData, day: pd.Timestamp) -> Fraction:
    """``housing.moved_in``: the same households moved in by the day ÷ all of them."""
    r = rebuild_households(data, day)
    return int(r["moved_in"].sum()), len(r)


# ---- relocation (plan 二.2) --------------------------------------------------------------------

def moved_in_by(rel: pd.DataFrame, day: pd.Timestamp) -> np.ndarray:
    """Relocated households with ``moved_in`` 是 and ``moved_in_date`` ≤ day (a blank date with 是
    counts)."""
    d = rel["moved_in_date"]
    return (rel["moved_in"].fillna(False) & (d.isna() | (d <= day))).to_numpy(dtype=bool)


def reclaimed_by(rel: pd.DataFrame, day: pd.Timestamp) -> np.ndarray:
    """Relocated households whose ``old_house`` is reclaimed with ``reclaimed_date`` ≤ day (a
    blank date does not count: the step is dated)."""
    return ((rel["old_house"] == "reclaimed") & (rel["reclaimed_date"] <= day)).fillna(False).to_numpy(dtype=bool)


def relocation_moved_in(data: TargetData, day: pd.Timestamp) -> Fraction:
    """``relocation.moved_in``: :func:`moved_in_by` ÷ relocated households."""
    rel = data["relocation"]
    return int(moved_in_by(rel, day).sum()), len(rel)


def relocation_reclaimed(data: TargetData, day: pd.Timestamp) -> Fraction:
    """``relocation.reclaimed``: :func:`reclaimed_by` ÷ relocated households."""
    rel = data["relocation"]
    return int(reclaimed_by(rel, day).sum()), len(rel)


# ---- posts (plan 一.5; the posts table of departments.md) --------------------------------------

def _posts_active(post_type: str) -> Callable[[TargetData, pd.Timestamp], Fraction]:
    def fn(data: TargetData, day: pd.Timestamp) -> Fraction:
        p = data["posts"]
        m = ((p["post_type"] == post_type) & (p["start"] <= day) & (p["end"].isna() | (p["end"] >= day)))
        return int(p.loc[m.fillna(False).to_numpy(dtype=bool), "id_number"].dropna().nunique()), None

    fn.__doc__ = f"Distinct persons (``id_number``) in ``{post_type}`` spells active on the day (a count)."
    return fn


# ---- health (plan 二.3; departments.md's health.* figures, on A) -------------------------------

HEALTH_FIGURES = {  # measure → (numerator, denominator) of the ``health`` analysis's summary
    "health_insured_rate": ("insured", "persons"), "health_critical_rate": ("critical", "persons"),
    "health_family_doctor_rate": ("family_doctor", "persons"),
    "health_reimbursement_ratio": ("reimbursed", "eligible_cost"),
}


def _health(measure: str) -> Callable[[TargetData, pd.Timestamp], Fraction]:
    num_key, den_key = HEALTH_FIGURES[measure]
    money = den_key == "eligible_cost"

    def fn(data: TargetData, day: pd.Timestamp) -> Fraction:
        h = data.figures.get("health") or {}
        num, den = h.get(num_key), h.get(den_key)
        if num is None or not den:  # a column or the analysis missing: an empty denominator
            return 0, 0
        return (int(fen(num)), int(fen(den))) if money else (int(num), int(den))

    fn.__doc__ = (f"``{measure.replace('_', '.', 1)}``: the ``{num_key}`` ÷ ``{den_key}`` figures of "
                  "the registered analysis ``health`` (departments.md), on A whatever the day"
                  + (" (fen)." if money else "."))
    return fn


MEASURES: dict[str, Measure] = {
    "visits_exit_households": Measure(_visit_ratio("visits.exit_households"), "ratio",
                                      ("secretary_visits",)),
    "visits_exit_villages": Measure(_visit_ratio("visits.exit_villages"), "ratio",
                                    ("secretary_visits", "villages")),
    "visits_edge_households": Measure(_visit_ratio("visits.edge_households"), "ratio",
                                      ("secretary_visits", "edge_households")),
    "funds_poverty": Measure(funds_poverty, "ratio", ("funds", "fund_payments")),
    "funds_integrated": Measure(funds_integrated, "ratio", ("funds", "fund_payments")),
    "funds_previous_year": Measure(funds_previous_year, "ratio", ("funds", "fund_payments")),
    "loans_overdue_rate": Measure(loans_overdue_rate, "ratio", ("loans",)),
    "loans_overdue_cleared": Measure(loans_overdue_cleared, "count", ("loans",)),
    "housing_rebuilt": Measure(housing_rebuilt, "ratio", ("housing",)),
    "housing_moved_in": Measure(housing_moved_in, "ratio", ("housing",)),
    "relocation_moved_in": Measure(relocation_moved_in, "ratio", ("relocation",)),
    "relocation_reclaimed": Measure(relocation_reclaimed, "ratio", ("relocation",)),
    "posts_special": Measure(_posts_active("公益特岗"), "count", ("posts",)),
    "posts_institutional": Measure(_posts_active("公益专岗"), "count", ("posts",)),
    **{k: Measure(_health(k), "ratio", ("hospital",) if k == "health_reimbursement_ratio" else ("insurance",),
               dated=False) for k in HEALTH_FIGURES},
}
"""Measure name (``measure:`` in ``targets.yaml``) → :class:`Measure`."""

UNITS = {k: m.unit for k, m in MEASURES.items()}
"""Measure name → unit, what :func:`qjlib.core.targets_params.load_targets` validates against."""
