"""The Gini coefficient and its Lerman–Yitzhaki decomposition (qjlib.analyses.inequality): mid-rank
ties, the plug-in Gini against the mean absolute difference, and the decomposition adding up (a
property). The hand-computed decomposition of per-capita income sources is in test_income.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qjlib.analyses import inequality


def test_midrank_cdf_ties_share_the_average_rank():
    # ranks of [3, 1, 3, 2]: 1→1, 2→2, the two 3s share (3+4)/2 = 3.5; F = (rank − ½)/n
    assert inequality.midrank_cdf([3, 1, 3, 2]).tolist() == [0.75, 0.125, 0.75, 0.375]
    assert inequality.midrank_cdf([5, 5, 5]).tolist() == [0.5, 0.5, 0.5]


def test_gini_with_ties_does_not_depend_on_row_order():
    y = np.array([1.0, 2, 2, 2, 7, 7, 10])
    g = inequality.gini(y)
    diffs = np.abs(y[:, None] - y[None, :]).sum() / (2 * len(y) ** 2 * y.mean())
    assert g == pytest.approx(diffs, abs=1e-15)
    assert inequality.gini(y[::-1]) == g


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 50), st.integers(-20, 50), st.integers(0, 50)),
                min_size=2, max_size=30).filter(lambda r: sum(a + b + c for a, b, c in r) > 0))
def test_lerman_yitzhaki_contributions_add_up_to_the_gini(rows):
    src = pd.DataFrame(rows, columns=["wage", "operating_net", "transfer"], dtype=float)
    ly = inequality.lerman_yitzhaki(src)
    y = src.sum(axis=1).to_numpy()
    g = np.abs(y[:, None] - y[None, :]).sum() / (2 * len(y) ** 2 * y.mean())
    assert ly.loc["total", "gini"] == pytest.approx(g, abs=1e-12)
    parts = ly.drop(index="total")
    assert parts["contribution"].sum() == pytest.approx(ly.loc["total", "gini"], abs=1e-12)
    assert parts["share"].sum() == pytest.approx(1.0)
    if ly.loc["total", "gini"] > 0:
        assert parts["marginal"].sum(skipna=False) == pytest.approx(0.0, abs=1e-9)
    else:  # everyone has the same income: no inequality to attribute
        assert parts["relative"].isna().all()
    ok = parts["gini_corr"].notna() & parts["gini"].notna()
    sgr = (parts["share"] * parts["gini"] * parts["gini_corr"])[ok]
    assert sgr.to_numpy() == pytest.approx(parts.loc[ok, "contribution"].to_numpy(), abs=1e-12)
