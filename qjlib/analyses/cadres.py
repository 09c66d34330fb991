"""Helper cadres (帮扶责任人): pairing compliance and outcome-based reviews (plan 五.3, 五.5, 五.6;
requirements R7–R9).

The plan asks for a ledger of paired helper cadres checked against the system — no "一帮多", no
poor household without a paired helper, no frequent reassignment — and to stop judging help by
the number of home visits: every household-linked cadre's *results* are to be rated within the
year, combining leaders' comments, villagers' ratings and scored interviews.

This module runs the review for a context and builds the ledgers and the summary; the rules are
pure functions in :mod:`qjlib.analyses.cadres_metrics`, the statistics (shrinkage, funnel, ranks)
in :mod:`qjlib.analyses.comparison`, and what notebook 40 shows in :mod:`qjlib.pages.cadres`.

Compliance (as of the run's as-of date ``A``; all bounds are inclusive unless said otherwise)
----------------------------------------------------------------------------------------------
- **Active pairing**: ``start ≤ A`` and (``end`` blank or ``end ≥ A``). A pairing that ends on the
  as-of date is still active that day; one that starts on it is active already.
- **Unpaired household** (``helper_unpaired``): a household of the households table — *every*
  registered household, exited ones included (the plan: "杜绝出现贫困户无结对帮扶干部", and the
  "摘帽不摘帮扶" rule keeps helpers after exit; the contract: "a registered household with no
  helper paired") — with no active pairing on ``A``.
- **Overloaded helper** (``helper_overloaded``): a helper with more than ``helpers.max_households``
  distinct households in active pairings on ``A``; exactly the limit is allowed.
- **Change** of helper: a pairing of the household whose ``start`` lies in the window
  ``(A − m months, A]``, ``m = helpers.change_window_months`` (12) — strictly after the same day
  ``m`` calendar months before ``A``, up to and including ``A`` — and which is not the household's first pairing ever (its ``start`` is later
  than the household's earliest ``start``; two pairings that both start on the earliest day are
  both "first" — that is an overlap, not a change). Every pairing row counts, including one with
  the same helper as before (the contract's definition). **Frequent change**
  (``helper_frequent_change``): more than ``helpers.max_changes_12m`` changes.
- **Invalid pairing** (``helper_pairing_invalid``): ``end < start``; or two pairings of the same
  household that overlap — the later-starting one starts before the earlier one has ended
  (``start₂ < end₁``, a blank ``end₁`` = still running). A hand-over on the same day
  (``start₂ = end₁``) is not an overlap. Pairings with ``end < start`` are left out of the
  overlap test.
- **Helper registered as poor** (``helper_registered_poor``): a helper whose ID number equals the
  ID number of a registered household's head or of any member.
- **Visits** are a gate, never a score: a helper with at least one active household and no
  visit dated within the as-of date's calendar period of ``helpers.visit_period_months`` (3: the
  quarter; period's first day … ``A``) is flagged ``no_visit``. Without a visits table the gate
  is off.

Outcome-based review (``helper_review``)
----------------------------------------
1. *Outcome of a pairing*: ``y = ln pc[y₁] − ln pc[y₀]`` with ``pc`` the recomputed per-capita
   net income (yuan per person and year), ``y₀`` the year of ``start`` and
   ``y₁ = min(year of end, income year)``; only pairings with ``y₁ > y₀``, both years present
   and both ``pc > 0``. It is regressed by OLS (``numpy.linalg.lstsq``) on the baseline
   ``ln pc[y₀]``, the baseline size, labour capacity, main cause, the share of members aged
   ``helpers.old_age`` (60) or more and under ``helpers.child_age`` (16) in ``y₀``, and fixed effects for town, start year and end year (so a household
   is compared with households of the same town observed over the same years). The residual
   is the pairing's outcome: log points above (+) or below (−) comparable households.
2. *Empirical Bayes* (:mod:`qjlib.analyses.comparison`, where the formulas are): each
   helper's mean outcome is shrunk towards the grand mean by its reliability
   ``λ_h = τ² / (τ² + σ²/n_h)``.
   A helper with few households is pulled towards the mean; one extreme household is not
   enough to top the ranking. Its edges: every helper's repeated values identical (σ² = 0)
   leaves the exact means unshrunk; without within-helper replication (``N = H``) σ² cannot
   be estimated: the means are left unshrunk (λ = 1) with the upper-bound SD ``sd(x)`` in the
   rank simulation; a component without spread between helpers leaves the composite.
3. Villagers' ratings (群众测评), leaders' comments (领导点评) and interview scores (干部访谈) of
   the as-of year (dated 1 January … ``A``) are shrunk the same way, per source.
4. *Composite* (higher is better): each component's shrunk value z-scored on the scale of the
   true between-helper spread, ``z_c = (shrunk_c − μ_c) / τ_c`` (the column's mean and
   population SD when σ² is unknown), weighted by ``helpers.weights``, the weights renormalised
   over the components a helper has: ``composite = Σ w_c z_c / Σ w_c`` — the posterior mean of
   the weighted standardised true performance, so an unreliable component (small λ, little
   spread after shrinking) moves it little. Visits do not enter it.
5. *Funnel plot*: helper mean residual against ``n_h`` with limits
   ``μ ± z_p √(σ²/n_h + τ²_w)`` at p = ``helpers.funnel_warn`` (95 %) and
   ``helpers.flag_limit`` (99.8 %); over-dispersion by **additive random effects**
   (Spiegelhalter 2005, Qual Saf Health Care 14:347): ``τ²_w`` from the z-scores
   ``(x̄_h − μ)/√(σ²/n_h)`` winsorised at ``helpers.funnel_winsor`` in each tail,
   ``φ = mean(z²)``, ``τ²_w = max(0, (H φ − (H − 1)) / (Σ w − Σ w²/Σ w))``. A helper below the
   lower 99.8 % limit is flagged ``below_limit``.
6. *Rank intervals*: ``helpers.rank_draws`` draws from each component's normal posterior
   (``numpy.random.default_rng(helpers.rank_seed)``, helpers sorted by id), composite and rank
   per draw (1 = best), the central ``helpers.rank_level`` interval of the ranks.
7. *Coverage* ("年内将所有联户干部帮扶成效轮评一遍"): a helper is reviewed when any review is
   dated in the as-of year up to ``A``; ``reviewed_share`` = reviewed ÷ household-linked helpers,
   those with a pairing active on some day between 1 January of the as-of year and ``A``
   (summary.json gives both: ``helpers.reviewed`` ÷ ``helpers.helpers_linked``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from qjlib.analyses.cadres_metrics import (
    active_pairings,
    frequent_changes,
    helper_loads,
    invalid_pairings,
    outcome_residuals,
    overloaded_helpers,
    pairing_outcomes,
    registered_poor_helpers,
    unpaired_households,
    visits_in_period,
)
from qjlib.analyses.comparison import (
    Scales,
    between_variance,
    component_scales,
    composite_scores,
    funnel_limits,
    rank_intervals,
    shrink_means,
)
from qjlib.core.context import Context, per_context
from qjlib.core.fmt import json_number
from qjlib.core.ids import isin
from qjlib.core.ledgers import LedgerSpec

log = logging.getLogger(__name__)

SOURCES = ("villagers", "leaders", "interview")
COMPONENTS = ("outcome", *SOURCES)
FLAG_ZH = {
    "below_limit": "帮扶成效低于漏斗图99.8%控制下限",
    "not_reviewed": "年内尚未测评",
    "no_visit": "本季度无走访记录",
}

# What the notebooks reuse of a report run instead of recomputing: the county-wide review
# (a town's notebook shows its helpers against the whole county).
NAME = "helpers"  # its part of summary.json and its key in qjlib.analyses.REGISTRY
NOTEBOOK_RESULTS: dict[str, tuple[str, ...]] = {"review": ("county",)}

#: Each ledger's columns, in order (headers: the schema's and the common labels, else LEDGERS).
COLUMNS: dict[str, tuple[str, ...]] = {
    "helper_unpaired": ("hh_id", "town", "village", "exit_status", "n_pairings", "last_helper_id",
                        "last_start", "last_end", "reason"),
    "helper_overloaded": ("helper_id", "name", "unit", "team", "n_households", "limit", "town",
                          "village", "reason"),
    "helper_frequent_change": ("hh_id", "town", "village", "n_changes", "limit", "helpers",
                               "reason"),
    "helper_pairing_invalid": ("hh_id", "helper_id", "start", "end", "kind", "other_helper_id",
                               "town", "village", "reason"),
    "helper_registered_poor": ("helper_id", "name", "unit", "hh_id", "role", "town", "village",
                               "reason"),
    "helper_review": ("helper_id", "name", "unit", "team", "town", "village", "n_households",
                      "n_outcome", "outcome_mean", "outcome_shrunk", "outcome_sd", "villagers_n",
                      "villagers_shrunk", "leaders_n", "leaders_shrunk", "interview_n",
                      "interview_shrunk", "visits_quarter", "composite", "rank", "rank_lo",
                      "rank_hi", "reviewed", "flag", "reason"),
}

_PLAN = "R7"
_NAME_ZH = {"name": "姓名"}  # `name` has no schema fallback (person or project)
_LOAD_ZH = {"n_households": "在帮户数"}
LEDGERS: dict[str, LedgerSpec] = {
    "helper_unpaired": LedgerSpec(
        "helper_unpaired", "无结对帮扶责任人的贫困户", ("hh_id",),
        {"n_pairings": "历史结对数", "last_helper_id": "最近帮扶责任人编号",
         "last_start": "最近结对开始时间", "last_end": "最近结对结束时间"},
        _PLAN,
    ),
    "helper_overloaded": LedgerSpec(
        "helper_overloaded", "结对户数超过上限的帮扶责任人（一帮多）", ("helper_id",),
        {**_NAME_ZH, **_LOAD_ZH, "limit": "上限户数"},
        _PLAN,
    ),
    "helper_frequent_change": LedgerSpec(
        "helper_frequent_change", "近12个月频繁调换帮扶责任人的贫困户", ("hh_id",),
        {"n_changes": "调换次数", "limit": "上限次数", "helpers": "期间帮扶责任人编号"},
        _PLAN,
    ),
    "helper_pairing_invalid": LedgerSpec(
        "helper_pairing_invalid", "结对关系日期有误（重叠或结束早于开始）", ("hh_id", "helper_id", "start"),
        {"kind": "问题类型", "other_helper_id": "重叠的帮扶责任人编号"},  # kind: not the visits' 走访类型
        _PLAN,
    ),
    "helper_registered_poor": LedgerSpec(
        "helper_registered_poor", "本人为建档立卡贫困人口的帮扶责任人", ("helper_id", "hh_id"),
        {**_NAME_ZH, "role": "在户身份"},
        _PLAN,
    ),
    "helper_review": LedgerSpec(
        "helper_review", "帮扶责任人帮扶成效评价", ("helper_id",),
        {**_NAME_ZH, **_LOAD_ZH, "n_outcome": "成效观测户数", "outcome_mean": "成效均值（对数点）",
         "outcome_shrunk": "成效收缩估计", "outcome_sd": "成效后验标准差",
         "villagers_n": "群众测评次数", "villagers_shrunk": "群众测评收缩得分",
         "leaders_n": "领导点评次数", "leaders_shrunk": "领导点评收缩得分",
         "interview_n": "访谈评分次数", "interview_shrunk": "访谈收缩得分",
         "visits_quarter": "本季度走访次数", "composite": "综合得分", "rank": "排名",
         "rank_lo": "排名区间下限", "rank_hi": "排名区间上限", "reviewed": "年内已测评",
         "flag": "标记"},
        "R8, R9",
    ),
}


# --------------------------------------------------------------------------------------------
# The run: ledgers, review and summary figures for a Context
# --------------------------------------------------------------------------------------------

def _get(ctx: Context, name: str) -> pd.DataFrame | None:
    return ctx.pkg[name] if ctx.pkg.has(name) else None


def _empty(name: str) -> pd.DataFrame:
    return pd.DataFrame(columns=list(COLUMNS[name]))


def _joined(frame: pd.DataFrame, key: str, col: str) -> pd.Series:
    """The distinct non-blank values of ``col`` per ``key``, sorted and joined with "、"."""
    d = frame[[key, col]].dropna().drop_duplicates().sort_values([key, col])
    if d.empty:
        return pd.Series(dtype="str", name=col, index=pd.Index([], dtype="str", name=key))
    wide = d.assign(_k=d.groupby(key).cumcount()).pivot_table(
        index=key, columns="_k", values=col, aggfunc="first")
    out = wide[0].astype("str")
    for k in wide.columns[1:]:  # a loop over the few positions, not over helpers
        nxt = wide[k].astype("str")
        out = out.where(nxt.isna(), out + "、" + nxt)
    return out.rename(col)


def helper_places(pairings: pd.DataFrame, households: pd.DataFrame,
                  asof: pd.Timestamp) -> pd.DataFrame:
    """Towns and villages of each helper's households (joined with "、"): those of the active
    pairings on ``asof``, or of all the helper's pairings when none is active."""
    act = active_pairings(pairings, asof)
    has_active = pairings.loc[act, "helper_id"].unique()
    use = pairings[act | ~isin(pairings["helper_id"], has_active)][["helper_id", "hh_id"]]
    j = use.merge(households[["hh_id", "town", "village"]], on="hh_id")
    return pd.DataFrame({"town": _joined(j, "helper_id", "town"),
                         "village": _joined(j, "helper_id", "village")})


