"""What notebook 20 (income declines of past exited households, plan R5) shows: key figures,
the reading (Chinese prose), the definitions with the run's parameters, display tables with their
Chinese headers, and charts.

Every figure comes from :mod:`qjlib.analyses.decline` (its ``summary`` and its
:class:`~qjlib.analyses.decline.DeclineAnalysis`); nothing here computes a metric of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from qjlib.analyses.decline import (
    CAUSE_ZH,
    COMPONENT_ZH,
    LEDGERS,
    TREND_ZH,
    DeclineAnalysis,
    decline_params,
    signed_pct,
)
from qjlib.core.fmt import MISSING, fmt_pct
from qjlib.core.params import Params
from qjlib.pages import plotting

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

#: Chinese headers of the ledger's columns for a notebook's view of it (true overrides only; the
#: rest fall back to the schema and the common labels).
LEDGER_COLUMNS_ZH: dict[str, str] = LEDGERS["income_decline"].columns_zh
#: The columns of the ledger a notebook shows, in urgency order (the full row is in ledgers.xlsx).
LEDGER_VIEW: list[str] = ["urgency", "hh_id", "town", "village", "pc_series", "size_series", "reason"]



def key_figures(s: dict) -> dict[str, object]:
    """The notebook's opening figures from :func:`~qjlib.analyses.decline.summary` (Chinese label with English)."""
    if not s.get("available"):
        return {"历年脱贫户 past exited": "—"}
    n, k = s["past_exited"], s["flagged"]
    share = f"占历年脱贫户 {share_text(k, n)}" if n else None
    return {
        "历年脱贫户 past exited households": n,
        f"连续{s['n_declines']}年下降 flagged": (k, share),
        "其中低于贫困线 of them below the line": s["below_line"],
        "其中仅因人口增加 of them size only": s["by_cause"]["size"],
        "数据缺口 data gaps": (s["data_gap"], "缺年份，无法判断"),
        "全期趋势下降 downward trend": (s["trend"]["down"], "Mann–Kendall 精确检验"),
    }


def reading(s: dict, scope_name: str) -> str:
    """A one-paragraph reading of :func:`~qjlib.analyses.decline.summary` in Chinese (no typed numbers)."""
    if not s.get("available"):
        return f"{scope_name}：{s.get('reason', '无法分析')}。"
    n, k, y, nd = s["past_exited"], s["flagged"], s["income_year"], s["n_declines"]
    if not n:
        return f"{scope_name}没有历年脱贫户（{y} 年以前脱贫、含返贫），本篇无可分析的户。"
    parts = [f"{scope_name}共有历年脱贫户（{y} 年以前脱贫、含返贫）{n:,} 户。"]
    if k:
        c = s["by_cause"]
        parts.append(
            f"其中 {k:,} 户（{share_text(k, n)}）人均纯收入截至 {y} 年连续 {nd} 年下降，"
            f"{s['below_line']:,} 户已低于当年贫困线。按下降原因分："
            f"家庭收入减少 {c['income']:,} 户，仅因家庭人口增加（收入未减）{c['size']:,} 户，"
            f"两者并存 {c['both']:,} 户。")
        comp = {COMPONENT_ZH[key]: v for key, v in s["by_component"].items() if v}
        if comp:
            top = max(sorted(comp), key=lambda key: comp[key])
            parts.append(f"降幅最大的收入项以{top}居多（{comp[top]:,} 户）。")
        if s["jump_suspect"]:
            parts.append(f"{s['jump_suspect']:,} 户期间有异常跳变，应先核实数据再作判断。")
    else:
        parts.append(f"截至 {y} 年没有人均纯收入连续 {nd} 年下降的户。")
    if s["data_gap"]:
        parts.append(f"另有 {s['data_gap']:,} 户因缺少某年收入记录无法判断（数据缺口，不计为下降），"
                     "须补录后复核。")
    t = s["trend"]
    parts.append(
        f"看全期趋势（各年数据，Mann–Kendall 精确检验）：上升 {t['up']:,} 户、无明显趋势 "
        f"{t['flat']:,} 户、下降 {t['down']:,} 户；人均纯收入年均变化的中位数为 "
        f"{signed_pct(s['median_trend_pct'])}。近期连续下降与全期趋势是两个信号，应同时看。")
    if s["cohorts"]:
        ahead = sum(1 for c in s["cohorts"] if (c["excess_rate"] or 0) > 0)
        parts.append(f"按脱贫年度分组，{len(s['cohorts'])} 个年度组中有 {ahead} 个组的人均纯收入中位数"
                     "增速快于贫困线的增速。")
    return "".join(parts)


