"""Industry projects and their beneficiaries (plan R1, 一.1) and dividends (plan R3, 一.6).

The plan asks for a ledger of industry-project beneficiaries "按产业项目类别、项目性质，逐年、逐村、逐户",
and from it: among past exited households (历年脱贫户) and those planned to exit this year (计划脱贫户),
the share with industry support and the contribution of that support to their income; each
category's share of project count and investment; the shares of direct household subsidies
(到户直补, ``direct``) and projects led by new business entities (新型经营主体带动, ``entity_led``);
and an end to "分本不分红" and "迟迟不分红".

Definitions (each written once, in the function named — in :mod:`qjlib.analyses.industry_metrics`):

- **Industry income of a benefits row** (:func:`income_amount`): its ``amount`` (yuan) when its
  ``benefit_type`` is one of ``industry.income_benefit_types`` (default 直补, 分红, 务工, 订单收购,
  土地流转 — not 本金返还, a return of capital), else 0; a blank amount counts 0. It counts in the
  row's benefit ``year`` (an entitled dividend not yet paid still belongs to that year's income).
- **Supported household** (:func:`household_support`): a household with at least one benefits row
  (any type) in the income year.
- **Support rate** (:func:`support_rates`): supported households ÷ households of the group.
- **Contribution ratio** (:func:`support_rates`): Σ industry income of the group's supported
  households in the income year ÷ Σ their net income (``income.net_income``, recomputed by the
  loader) — a ratio of sums over supported households that have an income row for the year.
- **Pivotal household** (:func:`is_pivotal`): supported, per-capita net income ≥ the year's poverty
  line, and per-capita net income − industry income ÷ size < the line (exactly at the line = not poor).
- **Groups** (:func:`exit_groups`): ``past_exited`` = ``qjlib.definitions.past_exited`` (exited or
  returned, exit year before the income year; cohort = exit year); ``planned_exit`` =
  ``planned_exit_year`` equal to the income year.
- **Count / investment shares** (:func:`project_shares`): projects (up to the income year) in a class ÷
  all projects; Σ investment (yuan) of the class ÷ Σ investment.
- **Numerators and denominators in summary.json**: every ratio has them beside it —
  ``support_rate.*``: ``supported`` ÷ ``households`` (for ``by_category``/``by_nature`` the
  class's supported past exited households ÷ all past exited households); ``ratio`` of
  ``by_category``/``by_nature`` and ``contribution_ratio.*``: ``benefit`` ÷ ``net_income`` (yuan);
  ``pivotal.share``: ``households`` ÷ ``supported``; ``count_share.<dim>.<class>`` =
  ``count_by.<dim>.<class>`` ÷ ``projects``; ``investment_share.<dim>.<class>`` =
  ``investment_by.<dim>.<class>`` ÷ ``investment`` (yuan).
- **Dividend due date** (:func:`dividend_due_dates`): the month and day of the project's
  ``dividend_due`` applied to the benefit year (a guaranteed dividend falls due every year on that
  day; the year written in the cell is ignored); blank → ``dividends.default_due`` (MM-DD) of the
  benefit year.
- **Dividend status** (:func:`dividend_obligations`) of a project × household × year with a 分红 or
  本金返还 row, for projects whose nature is in ``dividends.natures`` (entity_led, asset_income),
  judged only when the due date is on or before the as-of date: ``principal`` (本金返还 and no
  dividend paid that year), ``unpaid`` (a 分红 row without paid date or amount), ``short`` (paid
  amount < the project's ``guaranteed_dividend``), ``late`` (paid date after the due date). A
  case can meet several; ``status`` is the first in that order, ``statuses`` lists them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from qjlib.analyses.industry_metrics import (
    STATUS_ORDER,
    contribution_distribution,
    contribution_quantiles,
    dividend_obligations,
    dividends_by,
    exit_groups,
    household_benefits,
    household_support,
    income_amount,
    outcomes_by,
    project_outcomes,
    project_shares,
    projects_up_to,
    support_by_project,
    support_rates,
)
from qjlib.core.context import Context, per_context
from qjlib.core.definitions import past_exited
from qjlib.core.fmt import json_number, yuan_texts
from qjlib.core.ledgers import LedgerSpec
from qjlib.core.schema import CODE_LABELS_ZH, VALUE_LISTS

# benefit_type -> its amount column in the beneficiary ledger; a type not in the list -> amount_other.
TYPE_COLUMNS = {
    "直补": "amount_direct", "分红": "amount_dividend", "务工": "amount_wage",
    "订单收购": "amount_purchase", "土地流转": "amount_land", "本金返还": "amount_principal",
}
OTHER_TYPE_COLUMN = "amount_other"
assert set(TYPE_COLUMNS) == set(VALUE_LISTS["benefit_type"]), "benefit types out of step with schema"
SHARE_DIMENSIONS = ("category", "nature", "fund_source", "year")

# ---------------------------------------------------------------------------------------------
# Ledgers
# ---------------------------------------------------------------------------------------------

#: Each ledger's columns, in order (headers: the schema's and the common labels, else LEDGERS).
COLUMNS: dict[str, tuple[str, ...]] = {
    "industry_beneficiaries": (
        "project_id", "hh_id", "year", "town", "village", "project_name", "project_year",
        "category", "nature", "industry", "entity", "benefit_types", "amount", "amount_direct",
        "amount_dividend", "amount_wage", "amount_purchase", "amount_land", "amount_principal",
        "amount_other", "paid_date", "reason"),
    "dividend_overdue": (
        "project_id", "hh_id", "year", "status", "statuses", "town", "village", "project_name",
        "entity", "nature", "category", "due_date", "paid_date", "dividend_amount",
        "guaranteed_dividend", "principal_amount", "days_late", "shortfall", "reason"),
    "industry_projects": (
        "project_id", "name", "year", "town", "village", "category", "nature", "industry",
        "entity", "fund_source", "investment", "planned_households", "beneficiaries", "shortfall",
        "investment_per_household", "benefit", "benefit_per_10k", "dividends_due",
        "dividends_paid", "dividend_paid_amount", "dividend_issues", "reason"),
}
_PROJECT_NAME_ZH = "项目名称"  # `name` has no schema fallback (person or project)

# What the notebooks reuse of a report run instead of recomputing (scopes it is saved for).
NAME = "industry"  # its part of summary.json and its key in qjlib.analyses.REGISTRY
NOTEBOOK_RESULTS: dict[str, tuple[str, ...]] = {"analyse": ("county", "towns")}

LEDGERS: dict[str, LedgerSpec] = {
    "industry_beneficiaries": LedgerSpec(
        "industry_beneficiaries", "产业扶贫项目受益户台账", ("project_id", "hh_id", "year"),
        {"year": "受益年度", "project_name": _PROJECT_NAME_ZH, "project_year": "项目实施年度",
         "benefit_types": "受益方式", "amount": "产业收入（元）", "amount_direct": "直补（元）",
         "amount_dividend": "分红（元）", "amount_wage": "务工（元）",
         "amount_purchase": "订单收购（元）", "amount_land": "土地流转（元）",
         "amount_principal": "本金返还（元）", "amount_other": "其他受益（元）",
         "paid_date": "最近到账日期"},
        "R1",
    ),
    "dividend_overdue": LedgerSpec(
        "dividend_overdue", "保底分红问题台账（未兑付、迟兑付、低于保底、分本不分红）",
        ("project_id", "hh_id", "year"),
        {"year": "分红年度", "status": "问题类型", "statuses": "全部问题",
         "project_name": _PROJECT_NAME_ZH, "due_date": "应兑付日期",
         "dividend_amount": "分红金额（元）", "principal_amount": "本金返还（元）",
         "days_late": "迟付天数", "shortfall": "低于保底（元）"},
        "R3",
        formats={"shortfall": "money", "days_late": "int"},
    ),
    "industry_projects": LedgerSpec(
        "industry_projects", "产业扶贫项目台账（投资、带贫、分红）", ("project_id",),
        {"name": _PROJECT_NAME_ZH, "year": "实施年度", "beneficiaries": "实际受益户数",
         "shortfall": "少于计划户数", "investment_per_household": "户均投资（元/户）",
         "benefit": "累计产业收入（元）", "benefit_per_10k": "每万元投资受益（元）",
         "dividends_due": "应兑付分红户次", "dividends_paid": "已兑付分红户次",
         "dividend_paid_amount": "已兑付分红金额（元）", "dividend_issues": "分红问题户次"},
        "R1, R3",
        formats={"shortfall": "int", "benefit_per_10k": "money",
                 "investment_per_household": "money"},
    ),
}


# ---------------------------------------------------------------------------------------------
# Putting it together for a run
# ---------------------------------------------------------------------------------------------


def _date(s: pd.Series) -> pd.Series:
    return s.dt.strftime("%Y-%m-%d").astype("str").where(s.notna(), "—")


@dataclass
class Industry:
    """Everything the R1/R3 analysis computes for one run (what the notebook shows)."""

    available: bool
    reason: str = ""
    income_year: int | None = None
    line: float | None = None
    households: pd.DataFrame = field(default_factory=pd.DataFrame)  # household_support
    rates: pd.DataFrame = field(default_factory=pd.DataFrame)  # per group
    by_cohort: pd.DataFrame = field(default_factory=pd.DataFrame)
    by_town: pd.DataFrame = field(default_factory=pd.DataFrame)
    by_village: pd.DataFrame = field(default_factory=pd.DataFrame)
    by_category: pd.DataFrame = field(default_factory=pd.DataFrame)
    by_nature: pd.DataFrame = field(default_factory=pd.DataFrame)
    distribution: pd.DataFrame = field(default_factory=pd.DataFrame)
    quantiles: pd.DataFrame = field(default_factory=pd.DataFrame)
    shares: dict[str, pd.DataFrame] = field(default_factory=dict)  # dimension -> project_shares
    shares_by_year: dict[str, pd.DataFrame] = field(default_factory=dict)
    shares_cross: pd.DataFrame = field(default_factory=pd.DataFrame)  # category × nature
    outcomes: pd.DataFrame = field(default_factory=pd.DataFrame)  # project_outcomes
    outcomes_by_nature: pd.DataFrame = field(default_factory=pd.DataFrame)
    obligations: pd.DataFrame = field(default_factory=pd.DataFrame)  # dividend_obligations
    dividends_by_entity: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)


@per_context
def analyse(ctx: Context) -> Industry:
    """Run R1 and R3 on ``ctx``: support, contribution, pivotal households, shares, project
    outcomes and dividend obligations, for the scope's package and the income year."""
    pkg = ctx.pkg
    missing = [t for t in ("households", "projects", "benefits") if not pkg.has(t)]
    if missing:
        return Industry(False, f"缺少 {'、'.join(missing)} 表，产业分析关闭 / "
                               f"no {', '.join(missing)} table: industry analysis off")
    year = int(ctx.income_year)
    income_types = list(ctx.params.get("industry.income_benefit_types"))
    households, projects, benefits = pkg["households"], pkg["projects"], pkg["benefits"]
    income = pkg["income"] if pkg.has("income") else None
    notes = [] if income is not None else [
        "未提供 income 表：贡献率与关键户无法计算 / no income table: no contribution or pivotal"]
    line = ctx.params.poverty_line(year)
    groups = exit_groups(households, year, past_exited(households, year))
    frame = household_support(groups, income, household_benefits(benefits, year, income_types),
                              year, line)
    up_to = projects_up_to(projects, year)
    b_up_to = benefits[benefits["year"].le(year).fillna(False)]
    outcomes = project_outcomes(up_to, b_up_to, income_types)
    obligations = dividend_obligations(
        benefits, projects, ctx.asof, ctx.params.get("dividends.default_due"),
        ctx.params.get("dividends.natures"))
    return Industry(
        True, "", year, line, frame,
        rates=support_rates(frame),
        by_cohort=support_rates(frame, ["cohort_year"]),
        by_town=support_rates(frame, ["town"]),
        by_village=support_rates(frame, ["town", "village"]),
        by_category=support_by_project(frame, benefits, projects, year, income_types, "category"),
        by_nature=support_by_project(frame, benefits, projects, year, income_types, "nature"),
        distribution=contribution_distribution(frame, ctx.params.get("industry.contribution_bands")),
        quantiles=contribution_quantiles(frame),
        shares={d: project_shares(up_to, d) for d in SHARE_DIMENSIONS},
        shares_by_year={d: project_shares(up_to, d, within=["year"])
                        for d in ("category", "nature")},
        shares_cross=project_shares(up_to, ["category", "nature"]),
        outcomes=outcomes,
        outcomes_by_nature=outcomes_by(outcomes, "nature"),
        obligations=obligations,
        dividends_by_entity=dividends_by(obligations, projects),
        notes=notes,
    )


