"""What notebook 10 (income structure, plan R2) shows: key figures, the reading (Chinese prose),
the definitions with the run's parameters, display tables with their Chinese headers, and charts.

Every figure comes from :mod:`qjlib.analyses.income` (its ``summary`` and metrics); nothing here
computes a metric of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from qjlib.analyses.income import (
    COMPONENTS,
    COMPONENTS_ZH,
    UNITEMISED,
    UNKNOWN,
    income_frame,
    near_line_counts,
    nonpositive_households,
    structure_by,
    threshold_text,
    thresholds,
    transfer_items_by,
)
from qjlib.core.context import Context
from qjlib.core.definitions import TRANSFER_ITEMS
from qjlib.core.fmt import fmt_pct, fmt_pp
from qjlib.core.params import Params
from qjlib.core.schema import LABOR_CAPACITY
from qjlib.pages import plotting

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

SHORT_ZH: dict[str, str] = {
    "wage": "工资性", "operating_net": "生产经营性（净）", "property": "财产性", "transfer": "转移性",
}
ITEMS_ZH: dict[str, str] = {
    "dibao_pay": "低保金", "wubao_pay": "五保（特困供养）金", "pension": "养老金",
    "eco_comp": "生态补偿金", "family_planning": "计划生育金", "other_transfer": "其他转移性收入",
    UNITEMISED: "未分项",
}
AREA_COLUMNS_ZH: dict[str, str] = {
    "households": "户数", "nonpositive": "纯收入≤0户",
    **{f"{k}_share": f"{SHORT_ZH[k]}占比" for k in COMPONENTS},
    "operating_net_share_p50": "户经营性占比中位数",
    "low_operating": "经营性占比偏低户", "transfer_dependent": "转移性依赖户",
    "near_line": "临界户", "below_line": "低于贫困线户",
}
LEDGER_VIEW: dict[str, list[str]] = {  # the columns a notebook shows (the full row is in ledgers.xlsx)
    "income_low_operating": ["hh_id", "town", "village", "labor_capacity", "size", "net_income",
                             "net_per_capita", "operating_net_share", "reason"],
    "income_transfer_dependent": ["hh_id", "town", "village", "labor_capacity", "size", "net_income",
                                  "net_per_capita", "transfer_share", "reason"],
}
DECOMPOSITION_COLUMNS_ZH: dict[str, str] = {
    "source": "收入来源（人均）",
    "share": "占人均纯收入 S",
    "gini": "来源基尼系数 G_k",
    "gini_corr": "基尼相关系数 R_k",
    "contribution": "贡献 S·G·R",
    "contribution_share": "贡献占比",
    "marginal": "该项普遍增加1%时基尼系数的变化",
}


def area_table(ctx: Context, area: str) -> pd.DataFrame:
    """One row per ``area`` (``town`` or ``village``) of the scope, income year: households, those
    with net income ≤ 0, the four ratio-of-sums shares, the median household operating share,
    the two ledgers' counts (:func:`~qjlib.analyses.income.structure_by`), and the near-line and
    below-line counts (:func:`~qjlib.analyses.income.near_line_counts`). A village table keeps its
    town column (village names repeat across towns)."""
    year = ctx.income_year
    keys = ["town", "village"] if area == "village" else ["town"]
    inc_year = ctx.pkg["income"][ctx.pkg["income"]["year"] == year]
    table = structure_by(inc_year, ctx.pkg["households"], keys, **thresholds(ctx))
    counts = near_line_counts(income_frame(ctx), keys, ctx.params.poverty_line(year),
                              ctx.params.get("income.near_line_band"))
    cols = [*keys, "households", "nonpositive", *(f"{k}_share" for k in COMPONENTS),
            "operating_net_share_p50", "low_operating", "transfer_dependent"]
    return table[cols].merge(counts, on=keys, how="left")


def shares_frame(table: pd.DataFrame, label: str) -> pd.DataFrame:
    """The four shares of a :func:`~qjlib.analyses.income.structure_by`-like table, indexed by ``label``, columns in
    Chinese (for :func:`qjlib.pages.plotting.stacked_share_bar`). A negative share (a group whose
    operating costs exceed its operating income) is drawn as 0 and listed by :func:`negative_note`."""
    out = table.set_index(label)[[f"{k}_share" for k in COMPONENTS]]
    out.columns = [SHORT_ZH[k] for k in COMPONENTS]
    out.index = out.index.astype(str)
    return out


def negative_note(shares: pd.DataFrame) -> str:
    """A sentence naming the groups with a negative share (drawn as 0), or ``""``."""
    neg = shares.lt(0).any(axis=1)
    if not neg.any():
        return ""
    return ("注：" + "、".join(shares.index[neg]) + " 的生产经营性净收入合计为负（支出大于收入），"
            "图中按 0 画出，数值见表。")


def share_chart(
    shares: pd.DataFrame, title: str, xlabel: str = "占纯收入比重（各项合计 ÷ 纯收入合计）"
) -> Figure:
    """100 % stacked bars of shares (rows = groups, columns = parts), qjlib chart style; a negative
    share is drawn as 0 (see :func:`negative_note`)."""
    return plotting.stacked_share_bar(shares.clip(lower=0.0), title, xlabel=xlabel)


def labor_frame(s: dict) -> pd.DataFrame:
    """Shares by labour capacity from :func:`~qjlib.analyses.income.summary` (rows 有/弱/无劳动能力 and 全部 all)."""
    rows = {lab: s["by_labor_group"][lab] for lab in (*LABOR_CAPACITY, UNKNOWN)
            if lab in s["by_labor_group"]}
    rows["全部"] = s["shares"]
    out = pd.DataFrame(rows).T[list(COMPONENTS)].astype(float)
    out.columns = [SHORT_ZH[k] for k in COMPONENTS]
    return out


def labor_households_text(s: dict) -> str:
    """The households behind each labour-capacity group of :func:`labor_frame`, as a sentence."""
    n = s["households_by_labor_group"]
    return "户数：" + "，".join(f"{k} {n[k]:,} 户" for k in (*LABOR_CAPACITY, UNKNOWN) if k in n) + "。"


def nonpositive_table(ctx: Context) -> pd.DataFrame:
    """The scope's households with net income ≤ 0 in the income year (no shares: a finding to
    check), from :func:`~qjlib.analyses.income.nonpositive_households`."""
    return nonpositive_households(income_frame(ctx))


def trend_frame(s: dict) -> pd.DataFrame:
    """Shares by year of the balanced panel from :func:`~qjlib.analyses.income.summary` (rows = years)."""
    shares = s["trend"]["shares"]
    out = pd.DataFrame({y: shares[y] for y in sorted(shares)}).T[list(COMPONENTS)].astype(float)
    out.columns = [SHORT_ZH[k] for k in COMPONENTS]
    out.index = [f"{y}年" for y in out.index]
    return out


def items_frame(ctx: Context) -> pd.DataFrame:
    """Transfer income by item (rows 有/弱/无劳动能力 and 全部): each item's sum ÷ the transfer sum
    (:func:`~qjlib.analyses.income.transfer_items_by`), items in Chinese, income year."""
    year = ctx.income_year
    inc_year = ctx.pkg["income"][ctx.pkg["income"]["year"] == year]
    hh = ctx.pkg["households"]
    by_lab = transfer_items_by(inc_year, hh, ["labor_capacity"]).set_index("labor_capacity")
    order = [lab for lab in (*LABOR_CAPACITY, UNKNOWN) if lab in by_lab.index]
    total = transfer_items_by(inc_year, hh).assign(labor_capacity="全部").set_index("labor_capacity")
    both = pd.concat([by_lab.loc[order], total])
    cols = [f"{k}_share" for k in (*TRANSFER_ITEMS, UNITEMISED)]
    out = both[cols].astype(float)
    out.columns = [ITEMS_ZH[k] for k in (*TRANSFER_ITEMS, UNITEMISED)]
    keep = out.abs().max() >= 0.0005  # an item nobody receives (or a rounding rest) is not drawn
    return out.loc[:, keep]


def decomposition_table(s: dict) -> pd.DataFrame:
    """The Lerman–Yitzhaki table from :func:`~qjlib.analyses.income.summary`: one row per per-capita source and a total
    row (the Gini of per-capita net income); ``contribution_share`` = contribution ÷ G."""
    g = s["gini"]
    rows = []
    for k in COMPONENTS:
        d = s["decomposition"][k]
        rel = d["contribution"] / g if g else None
        rows.append({"source": COMPONENTS_ZH[k], **d, "contribution_share": rel})
    rows.append({"source": "人均纯收入 合计", "share": 1.0, "gini": g, "gini_corr": 1.0,
                 "contribution": g, "contribution_share": 1.0, "marginal": 0.0})
    out = pd.DataFrame(rows)[list(DECOMPOSITION_COLUMNS_ZH)]
    # an elasticity in % per 1 %: written out, so −0.137 reads "−0.137%" rather than "−13.7%"
    out["marginal"] = out["marginal"].map(lambda m: "—" if m is None or m != m else f"{m:+.3f}%")
    return out


def decomposition_reading(s: dict) -> str:
    """One sentence on what the decomposition means, from the computed figures."""
    g = s["gini"]
    if g is None or not s["decomposition"]:
        return "户数太少或收入全部相同，无法分解收入差距。"
    dec = s["decomposition"]
    rel = {k: dec[k]["contribution"] / g for k in COMPONENTS}
    top = max(COMPONENTS, key=lambda k: rel[k])
    eq = min(COMPONENTS, key=lambda k: dec[k]["marginal"])
    return (
        f"人均纯收入的基尼系数为 {g:.3f}。{COMPONENTS_ZH[top]}占人均纯收入的 "
        f"{fmt_pct(dec[top]['share'])}，却贡献了收入差距的 {fmt_pct(rel[top])}，是差距的主要来源；"
        f"{COMPONENTS_ZH[eq]}最能缩小差距：各户的{COMPONENTS_ZH[eq]}都增加 1% 时，基尼系数约"
        f"{'下降' if dec[eq]['marginal'] < 0 else '上升'} {abs(dec[eq]['marginal']):.2f}%。"
    )


def key_figures(s: dict) -> dict[str, object]:
    """The notebook's opening figures from :func:`~qjlib.analyses.income.summary` (Chinese label with English)."""
    if not s.get("available"):
        return {"登记户 households": "—"}
    t = s["thresholds"]
    return {
        "登记户 households": s["households"],
        "生产经营性净收入占比 operating share": fmt_pct(s["shares"]["operating_net"]),
        "转移性收入占比 transfer share": fmt_pct(s["shares"]["transfer"]),
        "经营性占比偏低户 low operating": (s["low_operating"],
                                        f"有/弱劳动能力，低于 {threshold_text(t['low_operating_share'])}"),
        "转移性依赖户 transfer dependent": (s["transfer_dependent"],
                                         f"高于 {threshold_text(t['transfer_dependent_share'])}"),
        "纯收入≤0户 net ≤ 0": (s["nonpositive"], "无占比，须核实"),
        "临界户 near the line": (s["near_line"],
                              f"贫困线以上 {threshold_text(s['near_line_band'])} 以内"),
    }


