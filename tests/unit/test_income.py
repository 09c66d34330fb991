"""Income structure (R2) on tiny frames: ratio of sums, households with net income ≤ 0, threshold
directions, the Lerman–Yitzhaki decomposition of per-capita sources by hand, ledgers and summary
figures. The general statistics have their own tests: test_grouping.py, test_inequality.py."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from fixtures.frames import FramePackage
from hypothesis import given, settings
from hypothesis import strategies as st

from qjlib.analyses import income as inc
from qjlib.analyses import inequality
from qjlib.core import definitions, ids
from qjlib.core.context import Context
from qjlib.core.ledgers import column_label
from qjlib.core.params import load_params
from qjlib.pages import income as page

THR = {"low_operating_share": 0.10, "transfer_dependent_share": 0.50}


def income_frame(rows: list[dict]) -> pd.DataFrame:
    """Income rows with the loader's canonical derived columns (as `qjlib.load` delivers them)."""
    base = {"year": 2019, "size": 1, "wage": 0.0, "operating": 0.0, "operating_cost": 0.0,
            "property": 0.0, "transfer": 0.0}
    df = pd.DataFrame([{**base, **r} for r in rows])
    df["hh_id"] = df["hh_id"].astype("str")
    df["year"] = df["year"].astype("Int64")
    df["size"] = df["size"].astype("Int64")
    for c in ("wage", "operating", "operating_cost", "property", "transfer"):
        df[c] = df[c].astype(float)
    return df.assign(operating_net=definitions.operating_net(df),
                     net_income=definitions.net_income(df),
                     net_per_capita=definitions.net_per_capita(df))


def households_frame(rows: list[dict]) -> pd.DataFrame:
    base = {"town": "甲镇", "village": "一村", "size": 1, "exit_status": "exited", "exit_year": 2017,
            "labor_capacity": "有劳动能力", "poverty_attr": "一般贫困户", "main_cause": "因病"}
    df = pd.DataFrame([{**base, **r} for r in rows])
    for c in ("hh_id", "town", "village", "exit_status", "labor_capacity", "poverty_attr", "main_cause"):
        df[c] = df[c].astype("str")
    df["exit_year"] = df["exit_year"].astype("Int64")
    return df


def ctx_of(income: pd.DataFrame | None, households: pd.DataFrame, **overrides) -> Context:
    tables = {"households": households} | ({"income": income} if income is not None else {})
    return Context(FramePackage(**tables), load_params("2019Q3", overrides=overrides or None))


# ---------------------------------------------------------------------------------------------
# Shares


def test_group_share_is_ratio_of_sums_not_mean_of_ratios():
    # A earns 9000 wage + 1000 transfer (wage share 0.9), B only 1000 transfer (wage share 0).
    # Ratio of sums: 9000 / 11000 = 0.8182; the mean of the household ratios would be 0.45.
    income = income_frame([
        {"hh_id": "A", "wage": 9000, "transfer": 1000},
        {"hh_id": "B", "transfer": 1000},
    ])
    hh = households_frame([{"hh_id": "A"}, {"hh_id": "B"}])
    row = inc.structure_by(income, hh, **THR).iloc[0]
    assert row["wage_share"] == pytest.approx(9000 / 11000)
    assert row["transfer_share"] == pytest.approx(2000 / 11000)
    assert row["wage_share"] != pytest.approx(0.45)
    # the per-household distribution is where the 0.9 / 0 of the households show: median 0.45
    assert row["wage_share_p50"] == pytest.approx(0.45)
    assert row["households"] == 2 and row["nonpositive"] == 0
    assert row["wage"] == 9000 and row["net_income"] == 11000


