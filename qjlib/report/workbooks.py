"""The answer columns of a work-list ledger's sheet, the sheet of the previous report's gone rows,
and the towns' workbooks (``lifecycle.md`` §1).

A work-list ledger (:func:`qjlib.core.answers.is_worklist`) gets, right of its own columns, the
empty answer columns 核实结果 (a drop-down of :data:`qjlib.core.answers.VERDICTS`), 整改措施,
整改完成日期 (a date from 2000 to 2099) and 责任单位. The sheet is protected without a password
(it prevents accidents, not intent): every cell is locked but those of the answer columns (rows
cannot be moved, so ``qj collect`` knows which row was sent with which key); filtering,
resizing and selecting stay allowed. ``qj collect`` checks every key anyway.

``towns/<town>.xlsx`` holds, for each town named in a work-list ledger's ``town`` column, only that
town's rows of those ledgers, always masked, under the same sheet names as ``ledgers.xlsx`` (so a
returned workbook of either kind is read the same way).
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from qjlib.core.answers import ANSWER_COLUMNS, STATUSES, VERDICTS, is_worklist
from qjlib.core.ledgers import LedgerSpec, column_label

FOLLOW_UP = "follow_up"  # the status column (``status`` is taken by dividend_overdue's own)
FOLLOW_UP_ZH = "对账状态"
ANSWER_WIDTHS = {"verdict": 12, "action": 30, "done": 14, "unit": 18}
PROTECTION = {  # what stays allowed on a protected ledger sheet
    "autofilter": True, "format_columns": True, "format_rows": True,
    "select_locked_cells": True, "select_unlocked_cells": True,
}
GONE_SHEET = "上期对账"  # the previous report's rows that are gone (resolved / dropped)


def header(name: str, spec: LedgerSpec | None) -> str:
    """The Chinese header of a ledger column (:func:`column_label`, and the status column's)."""
    return FOLLOW_UP_ZH if name == FOLLOW_UP else column_label(name, spec)


def code_labels(name: str) -> dict[str, str] | None:
    """Chinese labels of the codes of this module's columns (the status column)."""
    return STATUSES if name == FOLLOW_UP else None


def add_answer_columns(wb: Any, ws: Any, spec: LedgerSpec, n_cols: int, n_rows: int,
                       head: Any) -> int:
    """Write the answer columns of a work-list ledger right of its ``n_cols`` columns (``n_rows``
    data rows), with their validation, and protect the sheet; returns the number of columns
    added (0 for a reference ledger)."""
    if not is_worklist(spec.name):
        return 0
    unlocked = wb.add_format({"locked": False})
    unlocked_date = wb.add_format({"locked": False, "num_format": "yyyy-mm-dd"})
    last = max(n_rows, 1)
    for j, (col, zh) in enumerate(ANSWER_COLUMNS.items(), start=n_cols):
        ws.write_string(0, j, zh, head)
        fmt = unlocked_date if col == "done" else unlocked
        ws.set_column(j, j, ANSWER_WIDTHS[col], fmt)
        for i in range(1, n_rows + 1):  # the rows' own cells too (not every reader applies
            ws.write_blank(i, j, None, fmt)  # a column's format to its empty cells)
        if col == "verdict":
            ws.data_validation(1, j, last, j, {
                "validate": "list", "source": list(VERDICTS.values()),
                "input_title": "核实结果", "input_message": "请选择：" + "、".join(VERDICTS.values()),
                "error_title": "核实结果", "error_message": "请从下拉列表中选择 / choose from the list"})
        elif col == "done":
            ws.data_validation(1, j, last, j, {
                "validate": "date", "criteria": "between",
                "minimum": pd.Timestamp("2000-01-01").to_pydatetime(),
                "maximum": pd.Timestamp("2099-12-31").to_pydatetime(),
                "input_title": "整改完成日期", "input_message": "日期，如 2019-11-30",
                "error_title": "整改完成日期", "error_message": "请填写日期 / enter a date"})
    ws.protect("", PROTECTION)
    return len(ANSWER_COLUMNS)


_BAD_FILE_CHARS = re.compile(r'[\\/:*?"<>|\s]+')


def town_file_name(town: str) -> str:
    """``towns/<town>.xlsx``'s file name for a town name (characters a file name cannot hold
    replaced by ``_``)."""
    return (_BAD_FILE_CHARS.sub("_", str(town)).strip("._") or "town") + ".xlsx"


def town_rows(prepared: dict[str, tuple[LedgerSpec, pd.DataFrame]]
              ) -> dict[str, dict[str, tuple[LedgerSpec, pd.DataFrame]]]:
    """Town name → the work-list ledgers (in ``prepared``'s order) with that town's rows, only
    the ledgers having rows for it; ledgers without a ``town`` column are the county's."""
    towns: dict[str, dict[str, tuple[LedgerSpec, pd.DataFrame]]] = {}
    for name, (spec, df) in prepared.items():
        if not is_worklist(name) or "town" not in df.columns or df.empty:
            continue
        t = df["town"].astype("str")
        for town in sorted(t[df["town"].notna()].unique()):
            part = df[t == town].reset_index(drop=True)
            towns.setdefault(town, {})[name] = (spec, part)
    return dict(sorted(towns.items()))
