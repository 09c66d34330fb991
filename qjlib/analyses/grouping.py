"""Grouped sums' companions: integer group codes and per-group quantiles, without a groupby.

General-purpose machinery (no income definitions in it) behind
:func:`qjlib.analyses.income.structure_by` and ``benchmarks/bench_income.py``:

* :func:`group_codes` turns the key columns of a table of rows (some keys on the rows themselves,
  some on a per-household table reached through row positions) into one int64 code per row, in
  mixed radix over the keys' sorted labels, so ``np.bincount(code)`` gives per-group sums and the
  code order is the sorted key order. A missing key value is the label :data:`UNKNOWN`.
* :func:`group_quantiles` gives the quantiles (linear interpolation, as ``numpy.quantile``) of
  several columns over the valid rows of each group: one stable sort by group shared by all the
  columns, then an in-place partition of each group's run per column (a loop over groups, never
  over rows); long inputs use a small thread pool (:func:`_workers`).
* :func:`pct_label` names a quantile's column (0.25 → ``p25``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

UNKNOWN = "未知"  # label of a missing group value (no members rows, blank town, …): kept, not dropped


def _workers(n: int) -> int:
    """Threads for the per-column steps of :func:`group_quantiles` over ``n`` rows: 1 below
    500,000 rows, else the CPU count, at most 4."""
    return 1 if n < 500_000 else max(1, min(4, os.cpu_count() or 1))


def _codes(values: pd.Series) -> tuple[np.ndarray, list]:
    """Sorted integer codes of a key column; a missing value gets the last code, label UNKNOWN."""
    arr = pd.Series(values, copy=False)
    if pd.api.types.is_integer_dtype(arr.dtype) and not arr.hasnans and len(arr):
        v = arr.to_numpy(dtype=np.int64, copy=True)
        lo, hi = int(v.min()), int(v.max())
        if hi - lo < 100_000:  # small integer range (years): codes by arithmetic, in place
            v -= lo
            present = np.flatnonzero(np.bincount(v, minlength=hi - lo + 1))
            remap = np.full(hi - lo + 1, -1, np.int64)
            remap[present] = np.arange(len(present))
            np.take(remap, v, out=v)
            return v, [int(x) + lo for x in present]
    codes, uniques = pd.factorize(arr, sort=True, use_na_sentinel=True)
    labels = list(uniques)
    if (codes < 0).any():
        codes = np.where(codes < 0, len(labels), codes)
        labels.append(UNKNOWN)
    return codes.astype(np.int64), labels


def group_codes(
    income: pd.DataFrame, hh: pd.DataFrame, pos: np.ndarray, by: Sequence[str]
) -> tuple[np.ndarray, list[list]]:
    """One integer code per row of ``income`` for the combination of the ``by`` keys (mixed radix,
    in the order of ``by``, so code order = sorted key order) and each key's labels.

    A key is a column of ``income`` (the rows) or else of ``hh`` (one row per household; ``pos`` is
    each income row's position in ``hh``). Consecutive household keys are combined per household
    first, so the income rows take one code per run. Every combination of labels has a code (the
    number of groups is the product of the label counts); absent ones are empty groups."""
    labels: list[list] = []
    g: np.ndarray | None = None
    i = 0
    while i < len(by):
        col = by[i]
        if col in income.columns:
            years = _small_int_range(income[col])
            if years is not None:  # e.g. year: code = value − first value, no copy of the column
                v, lo, hi = years
                labels.append(list(range(lo, hi + 1)))  # absent values are empty groups, dropped
                if g is None:
                    g = v - lo
                else:
                    g *= hi - lo + 1
                    g += v
                    g -= lo
            else:
                c, lab = _codes(income[col])
                labels.append(lab)
                g = _mixed_radix(g, c, len(lab))
            i += 1
            continue
        if col not in hh.columns:
            raise KeyError(f"分组列 {col} 不在收入表或户表中 / no column {col} to group by")
        code = np.zeros(len(hh), np.int64)
        size = 1
        while i < len(by) and by[i] not in income.columns and by[i] in hh.columns:
            c, lab = _codes(hh[by[i]])
            labels.append(lab)
            code *= len(lab)
            code += c
            size *= len(lab)
            i += 1
        g = _mixed_radix(g, np.take(code, pos), size)
    return (np.zeros(len(income), np.int64) if g is None else g), labels


def _small_int_range(values: pd.Series) -> tuple[np.ndarray, int, int] | None:
    """(the values as int64 — a view when possible —, min, max) of an integer column without
    missing values whose range is small (< 10,000, e.g. years); else None."""
    s = pd.Series(values, copy=False)
    if not pd.api.types.is_integer_dtype(s.dtype) or s.hasnans or not len(s):
        return None
    v = s.to_numpy(dtype=np.int64, copy=False)
    lo, hi = int(v.min()), int(v.max())
    return (v, lo, hi) if hi - lo < 10_000 else None


def _mixed_radix(g: np.ndarray | None, code: np.ndarray, size: int) -> np.ndarray:
    """``g·size + code`` in place (``code`` itself when there is no ``g`` yet)."""
    if g is None:
        return code
    g *= size
    g += code
    return g


_SORT_BELOW = 1024  # group runs shorter than this are sorted, longer ones partitioned


def group_quantiles(
    values: np.ndarray | Sequence[np.ndarray], valid: np.ndarray, g: np.ndarray,
    counts: np.ndarray, qs: Sequence[float], denominator: np.ndarray | None = None,
) -> np.ndarray:
    """Quantiles (linear interpolation: the value at position q·(n − 1) of the sorted group, as
    ``numpy.quantile`` and DuckDB ``quantile_cont``) of each column of ``values`` (n × k) over the
    valid rows of each group; ``counts`` = valid rows per group. Returns an array
    (n_groups, k, len(qs)), NaN for a group without valid rows.

    Two steps: :func:`_gather_by_group` puts each column's valid rows in group order (one sort,
    shared by all columns), then :func:`_run_quantiles` reads each group's quantiles off its run.

    ``values`` may also be a sequence of k 1-D columns, and with ``denominator`` the quantiles are
    those of column ÷ denominator: the ratio is formed on the gathered rows only, so no n × k
    array of ratios is ever built (household shares at province scale)."""
    cols = ([values[:, j] for j in range(values.shape[1])]
            if isinstance(values, np.ndarray) and values.ndim == 2 else list(values))
    grouped = _gather_by_group(cols, valid, g, counts, denominator)
    return _run_quantiles(grouped, counts, qs, _workers(len(g)))


def _gather_by_group(
    cols: list[np.ndarray], valid: np.ndarray, g: np.ndarray, counts: np.ndarray,
    denominator: np.ndarray | None,
) -> np.ndarray:
    """The valid rows of each column (÷ ``denominator`` when given) in group order: an array
    (k, m + 1), m = valid rows, one contiguous row per column and a spare slot (0.0) at the end.

    One stable sort of the group codes (a radix sort while they fit 16 bits; invalid rows sort
    last and are cut off) and one gather per column in that order; the random-access gathers run
    on a thread pool for long inputs."""
    n_groups = len(counts)
    key = g.astype(np.uint16 if n_groups < np.iinfo(np.uint16).max else np.int64)
    key[~valid] = n_groups  # invalid rows sort last and are cut off
    m = int(counts.sum())
    order = np.argsort(key, kind="stable")[:m]
    del key
    den = None if denominator is None else np.take(denominator, order)
    grouped = np.empty((len(cols), m + 1))  # a contiguous row per column; one spare slot each
    grouped[:, m] = 0.0  # every bound is a valid index

    def gather(j: int) -> None:
        np.take(cols[j], order, out=grouped[j, :m], mode="clip")  # in range: no buffering
        if den is not None:
            np.divide(grouped[j, :m], den, out=grouped[j, :m])

    _each(gather, len(cols), _workers(len(g)))
    return grouped


def _each(fn, n: int, workers: int) -> list:
    """``[fn(0), …, fn(n − 1)]``, on ``min(n, workers)`` threads when that is more than one."""
    workers = min(n, workers)
    if workers <= 1:
        return [fn(j) for j in range(n)]
    with ThreadPoolExecutor(workers) as ex:
        return list(ex.map(fn, range(n)))


def _run_quantiles(
    grouped: np.ndarray, counts: np.ndarray, qs: Sequence[float], workers: int
) -> np.ndarray:
    """Quantiles of each group's run in each row of ``grouped`` (see :func:`_gather_by_group`;
    the runs are partitioned in place): an array (n_groups, k, len(qs)), NaN for empty groups.

    Per column, each group's run is partitioned in place at the lower positions ⌊q·(n − 1)⌋ (a
    loop over groups, not households; O(n) per run; short runs are simply sorted); the next order
    statistic, needed for the interpolation, is the minimum of the run to the right of that
    position (``np.minimum.reduceat`` over all groups at once)."""
    n_groups = len(counts)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    nonempty = np.flatnonzero(counts)
    q = np.asarray(qs, dtype=float)
    size = counts[nonempty, None]
    at = q[None, :] * (size - 1)  # position within the group
    lo_local = np.floor(at).astype(np.int64)
    has_hi = lo_local < size - 1
    t = at - lo_local
    lo = starts[nonempty, None] + lo_local
    ends = starts[nonempty] + counts[nonempty]
    runs = [(int(starts[k]), int(starts[k] + counts[k]), lo_local[i])
            for i, k in enumerate(nonempty) if counts[k] > 1]

    def one(j: int) -> np.ndarray:
        v = grouped[j]  # each run is partitioned where it lies
        for a, b, k in runs:
            if b - a < _SORT_BELOW:
                v[a:b].sort()  # short runs: a full sort is cheaper than a selection
            else:
                v[a:b].partition(k)
        low = v[lo]
        high = np.empty_like(low)
        bounds = np.empty(2 * len(nonempty), np.int64)  # [lo + 1, end of group) per group
        bounds[1::2] = ends
        for i in range(len(q)):
            bounds[0::2] = lo[:, i] + 1
            high[:, i] = np.minimum.reduceat(v, bounds)[0::2]
        high = np.where(has_hi, high, low)
        d = high - low
        return np.where(t >= 0.5, high - d * (1 - t), low + d * t)  # numpy's lerp

    parts = _each(one, len(grouped), workers)
    out = np.full((n_groups, len(grouped), len(q)), np.nan)
    for j, part in enumerate(parts):
        out[nonempty, j] = part
    return out


def pct_label(q: float) -> str:
    """The column suffix of quantile ``q``: ``"p"`` and the percent, two digits (0.25 → ``p25``,
    0.5 → ``p50``)."""
    return f"p{round(q * 100):02d}"
