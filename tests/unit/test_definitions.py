"""Shared definitions (qjlib.definitions): net income, per capita, labour capacity, past exited,
the GB 11643 checksum and the town code."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from qjlib.core import definitions as d

# GB 11643-1999: the digit at position i (counted from the right, the check character being
# position 1) has weight W_i = 2^(i-1) mod 11; the check value is (12 - S mod 11) mod 11, written
# "X" for 10. Computed here from the standard's formulas, not from qjlib's table.
WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]


def with_check(body17: str) -> str:
    s = sum(int(c) * w for c, w in zip(body17, WEIGHTS, strict=True))
    v = (12 - s % 11) % 11
    return body17 + ("X" if v == 10 else str(v))


def test_weights_are_the_standard_ones():
    assert WEIGHTS == [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def test_checksum_accepts_valid_ids_and_rejects_any_other_check_character():
    rng = np.random.default_rng(7)
    bodies = ["61083019900101123", "11010519491231002", "61083020190930000"] + [
        "".join(map(str, rng.integers(0, 10, 17))) for _ in range(200)
    ]
    valid = [with_check(b) for b in bodies]
    assert valid[1] == "11010519491231002X"  # the standard's own example
    assert d.id_checksum_ok(pd.Series(valid)).all()
    wrong = [v[:17] + next(c for c in "0123456789X" if c != v[17]) for v in valid]
    assert not d.id_checksum_ok(pd.Series(wrong)).any()


def test_checksum_handles_lowercase_x_wrong_shapes_and_missing():
    ids = pd.Series(["11010519491231002x", "11010519491231002", "1101051949123100211",
                     "11010519491231002Y", "１１０１０５１９４９１２３１００２X", None, ""], dtype="str")
    assert d.id_checksum_ok(ids).tolist() == [True, False, False, False, False, False, False]


def income(**cols) -> pd.DataFrame:
    base = {"wage": [1000.0, 0.0], "operating": [500.0, 200.0], "operating_cost": [100.0, 300.0],
            "property": [50.0, 0.0], "transfer": [250.0, 50.0],
            "size": pd.array([3, 2], dtype="Int64")}
    base.update(cols)
    return pd.DataFrame(base)


def test_net_income_per_capita_and_operating_net():
    df = income()
    assert d.operating_net(df).tolist() == [400.0, -100.0]
    assert d.net_income(df).tolist() == [1700.0, -50.0]  # 1000+500-100+50+250; 0+200-300+0+50
    assert d.net_per_capita(df).tolist() == pytest.approx([1700 / 3, -25.0])


def test_per_capita_of_a_size_below_one_is_nan_not_infinite():
    df = income(size=pd.array([0, pd.NA], dtype="Int64"))
    assert d.net_per_capita(df).isna().all()


def test_transfer_items_sum_counts_missing_items_as_zero_but_all_missing_as_na():
    df = pd.DataFrame({"dibao_pay": [100.0, np.nan, np.nan], "pension": [50.0, 20.0, np.nan]})
    s = d.transfer_items_sum(df)
    assert s.iloc[:2].tolist() == [150.0, 20.0]
    assert np.isnan(s.iloc[2])
    assert d.transfer_items_sum(pd.DataFrame({"wage": [1.0]})).isna().all()


def test_labor_capacity_rule():
    members = pd.DataFrame({
        "hh_id": ["A", "A", "B", "C", "C", "D", "D", "E"],
        "labor_skill": ["丧失劳动力", "普通劳动力", "技能劳动力", "无劳动力", "弱劳动力或半劳动力",
                        "丧失劳动力", "无劳动力", "不详"],
    })
    cap = d.labor_capacity(members)
    assert cap.to_dict() == {"A": "有劳动能力", "B": "有劳动能力", "C": "弱劳动能力",
                             "D": "无劳动能力", "E": "无劳动能力"}
    assert cap.index.name == "hh_id"


def test_past_exited_is_exited_or_returned_before_the_year():
    hh = pd.DataFrame({
        "exit_status": ["exited", "exited", "returned", "not_exited", "exited", "exited"],
        "exit_year": pd.array([2017, 2019, 2016, 2015, pd.NA, 2018], dtype="Int64"),
    })
    assert d.past_exited(hh, 2019).tolist() == [True, False, True, False, False, True]
    assert d.past_exited(hh, 2018).tolist() == [True, False, True, False, False, False]


def test_town_code_is_stable_and_vectorised():
    assert d.town_code("宽州镇") == "T" + hashlib.sha1("宽州镇".encode()).hexdigest()[:6]
    assert d.town_code("宽州镇") == "T93ebde"  # must never change between quarters
    names = pd.Series(["宽州镇", None, "石咀驿镇", "宽州镇"], dtype="str")
    codes = d.town_codes(names)
    assert codes.iloc[0] == codes.iloc[3] == "T93ebde"
    assert codes.iloc[2] == d.town_code("石咀驿镇")
    assert pd.isna(codes.iloc[1])
