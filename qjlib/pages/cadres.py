"""The helper-cadre page (notebook 40): key figures, the reading, the definitions, tables by
area and unit, the funnel plot and the rank chart — what the notebook shows of
:mod:`qjlib.analyses.cadres` (``summary.json`` part ``helpers``). Every number is computed there;
this module words and draws it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from qjlib.analyses.cadres import FLAG_ZH, Review, visits_outcome_correlation
from qjlib.analyses.comparison import funnel_limits
from qjlib.core.fmt import fmt_int, fmt_pct
from qjlib.core.ids import isin

COMPONENT_ZH = {"outcome": "帮扶成效", "villagers": "群众测评", "leaders": "领导点评",
                "interview": "干部访谈"}

AREA_COLUMNS_ZH = {"town": "乡(镇)", "village": "行政村", "households": "登记贫困户",
                   "unpaired": "无在帮责任人（户）", "frequent_change": "频繁调换（户）",
                   "pairing_invalid": "结对日期有误（条）", "overloaded": "一帮多（人）"}
UNIT_COLUMNS_ZH = {"unit": "单位", "helpers": "帮扶责任人", "households": "在帮户数",
                   "overloaded": "一帮多（人）", "below_limit": "成效低于控制下限（人）",
                   "not_reviewed": "年内未测评（人）", "no_visit": "本季度无走访（人）",
                   "composite_mean": "综合得分均值"}
VIEW_ZH = {"rank": "排名", "interval": "95%排名区间", "helper_id": "帮扶责任人编号", "name": "姓名",
           "unit": "单位", "town": "乡(镇)", "n_households": "在帮户", "outcome_shrunk": "成效",
           "villagers_shrunk": "群众", "leaders_shrunk": "领导", "interview_shrunk": "访谈",
           "composite": "综合得分", "visits_quarter": "本季走访", "reason": "标记"}


def review_view(table: pd.DataFrame) -> pd.DataFrame:
    """A narrow view of ``helper_review`` rows for reading (headers :data:`VIEW_ZH`): the rank
    interval as one ``lo–hi`` text column, the shrunk components, the composite, visits and the
    Chinese flags. Row order is kept."""
    t = table.reset_index(drop=True)
    lo, hi = t["rank_lo"].astype("Float64"), t["rank_hi"].astype("Float64")
    interval = (lo.map(fmt_int, na_action="ignore").astype("str") + "–"
                + hi.map(fmt_int, na_action="ignore").astype("str"))
    return t.assign(interval=interval)[list(VIEW_ZH)]


def compliance_by(households: pd.DataFrame, ledgers: dict[str, pd.DataFrame],
                  area: str = "town") -> pd.DataFrame:
    """Per ``area`` (``town`` or ``village``, sorted) of ``households``: registered households,
    unpaired households, households with frequent changes, invalid pairings, and overloaded
    helpers (a helper counts in each area of its households), with a 合计 total row that counts
    each overloaded helper once; counts."""
    out = pd.DataFrame({"households": households.groupby(area).size()})
    for name, col in (("helper_unpaired", "unpaired"), ("helper_frequent_change", "frequent_change"),
                      ("helper_pairing_invalid", "pairing_invalid")):
        led = ledgers[name]
        out[col] = led[isin(led["hh_id"], households["hh_id"])].groupby(area).size()
    ov = ledgers["helper_overloaded"][area].dropna().str.split("、").explode()
    out["overloaded"] = ov.value_counts()
    out = out.fillna(0).astype("int64").sort_index()
    total = out.sum().to_frame("合计").T
    total["overloaded"] = int(ov.index.nunique())
    return pd.concat([out, total]).rename_axis(area)


def review_by_unit(table: pd.DataFrame, max_households: int) -> pd.DataFrame:
    """Per unit (sorted): helpers, households in active pairings, overloaded helpers
    (``n_households > max_households``), flags (below the 99.8 % limit, not reviewed, no visit)
    and the mean composite; a helper without a unit counts under ``未填单位``."""
    flag = table["flag"].fillna("")
    t = table.assign(unit=table["unit"].fillna("未填单位"),
                     overloaded=table["n_households"].fillna(0).gt(max_households).astype("int64"),
                     **{k: flag.str.contains(k).astype("int64") for k in FLAG_ZH})
    g = t.groupby("unit")
    out = g[["n_households", "overloaded", *FLAG_ZH]].sum().rename(
        columns={"n_households": "households"})
    out.insert(0, "helpers", g.size())
    out["composite_mean"] = g["composite"].mean()
    return out.sort_index()


def top_bottom(table: pd.DataFrame, k: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``k`` helpers with the lowest composite (worst first) and the ``k`` highest (best
    first), among those with a composite (rows of ``table``, all columns)."""
    r = table[table["composite"].notna()].sort_values(["rank", "helper_id"])
    return r.tail(k).iloc[::-1].reset_index(drop=True), r.head(k).reset_index(drop=True)


