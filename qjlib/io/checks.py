"""The checks of the loaded rows: each adds its problems to the table's :class:`Issues`.

Within a file (:func:`cell_problems`, :func:`row_checks`, :func:`line_problems`):

- a blank required cell (``missing_required``), a required number, date or year that is not one
  (``unparseable_number``, ``unparseable_date``, ``bad_year``) reject the row; in an optional
  column they are findings and the cell becomes NA. A blank benefit amount is a finding
  ``amount_blank`` except on a 分红 row (entitled, not yet paid);
- the conversion's flags are findings: ``not_in_list``, ``id_mangled``, ``id_length``,
  ``id_checksum``;
- a household size below 1 rejects (``size_lt_1``); negative money (except the signed
  :data:`SIGNED_MONEY`), an exit year before the identification year, an exited household without
  exit year, a birth date after the as-of date, a pairing ending before it starts, and the income
  totals (:func:`income_checks`) are findings;
- totals lines (合计/总计/小计) and the header line repeated by paged exports reject the row.

Within a table: a repeated key rejects the second and later rows (:func:`duplicates`).
Across tables (:func:`cross_checks`, :func:`duplicate_id_numbers`): a row whose household,
project or helper is not in its parent table, and the same ID number on two rows, are findings.
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from typing import Any

import numpy as np
import pandas as pd

from qjlib.core import definitions, schema
from qjlib.core.ids import isin
from qjlib.io import departments, exit, monitoring, readers, targets
from qjlib.io.convert import DATE_DTYPE, Conv, cell_texts
from qjlib.io.issues import Issues, Loaded, key_text

# Money columns that may legitimately be negative (a loss year; ``table.column``: a refund, #19).
SIGNED_MONEY = ("net_income", "net_per_capita", "fund_payments.amount")

_BAD_KIND = {"money": "unparseable_number", "float": "unparseable_number",
             "int": "unparseable_number", "year": "bad_year", "date": "unparseable_date",
             "bool": "not_in_list"}
_BAD_TEXT = {
    "unparseable_number": ("不是数字", "is not a number"),
    "bad_year": ("不是年份（1900–2100）", "is not a year (1900–2100)"),
    "unparseable_date": ("不是日期", "is not a date"),
    "not_in_list": ("不是 是/否", "is not yes/no"),
}


_AREAS = (departments, monitoring, exit, targets)
AREA_ROW_CHECKS = {t: f for area in _AREAS for t, f in area.ROW_CHECKS.items()}


def _fmt(values: Any) -> list[str]:
    """Amounts as text with 2 decimals."""
    return [f"{float(v):.2f}" for v in values]


def _value_text(v: pd.Series) -> np.ndarray:
    """Cells of a converted column as text for the ledgers' ``value``: money with 2 decimals,
    dates as YYYY-MM-DD, others as ``str``."""
    if pd.api.types.is_datetime64_any_dtype(v):
        t = v.dt.strftime("%Y-%m-%d")
    elif pd.api.types.is_float_dtype(v):
        t = pd.Series(_fmt(v.fillna(0)), index=v.index).where(v.notna())
    else:
        t = v.astype("str")
    return t.fillna("").to_numpy(dtype=object)


# --------------------------------------------------------------------------------- totals lines

_TOTALS = tuple(sorted({re.sub(r"\s+", "", m) for m in schema.TOTAL_MARKERS}))
_TOTAL_VARIANTS = {
    lead + m[0] + sep + m[1:] + tail + trail
    for m in _TOTALS for sep in ("", " ", "  ", "   ", "\u3000", "\u3000\u3000")
    for tail in ("", ":", "：") for lead in ("", " ") for trail in ("", " ")
}


def _is_total_text(x: Any) -> bool:
    """A totals label: 合计/总计/小计, alone or ending a short label (``全县合计``, ``宽州镇小计：``)."""
    if not isinstance(x, str) or len(x) > 30:
        return False
    t = re.sub(r"[\s:：]+", "", unicodedata.normalize("NFKC", x))
    return t.endswith(_TOTALS)


def _total_rows(lead: np.ndarray, suspect: np.ndarray) -> np.ndarray:
    """Totals lines: rows whose first non-empty leading cell is a totals label (合计, 总 计：…;
    vectorised), and rows that already have a rejecting problem (``suspect``) with a longer totals
    label such as 全县合计 or 宽州镇小计 among their leading cells."""
    n = lead.shape[0]
    out = np.zeros(n, dtype=bool)
    todo = np.arange(n)
    for j in range(lead.shape[1]):
        if not len(todo):
            break
        cells = lead[todo, j]
        out[todo[pd.Series(cells, dtype=object).isin(_TOTAL_VARIANTS).to_numpy()]] = True
        todo = todo[cells == ""]
    for i in np.flatnonzero(suspect & ~out):
        out[i] = any(_is_total_text(x) for x in lead[i])
    return out


def _label(raw: readers.RawTable, table: schema.Table, col: str) -> str:
    """The column's header as the file wrote it, else its schema label."""
    return raw.headers.get(col) or table.column(col).zh


