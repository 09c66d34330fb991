"""Loading a data package: files → canonical tables, with every row accounted for.

``load_package(path)`` reads every table of :data:`qjlib.schema.TABLES` from the folder ``path``
(``shared/contract/inputs.md``), converts the cells to the canonical dtypes of the schema, checks
them, adds the derived columns of :mod:`qjlib.definitions`, and returns a :class:`Package`.

Files. A table is one file named by a Chinese or English stem (``户信息.xlsx`` or
``households.csv``; ``.xlsx``/``.xlsm``/``.xls``/``.csv``/``.parquet``) or a folder of such files
(``收入信息/2016.xlsx …``), read in name order and stacked. Two sources for one table are an error;
files that name no table are ignored with a note. File reading, header detection and header
normalisation live in :mod:`qjlib.readers`.

Accounting (``pkg.accounting``: table, file, sheet, read, kept, rejected). ``read`` counts the
data rows below the header that hold at least one non-empty cell — fully blank rows are skipped
and **not** counted — and always ``read == kept + rejected``. A row is **rejected** (ledger
``pkg.rejects``, one line per row, with its first problem) when it cannot serve its table's
purpose: a totals line (合计/总计/小计), the header line repeated (paged exports), a blank required
cell, an unparseable required number, date or year, a household size below 1, or a repeated key
(the first occurrence is kept, later ones rejected, saying whether their content differs). Every
other problem keeps the row and is a **finding** (``pkg.findings``), including the cross-table
ones (a member, income, benefit, pairing, visit or review row whose household, project or helper
is not in its parent table). Finding and reject kinds are the stable codes of :data:`KINDS`;
``row`` is the row a person sees in Excel (title and header lines counted) or the CSV line.

Cell conversion (kinds of :mod:`qjlib.schema`):

- numbers: Excel numbers as stored; text ``"1,234.5"``, ``" 12 "``, full-width digits; ``""`` →
  NA. Thousands separators must be well placed (``"1234,5"`` is unparseable, never 12345). Money
  is float64 yuan (a ``（万元）`` header multiplies by 10,000); ``int`` columns must be whole.
- years: 2016, 2016.0, ``"2016"``, ``"2016年"``, a date (its year); 1900–2100.
- dates: Excel dates and serial numbers, ``"2019-09-30"``, ``"2019/9/30"``, ``"2019.9.30"``,
  ``"2019年9月30日"``, ``"20190930"`` (day precision, ``datetime64[us]``).
- booleans: ``schema.BOOL_TRUE``/``BOOL_FALSE`` (是/否, Y/N, 1/0, true/false), case-insensitive.
- enums: through ``schema.VALUE_LISTS`` after NFKC, whitespace removal and ASCII case-folding
  (``已脱贫（享受政策）``, ``1.0`` → ``exited``); a value outside the list is kept as given.
- ids: text, stripped; a whole number stored by Excel (``6108300101.0``) becomes its digits; a
  number of 16+ digits or scientific-notation text has lost digits (``id_mangled``).
- ID numbers (``idnum``): text, ``x`` upper-cased; a number is ``id_mangled`` (never repaired).
"""

from __future__ import annotations

import datetime as _dt
import functools
import gc
import hashlib
import json
import logging
import math
import os
import pickle
import re
import sys
import tempfile
import time
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api.types import infer_dtype

from qjlib.core import definitions, schema
from qjlib.core.errors import InputError, QjError
from qjlib.io import readers

log = logging.getLogger(__name__)

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
}
# Kinds that reject the row. unparseable_number/_date and bad_year reject in a required column;
# in an optional one they are findings and the cell becomes NA.
REJECT_KINDS = ("total_row", "header_row", "missing_required", "unparseable_number",
                "unparseable_date", "bad_year", "size_lt_1", "duplicate_key")

REJECT_COLUMNS = ["table", "file", "sheet", "row", "column", "value", "kind", "reason_zh",
                  "reason_en", "key", "town", "village"]
FINDING_COLUMNS = ["table", "file", "sheet", "row", "key", "column", "value", "kind", "reason_zh",
                   "reason_en", "town", "village"]
ACCOUNTING_COLUMNS = ["table", "file", "sheet", "read", "kept", "rejected"]

# What each optional table switches on (the note when it is missing).
TABLE_USES: dict[str, tuple[str, str]] = {
    "members": ("劳动能力分组、人员交叉核对关闭", "labour capacity groups and member cross-checks off"),
    "income": ("收入结构、收入下降、产业贡献分析关闭", "income structure, declines and contribution off"),
    "projects": ("产业项目占比、分红检查关闭", "project shares and dividend checks off"),
    "benefits": ("产业受益台账、贡献比例、分红检查关闭", "beneficiary ledger, contribution, dividends off"),
    "helpers": ("帮扶责任人台账与测评关闭", "helper ledgers and reviews off"),
    "pairings": ("结对检查（无结对、一帮多、频繁调换）关闭", "pairing checks off"),
    "visits": ("走访门槛检查关闭", "visit compliance checks off"),
    "reviews": ("帮扶测评（群众测评、干部访谈）关闭", "helper ratings off"),
}

# Money columns that may legitimately be negative (a loss year).
SIGNED_MONEY = ("net_income", "net_per_capita")
SOURCE_FILES = ("core/schema.py", "core/definitions.py", "io")  # the code a cached package depends on
_RENAMED = {"net_income": "net_income_reported", "net_per_capita": "net_per_capita_reported"}
# Which reject a row with several problems gets: the lowest, then the leftmost column.
_PRIO = {"total_row": 0, "header_row": 0, "missing_required": 1, "unparseable_number": 2,
         "unparseable_date": 2, "bad_year": 2, "size_lt_1": 3, "duplicate_key": 4}