def compliance(ctx: Context) -> dict[str, pd.DataFrame]:
    """The compliance ledgers of the run: ``helper_unpaired``, ``helper_overloaded``,
    ``helper_frequent_change``, ``helper_pairing_invalid``, ``helper_registered_poor``
    (empty, with their columns, when the pairings table is missing)."""
    names = ("helper_unpaired", "helper_overloaded", "helper_frequent_change",
             "helper_pairing_invalid", "helper_registered_poor")
    out = {n: _empty(n) for n in names}
    hh, pr = ctx.pkg["households"], _get(ctx, "pairings")
    hp, mem = _get(ctx, "helpers"), _get(ctx, "members")
    if hp is not None and "id_number" in hp.columns:
        poor = registered_poor_helpers(hp, hh, mem)
        poor = poor.merge(hh[["hh_id", "town", "village"]], on="hh_id", how="left")
        poor = poor.merge(hp[[c for c in ("helper_id", "name", "unit") if c in hp.columns]],
                          on="helper_id", how="left")
        out["helper_registered_poor"] = poor.reindex(columns=out["helper_registered_poor"].columns)
    if pr is None:
        return out
    asof = ctx.asof
    limit = int(ctx.params.get("helpers.max_households"))
    changes = int(ctx.params.get("helpers.max_changes_12m"))
    months = int(ctx.params.get("helpers.change_window_months"))
    out["helper_unpaired"] = unpaired_households(hh, pr, asof).reindex(
        columns=out["helper_unpaired"].columns)
    places = hh[["hh_id", "town", "village"]]
    fc = frequent_changes(pr, asof, changes, months).merge(places, on="hh_id", how="left")
    out["helper_frequent_change"] = fc.reindex(columns=out["helper_frequent_change"].columns)
    inv = invalid_pairings(pr).merge(places, on="hh_id", how="left")
    out["helper_pairing_invalid"] = inv.reindex(columns=out["helper_pairing_invalid"].columns)
    ov = overloaded_helpers(pr, asof, limit)
    ov = ov.join(helper_places(pr[isin(pr["helper_id"], ov["helper_id"])], hh, asof), on="helper_id")
    if hp is not None:
        ov = ov.merge(hp[[c for c in ("helper_id", "name", "unit", "team") if c in hp.columns]],
                      on="helper_id", how="left")
    out["helper_overloaded"] = ov.reindex(columns=out["helper_overloaded"].columns)
    return out


