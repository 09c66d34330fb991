"""Grouped quantiles (qjlib.analyses.grouping) against numpy on long runs, on one thread and two."""

from __future__ import annotations

import numpy as np
import pytest

from qjlib.analyses import grouping


@pytest.mark.parametrize("workers", [1, 2])
def test_group_quantiles_on_long_runs_match_numpy(monkeypatch, workers):
    """Runs longer than _SORT_BELOW are partitioned (not sorted) and the upper neighbour comes from
    a minimum over the rest of the run; ties, invalid rows and a one-row group included."""
    monkeypatch.setattr(grouping, "_workers", lambda n: workers)
    rng = np.random.default_rng(5)
    n = 3 * grouping._SORT_BELOW
    g = rng.integers(0, 3, n)
    g[0] = 3  # a group of one row
    values = np.round(rng.normal(0.3, 0.4, (n, 4)), 2)  # many ties
    valid = rng.random(n) > 0.1
    valid[0] = True
    counts = np.bincount(g[valid], minlength=5)
    got = grouping.group_quantiles(values, valid, g, counts, (0.25, 0.5, 0.75))
    for k in range(4):
        sel = valid & (g == k)
        want = np.quantile(values[sel], [0.25, 0.5, 0.75], axis=0).T
        np.testing.assert_allclose(got[k], want, rtol=0, atol=1e-12)
    assert np.isnan(got[4]).all()  # an empty group
