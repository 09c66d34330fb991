"""What notebook 60 (return-to-poverty monitoring, plan R6) shows: key figures, the reading,
the classes by town/village, the signal overlap table, the edge households and the ledgers in
urgency order. Every figure comes from :mod:`qjlib.analyses.monitoring`.
"""

from __future__ import annotations

import pandas as pd

from qjlib.analyses.monitoring import (
    CLASSES_ZH,
    EDGE_CLASSES_ZH,
    SIGNALS,
    SIGNALS_ZH,
    MonitoringAnalysis,
)

LEDGER_VIEW = ["hh_id", "town", "village", "class_zh", "signals", "helper_id", "reason"]
EDGE_VIEW = ["hh_id", "town", "village", "class_zh", "reason"]
VIEW_ZH = {"class_zh": "监测类别", "signals": "信号数", "helper_id": "结对帮扶责任人"}


def key_figures(s: dict) -> dict[str, object]:
    """The opening figures of :func:`~qjlib.analyses.monitoring.summary`."""
    off = len(s["unavailable"])
    return {
        "历年脱贫户（已脱贫，不含返贫）past exited": s["past_exited"],
        "拟返贫（待核实）about to return": s["about_to_return"],
        "巩固提升（待核实）consolidate": s["consolidate"],
        "边缘户 edge households": (s["edge_households"], f"列入台账 {sum(s['edge'].values())} 户"),
        "报送截止 report due": s["report_due"],
        "未能判断的信号 signals off": (off, "缺少部门数据" if off else None),
    }


def reading(s: dict, scope_name: str) -> str:
    """One paragraph (Chinese) on the result, from the summary's figures."""
    n, a, c = s["past_exited"], s["about_to_return"], s["consolidate"]
    off = "；".join(f"{SIGNALS_ZH[k]}（{why}）" for k, why in s["unavailable"].items())
    text = (f"{scope_name}共有历年脱贫户 {n:,} 户（截至 {s['as_of']}，收入年度 {s['income_year']} 年）。"
            f"数据分析提示其中 {a:,} 户人均纯收入低于贫困线，列为“拟返贫（待核实）”；另有 {c:,} 户"
            f"至少有一项风险信号，列为“巩固提升（待核实）”。这些只是入户走访的名单，不是认定结论。"
            f"本季度监测对象须于 {s['report_due']} 前报送。")
    if off:
        text += f"以下信号本次未能判断（在名单和各表中留空，不是“无风险”，也不影响其他信号）：{off}。"
    return text


def by_area(res: MonitoringAnalysis, area: str = "town") -> pd.DataFrame:
    """Households per ``area`` (town or village): past exited, each class."""
    f = res.frame
    keys = ["town", "village"] if area == "village" else ["town"]
    g = f.assign(a=f["class"].eq("about_to_return").fillna(False),
                 c=f["class"].eq("consolidate").fillna(False))
    out = g.groupby(keys, dropna=False).agg(past_exited=("hh_id", "size"), about_to_return=("a", "sum"),
                                            consolidate=("c", "sum")).reset_index()
    return out.sort_values(["about_to_return", "consolidate"] + keys, ascending=[False, False]
                           + [True] * len(keys), kind="stable").reset_index(drop=True)


AREA_ZH = {"past_exited": "历年脱贫户", "about_to_return": CLASSES_ZH["about_to_return"],
           "consolidate": CLASSES_ZH["consolidate"]}


def overlap_table(res: MonitoringAnalysis, top: int = 12) -> pd.DataFrame:
    """How the signals overlap: each combination of raised signals among the listed households,
    with its number of households, most frequent first (an UpSet chart as a table)."""
    f = res.frame[res.frame["class"].notna().to_numpy()]
    if f.empty:
        return pd.DataFrame({"combination": pd.Series(dtype="str"), "households": pd.Series(dtype="int")})
    raised = f[list(SIGNALS)].fillna(False).astype(bool)
    combo = pd.Series("", index=f.index, dtype="str")
    for s in SIGNALS:
        combo = combo.where(~raised[s], combo.where(combo == "", combo + " + ") + SIGNALS_ZH[s])
    counts = combo.value_counts()
    out = pd.DataFrame({"combination": counts.index, "households": counts.to_numpy()})
    return out.sort_values(["households", "combination"], ascending=[False, True]).head(top).reset_index(drop=True)


OVERLAP_ZH = {"combination": "信号组合", "households": "户数"}


def signal_table(s: dict) -> pd.DataFrame:
    """Households with each signal (listed or not); an unavailable one says so and why."""
    off = s["unavailable"]
    out = pd.DataFrame({
        "signal": [SIGNALS_ZH[k] for k in SIGNALS],
        "households": ["未能判断" if s["signals"][k] is None else f"{s['signals'][k]:,}" for k in SIGNALS],
        "note": [f"关闭：{off[k]}" if k in off else "" for k in SIGNALS],
    })
    return out if off else out.drop(columns="note")


SIGNAL_ZH = {"signal": "信号", "households": "户数", "note": "说明"}


def urgent_first(ledger: pd.DataFrame) -> pd.DataFrame:
    """The ``monitoring`` ledger ordered for the visits: 拟返贫 first, then by the number of
    signals (most first), then hh_id."""
    order = ledger.assign(_c=ledger["class"].ne("about_to_return"))
    return order.sort_values(["_c", "signals", "hh_id"], ascending=[True, False, True],
                             kind="stable").drop(columns="_c")


def edge_counts(s: dict) -> pd.DataFrame:
    """Edge households listed per class."""
    return pd.DataFrame({"class": list(EDGE_CLASSES_ZH.values()), "households": [s["edge"][k] for k in EDGE_CLASSES_ZH]})


EDGE_COUNTS_ZH = {"class": "类别", "households": "户数"}

LIMITS_TEXT = (
    "**数据看不到什么 · What the data cannot see.** 这里的每一条都只来自表格：收入年报、部门名册、鉴定记录。"
    "表格看不到一户人家真实的处境——刚发生的疾病或灾祸、外出务工是否稳定、收入有没有漏报或多报、"
    "家里是否有人需要照料。收入数据也可能记错（一位数字之差就能让一户跨过贫困线）。"
    "所以名单上的每一户都是“待核实”：按“五步法”，数据分析之后必须走访排查、综合研判、调查核实，"
    "确认属实后才能登记备案；未经入户核实，任何一户都不得登记为拟返贫户或巩固提升户。"
    "缺少部门数据时未能判断的信号（见上表）也要在走访中逐项问到。"
)
