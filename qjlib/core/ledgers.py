"""Ledgers (台账): what each one is, its key and its Chinese column labels; writing them.

Each analysis module declares its ledgers as ``LEDGERS = {name: LedgerSpec(...)}`` and builds them
with ``build_ledgers(ctx) -> dict[str, DataFrame]`` (canonical English column names, a Chinese
``reason`` column, ``town``/``village`` where they apply). Frames hold raw values; this module
sorts, masks (:mod:`qjlib.privacy`) and writes them, byte-identically run after run:

``ledgers/<name>.csv``
    UTF-8 with BOM (Excel opens it as UTF-8), ``\\n`` line ends, canonical English headers, rows
    sorted by the ledger key and then by every other column (ties broken, so the order never
    depends on how the frame was built). Cell formats, by column type (:func:`column_type`):

    =========  ===================================  ===================
    type       which columns                        CSV text
    =========  ===================================  ===================
    ``money``  yuan amounts (schema ``money``        ``%.2f``
               columns, ``*income*``, ``pc_*``, …)
    ``share``  ``*share*``, ``*ratio*``, ``*rate*``  ``%.4f``
    ``int``    integer dtypes; ``row``, ``year``,   ``%d``
               ``size``, ``n_*``, ``*_count``, …
    ``float``  any other float (scores, SEs, …)     ``%.4f``
    ``date``   datetimes                            ``YYYY-MM-DD``
    ``text``   the rest                             as is
    =========  ===================================  ===================

    Missing values are empty cells; ``-0.00`` is written ``0.00``.

``ledgers.xlsx``
    For people: a contents sheet (目录), then one sheet per ledger named by its Chinese title
    (≤ 31 characters), Chinese headers (``LedgerSpec.columns_zh``, else the schema's label), frozen
    header row and leading key columns, autofilter, column widths from the content, A4 landscape
    printing over as many pages across as keep the text readable (:func:`print_pages_wide`; the
    header row and key columns on every page), number formats (``#,##0.00`` money,
    ``0.00%`` shares, ``yyyy-mm-dd`` dates), coded values in Chinese (``exited`` → ``已脱贫``).
    Workbook properties and dates are fixed (created = the period's as-of date), so the bytes are
    identical run to run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from qjlib.core import schema
from qjlib.core.errors import QjError
from qjlib.core.privacy import mask_frame


@dataclass(frozen=True)
class LedgerSpec:
    name: str
    title_zh: str
    key: tuple[str, ...]
    columns_zh: dict[str, str] = field(default_factory=dict)  # canonical column -> Chinese header
    plan: str = ""  # the plan requirement, e.g. "R2"
    pii: dict[str, str] = field(default_factory=dict)  # further personal columns -> privacy kind
    formats: dict[str, str] = field(default_factory=dict)  # column -> type (see column_type)


# Chinese labels of columns that ledgers share and the schema does not define.
COMMON_LABELS_ZH: dict[str, str] = {
    "reason": "原因",
    "reason_zh": "原因",
    "reason_en": "原因（英文）",
    "town_code": "乡镇代码",
    "kind": "问题类型",
    "table": "表",
    "file": "文件",
    "sheet": "工作表",
    "row": "行号",
    "column": "列",
    "value": "值",
    "key": "主键",
    "labor_capacity": "劳动能力",
    "operating_net": "生产经营净收入",
    "net_income_reported": "纯收入（文件）",
    "net_per_capita_reported": "人均纯收入（文件）",
}

TYPES = ("money", "share", "int", "float", "date", "text")
FLOAT_DIGITS = {"money": 2, "share": 4, "float": 4}
XLSX_FORMATS = {
    "money": "#,##0.00", "share": "0.00%", "int": "0", "float": "0.0000", "date": "yyyy-mm-dd",
}

_MONEY_COLUMNS = frozenset(
    c.name for t in schema.TABLES.values() for c in t.columns if c.kind == "money"
)
_MONEY_RE = re.compile(
    r"(^|_)(income|amount|yuan|investment|dividend|pay|paid|wage|transfer|property|operating|cost"
    r"|pc|per_capita|poverty_line|benefit|benefits|money|drop|gap)(_|$)"
)
_SHARE_RE = re.compile(r"(share|ratio|rate|pct|percent)")
_INT_RE = re.compile(r"(^|_)(row|year|size|count|n|households|members|visits|changes|rank)(_|$)")


def column_type(name: str, series: pd.Series, spec: LedgerSpec | None = None) -> str:
    """The output type of a ledger column: the spec's ``formats`` if it names the column, else
    the dtype (dates, integers, text) and, for floats, the name rules of the module docstring."""
    if spec is not None and name in spec.formats:
        kind = spec.formats[name]
        if kind not in TYPES:
            raise QjError(f"台账 {spec.name} 列 {name} 的格式 {kind!r} 未定义 / unknown format")
        return kind
    if pd.api.types.is_datetime64_any_dtype(series):
        return "date"
    if pd.api.types.is_bool_dtype(series):
        return "text"
    if pd.api.types.is_integer_dtype(series):
        return "int"
    if pd.api.types.is_float_dtype(series):
        if _SHARE_RE.search(name):
            return "share"
        if name in _MONEY_COLUMNS or _MONEY_RE.search(name):
            return "money"
        if _INT_RE.search(name):
            return "int"
        return "float"
    return "text"


def column_label(name: str, spec: LedgerSpec | None = None) -> str:
    """Chinese header: the spec's ``columns_zh``, else the schema label, else the common labels,
    else the English name."""
    if spec is not None and name in spec.columns_zh:
        return spec.columns_zh[name]
    for t in schema.TABLES.values():
        for c in t.columns:
            if c.name == name and name != "name":  # `name` is ambiguous (person / project)
                return c.zh
    return COMMON_LABELS_ZH.get(name, name)


def _sort_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Sortable stand-ins for columns whose values do not compare (mixed objects, lists)."""
    out = {}
    for c in df.columns:
        s = df[c]
        if s.dtype == object:
            s = s.map(_text, na_action="ignore").astype("str")
        out[c] = s
    return pd.DataFrame(out, index=df.index)