def cell_problems(issues: Issues, offset: int, raw: readers.RawTable, table: schema.Table,
                  col: schema.Column, c: Conv, cols: dict[str, Any]) -> None:
    """The problems of one converted column of one file (module docstring): blank required cells,
    cells that are not values of the column's kind, and the conversion's flags. ``offset``: the
    position of the file's first row in the table; ``cols``: the columns converted so far."""
    cells = raw.cells[col.name]
    lab = _label(raw, table, col.name)
    if col.required and col.blank_ok and c.blank.any():
        _blank_ok_finding(issues, offset, table, col.name, lab, c.blank, cols)
    elif col.required and c.blank.any():
        issues.add(offset + np.flatnonzero(c.blank), "missing_required", col.name, "",
                   f"必填列「{lab}」为空", f"required column {col.name} is blank", True)
    if c.bad.any():
        kind = _BAD_KIND[col.kind]
        zh, en = _BAD_TEXT[kind]
        if col.required:
            issues.add(offset + np.flatnonzero(c.bad), kind, col.name, cell_texts(cells[c.bad]),
                       f"必填列「{lab}」{zh}", f"required column {col.name} {en}", True)
        else:
            issues.add(offset + np.flatnonzero(c.bad), kind, col.name, cell_texts(cells[c.bad]),
                       f"「{lab}」{zh}，已置为空", f"{col.name} {en}; set to blank", False)
    for kind, mask in c.flags.items():
        if mask.any():
            _flag_finding(issues, offset, kind, col.name, lab, mask, c.arr)


def _blank_ok_finding(issues: Issues, offset: int, table: schema.Table, col: str, label: str,
                      blank: np.ndarray, cols: dict[str, Any]) -> None:
    """A blank benefit amount keeps its row: on a 分红 row it means "entitled, not yet paid"
    (contract/outputs.md, dividends); on any other benefit type it is a finding ``amount_blank``."""
    mask = blank.copy()
    if table.name == "benefits" and "benefit_type" in cols:
        mask &= np.asarray(pd.Series(cols["benefit_type"]).ne("分红").fillna(True), dtype=bool)
    if mask.any():
        issues.add(offset + np.flatnonzero(mask), "amount_blank", col, "",
                   f"「{label}」为空（非分红的受益方式）", f"{col} is blank (not a dividend)", False)


def _header_rows(raw: readers.RawTable) -> np.ndarray:
    """Positions of data rows that repeat the header line (every matched cell equal to its
    header cell), as paged exports print it again on every page."""
    todo = np.arange(len(raw))
    for name, cell in raw.header_cells.items():
        if not len(todo):
            break
        todo = todo[raw.cells[name][todo] == cell]
    return todo if raw.header_cells else todo[:0]


