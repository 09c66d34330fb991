"""Problems found while loading, and the three ledgers made of them.

Every problem of a row is an issue with a stable code (:data:`KINDS`). An issue of a kind in
:data:`REJECT_KINDS` **rejects** its row (it cannot serve its table's purpose); any other keeps
the row and is a **finding**. The checks (:mod:`qjlib.io.checks`) add issues to one
:class:`Issues` collector per table; :func:`ledgers` then makes the package's

- ``rejects`` (columns :data:`REJECT_COLUMNS`): one line per rejected row, with its first problem
  — the lowest :data:`_PRIO`, then the first found (leftmost column);
- ``findings`` (:data:`FINDING_COLUMNS`): every problem of a kept row;
- ``accounting`` (:data:`ACCOUNTING_COLUMNS`): per table and file, ``read = kept + rejected``.

``row`` is the row a person sees in Excel (title and header lines counted) or the CSV line;
``key`` is the row's key as ``"hh_id=H001,year=2017"``; ``town``/``village`` are the row's own
(households, projects) or its household's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from qjlib.core import schema
from qjlib.io import readers

# Stable codes of rejects and findings, with what they mean (Chinese, then English).
KINDS: dict[str, str] = {
    "total_row": "合计/总计/小计行 (a totals line)",
    "header_row": "重复的表头行 (the header line repeated, as paged exports do)",
    "missing_required": "必填单元格为空 (a required cell is blank)",
    "unparseable_number": "不是数字 (not a number)",
    "unparseable_date": "不是日期 (not a date)",
    "bad_year": "不是年份 (not a year 1900–2100)",
    "size_lt_1": "家庭人口数小于 1 (household size < 1)",
    "duplicate_key": "键重复，保留先出现的行 (a repeated key; the first row is kept)",
    "not_in_list": "值不在取值表中 (value outside the column's list; kept as given, booleans → NA)",
    "id_mangled": "编号/证件号码被存成数字，位数可能已丢失 (an ID that arrived as a number)",
    "id_length": "证件号码不是 18 位 (ID number not 18 characters)",
    "id_checksum": "证件号码校验位不符 GB 11643 (check character wrong)",
    "duplicate_id_number": "同一证件号码登记了两次 (the same ID number on two rows of a table)",
    "negative_money": "金额为负 (negative money)",
    "net_income_mismatch": "文件纯收入与重算值相差超过容差 (reported net income off)",
    "net_per_capita_mismatch": "文件人均纯收入与重算值相差超过容差 (reported per capita off)",
    "transfer_items_mismatch": "转移性收入各项之和与转移性收入不符 (transfer items ≠ transfer)",
    "orphan_member": "人员所属的户不在户信息表中 (member of an unknown household)",
    "orphan_row": "户/项目/帮扶责任人编号不在其主表中 (hh_id/project_id/helper_id unknown)",
    "exit_before_identified": "脱贫年度早于识别年度 (exit_year before identified_year)",
    "exit_year_missing": "已脱贫或返贫但无脱贫年度 (exited without exit_year)",
    "birth_date_future": "出生日期晚于截至日期（未给出时为读取日期） (birth date after the as-of date, or the load date)",
    "end_before_start": "帮扶结束时间早于开始时间 (pairing ends before it starts)",
    "amount_blank": "受益金额为空，分红以外的受益方式 (benefit amount blank, not a dividend)",
    # issue #19, the plan's dated targets (contract/targets.md):
    "orphan_payment": "支出的资金编号不在资金台账中 (a payment of an unknown fund_id)",
    "visit_target_unknown": "遍访对象不是已知的户或村，不计入遍访 (a visit target naming nothing known)",
    "loan_due_before_start": "贷款到期日期早于放款日期 (a loan due before it was made)",
    # Made by the quality analysis, which knows the run's income year (not by the loader):
    "net_income_nonpositive": "收入年度纯收入为零或负，没有收入占比 (net income ≤ 0 in the income year: no shares)",
    # issue #17 (monitoring.md): edge households
    "edge_registered": "边缘户的户编号是建档立卡户的编号，不作为边缘户 (an edge household's hh_id is a registered household's)",
    # issue #16 (contract/departments.md): the departments' rolls (end_before_start also holds
    # for their spells and stays; the same person twice in deaths is duplicate_id_number)
    "card_id_mismatch": "残疾人证号前 18 位不是证件号码 (disability card's first 18 characters ≠ the ID number)",
    "card_code_mismatch": "残疾人证号第 19/20 位与残疾类别/等级不符 (card's 19th/20th characters ≠ category/grade)",
    "reimbursed_over_total": "一次住院的报销合计超过住院总费用 (a stay reimbursed more than its total cost)",
    "basic_without_critical": "参加基本医保而大病保险为否 (basic insurance 是 with critical-illness 否)",
    "unparseable_term": "学期无法识别，剔除 (a school term that cannot be read: rejected)",
    # issue 18 (contract/exit.md): the exit indicators' tables
    "village_missing": "户所在行政村不在行政村表中 (a household's village has no row in villages)",
    "rate_out_of_range": "比率不在 0–1（或 0–100%）之间 (a rate outside 0–1 or 0–100 %)",
    "works_before_assessment": "竣工或入住日期早于鉴定日期 (works finished before the assessment)",
}
# Kinds that reject the row. unparseable_number/_date and bad_year reject in a required column;
# in an optional one they are findings and the cell becomes NA.
REJECT_KINDS = ("total_row", "header_row", "missing_required", "unparseable_number",
                "unparseable_date", "bad_year", "size_lt_1", "duplicate_key")

# The columns of ``Package.rejects`` / ``.findings`` / ``.accounting``, in this order (``qj check
# --out`` writes them so). The quality ledgers show the same columns, their key first.
REJECT_COLUMNS = ["table", "file", "sheet", "row", "column", "value", "kind", "reason_zh",
                  "reason_en", "key", "town", "village"]
FINDING_COLUMNS = ["table", "file", "sheet", "row", "key", "column", "value", "kind", "reason_zh",
                   "reason_en", "town", "village"]
ACCOUNTING_COLUMNS = ["table", "file", "sheet", "read", "kept", "rejected"]
# Which reject a row with several problems gets: the lowest, then the leftmost column.
_PRIO = {"total_row": 0, "header_row": 0, "missing_required": 1, "unparseable_number": 2,
         "unparseable_date": 2, "bad_year": 2, "size_lt_1": 3, "duplicate_key": 4}


# issue #16: a term that cannot be read rejects its row, like an unparseable date.
REJECT_KINDS = (*REJECT_KINDS, "unparseable_term")
_PRIO["unparseable_term"] = 2


class Issues:
    """The problems found in one table's rows. ``pos`` is the row's position in the table as read
    (all files stacked, before rejection); ``reject`` says whether the problem rejects the row."""

    def __init__(self) -> None:  # noqa: D107 - the class docstring says what it holds
        self.parts: list[pd.DataFrame] = []

    def add(self, pos: np.ndarray, kind: str, column: str, value: Any, zh: Any, en: Any,
            reject: bool) -> None:
        """One problem ``kind`` of ``column`` on the rows at ``pos``; ``value``, ``zh`` and ``en``
        (the cell shown, the Chinese and English reason) are one for all rows or one per row."""
        pos = np.asarray(pos, dtype=np.int64)
        if not len(pos):
            return
        self.parts.append(pd.DataFrame({
            "pos": pos, "kind": kind, "column": column, "value": value,
            "reason_zh": zh, "reason_en": en, "reject": reject,
            "prio": _PRIO.get(kind, 9) if reject else 99, "seq": len(self.parts),
        }))

    def frame(self) -> pd.DataFrame:
        """Every issue, one row each, in the order they were added."""
        if not self.parts:
            return pd.DataFrame({
                "pos": pd.Series([], dtype=np.int64), "kind": pd.Series([], dtype="str"),
                "column": pd.Series([], dtype="str"), "value": pd.Series([], dtype="str"),
                "reason_zh": pd.Series([], dtype="str"), "reason_en": pd.Series([], dtype="str"),
                "reject": pd.Series([], dtype=bool), "prio": pd.Series([], dtype=np.int64),
                "seq": pd.Series([], dtype=np.int64),
            })
        return pd.concat(self.parts, ignore_index=True)

    def rejected_pos(self) -> np.ndarray:
        """The sorted positions of the rows with at least one rejecting issue."""
        rej = [p["pos"].to_numpy() for p in self.parts if bool(p["reject"].to_numpy()[0])]
        return np.unique(np.concatenate(rej)) if rej else np.array([], dtype=np.int64)


@dataclass
class Loaded:
    """One table while the package loads: every row read (``full``), the rows kept, the issues."""

    table: schema.Table
    full: pd.DataFrame  # all rows read, index = position
    issues: Issues
    sheets: dict[str, str | None]  # file -> sheet
    reads: list[readers.RawTable]
    kept: pd.DataFrame | None = None


def key_text(df: pd.DataFrame, key: list[str] | tuple[str, ...]) -> pd.Series:
    """``"hh_id=H001,year=2017"`` for each row."""
    out = None
    for c in key:
        v = df[c]
        if pd.api.types.is_datetime64_any_dtype(v):
            t = v.dt.strftime("%Y-%m-%d")
        else:
            t = v.astype("str")
        part = f"{c}=" + t.fillna("")
        out = part if out is None else out + "," + part
    return out.astype("str")


def _town_of(name: str, df: pd.DataFrame, where: pd.DataFrame | None) -> pd.DataFrame:
    """town and village of each row of ``df``: its own (households, projects) or, through
    ``hh_id``, its household's (``where``: households indexed by hh_id)."""
    if name in ("households", "projects"):
        return pd.DataFrame({"town": df["town"], "village": df["village"]}, index=df.index)
    if where is not None and "hh_id" in df.columns and len(df):
        return pd.DataFrame({"town": df["hh_id"].map(where["town"]),
                             "village": df["hh_id"].map(where["village"])}, index=df.index)
    empty = pd.Series(np.nan, index=df.index, dtype="str")
    return pd.DataFrame({"town": empty, "village": empty})