def _empty(name: str) -> pd.DataFrame:
    return pd.DataFrame(columns=list(COLUMNS[name]))


def beneficiary_ledger(
    benefits: pd.DataFrame, projects: pd.DataFrame, households: pd.DataFrame,
    income_types: Sequence[str],
) -> pd.DataFrame:
    """``industry_beneficiaries``: one row per project × household × year (the contract's key; a
    household's several benefit types for one project-year are columns ``amount_<type>``, listed
    in ``benefit_types``). ``amount`` = industry income (:func:`income_amount`); ``paid_date`` =
    the latest paid date of the rows; town and village are the household's."""
    key = ["project_id", "hh_id", "year"]
    b = benefits[benefits["year"].notna()].assign(
        amount=pd.to_numeric(benefits["amount"], errors="coerce").astype("float64"),
        income=lambda d: income_amount(d, income_types),
        col=lambda d: d["benefit_type"].map(TYPE_COLUMNS).fillna(OTHER_TYPE_COLUMN),
    )
    if "paid_date" not in b:
        b["paid_date"] = pd.NaT
    g = b.groupby(key, sort=True)
    out = g.agg(amount=("income", "sum"), paid_date=("paid_date", "max"))
    type_cols = [*TYPE_COLUMNS.values(), OTHER_TYPE_COLUMN]
    wide = b.assign(given=b["amount"].notna(), rows=1).pivot_table(
        index=key, columns="col", values=["amount", "given", "rows"], aggfunc="sum",
        fill_value=0, sort=True)
    present = wide["rows"].reindex(columns=type_cols, fill_value=0).gt(0)
    given = wide["given"].reindex(columns=type_cols, fill_value=0).gt(0)
    wide = wide["amount"].reindex(columns=type_cols).where(given)  # all blank -> blank
    out = out.join(wide)
    label = {v: k for k, v in TYPE_COLUMNS.items()} | {OTHER_TYPE_COLUMN: "其他"}
    types = pd.Series("", index=out.index, dtype="str")
    for c in type_cols:
        types = types.where(~present[c], types + np.where(types.eq(""), "", "、") + label[c])
    out["benefit_types"] = types
    out = out.reset_index()
    pj = projects.rename(columns={"name": "project_name", "year": "project_year"})
    pj = pj[[c for c in ("project_id", "project_name", "project_year", "category", "nature",
                         "industry", "entity") if c in pj]]
    out = out.merge(pj, on="project_id", how="left").merge(
        households[["hh_id", "town", "village"]], on="hh_id", how="left")
    nature_zh = out["nature"].map(CODE_LABELS_ZH["nature"]).fillna(out["nature"]).fillna("未知项目")
    out["reason"] = (out["category"].fillna("未知类别").astype("str") + "·" + nature_zh.astype("str")
                     + "：" + out["benefit_types"] + "，产业收入 " + yuan_texts(out["amount"]) + " 元")
    out = out.reindex(columns=list(COLUMNS["industry_beneficiaries"]))
    return out.sort_values(key, ignore_index=True)


