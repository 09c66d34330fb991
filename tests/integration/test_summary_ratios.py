"""Issue #15 on the demo county: every ratio of the county summary has its numerator and
denominator beside it, and an evaluator can check it exactly.

* :data:`RATIOS` declares, for every ratio of summary.json, where its numerator and denominator
  are; each ratio equals numerator ÷ denominator up to the rounding of that one division.
* A walk over the summary fails on any float whose path names a share, rate or ratio and that is
  neither a declared ratio, nor one of their numerators/denominators, nor declared in
  :data:`NOT_RATIOS` (medians, statistics, parameters: not ratios of sums) — so a new ratio
  cannot appear without its figures.
* The numerators and denominators themselves equal an independent computation in DuckDB SQL on
  the package tables (the contract's definitions written again, not qjlib's code path).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

import duckdb
import pandas as pd
import pytest

from qjlib import analyses

pytestmark = pytest.mark.slow

#: ratio path → (numerator path, denominator path); ``{name}`` matches any one key and is filled
#: in the numerator and denominator paths.
RATIOS: dict[str, tuple[str, str]] = {
    "income.shares.{k}": ("income.totals.{k}", "income.totals.net_income"),
    "income.by_labor_group.{g}.{k}": ("income.by_labor_group_totals.{g}.{k}",
                                      "income.by_labor_group_totals.{g}.net_income"),
    "income.trend.shares.{y}.{k}": ("income.trend.totals.{y}.{k}",
                                    "income.trend.totals.{y}.net_income"),
    "income.transfer_items.{i}": ("income.transfer_items_totals.{i}",
                                  "income.transfer_items_totals.transfer"),
    "industry.support_rate.overall": ("industry.support_rate.supported",
                                      "industry.support_rate.households"),
    "industry.support_rate.{grp}.rate": ("industry.support_rate.{grp}.supported",
                                         "industry.support_rate.{grp}.households"),
    "industry.support_rate.{by}.{c}.rate": ("industry.support_rate.{by}.{c}.supported",
                                            "industry.support_rate.{by}.{c}.households"),
    "industry.support_rate.{by}.{c}.ratio": ("industry.support_rate.{by}.{c}.benefit",
                                             "industry.support_rate.{by}.{c}.net_income"),
    "industry.contribution_ratio.overall": ("industry.contribution_ratio.benefit",
                                            "industry.contribution_ratio.net_income"),
    "industry.contribution_ratio.{grp}.ratio": ("industry.contribution_ratio.{grp}.benefit",
                                                "industry.contribution_ratio.{grp}.net_income"),
    "industry.contribution_ratio.{by}.{c}.ratio": ("industry.contribution_ratio.{by}.{c}.benefit",
                                                   "industry.contribution_ratio.{by}.{c}.net_income"),
    "industry.pivotal.share": ("industry.pivotal.households", "industry.pivotal.supported"),
    "industry.count_share.{d}.{c}": ("industry.count_by.{d}.{c}", "industry.projects"),
    "industry.investment_share.{d}.{c}": ("industry.investment_by.{d}.{c}", "industry.investment"),
    "helpers.reviewed_share": ("helpers.reviewed", "helpers.helpers_linked"),
    # issue 18 (contract/exit.md): the county's 577 items and the assessment's rates
    **{f"exit.county.{i}_rate": (f"exit.county.{i}_numerator", f"exit.county.{i}_denominator")
       for i in ("road", "water", "electricity", "housing", "insured")},
    **{f"exit.assessment.{r}": (f"exit.assessment.{r}_found", f"exit.assessment.{r}_total")
       for r in ("wrong_exit_rate", "missed_rate", "approval_rate")},
    # issue #19 (every funds target is a ratio; "integrated" contains "rate")
    "targets.funds.{t}.value": ("targets.funds.{t}.numerator", "targets.funds.{t}.denominator"),
    "targets.loans.overdue_rate.value": ("targets.loans.overdue_rate.numerator",
                                         "targets.loans.overdue_rate.denominator"),
    "targets.health.{t}.value": ("targets.health.{t}.numerator", "targets.health.{t}.denominator"),
    # issue #16 (contract/departments.md)
    "health.insured_rate": ("health.insured", "health.persons"),
    "health.critical_rate": ("health.critical", "health.persons"),
    "health.family_doctor_rate": ("health.family_doctor", "health.persons"),
    "health.reimbursement_ratio": ("health.reimbursed", "health.eligible_cost"),
}

#: floats whose name says share/rate/ratio but which are not ratios of sums, and why.
NOT_RATIOS: dict[str, str] = {
    "income.median_shares.{k}": "median of the household shares",
    "income.decomposition.{k}.share": "Lerman–Yitzhaki statistic: mean per-capita source ÷ mean "
                                      "per-capita net income, beside its Gini terms",
    "income.thresholds.{t}": "a parameter (params/), not computed",
    "decline.cohorts.{i}.growth_rate": "annualised growth of a cohort's median",
    "decline.cohorts.{i}.line_growth_rate": "annualised growth of the poverty line (params/)",
    "decline.cohorts.{i}.excess_rate": "growth_rate − line_growth_rate",
    # issue 18: interval bounds and design effects of the assessment's rates (survey.py)
    **{f"exit.assessment.{r}_{b}": "bound or design effect of a clustered rate's interval"
       for r in ("wrong_exit_rate", "missed_rate", "approval_rate") for b in ("low", "high", "deff")},
    "targets.{f}.{t}.threshold": "a parameter (params/targets.yaml), not computed",
    "targets.{f}.{t}.checkpoints.{i}.threshold": "a parameter (params/targets.yaml), not computed",
    "targets.{f}.{t}.next_due.threshold": "a parameter (params/targets.yaml), not computed",
    "targets.{f}.{t}.checkpoints.{i}.value": "the target's measure on a checkpoint date (null while "
                                             "due); the same measure as its value on A",
    # issue #20: the lifecycle section exists only with --previous (not in the 2019Q3 summary);
    # its closure rates (resolved ÷ previous, beside both) are checked in test_lifecycle_demo
    "lifecycle.changes.{f}.{side}": "a figure of the previous and of this summary and their "
                                    "difference, side by side, checked where it is",
    "lifecycle.total.closure_rate": "resolved ÷ previous: test_lifecycle_demo",
    "lifecycle.ledgers.{l}.closure_rate": "resolved ÷ previous: test_lifecycle_demo",
    "lifecycle.towns.{t}.closure_rate": "resolved ÷ previous: test_lifecycle_demo",
    "lifecycle.town_ledgers.{t}.{l}.closure_rate": "resolved ÷ previous: test_lifecycle_demo",
}

NAMED = re.compile(r"share|rate|ratio", re.IGNORECASE)
Path = tuple[str, ...]


def leaves(x: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every (path, value) of a JSON-like tree; list items are keyed by their index."""
    if isinstance(x, dict):
        for k, v in x.items():
            yield from leaves(v, (*path, str(k)))
    elif isinstance(x, list):
        for i, v in enumerate(x):
            yield from leaves(v, (*path, str(i)))
    else:
        yield path, x


