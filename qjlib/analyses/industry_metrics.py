"""Industry projects, their beneficiaries and dividends (plan R1, R3): the metrics, as pure
functions on canonical frames (``households``, ``projects``, ``benefits``, ``income``). The
definitions are listed in :mod:`qjlib.analyses.industry`, which runs them for a
:class:`~qjlib.core.context.Context` and builds the ledgers and the summary.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from qjlib.core import exact
from qjlib.core.params import ParamError

DIVIDEND, PRINCIPAL = "分红", "本金返还"
STATUS_ORDER = ("principal", "unpaid", "short", "late")  # dividend statuses, first applies
NOT_GIVEN = "未填"
WAN = 10_000.0  # yuan per 万元 (a unit, not a threshold)

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
    net_income: pd.Series, benefit: pd.Series, size: pd.Series, line: float
) -> pd.Series:
    """Above the line only thanks to industry income.

    ``net_income ÷ size ≥ line`` and ``(net_income − benefit) ÷ size < line`` (yuan; exactly at
    the line counts as not poor), decided exactly in fen without dividing
    (:mod:`qjlib.core.exact`). Missing values give False.
    """
    above = exact.per_capita_at_or_above(net_income, size, line)
    without_below = exact.per_capita_below(net_income - benefit, size, line)
    return exact.as_series(above & without_below, net_income)


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
        out["net_income"], out["benefit"], out["size"], line)
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
        "short": ob["paid"] & exact.money_below(ob["dividend_amount"], guar),
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