def test_nonpositive_net_income_counted_in_sums_without_shares_and_in_no_ledger():
    # C runs at a loss: 2000 wage + (1000 − 4000) operating = −1000 net income; D has exactly 0.
    income = income_frame([
        {"hh_id": "A", "wage": 9000, "transfer": 1000},
        {"hh_id": "C", "wage": 2000, "operating": 1000, "operating_cost": 4000},
        {"hh_id": "D"},
    ])
    hh = households_frame([{"hh_id": h} for h in "ACD"])
    row = inc.structure_by(income, hh, **THR).iloc[0]
    assert row["households"] == 3 and row["nonpositive"] == 2
    # the sums include C's loss: Σ net = 10000 − 1000 + 0 = 9000, Σ operating_net = −3000
    assert row["net_income"] == 9000
    assert row["operating_net_share"] == pytest.approx(-3000 / 9000)
    assert sum(row[f"{k}_share"] for k in inc.COMPONENTS) == pytest.approx(1.0)
    # the distribution is over A only (the one household with shares)
    assert row["wage_share_p25"] == row["wage_share_p75"] == pytest.approx(0.9)
    # C's operating share would be negative (< 10 %) and transfer… but no shares, so no ledger
    frame = inc.household_year_frame(income, hh, 2019)
    assert frame.loc[frame["hh_id"] == "C", "operating_net_share"].isna().all()
    assert inc.low_operating_ledger(frame, 0.10)["hh_id"].tolist() == ["A"]
    assert inc.transfer_dependent_ledger(frame, 0.01)["hh_id"].tolist() == ["A"]
    assert inc.nonpositive_households(frame)["hh_id"].tolist() == ["C", "D"]
    assert row["low_operating"] == 1


def test_transfer_threshold_exactly_at_is_not_flagged_above_is():
    income = income_frame([
        {"hh_id": "at", "wage": 5000, "transfer": 5000},  # 50 % exactly
        {"hh_id": "at_cents", "wage": 3333.33, "property": 0.01, "transfer": 3333.34},  # 50 %, fen
        {"hh_id": "above", "wage": 4999, "transfer": 5001},  # 50.01 %
        {"hh_id": "below", "wage": 5001, "transfer": 4999},
    ])
    hh = households_frame([{"hh_id": h} for h in income["hh_id"]])
    frame = inc.household_year_frame(income, hh, 2019)
    led = inc.transfer_dependent_ledger(frame, 0.50)
    assert led["hh_id"].tolist() == ["above"]
    assert led["reason"].iloc[0] == "转移性收入占纯收入 50.01%，高于 50%"
    assert inc.structure_by(income, hh, **THR)["transfer_dependent"].iloc[0] == 1


def test_low_operating_threshold_direction_and_labour_capacity():
    income = income_frame([
        {"hh_id": "at", "wage": 9000, "operating": 1500, "operating_cost": 500},  # 10 % exactly
        {"hh_id": "low", "wage": 9580, "operating": 420},  # 4.2 %
        {"hh_id": "weak", "wage": 9999, "operating": 1},  # 0.01 %, 弱劳动能力
        {"hh_id": "none", "transfer": 10000},  # 0 %, 无劳动能力: not judged
        {"hh_id": "unknown", "transfer": 10000},  # no members rows: not judged
        {"hh_id": "just", "wage": 9001, "operating": 999},  # 9.99 %: shown with two decimals
    ])
    hh = households_frame([
        {"hh_id": "at"}, {"hh_id": "low"}, {"hh_id": "weak", "labor_capacity": "弱劳动能力"},
        {"hh_id": "none", "labor_capacity": "无劳动能力"}, {"hh_id": "unknown", "labor_capacity": None},
        {"hh_id": "just"},
    ])
    frame = inc.household_year_frame(income, hh, 2019)
    led = inc.low_operating_ledger(frame, 0.10)
    assert led["hh_id"].tolist() == ["just", "low", "weak"]
    reasons = dict(zip(led["hh_id"], led["reason"], strict=True))
    assert reasons["low"] == "有劳动能力户生产经营性净收入占比 4.2%，低于 10%"
    assert reasons["just"] == "有劳动能力户生产经营性净收入占比 9.99%，低于 10%"
    assert reasons["weak"].startswith("弱劳动能力户")
    assert list(led.columns) == list(inc._LEDGER_COLUMNS)
    assert led.loc[led["hh_id"] == "low", "operating_net_share"].iloc[0] == pytest.approx(0.042)

    groups = inc.structure_by(income, hh, ["labor_capacity"], **THR).set_index("labor_capacity")
    assert groups["low_operating"].to_dict() == {"弱劳动能力": 1, "无劳动能力": 0, "有劳动能力": 2,
                                                 inc.UNKNOWN: 0}
    assert groups.loc[inc.UNKNOWN, "households"] == 1  # the missing capacity is a group, not dropped