def overdue_ledger(
    obligations: pd.DataFrame, projects: pd.DataFrame, households: pd.DataFrame,
    asof: pd.Timestamp,
) -> pd.DataFrame:
    """``dividend_overdue``: the obligations with a status, one row per project × household ×
    year (a pair with problems in two years has two rows; the year is part of the key)."""
    o = obligations[obligations["status"].notna()].drop(columns="nature")
    pj = projects.rename(columns={"name": "project_name"})
    pj = pj[[c for c in ("project_id", "project_name", "entity", "nature", "category") if c in pj]]
    o = o.merge(pj, on="project_id", how="left").merge(
        households[["hh_id", "town", "village"]], on="hh_id", how="left")
    y = o["year"].astype("str") + "年"
    pieces = {
        "principal": y + "以本金返还 " + yuan_texts(o["principal_amount"]) + " 元代替分红（分本不分红）",
        "unpaid": y + "分红应于 " + _date(o["due_date"]) + " 前兑付，截至 "
        + asof.strftime("%Y-%m-%d") + " 未兑付",
        "short": y + "分红 " + yuan_texts(o["dividend_amount"]) + " 元，低于保底 "
        + yuan_texts(o["guaranteed_dividend"]) + " 元",
        "late": y + "分红应于 " + _date(o["due_date"]) + " 前兑付，" + _date(o["paid_date"])
        + " 才到账（迟 " + o["days_late"].astype("str") + " 天）",
    }
    reason = pd.Series("", index=o.index, dtype="str")
    for k in STATUS_ORDER:
        has = o["statuses"].str.contains(k, regex=False).fillna(False).astype(bool)
        if k == "unpaid":  # principal already says the dividend was not paid
            has &= ~o["status"].eq("principal")
        reason = reason.where(~has, reason + np.where(reason.eq(""), "", "；") + pieces[k])
    o["reason"] = reason
    o = o.reindex(columns=list(COLUMNS["dividend_overdue"]))
    return o.sort_values(["project_id", "hh_id", "year"], ignore_index=True)


