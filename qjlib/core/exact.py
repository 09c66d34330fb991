"""Exact comparisons against thresholds: money in integer fen (分), ratios cross-multiplied.

Every "below the line", "above the share", "at or above" in the suite is decided here, so that a
household exactly at a threshold is decided as the contract's words say — never by a rounding
error after a division. ``16,474 − 6,820 = 9,654 = 3,218 × 3`` is *at* the 2019 line for three
people: per capita ``9,654 ÷ 3`` may come out 3,217.9999… in floats, but ``965,400 fen < 321,800
fen × 3`` is false, as it must be.

- Money is recorded to the fen: :func:`fen` turns yuan into whole numbers of fen (held in float64,
  exact up to 2⁵³ fen, i.e. about 90 billion yuan; products with a household size or a threshold's
  denominator stay far below that).
- A threshold given as a decimal (``0.3``, ``1.1``) is the exact fraction its decimal text spells
  (:func:`fraction`), so ``share < 0.3`` is decided as ``10 × part < 3 × whole``.
- Per capita against a line: ``net ÷ size < line`` is decided as ``net < line × size`` (size > 0).
- A missing value (NaN) on either side decides False, like a float comparison.

Round only for display (:mod:`qjlib.core.fmt`).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

Array = np.ndarray


def _num(x: Any) -> Array:
    """``x`` as a float64 array (pandas' NA → NaN)."""
    if isinstance(x, pd.Series | pd.Index | pd.api.extensions.ExtensionArray):
        return x.to_numpy(dtype=float, na_value=np.nan)
    return np.asarray(x, dtype=float)


def fen(yuan: Any) -> Array:
    """Yuan → whole fen, ``round(yuan × 100)`` as float64 (NaN and NA become NaN)."""
    return np.rint(_num(yuan) * 100.0)


MAX_DENOMINATOR = 10**6  # thresholds are decimals of a few digits; this keeps products exact


def fraction(threshold: float | int | str) -> tuple[int, int]:
    """The exact fraction ``(p, q)`` (q > 0) spelled by a threshold's decimal text:
    ``0.3`` → ``(3, 10)``, ``1.1`` → ``(11, 10)``, ``3218`` → ``(3218, 1)`` (a value that needs a
    denominator above :data:`MAX_DENOMINATOR` is taken at its nearest such fraction)."""
    f = Fraction(str(threshold)).limit_denominator(MAX_DENOMINATOR)
    return f.numerator, f.denominator


def per_capita_below(net_income: Any, size: Any, line: float) -> Array:
    """``net_income ÷ size < line`` (yuan; ``size`` > 0): ``fen(net) < fen(line) × size``."""
    return fen(net_income) < fen(line) * _num(size)


def per_capita_at_or_above(net_income: Any, size: Any, line: float) -> Array:
    """``net_income ÷ size ≥ line``: at the line is not poor. False where a value is missing."""
    return fen(net_income) >= fen(line) * _num(size)


def per_capita_within_band(net_income: Any, size: Any, line: float, band: float) -> Array:
    """``line ≤ net_income ÷ size ≤ line × (1 + band)`` (both ends included), exactly:
    ``fen(line) × size ≤ fen(net)`` and ``fen(net) × q ≤ fen(line) × size × (q + p)`` with
    ``band = p/q`` (``3218 × 1.1`` is 3,539.80, not the float 3,539.8000000000002)."""
    p, q = fraction(band)
    net, bound = fen(net_income), fen(line) * _num(size)
    return (net >= bound) & (net * q <= bound * (q + p))


def share_below(part: Any, whole: Any, threshold: float) -> Array:
    """``part ÷ whole < threshold`` for ``whole > 0`` (money in yuan): ``q × part < p × whole`` in
    fen with ``threshold = p/q``. False where ``whole ≤ 0`` (no share) or a value is missing."""
    p, q = fraction(threshold)
    a, b = fen(part), fen(whole)
    return (b > 0) & (a * q < p * b)


def share_above(part: Any, whole: Any, threshold: float) -> Array:
    """``part ÷ whole > threshold`` for ``whole > 0``; exactly at the threshold is not above."""
    p, q = fraction(threshold)
    a, b = fen(part), fen(whole)
    return (b > 0) & (a * q > p * b)


def money_below(a: Any, b: Any) -> Array:
    """``a < b`` for amounts in yuan, compared in whole fen (a paid dividend short of the
    guaranteed one by less than half a fen is not short)."""
    return fen(a) < fen(b)


def per_capita_fall(net_a: Any, size_a: Any, net_b: Any, size_b: Any, drop: float = 0) -> Array:
    """``net_b ÷ size_b < net_a ÷ size_a − drop`` (sizes > 0; a fall from year a to year b of more
    than ``drop`` yuan per person), without dividing: ``fen(net_b) × size_a < fen(net_a) × size_b
    − fen(drop) × size_a × size_b``."""
    na, nb = _num(size_a), _num(size_b)
    rhs = fen(net_a) * nb
    if drop:
        rhs -= fen(drop) * na * nb
    return fen(net_b) * na < rhs


def as_series(values: Array, like: pd.Series | pd.Index) -> pd.Series:
    """A bool result as a Series on ``like``'s index."""
    index = like if isinstance(like, pd.Index) else like.index
    return pd.Series(np.asarray(values, dtype=bool), index=index)
