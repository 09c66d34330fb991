"""A per-context result is computed once per Context object, and a restricted context has its
own."""

from __future__ import annotations

import pandas as pd

from qjlib.core.context import Context, per_context
from qjlib.core.params import load_params


class _Pkg:
    def __init__(self, towns):
        self.towns = towns

    def restrict_to_town(self, town):
        return _Pkg([t for t in self.towns if t == town])


calls: list[tuple] = []


@per_context
def _count(ctx: Context) -> pd.Series:
    calls.append((ctx.scope, tuple(ctx.pkg.towns)))
    return pd.Series(ctx.pkg.towns)


def test_per_context_computes_once_per_context_object():
    calls.clear()
    params = load_params("2019Q3")
    county = Context(_Pkg(["甲镇", "乙镇", "甲镇"]), params)
    first = _count(county)
    assert _count(county) is first and len(calls) == 1
    town = county.restrict("甲镇")
    assert _count(town).tolist() == ["甲镇", "甲镇"]
    assert _count(town) is _count(town) and len(calls) == 2
    other = Context(county.pkg, params)  # a new context computes again
    assert _count(other) is not first and len(calls) == 3
    assert county == other  # the memo takes no part in equality
    assert _count(county) is first and len(calls) == 3
