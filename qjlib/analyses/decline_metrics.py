"""The metrics of income declines and growth trends of past exited households (plan R5).

The plan (四.1(3)) asks, for every household that exited in past years (历年脱贫户), for its
per-capita net income, its growth trend, and whether it fell three years in a row. Everything here
works on a **panel**: household ids factorised once into integer codes, and a households × years
numpy array per quantity (per-capita net income, net income, size, income components). No per-household
Python loop: loops run over the handful of years or year pairs only.

Definitions (unit: yuan per person and year unless said otherwise; ``pc`` = per-capita net income
``net_per_capita`` = net income ÷ that year's ``size``, recomputed by the loader):

- **decrease** in year t: ``pc[t] < pc[t-1] - decline.min_drop``, both years present (decided
  exactly in fen without dividing, :mod:`qjlib.core.exact`). A missing year
  is never a decrease: it breaks the chain.
- **run ending in year t**: the number of consecutive decreases ending in t (``run[t] = (run[t-1] + 1)
  · decrease[t]``); **flagged** (``income_decline``): run ending in the income year ≥
  ``decline.n_declines`` (N), which needs the N+1 consecutive years Y−N … Y.
- **data gap**: the chain ending in the income year stopped short of N because a year is missing
  (the income year itself, or the year before the chain's start, or a year before the data begin).
- **size/income split** of a change (symmetric, exact): with net income Y and size n,
  ``Δ(Y/n) = ΔY·½(1/n₀+1/n₁) + Δ(1/n)·½(Y₀+Y₁)`` — the income effect and the household-size
  effect add up exactly to the change; a component's effect is ``ΔY_c·½(1/n₀+1/n₁)`` and the
  components' effects add up to the income effect.
- **trend** over all years up to the income year: CAGR first → last year with data (both > 0);
  Theil–Sen slope of ln pc in percent per year ``100·(exp(b)−1)``; Mann–Kendall S with its
  **exact** permutation p-value (ties: the distribution conditional on the observed tie groups,
  i.e. over all distinct arrangements of the observed values — the q-multinomial distribution).
- **extreme jump**: ``pc[t]/pc[t-1] ≥ decline.jump_factor`` or ``≤ 1/decline.jump_factor`` (both > 0):
  a possible data error, not an outcome.

The statistics themselves (changes, runs, gaps, the split, CAGR, Theil–Sen, Mann–Kendall, jumps) are
general time-series functions of a panel, in :mod:`qjlib.analyses.trend`; this module applies them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from qjlib.analyses.trend import (
    cagr,
    chain_gap,
    component_effects,
    decompose_change,
    decrease_runs,
    first_last,
    jump_flags,
    mann_kendall,
    theil_sen_log_slope,
    yoy_change,
)
from qjlib.core import definitions, exact
from qjlib.core.ids import positions
from qjlib.core.params import ParamError, Params

COMPONENTS = definitions.INCOME_COMPONENTS
COMPONENT_ZH = definitions.INCOME_COMPONENTS_ZH
CAUSES: tuple[str, ...] = ("income", "size", "both")
TRENDS: tuple[str, ...] = ("down", "flat", "up")
CAUSE_ZH: dict[str, str] = {
    "income": "收入减少",
    "size": "人口增加",
    "both": "收入减少与人口增加并存",
}


# --------------------------------------------------------------------------------------------
# The panel


@dataclass(frozen=True)
class Panel:
    """Households × years arrays built from the ``income`` table.

    ``hh_id[i]`` labels row i (order of first appearance in the table, not sorted); ``years`` are
    the contiguous years ``min(year) … last_year`` (a year absent from the whole table is a column
    of NaN). Every array is float64 with NaN where the household has no row that year.
    """

    hh_id: pd.Index
    years: np.ndarray
    pc: np.ndarray  # net_per_capita, yuan per person
    net: np.ndarray  # net_income, yuan per household
    size: np.ndarray  # household size that year, persons
    components: dict[str, np.ndarray]  # wage, operating_net, property, transfer (yuan per household)

    @property
    def shape(self) -> tuple[int, int]:
        """(households, years)."""
        return self.pc.shape


def build_panel(income: pd.DataFrame, last_year: int | None = None,
                ids: pd.Series | pd.Index | None = None) -> Panel:
    """Factorise ``hh_id`` once into integer codes and scatter the income rows into
    households × years arrays (years after ``last_year`` are dropped).

    Without ``ids`` the rows are the table's households in order of first appearance; with
    ``ids`` (unique household ids) the rows are exactly those, in that order — one hash lookup
    of the table's ids, rows of other households dropped, a household without rows all NaN.

    ``income`` has the loader's canonical columns ``hh_id, year, size, net_income, net_per_capita``
    and the components ``wage, operating_net, property, transfer``. A (hh_id, year) pair appears
    once (the loader rejects duplicates).
    """
    year = income["year"].to_numpy(dtype="float64", na_value=np.nan)
    keep = ~np.isnan(year)
    if last_year is not None:
        keep &= year <= last_year
    if ids is not None:
        uniques = pd.Index(ids)
        codes = positions(income["hh_id"], uniques)
        keep &= codes >= 0
    if not keep.all():
        income = income.loc[keep]
        year = year[keep]
    if ids is None:
        codes, uniques = pd.factorize(income["hh_id"], sort=False)
    else:
        codes = codes[keep]
    if len(year):
        y0, y1 = int(year.min()), int(year.max())
        if last_year is not None:
            y1 = max(y1, int(last_year))
    else:
        y0 = y1 = int(last_year) if last_year is not None else 0
    years = np.arange(y0, y1 + 1, dtype=np.int64)
    col = (year - y0).astype(np.intp)
    h, t = len(uniques), len(years)

    def scatter(name: str) -> np.ndarray:
        out = np.full((h, t), np.nan)
        out[codes, col] = income[name].to_numpy(dtype="float64", na_value=np.nan)
        return out

    return Panel(
        hh_id=pd.Index(uniques, name="hh_id"),
        years=years,
        pc=scatter("net_per_capita"),
        net=scatter("net_income"),
        size=scatter("size"),
        components={c: scatter(c) for c in COMPONENTS},
    )


# --------------------------------------------------------------------------------------------
# All metrics per household


# The columns of household_metrics, in order.
METRIC_COLUMNS: tuple[str, ...] = (
    "n_years", "first_year", "pc_now", "yoy_change", "size_now", "run_end", "longest_run", "flagged",
    "gap",
    "gap_year", "start_year", "pc_start", "change", "change_pct", "income_effect", "size_effect",
    "cause", "component", "component_effect", "cagr", "trend_pct", "mk_s", "mk_p", "mk_p_down",
    "trend", "poverty_line", "line_ratio", "below_line", "jumps", "jump_in_window",
)


def household_metrics(
    panel: Panel,
    income_year: int,
    *,
    n_declines: int,
    min_drop: float,
    jump_factor: float,
    trend_alpha: float,
    poverty_lines: pd.Series,
) -> pd.DataFrame:
    """One row per household of the panel (index ``hh_id``, in panel order), over the years up to
    ``income_year`` (Y):

    - ``pc_now`` per-capita net income in Y (yuan/person), ``yoy_change`` = pc_Y − pc_{Y−1}
      (:func:`~qjlib.analyses.trend.yoy_change`; NaN if either is missing); ``size_now``;
      ``n_years`` years with data;
    - ``run_end`` consecutive decreases ending in Y, ``longest_run`` the longest run anywhere,
      ``flagged`` = run_end ≥ N; ``gap``/``gap_year`` the chain broken by a missing year (see
      :func:`~qjlib.analyses.trend.chain_gap`);
    - over the window Y−N … Y (complete windows only): ``pc_start``, ``change`` = pc_Y − pc_{Y−N},
      ``change_pct`` = change ÷ pc_{Y−N} (when pc_{Y−N} > 0), the income and size effects summed over
      the window (they add up to ``change``), ``cause``: ``size`` when the income effect is ≥ 0 (the
      fall is only more people), ``income`` when the size effect is ≥ 0, ``both`` otherwise (only
      for a fall); ``component`` whose effect fell most (most negative; NA if none fell) and its
      effect ``component_effect``;
    - trend: ``cagr`` (fraction/year), ``trend_pct`` = 100·(exp(Theil–Sen slope of ln pc) − 1) in
      percent per year, Mann–Kendall ``mk_s``, two-sided exact ``mk_p``, one-sided (decrease)
      ``mk_p_down``; ``trend`` = ``down``/``up`` when the one-sided exact p < ``trend_alpha``, else
      ``flat`` (NA with fewer than 3 years);
    - ``poverty_line`` of Y, ``line_ratio`` = pc_Y ÷ line, ``below_line`` = pc_Y < line (NA if no pc_Y);
    - ``jumps`` extreme jumps in any year (see :func:`~qjlib.analyses.trend.jump_flags`),
      ``jump_in_window`` any in the window.

    The steps are :func:`~qjlib.analyses.trend.decrease_runs`,
    :func:`~qjlib.analyses.trend.chain_gap`, :func:`_window`, :func:`_fall_causes` and
    :func:`_trend`; the length here is this list of columns.
    """
    y = int(income_year)
    t, line = _income_year(panel, y, poverty_lines)
    years = panel.years[:t]
    pc, size = panel.pc[:, :t], panel.size[:, :t]
    h = pc.shape[0]
    n_dec = int(n_declines)

    _, run = decrease_runs(panel.net[:, :t], size, min_drop)
    run_end = run[:, -1]
    gap, gap_year = chain_gap(pc, years, run_end, n_dec)
    valid = ~np.isnan(pc)
    n_years = valid.sum(axis=1)
    first, _ = first_last(valid)
    pc_now = pc[:, -1]
    w = _window(panel, t, n_dec, jump_factor)
    change = pc_now - w["pc_start"]
    with np.errstate(invalid="ignore", divide="ignore"):
        change_pct = np.where(w["pc_start"] > 0, change / w["pc_start"], np.nan)
    cause, worst, worst_eff = _fall_causes(change, w["income_effect"], w["size_effect"],
                                           w["component_effects"])
    mk, trend = _trend(pc, trend_alpha)
    ints, codes = _ints, _categories
    return pd.DataFrame(
        {
            "n_years": n_years,
            "first_year": ints(years[first], n_years > 0),
            "pc_now": pc_now,
            "yoy_change": yoy_change(pc[:, -2:])[:, 0] if t > 1 else np.full(h, np.nan),
            "size_now": size[:, -1],
            "run_end": run_end.astype(np.int64),
            "longest_run": run.max(axis=1).astype(np.int64),
            "flagged": run_end >= n_dec,
            "gap": gap,
            "gap_year": ints(gap_year, gap),
            "start_year": np.full(h, y - n_dec),
            "pc_start": w["pc_start"],
            "change": change,
            "change_pct": change_pct,
            "income_effect": w["income_effect"],
            "size_effect": w["size_effect"],
            "cause": codes(cause, CAUSES),
            "component": codes(worst, COMPONENTS),
            "component_effect": worst_eff,
            "cagr": cagr(pc, years),
            "trend_pct": 100.0 * np.expm1(theil_sen_log_slope(pc, years)),
            "mk_s": mk["s"].to_numpy(),
            "mk_p": mk["p_two"].to_numpy(),
            "mk_p_down": mk["p_down"].to_numpy(),
            "trend": codes(trend, TRENDS),
            "poverty_line": line,
            "line_ratio": pc_now / line,
            "below_line": pd.arrays.BooleanArray(
                exact.per_capita_below(panel.net[:, t - 1], size[:, -1], line), np.isnan(pc_now)),
            "jumps": jump_flags(panel.net[:, :t], size, jump_factor).sum(axis=1).astype(np.int64),
            "jump_in_window": w["jump"],
        },
        index=panel.hh_id,
    )


def _income_year(panel: Panel, y: int, poverty_lines: pd.Series) -> tuple[int, float]:
    """The number t of the panel's years up to the income year Y (a prefix of its columns) and
    Y's poverty line (yuan per person); an error when the panel or the parameters lack Y."""
    t = int(np.searchsorted(panel.years, y, side="right"))
    if t == 0 or panel.years[t - 1] != y:
        raise ValueError(f"panel has no column for the income year {y}")
    if y not in poverty_lines.index:
        raise ParamError(f"参数 poverty_line 缺少 {y} 年的贫困线 / no poverty line for {y} in params")
    return t, float(poverty_lines.loc[y])