@dataclass(frozen=True)
class Review:
    """What :func:`review` computes: the ``helper_review`` ledger, the estimates behind it
    (per component: ``mu, sigma2, tau2, groups, obs``; the outcome also ``tau2_funnel`` and
    ``phi``), the funnel points (``helper_id, n, mean`` and the limits at ``n``) and the
    pairing-level outcomes with their ``residual``."""

    table: pd.DataFrame
    estimates: dict[str, dict]
    funnel: pd.DataFrame
    outcomes: pd.DataFrame
    levels: tuple[float, float]


def _helper_index(hp: pd.DataFrame | None, pr: pd.DataFrame | None) -> pd.Index:
    ids = [] if hp is None else [hp["helper_id"]]
    if pr is not None:
        ids.append(pr["helper_id"])
    if not ids:
        return pd.Index([], dtype="str", name="helper_id")
    return pd.Index(pd.concat(ids).dropna().unique(), name="helper_id").sort_values()


def this_year_reviews(reviews: pd.DataFrame, asof: pd.Timestamp) -> pd.DataFrame:
    """Reviews dated from 1 January of the as-of year up to and including ``asof``."""
    d = reviews["date"]
    return reviews[(d.dt.year == pd.Timestamp(asof).year) & (d <= asof)]


def linked_helpers(pairings: pd.DataFrame, asof: pd.Timestamp) -> pd.Index:
    """Household-linked helpers of the year (联户干部): with a pairing active on some day between
    1 January of the as-of year and ``asof`` (``start ≤ asof`` and ``end`` blank or ≥ 1 January)."""
    jan1 = pd.Timestamp(year=pd.Timestamp(asof).year, month=1, day=1)
    m = (pairings["start"] <= asof) & (pairings["end"].isna() | (pairings["end"] >= jan1))
    return pd.Index(pairings.loc[m, "helper_id"].unique()).sort_values()


