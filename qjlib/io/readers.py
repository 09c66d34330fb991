"""Reading one data-package file into raw cells: Excel (``.xlsx``/``.xlsm``/``.xls``), CSV and
Parquet; finding the header row; matching headers to the canonical columns of :mod:`qjlib.schema`.

What this module does (and :mod:`qjlib.load` relies on):

- **What a file holds** is sniffed from its first bytes, not its name (:mod:`qjlib.io.sniff`): an
  HTML table saved as ``.xls`` (as several government systems export) is read as an HTML table,
  an ``.xlsx`` named ``.xls`` (or the reverse) as what it is — each with a note saying so. An
  empty (0-byte) file, or one that cannot be opened (permissions, locked), is an error naming it.
- **Excel** is read with python-calamine, values raw (an ID number typed as text stays text; one
  that Excel stored as a number arrives as a float — the loader reports it, never repairs it). The
  first non-empty visible worksheet is read; its name is recorded. Merged cells take the value of
  their top-left cell (vertically merged 乡(镇) or 户编号 cells apply to every row they span); in
  the header row the copies to the right of a merged cell are blank (one header, one column).
  Error cells (``#N/A``, ``#VALUE!``, ``#DIV/0!`` …) of an ``.xlsx`` arrive as their text, so the
  loader rejects or reports them instead of taking them as blank (calamine reads them as ``""``;
  in a legacy ``.xls`` they still arrive blank).
- **HTML tables**: the first ``<table>`` whose header names the required columns; cells as text;
  ``rowspan``/``colspan`` fill like merged cells; row numbers count the table's ``<tr>`` rows.
- **CSV** encoding: a UTF-8 BOM → UTF-8; else strict UTF-8; else strict GB18030 (covers GBK and
  GB2312); else an :class:`~qjlib.errors.InputError` naming the file — never a silent guess. (A
  UTF-16 BOM, as Excel's "Unicode text" export writes, is honoured too, and UTF-16 without a BOM
  is told by its zero bytes; a UTF-8 file cut inside its last character loses that character,
  with a note.) A BOM character inside the text (files concatenated) is removed, with a note.
  Separator (comma, tab or semicolon): the one under which a line of the first
  :data:`HEADER_SCAN_ROWS` names the most required columns (so ``12,345`` in a ``;`` file or
  commas in Chinese text do not decide it); on a tie comma, or tab when the first lines hold more
  tabs than commas. A separator other than the comma is said in a note.
- **Parquet** columns are the header; values are taken as stored.
- **Header row**: the first row within the first :data:`HEADER_SCAN_ROWS` whose normalised cells
  name every required column of the table; title and blank lines above it are skipped. When no row
  qualifies, the error names the required columns missing from the best candidate row.
- **Header normalisation** (:func:`norm_header`): NFKC (full-width brackets and digits become
  half-width), all whitespace removed, ASCII case-folded; then matched against the normalised
  aliases of the table's columns (and the canonical English name). A bracketed unit after a name
  (``投资金额（万元）``) is split off: the base name is matched and the unit's factor from
  ``schema.UNIT_FACTORS`` is applied to money columns. Unmatched headers are dropped with a note;
  two headers for the same column are an error.
- **Row numbers** are those a person sees: Excel rows are 1-based and count title and header lines;
  CSV rows are the file's line numbers (header = its line); Parquet rows count the header as row 1.
- **Blank rows** (every cell empty) are skipped and not counted as read.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

from qjlib.core import schema
from qjlib.core.errors import InputError
from qjlib.io import sniff
from qjlib.io.sniff import decode_bytes, decode_text  # noqa: F401 - decode_bytes re-exported

HEADER_SCAN_ROWS = 30
LEAD_CELLS = 4  # totals markers (合计/总计) are looked for in this many leading cells of a row
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
SUFFIXES = (*EXCEL_SUFFIXES, ".csv", ".parquet")
# Kinds whose values a header unit (万元 …) scales.
SCALED_KINDS = ("money",)

_WS_RE = re.compile(r"\s+")
_UNIT_RE = re.compile(r"^(.+?)\(([^()]+)\)$")


def norm_header(text: object) -> str:
    """A header cell as compared with the aliases: NFKC, no whitespace at all, ASCII case-folded.

    ``" 投资金额（万元） "`` → ``"投资金额(万元)"``; ``"HH_ID"`` → ``"hh_id"``.
    """
    if text is None:
        return ""
    t = unicodedata.normalize("NFKC", str(text))
    return _WS_RE.sub("", t).lower()


def split_unit(header: str) -> tuple[str, str | None]:
    """``"投资金额(万元)"`` → ``("投资金额", "万元")``; a header without brackets → ``(header, None)``."""
    m = _UNIT_RE.match(header)
    if not m:
        return header, None
    return m.group(1), m.group(2)


_UNITS = {norm_header(k): v for k, v in schema.UNIT_FACTORS.items()}


@cache
def alias_map(table_name: str) -> dict[str, str]:
    """Normalised header → canonical column of ``table_name`` (aliases, Chinese label, English name;
    a known unit in an alias is split off so that any unit can follow the base name)."""
    table = schema.TABLES[table_name]
    out: dict[str, str] = {}
    for col in table.columns:
        for alias in (col.name, col.zh, *col.aliases):
            a = norm_header(alias)
            base, unit = split_unit(a)
            if unit is not None and unit in _UNITS:
                a = base
            prev = out.setdefault(a, col.name)
            if prev != col.name:  # pragma: no cover - a schema error, caught by the tests
                raise ValueError(f"alias {alias!r} of {table_name} names {prev} and {col.name}")
    return out


@dataclass(frozen=True)
class HeaderMatch:
    """Which cell of the header row is which canonical column."""

    columns: dict[str, int]  # canonical name -> column index in the sheet
    headers: dict[str, str]  # canonical name -> header text as written
    factors: dict[str, float]  # canonical name -> unit factor (1.0 without unit)
    unmatched: tuple[str, ...]  # header texts that name no column of the table
    doubles: dict[str, tuple[str, ...]]  # canonical name -> the 2+ headers that name it
    unknown_units: tuple[str, ...]  # money headers whose unit is not in schema.UNIT_FACTORS


def match_header(cells: list, table: schema.Table) -> HeaderMatch:
    """Match one row of header cells against ``table``'s columns (see :func:`norm_header`)."""
    amap = alias_map(table.name)
    columns: dict[str, int] = {}
    headers: dict[str, str] = {}
    factors: dict[str, float] = {}
    unmatched: list[str] = []
    doubles: dict[str, list[str]] = {}
    unknown: list[str] = []
    for j, cell in enumerate(cells):
        if cell is None or cell == "":
            continue
        h = norm_header(cell)
        if not h:
            continue
        name, factor = amap.get(h), 1.0
        if name is None:
            base, unit = split_unit(h)
            if unit is not None and base in amap:
                kind = table.column(amap[base]).kind
                if unit in _UNITS:
                    name = amap[base]
                    factor = _UNITS[unit] if kind in SCALED_KINDS else 1.0
                elif kind not in SCALED_KINDS:  # 家庭人口数(人): a unit that scales nothing
                    name = amap[base]
                else:
                    unknown.append(str(cell).strip())
        if name is None:
            unmatched.append(str(cell).strip())
            continue
        if name in columns:
            doubles.setdefault(name, [headers[name]]).append(str(cell).strip())
            continue
        columns[name], headers[name], factors[name] = j, str(cell).strip(), factor
    return HeaderMatch(
        columns, headers, factors, tuple(unmatched),
        {k: tuple(v) for k, v in doubles.items()}, tuple(unknown),
    )


