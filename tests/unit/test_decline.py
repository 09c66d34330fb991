"""Declines and trends of past exited households (qjlib.analyses.decline), on tiny inline frames.
The time-series statistics themselves are tested in test_trend.py."""

from __future__ import annotations

from math import comb, factorial

import numpy as np
import pandas as pd
import pytest
from fixtures.frames import FramePackage

from qjlib.analyses import decline as d
from qjlib.analyses import decline_metrics as dm
from qjlib.core.ledgers import column_label
from qjlib.core.params import load_params
from qjlib.pages import decline as page


def income_rows(series: dict[str, dict[int, tuple]]) -> pd.DataFrame:
    """Income table with the loader's canonical columns from ``{hh_id: {year: (size, wage,
    operating_net, property, transfer)}}``; net income and per capita recomputed as the loader does."""
    rows = [
        {"hh_id": h, "year": y, "size": v[0], "wage": v[1], "operating": v[2] + 100.0,
         "operating_cost": 100.0, "property": v[3], "transfer": v[4]}
        for h, ys in series.items() for y, v in ys.items()
    ]
    df = pd.DataFrame(rows)
    df["year"] = df["year"].astype("Int64")
    df["size"] = df["size"].astype("Int64")
    df["operating_net"] = df["operating"] - df["operating_cost"]
    df["net_income"] = df[["wage", "operating_net", "property", "transfer"]].sum(axis=1)
    df["net_per_capita"] = df["net_income"] / df["size"].astype(float)
    return df


def pc_rows(series: dict[str, dict[int, float]], size: int = 1) -> pd.DataFrame:
    """Income rows whose per-capita net income is the given figure (all of it wage)."""
    return income_rows({h: {y: (size, v * size, 0.0, 0.0, 0.0) for y, v in ys.items()}
                        for h, ys in series.items()})


@pytest.fixture(scope="module")
def params():
    return load_params("2019Q3")


def metrics(income: pd.DataFrame, params, year: int = 2019, **over) -> pd.DataFrame:
    kw = dm.decline_params(params) | over
    return dm.household_metrics(dm.build_panel(income, last_year=year), year, **kw)


# ---------------------------------------------------------------------------- panel


def test_panel_scatters_rows_and_leaves_missing_years_nan():
    inc = pc_rows({"B": {2016: 10.0, 2018: 30.0}, "A": {2017: 5.0}})
    p = dm.build_panel(inc)
    assert list(p.years) == [2016, 2017, 2018]
    assert list(p.hh_id) == ["B", "A"]
    np.testing.assert_array_equal(p.pc, [[10.0, np.nan, 30.0], [np.nan, 5.0, np.nan]])


def test_panel_extends_to_the_income_year_and_drops_later_years():
    inc = pc_rows({"A": {2016: 10.0, 2017: 9.0, 2020: 1.0}})
    p = dm.build_panel(inc, last_year=2019)
    assert list(p.years) == [2016, 2017, 2018, 2019]
    assert np.isnan(p.pc[0, 2:]).all()


# ---------------------------------------------------------------------------- chain rule


def test_three_consecutive_decreases_ending_in_income_year_are_flagged(params):
    inc = pc_rows({
        "fell": {2016: 5000, 2017: 4800, 2018: 4500, 2019: 4000},
        "two_only": {2016: 5000, 2017: 5100, 2018: 4500, 2019: 4000},
        "flat_once": {2016: 5000, 2017: 4800, 2018: 4800, 2019: 4000},
        "rose_last": {2016: 5000, 2017: 4800, 2018: 4500, 2019: 4600},
        "four": {2015: 6000, 2016: 5000, 2017: 4800, 2018: 4500, 2019: 4000},
    })
    m = metrics(inc, params)
    assert m.loc["fell", "flagged"] and m.loc["fell", "run_end"] == 3
    assert not m.loc["two_only", "flagged"] and m.loc["two_only", "run_end"] == 2
    assert not m.loc["flat_once", "flagged"]  # equal is not a decrease
    assert not m.loc["rose_last", "flagged"] and m.loc["rose_last", "run_end"] == 0
    assert m.loc["rose_last", "longest_run"] == 2
    assert m.loc["four", "flagged"] and m.loc["four", "run_end"] == 4
    assert not m["gap"].any()
    assert m.loc["rose_last", "yoy_change"] == 100 and m.loc["fell", "yoy_change"] == -500
    assert tuple(m.columns) == dm.METRIC_COLUMNS