def _count(table: pd.DataFrame, flag: str) -> int:
    """Helpers of ``table`` whose ``flag`` includes ``flag``."""
    return int(table["flag"].fillna("").str.contains(flag).sum())


def key_figures(s: dict, table: pd.DataFrame, params: Any) -> dict[str, object]:
    """The notebook's opening figures (label → value or (value, note)): compliance from the
    scope's summary ``s`` (:func:`qjlib.analyses.cadres.summary`), the review from the scope's
    rows of the ``helper_review`` ledger ``table``; ``params`` word the change window."""
    if not s.get("available"):
        return {"帮扶责任人 helpers": "—"}
    share = s["reviewed_share"]
    return {
        "登记贫困户 households": s["households"],
        "无在帮帮扶责任人 unpaired": (s["unpaired"], "户"),
        "一帮多 overloaded": (s["overloaded"], "名帮扶责任人"),
        "频繁调换 frequent change": (s["frequent_change"],
                                 f"户，近{params.get('helpers.change_window_months')}个月"),
        "帮扶责任人 helpers": (s["helpers_linked"], "年内联户"),
        "年内已测评 reviewed": (fmt_pct(share), f"未测评 {s['not_reviewed']:,} 名"
                               if s.get("not_reviewed") is not None else None),
        "成效低于控制下限 below limit": (_count(table, "below_limit"), "名，99.8% 漏斗下限"),
        "本季度无走访 no visit": (_count(table, "no_visit"), "名（门槛，不计分）"),
    }


def rank_interval_width(table: pd.DataFrame) -> float:
    """Median width of the rank intervals (``rank_hi − rank_lo``) of ``table``'s helpers."""
    w = (table["rank_hi"] - table["rank_lo"]).astype(float)
    return float(w.median()) if w.notna().any() else float("nan")


def reading(s: dict, table: pd.DataFrame, scope_name: str, params: Any,
            n_ranked: int | None = None) -> str:
    """A one-paragraph reading in Chinese, every number computed (no typed figures); ``table``
    holds the scope's rows of ``helper_review``, ``n_ranked`` the number of helpers ranked in
    the county (default: the largest rank in ``table``)."""
    if not s.get("available"):
        return f"{scope_name}：{s.get('reason', '无法分析')}。"
    limit = int(params.get("helpers.max_households"))
    changes = int(params.get("helpers.max_changes_12m"))
    months = int(params.get("helpers.change_window_months"))
    parts = [f"{scope_name}登记贫困户 {s['households']:,} 户（含已脱贫户：摘帽不摘帮扶）。"]
    parts.append(f"截至 {s['as_of']}，{s['unpaired']:,} 户没有在帮的结对帮扶责任人；"
                 if s["unpaired"] else f"截至 {s['as_of']}，每户都有在帮的结对帮扶责任人；")
    parts.append(f"{s['overloaded']:,} 名帮扶责任人结对超过 {limit} 户（一帮多）；"
                 if s["overloaded"] else f"没有帮扶责任人结对超过 {limit} 户；")
    parts.append(f"{s['frequent_change']:,} 户近 {months} 个月调换帮扶责任人超过 {changes} 次。"
                 if s["frequent_change"] else
                 f"没有户近 {months} 个月调换帮扶责任人超过 {changes} 次。")
    if s["pairing_invalid"]:
        parts.append(f"另有 {s['pairing_invalid']:,} 条结对记录日期重叠或结束早于开始，须与系统核对。")
    if s["registered_poor"]:
        parts.append(f"{s['registered_poor']:,} 名帮扶责任人的证件号码与建档立卡贫困人口相同，"
                     "须核实是本人属贫困人口还是证件号码录入有误。")
    rated = int(table["composite"].notna().sum())
    below, no_visit = _count(table, "below_limit"), _count(table, "no_visit")
    if rated:
        parts.append(f"帮扶成效方面，{rated:,} 名帮扶责任人有综合得分；"
                     + (f"其中 {below:,} 名的帮扶成效（结对户人均纯收入增长与条件相近的户相比）"
                        "低于全县漏斗图 99.8% 控制下限，应逐一了解原因；" if below else
                        "没有帮扶责任人的帮扶成效低于全县漏斗图 99.8% 控制下限；")
                     + (f"{no_visit:,} 名本季度没有走访记录（走访只作门槛，不计入成效）。"
                        if no_visit else "本季度每名在帮的帮扶责任人都有走访记录。"))
        w = rank_interval_width(table)
        total = int(n_ranked if n_ranked is not None else table["rank"].max())
        parts.append(f"排名的 95% 区间中位宽度约 {fmt_int(w)} 位（全县共排名 {total:,} 名），"
                     "多数帮扶责任人之间的差别在统计上分不开，名次只宜用来找出首尾、不宜逐位排座次。")
    if s.get("reviewed_share") is not None:
        parts.append(f"年内已测评 {fmt_pct(s['reviewed_share'])} 的联户帮扶责任人"
                     + (f"，{s['not_reviewed']:,} 名尚未测评（方案要求年内轮评一遍）。"
                        if s.get("not_reviewed") else "，已全部轮评。"))
    return "".join(parts)