@dataclass
class RawTable:
    """The raw cells of one file (or sheet) of a table, by canonical column, before conversion."""

    file: str  # relative to the package root, with forward slashes
    sheet: str | None  # Excel worksheet name; None for CSV and Parquet
    header_row: int  # 1-based row number of the header line
    rows: np.ndarray  # int64: the row number (as a person sees it) of each data row read
    cells: dict[str, np.ndarray]  # canonical column -> object array of raw cell values
    headers: dict[str, str]  # canonical column -> header text as written in the file
    factors: dict[str, float]  # canonical column -> unit factor (万元 → 10000.0)
    lead: np.ndarray  # object (n, ≤LEAD_CELLS): leading raw cells of each row (totals lines)
    header_cells: dict[str, object] = field(default_factory=dict)  # canonical -> header cell
    blank_rows: int = 0
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        """The number of data rows (below the header)."""
        return len(self.rows)


def read_table(path: Path, rel: str, table: schema.Table) -> RawTable:
    """Read one file of ``table``: find its header row, match the columns, keep the data rows.
    What the file holds is sniffed from its first bytes (:func:`qjlib.io.sniff.content_kind`)."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(
            f"不支持的文件类型 {suffix}（可用 {'、'.join(SUFFIXES)}）",
            f"unsupported file type {suffix} (use {', '.join(SUFFIXES)})", file=rel,
        )
    kind = sniff.content_kind(_head(path, rel))
    if kind == "empty":
        raise InputError("文件为空（0 字节）", "the file is empty (0 bytes)", file=rel)
    if suffix == ".parquet":
        return _read_parquet(path, rel, table)
    if kind == "html" and suffix != ".csv":
        return _read_html(path, rel, table)
    if suffix in EXCEL_SUFFIXES or kind in ("ole", "zip"):
        return _read_workbook(path, rel, table, kind)
    grid, rownums, encoding, notes = _read_csv(path, rel, table)
    return _from_grid(grid, rownums, rel, None, table, encoding, notes)


def _unreadable_file(e: OSError, rel: str) -> InputError:
    if isinstance(e, PermissionError):
        return InputError("无法读取文件：没有读取权限，或文件正被其他程序（如 Excel）占用",
                          "cannot read the file: permission denied, or it is locked by another "
                          "program (e.g. Excel)", file=rel)
    if isinstance(e, IsADirectoryError):
        return InputError("这是一个文件夹，不是数据文件", "this is a folder, not a data file", file=rel)
    return InputError("无法读取文件", f"cannot read the file: {e.strerror or e}", file=rel)


def _head(path: Path, rel: str, n: int = 1024) -> bytes:
    """The first ``n`` bytes of the file (an unreadable file is an :class:`InputError`)."""
    try:
        with open(path, "rb") as f:
            return f.read(n)
    except OSError as e:
        raise _unreadable_file(e, rel) from None


def _read_bytes(path: Path, rel: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise _unreadable_file(e, rel) from None


def _drop_inner_boms(text: str, rel: str, notes: list[str]) -> str:
    """Remove U+FEFF (a byte-order mark) from inside decoded text — files joined end to end
    carry the second one's BOM mid-text, where it would stick to a cell — with a note."""
    n = text.count("\ufeff")
    if n:
        text = text.replace("\ufeff", "")
        notes.append(f"{rel}：文件中间有 {n} 个 BOM 字符（多个文件拼接所致），已删除"
                     f" / {n} byte-order mark(s) inside the file removed")
    return text