def _flag_finding(issues: Issues, offset: int, kind: str, col: str, label: str,
                  mask: np.ndarray, values: Any) -> None:
    """A conversion flag (``not_in_list``, ``id_*``) as a finding showing the converted value."""
    pos = offset + np.flatnonzero(mask)
    given = pd.Series(values)[mask].to_numpy(dtype=object)
    texts = {
        "not_in_list": (f"「{label}」的值不在取值表中（原样保留）",
                        f"{col} value not in its list (kept as given)"),
        "id_mangled": (f"「{label}」被 Excel 存成了数字（或科学计数法），位数可能已丢失，请从系统重新导出为文本",
                       f"{col} arrived as a number / scientific notation; digits may be lost: "
                       "re-export it as text"),
        "id_length": (f"「{label}」不是 18 位", f"{col} is not 18 characters"),
        "id_checksum": (f"「{label}」校验位不符（GB 11643-1999）",
                        f"{col} check character wrong (GB 11643-1999)"),
    }
    zh, en = texts[kind]
    issues.add(pos, kind, col, given, zh, en, False)


def row_checks(df: pd.DataFrame, raw: readers.RawTable, table: schema.Table, issues: Issues,
               tol: float, as_of: _dt.date) -> None:
    """Checks within a row (size, signs, totals, dates) on one file's converted rows ``df``
    (index = position in the table). ``tol``: the yuan tolerance of :func:`income_checks`;
    ``as_of``: members born after it are a finding."""
    name = table.name
    idx = df.index.to_numpy()

    def add(mask: Any, kind: str, col: str, value: pd.Series | str, zh: str, en: str,
            reject: bool) -> None:
        """``value``: the column whose flagged cells are shown, or one text for all rows."""
        m = np.asarray(pd.Series(mask).fillna(False), dtype=bool)
        if m.any():
            shown = _value_text(value[m]) if isinstance(value, pd.Series) else value
            issues.add(idx[m], kind, col, shown, zh, en, reject)

    if name in ("households", "income"):
        size = df["size"]
        add(size < 1, "size_lt_1", "size", size,
            f"「{_label(raw, table, 'size')}」小于 1", "household size < 1", True)
    for col in table.columns:
        if (col.kind == "money" and col.name not in SIGNED_MONEY
                and f"{name}.{col.name}" not in SIGNED_MONEY and col.name in raw.cells):
            v = df[col.name]
            add(v < 0, "negative_money", col.name, v,
                f"「{_label(raw, table, col.name)}」为负数", f"{col.name} is negative", False)
    if name == "households":
        ey, iy = df["exit_year"], df["identified_year"]
        add(ey < iy, "exit_before_identified", "exit_year", ey,
            "脱贫年度早于识别年度", "exit_year before identified_year", False)
        exited = df["exit_status"].isin(definitions.EXITED_STATUSES)
        if "exit_year" in raw.cells:
            add(exited & ey.isna(), "exit_year_missing", "exit_year", "",
                "已脱贫（或返贫）但脱贫年度为空", "exited household without exit_year", False)
        elif exited.any():
            raw.notes.append(
                f"{raw.file}：没有「脱贫年度」列，无法判断历年脱贫户"
                f" / no exit_year column: past exited households cannot be told")
    elif name == "members":
        limit = np.datetime64(as_of, "D").astype(DATE_DTYPE)
        bd = df["birth_date"]
        add(bd > limit, "birth_date_future", "birth_date", bd,
            f"出生日期晚于截至日期 {as_of:%Y-%m-%d}", f"birth date after the as-of date {as_of}",
            False)
    elif name == "pairings":
        add(df["end"] < df["start"], "end_before_start", "end", df["end"], "帮扶结束时间早于开始时间",
            "pairing ends before it starts", False)
    elif name == "income":
        income_checks(df, raw, issues, tol)
    elif name in AREA_ROW_CHECKS:
        AREA_ROW_CHECKS[name](df, raw, issues, add, as_of)


