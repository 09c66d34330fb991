"""``qj collect REPORT_DIR FILE_OR_FOLDER…``: read the towns' answers back (``lifecycle.md`` §2).

A returned workbook is ``ledgers.xlsx`` or a ``towns/<town>.xlsx`` of the report, as Excel, WPS or
LibreOffice saved it (shared or inline strings, dates as date cells, serial numbers or text: all
read the same). Its sheets are matched to the report's ledgers by sheet name; in each, the key
columns and the answer columns are found by their Chinese headers. Every row with an answer is
checked against the report's ledger CSV:

- the key must be a row of that ledger, sent at this row of the sheet (of ``ledgers.xlsx`` or of
  its town's workbook: the sheets are protected, rows cannot be moved), and the row's ``原因``
  (else ``乡镇``) that row's (else the key cells were edited);
- 核实结果 one of 属实 / 不属实 / 数据错误 (or their codes);
- 整改完成日期 a date (a date cell, a serial number, ``2019-11-30``, ``2019/11/30``,
  ``2019年11月30日``) not after the collection date (``--collected-on``, default today);
- the same key answered again later (a later row, a later file) wins; the earlier is rejected.

A row without any answer is not a response. ID and phone numbers typed into 整改措施 / 责任单位 are
masked (:mod:`qjlib.core.privacy`) and listed in the manifest. Written: ``responses.csv`` (UTF-8
BOM, :data:`qjlib.core.answers.RESPONSE_COLUMNS`, sorted by ledger and key) and
``responses_rejects.csv`` (file, sheet, row, ledger, key, reason in Chinese and English), and the
manifest's ``responses`` record (the collection date, each file's sha256 and rows read / kept /
rejected, the outputs' sha256). Same files and date → the same bytes. A file that is not one of
ours (not an ``.xlsx``, encrypted with a password, no sheet of this report, another header) is
one line on the console and in the manifest, never a traceback.

``qj report`` re-run into a folder already collected (:func:`carry_responses`): the answers belong
to the ledgers they were checked against (``lifecycle.md``, reproducibility). When every work-list
ledger CSV of the new run has the sha256 the old manifest recorded, the answers still fit and the
manifest's ``responses`` record is carried over (``qj verify`` checks the files as before);
otherwise ``responses.csv`` and its rejects are moved aside into
``responses_stale/<old manifest's finish time>/`` with a message, so that no answer to another
ledger is reconciled next quarter and the folder stays consistent (re-run ``qj collect``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from qjlib.core import schema
from qjlib.core.answers import ANSWER_COLUMNS, RESPONSE_COLUMNS, VERDICTS, is_worklist, key_text
from qjlib.core.errors import QjError
from qjlib.core.files import sha256_file, write_bytes
from qjlib.core.privacy import mask_id, mask_phone
from qjlib.report.manifest import write_manifest
from qjlib.report.workbooks import code_labels, header

XLSX_SUFFIXES = (".xlsx", ".xlsm")
REJECT_COLUMNS = ("file", "sheet", "row", "ledger", "key", "reason_zh", "reason_en")
_VERDICT_CODES = {**{v: k for k, v in VERDICTS.items()}, **{k: k for k in VERDICTS}}
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_ID_RE = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")
_PHONE_RE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


@dataclass
class _Ledger:
    """One work-list ledger of the report, as ``qj collect`` checks answers against it."""

    name: str
    key: tuple[str, ...]
    labels: dict[str, str]  # column → Chinese header
    rows: pd.DataFrame  # the CSV as text, indexed by key text


@dataclass
class Collected:
    """What :func:`collect` did (also in the manifest's ``responses``)."""

    responses: pd.DataFrame
    rejects: pd.DataFrame
    files: list[dict[str, Any]] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)


