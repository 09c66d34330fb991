"""Income declines of past exited households (plan R5): the analysis of a run, the
``income_decline`` ledger and the summary figures.

The definitions (decrease, run, data gap, the size/income split, trend, extreme jump) and the panel
metrics are in :mod:`qjlib.analyses.decline_metrics`; the time-series statistics in
:mod:`qjlib.analyses.trend`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from qjlib.analyses.decline_metrics import (
    CAUSE_ZH,
    COMPONENT_ZH,
    COMPONENTS,
    Panel,
    cohort_growth,
    cohort_medians,
    decline_metrics,
    decline_params,
)
from qjlib.core.context import Context, per_context
from qjlib.core.fmt import MISSING, json_number, yuan_texts
from qjlib.core.ledgers import LedgerSpec

# --------------------------------------------------------------------------------------------
# The analysis of a run: past exited households, their metrics, the ledger


@dataclass(frozen=True)
class DeclineAnalysis:
    """Everything the ledger, the summary and the notebook show, computed once per context.

    ``households``: the past exited households (``hh_id, town, village, exit_status, exit_year``),
    sorted by ``hh_id``; ``panel`` and ``metrics`` have one row per household in that order
    (households without income rows are all-NaN rows: a data gap in the income year).
    """

    income_year: int
    n_declines: int
    households: pd.DataFrame
    panel: Panel
    metrics: pd.DataFrame
    ledger: pd.DataFrame
    cohorts: pd.DataFrame
    cohort_growth: pd.DataFrame


HOUSEHOLD_COLUMNS = ("hh_id", "town", "village", "exit_status", "exit_year")

#: The columns of the ``income_decline`` ledger, in order.
LEDGER_COLUMNS: tuple[str, ...] = (
    "hh_id", "urgency", "town", "village", "exit_status", "exit_year", "n_declines", "start_year",
    "pc_start", "pc_now", "pc_change", "change_rate", "pc_series", "size_series", "size_start",
    "size_now", "pc_income_effect", "pc_size_effect", "cause", "component", "pc_component_effect",
    "poverty_line", "line_ratio", "below_line", "growth_rate", "trend_rate", "mk_p_down", "trend",
    "jump_suspect", "reason",
)

# Chinese headers of the ledger's own columns (hh_id, town, village, exit_status, exit_year and
# reason take the schema's and the common labels).
LEDGER_COLUMNS_ZH: dict[str, str] = {
    "urgency": "紧急程度排序（1最急）",
    "n_declines": "连续下降年数",
    "start_year": "起始年度",
    "pc_start": "起始年人均纯收入（元）",
    "pc_now": "当年人均纯收入（元）",
    "pc_change": "人均纯收入变化（元）",
    "change_rate": "变化率",
    "pc_series": "人均纯收入序列（年:元）",
    "size_series": "家庭人口序列（人）",
    "size_start": "起始年人口",
    "size_now": "当年人口",
    "pc_income_effect": "收入变动影响（元/人）",
    "pc_size_effect": "人口变动影响（元/人）",
    "cause": "下降原因",
    "component": "降幅最大的收入项",
    "pc_component_effect": "该项影响（元/人）",
    "poverty_line": "当年贫困线（元）",
    "line_ratio": "人均纯收入÷贫困线",
    "below_line": "低于贫困线",
    "growth_rate": "全期年均增长率（首末年）",
    "trend_rate": "稳健趋势（年均，Theil–Sen）",
    "mk_p_down": "下降趋势检验p值（Mann–Kendall精确）",
    "trend": "全期趋势",
    "jump_suspect": "疑似数据错误（跳变）",
}

TREND_ZH: dict[str, str] = {"down": "下降", "up": "上升", "flat": "无明显趋势"}

# What the notebooks reuse of a report run instead of recomputing (scopes it is saved for).
NAME = "decline"  # its part of summary.json and its key in qjlib.analyses.REGISTRY
NOTEBOOK_RESULTS: dict[str, tuple[str, ...]] = {"analyse": ("county", "towns")}

LEDGERS = {
    "income_decline": LedgerSpec(
        name="income_decline",
        title_zh="历年脱贫户人均纯收入连续下降台账",
        key=("hh_id",),
        columns_zh=LEDGER_COLUMNS_ZH,
        plan="R5",
        formats={"line_ratio": "float", "mk_p_down": "float"},
    ),
}


@per_context
def analyse(ctx: Context) -> DeclineAnalysis | None:
    """Past exited households of the scope (:func:`qjlib.core.definitions.past_exited` for the income
    year), their :func:`household_metrics`, the ``income_decline`` ledger and the cohort tables.
    None when the package has no income table or the households no ``exit_year``."""
    from qjlib.core.definitions import past_exited

    pkg = ctx.pkg
    if not pkg.has("income") or "exit_year" not in pkg["households"].columns:
        return None
    y = int(ctx.income_year)
    kw = decline_params(ctx.params)
    hh = pkg["households"]
    cols = [c for c in HOUSEHOLD_COLUMNS if c in hh.columns]
    past = hh.loc[past_exited(hh, y).to_numpy(), cols]
    past = past.sort_values("hh_id", kind="stable").reset_index(drop=True)
    panel, metrics = decline_metrics(pkg["income"], y, ctx.params, ids=past["hh_id"])
    lines = kw["poverty_lines"]
    cohorts = cohort_medians(panel, past["exit_year"].to_numpy(dtype=np.int64), lines)
    return DeclineAnalysis(
        income_year=y,
        n_declines=kw["n_declines"],
        households=past,
        panel=panel,
        metrics=metrics,
        ledger=decline_ledger(past, panel, metrics, y, kw["n_declines"], kw["jump_factor"]),
        cohorts=cohorts,
        cohort_growth=cohort_growth(cohorts, y),
    )


def signed_pct(x: float | None) -> str:
    """A change already in percent, signed, one decimal: ``1.23`` → ``"+1.2%"``, ``-0.5`` →
    ``"-0.5%"``; ``None`` → ``"—"``. (Not :func:`qjlib.core.fmt.fmt_pct`, which takes a fraction
    and writes no sign.)"""
    return MISSING if x is None else f"{x:+.1f}%"


def _int_text(x: np.ndarray) -> pd.Series:
    """Whole numbers as text ("" for NaN), without thousands separators."""
    s = pd.Series(np.round(x)).astype("Int64").astype("str")
    return s.fillna("")


def decline_ledger(households: pd.DataFrame, panel: Panel, metrics: pd.DataFrame, income_year: int,
                   n_declines: int, jump_factor: float) -> pd.DataFrame:
    """The ``income_decline`` ledger: the flagged rows of ``metrics`` with their household's town,
    village and exit, the series of the window Y−N … Y as text, the size/income split, the component
    that fell most, the poverty line, the trend, a Chinese ``reason`` and ``urgency`` (1 = most
    urgent: below the line first, then the largest relative fall, then ``hh_id``). Sorted by
    ``hh_id``. ``households`` and ``metrics`` are row-aligned with ``panel``."""
    y, n = int(income_year), int(n_declines)
    flag = metrics["flagged"].to_numpy()
    rows = np.flatnonzero(flag)
    m = metrics.iloc[rows].reset_index(drop=True)
    hh = households.iloc[rows].reset_index(drop=True)
    cols = np.flatnonzero((panel.years >= y - n) & (panel.years <= y))
    pc_w, size_w = panel.pc[rows][:, cols], panel.size[rows][:, cols]
    years = panel.years[cols]
    pc_series = pd.Series("", index=m.index, dtype="str")
    size_series = pd.Series("", index=m.index, dtype="str")
    for k, yr in enumerate(years):  # N+1 years, vectorised over households
        sep = "" if k == 0 else " → "
        pc_series = pc_series + sep + f"{yr}:" + _int_text(pc_w[:, k])
        size_series = size_series + sep + _int_text(size_w[:, k])

    out = pd.DataFrame({
        "hh_id": hh["hh_id"].astype("str"),
        "town": hh["town"] if "town" in hh else pd.Series(pd.NA, index=hh.index, dtype="str"),
        "village": hh["village"] if "village" in hh else pd.Series(pd.NA, index=hh.index, dtype="str"),
        "exit_status": hh["exit_status"],
        "exit_year": hh["exit_year"].astype("Int64"),
        "n_declines": m["run_end"].astype("Int64"),
        "start_year": pd.Series(m["start_year"], dtype="Int64"),
        "pc_start": m["pc_start"],
        "pc_now": m["pc_now"],
        "pc_change": m["change"],
        "change_rate": m["change_pct"],
        "pc_series": pc_series,
        "size_series": size_series,
        "size_start": pd.Series(size_w[:, 0] if len(cols) else np.nan, dtype="float").astype("Int64"),
        "size_now": m["size_now"].astype("Int64"),
        "pc_income_effect": m["income_effect"],
        "pc_size_effect": m["size_effect"],
        "cause": m["cause"].map(CAUSE_ZH).astype("str"),
        "component": m["component"].map(COMPONENT_ZH).astype("str"),
        "pc_component_effect": m["component_effect"],
        "poverty_line": m["poverty_line"],
        "line_ratio": m["line_ratio"],
        "below_line": m["below_line"].astype("boolean"),
        "growth_rate": m["cagr"],
        "trend_rate": m["trend_pct"] / 100.0,
        "mk_p_down": m["mk_p_down"],
        "trend": m["trend"].map(TREND_ZH).astype("str"),
        "jump_suspect": m["jump_in_window"].astype(bool),
    })
    out["reason"] = _reason(out, y, jump_factor)
    order = out.sort_values(
        ["below_line", "change_rate", "hh_id"], ascending=[False, True, True],
        na_position="last", kind="stable").index
    out["urgency"] = pd.Series(np.arange(1, len(out) + 1), index=order).reindex(out.index)
    out["urgency"] = out["urgency"].astype("Int64")
    cols_order = [c for c in LEDGER_COLUMNS if c in out.columns]
    return out[cols_order].sort_values("hh_id", kind="stable").reset_index(drop=True)


def _reason(led: pd.DataFrame, income_year: int, jump_factor: float) -> pd.Series:
    """The Chinese reason of each ledger row, built from its figures (vectorised string ops)."""
    if led.empty:
        return pd.Series([], index=led.index, dtype="str")
    pct = (led["change_rate"] * 100).round(1).map(signed_pct, na_action="ignore")
    head = (
        "连续" + led["n_declines"].astype("str") + "年人均纯收入下降（"
        + led["start_year"].astype("str") + "年" + yuan_texts(led["pc_start"]) + "元→"
        + str(income_year) + "年" + yuan_texts(led["pc_now"]) + "元"
        + ("，" + pct).fillna("") + "）"
    )
    share = (led["pc_size_effect"] / led["pc_change"] * 100).round(0)
    cause = pd.Series(
        np.select(
            [led["cause"].eq(CAUSE_ZH["size"]).fillna(False),
             led["cause"].eq(CAUSE_ZH["income"]).fillna(False)],
            ["；仅因家庭人口增加（家庭收入未减少）", "；因家庭收入减少"],
            default="",
        ), index=led.index, dtype="str")
    both = led["cause"].eq(CAUSE_ZH["both"]).fillna(False)
    cause = cause.where(~both, "；收入减少与人口增加并存（人口因素约占"
                        + share.astype("Int64").astype("str").fillna("?") + "%）")
    comp = ("，" + led["component"] + "降幅最大").fillna("")
    line = np.where(
        led["below_line"].fillna(False), "；低于当年贫困线" + yuan_texts(led["poverty_line"]) + "元",
        "；为当年贫困线的" + led["line_ratio"].round(2).map("{:.2f}".format, na_action="ignore")
        .fillna("?") + "倍")
    jump = np.where(led["jump_suspect"],
                    f"；期间有相邻两年之比≥{jump_factor:g}或≤1/{jump_factor:g}的跳变，疑似数据错误，请先核实", "")
    return (head + cause + comp + line + jump).astype("str")


def _empty_ledger() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="str") for c in LEDGER_COLUMNS})


def build_ledgers(ctx: Context) -> dict[str, pd.DataFrame]:
    """``income_decline`` for the scope and income year (empty, with its columns, when the package
    has no income table or no exit years)."""
    res = analyse(ctx)
    return {"income_decline": _empty_ledger() if res is None else res.ledger}


def summary(ctx: Context) -> dict:
    """``decline.*`` figures of summary.json for the scope and income year.

    ``past_exited``: past exited households considered; ``flagged``: households in
    ``income_decline``; ``data_gap``: past exited households whose chain ending in the income year
    was broken by a missing year before reaching N (``no_income``: of them, no income row at all up
    to the income year); ``exited_without_year``: exited/returned households without ``exit_year``
    (not counted as past exited: a data caveat). Of the flagged: ``below_line``, ``by_cause``
    (size / income / both), ``by_component``, ``jump_suspect``. Of all past exited: ``below_line_all``,
    ``trend`` counts (exact Mann–Kendall one-sided p < ``decline.trend_alpha``), median
    ``trend_pct`` and ``cagr``, ``jumps`` (households with an extreme jump), ``by_town`` (past exited
    and flagged per town) and ``cohorts`` (see :func:`cohort_growth`).
    """
    pkg = ctx.pkg
    if not pkg.has("income"):
        return {"available": False, "reason": "未提供收入表 / no income table"}
    if "exit_year" not in pkg["households"].columns:
        return {"available": False, "reason": "户信息缺少脱贫年度 / households have no exit_year"}
    res = analyse(ctx)
    assert res is not None
    m, led, hh = res.metrics, res.ledger, res.households
    hhs = pkg["households"]
    no_year = hhs["exit_status"].isin(("exited", "returned")) & hhs["exit_year"].isna()
    flagged = m[m["flagged"].to_numpy()]
    by_town = (
        pd.DataFrame({"town": hh["town"].fillna("未知").to_numpy(), "flagged": m["flagged"].to_numpy()})
        .groupby("town").agg(past_exited=("flagged", "size"), flagged=("flagged", "sum"))
    )
    trend = m["trend"].value_counts().to_dict() | {"insufficient": int(m["trend"].isna().sum())}
    return {
        "available": True,
        "income_year": res.income_year,
        "n_declines": res.n_declines,
        "min_drop": json_number(ctx.params.get("decline.min_drop")),
        "past_exited": len(hh),
        "flagged": len(led),
        "data_gap": int(m["gap"].sum()),
        "no_income": int((m["n_years"] == 0).sum()),
        "exited_without_year": int(no_year.sum()),
        "below_line": int(led["below_line"].fillna(False).sum()),
        "by_cause": {k: int((flagged["cause"] == k).sum()) for k in CAUSE_ZH},
        "by_component": {k: int((flagged["component"] == k).sum()) for k in COMPONENTS},
        "jump_suspect": int(led["jump_suspect"].sum()),
        "below_line_all": int(m["below_line"].fillna(False).sum()),
        "trend": {k: int(trend.get(k, 0)) for k in ("down", "flat", "up", "insufficient")},
        "median_trend_pct": json_number(m["trend_pct"].median()),
        "median_cagr": json_number(m["cagr"].median()),
        "jumps": int((m["jumps"] > 0).sum()),
        "by_town": {
            str(t): {"past_exited": int(n), "flagged": int(f)}
            for t, n, f in zip(by_town.index, by_town["past_exited"], by_town["flagged"], strict=True)
        },
        "cohorts": [_cohort_figures(r) for r in res.cohort_growth.to_dict("records")],
    }


def _cohort_figures(row: dict) -> dict:
    """One row of :func:`cohort_growth` for summary.json. The medians are money, given to the fen
    (yuan, 2 decimals) as they always were; the rates are left to the report's rounding."""
    return {
        "exit_year": int(row["exit_year"]), "households": int(row["households"]),
        "base_year": int(row["base_year"]),
        "median_base": json_number(round(float(row["median_base"]), 2)),
        "median_now": json_number(round(float(row["median_now"]), 2)),
        **{k: json_number(row[k]) for k in ("growth_rate", "line_growth_rate", "excess_rate")},
    }