def share_text(k: int, n: int) -> str:
    """``k/n`` as a percentage with enough digits that a small non-zero share does not read 0.0%:
    one decimal from 1 %, two below (``0.05%``), ``<0.01%`` below that."""
    if not n:
        return MISSING
    x = k / n
    if x == 0 or x >= 0.01:
        return fmt_pct(x)
    return fmt_pct(x, 2) if x >= 0.0001 else "<0.01%"


AREA_COLUMNS_ZH: dict[str, str] = {
    "past_exited": "历年脱贫户",
    "flagged": "连续下降户",
    "flag_rate": "连续下降户占比",
    "below_line": "其中低于贫困线",
    "data_gap": "数据缺口户",
    "trend_down": "全期趋势下降户",
}


def by_area(res: DeclineAnalysis, area: str = "town") -> pd.DataFrame:
    """Past exited households, flagged, flagged below the line, data gaps and downward trends per
    ``town`` (or ``town, village``), sorted by flagged (descending) then name."""
    keys = ["town"] if area == "town" else ["town", "village"]
    m = res.metrics
    frame = pd.DataFrame({
        **{k: res.households[k].fillna("未知").to_numpy() for k in keys},
        "past_exited": 1,
        "flagged": m["flagged"].to_numpy(),
        "below_line": (m["flagged"] & m["below_line"].fillna(False)).to_numpy(),
        "data_gap": m["gap"].to_numpy(),
        "trend_down": (m["trend"] == "down").to_numpy(),
    })
    out = frame.groupby(keys, as_index=False).sum()
    for c in ("past_exited", "flagged", "below_line", "data_gap", "trend_down"):
        out[c] = out[c].astype(np.int64)
    out["flag_rate"] = out["flagged"] / out["past_exited"]
    out = out.sort_values(["flagged", *keys], ascending=[False] + [True] * len(keys))
    return out[[*keys, "past_exited", "flagged", "flag_rate", "below_line", "data_gap",
                "trend_down"]].reset_index(drop=True)


def area_chart(where: pd.DataFrame, area: str, n_declines: int) -> Figure:
    """Stacked bars of flagged and data-gap households per area (areas with any), integer ticks."""
    from matplotlib.ticker import MaxNLocator

    shown = where[where["flagged"] + where["data_gap"] > 0]
    chart = shown.set_index(area)[["flagged", "data_gap"]].rename(
        columns={"flagged": f"连续{n_declines}年下降", "data_gap": "数据缺口"})
    label = "乡镇" if area == "town" else "行政村"
    fig = plotting.stacked_bar(chart, f"各{label}连续下降户与数据缺口户（户）", "户数")
    fig.axes[0].xaxis.set_major_locator(MaxNLocator(integer=True))
    return fig


def cause_table(res: DeclineAnalysis) -> pd.DataFrame:
    """Flagged households by cause (size / income / both) × the component that fell most, with the
    mean income and size effects over the window (yuan per person)."""
    f = res.metrics[res.metrics["flagged"].to_numpy()]
    frame = pd.DataFrame({
        "cause": f["cause"].map(CAUSE_ZH).astype("str").fillna("—").to_numpy(),
        "component": f["component"].map(COMPONENT_ZH).astype("str").fillna("无（收入未减）")
        .to_numpy(),
        "households": 1,
        "pc_income_effect": f["income_effect"].to_numpy(),
        "pc_size_effect": f["size_effect"].to_numpy(),
    })
    out = frame.groupby(["cause", "component"], as_index=False).agg(
        households=("households", "sum"), pc_income_effect=("pc_income_effect", "mean"),
        pc_size_effect=("pc_size_effect", "mean"))
    out["households"] = out["households"].astype(np.int64)
    return out.sort_values(["households", "cause", "component"], ascending=[False, True, True]
                           ).reset_index(drop=True)


CAUSE_TABLE_ZH: dict[str, str] = {
    "cause": "下降原因",
    "component": "降幅最大的收入项",
    "households": "户数",
    "pc_income_effect": "平均收入变动影响（元/人）",
    "pc_size_effect": "平均人口变动影响（元/人）",
}