# --------------------------------------------------------------------------------------- Excel


class NoHeaderError(InputError):
    """No row of a sheet names all the required columns of its table."""


def _read_workbook(path: Path, rel: str, table: schema.Table, kind: str = "") -> RawTable:
    """The first non-empty worksheet (visible ones first) whose header names the table's required
    columns; when none does, the error of the first non-empty sheet."""
    first_error: NoHeaderError | None = None
    names: list[str] = []
    for name, grid, hcopy, all_names, notes in _excel_sheets(path, rel, kind):
        names = all_names
        try:
            raw = _from_grid(grid, np.arange(1, grid.shape[0] + 1, dtype=np.int64), rel, name,
                             table, None, notes, hcopy=hcopy)
        except NoHeaderError as e:
            first_error = first_error or e
            continue
        others = [n for n in names if n != name]
        if others:
            raw.notes.append(
                f"{rel}：读取了工作表「{name}」，未读取 {'、'.join(others)}"
                f" / sheet {name!r} read; other sheets ignored"
            )
        return raw
    if first_error is not None:
        raise first_error
    raise InputError("Excel 文件中没有数据（所有工作表均为空）",
                     "the Excel file holds no data (every sheet is empty)", file=rel)


def _grid(rows: list[list]) -> np.ndarray:
    """Rows of cells as a 2-D object array, short rows padded with ``""``."""
    grid = np.array(rows, dtype=object)
    if grid.ndim != 2 or not grid.size:  # ragged rows (never from calamine, but be safe)
        width = max((len(r) for r in rows), default=0)
        grid = np.full((len(rows), width), "", dtype=object)
        for i, r in enumerate(rows):
            grid[i, : len(r)] = r
    return grid


