"""Writing the report's outputs: ``ledgers/<name>.csv``, ``ledgers.xlsx`` and ``summary.json``,
byte-identical for the same inputs and parameters. What a ledger is (its spec, column types, sort
order) is :mod:`qjlib.core.ledgers`; every output of a ledger is :func:`prepare`-d first (sorted,
masked by :mod:`qjlib.core.privacy` unless ``pii="full"``).

``ledgers/<name>.csv``
    UTF-8 with BOM (Excel opens it as UTF-8), ``\\n`` line ends, canonical English headers, the
    CSV text of each column type (:mod:`qjlib.core.ledgers`); missing values are empty cells,
    ``-0.00`` is written ``0.00``.

``ledgers.xlsx``
    For people: a contents sheet (目录), then one sheet per ledger named by its Chinese title
    (≤ 31 characters), Chinese headers (:func:`qjlib.core.ledgers.column_label`), frozen header
    row and leading key columns, autofilter, column widths from the content, A4 landscape
    printing over as many pages across as keep the text readable (:func:`print_pages_wide`; the
    header row and key columns on every page), number formats (:data:`XLSX_FORMATS`), coded
    values in Chinese (``exited`` → ``已脱贫``). Workbook properties and dates are fixed
    (created = the period's as-of date), so the bytes are identical run to run.

``summary.json``
    The figures of every analysis for the county and each town (:func:`summary_bytes`): sorted
    keys, floats rounded to :data:`qjlib.report.compute.SUMMARY_DIGITS` decimals.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from qjlib.core import schema
from qjlib.core.answers import VERDICTS, is_worklist
from qjlib.core.files import write_bytes
from qjlib.core.ledgers import (
    FLOAT_DIGITS,
    LedgerSpec,
    cell_text,
    column_type,
    ledger_sheets,
    sheet_names,
    sort_ledger,
)
from qjlib.core.privacy import mask_frame
from qjlib.report.compute import Results, jsonable
from qjlib.report.lifecycle import Previous, follow_up_items, reconcile
from qjlib.report.workbooks import (
    FOLLOW_UP,
    GONE_SHEET,
    add_answer_columns,
    code_labels,
    header,
    town_file_name,
    town_rows,
)

XLSX_FORMATS = {  # the number format of each column type in ledgers.xlsx
    "money": "#,##0.00", "share": "0.00%", "int": "0", "float": "0.0000", "date": "yyyy-mm-dd",
}


def fixed_texts(v: np.ndarray, digits: int) -> np.ndarray:
    """Rounded numbers without NaN (``np.nan_to_num``) as the CSV writes them: ``digits`` fixed
    decimals, no thousands separator."""
    return np.char.mod(f"%.{digits}f", v)


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
            text = fixed_texts(np.nan_to_num(v), digits)
        elif kind == "int":
            text = s.astype("Int64").astype("str").to_numpy(dtype=object)
        elif kind == "date":
            text = pd.to_datetime(s).dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
        else:
            text = s.map(cell_text, na_action="ignore").to_numpy(dtype=object)
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
    return write_bytes(path, csv_bytes(df, spec))


def display_width(s: pd.Series) -> int:
    """The widest cell's approximate width column width in Excel units: a CJK character counts two."""
    if not len(s):
        return 0
    # over the distinct values only: a column's width, not a per-row computation (missing → "")
    texts = (v if isinstance(v, str) else "" if pd.isna(v) else str(v) for v in pd.unique(s))
    # a character beyond Latin-1 counts twice: the Latin-1 encoding drops exactly those
    return max(2 * len(t) - len(t.encode("latin-1", "ignore")) for t in texts)


def _is_text(s: pd.Series) -> bool:
    """True when every present value of ``s`` is a ``str`` (its :func:`cell_text` is itself)."""
    if pd.api.types.is_string_dtype(s.dtype) and s.dtype != object:
        return True
    return s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty")


