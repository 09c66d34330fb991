"""What notebook 70 (exit indicators and the exit assessment, plan R20) shows: key figures, the
reading, the household × item grid of this year's exits, the villages' items, the county's 577
items beside their thresholds, the 三率一度 drawn as intervals with one sentence each, and the
sample-size planner.

Every figure comes from :mod:`qjlib.analyses.exit` and :mod:`qjlib.analyses.survey`; nothing here
computes a metric of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from qjlib.analyses import survey
from qjlib.analyses.exit import HOUSEHOLD_ITEMS_ZH, RATES_ZH, VILLAGE_ITEMS_ZH, ExitAnalysis
from qjlib.analyses.exit_items import HOUSEHOLD_ITEMS, MET, NOT_MET, STATE_ZH, UNKNOWN
from qjlib.core.fmt import fmt_int, fmt_pct
from qjlib.core.params import Params
from qjlib.pages import plotting

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

STATE_COLOURS = {MET: "#009E73", NOT_MET: "#D55E00", UNKNOWN: "#BBBBBB"}
COUNTY_ITEMS_ZH = {
    "incidence": "贫困发生率（现状）", "projected_incidence": "贫困发生率（当年退出后）",
    "road": "行政村通硬化路比例", "water": "农村人口安全饮水覆盖率", "electricity": "通电率100%的行政村比例",
    "housing": "建档立卡户住房安全比例", "insured": "建档立卡人口基本医保参保率",
}
RATE_SENTENCE = {
    "wrong_exit_rate": "错退率：已脱贫户中仍不达标者（按人口计）的比例；区间上限不超过2%，才能说全县错退率达标。",
    "missed_rate": "漏评率：非建档立卡户中应纳未纳者（按人口计）的比例；区间上限不超过2%，才能说漏评率达标。",
    "approval_rate": "群众认可度：受访户中认可或基本认可的比例（说不清计入分母）；区间下限不低于90%，才能说认可度达标。",
}


def key_figures(s: dict) -> dict[str, object]:
    """The notebook's opening figures from :func:`qjlib.analyses.exit.summary`."""
    h = s["households"]
    out: dict[str, object] = {
        "当年退出户 exiting this year": h["exiting"],
        "指标未达标或待核实 not ready": h["not_ready"],
        "历年脱贫户错退隐患 hidden wrong exits": (h["quality_risk"], f"历年脱贫户 {fmt_int(h['past_exited'])} 户"),
    }
    if "villages" in s:
        out["当年退出贫困村 villages exiting"] = s["villages"]["assessed"]
        out["其中未达标或待核实 not ready"] = s["villages"]["not_ready"]
    a = s.get("assessment", {})
    if a.get("available") and "wrong_exit_rate" in a:
        out["抽样错退率 wrong exits (95%区间)"] = (
            fmt_pct(a["wrong_exit_rate"], 2), f"{fmt_pct(a['wrong_exit_rate_low'], 2)}–{fmt_pct(a['wrong_exit_rate_high'], 2)}")
    return out


def reading(s: dict, scope_name: str) -> str:
    """One paragraph of reading (Chinese) from the summary: what is not ready and why."""
    h = s["households"]
    items = h["items"]
    worst = sorted(HOUSEHOLD_ITEMS, key=lambda k: -items[k]["not_met"])
    named = "、".join(f"{HOUSEHOLD_ITEMS_ZH[k]}{fmt_int(items[k]['not_met'])}户" for k in worst if items[k]["not_met"])
    unknown = "、".join(HOUSEHOLD_ITEMS_ZH[k] for k in ("education", "medical")
                       if items[k]["unknown"] == h["exiting"] and h["exiting"])
    text = (f"{scope_name}当年（{s['calendar_year']}年）退出或计划退出的 {fmt_int(h['exiting'])} 户中，"
            f"{fmt_int(h['not_ready'])} 户有指标未达标或待核实。")
    if named:
        text += f"未达标的指标：{named}。"
    if unknown:
        text += f"{unknown}对全部户待核实：未提供或未比对教育、医保部门数据（学籍、参保表），不作推定。"
    text += (f"历年脱贫户中 {fmt_int(h['quality_risk'])} 户至少一项指标现未达标，是错退隐患，应逐户核实销号。")
    if not s.get("rural_income_set", True):
        text += ("**注意**：县农村居民人均可支配收入仍是占位默认值，贫困村“收入增幅”一项要等县里填入本县统计局数字"
                 "（参数 `exit.county_rural_income`）后才可作准。")
    return text


GRID_ROWS = 40  # households drawn in the grid: a meeting reads names, not hairlines