_DATE_DTYPE = "datetime64[us]"
_EXCEL_EPOCH = np.datetime64("1899-12-30", "D")
_SERIAL_RANGE = (3654, 73050)  # Excel day serials accepted as dates: 1910-01-01 … 2099-12-31
_YEAR_RANGE = (1900, 2100)


# ------------------------------------------------------------------------------------ Package


@dataclass
class Package:
    """A loaded data package. See the module docstring and ``docs/design.md``.

    ``tables``: only the tables present, with every canonical column of the schema (all-missing
    when no file had it — ``provided`` lists, per table, the columns some file did have), the
    derived columns, and ``_file``/``_row`` provenance; ``rejects``/``findings``/``accounting``:
    the ledgers of what was read; ``notes``: what was ignored or switched off; ``inputs``: each
    input file's relative path, sha256 and size, sorted by path.
    """

    root: Path
    tables: dict[str, pd.DataFrame]
    rejects: pd.DataFrame
    findings: pd.DataFrame
    accounting: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    inputs: list[dict] = field(default_factory=list)
    provided: dict[str, tuple[str, ...]] = field(default_factory=dict)  # columns found in the files
    scope: str | None = None  # the town name after restrict_to_town

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self.tables:
            if name not in schema.TABLES:
                raise QjError(f"没有名为 {name} 的表 / no table named {name!r}")
            raise QjError(f"数据包中没有「{schema.TABLES[name].zh}」表 / the package has no {name} table")
        return self.tables[name]

    def has(self, name: str) -> bool:
        return name in self.tables

    @property
    def towns(self) -> pd.DataFrame:
        """The towns of the households table with their stable codes, sorted by code."""
        hh = self.tables["households"]
        out = hh[["town", "town_code"]].dropna().drop_duplicates()
        return out.sort_values("town_code").reset_index(drop=True)

    def resolve_town(self, town: str) -> str:
        """A town name, given its name or its code (``definitions.town_code``)."""
        t = self.towns
        if (t["town"] == town).any():
            return str(town)
        hit = t.loc[t["town_code"] == town, "town"]
        if len(hit):
            return str(hit.iloc[0])
        known = "、".join(t["town"].tolist())
        raise QjError(f"数据包中没有乡镇「{town}」（现有：{known}）/ no town {town!r} in the package")

    def restrict_to_town(self, town: str) -> Package:
        """The households of ``town`` (name or code) and every row linked to them.

        members, income, benefits, pairings, visits: by ``hh_id``; helpers: those paired with
        the town's households, and their reviews; projects: those with a benefit in the town or
        whose ``town`` is it. Rejects and findings: those whose town is known and is ``town``.
        Accounting, notes and inputs stay those of the whole package.
        """
        name = self.resolve_town(town)
        t = dict(self.tables)
        none = pd.Series([], dtype="str")

        def keep(tab: str, col: str, pool: pd.Series, also: Any = False) -> None:
            df = t[tab]
            t[tab] = df[isin(df[col], pool) | also].reset_index(drop=True)

        hh = t["households"]
        t["households"] = hh[(hh["town"] == name).to_numpy()].reset_index(drop=True)
        ids = t["households"]["hh_id"]
        for tab in ("members", "income", "benefits", "pairings", "visits"):
            if tab in t:
                keep(tab, "hh_id", ids)
        if "helpers" in t:
            keep("helpers", "helper_id", t["pairings"]["helper_id"] if "pairings" in t else none)
        if "reviews" in t:
            pool = t["helpers"]["helper_id"] if "helpers" in t else (
                t["pairings"]["helper_id"] if "pairings" in t else none)
            keep("reviews", "helper_id", pool)
        if "projects" in t:
            keep("projects", "project_id", t["benefits"]["project_id"] if "benefits" in t else none,
                 (t["projects"]["town"] == name).fillna(False).to_numpy())
        return replace(
            self, tables=t,
            rejects=self.rejects[self.rejects["town"] == name].reset_index(drop=True),
            findings=self.findings[self.findings["town"] == name].reset_index(drop=True),
            notes=list(self.notes), inputs=list(self.inputs), scope=name,
        )


# ----------------------------------------------------------------------------- cell conversion


def _cell_text(x: Any) -> str:
    """A raw cell as a person would read it (for the ``value`` column of the ledgers)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    if isinstance(x, bool):
        return str(x).upper()
    if isinstance(x, float):
        if x.is_integer() and abs(x) < 1e15:
            return str(int(x))
        return f"{x:.15g}"
    if isinstance(x, _dt.datetime):
        return x.date().isoformat() if x.time() == _dt.time() else x.isoformat(sep=" ")
    if isinstance(x, _dt.date):
        return x.isoformat()
    return str(x).strip()


def _texts(raw: np.ndarray) -> np.ndarray:
    return np.array([_cell_text(x) for x in raw], dtype=object)


def _norm_key(x: str) -> str:
    """Enum/boolean lookup key: NFKC, no whitespace, ASCII case-folded."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", x)).lower()


@dataclass
class _Conv:
    arr: Any  # array-like of the canonical dtype, NA where blank or bad
    blank: np.ndarray  # bool: the cell was empty
    bad: np.ndarray  # bool: not empty, but not a value of the column's kind
    flags: dict[str, np.ndarray] = field(default_factory=dict)  # extra finding kind -> mask


_BLANK, _BAD = object(), object()
_THOUSANDS_RE = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")


def _num_cell(x: Any) -> Any:
    """One cell as a float, or _BLANK / _BAD (the slow path; vectorised callers use it only for
    the distinct values their fast path could not convert)."""
    if x is None:
        return _BLANK
    if isinstance(x, bool):
        return _BAD
    if isinstance(x, (int, float, np.integer, np.floating)):
        f = float(x)
        return _BLANK if math.isnan(f) else (f if math.isfinite(f) else _BAD)
    if isinstance(x, str):
        t = re.sub(r"\s+", "", unicodedata.normalize("NFKC", x)).replace("−", "-")
        if t == "":
            return _BLANK
        if "," in t:
            if not _THOUSANDS_RE.match(t):
                return _BAD
            t = t.replace(",", "")
        try:
            f = float(t)
        except ValueError:
            return _BAD
        return f if math.isfinite(f) else _BAD
    return _BAD


