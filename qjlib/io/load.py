"""Loading a data package: files → canonical tables, with every row accounted for.

``load_package(path)`` reads every table of :data:`qjlib.core.schema.TABLES` from the folder
``path`` (``shared/contract/inputs.md``), converts the cells to the canonical dtypes of the schema,
checks them, adds the derived columns of :mod:`qjlib.core.definitions`, and returns a
:class:`~qjlib.io.package.Package`. The steps, each in its module:

1. discovery (here): which files hold which table;
2. reading (:mod:`qjlib.io.readers`): each file's header line, its columns and raw cells;
3. conversion (:mod:`qjlib.io.convert`): raw cells → the schema's dtypes;
4. checks (:mod:`qjlib.io.checks`): each row's problems, by a stable code
   (:data:`qjlib.io.issues.KINDS`);
5. the ledgers (:mod:`qjlib.io.issues`): rejects, findings, accounting;
6. the derived columns (here), the cache (:mod:`qjlib.io.cache`).

Files. A table is one file named by a Chinese or English stem (``户信息.xlsx`` or
``households.csv``; ``.xlsx``/``.xlsm``/``.xls``/``.csv``/``.parquet``) or a folder of such files
(``收入信息/2016.xlsx …``), read in name order and stacked. Two sources for one table are an error;
files that name no table are ignored with a note.

Accounting (``pkg.accounting``: table, file, sheet, read, kept, rejected). ``read`` counts the
data rows below the header that hold at least one non-empty cell — fully blank rows are skipped
and **not** counted — and always ``read == kept + rejected``. A row is **rejected** (ledger
``pkg.rejects``, one line per row, with its first problem) when it cannot serve its table's
purpose: a totals line (合计/总计/小计), the header line repeated (paged exports), a blank required
cell, an unparseable required number, date or year, a household size below 1, or a repeated key
(the first occurrence is kept, later ones rejected, saying whether their content differs). Every
other problem keeps the row and is a **finding** (``pkg.findings``), including the cross-table
ones (a member, income, benefit, pairing, visit or review row whose household, project or helper
is not in its parent table). ``row`` is the row a person sees in Excel (title and header lines
counted) or the CSV line. A ``（万元）`` money header multiplies its column by 10,000 (yuan).
"""

from __future__ import annotations

import datetime as _dt
import functools
import gc
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from qjlib.core import definitions, schema
from qjlib.core.errors import InputError
from qjlib.core.files import sha256_file
from qjlib.io import cache as _cache
from qjlib.io import checks, convert, readers
from qjlib.io.issues import Issues, Loaded, ledgers
from qjlib.io.package import Package

log = logging.getLogger(__name__)

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

_RENAMED = {"net_income": "net_income_reported", "net_per_capita": "net_per_capita_reported"}


# ------------------------------------------------------------------------------- the package


@functools.cache
def _default_tolerance() -> float:
    """``data.total_tolerance`` of ``params/standards.yaml`` (yuan)."""
    from qjlib.core.params import load_standards

    return float(load_standards()["data.total_tolerance"]["value"])


def _input_record(path: Path, rel: str) -> dict:
    """The file's record in ``pkg.inputs`` (path, sha256, bytes); a file that cannot be read
    (locked by another program, no permission) is an :class:`InputError` naming it."""
    try:
        return {"path": rel, "sha256": sha256_file(path), "bytes": path.stat().st_size}
    except OSError as e:
        raise InputError(f"无法读取文件（被其他程序占用或没有权限）：{e.strerror or e}",
                         f"cannot read the file (locked by another program or no permission): "
                         f"{e.strerror or e}", file=rel) from e


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

    Raises :class:`~qjlib.core.errors.InputError` (file, sheet, row, column; Chinese and English) when a
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
    inputs = sorted((_input_record(p, rel) for files in sources.values() for p, rel in files),
                    key=lambda d: d["path"])
    target = None
    if cache:
        target = _cache.cache_path(inputs, tol, as_of)
        pkg = _cache.read_cache(target, root)
        if pkg is not None:
            return pkg
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
        _cache.write_cache(pkg, target)
    return pkg


def load_for(path: str | Path, params: Any, *, cache: bool = True) -> Package:
    """:func:`load_package` with the run's own checks: the total tolerance of the parameters
    (``data.total_tolerance``) and their as-of date."""
    return load_package(path, cache=cache, total_tolerance=params.get("data.total_tolerance"),
                        as_of=params.asof)


def _load(root: Path, sources: dict[str, list[tuple[Path, str]]], notes: list[str],
          inputs: list[dict], tol: float, as_of: _dt.date) -> Package:
    """Every table of ``sources`` read, checked and derived; the package with its ledgers."""
    t0 = time.perf_counter()
    loaded: dict[str, Loaded] = {}
    for name in schema.TABLES:
        if name in sources:
            loaded[name] = _load_table(schema.TABLES[name], sources[name], tol, notes, as_of)
        else:
            zh, en = TABLE_USES.get(name, schema.TABLES[name].uses)
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
    checks.cross_checks(loaded, tables)
    checks.duplicate_id_numbers(loaded, tables)
    rejects, findings, accounting = ledgers(loaded, tables)
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


# ------------------------------------------------------------------------------- one table


def _load_table(table: schema.Table, files: list[tuple[Path, str]], tol: float,
                notes: list[str], as_of: _dt.date) -> Loaded:
    """One table: its files read and converted in order, stacked, checked; repeated keys
    rejected; the rows kept."""
    issues = Issues()
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
    loaded = Loaded(table, full, issues, {r.file: r.sheet for r in reads}, reads)
    checks.duplicates(loaded)
    rejected = issues.rejected_pos()
    if len(rejected):
        keep = np.ones(len(full), dtype=bool)
        keep[rejected] = False
        loaded.kept = full[keep]
    else:
        loaded.kept = full
    return loaded


def _convert_file(raw: readers.RawTable, table: schema.Table, offset: int, issues: Issues,
                  tol: float, as_of: _dt.date) -> pd.DataFrame:
    """The canonical columns of one file (index = position in the table, from ``offset``), with
    ``_file``/``_row`` provenance; its problems added to ``issues`` (:mod:`qjlib.io.checks`)."""
    n = len(raw)
    cols: dict[str, Any] = {}
    first_issue = len(issues.parts)
    for col in table.columns:
        if col.name not in raw.cells:
            cols[col.name] = convert.empty(col.kind, n)
            continue
        c = convert.convert(col.kind, schema.value_list_key(table.name, col.name), raw.cells[col.name])
        factor = raw.factors.get(col.name, 1.0)
        if factor != 1.0:
            c.arr = c.arr * factor
        checks.cell_problems(issues, offset, raw, table, col, c, cols)
        cols[col.name] = c.arr
    df = pd.DataFrame(cols)
    df.index = pd.RangeIndex(offset, offset + n)
    df["_file"] = pd.Series(raw.file, index=df.index, dtype="str")
    df["_row"] = raw.rows
    checks.row_checks(df, raw, table, issues, tol, as_of)
    checks.line_problems(issues, offset, raw, first_issue)
    return df


def _derive(loaded: dict[str, Loaded]) -> dict[str, pd.DataFrame]:
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
