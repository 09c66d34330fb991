"""The eighteen comparison rules of contract/departments.md on tiny hand-built canonical frames, at
each edge of their words (qjlib.analyses.departments_rules / departments_school / departments)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fixtures.frames import FramePackage

from qjlib.analyses import departments as d
from qjlib.analyses import departments_rules as r
from qjlib.analyses import departments_school as s
from qjlib.analyses.departments_match import id_keys, registered_persons, roll
from qjlib.core.context import Context
from qjlib.core.definitions import ID_CHECK_CHARS, ID_WEIGHTS
from qjlib.core.params import load_params

A = pd.Timestamp("2019-09-30")
T = pd.Timestamp


def pid(n: int, birth: str = "19800101") -> str:
    """A valid ID number with serial ``n`` born on ``birth``."""
    body = f"610830{birth}{n:03d}"
    check = ID_CHECK_CHARS[int(np.dot([int(c) for c in body], ID_WEIGHTS)) % 11]
    return body + check


def households(*rows: tuple) -> pd.DataFrame:
    """(hh_id, labor_capacity, exit_status, exit_year)."""
    df = pd.DataFrame(rows, columns=["hh_id", "labor_capacity", "exit_status", "exit_year"])
    df["town"], df["village"] = "甲镇", "一村"
    df["exit_year"] = df["exit_year"].astype("Int64")
    return df


def members(*rows: dict) -> pd.DataFrame:
    base = {"health": "健康", "dibao": pd.NA, "member_status": pd.NA, "birth_date": pd.NaT,
            "name": "张三"}
    df = pd.DataFrame([base | x for x in rows])
    df["birth_date"] = pd.to_datetime(df["birth_date"])
    df["dibao"] = df["dibao"].astype("boolean")
    return df


def frame(rows: list[dict], dates=("start", "end")) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    for c in dates:
        if c in df:
            df[c] = pd.to_datetime(df[c])
        elif c in ("end",):
            df[c] = pd.NaT
    df["_file"] = "f.xlsx"
    df["_row"] = np.arange(3, 3 + len(df))
    return roll(df)


def persons(hh, mem, deaths=None):
    return registered_persons(hh, mem, deaths, A, ("正常",))


HH = households(("H1", "无劳动能力", "not_exited", None))
M1 = members({"person_id": "P1", "hh_id": "H1", "id_number": pid(1)})


# ------------------------------------------------------------------------------- matching

def test_id_keys_valid_invalid_and_x():
    ids = pd.Series([pid(1), pid(1)[:-1] + "0" if pid(1)[-1] != "0" else pid(1)[:-1] + "1", None,
                     pid(1).lower()])
    k = id_keys(ids)
    assert k[0] >= 0 and k[1] == -1 and k[2] == -1 and k[3] == k[0]


def test_duplicate_id_matches_each_person_and_counted_and_alive():
    mem = members({"person_id": "P1", "hh_id": "H1", "id_number": pid(1)},
                  {"person_id": "P2", "hh_id": "H1", "id_number": pid(1), "member_status": "迁出"})
    dth = frame([{"id_number": pid(1), "death_date": "2019-09-30"}], dates=("death_date",))
    p = persons(HH, mem, dth)
    assert list(p["counted"]) == [True, False] and not p["alive"].any()
    out = r.deceased_pending(p, dth, A)  # death exactly on A counts; only counted members
    assert list(out["person_id"]) == ["P1"]


# ------------------------------------------------------------------------------- 民政

def income(net: float, size: int = 1, dibao_pay: float = 0.0, year: int = 2019):
    return pd.DataFrame({"hh_id": ["H1"], "year": pd.array([year], dtype="Int64"),
                         "size": pd.array([size], dtype="Int64"), "net_income": [net],
                         "dibao_pay": [dibao_pay], "wubao_pay": [np.nan]})


NO_WELFARE = frame([{"id_number": pid(9), "programme": "dibao", "start": "2010-01-01", "monthly_amount": 300.0}])


@pytest.mark.parametrize("net,pay,size,hit", [
    (3218.0 * 2, 0.0, 2, False),        # exactly at the standard: not below
    (3218.0 * 2 - 0.01, 0.0, 2, True),  # a fen below
    (8000.0, 2000.0, 2, True),          # below once dibao_pay is excluded
    (-50.0, 0.0, 1, True),              # net ≤ 0 is below
])
def test_dibao_eligible_unpaid_at_the_standard(net, pay, size, hit):
    p = persons(HH, M1)
    out = r.dibao_eligible_unpaid(HH, p, income(net, size, pay), NO_WELFARE, 2019, 3218.0, A)
    assert (list(out["hh_id"]) == ["H1"]) is hit


def test_dibao_eligible_unpaid_not_when_a_spell_ends_exactly_on_asof_or_household_can_work():
    p = persons(HH, M1)
    w = frame([{"id_number": pid(1), "programme": "tekun", "start": "2015-01-01", "end": "2019-09-30"}])
    assert r.dibao_eligible_unpaid(HH, p, income(100.0), w, 2019, 3218.0, A).empty
    w2 = frame([{"id_number": pid(1), "programme": "tekun", "start": "2015-01-01", "end": "2019-09-29"}])
    assert len(r.dibao_eligible_unpaid(HH, p, income(100.0), w2, 2019, 3218.0, A)) == 1
    able = households(("H1", "有劳动能力", "not_exited", None))
    assert r.dibao_eligible_unpaid(able, p, income(100.0), w2, 2019, 3218.0, A).empty


def test_dibao_register_mismatch_both_ways_and_blank():
    mem = members({"person_id": "P1", "hh_id": "H1", "id_number": pid(1), "dibao": True},
                  {"person_id": "P2", "hh_id": "H1", "id_number": pid(2), "dibao": False},
                  {"person_id": "P3", "hh_id": "H1", "id_number": pid(3)},
                  {"person_id": "P4", "hh_id": "H1", "id_number": pid(4), "dibao": True})
    w = frame([{"id_number": pid(2), "programme": "dibao", "start": "2019-09-30"},
               {"id_number": pid(3), "programme": "dibao", "start": "2019-01-01"},
               {"id_number": pid(4), "programme": "dibao", "start": "2019-01-01", "end": "2019-09-30"},
               {"id_number": pid(1), "programme": "tekun", "start": "2019-01-01"}])
    out = r.dibao_register_mismatch(persons(HH, mem), w, A)
    assert list(out["person_id"]) == ["P1", "P2"]
    assert out.loc[1, "row"] == 3


def test_welfare_pay_mismatch_months_and_tolerance():
    # spell from 1 March, 300/month → 10 months = 3,000 (a spell still open counts through Dec)
    w = frame([{"id_number": pid(1), "programme": "dibao", "start": "2019-03-01", "monthly_amount": 300.0}])
    p = persons(HH, M1)
    assert r.welfare_pay_mismatch(income(0, 1, 3300.0), p, w, 2019, 0.10).empty  # exactly 10 %
    assert len(r.welfare_pay_mismatch(income(0, 1, 3300.01), p, w, 2019, 0.10)) == 1
    # start on 2 March: from April, 9 months = 2,700
    w2 = frame([{"id_number": pid(1), "programme": "dibao", "start": "2019-03-02", "monthly_amount": 300.0}])
    assert len(r.welfare_pay_mismatch(income(0, 1, 3000.0), p, w2, 2019, 0.10)) == 1
    # roll 0 against more than 100 yuan; exactly 100 is not
    assert len(r.welfare_pay_mismatch(income(0, 1, 100.01), p, NO_WELFARE, 2019, 0.10)) == 1
    assert r.welfare_pay_mismatch(income(0, 1, 100.0), p, NO_WELFARE, 2019, 0.10).empty
    # a paid month without monthly_amount: the roll's figure is unknown, no finding
    w3 = frame([{"id_number": pid(1), "programme": "dibao", "start": "2019-03-01", "monthly_amount": np.nan}])
    assert r.welfare_pay_mismatch(income(0, 1, 5000.0), p, w3, 2019, 0.10).empty


def test_welfare_not_registered_keyed_by_id_active_only():
    w = frame([{"id_number": pid(7), "programme": "dibao", "start": "2018-01-01", "town": "甲镇"},
               {"id_number": pid(7), "programme": "tekun", "start": "2018-01-01"},
               {"id_number": pid(8), "programme": "dibao", "start": "2018-01-01", "end": "2019-09-29"},
               {"id_number": pid(1), "programme": "dibao", "start": "2018-01-01"},
               {"id_number": "610830198001010001", "programme": "dibao", "start": "2018-01-01"}])
    out = r.welfare_not_registered(w, persons(HH, M1), A)
    # an ID failing the checksum matches nobody: listed (and a load finding)
    assert list(out["id_number"]) == [pid(7), "610830198001010001"] and out.loc[0, "row"] == 3
    assert out["detail"].str.startswith("低保自2018-01-01").all()


@pytest.mark.parametrize("end,hit", [
    ("2020-06-29", True),   # stopped a day before the 渐退期 ends
    ("2020-06-30", False),  # ends exactly when the 渐退期 does
    (None, False),          # still paid
])
def test_dibao_dropped_at_exit_gradual_period(end, hit):
    hh = households(("H1", "无劳动能力", "exited", 2019))
    w = frame([{"id_number": pid(1), "programme": "dibao", "start": "2016-01-01", "end": end}])
    a = T("2020-09-30")
    out = r.dibao_dropped_at_exit(hh, registered_persons(hh, M1, None, a, ("正常",)), w, a, 6)
    assert (len(out) == 1) is hit


def test_dibao_dropped_at_exit_needs_a_spell_on_jan1_and_an_exited_household():
    w = frame([{"id_number": pid(1), "programme": "dibao", "start": "2019-01-02", "end": "2019-05-01"}])
    hh = households(("H1", "无劳动能力", "exited", 2019))
    assert r.dibao_dropped_at_exit(hh, persons(hh, M1), w, A, 6).empty
    w2 = frame([{"id_number": pid(1), "programme": "dibao", "start": "2019-01-01", "end": "2019-05-01"}])
    assert len(r.dibao_dropped_at_exit(hh, persons(hh, M1), w2, A, 6)) == 1
    hh2 = households(("H1", "无劳动能力", "not_exited", 2019))
    assert r.dibao_dropped_at_exit(hh2, persons(hh2, M1), w2, A, 6).empty


# ------------------------------------------------------------------------------- deaths

@pytest.mark.parametrize("death,end,hit", [
    ("2019-08-30", None, False),        # exactly 31 days before A: A > death + 31 is false
    ("2019-08-29", None, True),
    ("2019-01-01", "2019-02-01", False),  # end exactly death + 31
    ("2019-01-01", "2019-02-02", True),
])
def test_deceased_paid_grace(death, end, hit):
    dth = frame([{"id_number": pid(5), "death_date": death}], dates=("death_date",))
    sp = frame([{"id_number": pid(5), "start": "2015-01-01", "end": end, "dept": "民政"}])
    out = r.deceased_paid(dth, sp, persons(HH, M1), A, 31)
    assert (len(out) == 1) is hit
    if hit:
        assert out.loc[0, "id_key"] == id_keys(pd.Series([pid(5)]))[0]


def test_deceased_paid_registered_person_keyed_by_person_id():
    dth = frame([{"id_number": pid(1), "death_date": "2019-01-01"}], dates=("death_date",))
    sp = frame([{"id_number": pid(1), "start": "2015-01-01", "dept": "林业"}])
    out = r.deceased_paid(dth, sp, persons(HH, M1, dth), A, 31)
    assert list(out["person_id"]) == ["P1"]


def test_deceased_pending_only_on_or_before_asof():
    dth = frame([{"id_number": pid(1), "death_date": "2019-10-01"}], dates=("death_date",))
    assert r.deceased_pending(persons(HH, M1, dth), dth, A).empty


# ------------------------------------------------------------------------------- 残联

def test_disability_rules():
    mem = members({"person_id": "P1", "hh_id": "H1", "id_number": pid(1), "health": "长期慢性病、残疾"},
                  {"person_id": "P2", "hh_id": "H1", "id_number": pid(2), "health": "健康"},
                  {"person_id": "P3", "hh_id": "H1", "id_number": pid(3), "health": "残疾"},
                  {"person_id": "P4", "hh_id": "H1", "id_number": pid(4), "health": pd.NA})
    cards = frame([{"id_number": pid(2), "card_number": pid(2) + "41"},
                   {"id_number": pid(3), "card_number": pid(3) + "42"},
                   {"id_number": pid(4), "card_number": pid(4) + "43"}])
    p = persons(HH, mem)
    assert list(r.disability_no_card(p, cards)["person_id"]) == ["P1"]
    assert list(r.card_health_mismatch(p, cards)["person_id"]) == ["P2", "P4"]


# ------------------------------------------------------------------------------- 医保

def test_uninsured_ages_exempt_and_year():
    mem = members({"person_id": "P1", "hh_id": "H1", "id_number": pid(1)},
                  {"person_id": "P2", "hh_id": "H1", "id_number": pid(2, "20190702")},  # 90 days on A
                  {"person_id": "P3", "hh_id": "H1", "id_number": pid(3, "20190701")},  # 91 days
                  {"person_id": "P4", "hh_id": "H1", "id_number": pid(4)},
                  {"person_id": "P5", "hh_id": "H1", "id_number": pid(5)},
                  {"person_id": "P6", "hh_id": "H1", "id_number": pid(6)})
    ins = frame([{"id_number": pid(4), "year": 2019, "basic": False, "exempt": "服役"},
                 {"id_number": pid(5), "year": 2019, "basic": True, "exempt": None},
                 {"id_number": pid(6), "year": 2018, "basic": True, "exempt": None},
                 {"id_number": pid(1), "year": 2019, "basic": False, "exempt": None}], dates=())
    ins["year"] = ins["year"].astype("Int64")
    ins["basic"] = ins["basic"].astype("boolean")
    out = r.uninsured(persons(HH, mem), ins, A)
    assert list(out["person_id"]) == ["P1", "P3", "P6"]
    assert out.loc[0, "row"] == 6 and pd.isna(out.loc[1, "row"])


def hospital(rows):
    df = frame(rows, dates=("admitted", "discharged"))
    return df


def test_reimbursement_exactly_090_over_two_rows_is_not_low():
    h = hospital([
        {"id_number": pid(1), "admitted": "2019-03-01", "discharged": "2019-03-10", "total_cost": 12000.0,
         "eligible_cost": 10000.0, "reimbursed": 7000.0},
        {"id_number": pid(1), "admitted": "2019-03-01", "discharged": "2019-03-10", "total_cost": 0.0,
         "eligible_cost": np.nan, "reimbursed": 2000.0},
        {"id_number": pid(1), "admitted": "2019-05-01", "discharged": "2019-05-03", "total_cost": 1000.0,
         "eligible_cost": np.nan, "reimbursed": 899.99},
        {"id_number": pid(1), "admitted": "2019-09-20", "discharged": pd.NaT, "total_cost": 1000.0,
         "eligible_cost": np.nan, "reimbursed": 0.0},
        {"id_number": pid(1), "admitted": "2018-12-20", "discharged": "2019-01-03", "total_cost": 1000.0,
         "eligible_cost": np.nan, "reimbursed": 0.0},
    ])
    p = persons(HH, M1)
    st = r.registered_stays(r.stays(h, A), p)
    assert len(st) == 2
    out = r.reimbursement_low(st, p, 0.90)
    assert list(out["admitted"]) == [T("2019-05-01")]


# ------------------------------------------------------------------------------- 教体

def test_school_age_band_ends_on_31_august():
    mem = members({"person_id": "P1", "hh_id": "H1", "id_number": pid(1, "20130831")},  # 6 on 31 Aug 2019
                  {"person_id": "P2", "hh_id": "H1", "id_number": pid(2, "20130901")},  # 5
                  {"person_id": "P3", "hh_id": "H1", "id_number": pid(3, "20030901")},  # 15
                  {"person_id": "P4", "hh_id": "H1", "id_number": pid(4, "20030831")},  # 16
                  {"person_id": "P5", "hh_id": "H1", "id_number": pid(5, "20080101"),
                   "member_status": "迁出"})
    band = s.school_age(persons(HH, mem), A, 6, 15)
    assert list(band["person_id"]) == ["P1", "P3"]


def test_dropout_and_not_found():
    mem = members(*[{"person_id": f"P{i}", "hh_id": "H1", "id_number": pid(i, "20080101")}
                    for i in range(1, 6)])
    e = frame([{"id_number": pid(1, "20080101"), "term": "2019秋", "stage": "初中", "status": "辍学"},
               {"id_number": pid(2, "20080101"), "term": "2019秋", "stage": "初中", "status": "在校"},
               {"id_number": pid(3, "20080101"), "term": "2019春", "stage": "初中", "status": "毕业"},
               {"id_number": pid(4, "20080101"), "term": "2019春", "stage": "小学", "status": "在校"},
               {"id_number": pid(5, "20080101"), "term": "2019春", "stage": "初中", "status": "辍学"}], dates=())
    band = s.school_age(persons(HH, mem), A, 6, 15)
    assert list(s.dropout(band, e, A)["person_id"]) == ["P1"]
    assert list(s.enrollment_not_found(band, e, A)["person_id"]) == ["P4", "P5"]


def test_aid_repeat_and_multi_channel():
    mem = members({"person_id": "P1", "hh_id": "H1", "id_number": pid(1)},
                  {"person_id": "P2", "hh_id": "H1", "id_number": pid(2)})
    aid = frame([
        {"id_number": pid(1), "term": "2019春", "stage": "高中", "programme": "助学金", "channel": "教体", "amount": 1000.0},
        {"id_number": pid(1), "term": "2019春", "stage": "高中", "programme": "助学金", "channel": "教体", "amount": 1000.0},
        {"id_number": pid(1), "term": "2019秋", "stage": "高中", "programme": "免学费", "channel": "教体", "amount": 800.0},
        {"id_number": pid(1), "term": "2018秋", "stage": "高中", "programme": "免学费", "channel": "教体", "amount": 800.0},
        {"id_number": pid(2), "term": "2019秋", "stage": "高校", "programme": "入学资助", "channel": "教体", "amount": 5000.0},
        {"id_number": pid(2), "term": "2019秋", "stage": "高校", "programme": "圆梦", "channel": "团委", "amount": 3000.0},
        {"id_number": pid(2), "term": "2019春", "stage": "高中", "programme": "助学金", "channel": "教体", "amount": 1000.0},
        {"id_number": pid(2), "term": "2019春", "stage": "高中", "programme": "助学", "channel": "慈善", "amount": 1000.0},
    ], dates=())
    p = persons(HH, mem)
    rep = s.aid_repeat(aid, p)
    assert list(zip(rep["person_id"], rep["term"], rep["programme"], strict=True)) == [("P1", "2019春", "助学金")]
    multi = s.aid_multi_channel(aid, p, 1)
    assert list(zip(multi["person_id"], multi["term"], strict=True)) == [("P2", "2019秋")]
    assert s.aid_multi_channel(aid, p, 2).empty


# ------------------------------------------------------------------------------- posts

def posts(rows):
    return frame([{"post_type": "生态护林员", "town": "甲镇"} | x for x in rows])


def test_post_multiple_window_edges():
    p = persons(HH, M1)
    # overlap only on 2018-09-30 = A − 12 months (outside the window): not flagged
    edge = posts([{"post_id": "G1", "id_number": pid(7), "start": "2017-01-01", "end": "2018-09-30"},
                  {"post_id": "G2", "id_number": pid(7), "start": "2018-09-30", "end": "2019-03-01"}])
    assert s.post_multiple(edge, p, A).empty
    # overlap on 2018-10-01 (first day of the window) and one spell starting exactly on A
    inside = posts([{"post_id": "G1", "id_number": pid(7), "start": "2017-01-01", "end": "2018-10-01"},
                    {"post_id": "G2", "id_number": pid(7), "start": "2018-10-01", "end": "2019-03-01"},
                    {"post_id": "G3", "id_number": pid(1), "start": "2019-09-30"},
                    {"post_id": "G4", "id_number": pid(1), "start": "2018-01-01"},
                    {"post_id": "G5", "id_number": pid(2), "start": "2018-01-01"},
                    {"post_id": "G5", "id_number": pid(2), "start": "2018-01-01"}])
    out = s.post_multiple(inside, p, A)
    assert sorted(out["person_id"].dropna()) == ["P1"] and out["person_id"].isna().sum() == 1


def test_post_rotation_short_spells_and_exact_twelve_months():
    short = posts([{"post_id": "G1", "id_number": pid(1), "start": "2018-10-01", "end": "2019-03-31"},
                   {"post_id": "G1", "id_number": pid(2), "start": "2019-04-01", "end": "2019-09-29"}])
    assert list(s.post_rotation(short, A, 12)["post_id"]) == ["G1"]
    yearly = posts([{"post_id": "G1", "id_number": pid(1), "start": "2017-10-01", "end": "2018-09-30"},
                    {"post_id": "G1", "id_number": pid(2), "start": "2018-10-01", "end": "2019-09-30"},
                    {"post_id": "G2", "id_number": pid(3), "start": "2019-01-01", "end": "2019-03-31"},
                    {"post_id": "G2", "id_number": pid(4), "start": "2019-04-01"},
                    {"post_id": "G3", "id_number": pid(5), "start": "2019-01-01", "end": "2019-03-31"},
                    {"post_id": "G3", "id_number": pid(5), "start": "2019-04-01", "end": "2019-06-30"}])
    assert s.post_rotation(yearly, A, 12).empty


def test_post_not_registered_poor_posts_active_on_asof():
    ps = posts([{"post_id": "G1", "id_number": pid(7), "start": "2019-01-01", "end": "2019-09-30"},
                {"post_id": "G2", "id_number": pid(8), "start": "2019-01-01", "end": "2019-09-29"},
                {"post_id": "G3", "id_number": pid(1), "start": "2019-01-01"},
                {"post_id": "G4", "id_number": pid(9), "start": "2019-01-01", "post_type": "保洁员"}])
    out = s.post_not_registered(ps, persons(HH, M1), A, ("生态护林员", "公益特岗", "公益岗位"))
    assert list(out["post_id"]) == ["G1"] and list(out["dept"]) == ["林业"]


# ------------------------------------------------------------------------------- the analysis

@pytest.fixture(scope="module")
def params():
    return load_params("2019Q3")


def test_analysis_ledger_summary_and_rules_off(params):
    inc = income(100.0)
    inc["wage"] = inc["operating"] = inc["operating_cost"] = inc["property"] = inc["transfer"] = 0.0
    ps = posts([{"post_id": "G1", "id_number": pid(7), "start": "2019-01-01"}])
    pkg = FramePackage(households=HH, members=M1, income=inc, posts=ps.drop(columns=["id_key", "file", "row"]))
    pkg.pseudonym_key = "k"
    ctx = Context(pkg, params)
    led = d.build_ledgers(ctx)["dept_mismatch"]
    assert list(led["rule"]) == ["post_not_registered"]
    assert led.loc[0, "person_key"] and len(led.loc[0, "person_key"]) == 16
    assert led["detail"].notna().all() and led["reason"].notna().all()
    assert led.loc[0, "file"] == "f.xlsx" and led.loc[0, "row"] == 3 and led.loc[0, "town"] == "甲镇"
    summ = d.summary(ctx)
    assert summ["rules"] == {"post_multiple": 0, "post_rotation": 0, "post_not_registered": 1}
    assert "uninsured" in summ["rules_off"] and "welfare_not_registered" in summ["rules_off"]
    assert summ["matched"] == {"posts": 0} and summ["unmatched"] == {"posts": 1}
    town = d.build_ledgers(ctx.restrict if False else Context(pkg, params, scope="乙镇"))["dept_mismatch"]
    assert town.empty
