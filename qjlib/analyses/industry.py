"""Industry projects and their beneficiaries (plan R1, 一.1) and dividends (plan R3, 一.6).

The plan asks for a ledger of industry-project beneficiaries "按产业项目类别、项目性质，逐年、逐村、逐户",
and from it: among past exited households (历年脱贫户) and those planned to exit this year (计划脱贫户),
the share with industry support and the contribution of that support to their income; each
category's share of project count and investment; the shares of direct household subsidies
(到户直补, ``direct``) and projects led by new business entities (新型经营主体带动, ``entity_led``);
and an end to "分本不分红" and "迟迟不分红".

Definitions (each written once, in the function named):

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

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from qjlib.core.context import Context, per_context
from qjlib.core.definitions import past_exited
from qjlib.core.ledgers import LedgerSpec
from qjlib.core.params import ParamError
from qjlib.core.schema import CODE_LABELS_ZH, VALUE_LISTS

GROUPS_ZH = {"past_exited": "历年脱贫户", "planned_exit": "计划脱贫户"}
DIVIDEND, PRINCIPAL = "分红", "本金返还"
# benefit_type -> its amount column in the beneficiary ledger; a type not in the list -> amount_other.
TYPE_COLUMNS = {
    "直补": "amount_direct", "分红": "amount_dividend", "务工": "amount_wage",
    "订单收购": "amount_purchase", "土地流转": "amount_land", "本金返还": "amount_principal",
}
OTHER_TYPE_COLUMN = "amount_other"
assert set(TYPE_COLUMNS) == set(VALUE_LISTS["benefit_type"]), "benefit types out of step with schema"
STATUS_ORDER = ("principal", "unpaid", "short", "late")
STATUS_ZH = {
    "principal": "分本不分红（本金返还）", "unpaid": "逾期未兑付", "short": "低于保底分红",
    "late": "延迟兑付",
}
NOT_GIVEN = "未填"
WAN = 10_000.0  # yuan per 万元 (a unit, not a threshold)
SHARE_DIMENSIONS = ("category", "nature", "fund_source", "year")

# ---------------------------------------------------------------------------------------------
# Ledgers
# ---------------------------------------------------------------------------------------------

_BENEFICIARY_COLUMNS = {
    "project_id": "项目编号", "hh_id": "户编号", "year": "受益年度", "town": "乡(镇)",
    "village": "行政村", "project_name": "项目名称", "project_year": "项目实施年度",
    "category": "项目类别", "nature": "项目性质", "industry": "产业", "entity": "带动主体",
    "benefit_types": "受益方式", "amount": "产业收入（元）",
    "amount_direct": "直补（元）", "amount_dividend": "分红（元）", "amount_wage": "务工（元）",
    "amount_purchase": "订单收购（元）", "amount_land": "土地流转（元）",
    "amount_principal": "本金返还（元）", "amount_other": "其他受益（元）",
    "paid_date": "最近到账日期", "reason": "说明",
}
_OVERDUE_COLUMNS = {
    "project_id": "项目编号", "hh_id": "户编号", "year": "分红年度", "status": "问题类型",
    "statuses": "全部问题", "town": "乡(镇)", "village": "行政村", "project_name": "项目名称",
    "entity": "带动主体", "nature": "项目性质", "category": "项目类别", "due_date": "应兑付日期",
    "paid_date": "到账日期", "dividend_amount": "分红金额（元）",
    "guaranteed_dividend": "保底分红（元/户）", "principal_amount": "本金返还（元）",
    "days_late": "迟付天数", "shortfall": "低于保底（元）", "reason": "说明",
}
_PROJECT_COLUMNS = {
    "project_id": "项目编号", "name": "项目名称", "year": "实施年度", "town": "乡(镇)",
    "village": "行政村", "category": "项目类别", "nature": "项目性质", "industry": "产业",
    "entity": "带动主体", "fund_source": "资金来源", "investment": "投资金额（元）",
    "planned_households": "计划带动贫困户数", "beneficiaries": "实际受益户数",
    "shortfall": "少于计划户数", "investment_per_household": "户均投资（元/户）",
    "benefit": "累计产业收入（元）", "benefit_per_10k": "每万元投资受益（元）",
    "dividends_due": "应兑付分红户次", "dividends_paid": "已兑付分红户次",
    "dividend_paid_amount": "已兑付分红金额（元）", "dividend_issues": "分红问题户次",
    "reason": "说明",
}

# What the notebooks reuse of a report run instead of recomputing (scopes it is saved for).
NAME = "industry"  # its part of summary.json and its key in qjlib.analyses.REGISTRY
NOTEBOOK_RESULTS: dict[str, tuple[str, ...]] = {"analyse": ("county", "towns")}

LEDGERS: dict[str, LedgerSpec] = {
    "industry_beneficiaries": LedgerSpec(
        "industry_beneficiaries", "产业扶贫项目受益户台账", ("project_id", "hh_id", "year"),
        _BENEFICIARY_COLUMNS, "R1",
    ),
    "dividend_overdue": LedgerSpec(
        "dividend_overdue", "保底分红问题台账（未兑付、迟兑付、低于保底、分本不分红）",
        ("project_id", "hh_id", "year"), _OVERDUE_COLUMNS, "R3",
        formats={"shortfall": "money", "days_late": "int"},
    ),
    "industry_projects": LedgerSpec(
        "industry_projects", "产业扶贫项目台账（投资、带贫、分红）", ("project_id",),
        _PROJECT_COLUMNS, "R1, R3",
        formats={"shortfall": "int", "benefit_per_10k": "money",
                 "investment_per_household": "money"},
    ),
}

# ---------------------------------------------------------------------------------------------
# Metrics: pure functions on DataFrames
# ---------------------------------------------------------------------------------------------


def income_amount(benefits: pd.DataFrame, income_types: Sequence[str]) -> pd.Series:
    """Industry income of each benefits row, in yuan.

    ``amount`` if ``benefit_type`` ∈ ``income_types`` (parameter ``industry.income_benefit_types``)
    else 0; a blank amount is 0. 本金返还 (principal returned) is not in the default list: it
    returns the household's capital and is not income of the year.
    """
    amount = pd.to_numeric(benefits["amount"], errors="coerce").astype("float64").fillna(0.0)
    return amount.where(benefits["benefit_type"].isin(list(income_types)), 0.0)


def _bool(s: Any, index: pd.Index) -> np.ndarray:
    return np.asarray(pd.Series(s, index=index).astype("boolean").fillna(False), dtype=bool)


def _label(s: pd.Series) -> pd.Series:
    """Text with blanks shown as 未填, so that group-bys keep them and sort deterministically."""
    s = s.astype("str")
    return s.where(s.str.strip().ne("") & s.notna(), NOT_GIVEN)


def exit_groups(households: pd.DataFrame, income_year: int, past: pd.Series) -> pd.DataFrame:
    """The households R1 looks at, one row per (group, household).

    - ``past_exited``: where ``past`` is true (``qjlib.definitions.past_exited``: exited or returned
      with ``exit_year`` before the income year); ``cohort_year`` = ``exit_year``.
    - ``planned_exit``: ``planned_exit_year`` = ``income_year``; ``cohort_year`` = ``planned_exit_year``.

    A household in both groups (inconsistent data) appears once in each. Columns: group, hh_id,
    cohort_year, town, village (blank → 未填).
    """
    base = pd.DataFrame({
        "hh_id": households["hh_id"].astype("str"),
        "town": _label(households["town"]),
        "village": _label(households["village"]),
    }, index=households.index)
    parts = [base[_bool(past, households.index)].assign(
        group="past_exited", cohort_year=households.loc[_bool(past, households.index), "exit_year"])]
    if "planned_exit_year" in households:
        planned = _bool(households["planned_exit_year"].eq(income_year), households.index)
        parts.append(base[planned].assign(
            group="planned_exit", cohort_year=households.loc[planned, "planned_exit_year"]))
    out = pd.concat(parts, ignore_index=True)
    out["cohort_year"] = pd.to_numeric(out["cohort_year"], errors="coerce").astype("Int64")
    return out[["group", "hh_id", "cohort_year", "town", "village"]].sort_values(
        ["group", "hh_id"], ignore_index=True)


def household_benefits(
    benefits: pd.DataFrame, year: int, income_types: Sequence[str]
) -> pd.DataFrame:
    """Per household, its benefits in ``year``: ``benefit_rows`` (rows of any type) and
    ``benefit`` = Σ :func:`income_amount` (yuan). Indexed by ``hh_id``."""
    b = benefits[benefits["year"].eq(year).fillna(False)]
    return (
        b.assign(benefit=income_amount(b, income_types))
        .groupby("hh_id", sort=True)
        .agg(benefit_rows=("benefit", "size"), benefit=("benefit", "sum"))
    )


def is_pivotal(
    net_per_capita: pd.Series, benefit: pd.Series, size: pd.Series, line: float
) -> pd.Series:
    """Above the line only thanks to industry income.

    ``net_per_capita ≥ line`` and ``net_per_capita − benefit ÷ size < line`` (yuan per person;
    exactly at the line counts as not poor). Missing values give False.
    """
    without = net_per_capita - benefit / size
    return ((net_per_capita >= line) & (without < line)).fillna(False).astype(bool)


def household_support(
    groups: pd.DataFrame,
    income: pd.DataFrame | None,
    hh_benefits: pd.DataFrame,
    year: int,
    line: float,
) -> pd.DataFrame:
    """Each (group, household) of :func:`exit_groups` with its support in ``year``.

    Adds ``supported`` (any benefits row in the year), ``benefit`` (industry income, yuan),
    ``size``, ``net_income``, ``net_per_capita`` (the income table's recomputed figures for the
    year; NaN without an income row), ``has_income``, ``contribution`` = benefit ÷ net income
    (supported households with net income > 0, else NaN) and ``pivotal`` (:func:`is_pivotal`).
    """
    cols = ["hh_id", "size", "net_income", "net_per_capita"]
    if income is not None:
        inc = income.loc[income["year"].eq(year).fillna(False), cols]
    else:
        inc = pd.DataFrame({c: pd.Series(dtype="str" if c == "hh_id" else "float64") for c in cols})
    out = groups.merge(inc, on="hh_id", how="left", validate="many_to_one").merge(
        hh_benefits, left_on="hh_id", right_index=True, how="left", validate="many_to_one")
    for c in ("size", "net_income", "net_per_capita"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64")
    out["supported"] = out["benefit_rows"].fillna(0).gt(0).astype(bool)
    out["benefit"] = out["benefit"].astype("float64").fillna(0.0)
    out["has_income"] = out["net_income"].notna()
    out["contribution"] = (out["benefit"] / out["net_income"]).where(
        out["supported"] & out["net_income"].gt(0))
    out["pivotal"] = out["supported"] & is_pivotal(
        out["net_per_capita"], out["benefit"], out["size"], line)
    return out.drop(columns="benefit_rows")


def _rate_columns(g: pd.DataFrame) -> pd.DataFrame:
    g["support_rate"] = g["supported"] / g["households"]
    g["contribution_ratio"] = (g["benefit"] / g["net_income"]).where(g["net_income"].gt(0))
    return g


def support_rates(frame: pd.DataFrame, by: Sequence[str] = ()) -> pd.DataFrame:
    """Support rate and contribution ratio per group (and ``by``: cohort_year, town, village).

    - ``households``: households of the group; ``supported``: of them, with any benefit in the year;
      ``support_rate`` = supported ÷ households.
    - ``with_income``: supported households with an income row; ``benefit`` and ``net_income``:
      Σ over those (yuan); ``contribution_ratio`` = Σ benefit ÷ Σ net income (ratio of sums;
      NaN when Σ net income ≤ 0).
    - ``pivotal``: pivotal households (:func:`is_pivotal`).
    ``frame`` is :func:`household_support`'s output.
    """
    keys = ["group", *by]
    inc = frame["supported"] & frame["has_income"]
    f = frame.assign(
        with_income=inc,
        benefit=frame["benefit"].where(inc, 0.0),
        net_income=frame["net_income"].where(inc, 0.0),
    )
    g = f.groupby(keys, sort=True, dropna=False).agg(
        households=("hh_id", "size"), supported=("supported", "sum"),
        with_income=("with_income", "sum"), benefit=("benefit", "sum"),
        net_income=("net_income", "sum"), pivotal=("pivotal", "sum"),
    )
    g = _rate_columns(g).reset_index()
    return g[[*keys, "households", "supported", "support_rate", "with_income", "benefit",
              "net_income", "contribution_ratio", "pivotal"]]


def support_by_project(
    frame: pd.DataFrame,
    benefits: pd.DataFrame,
    projects: pd.DataFrame,
    year: int,
    income_types: Sequence[str],
    attr: str,
) -> pd.DataFrame:
    """Support and contribution per group × project attribute ``attr`` (category, nature, …).

    ``households``: all households of the group (the denominator does not change with ``attr``);
    ``supported``: those with a benefits row in ``year`` from a project of that class;
    ``benefit``: their industry income from that class; ``net_income``: their net income
    (those with an income row); ``contribution_ratio`` = Σ benefit ÷ Σ net income. A household
    supported by two classes counts in both.
    """
    b = benefits[benefits["year"].eq(year).fillna(False)]
    attrs = projects[["project_id", attr]].assign(**{attr: _label(projects[attr])})
    b = b.merge(attrs, on="project_id", how="left").assign(
        benefit=lambda d: income_amount(d, income_types))
    b[attr] = b[attr].fillna(NOT_GIVEN)
    per_hh = b.groupby(["hh_id", attr], sort=True).agg(benefit=("benefit", "sum")).reset_index()
    m = frame[["group", "hh_id", "has_income", "net_income"]].merge(per_hh, on="hh_id")
    m["benefit"] = m["benefit"].where(m["has_income"], 0.0)
    m["net_income"] = m["net_income"].where(m["has_income"], 0.0)
    g = m.groupby(["group", attr], sort=True).agg(
        supported=("hh_id", "size"), with_income=("has_income", "sum"),
        benefit=("benefit", "sum"), net_income=("net_income", "sum"),
    ).reset_index()
    g["households"] = g["group"].map(frame.groupby("group").size())
    g = _rate_columns(g)
    return g[["group", attr, "households", "supported", "support_rate", "with_income", "benefit",
              "net_income", "contribution_ratio"]]


def contribution_distribution(frame: pd.DataFrame, bands: Sequence[float]) -> pd.DataFrame:
    """How many supported households (net income > 0) fall in each band of their contribution
    (industry income ÷ net income): ``[b0, b1)``, …, ``[b_last, ∞)``; per group, with each band's
    share of the group's counted households. Bands: ``industry.contribution_bands``."""
    f = frame[frame["contribution"].notna()]
    edges = [*map(float, bands), np.inf]
    labels = [f"{lo:.0%}–{hi:.0%}" if np.isfinite(hi) else f"≥{lo:.0%}"
              for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    band = pd.cut(f["contribution"], bins=edges, right=False, labels=labels)
    g = (f.assign(band=band).groupby(["group", "band"], observed=False, sort=True)
         .size().rename("households").reset_index())
    g["share"] = g["households"] / g.groupby("group")["households"].transform("sum")
    g["band"] = g["band"].astype("str")
    return g


def contribution_quantiles(
    frame: pd.DataFrame, qs: Sequence[float] = (0.1, 0.25, 0.5, 0.75, 0.9)
) -> pd.DataFrame:
    """Quantiles of the per-household contribution (supported, net income > 0) per group —
    description only; the headline figure is the ratio of sums (:func:`support_rates`)."""
    f = frame[frame["contribution"].notna()]
    g = f.groupby("group", sort=True)["contribution"]
    out = pd.DataFrame({"households": g.size(), "ratio_mean": g.mean()})
    for q in qs:
        out[f"ratio_p{round(q * 100):02d}"] = g.quantile(q)
    return out.reset_index()


def projects_up_to(projects: pd.DataFrame, year: int) -> pd.DataFrame:
    """Projects implemented in or before ``year`` (the income year)."""
    return projects[projects["year"].le(year).fillna(False)]


def project_shares(
    projects: pd.DataFrame, by: str | Sequence[str], within: Sequence[str] = ()
) -> pd.DataFrame:
    """Count and investment shares of each class ``by`` (within each ``within`` group, e.g. year).

    ``count_share`` = projects of the class ÷ all projects; ``investment_share`` = Σ investment of
    the class ÷ Σ investment (yuan; ratios of sums; NaN if Σ investment = 0). Blank classes are
    a class of their own (未填).
    """
    by = [by] if isinstance(by, str) else list(by)
    keys = [*within, *by]
    p = projects.assign(investment=pd.to_numeric(projects["investment"], errors="coerce")
                        .astype("float64").fillna(0.0))
    for k in keys:
        if k not in p:  # an optional column the export lacks (e.g. fund_source)
            p[k] = NOT_GIVEN
        elif k != "year":
            p[k] = _label(p[k])
    g = p.groupby(keys, sort=True).agg(projects=("project_id", "size"),
                                      investment=("investment", "sum")).reset_index()
    if within:
        tot = g.groupby(list(within))[["projects", "investment"]].transform("sum")
    else:
        tot = pd.DataFrame({c: g[c].sum() for c in ("projects", "investment")}, index=g.index)
    g["count_share"] = g["projects"] / tot["projects"]
    g["investment_share"] = (g["investment"] / tot["investment"]).where(tot["investment"].gt(0))
    return g


def project_outcomes(
    projects: pd.DataFrame, benefits: pd.DataFrame, income_types: Sequence[str]
) -> pd.DataFrame:
    """Per project: beneficiaries, industry income paid, and what the investment bought.

    ``beneficiaries`` = distinct households with a benefits row (any type, any year of
    ``benefits``); ``benefit`` = Σ :func:`income_amount` (yuan); ``investment_per_household`` =
    investment ÷ beneficiaries (yuan per household); ``benefit_per_10k`` = benefit ÷ (investment ÷
    10,000) (yuan per 10,000 yuan invested); ``shortfall`` = planned_households − beneficiaries
    where beneficiaries fall short of the plan, else 0 (NA without a plan).
    """
    b = benefits.assign(benefit=income_amount(benefits, income_types))
    per = b.groupby("project_id", sort=True).agg(
        beneficiaries=("hh_id", "nunique"), benefit=("benefit", "sum"))
    keep = [c for c in ("project_id", "name", "year", "town", "village", "category", "nature",
                        "industry", "entity", "fund_source", "investment", "planned_households")
            if c in projects]
    out = projects[keep].merge(per, left_on="project_id", right_index=True, how="left")
    out["beneficiaries"] = out["beneficiaries"].fillna(0).astype("int64")
    out["benefit"] = out["benefit"].astype("float64").fillna(0.0)
    inv = pd.to_numeric(out["investment"], errors="coerce").astype("float64")
    out["investment_per_household"] = (inv / out["beneficiaries"]).where(out["beneficiaries"] > 0)
    out["benefit_per_10k"] = (out["benefit"] / (inv / WAN)).where(inv > 0)
    if "planned_households" in out:
        planned = pd.to_numeric(out["planned_households"], errors="coerce").astype("Int64")
        out["shortfall"] = (planned - out["beneficiaries"]).clip(lower=0)
    else:
        out["shortfall"] = pd.Series(pd.NA, index=out.index, dtype="Int64")
    return out.sort_values("project_id", ignore_index=True)


def outcomes_by(outcomes: pd.DataFrame, by: str = "nature") -> pd.DataFrame:
    """:func:`project_outcomes` summed per class: ``investment_per_household`` = Σ investment ÷
    Σ beneficiaries (a household in two projects counts twice); ``benefit_per_10k`` = Σ benefit ÷
    (Σ investment ÷ 10,000); ``short_projects`` = projects with a shortfall."""
    o = outcomes.assign(**{by: _label(outcomes[by])},
                        investment=pd.to_numeric(outcomes["investment"], errors="coerce")
                        .astype("float64").fillna(0.0),
                        short=outcomes["shortfall"].fillna(0).gt(0))
    g = o.groupby(by, sort=True).agg(
        projects=("project_id", "size"), investment=("investment", "sum"),
        beneficiaries=("beneficiaries", "sum"), benefit=("benefit", "sum"),
        short_projects=("short", "sum")).reset_index()
    g["investment_per_household"] = (g["investment"] / g["beneficiaries"]).where(
        g["beneficiaries"] > 0)
    g["benefit_per_10k"] = (g["benefit"] / (g["investment"] / WAN)).where(g["investment"] > 0)
    return g


_MD = re.compile(r"^\s*(\d{1,2})\s*[-/月.]\s*(\d{1,2})\s*日?\s*$")


def parse_month_day(text: str) -> tuple[int, int]:
    """``"09-30"`` (or ``9/30``, ``9月30日``) → (9, 30); anything else is a :class:`ParamError`."""
    m = _MD.match(str(text))
    if not m or not (1 <= int(m.group(1)) <= 12 and 1 <= int(m.group(2)) <= 31):
        raise ParamError(
            f"dividends.default_due 应为“月-日”，如 09-30：{text!r} / default_due must be MM-DD")
    return int(m.group(1)), int(m.group(2))


def _month_day(due: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Month and day of each ``dividend_due`` (a date, or text that is a date or MM-DD)."""
    if pd.api.types.is_datetime64_any_dtype(due):
        d = due
    else:
        text = due.astype("str").where(due.notna())
        md = text.str.extract(_MD)
        d = pd.to_datetime(text.where(md[0].isna()), errors="coerce", format="mixed")
        month = pd.to_numeric(md[0], errors="coerce").fillna(d.dt.month)
        day = pd.to_numeric(md[1], errors="coerce").fillna(d.dt.day)
        return month.astype("Int64"), day.astype("Int64")
    return d.dt.month.astype("Int64"), d.dt.day.astype("Int64")


def dividend_due_dates(
    year: pd.Series, dividend_due: pd.Series | None, default_due: str
) -> pd.Series:
    """Due date of the dividend of benefit ``year``.

    = the month and day of the project's ``dividend_due`` in the benefit year (the cell's own year
    is ignored: a guaranteed dividend is due every year on that day, and a 2017 project's 2019
    dividend is not due in 2017); a blank ``dividend_due`` → ``default_due`` (MM-DD, parameter
    ``dividends.default_due``, "09-30") of the benefit year. A day past the month's end (29 Feb
    in a common year) becomes the month's last day.
    """
    dm, dd = parse_month_day(default_due)
    if dividend_due is None:
        month = pd.Series(dm, index=year.index, dtype="Int64")
        day = pd.Series(dd, index=year.index, dtype="Int64")
    else:
        month, day = _month_day(dividend_due)
        blank = month.isna() | day.isna()
        month, day = month.mask(blank, dm), day.mask(blank, dd)
    y = pd.to_numeric(year, errors="coerce").astype("Int64")
    first = pd.to_datetime(pd.DataFrame({"year": y, "month": month, "day": 1}), errors="coerce")
    last_day = (first + pd.offsets.MonthEnd(0)).dt.day
    days = np.minimum(day.astype("float64"), last_day.astype("float64")) - 1
    return (first + pd.to_timedelta(days, unit="D")).astype("datetime64[ns]")


def dividend_obligations(
    benefits: pd.DataFrame,
    projects: pd.DataFrame,
    asof: pd.Timestamp,
    default_due: str,
    natures: Sequence[str],
) -> pd.DataFrame:
    """Every dividend a household is owed: one row per project × household × benefit year with a
    分红 or 本金返还 row, for projects whose ``nature`` ∈ ``natures`` (``dividends.natures``).

    Columns: ``due_date`` (:func:`dividend_due_dates`), ``is_due`` (due date ≤ ``asof``),
    ``dividend_amount``/``paid_date`` (the 分红 row), ``paid`` (a 分红 row with both amount and
    paid date), ``principal_amount`` (the 本金返还 row), ``guaranteed_dividend``, and, for due
    ones only, ``statuses`` (all that apply, in the order principal, unpaid, short, late;
    ";"-joined) and ``status`` (the first):

    - ``principal``: a 本金返还 row and no dividend paid that year (分本不分红);
    - ``unpaid``: a 分红 row with no paid date or no amount;
    - ``short``: a paid dividend below ``guaranteed_dividend`` (yuan per household);
    - ``late``: a paid dividend whose paid date is after the due date (paid on it is on time);
    plus ``days_late`` and ``shortfall`` (yuan) where they apply.
    """
    key = ["project_id", "hh_id", "year"]
    pcols = [c for c in ("project_id", "nature", "guaranteed_dividend", "dividend_due")
             if c in projects]
    proj = projects.loc[projects["nature"].isin(list(natures)), pcols]
    b = benefits[benefits["benefit_type"].isin([DIVIDEND, PRINCIPAL]) & benefits["year"].notna()]
    b = b.merge(proj[["project_id"]], on="project_id")
    b = b.assign(amount=pd.to_numeric(b["amount"], errors="coerce").astype("float64"))
    if "paid_date" not in b:
        b["paid_date"] = pd.NaT
    b["paid_date"] = pd.to_datetime(b["paid_date"], errors="coerce")

    def side(kind: str, prefix: str) -> pd.DataFrame:
        s = b[b["benefit_type"].eq(kind)].groupby(key, sort=True).agg(
            amount=("amount", "sum"), amount_n=("amount", "count"),
            paid_max=("paid_date", "max"), paid_n=("paid_date", "count"), n=("paid_date", "size"))
        s["amount"] = s["amount"].where(s["amount_n"].gt(0))  # all blank stays blank
        s["paid_date"] = s["paid_max"].where(s["paid_n"].eq(s["n"]))
        s[f"has_{prefix}"] = True
        return s[["amount", "paid_date", f"has_{prefix}"]].rename(
            columns={"amount": f"{prefix}_amount", "paid_date": f"{prefix}_paid_date"})

    ob = side(DIVIDEND, "dividend").join(side(PRINCIPAL, "principal"), how="outer").reset_index()
    ob = ob.merge(proj, on="project_id", how="left")
    for c in ("has_dividend", "has_principal"):
        ob[c] = ob[c].astype("boolean").fillna(False).astype(bool)
    ob = ob.rename(columns={"dividend_paid_date": "paid_date"}).drop(columns="principal_paid_date")
    ob["paid_date"] = pd.to_datetime(ob["paid_date"]).astype("datetime64[ns]")
    ob["due_date"] = dividend_due_dates(ob["year"], ob.get("dividend_due"), default_due)
    ob["is_due"] = ob["due_date"].le(asof).fillna(False).astype(bool)
    guar = pd.to_numeric(ob.get("guaranteed_dividend", pd.Series(np.nan, index=ob.index)),
                         errors="coerce").astype("float64")
    ob["guaranteed_dividend"] = guar
    ob["paid"] = ob["has_dividend"] & ob["dividend_amount"].notna() & ob["paid_date"].notna()
    flags = {
        "principal": ob["has_principal"] & ~ob["paid"],
        "unpaid": ob["has_dividend"] & ~ob["paid"],
        "short": ob["paid"] & ob["dividend_amount"].lt(guar).fillna(False),
        "late": ob["paid"] & ob["paid_date"].gt(ob["due_date"]).fillna(False),
    }
    flags = {k: (v & ob["is_due"]).astype(bool) for k, v in flags.items()}
    statuses = pd.Series("", index=ob.index, dtype="str")
    for k in STATUS_ORDER:
        statuses = statuses.where(~flags[k], statuses + np.where(statuses.eq(""), "", ";") + k)
    ob["statuses"] = statuses.where(statuses.ne(""))
    ob["status"] = pd.Series(np.select([flags[k] for k in STATUS_ORDER], STATUS_ORDER, ""),
                             index=ob.index, dtype="str")
    ob["status"] = ob["status"].where(ob["status"].ne(""))
    ob["days_late"] = (ob["paid_date"] - ob["due_date"]).dt.days.astype("Int64").where(
        flags["late"])
    ob["shortfall"] = (guar - ob["dividend_amount"]).where(flags["short"])
    cols = [*key, "nature", "due_date", "is_due", "has_dividend", "dividend_amount", "paid_date",
            "paid", "has_principal", "principal_amount", "guaranteed_dividend", "status",
            "statuses", "days_late", "shortfall"]
    return ob[cols].sort_values(key, ignore_index=True)


def dividends_by(
    obligations: pd.DataFrame, projects: pd.DataFrame, by: Sequence[str] = ("nature", "entity")
) -> pd.DataFrame:
    """Dividends due by the as-of date per project class ``by`` (default nature × entity).

    ``due``: household-years whose dividend was due (:func:`dividend_obligations`, ``is_due``);
    ``issues``: of them with a status, and one column per status (``status``, the first that
    applies); ``on_time`` = due − issues (paid in full by the due date); ``issue_share`` =
    issues ÷ due; ``due_dates``: the month-days the dividends fell due (e.g. ``08-31、09-30``),
    to set beside the plan's deadlines.
    """
    by = list(by)
    attrs = projects[["project_id", *[c for c in by if c != "nature"]]].copy()
    for c in by:
        if c in attrs and c != "project_id":
            attrs[c] = _label(attrs[c])
    d = obligations[obligations["is_due"]].merge(attrs, on="project_id", how="left")
    for c in by:
        d[c] = d[c].fillna(NOT_GIVEN)
    d = d.assign(issue=d["status"].notna(), md=d["due_date"].dt.strftime("%m-%d"),
                 **{k: d["status"].eq(k) for k in STATUS_ORDER})
    g = d.groupby(by, sort=True).agg(
        projects=("project_id", "nunique"), due=("hh_id", "size"), issues=("issue", "sum"),
        **{k: (k, "sum") for k in STATUS_ORDER})
    g["on_time"] = g["due"] - g["issues"]
    g["issue_share"] = g["issues"] / g["due"]
    dates = d[[*by, "md"]].drop_duplicates().sort_values([*by, "md"])
    g["due_dates"] = dates.groupby(by, sort=True)["md"].agg("、".join)
    return g.reset_index()[[*by, "projects", "due", "on_time", "issues", "issue_share",
                            *STATUS_ORDER, "due_dates"]]


# ---------------------------------------------------------------------------------------------
# Putting it together for a run
# ---------------------------------------------------------------------------------------------


def _yuan(s: pd.Series) -> pd.Series:
    """Money as text for reasons: whole yuan without decimals, else two decimals."""
    v = pd.to_numeric(s, errors="coerce").astype("float64")
    whole = v.round(0).eq(v)
    txt = v.round(2).astype("str").where(~whole, v.round(0).astype("Int64").astype("str"))
    return txt.where(v.notna(), "—")


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
    return pd.DataFrame(columns=list(LEDGERS[name].columns_zh))


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
                     + "：" + out["benefit_types"] + "，产业收入 " + _yuan(out["amount"]) + " 元")
    out = out.reindex(columns=list(_BENEFICIARY_COLUMNS))
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
        "principal": y + "以本金返还 " + _yuan(o["principal_amount"]) + " 元代替分红（分本不分红）",
        "unpaid": y + "分红应于 " + _date(o["due_date"]) + " 前兑付，截至 "
        + asof.strftime("%Y-%m-%d") + " 未兑付",
        "short": y + "分红 " + _yuan(o["dividend_amount"]) + " 元，低于保底 "
        + _yuan(o["guaranteed_dividend"]) + " 元",
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
    o = o.reindex(columns=list(_OVERDUE_COLUMNS))
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
    out = out.reindex(columns=list(_PROJECT_COLUMNS))
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


def _num(x: Any) -> float | None:
    """A JSON-able float (None for missing); the report rounds summary.json once."""
    if x is None or pd.isna(x):
        return None
    return float(x)


def _rates(t: pd.DataFrame, key: str | None = None) -> dict[str, Any] | dict[str, dict]:
    """Support-rate records of a :func:`support_rates` table (one row, or keyed by ``key``)."""
    recs = {str(r[key]) if key else "": {
        "rate": _num(r["support_rate"]), "households": int(r["households"]),
        "supported": int(r["supported"])} for r in t.to_dict("records")}
    return recs if key else recs.get("", {"rate": None, "households": 0, "supported": 0})


def _contribs(t: pd.DataFrame, key: str | None = None) -> dict[str, Any] | dict[str, dict]:
    """Contribution-ratio records of a :func:`support_rates` table."""
    recs = {str(r[key]) if key else "": {
        "ratio": _num(r["contribution_ratio"]), "households": int(r["with_income"]),
        "benefit": _num(r["benefit"]), "net_income": _num(r["net_income"])}
        for r in t.to_dict("records")}
    return recs if key else recs.get(
        "", {"ratio": None, "households": 0, "benefit": 0.0, "net_income": 0.0})


def _classes(t: pd.DataFrame, attr: str) -> dict[str, dict]:
    """Per project class (category or nature) for past exited households."""
    t = t[t["group"].eq("past_exited")]
    return {str(r[attr]): {"rate": _num(r["support_rate"]), "supported": int(r["supported"]),
                           "ratio": _num(r["contribution_ratio"])} for r in t.to_dict("records")}


def summary(ctx: Context) -> dict:
    """The ``industry.*`` figures of summary.json (contract/outputs.md), for the run's scope and
    income year: ``support_rate``, ``contribution_ratio``, ``pivotal``, ``count_share``,
    ``investment_share`` (per ``category`` and per ``nature``) and the dividend statuses."""
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

    def shares(col: str) -> dict[str, dict[str, float | None]]:
        return {d: {str(k): _num(v) for k, v in zip(res.shares[d][d], res.shares[d][col],
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
            "share": _num(n_pivotal / n_supported) if n_supported else None,
            "past_exited": int(past["pivotal"].sum()), "planned": int(planned["pivotal"].sum()),
        } if has_income else {"available": False, "reason": res.notes[0]},
        "count_share": shares("count_share"),
        "investment_share": shares("investment_share"),
        "projects": int(res.shares["category"]["projects"].sum()),
        "investment": _num(res.shares["category"]["investment"].sum()),
        "dividends": {
            "due": int(ob["is_due"].sum()), "paid": int((ob["is_due"] & ob["paid"]).sum()),
            **{k: int(v) for k, v in statuses.items()},
        },
    }


def key_figures(s: dict) -> dict[str, Any]:
    """The notebook's opening figures from :func:`summary` (label → (value, note))."""
    from qjlib.core.fmt import fmt_int, fmt_pct

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
    """A one-paragraph reading in Chinese, built from :func:`summary` (no typed numbers)."""
    from qjlib.core.fmt import fmt_int, fmt_pct, fmt_yuan

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
# For the notebook: Chinese labels and chart-ready frames (no new figures)

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