def _unique_map(raw: np.ndarray, fn) -> np.ndarray:
    """``fn`` applied once per distinct value of ``raw`` (object array), broadcast back."""
    codes, uniq = pd.factorize(raw, use_na_sentinel=False)
    mapped = np.empty(len(uniq), dtype=object)
    mapped[:] = [fn(u) for u in uniq]
    return mapped[codes]


def _numbers(raw: np.ndarray, cell_fn=_num_cell) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """float64 values, blank mask, bad mask. Fast path: every cell already a number."""
    n = len(raw)
    try:
        v = raw.astype(np.float64)
        if cell_fn is _num_cell:
            bad = np.isinf(v)
            v[bad] = np.nan
            return v, np.isnan(v) & ~bad, bad
    except (ValueError, TypeError):
        v = None
    if v is None:
        v = pd.to_numeric(pd.Series(raw, dtype=object), errors="coerce").to_numpy(np.float64, copy=True)
    blank = np.zeros(n, dtype=bool)
    bad = np.zeros(n, dtype=bool)
    rest = np.flatnonzero(~np.isfinite(v))
    if len(rest):
        conv = _unique_map(raw[rest], cell_fn)
        is_blank = np.array([c is _BLANK for c in conv], dtype=bool)
        is_bad = np.array([c is _BAD for c in conv], dtype=bool)
        ok = ~is_blank & ~is_bad
        v[rest] = np.nan
        v[rest[ok]] = conv[ok].astype(np.float64)
        blank[rest[is_blank]] = True
        bad[rest[is_bad]] = True
    return v, blank, bad


_DATE_RES = [
    (re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[T\s].*)?$"), (1, 2, 3)),
    (re.compile(r"^(\d{4})(\d{2})(\d{2})$"), (1, 2, 3)),
]


def _date_cell(x: Any) -> Any:
    """One cell as a numpy datetime64[D], or _BLANK / _BAD."""
    if x is None or (isinstance(x, float) and math.isnan(x)) or (isinstance(x, str) and not x.strip()):
        return _BLANK
    if isinstance(x, _dt.datetime | pd.Timestamp):
        return np.datetime64(x.date(), "D")
    if isinstance(x, _dt.date):
        return np.datetime64(x, "D")
    if isinstance(x, bool):
        return _BAD
    if isinstance(x, int | float | np.integer | np.floating):
        f = float(x)
        if math.isfinite(f) and _SERIAL_RANGE[0] <= f <= _SERIAL_RANGE[1]:
            return _EXCEL_EPOCH + np.timedelta64(int(f), "D")
        return _BAD
    if isinstance(x, str):
        t = unicodedata.normalize("NFKC", x).strip()
        if re.fullmatch(r"\d{5}(\.0+)?", t):
            return _date_cell(float(t))
        for rx, (yi, mi, di) in _DATE_RES:
            m = rx.match(t)
            if m:
                try:
                    return np.datetime64(
                        _dt.date(int(m.group(yi)), int(m.group(mi)), int(m.group(di))), "D")
                except ValueError:
                    return _BAD
        return _BAD
    return _BAD


def _dates(raw: np.ndarray) -> _Conv:
    """Dates at day precision (``datetime64[us]``), per distinct cell value."""
    conv = _unique_map(raw, _date_cell)
    blank = np.array([c is _BLANK for c in conv], dtype=bool)
    bad = np.array([c is _BAD for c in conv], dtype=bool)
    out = np.full(len(raw), np.datetime64("NaT"), dtype="datetime64[D]")
    ok = ~blank & ~bad
    if ok.any():
        out[ok] = conv[ok].astype("datetime64[D]")
    return _Conv(pd.Series(out.astype(_DATE_DTYPE)), blank, bad)


_YEAR_TEXT_RE = re.compile(r"^(\d{4})(?:\.0+)?(?:年度?)?$")


def _year_cell(x: Any) -> Any:
    if isinstance(x, _dt.date | pd.Timestamp):
        return float(x.year)
    if isinstance(x, str):
        t = re.sub(r"\s+", "", unicodedata.normalize("NFKC", x))
        m = _YEAR_TEXT_RE.match(t)
        if m:
            return float(m.group(1))
        d = _date_cell(t) if t else _BLANK
        if d is _BLANK:
            return _BLANK
        if d is not _BAD and not re.fullmatch(r"\d{5}(\.0+)?", t):
            return float(d.astype(object).year)
        return _BAD
    return _num_cell(x)


def _years(raw: np.ndarray) -> _Conv:
    v, blank, bad = _numbers(raw, _year_cell)
    out_of_range = ~np.isnan(v) & ((v != np.floor(v)) | (v < _YEAR_RANGE[0]) | (v > _YEAR_RANGE[1]))
    bad |= out_of_range
    v[bad] = np.nan
    return _Conv(pd.array(v, dtype="Float64").astype("Int64"), blank, bad)


def _ints(raw: np.ndarray) -> _Conv:
    v, blank, bad = _numbers(raw)
    frac = ~np.isnan(v) & (v != np.floor(v))
    bad |= frac
    v[frac] = np.nan
    return _Conv(pd.array(v, dtype="Float64").astype("Int64"), blank, bad)


def _floats(raw: np.ndarray) -> _Conv:
    v, blank, bad = _numbers(raw)
    return _Conv(v, blank, bad)


_BOOLS = {**{_norm_key(t): True for t in schema.BOOL_TRUE},
          **{_norm_key(f): False for f in schema.BOOL_FALSE}}