def test_missing_year_breaks_the_chain_and_is_a_gap_not_a_decline(params):
    inc = pc_rows({
        "hole_2017": {2016: 5000, 2018: 4500, 2019: 4000},
        "no_2019": {2016: 5000, 2017: 4800, 2018: 4500},
        "short": {2017: 4800, 2018: 4500, 2019: 4000},  # data begin after Y−N
        "hole_but_rose": {2016: 5000, 2018: 4500, 2019: 4600},
    })
    inc = pd.concat([inc, pc_rows({"other": {2015: 1.0}})])  # the table starts in 2015
    m = metrics(inc, params)
    assert not m["flagged"].any()
    assert m.loc["hole_2017", "gap"] and m.loc["hole_2017", "gap_year"] == 2017
    assert m.loc["no_2019", "gap"] and m.loc["no_2019", "gap_year"] == 2019
    assert np.isnan(m.loc["no_2019", "yoy_change"])
    # the window's ends are known, so its change is; its yearly split needs every year
    assert m.loc["hole_2017", "change"] == -1000 and np.isnan(m.loc["hole_2017", "income_effect"])
    assert m.loc["short", "gap"] and m.loc["short", "gap_year"] == 2016
    assert m.loc["short", "run_end"] == 2
    # a rise in 2019 ends the chain before the gap: no gap to report
    assert not m.loc["hole_but_rose", "gap"] and pd.isna(m.loc["hole_but_rose", "gap_year"])


def test_chain_reaching_before_the_first_year_of_data_is_a_gap(params):
    m = metrics(pc_rows({"A": {2017: 4800, 2018: 4500, 2019: 4000}}), params)
    assert not m.loc["A", "flagged"]
    assert m.loc["A", "gap"] and m.loc["A", "gap_year"] == 2016


def test_min_drop_requires_a_fall_larger_than_it(params):
    inc = pc_rows({
        "small": {2016: 5000, 2017: 4950, 2018: 4900, 2019: 4850},  # −50 a year
        "exact": {2016: 5000, 2017: 4900, 2018: 4800, 2019: 4700},  # −100: not < −100
        "large": {2016: 5000, 2017: 4800, 2018: 4600, 2019: 4400},
    })
    m0 = metrics(inc, params, min_drop=0.0)
    assert m0["flagged"].all()
    m = metrics(inc, params, min_drop=100.0)
    assert m["flagged"].to_dict() == {"small": False, "exact": False, "large": True}


def test_n_declines_parameter(params):
    inc = pc_rows({"A": {2017: 5000, 2018: 4500, 2019: 4000}})
    assert not metrics(inc, params, n_declines=3).loc["A", "flagged"]
    assert metrics(inc, params, n_declines=2).loc["A", "flagged"]


# ---------------------------------------------------------------------------- size / income split


def test_newborn_only_decline_is_a_size_effect(params):
    # income unchanged at 12,000; a child is born each year: 3 → 4 → 5 → 6 persons
    inc = income_rows({"baby": {y: (3 + k, 12000.0, 0.0, 0.0, 0.0)
                                for k, y in enumerate(range(2016, 2020))}})
    m = metrics(inc, params)
    row = m.loc["baby"]
    assert row["flagged"]
    assert row["change"] == pytest.approx(2000.0 - 4000.0)
    assert row["income_effect"] == pytest.approx(0.0)
    assert row["size_effect"] == pytest.approx(-2000.0)
    assert row["cause"] == "size"
    assert pd.isna(row["component"])  # no income component fell


def test_income_fall_with_constant_size_is_an_income_effect_and_names_the_component(params):
    inc = income_rows({"A": {
        2016: (4, 8000.0, 4000.0, 0.0, 2000.0),
        2017: (4, 7000.0, 4000.0, 0.0, 2100.0),
        2018: (4, 6000.0, 3900.0, 0.0, 2100.0),
        2019: (4, 5000.0, 3900.0, 0.0, 2200.0),
    }})
    row = metrics(inc, params).loc["A"]
    assert row["flagged"] and row["cause"] == "income"
    assert row["size_effect"] == pytest.approx(0.0)
    assert row["component"] == "wage"
    assert row["component_effect"] == pytest.approx(-3000.0 / 4)
    assert row["income_effect"] == pytest.approx(row["change"])