def _ints(v: np.ndarray, ok: np.ndarray) -> pd.arrays.IntegerArray:
    """Nullable integers: ``v`` where ``ok``, missing elsewhere."""
    return pd.arrays.IntegerArray(v.astype(np.int64), ~ok)


def _categories(c: np.ndarray, labels: tuple[str, ...]) -> pd.Categorical:
    """Codes into ``labels`` as a categorical (code −1 = missing)."""
    return pd.Categorical.from_codes(c, categories=list(labels))


def _window(panel: Panel, t: int, n_declines: int, jump_factor: float) -> dict[str, np.ndarray]:
    """The window Y−N … Y (the N+1 columns ending at column ``t − 1`` of the panel; its N
    changes), per household: ``pc_start`` = pc_{Y−N}, the ``income_effect`` and ``size_effect``
    of :func:`~qjlib.analyses.trend.decompose_change` summed over the window (yuan per person),
    each component's summed effect (``component_effects``: households × :data:`COMPONENTS`) and
    whether any change in the window is an extreme ``jump``
    (:func:`~qjlib.analyses.trend.jump_flags`). NaN (no jump) when the panel has fewer than N+1
    years up to Y."""
    h = panel.pc.shape[0]
    w0 = t - 1 - n_declines
    if w0 < 0:
        nan = np.full(h, np.nan)
        return {"pc_start": nan, "income_effect": nan, "size_effect": nan,
                "component_effects": np.full((h, len(COMPONENTS)), np.nan),
                "jump": np.zeros(h, dtype=bool)}
    win = slice(w0, t)
    size = panel.size[:, win]
    inc_eff, size_eff = decompose_change(panel.net[:, win], size)
    comp = component_effects({c: panel.components[c][:, win] for c in COMPONENTS}, size)
    return {
        "pc_start": panel.pc[:, w0],
        "income_effect": inc_eff.sum(axis=1),
        "size_effect": size_eff.sum(axis=1),
        "component_effects": np.column_stack([comp[c].sum(axis=1) for c in COMPONENTS]),
        "jump": jump_flags(panel.net[:, win], panel.size[:, win], jump_factor).any(axis=1),
    }


