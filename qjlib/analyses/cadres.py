"""Helper cadres (帮扶责任人): pairing compliance and outcome-based reviews (plan 五.3, 五.5, 五.6;
requirements R7–R9).

The plan asks for a ledger of paired helper cadres checked against the system — no "一帮多", no
poor household without a paired helper, no frequent reassignment — and to stop judging help by
the number of home visits: every household-linked cadre's *results* are to be rated within the
year, combining leaders' comments, villagers' ratings and scored interviews.

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
- **Change** of helper: a pairing of the household whose ``start`` lies in the 12-month window
  ``(A − 12 months, A]`` — strictly after the day twelve calendar months before ``A``, up to and
  including ``A`` — and which is not the household's first pairing ever (its ``start`` is later
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
  visit dated within the as-of date's calendar quarter (quarter's first day … ``A``) is flagged
  ``no_visit``. Without a visits table the gate is off.

Outcome-based review (``helper_review``)
----------------------------------------
1. *Outcome of a pairing*: ``y = ln pc[y₁] − ln pc[y₀]`` with ``pc`` the recomputed per-capita
   net income (yuan per person and year), ``y₀`` the year of ``start`` and
   ``y₁ = min(year of end, income year)``; only pairings with ``y₁ > y₀``, both years present
   and both ``pc > 0``. It is regressed by OLS (``numpy.linalg.lstsq``) on the baseline
   ``ln pc[y₀]``, the baseline size, labour capacity, main cause, the share of members aged 60+
   and under 16 in ``y₀``, and fixed effects for town, start year and end year (so a household
   is compared with households of the same town observed over the same years). The residual
   is the pairing's outcome: log points above (+) or below (−) comparable households.
2. *Empirical Bayes*: for each helper ``h`` with ``n_h`` observations and mean ``x̄_h``::

       σ²  = Σ_h Σ_i (x_hi − x̄_h)² / (N − H)                  (pooled within-helper variance)
       w_h = n_h / σ²,  μ = Σ n_h x̄_h / N                       (grand mean of all observations)
       Q   = Σ w_h (x̄_h − μ)²
       τ²  = max(0, (Q − (H − 1)) / (Σ w − Σ w² / Σ w))        (method of moments, DerSimonian–Laird)
       λ_h = τ² / (τ² + σ²/n_h)                                  (reliability)
       shrunk_h = μ + λ_h (x̄_h − μ),  posterior SD_h = √(λ_h σ²/n_h)

   A helper with few households is pulled towards the mean; one extreme household is not
   enough to top the ranking. Without within-helper replication (``N = H``) σ² cannot be
   estimated: the means are left unshrunk (λ = 1) and their posterior SD is unknown (0 in
   the rank simulation).
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
   those with a pairing active on some day between 1 January of the as-of year and ``A``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from qjlib.core.context import Context, per_context
from qjlib.core.ledgers import LedgerSpec

log = logging.getLogger(__name__)

SOURCES = ("villagers", "leaders", "interview")
COMPONENTS = ("outcome", *SOURCES)
COMPONENT_ZH = {"outcome": "帮扶成效", "villagers": "群众测评", "leaders": "领导点评",
                "interview": "干部访谈"}
FLAG_ZH = {
    "below_limit": "帮扶成效低于漏斗图99.8%控制下限",
    "not_reviewed": "年内尚未测评",
    "no_visit": "本季度无走访记录",
}

# What the notebooks reuse of a report run instead of recomputing: the county-wide review
# (a town's notebook shows its helpers against the whole county).
NAME = "helpers"  # its part of summary.json and its key in qjlib.analyses.REGISTRY
NOTEBOOK_RESULTS: dict[str, tuple[str, ...]] = {"review": ("county",)}

_PLAN = "R7"
LEDGERS: dict[str, LedgerSpec] = {
    "helper_unpaired": LedgerSpec(
        "helper_unpaired", "无结对帮扶责任人的贫困户", ("hh_id",),
        {"hh_id": "户编号", "town": "乡(镇)", "village": "行政村", "exit_status": "脱贫属性",
         "n_pairings": "历史结对数", "last_helper_id": "最近帮扶责任人编号",
         "last_start": "最近结对开始时间", "last_end": "最近结对结束时间", "reason": "原因"},
        _PLAN,
    ),
    "helper_overloaded": LedgerSpec(
        "helper_overloaded", "结对户数超过上限的帮扶责任人（一帮多）", ("helper_id",),
        {"helper_id": "帮扶责任人编号", "name": "姓名", "unit": "单位名称", "team": "队伍类别",
         "n_households": "在帮户数", "limit": "上限户数", "town": "乡(镇)", "village": "行政村",
         "reason": "原因"},
        _PLAN,
    ),
    "helper_frequent_change": LedgerSpec(
        "helper_frequent_change", "近12个月频繁调换帮扶责任人的贫困户", ("hh_id",),
        {"hh_id": "户编号", "town": "乡(镇)", "village": "行政村", "n_changes": "调换次数",
         "limit": "上限次数", "helpers": "期间帮扶责任人编号", "reason": "原因"},
        _PLAN,
    ),
    "helper_pairing_invalid": LedgerSpec(
        "helper_pairing_invalid", "结对关系日期有误（重叠或结束早于开始）", ("hh_id", "helper_id", "start"),
        {"hh_id": "户编号", "helper_id": "帮扶责任人编号", "start": "帮扶开始时间",
         "end": "帮扶结束时间", "kind": "问题类型", "other_helper_id": "重叠的帮扶责任人编号",
         "town": "乡(镇)", "village": "行政村", "reason": "原因"},
        _PLAN,
    ),
    "helper_registered_poor": LedgerSpec(
        "helper_registered_poor", "本人为建档立卡贫困人口的帮扶责任人", ("helper_id", "hh_id"),
        {"helper_id": "帮扶责任人编号", "name": "姓名", "unit": "单位名称", "hh_id": "户编号",
         "role": "在户身份", "town": "乡(镇)", "village": "行政村", "reason": "原因"},
        _PLAN,
    ),
    "helper_review": LedgerSpec(
        "helper_review", "帮扶责任人帮扶成效评价", ("helper_id",),
        {"helper_id": "帮扶责任人编号", "name": "姓名", "unit": "单位名称", "team": "队伍类别",
         "town": "乡(镇)", "village": "行政村", "n_households": "在帮户数",
         "n_outcome": "成效观测户数", "outcome_mean": "成效均值（对数点）",
         "outcome_shrunk": "成效收缩估计", "outcome_sd": "成效后验标准差",
         "villagers_n": "群众测评次数", "villagers_shrunk": "群众测评收缩得分",
         "leaders_n": "领导点评次数", "leaders_shrunk": "领导点评收缩得分",
         "interview_n": "访谈评分次数", "interview_shrunk": "访谈收缩得分",
         "visits_quarter": "本季度走访次数", "composite": "综合得分", "rank": "排名",
         "rank_lo": "排名区间下限", "rank_hi": "排名区间上限", "reviewed": "年内已测评",
         "flag": "标记", "reason": "说明"},
        "R8, R9",
    ),
}


# --------------------------------------------------------------------------------------------
# Compliance metrics (pure functions on canonical frames)
# --------------------------------------------------------------------------------------------

def _isin(values: pd.Series | pd.Index, among: Any) -> np.ndarray:
    """``values.isin(among)`` through a hash index (pandas 3's ``isin`` on Arrow strings builds
    a Python list: several times slower on ids)."""
    return pd.Index(pd.unique(pd.Series(among).dropna())).get_indexer(values) >= 0


def active_pairings(pairings: pd.DataFrame, asof: pd.Timestamp) -> pd.Series:
    """Boolean mask: the pairing is active on ``asof`` — ``start ≤ asof`` and (``end`` blank or
    ``end ≥ asof``), both bounds inclusive."""
    start, end = pairings["start"], pairings["end"]
    return (start <= asof) & (end.isna() | (end >= asof))


def helper_loads(pairings: pd.DataFrame, asof: pd.Timestamp) -> pd.Series:
    """Distinct households in active pairings on ``asof`` per helper (households; helpers with
    no active pairing are absent). Two active rows of one helper–household pair count once."""
    act = pairings.loc[active_pairings(pairings, asof), ["helper_id", "hh_id"]].drop_duplicates()
    return act.groupby("helper_id").size().rename("n_households").sort_index()


def unpaired_households(households: pd.DataFrame, pairings: pd.DataFrame,
                        asof: pd.Timestamp) -> pd.DataFrame:
    """Registered households (every row of ``households``) with no active pairing on ``asof``.

    Returns ``hh_id, town, village, exit_status, n_pairings, last_helper_id, last_start,
    last_end, reason`` sorted by ``hh_id``; ``last_*`` describe the household's pairing with
    the latest start (blank when it never had one)."""
    paired = pairings.loc[active_pairings(pairings, asof), "hh_id"].unique()
    cols = [c for c in ("hh_id", "town", "village", "exit_status") if c in households.columns]
    out = households.loc[~_isin(households["hh_id"], paired), cols].copy()
    hist = pairings[_isin(pairings["hh_id"], out["hh_id"])]
    last = (hist.sort_values(["hh_id", "start", "helper_id"])
            .drop_duplicates("hh_id", keep="last")[["hh_id", "helper_id", "start", "end"]]
            .rename(columns={"helper_id": "last_helper_id", "start": "last_start", "end": "last_end"}))
    out = out.merge(last, on="hh_id", how="left")
    n = hist["hh_id"].value_counts().astype("int64")
    out["n_pairings"] = out["hh_id"].map(n).fillna(0).astype("Int64")
    start_s = out["last_start"].dt.strftime("%Y-%m-%d")
    end_s = out["last_end"].dt.strftime("%Y-%m-%d")
    never = out["n_pairings"].eq(0).to_numpy(dtype=bool)
    future = (out["last_start"] > asof).to_numpy(dtype=bool)
    out["reason"] = np.select(
        [never, future],
        ["从未结对帮扶责任人",
         ("结对尚未开始（最近结对开始于" + start_s + "），截至报告日无在帮帮扶责任人").to_numpy(object)],
        default=("结对已于" + end_s.fillna("?") + "结束，未重新结对帮扶责任人").to_numpy(object),
    )
    return out.sort_values("hh_id").reset_index(drop=True)


def overloaded_helpers(pairings: pd.DataFrame, asof: pd.Timestamp,
                       max_households: int) -> pd.DataFrame:
    """Helpers with more than ``max_households`` distinct households in active pairings on
    ``asof`` ("一帮多"; exactly the limit is allowed). Returns ``helper_id, n_households,
    limit, reason`` sorted by ``helper_id``."""
    load = helper_loads(pairings, asof)
    out = load[load > max_households].reset_index()
    out["limit"] = int(max_households)
    out["reason"] = ("在帮贫困户" + out["n_households"].astype(str) + "户，超过上限"
                     + str(int(max_households)) + "户（一帮多）")
    return out.sort_values("helper_id").reset_index(drop=True)


def window_start(asof: pd.Timestamp, months: int = 12) -> pd.Timestamp:
    """The exclusive lower bound of the change window ``(asof − months, asof]``: the same day
    ``months`` calendar months earlier (month-end clipped, e.g. 2020-02-29 → 2019-02-28)."""
    return (pd.Timestamp(asof) - pd.DateOffset(months=months)).normalize()


def pairing_changes(pairings: pd.DataFrame, asof: pd.Timestamp) -> pd.Series:
    """Boolean mask: the pairing is a *change* — its ``start`` is in ``(asof − 12 months, asof]``
    and later than the household's earliest ``start`` (its first pairing ever)."""
    first = pairings.groupby("hh_id")["start"].transform("min")
    start = pairings["start"]
    return (start > window_start(asof)) & (start <= asof) & (start > first)


