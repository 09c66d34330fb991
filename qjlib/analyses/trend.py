"""Time-series statistics of a panel: one row per unit (household), one column per year.

General-purpose (no decline definitions in it; :mod:`qjlib.analyses.decline` applies them to
per-capita net income, yuan per person). Every function takes households × years float arrays with
NaN for a missing year and works column-wise (a loop over years or year pairs at most, never over
households):

- changes: :func:`yoy_change`, runs of decreases (:func:`decrease_runs`) and the gap that broke a
  run (:func:`chain_gap`);
- the exact split of a per-capita change into an income and a size effect
  (:func:`decompose_change`, :func:`component_effects`);
- trend: :func:`cagr`, the Theil–Sen slope of the log (:func:`theil_sen_log_slope`), and the
  Mann–Kendall test with exact p-values (:func:`mann_kendall`, :func:`mk_null_distribution`);
- extreme jumps (:func:`jump_flags`).
"""

from __future__ import annotations

from functools import cache
from math import comb

import numpy as np
import pandas as pd

from qjlib.core import exact

# --------------------------------------------------------------------------------------------
# Year-over-year changes, runs of decreases, gaps


def yoy_change(pc: np.ndarray) -> np.ndarray:
    """Year-over-year change ``pc[:, t] − pc[:, t−1]`` (yuan per person), shape (H, T−1);
    NaN when either year is missing."""
    return pc[:, 1:] - pc[:, :-1]


def decrease_runs(net: np.ndarray, size: np.ndarray,
                  min_drop: float) -> tuple[np.ndarray, np.ndarray]:
    """Decreases of per-capita net income and their runs.

    ``decrease[:, t]`` (t ≥ 1) is ``net[t]/size[t] < net[t−1]/size[t−1] − min_drop`` (yuan per
    person) with both years present, decided exactly in fen without dividing
    (:func:`qjlib.core.exact.per_capita_fall`); column 0 is False. ``run[:, t]`` is the number of
    consecutive decreases ending in year t: ``run[t] = (run[t−1] + 1)·decrease[t]``. A missing year
    is never a decrease, so it resets the run.
    """
    h, t = net.shape
    dec = np.zeros((h, t), dtype=bool)
    dec[:, 1:] = exact.per_capita_fall(net[:, :-1], size[:, :-1], net[:, 1:], size[:, 1:], min_drop)
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


def first_last(valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column index of the first and of the last True in each row of ``valid`` (rows × years);
    0 and the last column for a row without any True (check ``valid.any(axis=1)``)."""
    t = valid.shape[1]
    first = np.argmax(valid, axis=1)
    last = t - 1 - np.argmax(valid[:, ::-1], axis=1)
    return first, last


def cagr(pc: np.ndarray, years: np.ndarray) -> np.ndarray:
    """Compound annual growth rate of per-capita income from the first to the last year with data:
    ``(pc_last / pc_first)^(1/(year_last − year_first)) − 1`` (a fraction per year). Defined only
    when both are > 0 and the years differ; NaN otherwise."""
    valid = ~np.isnan(pc)
    first, last = first_last(valid)
    rows = np.arange(pc.shape[0])
    a, b = pc[rows, first], pc[rows, last]
    span = (years[last] - years[first]).astype(float)
    ok = valid.any(axis=1) & (span > 0) & (a > 0) & (b > 0)
    out = np.full(pc.shape[0], np.nan)
    out[ok] = (b[ok] / a[ok]) ** (1.0 / span[ok]) - 1.0
    return out


def _row_nanmedian(x: np.ndarray) -> np.ndarray:
    """Median of each row ignoring NaN (NaN for an all-NaN row), by one sort of the array."""
    h, p = x.shape
    out = np.full(h, np.nan)
    if p == 0:
        return out
    cnt = p - np.isnan(x).sum(axis=1)
    full = cnt == p  # most rows: a partial sort around the middle is enough
    lo, hi = (p - 1) // 2, p // 2
    part = np.partition(x[full], [lo, hi], axis=1)
    out[full] = 0.5 * (part[:, lo] + part[:, hi])
    some = ~full & (cnt > 0)
    if some.any():
        srt = np.sort(x[some], axis=1)  # NaN sort last
        c = cnt[some]
        out[some] = 0.5 * (np.take_along_axis(srt, ((c - 1) // 2)[:, None], axis=1)[:, 0]
                           + np.take_along_axis(srt, (c // 2)[:, None], axis=1)[:, 0])
    return out


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
    s = np.zeros(h, dtype=np.int64)
    tied = np.zeros(h, dtype=bool)
    for i, j in zip(*np.triu_indices(t, k=1), strict=True):  # year pairs; NaN compares False
        a, b = x[:, i], x[:, j]
        s += b > a
        s -= b < a
        tied |= b == a
    n = (~np.isnan(x)).sum(axis=1)
    # Tie pattern: bit k set when the k-th and (k+1)-th smallest values are equal. Only rows with a
    # tie need the sort.
    bits = np.zeros(h, dtype=np.int64)
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
# Jumps


def jump_flags(net: np.ndarray, size: np.ndarray, jump_factor: float) -> np.ndarray:
    """Extreme year-on-year jumps, shape (H, T−1): with per-capita incomes ``a = pc[t−1]`` and
    ``b = pc[t]`` both > 0, ``b/a ≥ jump_factor`` or ``b/a ≤ 1/jump_factor`` — a possible data
    error, not an outcome. Decided exactly in fen: with ``jump_factor = p/q``,
    ``q·B·n_a ≥ p·A·n_b`` or ``p·B·n_a ≤ q·A·n_b`` (A, B net incomes in fen, n sizes)."""
    p, q = exact.fraction(jump_factor)
    cents = exact.fen(net)
    a, b = cents[:, :-1], cents[:, 1:]
    bn, an = b * size[:, :-1], a * size[:, 1:]  # B·n_a and A·n_b
    return (a > 0) & (b > 0) & ((q * bn >= p * an) | (p * bn <= q * an))
