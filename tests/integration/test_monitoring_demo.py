"""Monitoring on the demo county: both ledgers and every ``monitoring.signals.*`` count equal
``truth.json`` and an independent computation here (plain pandas on the loaded tables)."""

from __future__ import annotations

import pandas as pd
import pytest

from qjlib.analyses import monitoring as m


@pytest.fixture(scope="module")
def res(demo_ctx):
    return m.summary(demo_ctx), m.build_ledgers(demo_ctx)


def test_ledgers_equal_truth(res, demo_truth):
    s, led = res
    t = demo_truth["monitoring"]
    got = dict(zip(led["monitoring"]["hh_id"], led["monitoring"]["class"], strict=True))
    assert got == {r["hh_id"]: r["class"] for r in t["ledgers"]["monitoring"]}
    got_e = dict(zip(led["monitoring_edge"]["hh_id"], led["monitoring_edge"]["class"], strict=True))
    assert got_e == {r["hh_id"]: r["class"] for r in t["ledgers"]["monitoring_edge"]}
    for k in ("past_exited", "about_to_return", "consolidate", "edge_households"):
        assert s[k] == t[k]


def test_every_signal_count_equals_truth_and_unavailable_ones_are_named(res, demo_truth):
    s, _ = res
    for name, want in demo_truth["monitoring"]["signals"].items():
        if want == "unavailable":
            assert s["signals"][name] is None and name in s["unavailable"]
        else:
            assert s["signals"][name] == want, name


def test_planted_cases_and_decoys(res, demo_truth):
    _, led = res
    cls = dict(zip(led["monitoring"]["hh_id"], led["monitoring"]["class"], strict=True))
    for c in demo_truth["monitoring"]["cases"]:
        expected = c["why"].split(":")[0]
        assert cls.get(c["hh_id"], "not listed") == expected, c


def test_income_signals_equal_an_independent_computation(demo_pkg, res):
    s, _ = res
    hh, inc = demo_pkg["households"], demo_pkg["income"]
    pop = hh[(hh["exit_status"] == "exited") & (hh["exit_year"].astype("Float64") < 2019).fillna(False)]
    y = inc[inc["year"] == 2019].set_index("hh_id").reindex(pop["hh_id"])
    b = inc[inc["year"] == 2018].set_index("hh_id").reindex(pop["hh_id"])
    net = (y["net_income"] * 100).round()
    below = net < 321800 * y["size"]
    below_m = ~below & (net < 500000 * y["size"])
    fall = 10 * net * b["size"] < 7 * (b["net_income"] * 100).round() * y["size"]
    assert s["signals"]["below_line"] == int(below.sum())
    assert s["signals"]["below_monitor_line"] == int(below_m.sum())
    assert s["signals"]["income_fall"] == int(fall.sum())
    assert s["signals"]["no_income_row"] == int(y["net_income"].isna().sum())
    assert s["report_due"] == "2019-09-20"


def test_ledger_rows_name_their_signals_and_the_helper(res, demo_truth):
    _, led = res
    mon = led["monitoring"]
    assert (mon["signals"] >= 1).all()
    assert mon["reason"].str.len().gt(0).all()
    assert mon.loc[mon["class"] == "about_to_return", "below_line"].astype(bool).all()
    assert mon["class_zh"].str.endswith("（待核实）").all()
    for name, want in demo_truth["monitoring"]["signals"].items():  # unavailable: blank column
        assert mon[name].isna().all() == (want == "unavailable"), name
    assert isinstance(mon["helper_id"], pd.Series)


def test_medical_burden_equals_an_independent_computation(demo_pkg, res):
    s, led = res
    hh, mem, hos = demo_pkg["households"], demo_pkg["members"], demo_pkg["hospital"]
    pop = hh[(hh["exit_status"] == "exited") & (hh["exit_year"].astype("Float64") < 2019).fillna(False)]
    a = pd.Timestamp("2019-09-30")
    win = hos[(hos["admitted"] > pd.Timestamp("2018-09-30")) & (hos["admitted"] <= a)].reset_index(names="r")
    oop = ((win["total_cost"] - win["reimbursed"]) * 100).round()
    j = win.assign(fen=oop).merge(mem[["id_number", "hh_id"]].drop_duplicates(), on="id_number")
    fen = j.drop_duplicates(["r", "hh_id"]).groupby("hh_id")["fen"].sum()
    assert s["signals"]["medical_burden"] == int((fen[fen.index.isin(pop["hh_id"])] > 600000).sum())
    listed = led["monitoring"].set_index("hh_id")
    assert (listed.loc[listed["medical_burden"].astype(bool), "out_of_pocket_12m"] > 6000).all()
