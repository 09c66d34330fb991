"""The towns' answers to a ledger and a ledger row's status across quarters (对账销号,
``lifecycle.md``): the vocabulary shared by the report (which writes the answer columns and
reconciles), ``qj collect`` (which reads them back) and the demo (which plants answers).

A ledger is a *work list* (a town answers it row by row) unless it is a reference
(:data:`REFERENCE_LEDGERS`). Its rows are identified across exports by the text of their key
cells (:func:`key_text`: ``hh_id=6108…`` joined by ``,`` in the spec's key order).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

#: Ledgers that are references, not lists a town works through: no answer columns, no status.
REFERENCE_LEDGERS = frozenset({"industry_beneficiaries", "helper_review", "visit_monthly",
                               "industry_projects"})

#: The answer columns, right of a ledger's own: canonical name → Chinese header.
ANSWER_COLUMNS: dict[str, str] = {
    "verdict": "核实结果",
    "action": "整改措施",
    "done": "整改完成日期",
    "unit": "责任单位",
}

#: 核实结果: code → Chinese label (the drop-down's values, in this order).
VERDICTS: dict[str, str] = {
    "confirmed": "属实",
    "not_confirmed": "不属实",
    "data_error": "数据错误",
}

#: A row's status: code → Chinese label. The first four are rows of this report, the last two
#: rows of the previous report that are gone.
STATUSES: dict[str, str] = {
    "new": "新增",
    "open": "未整改",
    "disputed": "有异议",
    "recurred": "整改不实",
    "resolved": "已销号",
    "dropped": "自动消失",
    "unreconciled": "未对账",  # the ledger was not produced this quarter: not closed (lifecycle.md)
}

#: The columns of ``responses.csv``, in order (``key`` is :func:`key_text`).
RESPONSE_COLUMNS = ("ledger", "key", "verdict", "action", "done", "unit", "town", "file",
                    "sheet", "row")


def is_worklist(name: str) -> bool:
    """True when the ledger ``name`` is a list a town answers (not a reference)."""
    return name not in REFERENCE_LEDGERS


def key_text(frame: pd.DataFrame, key: Sequence[str]) -> pd.Series:
    """The key of each row as one text, ``col=value`` joined by ``,`` (values as the CSV writes
    them: ``frame`` holds text)."""
    out = pd.Series("", index=frame.index, dtype="str")
    for i, k in enumerate(key):
        part = f"{k}=" + frame[k].astype("str").str.strip()
        out = part if i == 0 else out + "," + part
    return out
