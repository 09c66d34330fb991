"""The demo's independent truth of ``unsafe_house`` (``qjlib.demo.monitoring.house_safe_truth``)
and the analysis's ``house_safe_on``, both against ``exit.md``'s "safe on a date D" on one
hand-built frame (the demo has no ``housing`` table yet)."""

from __future__ import annotations

import pandas as pd
import pytest

from qjlib.analyses import monitoring_signals as sig
from qjlib.analyses.exit_items import house_safe_on
from qjlib.demo.monitoring import house_safe_truth

D = pd.Timestamp("2019-09-30")
T = pd.to_datetime
HOUSING = pd.DataFrame.from_records([
    # hh_id, assessed, grade, works, completed, moved_in
    ("H01", "2018-01-01", "C", None, None, None),            # C: unsafe
    ("H02", "2019-01-01", "B", None, None, None),            # two on one day: the worse (D)
    ("H02", "2019-01-01", "D", None, None, None),
    ("H03", "2018-01-01", "D", "修缮加固", "2019-09-30", None),  # repair completed on D: safe
    ("H04", "2018-01-01", "D", "修缮加固", "2019-10-01", None),  # completed the day after: unsafe
    ("H05", "2019-10-01", "D", None, None, None),            # assessed after D only: unknown
    ("H06", "2017-01-01", "D", None, None, None),            # a later A: safe
    ("H06", "2019-02-01", "A", None, None, None),
    ("H07", "2018-01-01", "C", "重建", None, "2019-09-30"),     # rebuilt, moved in on D: safe
    ("H08", "2018-01-01", "C", "重建", "2019-06-01", None),     # rebuilt, not moved in: unsafe
    ("H09", "2018-01-01", "D", None, None, None),            # relocated, moved in before D: safe
    ("H10", "2018-01-01", "D", None, None, None),            # relocated, moved in after D: unsafe
    ("H12", "2019-03-01", "A", None, None, None),            # A, then D after the date: safe on D
    ("H12", "2019-10-01", "D", None, None, None),
], columns=["hh_id", "assessed", "grade", "works", "completed", "moved_in"]).assign(
    assessed=lambda d: T(d["assessed"]), completed=lambda d: T(d["completed"]),
    moved_in=lambda d: T(d["moved_in"]))
RELOCATION = pd.DataFrame({"hh_id": ["H09", "H10", "H11"], "moved_in": ["是", "是", "是"],
                           "moved_in_date": T(["2019-05-01", "2019-10-02", None])})
IDS = [f"H{i:02d}" for i in range(1, 14)]
# H11: no assessment, relocated with 是 and a blank date: safe; H13: nothing known
SAFE = [False, False, True, False, None, True, True, False, True, False, True, True, None]


def test_truth_follows_exit_md_safe_on_a_date():
    got = house_safe_truth(pd.Index(IDS), HOUSING, RELOCATION, D)
    assert [None if pd.isna(v) else bool(v) for v in got] == SAFE


def test_truth_without_relocation_leaves_relocated_houses_to_their_assessment():
    got = house_safe_truth(pd.Index(IDS), HOUSING, None, D)
    assert [None if pd.isna(v) else bool(v) for v in got][8:11] == [False, False, None]


@pytest.mark.parametrize("relocation", [RELOCATION, None])
def test_analysis_agrees_with_the_truth(relocation):
    canon = HOUSING.assign(works=HOUSING["works"].replace({"重建": "rebuild", "修缮加固": "repair"}))
    ids = pd.Series(IDS, dtype="str")
    want = house_safe_truth(pd.Index(IDS), HOUSING, relocation, D)
    got = house_safe_on(canon, ids, D, relocation)
    assert [None if pd.isna(v) else bool(v) for v in got] == [None if pd.isna(v) else bool(v) for v in want]
    unsafe = sig.unsafe_house(ids, canon, D, relocation)
    assert unsafe.tolist() == (want == False).fillna(False).tolist()  # noqa: E712