def project_ledger(
    outcomes: pd.DataFrame, obligations: pd.DataFrame, overdue: pd.DataFrame
) -> pd.DataFrame:
    """``industry_projects``: each project (up to the income year) with its investment, planned
    vs actual beneficiaries, industry income per 10,000 yuan, and dividends due vs paid
    (``dividends_due``: household-years due by the as-of date; ``dividends_paid``: of them paid;
    ``dividend_issues``: rows in ``dividend_overdue``)."""
    due = obligations[obligations["is_due"]]
    paid_amount = due["dividend_amount"].where(due["paid"], 0.0)
    d = due.assign(paid_amount=paid_amount).groupby("project_id").agg(
        dividends_due=("hh_id", "size"), dividends_paid=("paid", "sum"),
        dividend_paid_amount=("paid_amount", "sum"))
    issues = overdue.groupby("project_id").size().rename("dividend_issues")
    out = outcomes.merge(d, left_on="project_id", right_index=True, how="left").merge(
        issues, left_on="project_id", right_index=True, how="left")
    for c in ("dividends_due", "dividends_paid", "dividend_issues"):
        out[c] = out[c].fillna(0).astype("int64")
    out["dividend_paid_amount"] = out["dividend_paid_amount"].astype("float64").fillna(0.0)
    short = out["shortfall"].fillna(0).gt(0)
    planned = out["planned_households"] if "planned_households" in out else out["shortfall"]
    r_plan = ("受益 " + out["beneficiaries"].astype("str") + " 户，少于计划 "
              + planned.astype("str") + " 户")
    r_div = "分红问题 " + out["dividend_issues"].astype("str") + " 户次"
    r_none = out["beneficiaries"].eq(0)
    reason = pd.Series("", index=out.index, dtype="str")
    reason = reason.where(~short, r_plan)
    reason = reason.where(~(r_none & ~short), "无受益户记录")
    has_div = out["dividend_issues"].gt(0)
    reason = reason.where(~has_div, reason + np.where(reason.eq(""), "", "；") + r_div)
    out["reason"] = reason.where(reason.ne(""), "正常")
    out = out.reindex(columns=list(COLUMNS["industry_projects"]))
    return out.sort_values("project_id", ignore_index=True)


