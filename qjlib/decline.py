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
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from math import comb

import numpy as np
import pandas as pd

from .params import ParamError, Params

COMPONENTS: tuple[str, ...] = ("wage", "operating_net", "property", "transfer")
COMPONENT_ZH: dict[str, str] = {
    "wage": "工资性收入",
    "operating_net": "生产经营性净收入",
    "property": "财产性收入",
    "transfer": "转移性收入",
}
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


def build_panel(income: pd.DataFrame, last_year: int | None = None) -> Panel:
    """Factorise ``hh_id`` once into integer codes and scatter the income rows into
    households × years arrays (years after ``last_year`` are dropped).

    ``income`` has the loader's canonical columns ``hh_id, year, size, net_income, net_per_capita``
    and the components ``wage, operating_net, property, transfer``. A (hh_id, year) pair appears
    once (the loader rejects duplicates).
    """
    year = income["year"].to_numpy(dtype="float64", na_value=np.nan)
    keep = ~np.isnan(year)
    if last_year is not None:
        keep &= year <= last_year
    if not keep.all():
        income = income.loc[keep]
        year = year[keep]
    codes, uniques = pd.factorize(income["hh_id"], sort=False)
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
# Year-over-year changes, runs of decreases, gaps


def yoy_change(pc: np.ndarray) -> np.ndarray:
    """Year-over-year change ``pc[:, t] − pc[:, t−1]`` (yuan per person), shape (H, T−1);
    NaN when either year is missing."""
    return pc[:, 1:] - pc[:, :-1]


def decrease_runs(pc: np.ndarray, min_drop: float) -> tuple[np.ndarray, np.ndarray]:
    """Decreases and their runs.

    ``decrease[:, t]`` (t ≥ 1) is ``pc[t] < pc[t−1] − min_drop`` with both years present (column 0
    is False); ``run[:, t]`` is the number of consecutive decreases ending in year t:
    ``run[t] = (run[t−1] + 1)·decrease[t]``. A missing year is never a decrease, so it resets the run.
    """
    h, t = pc.shape
    dec = np.zeros((h, t), dtype=bool)
    with np.errstate(invalid="ignore"):
        dec[:, 1:] = pc[:, 1:] < pc[:, :-1] - min_drop  # NaN compares False
    run = np.zeros((h, t), dtype=np.int16)
    for j in range(1, t):  # loop over years, vectorised over households
        run[:, j] = (run[:, j - 1] + 1) * dec[:, j]
    return dec, run


def chain_gap(pc: np.ndarray, years: np.ndarray, run_end: np.ndarray, n_declines: int
              ) -> tuple[np.ndarray, np.ndarray]:
    """Whether the chain of decreases ending in the last column stopped short of ``n_declines``
    because of a missing year, and which year.

    With k = ``run_end``: the chain is Y−k … Y; it is broken by a gap when Y−k itself is missing
    (only possible for k = 0) or Y−k−1 is missing or lies before the first year of data. Returns
    ``(gap, gap_year)``; ``gap_year`` is −1 where there is no gap.
    """
    h, t = pc.shape
    rows = np.arange(h)
    start = (t - 1) - run_end.astype(np.intp)
    miss_here = np.isnan(pc[rows, start])
    before = start - 1
    miss_prev = (before < 0) | np.isnan(pc[rows, np.maximum(before, 0)])
    gap = (run_end < n_declines) & (miss_here | miss_prev)
    gap_year = np.where(miss_here, years[0] + start, years[0] + before)
    return gap, np.where(gap, gap_year, -1)


# --------------------------------------------------------------------------------------------
# Size / income decomposition