def income_checks(df: pd.DataFrame, raw: readers.RawTable, issues: Issues, tol: float) -> None:
    """Reported net income / per capita vs the recomputed ones; transfer items vs transfer.

    Transfer items: their sum (missing items count 0) must not exceed ``transfer`` by more than
    ``tol``; it must not fall short by more than ``tol`` either when the file has the catch-all
    ``other_transfer`` column (only then are the items complete). Rows without items are skipped.
    """
    calc = definitions.net_income(df)
    calc_pc = definitions.net_per_capita(df)
    for col, ref, kind, zh, en in (
        ("net_income", calc, "net_income_mismatch", "纯收入", "net income"),
        ("net_per_capita", calc_pc, "net_per_capita_mismatch", "人均纯收入", "net per capita"),
    ):
        if col not in raw.cells:
            continue
        rep = df[col]
        diff = (rep - ref).abs()
        m = (diff > tol).fillna(False).to_numpy()
        if m.any():
            r, c, d = rep.to_numpy()[m], ref.to_numpy()[m], diff.to_numpy()[m]
            issues.add(
                df.index.to_numpy()[m], kind, col, np.array(_fmt(r), dtype=object),
                [f"文件中的{zh} {a:.2f} 元与重算值 {b:.2f} 元相差 {x:.2f} 元（容差 {tol:g} 元）"
                 for a, b, x in zip(r, c, d, strict=True)],
                [f"reported {en} {a:.2f} differs from the recomputed {b:.2f} by {x:.2f} yuan"
                 for a, b, x in zip(r, c, d, strict=True)], False)
    items = [c for c in definitions.TRANSFER_ITEMS if c in raw.cells]
    if items:
        total = definitions.transfer_items_sum(df[items])
        over = total - df["transfer"]
        m = (over > tol) | (("other_transfer" in items) & (over < -tol))
        m = m.fillna(False).to_numpy()
        if m.any():
            s, t = total.to_numpy()[m], df["transfer"].to_numpy()[m]
            issues.add(
                df.index.to_numpy()[m], "transfer_items_mismatch", "transfer",
                np.array(_fmt(t), dtype=object),
                [f"转移性收入各项之和 {a:.2f} 元与转移性收入 {b:.2f} 元相差 {abs(a - b):.2f} 元"
                 for a, b in zip(s, t, strict=True)],
                [f"transfer items sum to {a:.2f}, transfer is {b:.2f}" for a, b in
                 zip(s, t, strict=True)], False)


def line_problems(issues: Issues, offset: int, raw: readers.RawTable, first_issue: int) -> None:
    """Totals lines and repeated header lines of one file (rejects). ``first_issue``: the number
    of ``issues.parts`` before the file's own checks (a row they reject is a totals-line suspect
    even when its label is longer, as 全县合计)."""
    suspect = np.zeros(len(raw), dtype=bool)
    for p in issues.parts[first_issue:]:
        if bool(p["reject"].to_numpy()[0]):
            suspect[p["pos"].to_numpy() - offset] = True
    totals = _total_rows(raw.lead, suspect)
    if totals.any():
        issues.add(offset + np.flatnonzero(totals), "total_row", "", "合计",
                   "合计/总计行，不是数据行", "totals line, not a data row", True)
    repeated = _header_rows(raw)
    if len(repeated):
        issues.add(offset + repeated, "header_row", "", "", "重复的表头行（分页导出），不是数据行",
                   "a repeated header line (paged export), not a data row", True)


def duplicates(loaded: Loaded) -> None:
    """Reject the second and later rows of a key (among rows not otherwise rejected)."""
    full, key = loaded.full, list(loaded.table.key)
    ok = np.ones(len(full), dtype=bool)
    ok[loaded.issues.rejected_pos()] = False
    sub = full[key] if ok.all() else full.loc[ok, key]
    dup = sub.duplicated(keep="first").to_numpy()
    if not dup.any():
        return
    gid = sub.groupby(key, sort=False, dropna=False).ngroup().to_numpy()
    first = pd.Series(sub.index.to_numpy()).groupby(gid).transform("min").to_numpy()
    cols = [c.name for c in loaded.table.columns]
    h = pd.util.hash_pandas_object(full.loc[ok, cols], index=False).to_numpy()
    pos_all = sub.index.to_numpy()
    where = np.flatnonzero(dup)
    same = h[where] == h[np.searchsorted(pos_all, first[where])]
    f_file = full["_file"].to_numpy(dtype=object)[first[where]]
    f_row = full["_row"].to_numpy()[first[where]]
    keys = key_text(full.loc[pos_all[where]], key).to_numpy(dtype=object)
    loaded.issues.add(
        pos_all[where], "duplicate_key", ",".join(key), keys,
        [f"键与 {f} 第 {r} 行重复（{'内容相同' if s else '内容不同'}），保留先出现的行"
         for f, r, s in zip(f_file, f_row, same, strict=True)],
        [f"duplicate key of {f} row {r} ({'identical' if s else 'rows differ'}); the first is kept"
         for f, r, s in zip(f_file, f_row, same, strict=True)], True)


