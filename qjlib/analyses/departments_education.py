"""The ``education.*`` figures of ``shared/contract/departments.md``, from the analysis of
:mod:`qjlib.analyses.departments`: ``school_age`` (counted registered persons alive on A aged
``education.age_min``–``education.age_max`` on 31 August of the current school year),
``dropouts`` and ``not_found`` (rows of ``dropout`` and ``enrollment_not_found``), and the student
aid rules' rows (``aid_repeat``, ``aid_multi_channel``).
"""

from __future__ import annotations

from qjlib.analyses import departments
from qjlib.core.context import Context
from qjlib.core.spells import current_term

NAME = "education"  # its part of summary.json and its key in qjlib.analyses.REGISTRY
LEDGERS: dict = {}
NOTEBOOK_RESULTS: dict[str, tuple[str, ...]] = {}


def build_ledgers(ctx: Context) -> dict:
    """No ledger of its own (its rules are in ``dept_mismatch``)."""
    return {}


def summary(ctx: Context) -> dict:
    """``education.*`` figures for the scope."""
    res = departments.analyse(ctx)
    if res is None or (res.school_age is None and "aid_repeat" in (res.rules_off if res else {})):
        return {"available": False, "reason": "未提供学籍或学生资助数据 / no enrollment or student_aid table"}
    counts = res.ledger["rule"].value_counts()
    out: dict = {"available": True, "current_term": current_term(res.as_of)}
    if res.school_age is not None:
        out["school_age"] = len(res.school_age)
        out["dropouts"] = int(counts.get("dropout", 0))
        out["not_found"] = int(counts.get("enrollment_not_found", 0))
    for rule in ("aid_repeat", "aid_multi_channel"):
        if rule not in res.rules_off:
            out[rule] = int(counts.get(rule, 0))
    return out
