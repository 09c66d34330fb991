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


def fen(yuan: Any) -> Array:
    """Yuan → whole fen, ``round(yuan × 100)`` as float64 (NaN stays NaN)."""
    return np.rint(np.asarray(yuan, dtype=float) * 100.0)


def fraction(threshold: float | int | str) -> tuple[int, int]:
    """The exact fraction ``(p, q)`` (q > 0) spelled by a threshold's decimal text:
    ``0.3`` → ``(3, 10)``, ``1.1`` → ``(11, 10)``, ``3218`` → ``(3218, 1)``."""
    f = Fraction(str(threshold))
    return f.numerator, f.denominator


def _num(x: Any) -> Array:
    return np.asarray(x, dtype=float)


def per_capita_below(net_income: Any, size: Any, line: float) -> Array:
    """``net_income ÷ size < line`` (yuan; ``size`` > 0): ``fen(net) < fen(line) × size``."""
    return fen(net_income) < fen(line) * _num(size)


def per_capita_at_or_above(net_income: Any, size: Any, line: float) -> Array:
    """``net_income ÷ size ≥ line``: at the line is not poor. False where a value is missing."""
    return fen(net_income) >= fen(line) * _num(size)


def per_capita_at_most(net_income: Any, size: Any, line: float, factor: float = 1) -> Array:
    """``net_income ÷ size ≤ line × factor`` (``factor`` a decimal, e.g. ``1.1``), exactly:
    ``fen(net) × q ≤ fen(line) × size × p`` with ``factor = p/q``."""
    p, q = fraction(factor)
    return fen(net_income) * q <= fen(line) * _num(size) * p


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


def per_capita_less(net_a: Any, size_a: Any, net_b: Any, size_b: Any) -> Array:
    """``net_a ÷ size_a < net_b ÷ size_b`` (sizes > 0): ``fen(net_a) × size_b < fen(net_b) ×
    size_a`` — a per-capita fall decided without dividing."""
    return fen(net_a) * _num(size_b) < fen(net_b) * _num(size_a)


def as_series(values: Array, like: pd.Series | pd.Index) -> pd.Series:
    """A bool result as a Series on ``like``'s index."""
    index = like if isinstance(like, pd.Index) else like.index
    return pd.Series(np.asarray(values, dtype=bool), index=index)