def visits_text(table: pd.DataFrame) -> str:
    """Why visits are a gate and not a result, with this scope's computed rank correlation."""
    rho, n = visits_outcome_correlation(table)
    head = ("方案 五.3 要求“纠正以入户次数评价帮扶成效的评价办法”。走访是帮扶的手段，不是帮扶的结果："
            "次数容易填报、也容易“刷”，却说明不了户的收入是否提高、日子是否好过。"
            "本页的帮扶成效只看结果——结对期间户人均纯收入的变化与条件相近的户相比，"
            "再结合群众测评、领导点评和干部访谈评分；走访只作门槛：在帮的帮扶责任人本季度至少走访一次，"
            "否则标记“本季度无走访记录”，但走访多不加分。")
    if rho != rho:
        return head
    a = abs(rho)
    how = ("几乎不相关：走访多的，成效并不见得好" if a < 0.1 else
           "相关很弱：走访次数几乎说明不了成效" if a < 0.3 else
           "有一定相关，但走访仍只是过程，不能代替结果")
    return head + (f"\n\n用本范围的数据检验：{n:,} 名在帮的帮扶责任人本季度户均走访次数与帮扶成效"
                   f"（收缩估计）的秩相关系数 ρ = {rho:.2f}，{how}。")


def funnel_text(rev: Review, table: pd.DataFrame) -> str:
    """What the funnel plot rests on, from the county estimates of ``rev``; the count of flagged
    helpers among ``table``'s rows (the scope)."""
    e = rev.estimates.get("outcome")
    if not e or not np.isfinite(e.get("sigma2", np.nan)):
        return "没有可用于比较帮扶成效的收入数据。"
    n_typ = float(rev.funnel["n"].median())
    lam = e["tau2"] / (e["tau2"] + e["sigma2"] / n_typ) if e["tau2"] + e["sigma2"] > 0 else 0.0
    phi, tau2_f = e.get("phi", np.nan), e.get("tau2_funnel", 0.0)
    over = (f"缩尾后的离散度 φ = {phi:.2f}，"
            + (f"大于 1，控制限按加性随机效应放宽（τ² = {tau2_f:.4f}）。" if tau2_f > 0 else
               "不大于 1，没有过度离散，控制限不需放宽。"))
    below = _count(table, "below_limit")
    return (f"全县 {e['groups']:,} 名帮扶责任人的 {e['obs']:,} 段结对有成效观测。帮扶责任人内部（户与户之间）"
            f"方差 σ² = {e['sigma2']:.4f}，帮扶责任人之间的方差 τ² = {e['tau2']:.4f}："
            f"结对 {n_typ:.0f} 户的帮扶责任人，平均残差的可靠度 λ 约为 {lam:.2f}，"
            "即所见差别中只有这一部分反映帮扶责任人本身，其余是户的偶然差异——这正是要收缩、要给区间的原因。"
            + over + f"本范围低于 99.8% 控制下限的帮扶责任人 {below:,} 名。")


