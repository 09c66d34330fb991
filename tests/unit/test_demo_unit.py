"""The demo county's generator: facts about the simulated county, its plants, and its truth.

A 400-household county is simulated once (no files, ~1 s); the truth it would write is checked
against a plain per-household recomputation written here, independent of qjlib.demo.truth.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qjlib.core import schema
from qjlib.core.errors import QjError
from qjlib.demo.base import TOWNS, id_numbers
from qjlib.demo.county import simulate
from qjlib.demo.truth import compute_truth

WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def check_char(idn: str) -> str:
    return "10X98765432"[sum(int(c) * w for c, w in zip(idn[:17], WEIGHTS, strict=True)) % 11]


@pytest.fixture(scope="module")
def county():
    return simulate(7, 400)


@pytest.fixture(scope="module")
def truth(county):
    return compute_truth(county, [], [])


def kept(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["_qtype"] != "reject"]


def test_id_numbers_follow_gb11643_and_are_unique():
    rng = np.random.default_rng(1)
    birth = np.array(["1950-03-12"] * 40 + ["2018-07-01"] * 3, dtype="datetime64[D]")
    male = np.arange(43) % 2 == 0
    ids = id_numbers("610830", birth, male, rng)
    assert len(set(ids)) == 43
    for idn, b, m in zip(ids, birth, male, strict=True):
        assert len(idn) == 18 and idn.startswith("610830")
        assert idn[6:14] == str(b).replace("-", "")
        assert int(idn[16]) % 2 == (1 if m else 0)  # odd sequence for men
        assert idn[17] == check_char(idn)


def test_households_look_like_the_national_system(county):
    hh = county.tables["households"]
    assert hh["hh_id"].is_unique
    assert hh["hh_id"].str.fullmatch(r"610830\d{13}").all()
    assert (hh["hh_id"].str[:12] == hh["village_code"]).all()
    assert set(hh["town"]) <= {t[0] for t in TOWNS}
    ex = hh["exit_status"]
    assert set(ex) <= set(schema.VALUE_LISTS["exit_status"])
    assert hh.loc[ex == "not_exited", "exit_year"].isna().all()
    done = hh[ex != "not_exited"]
    assert (done["exit_year"] >= done["identified_year"]).all()
    assert set(hh["identified_year"]) <= {2014, 2015, 2016}
    # the county exits in 2019: the 2019 cohort is the largest, and most of those still poor at
    # the end of 2018 exit in 2019
    counts = hh["exit_year"].value_counts()
    assert counts.idxmax() == 2019
    left = hh[~(hh["exit_year"] <= 2018) | (ex == "returned")]
    assert (left["exit_year"] == 2019).mean() > 0.6


def test_members_are_consistent_with_their_households(county):
    hh = county.tables["households"]
    m = kept(county.tables["members"])
    m = m[m["hh_id"].isin(hh["hh_id"])]
    assert m["person_id"].is_unique
    assert (m.groupby("hh_id")["relation"].apply(lambda r: (r == "户主").sum()) == 1).all()
    assert (m.groupby("hh_id").size().reindex(hh["hh_id"]).to_numpy() == hh["size"].to_numpy()).all()
    head_by = m[m["relation"] == "户主"].set_index("hh_id")["birth_year"]
    by = m["birth_year"].to_numpy()
    hb = head_by.reindex(m["hh_id"]).to_numpy()
    rel = m["relation"].to_numpy()
    assert (by[np.isin(rel, ["之子", "之女"])] - hb[np.isin(rel, ["之子", "之女"])] >= 18).all()
    assert (by[np.isin(rel, ["之孙子", "之孙女"])] - hb[np.isin(rel, ["之孙子", "之孙女"])] >= 40).all()
    assert (hb[np.isin(rel, ["之父", "之母"])] - by[np.isin(rel, ["之父", "之母"])] >= 18).all()
    ids = m["id_number"].str.upper()
    ok = ids.map(lambda s: s[17] == check_char(s))
    planted = m["_q"] == "id_checksum"
    assert ok[~planted].all() and not ok[planted].any()
    assert ids.is_unique
    assert set(m["labor_skill"]) <= set(schema.VALUE_LISTS["labor_skill"])
    assert set(m["relation"]) <= set(schema.VALUE_LISTS["relation"])


def test_incomes_add_up_except_the_planted_mismatches(county):
    inc = kept(county.tables["income"]).copy()
    inc["wage"] = inc["wage"].astype(float)
    items = inc[["family_planning", "dibao_pay", "wubao_pay", "pension", "eco_comp", "other_transfer"]].sum(axis=1)
    bad_items = inc["_q"] == "transfer_items_mismatch"
    assert (items[~bad_items] == inc.loc[~bad_items, "transfer"]).all()
    assert (items[bad_items] != inc.loc[bad_items, "transfer"]).all()
    net = inc["wage"] + inc["operating"] - inc["operating_cost"] + inc["property"] + inc["transfer"]
    bad_net = inc["_q"] == "net_income_mismatch"
    assert (net[~bad_net] == inc.loc[~bad_net, "net_income"]).all()
    assert (net[bad_net] - inc.loc[bad_net, "net_income"]).abs().min() > 1
    pc = (net / inc["size"]).round(2)
    bad_pc = inc["_q"] == "net_per_capita_mismatch"
    assert ((pc - inc["net_per_capita"]).abs()[~bad_pc] <= 0.005 + 1e-9).all()
    assert ((pc - inc["net_per_capita"]).abs()[bad_pc] > 1).all()
    assert (inc["size"] >= 1).all()
    money = inc[["wage", "operating", "operating_cost", "property", "transfer"]]
    assert (money >= 0).all().all()
    # the 2019 size is the household's current size
    hh = county.tables["households"].set_index("hh_id")
    y19 = inc[inc["year"] == 2019].drop_duplicates("hh_id").set_index("hh_id")
    assert (y19["size"] == hh["size"].reindex(y19.index)).all()


def test_income_levels_are_those_of_poor_rural_northern_shaanxi():
    c = simulate(11, 2000)
    inc = kept(c.tables["income"]).copy()
    inc["pc"] = inc["net_income"] / inc["size"]
    hh = c.tables["households"].set_index("hh_id")
    ey = hh["exit_year"].reindex(inc["hh_id"]).to_numpy()
    pre = inc[(inc["year"] < ey) & (inc["year"] <= 2016)]["pc"].median()
    post19 = inc[(inc["year"] == 2019) & (ey <= 2018)]["pc"].median()
    assert 2000 <= pre <= 4000
    assert 5000 <= post19 <= 9000
    assert post19 > 1.8 * pre
    share = inc[inc["year"] == 2019][["wage", "transfer", "net_income"]].astype(float).sum()
    assert 0.4 < share["wage"] / share["net_income"] < 0.75
    assert 0.1 < share["transfer"] / share["net_income"] < 0.4
    assert 2.6 < len(kept(c.tables["members"])) / len(hh) < 3.2


def test_share_plants_sit_exactly_on_and_beside_the_thresholds(county):
    inc = kept(county.tables["income"])
    y = inc[inc["year"] == 2019].set_index("hh_id")
    hid = county.tables["households"]["hh_id"].to_numpy()
    case = {p["case"]: hid[p["h"]] for p in county.plants["shares"]}
    opnet = y["operating"] - y["operating_cost"]
    net = y["net_income"]
    assert opnet[case["low_op_at"]] / net[case["low_op_at"]] == 0.10
    assert opnet[case["low_op_below"]] / net[case["low_op_below"]] < 0.10
    assert y["transfer"][case["transfer_at"]] / net[case["transfer_at"]] == 0.50
    assert y["transfer"][case["transfer_above"]] / net[case["transfer_above"]] > 0.50
    assert net[case["net_negative"]] < 0 and net[case["net_zero"]] == 0


def plain_decline(county) -> set[str]:
    """Per-household recomputation (a plain loop, fine for 400 households)."""
    hh = county.tables["households"].set_index("hh_id")
    inc = kept(county.tables["income"])
    out = set()
    for h, g in inc.groupby("hh_id"):
        st, ey = hh.loc[h, "exit_status"], hh.loc[h, "exit_year"]
        if st not in ("exited", "returned") or not ey < 2019:
            continue
        s = {int(r.year): (float(r.wage) + r.operating - r.operating_cost + r.property + r.transfer) / r.size
             for r in g.itertuples()}
        if all(y in s for y in range(2016, 2020)) and s[2016] > s[2017] > s[2018] > s[2019]:
            out.add(h)
    return out


def test_truth_of_the_decline_ledger_is_the_contract_definition(county, truth):
    got = {x["hh_id"] for x in truth["ledgers"]["income_decline"]}
    assert got == plain_decline(county)
    planted = [x for x in truth["ledgers"]["income_decline"] if x["planted"]]
    assert len(planted) == 4
    assert sorted(x["driver"] for x in planted) == ["income", "income", "income", "size"]
    decoys = {x["hh_id"] for x in truth["decoys"]["income_decline"]}
    assert len(decoys) == 6 and not decoys & got


def test_size_driven_decline_has_rising_income_and_growing_household(county, truth):
    h = next(x["hh_id"] for x in truth["ledgers"]["income_decline"] if x["driver"] == "size")
    inc = kept(county.tables["income"])
    g = inc[inc["hh_id"] == h].set_index("year")
    assert list(g.loc[2016:2019, "size"]) == [3, 4, 5, 6]
    assert g["net_income"].loc[2016:2019].is_monotonic_increasing
    m = county.tables["members"]
    assert set(m.loc[m["hh_id"] == h, "relation"]) >= {"之儿媳", "之孙子", "之孙女"}


def test_truth_of_share_ledgers(county, truth):
    inc = kept(county.tables["income"])
    y = inc[inc["year"] == 2019].drop_duplicates("hh_id").set_index("hh_id")
    m = kept(county.tables["members"])
    skills = m.groupby("hh_id")["labor_skill"].agg(set)
    cap = skills.map(lambda s: "有" if s & {"普通劳动力", "技能劳动力"} else ("弱" if "弱劳动力或半劳动力" in s else "无"))
    net = y["wage"].astype(float) + y["operating"] - y["operating_cost"] + y["property"] + y["transfer"]
    low = {h for h in y.index if net[h] > 0 and cap.get(h) in ("有", "弱")
           and (y.loc[h, "operating"] - y.loc[h, "operating_cost"]) / net[h] < 0.10}
    dep = {h for h in y.index if net[h] > 0 and y.loc[h, "transfer"] / net[h] > 0.50}
    assert {x["hh_id"] for x in truth["ledgers"]["income_low_operating"]} == low
    assert {x["hh_id"] for x in truth["ledgers"]["income_transfer_dependent"]} == dep
    planted_low = {x["hh_id"] for x in truth["ledgers"]["income_low_operating"] if x["planted"]}
    assert len(planted_low) == 2


def test_helper_plants(county, truth):
    led = truth["ledgers"]
    assert sum(x["planted"] for x in led["helper_unpaired"]) == 3
    assert sorted(x["households"] for x in led["helper_overloaded"] if x["planted"]) == [6, 7]
    assert all(x["households"] > 5 for x in led["helper_overloaded"])
    decoy5 = truth["decoys"]["helper_overloaded"]
    assert len(decoy5) == 1
    pr = county.tables["pairings"]
    act = pr[(pr["start"] <= np.datetime64("2019-09-30")) & (pr["end"].isna() | (pr["end"] >= np.datetime64("2019-09-30")))]
    assert act.loc[act["helper_id"] == decoy5[0]["helper_id"], "hh_id"].nunique() == 5
    fc = {x["hh_id"]: x for x in led["helper_frequent_change"]}
    boundary = next(x for x in led["helper_frequent_change"] if x["planted"] and x["changes"] == 2)
    starts = pr.loc[pr["hh_id"] == boundary["hh_id"], "start"].astype(str).tolist()
    assert "2018-10-01" in starts
    for d in truth["decoys"]["helper_frequent_change"]:
        assert d["hh_id"] not in fc
    at_bound = truth["decoys"]["helper_frequent_change"][0]["hh_id"]
    assert "2018-09-30" in pr.loc[pr["hh_id"] == at_bound, "start"].astype(str).tolist()
    # one helper with one household; poor helpers have several
    single = truth["helper_single_extreme"]
    assert len(set(act.loc[act["helper_id"] == single, "hh_id"])) == 1
    for h in truth["helpers_poor"]:
        assert 3 <= act.loc[act["helper_id"] == h, "hh_id"].nunique() <= 5
    rv = county.tables["reviews"]
    for h in truth["helpers_unreviewed"]:
        assert not (rv.loc[rv["helper_id"] == h, "date"] >= np.datetime64("2019-01-01")).any()


def test_dividend_plants_cover_every_status(truth):
    od = truth["ledgers"]["dividend_overdue"]
    planted = {x["status"] for x in od if x["planted"]}
    assert planted == {"unpaid", "late", "short", "principal"}
    assert len(truth["decoys"]["dividend_overdue"]) >= 5
    decoy_pairs = {(d["project_id"], d["hh_id"]) for d in truth["decoys"]["dividend_overdue"]}
    assert not decoy_pairs & {(x["project_id"], x["hh_id"]) for x in od}


def test_quality_problems_are_on_households_without_other_plants(county, truth):
    hid = county.tables["households"]["hh_id"].to_numpy()
    q = {hid[h] for h in county.extras["quality_households"]}
    for name, rows in truth["ledgers"].items():
        if name in ("income_low_operating", "income_transfer_dependent"):
            continue  # natural members of these large ledgers may be anywhere
        assert not q & {x.get("hh_id") for x in rows if x.get("planted")}, name
    for name in ("income_decline", "income_low_operating", "income_transfer_dependent"):
        assert not q & {x["hh_id"] for x in truth["decoys"][name]}


def test_same_seed_same_county_other_seed_other_county(county):
    again = simulate(7, 400)
    other = simulate(8, 400)
    for name, df in county.tables.items():
        pd.testing.assert_frame_equal(df, again.tables[name])
    assert not county.tables["households"]["hh_id"].equals(other.tables["households"]["hh_id"]) or \
        not county.tables["income"]["net_income"].equals(other.tables["income"]["net_income"])


def test_too_small_a_county_is_refused():
    with pytest.raises(QjError, match="至少"):
        simulate(1, 20)


def test_no_helper_shares_an_id_number_with_a_registered_person(county):
    """Helpers are not registered poor in the demo: none of their ID numbers is a member's or a
    household head's (the same number is the same person)."""
    helpers = set(county.tables["helpers"]["id_number"])
    people = set(county.tables["members"]["id_number"]) | set(county.tables["households"]["head_id_number"])
    assert len(helpers) == len(county.tables["helpers"])
    assert not helpers & people