def _fall_causes(change: np.ndarray, income_effect: np.ndarray, size_effect: np.ndarray,
                 component_effects: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Why per-capita income fell over the window, per household: the cause's code into
    :data:`CAUSES` (``size`` when the income effect is ≥ 0, ``income`` when the size effect is
    ≥ 0, ``both`` otherwise; −1 when it did not fall), the code into :data:`COMPONENTS` of the
    component whose effect fell most (−1 when none fell) and that effect (yuan per person; NaN
    when none fell)."""
    cause = np.where(income_effect >= 0, 1, np.where(size_effect >= 0, 0, 2))
    cause = np.where(change < 0, cause, -1)
    filled = np.where(np.isnan(component_effects), np.inf, component_effects)
    worst = np.argmin(filled, axis=1)
    worst_eff = filled[np.arange(len(filled)), worst]
    has_fall = np.isfinite(worst_eff) & (worst_eff < 0)
    return cause, np.where(has_fall, worst, -1), np.where(has_fall, worst_eff, np.nan)


def _trend(pc: np.ndarray, trend_alpha: float) -> tuple[pd.DataFrame, np.ndarray]:
    """:func:`~qjlib.analyses.trend.mann_kendall` of each household's series and its trend's code
    into :data:`TRENDS`: ``down``/``up`` when the one-sided exact p < ``trend_alpha``, else
    ``flat``; −1 with fewer than 3 years of data."""
    mk = mann_kendall(pc)
    p_down, p_up = mk["p_down"].to_numpy(), mk["p_up"].to_numpy()
    trend = np.where(p_down < trend_alpha, 0, np.where(p_up < trend_alpha, 2, 1))
    return mk, np.where(mk["n"].to_numpy() >= 3, trend, -1)


def decline_metrics(income: pd.DataFrame, income_year: int, params: Params,
                    ids: pd.Series | pd.Index | None = None) -> tuple[Panel, pd.DataFrame]:
    """:func:`build_panel` (rows ``ids``, or every household of ``income``) and its
    :func:`household_metrics` with the run's parameters (``decline.n_declines``,
    ``decline.min_drop``, ``decline.jump_factor``, ``decline.trend_alpha``, ``poverty_line``).
    The one function the ledger, the summary, the notebook and the benchmark use."""
    panel = build_panel(income, last_year=income_year, ids=ids)
    return panel, household_metrics(panel, income_year, **decline_params(params))


def decline_params(params: Params) -> dict:
    """The run's parameters of :func:`household_metrics` (keyword arguments): ``n_declines``,
    ``min_drop`` (yuan per person), ``jump_factor``, ``trend_alpha`` and ``poverty_lines``."""
    return {
        "n_declines": int(params.get("decline.n_declines")),
        "min_drop": float(params.get("decline.min_drop")),
        "jump_factor": float(params.get("decline.jump_factor")),
        "trend_alpha": float(params.get("decline.trend_alpha")),
        "poverty_lines": params.poverty_lines,
    }


# --------------------------------------------------------------------------------------------
# Cohorts: median per-capita income by exit year, against the poverty line


def cohort_medians(panel: Panel, cohort: np.ndarray | pd.Series, poverty_lines: pd.Series
                   ) -> pd.DataFrame:
    """Median per-capita net income of each exit-year cohort in each year (households with data
    that year), long form: ``exit_year, year, households, median_pc, poverty_line, line_ratio``
    (= median ÷ that year's line; NaN where params have no line for the year)."""
    wide = pd.DataFrame(panel.pc, columns=panel.years)
    key = pd.Series(np.asarray(cohort), name="exit_year")
    g = wide.groupby(key)
    long = {
        name: frame.reset_index().melt(id_vars="exit_year", var_name="year", value_name=name)
        for name, frame in (("households", g.count()), ("median_pc", g.median()))
    }
    out = long["households"].merge(long["median_pc"], on=["exit_year", "year"])
    out = out[out["households"] > 0].copy()
    out["exit_year"] = out["exit_year"].astype(np.int64)
    out["year"] = out["year"].astype(np.int64)
    out["households"] = out["households"].astype(np.int64)
    out["poverty_line"] = out["year"].map(poverty_lines).astype(float)
    out["line_ratio"] = out["median_pc"] / out["poverty_line"]
    return out.sort_values(["exit_year", "year"]).reset_index(drop=True)


def cohort_growth(medians: pd.DataFrame, income_year: int) -> pd.DataFrame:
    """Each cohort's growth of median per-capita income against the poverty line's growth.

    Base year b = the cohort's exit year, or its first year with data if later. Over b … Y:
    ``growth_rate = (median_Y / median_b)^(1/(Y−b)) − 1`` and ``line_growth_rate`` the same for the
    poverty line (fractions per year); ``excess_rate`` = growth_rate − line_growth_rate (> 0: the
    cohort's median pulled away from the line). Rows only for cohorts with data in b and Y, Y > b.
    """
    m = medians[medians["year"] >= medians["exit_year"]]
    base = m.sort_values(["exit_year", "year"]).groupby("exit_year").first()
    now = medians[medians["year"] == int(income_year)].set_index("exit_year")
    out = pd.DataFrame({
        "base_year": base["year"],
        "median_base": base["median_pc"],
        "line_base": base["poverty_line"],
    }).join(now[["households", "median_pc", "poverty_line"]].rename(
        columns={"median_pc": "median_now", "poverty_line": "line_now"}), how="inner")
    span = (int(income_year) - out["base_year"]).astype(float)
    out = out[span > 0]
    span = span[span > 0]
    ok = (out["median_base"] > 0) & (out["median_now"] > 0)
    out["growth_rate"] = ((out["median_now"] / out["median_base"]) ** (1 / span) - 1).where(ok)
    out["line_growth_rate"] = (out["line_now"] / out["line_base"]) ** (1 / span) - 1
    out["excess_rate"] = out["growth_rate"] - out["line_growth_rate"]
    out.index.name = "exit_year"
    return out.reset_index()
