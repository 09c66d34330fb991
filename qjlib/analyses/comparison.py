"""Comparing many units fairly — helper cadres today, departments or towns tomorrow: covariate
adjustment by OLS, empirical-Bayes shrinkage, over-dispersed funnel-plot limits, a composite of
standardised components and its rank intervals. Pure functions on arrays and frames.

Empirical Bayes, for groups ``h`` (e.g. helpers) with ``n_h`` observations and mean ``x̄_h``::

    σ²  = Σ_h Σ_i (x_hi − x̄_h)² / (N − H)                  (pooled within-group variance)
    w_h = n_h / σ²,  μ = Σ n_h x̄_h / N                       (grand mean of all observations)
    Q   = Σ w_h (x̄_h − μ)²
    τ²  = max(0, (Q − (H − 1)) / (Σ w − Σ w² / Σ w))        (method of moments, DerSimonian–Laird)
    λ_h = τ² / (τ² + σ²/n_h)                                  (reliability)
    shrunk_h = μ + λ_h (x̄_h − μ),  posterior SD_h = √(λ_h σ²/n_h)

A group with few observations is pulled towards the mean. Without within-group replication
(``N = H``) σ² cannot be estimated: the means are left unshrunk (λ = 1), posterior SD unknown.
Funnel limits ``μ ± z_p √(σ²/n + τ²_w)`` allow for over-dispersion by additive random effects
(Spiegelhalter 2005, Qual Saf Health Care 14:347), ``τ²_w`` from winsorised z-scores
(:func:`between_variance`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

ZERO_VARIANCE = 1e-12  # σ² below this share of the values' mean square is float dust: σ² = 0


def design_matrix(obs: pd.DataFrame, numeric: Sequence[str],
                  categorical: Sequence[str]) -> pd.DataFrame:
    """The regression's design: an intercept; each numeric covariate, a missing value replaced
    by the column mean with a 0/1 ``<col>_missing`` indicator (only when something is missing);
    each categorical as dummies with the first level (sorted) dropped, a missing value as its
    own level ``未知``."""
    parts = [pd.Series(1.0, index=obs.index, name="const")]
    for c in numeric:
        if c not in obs.columns:
            continue
        x = obs[c].astype(float)
        if x.isna().all():
            continue
        if x.isna().any():
            parts.append(x.isna().astype(float).rename(f"{c}_missing"))
            x = x.fillna(x.mean())
        parts.append(x.rename(c))
    for c in categorical:
        if c not in obs.columns:
            continue
        lev = obs[c].astype("str").fillna("未知")
        d = pd.get_dummies(lev, prefix=c, drop_first=True, dtype=float)
        parts.append(d)
    return pd.concat(parts, axis=1)


def residuals(obs: pd.DataFrame, numeric: Sequence[str],
              categorical: Sequence[str]) -> pd.Series:
    """OLS residuals of ``y`` on :func:`design_matrix` (``numpy.linalg.lstsq``, minimum-norm
    solution when columns are collinear): ``y − Xβ̂`` in log points, mean 0 by construction."""
    if obs.empty:
        return pd.Series(dtype=float, index=obs.index, name="residual")
    X = design_matrix(obs, numeric, categorical)
    y = obs["y"].to_numpy(float)
    beta, *_ = np.linalg.lstsq(X.to_numpy(float), y, rcond=None)
    return pd.Series(y - X.to_numpy(float) @ beta, index=obs.index, name="residual")


def eb_shrink(mean: Any, n: Any, mu: float, sigma2: float,
              tau2: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Normal–normal empirical-Bayes shrinkage of group means.

    ``λ = τ² / (τ² + σ²/n)``, ``shrunk = μ + λ (x̄ − μ)``, ``posterior SD = √(λ σ²/n)``.
    Returns ``(λ, shrunk, posterior SD)`` as arrays. The edges, each explicit:

    - ``σ² = 0`` (every group's repeated values identical): the means are exact — λ = 1,
      ``shrunk = x̄``, posterior SD 0 (whatever τ²);
    - ``τ² = 0 < σ²`` (no spread between groups beyond noise): λ = 0, everyone at μ, SD 0;
    - ``σ²`` unknown (NaN: one value per group, σ² not identified): λ = 1 (nothing to shrink
      with) and the posterior SD NaN — the caller says what uncertainty to use
      (:func:`shrink_means` gives an upper bound).
    """
    mean = np.asarray(mean, float)
    n = np.asarray(n, float)
    if not np.isfinite(sigma2):
        return np.ones_like(mean), mean.copy(), np.full_like(mean, np.nan)
    if sigma2 <= 0:
        return np.ones_like(mean), mean.copy(), np.zeros_like(mean)
    v = sigma2 / n
    lam = np.where(tau2 + v > 0, tau2 / np.where(tau2 + v > 0, tau2 + v, 1.0), 0.0)
    return lam, mu + lam * (mean - mu), np.sqrt(lam * v)


