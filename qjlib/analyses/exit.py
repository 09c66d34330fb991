"""Exit indicators and the exit assessment (plan R20, contract/exit.md): the household items and
the ledgers ``exit_not_ready`` and ``exit_quality``, the village items and ``village_not_ready``,
the county's 577 items, and 三率一度 with intervals that respect the village clustering.

Definitions: household items and the safe house in :mod:`qjlib.analyses.exit_items`, village and
county items in :mod:`qjlib.analyses.exit_villages`, the clustered rates in
:mod:`qjlib.analyses.survey`. Years: A = as-of date, Y = income year, C = calendar year of A.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from qjlib.analyses import survey
from qjlib.analyses.exit_items import (
    HOUSEHOLD_ITEMS,
    HOUSEHOLD_ITEMS_ZH,
    NOT_MET,
    STATE_ZH,
    UNKNOWN,
    household_items,
)
from qjlib.analyses.exit_villages import (
    VILLAGE_ITEMS,
    VILLAGE_ITEMS_ZH,
    county_items,
    village_households,
    village_items,
)
from qjlib.core.context import Context, per_context
from qjlib.core.fmt import json_number, yuan_texts
from qjlib.core.ledgers import LedgerSpec

NAME = "exit"
NOTEBOOK_RESULTS: dict[str, tuple[str, ...]] = {"analyse": ("county", "towns")}

HH_COLUMNS = ("hh_id", "town", "village", "exit_status", "exit_year", "planned_exit_year")
HH_LEDGER_COLUMNS = (*HH_COLUMNS, *HOUSEHOLD_ITEMS, "failed", "unknown", "reason")
VILLAGE_LEDGER_COLUMNS = (
    "village_code", "town", "village", "exit_status", "exit_year", "planned_exit_year",
    *VILLAGE_ITEMS, "poor_persons", "rural_population", "projected_incidence", "income_ratio",
    "income_ratio_prev", "collective_income", "water_rate", "electricity_rate",
    "failed", "unknown", "reason",
)
_ITEM_ZH = {k: v for k, v in HOUSEHOLD_ITEMS_ZH.items()}
_VITEM_ZH = {f"{k}": v for k, v in VILLAGE_ITEMS_ZH.items()}

LEDGERS = {
    "exit_not_ready": LedgerSpec(
        name="exit_not_ready", title_zh="当年退出户指标未达标或待核实台账", key=("hh_id",),
        columns_zh={**_ITEM_ZH, "failed": "未达标指标", "unknown": "待核实指标"}, plan="R20"),
    "exit_quality": LedgerSpec(
        name="exit_quality", title_zh="历年脱贫户错退隐患台账", key=("hh_id",),
        columns_zh={**_ITEM_ZH, "failed": "未达标指标", "unknown": "待核实指标"}, plan="R20"),
    "village_not_ready": LedgerSpec(
        name="village_not_ready", title_zh="当年退出贫困村指标未达标台账", key=("village_code",),
        columns_zh={
            "exit_status": "退出状态", "exit_year": "退出年度", "planned_exit_year": "计划退出年度",
            **{k: v for k, v in _VITEM_ZH.items() if k != "road"}, "poor_persons": "未脱贫人口（当年退出后）",
            "projected_incidence": "预计贫困发生率", "income_ratio": "脱贫户人均纯收入÷全县农民收入（当年）",
            "income_ratio_prev": "同一比值（上年）", "failed": "未达标指标", "unknown": "待核实指标"},
        plan="R20", formats={"poor_persons": "int", "rural_population": "int"}),
}

RATES_ZH = {"wrong_exit_rate": "错退率", "missed_rate": "漏评率", "approval_rate": "群众认可度"}


@dataclass(frozen=True)
class ExitAnalysis:
    """Everything the ledgers, the summary and the notebook show, computed once per context."""

    calendar_year: int
    income_year: int
    exiting: pd.DataFrame  #: households exiting in C with their items (sorted by hh_id)
    past: pd.DataFrame  #: past exited households (exit year < C) with their items
    not_ready: pd.DataFrame
    quality: pd.DataFrame
    villages: pd.DataFrame | None  #: assessed villages with their items (None: no villages table)
    village_ledger: pd.DataFrame
    villages_without_households: list[str]
    county: pd.DataFrame | None  #: the 577 items (None: no villages table)
    rates: dict[str, survey.RateEstimate] | None  #: 三率一度 (county scope with an assessment)
    verdicts: dict[str, survey.Verdict] | None
    comprehensive: dict[str, float] | None


def _items_frame(ctx: Context, hh: pd.DataFrame) -> pd.DataFrame:
    """``hh``'s household columns with every item and its deciding values, sorted by hh_id."""
    cols = [c for c in (*HH_COLUMNS, "identified_year") if c in hh.columns]
    base = hh[cols].reset_index(drop=True)
    items = household_items(ctx, base)
    return pd.concat([base, items], axis=1).sort_values("hh_id", kind="stable").reset_index(drop=True)