def _open_workbook(path: Path, rel: str, kind: str):
    """A calamine workbook. calamine picks the format by the file's suffix: a workbook whose
    content (``kind``) is not what its suffix says is opened from its bytes (and noted)."""
    from python_calamine import CalamineWorkbook

    suffix = path.suffix.lower()
    named_zip = suffix in (".xlsx", ".xlsm")
    notes: list[str] = []
    if kind in ("ole", "zip") and (kind == "zip") != named_zip:
        real = ".xlsx" if kind == "zip" else ".xls"
        notes.append(f"{rel}：文件内容是 {real} 格式（扩展名为 {suffix}），已按 {real} 读取"
                     f" / the file holds {real} content under a {suffix} name; read as {real}")
        with open(path, "rb") as f:
            return CalamineWorkbook.from_filelike(f), notes
    return CalamineWorkbook.from_path(str(path)), notes


def _excel_sheets(path: Path, rel: str, kind: str = ""):
    """Yield ``(sheet name, grid of raw cells, horizontal merge copies, all sheet names, notes)``
    for each non-empty worksheet, merged cells filled with their top-left value, the error cells
    of an ``.xlsx`` as their text. Sheets are read only when asked for."""
    from python_calamine import SheetTypeEnum, SheetVisibleEnum

    def unreadable(e: Exception) -> InputError:
        return InputError(
            "无法读取 Excel 文件（文件损坏、加密或并非 Excel 格式）",
            f"cannot read the Excel file (corrupt, encrypted or not Excel): {type(e).__name__}: {e}",
            file=rel,
        )

    try:
        wb, notes = _open_workbook(path, rel, kind)
        metas = list(wb.sheets_metadata)
    except OSError as e:
        raise _unreadable_file(e, rel) from None
    except Exception as e:  # calamine raises CalamineError, ZipError, XmlError …
        raise unreadable(e) from None
    sheets = [m for m in metas if m.typ == SheetTypeEnum.WorkSheet]
    names = [m.name for m in sheets if m.visible == SheetVisibleEnum.Visible]
    names += [m.name for m in sheets if m.visible != SheetVisibleEnum.Visible]
    for name in names:
        # the error-cell scan (unzip + byte search, GIL released) runs beside calamine's parse,
        # on a thread of its own (no pool kept across calls: a forked worker inherits none)
        with ThreadPoolExecutor(max_workers=1) as pool:
            scan = pool.submit(sniff.xlsx_error_cells, str(path), name) if kind == "zip" else None
            try:
                sheet = wb.get_sheet_by_name(name)
                rows = sheet.to_python(skip_empty_area=False)
                merged = sheet.merged_cell_ranges or []
            except Exception as e:
                raise unreadable(e) from None
            errors = scan.result() if scan is not None else []
        if not errors and not any(any(c != "" for c in r) for r in rows):
            continue
        grid = _grid(rows)
        if errors:
            height = max(grid.shape[0], *(r + 1 for r, _, _ in errors))
            width = max(grid.shape[1], *(c + 1 for _, c, _ in errors))
            if (height, width) != grid.shape:
                grid = np.pad(grid, ((0, height - grid.shape[0]), (0, width - grid.shape[1])),
                              constant_values="")
            for r, c, text in errors:
                grid[r, c] = text
        hcopy = np.zeros(grid.shape, dtype=bool)
        for (r0, c0), (r1, c1) in merged:
            if r0 < grid.shape[0] and c0 < grid.shape[1]:
                grid[r0:r1 + 1, c0:c1 + 1] = grid[r0, c0]
                hcopy[r0:r1 + 1, c0 + 1:c1 + 1] = True
        sheet_notes = list(notes)
        if errors:
            shown = "、".join(sorted({t for _, _, t in errors}))
            sheet_notes.append(f"{rel}：工作表「{name}」有 {len(errors)} 个错误单元格（{shown}），按原文读取"
                               f" / {len(errors)} error cell(s) in sheet {name!r} read as their text")
        yield name, grid, hcopy, names, sheet_notes


# ------------------------------------------------------------------------------------ HTML


