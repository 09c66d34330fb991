"""What the data-quality notebook (``00_data_quality``) shows: its key figures, its reading in
Chinese, and the tables of rows read, of problems by kind and by town or village, with their
Chinese headers. The figures come from :mod:`qjlib.analyses.quality`."""

from __future__ import annotations

import re

import pandas as pd

from qjlib.analyses.quality import NO_TOWN, counts
from qjlib.core import schema
from qjlib.io.issues import KINDS
from qjlib.io.package import Package

# Table headers beyond the schema's and qjlib.core.ledgers.COMMON_LABELS_ZH (file, sheet, town, …).
ACCOUNTING_ZH = {"table": "表 table", "table_zh": "表名",
                 "read": "读入行数", "kept": "保留行数", "rejected": "剔除行数"}
KIND_ZH = {"kind": "代码 code", "label": "类型", "count": "条数"}
AREA_ZH = {"rejects": "剔除行", "findings": "数据问题"}

_KIND_ZH_RE = re.compile(r"^(?:[RF/]+\s+)?(.*?)\s*\(")


def kind_label(kind: str) -> str:
    """Chinese label of a reject/finding code (``total_row`` → ``合计/总计/小计行``), from the
    loader's :data:`qjlib.io.issues.KINDS`; an unknown code is returned as is."""
    text = KINDS.get(kind)
    if text is None:
        return kind
    m = _KIND_ZH_RE.match(text)
    return m.group(1) if m else text


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


def accounting(pkg: Package) -> pd.DataFrame:
    """``pkg.accounting`` per table and file (read = kept + rejected), with the table's Chinese
    name, sorted by table, file, sheet."""
    acc = pkg.accounting.sort_values(["table", "file", "sheet"], na_position="last")
    zh = {t.name: t.zh for t in schema.TABLES.values()}
    acc = acc.assign(table_zh=acc["table"].map(zh))
    return acc[["table", "table_zh", "file", "sheet", "read", "kept", "rejected"]].reset_index(
        drop=True)


def key_figures(summary: dict) -> dict[str, int]:
    """The notebook's opening figures, labelled in Chinese and English, from
    :func:`qjlib.analyses.quality.summary`."""
    out: dict[str, int] = {}
    if "rows" in summary:
        out["读入行 rows read"] = summary["rows"]["read"]
        out["保留行 rows kept"] = summary["rows"]["kept"]
    out["户数 households"] = summary["households"]
    out["剔除行 rejected rows"] = summary["rejects"]
    out["数据问题 findings"] = summary["findings"]
    out["有问题的户 households with findings"] = summary["findings_households"]
    return out


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