def build_ledgers(ctx: Context) -> dict[str, pd.DataFrame]:
    """The ledgers ``industry_beneficiaries``, ``dividend_overdue`` and ``industry_projects``."""
    pkg = ctx.pkg
    if not all(pkg.has(t) for t in ("households", "projects", "benefits")):
        return {name: _empty(name) for name in LEDGERS}
    res = analyse(ctx)
    households, projects, benefits = pkg["households"], pkg["projects"], pkg["benefits"]
    income_types = ctx.params.get("industry.income_benefit_types")
    overdue = overdue_ledger(res.obligations, projects, households, ctx.asof)
    return {
        "industry_beneficiaries": beneficiary_ledger(benefits, projects, households, income_types),
        "dividend_overdue": overdue,
        "industry_projects": project_ledger(res.outcomes, res.obligations, overdue),
    }


def _rates(t: pd.DataFrame, key: str | None = None) -> dict[str, Any] | dict[str, dict]:
    """Support-rate records of a :func:`support_rates` table (one row, or keyed by ``key``)."""
    recs = {str(r[key]) if key else "": {
        "rate": json_number(r["support_rate"]), "households": int(r["households"]),
        "supported": int(r["supported"])} for r in t.to_dict("records")}
    return recs if key else recs.get("", {"rate": None, "households": 0, "supported": 0})