def _number_texts(s: pd.Series, kind: str, v: np.ndarray, na: np.ndarray) -> list[str]:
    """The CSV texts (:func:`format_for_csv`) of the smallest and the largest present value of a
    number column (``v``: its rounded values): a fixed-decimals text grows with the magnitude, so
    the widest cell of the column is one of these two."""
    if na.all():
        return []
    if kind == "int" and not pd.api.types.is_float_dtype(s):
        whole = s.astype("Int64")
        return [str(whole.min()), str(whole.max())]
    present = v[~na]
    return fixed_texts(np.array([present.min(), present.max()]), FLOAT_DIGITS.get(kind, 0)).tolist()


def _xlsx_cells(s: pd.Series, kind: str, name: str) -> tuple[list, pd.Series]:
    """The column's values for xlsxwriter — numbers as numbers, dates as datetimes, missing as
    None, booleans as 是/否, coded values in Chinese (``schema.CODE_LABELS_ZH``) — and the texts
    its column width is measured on (the CSV texts; for numbers and dates only the two that can
    be the widest)."""
    na = s.isna().to_numpy()
    if kind in FLOAT_DIGITS or kind == "int":
        v = np.nan_to_num(s.to_numpy(dtype="float64", na_value=np.nan))
        v = np.round(v, FLOAT_DIGITS.get(kind, 0)) + 0.0  # the figures of the CSV, no -0.0
        vals = v.astype(np.int64).tolist() if kind == "int" else v.tolist()
        shown = pd.Series(_number_texts(s, kind, v, na), dtype=object)
    elif kind == "date":
        d = pd.to_datetime(s)
        vals = d.dt.to_pydatetime().tolist()
        shown = pd.Series([] if na.all() else [f"{d.min():%Y-%m-%d}", f"{d.max():%Y-%m-%d}"],
                          dtype=object)
    else:
        shown = s if _is_text(s) else s.map(cell_text, na_action="ignore")
        if pd.api.types.is_bool_dtype(s):
            vals = s.map({True: "是", False: "否"}).tolist()
        else:
            labels = schema.CODE_LABELS_ZH.get(name) or code_labels(name)
            vals = (shown.replace(labels) if labels else shown).tolist()
    return [None if m else x for m, x in zip(na, vals, strict=True)], shown


def xlsx_bytes(
    ledgers: Mapping[str, tuple[LedgerSpec, pd.DataFrame]],
    created: dt.datetime,
    title: str = "台账 ledgers",
    sheets: Mapping[str, str] | None = None,
    gone: pd.DataFrame | None = None,
) -> bytes:
    """The workbook of prepared ledgers (already sorted and masked), in the mapping's order: the
    contents sheet, then one sheet per ledger (see the module docstring) with the answer columns
    of a work list (:mod:`qjlib.report.workbooks`), then, with ``gone``, the sheet 上期对账 of the
    previous report's rows that are gone. ``sheets`` names the ledgers' sheets (default
    :func:`~qjlib.core.ledgers.sheet_names` of these ledgers)."""
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
    names = (sheet_names(spec for spec, _ in ledgers.values()) if sheets is None
             else [sheets[n] for n in ledgers])
    _write_contents(wb.add_worksheet("目录"), ledgers, names, head)
    for (spec, df), sheet in zip(ledgers.values(), names, strict=True):
        _write_ledger_sheet(wb, wb.add_worksheet(sheet), spec, df, head, fmts)
    if gone is not None:
        _write_ledger_sheet(wb, wb.add_worksheet(GONE_SHEET), _GONE_SPEC, gone, head, fmts)
    wb.close()
    return buf.getvalue()