def _zh_list(df: pd.DataFrame, items: tuple[str, ...], state: str, names: dict[str, str]) -> pd.Series:
    """The Chinese names of the items of each row in ``state``, joined by 、 (vectorised)."""
    out = pd.Series("", index=df.index, dtype="str")
    for it in items:
        hit = df[it].eq(state).to_numpy()
        out = out.where(~hit, out + np.where(out.eq(""), "", "、") + names[it])
    return out


def household_ledger(df: pd.DataFrame, items: tuple[str, ...]) -> pd.DataFrame:
    """Ledger rows of ``df`` (households with their items): ``failed``, ``unknown`` and a Chinese
    ``reason`` naming the deciding figures."""
    out = df.copy()
    out["failed"] = _zh_list(out, items, NOT_MET, HOUSEHOLD_ITEMS_ZH)
    out["unknown"] = _zh_list(out, items, UNKNOWN, HOUSEHOLD_ITEMS_ZH)
    pc, line = yuan_texts(out["net_per_capita"]), yuan_texts(out["poverty_line"])  # 3,217.60, not 3,218
    inc = ("人均纯收入" + pc + "元低于贫困线" + line + "元；").where(out["income"].eq(NOT_MET), "")
    head = np.where(out["failed"].ne(""), "未达标：" + out["failed"] + "；", "")
    tail = np.where(out["unknown"].ne(""), "待核实：" + out["unknown"], "")
    out["reason"] = pd.Series(head, index=out.index) + inc + tail
    for it in HOUSEHOLD_ITEMS:
        out[it] = out[it].astype("str")
    return out[list(HH_LEDGER_COLUMNS)].reset_index(drop=True)


def _village_ledger(v: pd.DataFrame) -> pd.DataFrame:
    """``village_not_ready``: assessed villages with an item not met or unknown."""
    if v is None or v.empty:
        return pd.DataFrame({c: pd.Series(dtype="str") for c in VILLAGE_LEDGER_COLUMNS})
    bad = v[list(VILLAGE_ITEMS)].isin((NOT_MET, UNKNOWN)).any(axis=1)
    out = v[bad.to_numpy()].copy()
    out["failed"] = _zh_list(out, VILLAGE_ITEMS, NOT_MET, VILLAGE_ITEMS_ZH)
    out["unknown"] = _zh_list(out, VILLAGE_ITEMS, UNKNOWN, VILLAGE_ITEMS_ZH)
    out["reason"] = (pd.Series(np.where(out["failed"].ne(""), "未达标：" + out["failed"] + "；", ""), index=out.index)
                     + np.where(out["unknown"].ne(""), "待核实：" + out["unknown"], ""))
    cols = [c for c in VILLAGE_LEDGER_COLUMNS if c in out.columns]
    return out[cols].sort_values("village_code", kind="stable").reset_index(drop=True)


