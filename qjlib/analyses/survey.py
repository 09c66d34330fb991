"""Rates from a clustered sample (the exit assessment's 三率一度), with intervals that respect the
clustering, a verdict against a threshold, and a sample-size planner (contract/exit.md, "The exit
assessment: 三率一度 with honest uncertainty"). Pure numpy/scipy; no tables, no prose.

**Design.** The sample's units are households grouped in villages, the primary sampling units
(clusters). Household i of village c has a count ``y_i`` found (persons of a wrongly exited
household; 1 for a household that approves) out of ``n_i`` elements (its persons; 1 for
approval). The sample is taken self-weighting (the contract gives no sampling weights) and the
villages are few out of many, so no finite-population correction is applied (the contract asks
for none; leaving it out errs on the safe side).

**Estimator** (ratio of totals; k = number of villages with at least one element)::

    p̂ = Σ y / Σ n                                   (found ÷ elements)
    v(p̂) = k/(k−1) · Σ_c (y_c − p̂ n_c)² / (Σ n)²    (linearised / Taylor variance; y_c, n_c the
                                                     village totals; villages as PSUs)
    deff = max(1, v(p̂) / (p̂(1−p̂) / Σ n))           (ratio to simple random sampling of elements)
    n_eff = Σ n / deff                               (effective sample size, elements)

``deff`` cannot be estimated when nothing or everything is found (every residual y_c − p̂ n_c is
0, so v = 0 and the ratio is 0/0: the sample says nothing about the spread between villages) or
when there is one village (k/(k−1) is undefined); the contract then takes ``exit.assumed_deff``
(2.0 by default) rather than 1, because a sample with nothing found is exactly the one whose
interval must not be made narrower by ignoring the clustering. A ``deff`` below 1 (villages more
alike than chance) is raised to 1 (contract: "at least 1"), never narrowing an interval below
the binomial one.

**Interval** (level 1 − α, z = Φ⁻¹(1 − α/2)): Wilson's score interval on the effective sample,
with the effective count x = p̂ · n*, where n* = n_eff · (z / t_{k−1})² is the effective sample
with Korn & Graubard's degrees-of-freedom factor (1998, "Confidence intervals for proportions
with small expected number of positive counts estimated from survey data", Survey Methodology
24:193–201; 0.918 at k = 30; applied with an assumed deff too when k ≥ 2; 1 when k = 1)::

    centre = (p̂ + z²/(2 n*)) / (1 + z²/n*)
    half   = z / (1 + z²/n*) · √(p̂(1−p̂)/n* + z²/(4 n*²))

and, when p̂ is exactly 0 or 1, Clopper–Pearson's (scipy's beta quantiles, on n*)::

    p̂ = 0: [0, B⁻¹(1 − α/2; 1, n*)] = [0, 1 − (α/2)^(1/n*)]
    p̂ = 1: [B⁻¹(α/2; n*, 1), 1]   = [(α/2)^(1/n*), 1]

Why the factor: v(p̂) is estimated from only k villages (k − 1 degrees of freedom) and, for a
rare event, from the few villages where anything was found, so it is noisy and low exactly when
p̂ is low. In the simulation below, Wilson on n_eff alone covered the truth 92.5 %, 93.2 % and
93.7 % of the time at 1 %, 2 % and 10 % (the truth above the upper bound 4 % of the time
instead of 2.5 %); with the factor, 94.0 %, 94.3 % and 94.9 % on average over twelve simulated
counties. The factor does not touch ``deff`` or ``n_eff``, which stay as the contract defines
them.

(Wilson's interval is the inversion of the score test, so its bound lies on the right side of a
threshold t exactly when ``(t − p̂)² · n* ≥ z² t(1−t)`` with p̂ on t's right side — the planner
below uses the same relation, so a planned sample and the verdict agree.)

The simulation in ``tests/unit/test_survey.py`` (30 of 300 villages drawn with probability
proportional to size, 35–65 households each, about 1,500; village rates from a beta distribution
with intra-class correlation 0.02, deff ≈ 1.8–1.9) finds these intervals covering the true rate
about 94–95 % of the time at 1 %, 2 % and 10 %, where Wilson's on the raw n covers only 83–84 %.
The remaining shortfall at 1 % is on the upper side (the truth above the bound ~3.5 % of the
time): with so few positive villages the between-village variance is underestimated, and more so
with stronger clustering (intra-class correlation 0.05, deff ≈ 2.5: coverage 92 % at 1 %). Such
a sample needs more villages, not more households per village.

Thresholds, the confidence level and the assumed design effect are arguments, read from
``params/standards.yaml`` (``exit.*``) by the caller; the functions hard-code none of them.

A library earns its place only where it does something well: scipy's ``stats.beta`` for the
Clopper–Pearson quantiles and ``stats.norm``/``stats.t``/``stats.binom`` for z, t and the exact
check of the planner. statsmodels is not used: its ``proportion_confint`` would replace only the
three lines of Wilson's formula (stated above anyway), and the clustered variance, the design
effect and the degrees-of-freedom factor are not in it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from qjlib.core.errors import QjError
from qjlib.core.exact import fraction

Array = np.ndarray

MET, NOT_MET, UNDECIDED = "met", "not_met", "undecided"
WILSON, CLOPPER_PEARSON = "wilson", "clopper-pearson"


class SurveyError(QjError):
    """A sample that cannot give a rate (nothing to count, a count above its total, ...)."""


def z_value(level: float) -> float:
    """z = Φ⁻¹(1 − α/2) for a two-sided interval of level 1 − α (1.959964 at 0.95)."""
    if not 0 < level < 1:
        raise SurveyError(f"置信水平应在 0 与 1 之间：{level} / level must lie in (0, 1): {level}")
    return float(stats.norm.ppf(0.5 + level / 2))


# --------------------------------------------------------------------------------------------
# Intervals (vectorised over any shape)
# --------------------------------------------------------------------------------------------

def wilson_interval(rate: Any, n: Any, level: float = 0.95) -> tuple[Array, Array]:
    """Wilson's score interval for a proportion ``rate`` observed on ``n`` (> 0, may be
    non-integer: an effective sample size), level ``level``. Formula in the module docstring;
    returns ``(low, high)`` clipped to [0, 1]."""
    p, n = np.asarray(rate, dtype=float), np.asarray(n, dtype=float)
    z2 = z_value(level) ** 2
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = np.sqrt(z2) / denom * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def clopper_pearson_interval(count: Any, n: Any, level: float = 0.95) -> tuple[Array, Array]:
    """Clopper–Pearson's interval for ``count`` found of ``n`` (both may be non-integer, e.g.
    p̂ · n_eff of n_eff): ``low = B⁻¹(α/2; x, n − x + 1)`` (0 when x = 0), ``high = B⁻¹(1 − α/2;
    x + 1, n − x)`` (1 when x = n), B⁻¹ the beta quantile (scipy.stats.beta.ppf)."""
    x, n = np.asarray(count, dtype=float), np.asarray(n, dtype=float)
    a = 1 - level
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(x <= 0, 0.0, stats.beta.ppf(a / 2, np.maximum(x, 1e-300), n - x + 1))
        high = np.where(x >= n, 1.0, stats.beta.ppf(1 - a / 2, x + 1, np.maximum(n - x, 1e-300)))
    return low, high


# --------------------------------------------------------------------------------------------
# The clustered ratio estimator
# --------------------------------------------------------------------------------------------

class ClusteredRates(NamedTuple):
    """Vectorised results, one entry per sample (arrays of the samples' shape)."""

    rate: Array  #: p̂ = Σ y / Σ n
    found: Array  #: Σ y
    total: Array  #: Σ n (elements)
    clusters: Array  #: k, villages with at least one element
    variance: Array  #: linearised v(p̂); NaN when it cannot be estimated
    deff: Array  #: design effect used (≥ 1; the assumed one where not estimable)
    estimated: Array  #: bool, deff estimated from the sample (not assumed)
    n_eff: Array  #: Σ n / deff
    n_interval: Array  #: n_eff · (z / t_{k−1})², the size the interval is computed on
    low: Array  #: lower bound
    high: Array  #: upper bound
    exact: Array  #: bool, Clopper–Pearson (p̂ ∈ {0, 1}) rather than Wilson


def clustered_rates(found_c: Any, total_c: Any, *, level: float,
                    assumed_deff: float) -> ClusteredRates:
    """The ratio estimator, its linearised variance, design effect, effective sample size and
    interval for many samples at once (formulas in the module docstring).

    ``found_c``, ``total_c``: cluster totals y_c, n_c, shape ``(..., k_max)`` — the last axis
    holds one sample's villages; a village with n_c = 0 (padding) does not count in k. Every
    sample needs Σ n > 0. ``assumed_deff`` is taken where the design effect cannot be estimated
    (p̂ ∈ {0, 1}, or one village)."""
    y, n = np.asarray(found_c, dtype=float), np.asarray(total_c, dtype=float)
    if y.shape != n.shape or y.ndim == 0:
        raise SurveyError("检出数与总数的形状不一致 / found and total must have one shape")
    if not (np.isfinite(y).all() and np.isfinite(n).all()) or (y < 0).any() or (y > n).any():
        raise SurveyError("检出数应在 0 与总数之间且非空 / need 0 ≤ found ≤ total, no blanks")
    if assumed_deff < 1:
        raise SurveyError(f"假定设计效应应 ≥ 1：{assumed_deff} / assumed deff must be ≥ 1")
    found, total = y.sum(axis=-1), n.sum(axis=-1)
    if (total <= 0).any():
        raise SurveyError("样本为空（总数为 0），无法估计比率 / empty sample: no elements to count")
    p = found / total
    k = (n > 0).sum(axis=-1)
    resid2 = ((y - p[..., None] * n) ** 2).sum(axis=-1)
    edge = (found == 0) | (found == total)
    ok = (k > 1) & ~edge
    with np.errstate(invalid="ignore", divide="ignore"):
        var = np.where(ok, k / (k - 1) * resid2 / total**2, np.nan)
        deff = np.where(ok, np.maximum(1.0, var / (p * (1 - p) / total)), float(assumed_deff))
    n_eff = total / deff
    n_int = n_eff * df_factor(k, level)
    wl, wh = wilson_interval(p, n_int, level)
    cl, ch = clopper_pearson_interval(p * n_int, n_int, level)
    return ClusteredRates(p, found, total, k, var, deff, ok, n_eff, n_int,
                          np.where(edge, cl, wl), np.where(edge, ch, wh), edge)


def df_factor(clusters: Any, level: float) -> Array:
    """Korn & Graubard's degrees-of-freedom factor ``(z_{1−α/2} / t_{k−1, 1−α/2})²`` (1 when
    k < 2: no variance is estimated then): the variance comes from k villages, so it has k − 1
    degrees of freedom, and the effective sample is shrunk so that Wilson's z-based interval is
    as wide as a t-based one (0.918 at k = 30)."""
    k = np.asarray(clusters, dtype=float)
    with np.errstate(invalid="ignore"):
        t = stats.t.ppf(0.5 + level / 2, np.maximum(k - 1, 1))
    return np.where(k >= 2, (z_value(level) / t) ** 2, 1.0)


@dataclass(frozen=True)
class RateEstimate:
    """One rate from a clustered sample, with its interval and how it was obtained."""

    rate: float  #: p̂ = found ÷ total
    found: float  #: Σ y (persons, or households for approval)
    total: float  #: Σ n, the denominator
    units: int  #: sampled households
    clusters: int  #: villages (k)
    variance: float  #: linearised variance of p̂ (NaN when not estimable)
    deff: float  #: design effect used
    deff_estimated: bool  #: False when ``exit.assumed_deff`` was used
    n_eff: float  #: effective sample size, total ÷ deff
    n_interval: float  #: n_eff · (z / t_{k−1})², what the interval is computed on
    low: float  #: lower bound of the interval
    high: float  #: upper bound
    level: float  #: the interval's confidence level
    method: str  #: ``"wilson"`` or ``"clopper-pearson"``


def estimate_rate(found: Any, total: Any, cluster: Any, *, level: float,
                  assumed_deff: float) -> RateEstimate:
    """The rate Σ found ÷ Σ total of a sample of households (one entry each: ``found`` y_i,
    ``total`` n_i, ``cluster`` its village), with villages as clusters: estimator, design effect
    and interval of :func:`clustered_rates`. An empty sample (no households, or Σ n = 0) is a
    :class:`SurveyError`."""
    y, n = np.asarray(found, dtype=float).ravel(), np.asarray(total, dtype=float).ravel()
    codes, _ = pd.factorize(pd.Series(np.asarray(cluster, dtype=object).ravel()), use_na_sentinel=False)
    if not (len(y) == len(n) == len(codes)):
        raise SurveyError("检出数、总数、村三列长度不一致 / found, total and cluster differ in length")
    if len(y) == 0:
        raise SurveyError("样本为空，无法估计比率 / empty sample: no households")
    if not (y <= n).all():  # per household (a village total could hide it); NaN fails too
        raise SurveyError("检出数应在 0 与总数之间且非空 / need 0 ≤ found ≤ total, no blanks")
    k = int(codes.max()) + 1
    r = clustered_rates(np.bincount(codes, weights=y, minlength=k),
                        np.bincount(codes, weights=n, minlength=k),
                        level=level, assumed_deff=assumed_deff)
    return RateEstimate(
        rate=float(r.rate), found=float(r.found), total=float(r.total), units=len(y),
        clusters=int(r.clusters), variance=float(r.variance), deff=float(r.deff),
        deff_estimated=bool(r.estimated), n_eff=float(r.n_eff),
        n_interval=float(r.n_interval), low=float(r.low),
        high=float(r.high), level=level, method=CLOPPER_PEARSON if r.exact else WILSON,
    )


# --------------------------------------------------------------------------------------------
# Verdict against a threshold
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Verdict:
    """A rate judged against its threshold."""

    state: str  #: ``"met"``, ``"not_met"`` or ``"undecided"``
    threshold: float
    at_most: bool  #: True for "rate ≤ threshold" (错退率, 漏评率), False for "≥" (认可度)
    extra_households: int | None  #: undecided: more households to decide it (None otherwise,
    #: or when the estimate sits exactly at the threshold and no sample size can decide it)


def judge(est: RateEstimate, threshold: float, *, at_most: bool) -> Verdict:
    """The contract's rule (exit.md): for a maximum (``at_most``: rate ≤ t) **met** when the
    interval's upper bound is ≤ t, **not met** when the point estimate is > t — decided exactly
    as ``q · found > p · total`` with t = p/q (:func:`qjlib.core.exact.fraction`) — else
    **undecided**; for a minimum (认可度 ≥ t) the mirror: met when the lower bound is ≥ t, not met
    when found ÷ total < t. Undecided comes with the extra households that would decide it if
    the rate stayed where it is and the villages were the same: ``⌈deff · n* ÷ f ÷ (total ÷
    units)⌉ − units`` (at least 1), n* from :func:`needed_effective_size`, f the degrees-of-
    freedom factor of the k villages (:func:`df_factor`; households have total ÷ units elements
    on average)."""
    p, q = fraction(threshold)
    t = float(threshold)
    if at_most:
        met, wrong = est.high <= t, q * est.found > p * est.total
    else:
        met, wrong = est.low >= t, q * est.found < p * est.total
    if met:
        return Verdict(MET, t, at_most, None)
    if wrong:
        return Verdict(NOT_MET, t, at_most, None)
    need = needed_effective_size(est.rate, t, level=est.level)
    extra = None
    if math.isfinite(need):
        n_eff = need / float(df_factor(est.clusters, est.level))
        extra = max(1, math.ceil(est.deff * n_eff / (est.total / est.units)) - est.units)
    return Verdict(UNDECIDED, t, at_most, extra)


# --------------------------------------------------------------------------------------------
# Sample sizes
# --------------------------------------------------------------------------------------------

def needed_effective_size(rate: float, threshold: float, *, level: float) -> float:
    """The smallest size n* of the interval (the effective sample times the degrees-of-freedom
    factor) at which an observed ``rate`` puts the bound on its side of ``threshold`` (``inf``
    when rate = threshold):

    - 0 < rate < 1 (Wilson): ``n* = z² t(1−t) / (t − rate)²``;
    - rate = 0 below t (Clopper–Pearson ``1 − (α/2)^(1/n*) ≤ t``): ``n* = ln(α/2) / ln(1−t)``;
      rate = 1 above t (mirror): ``n* = ln(α/2) / ln(t)``."""
    t, r = float(threshold), float(rate)
    if not (0 < t < 1 and 0 <= r <= 1):
        raise SurveyError(f"比率与阈值应在 [0,1] 内且阈值不在端点：{r}, {t} / need 0 ≤ rate ≤ 1, 0 < t < 1")
    if r == t:
        return math.inf
    a = 1 - level
    if r == 0:
        return math.log(a / 2) / math.log(1 - t)
    if r == 1:
        return math.log(a / 2) / math.log(t)
    return z_value(level) ** 2 * t * (1 - t) / (t - r) ** 2


@dataclass(frozen=True)
class SamplePlan:
    """How many households to sample (see :func:`plan_sample_size`)."""

    households: int  #: households to sample, rounded up
    n_eff: float  #: effective sample size needed (elements), n* ÷ df factor
    n_interval: float  #: n*, the size the interval needs
    power: float  #: the target probability of deciding "met"
    exact_power: float  #: that probability by the exact binomial on ⌈n*⌉ elements


def plan_sample_size(rate: float, threshold: float, *, deff: float, level: float,
                     power: float = 0.8, mean_size: float = 1.0,
                     clusters: int | None = None) -> SamplePlan:
    """Households to sample so that a true rate ``rate`` is shown on its side of ``threshold``
    (below a maximum, above a minimum) with probability ``power``, by the verdict's bound (the
    95 % interval's upper bound for a maximum: a one-sided test at α/2 = 2.5 %).

    Normal approximation on the interval's size n* (the effective sample n_eff = n ÷ deff times
    the degrees-of-freedom factor f of ``clusters`` villages, :func:`df_factor`; f = 1 when
    ``clusters`` is None): the bound is on the right side when ``|t − p̂| · √n* ≥ z √(t(1−t))``
    (Wilson = score test), and p̂ ≈ N(r, r(1−r)/n*), so ::

        n* = ( z_{1−α/2} √(t(1−t)) + z_power √(r(1−r)) )² / (t − r)²
        n_eff = n* / f
        households = ⌈ deff · n_eff / mean_size ⌉

    (``mean_size``: elements per household, e.g. persons for 错退率; 1 for 认可度). ``power`` 0.5
    gives the size at which the bound just crosses if the sample shows exactly r; the default
    0.8 leaves one chance in five of an undecided verdict when the truth is r. At r = 0 the
    Clopper–Pearson size of :func:`needed_effective_size` is taken when larger. The result is
    checked by the exact binomial (:func:`exact_power`) on ⌈n*⌉ elements — exact for a simple
    random sample of single-element households (deff = 1, no ``clusters``), otherwise the
    binomial of the effective sample."""
    t, r = float(threshold), float(rate)
    if not (0 < t < 1 and 0 <= r <= 1 and r != t):
        raise SurveyError(f"需 0 ≤ 比率 ≤ 1、0 < 阈值 < 1 且二者不等：{r}, {t} / need rate ≠ threshold in [0,1]")
    if deff < 1 or mean_size <= 0 or not 0 < power < 1:
        raise SurveyError("需 deff ≥ 1、户均人数 > 0、0 < 把握度 < 1 / need deff ≥ 1, mean_size > 0, 0 < power < 1")
    za, zb = z_value(level), float(stats.norm.ppf(power))
    n_int = (za * math.sqrt(t * (1 - t)) + zb * math.sqrt(r * (1 - r))) ** 2 / (t - r) ** 2
    if r in (0.0, 1.0):
        n_int = max(n_int, needed_effective_size(r, t, level=level))
    n_eff = n_int / (1.0 if clusters is None else float(df_factor(clusters, level)))
    # rounded up; a product within 1e-9 of a whole number (float noise) is that number
    households = math.ceil(deff * n_eff / mean_size - 1e-9)
    return SamplePlan(households, n_eff, n_int, power,
                      exact_power(math.ceil(n_int - 1e-9), r, t, level=level))


def exact_power(n: int, rate: float, threshold: float, *, level: float) -> float:
    """P(the verdict's bound is on the right side of ``threshold``) when X ~ Binomial(n, rate)
    is found of n: Σ_x P(X = x) · [bound(x, n) on the right side], the bound being Wilson's, or
    Clopper–Pearson's at x ∈ {0, n} — the interval of :func:`clustered_rates` on a size of n.
    Vectorised over x = 0…n."""
    x = np.arange(int(n) + 1, dtype=float)
    p = x / n
    wl, wh = wilson_interval(p, float(n), level)
    cl, ch = clopper_pearson_interval(x, float(n), level)
    edge = (x == 0) | (x == n)
    low, high = np.where(edge, cl, wl), np.where(edge, ch, wh)
    ok = high <= threshold if rate < threshold else low >= threshold
    return float(stats.binom.pmf(x, int(n), rate)[ok].sum())