def sort_ledger(df: pd.DataFrame, spec: LedgerSpec) -> pd.DataFrame:
    """Rows sorted by the ledger key, then by every other column (missing last); index reset."""
    missing = [k for k in spec.key if k not in df.columns]
    if missing:
        raise QjError(
            f"台账 {spec.name} 缺少主键列 {', '.join(missing)} / ledger {spec.name} lacks key "
            f"column(s) {', '.join(missing)}"
        )
    by = list(spec.key) + [c for c in df.columns if c not in spec.key]
    keys = _sort_frame(df[by])
    order = keys.sort_values(by=by, kind="stable", na_position="last").index
    return df.loc[order].reset_index(drop=True)


def _text(v: object) -> str:
    if isinstance(v, (list, tuple, dict, np.ndarray)):
        v = v.tolist() if isinstance(v, np.ndarray) else v
        return json.dumps(v, ensure_ascii=False, sort_keys=True, default=str)
    return str(v)


def format_for_csv(df: pd.DataFrame, spec: LedgerSpec | None = None) -> pd.DataFrame:
    """Every column as text in its fixed format (see the module docstring); missing → ``""``."""
    out = {}
    for c in df.columns:
        s = df[c]
        kind = column_type(c, s, spec)
        na = s.isna().to_numpy()
        if kind in FLOAT_DIGITS or (kind == "int" and pd.api.types.is_float_dtype(s)):
            digits = FLOAT_DIGITS.get(kind, 0)
            v = np.round(s.to_numpy(dtype="float64", na_value=np.nan), digits) + 0.0
            text = np.char.mod(f"%.{digits}f", np.nan_to_num(v))
        elif kind == "int":
            text = s.astype("Int64").astype("str").to_numpy(dtype=object)
        elif kind == "date":
            text = pd.to_datetime(s).dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
        else:
            text = s.map(_text, na_action="ignore").to_numpy(dtype=object)
        out[c] = np.where(na, "", text)
    return pd.DataFrame(out, columns=df.columns, dtype=object)


