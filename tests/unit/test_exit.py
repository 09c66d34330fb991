"""Issue 18 (contract/exit.md): the household, village and county exit items at their edges —
met / not met / unknown, never guessed — and the ledgers built from them, on tiny frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fixtures.frames import FramePackage

from qjlib.analyses import exit as ex
from qjlib.analyses.exit_items import house_safe_on, household_items
from qjlib.analyses.exit_villages import as_share
from qjlib.core.context import Context
from qjlib.core.params import load_params

D = pd.Timestamp("2019-09-30")  # the as-of date of 2019Q3


@pytest.fixture(scope="module")
def params():
    return load_params("2019Q3")


def housing(rows: list[tuple]) -> pd.DataFrame:
    """(hh_id, assessed, grade, works, completed, moved_in) rows with canonical dtypes."""
    df = pd.DataFrame(rows, columns=["hh_id", "assessed", "grade", "works", "completed", "moved_in"])
    for c in ("assessed", "completed", "moved_in"):
        df[c] = pd.to_datetime(df[c])
    df["rebuild_year"] = pd.array([pd.NA] * len(df), dtype="Int64")
    return df


def safe(rows: list[tuple], ids: list[str], relocation: pd.DataFrame | None = None) -> list:
    s = house_safe_on(housing(rows), pd.Series(ids, dtype="str"), D, relocation)
    return [None if pd.isna(x) else bool(x) for x in s]


def test_a_house_graded_a_or_b_is_safe_c_or_d_without_works_is_not():
    rows = [("h1", "2018-01-01", "A", None, None, None), ("h2", "2018-01-01", "B", None, None, None),
            ("h3", "2018-01-01", "C", None, None, None), ("h4", "2018-01-01", "D", None, None, None)]
    assert safe(rows, ["h1", "h2", "h3", "h4"]) == [True, True, False, False]


def test_the_latest_assessment_on_or_before_d_decides_and_later_ones_are_not_seen():
    rows = [("h1", "2017-01-01", "D", None, None, None), ("h1", "2019-09-30", "B", None, None, None),
            ("h2", "2017-01-01", "D", None, None, None), ("h2", "2019-10-01", "A", None, None, None),
            ("h3", "2019-10-01", "A", None, None, None)]
    # h1 reassessed B on D itself: safe; h2 re-graded only after D: unsafe; h3: nothing by D
    assert safe(rows, ["h1", "h2", "h3"]) == [True, False, None]


def test_two_assessments_on_one_day_the_worse_grade_decides():
    rows = [("h1", "2019-04-02", "A", None, None, None), ("h1", "2019-04-02", "C", None, None, None)]
    assert safe(rows, ["h1"]) == [False]


def test_works_finished_by_d_make_the_house_safe_exactly_at_d():
    rows = [("r0", "2018-03-01", "D", "rebuild", "2019-06-01", "2019-09-30"),   # moved in on D
            ("r1", "2018-03-01", "D", "rebuild", "2019-06-01", "2019-10-01"),   # a day late
            ("r2", "2018-03-01", "D", "rebuild", "2019-06-01", None),           # completed only
            ("p0", "2018-03-01", "C", "repair", "2019-09-30", None),            # repaired on D
            ("p1", "2018-03-01", "C", "repair", None, None)]
    assert safe(rows, ["r0", "r1", "r2", "p0", "p1"]) == [True, False, False, True, False]


def test_a_relocated_household_moved_in_by_d_is_safe_without_an_assessment():
    reloc = pd.DataFrame({"hh_id": ["h1", "h2", "h3"], "moved_in": pd.array([True, True, False]),
                          "moved_in_date": pd.to_datetime(["2019-09-30", "2019-10-01", None])})
    assert safe([], ["h1", "h2", "h3", "h4"], reloc) == [True, None, None, None]


def households(n: int, **cols) -> pd.DataFrame:
    base = {"hh_id": [f"h{i}" for i in range(n)], "town": "甲镇", "village": "一村", "size": 2,
            "exit_status": "not_exited", "exit_year": pd.array([pd.NA] * n, dtype="Int64"),
            "planned_exit_year": pd.array([2019] * n, dtype="Int64"),
            "identified_year": pd.array([2014] * n, dtype="Int64")}
    base.update(cols)
    return pd.DataFrame(base)


def income(ids: list[str], nets: list[float], size: int = 2, year: int = 2019) -> pd.DataFrame:
    z = np.zeros(len(ids))
    return pd.DataFrame({"hh_id": ids, "year": year, "size": size, "wage": nets, "operating": z,
                         "operating_cost": z, "property": z, "transfer": z})


def test_income_exactly_at_the_line_is_met_one_fen_below_is_not_and_no_row_is_unknown(params):
    hh = households(4)
    inc = income(["h0", "h1", "h2"], [6436.0, 6435.99, 9000.0])  # line 2019: 3,218 × 2 = 6,436
    it = household_items(Context(FramePackage(households=hh, income=inc), params), hh)
    assert it["income"].tolist() == ["met", "not_met", "met", "unknown"]


def test_identified_this_year_cannot_exit_this_year_and_a_blank_year_is_unknown(params):
    hh = households(3, identified_year=pd.array([2019, 2018, pd.NA], dtype="Int64"))
    it = household_items(Context(FramePackage(households=hh), params), hh)
    assert it["not_new"].tolist() == ["not_met", "met", "unknown"]


def test_water_and_the_department_items_are_unknown_without_their_rows(params):
    hh = households(3)
    water = pd.DataFrame({"hh_id": ["h0", "h1"], "safe": pd.array([True, False])})
    it = household_items(Context(FramePackage(households=hh, water=water), params), hh)
    assert it["water"].tolist() == ["met", "not_met", "unknown"]
    assert set(it["education"]) == set(it["medical"]) == {"unknown"}  # no enrollment / insurance
    # the register's self-declared fields never stand in for the department tables
    hh2 = hh.assign(medical_insured=True)
    assert set(household_items(Context(FramePackage(households=hh2), params), hh2)["medical"]) == {"unknown"}


def test_exit_not_ready_lists_unknowns_and_exit_quality_only_items_not_met(params):
    hh = households(4, exit_status=["exited", "exited", "exited", "not_exited"],
                    exit_year=pd.array([2019, 2017, 2017, pd.NA], dtype="Int64"),
                    planned_exit_year=pd.array([2019, 2017, 2017, 2019], dtype="Int64"),
                    identified_year=pd.array([2014, 2014, 2014, 2014], dtype="Int64"))
    inc = income(["h0", "h1", "h2", "h3"], [9000.0, 100.0, 9000.0, 9000.0])
    ctx = Context(FramePackage(households=hh, income=inc), params)
    led = ex.build_ledgers(ctx)
    # this year's exits (h0, h3): unknown housing, water, education, medical → listed
    assert led["exit_not_ready"]["hh_id"].tolist() == ["h0", "h3"]
    assert (led["exit_not_ready"]["failed"] == "").all()
    assert "住房安全有保障" in led["exit_not_ready"]["unknown"].iloc[0]
    # past exits: only h1, whose income is not met (unknowns are not a hidden wrong exit)
    q = led["exit_quality"]
    assert q["hh_id"].tolist() == ["h1"] and q["failed"].iloc[0] == "收入稳定超过标准"
    assert "低于贫困线" in q["reason"].iloc[0]


def village_ctx(params, pop: int, poor: int, **vcols) -> Context:
    """One poor village exiting in 2019 whose not-exiting households hold ``poor`` persons."""
    hh = households(poor, planned_exit_year=pd.array([2020] * poor, dtype="Int64"), size=1)
    members = pd.DataFrame({"person_id": [f"p{i}" for i in range(poor)], "hh_id": hh["hh_id"]})
    v = {"village_code": "V1", "town": "甲镇", "village": "一村", "poor_village": True,
         "exit_status": "not_exited", "exit_year": pd.NA, "planned_exit_year": 2019,
         "rural_population": pop, "road": True, "water_rate": 1.0, "electricity_rate": 1.0,
         "clinic": True, "clinic_covered": pd.NA, "collective_income": 1000.0,
         "cooperative": False, "mutual_fund": False, "broadband": True}
    v.update(vcols)
    vil = pd.DataFrame([v]).astype({"exit_year": "Int64", "planned_exit_year": "Int64",
                                    "clinic_covered": "boolean", "road": "boolean", "clinic": "boolean",
                                    "cooperative": "boolean", "mutual_fund": "boolean"})
    return Context(FramePackage(households=hh, members=members, villages=vil), params)


def items(ctx: Context) -> dict:
    return ex.analyse(ctx).villages.iloc[0].to_dict()


def test_village_incidence_exactly_3_percent_is_not_below_it(params):
    assert items(village_ctx(params, 100, 3))["incidence"] == "not_met"
    assert items(village_ctx(params, 101, 3))["incidence"] == "met"


@pytest.mark.parametrize(("rate", "state"), [(1.0, "met"), (100.0, "met"), (0.999, "not_met"),
                                             (99.9, "not_met"), (np.nan, "unknown")])
def test_village_water_rate_exactly_1_is_met_and_a_percentage_is_read_as_one(params, rate, state):
    assert items(village_ctx(params, 100, 1, water_rate=rate))["water"] == state


def test_clinic_collective_and_road_items(params):
    it = items(village_ctx(params, 100, 1, clinic=False, clinic_covered=True, collective_income=0.0,
                           cooperative=True, road=pd.NA))
    assert (it["clinic"], it["collective"], it["road"]) == ("met", "met", "unknown")
    it = items(village_ctx(params, 100, 1, clinic=False, clinic_covered=False, collective_income=0.0))
    assert (it["clinic"], it["collective"]) == ("not_met", "not_met")
    led = ex.build_ledgers(village_ctx(params, 100, 1, road=False))["village_not_ready"]
    assert led["village_code"].tolist() == ["V1"] and "通硬化路" in led["failed"].iloc[0]


def test_a_village_without_county_income_figures_has_income_growth_unknown(params):
    assert items(village_ctx(params, 100, 1))["income_growth"] == "unknown"  # no income table


def test_as_share_reads_percentages_and_keeps_shares():
    assert as_share(pd.Series([1.0, 100.0, 0.5, 50.0])).tolist() == [1.0, 1.0, 0.5, 0.5]


def test_county_incidence_exactly_3_percent_is_not_met(params):
    cty = ex.analyse(village_ctx(params, 100, 3)).county.set_index("item")
    assert cty.loc["incidence", "value"] == pytest.approx(0.03)
    assert cty.loc["incidence", "state"] == "not_met"
    assert cty.loc["insured", "state"] == "unknown"  # no insurance table: never guessed


def test_reason_money_keeps_fen_beside_the_line():
    """A per-capita income 40 fen under the line reads with its fen, never rounded up to the line
    it is below (3,217.60 元低于贫困线 3,218 元, not 3,218 低于 3,218); whole yuan stay whole."""
    from qjlib.analyses.exit_items import HOUSEHOLD_ITEMS, MET, NOT_MET

    df = pd.DataFrame({it: [MET, MET] for it in HOUSEHOLD_ITEMS}, index=["h1", "h2"])
    df["income"] = [NOT_MET, NOT_MET]
    df["net_per_capita"] = [3217.6, 1136.0]
    df["poverty_line"] = [3218.0, 3218.0]
    df = df.assign(hh_id=["h1", "h2"], town="甲镇", village="乙村", exit_status="未脱贫",
                   exit_year=pd.NA, planned_exit_year=2019)
    led = ex.household_ledger(df, HOUSEHOLD_ITEMS)
    r = dict(zip(led["hh_id"], led["reason"], strict=True))
    assert "人均纯收入3,217.60元低于贫困线3,218元" in r["h1"]
    assert "人均纯收入1,136元低于贫困线3,218元" in r["h2"]
