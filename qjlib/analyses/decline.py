"""Income declines and growth trends of past exited households (plan R5, issue #6).

The plan (四.1(3)) asks, for every household that exited in past years (历年脱贫户), for its
per-capita net income, its growth trend, and whether it fell three years in a row. Everything here
works on a **panel**: household ids factorised once into integer codes, and a households × years
numpy array per quantity (per-capita net income, net income, size, income components). No per-household
Python loop: loops run over the handful of years or year pairs only.

Definitions (unit: yuan per person and year unless said otherwise; ``pc`` = per-capita net income
``net_per_capita`` = net income ÷ that year's ``size``, recomputed by the loader):

- **decrease** in year t: ``pc[t] < pc[t-1] - decline.min_drop``, both years present. A missing year
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
from qjlib.core import definitions
from qjlib.core.context import Context, per_context
from qjlib.core.fmt import MISSING, json_number
from qjlib.core.ids import positions
from qjlib.core.ledgers import LedgerSpec
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

    _, run = decrease_runs(pc, min_drop)
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
            "below_line": pd.arrays.BooleanArray(pc_now < line, np.isnan(pc_now)),
            "jumps": jump_flags(pc, jump_factor).sum(axis=1).astype(np.int64),
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
        "jump": jump_flags(panel.pc[:, win], jump_factor).any(axis=1),
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


# --------------------------------------------------------------------------------------------
# The analysis of a run: past exited households, their metrics, the ledger


@dataclass(frozen=True)
class DeclineAnalysis:
    """Everything the ledger, the summary and the notebook show, computed once per context.

    ``households``: the past exited households (``hh_id, town, village, exit_status, exit_year``),
    sorted by ``hh_id``; ``panel`` and ``metrics`` have one row per household in that order
    (households without income rows are all-NaN rows: a data gap in the income year).
    """

    income_year: int
    n_declines: int
    households: pd.DataFrame
    panel: Panel
    metrics: pd.DataFrame
    ledger: pd.DataFrame
    cohorts: pd.DataFrame
    cohort_growth: pd.DataFrame


HOUSEHOLD_COLUMNS = ("hh_id", "town", "village", "exit_status", "exit_year")

#: The columns of the ``income_decline`` ledger, in order.
LEDGER_COLUMNS: tuple[str, ...] = (
    "hh_id", "urgency", "town", "village", "exit_status", "exit_year", "n_declines", "start_year",
    "pc_start", "pc_now", "pc_change", "change_rate", "pc_series", "size_series", "size_start",
    "size_now", "pc_income_effect", "pc_size_effect", "cause", "component", "pc_component_effect",
    "poverty_line", "line_ratio", "below_line", "growth_rate", "trend_rate", "mk_p_down", "trend",
    "jump_suspect", "reason",
)

# Chinese headers of the ledger's own columns (hh_id, town, village, exit_status, exit_year and
# reason take the schema's and the common labels).
LEDGER_COLUMNS_ZH: dict[str, str] = {
    "urgency": "紧急程度排序（1最急）",
    "n_declines": "连续下降年数",
    "start_year": "起始年度",
    "pc_start": "起始年人均纯收入（元）",
    "pc_now": "当年人均纯收入（元）",
    "pc_change": "人均纯收入变化（元）",
    "change_rate": "变化率",
    "pc_series": "人均纯收入序列（年:元）",
    "size_series": "家庭人口序列（人）",
    "size_start": "起始年人口",
    "size_now": "当年人口",
    "pc_income_effect": "收入变动影响（元/人）",
    "pc_size_effect": "人口变动影响（元/人）",
    "cause": "下降原因",
    "component": "降幅最大的收入项",
    "pc_component_effect": "该项影响（元/人）",
    "poverty_line": "当年贫困线（元）",
    "line_ratio": "人均纯收入÷贫困线",
    "below_line": "低于贫困线",
    "growth_rate": "全期年均增长率（首末年）",
    "trend_rate": "稳健趋势（年均，Theil–Sen）",
    "mk_p_down": "下降趋势检验p值（Mann–Kendall精确）",
    "trend": "全期趋势",
    "jump_suspect": "疑似数据错误（跳变）",
}

TREND_ZH: dict[str, str] = {"down": "下降", "up": "上升", "flat": "无明显趋势"}

# What the notebooks reuse of a report run instead of recomputing (scopes it is saved for).
NAME = "decline"  # its part of summary.json and its key in qjlib.analyses.REGISTRY
NOTEBOOK_RESULTS: dict[str, tuple[str, ...]] = {"analyse": ("county", "towns")}

LEDGERS = {
    "income_decline": LedgerSpec(
        name="income_decline",
        title_zh="历年脱贫户人均纯收入连续下降台账",
        key=("hh_id",),
        columns_zh=LEDGER_COLUMNS_ZH,
        plan="R5",
        formats={"line_ratio": "float", "mk_p_down": "float"},
    ),
}


@per_context
def analyse(ctx: Context) -> DeclineAnalysis | None:
    """Past exited households of the scope (:func:`qjlib.core.definitions.past_exited` for the income
    year), their :func:`household_metrics`, the ``income_decline`` ledger and the cohort tables.
    None when the package has no income table or the households no ``exit_year``."""
    from qjlib.core.definitions import past_exited

    pkg = ctx.pkg
    if not pkg.has("income") or "exit_year" not in pkg["households"].columns:
        return None
    y = int(ctx.income_year)
    kw = decline_params(ctx.params)
    hh = pkg["households"]
    cols = [c for c in HOUSEHOLD_COLUMNS if c in hh.columns]
    past = hh.loc[past_exited(hh, y).to_numpy(), cols]
    past = past.sort_values("hh_id", kind="stable").reset_index(drop=True)
    panel, metrics = decline_metrics(pkg["income"], y, ctx.params, ids=past["hh_id"])
    lines = kw["poverty_lines"]
    cohorts = cohort_medians(panel, past["exit_year"].to_numpy(dtype=np.int64), lines)
    return DeclineAnalysis(
        income_year=y,
        n_declines=kw["n_declines"],
        households=past,
        panel=panel,
        metrics=metrics,
        ledger=decline_ledger(past, panel, metrics, y, kw["n_declines"], kw["jump_factor"]),
        cohorts=cohorts,
        cohort_growth=cohort_growth(cohorts, y),
    )


def signed_pct(x: float | None) -> str:
    """A change already in percent, signed, one decimal: ``1.23`` → ``"+1.2%"``, ``-0.5`` →
    ``"-0.5%"``; ``None`` → ``"—"``. (Not :func:`qjlib.core.fmt.fmt_pct`, which takes a fraction
    and writes no sign.)"""
    return MISSING if x is None else f"{x:+.1f}%"


def _int_text(x: np.ndarray) -> pd.Series:
    """Whole numbers as text ("" for NaN), without thousands separators."""
    s = pd.Series(np.round(x)).astype("Int64").astype("str")
    return s.fillna("")


def _money_text(x: pd.Series) -> pd.Series:
    """Yuan with thousands separators, e.g. ``5,230`` (small frames only: the ledger's rows)."""
    return x.round(0).map("{:,.0f}".format, na_action="ignore").fillna("—").astype("str")


def decline_ledger(households: pd.DataFrame, panel: Panel, metrics: pd.DataFrame, income_year: int,
                   n_declines: int, jump_factor: float) -> pd.DataFrame:
    """The ``income_decline`` ledger: the flagged rows of ``metrics`` with their household's town,
    village and exit, the series of the window Y−N … Y as text, the size/income split, the component
    that fell most, the poverty line, the trend, a Chinese ``reason`` and ``urgency`` (1 = most
    urgent: below the line first, then the largest relative fall, then ``hh_id``). Sorted by
    ``hh_id``. ``households`` and ``metrics`` are row-aligned with ``panel``."""
    y, n = int(income_year), int(n_declines)
    flag = metrics["flagged"].to_numpy()
    rows = np.flatnonzero(flag)
    m = metrics.iloc[rows].reset_index(drop=True)
    hh = households.iloc[rows].reset_index(drop=True)
    cols = np.flatnonzero((panel.years >= y - n) & (panel.years <= y))
    pc_w, size_w = panel.pc[rows][:, cols], panel.size[rows][:, cols]
    years = panel.years[cols]
    pc_series = pd.Series("", index=m.index, dtype="str")
    size_series = pd.Series("", index=m.index, dtype="str")
    for k, yr in enumerate(years):  # N+1 years, vectorised over households
        sep = "" if k == 0 else " → "
        pc_series = pc_series + sep + f"{yr}:" + _int_text(pc_w[:, k])
        size_series = size_series + sep + _int_text(size_w[:, k])

    out = pd.DataFrame({
        "hh_id": hh["hh_id"].astype("str"),
        "town": hh["town"] if "town" in hh else pd.Series(pd.NA, index=hh.index, dtype="str"),
        "village": hh["village"] if "village" in hh else pd.Series(pd.NA, index=hh.index, dtype="str"),
        "exit_status": hh["exit_status"],
        "exit_year": hh["exit_year"].astype("Int64"),
        "n_declines": m["run_end"].astype("Int64"),
        "start_year": pd.Series(m["start_year"], dtype="Int64"),
        "pc_start": m["pc_start"],
        "pc_now": m["pc_now"],
        "pc_change": m["change"],
        "change_rate": m["change_pct"],
        "pc_series": pc_series,
        "size_series": size_series,
        "size_start": pd.Series(size_w[:, 0] if len(cols) else np.nan, dtype="float").astype("Int64"),
        "size_now": m["size_now"].astype("Int64"),
        "pc_income_effect": m["income_effect"],
        "pc_size_effect": m["size_effect"],
        "cause": m["cause"].map(CAUSE_ZH).astype("str"),
        "component": m["component"].map(COMPONENT_ZH).astype("str"),
        "pc_component_effect": m["component_effect"],
        "poverty_line": m["poverty_line"],
        "line_ratio": m["line_ratio"],
        "below_line": m["below_line"].astype("boolean"),
        "growth_rate": m["cagr"],
        "trend_rate": m["trend_pct"] / 100.0,
        "mk_p_down": m["mk_p_down"],
        "trend": m["trend"].map(TREND_ZH).astype("str"),
        "jump_suspect": m["jump_in_window"].astype(bool),
    })
    out["reason"] = _reason(out, y, jump_factor)
    order = out.sort_values(
        ["below_line", "change_rate", "hh_id"], ascending=[False, True, True],
        na_position="last", kind="stable").index
    out["urgency"] = pd.Series(np.arange(1, len(out) + 1), index=order).reindex(out.index)
    out["urgency"] = out["urgency"].astype("Int64")
    cols_order = [c for c in LEDGER_COLUMNS if c in out.columns]
    return out[cols_order].sort_values("hh_id", kind="stable").reset_index(drop=True)


def _reason(led: pd.DataFrame, income_year: int, jump_factor: float) -> pd.Series:
    """The Chinese reason of each ledger row, built from its figures (vectorised string ops)."""
    if led.empty:
        return pd.Series([], index=led.index, dtype="str")
    pct = (led["change_rate"] * 100).round(1).map(signed_pct, na_action="ignore")
    head = (
        "连续" + led["n_declines"].astype("str") + "年人均纯收入下降（"
        + led["start_year"].astype("str") + "年" + _money_text(led["pc_start"]) + "元→"
        + str(income_year) + "年" + _money_text(led["pc_now"]) + "元"
        + ("，" + pct).fillna("") + "）"
    )
    share = (led["pc_size_effect"] / led["pc_change"] * 100).round(0)
    cause = pd.Series(
        np.select(
            [led["cause"].eq(CAUSE_ZH["size"]).fillna(False),
             led["cause"].eq(CAUSE_ZH["income"]).fillna(False)],
            ["；仅因家庭人口增加（家庭收入未减少）", "；因家庭收入减少"],
            default="",
        ), index=led.index, dtype="str")
    both = led["cause"].eq(CAUSE_ZH["both"]).fillna(False)
    cause = cause.where(~both, "；收入减少与人口增加并存（人口因素约占"
                        + share.astype("Int64").astype("str").fillna("?") + "%）")
    comp = ("，" + led["component"] + "降幅最大").fillna("")
    line = np.where(
        led["below_line"].fillna(False), "；低于当年贫困线" + _money_text(led["poverty_line"]) + "元",
        "；为当年贫困线的" + led["line_ratio"].round(2).map("{:.2f}".format, na_action="ignore")
        .fillna("?") + "倍")
    jump = np.where(led["jump_suspect"],
                    f"；期间有相邻两年之比≥{jump_factor:g}或≤1/{jump_factor:g}的跳变，疑似数据错误，请先核实", "")
    return (head + cause + comp + line + jump).astype("str")


def _empty_ledger() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="str") for c in LEDGER_COLUMNS})


