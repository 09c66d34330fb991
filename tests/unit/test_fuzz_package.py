"""Fuzz test of the loader (issue #15, item 4): a small valid package, one mutation at a time.

For every mutation kind (parametrised) hypothesis draws where and how (which file, row, column,
format; ``derandomize=True``, a fixed number of examples, no deadline) and the test asserts:
either ``qj check`` exits 0 and the package loads with ``read == kept + rejected`` for every file
and every data row written present in the kept rows or the rejects (never silently dropped), the
mutated values read as meant; or ``qj check`` exits 1 with ONE line on stderr naming the file
(and the column where one is to blame) — never a traceback. Mutations that a user expects to be
read (HTML saved as .xls, another separator, UTF-16, formulas, dates as text, …) must load.

"Unreadable" is simulated twice (tests run as root, so chmod does not stop them): a directory in
place of the file, and ``open`` patched to raise PermissionError for the file (what a file locked
by another program gives on Windows).
"""

from __future__ import annotations

import builtins
import contextlib
import csv
import datetime as dt
import io
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from qjlib.cli import main
from qjlib.core import schema
from qjlib.io.load import load_package
from qjlib.io.readers import alias_map, norm_header
from tests.fixtures.build import write_cells


@dataclass
class FileSpec:
    """One file of the package as rows of cells (None = empty). A cell may be ``("=f", cached)``
    (a formula with its cached value) or ``("#err",)`` (an Excel error cell)."""

    table: str
    fmt: str  # xlsx | csv | html
    rows: list[list]
    header: int  # index of the header row in rows
    sheet: str = "Sheet1"
    extra: list[tuple[str, list[list], bool]] = field(default_factory=list)  # name, rows, hidden
    first_extra: bool = False  # extra sheets before the data sheet
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)
    encoding: str = "utf-8"
    delimiter: str = ","
    raw: bytes | None = None  # bytes written instead of the rows (byte-level mutations)

    def data_rows(self) -> list[int]:
        """Row numbers (1-based, as a person sees them) of the non-blank rows below the header."""
        return [i + 1 for i, r in enumerate(self.rows) if i > self.header
                and any(c not in (None, "") for c in r)]


def base_package() -> dict[str, FileSpec]:
    hh = [["清涧县贫困户信息表"], [],
          ["户编号", "乡(镇)", "行政村", "户主姓名", "家庭人口数", "脱贫属性", "脱贫年度"],
          ["H01", "宽州镇", "东村", "张三", 3, "已脱贫", 2017],
          ["H02", "宽州镇", "东村", "李四", 2, "未脱贫", None],
          ["H03", "石咀驿镇", "西村", "王五", 4, "未脱贫", None],
          ["H04", "石咀驿镇", "西村", "赵六", 1, "已脱贫", 2018],
          ["H05", "宽州镇", "南村", "钱七", 5, "未脱贫", None]]
    mem = [["人编号", "户编号", "姓名", "与户主关系", "劳动技能", "出生日期"],
           *[[f"P{i}1", f"H0{i}", f"人{i}", "户主", "普通劳动力", f"19{50 + i}-0{i}-1{i}"]
             for i in range(1, 6)]]
    inc = [["2019年度收入"],
           ["户编号", "年度", "年度家庭人口数", "工资性收入", "生产经营性收入", "生产经营性支出",
            "财产性收入", "转移性收入", "纯收入"],
           *[[f"H0{i}", 2019, i, 3000 * i, 1200, 200, 0, 1000, 3000 * i + 2000]
             for i in range(1, 6)]]
    ben = [["项目编号", "户编号", "年度", "受益方式", "受益金额（元）", "到账日期"],
           ["PJ1", "H01", "2019", "分红", "2000", "2019-06-30"],
           ["PJ1", "H02", "2019", "分红", "500", ""],
           ["PJ2", "H03", "2019", "直补", "1300", "2019-09-01"]]
    pair = [["帮扶责任人编号", "户编号", "帮扶开始时间", "帮扶结束时间"],
            ["G1", "H01", dt.date(2018, 1, 1), None], ["G2", "H02", dt.date(2018, 3, 5), None],
            ["G2", "H03", dt.date(2017, 5, 1), dt.date(2019, 12, 31)]]
    return {
        "户信息.xlsx": FileSpec("households", "xlsx", hh, 2, sheet="贫困户"),
        "人员信息.csv": FileSpec("members", "csv", mem, 0),
        "收入信息/2019.xlsx": FileSpec("income", "xlsx", inc, 1, sheet="2019年度收入"),
        "项目受益.csv": FileSpec("benefits", "csv", ben, 0),
        "结对关系.xlsx": FileSpec("pairings", "xlsx", pair, 0),
    }


