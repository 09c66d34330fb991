"""The demo generator's standards are the standards of params/: every constant the planted cases
sit on (and truth.json applies) equals the default of ``params/standards.yaml`` that means the same
thing, and the period 2019Q3 leaves it so. A change of a default must be a change of the demo too."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qjlib.core.params import load_params, load_standards, parse_period
from qjlib.demo import PERIOD, base, plants


@pytest.fixture(scope="module")
def params():
    return load_params(PERIOD)


@pytest.mark.parametrize("name", sorted(base.STANDARDS))
def test_each_generator_standard_is_the_default(name, params):
    std = load_standards()
    assert name in std, f"{name} is not a standard of params/standards.yaml"
    assert base.STANDARDS[name] == std[name]["value"]
    assert base.STANDARDS[name] == params.get(name)


def test_the_threshold_constants_are_the_ones_listed():
    s = base.STANDARDS
    assert s["decline.n_declines"] == base.N_DECLINES
    assert s["income.low_operating_share"] == base.LOW_OPERATING
    assert s["income.transfer_dependent_share"] == base.TRANSFER_DEPENDENT
    assert s["helpers.max_households"] == base.MAX_HOUSEHOLDS
    assert s["helpers.max_changes_12m"] == base.MAX_CHANGES
    assert s["dividends.default_due"] == base.DIVIDEND_DEFAULT_DUE
    assert s["dividends.natures"] == list(base.DIVIDEND_NATURES)


def test_poverty_lines_are_the_standard(params):
    lines = params.poverty_lines
    assert list(lines.index) == list(base.YEARS)
    np.testing.assert_array_equal(lines.to_numpy(), base.POVERTY_LINE)


def test_calendar_is_the_period(params):
    year, _, asof = parse_period(PERIOD)
    assert np.datetime64(asof.date(), "D") == base.ASOF
    assert params.asof == pd.Timestamp(base.ASOF)
    assert params.income_year(base.YEARS) == base.INCOME_YEAR == year
    # the frequent-change window is the 12 months up to the as-of date
    assert np.datetime64((asof - pd.DateOffset(months=12)).date(), "D") == base.WINDOW_START


def _shares(row):
    w, o, c, p, t = row
    net = w + o - c + p + t
    return (o - c) / net, t / net


def test_share_plants_sit_on_and_beside_the_standard_thresholds():
    low, dep = base.LOW_OPERATING, base.TRANSFER_DEPENDENT
    rows = {k: r for k, r in plants.SHARE_ROWS if sum(r) - 2 * r[2] > 0}  # net > 0: shares exist
    assert set(dict(plants.SHARE_ROWS)) - set(rows) == {"net_negative", "net_zero"}
    op = {k: _shares(r)[0] for k, r in rows.items()}
    tr = {k: _shares(r)[1] for k, r in rows.items()}
    assert op["low_op_at"] == low and op["low_op_below"] < low < op["low_op_above"]
    assert tr["transfer_at"] == dep and tr["transfer_below"] < dep < tr["transfer_above"]
    assert op["weak_low_op"] < low and tr["no_labour"] > dep


def test_decline_plants_fall_exactly_n_declines_times():
    """Planted declines fall in each of the last N_DECLINES years (per household, before the size
    effect); the N-1 decoy falls N_DECLINES − 1 times only."""
    n = base.N_DECLINES

    def falls(table):
        net = np.array([w + o - c + p + t for w, o, c, p, t in table], float)
        return int(np.sum(np.diff(net[-(n + 1):]) < 0))

    for lab in ("A", "B", "D"):
        assert falls(plants.DECLINE_TABLES[lab]) == n, lab
    assert falls(plants.DECLINE_TABLES["N-1"]) == n - 1