def reading(s: dict, scope_name: str) -> str:
    """A one-paragraph reading of :func:`summary` in Chinese (no typed numbers)."""
    if not s.get("available"):
        return f"{scope_name}：{s.get('reason', '无法分析')}。"
    y, n, sh, t = s["income_year"], s["households"], s["shares"], s["thresholds"]
    parts = [
        f"{scope_name} {y} 年有收入记录的登记户 {n:,} 户。按各项收入合计 ÷ 纯收入合计计算，"
        f"工资性收入占 {fmt_pct(sh['wage'])}，生产经营性净收入占 {fmt_pct(sh['operating_net'])}，"
        f"财产性收入占 {fmt_pct(sh['property'])}，转移性收入占 {fmt_pct(sh['transfer'])}。"
    ]
    tr = s["trend"]
    years = sorted(tr["shares"])
    if len(years) > 1:
        a, b = tr["shares"][years[0]], tr["shares"][years[-1]]
        parts.append(
            f"同一批 {tr['households']:,} 户（{years[0]}–{years[-1]} 年每年都有记录）相比 {years[0]} 年，"
            f"工资性收入占比{fmt_pp(b['wage'] - a['wage'])}，"
            f"生产经营性净收入占比{fmt_pp(b['operating_net'] - a['operating_net'])}，"
            f"转移性收入占比{fmt_pp(b['transfer'] - a['transfer'])}。")
    lab = s["by_labor_group"]
    if all(k in lab for k in LABOR_CAPACITY):
        parts.append(
            "转移性收入占比：有劳动能力户 " + fmt_pct(lab["有劳动能力"]["transfer"])
            + "，弱劳动能力户 " + fmt_pct(lab["弱劳动能力"]["transfer"])
            + "，无劳动能力户 " + fmt_pct(lab["无劳动能力"]["transfer"]) + "。")
    parts.append(
        f"有劳动能力或弱劳动能力、但生产经营性净收入占比低于 {threshold_text(t['low_operating_share'])} 的 "
        f"{s['low_operating']:,} 户，和转移性收入占比高于 {threshold_text(t['transfer_dependent_share'])} 的 "
        f"{s['transfer_dependent']:,} 户，已逐户列入台账。")
    if s["nonpositive"]:
        parts.append(f"另有 {s['nonpositive']:,} 户纯收入为零或负，无法计算占比，不列入上述台账，"
                     "应先核实其收入数据（见第五节）。")
    parts.append(
        f"人均纯收入在贫困线（{s['poverty_line']:,.0f} 元）至其 {1 + s['near_line_band']:g} 倍之间的"
        f"临界户 {s['near_line']:,} 户，低于贫困线的 {s['below_line']:,} 户。")
    return "".join(parts)


