"""The signals of return-to-poverty monitoring (``shared/contract/monitoring.md``): one pure,
vectorised function per signal, each deciding its threshold exactly (:mod:`qjlib.core.exact`).

Every function takes the population's ``hh_id`` (the past exited households, in order) and the
tables it needs in canonical columns, and returns a ``boolean`` Series on ``hh_id``'s positions:
True / False, or ``<NA>`` where the signal cannot be told for the household (no income row for
an income signal). A signal whose *table* is absent is not computed at all: the analysis marks
it unavailable (:mod:`qjlib.analyses.monitoring`), never False.

Departments' tables (``departments.md``) are matched to the register by ``id_number`` only; an ID
that fails GB 11643 matches nobody.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from qjlib.analyses.departments_match import id_keys
from qjlib.analyses.exit_items import house_safe_on
from qjlib.core import exact
from qjlib.core.ids import isin, positions
from qjlib.core.spells import active_on, window_bounds

NO_CAPACITY = "无劳动能力"


def _bool(values: np.ndarray, known: np.ndarray | None = None) -> pd.Series:
    """``values`` as a nullable boolean Series, ``<NA>`` where ``known`` is False."""
    out = pd.Series(np.asarray(values, dtype=bool)).astype("boolean")
    if known is not None:
        out[~np.asarray(known, dtype=bool)] = pd.NA
    return out


def year_rows(hh_id: pd.Series, income: pd.DataFrame, year: int) -> tuple[np.ndarray, pd.DataFrame]:
    """(has a row, the rows aligned to ``hh_id``) of the income table's ``year``: ``net_income``
    and ``size`` (NaN where the household has no row). Only the three columns read are taken."""
    rows = np.flatnonzero((income["year"] == int(year)).fillna(False).to_numpy(dtype=bool))
    pos = positions(hh_id, income["hh_id"].take(rows))
    has = pos >= 0
    take = rows[np.where(has, pos, 0)] if len(rows) else np.zeros(len(pos), dtype=np.int64)
    out = {}
    for c in ("net_income", "size"):
        v = income[c].to_numpy(dtype=float, na_value=np.nan)
        out[c] = np.where(has, v[take] if len(rows) else np.nan, np.nan)
    return has, pd.DataFrame(out)


def below_line(net_income, size, line: float, has_row) -> pd.Series:
    """收入低于贫困线: ``net_income ÷ size < line`` decided as ``fen(net) < fen(line) × size``
    (exactly at the line is not below); ``<NA>`` without an income row."""
    return _bool(exact.per_capita_below(net_income, size, line), has_row)


def below_monitor_line(net_income, size, line: float, monitor_line: float, has_row) -> pd.Series:
    """收入低于监测线: not below the poverty line and ``net_income ÷ size < monitor_line``
    (``fen(net) < fen(monitor_line) × size``; exactly at it is not below); ``<NA>`` without an
    income row."""
    hit = ~exact.per_capita_below(net_income, size, line) & exact.per_capita_below(net_income, size, monitor_line)
    return _bool(hit, has_row)


def income_fall(net_now, size_now, net_before, size_before, max_fall: float, has_now, has_before) -> pd.Series:
    """收入大幅下降: ``pc_Y < (1 − f) × pc_{Y−1}`` with ``f`` = ``monitoring.max_fall`` = p/q,
    decided as ``q × fen(net_Y) × size_{Y−1} < (q − p) × fen(net_{Y−1}) × size_Y`` (a fall of
    exactly f is not more than f); ``<NA>`` unless both years have a row."""
    p, q = exact.fraction(max_fall)
    lhs = q * exact.fen(net_now) * np.asarray(size_before, dtype=float)
    rhs = (q - p) * exact.fen(net_before) * np.asarray(size_now, dtype=float)
    return _bool(lhs < rhs, np.asarray(has_now, dtype=bool) & np.asarray(has_before, dtype=bool))


def in_ledger(hh_id: pd.Series, ledger_ids: pd.Series) -> pd.Series:
    """The household is in a ledger (``decline_run``: ``income_decline``; ``transfer_dependent``:
    ``income_transfer_dependent``): its ``hh_id`` is among ``ledger_ids``."""
    return _bool(isin(hh_id, ledger_ids))


@dataclass(frozen=True)
class MemberKeys:
    """The population's members with a valid GB 11643 ID, for matching department rows by ID
    number (as the departments comparison does, :func:`qjlib.analyses.departments_match.id_keys`;
    an ID held by several members matches each): ``index`` (the distinct keys, a hash index),
    ``first`` and ``count`` (each key's run in ``hh``) and ``hh`` (the members' households'
    positions in the population's ``hh_id``, ordered by key)."""

    index: pd.Index
    first: np.ndarray
    count: np.ndarray
    hh: np.ndarray

    @classmethod
    def of(cls, hh_id: pd.Series, members: pd.DataFrame) -> MemberKeys:
        """The members of ``members`` whose ``hh_id`` is one of ``hh_id`` (unique)."""
        pos = positions(members["hh_id"], hh_id)
        keys = id_keys(members["id_number"])
        keep = np.flatnonzero((pos >= 0) & (keys >= 0))
        order = keep[np.argsort(keys[keep], kind="stable")]
        k = keys[order]
        first = np.flatnonzero(np.r_[True, k[1:] != k[:-1]]) if len(k) else np.zeros(0, dtype=np.int64)
        count = np.diff(np.r_[first, len(k)])
        return cls(pd.Index(k[first]), first, count, pos[order])

    def match(self, id_number: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """(row position, household position) of every (department row, matching member)
        pair, rows ascending (an invalid ID, key −1, matches nobody: no member's key is negative)."""
        g = self.index.get_indexer(id_keys(id_number))
        hit = g >= 0
        cnt = np.where(hit, self.count[np.where(hit, g, 0)] if len(self.count) else 0, 0)
        lo = np.where(hit, self.first[np.where(hit, g, 0)] if len(self.first) else 0, 0)
        rows = np.repeat(np.arange(len(g), dtype=np.int64), cnt)
        within = np.arange(len(rows), dtype=np.int64) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        return rows, self.hh[np.repeat(lo, cnt) + within]


def out_of_pocket_12m(hh_id: pd.Series, members: pd.DataFrame, hospital: pd.DataFrame,
                      asof: pd.Timestamp, keys: MemberKeys | None = None) -> pd.Series:
    """Σ out-of-pocket (yuan) of the household's members' stays admitted in the 12-month window
    (A − 12 months, A]; a row's out-of-pocket is ``out_of_pocket``, else ``total_cost −
    reimbursed`` (a stay counts once per household). 0 for a household without such stays
    (float Series on ``hh_id``'s positions). ``keys``: :meth:`MemberKeys.of` when already built."""
    keys = MemberKeys.of(hh_id, members) if keys is None else keys
    start, end = window_bounds(asof)
    inside = np.flatnonzero(((hospital["admitted"] > start) & (hospital["admitted"] <= end)).to_numpy(dtype=bool))
    h = hospital.take(inside)
    oop = h["total_cost"].to_numpy(dtype=float, na_value=np.nan) - h["reimbursed"].to_numpy(dtype=float, na_value=np.nan)
    if "out_of_pocket" in h.columns:
        given = h["out_of_pocket"].to_numpy(dtype=float, na_value=np.nan)
        oop = np.where(np.isnan(given), oop, given)
    rows, hh = keys.match(h["id_number"])
    once = ~pd.Index(rows * (len(hh_id) + 1) + hh).duplicated()
    total = pd.Series(oop[rows[once]]).groupby(hh[once]).sum()  # in row order, as a merge
    out = np.zeros(len(hh_id))
    out[total.index.to_numpy(dtype=np.int64)] = total.to_numpy()
    return pd.Series(out)


def medical_burden(oop_12m, threshold: float) -> pd.Series:
    """医疗负担重: out-of-pocket of the 12-month window > ``monitoring.oop_threshold``, compared
    in whole fen (exactly at the threshold is not above)."""
    return _bool(exact.fen(oop_12m) > exact.fen(threshold))


def no_safety_net(hh_id: pd.Series, labor_capacity: pd.Series, members: pd.DataFrame,
                  welfare: pd.DataFrame, asof: pd.Timestamp, keys: MemberKeys | None = None) -> pd.Series:
    """无劳动能力未兜底: labour capacity 无劳动能力 and no member has a ``dibao`` or ``tekun`` spell
    active on A (``start ≤ A`` and ``end`` blank or ``≥ A``). A household whose capacity is
    unknown (no members rows) is ``<NA>``. ``keys``: :meth:`MemberKeys.of` when already built."""
    keys = MemberKeys.of(hh_id, members) if keys is None else keys
    w = welfare[welfare["programme"].isin(("dibao", "tekun")).to_numpy(dtype=bool)]
    active = active_on(w["start"], w["end"], asof).to_numpy(dtype=bool)
    covered = np.zeros(len(hh_id), dtype=bool)
    covered[keys.match(w["id_number"].take(np.flatnonzero(active)))[1]] = True
    cap = pd.Series(labor_capacity, copy=False).reset_index(drop=True)
    hit = (cap == NO_CAPACITY).fillna(False).to_numpy(dtype=bool) & ~covered
    return _bool(hit, cap.notna().to_numpy())


def dropout(hh_id: pd.Series, dropout_hh_ids: pd.Series) -> pd.Series:
    """有辍学: a member of the household is in rule ``dropout`` of ``dept_mismatch``
    (``dropout_hh_ids``: the rule's rows' ``hh_id``)."""
    return _bool(isin(hh_id, dropout_hh_ids))


def unsafe_house(hh_id: pd.Series, housing: pd.DataFrame, asof: pd.Timestamp,
                 relocation: pd.DataFrame | None = None) -> pd.Series:
    """住房不安全: the house is known and not safe on A (``exit.md``'s "safe on a date D",
    :func:`qjlib.analyses.exit_items.house_safe_on`, ``relocation`` when present); an unknown
    house is no signal (False)."""
    safe = house_safe_on(housing, hh_id, asof, relocation)
    return _bool((safe == False).fillna(False).to_numpy(dtype=bool))  # noqa: E712 (nullable)