# ----------------------------------------------------------------------------------- writing


def _xlsx(path: Path, spec: FileSpec) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    wb.set_properties({"created": dt.datetime(2019, 9, 30)})
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    sheets = [(spec.sheet, spec.rows, False)]
    sheets = [*spec.extra, *sheets] if spec.first_extra else [*sheets, *spec.extra]
    for name, rows, hidden in sheets:
        ws = wb.add_worksheet(name)
        if hidden:
            ws.hide()
        write_cells(ws, rows, date_fmt)
        if name == spec.sheet:
            for r0, c0, r1, c1 in spec.merges:
                ws.merge_range(r0, c0, r1, c1, rows[r0][c0])
    wb.close()


def _text(v) -> str:
    return "" if v is None else v.isoformat() if isinstance(v, dt.date) else str(v)


def spec_bytes(spec: FileSpec) -> bytes:
    if spec.raw is not None:
        return spec.raw
    if spec.fmt == "html":
        body = "".join("<tr>" + "".join(f"<td>{_text(v)}</td>" for v in r) + "</tr>\n"
                       for r in spec.rows)
        return ('<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>\n'
                f"<table>\n{body}</table></body></html>").encode()
    buf = io.StringIO()
    csv.writer(buf, delimiter=spec.delimiter, lineterminator="\n").writerows(
        [[_text(v) for v in r] for r in spec.rows])
    return buf.getvalue().encode(spec.encoding)


def write_package(root: Path, pkg: dict[str, FileSpec]) -> None:
    for rel, spec in pkg.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if spec.fmt == "dir":
            path.mkdir()
        elif spec.fmt == "xlsx" and spec.raw is None:
            _xlsx(path, spec)
        else:
            path.write_bytes(spec_bytes(spec))


# --------------------------------------------------------------------------------- mutations


@dataclass
class Outcome:
    """What a mutation allows: ``refuse`` — may stop with one line naming ``file`` (and
    ``column``); ``expect`` — (table, file, row, column, value) that must load as given;
    ``partial`` — file whose rows may be fewer (truncated), ``intact`` the rows that must be there."""

    file: str
    refuse: bool = False
    column: str | None = None
    expect: list[tuple] = field(default_factory=list)
    partial: dict[str, list[int]] = field(default_factory=dict)
    flagged: list[tuple[str, int]] = field(default_factory=list)  # rows that need a reject/finding


def _canon(spec: FileSpec, j: int) -> str | None:
    return alias_map(spec.table).get(norm_header(spec.rows[spec.header][j]))


def _pick(data, pkg, fmts=("xlsx", "csv")) -> tuple[str, FileSpec]:
    rel = data.draw(st.sampled_from(sorted(r for r, s in pkg.items() if s.fmt in fmts)))
    return rel, pkg[rel]


def _row(data, spec: FileSpec) -> int:
    return data.draw(st.sampled_from(spec.data_rows())) - 1


def m_truncated(data, pkg):
    rel, spec = _pick(data, pkg, ("csv",) if data.draw(st.booleans()) else ("xlsx",))
    if spec.fmt == "xlsx":
        path = Path(tempfile.mkdtemp()) / "t.xlsx"
        _xlsx(path, spec)
        full = path.read_bytes()
    else:
        full = spec_bytes(spec)
    cut = data.draw(st.integers(1, len(full) - 1))
    spec.raw = full[:cut]
    lines = full.split(b"\n")
    intact, end = [], 0
    for i, line in enumerate(lines):
        end += len(line) + 1
        if end <= cut and i + 1 in spec.data_rows():
            intact.append(i + 1)
    return Outcome(rel, refuse=True, partial={rel: intact})