def _bool_cell(x: Any) -> Any:
    if isinstance(x, bool | np.bool_):
        return bool(x)
    if isinstance(x, str):
        t = _norm_key(x)
        return _BLANK if t == "" else _BOOLS.get(t, _BAD)
    f = _num_cell(x)
    if f is _BLANK or f is _BAD:
        return f
    return {1.0: True, 0.0: False}.get(f, _BAD)


def _bools(raw: np.ndarray) -> _Conv:
    conv = _unique_map(raw, _bool_cell)
    blank = np.array([c is _BLANK for c in conv], dtype=bool)
    bad = np.array([c is _BAD for c in conv], dtype=bool)
    vals = np.where(blank | bad, False, conv).astype(bool)
    return _Conv(pd.arrays.BooleanArray(vals, blank | bad), blank, bad)


def _text(raw: np.ndarray) -> tuple[pd.Series, np.ndarray, np.ndarray, np.ndarray]:
    """Text values (``str``, stripped, NA for blank), the blank mask, and two masks: cells that
    arrived as numbers, and numbers/text that lost digits (16+ digits or scientific notation)."""
    n = len(raw)
    if infer_dtype(raw, skipna=False) == "string":
        is_str = np.ones(n, dtype=bool)
        out = raw
    else:
        is_str = np.fromiter((type(x) is str for x in raw), dtype=bool, count=n)
        out = raw.copy()
    came_num = np.zeros(n, dtype=bool)
    lossy = np.zeros(n, dtype=bool)
    if not is_str.all():
        idx = np.flatnonzero(~is_str)
        vals = raw[idx]
        txt = np.empty(len(idx), dtype=object)
        is_float = np.fromiter((type(x) is float for x in vals), dtype=bool, count=len(vals))
        if is_float.any():  # Excel numbers (xlsx): whole ones below 1e15 are exact digits
            f = vals[is_float].astype(np.float64)
            whole = np.isfinite(f) & (f == np.floor(f)) & (np.abs(f) < 1e15)
            ft = np.empty(len(f), dtype=object)
            ft[whole] = f[whole].astype(np.int64).astype(str)
            ft[~whole] = [_cell_text(float(x)) for x in f[~whole]]
            txt[is_float] = ft
            came_num[idx[is_float]] = True
            lossy[idx[is_float][np.isfinite(f) & (np.abs(f) >= 1e15)]] = True
        other = np.flatnonzero(~is_float)
        if len(other):  # ints (xls, Parquet) keep every digit; dates, booleans as read
            ov = vals[other]
            if infer_dtype(ov, skipna=False) == "integer":
                iv = ov.astype(np.int64)
                txt[other] = iv.astype(str)
                ints, big = np.ones(len(ov), dtype=bool), np.abs(iv) >= 10**15
            else:
                txt[other] = [_cell_text(x) for x in ov]
                ints = np.array([isinstance(x, int | np.integer) and not isinstance(x, bool)
                                 for x in ov], dtype=bool)
                big = np.array([bool(i) and abs(int(x)) >= 10**15 for i, x in
                                zip(ints, ov, strict=True)], dtype=bool)
            came_num[idx[other[ints]]] = True
            lossy[idx[other[big]]] = True  # 16+ digits stored as a number in Excel: a double
        out[idx] = txt
    s = pd.Series(out, dtype="str").str.strip()
    blank = (s == "").to_numpy(dtype=bool)
    if blank.any():
        s = s.mask(blank)
    sci = s.str.fullmatch(r"[0-9](\.[0-9]+)?[eE]\+?[0-9]+").fillna(False).to_numpy(dtype=bool)
    lossy |= sci
    return s, blank, came_num, lossy


def _texts_conv(raw: np.ndarray) -> _Conv:
    s, blank, _, _ = _text(raw)
    return _Conv(s, blank, np.zeros(len(raw), dtype=bool))


def _ids(raw: np.ndarray) -> _Conv:
    s, blank, _, lossy = _text(raw)
    return _Conv(s, blank, np.zeros(len(raw), dtype=bool), {"id_mangled": lossy})


def _idnums(raw: np.ndarray) -> _Conv:
    s, blank, came_num, lossy = _text(raw)
    s = s.str.upper()
    mangled = came_num | lossy
    length = (~blank & ~mangled & (s.str.len() != 18).fillna(False).to_numpy(dtype=bool))
    checked = ~blank & ~mangled & ~length
    fails = checked & ~definitions.id_checksum_ok(s).to_numpy()
    return _Conv(s, blank, np.zeros(len(raw), dtype=bool),
                 {"id_mangled": mangled, "id_length": length, "id_checksum": fails})


_ENUM_MAPS: dict[str, dict[str, str]] = {
    name: {_norm_key(v): canon for canon, syns in lists.items() for v in (canon, *syns)}
    for name, lists in schema.VALUE_LISTS.items()
}


def _enums(raw: np.ndarray, column: str) -> _Conv:
    """Canonical values of ``schema.VALUE_LISTS[column]``; others kept as given (flag ``not_in_list``)."""
    s, blank, _, _ = _text(raw)
    lookup = _ENUM_MAPS.get(column, {})
    codes, uniq = pd.factorize(s)
    mapped = [lookup.get(_norm_key(u)) for u in uniq]
    canon = np.array([m if m is not None else u for m, u in zip(mapped, uniq, strict=True)] + [None],
                     dtype=object)
    known = np.array([m is not None for m in mapped] + [True], dtype=bool)
    values = pd.Series(canon[codes], dtype="str")
    outside = ~known[codes] & ~blank
    return _Conv(values, blank, np.zeros(len(raw), dtype=bool), {"not_in_list": outside})