def _contribs(t: pd.DataFrame, key: str | None = None) -> dict[str, Any] | dict[str, dict]:
    """Contribution-ratio records of a :func:`support_rates` table."""
    recs = {str(r[key]) if key else "": {
        "ratio": json_number(r["contribution_ratio"]), "households": int(r["with_income"]),
        "benefit": json_number(r["benefit"]), "net_income": json_number(r["net_income"])}
        for r in t.to_dict("records")}
    return recs if key else recs.get(
        "", {"ratio": None, "households": 0, "benefit": 0.0, "net_income": 0.0})


def _classes(t: pd.DataFrame, attr: str) -> dict[str, dict]:
    """Per project class (category or nature) for past exited households (a
    :func:`support_by_project` table): ``rate`` = ``supported`` ÷ ``households`` (all past exited
    households), ``ratio`` = ``benefit`` ÷ ``net_income`` (yuan, the class's supported households
    with an income row)."""
    t = t[t["group"].eq("past_exited")]
    return {str(r[attr]): {"rate": json_number(r["support_rate"]), "supported": int(r["supported"]),
                           "ratio": json_number(r["contribution_ratio"]),
                           "households": int(r["households"]), "benefit": json_number(r["benefit"]),
                           "net_income": json_number(r["net_income"])}
            for r in t.to_dict("records")}


def summary(ctx: Context) -> dict:
    """The ``industry.*`` figures of summary.json (contract/outputs.md), for the run's scope and
    income year: ``support_rate``, ``contribution_ratio``, ``pivotal``, ``count_share``,
    ``investment_share`` (per ``category`` and per ``nature``) and the dividend statuses.

    Each ratio's numerator and denominator are figures beside it (module docstring): the shares'
    numerators are ``count_by`` (projects) and ``investment_by`` (yuan) per dimension and class,
    their denominators ``projects`` and ``investment`` (all projects up to the income year)."""
    res = analyse(ctx)
    if not res.available:
        return {"available": False, "reason": res.reason}
    has_income = ctx.pkg.has("income")
    rates = res.rates
    past, planned = (rates[rates["group"].eq(g)] for g in ("past_exited", "planned_exit"))
    cohorts = res.by_cohort[res.by_cohort["group"].eq("past_exited")]
    hh = res.households
    n_pivotal = hh.loc[hh["pivotal"], "hh_id"].nunique()
    n_supported = hh.loc[hh["supported"], "hh_id"].nunique()

    def shares(col: str, number=json_number) -> dict[str, dict[str, Any]]:
        return {d: {str(k): number(v) for k, v in zip(res.shares[d][d], res.shares[d][col],
                                                   strict=True)}
                for d in ("category", "nature")}

    past_rate, past_contrib = _rates(past), _contribs(past)
    ob = res.obligations
    statuses = ob["status"].value_counts().reindex(list(STATUS_ORDER), fill_value=0)
    return {
        "available": True,
        "income_year": res.income_year,
        "as_of": ctx.asof.date().isoformat(),
        "poverty_line": res.line,
        "support_rate": {
            "overall": past_rate["rate"],
            "households": past_rate["households"], "supported": past_rate["supported"],
            "by_cohort": _rates(cohorts, "cohort_year"),
            "planned": _rates(planned),
            "by_category": _classes(res.by_category, "category"),
            "by_nature": _classes(res.by_nature, "nature"),
        },
        "contribution_ratio": {
            "overall": past_contrib["ratio"],
            "households": past_contrib["households"], "benefit": past_contrib["benefit"],
            "net_income": past_contrib["net_income"],
            "by_cohort": _contribs(cohorts, "cohort_year"),
            "planned": _contribs(planned),
        } if has_income else {"available": False, "reason": res.notes[0]},
        "pivotal": {
            "households": int(n_pivotal), "supported": int(n_supported),
            "share": json_number(n_pivotal / n_supported) if n_supported else None,
            "past_exited": int(past["pivotal"].sum()), "planned": int(planned["pivotal"].sum()),
        } if has_income else {"available": False, "reason": res.notes[0]},
        "count_share": shares("count_share"),
        "investment_share": shares("investment_share"),
        "count_by": shares("projects", int),
        "investment_by": shares("investment"),
        "projects": int(res.shares["category"]["projects"].sum()),
        "investment": json_number(res.shares["category"]["investment"].sum()),
        "dividends": {
            "due": int(ob["is_due"].sum()), "paid": int((ob["is_due"] & ob["paid"]).sum()),
            **{k: int(v) for k, v in statuses.items()},
        },
    }
