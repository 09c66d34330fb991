"""Helper cadres: compliance rules at their edges, empirical Bayes by hand, funnel limits, the
composite and its rank intervals — on tiny frames with canonical columns."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from fixtures.frames import FramePackage

from qjlib.analyses import cadres as H
from qjlib.analyses import cadres_metrics as M
from qjlib.analyses import comparison as C
from qjlib.core.context import Context
from qjlib.core.params import ParamError, load_params
from qjlib.pages import cadres as page
from tests.fixtures.labels import assert_true_overrides_and_chinese_headers

ASOF = pd.Timestamp("2019-09-30")
T = pd.Timestamp
NaT = pd.NaT


def pairings(rows: list[tuple]) -> pd.DataFrame:
    """rows of (helper_id, hh_id, start, end)."""
    df = pd.DataFrame(rows, columns=["helper_id", "hh_id", "start", "end"])
    df["start"] = pd.to_datetime(df["start"])
    df["end"] = pd.to_datetime(df["end"])
    return df.astype({"helper_id": "str", "hh_id": "str"})


def households(ids: list[str], town: str = "城关镇", **extra) -> pd.DataFrame:
    d = {"hh_id": ids, "town": town, "village": "一村", "exit_status": "not_exited", "size": 3}
    d.update(extra)
    return pd.DataFrame(d)


# ---------------------------------------------------------------- active pairings and unpaired

def test_active_pairing_bounds_are_inclusive():
    p = pairings([
        ("a", "1", "2019-09-30", None),        # starts on the as-of day: active
        ("a", "2", "2018-01-01", "2019-09-30"),  # ends on the as-of day: still active
        ("a", "3", "2018-01-01", "2019-09-29"),  # ended the day before: not active
        ("a", "4", "2019-10-01", None),        # starts the day after: not active
        ("a", "5", "2016-01-01", None),        # open-ended: active
    ])
    assert M.active_pairings(p, ASOF).tolist() == [True, True, False, False, True]


def test_unpaired_lists_every_registered_household_without_active_pairing():
    hh = households(["1", "2", "3", "4", "5"],
                    exit_status=["not_exited", "exited", "exited", "not_exited", "returned"])
    p = pairings([
        ("a", "1", "2016-01-01", None),
        ("a", "2", "2016-01-01", "2019-06-30"),   # ended, not re-paired
        ("b", "4", "2019-10-15", None),           # only a future pairing
        ("b", "5", "2017-01-01", "2019-09-30"),   # ends on the as-of date: paired
    ])
    out = M.unpaired_households(hh, p, ASOF)
    # exited households must keep a helper too ("摘帽不摘帮扶"): 2 and 3 are listed
    assert out["hh_id"].tolist() == ["2", "3", "4"]
    r = out.set_index("hh_id")["reason"]
    assert r["2"] == "结对已于2019-06-30结束，未重新结对帮扶责任人"
    assert r["3"] == "从未结对帮扶责任人"
    assert r["4"].startswith("结对尚未开始（最近结对开始于2019-10-15）")
    assert out.set_index("hh_id")["n_pairings"].tolist() == [1, 0, 1]
    assert out.set_index("hh_id").loc["2", "last_helper_id"] == "a"


# ---------------------------------------------------------------- overload ("一帮多")

def test_overload_exactly_the_limit_is_fine_one_more_is_not():
    rows = [("full", str(i), "2018-01-01", None) for i in range(5)]          # exactly 5
    rows += [("over", str(10 + i), "2018-01-01", None) for i in range(6)]    # 6
    rows += [("full", "0", "2019-01-01", None)]                              # same hh twice: once
    rows += [("past", str(20 + i), "2017-01-01", "2019-09-29") for i in range(9)]  # all ended
    out = M.overloaded_helpers(pairings(rows), ASOF, max_households=5)
    assert out["helper_id"].tolist() == ["over"]
    assert out.loc[0, "n_households"] == 6
    assert out.loc[0, "reason"] == "在帮贫困户6户，超过上限5户（一帮多）"
    loads = M.helper_loads(pairings(rows), ASOF)
    assert loads.to_dict() == {"full": 5, "over": 6}


# ---------------------------------------------------------------- frequent change

def test_window_start_is_twelve_calendar_months_back():
    assert M.window_start(ASOF, 12) == T("2018-09-30")
    assert M.window_start(T("2020-02-29"), 12) == T("2019-02-28")


def test_change_exactly_at_window_start_is_outside_the_window():
    p = pairings([
        ("a", "1", "2016-01-01", "2018-09-30"),
        ("b", "1", "2018-09-30", "2019-03-31"),   # starts on as_of − 12 months: outside
        ("c", "1", "2019-04-01", None),           # change 1
        ("a", "2", "2016-01-01", "2018-10-01"),
        ("b", "2", "2018-10-01", "2019-03-31"),   # the day after the window start: change
        ("c", "2", "2019-04-01", "2019-09-29"),   # change
        ("d", "2", "2019-09-30", None),           # on the as-of date: change (3 in all)
        ("x", "3", "2019-01-01", "2019-05-31"),   # first pairing ever, inside the window
        ("y", "3", "2019-06-01", None),           # one change only: allowed
        ("z", "4", "2019-10-01", None),           # after the as-of date: not counted
        ("w", "4", "2016-01-01", "2019-09-30"),
    ])
    mask = M.pairing_changes(p, ASOF, 12)
    assert mask.tolist() == [False, False, True, False, True, True, True, False, True, False, False]
    out = M.frequent_changes(p, ASOF, max_changes=1, months=12)
    assert out["hh_id"].tolist() == ["2"]
    assert out.loc[0, "n_changes"] == 3
    assert out.loc[0, "helpers"] == "b、c、d"
    assert "调换帮扶责任人3次，超过上限1次" in out.loc[0, "reason"]
    # with the limit at 0 the household with one change appears, the first pairing alone does not
    assert M.frequent_changes(p, ASOF, max_changes=0, months=12)["hh_id"].tolist() == ["1", "2", "3"]


# ---------------------------------------------------------------- invalid pairings, registered poor

def test_overlaps_and_reversed_dates():
    p = pairings([
        ("a", "1", "2016-01-01", "2019-03-31"),
        ("b", "1", "2019-03-31", None),           # same-day hand-over: fine
        ("a", "2", "2016-01-01", None),           # still running ...
        ("b", "2", "2018-05-01", None),           # ... when b starts: overlap
        ("c", "3", "2019-05-01", "2019-02-01"),   # ends before it starts
        ("d", "4", "2017-01-01", "2017-12-31"),
        ("e", "4", "2018-01-01", None),           # strictly after: fine
    ])
    out = M.invalid_pairings(p)
    assert out[["hh_id", "helper_id", "kind"]].to_numpy().tolist() == [
        ["2", "b", "overlap"], ["3", "c", "end_before_start"]]
    assert out.loc[0, "other_helper_id"] == "a"
    assert out.loc[0, "reason"] == "与帮扶责任人a的结对（2016-01-01开始）时间重叠"
    assert pd.isna(out.loc[1, "other_helper_id"])


def test_helper_who_is_a_registered_poor_person():
    hp = pd.DataFrame({"helper_id": ["h1", "h2", "h3"],
                       "id_number": ["61083019800101123x", "610830198001011231", None]})
    hh = pd.DataFrame({"hh_id": ["1", "2"], "head_id_number": ["610830195001011234", None]})
    mem = pd.DataFrame({"hh_id": ["1", "2"], "id_number": ["610830195001011234", "61083019800101123X"]})
    out = M.registered_poor_helpers(hp, hh, mem)
    assert out[["helper_id", "hh_id", "role"]].to_numpy().tolist() == [["h1", "2", "成员"]]


def test_visits_counted_within_the_calendar_quarter():
    v = pd.DataFrame({"helper_id": ["a", "a", "b", "c"], "hh_id": "1",
                      "date": pd.to_datetime(["2019-07-01", "2019-09-30", "2019-06-30", "2019-10-01"])})
    assert M.period_start(ASOF, 3) == T("2019-07-01")
    assert M.visits_in_period(v, ASOF, 3).to_dict() == {"a": 2}
    assert M.period_start(ASOF, 1) == T("2019-09-01") and M.period_start(ASOF, 12) == T("2019-01-01")
    with pytest.raises(ParamError):
        M.period_start(ASOF, 5)


# ---------------------------------------------------------------- outcomes

def income(rows: list[tuple]) -> pd.DataFrame:
    """rows of (hh_id, year, size, net_per_capita)."""
    df = pd.DataFrame(rows, columns=["hh_id", "year", "size", "net_per_capita"])
    return df.astype({"hh_id": "str", "year": "Int64", "size": "Int64"})


def test_pairing_outcome_is_log_change_over_the_pairing_years():
    p = pairings([
        ("a", "1", "2016-03-01", None),          # 2016 → 2019 (income year)
        ("b", "2", "2016-03-01", "2018-06-30"),  # 2016 → 2018
        ("c", "3", "2019-02-01", None),          # 2019 → 2019: no span, no outcome
        ("d", "4", "2017-01-01", None),          # baseline income 0: no log
        ("e", "5", "2019-10-02", None),          # starts after the as-of date
    ])
    inc = income([("1", 2016, 2, 1000.0), ("1", 2019, 2, 2000.0),
                  ("2", 2016, 4, 3000.0), ("2", 2018, 4, 1500.0), ("2", 2019, 4, 9000.0),
                  ("3", 2019, 1, 5000.0), ("4", 2017, 3, 0.0), ("4", 2019, 3, 4000.0),
                  ("5", 2016, 1, 100.0), ("5", 2019, 1, 200.0)])
    hh = households(["1", "2", "3", "4", "5"], labor_capacity="有劳动能力", main_cause="因病")
    mem = pd.DataFrame({"hh_id": ["1", "1", "1", "2"],
                        "birth_date": pd.to_datetime(["1956-05-01", "2001-01-01", None, "1957-01-01"])})
    out = M.pairing_outcomes(p, inc, hh, mem, 2019, ASOF, (60, 16))
    assert out["hh_id"].tolist() == ["1", "2"]
    assert out["end_year"].tolist() == [2019, 2018]
    assert out["y"].tolist() == pytest.approx([math.log(2), math.log(0.5)])
    assert out["log_pc0"].tolist() == pytest.approx([math.log(1000), math.log(3000)])
    # household 1 in 2016: born 1956 → 60 (60+), born 2001 → 15 (under 16), one unknown
    assert out[["share_60plus", "share_under16"]].to_numpy().tolist() == [[0.5, 0.5], [0.0, 0.0]]


def test_age_structure_edges():
    mem = pd.DataFrame({"hh_id": ["1"] * 4,
                        "birth_date": pd.to_datetime(["1956-12-31", "1957-01-01", "2000-06-01",
                                                      "2001-01-01"])})
    out = M.age_structure(mem, pd.DataFrame({"hh_id": ["1", "9"], "year": [2016, 2016]}), (60, 16))
    # 2016−1956 = 60 → 60+; 59 is not; 2016−2000 = 16 is not under 16; 15 is
    assert out.iloc[0][["share_60plus", "share_under16"]].tolist() == [0.25, 0.25]
    assert out.iloc[1][["share_60plus", "share_under16"]].isna().all()


def test_residuals_remove_what_the_covariates_explain():
    rng = np.random.default_rng(1)
    n = 60
    obs = pd.DataFrame({
        "log_pc0": rng.normal(8, 0.5, n), "size0": rng.integers(1, 6, n).astype(float),
        "share_60plus": rng.uniform(0, 1, n), "share_under16": rng.uniform(0, 1, n),
        "labor_capacity": rng.choice(["有劳动能力", "无劳动能力", None], n),
        "main_cause": rng.choice(["因病", "因残"], n), "town": rng.choice(["甲镇", "乙镇", "丙镇"], n),
        "start_year": rng.choice([2016, 2017], n), "end_year": 2019,
    })
    town_fx = obs["town"].map({"甲镇": 0.0, "乙镇": 0.3, "丙镇": -0.2})
    obs["y"] = 1.5 - 0.2 * obs["log_pc0"] + 0.05 * obs["size0"] + town_fx
    assert M.outcome_residuals(obs).abs().max() < 1e-9    # an exact linear model leaves nothing
    obs.loc[7, "y"] += 1.0
    r = M.outcome_residuals(obs)
    X = C.design_matrix(obs, M.OUTCOME_NUMERIC, M.OUTCOME_CATEGORICAL).to_numpy()
    assert np.abs(X.T @ r.to_numpy()).max() < 1e-8        # residuals orthogonal to the design
    assert r.idxmax() == 7 and 0.5 < r[7] < 1.0


# ---------------------------------------------------------------- empirical Bayes

def test_eb_shrink_hand_example():
    # σ² = 4, τ² = 1, n = 4 → σ²/n = 1, λ = 1/(1+1) = 0.5; x̄ = 14, μ = 10 → 10 + 0.5·4 = 12;
    # posterior SD = √(0.5·1)
    lam, s, sd = C.eb_shrink([14.0, 14.0], [4, 1], mu=10.0, sigma2=4.0, tau2=1.0)
    assert lam.tolist() == pytest.approx([0.5, 0.2])         # n = 1: λ = 1/(1+4)
    assert s.tolist() == pytest.approx([12.0, 10.8])
    assert sd.tolist() == pytest.approx([math.sqrt(0.5), math.sqrt(0.8)])


def test_shrink_means_estimates_sigma2_and_tau2_by_hand():
    # A: 1, 3 (x̄ 2); B: 4, 6, 8 (x̄ 6); C: 10 (x̄ 10)
    # σ² = ((1−2)²+(3−2)² + (4−6)²+0+(8−6)²) / (6 − 3) = 10/3;  μ = 32/6
    # w = n/σ² = 0.6, 0.9, 0.3;  Q = 0.6(2−μ)² + 0.9(6−μ)² + 0.3(10−μ)² = 13.6
    # τ² = (13.6 − 2) / (1.8 − 1.26/1.8) = 11.6 / 1.1
    v = pd.Series([1, 3, 4, 6, 8, 10], dtype=float)
    g = pd.Series(["A", "A", "B", "B", "B", "C"])
    res, est = C.shrink_means(v, g)
    assert est["sigma2"] == pytest.approx(10 / 3)
    assert est["mu"] == pytest.approx(32 / 6)
    assert est["tau2"] == pytest.approx(11.6 / 1.1)
    tau2, s2, mu = 11.6 / 1.1, 10 / 3, 32 / 6
    lam_c = tau2 / (tau2 + s2 / 1)
    assert res.loc["C", "reliability"] == pytest.approx(lam_c)
    assert res.loc["C", "shrunk"] == pytest.approx(mu + lam_c * (10 - mu))
    assert res.loc["C", "post_sd"] == pytest.approx(math.sqrt(lam_c * s2))
    # the single-observation helper is pulled in more than the three-observation one
    assert res.loc["C", "reliability"] < res.loc["A", "reliability"] < res.loc["B", "reliability"]


def test_tau2_truncated_at_zero_shrinks_everyone_to_the_mean():
    v = pd.Series([0.0, 2.0, 0.0, 2.0, 1.0, 1.0])  # group means 1, 1, 1
    res, est = C.shrink_means(v, pd.Series(list("aabbcc")))
    assert est["tau2"] == 0.0
    assert res["shrunk"].tolist() == pytest.approx([1.0, 1.0, 1.0])
    assert res["post_sd"].tolist() == pytest.approx([0.0, 0.0, 0.0])


def test_without_replication_means_are_left_unshrunk_with_an_upper_bound_sd():
    # one score per helper: σ² not identified; var(x) = τ² + σ² ≥ σ², so sd(x) bounds the noise
    res, est = C.shrink_means(pd.Series([70.0, 90.0, 80.0]), pd.Series(["a", "b", "c"]))
    assert math.isnan(est["sigma2"]) and est["sd_bound"] is True
    assert res["shrunk"].tolist() == [70.0, 90.0, 80.0]
    assert res["reliability"].tolist() == [1.0, 1.0, 1.0]
    assert res["post_sd"].tolist() == pytest.approx([10.0, 10.0, 10.0])  # sd(70, 90, 80), ddof 1


def test_sigma2_zero_means_are_exact_not_shrunk():
    # every helper's repeated scores identical: σ² = 0, the means are exact (reliability 1)
    v = pd.Series([5.0, 5.0, 7.0, 7.0, 9.0, 9.0])
    res, est = C.shrink_means(v, pd.Series(list("aabbcc")))
    assert est["sigma2"] == 0.0
    assert est["tau2"] == pytest.approx(4.0)  # sample variance of 5, 7, 9
    assert res["reliability"].tolist() == [1.0, 1.0, 1.0]
    assert res["shrunk"].tolist() == [5.0, 7.0, 9.0]
    assert res["post_sd"].tolist() == [0.0, 0.0, 0.0]
    # float dust in the repeats (0.1 + 0.1 + 0.1) is still σ² = 0
    res, est = C.shrink_means(pd.Series([0.1] * 3 + [0.3] * 3), pd.Series(list("aaabbb")))
    assert est["sigma2"] == 0.0 and res["shrunk"].tolist() == pytest.approx([0.1, 0.3])


def test_a_helper_with_one_household_by_hand():
    # a: 1, 3 (mean 2); b: 5, 7 (mean 6); c: 4 alone. σ² = (1+1+1+1+0)/(5−3) = 2, μ = 4.
    # z = (−2, 2, 0), φ = 8/3, w = n/σ² = (1, 1, ½), Σw = 2.5, Σw² = 2.25,
    # τ² = (3·8/3 − 2) / (2.5 − 2.25/2.5) = 6/1.6 = 3.75.
    v = pd.Series([1.0, 3.0, 5.0, 7.0, 4.0])
    res, est = C.shrink_means(v, pd.Series(list("aabbc")))
    assert est["sigma2"] == pytest.approx(2.0) and est["tau2"] == pytest.approx(3.75)
    lam_a, lam_c = 3.75 / (3.75 + 1.0), 3.75 / (3.75 + 2.0)
    assert res["reliability"].tolist() == pytest.approx([lam_a, lam_a, lam_c])
    assert res["shrunk"].tolist() == pytest.approx([4 - 2 * lam_a, 4 + 2 * lam_a, 4.0])
    assert res.loc["c", "post_sd"] == pytest.approx(math.sqrt(lam_c * 2.0))


# ---------------------------------------------------------------- over-dispersion and the funnel

def test_overdispersion_winsorised_by_hand():
    # n = 1, σ² = 1, μ = 0 → z = x̄. Unwinsorised: φ = (36·2+16·2+4·4)/10 = 12,
    # τ² = (10·12 − 9)/(10 − 1) = 111/9. Winsorised at 10 %: the 0.1 and 0.9 quantiles are ∓4.2,
    # φ = (4.2²·2 + 16·2 + 4·4)/10 = 8.328, τ² = (83.28 − 9)/9.
    means = [-6, -4, -2, -2, 0, 0, 2, 2, 4, 6]
    tau2, phi = C.between_variance(means, [1] * 10, 1.0, 0.0)
    assert (tau2, phi) == pytest.approx((111 / 9, 12.0))
    tau2w, phiw = C.between_variance(means, [1] * 10, 1.0, 0.0, winsor=0.1)
    assert phiw == pytest.approx(8.328)
    assert tau2w == pytest.approx((83.28 - 9) / 9)
    # no over-dispersion: Hφ below H − 1 → τ² = 0
    assert C.between_variance([-0.5, 0.5, 0.0], [1, 1, 1], 1.0, 0.0)[0] == 0.0


def test_funnel_limits_widen_with_overdispersion():
    z95, z998 = 1.959963984540054, 3.090232306167813
    lo, hi = C.funnel_limits([4, 16], mu=0.0, sigma2=4.0, tau2=0.0, level=0.95)
    assert hi.tolist() == pytest.approx([z95 * 1.0, z95 * 0.5])
    assert lo.tolist() == pytest.approx([-z95 * 1.0, -z95 * 0.5])
    lo, hi = C.funnel_limits([4, 16], mu=1.0, sigma2=4.0, tau2=3.0, level=0.998)
    # additive: √(σ²/n + τ²) = √(1+3) = 2 and √(0.25+3)
    assert hi.tolist() == pytest.approx([1 + z998 * 2.0, 1 + z998 * math.sqrt(3.25)])
    # the funnel narrows with n, but never below z·τ once over-dispersion is allowed for
    lo_big, _ = C.funnel_limits([1e9], mu=0.0, sigma2=4.0, tau2=3.0, level=0.998)
    assert lo_big[0] == pytest.approx(-z998 * math.sqrt(3.0))


# ---------------------------------------------------------------- composite and ranks

def test_composite_renormalises_weights_over_available_components():
    s = pd.DataFrame({"outcome": [1.0, 2.0, 3.0], "villagers": [np.nan, 10.0, 20.0]},
                     index=["a", "b", "c"])
    c = C.composite_scores(s, {"outcome": 0.5, "villagers": 0.25, "interview": 0.15})
    z = math.sqrt(1.5)  # z of 3 in (1, 2, 3) with population SD √(2/3)
    assert c.tolist() == pytest.approx([-z, (0 * 0.5 - 1 * 0.25) / 0.75, (z * 0.5 + 0.25) / 0.75])


def test_a_component_without_spread_is_left_out_not_scored_zero():
    s = pd.DataFrame({"outcome": [1.0, 2.0, 3.0], "villagers": [5.0, 5.0, 5.0]},
                     index=["a", "b", "c"])
    c = C.composite_scores(s, {"outcome": 0.5, "villagers": 0.5})
    z = math.sqrt(1.5)  # the outcome's z alone: its weight is renormalised to 1
    assert c.tolist() == pytest.approx([-z, 0.0, z])
    # τ² = 0 from the estimates is no spread either
    sc = {"outcome": (2.0, 1.0), "villagers": (5.0, 0.0)}
    assert C.composite_scores(s, {"outcome": 0.5, "villagers": 0.5}, sc).tolist() == \
        pytest.approx([-1.0, 0.0, 1.0])


def test_rank_intervals_with_one_score_per_helper_are_not_too_narrow():
    s = pd.DataFrame({"interview": [70.0, 75.0, 80.0, 85.0]}, index=list("abcd"))
    res, est = C.shrink_means(s["interview"], pd.Series(s.index))
    sd = pd.DataFrame({"interview": res["post_sd"]})
    ri = C.rank_intervals(s, sd, {"interview": 1.0}, draws=2000, seed=1, level=0.95)
    # with the SD taken as 0 every interval would be the point rank; the bound widens them
    assert (ri["rank_hi"] - ri["rank_lo"]).min() >= 1


def test_components_are_standardised_on_the_true_between_helper_spread():
    s = pd.DataFrame({"outcome": [0.1, -0.1, 0.0], "interview": [60.0, 80.0, 70.0]},
                     index=["a", "b", "c"])
    est = {"outcome": {"mu": 0.0, "sigma2": 0.09, "tau2": 0.04},       # τ = 0.2
           "interview": {"mu": 70.0, "sigma2": np.nan, "tau2": np.nan}}  # one score each
    sc = C.component_scales(s, est)
    assert sc["outcome"] == pytest.approx((0.0, 0.2))
    assert sc["interview"] == pytest.approx((70.0, math.sqrt(200 / 3)))  # population SD
    c = C.composite_scores(s, {"outcome": 0.5, "interview": 0.5}, sc)
    zi = 10 / math.sqrt(200 / 3)
    # shrunk outcomes ±0.1 are half a true SD: they move the composite less than the interview
    assert c.tolist() == pytest.approx([(0.5 - zi) / 2, (-0.5 + zi) / 2, 0.0])


def test_rank_intervals_reflect_uncertainty_and_are_reproducible():
    idx = pd.Index([f"h{i}" for i in range(6)])
    s = pd.DataFrame({"outcome": [5.0, 1.0, 0.9, 0.8, 0.7, 0.0]}, index=idx)
    sd = pd.DataFrame({"outcome": [0.0, 0.01, 0.01, 0.01, 2.0, 0.0]}, index=idx)
    w = {"outcome": 1.0}
    a = C.rank_intervals(s, sd, w, draws=500, seed=7, level=0.95)
    b = C.rank_intervals(s, sd, w, draws=500, seed=7, level=0.95)
    pd.testing.assert_frame_equal(a, b)
    assert a["rank"].tolist() == [1, 2, 3, 4, 5, 6]
    assert (a.loc["h0", "rank_lo"], a.loc["h0", "rank_hi"]) == (1, 1)  # far ahead, certain
    assert a.loc["h4", "rank_lo"] <= 2 and a.loc["h4", "rank_hi"] == 6  # uncertain: wide
    assert (a["rank_lo"] <= a["rank"]).all() and (a["rank"] <= a["rank_hi"]).all()


# ---------------------------------------------------------------- the whole module on a stub package



def tiny_package(**drop) -> FramePackage:
    hh = households([f"{i}" for i in range(1, 9)], town=["甲镇"] * 4 + ["乙镇"] * 4,
                    labor_capacity="有劳动能力", main_cause="因病",
                    head_id_number=[f"61083019500101{i:04d}" for i in range(8)])
    rows = [("h1", str(i), "2016-01-01", None) for i in range(1, 7)]   # h1: 6 households
    rows += [("h2", "7", "2016-01-01", "2019-01-31"), ("h3", "7", "2019-02-01", "2019-05-31"),
             ("h2", "7", "2019-06-01", None)]                           # 2 changes for hh 7
    # hh 8: never paired
    inc = income([(str(i), y, 2, 1000.0 * (1 + 0.1 * i) ** (y - 2015)) for i in range(1, 9)
                  for y in range(2016, 2020)])
    hp = pd.DataFrame({"helper_id": ["h1", "h2", "h3", "h4"], "name": ["张三", "李四", "王五", "赵六"],
                       "id_number": ["610830195001010003", None, None, None],
                       "unit": ["县扶贫办", "县教育局", "县教育局", "县卫健局"], "team": "驻村工作队"})
    vis = pd.DataFrame({"helper_id": ["h1"], "hh_id": ["1"], "date": [T("2019-08-01")]})
    rev = pd.DataFrame({"helper_id": ["h1", "h1", "h2", "h3"], "hh_id": ["1", "2", "7", None],
                        "date": pd.to_datetime(["2019-05-01", "2019-05-02", "2019-05-03", "2018-12-01"]),
                        "source": ["villagers", "villagers", "villagers", "interview"],
                        "score": [80.0, 90.0, 60.0, 70.0]})
    t = {"households": hh, "pairings": pairings(rows), "income": inc, "helpers": hp,
         "visits": vis, "reviews": rev}
    return FramePackage(**{k: v for k, v in t.items() if k not in drop})


def ctx_of(pkg) -> Context:
    return Context(pkg, load_params("2019Q3", overrides={"helpers.rank_draws": 100}))


def test_build_ledgers_on_a_tiny_package():
    led = H.build_ledgers(ctx_of(tiny_package()))
    assert set(led) == set(H.LEDGERS)
    for name, df in led.items():
        assert list(df.columns) == list(H.COLUMNS[name]), name
    assert led["helper_unpaired"]["hh_id"].tolist() == ["8"]
    assert led["helper_overloaded"]["helper_id"].tolist() == ["h1"]
    assert led["helper_overloaded"].loc[0, "town"] == "乙镇、甲镇"   # both towns, code-point order
    assert led["helper_frequent_change"]["hh_id"].tolist() == ["7"]
    assert led["helper_registered_poor"][["helper_id", "hh_id"]].to_numpy().tolist() == [["h1", "4"]]
    rv = led["helper_review"].set_index("helper_id")
    assert rv.index.tolist() == ["h1", "h2", "h3", "h4"]
    assert rv["n_households"].tolist() == [6, 1, 0, 0]
    assert rv["visits_quarter"].tolist() == [1, 0, 0, 0]
    # h3's only review is from 2018; h2 is paired and not visited this quarter
    assert rv["reviewed"].tolist() == [True, True, False, False]
    assert rv.loc["h2", "flag"] == "no_visit"
    assert rv.loc["h3", "flag"] == "not_reviewed"        # linked in 2019 (Feb–May), no 2019 review
    assert rv.loc["h4", "flag"] == ""                     # never linked: nothing is asked of h4
    assert rv.loc["h2", "reason"] == "本季度无走访记录"
    # h3's pairing began in the income year (no span) and its review is from 2018: nothing to rate
    assert rv["composite"].notna().tolist() == [True, True, False, False]
    assert rv["rank"].tolist()[:2] in ([1, 2], [2, 1])
    assert rv.loc["h1", "n_outcome"] == 6 and rv.loc["h2", "n_outcome"] == 1


def test_summary_is_json_and_counts_the_ledgers():
    s = H.summary(ctx_of(tiny_package()))
    json.dumps(s)
    assert (s["unpaired"], s["overloaded"], s["frequent_change"]) == (1, 1, 1)
    # linked helpers this year: h1, h2, h3 — reviewed this year: h1, h2
    assert s["helpers_linked"] == 3 and s["reviewed_share"] == pytest.approx(2 / 3)
    # the share's numerator beside it: reviewed_share = reviewed ÷ helpers_linked, exactly
    assert s["reviewed"] == 2 and s["reviewed_share"] == s["reviewed"] / s["helpers_linked"]
    assert s["not_reviewed"] == s["helpers_linked"] - s["reviewed"]
    assert s["registered_poor"] == 1 and s["no_visit"] == 1


def test_missing_tables_switch_off_only_what_needs_them():
    s = H.summary(ctx_of(tiny_package(pairings=True)))
    assert s["available"] is False and "pairings" in s["reason"]
    led = H.build_ledgers(ctx_of(tiny_package(pairings=True)))
    assert all(led[k].empty for k in ("helper_unpaired", "helper_overloaded", "helper_frequent_change"))
    led = H.build_ledgers(ctx_of(tiny_package(visits=True, reviews=True, income=True)))
    rv = led["helper_review"]
    assert rv["visits_quarter"].isna().all() and rv["composite"].isna().all()
    assert led["helper_unpaired"]["hh_id"].tolist() == ["8"]


def test_counts_by_town_and_by_unit():
    pkg = tiny_package()
    led = H.build_ledgers(ctx_of(pkg))
    by_town = page.compliance_by(pkg["households"], led, "town")
    assert by_town.loc["甲镇"].to_dict() == {"households": 4, "unpaired": 0, "frequent_change": 0,
                                            "pairing_invalid": 0, "overloaded": 1}
    assert by_town.loc["乙镇"].to_dict() == {"households": 4, "unpaired": 1, "frequent_change": 1,
                                            "pairing_invalid": 0, "overloaded": 1}
    # the total counts the overloaded helper once, though it has households in both towns
    assert by_town.loc["合计", ["households", "unpaired", "overloaded"]].tolist() == [8, 1, 1]
    by_unit = page.review_by_unit(led["helper_review"], max_households=5)
    assert by_unit.loc["县教育局", ["helpers", "households", "no_visit", "not_reviewed"]].tolist() == [2, 1, 1, 1]
    assert by_unit.loc["县扶贫办", ["helpers", "households", "overloaded"]].tolist() == [1, 6, 1]


def test_funnel_figure_marks_the_helpers_below_the_limit():
    rng = np.random.default_rng(3)
    n = 40
    hh = households([str(i) for i in range(n * 4)], labor_capacity="有劳动能力", main_cause="因病")
    rows = [(f"h{i // 4:02d}", str(i), "2016-01-01", None) for i in range(n * 4)]
    growth = rng.normal(0.3, 0.1, n * 4)
    growth[:4] = -1.5                                                 # h00's four households
    inc = income([(str(i), y, 2, 1000.0 * np.exp(growth[i] * (y == 2019))) for i in range(n * 4)
                  for y in (2016, 2019)])
    pkg = FramePackage(households=hh, pairings=pairings(rows), income=inc)
    rev = H.review(ctx_of(pkg))
    low = rev.table.loc[rev.table["flag"].str.contains("below_limit"), "helper_id"].tolist()
    assert low == ["h00"]
    fig = page.funnel_figure(rev)
    red = [c for c in fig.axes[0].collections if len(c.get_offsets()) and c.get_sizes()[0] == 36]
    assert len(red) == 1 and len(red[0].get_offsets()) == 1


def test_no_overloaded_helper_gives_an_empty_ledger_with_its_columns():
    ctx = Context(tiny_package(), load_params("2019Q3", overrides={"helpers.max_households": 6}))
    ov = H.compliance(ctx)["helper_overloaded"]
    assert ov.empty and list(ov.columns) == list(H.COLUMNS["helper_overloaded"])


def test_visits_outcome_correlation_is_undefined_without_variation():
    t = pd.DataFrame({"visits_quarter": [3, 3, 3, 3], "n_households": [3, 3, 3, 3],
                      "outcome_shrunk": [0.1, -0.2, 0.0, 0.3]})
    rho, n = H.visits_outcome_correlation(t)
    assert math.isnan(rho) and n == 4
    t["visits_quarter"] = [1, 2, 3, 6]     # per household 1/3, 2/3, 1, 2 — ranks 1..4
    rho, _ = H.visits_outcome_correlation(t)
    assert rho == pytest.approx(0.4)       # ranks of outcome: 3, 1, 2, 4 → 1 − 6·6/(4·15)


# ---------------------------------------------------------------- thresholds are parameters

def ctx_with(pkg, **overrides) -> Context:
    return Context(pkg, load_params("2019Q3", overrides={"helpers.rank_draws": 100, **overrides}))


def test_the_change_window_is_a_parameter():
    # hh 7 changed helper on 2019-02-01 and 2019-06-01: two changes in 12 months, one in 6
    assert H.compliance(ctx_with(tiny_package()))["helper_frequent_change"]["hh_id"].tolist() == ["7"]
    six = ctx_with(tiny_package(), **{"helpers.change_window_months": 6})
    assert H.compliance(six)["helper_frequent_change"].empty
    two = ctx_with(tiny_package(), **{"helpers.change_window_months": 6, "helpers.max_changes_12m": 0})
    assert H.compliance(two)["helper_frequent_change"].loc[0, "reason"].startswith("近6个月（2019-03-30后至")
    s = H.summary(six)
    assert "近 6 个月" in page.reading(s, H.review(six).table, "甲县", six.params)
    assert page.key_figures(s, H.review(six).table, six.params)["频繁调换 frequent change"][1] == "户，近6个月"


def test_the_visit_period_is_a_parameter():
    # h1's only visit is on 2019-08-01: inside the quarter, outside the month of September
    quarter = H.review(ctx_with(tiny_package())).table.set_index("helper_id")
    month = H.review(ctx_with(tiny_package(), **{"helpers.visit_period_months": 1})).table
    month = month.set_index("helper_id")
    assert quarter.loc["h1", "visits_quarter"] == 1 and "no_visit" not in quarter.loc["h1", "flag"]
    assert month.loc["h1", "visits_quarter"] == 0 and "no_visit" in month.loc["h1", "flag"]
    with pytest.raises(ParamError):
        H.review(ctx_with(tiny_package(), **{"helpers.visit_period_months": 5}))


def test_the_age_bounds_are_parameters():
    pkg = tiny_package()
    members = pd.DataFrame({"hh_id": ["1", "1", "2"],
                            "birth_date": pd.to_datetime(["1950-05-01", "2005-01-01", "1980-01-01"])})
    pkg = FramePackage(**pkg.tables, members=members)
    base = H.review(ctx_with(pkg)).outcomes.set_index(["helper_id", "hh_id"])
    # in 2016 the members of household 1 are 66 and 11
    assert base.loc[("h1", "1"), ["share_60plus", "share_under16"]].tolist() == [0.5, 0.5]
    other = H.review(ctx_with(pkg, **{"helpers.old_age": 70, "helpers.child_age": 10})).outcomes
    other = other.set_index(["helper_id", "hh_id"])
    assert other.loc[("h1", "1"), ["share_60plus", "share_under16"]].tolist() == [0.0, 0.0]


def test_ledger_headers_hold_only_true_overrides_and_every_column_has_one():
    assert_true_overrides_and_chinese_headers(H.LEDGERS, H.COLUMNS)


def test_the_page_words_the_run_parameters():
    ctx = ctx_with(tiny_package(), **{"helpers.old_age": 65, "helpers.change_window_months": 24})
    text = page.definitions_text(ctx.params)
    assert "65 岁以上和 16 岁以下" in text and "近 24 个月（A 前 24 个月" in text
    assert "95% 与 99.8%" in text and "每侧缩尾 10%" in text
    view = page.review_view(H.review(ctx).table)
    assert list(view.columns) == list(page.VIEW_ZH) and view["interval"].str.contains("–").any()