def m_sheet_renamed(data, pkg):
    rel, spec = _pick(data, pkg, ("xlsx",))
    spec.sheet = data.draw(st.sampled_from(["Sheet1", "数据", "导出结果(1)", "2019年 汇总"]))
    return Outcome(rel)


def m_extra_hidden_sheets(data, pkg):
    rel, spec = _pick(data, pkg, ("xlsx",))
    hdr = spec.rows[spec.header]
    spec.extra = [("填表说明", [["说明：本表由系统导出"]], False),
                  ("隐藏", [hdr, [f"X{i}" for i in range(len(hdr))]], True)]
    spec.first_extra = data.draw(st.booleans())
    return Outcome(rel)


def m_merged_header(data, pkg):
    rel, spec = _pick(data, pkg, ("xlsx",))
    j = data.draw(st.integers(0, len(spec.rows[spec.header]) - 1))
    for r in spec.rows:
        if len(r) > j:
            r.insert(j + 1, None)
    spec.merges.append((spec.header, j, spec.header, j + 1))
    if data.draw(st.booleans()):  # a group row above, its first cell merged over two columns
        spec.rows.insert(spec.header, ["基本情况", None] + [None] * (len(spec.rows[spec.header]) - 2))
        spec.merges = [(r0 + 1, c0, r1 + 1, c1) for r0, c0, r1, c1 in spec.merges]
        spec.merges.append((spec.header, 0, spec.header, 1))
        spec.header += 1
    return Outcome(rel)


_NUMERIC = ("int", "year", "money", "float", "date")


def _numeric_cols(spec: FileSpec) -> list[int]:
    return [j for j in range(len(spec.rows[spec.header])) if _canon(spec, j) and
            schema.TABLES[spec.table].column(_canon(spec, j)).kind in _NUMERIC]


def m_error_cells(data, pkg):
    rel, spec = _pick(data, pkg, ("xlsx",))
    i = _row(data, spec)
    j = data.draw(st.sampled_from(_numeric_cols(spec)))
    spec.rows[i][j] = (data.draw(st.sampled_from(["#N/A", "#VALUE!", "#DIV/0!"])),)
    return Outcome(rel, flagged=[(rel, i + 1)])


def m_formulas(data, pkg):
    rel, spec = _pick(data, pkg, ("xlsx",))
    out = Outcome(rel)
    for i in data.draw(st.lists(st.sampled_from([r - 1 for r in spec.data_rows()]), min_size=1,
                                max_size=3, unique=True)):
        for j in _numeric_cols(spec):
            v = spec.rows[i][j]
            if isinstance(v, int):
                spec.rows[i][j] = (f"={v - 1}+1", v)
                out.expect.append((spec.table, rel, i + 1, _canon(spec, j), v))
    return out


_DATE_TEXTS = ("{y}-{m:02d}-{d:02d}", "{y}/{m}/{d}", "{y}.{m}.{d}", "{y}年{m}月{d}日", "{y}{m:02d}{d:02d}")


def m_dates_as_text(data, pkg):
    rel = data.draw(st.sampled_from(["结对关系.xlsx", "人员信息.csv"]))
    spec = pkg[rel]
    j = 2 if spec.table == "pairings" else 5
    i = _row(data, spec)
    day = data.draw(st.dates(dt.date(1930, 1, 1), dt.date(2020, 12, 31)))
    form = data.draw(st.sampled_from(_DATE_TEXTS))
    spec.rows[i][j] = form.format(y=day.year, m=day.month, d=day.day)
    return Outcome(rel, expect=[(spec.table, rel, i + 1, _canon(spec, j), pd.Timestamp(day))])


_FULL = str.maketrans("0123456789,.", "０１２３４５６７８９，．")