def helper_gates(ctx: Context) -> pd.DataFrame:
    """The per-helper facts that need no comparison, indexed by ``helper_id`` (sorted; the
    helpers table and every helper of the pairings): ``n_households`` (active on the as-of
    date), ``linked`` (:func:`linked_helpers`), ``visits_quarter`` (NA without a visits table),
    ``reviewed`` (any review this year; NA without a reviews table), ``not_reviewed`` (linked
    and not reviewed) and ``no_visit`` (active households and no visit this quarter)."""
    asof = ctx.asof
    hp, pr, vis, rev = (_get(ctx, t) for t in ("helpers", "pairings", "visits", "reviews"))
    idx = _helper_index(hp, pr)
    g = pd.DataFrame(index=idx)
    n = helper_loads(pr, asof) if pr is not None else pd.Series(dtype="int64")
    g["n_households"] = n.reindex(idx).fillna(0).astype("Int64")
    g["linked"] = isin(idx, linked_helpers(pr, asof)) if pr is not None else False
    months = int(ctx.params.get("helpers.visit_period_months"))
    g["visits_quarter"] = (visits_in_period(vis, asof, months).reindex(idx).fillna(0).astype("Int64")
                           if vis is not None else pd.Series(pd.NA, index=idx, dtype="Int64"))
    g["reviewed"] = (pd.Series(isin(idx, this_year_reviews(rev, asof)["helper_id"]), index=idx)
                     if rev is not None else pd.Series(pd.NA, index=idx, dtype="boolean"))
    g["not_reviewed"] = (g["linked"] & ~g["reviewed"]).fillna(False).astype(bool)
    g["no_visit"] = (g["n_households"].gt(0) & g["visits_quarter"].eq(0)).fillna(False).astype(bool)
    return g


