"""What a data-package file really holds, whatever its name says; HTML tables; Excel error cells.

Used by :mod:`qjlib.io.readers`:

- :func:`decode_bytes` / :func:`decode_text`: the text of a CSV or HTML file (BOM, strict
  UTF-8, UTF-16 told by its zero bytes, strict GB18030 — else an error naming the file).
- :func:`content_kind`: ``"ole"`` (a real ``.xls``: magic ``D0 CF 11 E0``), ``"zip"`` (``.xlsx``/
  ``.xlsm``: ``PK``), ``"html"`` (after an optional BOM and whitespace the bytes start with ``<`` —
  ``<!DOCTYPE``, ``<html``, ``<table`` …, as several government systems export a table "as .xls"),
  ``"parquet"`` (``PAR1``), ``"empty"`` (0 bytes) or ``"text"`` (anything else).
- :func:`html_tables`: every ``<table>`` of an HTML page as a grid of cell texts (standard library
  :mod:`html.parser`). Row ``i`` of a grid is the ``i``-th ``<tr>`` of its table, as a person
  counts the table's rows (title and header rows included). ``rowspan``/``colspan`` cells fill
  every cell they span with their text, as merged Excel cells do; the copies to the right of a
  ``colspan`` are marked, so that a merged header cell names one column, not two.
- :func:`xlsx_error_cells`: the error cells (``#N/A``, ``#VALUE!``, ``#DIV/0!`` …) of one worksheet
  of an ``.xlsx``, read from the sheet's XML — python-calamine reads an error cell as an empty
  string (python-calamine issue #105), which would make ``#N/A`` look blank.
"""

from __future__ import annotations

import codecs
import posixpath
import re
import zipfile
from html.parser import HTMLParser
from typing import BinaryIO
from xml.etree import ElementTree

import numpy as np

from qjlib.core.errors import InputError

_WS = b" \t\r\n\f\v"
_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def content_kind(head: bytes) -> str:
    """The kind of a file from its first bytes (see the module docstring)."""
    if not head:
        return "empty"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "ole"
    if head.startswith(b"PK"):
        return "zip"
    if head.startswith(b"PAR1"):
        return "parquet"
    h = head
    for bom in _BOMS:
        if h.startswith(bom):
            if bom != codecs.BOM_UTF8:
                enc = "utf-16-le" if bom == codecs.BOM_UTF16_LE else "utf-16-be"
                h = h[len(bom):len(bom) + (len(h) - len(bom)) // 2 * 2].decode(
                    enc, errors="replace").encode("utf-8")
            else:
                h = h[len(bom):]
            break
    return "html" if h.lstrip(_WS).startswith(b"<") else "text"


# --------------------------------------------------------------------------------- encodings


def decode_bytes(data: bytes, rel: str) -> tuple[str, str]:
    """Decode a CSV file: BOM → UTF-8 (or UTF-16); else strict UTF-8; else strict GB18030; else an
    :class:`InputError` naming the file. Returns ``(text, encoding)``."""
    text, encoding, _ = decode_text(data, rel)
    return text, encoding


def _utf16_without_bom(data: bytes) -> str | None:
    """``"utf-16-le"``/``"utf-16-be"`` when the zero bytes of the first 4 KB sit at odd (even)
    positions as in UTF-16 text of ASCII and CJK characters without a BOM, else None."""
    head = data[:4096]
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if len(head) < 4 or max(even, odd) < len(head) // 8:
        return None
    if odd > 4 * even:
        return "utf-16-le"
    if even > 4 * odd:
        return "utf-16-be"
    return None


def decode_text(data: bytes, rel: str) -> tuple[str, str, list[str]]:
    """:func:`decode_bytes`, with notes (UTF-16 without BOM; a UTF-8 file cut inside its last
    character)."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8):].decode("utf-8"), "utf-8-sig", []
        except UnicodeDecodeError as e:
            raise InputError(
                f"文件以 UTF-8 BOM 开头，但第 {e.start} 字节起不是合法的 UTF-8",
                f"file starts with a UTF-8 BOM but is not valid UTF-8 at byte {e.start}", file=rel,
            ) from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16", []
        except UnicodeDecodeError:
            raise InputError("文件以 UTF-16 BOM 开头，但内容无法解码",
                             "file starts with a UTF-16 BOM but cannot be decoded", file=rel) from None
    u16 = _utf16_without_bom(data)
    if u16 is not None:
        try:
            return data.decode(u16), u16, [f"{rel}：文件为 UTF-16 编码（无 BOM） / UTF-16 without a BOM"]
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError as e:
        if e.reason == "unexpected end of data" and e.end == len(data) and len(data) - e.start < 4:
            return data[:e.start].decode("utf-8"), "utf-8", [
                f"{rel}：文件在最后一个字符中间截断（文件可能不完整），该残缺字符已舍去"
                f" / the file ends inside a character (truncated?); that partial character dropped"]
    try:
        return data.decode("gb18030"), "gb18030", []
    except UnicodeDecodeError:
        raise InputError(
            "无法识别 CSV 文件的编码（既不是 UTF-8 也不是 GB18030/GBK），请另存为 UTF-8",
            "cannot determine the CSV encoding (neither UTF-8 nor GB18030/GBK); save it as UTF-8",
            file=rel,
        ) from None


# ------------------------------------------------------------------------------------- HTML

_CELL_WS = re.compile(r"[ \t\r\n\f]+")


class _TableParser(HTMLParser):
    """Collects ``<tr>``/``<td>``/``<th>`` of every table (nested tables are tables of their own);
    end tags that HTML lets one leave out (``</td>``, ``</tr>``) are implied."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[tuple[str, int, int]]]] = []
        self._stack: list[dict] = []  # open tables: rows, current row, current cell

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._stack.append({"rows": [], "row": None, "cell": None})
            return
        if not self._stack:
            return
        t = self._stack[-1]
        if tag == "tr":
            self._end_row(t)
            t["row"] = []
        elif tag in ("td", "th"):
            self._end_cell(t)
            if t["row"] is None:
                t["row"] = []
            a = dict(attrs)
            t["cell"] = ([], _span(a.get("rowspan")), _span(a.get("colspan")))
        elif tag == "br" and t["cell"] is not None:
            t["cell"][0].append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in ("td", "th", "tr", "table"):
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self._stack:
            return
        t = self._stack[-1]
        if tag in ("td", "th"):
            self._end_cell(t)
        elif tag == "tr":
            self._end_row(t)
        elif tag == "table":
            self._end_row(t)
            self.tables.append(self._stack.pop()["rows"])

    def handle_data(self, data: str) -> None:
        if self._stack and self._stack[-1]["cell"] is not None:
            self._stack[-1]["cell"][0].append(_CELL_WS.sub(" ", data))

    def close(self) -> None:
        super().close()
        while self._stack:
            self.handle_endtag("table")

    @staticmethod
    def _end_cell(t: dict) -> None:
        if t["cell"] is not None:
            parts, rs, cs = t["cell"]
            text = "\n".join(line.strip() for line in "".join(parts).split("\n")).strip()
            t["row"].append((text, rs, cs))
            t["cell"] = None

    def _end_row(self, t: dict) -> None:
        self._end_cell(t)
        if t["row"] is not None:
            t["rows"].append(t["row"])
            t["row"] = None