def _read_html(path: Path, rel: str, table: schema.Table) -> RawTable:
    """An HTML page (saved as ``.xls``): the first ``<table>`` whose header names the required
    columns; row numbers count the ``<tr>`` rows of that table."""
    notes: list[str] = []
    text, encoding, dec_notes = decode_text(_read_bytes(path, rel), rel)
    text = _drop_inner_boms(text, rel, dec_notes)
    tables = [t for t in sniff.html_tables(text) if (t[0] != "").any()]
    if not tables:
        raise InputError("文件是网页（HTML）格式，但其中没有表格",
                         "the file is an HTML page without a table", file=rel)
    first_error: NoHeaderError | None = None
    for k, (grid, hcopy) in enumerate(tables, 1):
        which = f"第 {k} 个表格（共 {len(tables)} 个）" if len(tables) > 1 else "表格"
        which_en = f"table {k} of {len(tables)}" if len(tables) > 1 else "the table"
        notes = [f"{rel}：文件内容是网页（HTML）表格，并非 Excel 文件，已读取其{which}；行号为表格的行序"
                 f" / the file is an HTML table under an Excel name: {which_en} read, rows "
                 f"numbered as the table's rows", *dec_notes]
        try:
            return _from_grid(grid, np.arange(1, grid.shape[0] + 1, dtype=np.int64), rel, None,
                              table, encoding, notes, hcopy=hcopy)
        except NoHeaderError as e:
            first_error = first_error or e
    raise first_error


# ----------------------------------------------------------------------------------------- CSV


_DELIMS = (",", "\t", ";")
_DELIM_NAMES = {"\t": ("制表符", "tab"), ";": ("分号 ;", "semicolon ;")}


def sniff_delimiter(text: str, table: schema.Table) -> str:
    """The separator of a CSV text among comma, tab and semicolon: the one under which a line of
    the first :data:`HEADER_SCAN_ROWS` names the most required columns of ``table`` (then the most
    columns); on a tie comma, or tab when those lines hold more tabs than commas. Deciding by the
    header, not by counting, keeps ``12,345`` in a ``;`` file or commas in text from fooling it."""
    head = text[:20000].splitlines()[:HEADER_SCAN_ROWS]
    legacy = "\t" if sum(x.count("\t") for x in head) > sum(x.count(",") for x in head) else ","
    required = table.required
    score: dict[str, tuple[int, int]] = {}
    for d in _DELIMS:
        best = (0, 0)
        try:
            for cells in csv.reader(head, delimiter=d):
                m = match_header(cells, table)
                best = max(best, (sum(1 for r in required if r in m.columns), len(m.columns)))
        except csv.Error:
            pass
        score[d] = best
    return max(_DELIMS, key=lambda d: (score[d], d == legacy))


def _read_csv(path: Path, rel: str, table: schema.Table
              ) -> tuple[np.ndarray, np.ndarray, str, list[str]]:
    text, encoding, notes = decode_text(_read_bytes(path, rel), rel)
    text = _drop_inner_boms(text, rel, notes)
    delim = sniff_delimiter(text, table)
    if delim in _DELIM_NAMES:
        zh, en = _DELIM_NAMES[delim]
        notes.append(f"{rel}：分隔符识别为{zh} / separator sniffed: {en}")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    rows: list[list[str]] = []
    starts: list[int] = []
    prev = 0
    try:
        if '"' not in text:  # no quoted field can span lines: record i is line i
            rows = list(reader)
            starts = range(1, len(rows) + 1)
        else:
            for rec in reader:
                starts.append(prev + 1)
                prev = reader.line_num
                rows.append(rec)
    except csv.Error as e:
        line = prev + 1 if starts else reader.line_num
        raise InputError(
            f"CSV 文件第 {line} 行格式错误", f"malformed CSV at line {line}: {e}", file=rel
        ) from None
    if not any(any(c.strip() for c in r) for r in rows):
        raise InputError("文件为空", "the file is empty", file=rel)
    return _grid(rows), np.asarray(starts, dtype=np.int64), encoding, notes


# ------------------------------------------------------------------------------------- Parquet


def _read_parquet(path: Path, rel: str, table: schema.Table) -> RawTable:
    import pandas as pd

    try:
        df = pd.read_parquet(path)
    except Exception as e:
        raise InputError(
            "无法读取 Parquet 文件（文件损坏或格式不符）",
            f"cannot read the Parquet file: {type(e).__name__}: {e}", file=rel,
        ) from None
    header = [str(c) for c in df.columns]
    grid = np.empty((len(df) + 1, len(header)), dtype=object)
    grid[0, :] = header
    for j, c in enumerate(df.columns):
        s = df[c]
        grid[1:, j] = s.astype(object).where(s.notna(), "").to_numpy(dtype=object)
    return _from_grid(grid, np.arange(1, len(df) + 2, dtype=np.int64), rel, None, table, None, [],
                      scan=1)