def frequent_changes(pairings: pd.DataFrame, asof: pd.Timestamp,
                     max_changes: int) -> pd.DataFrame:
    """Households with more than ``max_changes`` helper changes (see :func:`pairing_changes`) in
    the 12 months to ``asof``. Returns ``hh_id, n_changes, limit, helpers, reason`` sorted by
    ``hh_id``; ``helpers`` lists the helpers of the window's changes in start order."""
    ch = pairings[pairing_changes(pairings, asof)].sort_values(["hh_id", "start", "helper_id"])
    g = ch.groupby("hh_id")
    out = pd.DataFrame({"n_changes": g.size(), "helpers": g["helper_id"].agg("、".join)})
    out = out[out["n_changes"] > max_changes].reset_index()
    out["limit"] = int(max_changes)
    out["reason"] = ("近12个月（" + window_start(asof).strftime("%Y-%m-%d") + "后至"
                     + pd.Timestamp(asof).strftime("%Y-%m-%d") + "）调换帮扶责任人"
                     + out["n_changes"].astype(str) + "次，超过上限" + str(int(max_changes)) + "次")
    return out[["hh_id", "n_changes", "limit", "helpers", "reason"]].sort_values("hh_id").reset_index(drop=True)


def invalid_pairings(pairings: pd.DataFrame) -> pd.DataFrame:
    """Pairings whose ``end`` is before their ``start`` (kind ``end_before_start``), and pairings
    that start before another pairing of the same household has ended (kind ``overlap``:
    ``start₁ ≤ start₂ < end₁``, blank ``end₁`` = open; a same-day hand-over is fine). For an
    overlap the later-starting pairing is listed, with the other helper in ``other_helper_id``.
    Returns ``hh_id, helper_id, start, end, kind, other_helper_id, reason``."""
    p = pairings[["hh_id", "helper_id", "start", "end"]].sort_values(["hh_id", "start", "helper_id"])
    bad = p[p["end"] < p["start"]].assign(kind="end_before_start", other_helper_id=None)
    bad["reason"] = "结对结束时间早于开始时间"
    ok = p[~(p["end"] < p["start"])]
    ok = ok.assign(_i=np.arange(len(ok)))
    pairs = ok.merge(ok, on="hh_id", suffixes=("", "_o"))
    earlier = (pairs["start_o"] < pairs["start"]) | (
        (pairs["start_o"] == pairs["start"]) & (pairs["_i_o"] < pairs["_i"]))
    over = pairs[earlier & (pairs["end_o"].isna() | (pairs["start"] < pairs["end_o"]))]
    over = (over.sort_values(["hh_id", "start", "helper_id", "start_o", "helper_id_o"])
            .drop_duplicates(["hh_id", "helper_id", "start"]))
    over = over.assign(kind="overlap", other_helper_id=over["helper_id_o"])
    over["reason"] = ("与帮扶责任人" + over["helper_id_o"] + "的结对（"
                      + over["start_o"].dt.strftime("%Y-%m-%d") + "开始）时间重叠")
    cols = ["hh_id", "helper_id", "start", "end", "kind", "other_helper_id", "reason"]
    out = pd.concat([bad[cols].astype({"other_helper_id": "str"}), over[cols]], ignore_index=True)
    return out.sort_values(["hh_id", "helper_id", "start", "kind"]).reset_index(drop=True)


