"""Every threshold decision of the suite, held against exact rational arithmetic (``Fraction``)
on random households placed exactly on, one fen below and one fen above each line and share.

The contract's words: below the poverty line is poor, at it is not; low operating income is a
share *below* the threshold; transfer dependence a share *above* it (at it: not flagged);
near-line is from the line up to line × (1 + band), both included; pivotal is at or above the
line with the benefits and below it without; a decline is a per-capita fall of more than
``min_drop`` yuan. Money is whole yuan plus a fen offset of −1, 0 or +1.
"""

from __future__ import annotations

from fractions import Fraction as F

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from qjlib.analyses import income as inc
from qjlib.analyses import industry_metrics as im
from qjlib.analyses import trend
from qjlib.core import exact

LINES = (2300, 2952, 3218, 3747)
SHARES = ("0.1", "0.3", "0.5", "0.65")
BANDS = ("0.1", "0.2", "0.15")
OFFSET = st.sampled_from((-1, 0, 1))  # fen
SETTINGS = settings(max_examples=200, deadline=None, derandomize=True)


def yuan(fen: int) -> float:
    return fen / 100


@st.composite
def at_a_line(draw):
    """(net income in yuan, size, line): net per capita exactly at, one fen (household) below or
    above ``line``."""
    size = draw(st.integers(1, 12))
    line = draw(st.sampled_from(LINES))
    net_fen = line * 100 * size + draw(OFFSET)
    return net_fen, size, line


@st.composite
def at_a_share(draw):
    """(part, whole) in fen with part/whole exactly at, or one fen either side of, a threshold."""
    t = F(draw(st.sampled_from(SHARES)))
    whole = draw(st.integers(1, 20_000)) * t.denominator * 100  # whole yuan, the share lands on fen
    part = int(whole * t) + draw(OFFSET)
    return part, whole, t


@given(st.lists(at_a_line(), min_size=1, max_size=30))
@SETTINGS
def test_below_and_at_the_poverty_line(rows):
    net = np.array([yuan(r[0]) for r in rows])
    size = np.array([r[1] for r in rows], dtype=float)
    for line in LINES:
        got = exact.per_capita_below(net, size, line).tolist()
        want = [F(n, 100) / s < line for n, s, _ in rows]
        assert got == want
        assert exact.per_capita_at_or_above(net, size, line).tolist() == [not w for w in want]


@given(st.lists(at_a_share(), min_size=1, max_size=30), st.booleans())
@SETTINGS
def test_the_share_ledgers_decide_as_the_words_say(rows, capacity):
    part = np.array([yuan(r[0]) for r in rows])
    whole = np.array([yuan(r[1]) for r in rows])
    for t in {r[2] for r in rows}:
        thr = float(t)
        cap = np.full(len(rows), capacity)
        low = inc.flag_low_operating(part, whole, cap, thr).tolist()
        assert low == [capacity and F(a) / F(b) < t for a, b, _ in rows]
        dep = inc.flag_transfer_dependent(part, whole, thr).tolist()
        assert dep == [F(a) / F(b) > t for a, b, _ in rows]


@given(st.lists(at_a_line(), min_size=1, max_size=30), st.sampled_from(BANDS), st.booleans())
@SETTINGS
def test_near_line_includes_both_ends(rows, band, at_top):
    b = F(band)
    size = np.array([r[1] for r in rows], dtype=float)
    # at the line (± a fen), or at the top of the band line·(1+b)·size (± a fen): whole fen both
    nets = [n + (int(ln * 100 * s * b) if at_top else 0) for n, s, ln in rows]
    net = np.array([yuan(n) for n in nets])
    for line in {r[2] for r in rows}:
        got = inc.near_line(net, size, line, float(band)).tolist()
        want = [line <= F(n, 100) / r[1] <= line * (1 + b) for n, r in zip(nets, rows, strict=True)]
        assert got == want


@given(st.lists(st.tuples(at_a_line(), st.integers(0, 5_000), OFFSET), min_size=1, max_size=30))
@SETTINGS
def test_pivotal_is_above_with_and_below_without_the_benefits(rows):
    # net income = line·size + d1 fen; the benefit chosen so that net − benefit is line·size ± d2
    net_f = [r[0] + b * 100 for r, b, _ in rows]
    ben_f = [b * 100 + d for _, b, d in rows]
    size = np.array([r[1] for r, _, _ in rows], dtype=float)
    line = {r[2] for r, _, _ in rows}
    for ln in line:
        got = im.is_pivotal(pd.Series(np.array(net_f) / 100), pd.Series(np.array(ben_f) / 100),
                            pd.Series(size), ln).tolist()
        want = [F(n, 100) / r[1] >= ln and F(n - b, 100) / r[1] < ln
                for n, b, (r, _, _) in zip(net_f, ben_f, rows, strict=True)]
        assert got == want


@given(st.lists(st.tuples(st.integers(1, 12), st.integers(1, 12), st.integers(100, 50_000),
                          OFFSET, st.sampled_from((0, 50, 100))), min_size=1, max_size=30))
@SETTINGS
def test_a_decline_is_a_fall_of_more_than_min_drop(rows):
    # year 0: net a per capita × size0; year 1: per capita a − drop (± one fen for the household)
    for drop in (0, 50, 100):
        net0 = [s0 * pc * 100 for s0, _, pc, _, _ in rows]
        net1 = [s1 * (pc - drop) * 100 + d for _, s1, pc, d, _ in rows]
        net = np.array([net0, net1], dtype=float).T / 100
        size = np.array([[s0, s1] for s0, s1, *_ in rows], dtype=float)
        dec, _ = trend.decrease_runs(net, size, drop)
        want = [F(n1, 100) / s1 < F(n0, 100) / s0 - drop
                for n0, n1, (s0, s1, *_) in zip(net0, net1, rows, strict=True)]
        assert dec[:, 1].tolist() == want
