"""Time-series statistics of a panel (qjlib.analyses.trend) on tiny arrays: runs of decreases, the
exact income/size split of a per-capita change, CAGR, the Theil–Sen slope and the exact
Mann–Kendall test."""

from __future__ import annotations

import itertools
from math import factorial

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from qjlib.analyses import trend as tr
from qjlib.core.definitions import INCOME_COMPONENTS


def test_decrease_runs_counts_runs_anywhere():
    pc = np.array([[5.0, 4, 3, 4, 3, 2, 1], [1, 2, np.nan, 1, 0, 1, 2]])
    dec, run = tr.decrease_runs(pc * 3, np.full(pc.shape, 3.0), 0.0)
    assert run[0].tolist() == [0, 1, 2, 0, 1, 2, 3]
    assert run[1].tolist() == [0, 0, 0, 0, 1, 0, 0]
    assert not dec[:, 0].any()


def test_a_fall_is_decided_without_dividing():
    # 10,000/3 → 9,999.99/3 is a fall of 0.0033 per person; 7,000/3 → 7,000/3 none; with
    # min_drop 100: 3,300/1 → 6,400/2 is a fall of exactly 100, not more than it
    net = np.array([[10000.0, 9999.99], [7000.0, 7000.0], [3300.0, 6400.0]])
    size = np.array([[3.0, 3.0], [3.0, 3.0], [1.0, 2.0]])
    assert tr.decrease_runs(net, size, 0.0)[0][:, 1].tolist() == [True, False, True]
    assert tr.decrease_runs(net, size, 100.0)[0][:, 1].tolist() == [False, False, False]


def test_jumps_at_the_factor_exactly():
    # factor 3: 1,000 → 3,000 per person is a jump (≥ 3), 1,000 → 2,999.99 is not; 3,000 → 1,000
    # is (≤ 1/3); a year with income ≤ 0 is never a jump
    net = np.array([[1000.0, 3000.0], [1000.0, 2999.99], [9000.0, 3000.0], [0.0, 5000.0]])
    size = np.array([[1.0, 1.0], [1.0, 1.0], [3.0, 3.0], [1.0, 1.0]])
    assert tr.jump_flags(net, size, 3).ravel().tolist() == [True, False, True, False]


def test_split_adds_up_exactly_on_a_hand_example():
    net = np.array([[10000.0, 9000.0]])
    size = np.array([[4.0, 5.0]])
    inc, sz = tr.decompose_change(net, size)
    # ΔY·½(1/4+1/5) = −1000·0.225 = −225; Δ(1/n)·½(Y0+Y1) = (−0.05)·9500 = −475
    assert inc[0, 0] == pytest.approx(-225.0)
    assert sz[0, 0] == pytest.approx(-475.0)
    assert inc[0, 0] + sz[0, 0] == pytest.approx(9000 / 5 - 10000 / 4)