def prepare(df: pd.DataFrame, spec: LedgerSpec, pii: str = "masked") -> pd.DataFrame:
    """Sorted by key and masked (``pii="masked"``): what every output of a ledger shows."""
    return mask_frame(sort_ledger(df, spec), pii, extra=spec.pii, labels=spec.columns_zh)


def csv_bytes(df: pd.DataFrame, spec: LedgerSpec) -> bytes:
    """The CSV file of a prepared ledger: UTF-8 with BOM, ``\\n`` line ends, fixed formats."""
    text = format_for_csv(df, spec).to_csv(index=False, lineterminator="\n")
    return text.encode("utf-8-sig")


def write_csv(df: pd.DataFrame, path: Path, spec: LedgerSpec) -> str:
    """Write a prepared ledger; returns the file's sha256."""
    data = csv_bytes(df, spec)
    Path(path).write_bytes(data)
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------------------------------------
# ledgers.xlsx

_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def sheet_names(specs: Iterable[LedgerSpec]) -> list[str]:
    """Chinese sheet names (the ledger titles), ≤ 31 characters, unique, legal in Excel."""
    names: list[str] = []
    seen: set[str] = set()
    for spec in specs:
        base = _BAD_SHEET_CHARS.sub("_", spec.title_zh or spec.name).strip("'") or spec.name
        base = base[:31]
        name, i = base, 2
        while name.lower() in seen or name == "目录":
            suffix = f"({i})"
            name, i = base[: 31 - len(suffix)] + suffix, i + 1
        seen.add(name.lower())
        names.append(name)
    return names


def _display_width(s: pd.Series) -> int:
    """Approximate column width in Excel units: a CJK character counts two."""
    if not len(s):
        return 0
    t = s.astype("str").fillna("")
    w = t.str.len() + t.str.count(r"[^\x00-\xff]")
    return int(w.max())


def _xlsx_values(s: pd.Series, kind: str, name: str) -> list:
    """Python values for xlsxwriter: numbers as numbers, dates as datetimes, missing as None,
    booleans as 是/否 and coded values in Chinese (``schema.CODE_LABELS_ZH``)."""
    na = s.isna().to_numpy()
    if kind in FLOAT_DIGITS or kind == "int":
        v = np.nan_to_num(s.to_numpy(dtype="float64", na_value=np.nan))
        v = np.round(v, FLOAT_DIGITS.get(kind, 0)) + 0.0  # the figures of the CSV, no -0.0
        vals = v.astype(np.int64).tolist() if kind == "int" else v.tolist()
    elif kind == "date":
        vals = pd.to_datetime(s).dt.to_pydatetime().tolist()
    elif pd.api.types.is_bool_dtype(s):
        vals = s.map({True: "是", False: "否"}).tolist()
    else:
        text = s.map(_text, na_action="ignore")
        labels = schema.CODE_LABELS_ZH.get(name)
        vals = (text.replace(labels) if labels else text).tolist()
    return [None if m else x for m, x in zip(na, vals, strict=True)]