def test_grouping_keys_sorted_and_unregistered_rows_left_out():
    income = income_frame([
        {"hh_id": "A", "year": 2016, "wage": 100},  # no 2017/2018 rows: no empty groups either
        {"hh_id": "A", "year": 2019, "wage": 300, "transfer": 100},
        {"hh_id": "B", "year": 2019, "transfer": 500},
        {"hh_id": "Z", "year": 2019, "wage": 10**6},  # not in the households table
    ])
    hh = households_frame([{"hh_id": "A", "town": "乙镇"}, {"hh_id": "B", "town": "甲镇"}])
    out = inc.structure_by(income, hh, ["town", "year"], **THR)
    assert out[["town", "year"]].to_numpy().tolist() == [["乙镇", 2016], ["乙镇", 2019], ["甲镇", 2019]]
    first = inc.structure_by(income, hh, ["year", "town"], **THR)  # the year as the first key
    assert first[["year", "town"]].to_numpy().tolist() == [[2016, "乙镇"], [2019, "乙镇"], [2019, "甲镇"]]
    assert out["net_income"].tolist() == [100, 400, 500]
    assert out["transfer_share"].tolist() == pytest.approx([0.0, 0.25, 1.0])


def test_keys_from_both_tables_in_any_order_match_a_pandas_groupby():
    rng = np.random.default_rng(3)
    hh = households_frame([
        {"hh_id": f"h{i}", "town": ["甲镇", "乙镇", "丙镇"][i % 3], "village": f"{i % 4}村",
         "labor_capacity": [*inc.LABOR_CAPACITY, None][i % 4]} for i in range(40)])
    income = income_frame([
        {"hh_id": f"h{i % 40}", "year": 2016 + i // 40, "wage": float(rng.integers(0, 9000)),
         "transfer": float(rng.integers(0, 5000))} for i in range(120)])
    by = ["labor_capacity", "year", "town", "village"]
    got = inc.structure_by(income, hh, by, **THR)
    frame = inc.household_year_frame(income, hh)
    keys = [inc._key_series(frame[c]) for c in by]
    want = frame.groupby(keys, sort=True)[["wage", "transfer"]].agg(["sum", "size"])
    assert len(got) == len(want)
    assert got[by].astype(str).agg("|".join, axis=1).tolist() == \
        ["|".join(map(str, k)) for k in want.index]
    assert got["wage"].tolist() == want[("wage", "sum")].tolist()
    assert got["households"].tolist() == want[("wage", "size")].tolist()


def test_exit_cohort_and_other_groupings():
    hh = households_frame([
        {"hh_id": "A", "exit_status": "exited", "exit_year": 2016},
        {"hh_id": "B", "exit_status": "returned", "exit_year": 2017},
        {"hh_id": "C", "exit_status": "not_exited", "exit_year": None},
        {"hh_id": "D", "exit_status": "exited", "exit_year": None},
    ])
    assert inc.exit_cohort(hh).tolist() == ["2016年脱贫", "返贫", "未脱贫", inc.UNKNOWN]
    income = income_frame([{"hh_id": h, "wage": 100 * (i + 1)} for i, h in enumerate("ABCD")])
    out = inc.structure_by(income, hh, ["exit_cohort"], **THR)
    assert dict(zip(out["exit_cohort"], out["wage"], strict=True)) == {
        "2016年脱贫": 100, "未脱贫": 300, "未知": 400, "返贫": 200}


def test_positions_digit_ids_and_the_string_fallback(monkeypatch):
    """core.ids.positions, the lookup structure_by and household_year_frame use."""
    table = pd.Series([f"6108{i:015d}" for i in range(50)], dtype="str")  # 19 digits each
    probe = pd.Series(["6108000000000000007", "6108999999999999999", "6108000000000000049",
                       "6108000000000000000", "6108000000000000007"], dtype="str")
    want = [7, -1, 49, 0, 7]
    assert ids.positions(probe, table).tolist() == want
    calls = []
    real = ids.pc.index_in
    monkeypatch.setattr(ids.pc, "index_in", lambda *a, **k: calls.append(1) or real(*a, **k))
    assert ids.positions(probe, table).tolist() == want
    assert not calls, "digit ids of one width take the integer path"
    # leading zeros: "0012" and "12" would be the same number — different widths use strings
    assert ids.positions(pd.Series(["12", "0012"], dtype="str"),
                                   pd.Series(["0012", "0034"], dtype="str")).tolist() == [-1, 0]
    # letters, Chinese, varying widths, a 20-digit id: the string lookup, same answers
    mixed = pd.Series(["户1", "A-22", "6108000000000000007"], dtype="str")
    assert ids.positions(pd.Series(["A-22", "x", "户1"], dtype="str"), mixed).tolist() \
        == [1, -1, 0]
    long = pd.Series(["99999999999999999999", "99999999999999999998"], dtype="str")
    assert ids.positions(long[::-1].reset_index(drop=True), long).tolist() == [1, 0]
    # one width but not all digits (a check character X, a sign): strings again
    letters = pd.Series(["610800000000000001X", "+610800000000000001"], dtype="str")
    assert ids.positions(letters[::-1].reset_index(drop=True), letters).tolist() == [1, 0]
    assert len(calls) == 4


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(-50, 200), st.integers(1, 200)),
                min_size=1, max_size=40))