def _norm_id(s: pd.Series) -> pd.Series:
    return s.astype("str").str.strip().str.upper()


def registered_poor_helpers(helpers: pd.DataFrame, households: pd.DataFrame,
                            members: pd.DataFrame | None) -> pd.DataFrame:
    """Helpers whose ``id_number`` equals a registered household head's ``head_id_number`` or a
    member's ``id_number`` (compared as upper-cased text). Returns ``helper_id, hh_id, role
    (户主/成员), reason`` sorted by ``helper_id, hh_id``."""
    h = helpers.loc[helpers["id_number"].notna(), ["helper_id", "id_number"]]
    h = h.assign(_id=_norm_id(h["id_number"]))
    parts = []
    if "head_id_number" in households.columns:
        hd = households.loc[households["head_id_number"].notna(), ["hh_id", "head_id_number"]]
        parts.append(pd.DataFrame({"hh_id": hd["hh_id"], "_id": _norm_id(hd["head_id_number"]),
                                   "role": "户主"}))
    if members is not None and "id_number" in members.columns:
        m = members.loc[members["id_number"].notna(), ["hh_id", "id_number"]]
        parts.append(pd.DataFrame({"hh_id": m["hh_id"], "_id": _norm_id(m["id_number"]),
                                   "role": "成员"}))
    if not parts:
        return pd.DataFrame(columns=["helper_id", "hh_id", "role", "reason"])
    people = pd.concat(parts, ignore_index=True).sort_values(["hh_id", "role"])
    people = people.drop_duplicates(["hh_id", "_id"])  # a head is usually also a member row
    out = h.merge(people, on="_id")[["helper_id", "hh_id", "role"]]
    out["reason"] = "帮扶责任人证件号码与建档立卡贫困户" + out["role"] + "相同"
    return out.sort_values(["helper_id", "hh_id"]).reset_index(drop=True)


def quarter_start(asof: pd.Timestamp) -> pd.Timestamp:
    """First day of the calendar quarter that contains ``asof``."""
    return pd.Period(pd.Timestamp(asof), freq="Q").start_time.normalize()


def visits_in_quarter(visits: pd.DataFrame, asof: pd.Timestamp) -> pd.Series:
    """Visits per helper dated in ``[quarter_start(asof), asof]`` (count of visit rows)."""
    d = visits["date"]
    v = visits[(d >= quarter_start(asof)) & (d <= asof)]
    return v.groupby("helper_id").size().rename("visits_quarter")


# --------------------------------------------------------------------------------------------
# Outcomes: change of log per-capita income against comparable households
# --------------------------------------------------------------------------------------------

def age_structure(members: pd.DataFrame, hh_year: pd.DataFrame) -> pd.DataFrame:
    """For each ``(hh_id, year)`` of ``hh_year``: ``share_60plus`` and ``share_under16`` among the
    household's members with a known birth date, age in a year = ``year − birth year`` (the age
    reached during that year): 60+ means ``≥ 60``, under 16 means ``< 16``. NaN when no member
    has a birth date."""
    keys = hh_year[["hh_id", "year"]].drop_duplicates()
    m = members.loc[members["birth_date"].notna(), ["hh_id", "birth_date"]]
    j = keys.merge(m.assign(_by=m["birth_date"].dt.year), on="hh_id")
    age = j["year"].astype("int64") - j["_by"]
    j = j.assign(_old=(age >= 60).astype(float), _young=(age < 16).astype(float))
    sh = j.groupby(["hh_id", "year"], as_index=False).agg(
        share_60plus=("_old", "mean"), share_under16=("_young", "mean"))
    return keys.merge(sh, on=["hh_id", "year"], how="left")


def pairing_outcomes(pairings: pd.DataFrame, income: pd.DataFrame, households: pd.DataFrame,
                     members: pd.DataFrame | None, income_year: int,
                     asof: pd.Timestamp) -> pd.DataFrame:
    """One row per pairing with an outcome: ``helper_id, hh_id, start_year, end_year, y`` where
    ``y = ln pc[end_year] − ln pc[start_year]`` (pc = recomputed ``net_per_capita``, yuan per
    person), ``start_year`` = year of ``start``, ``end_year = min(year of end, income_year)``;
    plus the baseline covariates ``log_pc0, size0, labor_capacity, main_cause, town,
    share_60plus, share_under16``. Pairings starting after ``asof``, ending before they start,
    with ``end_year ≤ start_year``, a missing year or ``pc ≤ 0`` have no outcome and are left out."""
    p = pairings[(pairings["start"] <= asof) & ~(pairings["end"] < pairings["start"])]
    p = p[["helper_id", "hh_id", "start", "end"]].copy()
    p["start_year"] = p["start"].dt.year.astype("int64")
    end_year = p["end"].dt.year.fillna(income_year).astype("int64")
    p["end_year"] = np.minimum(end_year, int(income_year))
    p = p[p["end_year"] > p["start_year"]]
    inc = income.loc[income["year"].notna(), ["hh_id", "year", "net_per_capita", "size"]].copy()
    inc["year"] = inc["year"].astype("int64")
    inc = inc.drop_duplicates(["hh_id", "year"])
    p = p.merge(inc.rename(columns={"year": "start_year", "net_per_capita": "pc0", "size": "size0"}),
                on=["hh_id", "start_year"])
    p = p.merge(inc[["hh_id", "year", "net_per_capita"]].rename(
        columns={"year": "end_year", "net_per_capita": "pc1"}), on=["hh_id", "end_year"])
    p = p[(p["pc0"] > 0) & (p["pc1"] > 0)]
    p["log_pc0"] = np.log(p["pc0"].astype(float))
    p["y"] = np.log(p["pc1"].astype(float)) - p["log_pc0"]
    p["size0"] = p["size0"].astype(float)
    hcols = [c for c in ("hh_id", "town", "labor_capacity", "main_cause") if c in households.columns]
    p = p.merge(households[hcols], on="hh_id", how="left")
    for c in ("town", "labor_capacity", "main_cause"):
        if c not in p.columns:
            p[c] = pd.NA
    if members is not None and "birth_date" in members.columns:
        ages = age_structure(members, p.rename(columns={"start_year": "year"})[["hh_id", "year"]])
        p = p.merge(ages.rename(columns={"year": "start_year"}), on=["hh_id", "start_year"],
                    how="left")
    else:
        p["share_60plus"] = np.nan
        p["share_under16"] = np.nan
    cols = ["helper_id", "hh_id", "start", "start_year", "end_year", "y", "log_pc0", "size0",
            "labor_capacity", "main_cause", "town", "share_60plus", "share_under16"]
    return p[cols].sort_values(["helper_id", "hh_id", "start"]).reset_index(drop=True)