def between_variance(mean: Any, n: Any, sigma2: float, mu: float,
                     winsor: float | None = None) -> tuple[float, float]:
    """Between-group variance ``τ²`` by the method of moments, and the dispersion ``φ``.

    ``z_h = (x̄_h − μ) / √(σ²/n_h)`` (winsorised at the ``winsor`` and ``1 − winsor`` quantiles
    when given — Spiegelhalter 2005), ``φ = mean(z²)``, ``w_h = n_h/σ²``,
    ``τ² = max(0, (H φ − (H − 1)) / (Σ w − Σ w²/Σ w))``. Without winsorising ``H φ`` is the
    Cochran Q of DerSimonian–Laird. Returns ``(τ², φ)``; NaN when σ² is unknown or H < 2.
    With ``σ² = 0`` the means are exact: ``τ²`` is their sample variance (ddof 1) and ``φ`` NaN."""
    mean = np.asarray(mean, float)
    n = np.asarray(n, float)
    H = mean.size
    if H < 2 or not np.isfinite(sigma2):
        return np.nan, np.nan
    if sigma2 <= 0:
        return float(np.var(mean, ddof=1)), np.nan
    z = (mean - mu) / np.sqrt(sigma2 / n)
    if winsor:
        lo, hi = np.quantile(z, [winsor, 1 - winsor])
        z = np.clip(z, lo, hi)
    phi = float(np.mean(z**2))
    w = n / sigma2
    denom = w.sum() - (w**2).sum() / w.sum()
    tau2 = max(0.0, (H * phi - (H - 1)) / denom) if denom > 0 else 0.0
    return float(tau2), phi