def m_number_text(data, pkg):
    rel, spec = _pick(data, pkg, ("xlsx", "csv"))
    cols = [j for j in _numeric_cols(spec)
            if schema.TABLES[spec.table].column(_canon(spec, j)).kind in ("money", "int")]
    if not cols:
        rel, spec = "收入信息/2019.xlsx", pkg["收入信息/2019.xlsx"]
        cols = _numeric_cols(spec)[2:]
    i, j = _row(data, spec), data.draw(st.sampled_from(cols))
    kind = schema.TABLES[spec.table].column(_canon(spec, j)).kind
    v = data.draw(st.integers(1, 12) if kind == "int" else st.integers(1000, 9_999_999))
    text = f"{v:,}"
    if data.draw(st.booleans()):
        text = text.translate(_FULL)
    spec.rows[i][j] = text
    return Outcome(rel, expect=[(spec.table, rel, i + 1, _canon(spec, j), v)])


def m_blank_column(data, pkg):
    rel, spec = _pick(data, pkg)
    j = data.draw(st.integers(0, len(spec.rows[spec.header]) - 1))
    for i in range(spec.header + 1, len(spec.rows)):
        if len(spec.rows[i]) > j:
            spec.rows[i][j] = None
    return Outcome(rel, refuse=True)  # households without any usable row stop the package


def m_utf16_csv(data, pkg):
    rel, spec = _pick(data, pkg, ("csv",))
    spec.encoding = data.draw(st.sampled_from(["utf-16", "utf-16-le", "utf-16-be"]))
    spec.delimiter = data.draw(st.sampled_from([",", "\t"]))
    return Outcome(rel)


def m_delimiter(data, pkg):
    rel, spec = _pick(data, pkg, ("csv",))
    spec.delimiter = data.draw(st.sampled_from([";", "\t"]))
    return Outcome(rel)


def m_html_as_xls(data, pkg):
    rel, spec = _pick(data, pkg, ("xlsx",))
    del pkg[rel]
    rel = rel.removesuffix(".xlsx") + ".xls"
    spec.fmt = "html"
    pkg[rel] = spec
    return Outcome(rel)


def m_long_header(data, pkg):
    rel, spec = _pick(data, pkg)
    long = data.draw(st.text(st.sampled_from("户编号收入说明（元）abc 12"), min_size=200, max_size=200))
    if data.draw(st.booleans()):  # a new column with a 200-character header: ignored, noted
        for i, r in enumerate(spec.rows):
            if i >= spec.header:
                r.append(long if i == spec.header else "x")
        return Outcome(rel)
    j = data.draw(st.integers(0, len(spec.rows[spec.header]) - 1))
    col = _canon(spec, j)
    spec.rows[spec.header][j] = long
    return Outcome(rel, refuse=True, column=col)


def m_duplicate_columns(data, pkg):
    rel, spec = _pick(data, pkg)
    j = data.draw(st.integers(0, len(spec.rows[spec.header]) - 1))
    col = _canon(spec, j)
    for i, r in enumerate(spec.rows):
        if i >= spec.header and len(r) > j:
            r.append(r[j])
    return Outcome(rel, refuse=True, column=col)


def m_bom_in_middle(data, pkg):
    rel, spec = _pick(data, pkg, ("csv",))
    i = _row(data, spec)
    good = spec.rows[i][0]
    spec.rows[i][0] = "\ufeff" + good
    return Outcome(rel, expect=[(spec.table, rel, i + 1, _canon(spec, 0), good)])


def m_empty_file(data, pkg):
    rel, spec = _pick(data, pkg)
    spec.raw = b""
    return Outcome(rel, refuse=True)


def m_directory(data, pkg):
    rel, spec = _pick(data, pkg)
    spec.fmt = "dir"
    return Outcome(rel, refuse=True, partial={rel: []})


def m_locked(data, pkg):
    rel, _ = _pick(data, pkg)
    return Outcome(rel, refuse=True, column="locked")


