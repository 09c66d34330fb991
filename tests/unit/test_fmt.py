"""The money formatter of ledger reasons (core.fmt.yuan_texts)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from qjlib.core.fmt import yuan_texts


def test_whole_yuan_without_decimals_and_fen_with_two():
    got = yuan_texts(pd.Series([3218.0, 3217.99, 12000.0, 0.5, np.nan, -1500.25]))
    assert got.tolist() == ["3,218", "3,217.99", "12,000", "0.50", "—", "-1,500.25"]


def test_an_amount_one_fen_below_a_line_never_reads_as_the_line():
    line, below = yuan_texts(pd.Series([5000.0, 4999.99]))
    assert line == "5,000" and below == "4,999.99"