def cross_checks(loaded: dict[str, Loaded], tables: dict[str, pd.DataFrame]) -> None:
    """Rows of the register's tables whose hh_id / project_id / helper_id is not in its parent
    table (findings); then each area's ``PACKAGE_CHECKS`` (their tables may name households
    outside the register, so each area says what an orphan is)."""
    parents = {"hh_id": "households", "project_id": "projects", "helper_id": "helpers"}
    for name, ld in loaded.items():
        if name not in schema.REGISTER_TABLES:
            continue
        df = tables[name]
        for col, parent in parents.items():
            if name == parent or col not in df.columns or parent not in tables:
                continue
            v = df[col]
            m = v.notna().to_numpy() & ~isin(v, tables[parent][col])
            if not m.any():
                continue
            was_rejected = isin(v[m], loaded[parent].full[col])
            pzh = schema.TABLES[parent].zh
            czh = ld.table.column(col).zh
            kind = "orphan_member" if name == "members" and col == "hh_id" else "orphan_row"
            ld.issues.add(
                df.index.to_numpy()[m], kind, col, v[m].to_numpy(dtype=object),
                np.where(was_rejected, f"「{czh}」在{pzh}表中的行已被剔除（见 rejects）",
                         f"「{czh}」不在{pzh}表中"),
                np.where(was_rejected, f"{col}'s row in {parent} was rejected (see rejects)",
                         f"{col} not in the {parent} table"), False)
    for area in _AREAS:
        for check in area.PACKAGE_CHECKS:
            check(loaded, tables)


def duplicate_id_numbers(loaded: dict[str, Loaded], tables: dict[str, pd.DataFrame]) -> None:
    """The same 18-character ID number on two kept rows of a table (one person registered twice,
    e.g. in two households): a finding on the second and later rows, naming the first. An area's
    table is checked only when its area lists it in ``UNIQUE_ID_TABLES`` (one row per person)."""
    unique = {t for area in _AREAS for t in getattr(area, "UNIQUE_ID_TABLES", ())}
    for name, ld in loaded.items():
        if name not in schema.REGISTER_TABLES and name not in unique:
            continue
        df = tables[name]
        for col in (c.name for c in ld.table.columns if c.kind == "idnum"):
            v = df[col]
            shaped = (v.str.len() == 18).fillna(False).to_numpy(dtype=bool)
            if shaped.sum() < 2:
                continue
            sub = v[shaped]
            dup = sub.duplicated(keep="first").to_numpy()
            if not dup.any():
                continue
            codes, _ = pd.factorize(sub)
            _, first = np.unique(codes, return_index=True)  # first row of each distinct ID
            where = np.flatnonzero(dup)
            pos = sub.index.to_numpy()[where]
            fpos = sub.index.to_numpy()[first[codes[where]]]
            f_file = df.loc[fpos, "_file"].to_numpy(dtype=object)
            f_row = df.loc[fpos, "_row"].to_numpy()
            label = ld.table.column(col).zh
            ld.issues.add(
                pos, "duplicate_id_number", col, sub.to_numpy(dtype=object)[where],
                [f"「{label}」与 {f} 第 {r} 行相同（同一人重复登记）" for f, r in
                 zip(f_file, f_row, strict=True)],
                [f"{col} same as {f} row {r} (one person registered twice)" for f, r in
                 zip(f_file, f_row, strict=True)], False)