def _write_contents(toc: Any, ledgers: Mapping[str, tuple[LedgerSpec, pd.DataFrame]],
                    names: Sequence[str], head: Any) -> None:
    """The contents sheet (目录): one row per ledger — sheet, name, rows, key, plan, CSV file."""
    toc_cols = ["台账 ledger", "名称 title", "行数 rows", "主键 key", "方案 plan", "CSV 文件"]
    toc.write_row(0, 0, toc_cols, head)
    for i, ((spec, df), sheet) in enumerate(zip(ledgers.values(), names, strict=True), start=1):
        toc.write_row(i, 0, [sheet, spec.name, len(df), ", ".join(spec.key), spec.plan,
                             f"ledgers/{spec.name}.csv"])
    toc_rows = [[sheet, spec.name, ", ".join(spec.key), f"ledgers/{spec.name}.csv"]
                for (spec, _), sheet in zip(ledgers.values(), names, strict=True)]
    fitted = [display_width(pd.Series([r[k] for r in toc_rows] + [toc_cols[j]])) + 2
              for j, k in ((0, 0), (1, 1), (3, 2), (5, 3))] if toc_rows else [24, 28, 28, 36]
    for j, w in zip((0, 1, 2, 3, 4, 5), (fitted[0], fitted[1], 10, fitted[2], 10, fitted[3]),
                    strict=True):
        toc.set_column(j, j, min(w, 60))
    toc.freeze_panes(1, 0)
    toc.set_paper(9)
    toc.set_landscape()
    toc.fit_to_pages(1, 0)


_GONE_SPEC = LedgerSpec("lifecycle_gone", GONE_SHEET, ("ledger", "key"), columns_zh={
    "ledger": "台账", "key": "主键", "verdict": "核实结果", "done": "整改完成日期"})


def _write_ledger_sheet(wb: Any, ws: Any, spec: LedgerSpec, df: pd.DataFrame, head: Any,
                        fmts: Mapping[str, Any]) -> None:
    """One ledger's sheet: Chinese headers, typed cells, widths from the content, frozen header
    and leading key columns, autofilter, A4 landscape printing; a work list's answer columns."""
    headers = [header(c, spec) for c in df.columns]
    ws.write_row(0, 0, headers, head)
    widths: list[int] = []
    for j, c in enumerate(df.columns):
        kind = column_type(c, df[c], spec)
        values, shown = _xlsx_cells(df[c], kind, c)
        write = (ws.write_number if kind in ("money", "share", "int", "float") else
                 ws.write_datetime if kind == "date" else ws.write_string)
        fmt = fmts.get(kind)
        for i, v in enumerate(values, start=1):  # typed writes: no formula/URL guessing
            if v is not None:
                write(i, j, v, fmt)
        width = max(display_width(pd.Series([headers[j]])), display_width(shown)) + 2
        widths.append(min(max(width, 8), 50))
        ws.set_column(j, j, widths[-1])
    # the key columns, when they lead, stay in view (and on every printed page)
    lead = 0
    while lead < len(df.columns) and df.columns[lead] in spec.key:
        lead += 1
    ws.freeze_panes(1, lead if lead < len(df.columns) else 0)
    added = (add_answer_columns(wb, ws, spec, len(df.columns), len(df), head)
             if spec is not _GONE_SPEC else 0)
    ws.autofilter(0, 0, max(len(df), 1), max(len(df.columns) + added - 1, 0))
    # printed for a town's work: A4 landscape, the header on every page, as many pages wide
    # as keep the text readable (one page for a narrow ledger)
    ws.set_paper(9)
    ws.set_landscape()
    pages_wide = print_pages_wide(widths)
    ws.fit_to_pages(pages_wide, 0)
    ws.repeat_rows(0)
    if lead and pages_wide > 1:
        ws.repeat_columns(0, lead - 1)


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
    return write_bytes(path, xlsx_bytes(ledgers, created))


def summary_bytes(summary: dict) -> bytes:
    """``summary.json``: :func:`~qjlib.report.compute.jsonable`, sorted keys, indented, UTF-8."""
    return (json.dumps(jsonable(summary), ensure_ascii=False, sort_keys=True, indent=2) + "\n"
            ).encode("utf-8")


