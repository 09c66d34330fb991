"""The follow-up page (notebook 90, 对账销号): what ``qj report --previous`` reconciled — the
counts per ledger (and per town for the county), the items that need a decision (有异议) or came
back (整改不实), the previous rows that are gone, and the headline figures that moved most.

Every number comes from :mod:`qjlib.report.lifecycle` (``summary.json`` → ``lifecycle``), left by
``qj report`` for the notebooks (``lifecycle.pkl``); this module words and draws it. Outside a
report, or in a report without a previous one, :func:`load` returns None and the page says so.
"""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pandas as pd

from qjlib.core.answers import STATUSES, VERDICTS, is_worklist
from qjlib.core.fmt import fmt_int, fmt_pct
from qjlib.pages import plotting
from qjlib.pages.nb import Run, ledger_specs

COUNT_COLUMNS_ZH = {"ledger": "台账", "town": "乡(镇)", "previous": "上期条数",
                    **{k: v for k, v in STATUSES.items()}, "closure_rate": "销号率"}
ITEM_COLUMNS_ZH = {"title": "台账", "key": "主键", "town": "乡(镇)", "village": "行政村",
                   "reason": "原因", "verdict": "上期核实结果", "action": "整改措施",
                   "done": "整改完成日期", "unit": "责任单位"}
MOVED_COLUMNS_ZH = {"figure": "指标", "previous": "上期", "current": "本期", "difference": "变化"}
NOTE_NO_PREVIOUS = ("本期报告未与上期对账（没有上期报告，或以 `--previous none` 运行）。"
                    "与上期对账：`qj report 数据包 --period 本期 --previous 上期报告目录`。\n\n"
                    "*No previous report was reconciled with this one.*")


def load(run: Run) -> dict[str, Any] | None:
    """The reconciliation for ``run``'s scope: ``summary`` (the ``lifecycle`` section; a town's
    counts under ``town``), ``items`` and ``gone`` (a town's rows only); None without one."""
    f = run.work_file("lifecycle.pkl")
    if f is None:
        return None
    with open(f, "rb") as fh:
        data = pickle.load(fh)  # noqa: S301 - written by qj report for this run
    if run.is_county:
        return data
    town = run.scope_name
    return {"summary": data["summary"], "town": town, "code": run.scope.code,
            "items": data["items"][data["items"]["town"] == town].reset_index(drop=True),
            "gone": data["gone"][data["gone"]["town"] == town].reset_index(drop=True)}


WORK_COLUMNS_ZH = {"ledger": "台账", "rows": "条数", "towns": "涉及乡镇数"}


def work_lists(run: Run) -> pd.DataFrame:
    """This report's work lists (the ledgers a town answers, not the references) for ``run``'s
    scope: their rows and the towns they concern — what the towns are sent to answer."""
    rows = []
    for name in ledger_specs():
        if not is_worklist(name):
            continue
        df = run.ledger(name)
        towns = df["town"].nunique() if "town" in df else 0
        rows.append({"ledger": _title(name), "rows": len(df), "towns": towns})
    return pd.DataFrame(rows, columns=["ledger", "rows", "towns"])


def work_key_figures(work: pd.DataFrame) -> dict[str, str]:
    """The headline counts of :func:`work_lists`: ledgers with rows, rows, most towns."""
    return {"有条目的台账 work lists": fmt_int(int((work["rows"] > 0).sum())),
            "待核实条目 rows to answer": fmt_int(int(work["rows"].sum())),
            "涉及乡镇 towns": fmt_int(int(work["towns"].max()) if len(work) else 0)}


def _title(name: str) -> str:
    spec = ledger_specs().get(name)
    return spec.title_zh if spec is not None else name


def counts_table(data: dict[str, Any]) -> pd.DataFrame:
    """Per ledger (of the scope): previous rows, each status and the closure rate."""
    s = data["summary"]
    blocks = s["town_ledgers"].get(data["town"], {}) if "town" in data else s["ledgers"]
    rows = [{"ledger": _title(n), **b} for n, b in blocks.items()]
    cols = ["ledger", "previous", *STATUSES, "closure_rate"]
    return pd.DataFrame(rows, columns=cols)


def towns_table(data: dict[str, Any]) -> pd.DataFrame:
    """Per town (the county page): previous rows, each status and the closure rate."""
    rows = [{"town": t, **b} for t, b in data["summary"]["towns"].items()]
    return pd.DataFrame(rows, columns=["town", "previous", *STATUSES, "closure_rate"])