# ---------------------------------------------------------------------------- trend


def test_trend_percent_and_cagr_of_a_steady_ten_percent_growth(params):
    inc = pc_rows({"A": {y: 3000 * 1.1 ** k for k, y in enumerate(range(2014, 2020))}})
    row = metrics(inc, params).loc["A"]
    assert row["trend_pct"] == pytest.approx(10.0)
    assert row["cagr"] == pytest.approx(0.10)
    assert row["trend"] == "up" and row["mk_s"] == 15
    assert row["mk_p"] == pytest.approx(2 / factorial(6))


def test_recent_decline_and_overall_trend_are_different_signals(params):
    # a long rise, then three small falls: flagged, yet the overall trend is up
    inc = pc_rows({"A": {2012: 2000, 2013: 2600, 2014: 3200, 2015: 4000, 2016: 5200,
                         2017: 5100, 2018: 5000, 2019: 4900}})
    row = metrics(inc, params).loc["A"]
    assert row["flagged"]
    assert row["trend_pct"] > 0 and row["cagr"] > 0


# ---------------------------------------------------------------------------- line and jumps


def test_position_against_the_poverty_line_of_the_income_year(params):
    line = params.poverty_line(2019)
    inc = pc_rows({"below": {2019: line - 1}, "at": {2019: line}, "above": {2019: 2 * line}})
    m = metrics(inc, params)
    assert m["below_line"].tolist() == [True, False, False]
    assert m.loc["above", "line_ratio"] == pytest.approx(2.0)
    assert (m["poverty_line"] == line).all()


def test_extreme_jumps_are_flagged_as_possible_data_errors(params):
    f = params.get("decline.jump_factor")
    inc = pc_rows({
        "up": {2016: 1000, 2017: 1000 * f, 2018: 2900, 2019: 2800},
        "down": {2016: 9000, 2017: 9000 / f, 2018: 2900, 2019: 2800},
        "mild": {2016: 1000, 2017: 1000 * f * 0.99, 2018: 2900, 2019: 2800},
    })
    m = metrics(inc, params)
    assert m["jumps"].to_dict() == {"up": 1, "down": 1, "mild": 0}
    assert m.loc["down", "flagged"] and m.loc["down", "jump_in_window"]


def test_missing_poverty_line_for_the_income_year_is_an_error(params):
    from qjlib.core.params import ParamError

    inc = pc_rows({"A": {2025: 5000}})
    with pytest.raises(ParamError, match="2025"):
        metrics(inc, params, year=2025)


def test_metrics_are_the_same_whatever_the_row_order(params):
    rng = np.random.default_rng(7)
    inc = pc_rows({f"H{k:03d}": {y: float(v) for y, v in zip(range(2014, 2020),
                                                              rng.integers(2000, 6000, 6),
                                                              strict=True)
                                 if rng.random() > 0.1}
                   for k in range(60)})
    a = metrics(inc, params).sort_index()
    b = metrics(inc.sample(frac=1.0, random_state=3), params).sort_index()
    pd.testing.assert_frame_equal(a, b)
    assert comb(6, 2) >= a["mk_s"].abs().max()


# ---------------------------------------------------------------------------- cohorts


def test_cohort_medians_and_growth_against_the_line():
    inc = pc_rows({
        "a": {2016: 3000, 2017: 3300, 2018: 3630, 2019: 3993},  # +10 %/yr
        "b": {2016: 5000, 2017: 5500, 2018: 6050, 2019: 6655},
        "c": {2017: 4000, 2018: 4000, 2019: 4000},
    })
    p = dm.build_panel(inc, last_year=2019, ids=pd.Index(["a", "b", "c"]))
    lines = pd.Series({2016: 2952.0, 2017: 2952.0, 2018: 2995.0, 2019: 3218.0})
    med = dm.cohort_medians(p, np.array([2016, 2016, 2017]), lines)
    m16 = med[med["exit_year"] == 2016].set_index("year")
    assert m16.loc[2016, "median_pc"] == pytest.approx(4000.0)
    assert m16.loc[2019, "households"] == 2
    assert m16.loc[2019, "line_ratio"] == pytest.approx((3993 + 6655) / 2 / 3218)
    g = dm.cohort_growth(med, 2019).set_index("exit_year")
    assert g.loc[2016, "growth_rate"] == pytest.approx(0.10)
    assert g.loc[2016, "line_growth_rate"] == pytest.approx((3218 / 2952) ** (1 / 3) - 1)
    assert g.loc[2017, "growth_rate"] == pytest.approx(0.0)
    assert g.loc[2017, "base_year"] == 2017