def _convert(kind: str, column: str, raw: np.ndarray) -> _Conv:
    if kind in ("money", "float"):
        return _floats(raw)
    if kind == "int":
        return _ints(raw)
    if kind == "year":
        return _years(raw)
    if kind == "date":
        return _dates(raw)
    if kind == "bool":
        return _bools(raw)
    if kind == "enum":
        return _enums(raw, column)
    if kind == "id":
        return _ids(raw)
    if kind == "idnum":
        return _idnums(raw)
    return _texts_conv(raw)


def _empty(kind: str, n: int) -> Any:
    """An all-missing column of the canonical dtype of ``kind``."""
    if kind in ("money", "float"):
        return np.full(n, np.nan)
    if kind in ("int", "year"):
        return pd.array(np.full(n, np.nan), dtype="Float64").astype("Int64")
    if kind == "date":
        return np.full(n, np.datetime64("NaT"), dtype=_DATE_DTYPE)
    if kind == "bool":
        return pd.arrays.BooleanArray(np.zeros(n, dtype=bool), np.ones(n, dtype=bool))
    return _str_nulls(n)


_STR = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas 3's default "str" dtype


def _str_nulls(n: int) -> pd.Series:
    """An all-missing ``str`` column, built directly in Arrow (no Python objects)."""
    return pd.Series(pd.arrays.ArrowStringArray(pa.nulls(n, pa.large_string()), dtype=_STR))


_BAD_KIND = {"money": "unparseable_number", "float": "unparseable_number",
             "int": "unparseable_number", "year": "bad_year", "date": "unparseable_date",
             "bool": "not_in_list"}
_BAD_TEXT = {
    "unparseable_number": ("不是数字", "is not a number"),
    "bad_year": ("不是年份（1900–2100）", "is not a year (1900–2100)"),
    "unparseable_date": ("不是日期", "is not a date"),
    "not_in_list": ("不是 是/否", "is not yes/no"),
}


# ------------------------------------------------------------------------------------- issues


class _Issues:
    """The problems found in one table's rows. ``pos`` is the row's position in the table as read
    (all files stacked, before rejection); ``reject`` says whether the problem rejects the row."""

    def __init__(self) -> None:
        self.parts: list[pd.DataFrame] = []

    def add(self, pos: np.ndarray, kind: str, column: str, value: Any, zh: Any, en: Any,
            reject: bool) -> None:
        pos = np.asarray(pos, dtype=np.int64)
        if not len(pos):
            return
        self.parts.append(pd.DataFrame({
            "pos": pos, "kind": kind, "column": column, "value": value,
            "reason_zh": zh, "reason_en": en, "reject": reject,
            "prio": _PRIO.get(kind, 9) if reject else 99, "seq": len(self.parts),
        }))

    def frame(self) -> pd.DataFrame:
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
        rej = [p["pos"].to_numpy() for p in self.parts if bool(p["reject"].to_numpy()[0])]
        return np.unique(np.concatenate(rej)) if rej else np.array([], dtype=np.int64)


def _fmt(values: Any) -> list[str]:
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


# ------------------------------------------------------------------------------ one file


def _label(raw: readers.RawTable, table: schema.Table, col: str) -> str:
    return raw.headers.get(col) or table.column(col).zh


def _convert_file(raw: readers.RawTable, table: schema.Table, offset: int, issues: _Issues,
                  tol: float, as_of: _dt.date) -> pd.DataFrame:
    """The canonical columns of one file, its row problems added to ``issues``."""
    n = len(raw)
    cols: dict[str, Any] = {}
    first_issue = len(issues.parts)
    for col in table.columns:
        if col.name not in raw.cells:
            cols[col.name] = _empty(col.kind, n)
            continue
        cells = raw.cells[col.name]
        c = _convert(col.kind, col.name, cells)
        factor = raw.factors.get(col.name, 1.0)
        if factor != 1.0:
            c.arr = c.arr * factor
        label = _label(raw, table, col.name)
        if col.required and col.blank_ok and c.blank.any():
            _blank_ok_finding(issues, offset, table, col.name, label, c.blank, cols)
        elif col.required and c.blank.any():
            issues.add(offset + np.flatnonzero(c.blank), "missing_required", col.name, "",
                       f"必填列「{label}」为空", f"required column {col.name} is blank", True)
        if c.bad.any():
            kind = _BAD_KIND[col.kind]
            zh, en = _BAD_TEXT[kind]
            if col.required:
                issues.add(offset + np.flatnonzero(c.bad), kind, col.name, _texts(cells[c.bad]),
                           f"必填列「{label}」{zh}", f"required column {col.name} {en}", True)
            else:
                issues.add(offset + np.flatnonzero(c.bad), kind, col.name, _texts(cells[c.bad]),
                           f"「{label}」{zh}，已置为空", f"{col.name} {en}; set to blank", False)
        for kind, mask in c.flags.items():
            if mask.any():
                _flag_finding(issues, offset, kind, col.name, label, mask, cells, c.arr)
        cols[col.name] = c.arr
    df = pd.DataFrame(cols)
    df.index = pd.RangeIndex(offset, offset + n)
    df["_file"] = pd.Series(raw.file, index=df.index, dtype="str")
    df["_row"] = raw.rows
    _row_checks(df, raw, table, issues, tol, as_of)
    suspect = np.zeros(n, dtype=bool)
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
    return df