def _span(v: str | None) -> int:
    """A ``rowspan``/``colspan`` value: a whole number 1…1000, else 1 (as browsers do)."""
    m = re.match(r"\s*(\d+)", v or "")
    n = int(m.group(1)) if m else 1
    return n if 1 <= n <= 1000 else 1


def html_tables(text: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each ``<table>`` of ``text`` as ``(grid, hcopy)``: an object array of cell texts (``""``
    for none) and a bool array marking the cells filled from a ``colspan`` to their left. Tables
    come in document order of their end; tables without a row are left out."""
    p = _TableParser()
    p.feed(text)
    p.close()
    out = []
    for rows in p.tables:
        if not rows:
            continue
        filled: dict[tuple[int, int], tuple[str, bool]] = {}
        for i, row in enumerate(rows):
            j = 0
            for text_, rs, cs in row:
                while (i, j) in filled:
                    j += 1
                for di in range(rs):
                    if di and i + di >= len(rows):
                        break
                    for dj in range(cs):
                        filled[(i + di, j + dj)] = (text_, dj > 0)
                j += cs
        width = max((c for _, c in filled), default=-1) + 1
        grid = np.full((len(rows), max(width, 1)), "", dtype=object)
        hcopy = np.zeros(grid.shape, dtype=bool)
        for (i, j), (v, copy) in filled.items():
            grid[i, j], hcopy[i, j] = v, copy
        out.append((grid, hcopy))
    return out


# ------------------------------------------------------------------------------ Excel errors

_NS_R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_ERR_TAG = re.compile(rb"""<(?:\w+:)?c\b[^>]*\bt=["']e["'][^>]*>""")
_REF = re.compile(rb"""\br=["']([A-Z]{1,3})(\d+)["']""")
_VAL = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")
_CEND = re.compile(rb"</(?:\w+:)?c>")
_CHUNK = 1 << 20


def _sheet_member(zf: zipfile.ZipFile, sheet: str) -> str | None:
    """The zip member holding worksheet ``sheet`` (xl/workbook.xml and its relationships)."""
    wb = ElementTree.fromstring(zf.read("xl/workbook.xml"))
    rid = next((e.get(_NS_R) for e in wb.iter() if e.tag.endswith("}sheet")
                and e.get("name") == sheet), None)
    rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    target = next((e.get("Target") for e in rels if e.get("Id") == rid), None)
    if target is None:
        return None
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath(
        posixpath.join("xl", target))


def _has_error_cell(f: BinaryIO) -> bool:
    """Whether the stream holds ``t="e"`` (read in chunks; a hit across a chunk edge counts)."""
    tail = b""
    while chunk := f.read(_CHUNK):
        buf = tail + chunk
        if b't="e"' in buf or b"t='e'" in buf:
            return True
        tail = buf[-8:]
    return False


def xlsx_error_cells(source: str | BinaryIO, sheet: str) -> list[tuple[int, int, str]]:
    """``(row, column, text)`` of each error cell of worksheet ``sheet`` (0-based, as in the grid
    python-calamine returns from A1), e.g. ``(1, 0, "#N/A")``. An empty list when the workbook
    is not a zip of XML parts or the sheet holds no error cell."""
    try:
        with zipfile.ZipFile(source) as zf:
            member = _sheet_member(zf, sheet)
            if member is None:
                return []
            with zf.open(member) as f:
                if not _has_error_cell(f):
                    return []
            xml = zf.read(member)
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, OSError):
        return []
    out = []
    for m in _ERR_TAG.finditer(xml):
        ref = _REF.search(m.group(0))
        if ref is None or m.group(0).endswith(b"/>"):
            continue
        end = _CEND.search(xml, m.end())
        v = _VAL.search(xml, m.end(), end.start() if end else len(xml))
        col = 0
        for ch in ref.group(1):
            col = col * 26 + ch - 64
        text = v.group(1).decode("utf-8", errors="replace") if v else "#ERROR"
        out.append((int(ref.group(2)) - 1, col - 1, text or "#ERROR"))
    return out
