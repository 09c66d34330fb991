"""Data quality: what the loader read, kept and rejected, and the problems it found (R4).

The loader (:mod:`qjlib.load`) accounts for every row (``pkg.accounting``: read = kept +
rejected, per table and file), lists the rows it could not use (``pkg.rejects``) and the problems
in rows it kept (``pkg.findings``), each with a stable ``kind`` code and a Chinese reason. This
module turns them into the ``rejects`` and ``findings`` ledgers and the summary figures.

Definitions (all counts of ledger rows, for the run's scope):

- ``rows.read`` / ``rows.kept`` / ``rows.rejected``: sums of ``pkg.accounting`` over every table
  and file (the whole package; a town's report shows the county's accounting);
- ``rejects`` / ``findings``: rows of the two ledgers; a town's are those whose household is in
  the town (``pkg.restrict_to_town``); ``rejects_no_town``: rejects whose town is unknown (e.g.
  a blank 户编号), which appear only in the county's figures;
- ``rejects_by_kind`` / ``findings_by_kind`` / ``…_by_table``: the same counts per code / table;
- ``findings_households``: distinct households (``hh_id``-keyed tables) with at least one finding.
"""

from __future__ import annotations

import re

import pandas as pd

from qjlib.core import schema
from qjlib.core.context import Context
from qjlib.core.ledgers import LedgerSpec
from qjlib.io.issues import KINDS

_COMMON_ZH = {
    "table": "表", "file": "文件", "sheet": "工作表", "row": "行号", "column": "列",
    "value": "值", "kind": "问题类型", "reason": "原因", "reason_en": "原因（英文）",
    "key": "主键", "town": "乡(镇)", "village": "行政村",
}

NAME = "quality"  # its part of summary.json and its key in qjlib.analyses.REGISTRY
NOTEBOOK_RESULTS: dict[str, tuple[str, ...]] = {}  # nothing saved for the notebooks
LEDGERS: dict[str, LedgerSpec] = {
    "rejects": LedgerSpec(
        "rejects", "无法使用的输入行（已剔除）", ("file", "row"), dict(_COMMON_ZH), "R4",
    ),
    "findings": LedgerSpec(
        "findings", "数据质量问题（行已保留）", ("table", "key"), dict(_COMMON_ZH), "R4",
    ),
}

REJECT_COLUMNS = ["file", "row", "table", "sheet", "column", "value", "kind", "reason",
                  "reason_en", "key", "town", "village"]
FINDING_COLUMNS = ["table", "key", "file", "sheet", "row", "column", "value", "kind", "reason",
                   "reason_en", "town", "village"]
NO_TOWN = "（乡镇不详）"

_KIND_ZH_RE = re.compile(r"^(?:[RF/]+\s+)?(.*?)\s*\(")


def kind_label(kind: str) -> str:
    """Chinese label of a reject/finding code (``total_row`` → ``合计/总计/小计行``), from the
    loader's :data:`qjlib.load.KINDS`; an unknown code is returned as is."""
    text = KINDS.get(kind)
    if text is None:
        return kind
    m = _KIND_ZH_RE.match(text)
    return m.group(1) if m else text