def build_ledgers(ctx: Context) -> dict[str, pd.DataFrame]:
    """``income_decline`` for the scope and income year (empty, with its columns, when the package
    has no income table or no exit years)."""
    res = analyse(ctx)
    return {"income_decline": _empty_ledger() if res is None else res.ledger}


def summary(ctx: Context) -> dict:
    """``decline.*`` figures of summary.json for the scope and income year.

    ``past_exited``: past exited households considered; ``flagged``: households in
    ``income_decline``; ``data_gap``: past exited households whose chain ending in the income year
    was broken by a missing year before reaching N (``no_income``: of them, no income row at all up
    to the income year); ``exited_without_year``: exited/returned households without ``exit_year``
    (not counted as past exited: a data caveat). Of the flagged: ``below_line``, ``by_cause``
    (size / income / both), ``by_component``, ``jump_suspect``. Of all past exited: ``below_line_all``,
    ``trend`` counts (exact Mann–Kendall one-sided p < ``decline.trend_alpha``), median
    ``trend_pct`` and ``cagr``, ``jumps`` (households with an extreme jump), ``by_town`` (past exited
    and flagged per town) and ``cohorts`` (see :func:`cohort_growth`).
    """
    pkg = ctx.pkg
    if not pkg.has("income"):
        return {"available": False, "reason": "未提供收入表 / no income table"}
    if "exit_year" not in pkg["households"].columns:
        return {"available": False, "reason": "户信息缺少脱贫年度 / households have no exit_year"}
    res = analyse(ctx)
    assert res is not None
    m, led, hh = res.metrics, res.ledger, res.households
    hhs = pkg["households"]
    no_year = hhs["exit_status"].isin(("exited", "returned")) & hhs["exit_year"].isna()
    flagged = m[m["flagged"].to_numpy()]
    by_town = (
        pd.DataFrame({"town": hh["town"].fillna("未知").to_numpy(), "flagged": m["flagged"].to_numpy()})
        .groupby("town").agg(past_exited=("flagged", "size"), flagged=("flagged", "sum"))
    )
    trend = m["trend"].value_counts().to_dict() | {"insufficient": int(m["trend"].isna().sum())}
    return {
        "available": True,
        "income_year": res.income_year,
        "n_declines": res.n_declines,
        "min_drop": json_number(ctx.params.get("decline.min_drop")),
        "past_exited": len(hh),
        "flagged": len(led),
        "data_gap": int(m["gap"].sum()),
        "no_income": int((m["n_years"] == 0).sum()),
        "exited_without_year": int(no_year.sum()),
        "below_line": int(led["below_line"].fillna(False).sum()),
        "by_cause": {k: int((flagged["cause"] == k).sum()) for k in CAUSE_ZH},
        "by_component": {k: int((flagged["component"] == k).sum()) for k in COMPONENTS},
        "jump_suspect": int(led["jump_suspect"].sum()),
        "below_line_all": int(m["below_line"].fillna(False).sum()),
        "trend": {k: int(trend.get(k, 0)) for k in ("down", "flat", "up", "insufficient")},
        "median_trend_pct": json_number(m["trend_pct"].median()),
        "median_cagr": json_number(m["cagr"].median()),
        "jumps": int((m["jumps"] > 0).sum()),
        "by_town": {
            str(t): {"past_exited": int(n), "flagged": int(f)}
            for t, n, f in zip(by_town.index, by_town["past_exited"], by_town["flagged"], strict=True)
        },
        "cohorts": [_cohort_figures(r) for r in res.cohort_growth.to_dict("records")],
    }


def _cohort_figures(row: dict) -> dict:
    """One row of :func:`cohort_growth` for summary.json. The medians are money, given to the fen
    (yuan, 2 decimals) as they always were; the rates are left to the report's rounding."""
    return {
        "exit_year": int(row["exit_year"]), "households": int(row["households"]),
        "base_year": int(row["base_year"]),
        "median_base": json_number(round(float(row["median_base"]), 2)),
        "median_now": json_number(round(float(row["median_now"]), 2)),
        **{k: json_number(row[k]) for k in ("growth_rate", "line_growth_rate", "excess_rate")},
    }