def test_group_quartiles_match_numpy_quantile(rows):
    """The sort-and-partition quartiles equal numpy.quantile (linear) per group, ≤ 0 rows excluded."""
    income = income_frame([
        {"hh_id": f"h{i}", "wage": float(w), "transfer": float(t)} for i, (_, w, t) in enumerate(rows)
    ])
    hh = households_frame([{"hh_id": f"h{i}", "town": f"镇{g}"} for i, (g, _, _) in enumerate(rows)])
    out = inc.structure_by(income, hh, ["town"], **THR).set_index("town")
    frame = inc.household_year_frame(income, hh)
    for town, grp in frame.groupby("town"):
        s = grp.loc[grp["net_income"] > 0, "wage_share"].to_numpy()
        got = out.loc[town, ["wage_share_p25", "wage_share_p50", "wage_share_p75"]].to_numpy(float)
        if len(s):
            assert got == pytest.approx(np.quantile(s, [0.25, 0.5, 0.75]), abs=1e-12)
        else:
            assert np.isnan(got).all()
        total = grp["net_income"].sum()
        shares = out.loc[town, [f"{k}_share" for k in inc.COMPONENTS]].to_numpy(float)
        if total > 0:
            assert shares.sum() == pytest.approx(1.0)
        assert out.loc[town, "households"] == len(grp)


def test_transfer_items_ratio_of_sums_with_unitemised_rest():
    income = income_frame([
        {"hh_id": "A", "transfer": 3000, "dibao_pay": 2000, "pension": 1000},
        {"hh_id": "B", "transfer": 1000, "dibao_pay": 0, "pension": 500},  # 500 not itemised
    ])
    hh = households_frame([{"hh_id": "A", "town": "甲镇"}, {"hh_id": "B", "town": "乙镇"}])
    row = inc.transfer_items_by(income, hh).iloc[0]
    assert row["dibao_pay_share"] == pytest.approx(2000 / 4000)
    assert row["pension_share"] == pytest.approx(1500 / 4000)
    assert row["unitemised_share"] == pytest.approx(500 / 4000)
    assert row["wubao_pay_share"] == 0.0  # the file has no 五保金 column
    by_town = inc.transfer_items_by(income, hh, ["town"]).set_index("town")
    assert by_town.loc["乙镇", "unitemised_share"] == pytest.approx(0.5)
    assert by_town.loc["甲镇", "households"] == 1


def test_transfer_items_give_the_sums_beside_the_shares():
    income = income_frame([
        {"hh_id": "A", "transfer": 3000, "dibao_pay": 2000, "pension": 1000},
        {"hh_id": "B", "transfer": 1000, "dibao_pay": 0, "pension": 500},  # 500 not itemised
    ])
    hh = households_frame([{"hh_id": "A"}, {"hh_id": "B"}])
    row = inc.transfer_items_by(income, hh).iloc[0]
    assert (row["transfer"], row["dibao_pay"], row["pension"], row["unitemised"]) == (
        4000, 2000, 1500, 500)
    assert row["wubao_pay"] == 0.0  # no 五保金 column: no money, share 0
    for item in ("dibao_pay", "pension", "unitemised"):
        assert row[f"{item}_share"] == row[item] / row["transfer"]


