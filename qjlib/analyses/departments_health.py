"""The ``health.*`` figures of ``shared/contract/departments.md`` (plan: 参合率 100 %, 大病保险 100 %,
住院费用实际补助比例 ≥ 90 %), from the analysis of :mod:`qjlib.analyses.departments`.

- ``persons``: counted registered persons alive on A; ``insured``: of them, with an ``insurance``
  row for C (the year of A) with ``basic`` 是 or an ``exempt`` reason; ``critical``: with a row for
  C with ``critical`` 是; ``family_doctor``: with ``family_doctor`` 是. Each rate = that ÷
  ``persons``.
- ``reimbursement_ratio`` = ``reimbursed`` ÷ ``eligible_cost`` over the ``stays`` of
  ``reimbursement_low``'s population (counted registered persons' stays admitted in C, discharged
  by A; ``eligible_cost`` = Σ eligible cost, else total cost, row by row).
"""

from __future__ import annotations

import numpy as np

from qjlib.analyses import departments
from qjlib.core.context import Context
from qjlib.core.fmt import json_number

NAME = "health"  # its part of summary.json and its key in qjlib.analyses.REGISTRY
LEDGERS: dict = {}
NOTEBOOK_RESULTS: dict[str, tuple[str, ...]] = {}


def build_ledgers(ctx: Context) -> dict:
    """No ledger of its own (its rules are in ``dept_mismatch``)."""
    return {}


def _rate(num: int, den: int) -> float | None:
    return json_number(num / den) if den else None


def summary(ctx: Context) -> dict:
    """``health.*`` figures for the scope: each rate with its numerator and denominator."""
    res = departments.analyse(ctx)
    if res is None or (res.insurance is None and res.stays is None):
        return {"available": False, "reason": "未提供医保参保或住院报销数据 / no insurance or hospital table"}
    out: dict = {"available": True, "year": int(res.as_of.year)}
    if res.insurance is not None:
        p = res.persons[res.persons["counted"].to_numpy(dtype=bool) & res.persons["alive"].to_numpy(dtype=bool)]
        ins = res.insurance[(res.insurance["year"] == res.as_of.year).fillna(False).to_numpy()]
        keys = p["id_key"].to_numpy()

        def having(mask) -> int:
            k = ins["id_key"].to_numpy()[np.asarray(mask, dtype=bool)]
            return int((np.isin(keys, k[k >= 0]) & (keys >= 0)).sum())

        basic = ins["basic"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        if "exempt" in ins.columns:
            basic = basic | ins["exempt"].notna().to_numpy()
        n = len(p)
        out["persons"] = n
        for name, mask in (("insured", basic),
                           ("critical", _flag(ins, "critical")),
                           ("family_doctor", _flag(ins, "family_doctor"))):
            if mask is None:
                continue
            k = having(mask)
            out[name] = k
            out[f"{name}_rate"] = _rate(k, n)
    if res.stays is not None:
        st = res.stays
        out["stays"] = len(st)
        reimbursed, base = round(float(st["reimbursed"].sum()), 2), round(float(st["base"].sum()), 2)
        out["reimbursed"] = json_number(reimbursed)
        out["eligible_cost"] = json_number(base)
        out["reimbursement_ratio"] = json_number(reimbursed / base) if base > 0 else None
        out["reimbursement_target"] = json_number(float(ctx.params.get("health.reimbursement_target")))
    return out


def _flag(ins, col: str):
    """Rows with ``col`` 是 (None when the roll has no such column)."""
    if col not in ins.columns:
        return None
    return ins[col].astype("boolean").fillna(False).to_numpy(dtype=bool)