def write_outputs(res: Results, folder: Path, pii: str, as_of: pd.Timestamp,
                  xlsx: bool = True, previous: Previous | None = None,
                  params_record: dict[str, Any] | None = None) -> dict[str, Any]:
    """``ledgers/*.csv``, ``summary.json`` and (``xlsx=True``) ``ledgers.xlsx`` and the towns'
    workbooks into ``folder``; their sha256 and row counts for the manifest. With ``previous``
    (``--previous``), every work-list ledger gets its ``follow_up`` status, the summary its
    ``lifecycle`` section and the workbook the sheet 上期对账 (:mod:`qjlib.report.lifecycle`;
    ``params_record`` is this run's parameter record). With ``xlsx=False`` what the workbooks
    need is returned under ``"_workbooks"`` for :func:`write_workbook` (the runner writes them
    while the notebooks run)."""
    led_dir = folder / "ledgers"
    led_dir.mkdir(parents=True, exist_ok=True)
    prepared = {name: (spec, prepare(df, spec, pii)) for name, (spec, df) in res.ledgers.items()}
    towns = prepared if pii == "masked" else {
        name: (spec, prepare(df, spec, "masked")) for name, (spec, df) in res.ledgers.items()}
    gone, record = None, None
    if previous is not None:
        texts = {n: (spec, format_for_csv(df, spec)) for n, (spec, df) in prepared.items()}
        lc = reconcile(texts, previous, as_of, params_record or {}, res.ledger_params,
                       res.summary)
        for table in (prepared, towns):
            for n in texts:
                if is_worklist(n):
                    spec, df = table[n]
                    st = lc.status.get(n)
                    table[n] = (spec, df.assign(**{FOLLOW_UP: None if st is None
                                                   else st.to_numpy()}))
        res.summary["lifecycle"] = lc.summary  # also for the notebooks (the work cache)
        res.lifecycle = {"summary": lc.summary, "gone": lc.gone,
                         "items": follow_up_items(texts, lc.status, previous)}
        gone = lc.gone.assign(verdict=lc.gone["verdict"].replace(VERDICTS))  # in Chinese
        record = previous.record(lc.refused)
    sheets = ledger_sheets({n: spec for n, (spec, _) in prepared.items()})
    ledgers: dict[str, dict[str, Any]] = {}
    for name, (spec, p) in prepared.items():
        sha = write_csv(p, led_dir / f"{name}.csv", spec)
        ledgers[name] = {"file": f"ledgers/{name}.csv", "rows": len(p), "sha256": sha,
                         "module": res.ledger_module[name], "title_zh": spec.title_zh,
                         "sheet": sheets[name], "parameters": res.ledger_params.get(name, [])}
    out: dict[str, Any] = {"ledgers": ledgers,
                           "summary.json": write_bytes(folder / "summary.json",
                                                       summary_bytes(res.summary))}
    if record is not None:
        out["previous"] = record
    books = {"prepared": prepared, "towns": towns, "sheets": sheets, "gone": gone}
    if xlsx:
        out.update(write_workbook(books, folder, as_of))
    else:
        out["_workbooks"] = books
    return out


def write_workbook(books: dict[str, Any], folder: Path, as_of: pd.Timestamp) -> dict[str, Any]:
    """``ledgers.xlsx`` and ``towns/<town>.xlsx`` (:mod:`qjlib.report.workbooks`) of
    :func:`write_outputs`' ``"_workbooks"``, created = the as-of date; their record for the
    manifest: ``ledgers.xlsx`` → its sha256, ``towns`` → town → file, rows and sha256."""
    created = dt.datetime.combine(as_of.date(), dt.time())
    sheets = books["sheets"]
    out: dict[str, Any] = {"ledgers.xlsx": write_bytes(folder / "ledgers.xlsx", xlsx_bytes(
        books["prepared"], created, sheets=sheets, gone=books["gone"]))}
    town_dir = folder / "towns"
    town_dir.mkdir(exist_ok=True)
    for old in town_dir.glob("*.xlsx"):  # a town with no rows this time has no workbook
        old.unlink()
    towns: dict[str, Any] = {}
    for town, ledgers in town_rows(books["towns"]).items():
        name = town_file_name(town)
        sha = write_bytes(town_dir / name, xlsx_bytes(ledgers, created, title=f"{town} 台账",
                                                      sheets=sheets))
        towns[town] = {"file": f"towns/{name}", "sha256": sha,
                       "rows": int(sum(len(df) for _, df in ledgers.values()))}
    out["towns"] = towns
    return out