def xlsx_bytes(
    ledgers: Mapping[str, tuple[LedgerSpec, pd.DataFrame]],
    created: dt.datetime,
    title: str = "台账 ledgers",
) -> bytes:
    """The workbook of prepared ledgers (already sorted and masked), in the mapping's order."""
    import io

    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {
        "in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
        "strings_to_numbers": False,
    })
    wb.set_properties({
        "title": title, "author": "qjlib", "company": "", "created": created,
        "comments": "由 qjlib 生成 / generated by qjlib",
    })
    wb.set_calc_mode("auto")
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                          "valign": "top"})
    fmts = {k: wb.add_format({"num_format": v}) for k, v in XLSX_FORMATS.items()}

    specs = [spec for spec, _ in ledgers.values()]
    names = sheet_names(specs)
    toc = wb.add_worksheet("目录")
    toc_cols = ["台账 ledger", "名称 title", "行数 rows", "主键 key", "方案 plan", "CSV 文件"]
    toc.write_row(0, 0, toc_cols, head)
    for i, ((spec, df), sheet) in enumerate(zip(ledgers.values(), names, strict=True), start=1):
        toc.write_row(i, 0, [sheet, spec.name, len(df), ", ".join(spec.key), spec.plan,
                             f"ledgers/{spec.name}.csv"])
    toc_rows = [[sheet, spec.name, ", ".join(spec.key), f"ledgers/{spec.name}.csv"]
                for (spec, _), sheet in zip(ledgers.values(), names, strict=True)]
    fitted = [_display_width(pd.Series([r[k] for r in toc_rows] + [toc_cols[j]])) + 2
              for j, k in ((0, 0), (1, 1), (3, 2), (5, 3))] if toc_rows else [24, 28, 28, 36]
    for j, w in zip((0, 1, 2, 3, 4, 5), (fitted[0], fitted[1], 10, fitted[2], 10, fitted[3]),
                    strict=True):
        toc.set_column(j, j, min(w, 60))
    toc.freeze_panes(1, 0)
    toc.set_paper(9)
    toc.set_landscape()
    toc.fit_to_pages(1, 0)

    for (spec, df), sheet in zip(ledgers.values(), names, strict=True):
        ws = wb.add_worksheet(sheet)
        headers = [column_label(c, spec) for c in df.columns]
        ws.write_row(0, 0, headers, head)
        widths: list[int] = []
        for j, c in enumerate(df.columns):
            kind = column_type(c, df[c], spec)
            values = _xlsx_values(df[c], kind, c)
            write = (ws.write_number if kind in ("money", "share", "int", "float") else
                     ws.write_datetime if kind == "date" else ws.write_string)
            fmt = fmts.get(kind)
            for i, v in enumerate(values, start=1):  # typed writes: no formula/URL guessing
                if v is not None:
                    write(i, j, v, fmt)
            shown = df[c].map(_text, na_action="ignore") if kind == "text" else pd.Series(
                format_for_csv(df[[c]], spec)[c])
            width = max(_display_width(pd.Series([headers[j]])), _display_width(shown)) + 2
            widths.append(min(max(width, 8), 50))
            ws.set_column(j, j, widths[-1])
        # the key columns, when they lead, stay in view (and on every printed page)
        lead = 0
        while lead < len(df.columns) and df.columns[lead] in spec.key:
            lead += 1
        ws.freeze_panes(1, lead if lead < len(df.columns) else 0)
        ws.autofilter(0, 0, max(len(df), 1), max(len(df.columns) - 1, 0))
        # printed for a town's work: A4 landscape, the header on every page, as many pages wide
        # as keep the text readable (one page for a narrow ledger)
        ws.set_paper(9)
        ws.set_landscape()
        pages_wide = print_pages_wide(widths)
        ws.fit_to_pages(pages_wide, 0)
        ws.repeat_rows(0)
        if lead and pages_wide > 1:
            ws.repeat_columns(0, lead - 1)
    wb.close()
    return buf.getvalue()


# Column width units (about one Latin character each) that an A4 landscape page prints at a
# readable scale (about 70 %): a wider ledger is printed over several pages across.
PRINT_WIDTH_PER_PAGE = 190


def print_pages_wide(widths: Sequence[int]) -> int:
    """How many A4 landscape pages across a sheet with these column widths is printed on."""
    return max(1, math.ceil(sum(widths) / PRINT_WIDTH_PER_PAGE))


def write_xlsx(
    ledgers: Mapping[str, tuple[LedgerSpec, pd.DataFrame]], path: Path, created: dt.datetime
) -> str:
    """Write ``ledgers.xlsx``; returns the file's sha256."""
    data = xlsx_bytes(ledgers, created)
    Path(path).write_bytes(data)
    return hashlib.sha256(data).hexdigest()
