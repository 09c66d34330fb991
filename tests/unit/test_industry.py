"""Industry projects and dividends (R1, R3) on tiny frames built here."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qjlib.analyses import industry as ind
from qjlib.analyses import industry_metrics as im
from qjlib.core.params import ParamError, load_params
from qjlib.pages import industry as page
from tests.fixtures.labels import assert_true_overrides_and_chinese_headers

INCOME_TYPES = ["直补", "分红", "务工", "订单收购", "土地流转"]
LINE = 3218.0  # the 2019 line in params/standards.yaml; tests below read it from params too


def _benefits(rows: list[tuple]) -> pd.DataFrame:
    """rows of (project_id, hh_id, year, benefit_type, amount, paid_date)."""
    df = pd.DataFrame(rows, columns=["project_id", "hh_id", "year", "benefit_type", "amount",
                                     "paid_date"])
    df["year"] = df["year"].astype("Int64")
    df["amount"] = df["amount"].astype("float64")
    df["paid_date"] = pd.to_datetime(df["paid_date"])
    return df


def _projects(rows: list[dict]) -> pd.DataFrame:
    base = {"name": "项目", "year": 2018, "town": "城关镇", "village": "", "category": "种植业",
            "industry": "苹果", "nature": "entity_led", "entity": "果业公司", "investment": 0.0,
            "fund_source": "财政专项", "planned_households": pd.NA, "guaranteed_dividend": np.nan,
            "dividend_due": pd.NaT}
    df = pd.DataFrame([{**base, **r} for r in rows])
    df["year"] = df["year"].astype("Int64")
    df["planned_households"] = df["planned_households"].astype("Int64")
    df["dividend_due"] = pd.to_datetime(df["dividend_due"])
    df["investment"] = df["investment"].astype("float64")
    df["guaranteed_dividend"] = df["guaranteed_dividend"].astype("float64")
    return df


def test_poverty_line_constant_is_the_params_value():
    assert load_params("2019Q3").poverty_line(2019) == LINE


# --- industry income and support ----------------------------------------------------------


def test_income_amount_counts_income_types_and_not_principal():
    b = _benefits([
        ("P1", "H1", 2019, "分红", 500, "2019-09-01"),
        ("P1", "H1", 2019, "本金返还", 2000, "2019-09-01"),
        ("P2", "H1", 2019, "务工", None, None),  # blank amount counts 0
        ("P3", "H1", 2019, "直补", 1200, None),
    ])
    assert im.income_amount(b, INCOME_TYPES).tolist() == [500.0, 0.0, 0.0, 1200.0]


def _groups(hh_ids, group="past_exited", cohort=2017, towns=None):
    return pd.DataFrame({
        "group": group, "hh_id": hh_ids, "cohort_year": pd.array([cohort] * len(hh_ids), "Int64"),
        "town": towns or ["城关镇"] * len(hh_ids), "village": "甲村"})


def _income(rows):
    """rows of (hh_id, year, size, net_income)."""
    df = pd.DataFrame(rows, columns=["hh_id", "year", "size", "net_income"])
    df["year"] = df["year"].astype("Int64")
    df["net_per_capita"] = df["net_income"] / df["size"]
    return df


def test_contribution_is_a_ratio_of_sums_over_supported_households():
    groups = _groups(["H1", "H2", "H3", "H4"])
    income = _income([("H1", 2019, 2, 10000.0), ("H2", 2019, 1, 2000.0),
                      ("H3", 2019, 4, 50000.0), ("H1", 2018, 2, 99999.0)])
    b = _benefits([
        ("P1", "H1", 2019, "分红", 1000, "2019-08-01"),
        ("P2", "H2", 2019, "务工", 1000, "2019-08-01"),
        ("P1", "H1", 2018, "分红", 7777, "2018-08-01"),  # another year: not counted
        ("P1", "H4", 2019, "本金返还", 3000, "2019-08-01"),  # supported, no income, no amount
    ])
    frame = im.household_support(groups, income, im.household_benefits(b, 2019, INCOME_TYPES),
                                  2019, LINE)
    r = im.support_rates(frame).iloc[0]
    assert (r["households"], r["supported"], r["with_income"]) == (4, 3, 2)
    assert r["support_rate"] == pytest.approx(3 / 4)
    # H3 is not supported, so its income stays out; H4 has no income row for 2019.
    assert r["contribution_ratio"] == pytest.approx((1000 + 1000) / (10000 + 2000))
    assert r["contribution_ratio"] != pytest.approx((1000 / 10000 + 1000 / 2000) / 2)
    h = frame.set_index("hh_id")
    assert h.loc["H1", "contribution"] == pytest.approx(0.1)
    assert np.isnan(h.loc["H3", "contribution"]) and np.isnan(h.loc["H4", "contribution"])


def test_support_rates_by_town_and_cohort():
    groups = pd.concat([
        _groups(["H1", "H2"], cohort=2016, towns=["甲镇", "乙镇"]),
        _groups(["H3"], cohort=2017, towns=["甲镇"]),
    ], ignore_index=True)
    income = _income([("H1", 2019, 1, 5000.0), ("H2", 2019, 1, 5000.0), ("H3", 2019, 1, 8000.0)])
    b = _benefits([("P1", "H1", 2019, "直补", 500, None), ("P1", "H3", 2019, "直补", 400, None)])
    frame = im.household_support(groups, income, im.household_benefits(b, 2019, INCOME_TYPES),
                                  2019, LINE)
    town = im.support_rates(frame, ["town"]).set_index("town")
    assert town.loc["甲镇", "support_rate"] == 1.0 and town.loc["乙镇", "support_rate"] == 0.0
    assert town.loc["甲镇", "contribution_ratio"] == pytest.approx(900 / 13000)
    cohort = im.support_rates(frame, ["cohort_year"]).set_index("cohort_year")
    assert cohort.loc[2016, "support_rate"] == 0.5 and cohort.loc[2017, "supported"] == 1


def test_support_by_category_keeps_the_group_denominator():
    groups = _groups(["H1", "H2", "H3"])
    income = _income([("H1", 2019, 1, 10000.0), ("H2", 2019, 1, 4000.0), ("H3", 2019, 1, 1.0)])
    projects = _projects([{"project_id": "P1", "category": "种植业"},
                          {"project_id": "P2", "category": "光伏扶贫", "nature": "asset_income"}])
    b = _benefits([("P1", "H1", 2019, "务工", 2000, None), ("P2", "H1", 2019, "分红", 500, None),
                   ("P2", "H2", 2019, "分红", 400, None)])
    frame = im.household_support(groups, income, im.household_benefits(b, 2019, INCOME_TYPES),
                                  2019, LINE)
    cat = im.support_by_project(frame, b, projects, 2019, INCOME_TYPES, "category")
    cat = cat.set_index("category")
    assert cat["households"].tolist() == [3, 3]
    assert cat.loc["光伏扶贫", "support_rate"] == pytest.approx(2 / 3)
    assert cat.loc["光伏扶贫", "contribution_ratio"] == pytest.approx((500 + 400) / (10000 + 4000))
    assert cat.loc["种植业", "contribution_ratio"] == pytest.approx(2000 / 10000)


def test_exit_groups_past_and_planned():
    hh = pd.DataFrame({
        "hh_id": ["H1", "H2", "H3", "H4"], "town": ["甲镇", "甲镇", None, "乙镇"],
        "village": ["一村", "二村", "三村", "四村"],
        "exit_year": pd.array([2016, pd.NA, 2017, pd.NA], "Int64"),
        "planned_exit_year": pd.array([pd.NA, 2019, 2019, 2020], "Int64"),
    })
    past = pd.Series([True, False, True, False])
    g = im.exit_groups(hh, 2019, past)
    assert g[["group", "hh_id"]].to_numpy().tolist() == [
        ["past_exited", "H1"], ["past_exited", "H3"], ["planned_exit", "H2"],
        ["planned_exit", "H3"]]
    assert g["cohort_year"].tolist() == [2016, 2017, 2019, 2019]
    assert g.loc[g["hh_id"].eq("H3"), "town"].unique().tolist() == [im.NOT_GIVEN]


# --- pivotal households -------------------------------------------------------------------


def test_pivotal_rule_at_the_line_is_not_poor():
    pc = pd.Series([3218.0, 3318.0, 3217.0, 3500.0, np.nan])
    benefit = pd.Series([300.0, 300.0, 300.0, 0.0, 300.0])
    size = pd.Series([3, 3, 3, 1, 3])
    got = im.is_pivotal(pc * size, benefit, size, LINE).tolist()
    # at the line with benefit -> above only thanks to it; 3318 - 100 = 3218 = line -> not poor
    # without it; 3217 is below the line already; no benefit; no income.
    assert got == [True, False, False, False, False]


def test_pivotal_is_exact_where_a_division_rounds():
    # 16,474 − 6,820 = 9,654 = 3,218 × 3: without the benefits exactly at the line, not poor.
    # In floats 16474/3 − 6820/3 = 3217.9999…: the old rule counted it pivotal.
    assert 16474 / 3 - 6820 / 3 < 3218
    net, benefit, size = pd.Series([16474.0, 16473.99]), pd.Series([6820.0, 6820.0]), pd.Series([3, 3])
    assert im.is_pivotal(net, benefit, size, 3218).tolist() == [False, True]


def test_pivotal_needs_support():
    groups = _groups(["H1", "H2"])
    income = _income([("H1", 2019, 2, 6500.0), ("H2", 2019, 2, 6500.0)])
    b = _benefits([("P1", "H1", 2019, "分红", 200, "2019-09-01")])
    frame = im.household_support(groups, income, im.household_benefits(b, 2019, INCOME_TYPES),
                                  2019, LINE)
    # 6500/2 = 3250 >= 3218; minus 200/2 = 3150 < 3218
    assert frame.set_index("hh_id")["pivotal"].to_dict() == {"H1": True, "H2": False}


# --- project shares and outcomes ----------------------------------------------------------


def test_project_shares_are_ratios_of_sums():
    p = _projects([
        {"project_id": "P1", "category": "种植业", "nature": "direct", "investment": 100_000.0},
        {"project_id": "P2", "category": "种植业", "nature": "entity_led", "investment": 300_000.0},
        {"project_id": "P3", "category": "光伏扶贫", "nature": "asset_income",
         "investment": 1_600_000.0},
    ])
    s = im.project_shares(p, "category").set_index("category")
    assert s.loc["种植业", "count_share"] == pytest.approx(2 / 3)
    assert s.loc["种植业", "investment_share"] == pytest.approx(400_000 / 2_000_000)
    n = im.project_shares(p, "nature").set_index("nature")
    assert n.loc["direct", "investment_share"] == pytest.approx(0.05)
    assert n.loc["entity_led", "count_share"] == pytest.approx(1 / 3)


def test_project_shares_within_year_and_blank_class():
    p = _projects([
        {"project_id": "P1", "year": 2017, "fund_source": "", "investment": 10.0},
        {"project_id": "P2", "year": 2018, "fund_source": "财政专项", "investment": 30.0},
        {"project_id": "P3", "year": 2018, "fund_source": None, "investment": 10.0},
    ])
    s = im.project_shares(p, "fund_source", within=["year"])
    got = {(int(r.year), r.fund_source): r.investment_share for r in s.itertuples()}
    assert got == {(2017, im.NOT_GIVEN): 1.0, (2018, im.NOT_GIVEN): 0.25,
                   (2018, "财政专项"): 0.75}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["种植业", "养殖业", "光伏扶贫"]),
                          st.floats(0, 1e8, allow_nan=False)), min_size=1, max_size=12))
def test_project_shares_sum_to_one(rows):
    p = _projects([{"project_id": f"P{i}", "category": c, "investment": v}
                   for i, (c, v) in enumerate(rows)])
    s = im.project_shares(p, "category")
    assert s["count_share"].sum() == pytest.approx(1.0)
    if p["investment"].sum() > 0:
        assert s["investment_share"].sum() == pytest.approx(1.0)
    else:
        assert s["investment_share"].isna().all()


def test_projects_up_to_income_year():
    p = _projects([{"project_id": "P1", "year": 2019}, {"project_id": "P2", "year": 2020}])
    assert im.projects_up_to(p, 2019)["project_id"].tolist() == ["P1"]


def test_project_outcomes_per_household_per_10k_and_shortfall():
    p = _projects([
        {"project_id": "P1", "investment": 200_000.0, "planned_households": 5},
        {"project_id": "P2", "investment": 50_000.0, "planned_households": 1},
        {"project_id": "P3", "investment": 10_000.0},
    ])
    b = _benefits([
        ("P1", "H1", 2018, "分红", 500, "2018-09-01"), ("P1", "H1", 2019, "分红", 500, None),
        ("P1", "H2", 2019, "本金返还", 3000, "2019-09-01"),
        ("P2", "H3", 2019, "务工", 2500, None), ("P2", "H4", 2019, "务工", 2500, None),
    ])
    o = im.project_outcomes(p, b, INCOME_TYPES).set_index("project_id")
    assert o["beneficiaries"].tolist() == [2, 2, 0]
    assert o.loc["P1", "investment_per_household"] == pytest.approx(100_000)
    assert o.loc["P1", "benefit_per_10k"] == pytest.approx(1000 / 20)
    assert o.loc["P2", "benefit_per_10k"] == pytest.approx(5000 / 5)
    assert o["shortfall"].tolist()[:2] == [3, 0] and pd.isna(o.loc["P3", "shortfall"])
    n = im.outcomes_by(o.reset_index(), "nature").set_index("nature")
    assert n.loc["entity_led", "investment_per_household"] == pytest.approx(260_000 / 4)
    assert n.loc["entity_led", "short_projects"] == 1


# --- dividends ----------------------------------------------------------------------------


def test_due_date_defaults_and_month_day_of_the_benefit_year():
    year = pd.Series([2019, 2018, 2019, 2019, 2020], dtype="Int64")
    due = pd.to_datetime(pd.Series([None, "2017-08-31", "2016-02-29", "2016-02-29", None]))
    got = im.dividend_due_dates(year, due, "09-30")
    assert got.dt.strftime("%Y-%m-%d").tolist() == [
        "2019-09-30", "2018-08-31", "2019-02-28", "2019-02-28", "2020-09-30"]
    assert im.dividend_due_dates(year[:1], None, "8-31").iloc[0] == pd.Timestamp("2019-08-31")


def test_due_date_from_text_cells():
    year = pd.Series([2019, 2019, 2019], dtype="Int64")
    due = pd.Series(["08-31", "2018-07-15", None], dtype="str")
    got = im.dividend_due_dates(year, due, "09-30")
    assert got.dt.strftime("%Y-%m-%d").tolist() == ["2019-08-31", "2019-07-15", "2019-09-30"]


def test_default_due_must_be_month_day():
    with pytest.raises(ParamError, match="default_due"):
        im.parse_month_day("end of September")


ASOF = pd.Timestamp("2019-09-30")
NATURES = ["entity_led", "asset_income"]


def _statuses(b, p, asof=ASOF):
    ob = im.dividend_obligations(b, p, asof, "09-30", NATURES)
    return {(r.project_id, r.hh_id, int(r.year)): r.status if isinstance(r.status, str) else None
            for r in ob.itertuples()}


def test_each_dividend_status():
    p = _projects([
        {"project_id": "P1", "guaranteed_dividend": 500.0},  # entity-led, due 09-30 by default
        {"project_id": "P2", "nature": "asset_income", "dividend_due": "2019-08-31",
         "guaranteed_dividend": 1000.0},
        {"project_id": "P3", "nature": "direct", "guaranteed_dividend": 500.0},
        {"project_id": "P4", "nature": "collective"},
    ])
    b = _benefits([
        ("P1", "H1", 2019, "分红", 500, None),  # unpaid, due 2019-09-30 <= as-of
        ("P1", "H2", 2019, "分红", 500, "2019-09-30"),  # paid on the due day: fine
        ("P1", "H3", 2019, "分红", 500, "2019-10-08"),  # late
        ("P1", "H4", 2019, "分红", 300, "2019-09-01"),  # short
        ("P1", "H5", 2019, "本金返还", 3000, "2019-09-01"),  # principal instead of a dividend
        ("P1", "H6", 2019, "分红", None, "2019-09-01"),  # blank amount: unpaid
        ("P2", "H1", 2018, "分红", 1000, "2018-09-15"),  # due 2018-08-31: late
        ("P2", "H2", 2019, "分红", 1000, "2019-08-31"),  # fine
        ("P2", "H3", 2019, "分红", 1000, None),  # unpaid, due 08-31
        ("P2", "H4", 2019, "本金返还", 5000, "2019-06-01"),
        ("P2", "H4", 2019, "分红", 1000, "2019-08-01"),  # dividend paid too: no principal case
        ("P3", "H1", 2019, "分红", 100, None),  # direct subsidy project: not checked
        ("P4", "H1", 2019, "分红", 100, None),  # collective: not in dividends.natures
    ])
    assert _statuses(b, p) == {
        ("P1", "H1", 2019): "unpaid", ("P1", "H2", 2019): None, ("P1", "H3", 2019): "late",
        ("P1", "H4", 2019): "short", ("P1", "H5", 2019): "principal",
        ("P1", "H6", 2019): "unpaid", ("P2", "H1", 2018): "late", ("P2", "H2", 2019): None,
        ("P2", "H3", 2019): "unpaid", ("P2", "H4", 2019): None,
    }


def test_nothing_is_judged_before_the_due_date():
    p = _projects([{"project_id": "P1", "guaranteed_dividend": 500.0}])
    b = _benefits([("P1", "H1", 2019, "分红", 500, None),
                   ("P1", "H2", 2019, "本金返还", 3000, "2019-05-01"),
                   ("P1", "H3", 2019, "分红", 100, "2019-05-01")])
    assert set(_statuses(b, p, pd.Timestamp("2019-06-30")).values()) == {None}
    assert _statuses(b, p, pd.Timestamp("2019-09-30")) == {
        ("P1", "H1", 2019): "unpaid", ("P1", "H2", 2019): "principal",
        ("P1", "H3", 2019): "short"}


def test_several_statuses_keep_one_row_with_all_listed():
    p = _projects([{"project_id": "P1", "guaranteed_dividend": 500.0}])
    b = _benefits([("P1", "H1", 2019, "分红", 200, "2019-10-20"),
                   ("P1", "H2", 2019, "分红", 500, None),
                   ("P1", "H2", 2019, "本金返还", 2000, "2019-07-01")])
    ob = im.dividend_obligations(b, p, ASOF, "09-30", NATURES).set_index("hh_id")
    assert ob.loc["H1", "status"] == "short" and ob.loc["H1", "statuses"] == "short;late"
    assert ob.loc["H1", "days_late"] == 20 and ob.loc["H1", "shortfall"] == 300
    assert ob.loc["H2", "status"] == "principal" and ob.loc["H2", "statuses"] == "principal;unpaid"


def test_dividends_by_entity_counts_due_household_years():
    p = _projects([
        {"project_id": "P1", "entity": "果业公司", "guaranteed_dividend": 500.0,
         "dividend_due": "2019-08-31"},
        {"project_id": "P2", "entity": "果业公司", "guaranteed_dividend": 500.0},
        {"project_id": "P3", "entity": "光伏公司", "nature": "asset_income"},
    ])
    b = _benefits([
        ("P1", "H1", 2019, "分红", 500, "2019-08-01"), ("P1", "H2", 2019, "分红", 500, None),
        ("P2", "H1", 2019, "分红", 500, "2019-10-02"),
        ("P2", "H2", 2020, "分红", 500, None),  # not due yet
        ("P3", "H3", 2019, "本金返还", 4000, "2019-09-01"),
    ])
    ob = im.dividend_obligations(b, p, ASOF, "09-30", NATURES)
    t = im.dividends_by(ob, p).set_index("entity")
    assert t.loc["果业公司", ["projects", "due", "on_time", "issues", "unpaid", "late"]].tolist() == [
        2, 3, 1, 2, 1, 1]
    assert t.loc["果业公司", "due_dates"] == "08-31、09-30"
    assert t.loc["光伏公司", "principal"] == 1 and t.loc["光伏公司", "issue_share"] == 1.0


# --- ledgers ------------------------------------------------------------------------------


def test_beneficiary_ledger_one_row_per_project_household_year():
    p = _projects([{"project_id": "P1", "category": "养殖业", "nature": "entity_led"}])
    hh = pd.DataFrame({"hh_id": ["H1"], "town": ["甲镇"], "village": ["一村"]})
    b = _benefits([
        ("P1", "H1", 2019, "分红", 500, "2019-09-01"),
        ("P1", "H1", 2019, "务工", 3000, "2019-07-01"),
        ("P1", "H1", 2019, "本金返还", 2000, "2019-09-20"),
        ("P1", "H1", 2018, "分红", 400, None),
    ])
    led = ind.beneficiary_ledger(b, p, hh, INCOME_TYPES)
    assert led[["project_id", "hh_id", "year"]].to_numpy().tolist() == [["P1", "H1", 2018],
                                                                     ["P1", "H1", 2019]]
    r = led.iloc[1]
    assert (r["amount"], r["amount_dividend"], r["amount_wage"], r["amount_principal"]) == (
        3500.0, 500.0, 3000.0, 2000.0)
    assert np.isnan(r["amount_direct"])
    assert r["benefit_types"] == "分红、务工、本金返还"
    assert r["paid_date"] == pd.Timestamp("2019-09-20")
    assert (r["town"], r["village"], r["category"], r["nature"]) == ("甲镇", "一村", "养殖业",
                                                                      "entity_led")
    assert "新型经营主体带动" in r["reason"] and "产业收入 3,500 元" in r["reason"]
    assert list(led.columns) == list(ind.COLUMNS["industry_beneficiaries"])


def test_beneficiary_ledger_keeps_a_type_not_in_the_list():
    p = _projects([{"project_id": "P1", "nature": "direct", "category": "种植业"}])
    hh = pd.DataFrame({"hh_id": ["H1"], "town": ["甲镇"], "village": ["一村"]})
    b = _benefits([("P1", "H1", 2019, "入股", 700, None), ("P1", "H1", 2019, "直补", 300, None),
                   ("P9", "H2", 2019, "直补", 100, None)])  # unknown project and household
    led = ind.beneficiary_ledger(b, p, hh, INCOME_TYPES).set_index("hh_id")
    assert led.loc["H1", "amount_other"] == 700 and led.loc["H1", "amount"] == 300
    assert led.loc["H1", "benefit_types"] == "直补、其他"
    assert pd.isna(led.loc["H2", "town"]) and "未知类别" in led.loc["H2", "reason"]


def test_overdue_and_project_ledgers():
    p = _projects([{"project_id": "P1", "guaranteed_dividend": 500.0, "planned_households": 4,
                    "investment": 100_000.0}])
    hh = pd.DataFrame({"hh_id": ["H1", "H2", "H3"], "town": "甲镇", "village": "一村"})
    b = _benefits([("P1", "H1", 2019, "分红", 500, None),
                   ("P1", "H2", 2019, "分红", 500, "2019-10-03"),
                   ("P1", "H3", 2019, "分红", 500, "2019-09-03")])
    ob = im.dividend_obligations(b, p, ASOF, "09-30", NATURES)
    od = ind.overdue_ledger(ob, p, hh, ASOF)
    assert od[["hh_id", "status"]].to_numpy().tolist() == [["H1", "unpaid"], ["H2", "late"]]
    assert "2019-09-30" in od.loc[0, "reason"] and "迟 3 天" in od.loc[1, "reason"]
    proj = ind.project_ledger(im.project_outcomes(p, b, INCOME_TYPES), ob, od).iloc[0]
    assert (proj["beneficiaries"], proj["shortfall"], proj["dividends_due"],
            proj["dividends_paid"], proj["dividend_issues"]) == (3, 1, 3, 2, 2)
    assert proj["dividend_paid_amount"] == 1000.0
    assert "少于计划 4 户" in proj["reason"] and "分红问题 2 户次" in proj["reason"]


# --- a whole run on a tiny package read through the loader --------------------------------


def _write_package(root) -> None:
    """A three-household package with Chinese headers; investment given in 万元."""
    root.mkdir(exist_ok=True)
    (root / "户信息.csv").write_text(
        "户编号,乡(镇),行政村,家庭人口数,脱贫属性,脱贫年度,计划脱贫年度\n"
        "H1,甲镇,一村,2,已脱贫,2017,\n"
        "H2,甲镇,二村,1,已脱贫,2018,\n"
        "H3,乙镇,三村,2,未脱贫,,2019\n"
        "H4,乙镇,三村,1,已脱贫,2019,\n", encoding="utf-8")
    (root / "收入信息.csv").write_text(
        "户编号,年度,年度家庭人口数,工资性收入,生产经营性收入,生产经营性支出,财产性收入,转移性收入\n"
        "H1,2019,2,5000,1500,500,500,0\n"  # net 6500, 3250 per head
        "H2,2019,1,8000,0,0,0,2000\n"  # net 10000
        "H3,2019,2,4000,2000,1000,1000,2000\n"  # net 8000
        "H4,2019,1,3000,0,0,0,1000\n", encoding="utf-8")
    (root / "产业项目.csv").write_text(
        "项目编号,项目名称,实施年度,乡(镇),行政村,项目类别,项目性质,带动主体,投资金额（万元）,"
        "资金来源,计划带动贫困户数,保底分红（元/户）,分红截止日期\n"
        "P1,苹果园,2018,甲镇,一村,种植业,新型经营主体带动,果业公司,12.5,财政专项,3,500,2019-08-31\n"
        "P2,到户直补,2019,乙镇,三村,养殖业,到户直补,,2,整合资金,1,,\n"
        "P3,光伏电站,2020,乙镇,三村,光伏扶贫,资产收益,光伏公司,300,财政专项,5,1000,\n",
        encoding="utf-8")
    (root / "项目受益.csv").write_text(
        "项目编号,户编号,年度,受益方式,受益金额（元）,到账日期\n"
        "P1,H1,2019,分红,500,2019-09-02\n"  # late: due 08-31
        "P1,H1,2018,分红,500,2018-08-01\n"
        "P1,H2,2019,本金返还,3000,2019-06-01\n"  # principal
        "P1,H2,2019,务工,1000,2019-07-01\n"
        "P2,H3,2019,直补,1500,2019-05-01\n"
        "P2,H4,2019,直补,800,2019-05-01\n", encoding="utf-8")


@pytest.fixture(scope="module")
def tiny_ctx(tmp_path_factory):
    """Read once per module; tests derive variants with dataclasses.replace, never mutate."""
    from qjlib.core.context import Context
    from qjlib.io.load import load_package

    root = tmp_path_factory.mktemp("industry") / "pkg"
    _write_package(root)
    return Context(load_package(root), load_params("2019Q3"))


def test_investment_in_wan_yuan_is_read_as_yuan(tiny_ctx):
    inv = tiny_ctx.pkg["projects"].set_index("project_id")["investment"]
    assert inv.to_dict() == {"P1": 125_000.0, "P2": 20_000.0, "P3": 3_000_000.0}


def test_run_summary_and_ledgers(tiny_ctx):
    s = ind.summary(tiny_ctx)
    assert s["available"] and s["income_year"] == 2019
    sr = s["support_rate"]
    # past exited (exit year < 2019): H1, H2 — both supported; H4 exited in 2019 is not past
    assert (sr["households"], sr["supported"], sr["overall"]) == (2, 2, 1.0)
    assert sr["by_cohort"] == {"2017": {"rate": 1.0, "households": 1, "supported": 1},
                               "2018": {"rate": 1.0, "households": 1, "supported": 1}}
    assert sr["planned"] == {"rate": 1.0, "households": 1, "supported": 1}  # H3
    cr = s["contribution_ratio"]
    # H1: dividend 500 of net 6500; H2: 务工 1000 (本金返还 is not income) of net 10000
    assert cr["overall"] == pytest.approx((500 + 1000) / (6500 + 10000))
    assert cr["planned"]["ratio"] == pytest.approx(1500 / 8000)
    # H1: 3250 >= 3218, 3250 - 500/2 = 3000 < 3218 -> pivotal; H2, H3 are far from the line
    assert s["pivotal"]["households"] == 1 and s["pivotal"]["past_exited"] == 1
    # projects up to 2019: P1 (125,000 yuan) and P2 (20,000 yuan); P3 is a 2020 project
    assert s["count_share"]["category"] == {"养殖业": 0.5, "种植业": 0.5}
    assert s["investment_share"]["nature"] == pytest.approx(
        {"direct": 20_000 / 145_000, "entity_led": 125_000 / 145_000})
    # each share's numerator beside it, the denominators are projects and investment
    assert s["count_by"] == {"category": {"养殖业": 1, "种植业": 1},
                             "nature": {"direct": 1, "entity_led": 1}}
    assert s["investment_by"]["nature"] == {"direct": 20_000.0, "entity_led": 125_000.0}
    assert (s["projects"], s["investment"]) == (2, 145_000.0)
    for dim in ("category", "nature"):
        for c, share in s["investment_share"][dim].items():
            assert share == s["investment_by"][dim][c] / s["investment"]
            assert s["count_share"][dim][c] == s["count_by"][dim][c] / s["projects"]
    # per class: rate = supported ÷ all past exited households, ratio = benefit ÷ net income
    for by in ("by_category", "by_nature"):
        for rec in sr[by].values():
            assert rec["households"] == sr["households"]
            assert rec["rate"] == rec["supported"] / rec["households"]
            assert rec["ratio"] == rec["benefit"] / rec["net_income"]
    # P1 (entity_led) gave H1 a dividend of 500 (net 6500) and H2 务工 1000 (net 10000)
    assert sr["by_nature"]["entity_led"] == {
        "rate": 1.0, "supported": 2, "ratio": pytest.approx(1500 / 16500), "households": 2,
        "benefit": 1500.0, "net_income": 16500.0}
    led = ind.build_ledgers(tiny_ctx)
    assert set(led) == set(ind.LEDGERS)
    od = led["dividend_overdue"]
    assert od[["project_id", "hh_id", "year", "status"]].to_numpy().tolist() == [
        ["P1", "H1", 2019, "late"], ["P1", "H2", 2019, "principal"]]
    assert led["industry_beneficiaries"].shape[0] == 5  # P1-H1 in 2018 and 2019, P1-H2, P2-H3/H4
    pj = led["industry_projects"].set_index("project_id")
    assert pj.loc["P1", "beneficiaries"] == 2 and pj.loc["P1", "shortfall"] == 1
    assert pj.loc["P1", "benefit_per_10k"] == pytest.approx((500 + 500 + 1000) / 12.5)
    assert "P3" not in pj.index
    for name, frame in led.items():
        assert list(frame.columns) == list(ind.COLUMNS[name])


def test_missing_tables_switch_the_analysis_off(tiny_ctx):
    from dataclasses import replace

    tables = {k: v for k, v in tiny_ctx.pkg.tables.items() if k != "benefits"}
    ctx = replace(tiny_ctx, pkg=replace(tiny_ctx.pkg, tables=tables))
    s = ind.summary(ctx)
    assert s["available"] is False and "benefits" in s["reason"]
    led = ind.build_ledgers(ctx)
    assert all(f.empty and list(f.columns) == list(ind.COLUMNS[n])
               for n, f in led.items())


def test_reading_and_key_figures_come_from_the_summary(tiny_ctx):
    s = ind.summary(tiny_ctx)
    text = page.reading(s, "测试县")
    assert "历年脱贫户 2 户" in text and "占其纯收入的 9.1%" in text  # 1500 / 16500
    assert "迟兑付 1" in text and "分本不分红）1 户次" in text
    s["support_rate"]["households"] = 7
    assert "历年脱贫户 7 户" in page.reading(s, "测试县")
    kf = page.key_figures(s)
    assert kf["关键户 pivotal"][0] == 1 and kf["分红问题 dividend issues"][0] == 2
    off = {"available": False, "reason": "缺少 benefits 表"}
    assert page.key_figures(off) == {} and "缺少 benefits 表" in page.reading(off, "测试县")


def test_without_income_contribution_and_pivotal_say_so(tiny_ctx):
    from dataclasses import replace

    tables = {k: v for k, v in tiny_ctx.pkg.tables.items() if k != "income"}
    ctx = replace(tiny_ctx, pkg=replace(tiny_ctx.pkg, tables=tables))
    s = ind.summary(ctx)
    assert s["support_rate"]["supported"] == 2  # support needs no income
    assert s["contribution_ratio"]["available"] is False and s["pivotal"]["available"] is False
    assert "无法计算产业收入贡献率和关键户" in page.reading(s, "测试县")
    assert page.key_figures(s)["关键户 pivotal"][0] is None


def test_ledger_headers_hold_only_true_overrides_and_every_column_has_one():
    assert_true_overrides_and_chinese_headers(ind.LEDGERS, ind.COLUMNS)


def test_dividend_issue_chart_lists_the_worst_entities_by_status_in_chinese():
    ent = pd.DataFrame({"entity": ["甲社", "乙社", "丙社"], "issues": [1, 0, 3],
                        "principal": [1, 0, 0], "unpaid": [0, 0, 2], "short": [0, 0, 1],
                        "late": [0, 0, 0]})
    t = page.dividend_issues(ent, k=5)
    assert t.index.tolist() == ["丙社", "甲社"]
    assert list(t.columns) == [page.STATUS_ZH[k] for k in im.STATUS_ORDER]
    assert page.dividend_issues(ent, k=1).index.tolist() == ["丙社"]