def match(template: str, path: Path) -> dict[str, str] | None:
    """The ``{name}`` bindings that make ``template`` (dotted) equal ``path``, or None."""
    parts = template.split(".")
    if len(parts) != len(path):
        return None
    bound: dict[str, str] = {}
    for t, p in zip(parts, path, strict=True):
        if t.startswith("{") and t.endswith("}"):
            if bound.setdefault(t[1:-1], p) != p:
                return None
        elif t != p:
            return None
    return bound


def lookup(tree: dict, template: str, bound: dict[str, str]) -> Any:
    """The value at ``template`` filled with ``bound``; KeyError naming the path when absent."""
    node: Any = tree
    path = template.format(**bound)
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            raise KeyError(path)
        node = node[key]
    return node


def ratio_checks(tree: dict) -> list[tuple[Path, Any, str, str, dict[str, str]]]:
    """Every leaf that is a declared ratio: (path, value, numerator, denominator, bindings)."""
    out = []
    for path, value in leaves(tree):
        for template, (num, den) in RATIOS.items():
            bound = match(template, path)
            if bound is not None:
                out.append((path, value, num, den, bound))
                break
    return out


def undeclared(tree: dict) -> list[str]:
    """Floats named share/rate/ratio that are neither a declared ratio (with its numerator and
    denominator present), nor one of their numerators/denominators, nor in :data:`NOT_RATIOS`."""
    parts: set[str] = set()
    for _, _, num, den, bound in ratio_checks(tree):
        parts |= {num.format(**bound), den.format(**bound)}
    bad = []
    for path, value in leaves(tree):
        if not isinstance(value, float) or not any(NAMED.search(p) for p in path):
            continue
        dotted = ".".join(path)
        if dotted in parts or any(match(t, path) is not None for t in NOT_RATIOS):
            continue
        declared = next((RATIOS[t] + (b,) for t in RATIOS if (b := match(t, path)) is not None),
                        None)
        try:
            if declared is not None:
                lookup(tree, declared[0], declared[2]), lookup(tree, declared[1], declared[2])
                continue
        except KeyError:
            pass
        bad.append(dotted)
    return bad