def _ledger(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    out = df.rename(columns={"reason_zh": "reason"})
    for c in columns:
        if c not in out.columns:
            out[c] = pd.Series(pd.NA, index=out.index, dtype="str")
    return out[columns].reset_index(drop=True)


def rejects_ledger(rejects: pd.DataFrame) -> pd.DataFrame:
    """The ``rejects`` ledger: one row per rejected input row (file, Excel row number), with the
    first problem that rejected it, its Chinese and English reason, and town/village if known."""
    return _ledger(rejects, REJECT_COLUMNS)


def findings_ledger(findings: pd.DataFrame) -> pd.DataFrame:
    """The ``findings`` ledger: one row per problem in a kept row (table, key of the row)."""
    return _ledger(findings, FINDING_COLUMNS)


def build_ledgers(ctx: Context) -> dict[str, pd.DataFrame]:
    return {"rejects": rejects_ledger(ctx.pkg.rejects),
            "findings": findings_ledger(ctx.pkg.findings)}


def counts(df: pd.DataFrame, by: str) -> dict[str, int]:
    """Rows per value of ``by`` (missing → :data:`NO_TOWN` for towns/villages, else ``""``),
    as a dict sorted by key."""
    s = df[by].astype("str").fillna(NO_TOWN if by in ("town", "village") else "")
    return {str(k): int(v) for k, v in s.value_counts(sort=False).sort_index().items()}


def by_kind(df: pd.DataFrame) -> pd.DataFrame:
    """Counts per kind with the Chinese label, most frequent first (ties by code)."""
    c = pd.Series(counts(df, "kind"), dtype="int64")
    out = pd.DataFrame({"kind": c.index.astype("str"), "count": c.to_numpy()})
    out["label"] = out["kind"].map(kind_label)
    return out.sort_values(["count", "kind"], ascending=[False, True]).reset_index(drop=True)[
        ["kind", "label", "count"]]


def by_area(rejects: pd.DataFrame, findings: pd.DataFrame, area: str = "town") -> pd.DataFrame:
    """Rejects and findings per town (or ``area="village"``), sorted by area name; rows whose
    area is unknown are counted under :data:`NO_TOWN` last."""
    r = pd.Series(counts(rejects, area), dtype="int64", name="rejects")
    f = pd.Series(counts(findings, area), dtype="int64", name="findings")
    out = pd.concat([r, f], axis=1).fillna(0).astype("int64")
    order = sorted(out.index, key=lambda k: (k == NO_TOWN, k))
    out = out.loc[order]
    out.index.name = area
    return out.reset_index()


ACCOUNTING_ZH = {"table": "表 table", "table_zh": "表名", "file": "文件", "sheet": "工作表",
                 "read": "读入行数", "kept": "保留行数", "rejected": "剔除行数"}
KIND_ZH = {"kind": "代码 code", "label": "类型", "count": "条数"}
AREA_ZH = {"town": "乡(镇)", "village": "行政村", "rejects": "剔除行", "findings": "数据问题"}


def accounting(pkg) -> pd.DataFrame:
    """``pkg.accounting`` per table and file (read = kept + rejected), with the table's Chinese
    name, sorted by table, file, sheet."""
    acc = pkg.accounting.sort_values(["table", "file", "sheet"], na_position="last")
    zh = {t.name: t.zh for t in schema.TABLES.values()}
    acc = acc.assign(table_zh=acc["table"].map(zh))
    return acc[["table", "table_zh", "file", "sheet", "read", "kept", "rejected"]].reset_index(
        drop=True)


def key_figures(summary: dict) -> dict[str, int]:
    """The notebook's opening figures, labelled in Chinese and English, from :func:`summary`."""
    out: dict[str, int] = {}
    if "rows" in summary:
        out["读入行 rows read"] = summary["rows"]["read"]
        out["保留行 rows kept"] = summary["rows"]["kept"]
    out["户数 households"] = summary["households"]
    out["剔除行 rejected rows"] = summary["rejects"]
    out["数据问题 findings"] = summary["findings"]
    out["有问题的户 households with findings"] = summary["findings_households"]
    return out


def summary(ctx: Context) -> dict:
    """Summary figures (module docstring). County scope adds the package accounting."""
    pkg = ctx.pkg
    rej, fin = pkg.rejects, pkg.findings
    out: dict = {
        "available": True,
        "households": int(len(pkg["households"])),
        "rejects": int(len(rej)),
        "findings": int(len(fin)),
        "rejects_by_kind": counts(rej, "kind"),
        "findings_by_kind": counts(fin, "kind"),
        "rejects_by_table": counts(rej, "table"),
        "findings_by_table": counts(fin, "table"),
        "findings_households": finding_households(fin, pkg["households"]),
    }
    if ctx.scope is None:
        acc = pkg.accounting
        out["rows"] = {k: int(acc[k].sum()) for k in ("read", "kept", "rejected")}
        out["files"] = int(acc["file"].nunique())
        out["tables"] = sorted(pkg.tables)
        out["rejects_no_town"] = int(rej["town"].isna().sum())
        out["notes"] = len(pkg.notes)
    return out


def finding_households(findings: pd.DataFrame, households: pd.DataFrame) -> int:
    """Distinct households with at least one finding: the ``hh_id=…`` part of the finding's key
    (the loader writes keys as ``hh_id=H001,year=2017``), counted only when it is a household of
    ``households`` (so a member-keyed or malformed key cannot invent households)."""
    if not len(findings):
        return 0
    hh = findings["key"].astype("str").str.extract(r"(?:^|,)hh_id=([^,]*)", expand=False)
    return int(hh[hh.isin(households["hh_id"])].nunique())


def reading(summary: dict, scope_name: str) -> str:
    """A one-paragraph reading of the figures, in Chinese, built from ``summary`` (for the
    notebook's opening; no typed numbers)."""
    parts = []
    if "rows" in summary:
        r = summary["rows"]
        share = r["rejected"] / r["read"] if r["read"] else 0.0
        parts.append(
            f"本期数据包共 {summary['files']} 个文件、{len(summary['tables'])} 张表，读入 "
            f"{r['read']:,} 行，保留 {r['kept']:,} 行，剔除 {r['rejected']:,} 行（{share:.1%}）。")
    parts.append(f"{scope_name}共有 {summary['households']:,} 户，涉及 {summary['rejects']:,} 条"
                 f"剔除记录和 {summary['findings']:,} 条数据质量问题"
                 f"（{summary['findings_households']:,} 户至少有一条问题）。")
    for what, key in (("剔除", "rejects_by_kind"), ("问题", "findings_by_kind")):
        by = summary[key]
        if by:
            top = max(sorted(by), key=lambda k: by[k])
            parts.append(f"最常见的{what}原因是「{kind_label(top)}」（{by[top]:,} 条）。")
    if summary.get("rejects_no_town"):
        parts.append(f"另有 {summary['rejects_no_town']:,} 条剔除记录无法确定所属乡镇，只计入全县。")
    parts.append("剔除的行不进入任何分析；有问题但保留的行照常分析，须由乡镇逐条核实更正后重新导出。")
    return "".join(parts)
