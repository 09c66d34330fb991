"""The industry page (notebook 30): key figures, the reading, Chinese table headers, chart-ready
frames and the ledger views — what the notebook shows of :mod:`qjlib.analyses.industry`. Every
number is computed there; this module words and arranges it.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from qjlib.analyses.industry_metrics import STATUS_ORDER
from qjlib.core.fmt import fmt_int, fmt_pct, fmt_yuan
from qjlib.core.schema import CODE_LABELS_ZH

GROUPS_ZH = {"past_exited": "历年脱贫户", "planned_exit": "计划脱贫户"}
STATUS_ZH = {
    "principal": "分本不分红（本金返还）", "unpaid": "逾期未兑付", "short": "低于保底分红",
    "late": "延迟兑付",
}

def key_figures(s: dict) -> dict[str, Any]:
    """The notebook's opening figures from :func:`qjlib.analyses.industry.summary` (label →
    (value, note))."""
    if not s.get("available"):
        return {}
    sr, cr, pv, dv = s["support_rate"], s["contribution_ratio"], s["pivotal"], s["dividends"]
    issues = sum(dv[k] for k in STATUS_ORDER)
    no_income = "无收入表 no income table"
    return {
        "历年脱贫户产业覆盖率 support rate": (
            fmt_pct(sr["overall"]), f"{fmt_int(sr['supported'])} / {fmt_int(sr['households'])} 户"),
        "产业收入贡献率 contribution": (
            fmt_pct(cr.get("overall")),
            f"受益户纯收入中产业收入占比（{fmt_int(cr['households'])} 户）"
            if cr.get("available", True) else no_income),
        f"{s['income_year']}年计划脱贫户覆盖率": (
            fmt_pct(sr["planned"]["rate"]),
            f"{fmt_int(sr['planned']['supported'])} / {fmt_int(sr['planned']['households'])} 户"),
        "关键户 pivotal": (pv.get("households"), "扣除产业收入即低于贫困线"
                          if pv.get("available", True) else no_income),
        "分红问题 dividend issues": (issues, f"应兑付 {fmt_int(dv['due'])} 户次"),
    }


def reading(s: dict, scope_name: str) -> str:
    """A one-paragraph reading in Chinese, built from :func:`qjlib.analyses.industry.summary`
    (no typed numbers)."""
    if not s.get("available"):
        return f"{scope_name}：{s.get('reason', '产业分析不可用')}。"
    y, sr, cr, pv = s["income_year"], s["support_rate"], s["contribution_ratio"], s["pivotal"]
    pl, dv = sr["planned"], s["dividends"]
    cs, ish = s["count_share"]["nature"], s["investment_share"]["nature"]
    income = cr.get("available", True)
    parts = [
        f"{scope_name}{y} 年共有历年脱贫户 {fmt_int(sr['households'])} 户，其中 "
        f"{fmt_int(sr['supported'])} 户（{fmt_pct(sr['overall'])}）当年有产业项目受益"
        + (f"；这些户的产业收入合计 {fmt_yuan(cr['benefit'], 1, '万元')}，占其纯收入的 "
           f"{fmt_pct(cr['overall'])}。" if income else "。"),
        (f"{y} 年计划脱贫户 {fmt_int(pl['households'])} 户，受益 {fmt_int(pl['supported'])} 户"
         f"（{fmt_pct(pl['rate'])}）"
         + (f"，产业收入占其纯收入的 {fmt_pct(cr['planned']['ratio'])}。" if income else "。"))
        if pl["households"] else f"数据中没有 {y} 年计划脱贫户。",
        f"受益户中有 {fmt_int(pv['households'])} 户人均纯收入达到当年贫困线"
        f"（{fmt_yuan(s['poverty_line'])}/人），但扣除产业收入后将低于贫困线——"
        "产业收入是这些户不返贫的关键，分红和务工收入一旦中断须优先关注。" if income else
        "未提供收入表，无法计算产业收入贡献率和关键户。",
        f"截至 {y} 年共有产业项目 {fmt_int(s['projects'])} 个、投资 "
        f"{fmt_yuan(s['investment'], 1, '万元')}；其中到户直补项目占个数的 "
        f"{fmt_pct(cs.get('direct'))}、投资的 {fmt_pct(ish.get('direct'))}，新型经营主体带动项目占个数的 "
        f"{fmt_pct(cs.get('entity_led'))}、投资的 {fmt_pct(ish.get('entity_led'))}。",
        f"保底分红：截至 {s['as_of']} 应兑付 {fmt_int(dv['due'])} 户次，其中逾期未兑付 "
        f"{fmt_int(dv['unpaid'])}、迟兑付 {fmt_int(dv['late'])}、低于保底 {fmt_int(dv['short'])}、"
        f"以本金返还代替分红（分本不分红）{fmt_int(dv['principal'])} 户次，均列入分红问题台账。",
    ]
    return "".join(parts)


# ---------------------------------------------------------------------------------------------
# Chinese labels and chart-ready frames (no new figures)

TABLE_ZH: dict[str, str] = {
    "group": "人群", "cohort_year": "脱贫年度", "town": "乡(镇)", "village": "行政村",
    "households": "户数", "supported": "有产业受益户数", "support_rate": "产业扶持覆盖率",
    "with_income": "有收入记录的受益户", "benefit": "产业收入（元）", "net_income": "纯收入（元）",
    "contribution_ratio": "产业收入贡献率", "pivotal": "关键户", "category": "项目类别",
    "nature": "项目性质", "fund_source": "资金来源", "year": "实施年度", "projects": "项目个数",
    "investment": "投资金额（元）", "count_share": "个数占比", "investment_share": "投资占比",
    "beneficiaries": "受益户（户次）", "investment_per_household": "户均投资（元/户）",
    "benefit_per_10k": "每万元投资产业收入（元）", "short_projects": "受益户少于计划的项目",
    "entity": "带动主体", "due": "应兑付（户次）", "on_time": "按时足额（户次）",
    "issues": "有问题（户次）", "issue_share": "问题占比", "principal": "分本不分红",
    "unpaid": "逾期未兑付", "short": "低于保底", "late": "延迟兑付", "due_dates": "应兑付日期（月-日）",
    "band": "产业收入贡献率区间", "share": "占比", "ratio_mean": "平均贡献率",
    "ratio_p10": "10%分位", "ratio_p25": "25%分位", "ratio_p50": "中位数", "ratio_p75": "75%分位",
    "ratio_p90": "90%分位",
}


def labelled(t: pd.DataFrame) -> pd.DataFrame:
    """``t`` with group codes as Chinese labels (历年脱贫户 / 计划脱贫户), for display."""
    return t.assign(group=t["group"].map(GROUPS_ZH).fillna(t["group"])) if "group" in t else t


def chart_frame(t: pd.DataFrame, index: str, columns: str, values: str) -> pd.DataFrame:
    """A long table made wide for a stacked chart (rows ``index``, one column per ``columns``
    value, coded natures in Chinese, missing cells 0)."""
    w = t.pivot_table(index=index, columns=columns, values=values, aggfunc="sum", fill_value=0,
                      sort=True)
    w.columns = [CODE_LABELS_ZH.get(columns, {}).get(c, c) for c in w.columns]
    return w


# The columns a notebook shows of each ledger (the full ledgers are in the report folder).
LEDGER_VIEW: dict[str, tuple[str, ...]] = {
    "dividend_overdue": ("project_id", "hh_id", "year", "status", "town", "village", "entity",
                         "due_date", "paid_date", "dividend_amount", "reason"),
    "industry_beneficiaries": ("project_id", "hh_id", "year", "town", "village", "project_name",
                               "category", "nature", "benefit_types", "amount"),
    "industry_projects": ("project_id", "name", "year", "town", "village", "nature", "investment",
                          "planned_households", "beneficiaries", "dividend_issues", "reason"),
}


def ledger_view(name: str, led: pd.DataFrame) -> pd.DataFrame:
    """The columns of ledger ``name`` a notebook shows, dividend statuses in Chinese; for
    ``industry_projects`` only the projects with something to act on (reason ≠ 正常)."""
    v = led[list(LEDGER_VIEW[name])]
    if name == "dividend_overdue":
        v = v.assign(status=v["status"].map(STATUS_ZH).fillna(v["status"]))
    if name == "industry_projects":
        v = v[v["reason"].ne("正常")]
    return v

#: Headers of the ledger views that differ from the ledgers' own (the notebook has always called
#: the ledgers' ``reason`` column 说明; ledgers.xlsx heads it 原因).
LEDGER_VIEW_ZH: dict[str, str] = {"reason": "说明"}


def dividend_issues(entities: pd.DataFrame, k: int = 15) -> pd.DataFrame:
    """The ``k`` entities with the most dividend issues (rows of
    :func:`qjlib.analyses.industry_metrics.dividends_by`, most issues first, then by name), one
    column per status in Chinese (household-years), for a stacked chart; empty without issues."""
    bad = entities[entities["issues"].gt(0)].sort_values(["issues", "entity"],
                                                         ascending=[False, True]).head(k)
    return bad.set_index("entity")[list(STATUS_ORDER)].rename(columns=STATUS_ZH)