def _outcome_step(ctx: Context, pr: pd.DataFrame, inc: pd.DataFrame,
                  levels: tuple[float, float]) -> tuple[pd.DataFrame, dict, pd.DataFrame, pd.DataFrame]:
    """Steps 1, 2 and 5 for the outcome: the pairings' residuals, their shrunk mean per helper
    (``n, mean, reliability, shrunk, post_sd``), the estimates (with ``tau2_funnel`` and ``phi``),
    the funnel points with their limits at each of ``levels`` and the pairing-level outcomes."""
    P = ctx.params
    ages = (int(P.get("helpers.old_age")), int(P.get("helpers.child_age")))
    outcomes = pairing_outcomes(pr, inc, ctx.pkg["households"], _get(ctx, "members"),
                                ctx.income_year, ctx.asof, ages)
    outcomes["residual"] = outcome_residuals(outcomes)
    res, est = shrink_means(outcomes["residual"], outcomes["helper_id"])
    tau2_f, phi = between_variance(res["mean"], res["n"], est["sigma2"], est["mu"],
                                   winsor=float(P.get("helpers.funnel_winsor")))
    est.update(tau2_funnel=tau2_f, phi=phi)
    funnel = res[["n", "mean"]].rename_axis("helper_id").reset_index()
    for lev, tag in zip(levels, ("warn", "flag"), strict=True):
        lo, hi = funnel_limits(funnel["n"], est["mu"], est["sigma2"],
                               0.0 if not np.isfinite(tau2_f) else tau2_f, lev)
        funnel[f"lo_{tag}"], funnel[f"hi_{tag}"] = lo, hi
    return res, est, funnel, outcomes