def _blank_ok_finding(issues: _Issues, offset: int, table: schema.Table, col: str, label: str,
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


def _flag_finding(issues: _Issues, offset: int, kind: str, col: str, label: str,
                  mask: np.ndarray, cells: np.ndarray, values: Any) -> None:
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


def _row_checks(df: pd.DataFrame, raw: readers.RawTable, table: schema.Table, issues: _Issues,
                tol: float, as_of: _dt.date) -> None:
    """Checks within a row (size, signs, totals, dates) on one file's converted rows."""
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
        if col.kind == "money" and col.name not in SIGNED_MONEY and col.name in raw.cells:
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
        limit = np.datetime64(as_of, "D").astype(_DATE_DTYPE)
        bd = df["birth_date"]
        add(bd > limit, "birth_date_future", "birth_date", bd,
            f"出生日期晚于截至日期 {as_of:%Y-%m-%d}", f"birth date after the as-of date {as_of}",
            False)
    elif name == "pairings":
        add(df["end"] < df["start"], "end_before_start", "end", df["end"], "帮扶结束时间早于开始时间",
            "pairing ends before it starts", False)
    elif name == "income":
        _income_checks(df, raw, issues, tol)


def _income_checks(df: pd.DataFrame, raw: readers.RawTable, issues: _Issues, tol: float) -> None:
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


# ------------------------------------------------------------------------------- one table


@dataclass
class _Loaded:
    """One table while the package loads: every row read (``full``), the rows kept, the issues."""

    table: schema.Table
    full: pd.DataFrame  # all rows read, index = position
    issues: _Issues
    sheets: dict[str, str | None]  # file -> sheet
    reads: list[readers.RawTable]
    kept: pd.DataFrame | None = None


def _load_table(table: schema.Table, files: list[tuple[Path, str]], tol: float,
                notes: list[str], as_of: _dt.date) -> _Loaded:
    issues = _Issues()
    frames: list[pd.DataFrame] = []
    reads: list[readers.RawTable] = []
    offset = 0
    for path, rel in files:
        raw = readers.read_table(path, rel, table)
        frames.append(_convert_file(raw, table, offset, issues, tol, as_of))
        notes.extend(raw.notes)
        reads.append(raw)
        offset += len(raw)
    full = pd.concat(frames) if len(frames) > 1 else frames[0]
    loaded = _Loaded(table, full, issues, {r.file: r.sheet for r in reads}, reads)
    _duplicates(loaded)
    rejected = issues.rejected_pos()
    if len(rejected):
        keep = np.ones(len(full), dtype=bool)
        keep[rejected] = False
        loaded.kept = full[keep]
    else:
        loaded.kept = full
    return loaded


def _duplicates(loaded: _Loaded) -> None:
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
    keys = _key_text(full.loc[pos_all[where]], key).to_numpy(dtype=object)
    loaded.issues.add(
        pos_all[where], "duplicate_key", ",".join(key), keys,
        [f"键与 {f} 第 {r} 行重复（{'内容相同' if s else '内容不同'}），保留先出现的行"
         for f, r, s in zip(f_file, f_row, same, strict=True)],
        [f"duplicate key of {f} row {r} ({'identical' if s else 'rows differ'}); the first is kept"
         for f, r, s in zip(f_file, f_row, same, strict=True)], True)


def _key_text(df: pd.DataFrame, key: list[str] | tuple[str, ...]) -> pd.Series:
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


# -------------------------------------------------------------------------- the whole package


def _derive(loaded: dict[str, _Loaded]) -> dict[str, pd.DataFrame]:
    """The kept tables with the derived columns of :mod:`qjlib.definitions` (index = position)."""
    out: dict[str, pd.DataFrame] = {}
    for name, ld in loaded.items():
        df = ld.kept
        base = [c.name for c in ld.table.columns]
        if name == "income":
            df = df.rename(columns=_RENAMED)
            base = [_RENAMED.get(c, c) for c in base]
            df = df.assign(
                operating_net=definitions.operating_net(df),
                net_income=definitions.net_income(df),
                net_per_capita=definitions.net_per_capita(df),
            )
            base += ["operating_net", "net_income", "net_per_capita"]
        elif name == "households":
            df = df.assign(town_code=definitions.town_codes(df["town"]))
            if "members" in loaded:
                cap = definitions.labor_capacity(loaded["members"].kept)
                df = df.assign(labor_capacity=df["hh_id"].map(cap).astype("str"))
            else:
                df = df.assign(labor_capacity=pd.Series(np.nan, index=df.index, dtype="str"))
            base += ["town_code", "labor_capacity"]
        out[name] = df[[*base, "_file", "_row"]]
    return out


def _cross_checks(loaded: dict[str, _Loaded], tables: dict[str, pd.DataFrame]) -> None:
    """Rows whose hh_id / project_id / helper_id is not in its parent table (findings)."""
    parents = {"hh_id": "households", "project_id": "projects", "helper_id": "helpers"}
    for name, ld in loaded.items():
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


def _duplicate_id_numbers(loaded: dict[str, _Loaded], tables: dict[str, pd.DataFrame]) -> None:
    """The same 18-character ID number on two kept rows of a table (one person registered twice,
    e.g. in two households): a finding on the second and later rows, naming the first."""
    for name, ld in loaded.items():
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


def isin(values: pd.Series, pool: pd.Series) -> np.ndarray:
    """``values.isin(pool)`` as a bool array; missing values are never in. For the ``str`` dtype
    this uses pyarrow's hash kernel (pandas' own path is ~50× slower on 100,000 ids)."""
    try:
        a = pa.array(values.astype("str").array)
        b = pa.array(pool.astype("str").array)
        return pc.is_in(a, value_set=b, skip_nulls=True).to_numpy(zero_copy_only=False)
    except (TypeError, ValueError, pa.ArrowException):
        return values.isin(pool).to_numpy(dtype=bool) & values.notna().to_numpy()


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


def _ledgers(loaded: dict[str, _Loaded], tables: dict[str, pd.DataFrame]
             ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
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
                "key": _key_text(rows, ld.table.key).to_numpy(dtype=object),
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
    parts = [p for p in parts if len(p)]
    if parts:
        df = pd.concat(parts, ignore_index=True).sort_values(sort, kind="stable")
    else:
        df = pd.DataFrame({c: [] for c in [*columns, "_order"]})
    df = df[columns].reset_index(drop=True)
    types = {c: "str" for c in columns if c != "row"}
    types["row"] = np.int64
    return df.astype(types)


def _discover(root: Path) -> tuple[dict[str, list[tuple[Path, str]]], list[str]]:
    """The files of each table under ``root``, and notes on what was ignored."""
    by_stem = {readers.norm_header(s): t.name for t in schema.TABLES.values() for s in t.stems}
    found: dict[str, list[tuple[str, list[tuple[Path, str]]]]] = {}
    notes: list[str] = []
    for entry in sorted(root.iterdir(), key=lambda p: p.name):
        if entry.name.startswith((".", "~$")):
            continue
        if entry.is_dir():
            table = by_stem.get(readers.norm_header(entry.name))
            if table is None:
                notes.append(f"已忽略文件夹 {entry.name}（不是数据表）/ ignored folder {entry.name}")
                continue
            files = []
            for f in sorted(entry.iterdir(), key=lambda p: p.name):
                if f.name.startswith((".", "~$")):
                    continue
                if f.is_file() and f.suffix.lower() in readers.SUFFIXES:
                    files.append((f, f"{entry.name}/{f.name}"))
                else:
                    notes.append(f"已忽略 {entry.name}/{f.name}（不是数据文件）/ ignored {entry.name}/{f.name}")
            if files:
                found.setdefault(table, []).append((entry.name + "/", files))
            else:
                notes.append(f"文件夹 {entry.name} 中没有数据文件 / folder {entry.name} holds no data file")
            continue
        table = by_stem.get(readers.norm_header(entry.stem))
        if table is None or entry.suffix.lower() not in readers.SUFFIXES:
            near = [t for stem, t in by_stem.items() if stem in readers.norm_header(entry.stem)]
            if near and entry.suffix.lower() in readers.SUFFIXES:
                t = schema.TABLES[near[0]]
                notes.append(f"已忽略 {entry.name}：{t.zh}表的文件名应为「{t.zh}」或「{t.name}」"
                             f" / ignored {entry.name}: name the {t.name} file {t.zh} or {t.name}")
            else:
                notes.append(f"已忽略 {entry.name}（不是数据表）/ ignored {entry.name}")
            continue
        found.setdefault(table, []).append((entry.name, [(entry, entry.name)]))
    out: dict[str, list[tuple[Path, str]]] = {}
    for table, sources in found.items():
        if len(sources) > 1:
            names = "、".join(s for s, _ in sources)
            raise InputError(
                f"「{schema.TABLES[table].zh}」表有多个来源：{names}，请只保留一个",
                f"several sources for table {table}: {', '.join(s for s, _ in sources)}; keep one",
                file=sources[1][0],
            )
        out[table] = sources[0][1]
    return out, notes


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@functools.cache
def _default_tolerance() -> float:
    from qjlib.core.params import load_standards

    return float(load_standards()["data.total_tolerance"]["value"])


def _cache_dir() -> Path:
    return Path(os.environ.get("QJLIB_CACHE") or Path.home() / ".cache" / "qjlib")


def _cache_key(inputs: list[dict], tol: float, as_of: _dt.date) -> str:
    from qjlib.core.version import __version__

    h = hashlib.sha256()
    lib = Path(__file__).resolve().parents[1]
    for name in SOURCE_FILES:
        path = lib / name
        for f in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            h.update(f.relative_to(lib).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    h.update(json.dumps({"version": __version__, "tol": tol, "as_of": as_of.isoformat(),
                         "inputs": inputs,
                         "python": sys.version_info[:2], "pandas": pd.__version__},
                        sort_keys=True).encode())
    return h.hexdigest()


def load_package(path: str | Path, *, cache: bool = False,
                 total_tolerance: float | None = None, as_of: Any = None) -> Package:
    """Read, normalise, check and account for every table of the data package in folder ``path``.

    ``total_tolerance`` (yuan): how far a reported net income / per capita / transfer total may be
    from the recomputed one before it is a finding; default ``data.total_tolerance`` of
    ``params/standards.yaml``. ``as_of`` (a date): members born after it are a finding
    (``birth_date_future``); default today — a report passes its period's as-of date
    (:func:`load_for`), so the findings do not depend on the day it runs. ``cache=True`` keeps a
    pickle of the result under ``$QJLIB_CACHE`` (default ``~/.cache/qjlib``), keyed by the sha256
    of every input file, the source of the loading modules, the qjlib version, the tolerance and
    ``as_of``, so repeated runs on the same files do not re-read them.

    Raises :class:`~qjlib.errors.InputError` (file, sheet, row, column; Chinese and English) when a
    file cannot be read, lacks a required column, or the households table is missing or empty.
    """
    root = Path(path)
    if not root.is_dir():
        raise InputError("数据包应为一个文件夹，但找不到该文件夹",
                         "the data package must be an existing folder", file=str(path))
    tol = _default_tolerance() if total_tolerance is None else float(total_tolerance)
    as_of = _dt.date.today() if as_of is None else pd.Timestamp(as_of).date()
    sources, notes = _discover(root)
    if "households" not in sources:
        hint = [n for n in notes if "households" in n and n.startswith("已忽略")]
        raise InputError(
            "数据包中没有户信息表（户信息.xlsx / households.csv 等），无法分析"
            + (f"；{hint[0].split(' / ')[0]}" if hint else ""),
            "the package has no households table (户信息 / households); nothing can run",
            file=str(root),
        )
    inputs = sorted(
        ({"path": rel, "sha256": _sha256(p), "bytes": p.stat().st_size}
         for files in sources.values() for p, rel in files),
        key=lambda d: d["path"],
    )
    target = None
    if cache:
        target = _cache_dir() / f"package-{_cache_key(inputs, tol, as_of)}.pkl"
        if target.exists():
            try:
                with target.open("rb") as f:
                    pkg = pickle.load(f)
                log.debug("package from cache %s", target)
                return replace(pkg, root=root)
            except Exception:  # a stale or partial cache file: read again
                log.warning("ignoring unreadable cache %s", target)
    # The cyclic garbage collector would traverse the millions of cell objects of a big sheet
    # again and again while they are converted (none of them form cycles): pause it meanwhile.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        pkg = _load(root, sources, notes, inputs, tol, as_of)
    finally:
        if gc_was_enabled:
            gc.enable()
    if target is not None:
        _write_cache(pkg, target)
    return pkg


def load_for(path: str | Path, params: Any, *, cache: bool = True) -> Package:
    """:func:`load_package` with the run's own checks: the total tolerance of the parameters
    (``data.total_tolerance``) and their as-of date."""
    return load_package(path, cache=cache, total_tolerance=params.get("data.total_tolerance"),
                        as_of=params.asof)


def _load(root: Path, sources: dict[str, list[tuple[Path, str]]], notes: list[str],
          inputs: list[dict], tol: float, as_of: _dt.date) -> Package:
    t0 = time.perf_counter()
    loaded: dict[str, _Loaded] = {}
    for name in schema.TABLES:
        if name in sources:
            loaded[name] = _load_table(schema.TABLES[name], sources[name], tol, notes, as_of)
        else:
            zh, en = TABLE_USES.get(name, ("", ""))
            notes.append(f"未提供 {name}（{schema.TABLES[name].zh}）表：{zh} / no {name} table: {en}")
    if not len(loaded["households"].kept):
        raise InputError("户信息表没有可用的行（全部被剔除或为空）",
                         "the households table has no usable row (all rejected or empty)",
                         file=loaded["households"].reads[0].file)
    for name, ld in loaded.items():
        if name != "households" and not len(ld.kept):
            notes.append(f"{schema.TABLES[name].zh}（{name}）表没有可用的行 / {name} has no usable row")
        blank = sum(r.blank_rows for r in ld.reads)
        if blank:
            notes.append(f"{name}：跳过 {blank} 个空行（不计入读取行数）/ {blank} blank rows skipped")
    tables = _derive(loaded)
    _cross_checks(loaded, tables)
    _duplicate_id_numbers(loaded, tables)
    rejects, findings, accounting = _ledgers(loaded, tables)
    pkg = Package(
        root=root,
        tables={k: v.reset_index(drop=True) for k, v in tables.items()},
        rejects=rejects, findings=findings, accounting=accounting, notes=notes, inputs=inputs,
        provided={name: tuple(c.name for c in ld.table.columns
                              if any(c.name in r.cells for r in ld.reads))
                  for name, ld in loaded.items()},
    )
    log.debug("loaded %s in %.2fs", root, time.perf_counter() - t0)
    return pkg


def _write_cache(pkg: Package, target: Path) -> None:
    """Pickle ``pkg`` to ``target`` atomically (parallel notebook runs may race)."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".package-", suffix=".tmp")
    except OSError:
        log.warning("cannot write the package cache in %s", target.parent)
        return
    try:
        with os.fdopen(fd, "wb") as f:
            pickle.dump(pkg, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, target)
    except OSError:
        log.warning("could not write the package cache %s", target)
        Path(tmp).unlink(missing_ok=True)


# --------------------------------------------------------------------------------- qj check


def check_main(args: Any) -> int:
    """``qj check DATA [--out DIR]``: load, print the accounting, findings by kind and notes;
    with ``--out`` write ``rejects.csv`` and ``findings.csv`` (UTF-8 BOM, personal values masked).
    Returns 0 when the package is usable; an unusable one raises :class:`InputError` (one line,
    exit 1, printed by :mod:`qjlib.cli`)."""
    from qjlib.core.privacy import mask_frame

    pkg = load_package(args.data)
    acc = pkg.accounting
    print(f"数据包 data package: {args.data}")
    print("读取情况 rows read / kept / rejected:")
    print(acc.rename(columns={"table": "表 table", "file": "文件 file", "sheet": "工作表 sheet",
                              "read": "读取 read", "kept": "保留 kept", "rejected": "剔除 rejected"})
          .fillna("").to_string(index=False))
    print(f"合计 total: 读取 {int(acc['read'].sum())}，保留 {int(acc['kept'].sum())}，"
          f"剔除 {int(acc['rejected'].sum())}")
    for title, ledger in (("剔除行 rejects", pkg.rejects), ("数据质量问题 findings", pkg.findings)):
        counts = ledger.groupby(["table", "kind"]).size()
        print(f"{title}: {len(ledger)}")
        for (table, kind), n in counts.items():
            print(f"  {table:<10} {kind:<26} {n:>6}  {KINDS.get(kind, '')}")
    towns = pkg.towns
    if len(towns):
        # the codes are what a notebook's `scope` parameter and `qj report --scope` take
        print("乡镇及代码 towns and codes: " + "、".join(
            f"{t}({c})" for t, c in zip(towns["town"], towns["town_code"], strict=True)))
    if pkg.notes:
        print("说明 notes:")
        for note in pkg.notes:
            print(f"  - {note}")
    if args.out is not None:
        out = Path(args.out)
        try:
            out.mkdir(parents=True, exist_ok=True)
            for name, ledger in (("rejects", pkg.rejects), ("findings", pkg.findings)):
                mask_frame(ledger, "masked").to_csv(out / f"{name}.csv", index=False,
                                                    encoding="utf-8-sig", lineterminator="\n")
        except OSError as e:
            raise QjError(f"无法写出台账到 {out}：{e.strerror} / cannot write the ledgers to {out}") from None
        print(f"已写出 written: {out / 'rejects.csv'}, {out / 'findings.csv'}")
    print("数据包可用 / the package is usable")
    return 0
