"""The context of one analysis run: the loaded package, the parameters, and the period's dates.

Every analysis module takes a :class:`Context` and nothing else, so the report runner, the
notebooks and the tests call the same code with the same inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import pandas as pd

from .params import Params

if TYPE_CHECKING:  # pragma: no cover
    from .load import Package


@dataclass(frozen=True)
class Context:
    pkg: Package
    params: Params
    scope: str | None = None  # None = the county; else a town name

    @property
    def asof(self) -> pd.Timestamp:
        return self.params.asof

    @property
    def period(self) -> str:
        return self.params.period

    @property
    def income_year(self) -> int:
        if self.pkg.has("income"):
            years = self.pkg["income"]["year"].dropna().unique()
        else:
            years = [self.asof.year]
        return self.params.income_year(years)

    def restrict(self, town: str | None) -> Context:
        """The same run restricted to one town's households (None = whole county)."""
        if town is None:
            return self
        return replace(self, pkg=self.pkg.restrict_to_town(town), scope=town)
