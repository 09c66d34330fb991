"""qjlib.core.ids: the one id lookup, against pandas on the same ids."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qjlib.core import ids


@pytest.mark.parametrize("table, probe", [
    (["0012", "0100", "9999"], ["0100", "0012", "0013", "9999", "0100"]),   # digits of one width
    (["a1", "b22", "0012"], ["b22", "x", "0012", "a1"]),                      # mixed: Arrow path
    (["001", "0001"], ["0001", "001", "1"]),                                  # widths differ
])
def test_positions_equal_pandas_get_indexer(table, probe):
    want = pd.Index(table).get_indexer(probe)
    got = ids.positions(pd.Series(probe, dtype="str"), pd.Series(table, dtype="str"))
    assert got.dtype == np.int64
    assert got.tolist() == want.tolist()


def test_positions_of_nothing():
    assert ids.positions(pd.Series([], dtype="str"), pd.Series(["1"], dtype="str")).tolist() == []


def test_isin_never_counts_a_missing_value_and_accepts_repeats():
    values = pd.Series(["a", None, "b", "c"], dtype="str")
    pool = pd.Series(["b", "b", None, "a"], dtype="str")
    assert ids.isin(values, pool).tolist() == [True, False, True, False]