def decompose_change(net: np.ndarray, size: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split each year-over-year change of per-capita income into an income and a size effect.

    Symmetric (Shapley / midpoint) and exact: with Y net income (yuan) and n size (persons),
    ``Δ(Y/n) = ΔY·½(1/n₀+1/n₁) + Δ(1/n)·½(Y₀+Y₁)``. Returns ``(income_effect, size_effect)`` in
    yuan per person, shape (H, T−1); NaN where either year is missing. A newborn (n₁ = n₀+1) with
    unchanged income is a pure size effect.
    """
    inv = 1.0 / size
    income_effect = (net[:, 1:] - net[:, :-1]) * 0.5 * (inv[:, 1:] + inv[:, :-1])
    size_effect = (inv[:, 1:] - inv[:, :-1]) * 0.5 * (net[:, 1:] + net[:, :-1])
    return income_effect, size_effect


def component_effects(components: dict[str, np.ndarray], size: np.ndarray) -> dict[str, np.ndarray]:
    """Each component's share of the income effect: ``ΔY_c·½(1/n₀+1/n₁)`` (yuan per person,
    shape (H, T−1)). Since net income = Σ components, they add up to the income effect of
    :func:`decompose_change`."""
    inv = 1.0 / size
    half = 0.5 * (inv[:, 1:] + inv[:, :-1])
    return {c: (v[:, 1:] - v[:, :-1]) * half for c, v in components.items()}


# --------------------------------------------------------------------------------------------
# Trend: CAGR, Theil–Sen, Mann–Kendall (exact)


def _first_last(valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t = valid.shape[1]
    first = np.argmax(valid, axis=1)
    last = t - 1 - np.argmax(valid[:, ::-1], axis=1)
    return first, last


def cagr(pc: np.ndarray, years: np.ndarray) -> np.ndarray:
    """Compound annual growth rate of per-capita income from the first to the last year with data:
    ``(pc_last / pc_first)^(1/(year_last − year_first)) − 1`` (a fraction per year). Defined only
    when both are > 0 and the years differ; NaN otherwise."""
    valid = ~np.isnan(pc)
    first, last = _first_last(valid)
    rows = np.arange(pc.shape[0])
    a, b = pc[rows, first], pc[rows, last]
    span = (years[last] - years[first]).astype(float)
    ok = valid.any(axis=1) & (span > 0) & (a > 0) & (b > 0)
    out = np.full(pc.shape[0], np.nan)
    out[ok] = (b[ok] / a[ok]) ** (1.0 / span[ok]) - 1.0
    return out


def _row_nanmedian(x: np.ndarray) -> np.ndarray:
    """Median of each row ignoring NaN (NaN for an all-NaN row), by one sort of the array."""
    if x.shape[1] == 0:
        return np.full(x.shape[0], np.nan)
    s = np.sort(x, axis=1)  # NaN sort last
    cnt = (~np.isnan(x)).sum(axis=1)
    lo = np.maximum((cnt - 1) // 2, 0)[:, None]
    hi = np.maximum(cnt // 2, 0)[:, None]
    med = 0.5 * (np.take_along_axis(s, lo, axis=1) + np.take_along_axis(s, hi, axis=1))[:, 0]
    return np.where(cnt > 0, med, np.nan)


def theil_sen_log_slope(pc: np.ndarray, years: np.ndarray) -> np.ndarray:
    """Theil–Sen slope of ln(pc) on year: the median over all pairs of years i < j with pc > 0 in
    both of ``(ln pc_j − ln pc_i) / (year_j − year_i)`` (log-points per year). NaN with fewer than
    two such years. The growth rate it implies is ``exp(slope) − 1`` per year."""
    with np.errstate(invalid="ignore", divide="ignore"):
        lg = np.where(pc > 0, np.log(pc), np.nan)
    i, j = np.triu_indices(pc.shape[1], k=1)
    slopes = (lg[:, j] - lg[:, i]) / (years[j] - years[i]).astype(float)
    return _row_nanmedian(slopes)


@cache
def _qbinom(a: int, b: int) -> tuple[int, ...]:
    """Coefficients of the Gaussian (q-)binomial [a choose b]_q (exact integers)."""
    if b == 0 or b == a:
        return (1,)
    x, y = _qbinom(a - 1, b - 1), _qbinom(a - 1, b)  # [a;b] = [a-1;b-1] + q^b [a-1;b]
    out = [0] * (b * (a - b) + 1)
    for k, c in enumerate(x):
        out[k] += c
    for k, c in enumerate(y):
        out[k + b] += c
    return tuple(out)


@cache
def _inversion_counts(ties: tuple[int, ...]) -> tuple[int, ...]:
    """Number of distinct arrangements of a multiset with tie-group sizes ``ties`` having
    0, 1, 2, … inversions: the coefficients of the q-multinomial [n; k₁, …, k_m]_q."""
    poly: list[int] = [1]
    total = 0
    for k in ties:
        total += k
        q = _qbinom(total, k)
        prod = [0] * (len(poly) + len(q) - 1)
        for a, ca in enumerate(poly):
            for b, cb in enumerate(q):
                prod[a + b] += ca * cb
        poly = prod
    return tuple(poly)


def mk_null_distribution(ties: tuple[int, ...]) -> pd.Series:
    """Exact null distribution of the Mann–Kendall S for a series whose values form tie groups of
    sizes ``ties`` (``(1, 1, 1, 1)`` = four distinct values).

    Under H₀ every distinct arrangement of the observed values over the years is equally likely.
    With M = C(n,2) − Σ C(k,2) untied pairs and I discordant pairs (inversions), S = M − 2I; the
    number of arrangements with I inversions is the coefficient of q^I in the q-multinomial
    [n; k₁, …, k_m]_q (without ties, the Mahonian numbers; n! arrangements in all). This equals the
    distribution obtained by enumerating all n! permutations. Returns P(S = s) indexed by s.
    """
    ties = tuple(sorted(int(k) for k in ties if k > 0))
    n = sum(ties)
    m = comb(n, 2) - sum(comb(k, 2) for k in ties)
    counts = np.array(_inversion_counts(ties), dtype=float)
    s = m - 2 * np.arange(len(counts))
    return pd.Series(counts / counts.sum(), index=pd.Index(s, name="S"), name="p").sort_index()


def mann_kendall(x: np.ndarray) -> pd.DataFrame:
    """Mann–Kendall trend test for each row of ``x`` (years in columns, NaN = missing, dropped).

    ``S = Σ_{i<j} sign(x_j − x_i)`` over the years present; ``n`` = years present; exact p-values
    from :func:`mk_null_distribution` given the row's tie groups: ``p_up = P(S' ≥ S)``,
    ``p_down = P(S' ≤ S)``, ``p_two = P(|S'| ≥ |S|)``. Rows with n < 3 get NaN p-values.
    Vectorised: S from the pair differences; rows are grouped by (n, tie pattern) and each group's
    distribution is computed once and looked up by S.
    """
    h, t = x.shape
    i, j = np.triu_indices(t, k=1)
    d = x[:, j] - x[:, i]
    known = ~np.isnan(d)
    s = np.where(known, np.sign(d), 0.0).sum(axis=1).astype(np.int64)
    n = (~np.isnan(x)).sum(axis=1)
    # Tie pattern: bit k set when the k-th and (k+1)-th smallest values are equal. Only rows with a
    # tie need the sort.
    bits = np.zeros(h, dtype=np.int64)
    tied = (known & (d == 0)).any(axis=1)
    if tied.any():
        srt = np.sort(x[tied], axis=1)
        eq = srt[:, 1:] == srt[:, :-1]
        bits[tied] = eq.astype(np.int64) @ (np.int64(1) << np.arange(t - 1, dtype=np.int64))
    key = n.astype(np.int64) << (t - 1) | bits
    ukeys, inv = np.unique(key, return_inverse=True)
    smax = comb(t, 2)
    width = 2 * smax + 1
    up = np.full((len(ukeys), width), np.nan)
    down = np.full((len(ukeys), width), np.nan)
    for u, k in enumerate(ukeys):  # one per (n, tie pattern): a handful
        nn, b = int(k >> (t - 1)), int(k & ((1 << (t - 1)) - 1))
        if nn < 3:
            continue
        groups, run = [], 1
        for pos in range(nn - 1):
            if b >> pos & 1:
                run += 1
            else:
                groups.append(run)
                run = 1
        groups.append(run)
        dist = mk_null_distribution(tuple(groups)).reindex(range(-smax, smax + 1), fill_value=0.0)
        p = dist.to_numpy()
        up[u] = np.cumsum(p[::-1])[::-1]  # P(S' ≥ s)
        down[u] = np.cumsum(p)  # P(S' ≤ s)
    p_up = up[inv, s + smax]
    p_down = down[inv, s + smax]
    a = np.abs(s)
    p_two = np.where(a > 0, up[inv, a + smax] + down[inv, smax - a], 1.0)
    p_two = np.where(n >= 3, np.minimum(p_two, 1.0), np.nan)
    return pd.DataFrame({"s": s, "n": n, "p_up": p_up, "p_down": p_down, "p_two": p_two})


# --------------------------------------------------------------------------------------------
# Jumps and the poverty line


def jump_flags(pc: np.ndarray, jump_factor: float) -> np.ndarray:
    """Extreme year-on-year jumps, shape (H, T−1): ``r = pc[t]/pc[t−1]`` with both > 0 and
    ``r ≥ jump_factor`` or ``r ≤ 1/jump_factor`` — a possible data error, not an outcome."""
    a, b = pc[:, :-1], pc[:, 1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        r = b / a
        return (a > 0) & (b > 0) & ((r >= jump_factor) | (r <= 1.0 / jump_factor))


# --------------------------------------------------------------------------------------------
# All metrics per household


METRIC_COLUMNS: tuple[str, ...] = (
    "n_years", "first_year", "pc_now", "size_now", "run_end", "longest_run", "flagged", "gap",
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

    - ``pc_now`` per-capita net income in Y (yuan/person); ``size_now``; ``n_years`` years with data;
    - ``run_end`` consecutive decreases ending in Y, ``longest_run`` the longest run anywhere,
      ``flagged`` = run_end ≥ N; ``gap``/``gap_year`` the chain broken by a missing year (see
      :func:`chain_gap`);
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
    - ``jumps`` extreme jumps in any year (see :func:`jump_flags`), ``jump_in_window`` any in the window.
    """
    y = int(income_year)
    keep = panel.years <= y
    years = panel.years[keep]
    if len(years) == 0 or years[-1] != y:
        raise ValueError(f"panel has no column for the income year {y}")
    pc = panel.pc[:, keep]
    net, size = panel.net[:, keep], panel.size[:, keep]
    h, t = pc.shape
    rows = np.arange(h)
    n_dec = int(n_declines)

    dec, run = decrease_runs(pc, min_drop)
    run_end = run[:, -1]
    gap, gap_year = chain_gap(pc, years, run_end, n_dec)
    valid = ~np.isnan(pc)
    first, _ = _first_last(valid)

    # Window Y−N … Y: N changes (columns t−N … t−1 of the change arrays).
    win = slice(max(t - 1 - n_dec, 0), t - 1)
    full_window = t - 1 >= n_dec
    inc_eff, size_eff = decompose_change(net, size)
    comp = component_effects({c: panel.components[c][:, keep] for c in COMPONENTS}, size)
    if full_window:
        inc_w = inc_eff[:, win].sum(axis=1)
        size_w = size_eff[:, win].sum(axis=1)
        comp_w = np.column_stack([comp[c][:, win].sum(axis=1) for c in COMPONENTS])
        pc_start = pc[:, t - 1 - n_dec]
    else:
        inc_w = size_w = np.full(h, np.nan)
        comp_w = np.full((h, len(COMPONENTS)), np.nan)
        pc_start = np.full(h, np.nan)
    pc_now = pc[:, -1]
    change = pc_now - pc_start
    with np.errstate(invalid="ignore", divide="ignore"):
        change_pct = np.where(pc_start > 0, change / pc_start, np.nan)
    fell = change < 0
    cause = np.where(
        ~fell, None,
        np.where(inc_w >= 0, "size", np.where(size_w >= 0, "income", "both")),
    )
    comp_filled = np.where(np.isnan(comp_w), np.inf, comp_w)
    worst = np.argmin(comp_filled, axis=1)
    worst_eff = comp_filled[rows, worst]
    has_fall = np.isfinite(worst_eff) & (worst_eff < 0)
    component = np.where(has_fall, np.asarray(COMPONENTS, dtype=object)[worst], None)

    ts = theil_sen_log_slope(pc, years)
    mk = mann_kendall(pc)
    enough = mk["n"].to_numpy() >= 3
    p_down, p_up = mk["p_down"].to_numpy(), mk["p_up"].to_numpy()
    trend = np.where(
        ~enough, None,
        np.where(p_down < trend_alpha, "down", np.where(p_up < trend_alpha, "up", "flat")),
    )

    if y not in poverty_lines.index:
        raise ParamError(f"参数 poverty_line 缺少 {y} 年的贫困线 / no poverty line for {y} in params")
    line = float(poverty_lines.loc[y])
    jumps = jump_flags(pc, jump_factor)

    out = pd.DataFrame(
        {
            "n_years": valid.sum(axis=1),
            "first_year": np.where(valid.any(axis=1), years[first], -1),
            "pc_now": pc_now,
            "size_now": size[:, -1],
            "run_end": run_end.astype(np.int64),
            "longest_run": run.max(axis=1).astype(np.int64),
            "flagged": run_end >= n_dec,
            "gap": gap,
            "gap_year": gap_year,
            "start_year": np.full(h, y - n_dec),
            "pc_start": pc_start,
            "change": change,
            "change_pct": change_pct,
            "income_effect": inc_w,
            "size_effect": size_w,
            "cause": pd.array(cause, dtype="str"),
            "component": pd.array(component, dtype="str"),
            "component_effect": np.where(has_fall, worst_eff, np.nan),
            "cagr": cagr(pc, years),
            "trend_pct": 100.0 * np.expm1(ts),
            "mk_s": mk["s"].to_numpy(),
            "mk_p": mk["p_two"].to_numpy(),
            "mk_p_down": p_down,
            "trend": pd.array(trend, dtype="str"),
            "poverty_line": line,
            "line_ratio": pc_now / line,
            "below_line": pd.array(np.where(np.isnan(pc_now), None, pc_now < line), dtype="boolean"),
            "jumps": jumps.sum(axis=1).astype(np.int64),
            "jump_in_window": jumps[:, win].any(axis=1) if full_window else np.zeros(h, bool),
        },
        index=panel.hh_id,
    )
    out["gap_year"] = out["gap_year"].where(out["gap"]).astype("Int64")
    out["first_year"] = out["first_year"].where(out["n_years"] > 0).astype("Int64")
    return out


def decline_metrics(income: pd.DataFrame, income_year: int, params: Params) -> pd.DataFrame:
    """:func:`household_metrics` of :func:`build_panel` with the run's parameters
    (``decline.n_declines``, ``decline.min_drop``, ``decline.jump_factor``, ``decline.trend_alpha``,
    ``poverty_line``). The one function the ledger, the summary and the benchmark use."""
    panel = build_panel(income, last_year=income_year)
    return household_metrics(panel, income_year, **_decline_params(params))


def _decline_params(params: Params) -> dict:
    return {
        "n_declines": int(params.get("decline.n_declines")),
        "min_drop": float(params.get("decline.min_drop")),
        "jump_factor": float(params.get("decline.jump_factor")),
        "trend_alpha": float(params.get("decline.trend_alpha")),
        "poverty_lines": params.poverty_lines,
    }