def ledgers(loaded: dict[str, Loaded], tables: dict[str, pd.DataFrame]
            ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The package's ``rejects``, ``findings`` and ``accounting`` (module docstring) from the
    issues of each loaded table; ``tables``: the kept tables (index = position as read).
    Rejects are sorted by table (schema order), file, row; findings also by kind and column."""
    rejects, findings, accounting = [], [], []
    hh = tables["households"].set_index("hh_id")[["town", "village"]]  # hh_id unique once kept
    order = {t: i for i, t in enumerate(schema.TABLES)}
    for name, ld in loaded.items():
        if not ld.issues.parts:
            accounting += [{"table": name, "file": raw.file, "sheet": raw.sheet, "read": len(raw),
                            "kept": len(raw), "rejected": 0} for raw in ld.reads]
            continue
        iss = ld.issues.frame()
        rej = iss[iss["reject"]].sort_values(["pos", "prio", "seq"]).drop_duplicates("pos")
        rej_pos = rej["pos"].to_numpy()
        fnd = iss[~iss["reject"] & ~iss["pos"].isin(rej_pos)]
        for part, frame, out in ((rej, ld.full, rejects), (fnd, tables[name], findings)):
            rows = frame.loc[part["pos"].to_numpy()]
            where = _town_of(name, rows, hh)
            out.append(pd.DataFrame({
                "table": name,
                "file": rows["_file"].to_numpy(dtype=object),
                "sheet": [ld.sheets.get(f) for f in rows["_file"]],
                "row": rows["_row"].to_numpy(dtype=np.int64),
                "key": key_text(rows, ld.table.key).to_numpy(dtype=object),
                "column": part["column"].to_numpy(dtype=object),
                "value": part["value"].to_numpy(dtype=object),
                "kind": part["kind"].to_numpy(dtype=object),
                "reason_zh": part["reason_zh"].to_numpy(dtype=object),
                "reason_en": part["reason_en"].to_numpy(dtype=object),
                "town": where["town"].to_numpy(dtype=object),
                "village": where["village"].to_numpy(dtype=object),
                "_order": order[name],
            }))
        counts = pd.Series(ld.full["_file"].to_numpy()[rej_pos]).value_counts()
        for raw in ld.reads:
            r = int(counts.get(raw.file, 0))
            accounting.append({"table": name, "file": raw.file, "sheet": raw.sheet,
                               "read": len(raw), "kept": len(raw) - r, "rejected": r})
    return (_finish(rejects, REJECT_COLUMNS, ["_order", "file", "row"]),
            _finish(findings, FINDING_COLUMNS, ["_order", "file", "row", "kind", "column"]),
            pd.DataFrame(accounting, columns=ACCOUNTING_COLUMNS).astype(
                {"table": "str", "file": "str", "sheet": "str", "read": np.int64,
                 "kept": np.int64, "rejected": np.int64}))


def _finish(parts: list[pd.DataFrame], columns: list[str], sort: list[str]) -> pd.DataFrame:
    """The parts stacked and sorted, as ``columns`` (``row`` int64, the others ``str``)."""
    parts = [p for p in parts if len(p)]
    if parts:
        df = pd.concat(parts, ignore_index=True).sort_values(sort, kind="stable")
    else:
        df = pd.DataFrame({c: [] for c in [*columns, "_order"]})
    df = df[columns].reset_index(drop=True)
    types = {c: "str" for c in columns if c != "row"}
    types["row"] = np.int64
    return df.astype(types)
