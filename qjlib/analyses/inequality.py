"""Inequality statistics: the Gini coefficient and its Lerman–Yitzhaki decomposition by source.

General-purpose (no income definitions in it): each unit (a household) counts once, ranks use the
mid-rank CDF (:func:`midrank_cdf`) so ties do not depend on the row order, and covariances are
population covariances (÷ n). :func:`qjlib.analyses.income.summary` applies them to per-capita
income and its per-capita sources (:func:`qjlib.analyses.income.per_capita_sources`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def midrank_cdf(y: np.ndarray | pd.Series) -> np.ndarray:
    """Mid-rank empirical CDF ``F_i = (#{y_j < y_i} + ½·#{y_j = y_i}) / n`` = (mid-rank − ½) / n.

    Tied values share the average of their ranks, so equal incomes get the same F and the Gini does
    not depend on the order of the rows. Mean of F is exactly ½."""
    v = np.asarray(y, dtype=float)
    n = len(v)
    if n == 0:
        return np.empty(0)
    order = np.argsort(v, kind="stable")
    s = v[order]
    first = np.r_[True, s[1:] != s[:-1]]
    starts = np.flatnonzero(first)
    ends = np.r_[starts[1:], n]
    less = np.repeat(starts, ends - starts)
    equal = np.repeat(ends - starts, ends - starts)
    f = np.empty(n)
    f[order] = (less + equal / 2.0) / n
    return f


def _cov(a: np.ndarray, b: np.ndarray) -> float:
    """Population covariance ``mean((a − mean a)·(b − mean b))`` (÷ n, not n − 1)."""
    return float(np.mean((a - a.mean()) * (b - b.mean())))


def gini(y: np.ndarray | pd.Series) -> float:
    """Gini coefficient, plug-in estimator ``G = 2·cov(y, F(y)) / mean(y)`` with F the mid-rank CDF
    (:func:`midrank_cdf`) and the population covariance (÷ n). Equals
    ``Σ_i Σ_j |y_i − y_j| / (2 n² mean(y))``. NaN if mean(y) ≤ 0 or y is empty."""
    v = np.asarray(y, dtype=float)
    if len(v) == 0 or v.mean() <= 0:
        return float("nan")
    return 2.0 * _cov(v, midrank_cdf(v)) / v.mean()


def lerman_yitzhaki(sources: pd.DataFrame) -> pd.DataFrame:
    """Lerman–Yitzhaki (1985) decomposition of the Gini of ``y = Σ_k y_k`` (the row sums of
    ``sources``; each household one unit) by source.

    With F the mid-rank CDF (:func:`midrank_cdf`), covariances over the n units (÷ n):

    * ``share`` S_k = mean(y_k) / mean(y)
    * ``gini`` G_k = 2·cov(y_k, F(y_k)) / mean(y_k) — the source's own Gini
    * ``gini_corr`` R_k = cov(y_k, F(y)) / cov(y_k, F(y_k)) — the Gini correlation with the total
    * ``contribution`` S_k·G_k·R_k = 2·cov(y_k, F(y)) / mean(y); the contributions add up to
      G = 2·cov(y, F(y)) / mean(y) exactly (linearity of the covariance)
    * ``relative`` = contribution / G (NaN when G = 0: everyone has the same income)
    * ``marginal`` = S_k·(G_k·R_k / G − 1) = relative − S_k: the elasticity of G to source k — when
      source k rises by 1 % for everyone, G changes by ``marginal`` % (relative; negative: raising
      it reduces inequality). These add up to 0.

    The last row, ``total``, holds y itself (share 1, gini G, contribution G). G_k and R_k are NaN for
    a source with zero mean or no variation (its contribution is then 0).
    """
    y_k = sources.to_numpy(dtype=float)
    y = y_k.sum(axis=1)
    mu = y.mean() if len(y) else float("nan")
    f = midrank_cdf(y)
    g_total = 2.0 * _cov(y, f) / mu if len(y) else float("nan")
    rows = []
    for j, name in enumerate(sources.columns):  # one pass per source, not per household
        v = y_k[:, j]
        cov_own = _cov(v, midrank_cdf(v))
        cov_tot = _cov(v, f)
        mean_k = v.mean()
        contribution = 2.0 * cov_tot / mu
        relative = contribution / g_total if g_total != 0 else np.nan
        rows.append({
            "source": name,
            "share": mean_k / mu,
            "gini": 2.0 * cov_own / mean_k if mean_k != 0 else np.nan,
            "gini_corr": cov_tot / cov_own if cov_own != 0 else np.nan,
            "contribution": contribution,
            "relative": relative,
            "marginal": relative - mean_k / mu,
        })
    rows.append({"source": "total", "share": 1.0, "gini": g_total, "gini_corr": 1.0,
                 "contribution": g_total, "relative": 1.0, "marginal": 0.0})
    return pd.DataFrame(rows).set_index("source")