def _composite_step(ctx: Context, shrunk: pd.DataFrame, post_sd: pd.DataFrame,
                    estimates: dict[str, dict]) -> pd.DataFrame:
    """Steps 4 and 6: ``composite``, ``rank``, ``rank_lo``, ``rank_hi`` per helper."""
    P = ctx.params
    weights = {k: float(v) for k, v in P.get("helpers.weights").items()}
    scales: Scales = component_scales(shrunk, estimates)
    out = composite_scores(shrunk, weights, scales).to_frame()
    return out.join(rank_intervals(shrunk, post_sd, weights, int(P.get("helpers.rank_draws")),
                                   int(P.get("helpers.rank_seed")),
                                   float(P.get("helpers.rank_level")), scales))


def _flags(gates: pd.DataFrame, funnel: pd.DataFrame) -> pd.DataFrame:
    """Per helper: ``below_limit`` (funnel mean below the flag limit), ``not_reviewed``,
    ``no_visit`` (from :func:`helper_gates`)."""
    idx = gates.index
    below = pd.Series(False, index=idx)
    if "lo_flag" in funnel.columns:
        below = (funnel.set_index("helper_id").eval("mean < lo_flag")).reindex(idx, fill_value=False)
    return pd.DataFrame({"below_limit": below, "not_reviewed": gates["not_reviewed"],
                         "no_visit": gates["no_visit"]}, index=idx).astype(bool)


@per_context
def review(ctx: Context) -> Review:
    """The outcome-based review of every helper (module docstring, steps 1–7)."""
    P = ctx.params
    hp, pr, rev, inc = (_get(ctx, t) for t in ("helpers", "pairings", "reviews", "income"))
    gates = helper_gates(ctx)
    idx = gates.index
    t = pd.DataFrame(index=idx)
    if hp is not None:
        t = t.join(hp.drop_duplicates("helper_id").set_index("helper_id")[
            [c for c in ("name", "unit", "team") if c in hp.columns]])
    t = t.join(gates[["n_households", "visits_quarter", "reviewed"]])
    estimates: dict[str, dict] = {}
    shrunk = pd.DataFrame(index=idx, columns=list(COMPONENTS), dtype=float)
    post_sd = shrunk.copy()
    outcomes = pd.DataFrame(columns=["helper_id", "hh_id", "start", "y", "residual"])
    funnel = pd.DataFrame(columns=["helper_id", "n", "mean"])
    levels = (float(P.get("helpers.funnel_warn")), float(P.get("helpers.flag_limit")))
    if pr is not None:
        t = t.join(helper_places(pr, ctx.pkg["households"], ctx.asof))
        if inc is not None:
            res, estimates["outcome"], funnel, outcomes = _outcome_step(ctx, pr, inc, levels)
            t["n_outcome"] = res["n"].reindex(idx).fillna(0).astype("Int64")
            t["outcome_mean"] = res["mean"]
            shrunk["outcome"], post_sd["outcome"] = res["shrunk"], res["post_sd"]
    if rev is not None:  # step 3: the ratings of the year, per source
        ry = this_year_reviews(rev, ctx.asof)
        for src in SOURCES:
            r = ry[ry["source"] == src]
            res, estimates[src] = shrink_means(r["score"], r["helper_id"])
            t[f"{src}_n"] = res["n"].reindex(idx).fillna(0).astype("Int64")
            shrunk[src], post_sd[src] = res["shrunk"], res["post_sd"]
    t["outcome_shrunk"], t["outcome_sd"] = shrunk["outcome"], post_sd["outcome"]
    for src in SOURCES:
        t[f"{src}_shrunk"] = shrunk[src]
    t = t.join(_composite_step(ctx, shrunk, post_sd, estimates))
    flags = _flags(gates, funnel)
    t["flag"] = _flag_text(flags, dict.fromkeys(FLAG_ZH, None))
    t["reason"] = _flag_text(flags, FLAG_ZH)
    t = t.reindex(columns=list(COLUMNS["helper_review"])[1:]).rename_axis("helper_id")
    return Review(t.reset_index(), estimates, funnel, outcomes, levels)