money = st.floats(-50_000, 200_000, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(
    y=st.lists(st.tuples(money, money, money, money), min_size=2, max_size=6),
    n=st.lists(st.integers(1, 12), min_size=6, max_size=6),
)
def test_split_always_adds_up_to_the_change(y, n):
    comps = np.array(y).T[:, None, :]  # component × household × year
    t = comps.shape[2]
    size = np.array(n[:t], dtype=float)[None, :]
    net = comps.sum(axis=0)
    inc, sz = tr.decompose_change(net, size)
    change = np.diff(net / size, axis=1)
    scale = 1.0 + np.abs(net).max()
    np.testing.assert_allclose(inc + sz, change, rtol=0, atol=1e-9 * scale)
    ce = tr.component_effects({c: comps[k] for k, c in enumerate(INCOME_COMPONENTS)}, size)
    np.testing.assert_allclose(sum(ce.values()), inc, rtol=0, atol=1e-9 * scale)


def test_mann_kendall_exact_p_for_strictly_increasing_four_years():
    mk = tr.mann_kendall(np.array([[1.0, 2.0, 3.0, 4.0], [4.0, 3.0, 2.0, 1.0]]))
    assert mk.loc[0, "s"] == 6 and mk.loc[1, "s"] == -6
    assert mk.loc[0, "p_up"] == pytest.approx(1 / 24)
    assert mk.loc[0, "p_two"] == pytest.approx(2 / 24)
    assert mk.loc[1, "p_down"] == pytest.approx(1 / 24)
    assert mk.loc[1, "p_up"] == pytest.approx(1.0)


def test_mann_kendall_null_distribution_without_ties_is_mahonian():
    dist = tr.mk_null_distribution((1,) * 5)
    counts = (dist * factorial(5)).round().astype(int)
    # Mahonian numbers for n = 5: inversions 0..10
    assert counts.sort_index(ascending=False).tolist() == [1, 4, 9, 15, 20, 22, 20, 15, 9, 4, 1]
    assert dist.index.min() == -10 and dist.index.max() == 10


def _brute_force(values: tuple[float, ...], s_obs: int) -> tuple[float, float, float]:
    perms = list(itertools.permutations(values))
    ss = np.array([sum(np.sign(p[j] - p[i]) for i, j in itertools.combinations(range(len(p)), 2))
                   for p in perms])
    return (ss >= s_obs).mean(), (ss <= s_obs).mean(), (np.abs(ss) >= abs(s_obs)).mean()


@pytest.mark.parametrize("series", [
    (3.0, 1.0, 4.0, 1.0, 5.0),
    (2.0, 2.0, 2.0, 1.0, 3.0, 3.0),
    (5.0, 4.0, 4.0, 1.0),
    (1.0, 2.0, 3.0, 4.0, 5.0, 6.0),
    (1.0, 3.0, 2.0),
])
def test_mann_kendall_matches_enumerating_all_permutations_with_ties(series):
    mk = tr.mann_kendall(np.array([series]))
    s = int(mk.loc[0, "s"])
    up, down, two = _brute_force(series, s)
    assert mk.loc[0, "p_up"] == pytest.approx(up)
    assert mk.loc[0, "p_down"] == pytest.approx(down)
    assert mk.loc[0, "p_two"] == pytest.approx(two)


def test_mann_kendall_skips_missing_years_and_needs_three():
    x = np.array([[1.0, np.nan, 2.0, 3.0, np.nan], [1.0, 2.0, 3.0, np.nan, np.nan],
                  [1.0, np.nan, np.nan, 2.0, np.nan]])
    mk = tr.mann_kendall(x)
    assert mk["n"].tolist() == [3, 3, 2]
    assert mk.loc[0, "p_up"] == pytest.approx(1 / 6) and mk.loc[1, "p_up"] == pytest.approx(1 / 6)
    assert np.isnan(mk.loc[2, "p_two"])


def test_theil_sen_on_log_income_matches_scipy():
    years = np.arange(2014, 2020)
    pc = np.array([[3000.0, 3300.0, 2900.0, 3600.0, 4100.0, 3900.0],
                   [5000.0, np.nan, 4000.0, 4100.0, 3000.0, 2500.0]])
    got = tr.theil_sen_log_slope(pc, years)
    for k in range(2):
        ok = ~np.isnan(pc[k])
        want = stats.theilslopes(np.log(pc[k, ok]), years[ok]).slope
        assert got[k] == pytest.approx(want)


def test_cagr_needs_positive_ends():
    years = np.arange(2016, 2020)
    pc = np.array([[-100.0, 2000, 3000, 4000], [np.nan, 1000, 2000, 4000],
                   [np.nan, np.nan, 1000, np.nan]])
    got = tr.cagr(pc, years)
    assert np.isnan(got[0])
    assert got[1] == pytest.approx(1.0)  # doubling a year, 2017 → 2019
    assert np.isnan(got[2])