def definitions_text(params: Any) -> str:
    """The definitions of this page as Markdown, with the run's parameter values."""
    P = params
    months = P.get("helpers.change_window_months")
    old, child = P.get("helpers.old_age"), P.get("helpers.child_age")
    w = P.get("helpers.weights")
    wt = "、".join(f"{COMPONENT_ZH[k]} {v:g}" for k, v in w.items() if k in COMPONENT_ZH)
    return "\n".join([
        f"- **在帮结对**（截至报告日 A = {P.asof:%Y-%m-%d}）：开始时间 ≤ A，且结束时间为空或 ≥ A（两端都含）。",
        "- **无在帮帮扶责任人**：户信息表中的每一户（含已脱贫户，摘帽不摘帮扶）在 A 日没有在帮结对。",
        f"- **一帮多**：在帮结对户数超过 {P.get('helpers.max_households')} 户（参数 "
        "`helpers.max_households`，恰好等于上限不算）。",
        f"- **频繁调换**：近 {months} 个月（A 前 {months} 个月的同一天之后，至 A 日，含 A 日）开始的、"
        "且不是该户第一次结对的"
        f"结对为一次调换；超过 {P.get('helpers.max_changes_12m')} 次（参数 `helpers.max_changes_12m`）列入台账。",
        "- **结对日期有误**：结束早于开始；或同一户的两段结对重叠（后一段在前一段结束之前开始；"
        "同一天交接不算重叠）。",
        "- **帮扶责任人本人为贫困人口**：帮扶责任人证件号码与户主或家庭成员的证件号码相同。",
        "- **帮扶成效**：每段结对的户人均纯收入对数变化 ln(人均纯收入[结束年]) − ln(人均纯收入[开始年])，"
        "结束年取结对结束年与收入年度中较早者；用最小二乘回归扣除基期收入、基期人口、劳动能力、主要致贫原因、"
        f"{old} 岁以上和 {child} 岁以下人口占比，以及乡镇、开始年、结束年固定效应后的残差（对数点，0.1 约为多增长 10%）。",
        "- **经验贝叶斯收缩**：帮扶责任人的平均残差 x̄ 向全体均值 μ 收缩：可靠度 λ = τ²/(τ² + σ²/n)，"
        "收缩估计 = μ + λ(x̄ − μ)，后验标准差 √(λσ²/n)；σ² 为帮扶责任人内部方差（合并），"
        "τ² 为帮扶责任人之间的方差（矩估计，DerSimonian–Laird，负值取 0）。户少的帮扶责任人收缩得多，"
        "一户的极端结果不足以排到前面。群众测评、领导点评、干部访谈（当年 1 月 1 日至 A 日）同样处理；"
        "各人重复评分完全相同时（σ² = 0）平均值即真值，不收缩；每人只有一次评分时无法估计 σ²，不收缩，"
        "排名模拟中其不确定性取各人得分的标准差（上限，区间宁宽勿窄）。",
        "- **综合得分**：各项收缩估计减去全体均值、除以帮扶责任人之间真实差别的标准差 τ（z 分；"
        "没有重复评分、无法估计 τ 的项用各人得分的标准差），可靠度低的项因此影响小；"
        "各人之间没有差别（τ = 0）的项不参与综合，其权重分给其余各项；"
        f"再加权平均，权重 {wt}"
        "（参数 `helpers.weights`），缺项时按已有项重新归一；越高越好。走访不计分。",
        f"- **漏斗图控制限**：μ ± z·√(σ²/n + τ²)，{fmt_pct(P.get('helpers.funnel_warn'), 0)} 与 "
        f"{fmt_pct(P.get('helpers.flag_limit'))}；过度离散按加性随机效应调整（Spiegelhalter 2005），"
        f"τ² 由每侧缩尾 {fmt_pct(P.get('helpers.funnel_winsor'), 0)} 的 z 分估计。低于 "
        f"{fmt_pct(P.get('helpers.flag_limit'))} 下限即标记。",
        f"- **排名区间**：按各项后验分布随机抽取 {P.get('helpers.rank_draws'):,} 次（固定种子 "
        f"{P.get('helpers.rank_seed')}），每次重算综合得分与名次，取名次的中间 "
        f"{fmt_pct(P.get('helpers.rank_level'), 0)}。排名 1 为最好。区间把估计出的 σ²、τ²、μ 当作已知"
        "（代入值），没有计入它们本身的估计误差；帮扶责任人少或重复评分少时，真实的不确定性比区间更大。",
        "- **测评覆盖**：年内联户帮扶责任人（当年 1 月 1 日至 A 日有在帮结对）中，当年有任一测评记录的比例。",
    ])