def _report_ledgers(folder: Path, manifest: dict) -> dict[str, _Ledger]:
    """Sheet name → the report's work-list ledger shown on it."""
    from qjlib.analyses import load_analyses

    specs = load_analyses(manifest.get("analyses", {}).get("included")).specs()
    out = {}
    for name, rec in manifest["outputs"]["ledgers"].items():
        if not is_worklist(name) or name not in specs or "sheet" not in rec:
            continue
        spec = specs[name]
        df = pd.read_csv(folder / rec["file"], dtype=str, keep_default_na=False,
                         encoding="utf-8-sig")
        labels = {c: header(c, spec) for c in df.columns}
        shown = df.copy()  # coded values as the workbook shows them (``exited`` → ``已脱贫``)
        for c in (*spec.key, "reason", "town"):
            codes = schema.CODE_LABELS_ZH.get(c) or code_labels(c)
            if codes and c in shown:
                shown[c] = shown[c].replace(codes)
        shown["_csv_key"] = key_text(df, spec.key).to_numpy() if len(df) else []
        shown.index = key_text(shown, spec.key) if len(df) else pd.Index([], dtype="str")
        df = shown.assign(town=df["town"].to_numpy()) if "town" in df else shown
        # the sheet row each key was sent at: in ledgers.xlsx, and in its town's workbook
        df["_row"] = range(2, len(df) + 2)
        df["_town_row"] = (df.groupby("town", sort=False).cumcount() + 2 if "town" in df
                           else df["_row"])
        out[rec["sheet"]] = _Ledger(name, spec.key, labels, df)
    return out


def cell_text(v: Any) -> str:
    """A key or text cell as the ledger CSV writes it: numbers without ``.0``, dates ISO."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v).strip()


def parse_done(v: Any) -> dt.date | None:
    """整改完成日期 as a date (date cells, Excel serial numbers, text in the usual forms); None
    when it is not a date."""
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return _EXCEL_EPOCH + dt.timedelta(days=int(v)) if 20000 <= v <= 80000 else None
    text = str(v).strip()
    if re.fullmatch(r"\d{5}(\.0+)?", text):
        return parse_done(float(text))
    text = re.sub(r"\s+\d{1,2}:\d{2}(:\d{2})?$", "", text)  # a date cell saved as text with time
    for f in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, f).date()
        except ValueError:
            continue
    return None


def _mask_text(text: str) -> tuple[str, list[str]]:
    kinds = []
    if _ID_RE.search(text):
        text, kinds = _ID_RE.sub(lambda m: mask_id(m.group(0)), text), kinds + ["id"]
    if _PHONE_RE.search(text):
        text, kinds = _PHONE_RE.sub(lambda m: mask_phone(m.group(0)), text), kinds + ["phone"]
    return text, kinds


class NotOurs(Exception):
    """A returned file that is not a workbook of this report (one line for people)."""


def _open(path: Path) -> Any:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    if path.suffix.lower() not in XLSX_SUFFIXES:
        raise NotOurs(f"不是 Excel 工作簿（{path.suffix or '无扩展名'}），请退回 .xlsx / not an .xlsx "
                      "workbook")
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as e:
        raise NotOurs("无法作为 xlsx 读取（可能设置了打开密码，或文件已损坏）/ cannot be read as "
                      f"xlsx (password-protected or damaged): {type(e).__name__}") from e


def _columns(head: Sequence[Any], led: _Ledger) -> dict[str, int] | None:
    """Column → position of the key, answer and check columns in a header row (None when a key
    or answer column is missing)."""
    pos: dict[str, int] = {}
    for j, v in enumerate(head):
        pos.setdefault(cell_text(v), j)
    want = {**{k: led.labels[k] for k in led.key}, **ANSWER_COLUMNS}
    for c in ("reason", "town"):
        if c in led.labels:
            want[c] = led.labels[c]
    cols = {c: pos[zh] for c, zh in want.items() if zh in pos}
    if any(c not in cols for c in (*led.key, *ANSWER_COLUMNS)):
        return None
    return cols


def _check_row(vals: dict[str, Any], i: int, led: _Ledger, collected_on: dt.date
               ) -> tuple[str, dict[str, str] | None, tuple[str, str] | None]:
    """(key text as the CSV has it, the response, None) for a good answer, (key text as the
    sheet shows it, None, (zh, en)) else."""
    key = ",".join(f"{k}={cell_text(vals[k])}" for k in led.key)
    if key not in led.rows.index:
        return key, None, ("主键不在本期台账中（主键被改动或不是本台账的条目）",
                           "key not in this report's ledger (edited or not one of its rows)")
    row = led.rows.loc[key]
    if i not in (row["_row"], row["_town_row"]):
        return key, None, (f"第 {i} 行下发时不是这一条目：主键单元格被改动（或行被移动）",
                           "key cells edited: this row was sent with another key (or moved)")
    check = "reason" if "reason" in vals else "town" if "town" in vals else None
    if check is not None and cell_text(vals[check]) != str(row[check]).strip():
        return key, None, (f"主键与本行其他内容（{led.labels[check]}）不符：主键单元格被改动",
                           f"key cells edited: the row's {check} belongs to another item")
    verdict = _VERDICT_CODES.get(cell_text(vals["verdict"]))
    if verdict is None:
        shown = cell_text(vals["verdict"]) or "（空）"
        return key, None, (f"核实结果 {shown} 不在下拉列表中（属实/不属实/数据错误）",
                           f"verdict {shown!r} is not one of the list")
    done = ""
    if cell_text(vals["done"]):
        d = parse_done(vals["done"])
        if d is None:
            return key, None, (f"整改完成日期 {cell_text(vals['done'])} 不是日期",
                               "done is not a date")
        if d > collected_on:
            return key, None, (f"整改完成日期 {d} 晚于收集日期 {collected_on}",
                               "done lies after the collection date")
        done = d.isoformat()
    return str(row["_csv_key"]), {"verdict": verdict, "action": cell_text(vals["action"]), "done": done,
                 "unit": cell_text(vals["unit"]), "town": str(row.get("town", ""))}, None


def _read_file(path: Path, ledgers: dict[str, _Ledger], collected_on: dt.date
               ) -> tuple[list[dict], list[dict]]:
    """The answers (in row order) and rejects of one returned workbook; :class:`NotOurs` when it
    is not one of this report's."""
    wb = _open(path)
    try:
        ours = [s for s in wb.sheetnames if s in ledgers]
        if not ours:
            raise NotOurs("没有本期台账的工作表（不是本报告下发的工作簿，或工作表被改名）/ no sheet "
                          "of this report's ledgers")
        kept: list[dict] = []
        rejects: list[dict] = []
        for sheet in ours:
            led = ledgers[sheet]
            rows = wb[sheet].iter_rows(values_only=True)
            cols = _columns(next(rows, ()), led)
            if cols is None:
                raise NotOurs(f"工作表 {sheet} 的表头与下发的不同（缺少主键或答复列）/ sheet "
                              f"{sheet}: not the layout sent (key or answer columns missing)")
            for i, r in enumerate(rows, start=2):
                vals = {c: (r[j] if j < len(r) else None) for c, j in cols.items()}
                if not any(cell_text(vals[c]) for c in ANSWER_COLUMNS):
                    continue
                key, resp, why = _check_row(vals, i, led, collected_on)
                where = {"file": path.name, "sheet": sheet, "row": i, "ledger": led.name,
                         "key": key}
                if why is None:
                    kept.append({**where, **resp})
                else:
                    rejects.append({**where, "reason_zh": why[0], "reason_en": why[1]})
        return kept, rejects
    finally:
        wb.close()


