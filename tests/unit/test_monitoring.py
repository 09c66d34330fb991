"""Return-to-poverty monitoring (monitoring.md): every signal at its edges, "unavailable" when a
table is missing, the classes, the edge households and the report date, on tiny frames."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from fixtures.frames import FramePackage

from qjlib.analyses import monitoring as m
from qjlib.analyses import monitoring_signals as sig
from qjlib.core.context import Context
from qjlib.core.params import load_params

A = pd.Timestamp("2019-09-30")
LINE, MON = 3218, 5000


@pytest.fixture(scope="module")
def params():
    return load_params("2019Q3")


def valid_id(body17: str) -> str:
    """A GB 11643 ID: ``body17`` and its check character."""
    w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body17 + "10X98765432"[sum(int(c) * k for c, k in zip(body17, w, strict=True)) % 11]


I1, I2, I3 = valid_id("11010519491231002"), valid_id("11010519491231003"), valid_id("11010519491231004")
K1, K2, K3 = valid_id("11010520100101001"), valid_id("11010520000101001"), valid_id("11010520100101002")


def ids(*xs):
    return pd.Series(list(xs), dtype="str")


def test_below_line_is_exact_at_the_line_for_three_people():
    # 9,654 ÷ 3 = 3,218 exactly: at the line is not below; one fen less is below
    got = sig.below_line(np.array([9654.0, 9653.99]), np.array([3, 3]), LINE, np.array([True, True]))
    assert got.tolist() == [False, True]


def test_no_income_row_gives_no_income_signal_but_its_own():
    got = sig.below_line(np.array([np.nan]), np.array([np.nan]), LINE, np.array([False]))
    assert got.isna().all()


def test_below_monitor_line_excludes_below_line_and_is_exact_at_the_monitoring_line():
    net = np.array([3217.0, 3218.0, 4999.99, 5000.0]) * 2
    got = sig.below_monitor_line(net, np.full(4, 2), LINE, MON, np.ones(4, bool))
    assert got.tolist() == [False, True, True, False]


def test_income_fall_of_exactly_30_percent_is_not_a_sharp_fall():
    before = np.array([10000.0, 10000.0, 10000.0, 10000.0])
    now = np.array([7000.0, 6999.99, 7000.0, 9000.0])
    size_now = np.array([1, 1, 2, 1])  # third: 7,000 for two after 10,000 for one = 3,500 per person: a fall
    got = sig.income_fall(now, size_now, before, np.ones(4), 0.3, np.ones(4, bool), np.array([1, 1, 1, 0], bool))
    assert got.tolist()[:3] == [False, True, True]
    assert got.isna().tolist()[3]  # needs both rows


def test_medical_burden_is_over_the_threshold_not_at_it_and_counts_the_window():
    members = pd.DataFrame({"hh_id": ["H1", "H2", "H3"], "person_id": ["P1", "P2", "P3"],
                            "id_number": [I1, I2, I3]})
    hospital = pd.DataFrame({
        "id_number": [I1, I1, I2,
                      I2, I3],
        "admitted": pd.to_datetime(["2019-01-05", "2018-09-30", "2019-03-01", "2019-03-01", "2019-09-30"]),
        "total_cost": [9000.0, 50000.0, 5000.0, 0.0, 8000.0],
        "reimbursed": [3000.0, 0.0, 2000.0, 0.0, 1999.99],
        "out_of_pocket": [np.nan, np.nan, np.nan, 3000.01, np.nan],
    })
    oop = sig.out_of_pocket_12m(ids("H1", "H2", "H3", "H4"), members, hospital, A)
    # H1: 6,000 (the stay of 2018-09-30 is outside (A − 12 months, A]); H2: 3,000 + 3,000.01
    assert oop.round(2).tolist() == [6000.0, 6000.01, 6000.01, 0.0]
    assert sig.medical_burden(oop, 6000).tolist() == [False, True, True, False]


def test_no_safety_net_needs_no_capacity_and_no_active_spell():
    members = pd.DataFrame({"hh_id": ["H1", "H2", "H3"], "person_id": ["P1", "P2", "P3"],
                            "id_number": [I1, I2, I3]})
    welfare = pd.DataFrame({"id_number": [I2, I3],
                            "programme": ["dibao", "tekun"],
                            "start": pd.to_datetime(["2018-01-01", "2015-01-01"]),
                            "end": pd.to_datetime([pd.NaT, "2019-09-29"])})
    cap = pd.Series(["无劳动能力", "无劳动能力", "无劳动能力", "有劳动能力", None])
    got = sig.no_safety_net(ids("H1", "H2", "H3", "H4", "H5"), cap, members, welfare, A)
    assert got.tolist()[:4] == [True, False, True, False]  # H3's spell ended the day before A
    assert got.isna().tolist()[4]


def test_dropout_is_a_household_in_rule_dropout():
    # the rule's rows (dept_mismatch, departments.md) name the household; ages and terms are
    # decided there (core/spells), not here
    assert sig.dropout(ids("H1", "H2"), pd.Series(["H2"])).tolist() == [False, True]


def test_unsafe_house_latest_assessment_worse_grade_and_finished_works():
    housing = pd.DataFrame({
        "hh_id": ["H1", "H2", "H2", "H3", "H4", "H5", "H5"],
        "assessed": pd.to_datetime(["2018-01-01", "2019-01-01", "2019-01-01", "2018-01-01", "2019-10-01",
                                    "2017-01-01", "2019-02-01"]),
        "grade": ["C", "B", "D", "D", "D", "D", "A"],
        "works": [None, None, None, "repair", None, None, None],
        "completed": pd.to_datetime([pd.NaT, pd.NaT, pd.NaT, "2019-09-30", pd.NaT, pd.NaT, pd.NaT]),
        "moved_in": pd.NaT,
    })
    got = sig.unsafe_house(ids("H1", "H2", "H3", "H4", "H5", "H6"), housing, A)
    # H1 C; H2 two on one day: the worse (D); H3 repaired by A; H4 assessed after A: unknown;
    # H5 latest is A; H6 no assessment: unknown (no signal)
    assert got.tolist() == [True, True, False, False, False, False]


def _ctx(params, **tables):
    hh = pd.DataFrame({
        "hh_id": ["H1", "H2", "H3", "H4", "H5", "H6", "H7"],
        "town": ["甲镇"] * 4 + ["乙镇"] * 3, "village": ["a"] * 7,
        "exit_status": ["exited", "exited", "exited", "exited", "returned", "exited", "not_exited"],
        "exit_year": pd.array([2017, 2018, 2016, 2018, 2017, 2019, pd.NA], dtype="Int64"),
        "labor_capacity": ["有劳动能力"] * 7,
    })
    inc = pd.DataFrame({
        "hh_id": ["H1", "H2", "H1", "H2", "H4", "H5", "H6"],
        "year": [2019, 2019, 2018, 2018, 2019, 2019, 2019],
        "size": [3, 2, 3, 2, 1, 1, 1],
        "net_income": [9654.0 - 1, 9999.98, 20000.0, 10000.0, 20000.0, 100.0, 100.0],
        "transfer": [0.0] * 7,
    })
    for c in ("wage", "operating", "operating_cost", "property"):
        inc[c] = 0.0
    inc["wage"] = inc["net_income"]
    inc["operating_net"] = 0.0
    inc["net_per_capita"] = inc["net_income"] / inc["size"]
    base = {"households": hh, "income": inc}
    base.update(tables)
    base = {k: v for k, v in base.items() if v is not None}
    return Context(FramePackage(**base), params)


def test_classes_population_and_unavailable_signals(params):
    ctx = _ctx(params)
    res = m.analyse(ctx)
    # population: exited before 2019 (H5 returned, H6 exited 2019, H7 not exited are out)
    assert res.frame["hh_id"].tolist() == ["H1", "H2", "H3", "H4"]
    led = res.ledger.set_index("hh_id")
    assert led.loc["H1", "class"] == "about_to_return"  # 1 yuan below 3 × 3,218 (and a fall)
    assert led.loc["H3", "class"] == "consolidate"  # no income row: must be visited
    assert bool(led.loc["H3", "no_income_row"]) and pd.isna(led.loc["H3", "below_line"])
    assert "H4" not in led.index  # 20,000 for one person: no signal
    assert led.loc["H2", "class"] == "consolidate" and bool(led.loc["H2", "below_monitor_line"])
    s = m.summary(ctx)
    assert s["signals"]["medical_burden"] is None and "medical_burden" in s["unavailable"]
    assert set(s["unavailable"]) == {"medical_burden", "dropout", "no_safety_net", "unsafe_house"}
    assert led["medical_burden"].isna().all()  # blank, never False
    assert s["about_to_return"] == 1 and s["consolidate"] == 2 and s["past_exited"] == 4
    assert s["by_town"]["甲镇"]["about_to_return"] == 1
    assert s["report_due"] == "2019-09-20"


def test_no_income_table_makes_every_income_signal_unavailable(params):
    ctx = _ctx(params, income=None)
    s = m.summary(ctx)
    assert s["signals"]["below_line"] is None and s["about_to_return"] == 0 and s["consolidate"] == 0


def test_department_signal_available_when_its_table_is_present(params):
    members = pd.DataFrame({"hh_id": ["H4"], "person_id": ["P4"], "id_number": [I1],
                            "labor_skill": ["普通劳动力"]})
    hospital = pd.DataFrame({"id_number": [I1], "admitted": pd.to_datetime(["2019-06-01"]),
                             "total_cost": [10000.0], "reimbursed": [3000.0]})
    ctx = _ctx(params, members=members, hospital=hospital)
    res = m.analyse(ctx)
    led = res.ledger.set_index("hh_id")
    assert led.loc["H4", "class"] == "consolidate" and bool(led.loc["H4", "medical_burden"])
    assert "7,000" in led.loc["H4", "reason"]
    assert m.summary(ctx)["signals"]["medical_burden"] == 1


def test_edge_households_classes_in_order_and_registered_ids_left_out(params):
    edge = pd.DataFrame({
        "hh_id": ["E1", "E2", "E3", "E4", "E5", "H1"], "town": ["甲镇"] * 6, "village": ["a"] * 6,
        "size": [1] * 6, "net_per_capita": [3217.99, 3218.0, 5000.0, 9000.0, 2990.0, 100.0],
        "income_year": pd.array([pd.NA, pd.NA, pd.NA, pd.NA, 2018, pd.NA], dtype="Int64"),
        "groups": [None, "大病户", "低保户", "低保户、残疾户", None, None],
    })
    res = m.analyse(_ctx(params, edge_households=edge))
    got = dict(zip(res.edge["hh_id"], res.edge["class"], strict=True))
    assert got == {"E1": "below_line", "E2": "below_monitor_line", "E4": "special_group", "E5": "below_line"}
    assert res.edge_count == 5  # H1 is a registered household's id


def test_monitor_line_by_year(params):
    assert m.monitor_line(params, 2019) == 5000 and m.monitor_line(params, 2016) == 5000
    vals = dict(params.values)
    vals["poverty_line"] = {**params.get("poverty_line"), 2020: 4000}
    p2 = replace(params, values=vals)
    assert m.monitor_line(p2, 2020) == 6000


def test_classify_needs_a_signal():
    f = pd.DataFrame({s: pd.array([False, pd.NA, True], dtype="boolean") for s in m.SIGNALS})
    f.loc[0, "dropout"] = True
    f.loc[1, "below_line"] = pd.NA
    assert m.classify(f).tolist()[0] == "consolidate"
    assert pd.isna(m.classify(f).tolist()[1]) and m.classify(f).tolist()[2] == "about_to_return"