def test_summary_gives_every_share_its_numerator_and_denominator():
    income, hh = _county()
    s = inc.summary(ctx_of(income, hh))
    # Σ 2019: wage 13500, operating_net −1800, property 0, transfer 4300, net income 16000
    assert s["totals"] == {"wage": 13500.0, "operating_net": -1800.0, "property": 0.0,
                           "transfer": 4300.0, "net_income": 16000.0}
    pairs = [(s["shares"], s["totals"])]
    pairs += [(s["by_labor_group"][g], s["by_labor_group_totals"][g]) for g in s["by_labor_group"]]
    pairs += [(s["trend"]["shares"][y], s["trend"]["totals"][y]) for y in s["trend"]["shares"]]
    assert len(pairs) == 1 + 3 + 2
    for shares, totals in pairs:
        assert shares == {k: totals[k] / totals["net_income"] for k in inc.COMPONENTS}
    t = s["transfer_items_totals"]
    assert set(t) == {*s["transfer_items"], "transfer"}
    assert s["transfer_items"] == {k: t[k] / t["transfer"] for k in s["transfer_items"]}


def test_balanced_panel_trend_uses_the_same_households_each_year():
    income = income_frame([
        {"hh_id": "A", "year": 2017, "wage": 100, "transfer": 900},
        {"hh_id": "A", "year": 2018, "wage": 500, "transfer": 500},
        {"hh_id": "A", "year": 2019, "wage": 900, "transfer": 100},
        {"hh_id": "B", "year": 2017, "transfer": 1000},  # misses 2018: not in the panel
        {"hh_id": "B", "year": 2019, "transfer": 1000},
        {"hh_id": "C", "year": 2019, "wage": 5000},  # only 2019
    ])
    hh = households_frame([{"hh_id": h} for h in "ABC"])
    assert inc.balanced_panel(income, 2017, 2019).tolist() == ["A"]
    trend = inc.structure_trend(income, hh, 2014, 2019, **THR)  # data start 2017: trend from 2017
    assert trend["year"].tolist() == [2017, 2018, 2019]
    assert trend["households"].tolist() == [1, 1, 1]
    assert trend["wage_share"].tolist() == pytest.approx([0.1, 0.5, 0.9])


def test_near_line_band_edges():
    line, band = 3218.0, 0.20
    pcs = np.array([3217.99, 3218.0, 3861.6, 3861.61, 5000.0])
    assert inc.near_line(pcs, np.ones(5), line, band).tolist() == [False, True, True, False, False]
    # three people with exactly line × 1.2 each (11,584.80) are in the band, one fen more is not
    assert inc.near_line(np.array([11584.8, 11584.81]), np.array([3.0, 3.0]), line, band).tolist() \
        == [True, False]


# ---------------------------------------------------------------------------------------------
# Gini and Lerman–Yitzhaki


