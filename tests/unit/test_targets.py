"""The plan's dated targets (contract/targets.md) on tiny frames: targets.yaml validation, the
engine at checkpoint edges, every measure and every ledger."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from fixtures.frames import FramePackage

from qjlib.analyses import targets as tg
from qjlib.analyses import targets_ledgers as tl
from qjlib.analyses import targets_measures as tm
from qjlib.core.context import Context
from qjlib.core.params import PARAMS_DIR, load_params
from qjlib.core.targets_params import TargetsError, load_targets, parse_targets


def D(*s):
    return pd.Series(pd.to_datetime(list(s)), dtype="datetime64[us]")


def hh(ids=("H1", "H2", "H3"), planned=(2019, 2019, 2018), relocated=(None, None, None)):
    return pd.DataFrame({"hh_id": list(ids), "town": "甲镇", "village": "东村",
                         "planned_exit_year": pd.array(planned, dtype="Int64"),
                         "relocated": pd.array(list(relocated), dtype="boolean")})


def data(asof="2019-09-30", **tables):
    t = {"households": hh(), **tables}
    return tm.TargetData(t, pd.Timestamp(asof), load_params("2019Q3", as_of=asof if asof >= "2019-07-01" else None))


def ctx(asof="2019-09-30", **tables):
    period = f"2019Q{(int(asof[5:7]) - 1) // 3 + 1}"
    return Context(FramePackage(households=tables.pop("households", hh()), **tables),
                   load_params(period, as_of=asof))


def T(tid):
    return next(t for t in tg.targets() if t.id == tid)


# ---- targets.yaml -----------------------------------------------------------------------------

def test_the_shipped_targets_yaml_is_valid_and_quotes_the_plan():
    ts = tg.targets()
    assert [t.id for t in ts][:3] == ["visits.exit_households", "visits.exit_villages", "visits.edge_households"]
    plan = (PARAMS_DIR.parents[1] / "shared/seed/qingjian-2019-qihua-plan.zh.txt")
    if plan.exists():
        text = plan.read_text(encoding="utf-8")
        assert all(t.sentence in text for t in ts)
    fp = T("funds.poverty")
    assert [(c.by, c.threshold) for c in fp.checkpoints] == [("06-30", 0.5), ("09-30", 0.75), ("12-31", 0.92)]
    assert T("loans.overdue_rate").every_date == 0.01


def _one(tid="funds.poverty", **over):
    spec = {"plan": "二.8(1)", "sentence": "s", "measured": "m", "measure": "funds_poverty",
            "direction": "at_least", "checkpoints": [{"by": "06-30", "threshold": 0.5}], **over}
    return {"targets": {tid: spec}}


@pytest.mark.parametrize("tree, words", [
    (_one("money.spent"), "money.spent"),
    (_one(measure="funds_poor"), "funds_poor"),
    (_one(checkpoints=[{"by": "02-30", "threshold": 0.5}]), "02-30"),
    (_one(checkpoints=[{"by": "6/30", "threshold": 0.5}]), "6/30"),
    (_one(checkpoints=[{"by": "06-30", "threshold": 1.5}]), "1.5"),
    (_one(checkpoints=[{"by": "06-30", "threshold": "50%"}]), "50%"),
    (_one(checkpoints=[{"by": "09-30", "threshold": 0.7}, {"by": "06-30", "threshold": 0.5}]), "checkpoints"),
    (_one(direction="above"), "direction"),
    (_one(deadline="06-30"), "deadline"),
    (_one(sentence=""), "sentence"),
    (_one("posts.special", measure="posts_special", checkpoints=[{"by": "06-30", "threshold": 240.5}]), "240.5"),
    (_one(every_date=0.1), "every_date"),
])
def test_a_bad_targets_yaml_is_an_error_naming_the_target_and_the_field(tree, words):
    with pytest.raises(TargetsError) as e:
        parse_targets(tree, tm.UNITS)
    assert words in str(e.value)
    tid = next(iter(tree["targets"]))
    assert tid in str(e.value)


def test_a_county_edits_a_date_or_a_threshold_in_yaml_and_the_result_changes(tmp_path):
    tree = yaml.safe_load((PARAMS_DIR / "targets.yaml").read_text(encoding="utf-8"))
    d = data("2019-09-30", funds=_funds(), fund_payments=_payments())
    base = {e["id"]: e for e in tg.evaluate(d, load_targets(tm.UNITS))}
    assert base["funds.poverty"]["status"] == "met"  # exactly 75 % on 09-30
    tree["targets"]["funds.poverty"]["checkpoints"][1]["threshold"] = 0.80
    p = tmp_path / "targets.yaml"
    p.write_text(yaml.safe_dump(tree, allow_unicode=True), encoding="utf-8")
    ev = {e["id"]: e for e in tg.evaluate(d, load_targets(tm.UNITS, p))}
    assert ev["funds.poverty"]["status"] == "not_met" and ev["funds.poverty"]["threshold"] == 0.80
    tree["targets"]["funds.poverty"]["checkpoints"][1]["by"] = "10-15"
    p.write_text(yaml.safe_dump(tree, allow_unicode=True), encoding="utf-8")
    ev = {e["id"]: e for e in tg.evaluate(d, load_targets(tm.UNITS, p))}
    assert ev["funds.poverty"]["status"] == "met"  # latest passed is now 06-30 (50 %)
    assert ev["funds.poverty"]["next_due"] == {"date": "2019-10-15", "threshold": 0.80}


# ---- funds ------------------------------------------------------------------------------------

def _funds():
    return pd.DataFrame({
        "fund_id": ["F1", "F2", "F3", "P1"], "year": pd.array([2019, 2019, 2019, 2018], dtype="Int64"),
        "poverty_fund": pd.array([True, True, False, True], dtype="boolean"),
        "integrated": pd.array([True, False, True, True], dtype="boolean"),
        "town": ["甲镇", "甲镇", "乙镇", "甲镇"], "project_id": [None, None, None, None],
        "issued": [100000.0, 100000.0, 50000.0, 10000.0],
        "issued_date": D("2019-01-10", None, "2019-10-01", None)})


def _payments():
    return pd.DataFrame({
        "fund_id": ["F1", "F1", "F2", "F2", "F9", "P1", "F3"],
        "date": D("2019-06-30", "2019-09-30", "2019-06-30", "2019-07-01", "2019-05-01", "2019-05-31", "2019-10-02"),
        "amount": [60000.0, 20000.0, 40000.0, 30000.0, 999999.0, 9999.99, 50000.0]})


def test_funds_spending_payments_on_the_checkpoint_count_and_exactly_75_percent_is_met():
    d = data("2019-09-30", funds=_funds(), fund_payments=_payments())
    assert tm.funds_poverty(d, pd.Timestamp("2019-06-30")) == (10_000_000, 20_000_000)  # fen
    assert tm.funds_poverty(d, pd.Timestamp("2019-09-30")) == (15_000_000, 20_000_000)  # 75 %
    # integrated: F3 issued 10-01 is not in the denominator before then
    assert tm.funds_integrated(d, pd.Timestamp("2019-09-30")) == (8_000_000, 10_000_000)
    assert tm.funds_previous_year(d, pd.Timestamp("2019-05-31")) == (999_999, 1_000_000)
    ev = {e["id"]: e for e in tg.evaluate(d, tg.targets())}
    fp = ev["funds.poverty"]
    assert [c["status"] for c in fp["checkpoints"]] == ["met", "met", "due"]
    assert fp["status"] == "met" and fp["value"] == 0.75 and fp["numerator"] == 150000.0
    assert ev["funds.previous_year"]["status"] == "not_met"  # one fen short of 100 %


def test_funds_behind_per_allocation_on_the_latest_passed_checkpoint():
    d = data("2019-09-30", funds=_funds(), fund_payments=_payments())
    led = tl.funds_behind(d, tg.targets())
    # F1 80 % ≥ 75 % and ≥ 65 %; F2 70 % < 75 % (poverty); P1 not fully paid by 05-31;
    # F3 issued after 09-30 is not judged
    assert led["fund_id"].tolist() == ["F2", "P1"]
    assert led["type"].tolist() == ["poverty", "previous_year"]
    assert led["threshold"].tolist() == [0.75, 1.0]


def test_a_refund_lowers_the_spending():
    pay = pd.concat([_payments(), pd.DataFrame({"fund_id": ["F1"], "date": D("2019-09-01"),
                                                "amount": [-10000.0]})], ignore_index=True)
    d = data("2019-09-30", funds=_funds(), fund_payments=pay)
    assert tm.funds_poverty(d, pd.Timestamp("2019-09-30")) == (14_000_000, 20_000_000)


# ---- the engine at the edges --------------------------------------------------------------------

def test_a_checkpoint_exactly_on_the_as_of_date_before_and_after_it():
    f, p = _funds(), _payments()
    on = {e["id"]: e for e in tg.evaluation(ctx("2019-06-30", funds=f, fund_payments=p))}["funds.poverty"]
    assert on["status"] == "met" and on["date"] == "2019-06-30" and on["next_due"]["date"] == "2019-09-30"
    before = {e["id"]: e for e in tg.evaluation(ctx("2019-06-29", funds=f, fund_payments=p))}["funds.poverty"]
    assert before["status"] == "due" and before["date"] == "2019-06-30" and before["value"] == 0.0
    assert [c["status"] for c in before["checkpoints"]] == ["due", "due", "due"]
    after = {e["id"]: e for e in tg.evaluation(ctx("2019-07-01", funds=f, fund_payments=p))}["funds.poverty"]
    assert after["status"] == "met" and after["value"] == 0.65 and after["checkpoints"][0]["value"] == 0.5


def test_a_missing_table_is_not_measurable_naming_it_and_an_empty_denominator_too():
    ev = {e["id"]: e for e in tg.evaluation(ctx("2019-09-30"))}
    assert ev["funds.poverty"]["status"] == "not_measurable"
    assert ev["funds.poverty"]["missing"] == ["funds", "fund_payments"]
    assert ev["visits.exit_villages"]["missing"] == ["secretary_visits", "villages"]
    assert ev["posts.special"]["missing"] == ["posts"]
    empty = pd.DataFrame({"hh_id": pd.Series([], dtype="str"), "moved_in": pd.array([], dtype="boolean"),
                          "moved_in_date": D(), "old_house": pd.Series([], dtype="str"),
                          "reclaimed_date": D(), "site": pd.Series([], dtype="str")})
    ev = {e["id"]: e for e in tg.evaluation(ctx("2019-09-30", relocation=empty))}
    assert ev["relocation.moved_in"]["status"] == "not_measurable" and ev["relocation.moved_in"]["missing"] == []
    assert ev["relocation.moved_in"]["value"] is None


# ---- visits -------------------------------------------------------------------------------------

def _visits():
    return pd.DataFrame({
        "visitor_id": ["S1", "S2", "S3", "S4", "S5", "S6"],
        "level": ["镇级", "村级", "县级", "镇级", "县级", "村级"],
        "target_type": ["household", "household", "household", "household", "village", "household"],
        "target": ["H1", "H2", "H2", "H3", "V1", "E1"],
        "date": D("2019-07-31", "2018-12-31", "2019-03-01", "2019-08-01", "2019-07-31", "2019-09-30")})


def test_visits_on_31_july_count_last_year_and_wrong_levels_do_not():
    vil = pd.DataFrame({"village_code": ["V1", "V2"], "town": "甲镇", "village": ["东村", "西村"],
                        "planned_exit_year": pd.array([2019, 2019], dtype="Int64")})
    edge = pd.DataFrame({"hh_id": ["E1", "E2", "H1"], "town": "甲镇", "village": "东村"})
    d = data("2019-07-31", secretary_visits=_visits(), villages=vil, edge_households=edge)
    day = pd.Timestamp("2019-07-31")
    assert tm.MEASURES["visits_exit_households"].fn(d, day) == (1, 2)  # H1 yes; H2: 2018 / 县级
    assert tm.MEASURES["visits_exit_villages"].fn(d, day) == (1, 2)
    assert tm.MEASURES["visits_edge_households"].fn(d, day) == (0, 2)  # H1 is registered: not edge
    led = tl.visit_missing(d, tg.targets())
    assert list(zip(led["target_type"], led["target"], led["overdue"], strict=True)) == [
        ("household", "E1", False), ("household", "E2", False), ("household", "H2", True),
        ("village", "V2", True)]
    mon = tl.visit_monthly(d)
    assert mon[["month", "level", "visits", "targets_visited"]].to_numpy().tolist() == [
        ["2019-03", "县级", 1, 1], ["2019-07", "县级", 1, 1], ["2019-07", "镇级", 1, 1]]


def test_a_visit_of_an_unknown_target_counts_for_nothing():
    v = _visits().assign(target=["H9", "H2", "H2", "H3", "V1", "E1"])
    d = data("2019-09-30", secretary_visits=v)
    assert tm.MEASURES["visits_exit_households"].fn(d, d.asof) == (0, 2)
    assert "H9" not in set(tl.visit_monthly(d)["month"])
    assert tl.visit_monthly(d)["visits"].sum() == 2  # H2 (县级, 2019-03) and H3; E1, V1 unknown here


# ---- loans ----------------------------------------------------------------------------------------

def _loans():
    return pd.DataFrame({
        "loan_id": ["L1", "L2", "L3", "L4", "L5", "L6"], "hh_id": ["H1", "H1", "H2", "H3", "X9", "H2"],
        "id_number": ["610830199001011234", None, "610830200201011234", "610830195409301234", None, None],
        "amount": [50000.0, 50000.01, 30000.0, 20000.0, 10000.0, 10000.0],
        "loan_date": D("2017-10-01", "2017-10-01", "2019-01-01", "2019-09-30", "2018-01-01", "2018-01-01"),
        "due_date": D("2019-09-30", "2019-06-29", "2021-01-01", "2022-09-30", "2019-06-30", "2019-09-29"),
        "balance": [40000.0, 10000.0, 30000.0, 20000.0, 0.0, 900.0],
        "overdue_since": D(None, None, "2019-06-30", None, None, None),
        "repaid_date": D(None, None, None, None, "2019-06-30", None)})


def _members():
    return pd.DataFrame({"person_id": ["P1", "P2", "P3"], "hh_id": ["H1", "H2", "H3"],
                         "id_number": ["610830199001011234", "610830200201011234", "610830195409301234"],
                         "birth_date": D("1990-01-01", "2002-01-02", "1954-09-30")})


def test_loans_due_on_the_as_of_date_are_not_overdue_and_the_rate_is_exact():
    d = data("2019-09-30", loans=_loans())
    # overdue on A: L2 (due 06-29), L3 (bank mark 06-30), L6 (due 09-29); L1 due on A is not
    assert tm.overdue_on(d["loans"], d.asof).tolist() == [False, True, True, False, False, True]
    assert tm.loans_overdue_rate(d, d.asof) == (4_090_000, 10_090_000)
    assert tm.loans_overdue_cleared(d, pd.Timestamp("2019-06-30")) == (2, None)  # L2, L3
    led = tl.loan_overdue(d, tg.targets())
    assert led["loan_id"].tolist() == ["L2", "L3", "L6"]
    assert led["days_overdue"].tolist() == [93, 92, 1]
    assert led["should_be_cleared"].tolist() == [True, True, False]
    ev = {e["id"]: e for e in tg.evaluate(d, tg.targets())}
    assert ev["loans.overdue_rate"]["status"] == "not_met"
    oc = ev["loans.overdue_cleared"]  # on 06-30: L2, L3 still owing; on A: every overdue loan
    assert oc["checkpoints"][0]["value"] == 2.0 and oc["status"] == "not_met" and oc["value"] == 3.0


def test_loan_ineligible_reasons_at_their_edges():
    d = data("2019-09-30", loans=_loans(), members=_members())
    led = tl.loan_ineligible(d)
    got = dict(zip(led["loan_id"], led["reasons"], strict=True))
    # L1 exactly 50 000 and 29: fine; L2 one fen over; L3 17 (birthday the next day); L4 turns 65
    # on the loan date: not older than 65; L5 not registered
    assert got == {"L2": "over_amount", "L3": "too_young", "L5": "not_registered"}
    bad = _members().assign(id_number=["610830199001011234", "610830200201019999", "610830195409301234"])
    assert dict(zip(*(tl.loan_ineligible(data(loans=_loans(), members=bad))[c] for c in ("loan_id", "reasons")),
                    strict=True))["L3"] == "not_member,too_young"


# ---- housing, relocation, posts -------------------------------------------------------------------

def test_housing_rebuilt_and_moved_in_and_its_ledger():
    h = pd.DataFrame({"hh_id": ["H1", "H1", "H2", "N1", "H3"],
                      "rebuild_year": pd.array([2019, 2019, 2019, 2019, 2018], dtype="Int64"),
                      "completed": D(None, "2019-06-30", "2019-07-01", "2019-05-01", "2018-06-01"),
                      "moved_in": D(None, "2019-09-30", None, "2019-06-01", "2018-09-01")})
    d = data("2019-09-30", housing=h)
    assert tm.housing_rebuilt(d, pd.Timestamp("2019-06-30")) == (2, 3)
    assert tm.housing_moved_in(d, pd.Timestamp("2019-09-30")) == (2, 3)
    led = tl.housing_behind(d, tg.targets())
    assert led[["hh_id", "not_completed", "not_moved_in", "overdue"]].to_numpy().tolist() == [["H2", True, True, True]]


def _relocation():
    return pd.DataFrame({"hh_id": ["H1", "H2", "N1", "H3"], "site": "西城区",
                         "moved_in": pd.array([True, True, False, True], dtype="boolean"),
                         "moved_in_date": D("2019-09-30", None, None, "2019-10-01"),
                         "old_house": ["reclaimed", "standing", None, "reclaimed"],
                         "reclaimed_date": D("2019-07-31", None, None, None)})


def test_relocation_moved_in_reclaimed_and_the_ledgers():
    d = data("2019-09-30", relocation=_relocation(),
             households=hh(relocated=(True, None, False)))
    d = tm.TargetData({**d.tables, "households": hh(("H1", "H2", "H3", "H4"), (2019,) * 4,
                                                     (True, None, False, True))}, d.asof, d.params)
    assert tm.relocation_moved_in(d, pd.Timestamp("2019-09-30")) == (2, 4)  # blank date with 是 counts
    assert tm.relocation_reclaimed(d, pd.Timestamp("2019-07-31")) == (1, 4)  # a blank date does not
    beh = tl.relocation_behind(d, tg.targets())
    assert beh[["hh_id", "not_moved_in", "overdue", "house_standing"]].to_numpy().tolist() == [
        ["H2", False, False, True], ["H3", True, True, False], ["N1", True, True, False]]
    mis = tl.relocation_mismatch(d)
    assert mis[["hh_id", "in_relocation"]].to_numpy().tolist() == [["H3", True], ["H4", False]]


def test_posts_count_distinct_persons_active_on_the_checkpoint():
    p = pd.DataFrame({"post_id": ["A", "B", "C", "D", "E"],
                      "post_type": ["公益特岗", "公益特岗", "公益特岗", "公益专岗", "生态护林员"],
                      "id_number": ["I1", "I1", "I2", "I3", "I4"], "town": "甲镇",
                      "start": D("2019-01-01", "2019-06-30", "2019-07-01", "2018-01-01", "2019-01-01"),
                      "end": D(None, None, None, "2019-06-30", None)})
    d = data("2019-09-30", posts=p)
    day = pd.Timestamp("2019-06-30")
    assert tm.MEASURES["posts_special"].fn(d, day) == (1, None)
    assert tm.MEASURES["posts_institutional"].fn(d, day) == (1, None)
    ev = {e["id"]: e for e in tg.evaluate(d, tg.targets())}
    assert ev["posts.special"]["status"] == "not_met" and ev["posts.special"]["value"] == 2.0


def test_town_scope_keeps_the_towns_rows():
    c = ctx("2019-09-30", funds=_funds(), fund_payments=_payments(), loans=_loans())
    sub = tg.scoped_data(Context(c.pkg, c.params, scope="乙镇"))
    assert sub["funds"]["fund_id"].tolist() == ["F3"] and len(sub["loans"]) == 5  # not X9


def test_the_run_records_targets_yaml_and_a_recorded_run_reads_its_own_targets(tmp_path):
    import copy
    import hashlib
    import json

    from qjlib.core.params import Params

    p = load_params("2019Q3")
    raw = (PARAMS_DIR / "targets.yaml").read_bytes()
    assert p.targets["file"] == "params/targets.yaml" and "params/targets.yaml" in p.files
    assert p.targets["sha256"] == hashlib.sha256(raw).hexdigest()
    rec = json.loads(json.dumps(p.record(), ensure_ascii=False))  # as the manifest holds it
    back = Params.from_record(rec)
    assert [t.checkpoints for t in tg.targets(back)] == [t.checkpoints for t in tg.targets()]
    # a record whose targets.yaml said 07-15 / 0.55 is evaluated with those, not today's file
    tree = copy.deepcopy(rec["targets"]["tree"])
    tree["targets"]["funds.poverty"]["checkpoints"][0] = {"by": "07-15", "threshold": 0.55}
    edited = Params.from_record({**rec, "targets": {**rec["targets"], "tree": tree}})
    fp = next(t for t in tg.targets(edited) if t.id == "funds.poverty")
    assert (fp.checkpoints[0].by, fp.checkpoints[0].threshold) == ("07-15", 0.55)
    assert tg.targets(Params.from_record({k: v for k, v in rec.items() if k != "targets"})) == tg.targets()
    f = tmp_path / "t.yaml"
    f.write_text(yaml.safe_dump(tree, allow_unicode=True), encoding="utf-8")
    assert load_params("2019Q3", targets_file=f).targets["tree"] == tree