def assessment_rates(ctx: Context, vhh: pd.DataFrame | None) -> tuple[dict, dict, dict | None]:
    """三率一度 from ``assessment`` (survey.estimate_rate with villages as clusters), each judged
    against its threshold, and the 综合贫困发生率 (point; ``low``/``high`` with the two rates'
    bounds put in, a range not a confidence interval). A rate with no sampled household is left
    out."""
    p = ctx.params
    level, deff0 = float(p.get("exit.confidence_level")), float(p.get("exit.assumed_deff"))
    a = ctx.pkg["assessment"]
    persons = a["persons"].astype("float")
    rates: dict[str, survey.RateEstimate] = {}
    for name, stratum, col in (("wrong_exit_rate", "exited", "wrongly_exited"),
                               ("missed_rate", "non_registered", "missed")):
        s = a[(a["stratum"].eq(stratum).fillna(False) & a[col].notna()).to_numpy()]
        if len(s) and persons[s.index].sum() > 0:
            found = persons[s.index] * s[col].astype(bool).to_numpy()
            rates[name] = survey.estimate_rate(found, persons[s.index], s["village_code"], level=level,
                                               assumed_deff=deff0)
    ans = a[a["approval"].notna().to_numpy()]
    if len(ans):
        rates["approval_rate"] = survey.estimate_rate(
            ans["approval"].isin(("approve", "basic")).to_numpy(dtype=float), np.ones(len(ans)),
            ans["village_code"], level=level, assumed_deff=deff0)
    limits = {"wrong_exit_rate": ("exit.max_wrong_exit_rate", True),
              "missed_rate": ("exit.max_missed_rate", True), "approval_rate": ("exit.min_approval", False)}
    verdicts = {k: survey.judge(r, float(p.get(limits[k][0])), at_most=limits[k][1]) for k, r in rates.items()}
    comp = None
    if vhh is not None and vhh["persons"].notna().any() and {"wrong_exit_rate", "missed_rate"} <= set(rates):
        pop = float(ctx.pkg["villages"]["rural_population"].astype("float").sum())
        poor = float(vhh.loc[vhh["exit_status"].isin(("not_exited", "returned")).to_numpy(), "persons"].sum())
        exited = float(vhh.loc[vhh["exit_status"].eq("exited").fillna(False).to_numpy(), "persons"].sum())
        non_reg = pop - float(vhh["persons"].sum())
        w, m = rates["wrong_exit_rate"], rates["missed_rate"]

        def ci(mr: float, wr: float) -> float:
            return (poor + mr * non_reg + wr * exited) / pop
        comp = {"value": ci(m.rate, w.rate), "low": ci(m.low, w.low), "high": ci(m.high, w.high),
                "poor_persons": poor, "exited_persons": exited, "non_registered_population": non_reg,
                "rural_population": pop, "threshold": float(p.get("exit.max_comprehensive_incidence"))}
    return rates, verdicts, comp


@per_context
def analyse(ctx: Context) -> ExitAnalysis:
    """The exit analysis of the scope (households exiting in C, past exits, villages, county,
    assessment)."""
    pkg, c = ctx.pkg, int(ctx.asof.year)
    hh = pkg["households"]
    ey = hh["exit_year"].astype("Float64") if "exit_year" in hh else pd.Series(np.nan, index=hh.index)
    py = hh["planned_exit_year"].astype("Float64") if "planned_exit_year" in hh else pd.Series(np.nan, index=hh.index)
    exiting_mask = (ey.eq(c).fillna(False) | py.eq(c).fillna(False)).to_numpy()
    past_mask = (hh["exit_status"].eq("exited").fillna(False) & ey.lt(c).fillna(False)).to_numpy()
    exiting = _items_frame(ctx, hh[exiting_mask])
    past = _items_frame(ctx, hh[past_mask])
    bad = exiting[list(HOUSEHOLD_ITEMS)].isin((NOT_MET, UNKNOWN)).any(axis=1).to_numpy()
    quality_items = tuple(i for i in HOUSEHOLD_ITEMS if i != "not_new")
    risk = past[list(quality_items)].eq(NOT_MET).any(axis=1).to_numpy()
    vhh = villages = county = None
    without: list[str] = []
    if pkg.has("villages"):
        vhh = village_households(ctx)
        villages = village_items(ctx, vhh)
        county = county_items(ctx, vhh, _insured(ctx))
        vil = pkg["villages"]
        if ctx.scope is None:
            used = set(vhh["village_code"].dropna())
            without = sorted(vil.loc[~vil["village_code"].isin(used).to_numpy(), "village_code"].astype(str))
    rates = verdicts = comp = None
    if ctx.scope is None and pkg.has("assessment"):
        rates, verdicts, comp = assessment_rates(ctx, vhh)
    return ExitAnalysis(
        calendar_year=c, income_year=int(ctx.income_year), exiting=exiting, past=past,
        not_ready=household_ledger(exiting[bad], HOUSEHOLD_ITEMS),
        quality=household_ledger(past[risk], quality_items).assign(not_new="—"),
        villages=villages, village_ledger=_village_ledger(villages), villages_without_households=without,
        county=county, rates=rates, verdicts=verdicts, comprehensive=comp,
    )