def test_lerman_yitzhaki_hand_computed_example():
    """Four households, per-capita sources (yuan/person) after dividing by size:

    ====  ====  ===========  ============  =====  ======
    hh    size  wage (pc)    transfer(pc)  y      F(y)
    ====  ====  ===========  ============  =====  ======
    A     2     0/2 = 0      6/2 = 3       3      0.25   (A, B tie at y = 3: mid-rank 1.5)
    B     1     2            1             3      0.25
    C     2     8/2 = 4      4/2 = 2       6      0.625
    D     1     8            0             8      0.875
    ====  ====  ===========  ============  =====  ======

    mean y = 5; cov(y, F) = (3·.25 + 3·.25 + 6·.625 + 8·.875)/4 − 5·.5 = 3.0625 − 2.5 = 0.5625;
    G = 2·0.5625/5 = 0.225 (check: Σ|y_i − y_j| = 36 over ordered pairs, 36/(2·16·5) = 0.225).

    wage: mean 3.5, S = 0.7; F(wage) = .125 .375 .625 .875;
      cov(w, F_w) = (0 + .75 + 2.5 + 7)/4 − 1.75 = 0.8125 → G_w = 1.625/3.5 = 13/28;
      cov(w, F_y) = (0 + 2·.25 + 4·.625 + 8·.875)/4 − 1.75 = 0.75 → R_w = 0.75/0.8125 = 12/13;
      contribution = 0.7 · 13/28 · 12/13 = 0.3; marginal = 0.3/0.225 − 0.7 = 19/30.
    transfer: mean 1.5, S = 0.3; F(t) = .875 .375 .625 .125;
      cov(t, F_t) = (2.625 + .375 + 1.25 + 0)/4 − 0.75 = 0.3125 → G_t = 0.625/1.5 = 5/12;
      cov(t, F_y) = (.75 + .25 + 1.25 + 0)/4 − 0.75 = −0.1875 → R_t = −0.6;
      contribution = 0.3 · 5/12 · (−0.6) = −0.075; marginal = −0.075/0.225 − 0.3 = −19/30.
    0.3 − 0.075 = 0.225 = G. Had the tie been broken A-before-B instead of mid-ranked, wage would get
    0.325 and transfer −0.1 (B-before-A: 0.275 / −0.05): the mid-rank is the average of the two.
    """
    income = income_frame([
        {"hh_id": "A", "size": 2, "wage": 0, "transfer": 6},
        {"hh_id": "B", "size": 1, "wage": 2, "transfer": 1},
        {"hh_id": "C", "size": 2, "wage": 8, "transfer": 4},
        {"hh_id": "D", "size": 1, "wage": 8, "transfer": 0},
    ])
    src = inc.per_capita_sources(income)
    assert src.sum(axis=1).tolist() == income["net_per_capita"].tolist()
    ly = inequality.lerman_yitzhaki(src)
    assert ly.loc["total", "gini"] == pytest.approx(0.225, abs=1e-15)
    w, t = ly.loc["wage"], ly.loc["transfer"]
    assert (w["share"], w["gini"], w["gini_corr"]) == pytest.approx((0.7, 13 / 28, 12 / 13), abs=1e-15)
    assert (w["contribution"], w["marginal"]) == pytest.approx((0.3, 19 / 30), abs=1e-15)
    assert (t["share"], t["gini"], t["gini_corr"]) == pytest.approx((0.3, 5 / 12, -0.6), abs=1e-15)
    assert (t["contribution"], t["marginal"]) == pytest.approx((-0.075, -19 / 30), abs=1e-15)
    # sources with nothing in them: share 0, contribution 0, G_k and R_k undefined
    assert ly.loc["property", "contribution"] == 0.0
    assert np.isnan(ly.loc["property", "gini"]) and np.isnan(ly.loc["property", "gini_corr"])
    # B before A in the rows: same decomposition (ties are mid-ranked, not ordered)
    swapped = inequality.lerman_yitzhaki(src.iloc[[1, 0, 3, 2]])
    assert swapped.loc["wage", "contribution"] == pytest.approx(0.3, abs=1e-15)


# ---------------------------------------------------------------------------------------------
# Module interface: ledgers and summary


def _county():
    income = income_frame([
        {"hh_id": "A", "year": 2018, "size": 2, "wage": 8000, "transfer": 2000},
        {"hh_id": "A", "year": 2019, "size": 2, "wage": 9000, "operating": 200, "transfer": 800},
        {"hh_id": "B", "year": 2018, "size": 1, "transfer": 3000, "dibao_pay": 3000},
        {"hh_id": "B", "year": 2019, "size": 1, "wage": 1000, "transfer": 3000, "dibao_pay": 3000},
        {"hh_id": "C", "year": 2018, "size": 3, "operating": 9000, "operating_cost": 1000},
        {"hh_id": "C", "year": 2019, "size": 3, "operating": 1000, "operating_cost": 3000},
        {"hh_id": "D", "year": 2019, "size": 1, "wage": 3500, "transfer": 500},
    ])
    hh = households_frame([
        {"hh_id": "A", "town": "甲镇"},
        {"hh_id": "B", "town": "乙镇", "labor_capacity": "无劳动能力"},
        {"hh_id": "C", "town": "乙镇"},
        {"hh_id": "D", "town": "甲镇", "labor_capacity": "弱劳动能力"},
    ])
    return income, hh