def expand(paths: Sequence[str | Path]) -> list[Path]:
    """The files of ``paths`` in the order given, a folder's files in sorted path order."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith("~$"))
        elif p.exists():
            out.append(p)
        else:
            raise QjError(f"找不到文件 {p} / file not found")
    return out


def collect(report_dir: str | Path, paths: Sequence[str | Path],
            collected_on: dt.date | None = None) -> Collected:
    """Read the returned workbooks ``paths`` into the report at ``report_dir`` and write its
    ``responses.csv``, ``responses_rejects.csv`` and manifest record (module docstring)."""
    folder = Path(report_dir).resolve()
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise QjError(f"不是报告目录（无法读取 manifest.json）：{folder} / not a report folder") from e
    collected_on = collected_on or dt.date.today()
    ledgers = _report_ledgers(folder, manifest)
    if not ledgers:
        raise QjError(f"报告 {folder} 没有可答复的台账（报告早于答复列，请重新运行 qj report）/ the "
                      "report has no work lists with answer columns (made by an older qjlib?)")
    files, kept, rejects = [], [], []
    for path in expand(paths):
        rec: dict[str, Any] = {"file": path.name, "sha256": sha256_file(path), "error": None}
        try:
            k, r = _read_file(path, ledgers, collected_on)
        except NotOurs as e:
            rec.update(error=str(e), rows_read=0, rows_kept=0, rows_rejected=0)
            files.append(rec)
            continue
        for x in k:
            x["_file"] = len(files)
        kept += k
        rejects += r
        rec["_n"] = (k, r)
        files.append(rec)
    kept, superseded = _latest(kept)
    rejects += superseded
    findings = _mask_pii(kept)
    for rec in files:
        k, r = rec.pop("_n", ([], []))
        n_sup = sum(x["file"] == rec["file"] for x in superseded)
        rec.update(rows_read=len(k) + len(r), rows_kept=len(k) - n_sup,
                   rows_rejected=len(r) + n_sup)
    res = _frames(kept, rejects)
    res.files, res.findings = files, findings
    _write(folder, manifest, res, collected_on)
    return res


def _latest(kept: list[dict]) -> tuple[list[dict], list[dict]]:
    """The answers with one per ledger and key (the last read wins) and the superseded ones as
    rejects."""
    last: dict[tuple[str, str], dict] = {}
    superseded = []
    for x in kept:
        k = (x["ledger"], x["key"])
        if k in last:
            y = last[k]
            superseded.append({**{c: y[c] for c in ("file", "sheet", "row", "ledger", "key")},
                               "reason_zh": f"同一条目又在 {x['file']} {x['sheet']} 第 {x['row']} 行"
                                            "答复，以后者为准",
                               "reason_en": "answered again later (that answer is kept)"})
        last[k] = x
    return list(last.values()), superseded


def _mask_pii(kept: list[dict]) -> list[dict]:
    findings = []
    for x in kept:
        for c in ("action", "unit"):
            x[c], kinds = _mask_text(x[c])
            findings += [{"file": x["file"], "sheet": x["sheet"], "row": x["row"],
                          "column": ANSWER_COLUMNS[c], "kind": k} for k in kinds]
    return findings


def _frames(kept: list[dict], rejects: list[dict]) -> Collected:
    resp = pd.DataFrame(kept, columns=list(RESPONSE_COLUMNS))
    resp = resp.sort_values(["ledger", "key"], kind="stable").reset_index(drop=True)
    rej = pd.DataFrame(rejects, columns=list(REJECT_COLUMNS))
    rej = rej.sort_values(["file", "sheet", "row", "reason_en"], kind="stable")
    return Collected(resp, rej.reset_index(drop=True))


def _csv(df: pd.DataFrame) -> bytes:
    return df.astype("str").to_csv(index=False, lineterminator="\n").encode("utf-8-sig")


def _write(folder: Path, manifest: dict, res: Collected, collected_on: dt.date) -> None:
    outputs = {"responses.csv": write_bytes(folder / "responses.csv", _csv(res.responses)),
               "responses_rejects.csv": write_bytes(folder / "responses_rejects.csv",
                                                    _csv(res.rejects))}
    manifest["responses"] = {"collected_on": collected_on.isoformat(), "files": res.files,
                             "kept": len(res.responses), "rejected": len(res.rejects),
                             "findings": res.findings, "outputs": outputs}
    write_manifest(manifest, folder)


RESPONSE_FILES = ("responses.csv", "responses_rejects.csv")
STALE_DIR = "responses_stale"


def _worklist_shas(outputs: dict[str, Any]) -> dict[str, str | None]:
    return {n: r.get("sha256") for n, r in outputs.get("ledgers", {}).items() if is_worklist(n)}


def carry_responses(folder: Path, outputs: dict[str, Any]) -> tuple[dict[str, Any] | None,
                                                                       str | None]:
    """Before ``qj report`` writes its manifest into ``folder`` (whose ``manifest.json`` is still
    the previous run's): the ``responses`` record to keep (None: none) and a message for the
    console (None: nothing to say). See the module docstring."""
    present = [f for f in RESPONSE_FILES if (folder / f).exists()]
    try:
        old = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        old = {}
    rec = old.get("responses")
    if rec is not None and _worklist_shas(old.get("outputs", {})) == _worklist_shas(outputs):
        return rec, ("台账未变，保留已收集的答复（qj collect 记录）/ ledgers unchanged: the collected "
                     "responses are kept")
    if not present:
        return None, None
    stamp = re.sub(r"[^0-9A-Za-z+-]", "", str(old.get("finished") or "unknown")) or "unknown"
    dest = folder / STALE_DIR / stamp
    dest.mkdir(parents=True, exist_ok=True)
    for f in present:
        shutil.move(folder / f, dest / f)
    why = ("台账已改变" if rec is not None else "清单中没有其收集记录") + " / " + (
        "the ledgers changed" if rec is not None else "no collection record in the manifest")
    return None, (f"已收集的答复不再对应本次台账（{why}），已移至 {dest.relative_to(folder)}；"
                  f"请重新运行 qj collect / the collected responses no longer fit the ledgers, "
                  f"moved aside: re-run qj collect")