def item_grid_chart(res: ExitAnalysis, title: str, max_rows: int = GRID_ROWS) -> Figure:
    """This year's exiting households that are not ready × items, coloured met / not met /
    unknown, one labelled row each (village and the id's last four digits): most items off first,
    then those off the rarer items (housing, water… before the common income item), at
    most ``max_rows``; the ready households and the rows left out are counted in the title."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    g = res.exiting[list(HOUSEHOLD_ITEMS)]
    code = g.replace({MET: 0, UNKNOWN: 1, NOT_MET: 2}).astype(int).to_numpy()
    bad = (code > 0).any(axis=1)
    rare = (code > 0).astype(float) / np.maximum((code > 0).sum(axis=0), 1)  # 1 ÷ households off the item
    order = np.lexsort((-(code == 2).sum(axis=1), -rare.sum(axis=1), -(code > 0).sum(axis=1)))
    order = order[bad[order]][:max_rows]
    n_bad, n = int(bad.sum()), len(order)
    fig, ax = plt.subplots(figsize=(8.5, 1.6 + 0.24 * max(n, 1)), layout="constrained")
    cmap = ListedColormap([STATE_COLOURS[MET], STATE_COLOURS[UNKNOWN], STATE_COLOURS[NOT_MET]])
    if n:
        ax.imshow(code[order], aspect="auto", interpolation="nearest", cmap=cmap, vmin=0, vmax=2)
        n_items = len(HOUSEHOLD_ITEMS)  # white cell borders: two line collections, not 50 ticks
        ax.hlines(np.arange(0.5, n - 1), -0.5, n_items - 0.5, color="white", linewidth=1)
        ax.vlines(np.arange(0.5, n_items - 1), -0.5, n - 0.5, color="white", linewidth=1)
        ex = res.exiting.iloc[order]
        ax.set_yticks(range(n), [f"{v} …{h[-4:]}" for v, h in zip(ex["village"], ex["hh_id"].astype(str), strict=True)],
                      fontsize=8)
    else:
        ax.set_yticks([])
    ax.grid(which="major", visible=False)
    ax.xaxis.tick_top()
    ax.set_xticks(range(len(HOUSEHOLD_ITEMS)), [HOUSEHOLD_ITEMS_ZH[k] for k in HOUSEHOLD_ITEMS], fontsize=9)
    shown = f"前 {n} 户" if n < n_bad else f"{n} 户"
    ax.set_title(f"{title}\n未达标或待核实 {n_bad:,} 户（图示{shown}），另 {len(g) - n_bad:,} 户六项全部达标", fontsize=11)
    ax.legend(handles=[Patch(color=STATE_COLOURS[k], label=STATE_ZH[k]) for k in (MET, NOT_MET, UNKNOWN)],
              loc="upper center", bbox_to_anchor=(0.5, -0.01), ncol=3, frameon=False)
    return fig


def item_counts(res: ExitAnalysis) -> pd.DataFrame:
    """Per household item: households met / not met / unknown among this year's exits."""
    g = res.exiting[list(HOUSEHOLD_ITEMS)]
    return pd.DataFrame({"item": [HOUSEHOLD_ITEMS_ZH[k] for k in HOUSEHOLD_ITEMS],
                         **{STATE_ZH[s]: [int(g[k].eq(s).sum()) for k in HOUSEHOLD_ITEMS] for s in (MET, NOT_MET, UNKNOWN)}})


def village_table(res: ExitAnalysis) -> pd.DataFrame:
    """The assessed villages with each item's state in Chinese."""
    v = res.villages
    out = v[["village_code", "town", "village"]].copy()
    for k, zh in VILLAGE_ITEMS_ZH.items():
        out[zh] = v[k].map(STATE_ZH)
    out["预计贫困发生率"] = v["projected_incidence"].map(lambda x: fmt_pct(x, 2))
    return out


def _pct_beside(x: float, threshold: float) -> str:
    """``x`` as a percentage with 2 decimals, or more when 2 would print it equal to a threshold
    it differs from (2.99997 % beside "<3 %" is not "3.00 %")."""
    d = 2
    while pd.notna(x) and x != threshold and d < 6 and round(x * 100, d) == round(threshold * 100, d):
        d += 1
    return fmt_pct(x, d)


def county_table(res: ExitAnalysis) -> pd.DataFrame:
    """The county's 577 items beside their thresholds."""
    c = res.county
    return pd.DataFrame({
        "指标": c["item"].map(COUNTY_ITEMS_ZH),
        "数值": [_pct_beside(x, t) for x, t in zip(c["value"], c["threshold"], strict=True)],
        "分子": c["numerator"].map(fmt_int), "分母": c["denominator"].map(fmt_int),
        "标准": c["direction"] + c["threshold"].map(lambda x: fmt_pct(x, 0)), "判定": c["state"].map(STATE_ZH)})


