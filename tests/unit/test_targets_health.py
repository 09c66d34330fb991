"""The health targets of plan 二.3 in the dispatch sheet (issue #19, targets.md; departments.md's
``health.*``): the measure reads the ``health`` analysis's figures — numerator and denominator —
and never recomputes them; a missing insurance or hospital table is ``not_measurable`` naming it;
thresholds are met exactly at 100 % and at 90 %."""

from __future__ import annotations

import pandas as pd
import pytest
from fixtures.frames import FramePackage

from qjlib.analyses import targets as tg
from qjlib.analyses import targets_measures as tm
from qjlib.core.context import Context
from qjlib.core.params import load_params

A = "2019-09-30"
IDS = ("110101199001010015", "110101199001010031", "110101199001010058")  # valid check digits


def _hh():
    return pd.DataFrame({"hh_id": ["H1"], "town": "甲镇", "village": "东村",
                         "planned_exit_year": pd.array([2019], dtype="Int64")})


def _members():
    return pd.DataFrame({"hh_id": "H1", "person_id": ["H101", "H102", "H103"], "id_number": list(IDS),
                         "name": ["甲", "乙", "丙"], "relation": ["户主", "配偶", "子女"],
                         "birth_date": pd.to_datetime(["1990-01-01"] * 3), "health": "健康"})


def _insurance(fd=("是", "是", "是")):
    yes = pd.array([True] * 3, dtype="boolean")
    return pd.DataFrame({"id_number": list(IDS), "year": pd.array([2019] * 3, dtype="Int64"), "basic": yes,
                         "critical": yes, "family_doctor": pd.array([v == "是" for v in fd], dtype="boolean")})


def _hospital(reimbursed):
    return pd.DataFrame({"id_number": [IDS[0], IDS[1]], "admitted": pd.to_datetime(["2019-03-01", "2019-05-01"]),
                         "discharged": pd.to_datetime(["2019-03-10", "2019-05-09"]),
                         "total_cost": [10000.0, 2000.0], "eligible_cost": [8000.0, float("nan")],
                         "reimbursed": reimbursed})


def _ev(**tables):
    pkg = FramePackage(households=_hh(), members=_members(), **tables)
    return {e["id"]: e for e in tg.evaluation(Context(pkg, load_params("2019Q3", as_of=A)))}


def _figures(**h):
    return tm.TargetData({"households": _hh(), "insurance": _insurance(), "hospital": _hospital([0.0, 0.0])},
                         pd.Timestamp(A), load_params("2019Q3"), figures={"health": h})


def test_the_measures_read_the_health_figures_as_they_are():
    d = _figures(persons=7, insured=7, critical=6, reimbursed=900.0, eligible_cost=1000.0)
    day = pd.Timestamp(A)
    assert tm.MEASURES["health_insured_rate"].fn(d, day) == (7, 7)
    assert tm.MEASURES["health_critical_rate"].fn(d, day) == (6, 7)
    assert tm.MEASURES["health_reimbursement_ratio"].fn(d, day) == (90000, 100000)  # fen
    assert tm.MEASURES["health_family_doctor_rate"].fn(d, day) == (0, 0)  # no such figure: empty
    ev = {e["id"]: e for e in tg.evaluate(d, tg.targets())}
    assert ev["health.insured_rate"]["status"] == "met" and ev["health.insured_rate"]["value"] == 1.0
    assert ev["health.critical_rate"]["status"] == "not_met"
    r = ev["health.reimbursement_ratio"]  # exactly 90 % is met; numerator and denominator in yuan
    assert (r["status"], r["numerator"], r["denominator"], r["value"]) == ("met", 900.0, 1000.0, 0.9)
    assert ev["health.family_doctor_rate"]["status"] == "not_measurable"
    d = _figures(persons=7, insured=7, critical=7, reimbursed=899.99, eligible_cost=1000.0)
    assert {e["id"]: e for e in tg.evaluate(d, tg.targets())}["health.reimbursement_ratio"]["status"] == "not_met"


def test_absent_tables_are_not_measurable_naming_them():
    ev = _ev()
    for tid, table in (("health.insured_rate", "insurance"), ("health.critical_rate", "insurance"),
                       ("health.family_doctor_rate", "insurance"), ("health.reimbursement_ratio", "hospital")):
        assert ev[tid]["status"] == "not_measurable" and ev[tid]["missing"] == [table], tid
    ev = _ev(hospital=_hospital([7200.0, 1800.0]))
    assert ev["health.insured_rate"]["missing"] == ["insurance"]
    assert ev["health.reimbursement_ratio"]["status"] == "met"


@pytest.mark.parametrize(("reimbursed", "status"), [([7200.0, 1800.0], "met"), ([7200.0, 1799.99], "not_met")])
def test_end_to_end_from_the_departments_analysis_exact_at_100_and_90_percent(reimbursed, status):
    ev = _ev(insurance=_insurance(fd=("是", "是", "否")), hospital=_hospital(reimbursed))
    assert ev["health.insured_rate"]["status"] == "met" and ev["health.insured_rate"]["value"] == 1.0
    assert (ev["health.insured_rate"]["numerator"], ev["health.insured_rate"]["denominator"]) == (3, 3)
    assert ev["health.critical_rate"]["status"] == "met"
    fd = ev["health.family_doctor_rate"]
    assert (fd["status"], fd["numerator"], fd["denominator"]) == ("not_met", 2, 3)
    r = ev["health.reimbursement_ratio"]  # (7200 + 1800) ÷ (8000 + 2000 total, eligible blank)
    assert r["status"] == status and r["denominator"] == 10000.0


def test_health_has_no_month_by_month_progress():
    pkg = FramePackage(households=_hh(), members=_members(), insurance=_insurance())
    prog = tg.progress(Context(pkg, load_params("2019Q3", as_of=A)))
    assert not prog["id"].str.startswith("health.").any()


def test_the_dispatch_line_shows_the_passed_checkpoints_value_beside_the_value_on_a():
    from qjlib.pages import targets as pg

    e = {"id": "posts.special", "family": "posts", "plan": "一.5", "sentence": "s", "unit": "count",
         "direction": "at_least", "every_date": False, "status": "met", "value": 239.0, "threshold": 240.0,
         "date": "2019-06-30", "missing": [],
         "checkpoints": [{"date": "2019-06-30", "threshold": 240.0, "value": 240.0, "status": "met"}]}
    assert pg.checkpoint_text(e) == "6月30日：240"
    html = pg.dispatch_html([e], pd.Timestamp(A), "全县")
    assert ">239<br>" in html and "6月30日：240" in html
    same = {**e, "value": 240.0}
    assert pg.checkpoint_text(same) == "" and pg.checkpoint_text({**e, "status": "due"}) == ""