RECENT_ZH: dict[str, str] = {"flagged": "连续{n}年下降", "some": "近年有下降（不足{n}年）",
                             "none": "当年未下降", "gap": "数据缺口"}


def signals_table(res: DeclineAnalysis) -> pd.DataFrame:
    """Recent decline (flagged / some decrease ending in the income year / none / data gap) ×
    overall trend (exact Mann–Kendall: 下降 / 无明显趋势 / 上升 / 年份不足), household counts."""
    m = res.metrics
    n = res.n_declines
    recent = np.select(
        [m["flagged"].to_numpy(), m["gap"].to_numpy(), m["run_end"].to_numpy() > 0],
        [RECENT_ZH["flagged"].format(n=n), RECENT_ZH["gap"], RECENT_ZH["some"].format(n=n)],
        default=RECENT_ZH["none"])
    trend = m["trend"].map(TREND_ZH).astype("str").fillna("年份不足").to_numpy()
    tab = pd.crosstab(pd.Series(recent, name="近期 recent"), pd.Series(trend, name="全期趋势 trend"))
    rows = [RECENT_ZH[k].format(n=n) for k in ("flagged", "some", "none", "gap")]
    cols = [TREND_ZH[k] for k in ("down", "flat", "up")] + ["年份不足"]
    return tab.reindex(index=rows, columns=cols, fill_value=0).astype(np.int64)


def trajectories(res: DeclineAnalysis, k: int = 6) -> pd.DataFrame:
    """The k most urgent flagged households' per-capita income and size over all years,
    anonymised: ``label`` 户1 … 户k by urgency instead of ``hh_id``. Long form
    ``label, year, pc, size`` (NaN for a year without data)."""
    led = res.ledger.sort_values("urgency").head(k)
    pos = res.panel.hh_id.get_indexer(led["hh_id"])
    labels = [f"户{i + 1}" for i in range(len(led))]
    years = res.panel.years[res.panel.years <= res.income_year]
    t = len(years)
    return pd.DataFrame({
        "label": np.repeat(labels, t),
        "year": np.tile(years, len(led)),
        "pc": res.panel.pc[pos][:, :t].ravel(),
        "size": res.panel.size[pos][:, :t].ravel(),
    })


