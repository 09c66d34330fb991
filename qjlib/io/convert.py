"""Cell conversion: raw cells of one column → the canonical dtype of its schema kind.

Each converter takes the column's raw cells (an object array, as :mod:`qjlib.io.readers` read
them) and returns a :class:`Conv`: the values (NA where blank or bad), which cells were blank,
which were not values of the kind (``bad``), and extra finding masks (``flags``). What a blank or
bad cell means for its row (reject or finding) is decided by :mod:`qjlib.io.checks`.

Kinds (:mod:`qjlib.core.schema`):

- numbers (``money``, ``float``, ``int``): Excel numbers as stored; text ``"1,234.5"``,
  ``" 12 "``, full-width digits; ``""`` → NA. Thousands separators must be well placed
  (``"1234,5"`` is bad, never 12345). Money is float64 yuan; ``int`` columns must be whole.
- years: 2016, 2016.0, ``"2016"``, ``"2016年"``, a date (its year); 1900–2100.
- dates: Excel dates and serial numbers (1910-01-01 … 2099-12-31), ``"2019-09-30"``,
  ``"2019/9/30"``, ``"2019.9.30"``, ``"2019年9月30日"``, ``"20190930"`` (day precision,
  ``datetime64[us]``).
- booleans: ``schema.BOOL_TRUE``/``BOOL_FALSE`` (是/否, Y/N, 1/0, true/false), case-insensitive.
- enums: through ``schema.VALUE_LISTS`` after NFKC, whitespace removal and ASCII case-folding
  (``已脱贫（享受政策）``, ``1.0`` → ``exited``); a value outside the list is kept as given
  (flag ``not_in_list``).
- ids: text, stripped; a whole number stored by Excel (``6108300101.0``) becomes its digits; a
  number of 16+ digits or scientific-notation text has lost digits (flag ``id_mangled``).
- ID numbers (``idnum``): text, ``x`` upper-cased; a number is ``id_mangled`` (never repaired);
  flags ``id_length`` (not 18 characters) and ``id_checksum`` (GB 11643).
- text: stripped, ``""`` → NA.

Speed: every converter is vectorised or maps each *distinct* value once (:func:`_unique_map`).
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.api.types import infer_dtype

from qjlib.core import definitions, schema

DATE_DTYPE = "datetime64[us]"  # the dtype of every date column
_EXCEL_EPOCH = np.datetime64("1899-12-30", "D")
_SERIAL_RANGE = (3654, 73050)  # Excel day serials accepted as dates: 1910-01-01 … 2099-12-31
_YEAR_RANGE = (1900, 2100)


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


def cell_texts(raw: np.ndarray) -> np.ndarray:
    """Raw cells as a person would read them (object array of ``str``; blank → ``""``)."""
    return np.array([_cell_text(x) for x in raw], dtype=object)


def _norm_key(x: str) -> str:
    """Enum/boolean lookup key: NFKC, no whitespace, ASCII case-folded."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", x)).lower()


@dataclass
class Conv:
    """One column converted: its values and, per cell, what the conversion saw."""

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


def _dates(raw: np.ndarray) -> Conv:
    """Dates at day precision (``datetime64[us]``), per distinct cell value."""
    conv = _unique_map(raw, _date_cell)
    blank = np.array([c is _BLANK for c in conv], dtype=bool)
    bad = np.array([c is _BAD for c in conv], dtype=bool)
    out = np.full(len(raw), np.datetime64("NaT"), dtype="datetime64[D]")
    ok = ~blank & ~bad
    if ok.any():
        out[ok] = conv[ok].astype("datetime64[D]")
    return Conv(pd.Series(out.astype(DATE_DTYPE)), blank, bad)


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


def _years(raw: np.ndarray) -> Conv:
    v, blank, bad = _numbers(raw, _year_cell)
    out_of_range = ~np.isnan(v) & ((v != np.floor(v)) | (v < _YEAR_RANGE[0]) | (v > _YEAR_RANGE[1]))
    bad |= out_of_range
    v[bad] = np.nan
    return Conv(pd.array(v, dtype="Float64").astype("Int64"), blank, bad)


def _ints(raw: np.ndarray) -> Conv:
    v, blank, bad = _numbers(raw)
    frac = ~np.isnan(v) & (v != np.floor(v))
    bad |= frac
    v[frac] = np.nan
    return Conv(pd.array(v, dtype="Float64").astype("Int64"), blank, bad)


def _floats(raw: np.ndarray) -> Conv:
    v, blank, bad = _numbers(raw)
    return Conv(v, blank, bad)


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


def _bools(raw: np.ndarray) -> Conv:
    conv = _unique_map(raw, _bool_cell)
    blank = np.array([c is _BLANK for c in conv], dtype=bool)
    bad = np.array([c is _BAD for c in conv], dtype=bool)
    vals = np.where(blank | bad, False, conv).astype(bool)
    return Conv(pd.arrays.BooleanArray(vals, blank | bad), blank, bad)


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


def _plain_text(raw: np.ndarray) -> Conv:
    s, blank, _, _ = _text(raw)
    return Conv(s, blank, np.zeros(len(raw), dtype=bool))


def _ids(raw: np.ndarray) -> Conv:
    s, blank, _, lossy = _text(raw)
    return Conv(s, blank, np.zeros(len(raw), dtype=bool), {"id_mangled": lossy})


def _idnums(raw: np.ndarray) -> Conv:
    s, blank, came_num, lossy = _text(raw)
    s = s.str.upper()
    mangled = came_num | lossy
    length = (~blank & ~mangled & (s.str.len() != 18).fillna(False).to_numpy(dtype=bool))
    checked = ~blank & ~mangled & ~length
    fails = checked & ~definitions.id_checksum_ok(s).to_numpy()
    return Conv(s, blank, np.zeros(len(raw), dtype=bool),
                 {"id_mangled": mangled, "id_length": length, "id_checksum": fails})


_ENUM_MAPS: dict[str, dict[str, str]] = {
    name: {_norm_key(v): canon for canon, syns in lists.items() for v in (canon, *syns)}
    for name, lists in schema.VALUE_LISTS.items()
}


def _enums(raw: np.ndarray, column: str) -> Conv:
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
    return Conv(values, blank, np.zeros(len(raw), dtype=bool), {"not_in_list": outside})


def convert(kind: str, column: str, raw: np.ndarray) -> Conv:
    """The raw cells of ``column`` converted to the canonical dtype of its schema ``kind``."""
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
    return _plain_text(raw)


def empty(kind: str, n: int) -> Any:
    """An all-missing column of the canonical dtype of ``kind``."""
    if kind in ("money", "float"):
        return np.full(n, np.nan)
    if kind in ("int", "year"):
        return pd.array(np.full(n, np.nan), dtype="Float64").astype("Int64")
    if kind == "date":
        return np.full(n, np.datetime64("NaT"), dtype=DATE_DTYPE)
    if kind == "bool":
        return pd.arrays.BooleanArray(np.zeros(n, dtype=bool), np.ones(n, dtype=bool))
    return _str_nulls(n)


_STR = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas 3's default "str" dtype


def _str_nulls(n: int) -> pd.Series:
    """An all-missing ``str`` column, built directly in Arrow (no Python objects)."""
    return pd.Series(pd.arrays.ArrowStringArray(pa.nulls(n, pa.large_string()), dtype=_STR))