MUTATIONS = {
    "truncated": m_truncated, "sheet_renamed": m_sheet_renamed,
    "extra_hidden_sheets": m_extra_hidden_sheets, "merged_header": m_merged_header,
    "error_cells": m_error_cells, "formulas_cached": m_formulas, "dates_as_text": m_dates_as_text,
    "thousands_fullwidth": m_number_text, "blank_column": m_blank_column,
    "utf16_csv": m_utf16_csv, "other_delimiter": m_delimiter, "html_as_xls": m_html_as_xls,
    "header_200_chars": m_long_header, "duplicate_columns": m_duplicate_columns,
    "bom_in_middle": m_bom_in_middle, "empty_file": m_empty_file,
    "directory_in_place": m_directory, "locked_by_permission": m_locked,
}


@contextlib.contextmanager
def locked(path: Path):
    """``open`` (builtins and io, which pathlib uses) raises PermissionError for ``path``."""
    real_open, real_io_open = builtins.open, io.open
    target = str(path)

    def fake(f, *a, _real=real_open, **k):
        if str(f) == target:
            raise PermissionError(13, "Permission denied", target)
        return _real(f, *a, **k)

    builtins.open = fake
    io.open = lambda f, *a, **k: fake(f, *a, _real=real_io_open, **k)
    try:
        yield
    finally:
        builtins.open, io.open = real_open, real_io_open


# -------------------------------------------------------------------------------- the test


def _check(root: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(["check", str(root)])
    return rc, out.getvalue(), err.getvalue()


def _accounted(root: Path, pkg: dict[str, FileSpec], o: Outcome) -> None:
    p = load_package(root)
    acc = p.accounting
    assert (acc["read"] == acc["kept"] + acc["rejected"]).all(), acc
    for rel, spec in pkg.items():
        if spec.fmt == "dir":
            assert any(Path(rel).name in n for n in p.notes), p.notes
            continue
        kept = p[spec.table].loc[p[spec.table]["_file"] == rel, "_row"].tolist()
        rej = p.rejects.loc[(p.rejects["file"] == rel), "row"].tolist()
        assert len(set(kept)) == len(kept) and not set(kept) & set(rej), rel
        got = sorted(kept + rej)
        if rel in o.partial:
            assert set(o.partial[rel]) <= set(got) <= set(spec.data_rows()), (rel, got)
        else:
            assert got == spec.data_rows(), (rel, got, spec.data_rows())
        row = acc.loc[acc["file"] == rel]
        assert int(row["read"].sum()) == len(got), (rel, row)
    for table, rel, r, col, value in o.expect:
        df = p[table]
        col = {"net_income": "net_income_reported"}.get(col, col) if table == "income" else col
        hit = df.loc[(df["_file"] == rel) & (df["_row"] == r), col].tolist()
        assert hit == [value], (rel, r, col, hit, value)
    for rel, r in o.flagged:
        issues = pd.concat([p.rejects[["file", "row"]], p.findings[["file", "row"]]])
        assert ((issues["file"] == rel) & (issues["row"] == r)).any(), (rel, r)


@pytest.mark.parametrize("kind", list(MUTATIONS))
@settings(max_examples=5, derandomize=True, deadline=None, database=None,
          phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure stays fast
          suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_mutated_package_loads_accounted_or_stops_with_one_line(kind, data):
    pkg = base_package()
    o = MUTATIONS[kind](data, pkg)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "pkg"
        write_package(root, pkg)
        ctx = locked(root / o.file) if kind == "locked_by_permission" else contextlib.nullcontext()
        with ctx:
            rc, out, err = _check(root)
        assert "Traceback" not in err + out
        if rc == 0:
            assert not err
            _accounted(root, pkg, o)
            return
        assert rc == 1 and o.refuse, (kind, err)
        assert err.count("\n") == 1 and err.startswith("qj check: "), err
        name = o.file if kind != "directory_in_place" else "户信息"
        assert name in err, (o.file, err)
        if o.column and o.column != "locked":
            assert o.column in err, (o.column, err)