def rates_chart(res: ExitAnalysis, params: Params, title: str) -> Figure:
    """Each rate as its point with the 95 % interval drawn as a bar, and its threshold."""
    import matplotlib.pyplot as plt

    names = [k for k in RATES_ZH if k in res.rates]
    fig, axes = plt.subplots(len(names), 1, figsize=(7.5, 1.3 * len(names) + 0.6),
                             layout="constrained")
    axes = np.atleast_1d(axes)
    for ax, k in zip(axes, names, strict=True):
        r, v = res.rates[k], res.verdicts[k]
        ax.plot([r.low * 100, r.high * 100], [0, 0], color=plotting.OKABE_ITO[0], lw=6, alpha=0.5)
        ax.plot([r.rate * 100], [0], "o", color=plotting.OKABE_ITO[0])
        ax.axvline(v.threshold * 100, color=STATE_COLOURS[NOT_MET], ls="--")
        ax.set_yticks([0], [f"{RATES_ZH[k]}（{STATE_ZH.get(v.state, '尚难判定')}）"])
        lo, hi = min(r.low, v.threshold), max(r.high, v.threshold)
        pad = (hi - lo) * 0.15 + 0.002
        ax.set_xlim(max(0.0, lo - pad) * 100, min(1.0, hi + pad) * 100)
        ax.set_xlabel("%")
    axes[0].set_title(title)
    return fig


def rates_table(res: ExitAnalysis) -> pd.DataFrame:
    """The rates with their intervals, design effects, methods and verdicts."""
    rows = []
    for k, r in res.rates.items():
        v = res.verdicts[k]
        rows.append({"指标": RATES_ZH[k], "估计值": fmt_pct(r.rate, 2),
                     "95%区间": f"{fmt_pct(r.low, 2)}–{fmt_pct(r.high, 2)}",
                     "样本户": r.units, "样本村": r.clusters, "设计效应": f"{r.deff:.2f}" + ("" if r.deff_estimated else "（假定）"),
                     "有效样本量": fmt_int(r.n_eff), "方法": "Wilson" if r.method == survey.WILSON else "Clopper–Pearson",
                     "判定": {survey.MET: "达标", survey.NOT_MET: "未达标"}.get(v.state, "尚难判定"),
                     "判定还需增加样本户": fmt_int(v.extra_households) if v.extra_households else "—"})
    return pd.DataFrame(rows)


def rate_sentences(res: ExitAnalysis) -> str:
    """One sentence per rate on what it means, with its interval."""
    lines = []
    for k, r in res.rates.items():
        lines.append(f"- {RATE_SENTENCE[k]}本次抽样估计 {fmt_pct(r.rate, 2)}，"
                     f"95%的把握在 {fmt_pct(r.low, 2)} 至 {fmt_pct(r.high, 2)} 之间。")
    return "\n".join(lines)


def planner_table(params: Params, deff: float, mean_size: float, clusters: int = 30) -> pd.DataFrame:
    """Households to sample so that a true wrong-exit (or missed) rate r is shown below 2 % with
    95 % confidence and 80 % power, at the design effect ``deff`` (survey.plan_sample_size)."""
    t = float(params.get("exit.max_wrong_exit_rate"))
    level = float(params.get("exit.confidence_level"))
    rows = []
    for r in (0.0, 0.005, 0.01, 0.015):
        p = survey.plan_sample_size(r, t, deff=deff, level=level, mean_size=mean_size, clusters=clusters)
        rows.append({"真实比率": fmt_pct(r, 1), "阈值": fmt_pct(t, 0), "设计效应": f"{deff:.2f}",
                     "需抽样户数": fmt_int(p.households), "有效样本量（人）": fmt_int(p.n_eff)})
    return pd.DataFrame(rows)


def definitions_text(params: Params, year: int) -> str:
    """The method, stated for the reader (Chinese)."""
    return (
        f"- 户指标（陕西“577”户5项+安全饮水+当年新识别户不得当年退出）：收入为收入年度 {year} 年家庭纯收入 ≥ 贫困线×人口（按分精确比较，恰好等于即达标）；"
        "住房以截至日期前最近一次鉴定为准（同日两次取较差等级），A、B级为安全，C、D级经改造且竣工（修缮）或入住（重建）后为安全；"
        "无鉴定、无学籍或参保数据的指标记为“待核实”，不作推定。\n"
        f"- 村7项：预计贫困发生率（当年退出完成后）< {fmt_pct(params.get('exit.village_incidence'), 0)}（恰好3%不达标）；"
        "安全饮水覆盖率、通电率须达100%（大于1的数值按百分数读）。\n"
        "- 三率一度：以行政村为初级抽样单位的比率估计，线性化方差（含 k/(k−1) 因子）得设计效应（至少为1；无法估计时取假定值 "
        f"{params.get('exit.assumed_deff')}），在有效样本量（样本量÷设计效应，再乘 Korn–Graubard 自由度因子）上计算 Wilson 区间；"
        "全未检出或全部检出时用 Clopper–Pearson 区间。区间上限（认可度为下限）在标准的达标一侧为“达标”，点估计在另一侧为“未达标”，其余为“尚难判定”。"
    )