@pytest.fixture(scope="module")
def summary(demo_ctx) -> dict:
    """The county's summary: every registered analysis's ``summary`` (unrounded)."""
    return {name: analyses.get(name).summary(demo_ctx) for name in analyses.names()}


def test_every_ratio_is_its_numerator_over_its_denominator(summary):
    checks = ratio_checks(summary)
    used = {t for t in RATIOS for path, *_ in checks if match(t, path) is not None}
    assert used == set(RATIOS), "a declared ratio that the summary no longer has"
    assert len(checks) > 100
    for path, value, num, den, bound in checks:
        n, d = lookup(summary, num, bound), lookup(summary, den, bound)
        where = f"{'.'.join(path)} = {num.format(**bound)} ÷ {den.format(**bound)}"
        assert isinstance(n, int | float) and isinstance(d, int | float), where
        if value is None:
            assert d <= 0, f"{where}: undefined only for an empty denominator"
            continue
        want = n / d
        # the very division of these two figures, so at most one unit in the last place apart
        # (summary.json rounds floats to 6 decimals: the ratio loses digits, sums in fen do not)
        assert abs(value - want) <= math.ulp(want), f"{where}: {value} ≠ {n} / {d}"


def test_no_share_rate_or_ratio_without_its_numerator_and_denominator(summary):
    assert undeclared(summary) == []


def test_the_walk_catches_a_new_ratio_and_a_lost_denominator(summary):
    extra = {**summary, "industry": {**summary["industry"], "direct_share": 0.5}}
    assert undeclared(extra) == ["industry.direct_share"]
    helpers = {k: v for k, v in summary["helpers"].items() if k != "reviewed"}
    assert undeclared({**summary, "helpers": helpers}) == ["helpers.reviewed_share"]


# ---------------------------------------------------------------------------------------------
# The numerators and denominators against SQL on the package tables


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """A copy DuckDB reads without surprises: object text, float64 for nullable numbers."""
    out = df.astype({c: "object" for c in df.columns if df[c].dtype == "str"})
    return out.astype({c: "float64" for c in out.columns
                       if str(out[c].dtype) in ("Int64", "Float64", "boolean")})


@pytest.fixture(scope="module")
def db(demo_ctx):
    pkg = demo_ctx.pkg
    con = duckdb.connect()
    for name in ("households", "income", "projects", "pairings", "reviews"):
        df = pkg[name]
        con.register(name, _plain(df[[c for c in df.columns if not c.startswith("_")]]))
    return con


COMPONENTS_SQL = {"wage": "wage", "operating_net": "operating - operating_cost",
                  "property": "property", "transfer": "transfer",
                  "net_income": "wage + operating - operating_cost + property + transfer"}


def _sums_sql(where: str, by: str = "") -> str:
    cols = ", ".join(f"SUM({e}) AS {k}" for k, e in COMPONENTS_SQL.items())
    group = f"{by}, " if by else ""
    return (f"SELECT {group}{cols} FROM income i JOIN households h USING (hh_id) WHERE {where}"
            + (f" GROUP BY {by} ORDER BY {by}" if by else ""))


def _rows(con, sql: str) -> list[dict]:
    return con.execute(sql).df().to_dict("records")


def _fen(x: float) -> int:
    return round(float(x) * 100)