def test_build_ledgers_and_summary_agree_on_the_income_year():
    income, hh = _county()
    ctx = ctx_of(income, hh)
    assert ctx.income_year == 2019
    led = inc.build_ledgers(ctx)
    assert set(led) == set(inc.LEDGERS)
    # A: operating 200/10000 = 2 % (有劳动能力) → low; D: 0 % (弱) → low; C: net −2000 → neither
    assert led["income_low_operating"]["hh_id"].tolist() == ["A", "D"]
    # B: 3000/4000 = 75 % → dependent
    assert led["income_transfer_dependent"]["hh_id"].tolist() == ["B"]
    assert led["income_transfer_dependent"]["town"].tolist() == ["乙镇"]

    s = inc.summary(ctx)
    json.dumps(s)  # JSON-able
    assert s["households"] == 4 and s["nonpositive"] == 1
    # Σ net 2019 = 10000 + 4000 − 2000 + 4000 = 16000
    assert s["shares"] == pytest.approx({"wage": 13500 / 16000, "operating_net": -1800 / 16000,
                                         "property": 0.0, "transfer": 4300 / 16000})
    assert s["by_labor_group"]["无劳动能力"]["transfer"] == pytest.approx(0.75)
    assert s["households_by_labor_group"] == {"弱劳动能力": 1, "无劳动能力": 1, "有劳动能力": 2}
    assert s["low_operating"] == len(led["income_low_operating"])
    assert s["transfer_dependent"] == len(led["income_transfer_dependent"])
    assert s["transfer_items"]["dibao_pay"] == pytest.approx(3000 / 4300)
    assert s["transfer_items_totals"]["dibao_pay"] == 3000
    assert s["transfer_items_totals"]["transfer"] == 4300
    # 2019 poverty line 3218: per capita A 5000, B 4000, C −666.67, D 4000 → near (≤ 3861.6): none;
    # below: C
    assert s["near_line"] == 0 and s["below_line"] == 1
    # trend: A, B, C have 2018 and 2019 (the data start 2018 > 2014)
    assert s["trend"]["first_year"] == 2018 and s["trend"]["households"] == 3
    assert s["trend"]["shares"]["2018"]["operating_net"] == pytest.approx(8000 / 21000)
    assert s["trend"]["totals"]["2018"]["operating_net"] == 8000
    assert s["trend"]["totals"]["2018"]["net_income"] == 21000
    parts = sum(v["contribution"] for v in s["decomposition"].values())
    assert parts == pytest.approx(s["gini"], abs=1e-5)


def test_params_drive_thresholds_and_band():
    income, hh = _county()
    ctx = ctx_of(income, hh, **{"income.transfer_dependent_share": 0.1,
                                "income.near_line_band": 0.30})
    # D: 500/4000 = 12.5 % > 10 %; A: 800/10000 = 8 % is not
    assert inc.build_ledgers(ctx)["income_transfer_dependent"]["hh_id"].tolist() == ["B", "D"]
    assert inc.summary(ctx)["near_line"] == 2  # B and D at 4000 ≤ 3218·1.3 = 4183.4


def test_without_income_table_empty_ledgers_and_unavailable_summary():
    _, hh = _county()
    ctx = ctx_of(None, hh)
    led = inc.build_ledgers(ctx)
    assert all(df.empty and list(df.columns) == list(inc._LEDGER_COLUMNS) for df in led.values())
    assert inc.summary(ctx)["available"] is False
    empty = ctx_of(_county()[0].iloc[:0], hh)
    assert inc.summary(empty)["available"] is False
    assert all(df.empty for df in inc.build_ledgers(empty).values())


def test_ledger_specs_have_chinese_labels_for_every_column():
    for spec in inc.LEDGERS.values():
        assert spec.key == ("hh_id",)
        assert all(column_label(c, spec) != c for c in inc._LEDGER_COLUMNS)
        # only true overrides: each differs from the schema's / the common label
        bare = {c: column_label(c) for c in spec.columns_zh}
        assert all(spec.columns_zh[c] != bare[c] for c in spec.columns_zh)
        assert spec.title_zh and spec.plan == "R2"


# ---------------------------------------------------------------------------------------------
# What the notebook shows


def test_area_table_counts_per_town_and_near_line():
    income, hh = _county()
    ctx = ctx_of(income, hh, **{"income.near_line_band": 0.30})
    t = page.area_table(ctx, "town").set_index("town")
    # 甲镇: A (operating 2 %) and D (0 %, 弱) low operating; 乙镇: B dependent, C net ≤ 0
    assert t.loc["甲镇", ["households", "low_operating", "transfer_dependent", "nonpositive"]].tolist() \
        == [2, 2, 0, 0]
    assert t.loc["乙镇", ["households", "low_operating", "transfer_dependent", "nonpositive"]].tolist() \
        == [2, 0, 1, 1]
    # 3218 ≤ pc ≤ 4183.4: B (4000) and D (4000); below the line: C
    assert t["near_line"].to_dict() == {"乙镇": 1, "甲镇": 1}
    assert t["below_line"].to_dict() == {"乙镇": 1, "甲镇": 0}
    assert t.loc["乙镇", "transfer_share"] == pytest.approx(3000 / 2000)  # Σ net = 4000 − 2000
    v = page.area_table(ctx, "village")
    assert list(v.columns[:2]) == ["town", "village"] and v["households"].sum() == 4