OUTCOME_NUMERIC = ("log_pc0", "size0", "share_60plus", "share_under16")
OUTCOME_CATEGORICAL = ("labor_capacity", "main_cause", "town", "start_year", "end_year")


def design_matrix(obs: pd.DataFrame, numeric=OUTCOME_NUMERIC,
                  categorical=OUTCOME_CATEGORICAL) -> pd.DataFrame:
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


def outcome_residuals(obs: pd.DataFrame, numeric=OUTCOME_NUMERIC,
                      categorical=OUTCOME_CATEGORICAL) -> pd.Series:
    """OLS residuals of ``y`` on :func:`design_matrix` (``numpy.linalg.lstsq``, minimum-norm
    solution when columns are collinear): ``y − Xβ̂`` in log points, mean 0 by construction."""
    if obs.empty:
        return pd.Series(dtype=float, index=obs.index, name="residual")
    X = design_matrix(obs, numeric, categorical)
    y = obs["y"].to_numpy(float)
    beta, *_ = np.linalg.lstsq(X.to_numpy(float), y, rcond=None)
    return pd.Series(y - X.to_numpy(float) @ beta, index=obs.index, name="residual")


# --------------------------------------------------------------------------------------------
# Empirical Bayes, over-dispersion, funnel limits, composite and rank intervals
# --------------------------------------------------------------------------------------------