def counts_chart(table: pd.DataFrame, label: str, title: str) -> Any:
    """Stacked bars: per row of ``table`` the rows of each status (Chinese legend)."""
    df = table.set_index(label)[list(STATUSES)].rename(columns=STATUSES)
    df = df[df.sum(axis=1) > 0]
    return plotting.stacked_bar(df, title, "条数 rows") if len(df) else None


def key_figures(data: dict[str, Any]) -> dict[str, str]:
    """The headline counts of the scope."""
    s = data["summary"]
    b = s["towns"].get(data["town"], {}) if "town" in data else s["total"]
    if not b:
        return {"上期条数 previous": "0"}
    return {"上期条数 previous": fmt_int(b["previous"]),
            "已销号 resolved": fmt_int(b["resolved"]),
            "销号率 closure rate": fmt_pct(b["closure_rate"]) if b["closure_rate"] is not None
            else "—",
            "有异议 disputed": fmt_int(b["disputed"]), "整改不实 recurred": fmt_int(b["recurred"]),
            "新增 new": fmt_int(b["new"])}


def reading(data: dict[str, Any], scope_name: str) -> str:
    """One paragraph: what was reconciled and what needs attention."""
    s = data["summary"]
    b = s["towns"].get(data["town"], {}) if "town" in data else s["total"]
    if not b:
        return f"{scope_name}上期（{s['previous_period']}）与本期的工作类台账中均没有条目。"
    text = (f"与上期（{s['previous_period']}）台账对账：上期 {fmt_int(b['previous'])} 条中，"
            f"已销号 {fmt_int(b['resolved'])} 条（销号率 "
            f"{fmt_pct(b['closure_rate']) if b['closure_rate'] is not None else '—'}），"
            f"自动消失 {fmt_int(b['dropped'])} 条（未报整改却不再出现，需核实原因）；"
            f"仍在台账上的，有异议 {fmt_int(b['disputed'])} 条待研究决定，"
            f"整改不实 {fmt_int(b['recurred'])} 条（报已整改却仍出现），"
            f"未整改 {fmt_int(b['open'])} 条；本期新增 {fmt_int(b['new'])} 条。")
    if s["refused"]:
        text += ("\n\n以下台账未对账（口径参数两期不同，或本期未生成）：" +
                 "；".join(f"{_title(n)}（{note.split(' / ')[0]}）" for n, note in
                           s["refused"].items()) + "。")
    return text


def items(data: dict[str, Any], status: str) -> pd.DataFrame:
    """The items of one status (``disputed`` / ``recurred``) with the town's previous answer in
    Chinese."""
    t = data["items"]
    t = t[t["follow_up"] == status].copy()
    t["verdict"] = t["verdict"].map(lambda v: VERDICTS.get(v, v))
    return t[list(ITEM_COLUMNS_ZH)].reset_index(drop=True)


def gone(data: dict[str, Any]) -> pd.DataFrame:
    """The previous rows that are gone, with their status in Chinese."""
    t = data["gone"].copy()
    t["ledger"] = t["ledger"].map(_title)
    t["follow_up"] = t["follow_up"].map(STATUSES)
    t["verdict"] = t["verdict"].map(lambda v: VERDICTS.get(v, v))
    return t.rename(columns={"ledger": "台账", "key": "主键", "town": "乡(镇)", "reason": "原因",
                             "follow_up": "对账状态", "verdict": "上期核实结果",
                             "done": "整改完成日期"})


def moved(data: dict[str, Any], n: int = 15) -> pd.DataFrame:
    """The county's headline figures (towns left out; in a town's page, the town's) that moved
    most since the previous report, by relative change ``|difference| ÷ max(|previous|,
    |current|)`` (changes below 0.0001 left out; a figure that appears or disappears is not
    listed)."""
    ch = data["summary"]["changes"]
    prefix = f"towns.{data['code']}." if "code" in data else None
    rows = []
    for k, v in ch.items():
        inside = k.startswith(prefix) if prefix else not k.startswith("towns.")
        if inside and v["difference"] is not None and round(v["difference"], 4) != 0:
            rel = abs(v["difference"]) / max(abs(v["previous"]), abs(v["current"]))
            rows.append({"figure": k.removeprefix(prefix or ""), "previous": v["previous"],
                         "current": v["current"], "difference": v["difference"], "_rel": rel})
    df = pd.DataFrame(rows, columns=["figure", "previous", "current", "difference", "_rel"])
    df = df.sort_values(["_rel", "figure"], ascending=[False, True], kind="stable").head(n)
    out = df.drop(columns="_rel").reset_index(drop=True)
    for c in ("previous", "current", "difference"):
        out[c] = np.round(out[c].astype(float), 4)
    return out