def definitions_text(params: Params, income_year: int) -> str:
    """The definitions of this analysis as Markdown for the notebook, with the run's parameter
    values (nothing typed by hand)."""
    y = int(income_year)
    lo = params.get("income.low_operating_share")
    hi = params.get("income.transfer_dependent_share")
    band = params.get("income.near_line_band")
    first = params.get("income.trend_first_year")
    line = params.poverty_line(y)
    return "\n".join([
        "- **纯收入** = 工资性收入 + 生产经营性收入 − 生产经营性支出 + 财产性收入 + 转移性收入（元/户），"
        "由各项重算（`qjlib.definitions.net_income`）；**生产经营性净收入** = 生产经营性收入 − 生产经营性支出。",
        "- **占比（各组）**：某项收入合计 ÷ 纯收入合计（比值之和，不是各户占比的平均）。计入收入年度有收入记录的"
        "全部登记户，纯收入≤0 的户也计入合计（其亏损是该组收入的一部分）；四项占比相加为 100%。",
        "- **户占比的分布**：各户某项收入 ÷ 该户纯收入的中位数与四分位数，只含纯收入 > 0 的户。",
        "- **纯收入≤0 的户**：没有占比，不列入任何占比台账，单独列出，作为需要核实的数据问题。",
        f"- **生产经营性收入占比偏低户**：有劳动能力或弱劳动能力（由家庭成员的劳动技能判定）、纯收入 > 0，且"
        f"生产经营性净收入 ÷ 纯收入 < {threshold_text(lo)}（参数 `income.low_operating_share`）。",
        f"- **转移性收入依赖户**：纯收入 > 0，且转移性收入 ÷ 纯收入 > {threshold_text(hi)}"
        f"（参数 `income.transfer_dependent_share`；恰好等于不计）。",
        f"- **变化趋势**：{first}（参数 `income.trend_first_year`；数据晚于此年开始时取最早年度）至 {y} 年"
        "每年都有收入记录的同一批户（平衡面板），逐年计算各项占比。",
        "- **转移性收入构成**：各项转移性收入合计 ÷ 转移性收入合计；“未分项”为转移性收入中未分到各项的部分。",
        "- **收入差距**：人均纯收入（纯收入 ÷ 当年家庭人口）的基尼系数，每户计一次，"
        "G = 2·cov(y, F(y)) ÷ 均值(y)，F 为中位秩经验分布（相同收入取平均秩）。按人均收入来源（各项 ÷ 人口，"
        "四项相加等于人均纯收入）作 Lerman–Yitzhaki 分解：S_k 为该项占人均纯收入的比重，G_k 为该项自身的基尼系数，"
        "R_k = cov(y_k, F(y)) ÷ cov(y_k, F(y_k)) 为基尼相关系数；贡献 S_k·G_k·R_k 相加恰等于 G；"
        "该项普遍增加 1% 时基尼系数的相对变化为 S_k·(G_k·R_k ÷ G − 1)。",
        f"- **临界户**：人均纯收入不低于当年贫困线、且不超过贫困线的 {1 + band:g} 倍"
        f"（参数 `income.near_line_band` = {band:g}）；{y} 年贫困线 {line:,.0f} 元/人"
        f"（来源：{params.sources.get('poverty_line', '')}）。",
    ])