def shrink_means(values: pd.Series, groups: pd.Series) -> tuple[pd.DataFrame, dict]:
    """Empirical-Bayes shrunk mean of ``values`` per group (the module docstring's formulas).

    Returns a frame indexed by group (sorted) with ``n, mean, reliability, shrunk, post_sd``
    and the estimates ``{"mu", "sigma2", "tau2", "groups", "obs"}``; σ² is the pooled
    within-group variance ``Σ (x − x̄_g)² / (N − H)`` (NaN when N = H), taken as 0 when it is
    below :data:`ZERO_VARIANCE` of the values' mean square (identical repeated values).

    Edges (see :func:`eb_shrink`): σ² = 0 leaves the exact means unshrunk with SD 0. With one
    value per group (N = H) σ² is not identified: the means are left unshrunk and their
    posterior SD is the upper bound ``sd(x)`` (sample SD across groups: with one value each,
    ``var(x) = τ² + σ² ≥ σ²``), so rank intervals are too wide rather than too narrow; the
    estimates then carry ``"sd_bound": True``.
    """
    d = pd.DataFrame({"g": groups.to_numpy(), "x": values.to_numpy(float)}).dropna()
    g = d.groupby("g")["x"]
    res = pd.DataFrame({"n": g.size(), "mean": g.mean()}).sort_index()
    N, H = len(d), len(res)
    if N == 0:
        res = res.assign(reliability=np.nan, shrunk=np.nan, post_sd=np.nan)
        return res, {"mu": np.nan, "sigma2": np.nan, "tau2": np.nan, "groups": 0, "obs": 0}
    ss = float(((d["x"] - g.transform("mean")) ** 2).sum())
    sigma2 = ss / (N - H) if N > H else np.nan
    if sigma2 <= ZERO_VARIANCE * max(float((d["x"] ** 2).mean()), 1.0):
        sigma2 = 0.0
    mu = float(d["x"].mean())
    tau2, _ = between_variance(res["mean"], res["n"], sigma2, mu)
    if not np.isfinite(tau2) and np.isfinite(sigma2):
        tau2 = 0.0
    lam, shrunk, sd = eb_shrink(res["mean"], res["n"], mu, sigma2, tau2)
    est = {"mu": mu, "sigma2": sigma2, "tau2": tau2, "groups": H, "obs": N}
    if not np.isfinite(sigma2) and H > 1:
        sd = np.full(H, float(res["mean"].std(ddof=1)))
        est["sd_bound"] = True
    res["reliability"], res["shrunk"], res["post_sd"] = lam, shrunk, sd
    return res, est


