"""The exit assessment's statistics (qjlib.analyses.survey): a clustered ratio estimator, its
design effect and interval, the verdict against a threshold and the sample-size planner — each
checked against numbers derived by hand, and the intervals' coverage checked by simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qjlib.analyses.survey import (
    CLOPPER_PEARSON,
    MET,
    NOT_MET,
    UNDECIDED,
    WILSON,
    SurveyError,
    clustered_rates,
    estimate_rate,
    exact_power,
    judge,
    needed_effective_size,
    plan_sample_size,
    wilson_interval,
)
from qjlib.core.params import load_params

PARAMS = load_params("2019Q3")
LEVEL = PARAMS.get("exit.confidence_level")  # 0.95
ASSUMED = PARAMS.get("exit.assumed_deff")  # 2.0
Z = 1.959963984540054  # Φ⁻¹(0.975), any normal table: 1.96
T2 = 4.302652729749462  # t quantile 0.975 with 2 degrees of freedom, any t table: 4.303
T29 = 2.045229642132703  # t quantile 0.975 with 29 degrees of freedom: 2.045


def _est(found, total, cluster):
    return estimate_rate(found, total, cluster, level=LEVEL, assumed_deff=ASSUMED)


def test_parameters_are_the_contract_s():
    assert PARAMS.get("exit.max_wrong_exit_rate") == 0.02
    assert PARAMS.get("exit.max_missed_rate") == 0.02
    assert PARAMS.get("exit.min_approval") == 0.90
    assert (LEVEL, ASSUMED) == (0.95, 2.0)


# ------------------------------------------------------------------------------------------
# A clustered example, by hand
# ------------------------------------------------------------------------------------------

def test_hand_computed_clustered_example():
    """Nine sampled exited households in three villages; persons found wrongly exited:

        village A: households of 4, 3, 5 persons; the first (4 persons) wrongly exited
                   → y_A = 4, n_A = 12
        village B: households of 2, 6 persons; none   → y_B = 0, n_B = 8
        village C: households of 5, 5, 5, 5; the 2nd → y_C = 5, n_C = 20
    """
    found = [4, 0, 0, 0, 0, 0, 5, 0, 0]
    persons = [4, 3, 5, 2, 6, 5, 5, 5, 5]
    village = ["A", "A", "A", "B", "B", "C", "C", "C", "C"]
    e = _est(found, persons, village)
    # p̂ = Σy / Σn = (4 + 0 + 5) / (12 + 8 + 20) = 9 / 40 = 0.225
    assert (e.found, e.total, e.units, e.clusters) == (9, 40, 9, 3)
    assert e.rate == 0.225
    # residuals y_c − p̂ n_c: A 4 − 0.225·12 = 1.3; B 0 − 0.225·8 = −1.8; C 5 − 0.225·20 = 0.5
    # (they sum to 0); squares 1.69 + 3.24 + 0.25 = 5.18
    # v = k/(k−1) · 5.18 / 40² = 3/2 · 5.18 / 1600 = 7.77 / 1600 = 0.00485625
    assert e.variance == pytest.approx(0.00485625, rel=1e-12)
    # SRS variance p̂(1−p̂)/n = 0.225 · 0.775 / 40 = 0.174375 / 40 = 0.004359375
    # deff = 0.00485625 / 0.004359375 = 7.77 / 6.975 = 1.113978…  (≥ 1, kept)
    assert e.deff == pytest.approx(7.77 / 6.975, rel=1e-12)
    assert e.deff_estimated
    # n_eff = 40 / deff = 40 · 6.975 / 7.77 = 279 / 7.77 = 35.907336
    assert e.n_eff == pytest.approx(279 / 7.77, rel=1e-12)
    # degrees-of-freedom factor (z / t_{2})² = (1.959964 / 4.302653)² = 0.2075026
    # n* = 35.907336 · 0.2075026 = 7.450866
    n_star = 279 / 7.77 * (Z / T2) ** 2
    assert n_star == pytest.approx(7.450866, abs=1e-6)
    assert e.n_interval == pytest.approx(n_star, rel=1e-12)
    # Wilson on n*: z²/n* = 3.841459 / 7.450866 = 0.515572; d = 1 + 0.515572 = 1.515572
    # centre = (0.225 + 0.515572/2) / 1.515572 = 0.482786 / 1.515572 = 0.318550
    # half   = 1.959964 / 1.515572 · √(0.225·0.775/7.450866 + 3.841459/(4·7.450866²))
    #        = 1.293218 · √(0.0234035 + 0.0172993) = 1.293218 · 0.201749 = 0.260904
    # interval = [0.318550 − 0.260904, 0.318550 + 0.260904] = [0.057646, 0.579455]
    assert e.method == WILSON
    assert e.low == pytest.approx(0.057646, abs=1e-6)
    assert e.high == pytest.approx(0.579455, abs=1e-6)
    # without the factor (Wilson on n_eff = 35.907 itself) the interval would be narrower:
    lo, hi = wilson_interval(0.225, 279 / 7.77, LEVEL)
    assert e.low < lo < 0.225 < hi < e.high


def test_the_estimator_reads_households_in_any_order_and_vectorises_over_samples():
    e = _est([0, 5, 0, 4, 0, 0, 0, 0, 0], [5, 5, 6, 4, 5, 2, 5, 3, 5],
             ["C", "C", "B", "A", "C", "B", "C", "A", "A"])
    assert (e.rate, e.deff) == (0.225, pytest.approx(7.77 / 6.975))
    # two samples at once (cluster totals, last axis = villages): the example and its mirror
    r = clustered_rates([[4, 0, 5], [8, 8, 15]], [[12, 8, 20], [12, 8, 20]],
                        level=LEVEL, assumed_deff=ASSUMED)
    assert r.rate.tolist() == [0.225, 0.775]
    assert r.deff[0] == pytest.approx(r.deff[1])  # the same residuals, mirrored
    assert r.low[0] == pytest.approx(1 - r.high[1]) and r.high[0] == pytest.approx(1 - r.low[1])


# ------------------------------------------------------------------------------------------
# Edges
# ------------------------------------------------------------------------------------------

def test_nothing_found_takes_the_assumed_deff_and_clopper_pearson():
    # 30 villages × 40 households, no wrong exit: p̂ = 0, v = 0, deff = 0/0 → exit.assumed_deff 2
    e = _est(np.zeros(1200), np.ones(1200), np.repeat(np.arange(30), 40))
    assert (e.rate, e.deff, e.deff_estimated, e.method) == (0.0, 2.0, False, CLOPPER_PEARSON)
    assert math.isnan(e.variance)
    # n_eff = 1200 / 2 = 600; n* = 600 · (z / t_29)² = 600 · 0.918358 = 551.015
    n_star = 600 * (Z / T29) ** 2
    assert e.n_interval == pytest.approx(n_star, rel=1e-9)
    # Clopper–Pearson at 0: [0, 1 − 0.025^(1/n*)] = [0, 1 − exp(ln 0.025 / 551.006)]
    #                                             = [0, 1 − exp(−3.688879 / 551.015)] = [0, 0.006672]
    assert e.low == 0.0
    assert e.high == pytest.approx(1 - 0.025 ** (1 / n_star), rel=1e-9)
    assert e.high == pytest.approx(0.006672, abs=1e-6)
    # below 2 %: met
    assert judge(e, PARAMS.get("exit.max_wrong_exit_rate"), at_most=True).state == MET


def test_everything_found_is_the_mirror():
    e = _est(np.ones(1200), np.ones(1200), np.repeat(np.arange(30), 40))
    assert (e.rate, e.deff, e.method) == (1.0, 2.0, CLOPPER_PEARSON)
    n_star = 600 * (Z / T29) ** 2
    assert e.high == 1.0
    assert e.low == pytest.approx(0.025 ** (1 / n_star), rel=1e-9)
    assert judge(e, PARAMS.get("exit.min_approval"), at_most=False).state == MET


def test_one_village_cannot_estimate_a_design_effect():
    # 100 households of one village, 10 approve: k/(k−1) undefined → deff 2, no df factor
    # (no variance estimated): n* = n_eff = 100 / 2 = 50; Wilson on 50 at p̂ = 0.1
    e = _est(np.r_[np.ones(10), np.zeros(90)], np.ones(100), np.full(100, "村"))
    assert (e.clusters, e.deff, e.deff_estimated, e.n_eff, e.n_interval) == (1, 2.0, False, 50, 50)
    lo, hi = wilson_interval(0.1, 50, LEVEL)
    assert (e.low, e.high, e.method) == (pytest.approx(lo), pytest.approx(hi), WILSON)
    # z²/50 = 3.841459/50 = 0.0768292; centre = (0.1 + 0.0384146)/1.0768292 = 0.128539;
    # half = 1.959964/1.0768292 · √(0.09/50 + 3.841459/10000) = 1.820125 · 0.0467348 = 0.085063
    # interval = [0.128539 − 0.085063, 0.128539 + 0.085063] = [0.043476, 0.213602]
    assert (lo, hi) == (pytest.approx(0.043476, abs=1e-6), pytest.approx(0.213602, abs=1e-6))


def test_villages_more_alike_than_chance_get_deff_one():
    # two villages, each exactly half found: residuals 0, v = 0 with 0 < p̂ < 1 → deff = max(1, 0)
    e = _est([1, 0, 1, 0], [1, 1, 1, 1], [1, 1, 2, 2])
    assert (e.rate, e.variance, e.deff, e.deff_estimated) == (0.5, 0.0, 1.0, True)


def test_an_empty_sample_is_a_clear_error():
    with pytest.raises(SurveyError, match="empty sample"):
        _est([], [], [])
    with pytest.raises(SurveyError, match="empty sample"):
        _est([0, 0], [0, 0], ["a", "b"])  # households of no persons
    with pytest.raises(SurveyError, match="0 ≤ found ≤ total"):
        _est([3], [2], ["a"])
    with pytest.raises(SurveyError, match="0 ≤ found ≤ total"):
        _est([3, 0], [2, 5], ["a", "a"])  # the village's 3 of 7 would hide it
    with pytest.raises(SurveyError, match="differ in length"):
        _est([1, 0], [1, 1], ["a"])


# ------------------------------------------------------------------------------------------
# Verdicts
# ------------------------------------------------------------------------------------------

def test_verdicts_in_the_contract_s_words():
    t = PARAMS.get("exit.max_wrong_exit_rate")
    villages = np.repeat(np.arange(30), 50)  # 1,500 single-person households

    def sample(n_found):  # found spread one per village, as evenly as a sample can be
        y = np.zeros(1500)
        y[np.arange(n_found) * 50 % 1500 + np.arange(n_found) // 30] = 1
        return _est(y, np.ones(1500), villages)

    low = sample(9)  # 0.6 %: upper bound well below 2 %
    assert low.high <= t and judge(low, t, at_most=True).state == MET
    high = sample(45)  # 3 % > 2 %: not met, whatever the interval
    assert judge(high, t, at_most=True).state == NOT_MET
    mid = sample(24)  # 1.6 %: below 2 % but the upper bound is above
    v = judge(mid, t, at_most=True)
    assert mid.rate < t < mid.high and v.state == UNDECIDED
    # extra households: n* = z² t(1−t)/(t − p̂)² = 3.841459 · 0.0196 / 0.004² = 4705.79;
    # n_eff = n* / (z/t_29)² ; households = ⌈deff · n_eff⌉ − 1500 (one person each)
    need = Z**2 * 0.02 * 0.98 / 0.004**2
    assert v.extra_households == math.ceil(mid.deff * need / (Z / T29) ** 2) - 1500
    # exactly at 2 % (30 of 1,500) is not "above 2 %": undecided, and no sample size decides it
    v_at = judge(sample(30), t, at_most=True)
    assert (v_at.state, v_at.extra_households) == (UNDECIDED, None)


def test_the_point_estimate_is_compared_exactly():
    # 1 of 50 persons is exactly 2 %: 50 · 1 > 1 · 50 is false → not "not met" (a float
    # division 1/50 would be fine here, but 7/350 or 0.1 + 0.2-style sums need not be)
    e = _est([1] + [0] * 49, [1] * 50, [1] * 25 + [2] * 25)
    assert judge(e, 0.02, at_most=True).state == UNDECIDED
    # approval: 270 of 300 is exactly 90 % → not "below 90 %"; 269 of 300 is below
    y = np.r_[np.ones(270), np.zeros(30)]
    e90 = _est(y, np.ones(300), np.repeat(np.arange(10), 30))
    assert judge(e90, PARAMS.get("exit.min_approval"), at_most=False).state == UNDECIDED
    y[0] = 0
    e89 = _est(y, np.ones(300), np.repeat(np.arange(10), 30))
    assert judge(e89, PARAMS.get("exit.min_approval"), at_most=False).state == NOT_MET


def test_approval_met_when_the_lower_bound_clears_90_percent():
    y = np.r_[np.ones(1440), np.zeros(60)]  # 96 % of 1,500, spread evenly over 30 villages
    e = _est(y, np.ones(1500), np.tile(np.arange(30), 50))
    assert e.low >= 0.90 and judge(e, 0.90, at_most=False).state == MET


# ------------------------------------------------------------------------------------------
# The planner
# ------------------------------------------------------------------------------------------

def test_planner_hand_example():
    # true wrong-exit rate 1 %, threshold 2 %, deff 2, power 0.8 (z_0.8 = 0.841621):
    # √(t(1−t)) = √0.0196 = 0.14; √(r(1−r)) = √0.0099 = 0.0994987
    # n* = (1.959964 · 0.14 + 0.841621 · 0.0994987)² / 0.01² = (0.274395 + 0.083740)² / 0.0001
    #    = 0.358135² / 0.0001 = 1282.61;  households = ⌈2 · 1282.61⌉ = 2566
    plan = plan_sample_size(0.01, 0.02, deff=2.0, level=LEVEL, power=0.8)
    assert plan.n_eff == pytest.approx(1282.608, abs=1e-3)
    assert plan.households == 2566
    # the exact binomial on 1,283 single-person households: P(upper bound ≤ 2 %) ≈ 0.78
    assert plan.exact_power == pytest.approx(0.8, abs=0.03)
    # power 0.5: n* = z² t(1−t)/(t−r)² = 3.841459 · 0.0196 / 0.0001 = 752.93 → 753 households at
    # deff 1; the bound just crosses when the sample shows exactly 1 %, so about half succeed
    half = plan_sample_size(0.01, 0.02, deff=1.0, level=LEVEL, power=0.5)
    assert (half.households, half.n_eff) == (753, pytest.approx(752.926, abs=1e-3))
    assert half.exact_power == pytest.approx(0.5, abs=0.03)
    assert wilson_interval(0.01, needed_effective_size(0.01, 0.02, level=LEVEL), LEVEL)[1] == \
        pytest.approx(0.02, rel=1e-12)  # the planner's relation is the verdict's bound


def test_planner_options():
    # persons: households of 4 persons on average need a quarter as many households
    assert plan_sample_size(0.01, 0.02, deff=2.0, level=LEVEL, mean_size=4).households == \
        math.ceil(2 * 1282.608 / 4)
    # 30 villages: the df factor asks for n*/(z/t_29)² effective persons
    p30 = plan_sample_size(0.01, 0.02, deff=2.0, level=LEVEL, clusters=30)
    assert p30.n_eff == pytest.approx(1282.608 / (Z / T29) ** 2, abs=1e-2)
    # approval ≥ 90 % with a true 95 % is the mirror of a rate 5 % below 10 %
    a = plan_sample_size(0.95, 0.90, deff=1.5, level=LEVEL)
    b = plan_sample_size(0.05, 0.10, deff=1.5, level=LEVEL)
    assert a.households == b.households
    # nothing to find: Clopper–Pearson needs ln(0.025)/ln(0.98) = 182.6, the normal 188.2
    zero = plan_sample_size(0.0, 0.02, deff=1.0, level=LEVEL)
    assert zero.households == 189 and exact_power(189, 0.0, 0.02, level=LEVEL) == 1.0
    with pytest.raises(SurveyError):
        plan_sample_size(0.02, 0.02, deff=2.0, level=LEVEL)
    with pytest.raises(SurveyError):
        plan_sample_size(0.01, 0.02, deff=0.5, level=LEVEL)


# ------------------------------------------------------------------------------------------
# Coverage by simulation
# ------------------------------------------------------------------------------------------

def _simulate(rate, seed, *, villages=300, sampled=30, icc=0.02, samples=4000):
    """A county of ``villages`` villages of 80–400 households, village rates ~ Beta with mean
    ``rate`` and intra-class correlation ``icc`` (a + b = 1/icc − 1), households drawn from
    them; the truth is the county's own rate. Each sample: ``sampled`` villages with
    probability proportional to size (with replacement), 35–65 households each drawn without
    replacement (about 1,500 households). Returns (truth, results, naive low, naive high)."""
    rng = np.random.default_rng(seed)
    size = rng.integers(80, 401, villages)
    s = 1 / icc - 1
    positives = rng.binomial(size, rng.beta(rate * s, (1 - rate) * s, villages))
    truth = positives.sum() / size.sum()
    pick = rng.choice(villages, size=(samples, sampled), p=size / size.sum())
    take = rng.integers(35, 66, (samples, sampled))
    found = rng.hypergeometric(positives[pick], size[pick] - positives[pick], take)
    r = clustered_rates(found, take, level=LEVEL, assumed_deff=ASSUMED)
    naive = wilson_interval(r.rate, r.total, LEVEL)  # binomial: households as if independent
    return truth, r, naive


@pytest.mark.parametrize("rate,seed", [(0.01, 101), (0.02, 202), (0.10, 303)])
def test_intervals_cover_the_truth_95_percent_of_the_time(rate, seed):
    truth, r, (nlo, nhi) = _simulate(rate, seed)
    cover = float(np.mean((r.low <= truth) & (truth <= r.high)))
    above = float(np.mean(truth > r.high))  # the miss that would wrongly pass a threshold
    naive = float(np.mean((nlo <= truth) & (truth <= nhi)))
    print(f"\nrate {rate:.0%} (county {truth:.4f}): clustered Wilson covers {cover:.3f} "
          f"(truth above the bound {above:.3f}), naive binomial Wilson {naive:.3f}; "
          f"median deff {np.median(r.deff):.2f}, median n {np.median(r.total):.0f}, "
          f"nothing found in {np.mean(r.found == 0):.3f}")
    assert 1000 <= np.median(r.total) <= 2000
    assert 0.93 <= cover <= 0.97
    assert naive < 0.90  # the binomial interval ignores the clustering and under-covers