def _insured(ctx: Context) -> tuple[float, float] | None:
    """(numerator, denominator) of departments.md's ``health.insured_rate``: the ``insured`` and
    ``persons`` figures of the registered analysis named ``health`` (the department comparison's);
    None when ``insurance`` is absent or no such analysis gives them (the item is then unknown)."""
    from qjlib import analyses

    if not ctx.pkg.has("insurance") or "health" not in analyses.names():
        return None
    got = analyses.get("health").summary(ctx)
    if got.get("insured") is None or not got.get("persons"):
        return None
    return float(got["insured"]), float(got["persons"])


def build_ledgers(ctx: Context) -> dict[str, pd.DataFrame]:
    """``exit_not_ready``, ``exit_quality`` and ``village_not_ready`` for the scope."""
    res = analyse(ctx)
    return {"exit_not_ready": res.not_ready, "exit_quality": res.quality,
            "village_not_ready": res.village_ledger}


def _rate_figures(res: ExitAnalysis) -> dict:
    if res.rates is None:
        return {"available": False}
    out: dict = {"available": True}
    for k, r in res.rates.items():
        v = res.verdicts[k]
        out |= {k: json_number(r.rate), f"{k}_low": json_number(r.low), f"{k}_high": json_number(r.high),
                f"{k}_deff": json_number(r.deff), f"{k}_found": json_number(r.found),
                f"{k}_total": json_number(r.total), f"{k}_households": r.units, f"{k}_villages": r.clusters,
                f"{k}_method": r.method, f"{k}_verdict": v.state,
                f"{k}_extra_households": v.extra_households}
    if "wrong_exit_rate" in res.rates:
        out["design_effect"] = json_number(res.rates["wrong_exit_rate"].deff)
    if res.comprehensive is not None:
        cmp = res.comprehensive
        out["comprehensive_incidence"] = json_number(cmp["value"])
        out["comprehensive_incidence_low"] = json_number(cmp["low"])
        out["comprehensive_incidence_high"] = json_number(cmp["high"])
        out["comprehensive_incidence_verdict"] = "met" if cmp["value"] < cmp["threshold"] else "not_met"
    return out


def summary(ctx: Context) -> dict:
    """``exit.*`` figures: ``households.not_ready`` / ``quality_risk`` (ledger rows) and
    ``exiting`` / ``past_exited`` (denominators), per item the households not met and unknown;
    ``villages.assessed`` / ``not_ready`` / ``without_households``; ``county.<item>`` with
    numerator, denominator and state (``county.incidence`` and ``projected_incidence`` as
    numbers); ``assessment.*`` (each rate with ``_low``, ``_high``, ``_deff``, found and total,
    verdict), ``assessment.design_effect`` (the wrong-exit rate's), ``comprehensive_incidence``;
    ``rural_income_set`` (False: ``exit.county_rural_income`` still holds its placeholder default,
    not the county's statistics-bureau figure)."""
    res = analyse(ctx)
    hh = {"exiting": len(res.exiting), "not_ready": len(res.not_ready), "past_exited": len(res.past),
          "quality_risk": len(res.quality),
          "items": {it: {"not_met": int(res.exiting[it].eq(NOT_MET).sum()),
                         "unknown": int(res.exiting[it].eq(UNKNOWN).sum())} for it in HOUSEHOLD_ITEMS}}
    out: dict = {"calendar_year": res.calendar_year, "income_year": res.income_year, "households": hh,
                 "rural_income_set": ctx.params.sources.get("exit.county_rural_income", "").startswith("覆盖")}
    if res.villages is not None:
        out["villages"] = {"assessed": len(res.villages), "not_ready": len(res.village_ledger),
                           "without_households": res.villages_without_households}
        cty = {}
        for r in res.county.to_dict("records"):
            if pd.notna(r["value"]):  # an unknown item gives only its state
                cty[r["item"] if r["item"].endswith("incidence") else f"{r['item']}_rate"] = json_number(r["value"])
                cty[f"{r['item']}_numerator"] = json_number(r["numerator"])
                cty[f"{r['item']}_denominator"] = json_number(r["denominator"])
            cty[f"{r['item']}_state"] = r["state"]
        out["county"] = cty
    out["assessment"] = _rate_figures(res)
    return out


__all__ = ["NAME", "LEDGERS", "NOTEBOOK_RESULTS", "analyse", "build_ledgers", "summary",
           "assessment_rates", "household_ledger", "RATES_ZH", "STATE_ZH", "VILLAGE_ITEMS_ZH"]