# ------------------------------------------------------------------------------- header + rows


def _cells_text(cells) -> list[str]:
    return [c if isinstance(c, str) else ("" if c is None else str(c)) for c in cells]


def _blank_rows(data: np.ndarray) -> np.ndarray:
    """Rows whose every cell is empty (checked column by column on the rows still blank)."""
    todo = np.arange(data.shape[0])
    for j in range(data.shape[1]):
        if not len(todo):
            break
        todo = todo[data[todo, j] == ""]
    out = np.zeros(data.shape[0], dtype=bool)
    out[todo] = True
    return out


def _from_grid(
    grid: np.ndarray, rownums: np.ndarray, rel: str, sheet: str | None, table: schema.Table,
    encoding: str | None, notes: list[str], scan: int = HEADER_SCAN_ROWS,
    hcopy: np.ndarray | None = None,
) -> RawTable:
    """Find the header row among the first ``scan`` rows, match it, keep the rows below it.
    ``hcopy``: cells that copy a merged cell to their left, blank in a header (one column)."""
    required = table.required
    best: tuple[int, int, HeaderMatch] | None = None
    found: tuple[int, HeaderMatch] | None = None
    for i in range(min(scan, grid.shape[0])):
        cells = _cells_text(grid[i])
        if hcopy is not None and hcopy[i].any():
            cells = ["" if cp else c for c, cp in zip(cells, hcopy[i], strict=True)]
        if not any(cells):
            continue
        m = match_header(cells, table)
        n_ok = sum(1 for r in required if r in m.columns)
        if n_ok == len(required):
            found = (i, m)
            break
        if best is None or n_ok > best[1]:
            best = (i, n_ok, m)
    if found is None:
        if best is None:
            raise NoHeaderError("文件中没有表头行", "no header row found in the file", file=rel,
                                sheet=sheet)
        i, _, m = best
        missing = [c for c in required if c not in m.columns]
        labels = "、".join(f"{table.column(c).zh}（{c}）" for c in missing)
        hint = ""
        if m.unknown_units:
            hint = f"；单位无法识别的列：{'、'.join(m.unknown_units)}"
        raise NoHeaderError(
            f"缺少必需列：{labels}（已检查前 {scan} 行，最接近的表头在第 {int(rownums[i])} 行{hint}）",
            f"missing required column(s): {', '.join(missing)} (best header candidate: row "
            f"{int(rownums[i])}" + (f"; unknown units: {', '.join(m.unknown_units)}" if m.unknown_units
                                    else "") + ")",
            file=rel, sheet=sheet, row=int(rownums[i]), column=", ".join(missing),
        )
    i, m = found
    if m.doubles:
        name, heads = sorted(m.doubles.items())[0]
        raise InputError(
            f"多个列都对应「{table.column(name).zh}」（{name}）：{'、'.join(heads)}",
            f"several headers name column {name}: {', '.join(heads)}",
            file=rel, sheet=sheet, row=int(rownums[i]), column=name,
        )
    if m.unmatched:
        notes.append(
            f"{rel}：未识别的列已忽略：{'、'.join(m.unmatched)} / unrecognised columns ignored"
        )
    if m.unknown_units:
        notes.append(
            f"{rel}：列的单位无法识别，已忽略：{'、'.join(m.unknown_units)}"
            f" / columns with an unknown unit ignored"
        )
    data = grid[i + 1:]
    rows = rownums[i + 1:]
    blank = _blank_rows(data)
    n_blank = int(blank.sum())
    if n_blank:
        data, rows = data[~blank], rows[~blank]
    cells = {name: data[:, j] for name, j in m.columns.items()}
    return RawTable(
        file=rel, sheet=sheet, header_row=int(rownums[i]), rows=rows, cells=cells,
        headers=m.headers, factors=m.factors, lead=data[:, :LEAD_CELLS], blank_rows=n_blank,
        encoding=encoding, notes=notes,
        header_cells={name: grid[i, j] for name, j in m.columns.items()},
    )