def test_income_totals_equal_sql(summary, db, demo_ctx):
    s, year = summary["income"], demo_ctx.income_year
    [total] = _rows(db, _sums_sql(f"i.year = {year}"))
    assert {k: _fen(v) for k, v in s["totals"].items()} == {k: _fen(total[k]) for k in COMPONENTS_SQL}
    got = {g: {k: _fen(v) for k, v in t.items()} for g, t in s["by_labor_group_totals"].items()}
    want = {r["labor_capacity"]: {k: _fen(r[k]) for k in COMPONENTS_SQL}
            for r in _rows(db, _sums_sql(f"i.year = {year}", "labor_capacity"))}
    assert got == want


def test_transfer_item_totals_equal_sql(summary, db, demo_ctx):
    items = [k for k in summary["income"]["transfer_items_totals"] if k not in ("unitemised", "transfer")]
    sums = ", ".join(f"SUM(COALESCE({k}, 0)) AS {k}" for k in items)
    [r] = _rows(db, f"SELECT {sums}, SUM(transfer) AS transfer FROM income JOIN households "
                    f"USING (hh_id) WHERE year = {demo_ctx.income_year}")
    r["unitemised"] = r["transfer"] - sum(r[k] for k in items)
    got = summary["income"]["transfer_items_totals"]
    assert {k: _fen(v) for k, v in got.items()} == {k: _fen(r[k]) for k in got}


def test_trend_totals_equal_sql_on_the_balanced_panel(summary, db, demo_ctx):
    tr = summary["income"]["trend"]
    first, last = tr["first_year"], demo_ctx.income_year
    db.execute(f"""CREATE OR REPLACE TEMP VIEW panel AS
        SELECT hh_id FROM income JOIN households USING (hh_id)
        WHERE year BETWEEN {first} AND {last}
        GROUP BY hh_id HAVING COUNT(DISTINCT year) = {last - first + 1}""")
    rows = _rows(db, _sums_sql(f"i.hh_id IN (SELECT hh_id FROM panel) "
                               f"AND i.year BETWEEN {first} AND {last}", "i.year"))
    want = {str(int(r["year"])): {k: _fen(r[k]) for k in COMPONENTS_SQL} for r in rows}
    got = {y: {k: _fen(v) for k, v in t.items()} for y, t in tr["totals"].items()}
    assert got == want
    assert db.execute("SELECT COUNT(*) FROM panel").fetchone()[0] == tr["households"]


@pytest.mark.parametrize("dim", ["category", "nature"])
def test_project_counts_and_investment_equal_sql(summary, db, demo_ctx, dim):
    s = summary["industry"]
    label = f"CASE WHEN TRIM(COALESCE({dim}, '')) = '' THEN '未填' ELSE {dim} END"
    rows = _rows(db, f"""SELECT {label} AS c, COUNT(*) AS n, SUM(COALESCE(investment, 0)) AS inv
                         FROM projects WHERE year <= {demo_ctx.income_year} GROUP BY c""")
    assert s["count_by"][dim] == {r["c"]: r["n"] for r in rows}
    assert {c: _fen(v) for c, v in s["investment_by"][dim].items()} == {
        r["c"]: _fen(r["inv"]) for r in rows}
    assert s["projects"] == sum(r["n"] for r in rows)
    assert _fen(s["investment"]) == _fen(sum(r["inv"] for r in rows))


def test_reviewed_helpers_equal_sql(summary, db, demo_ctx):
    asof = demo_ctx.asof
    jan1 = f"DATE '{asof.year}-01-01'"
    day = f"TIMESTAMP '{asof:%Y-%m-%d %H:%M:%S}'"
    linked, reviewed = db.execute(f"""
        WITH linked AS (SELECT DISTINCT helper_id FROM pairings
                        WHERE start <= {day} AND ("end" IS NULL OR "end" >= {jan1})),
             rev AS (SELECT DISTINCT helper_id FROM reviews
                     WHERE date >= {jan1} AND date <= {day})
        SELECT (SELECT COUNT(*) FROM linked),
               (SELECT COUNT(*) FROM linked WHERE helper_id IN (SELECT helper_id FROM rev))
    """).fetchone()
    s = summary["helpers"]
    assert (s["reviewed"], s["helpers_linked"]) == (reviewed, linked)
    assert s["not_reviewed"] == linked - reviewed
