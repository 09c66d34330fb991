"""The context of one analysis run: the loaded package, the parameters, and the period's dates.

Every analysis module takes a :class:`Context` and nothing else, so the report runner, the
notebooks and the tests call the same code with the same inputs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd

from .params import Params

if TYPE_CHECKING:  # pragma: no cover
    from .load import Package


@dataclass(frozen=True)
class Context:
    pkg: Package
    params: Params
    scope: str | None = None  # None = the county; else a town name
    # Results of :func:`per_context` functions for this context (a restricted context starts
    # with its own): the runner's summary, its ledgers and a notebook compute each once.
    _memo: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

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


T = TypeVar("T")


def per_context(fn: Callable[[Context], T]) -> Callable[[Context], T]:
    """Compute ``fn(ctx)`` once per :class:`Context` object and hand the same result to every
    later caller (``summary``, ``build_ledgers`` and the notebooks call the same analyses).
    Callers must not modify the result in place."""
    key = f"{fn.__module__}.{fn.__qualname__}"

    @functools.wraps(fn)
    def once(ctx: Context) -> T:
        memo = ctx._memo
        if key not in memo:
            memo[key] = fn(ctx)
        return memo[key]

    return once