def test_reading_and_key_figures_are_built_from_the_figures():
    income, hh = _county()
    s = inc.summary(ctx_of(income, hh))
    text = page.reading(s, "甲县")
    assert text.startswith("甲县 2019 年有收入记录的登记户 4 户")
    assert "工资性收入占 84.4%" in text  # 13500 / 16000
    assert "另有 1 户纯收入为零或负" in text
    assert "低于 10% 的 2 户" in text and "高于 50% 的 1 户" in text
    kf = page.key_figures(s)
    assert kf["经营性占比偏低户 low operating"] == (2, "有/弱劳动能力，低于 10%")
    assert page.reading({"available": False, "reason": "未提供收入表"}, "甲县") == "甲县：未提供收入表。"


def test_decomposition_table_and_sentence():
    s = {"gini": 0.225, "decomposition": {
        "wage": {"share": 0.7, "gini": 13 / 28, "gini_corr": 12 / 13, "contribution": 0.3,
                 "marginal": 19 / 30},
        "operating_net": {"share": 0.0, "gini": None, "gini_corr": None, "contribution": 0.0,
                          "marginal": 0.0},
        "property": {"share": 0.0, "gini": None, "gini_corr": None, "contribution": 0.0,
                     "marginal": 0.0},
        "transfer": {"share": 0.3, "gini": 5 / 12, "gini_corr": -0.6, "contribution": -0.075,
                     "marginal": -19 / 30}}}
    t = page.decomposition_table(s)
    assert t["contribution_share"].tolist() == pytest.approx([4 / 3, 0, 0, -1 / 3, 1])
    assert t["marginal"].tolist() == ["+0.633%", "+0.000%", "+0.000%", "-0.633%", "+0.000%"]
    text = page.decomposition_reading(s)
    assert "工资性收入占人均纯收入的 70.0%，却贡献了收入差距的 133.3%" in text
    assert "转移性收入都增加 1% 时，基尼系数约下降 0.63%" in text


def test_definitions_text_takes_the_run_parameters():
    p = load_params("2019Q3", overrides={"income.low_operating_share": 0.15,
                                         "income.transfer_dependent_share": 0.6})
    text = page.definitions_text(p, 2019)
    assert "纯收入 < 15%" in text and "纯收入 > 60%" in text and "3,218 元/人" in text


def test_ledgers_without_hits_are_empty_frames_with_the_columns():
    income = income_frame([{"hh_id": "A", "wage": 5000, "operating": 5000}])
    hh = households_frame([{"hh_id": "A"}])
    led = inc.build_ledgers(ctx_of(income, hh))
    for df in led.values():
        assert df.empty and list(df.columns) == list(inc._LEDGER_COLUMNS)


def test_reason_percentages_never_print_the_threshold_for_a_share_below_it():
    s = pd.Series([0.0999, 0.09999, 0.042, 0.1234], index=[3, 5, 7, 9])
    assert inc._pct(s, 0.10).tolist() == ["9.99%", "9.999%", "4.2%", "12.3%"]
    assert inc._pct(s, 0.10).index.tolist() == [3, 5, 7, 9]


def test_the_income_frame_is_computed_once_per_context_and_left_unmodified(monkeypatch):
    """Ledgers, summary and the notebook's tables share one income-year frame per context."""
    calls = []
    real = inc.household_year_frame
    monkeypatch.setattr(inc, "household_year_frame",
                        lambda *a, **k: calls.append(a[2:] or k) or real(*a, **k))
    ctx = ctx_of(*_county())
    frame = inc.income_frame(ctx).copy()
    inc.build_ledgers(ctx)
    inc.summary(ctx)
    page.area_table(ctx, "town")
    page.nonpositive_table(ctx)
    assert len([c for c in calls if c]) == 1  # income_frame's (with the year); others are per call
    pd.testing.assert_frame_equal(inc.income_frame(ctx), frame)