# ---------------------------------------------------------------------------- ledger and summary




def households(rows: list[tuple]) -> pd.DataFrame:
    """rows of (hh_id, town, village, exit_status, exit_year)."""
    df = pd.DataFrame(rows, columns=["hh_id", "town", "village", "exit_status", "exit_year"])
    df["exit_year"] = df["exit_year"].astype("Int64")
    df["size"] = 4
    return df.astype({"hh_id": "str", "town": "str", "village": "str", "exit_status": "str"})


def tiny_context(params):
    from qjlib.core.context import Context

    hh = households([
        ("f1", "甲镇", "一村", "exited", 2016),     # falls 3 years: flagged, below line
        ("f2", "甲镇", "二村", "returned", 2017),   # falls 3 years, above the line
        ("nb", "乙镇", "三村", "exited", 2015),     # falls only through newborns
        ("up", "乙镇", "三村", "exited", 2016),     # rises
        ("gp", "乙镇", "三村", "exited", 2016),     # 2017 missing: gap, not flagged
        ("ne", "甲镇", "一村", "not_exited", None),  # falls, but not exited: not considered
        ("cy", "甲镇", "一村", "exited", 2019),     # exits in the income year: not past exited
        ("no", "乙镇", "四村", "exited", 2017),     # no income rows at all
        ("ny", "乙镇", "四村", "exited", None),     # exited without exit year
    ])
    fall = {2016: (4, 24000.0, 0.0, 0.0, 0.0), 2017: (4, 20000.0, 0.0, 0.0, 0.0),
            2018: (4, 16000.0, 0.0, 0.0, 0.0), 2019: (4, 12000.0, 0.0, 0.0, 0.0)}
    inc = income_rows({
        "f1": fall,
        "f2": {y: (s, w, op + 9000, p, t) for y, (s, w, op, p, t) in fall.items()},
        "nb": {2016: (3, 30000.0, 0.0, 0.0, 0.0), 2017: (4, 30000.0, 0.0, 0.0, 0.0),
               2018: (5, 30000.0, 0.0, 0.0, 0.0), 2019: (6, 30000.0, 0.0, 0.0, 0.0)},
        "up": {y: (4, 10000.0 + 1000 * k, 0.0, 0.0, 0.0) for k, y in enumerate(range(2016, 2020))},
        "gp": {y: v for y, v in fall.items() if y != 2017},
        "ne": fall,
        "cy": fall,
        "ny": fall,
    })
    return Context(FramePackage(households=hh, income=inc), params)


def test_ledger_lists_exactly_the_past_exited_households_with_n_declines(params):
    led = d.build_ledgers(tiny_context(params))["income_decline"]
    assert led["hh_id"].tolist() == ["f1", "f2", "nb"]
    r = led.set_index("hh_id")
    assert r.loc["f1", "pc_series"] == "2016:6000 → 2017:5000 → 2018:4000 → 2019:3000"
    assert r.loc["nb", "size_series"] == "3 → 4 → 5 → 6"
    assert r.loc["f1", "below_line"] and not r.loc["f2", "below_line"]
    assert r.loc["nb", "cause"] == "人口增加" and "仅因家庭人口增加" in r.loc["nb", "reason"]
    assert r.loc["f1", "cause"] == "收入减少" and r.loc["f1", "component"] == "工资性收入"
    assert r.loc["f1", "reason"].startswith("连续3年人均纯收入下降（2016年6,000元→2019年3,000元，-50.0%）")
    assert "低于当年贫困线3,218元" in r.loc["f1", "reason"]
    assert r.loc["f1", "town"] == "甲镇" and r.loc["nb", "village"] == "三村"
    # urgency: below the line first, then the largest relative fall
    assert r["urgency"].to_dict() == {"f1": 1, "nb": 2, "f2": 3}
    assert set(led.columns) <= set(d.LEDGER_COLUMNS)