def eb_shrink(mean: Any, n: Any, mu: float, sigma2: float,
              tau2: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Normal–normal empirical-Bayes shrinkage of group means.

    ``λ = τ² / (τ² + σ²/n)``, ``shrunk = μ + λ (x̄ − μ)``, ``posterior SD = √(λ σ²/n)``.
    Returns ``(λ, shrunk, posterior SD)`` as arrays; with ``σ²`` unknown (NaN) λ = 1 and the
    posterior SD is NaN (no shrinkage possible)."""
    mean = np.asarray(mean, float)
    n = np.asarray(n, float)
    if not np.isfinite(sigma2):
        return np.ones_like(mean), mean.copy(), np.full_like(mean, np.nan)
    v = sigma2 / n
    lam = np.where(tau2 + v > 0, tau2 / np.where(tau2 + v > 0, tau2 + v, 1.0), 0.0)
    return lam, mu + lam * (mean - mu), np.sqrt(lam * v)


def between_variance(mean: Any, n: Any, sigma2: float, mu: float,
                     winsor: float | None = None) -> tuple[float, float]:
    """Between-group variance ``τ²`` by the method of moments, and the dispersion ``φ``.

    ``z_h = (x̄_h − μ) / √(σ²/n_h)`` (winsorised at the ``winsor`` and ``1 − winsor`` quantiles
    when given — Spiegelhalter 2005), ``φ = mean(z²)``, ``w_h = n_h/σ²``,
    ``τ² = max(0, (H φ − (H − 1)) / (Σ w − Σ w²/Σ w))``. Without winsorising ``H φ`` is the
    Cochran Q of DerSimonian–Laird. Returns ``(τ², φ)``; NaN when σ² is unknown or H < 2."""
    mean = np.asarray(mean, float)
    n = np.asarray(n, float)
    H = mean.size
    if H < 2 or not np.isfinite(sigma2) or sigma2 <= 0:
        return (np.nan if not np.isfinite(sigma2) or H < 2 else 0.0), np.nan
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
    within-group variance ``Σ (x − x̄_g)² / (N − H)`` (NaN when N = H)."""
    d = pd.DataFrame({"g": groups.to_numpy(), "x": values.to_numpy(float)}).dropna()
    g = d.groupby("g")["x"]
    res = pd.DataFrame({"n": g.size(), "mean": g.mean()}).sort_index()
    N, H = len(d), len(res)
    if N == 0:
        res = res.assign(reliability=np.nan, shrunk=np.nan, post_sd=np.nan)
        return res, {"mu": np.nan, "sigma2": np.nan, "tau2": np.nan, "groups": 0, "obs": 0}
    ss = float(((d["x"] - g.transform("mean")) ** 2).sum())
    sigma2 = ss / (N - H) if N > H else np.nan
    mu = float(d["x"].mean())
    tau2, _ = between_variance(res["mean"], res["n"], sigma2, mu)
    if not np.isfinite(tau2) and np.isfinite(sigma2):
        tau2 = 0.0
    lam, shrunk, sd = eb_shrink(res["mean"], res["n"], mu, sigma2, tau2)
    res["reliability"], res["shrunk"], res["post_sd"] = lam, shrunk, sd
    return res, {"mu": mu, "sigma2": sigma2, "tau2": tau2, "groups": H, "obs": N}


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
    has (weights renormalised). A component without spread (scale 0) scores 0. NaN when the
    helper has no component. Higher is better."""
    z, w = _zscores(shrunk, weights, scales)
    num = (z.fillna(0.0) * w).sum(axis=1)
    den = (z.notna() * w).sum(axis=1)
    return (num / den.where(den > 0)).rename("composite")


def _zscores(shrunk: pd.DataFrame, weights: dict[str, float],
             scales: Scales | None) -> tuple[pd.DataFrame, pd.Series]:
    """z-scores of the weighted components present; a component without spread scores 0."""
    cols = [c for c in shrunk.columns if weights.get(c, 0) > 0 and shrunk[c].notna().any()]
    sc = component_scales(shrunk[cols]) if scales is None else scales
    s = shrunk[cols].astype(float)
    centre = pd.Series({c: sc[c][0] for c in cols}, dtype=float)
    scale = pd.Series({c: sc[c][1] for c in cols}, dtype=float)
    z = (s - centre) / scale.where(scale > 0, np.inf)
    return z.where(s.notna()), pd.Series({c: float(weights[c]) for c in cols}, dtype=float)


def rank_intervals(shrunk: pd.DataFrame, post_sd: pd.DataFrame, weights: dict[str, float],
                   draws: int, seed: int, level: float,
                   scales: Scales | None = None) -> pd.DataFrame:
    """Rank of the composite (1 = best, ties share the better rank) and its ``level`` interval
    from ``draws`` simulated posterior draws: per component ``θ ~ N(shrunk, post_sd²)`` (an
    unknown SD counts as 0), z-scored with the same centres and scales as the point composite
    (:func:`composite_scores`), ranked among helpers with a composite in each draw. Rows of
    ``shrunk`` (helpers) must be sorted; the generator is ``default_rng(seed)``. ``rank`` ranks
    the point composites; the interval describes the simulated ranks, so for a nearly certain
    helper whose noisier neighbours overtake it in most draws it may exclude ``rank``."""
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


# --------------------------------------------------------------------------------------------
# The run: ledgers, review and summary figures for a Context
# --------------------------------------------------------------------------------------------

def _get(ctx: Context, name: str) -> pd.DataFrame | None:
    return ctx.pkg[name] if ctx.pkg.has(name) else None


def _empty(name: str) -> pd.DataFrame:
    return pd.DataFrame(columns=list(LEDGERS[name].columns_zh))


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
    use = pairings[act | ~_isin(pairings["helper_id"], has_active)][["helper_id", "hh_id"]]
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
    out["helper_unpaired"] = unpaired_households(hh, pr, asof).reindex(
        columns=out["helper_unpaired"].columns)
    places = hh[["hh_id", "town", "village"]]
    fc = frequent_changes(pr, asof, changes).merge(places, on="hh_id", how="left")
    out["helper_frequent_change"] = fc.reindex(columns=out["helper_frequent_change"].columns)
    inv = invalid_pairings(pr).merge(places, on="hh_id", how="left")
    out["helper_pairing_invalid"] = inv.reindex(columns=out["helper_pairing_invalid"].columns)
    ov = overloaded_helpers(pr, asof, limit)
    ov = ov.join(helper_places(pr[_isin(pr["helper_id"], ov["helper_id"])], hh, asof), on="helper_id")
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
    g["linked"] = _isin(idx, linked_helpers(pr, asof)) if pr is not None else False
    g["visits_quarter"] = (visits_in_quarter(vis, asof).reindex(idx).fillna(0).astype("Int64")
                           if vis is not None else pd.Series(pd.NA, index=idx, dtype="Int64"))
    g["reviewed"] = (pd.Series(_isin(idx, this_year_reviews(rev, asof)["helper_id"]), index=idx)
                     if rev is not None else pd.Series(pd.NA, index=idx, dtype="boolean"))
    g["not_reviewed"] = (g["linked"] & ~g["reviewed"]).fillna(False).astype(bool)
    g["no_visit"] = (g["n_households"].gt(0) & g["visits_quarter"].eq(0)).fillna(False).astype(bool)
    return g


@per_context
def review(ctx: Context) -> Review:
    """The outcome-based review of every helper (module docstring, steps 1–7)."""
    P = ctx.params
    asof = ctx.asof
    hh = ctx.pkg["households"]
    hp, pr, rev = (_get(ctx, t) for t in ("helpers", "pairings", "reviews"))
    inc, mem = _get(ctx, "income"), _get(ctx, "members")
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
    warn, flag = float(P.get("helpers.funnel_warn")), float(P.get("helpers.flag_limit"))

    if pr is not None:
        t = t.join(helper_places(pr, hh, asof))
        if inc is not None:
            outcomes = pairing_outcomes(pr, inc, hh, mem, ctx.income_year, asof)
            outcomes["residual"] = outcome_residuals(outcomes)
            res, est = shrink_means(outcomes["residual"], outcomes["helper_id"])
            tau2_f, phi = between_variance(res["mean"], res["n"], est["sigma2"], est["mu"],
                                           winsor=float(P.get("helpers.funnel_winsor")))
            est.update(tau2_funnel=tau2_f, phi=phi)
            estimates["outcome"] = est
            t["n_outcome"] = res["n"].reindex(idx).fillna(0).astype("Int64")
            t["outcome_mean"] = res["mean"]
            shrunk["outcome"], post_sd["outcome"] = res["shrunk"], res["post_sd"]
            funnel = res[["n", "mean"]].rename_axis("helper_id").reset_index()
            for lev, tag in ((warn, "warn"), (flag, "flag")):
                lo, hi = funnel_limits(funnel["n"], est["mu"], est["sigma2"],
                                       0.0 if not np.isfinite(tau2_f) else tau2_f, lev)
                funnel[f"lo_{tag}"], funnel[f"hi_{tag}"] = lo, hi
    if rev is not None:
        ry = this_year_reviews(rev, asof)
        for src in SOURCES:
            r = ry[ry["source"] == src]
            res, est = shrink_means(r["score"], r["helper_id"])
            estimates[src] = est
            t[f"{src}_n"] = res["n"].reindex(idx).fillna(0).astype("Int64")
            shrunk[src], post_sd[src] = res["shrunk"], res["post_sd"]

    weights = {k: float(v) for k, v in P.get("helpers.weights").items()}
    t["outcome_shrunk"], t["outcome_sd"] = shrunk["outcome"], post_sd["outcome"]
    for src in SOURCES:
        t[f"{src}_shrunk"] = shrunk[src]
    scales = component_scales(shrunk, estimates)
    t["composite"] = composite_scores(shrunk, weights, scales)
    t = t.join(rank_intervals(shrunk, post_sd, weights, int(P.get("helpers.rank_draws")),
                              int(P.get("helpers.rank_seed")), float(P.get("helpers.rank_level")),
                              scales))

    below = pd.Series(False, index=idx)
    if "lo_flag" in funnel.columns:
        below = (funnel.set_index("helper_id").eval("mean < lo_flag")).reindex(idx, fill_value=False)
    flags = pd.DataFrame({"below_limit": below, "not_reviewed": gates["not_reviewed"],
                          "no_visit": gates["no_visit"]}, index=idx).astype(bool)
    t["flag"] = _flag_text(flags, dict.fromkeys(FLAG_ZH, None))
    t["reason"] = _flag_text(flags, FLAG_ZH)
    t = t.reindex(columns=list(LEDGERS["helper_review"].columns_zh)[1:]).rename_axis("helper_id")
    return Review(t.reset_index(), estimates, funnel, outcomes, (warn, flag))


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


def _num(x: Any, nd: int = 6) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), nd) + 0.0  # no -0.0


def summary(ctx: Context) -> dict:
    """Headline figures: the contract's ``unpaired``, ``overloaded``, ``frequent_change`` and
    ``reviewed_share`` (reviewed ÷ household-linked helpers of the year), and the counts
    ``households``, ``helpers``, ``helpers_linked``, ``pairing_invalid``, ``registered_poor``
    (helpers), ``not_reviewed``, ``no_visit``. For the county also the comparison of results:
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
        "reviewed_share": (_num(linked["reviewed"].astype(float).mean())
                           if ctx.pkg.has("reviews") and len(linked) else None),
        "not_reviewed": int(g["not_reviewed"].sum()) if ctx.pkg.has("reviews") else None,
        "no_visit": int(g["no_visit"].sum()) if ctx.pkg.has("visits") else None,
    }
    if ctx.scope is not None:
        out["review_scope"] = "county"
        return out
    rev = review(ctx)
    rho, n = visits_outcome_correlation(rev.table)
    out["below_limit"] = int(rev.table["flag"].str.contains("below_limit").sum())
    out["visits_outcome_rho"] = _num(rho)
    out["visits_outcome_n"] = n
    out["estimates"] = {c: {k: (_num(v) if isinstance(v, float) else v) for k, v in e.items()}
                        for c, e in sorted(rev.estimates.items())}
    return out


