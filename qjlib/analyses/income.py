"""Income structure (plan R2, 方案 一.4 收入结构补短板行动): shares of the income sources, their
distribution over households, their change since 2014, inequality by source, near-line households,
and the two ledgers ``income_low_operating`` and ``income_transfer_dependent``.

Definitions (each written once, here):

* **Components** of net income (yuan per household and year, the loader's canonical columns):
  ``wage`` 工资性收入, ``operating_net`` = operating − operating_cost 生产经营性净收入, ``property``
  财产性收入, ``transfer`` 转移性收入. They add up to ``net_income`` (recomputed by the loader,
  :mod:`qjlib.definitions`), so the four shares of a household or of a group add up to 1.
* **Household share** of component *k*: ``s_k = x_k / net_income`` — defined only when net income is
  positive. A household with net income ≤ 0 has **no shares**: it is counted (``nonpositive``),
  listed (:func:`nonpositive_households`) and reported as a finding, never dropped silently and never
  put in a share ledger.
* **Group share** (the contract's figure): the ratio of sums ``S_k = Σ x_k / Σ net_income`` over the
  group's households — *not* the mean of household shares. The sums take **every** registered household
  with an income row in the year, those with net income ≤ 0 included: their losses are part of the
  group's income, and the four group shares still add up to 1. (If a group's Σ net income ≤ 0 its
  shares are undefined, NaN.)
* **Registered household**: an income row whose ``hh_id`` is in the households table of the scope;
  income rows of unregistered ids (an ``orphan_row`` finding of the loader) are left out.
* **Thresholds** come from params: ``income.low_operating_share`` (a household with labour capacity
  有劳动能力 or 弱劳动能力 is flagged when ``s_operating_net < threshold``) and
  ``income.transfer_dependent_share`` (flagged when ``s_transfer > threshold``; exactly at it is not
  flagged). Comparisons allow :data:`SHARE_TOL` for floating-point rounding only, so a share that is
  exactly at the threshold in yuan and fen never flips either way.

Everything heavy is vectorised: the string household ids are turned into integer positions once
(:func:`household_positions`), group keys are integer-coded (``np.bincount`` sums), and
medians/quartiles come from one stable sort by group and an in-place partition of each group's run
per share (a loop over groups, never over households). :func:`structure_by` is the one function
behind the summary, the notebook and ``benchmarks/bench_income.py``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from qjlib.core import definitions
from qjlib.core.context import Context
from qjlib.core.definitions import TRANSFER_ITEMS
from qjlib.core.ledgers import LedgerSpec
from qjlib.core.params import Params
from qjlib.core.schema import LABOR_CAPACITY, TABLES

COMPONENTS = definitions.INCOME_COMPONENTS
COMPONENTS_ZH = definitions.INCOME_COMPONENTS_ZH
UNITEMISED = "unitemised"  # transfer − Σ items: the part of transfers not broken down in the file
WITH_CAPACITY: tuple[str, ...] = LABOR_CAPACITY[:2]  # 有劳动能力, 弱劳动能力
UNKNOWN = "未知"  # label of a missing group value (no members rows, blank town, …): kept, not dropped
QUANTILES: tuple[float, ...] = (0.25, 0.5, 0.75)
SHARE_TOL = 1e-9  # float rounding guard of share comparisons (1e-9 of net income), not a threshold
NET_TOL = 0.005  # half a fen: net income at or below this is "≤ 0" (money is recorded to the fen)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

_INCOME = TABLES["income"]
_HOUSEHOLDS = TABLES["households"]


def _zh(table, col: str) -> str:
    return table.column(col).zh


# ---------------------------------------------------------------------------------------------
# Households and their shares


def household_positions(income_ids: pd.Series, household_ids: pd.Series) -> np.ndarray:
    """Row position in ``household_ids`` (unique, as the loader guarantees) of each income row's
    ``hh_id``; −1 for an id that is not registered.

    The string ids are integer-coded once. When every id on both sides is a string of ASCII digits
    of one and the same width (≤ 19, as the national system's 户编号), the id *is* an integer: it
    is parsed (exactly — equal width makes leading zeros harmless) and looked up in an integer hash
    table. Any other ids (letters, varying widths, longer numbers) go through Arrow's string hash
    lookup (``pyarrow.compute.index_in``): the same answer, slower.
    """
    probe = _arrow_strings(income_ids)
    values = _arrow_strings(household_ids)
    width_p, width_v = _digit_width(probe), _digit_width(values)
    if width_p is not None and width_p == width_v:
        index = pd.Index(_as_uint64(values))
        if index.is_unique:
            return index.get_indexer(_as_uint64(probe)).astype(np.int64, copy=False)
    pos = pc.index_in(probe, value_set=values).fill_null(-1).to_numpy(zero_copy_only=False)
    return np.asarray(pos, dtype=np.int64)


def _arrow_strings(ids: pd.Series) -> pa.Array:
    arr = pa.array(pd.Series(ids, copy=False).array, type=pa.large_string())
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


_MAX_DIGITS = 19  # every 19-digit number fits an unsigned 64-bit integer


def _digit_width(arr: pa.Array) -> int | None:
    """The common byte width of the strings if all are ASCII digits of one width ≤ 19, else None."""
    if len(arr) == 0 or arr.null_count:
        return None
    off = np.frombuffer(arr.buffers()[1], dtype=np.int64, count=len(arr) + 1, offset=arr.offset * 8)
    width = int(off[1] - off[0])
    if not 0 < width <= _MAX_DIGITS or int(off[-1] - off[0]) != width * len(arr):
        return None
    if not (np.diff(off) == width).all():
        return None
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8, count=width * len(arr), offset=int(off[0]))
    step = 1 << 22  # checked in 4 MB pieces: no large temporary arrays
    for a in range(0, len(data), step):
        if ((data[a:a + step] - np.uint8(48)) > 9).any():  # below '0' wraps around to > 9
            return None
    return width


def _as_uint64(arr: pa.Array) -> np.ndarray:
    return pc.cast(arr, pa.uint64()).to_numpy(zero_copy_only=False)


def _workers(n: int) -> int:
    return 1 if n < 500_000 else max(1, min(4, os.cpu_count() or 1))


def positive_net(net_income: np.ndarray | pd.Series) -> np.ndarray:
    """True where net income > 0 (beyond :data:`NET_TOL`): the households that have shares."""
    return np.asarray(net_income, dtype=float) > NET_TOL


def household_shares(income: pd.DataFrame) -> pd.DataFrame:
    """Per household-year shares ``<k>_share = x_k / net_income`` for the four components.

    Unit: fraction (0.25 = 25 %); can be negative (operating loss) or above 1. NaN where net income
    ≤ 0 (no shares, see :func:`positive_net`). Index as ``income``.
    """
    net = income["net_income"].to_numpy(dtype=float)
    ok = positive_net(net)
    return pd.DataFrame(
        {f"{k}_share": _share(income[k].to_numpy(dtype=float), net, ok) for k in COMPONENTS},
        index=income.index,
    )


def _share(x: np.ndarray, net: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """x / net where ``ok`` (net income > 0), NaN elsewhere (one allocation)."""
    return np.divide(x, net, out=np.full(len(x), np.nan), where=ok)


def has_capacity(labor_capacity: pd.Series) -> np.ndarray:
    """True for households with labour capacity: 有劳动能力 or 弱劳动能力 (a missing capacity —
    no members rows — is False: it cannot be judged)."""
    return pd.Series(labor_capacity, copy=False).isin(WITH_CAPACITY).to_numpy()


def flag_low_operating(
    operating_share: np.ndarray, capacity: np.ndarray, threshold: float
) -> np.ndarray:
    """Low operating income (R2): ``capacity`` (:func:`has_capacity`) and
    ``operating_net / net_income < threshold`` (``income.low_operating_share``). No share → False."""
    s = np.asarray(operating_share, dtype=float)
    return np.asarray(capacity, dtype=bool) & (s < threshold - SHARE_TOL)


def flag_transfer_dependent(transfer_share: np.ndarray, threshold: float) -> np.ndarray:
    """Transfer dependence: ``transfer / net_income > threshold`` (``income.transfer_dependent_share``);
    exactly at the threshold is not flagged. No share → False."""
    return np.asarray(transfer_share, dtype=float) > threshold + SHARE_TOL


def exit_cohort(households: pd.DataFrame) -> pd.Series:
    """Exit cohort label of each household: ``"2017年脱贫"`` for exit_status exited with its
    exit_year, ``"返贫"`` for returned, ``"未脱贫"`` for not_exited, :data:`UNKNOWN` otherwise."""
    status = households["exit_status"]
    year = households["exit_year"] if "exit_year" in households else pd.Series(pd.NA, index=households.index)
    year_txt = pd.Series(year, copy=False).astype("Int64").astype("str")
    out = pd.Series(UNKNOWN, index=households.index, dtype="str")
    has_year = pd.Series(year, copy=False).notna()
    out = out.mask((status == "exited") & has_year, year_txt + "年脱贫")
    out = out.mask(status == "returned", "返贫")
    out = out.mask(status == "not_exited", "未脱贫")
    return out


def _household_columns(households: pd.DataFrame) -> pd.DataFrame:
    """The households columns the analyses group by, with ``exit_cohort`` added."""
    hh = households
    if "exit_status" in hh and "exit_cohort" not in hh:
        hh = hh.assign(exit_cohort=exit_cohort(hh))
    if "labor_capacity" not in hh:
        hh = hh.assign(labor_capacity=pd.Series(pd.NA, index=hh.index, dtype="str"))
    return hh


def household_year_frame(
    income: pd.DataFrame, households: pd.DataFrame, year: int | None = None
) -> pd.DataFrame:
    """Income rows of registered households (of ``year`` if given) with the household's town,
    village, labour capacity, poverty attribute, main cause and exit cohort, and the four
    :func:`household_shares`. Sorted by hh_id, year."""
    inc = income if year is None else income[income["year"] == year]
    hh = _household_columns(households)
    pos = household_positions(inc["hh_id"], hh["hh_id"])
    keep = pos >= 0
    inc = inc[keep]
    cols = [c for c in ("town", "village", "labor_capacity", "poverty_attr", "main_cause",
                        "exit_cohort", "exit_status", "exit_year") if c in hh and c not in inc]
    extra = hh[cols].iloc[pos[keep]].set_axis(inc.index)
    out = pd.concat([inc, extra, household_shares(inc)], axis=1)
    return out.sort_values(["hh_id", "year"], kind="stable").reset_index(drop=True)


def nonpositive_households(frame: pd.DataFrame) -> pd.DataFrame:
    """Households of ``frame`` (see :func:`household_year_frame`) whose net income is ≤ 0: they have
    no shares and are in neither share ledger — a finding to check (loss-making operation or a data
    error). Sorted by hh_id, year."""
    cols = [c for c in ("hh_id", "year", "town", "village", "wage", "operating", "operating_cost",
                        "operating_net", "property", "transfer", "net_income", "size",
                        "labor_capacity") if c in frame]
    out = frame.loc[~positive_net(frame["net_income"]), cols]
    return out.sort_values(["hh_id", "year"], kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Grouped structure: ratio of sums, distribution over households, threshold counts


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


def _group_codes(
    income: pd.DataFrame, hh: pd.DataFrame, pos: np.ndarray, by: Sequence[str]
) -> tuple[np.ndarray, list[list]]:
    """One integer code per income row for the combination of the ``by`` keys (mixed radix, in
    the order of ``by``, so code order = sorted key order) and each key's labels. Consecutive
    household keys are combined per household first, so the income rows take one code per run."""
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


def _group_quantiles(
    values: np.ndarray | Sequence[np.ndarray], valid: np.ndarray, g: np.ndarray,
    counts: np.ndarray, qs: Sequence[float], denominator: np.ndarray | None = None,
) -> np.ndarray:
    """Quantiles (linear interpolation: the value at position q·(n − 1) of the sorted group, as
    ``numpy.quantile`` and DuckDB ``quantile_cont``) of each column of ``values`` (n × k) over the
    valid rows of each group; ``counts`` = valid rows per group. Returns an array
    (n_groups, k, len(qs)), NaN for a group without valid rows.

    Sorting once: one stable sort of the group codes (a radix sort while they fit 16 bits) and one
    gather of the rows in that order, shared by all columns. Per column, each group's contiguous run
    is partitioned in place at the lower positions ⌊q·(n − 1)⌋ (a loop over groups, not households;
    O(n) per run; short runs are simply sorted); the next order statistic, needed for the
    interpolation, is the minimum of the run to the right of that position
    (``np.minimum.reduceat`` over all groups at once).

    ``values`` may also be a sequence of k 1-D columns, and with ``denominator`` the quantiles are
    those of column ÷ denominator: the ratio is formed on the gathered rows only, so no n × k
    array of ratios is ever built (household shares at province scale)."""
    n_groups = len(counts)
    key = g.astype(np.uint16 if n_groups < np.iinfo(np.uint16).max else np.int64)
    key[~valid] = n_groups  # invalid rows sort last and are cut off
    m = int(counts.sum())
    order = np.argsort(key, kind="stable")[:m]
    del key
    cols = ([values[:, j] for j in range(values.shape[1])]
            if isinstance(values, np.ndarray) and values.ndim == 2 else list(values))
    den = None if denominator is None else np.take(denominator, order)
    grouped = np.empty((len(cols), m + 1))  # a contiguous row per column; one spare slot each
    grouped[:, m] = 0.0  # every bound is a valid index

    def gather(j: int) -> None:  # the random-access gathers run on the pool's threads
        np.take(cols[j], order, out=grouped[j, :m], mode="clip")  # in range: no buffering
        if den is not None:
            np.divide(grouped[j, :m], den, out=grouped[j, :m])

    gather_workers = min(len(cols), _workers(len(g)))
    if gather_workers <= 1:
        for j in range(len(cols)):
            gather(j)
    else:
        with ThreadPoolExecutor(gather_workers) as ex:
            list(ex.map(gather, range(len(cols))))
    order = den = None  # free them before the partitions
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

    n_cols = len(cols)
    workers = min(n_cols, _workers(len(g)))
    if workers <= 1:
        parts = [one(j) for j in range(n_cols)]
    else:
        with ThreadPoolExecutor(workers) as ex:
            parts = list(ex.map(one, range(n_cols)))
    out = np.full((n_groups, n_cols, len(q)), np.nan)
    for j, part in enumerate(parts):
        out[nonempty, j] = part
    return out


def _pct_label(q: float) -> str:
    return f"p{round(q * 100):02d}"


def structure_by(
    income: pd.DataFrame,
    households: pd.DataFrame,
    by: Sequence[str] = (),
    *,
    low_operating_share: float,
    transfer_dependent_share: float,
    quantiles: Sequence[float] = QUANTILES,
) -> pd.DataFrame:
    """Income structure of each group of ``by`` (columns of households — town, village,
    labor_capacity, poverty_attr, main_cause, exit_cohort — or of income — year).

    One row per non-empty group, sorted by the keys (a missing key value is the group
    :data:`UNKNOWN`), with:

    * ``households``: registered household-years in the group; ``nonpositive``: of them, net
      income ≤ 0 (no shares; still in the sums);
    * ``wage``, ``operating_net``, ``property``, ``transfer``, ``net_income``: sums, yuan;
    * ``<k>_share`` = Σ x_k / Σ net_income (ratio of sums; NaN if Σ net_income ≤ 0);
    * ``<k>_share_p25``, ``_p50``, ``_p75``: quartiles of the household shares x_k / net_income over
      the group's households with net income > 0 (linear interpolation);
    * ``low_operating``: households flagged by :func:`flag_low_operating`;
      ``transfer_dependent``: flagged by :func:`flag_transfer_dependent` (the ledgers' counts).

    The same function computes the summary figures, the notebook's tables and the benchmark.
    """
    by = list(by)
    hh = _household_columns(households)
    pos = household_positions(income["hh_id"], hh["hh_id"])
    keep = pos >= 0
    if not keep.all():  # unregistered rows out (only the columns used here are copied)
        used = [c for c in dict.fromkeys([*by, *COMPONENTS, "net_income"]) if c in income.columns]
        income, pos = income.loc[keep, used], pos[keep]

    g, labels = _group_codes(income, hh, pos, by)
    sizes = [len(lab) for lab in labels]
    n_groups = int(np.prod(sizes)) if by else 1

    x = {k: income[k].to_numpy(dtype=float) for k in (*COMPONENTS, "net_income")}
    net = x["net_income"]
    ok = positive_net(net)
    capacity = has_capacity(hh["labor_capacity"])[pos]
    low = flag_low_operating(_share(x["operating_net"], net, ok), capacity, low_operating_share)
    dep = flag_transfer_dependent(_share(x["transfer"], net, ok), transfer_dependent_share)

    count = np.bincount(g, minlength=n_groups)
    nonpositive = np.bincount(g[~ok], minlength=n_groups)
    nonempty = np.flatnonzero(count)
    sums = {k: np.bincount(g, weights=v, minlength=n_groups)[nonempty] for k, v in x.items()}
    # household shares x_k / net_income, formed only on the gathered valid rows
    quant = _group_quantiles([x[k] for k in COMPONENTS], ok, g, count - nonpositive, quantiles,
                             denominator=net)

    keys = np.unravel_index(nonempty, sizes) if by else ()
    out = pd.DataFrame({col: [labels[i][j] for j in keys[i]] for i, col in enumerate(by)})
    out["households"] = count[nonempty]
    out["nonpositive"] = nonpositive[nonempty]
    for k, v in sums.items():
        out[k] = v
    total = sums["net_income"]
    for k in COMPONENTS:
        out[f"{k}_share"] = np.where(total > NET_TOL, sums[k] / np.where(total > NET_TOL, total, 1.0), np.nan)
    for i, k in enumerate(COMPONENTS):
        for j, q in enumerate(quantiles):
            out[f"{k}_share_{_pct_label(q)}"] = quant[nonempty, i, j]
    out["low_operating"] = np.bincount(g[low], minlength=n_groups)[nonempty]
    out["transfer_dependent"] = np.bincount(g[dep], minlength=n_groups)[nonempty]
    return out


def transfer_items_by(
    income: pd.DataFrame, households: pd.DataFrame, by: Sequence[str] = ()
) -> pd.DataFrame:
    """Composition of transfer income (转移性收入构成) per group: for each item of
    :data:`TRANSFER_ITEMS` (低保金, 五保金, 养老金, 生态补偿金, 计划生育金, 其他) the ratio of sums
    ``Σ item / Σ transfer``, and ``unitemised`` = (Σ transfer − Σ items) / Σ transfer, so the shares
    add up to 1. An item column the file does not have counts as 0 (its money is then in
    ``unitemised``). Columns: keys, ``households``, ``transfer`` (sum, yuan), ``<item>_share``."""
    items = [c for c in TRANSFER_ITEMS if c in income.columns]
    frame = household_year_frame(income, households)
    money = frame[["transfer", *items]].astype(float).fillna(0.0)
    if by:
        keys = [_key_series(frame[c]) for c in by]
        grouped = money.groupby(keys, sort=True)
        sums = grouped.sum()
        sums.insert(0, "households", grouped.size())
        sums = sums.reset_index()
    else:
        sums = money.sum().to_frame().T
        sums.insert(0, "households", len(frame))
    out = sums[[*by, "households", "transfer"]].copy()
    t = sums["transfer"].where(sums["transfer"] > NET_TOL)
    for item in TRANSFER_ITEMS:
        out[f"{item}_share"] = (sums[item] / t) if item in items else 0.0
    out[f"{UNITEMISED}_share"] = (sums["transfer"] - sums[items].sum(axis=1)) / t
    return out


def _key_series(s: pd.Series) -> pd.Series:
    """A group key column with missing values labelled :data:`UNKNOWN` (text keys only)."""
    if pd.api.types.is_numeric_dtype(s.dtype) and not s.hasnans:
        return s
    return s.astype("str").fillna(UNKNOWN)


def balanced_panel(income: pd.DataFrame, first_year: int, last_year: int) -> pd.Index:
    """Household ids with an income row in **every** year first_year … last_year (the balanced
    panel: the same households in each year), sorted."""
    years = income["year"]
    window = income.loc[(years >= first_year) & (years <= last_year), ["hh_id", "year"]]
    n_years = last_year - first_year + 1
    counts = window.drop_duplicates().groupby("hh_id", sort=True).size()
    return pd.Index(counts.index[counts.to_numpy() == n_years], name="hh_id")


def structure_trend(
    income: pd.DataFrame,
    households: pd.DataFrame,
    first_year: int,
    last_year: int,
    by: Sequence[str] = (),
    **thresholds: float,
) -> pd.DataFrame:
    """Change of the structure first_year → last_year for the same households: :func:`structure_by`
    grouped by ``by`` + year over the :func:`balanced_panel` of registered households. The first
    year is ``max(first_year, the earliest year in the data)`` so a county whose records start later
    still gets a trend."""
    first_year = max(int(first_year), int(income["year"].min()))
    panel = balanced_panel(income, first_year, last_year)
    registered = panel[panel.isin(households["hh_id"])]
    rows = income[income["hh_id"].isin(registered) & income["year"].between(first_year, last_year)]
    return structure_by(rows, households, [*by, "year"], **thresholds)


# ---------------------------------------------------------------------------------------------
# Inequality: Gini and its Lerman–Yitzhaki decomposition by source


def midrank_cdf(y: np.ndarray | pd.Series) -> np.ndarray:
    """Mid-rank empirical CDF ``F_i = (#{y_j < y_i} + ½·#{y_j = y_i}) / n`` = (mid-rank − ½) / n.

    Tied values share the average of their ranks, so equal incomes get the same F and the Gini does
    not depend on the order of the rows. Mean of F is exactly ½."""
    v = np.asarray(y, dtype=float)
    n = len(v)
    if n == 0:
        return np.empty(0)
    order = np.argsort(v, kind="stable")
    s = v[order]
    first = np.r_[True, s[1:] != s[:-1]]
    starts = np.flatnonzero(first)
    ends = np.r_[starts[1:], n]
    less = np.repeat(starts, ends - starts)
    equal = np.repeat(ends - starts, ends - starts)
    f = np.empty(n)
    f[order] = (less + equal / 2.0) / n
    return f


def _cov(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean((a - a.mean()) * (b - b.mean())))


def gini(y: np.ndarray | pd.Series) -> float:
    """Gini coefficient, plug-in estimator ``G = 2·cov(y, F(y)) / mean(y)`` with F the mid-rank CDF
    (:func:`midrank_cdf`) and the population covariance (÷ n). Equals
    ``Σ_i Σ_j |y_i − y_j| / (2 n² mean(y))``. NaN if mean(y) ≤ 0 or y is empty."""
    v = np.asarray(y, dtype=float)
    if len(v) == 0 or v.mean() <= 0:
        return float("nan")
    return 2.0 * _cov(v, midrank_cdf(v)) / v.mean()


def per_capita_sources(income: pd.DataFrame) -> pd.DataFrame:
    """Per-capita sources ``x_k / size`` (yuan per person) for the four components; their row sum is
    the per-capita net income (net_income / size), so the Gini decomposition adds up."""
    size = income["size"].to_numpy(dtype=float)
    return pd.DataFrame(
        {k: income[k].to_numpy(dtype=float) / size for k in COMPONENTS}, index=income.index
    )


def lerman_yitzhaki(sources: pd.DataFrame) -> pd.DataFrame:
    """Lerman–Yitzhaki (1985) decomposition of the Gini of ``y = Σ_k y_k`` (the row sums of
    ``sources``; each household one unit) by source.

    With F the mid-rank CDF (:func:`midrank_cdf`), covariances over the n units (÷ n):

    * ``share`` S_k = mean(y_k) / mean(y)
    * ``gini`` G_k = 2·cov(y_k, F(y_k)) / mean(y_k) — the source's own Gini
    * ``gini_corr`` R_k = cov(y_k, F(y)) / cov(y_k, F(y_k)) — the Gini correlation with the total
    * ``contribution`` S_k·G_k·R_k = 2·cov(y_k, F(y)) / mean(y); the contributions add up to
      G = 2·cov(y, F(y)) / mean(y) exactly (linearity of the covariance)
    * ``relative`` = contribution / G (NaN when G = 0: everyone has the same income)
    * ``marginal`` = S_k·(G_k·R_k / G − 1) = relative − S_k: the elasticity of G to source k — when
      source k rises by 1 % for everyone, G changes by ``marginal`` % (relative; negative: raising
      it reduces inequality). These add up to 0.

    The last row, ``total``, holds y itself (share 1, gini G, contribution G). G_k and R_k are NaN for
    a source with zero mean or no variation (its contribution is then 0).
    """
    y_k = sources.to_numpy(dtype=float)
    y = y_k.sum(axis=1)
    mu = y.mean() if len(y) else float("nan")
    f = midrank_cdf(y)
    g_total = 2.0 * _cov(y, f) / mu if len(y) else float("nan")
    rows = []
    for j, name in enumerate(sources.columns):  # one pass per source, not per household
        v = y_k[:, j]
        cov_own = _cov(v, midrank_cdf(v))
        cov_tot = _cov(v, f)
        mean_k = v.mean()
        contribution = 2.0 * cov_tot / mu
        relative = contribution / g_total if g_total != 0 else np.nan
        rows.append({
            "source": name,
            "share": mean_k / mu,
            "gini": 2.0 * cov_own / mean_k if mean_k != 0 else np.nan,
            "gini_corr": cov_tot / cov_own if cov_own != 0 else np.nan,
            "contribution": contribution,
            "relative": relative,
            "marginal": relative - mean_k / mu,
        })
    rows.append({"source": "total", "share": 1.0, "gini": g_total, "gini_corr": 1.0,
                 "contribution": g_total, "relative": 1.0, "marginal": 0.0})
    return pd.DataFrame(rows).set_index("source")


# ---------------------------------------------------------------------------------------------
# Near the poverty line


def near_line(net_per_capita: np.ndarray | pd.Series, line: np.ndarray | float, band: float) -> np.ndarray:
    """Near-line households (临界户): ``line ≤ net_per_capita ≤ line·(1 + band)`` with ``line`` the
    year's poverty line (yuan per person; ``ctx.params.poverty_line(year)``) and ``band``
    ``income.near_line_band``. At the line counts as not poor (as everywhere in qjlib), hence
    included; below the line is not "near" but poor."""
    pc_ = np.asarray(net_per_capita, dtype=float)
    line = np.asarray(line, dtype=float)
    return (pc_ >= line) & (pc_ <= line * (1.0 + band))


# ---------------------------------------------------------------------------------------------
# Ledgers and summary (the module interface of design.md)

_LEDGER_COLUMNS = (
    "hh_id", "year", "town", "village", "wage", "operating", "operating_cost", "operating_net",
    "property", "transfer", "net_income", "size", "net_per_capita", "wage_share",
    "operating_net_share", "property_share", "transfer_share", "labor_capacity", "poverty_attr",
    "reason",
)
_COLUMNS_ZH = {
    "hh_id": _zh(_HOUSEHOLDS, "hh_id"),
    "year": "收入年度",
    "town": _zh(_HOUSEHOLDS, "town"),
    "village": _zh(_HOUSEHOLDS, "village"),
    **{c: _zh(_INCOME, c) for c in ("wage", "operating", "operating_cost", "property", "transfer",
                                    "net_income", "net_per_capita")},
    "operating_net": "生产经营性净收入",
    "size": _zh(_INCOME, "size"),
    **{f"{k}_share": f"{COMPONENTS_ZH[k]}占比" for k in COMPONENTS},
    "labor_capacity": "劳动能力",
    "poverty_attr": _zh(_HOUSEHOLDS, "poverty_attr"),
    "reason": "原因",
}

NAME = "income"  # its part of summary.json and its key in qjlib.analyses.REGISTRY
NOTEBOOK_RESULTS: dict[str, tuple[str, ...]] = {}  # nothing saved for the notebooks
LEDGERS: dict[str, LedgerSpec] = {
    "income_low_operating": LedgerSpec(
        "income_low_operating", "生产经营性收入占比偏低户台账", ("hh_id",), dict(_COLUMNS_ZH), "R2"
    ),
    "income_transfer_dependent": LedgerSpec(
        "income_transfer_dependent", "转移性收入依赖户台账", ("hh_id",), dict(_COLUMNS_ZH), "R2"
    ),
}


def _pct(x: pd.Series, threshold: float) -> pd.Series:
    """Shares as Chinese-report percentages, one decimal; two (or three) where one decimal would
    print the threshold itself (so "10.0%，低于 10%" never appears). Text, index as ``x``."""
    s = x.astype(float) * 100.0
    t = threshold * 100.0
    out = s.map("{:.1f}%".format).astype("str")
    for d in (2, 3):
        clash = s.round(d - 1) == round(t, d - 1)
        out = out.mask(clash, s.map(f"{{:.{d}f}}%".format).astype("str"))
    return out


def _thr(threshold: float) -> str:
    return f"{threshold * 100:g}%"


def low_operating_ledger(frame: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Ledger ``income_low_operating`` from a :func:`household_year_frame` of one year: households
    with labour capacity (有劳动能力/弱劳动能力) whose operating_net / net_income < ``threshold``.
    Households with net income ≤ 0 have no share and are not in it. Sorted by hh_id."""
    hit = flag_low_operating(
        frame["operating_net_share"], has_capacity(frame["labor_capacity"]), threshold)
    rows = frame.loc[hit].reset_index(drop=True)
    rows["reason"] = (rows["labor_capacity"].astype("str") + "户生产经营性净收入占比 "
                      + _pct(rows["operating_net_share"], threshold) + "，低于 " + _thr(threshold))
    return _ledger_frame(rows)


def transfer_dependent_ledger(frame: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Ledger ``income_transfer_dependent`` from a :func:`household_year_frame` of one year:
    households whose transfer / net_income > ``threshold`` (exactly at it: not in the ledger).
    Households with net income ≤ 0 have no share and are not in it. Sorted by hh_id."""
    hit = flag_transfer_dependent(frame["transfer_share"], threshold)
    rows = frame.loc[hit].reset_index(drop=True)
    rows["reason"] = ("转移性收入占纯收入 " + _pct(rows["transfer_share"], threshold)
                      + "，高于 " + _thr(threshold))
    return _ledger_frame(rows)


def _ledger_frame(rows: pd.DataFrame) -> pd.DataFrame:
    for c in _LEDGER_COLUMNS:
        if c not in rows:
            rows[c] = pd.Series(pd.NA, index=rows.index, dtype="str" if c in (
                "town", "village", "labor_capacity", "poverty_attr", "reason", "hh_id") else "float")
    return rows[list(_LEDGER_COLUMNS)].sort_values("hh_id", kind="stable").reset_index(drop=True)


def _empty_ledgers() -> dict[str, pd.DataFrame]:
    empty = _ledger_frame(pd.DataFrame({"hh_id": pd.Series([], dtype="str")}))
    return {name: empty.copy() for name in LEDGERS}


def income_frame(ctx: Context) -> pd.DataFrame:
    """The run's income-year :func:`household_year_frame` (registered households of the scope)."""
    return household_year_frame(ctx.pkg["income"], ctx.pkg["households"], ctx.income_year)


def build_ledgers(ctx: Context) -> dict[str, pd.DataFrame]:
    """``income_low_operating`` and ``income_transfer_dependent`` for the income year."""
    if not ctx.pkg.has("income") or ctx.pkg["income"].empty:
        return _empty_ledgers()
    frame = income_frame(ctx)
    return {
        "income_low_operating": low_operating_ledger(
            frame, ctx.params.get("income.low_operating_share")),
        "income_transfer_dependent": transfer_dependent_ledger(
            frame, ctx.params.get("income.transfer_dependent_share")),
    }


def _num(x: float, digits: int = 6) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), digits)


def _shares(row: pd.Series) -> dict[str, float | None]:
    return {k: _num(row[f"{k}_share"]) for k in COMPONENTS}


def thresholds(ctx: Context) -> dict[str, float]:
    """The two share thresholds of the run, as keyword arguments of :func:`structure_by`."""
    return {
        "low_operating_share": ctx.params.get("income.low_operating_share"),
        "transfer_dependent_share": ctx.params.get("income.transfer_dependent_share"),
    }


def summary(ctx: Context) -> dict:
    """``income.*`` figures of summary.json for the scope and the income year.

    ``shares`` and ``by_labor_group`` are ratios of sums over every registered household with an
    income row in the income year (net income ≤ 0 included; see the module docstring);
    ``households``/``nonpositive`` count them. ``low_operating``/``transfer_dependent`` are the
    ledgers' sizes; ``median_shares`` the per-household medians (net income > 0); ``gini`` and
    ``decomposition`` the Lerman–Yitzhaki table of per-capita sources; ``near_line`` the count of
    :func:`near_line` households; ``trend`` the balanced-panel shares since
    ``income.trend_first_year``.
    """
    if not ctx.pkg.has("income") or ctx.pkg["income"].empty:
        return {"available": False, "reason": "未提供收入表或收入表为空 / no income rows"}
    year = ctx.income_year
    income, hh = ctx.pkg["income"], ctx.pkg["households"]
    thr = thresholds(ctx)
    inc_year = income[income["year"] == year]
    total = structure_by(inc_year, hh, **thr)
    if total.empty:
        return {"available": False, "reason": f"{year} 年无登记户收入 / no income rows of registered households in {year}"}
    top = total.iloc[0]
    groups = structure_by(inc_year, hh, ["labor_capacity"], **thr).set_index("labor_capacity")
    frame = income_frame(ctx)
    ly = lerman_yitzhaki(per_capita_sources(frame))
    line = ctx.params.poverty_line(year)
    band = ctx.params.get("income.near_line_band")
    pcap = frame["net_per_capita"].to_numpy(dtype=float)
    items = transfer_items_by(inc_year, hh).iloc[0]
    first = ctx.params.get("income.trend_first_year")
    trend = structure_trend(income, hh, first, year, **thr).set_index("year")
    return {
        "available": True,
        "income_year": int(year),
        "households": int(top["households"]),
        "nonpositive": int(top["nonpositive"]),
        "shares": _shares(top),
        "by_labor_group": {lab: _shares(groups.loc[lab]) for lab in groups.index},
        "households_by_labor_group": {lab: int(groups.loc[lab, "households"]) for lab in groups.index},
        "median_shares": {k: _num(top[f"{k}_share_p50"]) for k in COMPONENTS},
        "low_operating": int(top["low_operating"]),
        "transfer_dependent": int(top["transfer_dependent"]),
        "transfer_items": {k: _num(items[f"{k}_share"]) for k in (*TRANSFER_ITEMS, UNITEMISED)},
        "gini": _num(ly.loc["total", "gini"]),
        "decomposition": {
            k: {c: _num(ly.loc[k, c]) for c in ("share", "gini", "gini_corr", "contribution", "marginal")}
            for k in COMPONENTS
        },
        "poverty_line": _num(line, 2),
        "near_line_band": _num(band),
        "near_line": int(near_line(pcap, line, band).sum()),
        "thresholds": thr,
        "below_line": int((pcap < line).sum()),
        "trend": {
            "first_year": int(trend.index.min()) if len(trend) else None,
            "households": int(trend["households"].iloc[0]) if len(trend) else 0,
            "shares": {str(y): _shares(trend.loc[y]) for y in trend.index},
        },
    }


# ---------------------------------------------------------------------------------------------
# What the notebook shows (tables, charts, prose built from computed figures)

SHORT_ZH: dict[str, str] = {
    "wage": "工资性", "operating_net": "生产经营性（净）", "property": "财产性", "transfer": "转移性",
}
ITEMS_ZH: dict[str, str] = {
    "dibao_pay": "低保金", "wubao_pay": "五保（特困供养）金", "pension": "养老金",
    "eco_comp": "生态补偿金", "family_planning": "计划生育金", "other_transfer": "其他转移性收入",
    UNITEMISED: "未分项",
}
AREA_COLUMNS_ZH: dict[str, str] = {
    "town": "乡(镇)", "village": "行政村", "households": "户数", "nonpositive": "纯收入≤0户",
    **{f"{k}_share": f"{SHORT_ZH[k]}占比" for k in COMPONENTS},
    "operating_net_share_p50": "户经营性占比中位数",
    "low_operating": "经营性占比偏低户", "transfer_dependent": "转移性依赖户",
    "near_line": "临界户", "below_line": "低于贫困线户",
}
LEDGER_VIEW: dict[str, list[str]] = {  # the columns a notebook shows (the full row is in ledgers.xlsx)
    "income_low_operating": ["hh_id", "town", "village", "labor_capacity", "size", "net_income",
                             "net_per_capita", "operating_net_share", "reason"],
    "income_transfer_dependent": ["hh_id", "town", "village", "labor_capacity", "size", "net_income",
                                  "net_per_capita", "transfer_share", "reason"],
}
DECOMPOSITION_COLUMNS_ZH: dict[str, str] = {
    "source": "收入来源（人均）",
    "share": "占人均纯收入 S",
    "gini": "来源基尼系数 G_k",
    "gini_corr": "基尼相关系数 R_k",
    "contribution": "贡献 S·G·R",
    "contribution_share": "贡献占比",
    "marginal": "该项普遍增加1%时基尼系数的变化",
}


def _pct_text(x: float | None, digits: int = 1) -> str:
    return "—" if x is None or not np.isfinite(x) else f"{x * 100:.{digits}f}%"


def _pp_text(d: float) -> str:
    return f"{'上升' if d > 0 else '下降'} {abs(d) * 100:.1f} 个百分点"


def area_table(ctx: Context, area: str) -> pd.DataFrame:
    """One row per ``area`` (``town`` or ``village``) of the scope, income year: households, those
    with net income ≤ 0, the four ratio-of-sums shares, the median household operating share,
    the two ledgers' counts, and the near-line and below-line counts (:func:`near_line`). A village
    table keeps its town column (village names repeat across towns)."""
    year = ctx.income_year
    keys = ["town", "village"] if area == "village" else ["town"]
    inc_year = ctx.pkg["income"][ctx.pkg["income"]["year"] == year]
    table = structure_by(inc_year, ctx.pkg["households"], keys, **thresholds(ctx))
    frame = income_frame(ctx)
    line = ctx.params.poverty_line(year)
    pcap = frame["net_per_capita"].to_numpy(dtype=float)
    counts = pd.DataFrame({
        **{k: _key_series(frame[k]) for k in keys},
        "near_line": near_line(pcap, line, ctx.params.get("income.near_line_band")),
        "below_line": pcap < line,
    }).groupby(keys, sort=True)[["near_line", "below_line"]].sum().reset_index()
    cols = [*keys, "households", "nonpositive", *(f"{k}_share" for k in COMPONENTS),
            "operating_net_share_p50", "low_operating", "transfer_dependent"]
    return table[cols].merge(counts, on=keys, how="left")


def shares_frame(table: pd.DataFrame, label: str) -> pd.DataFrame:
    """The four shares of a :func:`structure_by`-like table, indexed by ``label``, columns in
    Chinese (for :func:`qjlib.plotting.stacked_share_bar`). A negative share (a group whose
    operating costs exceed its operating income) is drawn as 0 and listed by :func:`negative_note`."""
    out = table.set_index(label)[[f"{k}_share" for k in COMPONENTS]]
    out.columns = [SHORT_ZH[k] for k in COMPONENTS]
    out.index = out.index.astype(str)
    return out


def negative_note(shares: pd.DataFrame) -> str:
    """A sentence naming the groups with a negative share (drawn as 0), or ``""``."""
    neg = shares.lt(0).any(axis=1)
    if not neg.any():
        return ""
    return ("注：" + "、".join(shares.index[neg]) + " 的生产经营性净收入合计为负（支出大于收入），"
            "图中按 0 画出，数值见表。")


def share_chart(
    shares: pd.DataFrame, title: str, xlabel: str = "占纯收入比重（各项合计 ÷ 纯收入合计）"
) -> Figure:
    """100 % stacked bars of shares (rows = groups, columns = parts), qjlib chart style; a negative
    share is drawn as 0 (see :func:`negative_note`)."""
    from qjlib.pages import plotting

    return plotting.stacked_share_bar(shares.clip(lower=0.0), title, xlabel=xlabel)


def labor_frame(s: dict) -> pd.DataFrame:
    """Shares by labour capacity from :func:`summary` (rows 有/弱/无劳动能力 and 全部 all)."""
    rows = {lab: s["by_labor_group"][lab] for lab in (*LABOR_CAPACITY, UNKNOWN)
            if lab in s["by_labor_group"]}
    rows["全部"] = s["shares"]
    out = pd.DataFrame(rows).T[list(COMPONENTS)].astype(float)
    out.columns = [SHORT_ZH[k] for k in COMPONENTS]
    return out


def trend_frame(s: dict) -> pd.DataFrame:
    """Shares by year of the balanced panel from :func:`summary` (rows = years)."""
    shares = s["trend"]["shares"]
    out = pd.DataFrame({y: shares[y] for y in sorted(shares)}).T[list(COMPONENTS)].astype(float)
    out.columns = [SHORT_ZH[k] for k in COMPONENTS]
    out.index = [f"{y}年" for y in out.index]
    return out


def items_frame(ctx: Context) -> pd.DataFrame:
    """Transfer income by item (rows 有/弱/无劳动能力 and 全部): each item's sum ÷ the transfer sum
    (:func:`transfer_items_by`), items in Chinese, income year."""
    year = ctx.income_year
    inc_year = ctx.pkg["income"][ctx.pkg["income"]["year"] == year]
    hh = _household_columns(ctx.pkg["households"])
    by_lab = transfer_items_by(inc_year, hh, ["labor_capacity"]).set_index("labor_capacity")
    order = [lab for lab in (*LABOR_CAPACITY, UNKNOWN) if lab in by_lab.index]
    total = transfer_items_by(inc_year, hh).assign(labor_capacity="全部").set_index("labor_capacity")
    both = pd.concat([by_lab.loc[order], total])
    cols = [f"{k}_share" for k in (*TRANSFER_ITEMS, UNITEMISED)]
    out = both[cols].astype(float)
    out.columns = [ITEMS_ZH[k] for k in (*TRANSFER_ITEMS, UNITEMISED)]
    keep = out.abs().max() >= 0.0005  # an item nobody receives (or a rounding rest) is not drawn
    return out.loc[:, keep]


def decomposition_table(s: dict) -> pd.DataFrame:
    """The Lerman–Yitzhaki table from :func:`summary`: one row per per-capita source and a total
    row (the Gini of per-capita net income); ``contribution_share`` = contribution ÷ G."""
    g = s["gini"]
    rows = []
    for k in COMPONENTS:
        d = s["decomposition"][k]
        rel = d["contribution"] / g if g else None
        rows.append({"source": COMPONENTS_ZH[k], **d, "contribution_share": rel})
    rows.append({"source": "人均纯收入 合计", "share": 1.0, "gini": g, "gini_corr": 1.0,
                 "contribution": g, "contribution_share": 1.0, "marginal": 0.0})
    out = pd.DataFrame(rows)[list(DECOMPOSITION_COLUMNS_ZH)]
    # an elasticity in % per 1 %: written out, so −0.137 reads "−0.137%" rather than "−13.7%"
    out["marginal"] = out["marginal"].map(lambda m: "—" if m is None or m != m else f"{m:+.3f}%")
    return out


def decomposition_reading(s: dict) -> str:
    """One sentence on what the decomposition means, from the computed figures."""
    g = s["gini"]
    if g is None or not s["decomposition"]:
        return "户数太少或收入全部相同，无法分解收入差距。"
    dec = s["decomposition"]
    rel = {k: dec[k]["contribution"] / g for k in COMPONENTS}
    top = max(COMPONENTS, key=lambda k: rel[k])
    eq = min(COMPONENTS, key=lambda k: dec[k]["marginal"])
    return (
        f"人均纯收入的基尼系数为 {g:.3f}。{COMPONENTS_ZH[top]}占人均纯收入的 "
        f"{_pct_text(dec[top]['share'])}，却贡献了收入差距的 {_pct_text(rel[top])}，是差距的主要来源；"
        f"{COMPONENTS_ZH[eq]}最能缩小差距：各户的{COMPONENTS_ZH[eq]}都增加 1% 时，基尼系数约"
        f"{'下降' if dec[eq]['marginal'] < 0 else '上升'} {abs(dec[eq]['marginal']):.2f}%。"
    )


def key_figures(s: dict) -> dict[str, object]:
    """The notebook's opening figures from :func:`summary` (Chinese label with English)."""
    if not s.get("available"):
        return {"登记户 households": "—"}
    t = s["thresholds"]
    return {
        "登记户 households": s["households"],
        "生产经营性净收入占比 operating share": _pct_text(s["shares"]["operating_net"]),
        "转移性收入占比 transfer share": _pct_text(s["shares"]["transfer"]),
        "经营性占比偏低户 low operating": (s["low_operating"],
                                        f"有/弱劳动能力，低于 {_thr(t['low_operating_share'])}"),
        "转移性依赖户 transfer dependent": (s["transfer_dependent"],
                                         f"高于 {_thr(t['transfer_dependent_share'])}"),
        "纯收入≤0户 net ≤ 0": (s["nonpositive"], "无占比，须核实"),
        "临界户 near the line": (s["near_line"],
                              f"贫困线以上 {_thr(s['near_line_band'])} 以内"),
    }


def reading(s: dict, scope_name: str) -> str:
    """A one-paragraph reading of :func:`summary` in Chinese (no typed numbers)."""
    if not s.get("available"):
        return f"{scope_name}：{s.get('reason', '无法分析')}。"
    y, n, sh, t = s["income_year"], s["households"], s["shares"], s["thresholds"]
    parts = [
        f"{scope_name} {y} 年有收入记录的登记户 {n:,} 户。按各项收入合计 ÷ 纯收入合计计算，"
        f"工资性收入占 {_pct_text(sh['wage'])}，生产经营性净收入占 {_pct_text(sh['operating_net'])}，"
        f"财产性收入占 {_pct_text(sh['property'])}，转移性收入占 {_pct_text(sh['transfer'])}。"
    ]
    tr = s["trend"]
    years = sorted(tr["shares"])
    if len(years) > 1:
        a, b = tr["shares"][years[0]], tr["shares"][years[-1]]
        parts.append(
            f"同一批 {tr['households']:,} 户（{years[0]}–{years[-1]} 年每年都有记录）相比 {years[0]} 年，"
            f"工资性收入占比{_pp_text(b['wage'] - a['wage'])}，"
            f"生产经营性净收入占比{_pp_text(b['operating_net'] - a['operating_net'])}，"
            f"转移性收入占比{_pp_text(b['transfer'] - a['transfer'])}。")
    lab = s["by_labor_group"]
    if all(k in lab for k in LABOR_CAPACITY):
        parts.append(
            "转移性收入占比：有劳动能力户 " + _pct_text(lab["有劳动能力"]["transfer"])
            + "，弱劳动能力户 " + _pct_text(lab["弱劳动能力"]["transfer"])
            + "，无劳动能力户 " + _pct_text(lab["无劳动能力"]["transfer"]) + "。")
    parts.append(
        f"有劳动能力或弱劳动能力、但生产经营性净收入占比低于 {_thr(t['low_operating_share'])} 的 "
        f"{s['low_operating']:,} 户，和转移性收入占比高于 {_thr(t['transfer_dependent_share'])} 的 "
        f"{s['transfer_dependent']:,} 户，已逐户列入台账。")
    if s["nonpositive"]:
        parts.append(f"另有 {s['nonpositive']:,} 户纯收入为零或负，无法计算占比，不列入上述台账，"
                     "应先核实其收入数据（见第五节）。")
    parts.append(
        f"人均纯收入在贫困线（{s['poverty_line']:,.0f} 元）至其 {1 + s['near_line_band']:g} 倍之间的"
        f"临界户 {s['near_line']:,} 户，低于贫困线的 {s['below_line']:,} 户。")
    return "".join(parts)


def definitions_text(params: Params, income_year: int) -> str:
    """The definitions of this analysis as Markdown for the notebook, with the run's parameter
    values (nothing typed by hand)."""
    y = int(income_year)
    lo = params.get("income.low_operating_share")
    hi = params.get("income.transfer_dependent_share")
    band = params.get("income.near_line_band")
    first = params.get("income.trend_first_year")
    line = params.poverty_line(y)
    return "\n".join([
        "- **纯收入** = 工资性收入 + 生产经营性收入 − 生产经营性支出 + 财产性收入 + 转移性收入（元/户），"
        "由各项重算（`qjlib.definitions.net_income`）；**生产经营性净收入** = 生产经营性收入 − 生产经营性支出。",
        "- **占比（各组）**：某项收入合计 ÷ 纯收入合计（比值之和，不是各户占比的平均）。计入收入年度有收入记录的"
        "全部登记户，纯收入≤0 的户也计入合计（其亏损是该组收入的一部分）；四项占比相加为 100%。",
        "- **户占比的分布**：各户某项收入 ÷ 该户纯收入的中位数与四分位数，只含纯收入 > 0 的户。",
        "- **纯收入≤0 的户**：没有占比，不列入任何占比台账，单独列出，作为需要核实的数据问题。",
        f"- **生产经营性收入占比偏低户**：有劳动能力或弱劳动能力（由家庭成员的劳动技能判定）、纯收入 > 0，且"
        f"生产经营性净收入 ÷ 纯收入 < {_thr(lo)}（参数 `income.low_operating_share`）。",
        f"- **转移性收入依赖户**：纯收入 > 0，且转移性收入 ÷ 纯收入 > {_thr(hi)}"
        f"（参数 `income.transfer_dependent_share`；恰好等于不计）。",
        f"- **变化趋势**：{first}（参数 `income.trend_first_year`；数据晚于此年开始时取最早年度）至 {y} 年"
        "每年都有收入记录的同一批户（平衡面板），逐年计算各项占比。",
        "- **转移性收入构成**：各项转移性收入合计 ÷ 转移性收入合计；“未分项”为转移性收入中未分到各项的部分。",
        "- **收入差距**：人均纯收入（纯收入 ÷ 当年家庭人口）的基尼系数，每户计一次，"
        "G = 2·cov(y, F(y)) ÷ 均值(y)，F 为中位秩经验分布（相同收入取平均秩）。按人均收入来源（各项 ÷ 人口，"
        "四项相加等于人均纯收入）作 Lerman–Yitzhaki 分解：S_k 为该项占人均纯收入的比重，G_k 为该项自身的基尼系数，"
        "R_k = cov(y_k, F(y)) ÷ cov(y_k, F(y_k)) 为基尼相关系数；贡献 S_k·G_k·R_k 相加恰等于 G；"
        "该项普遍增加 1% 时基尼系数的相对变化为 S_k·(G_k·R_k ÷ G − 1)。",
        f"- **临界户**：人均纯收入不低于当年贫困线、且不超过贫困线的 {1 + band:g} 倍"
        f"（参数 `income.near_line_band` = {band:g}）；{y} 年贫困线 {line:,.0f} 元/人"
        f"（来源：{params.sources.get('poverty_line', '')}）。",
    ])