def funnel_figure(rev: Review, highlight: Any = None,
                  title: str = "帮扶成效漏斗图 Funnel plot of helper outcomes"):
    """Helper mean residual (log points) against its number of outcome households, with the
    95 % and 99.8 % limits (additive over-dispersion τ²); helpers below the 99.8 % limit in
    vermillion. With ``highlight`` (helper ids, e.g. a town's), the others are drawn in grey."""
    import matplotlib.pyplot as plt

    from qjlib.pages.plotting import GREY, OKABE_ITO

    f = rev.funnel
    est = rev.estimates.get("outcome", {})
    fig, ax = plt.subplots(figsize=(10.0, 6.0), layout="constrained")
    if f.empty or not np.isfinite(est.get("sigma2", np.nan)):
        ax.text(0.5, 0.5, "无可用的帮扶成效数据 / no outcome data", ha="center", transform=ax.transAxes)
        return fig
    grid = np.linspace(1, max(float(f["n"].max()), 2.0), 200)
    tau2 = est["tau2_funnel"] if np.isfinite(est.get("tau2_funnel", np.nan)) else 0.0
    warn, flag = rev.levels
    for lev, style, lab in ((warn, "--", f"{fmt_pct(warn, 0)} 控制限"),
                            (flag, "-", f"{fmt_pct(flag)} 控制限")):
        lo, hi = funnel_limits(grid, est["mu"], est["sigma2"], tau2, lev)
        ax.plot(grid, lo, style, color=GREY, label=lab)
        ax.plot(grid, hi, style, color=GREY)
    below = (f["mean"] < f["lo_flag"]).to_numpy()
    mine = np.ones(len(f), bool) if highlight is None else isin(f["helper_id"], list(highlight))
    jitter = (pd.util.hash_pandas_object(f["helper_id"], index=False).to_numpy() % 1000) / 1000 - 0.5
    x, y = f["n"].to_numpy(float) + 0.3 * jitter, f["mean"].to_numpy(float)
    if highlight is not None:
        ax.scatter(x[~mine], y[~mine], s=10, alpha=0.25, color=GREY, label="其他乡镇的帮扶责任人")
    sel = mine & ~below
    ax.scatter(x[sel], y[sel], s=14, alpha=0.5, color=OKABE_ITO[0],
               label="帮扶责任人" if highlight is None else "本范围的帮扶责任人")
    sel = mine & below
    ax.scatter(x[sel], y[sel], s=36, color=OKABE_ITO[3], label=f"低于 {fmt_pct(flag)} 下限")
    ax.axhline(est["mu"], color="black", lw=1)
    ax.set_xlabel("有成效观测的结对户数 n（户）")
    ax.set_ylabel("平均残差（对数点）mean residual")
    ax.set_title(title, loc="left")
    ax.grid(axis="y", visible=True)
    ax.legend(loc="lower right")
    return fig


def rank_figure(table: pd.DataFrame, title: str, n_total: int | None = None):
    """Caterpillar chart: each helper's composite rank (dot) and its rank interval (bar), one row
    per helper of ``table`` in the given order, labelled by helper id and unit (never by name);
    the axis spans ranks 1 … ``n_total`` (all ranked helpers) when given."""
    import matplotlib.pyplot as plt

    from qjlib.pages.plotting import OKABE_ITO

    t = table.reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(10.0, max(2.8, 0.42 * len(t) + 1.4)), layout="constrained")
    y = np.arange(len(t))[::-1]
    lo, hi, r = (t[c].astype(float).to_numpy() for c in ("rank_lo", "rank_hi", "rank"))
    ax.hlines(y, lo, hi, color=OKABE_ITO[0], lw=3, alpha=0.6)
    ax.plot(r, y, "o", color=OKABE_ITO[3])
    labels = t["helper_id"].astype(str) + "  " + t["unit"].fillna("").astype(str)
    ax.set_yticks(y, labels.tolist())
    if n_total:
        ax.set_xlim(-0.02 * n_total, 1.02 * n_total)
    ax.set_xlabel("综合得分排名（1 = 最好）及 95% 区间 rank and interval")
    ax.set_title(title, loc="left")
    ax.grid(axis="y", visible=False)
    return fig