# --------------------------------------------------------------------------------------------
# Tables and charts for the notebook
# --------------------------------------------------------------------------------------------

AREA_COLUMNS_ZH = {"town": "乡(镇)", "village": "行政村", "households": "登记贫困户",
                   "unpaired": "无在帮责任人（户）", "frequent_change": "频繁调换（户）",
                   "pairing_invalid": "结对日期有误（条）", "overloaded": "一帮多（人）"}
UNIT_COLUMNS_ZH = {"unit": "单位", "helpers": "帮扶责任人", "households": "在帮户数",
                   "overloaded": "一帮多（人）", "below_limit": "成效低于控制下限（人）",
                   "not_reviewed": "年内未测评（人）", "no_visit": "本季度无走访（人）",
                   "composite_mean": "综合得分均值"}
VIEW_ZH = {"rank": "排名", "interval": "95%排名区间", "helper_id": "帮扶责任人编号", "name": "姓名",
           "unit": "单位", "town": "乡(镇)", "n_households": "在帮户", "outcome_shrunk": "成效",
           "villagers_shrunk": "群众", "leaders_shrunk": "领导", "interview_shrunk": "访谈",
           "composite": "综合得分", "visits_quarter": "本季走访", "reason": "标记"}


def review_view(table: pd.DataFrame) -> pd.DataFrame:
    """A narrow view of ``helper_review`` rows for reading (headers :data:`VIEW_ZH`): the rank
    interval as one ``lo–hi`` text column, the shrunk components, the composite, visits and the
    Chinese flags. Row order is kept."""
    t = table.reset_index(drop=True)
    lo, hi = t["rank_lo"].astype("Float64"), t["rank_hi"].astype("Float64")
    interval = (lo.map("{:,.0f}".format, na_action="ignore").astype("str") + "–"
                + hi.map("{:,.0f}".format, na_action="ignore").astype("str"))
    return t.assign(interval=interval)[list(VIEW_ZH)]


def compliance_by(households: pd.DataFrame, ledgers: dict[str, pd.DataFrame],
                  area: str = "town") -> pd.DataFrame:
    """Per ``area`` (``town`` or ``village``, sorted) of ``households``: registered households,
    unpaired households, households with frequent changes, invalid pairings, and overloaded
    helpers (a helper counts in each area of its households), with a 合计 total row that counts
    each overloaded helper once; counts."""
    out = pd.DataFrame({"households": households.groupby(area).size()})
    for name, col in (("helper_unpaired", "unpaired"), ("helper_frequent_change", "frequent_change"),
                      ("helper_pairing_invalid", "pairing_invalid")):
        led = ledgers[name]
        out[col] = led[_isin(led["hh_id"], households["hh_id"])].groupby(area).size()
    ov = ledgers["helper_overloaded"][area].dropna().str.split("、").explode()
    out["overloaded"] = ov.value_counts()
    out = out.fillna(0).astype("int64").sort_index()
    total = out.sum().to_frame("合计").T
    total["overloaded"] = int(ov.index.nunique())
    return pd.concat([out, total]).rename_axis(area)


def review_by_unit(table: pd.DataFrame, max_households: int) -> pd.DataFrame:
    """Per unit (sorted): helpers, households in active pairings, overloaded helpers
    (``n_households > max_households``), flags (below the 99.8 % limit, not reviewed, no visit)
    and the mean composite; a helper without a unit counts under ``未填单位``."""
    flag = table["flag"].fillna("")
    t = table.assign(unit=table["unit"].fillna("未填单位"),
                     overloaded=table["n_households"].fillna(0).gt(max_households).astype("int64"),
                     **{k: flag.str.contains(k).astype("int64") for k in FLAG_ZH})
    g = t.groupby("unit")
    out = g[["n_households", "overloaded", *FLAG_ZH]].sum().rename(
        columns={"n_households": "households"})
    out.insert(0, "helpers", g.size())
    out["composite_mean"] = g["composite"].mean()
    return out.sort_index()