def visits_outcome_correlation(table: pd.DataFrame) -> tuple[float, int]:
    """Spearman rank correlation between a helper's visits per active household this quarter
    (``visits_quarter ÷ n_households``) and its shrunk outcome, over helpers with both; returns
    ``(ρ, number of helpers)`` (ρ NaN with fewer than 3). It tells how far visit counts say
    anything about results."""
    d = table[["visits_quarter", "n_households", "outcome_shrunk"]].astype(float)
    d = d[d["n_households"] > 0].dropna()
    per_hh = d["visits_quarter"] / d["n_households"]
    if len(d) < 3 or per_hh.nunique() < 2 or d["outcome_shrunk"].nunique() < 2:
        return float("nan"), int(len(d))  # undefined without variation
    rho = stats.spearmanr(per_hh, d["outcome_shrunk"]).statistic
    return float(rho), int(len(d))


def _flag_text(flags: pd.DataFrame, labels: dict[str, str | None]) -> pd.Series:
    """Join the set flags of each row (in column order) with ";" (codes) or "；" (Chinese)."""
    sep = "；" if any(labels.values()) else ";"
    parts = [flags[c].map({True: (labels[c] or c) + sep, False: ""}) for c in flags.columns]
    s = pd.concat(parts, axis=1).sum(axis=1) if parts else pd.Series("", index=flags.index)
    return s.str.rstrip(sep)


def build_ledgers(ctx: Context) -> dict[str, pd.DataFrame]:
    """Every ledger of this module, sorted by its key (see :data:`LEDGERS`)."""
    out = compliance(ctx)
    out["helper_review"] = review(ctx).table
    return {k: v.sort_values(list(LEDGERS[k].key)).reset_index(drop=True) for k, v in out.items()}


def summary(ctx: Context) -> dict:
    """Headline figures: the contract's ``unpaired``, ``overloaded``, ``frequent_change`` and
    ``reviewed_share`` = ``reviewed`` ÷ ``helpers_linked`` (household-linked helpers of the year,
    :func:`linked_helpers`, with any review dated this year up to the as-of date ÷ all of them;
    both figures are given beside it, ``reviewed`` null without a reviews table), and the counts
    ``households``, ``helpers``, ``pairing_invalid``, ``registered_poor`` (helpers),
    ``not_reviewed`` (= helpers_linked − reviewed), ``no_visit``. For the county also the comparison of results:
    ``below_limit`` (helpers below the 99.8 % funnel limit), ``visits_outcome_rho`` (see
    :func:`visits_outcome_correlation`) and the variance ``estimates`` per component. A town's
    summary leaves these out (``review_scope: county``): helpers are compared county-wide, and
    a town reads its helpers' rows of the county ``helper_review`` ledger. Without a pairings
    table: ``{"available": false, "reason": ...}``."""
    if not ctx.pkg.has("pairings"):
        return {"available": False,
                "reason": "未提供结对关系表：帮扶责任人分析关闭 / no pairings table: helper analyses off"}
    led = compliance(ctx)
    g = helper_gates(ctx)
    linked = g[g["linked"]]
    out: dict[str, Any] = {
        "available": True,
        "as_of": ctx.asof.date().isoformat(),
        "households": int(len(ctx.pkg["households"])),
        "helpers": int(len(g)),
        "helpers_linked": int(len(linked)),
        "unpaired": int(len(led["helper_unpaired"])),
        "overloaded": int(len(led["helper_overloaded"])),
        "frequent_change": int(len(led["helper_frequent_change"])),
        "pairing_invalid": int(len(led["helper_pairing_invalid"])),
        "registered_poor": int(led["helper_registered_poor"]["helper_id"].nunique()),
        "reviewed_share": (json_number(linked["reviewed"].astype(float).mean())
                           if ctx.pkg.has("reviews") and len(linked) else None),
        "reviewed": int(linked["reviewed"].sum()) if ctx.pkg.has("reviews") else None,
        "not_reviewed": int(g["not_reviewed"].sum()) if ctx.pkg.has("reviews") else None,
        "no_visit": int(g["no_visit"].sum()) if ctx.pkg.has("visits") else None,
    }
    if ctx.scope is not None:
        out["review_scope"] = "county"
        return out
    rev = review(ctx)
    rho, n = visits_outcome_correlation(rev.table)
    out["below_limit"] = int(rev.table["flag"].str.contains("below_limit").sum())
    out["visits_outcome_rho"] = json_number(rho)
    out["visits_outcome_n"] = n
    out["estimates"] = {c: {k: (json_number(v) if isinstance(v, float) else v) for k, v in e.items()}
                        for c, e in sorted(rev.estimates.items())}
    return out
