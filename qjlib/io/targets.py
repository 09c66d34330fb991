"""Checks of the tables of ``shared/contract/targets.md`` (:mod:`qjlib.core.tables_targets`).

:func:`qjlib.io.checks.row_checks` calls ``ROW_CHECKS[table]`` on each file's converted rows, and
:func:`qjlib.io.checks.cross_checks` calls every ``PACKAGE_CHECKS`` function once the package's
tables are read (for checks across tables).

What an orphan is here (the contract): a payment whose ``fund_id`` is not in ``funds``
(``orphan_payment``), and a secretary's visit whose target names nothing known
(``visit_target_unknown``: a household target that is neither a registered ``hh_id`` nor one of
``edge_households``; a village target that is not a ``village_code`` of ``villages``). Both rows
are kept; a visit of an unknown target counts for nothing (:func:`unknown_visit_targets`, the one
definition the analysis uses too). A village target cannot be judged without ``villages``, nor a
payment without ``funds``: no finding then.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from qjlib.core.ids import isin


def _loans(df: pd.DataFrame, raw: Any, issues: Any, add: Callable[..., None], as_of: Any) -> None:
    """A loan due before it was made (``loan_due_before_start``, finding)."""
    add(df["due_date"] < df["loan_date"], "loan_due_before_start", "due_date", df["due_date"],
        "到期日期早于放款日期", "loan due before it was made", False)


ROW_CHECKS: dict[str, Callable[..., None]] = {"loans": _loans}
"""Table name → ``f(df, raw, issues, add, as_of)``: ``df`` one file's converted rows (index =
position in the table), ``add(mask, kind, col, value, zh, en, reject)`` records a finding or a
reject of the masked rows (:func:`qjlib.io.checks.row_checks`)."""


def unknown_visit_targets(visits: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> np.ndarray:
    """Per visit: its target names nothing known (see the module text). A village target is
    unknown only when ``villages`` is present; a target of another ``target_type`` (not in the
    value list) is unknown."""
    tt, tg = visits["target_type"], visits["target"]
    hh_pool = [tables["households"]["hh_id"]] if "households" in tables else []
    if "edge_households" in tables:
        hh_pool.append(tables["edge_households"]["hh_id"])
    pool = pd.concat(hh_pool, ignore_index=True) if hh_pool else pd.Series([], dtype="str")
    is_hh = (tt == "household").fillna(False).to_numpy(dtype=bool)
    is_vil = (tt == "village").fillna(False).to_numpy(dtype=bool)
    out = ~(is_hh | is_vil)
    out |= is_hh & ~isin(tg, pool)
    if "villages" in tables:
        out |= is_vil & ~isin(tg, tables["villages"]["village_code"])
    return out


def _orphans(loaded: dict[str, Any], tables: dict[str, pd.DataFrame]) -> None:
    """``orphan_payment`` and ``visit_target_unknown`` findings (rows kept)."""
    if "fund_payments" in tables and "funds" in tables:
        pay = tables["fund_payments"]
        m = ~isin(pay["fund_id"], tables["funds"]["fund_id"])
        if m.any():
            loaded["fund_payments"].issues.add(
                pay.index.to_numpy()[m], "orphan_payment", "fund_id",
                pay["fund_id"].to_numpy(dtype=object)[m], "「资金编号」不在资金台账中",
                "fund_id not in the funds table", False)
    if "secretary_visits" in tables:
        v = tables["secretary_visits"]
        m = unknown_visit_targets(v, tables)
        if m.any():
            loaded["secretary_visits"].issues.add(
                v.index.to_numpy()[m], "visit_target_unknown", "target",
                v["target"].to_numpy(dtype=object)[m], "遍访对象编号不是已知的户或村（不计入遍访）",
                "the visit's target is no known household or village (counts for nothing)", False)


PACKAGE_CHECKS: tuple[Callable[[dict[str, Any], dict[str, Any]], None], ...] = (_orphans,)
"""Functions ``f(loaded, tables)`` run after every table is read (``loaded``: table name →
:class:`qjlib.io.issues.Loaded`; ``tables``: the derived frames)."""