def top_bottom(table: pd.DataFrame, k: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``k`` helpers with the lowest composite (worst first) and the ``k`` highest (best
    first), among those with a composite (rows of ``table``, all columns)."""
    r = table[table["composite"].notna()].sort_values(["rank", "helper_id"])
    return r.tail(k).iloc[::-1].reset_index(drop=True), r.head(k).reset_index(drop=True)


def _count(table: pd.DataFrame, flag: str) -> int:
    return int(table["flag"].fillna("").str.contains(flag).sum())


def key_figures(s: dict, table: pd.DataFrame) -> dict[str, object]:
    """The notebook's opening figures: compliance from the scope's :func:`summary` ``s``, the
    review from the scope's rows of the ``helper_review`` ledger ``table``."""
    if not s.get("available"):
        return {"帮扶责任人 helpers": "—"}
    share = s["reviewed_share"]
    return {
        "登记贫困户 households": s["households"],
        "无在帮帮扶责任人 unpaired": (s["unpaired"], "户"),
        "一帮多 overloaded": (s["overloaded"], "名帮扶责任人"),
        "频繁调换 frequent change": (s["frequent_change"], "户，近12个月"),
        "帮扶责任人 helpers": (s["helpers_linked"], "年内联户"),
        "年内已测评 reviewed": (fmt_share(share), f"未测评 {s['not_reviewed']:,} 名"
                               if s.get("not_reviewed") is not None else None),
        "成效低于控制下限 below limit": (_count(table, "below_limit"), "名，99.8% 漏斗下限"),
        "本季度无走访 no visit": (_count(table, "no_visit"), "名（门槛，不计分）"),
    }


def fmt_share(x: float | None) -> str:
    return "—" if x is None or x != x else f"{100 * x:.1f}%"


def rank_interval_width(table: pd.DataFrame) -> float:
    """Median width of the rank intervals (``rank_hi − rank_lo``) of ``table``'s helpers."""
    w = (table["rank_hi"] - table["rank_lo"]).astype(float)
    return float(w.median()) if w.notna().any() else float("nan")


def reading(s: dict, table: pd.DataFrame, scope_name: str, params: Any,
            n_ranked: int | None = None) -> str:
    """A one-paragraph reading in Chinese, every number computed (no typed figures); ``table``
    holds the scope's rows of ``helper_review``, ``n_ranked`` the number of helpers ranked in
    the county (default: the largest rank in ``table``)."""
    if not s.get("available"):
        return f"{scope_name}：{s.get('reason', '无法分析')}。"
    limit = int(params.get("helpers.max_households"))
    changes = int(params.get("helpers.max_changes_12m"))
    parts = [f"{scope_name}登记贫困户 {s['households']:,} 户（含已脱贫户：摘帽不摘帮扶）。"]
    parts.append(f"截至 {s['as_of']}，{s['unpaired']:,} 户没有在帮的结对帮扶责任人；"
                 if s["unpaired"] else f"截至 {s['as_of']}，每户都有在帮的结对帮扶责任人；")
    parts.append(f"{s['overloaded']:,} 名帮扶责任人结对超过 {limit} 户（一帮多）；"
                 if s["overloaded"] else f"没有帮扶责任人结对超过 {limit} 户；")
    parts.append(f"{s['frequent_change']:,} 户近 12 个月调换帮扶责任人超过 {changes} 次。"
                 if s["frequent_change"] else f"没有户近 12 个月调换帮扶责任人超过 {changes} 次。")
    if s["pairing_invalid"]:
        parts.append(f"另有 {s['pairing_invalid']:,} 条结对记录日期重叠或结束早于开始，须与系统核对。")
    if s["registered_poor"]:
        parts.append(f"{s['registered_poor']:,} 名帮扶责任人的证件号码与建档立卡贫困人口相同，"
                     "须核实是本人属贫困人口还是证件号码录入有误。")
    rated = int(table["composite"].notna().sum())
    below, no_visit = _count(table, "below_limit"), _count(table, "no_visit")
    if rated:
        parts.append(f"帮扶成效方面，{rated:,} 名帮扶责任人有综合得分；"
                     + (f"其中 {below:,} 名的帮扶成效（结对户人均纯收入增长与条件相近的户相比）"
                        "低于全县漏斗图 99.8% 控制下限，应逐一了解原因；" if below else
                        "没有帮扶责任人的帮扶成效低于全县漏斗图 99.8% 控制下限；")
                     + (f"{no_visit:,} 名本季度没有走访记录（走访只作门槛，不计入成效）。"
                        if no_visit else "本季度每名在帮的帮扶责任人都有走访记录。"))
        w = rank_interval_width(table)
        total = int(n_ranked if n_ranked is not None else table["rank"].max())
        parts.append(f"排名的 95% 区间中位宽度约 {w:,.0f} 位（全县共排名 {total:,} 名），"
                     "多数帮扶责任人之间的差别在统计上分不开，名次只宜用来找出首尾、不宜逐位排座次。")
    if s.get("reviewed_share") is not None:
        parts.append(f"年内已测评 {fmt_share(s['reviewed_share'])} 的联户帮扶责任人"
                     + (f"，{s['not_reviewed']:,} 名尚未测评（方案要求年内轮评一遍）。"
                        if s.get("not_reviewed") else "，已全部轮评。"))
    return "".join(parts)


def visits_text(table: pd.DataFrame) -> str:
    """Why visits are a gate and not a result, with this scope's computed rank correlation."""
    rho, n = visits_outcome_correlation(table)
    head = ("方案 五.3 要求“纠正以入户次数评价帮扶成效的评价办法”。走访是帮扶的手段，不是帮扶的结果："
            "次数容易填报、也容易“刷”，却说明不了户的收入是否提高、日子是否好过。"
            "本页的帮扶成效只看结果——结对期间户人均纯收入的变化与条件相近的户相比，"
            "再结合群众测评、领导点评和干部访谈评分；走访只作门槛：在帮的帮扶责任人本季度至少走访一次，"
            "否则标记“本季度无走访记录”，但走访多不加分。")
    if rho != rho:
        return head
    a = abs(rho)
    how = ("几乎不相关：走访多的，成效并不见得好" if a < 0.1 else
           "相关很弱：走访次数几乎说明不了成效" if a < 0.3 else
           "有一定相关，但走访仍只是过程，不能代替结果")
    return head + (f"\n\n用本范围的数据检验：{n:,} 名在帮的帮扶责任人本季度户均走访次数与帮扶成效"
                   f"（收缩估计）的秩相关系数 ρ = {rho:.2f}，{how}。")


def funnel_text(rev: Review, table: pd.DataFrame) -> str:
    """What the funnel plot rests on, from the county estimates of ``rev``; the count of flagged
    helpers among ``table``'s rows (the scope)."""
    e = rev.estimates.get("outcome")
    if not e or not np.isfinite(e.get("sigma2", np.nan)):
        return "没有可用于比较帮扶成效的收入数据。"
    n_typ = float(rev.funnel["n"].median())
    lam = e["tau2"] / (e["tau2"] + e["sigma2"] / n_typ) if e["tau2"] + e["sigma2"] > 0 else 0.0
    phi, tau2_f = e.get("phi", np.nan), e.get("tau2_funnel", 0.0)
    over = (f"缩尾后的离散度 φ = {phi:.2f}，"
            + (f"大于 1，控制限按加性随机效应放宽（τ² = {tau2_f:.4f}）。" if tau2_f > 0 else
               "不大于 1，没有过度离散，控制限不需放宽。"))
    below = _count(table, "below_limit")
    return (f"全县 {e['groups']:,} 名帮扶责任人的 {e['obs']:,} 段结对有成效观测。帮扶责任人内部（户与户之间）"
            f"方差 σ² = {e['sigma2']:.4f}，帮扶责任人之间的方差 τ² = {e['tau2']:.4f}："
            f"结对 {n_typ:.0f} 户的帮扶责任人，平均残差的可靠度 λ 约为 {lam:.2f}，"
            "即所见差别中只有这一部分反映帮扶责任人本身，其余是户的偶然差异——这正是要收缩、要给区间的原因。"
            + over + f"本范围低于 99.8% 控制下限的帮扶责任人 {below:,} 名。")


def definitions_text(params: Any) -> str:
    """The definitions of this page as Markdown, with the run's parameter values."""
    P = params
    w = P.get("helpers.weights")
    wt = "、".join(f"{COMPONENT_ZH[k]} {v:g}" for k, v in w.items() if k in COMPONENT_ZH)
    return "\n".join([
        f"- **在帮结对**（截至报告日 A = {P.asof:%Y-%m-%d}）：开始时间 ≤ A，且结束时间为空或 ≥ A（两端都含）。",
        "- **无在帮帮扶责任人**：户信息表中的每一户（含已脱贫户，摘帽不摘帮扶）在 A 日没有在帮结对。",
        f"- **一帮多**：在帮结对户数超过 {P.get('helpers.max_households')} 户（参数 "
        "`helpers.max_households`，恰好等于上限不算）。",
        f"- **频繁调换**：近 12 个月（A 前 12 个月的同一天之后，至 A 日，含 A 日）开始的、且不是该户第一次结对的"
        f"结对为一次调换；超过 {P.get('helpers.max_changes_12m')} 次（参数 `helpers.max_changes_12m`）列入台账。",
        "- **结对日期有误**：结束早于开始；或同一户的两段结对重叠（后一段在前一段结束之前开始；"
        "同一天交接不算重叠）。",
        "- **帮扶责任人本人为贫困人口**：帮扶责任人证件号码与户主或家庭成员的证件号码相同。",
        "- **帮扶成效**：每段结对的户人均纯收入对数变化 ln(人均纯收入[结束年]) − ln(人均纯收入[开始年])，"
        "结束年取结对结束年与收入年度中较早者；用最小二乘回归扣除基期收入、基期人口、劳动能力、主要致贫原因、"
        "60 岁以上和 16 岁以下人口占比，以及乡镇、开始年、结束年固定效应后的残差（对数点，0.1 约为多增长 10%）。",
        "- **经验贝叶斯收缩**：帮扶责任人的平均残差 x̄ 向全体均值 μ 收缩：可靠度 λ = τ²/(τ² + σ²/n)，"
        "收缩估计 = μ + λ(x̄ − μ)，后验标准差 √(λσ²/n)；σ² 为帮扶责任人内部方差（合并），"
        "τ² 为帮扶责任人之间的方差（矩估计，DerSimonian–Laird，负值取 0）。户少的帮扶责任人收缩得多，"
        "一户的极端结果不足以排到前面。群众测评、领导点评、干部访谈（当年 1 月 1 日至 A 日）同样处理；"
        "每人只有一次评分时无法估计 σ²，不收缩。",
        "- **综合得分**：各项收缩估计减去全体均值、除以帮扶责任人之间真实差别的标准差 τ（z 分；"
        "没有重复评分、无法估计 τ 的项用各人得分的标准差），可靠度低的项因此影响小；"
        f"再加权平均，权重 {wt}"
        "（参数 `helpers.weights`），缺项时按已有项重新归一；越高越好。走访不计分。",
        f"- **漏斗图控制限**：μ ± z·√(σ²/n + τ²)，{P.get('helpers.funnel_warn'):.0%} 与 "
        f"{P.get('helpers.flag_limit'):.1%}；过度离散按加性随机效应调整（Spiegelhalter 2005），"
        f"τ² 由每侧缩尾 {P.get('helpers.funnel_winsor'):.0%} 的 z 分估计。低于 "
        f"{P.get('helpers.flag_limit'):.1%} 下限即标记。",
        f"- **排名区间**：按各项后验分布随机抽取 {P.get('helpers.rank_draws'):,} 次（固定种子 "
        f"{P.get('helpers.rank_seed')}），每次重算综合得分与名次，取名次的中间 "
        f"{P.get('helpers.rank_level'):.0%}。排名 1 为最好。",
        "- **测评覆盖**：年内联户帮扶责任人（当年 1 月 1 日至 A 日有在帮结对）中，当年有任一测评记录的比例。",
    ])


def funnel_figure(rev: Review, highlight: Any = None,
                  title: str = "帮扶成效漏斗图 Funnel plot of helper outcomes"):
    """Helper mean residual (log points) against its number of outcome households, with the
    95 % and 99.8 % limits (additive over-dispersion τ²); helpers below the 99.8 % limit in
    vermillion. With ``highlight`` (helper ids, e.g. a town's), the others are drawn in grey."""
    import matplotlib.pyplot as plt

    from qjlib.pages.plotting import GREY, OKABE_ITO

    f = rev.funnel
    est = rev.estimates.get("outcome", {})
    fig, ax = plt.subplots(figsize=(10.0, 6.0), layout="constrained")
    if f.empty or not np.isfinite(est.get("sigma2", np.nan)):
        ax.text(0.5, 0.5, "无可用的帮扶成效数据 / no outcome data", ha="center", transform=ax.transAxes)
        return fig
    grid = np.linspace(1, max(float(f["n"].max()), 2.0), 200)
    tau2 = est["tau2_funnel"] if np.isfinite(est.get("tau2_funnel", np.nan)) else 0.0
    warn, flag = rev.levels
    for lev, style, lab in ((warn, "--", f"{warn:.0%} 控制限"), (flag, "-", f"{flag:.1%} 控制限")):
        lo, hi = funnel_limits(grid, est["mu"], est["sigma2"], tau2, lev)
        ax.plot(grid, lo, style, color=GREY, label=lab)
        ax.plot(grid, hi, style, color=GREY)
    below = (f["mean"] < f["lo_flag"]).to_numpy()
    mine = np.ones(len(f), bool) if highlight is None else _isin(f["helper_id"], list(highlight))
    jitter = (pd.util.hash_pandas_object(f["helper_id"], index=False).to_numpy() % 1000) / 1000 - 0.5
    x, y = f["n"].to_numpy(float) + 0.3 * jitter, f["mean"].to_numpy(float)
    if highlight is not None:
        ax.scatter(x[~mine], y[~mine], s=10, alpha=0.25, color=GREY, label="其他乡镇的帮扶责任人")
    sel = mine & ~below
    ax.scatter(x[sel], y[sel], s=14, alpha=0.5, color=OKABE_ITO[0],
               label="帮扶责任人" if highlight is None else "本范围的帮扶责任人")
    sel = mine & below
    ax.scatter(x[sel], y[sel], s=36, color=OKABE_ITO[3], label=f"低于 {flag:.1%} 下限")
    ax.axhline(est["mu"], color="black", lw=1)
    ax.set_xlabel("有成效观测的结对户数 n（户）")
    ax.set_ylabel("平均残差（对数点）mean residual")
    ax.set_title(title, loc="left")
    ax.grid(axis="y", visible=True)
    ax.legend(loc="lower right")
    return fig


def rank_figure(table: pd.DataFrame, title: str, n_total: int | None = None):
    """Caterpillar chart: each helper's composite rank (dot) and its rank interval (bar), one row
    per helper of ``table`` in the given order, labelled by helper id and unit (never by name);
    the axis spans ranks 1 … ``n_total`` (all ranked helpers) when given."""
    import matplotlib.pyplot as plt

    from qjlib.pages.plotting import OKABE_ITO

    t = table.reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(10.0, max(2.8, 0.42 * len(t) + 1.4)), layout="constrained")
    y = np.arange(len(t))[::-1]
    lo, hi, r = (t[c].astype(float).to_numpy() for c in ("rank_lo", "rank_hi", "rank"))
    ax.hlines(y, lo, hi, color=OKABE_ITO[0], lw=3, alpha=0.6)
    ax.plot(r, y, "o", color=OKABE_ITO[3])
    labels = t["helper_id"].astype(str) + "  " + t["unit"].fillna("").astype(str)
    ax.set_yticks(y, labels.tolist())
    if n_total:
        ax.set_xlim(-0.02 * n_total, 1.02 * n_total)
    ax.set_xlabel("综合得分排名（1 = 最好）及 95% 区间 rank and interval")
    ax.set_title(title, loc="left")
    ax.grid(axis="y", visible=False)
    return fig
