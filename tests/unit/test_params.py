"""Parameters: unknown or mistyped names stop the run naming them; ranges; period and income year."""

from __future__ import annotations

import json
import textwrap

import pandas as pd
import pytest

from qjlib.core.params import ParamError, Params, load_params, load_standards, parse_period


def _period_file(tmp_path, body: str):
    p = tmp_path / "2019Q3.yaml"
    p.write_text(textwrap.dedent(body), encoding="utf-8")
    return p


def test_standards_every_leaf_has_value_and_source():
    std = load_standards()
    assert "decline.n_declines" in std and "poverty_line" in std
    assert all(str(leaf["source"]).strip() for leaf in std.values())


def test_unknown_override_is_an_error_naming_it(tmp_path):
    f = _period_file(tmp_path, """
        period: 2019Q3
        overrides:
          decline.n_decline: 4
    """)
    with pytest.raises(ParamError, match=r"decline\.n_decline") as e:
        load_params("2019Q3", f)
    # the near miss is suggested
    assert "decline.n_declines" in str(e.value)


def test_unknown_override_from_python_is_an_error():
    with pytest.raises(ParamError, match="helpers.max_household"):
        load_params("2019Q3", overrides={"helpers.max_household": 6})


def test_unknown_top_level_key_is_an_error(tmp_path):
    f = _period_file(tmp_path, """
        period: 2019Q3
        override: {decline.n_declines: 4}
    """)
    with pytest.raises(ParamError, match="override"):
        load_params("2019Q3", f)


@pytest.mark.parametrize(
    ("name", "value"),
    [("decline.n_declines", "3"), ("decline.n_declines", 2.5), ("decline.n_declines", True),
     ("income.low_operating_share", "10%"), ("dividends.default_due", 930),
     ("poverty_line", {2019: "3218"})],
)
def test_wrong_type_is_an_error(name, value):
    with pytest.raises(ParamError, match=name.replace(".", r"\.")):
        load_params("2019Q3", overrides={name: value})


@pytest.mark.parametrize(
    ("name", "value"),
    [("income.low_operating_share", 1.5), ("income.transfer_dependent_share", -0.1),
     ("income.transfer_dependent_share", 2), ("decline.n_declines", 0),
     ("helpers.max_changes_12m", -1), ("poverty_line", {2019: 0}),
     ("helpers.weights", {"outcome": -0.5})],
)
def test_out_of_range_is_an_error(name, value):
    with pytest.raises(ParamError, match="超出范围"):
        load_params("2019Q3", overrides={name: value})


def test_explicit_min_in_standards_is_checked(tmp_path):
    std = tmp_path / "standards.yaml"
    std.write_text("helpers:\n  max_households: {value: 5, min: 1, source: test}\n",
                   encoding="utf-8")
    assert load_params("2019Q3", standards_file=std).get("helpers.max_households") == 5
    with pytest.raises(ParamError, match="max_households"):
        load_params("2019Q3", standards_file=std, overrides={"helpers.max_households": 0})


def test_standard_without_source_is_an_error(tmp_path):
    std = tmp_path / "standards.yaml"
    std.write_text("decline:\n  n_declines: {value: 3}\n", encoding="utf-8")
    with pytest.raises(ParamError, match="decline.n_declines"):
        load_params("2019Q3", standards_file=std)


def test_override_applies_and_is_recorded_with_its_source(tmp_path):
    f = _period_file(tmp_path, """
        period: 2019Q3
        overrides:
          decline.n_declines: 2
          income.low_operating_share: 0.2
          poverty_line: {2019: 3300}
    """)
    p = load_params("2019Q3", f)
    assert p.get("decline.n_declines") == 2
    assert p.get("income.low_operating_share") == 0.2
    assert p.poverty_line(2019) == 3300.0
    assert p.poverty_line(2018) == 2995.0  # other years keep the standard
    rec = p.record()
    assert "override" in rec["sources"]["decline.n_declines"]
    assert rec["values"]["decline.n_declines"] == 2


def test_period_file_must_agree_with_period(tmp_path):
    f = _period_file(tmp_path, "period: 2019Q2\n")
    with pytest.raises(ParamError, match="2019Q2"):
        load_params("2019Q3", f)


@pytest.mark.parametrize(
    ("period", "asof"),
    [("2019Q1", "2019-03-31"), ("2019Q2", "2019-06-30"), ("2019Q3", "2019-09-30"),
     ("2019Q4", "2019-12-31"), ("2020Q1", "2020-03-31")],
)
def test_period_as_of_is_the_quarters_last_day(period, asof):
    year, q, d = parse_period(period)
    assert (year, q) == (int(period[:4]), int(period[-1]))
    assert d == pd.Timestamp(asof)


@pytest.mark.parametrize("bad", ["2019-Q3", "2019Q5", "2019Q0", "19Q3", "2019q3 ", ""])
def test_bad_period_is_an_error(bad):
    with pytest.raises(ParamError, match="YYYYQn"):
        parse_period(bad)


def test_income_year_is_latest_year_not_after_as_of_year():
    p = load_params("2019Q3")
    assert p.income_year([2016, 2017, 2018, 2019, 2020]) == 2019
    assert p.income_year([2015, 2017, 2016]) == 2017
    with pytest.raises(ParamError, match="2019"):
        p.income_year([2020, 2021])


def test_income_year_set_in_period_file_wins(tmp_path):
    f = _period_file(tmp_path, "period: 2019Q3\nincome_year: 2018\n")
    assert load_params("2019Q3", f).income_year([2016, 2017, 2018, 2019]) == 2018
    bad = _period_file(tmp_path, "period: 2019Q3\nincome_year: '2018'\n")
    with pytest.raises(ParamError, match="income_year"):
        load_params("2019Q3", bad)


def test_as_of_may_be_set_in_period_file(tmp_path):
    f = _period_file(tmp_path, "period: 2019Q3\nas_of: 2019-09-15\n")
    assert load_params("2019Q3", f).asof == pd.Timestamp("2019-09-15")


def test_from_record_rebuilds_the_same_parameters_through_json(tmp_path):
    f = _period_file(tmp_path, """
        period: 2019Q3
        income_year: 2018
        overrides: {decline.min_drop: 50.0, poverty_line: {2019: 3300}}
    """)
    p = load_params("2019Q3", f)
    q = Params.from_record(json.loads(json.dumps(p.record())))
    assert q == p
    assert q.poverty_line(2019) == 3300.0 and q.get("decline.min_drop") == 50.0
    assert q.income_year([2019]) == 2018
    assert q.record() == p.record()


def test_from_record_incomplete_is_an_error():
    with pytest.raises(ParamError):
        Params.from_record({"period": "2019Q3"})


def test_as_of_inside_the_period_wins_over_the_period_end():
    """``qj report --as-of``: a day inside the period becomes the run's as-of date."""
    p = load_params("2019Q4", as_of="2019-12-20")
    assert p.asof == pd.Timestamp("2019-12-20")
    assert load_params("2019Q4", as_of="2019-10-01").asof == pd.Timestamp("2019-10-01")
    assert load_params("2019Q4").asof == pd.Timestamp("2019-12-31")


@pytest.mark.parametrize("day", ["2019-09-30", "2020-01-01", "2019-13-01", "soon"])
def test_as_of_outside_the_period_or_not_a_date_is_refused(day):
    with pytest.raises(ParamError, match="截至日期"):
        load_params("2019Q4", as_of=day)
