"""Checks of the tables of ``shared/contract/departments.md`` (:mod:`qjlib.core.tables_departments`).

:func:`qjlib.io.checks.row_checks` calls ``ROW_CHECKS[table]`` on each file's converted rows, and
:func:`qjlib.io.checks.cross_checks` calls every ``PACKAGE_CHECKS`` function once the package's
tables are read (for checks across tables).

The contract's findings (rows kept): an ID number failing GB 11643 (``id_checksum``, generic); a
disability card whose first 18 characters are not its ``id_number`` (``card_id_mismatch``) or whose
19th/20th characters disagree with ``category``/``grade`` (``card_code_mismatch``); a spell or stay
ending before it starts (``end_before_start``: welfare and posts ``end`` < ``start``, hospital
``discharged`` < ``admitted``); a stay — the rows with the same (``id_number``, ``admitted``), summed
over every file — with Σ ``reimbursed`` > Σ ``total_cost`` (``reimbursed_over_total``, on the stay's
first row); ``basic`` 是 with ``critical`` 否 (``basic_without_critical``); the same person twice in
``deaths`` or holding two ``disability`` cards (``duplicate_id_number``, generic, through
:data:`UNIQUE_ID_TABLES`). A ``term`` is rewritten to ``YYYY春``/``YYYY秋``
(:func:`qjlib.core.spells.parse_terms`); one that cannot be read rejects its row
(``unparseable_term``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from qjlib.core import spells
from qjlib.core.tables_departments import (
    DISABILITY_CATEGORY_DIGIT,
    DISABILITY_GRADE_DIGIT,
    UNIQUE_ID_TABLES,
)

__all__ = ["PACKAGE_CHECKS", "ROW_CHECKS", "UNIQUE_ID_TABLES"]


def _end_before_start(start: str, end: str, zh: str, en: str) -> Callable[..., None]:
    """A row check: ``end`` before ``start`` is the finding ``end_before_start``."""

    def check(df: pd.DataFrame, raw: Any, issues: Any, add: Callable[..., None], as_of: Any) -> None:
        """``end_before_start`` on the rows whose end is before their start."""
        add(df[end] < df[start], "end_before_start", end, df[end], zh, en, False)

    return check


def _disability(df: pd.DataFrame, raw: Any, issues: Any, add: Callable[..., None], as_of: Any) -> None:
    """The card number against the ID number (first 18 characters) and against the category and
    grade (19th and 20th characters); a category or grade outside its list is not compared."""
    card = df["card_number"].astype("str").str.strip().str.upper()
    idn = df["id_number"]
    add(card.notna() & idn.notna() & (card.str.slice(0, 18) != idn), "card_id_mismatch",
        "card_number", "", "残疾人证号前 18 位与证件号码不一致", "card number's first 18 characters "
        "are not the ID number", False)
    cat = df["category"].map(DISABILITY_CATEGORY_DIGIT)
    grade = df["grade"].map(DISABILITY_GRADE_DIGIT)
    bad_cat = cat.notna() & card.notna() & (card.str.slice(18, 19) != cat)
    bad_grade = grade.notna() & card.notna() & (card.str.slice(19, 20) != grade)
    add(bad_cat | bad_grade, "card_code_mismatch", "card_number", "",
        "残疾人证号第 19/20 位与残疾类别/等级不一致", "card's 19th/20th characters disagree with the "
        "category/grade", False)


def _insurance(df: pd.DataFrame, raw: Any, issues: Any, add: Callable[..., None], as_of: Any) -> None:
    """``basic`` 是 with ``critical`` 否: critical-illness cover comes with basic insurance."""
    m = (df["basic"] == True) & (df["critical"] == False)  # noqa: E712 - nullable booleans
    add(m, "basic_without_critical", "critical", "否", "已参加基本医疗保险但大病保险为否（大病保险随基本医保参保，"
        "应为数据问题）", "basic insurance 是 with critical 否 (a data problem, not a coverage gap)", False)


def _terms(df: pd.DataFrame, raw: Any, issues: Any, add: Callable[..., None], as_of: Any) -> None:
    """``term`` rewritten to ``YYYY春``/``YYYY秋``; a non-blank term that cannot be read rejects
    its row (``unparseable_term``)."""
    given = df["term"]
    parsed = spells.parse_terms(given)
    add(given.notna() & parsed.isna(), "unparseable_term", "term", given,
        "学期无法识别（应为 2019春、2019秋、2019年春季、2018-2019学年第二学期 等）",
        "term cannot be read (write 2019春, 2019秋, 2018-2019学年第一学期 …)", True)
    df["term"] = parsed.where(parsed.notna(), given)


ROW_CHECKS: dict[str, Callable[..., None]] = {
    "welfare": _end_before_start("start", "end", "终止日期早于起始日期", "spell ends before it starts"),
    "posts": _end_before_start("start", "end", "离岗日期早于上岗日期", "post spell ends before it starts"),
    "hospital": _end_before_start("admitted", "discharged", "出院日期早于入院日期",
                                  "discharged before admitted"),
    "disability": _disability,
    "insurance": _insurance,
    "enrollment": _terms,
    "student_aid": _terms,
}
"""Table name → ``f(df, raw, issues, add, as_of)``: ``df`` one file's converted rows (index =
position in the table), ``add(mask, kind, col, value, zh, en, reject)`` records a finding or a
reject of the masked rows (:func:`qjlib.io.checks.row_checks`)."""


def stays(hospital: pd.DataFrame) -> pd.DataFrame:
    """The hospital rows summed per stay (``id_number``, ``admitted``): ``total_cost``,
    ``reimbursed`` and ``eligible_cost`` summed (``eligible_cost`` NaN when no row of the stay
    has one), ``discharged`` the latest, ``first`` the position of the stay's first row (file
    order), ``rows`` its number of rows."""
    h = hospital.assign(_pos=hospital.index.to_numpy())
    g = h.groupby(["id_number", "admitted"], sort=True, dropna=True)
    out = g.agg(total_cost=("total_cost", "sum"), reimbursed=("reimbursed", "sum"),
                eligible_cost=("eligible_cost", "sum"), _n_eligible=("eligible_cost", "count"),
                discharged=("discharged", "max"), first=("_pos", "min"),
                rows=("_pos", "size")).reset_index()
    out["eligible_cost"] = out["eligible_cost"].where(out.pop("_n_eligible") > 0)
    return out


def _stay_totals(loaded: dict[str, Any], tables: dict[str, Any]) -> None:
    """A stay whose Σ ``reimbursed`` exceeds its Σ ``total_cost`` (``reimbursed_over_total``),
    on its first row."""
    if "hospital" not in tables or not len(tables["hospital"]):
        return
    s = stays(tables["hospital"])
    bad = s[s["reimbursed"] > s["total_cost"]]
    if not len(bad):
        return
    r, t = bad["reimbursed"].to_numpy(), bad["total_cost"].to_numpy()
    loaded["hospital"].issues.add(
        bad["first"].to_numpy(dtype=np.int64), "reimbursed_over_total", "reimbursed",
        np.array([f"{x:.2f}" for x in r], dtype=object),
        [f"本次住院报销合计 {a:.2f} 元超过住院总费用 {b:.2f} 元" for a, b in zip(r, t, strict=True)],
        [f"the stay's reimbursed {a:.2f} exceeds its total cost {b:.2f}" for a, b in
         zip(r, t, strict=True)], False)


PACKAGE_CHECKS: tuple[Callable[[dict[str, Any], dict[str, Any]], None], ...] = (_stay_totals,)
"""Functions ``f(loaded, tables)`` run after every table is read (``loaded``: table name →
:class:`qjlib.io.issues.Loaded`; ``tables``: the derived frames)."""