def trajectory_chart(traj: pd.DataFrame, poverty_lines: pd.Series, title: str) -> Figure:
    """Small multiples of the anonymised trajectories: per-capita net income (line, yuan) against
    the poverty line (dashed), household size written at each point."""
    import matplotlib.pyplot as plt

    labels = list(dict.fromkeys(traj["label"]))
    cols = min(3, max(len(labels), 1))
    rows_n = max(1, -(-len(labels) // cols))
    fig, axes = plt.subplots(rows_n, cols, figsize=(4.2 * cols, 3.2 * rows_n + 0.6),
                             layout="constrained", squeeze=False)
    for ax in axes.ravel()[len(labels):]:
        ax.set_visible(False)
    for ax, lab in zip(axes.ravel(), labels, strict=False):
        t = traj[traj["label"] == lab]
        yrs = t["year"].to_numpy()
        ax.plot(yrs, t["pc"].to_numpy(), marker="o", color=plotting.OKABE_ITO[0])
        ax.plot(yrs, poverty_lines.reindex(yrs).to_numpy(), ls="--", color=plotting.GREY)
        for x, v, n in zip(yrs, t["pc"].to_numpy(), t["size"].to_numpy(), strict=True):
            if np.isfinite(v) and np.isfinite(n):
                ax.annotate(f"{int(n)}人", (x, v), textcoords="offset points", xytext=(0, 6),
                            ha="center", fontsize=10, color="#333333")
        ax.set_title(lab, loc="left", fontsize=14)
        ax.grid(axis="y", visible=True)
        ax.tick_params(labelsize=11)
        ax.set_xticks(yrs)
        ax.set_xticklabels([str(y)[2:] for y in yrs])
    fig.suptitle(title, x=0.01, ha="left", fontsize=16)
    return fig


def cohort_chart(cohorts: pd.DataFrame, poverty_lines: pd.Series, title: str) -> Figure:
    """Median per-capita net income (yuan) of each exit-year cohort over the years, from its exit
    year on, with the poverty line (dashed black)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10.0, 5.6), layout="constrained")
    c = cohorts[cohorts["year"] >= cohorts["exit_year"]]
    for i, (cy, g) in enumerate(c.groupby("exit_year")):
        ax.plot(g["year"], g["median_pc"], marker="o", color=plotting.OKABE_ITO[i % 7],
                label=f"{cy}年脱贫（{int(g['households'].iloc[-1]):,}户）")
    yrs = np.sort(cohorts["year"].unique())
    ax.plot(yrs, poverty_lines.reindex(yrs).to_numpy(), ls="--", color="#000000", label="贫困线")
    ax.set_xticks(yrs)
    ax.set_ylabel("人均纯收入中位数（元）")
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:,.0f}")
    ax.grid(axis="y", visible=True)
    ax.set_title(title, loc="left")
    fig.legend(ncols=3, loc="outside lower center")
    return fig


COHORT_COLUMNS_ZH: dict[str, str] = {
    "exit_year": "脱贫年度",
    "households": "当年有收入记录户数",
    "base_year": "基期年度",
    "median_base": "基期人均纯收入中位数（元）",
    "median_now": "当年人均纯收入中位数（元）",
    "growth_rate": "年均增速",
    "line_growth_rate": "贫困线年均增速",
    "excess_rate": "增速差（快于贫困线为正）",
}


def definitions_text(params: Params, income_year: int) -> str:
    """The definitions of this analysis as Markdown for the notebook, with the run's parameter
    values (nothing typed by hand)."""
    kw = decline_params(params)
    y, n = int(income_year), kw["n_declines"]
    line = params.poverty_line(y)
    f = kw["jump_factor"]
    return "\n".join([
        f"- **历年脱贫户**：脱贫属性为已脱贫或返贫、且脱贫年度早于收入年度（{y} 年）的户"
        "（`qjlib.definitions.past_exited`）。没有脱贫年度的已脱贫户不计入，单独计数。",
        "- **人均纯收入** = （工资性收入 + 生产经营性收入 − 生产经营性支出 + 财产性收入 + 转移性收入）"
        "÷ 当年家庭人口（元/人），由各项收入重算。",
        ("- **一次下降**：某年人均纯收入低于上年（相等不算下降；"
         if kw["min_drop"] == 0 else
         f"- **一次下降**：某年人均纯收入比上年低 {kw['min_drop']:,.0f} 元以上（")
        + f"pc[t] < pc[t−1] − {kw['min_drop']:g}，参数 `decline.min_drop`）；两年都要有记录。",
        f"- **连续 {n} 年下降**（参数 `decline.n_declines`）：截至 {y} 年连续 {n} 次下降，需要 "
        f"{y - n}–{y} 共 {n + 1} 年的记录。缺少某一年即链条中断，计为**数据缺口**，不算下降。",
        "- **下降原因的分解**：Δ(Y/n) = ΔY·½(1/n₀+1/n₁) + Δ(1/n)·½(Y₀+Y₁)，前一项为家庭收入变动的影响，"
        "后一项为家庭人口变动的影响，两项相加恰等于人均纯收入的变化；各项收入的影响为 ΔY_c·½(1/n₀+1/n₁)，"
        "相加等于收入影响。收入影响不为负即“仅因人口增加”。",
        "- **全期趋势**：用各户全部年份（至收入年度）的数据。年均增长率（首末年，均为正时才计算）；"
        "稳健趋势为 ln(人均纯收入) 的 Theil–Sen 斜率 b，折算为每年 100·(eᵇ−1)%；"
        "Mann–Kendall 趋势检验的 p 值按全部排列精确计算（有相同数值时按相同值分组的条件分布），"
        f"单侧 p < {kw['trend_alpha']:g}（参数 `decline.trend_alpha`）判为上升或下降，"
        "至少需要 3 年数据。",
        f"- **异常跳变**：相邻两年人均纯收入之比 ≥ {f:g} 或 ≤ 1/{f:g}（参数 `decline.jump_factor`），"
        "视为疑似数据错误，请先核实，不作为结果解读。",
        f"- **贫困线**：{y} 年 {line:,.0f} 元/人（参数 `poverty_line`；来源："
        f"{params.sources.get('poverty_line', '')}）。",
        "- **脱贫年度组**：按脱贫年度分组，各年人均纯收入的中位数（当年有记录的户）；年均增速从脱贫当年"
        "（或其后第一个有数据的年份）算到收入年度，与同期贫困线的年均增速比较。",
    ])