def test_summary_counts_considered_flagged_and_gaps(params):
    s = d.summary(tiny_context(params))
    assert s["available"] and s["income_year"] == 2019
    assert s["past_exited"] == 6  # f1 f2 nb up gp no
    assert s["flagged"] == 3
    assert s["data_gap"] == 2 and s["no_income"] == 1  # gp (2017 missing), no (no rows)
    assert s["exited_without_year"] == 1
    assert s["by_cause"] == {"income": 2, "size": 1, "both": 0}
    assert s["below_line"] == 1
    assert s["by_town"] == {"乙镇": {"past_exited": 4, "flagged": 1},
                            "甲镇": {"past_exited": 2, "flagged": 2}}
    import json

    json.dumps(s)  # JSON-able


def test_without_income_table_the_ledger_is_empty_and_summary_says_why(params):
    from qjlib.core.context import Context

    ctx = tiny_context(params)
    ctx = Context(FramePackage(households=ctx.pkg["households"]), params)
    led = d.build_ledgers(ctx)["income_decline"]
    assert led.empty and list(led.columns) == list(d.LEDGER_COLUMNS)
    s = d.summary(ctx)
    assert s["available"] is False and "income" in s["reason"]


def test_ledger_spec_labels_every_column():
    spec = d.LEDGERS["income_decline"]
    assert spec.key == ("hh_id",) and spec.plan == "R5"
    assert all(column_label(c, spec) != c for c in d.LEDGER_COLUMNS)
    # only true overrides: each differs from the schema's / the common label
    assert all(z != column_label(c) for c, z in spec.columns_zh.items())


# ---------------------------------------------------------------------------- notebook helpers


def test_notebook_tables_count_the_tiny_county(params):
    res = d.analyse(tiny_context(params))
    area = page.by_area(res).set_index("town")
    assert area.loc["甲镇", "past_exited"] == 2 and area.loc["甲镇", "flagged"] == 2
    assert area.loc["甲镇", "below_line"] == 1 and area.loc["乙镇", "data_gap"] == 2
    assert area.loc["乙镇", "flag_rate"] == pytest.approx(1 / 4)
    causes = page.cause_table(res)
    assert causes["households"].sum() == 3
    assert causes.set_index("cause").loc["人口增加", "component"] == "无（收入未减）"
    sig = page.signals_table(res)
    assert sig.to_numpy().sum() == 6
    assert sig.loc["连续3年下降", "下降"] == 3 and sig.loc["数据缺口", "年份不足"] == 1
    traj = page.trajectories(res, k=2)
    assert traj["label"].unique().tolist() == ["户1", "户2"]
    assert "hh_id" not in traj.columns
    f1 = traj[traj["label"] == "户1"]  # the most urgent: f1, below the line
    assert f1["pc"].tolist() == [6000.0, 5000.0, 4000.0, 3000.0]


def test_reading_is_built_from_the_summary(params):
    s = d.summary(tiny_context(params))
    text = page.reading(s, "测试县")
    assert "历年脱贫户" in text and f"{s['past_exited']:,} 户" in text
    assert f"仅因家庭人口增加（收入未减）{s['by_cause']['size']:,} 户" in text
    kf = page.key_figures(s)
    assert kf["历年脱贫户 past exited households"] == 6


def test_a_scope_without_declines_has_an_empty_ledger_and_a_summary(params):
    from qjlib.core.context import Context

    ctx = tiny_context(params)
    hh, inc = ctx.pkg["households"], ctx.pkg["income"]
    keep = ["up", "gp"]
    sub = Context(FramePackage(households=hh[hh["hh_id"].isin(keep)],
                              income=inc[inc["hh_id"].isin(keep)]), params)
    res = d.analyse(sub)
    assert res.ledger.empty and set(res.ledger.columns) == set(d.LEDGER_COLUMNS)
    s = d.summary(sub)
    assert s["flagged"] == 0 and s["past_exited"] == 2 and s["data_gap"] == 1
    assert "没有人均纯收入连续 3 年下降的户" in page.reading(s, "乙镇")
    assert page.trajectories(res).empty and page.cause_table(res).empty


def test_share_text_never_shows_a_nonzero_share_as_zero():
    assert page.share_text(4, 8611) == "0.05%"
    assert page.share_text(0, 8611) == "0.0%"
    assert page.share_text(1, 10**6) == "<0.01%"
    assert page.share_text(25, 100) == "25.0%"
    assert page.share_text(1, 0) == "—"