def funnel_limits(n: Any, mu: float, sigma2: float, tau2: float,
                  level: float) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided funnel-plot control limits for a group mean of ``n`` observations:
    ``μ ± z_{(1+level)/2} √(σ²/n + τ²)`` — additive random-effects over-dispersion
    (Spiegelhalter 2005); ``τ² = 0`` gives the plain limits."""
    n = np.asarray(n, float)
    z = stats.norm.ppf((1 + level) / 2)
    half = z * np.sqrt(sigma2 / n + tau2)
    return mu - half, mu + half


Scales = dict[str, tuple[float, float]]


def component_scales(shrunk: pd.DataFrame, estimates: dict[str, dict] | None = None) -> Scales:
    """Centre and scale of each component for the composite: ``(μ_c, τ_c)`` — the grand mean and
    the between-helper SD √τ² of the component's true values — when ``estimates`` give them
    (σ² known); else the mean and population SD of the column across helpers. On the τ scale a
    component measured with little reliability spreads little and so moves the composite little:
    the composite is then the posterior mean of ``Σ w_c θ_c/τ_c``."""
    out: Scales = {}
    for c in shrunk.columns:
        e = (estimates or {}).get(c, {})
        if np.isfinite(e.get("sigma2", np.nan)) and np.isfinite(e.get("tau2", np.nan)):
            out[c] = (float(e["mu"]), float(np.sqrt(e["tau2"])))
        else:
            col = shrunk[c].astype(float)
            out[c] = (float(col.mean()), float(col.std(ddof=0)))
    return out


def composite_scores(shrunk: pd.DataFrame, weights: dict[str, float],
                     scales: Scales | None = None) -> pd.Series:
    """Weighted mean of the z-scored components (columns of ``shrunk``, one row per helper):
    ``z_c = (s_c − centre_c) / scale_c`` with :func:`component_scales` (default: the column's
    mean and population SD), ``composite = Σ_c w_c z_c / Σ_c w_c`` over the components the helper
    has (weights renormalised). A component without spread (scale 0) is left out. NaN when the
    helper has no component. Higher is better."""
    z, w = _zscores(shrunk, weights, scales)
    num = (z.fillna(0.0) * w).sum(axis=1)
    den = (z.notna() * w).sum(axis=1)
    return (num / den.where(den > 0)).rename("composite")


def _zscores(shrunk: pd.DataFrame, weights: dict[str, float],
             scales: Scales | None) -> tuple[pd.DataFrame, pd.Series]:
    """z-scores of the weighted components present. A component without spread (scale 0 or
    unknown: every helper alike, or τ² = 0) tells helpers apart in nothing: it is left out, and
    the weights are renormalised over the others (it does not pull every composite to 0)."""
    cols = [c for c in shrunk.columns if weights.get(c, 0) > 0 and shrunk[c].notna().any()]
    sc = component_scales(shrunk[cols]) if scales is None else scales
    cols = [c for c in cols if np.isfinite(sc[c][1]) and sc[c][1] > 0]
    s = shrunk[cols].astype(float)
    centre = pd.Series({c: sc[c][0] for c in cols}, dtype=float)
    scale = pd.Series({c: sc[c][1] for c in cols}, dtype=float)
    z = (s - centre) / scale
    return z.where(s.notna()), pd.Series({c: float(weights[c]) for c in cols}, dtype=float)


def rank_intervals(shrunk: pd.DataFrame, post_sd: pd.DataFrame, weights: dict[str, float],
                   draws: int, seed: int, level: float,
                   scales: Scales | None = None) -> pd.DataFrame:
    """Rank of the composite (1 = best, ties share the better rank) and its ``level`` interval
    from ``draws`` simulated posterior draws: per component ``θ ~ N(shrunk, post_sd²)`` (an
    unknown SD — a lone helper — counts as 0), z-scored with the same centres and scales as the point composite
    (:func:`composite_scores`), ranked among helpers with a composite in each draw. Rows of
    ``shrunk`` (helpers) must be sorted; the generator is ``default_rng(seed)``. ``rank`` ranks
    the point composites; the interval describes the simulated ranks, so for a nearly certain
    helper whose noisier neighbours overtake it in most draws it may exclude ``rank``.

    What the intervals ignore: the estimates σ², τ² and μ of :func:`shrink_means` are plugged in
    as if known, so their own uncertainty (large with few helpers or few repeats) is not in the
    interval; with one score per helper the SD is an upper bound instead (wider, not narrower)."""
    z, w = _zscores(shrunk, weights, scales)
    sc = component_scales(shrunk[list(w.index)]) if scales is None else scales
    point = composite_scores(shrunk, weights, scales)
    ok = point.notna().to_numpy()
    out = pd.DataFrame(index=shrunk.index, columns=["rank", "rank_lo", "rank_hi"], dtype="Int64")
    if not ok.any():
        return out
    out.loc[ok, "rank"] = point[ok].rank(ascending=False, method="min").astype("int64")
    rng = np.random.default_rng(seed)
    H = int(ok.sum())
    has = z.notna().to_numpy()[ok]
    den = has.astype(float) @ w.to_numpy()
    comp = np.zeros((draws, H))
    for j, c in enumerate(w.index):  # a loop over the (≤ 4) components, not over helpers
        mean, sd = sc[c]
        if not sd > 0:  # no spread: z = 0 for everyone, nothing to add
            continue
        mu_h = shrunk[c].astype(float).to_numpy()[ok]
        sd_h = np.nan_to_num(post_sd[c].astype(float).to_numpy()[ok], nan=0.0)
        comp += np.where(has[:, j], w.iloc[j] * (mu_h - mean) / sd, 0.0)
        noisy = has[:, j] & (sd_h > 0)
        if noisy.any():
            comp[:, noisy] += rng.standard_normal((draws, int(noisy.sum()))) * (w.iloc[j] * sd_h[noisy] / sd)
    comp /= den
    order = np.argsort(-comp, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.broadcast_to(np.arange(1, H + 1), order.shape), axis=1)
    ranks.sort(axis=0)
    q = (1 - level) / 2
    out.loc[ok, "rank_lo"] = ranks[int(np.floor(q * (draws - 1)))]
    out.loc[ok, "rank_hi"] = ranks[int(np.ceil((1 - q) * (draws - 1)))]
    return out

